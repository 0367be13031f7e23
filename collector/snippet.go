package collector

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/valyala/fasthttp"
)

// snippetFile is one built script held in memory with its gzip form and ETag.
type snippetFile struct {
	data, gz  []byte
	etag      string
	immutable bool // under a version directory: cache for a year
}

// snippetFiles are the scripts of js-snippet/dist: "b.js", "pdf.js", ... and
// "<version>/b.js"; loaded at start and on reload. Small, so memory is the right place.
type snippetFiles map[string]*snippetFile

const maxSnippetFile = 256 << 10

func loadSnippets(dir string) *snippetFiles {
	files := snippetFiles{}
	add := func(name, path string, immutable bool) {
		data, err := os.ReadFile(path)
		if err != nil || len(data) > maxSnippetFile {
			return
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(data)
		zw.Close()
		files[name] = &snippetFile{data: data, gz: gz.Bytes(), etag: `"` + strconv.FormatUint(xxhash.Sum64(data), 16) + `"`, immutable: immutable}
	}
	top, _ := filepath.Glob(filepath.Join(dir, "*.js"))
	for _, p := range top {
		add(filepath.Base(p), p, false)
	}
	versioned, _ := filepath.Glob(filepath.Join(dir, "[0-9]*", "*.js"))
	for _, p := range versioned {
		add(filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p), p, true)
	}
	return &files
}

// serveSnippet answers GET /<name>.js from the loaded build; false when there is no such file.
func (c *Collector) serveSnippet(ctx *fasthttp.RequestCtx, name string) bool {
	f := (*c.snippets.Load())[name]
	if f == nil || (!ctx.IsGet() && !ctx.IsHead()) {
		return false
	}
	h := &ctx.Response.Header
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("ETag", f.etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("Access-Control-Allow-Origin", "*")
	if f.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	if string(ctx.Request.Header.Peek("If-None-Match")) == f.etag {
		ctx.SetStatusCode(304)
		return true
	}
	ctx.SetStatusCode(200)
	if strings.Contains(b2s(ctx.Request.Header.Peek("Accept-Encoding")), "gzip") {
		h.Set("Content-Encoding", "gzip")
		ctx.SetBody(f.gz)
	} else {
		ctx.SetBody(f.data)
	}
	return true
}
