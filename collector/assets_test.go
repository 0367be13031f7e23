package collector

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The demo and viewer directories of the snippet build are served as a small static site:
// directory paths answer their index.html, video seeks with byte ranges, .webm is video/webm.
func TestHTTPDemoAndViewerAssets(t *testing.T) {
	dir := t.TempDir()
	dist := filepath.Join(dir, "dist")
	for _, d := range []string{"demo", "viewer"} {
		os.MkdirAll(filepath.Join(dist, d), 0o755)
		os.WriteFile(filepath.Join(dist, d, "index.html"), []byte("<!doctype html><title>"+d+"</title>"), 0o644)
	}
	video := bytes.Repeat([]byte("0123456789"), 1000)
	os.WriteFile(filepath.Join(dist, "demo", "sample.webm"), video, 0o644)
	c := startCollector(t, Config{SnippetDir: dist, ServeDemo: true, ServeViewer: true})

	for _, d := range []string{"demo", "viewer"} {
		resp, b := do(t, "GET", c.url+"/"+d+"/", nil)
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte("<title>"+d+"</title>")) {
			t.Fatalf("/%s/: %d %q", d, resp.StatusCode, b)
		}
		resp, _ = do(t, "GET", c.url+"/"+d, nil)
		if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/"+d+"/" {
			t.Fatalf("/%s: %d location %q", d, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, b := do(t, "GET", c.url+"/demo/sample.webm", nil, "Range", "bytes=10-19")
	if resp.StatusCode != 206 || string(b) != "0123456789" || resp.Header.Get("Content-Range") != "bytes 10-19/10000" {
		t.Fatalf("range: %d %q %v", resp.StatusCode, b, resp.Header)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "video/webm" {
		t.Fatalf("webm content type %q", ct)
	}
	resp, b = do(t, "GET", c.url+"/demo/sample.webm", nil)
	if resp.StatusCode != 200 || len(b) != len(video) || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("whole video: %d %d bytes %v", resp.StatusCode, len(b), resp.Header)
	}
}

// Served files are compressed into a directory of the collector's own, never next to them:
// the snippet directory is the build's (or a read-only mount), and a compressed copy left
// there outlives the file it was made from (a viewer edited after a run kept being served
// as it was, gzipped).
func TestAssetsLeaveTheSnippetDirectoryAlone(t *testing.T) {
	dist := filepath.Join(t.TempDir(), "dist")
	os.MkdirAll(filepath.Join(dist, "viewer"), 0o755)
	page := "<!doctype html><title>viewer</title>" + strings.Repeat("<p>a page long enough to be worth compressing</p>", 100)
	os.WriteFile(filepath.Join(dist, "viewer", "index.html"), []byte(page), 0o644)
	list := func() []string {
		var names []string
		filepath.WalkDir(dist, func(p string, _ fs.DirEntry, _ error) error { names = append(names, p); return nil })
		return names
	}
	before := list()
	c := startCollector(t, Config{SnippetDir: dist, ServeDemo: true, ServeViewer: true})
	resp, b := do(t, "GET", c.url+"/viewer/index.html", nil, "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip asset: %d, encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(zr); string(got) != page {
		t.Fatalf("gzip body is not the file (%d bytes)", len(got))
	}
	if after := list(); !slices.Equal(before, after) {
		t.Fatalf("the snippet directory changed: before %v, after %v", before, after)
	}
}
