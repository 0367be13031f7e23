//go:build !race

package collector

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/valyala/fasthttp"
)

// The events handler must not allocate per request once warm: decode, validate, enrich,
// encode, metrics and the spool append all reuse pooled buffers. (The shipper is not
// running here: Run is not called.)
func TestEventsHandlerDoesNotAllocate(t *testing.T) {
	dir := t.TempDir()
	c, err := New(Config{
		SitesFile: writeSites(t, dir), SpoolDir: filepath.Join(dir, "spool"), Brokers: []string{deadBroker(t)},
		ListenAddr: "127.0.0.1:0", SnippetDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// the peer below is a trusted proxy: reading X-Forwarded-For must not allocate either
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.ln.Close()
	defer c.spool.Close()

	body := readExample(t)
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	req.SetRequestURI("/v1/events")
	req.Header.SetContentType("text/plain;charset=UTF-8")
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.SetUserAgent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0")
	req.Header.Add("X-Forwarded-For", "8.8.8.8, 198.51.100.7")
	req.Header.Add("X-Forwarded-For", "192.0.2.9")
	req.SetBody(body)
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5000}, nil)
	run := func() {
		ctx.Response.Reset()
		c.handle(&ctx)
		if ctx.Response.StatusCode() != 204 {
			t.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
	run()
	// A collection during the runs empties the sync.Pools the handler takes its request
	// state from, and refilling them counts hundreds of allocations at once (seen once in
	// `make test`: 6.0 per request): the runs measure the warm handler, without collections.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	if allocs := testing.AllocsPerRun(100, run); allocs != 0 {
		t.Fatalf("%.1f allocations per request, want 0", allocs)
	}
}
