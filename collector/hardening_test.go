package collector

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Everything the collector serves says nosniff and a Referrer-Policy; the demo and viewer
// pages carry a Content-Security-Policy that allows only what they load, the API answers
// one that allows nothing; dotfiles under /demo/ are not served; error bodies never echo
// the request.
func TestResponseHardening(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"demo/index.html": "<!doctype html><title>demo</title>", "demo/.hidden": "hidden", "demo/.git/config": "[core]",
		"viewer/index.html": "<!doctype html><title>viewer</title>", "viewer/.env": "SECRET=1",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := startCollector(t, Config{SnippetDir: dir})
	check := func(path string, status int, csp ...string) {
		t.Helper()
		resp, _ := do(t, "GET", c.url+path, nil)
		if resp.StatusCode != status {
			t.Errorf("%s: status %d, want %d", path, resp.StatusCode, status)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
			t.Errorf("%s: X-Content-Type-Options %q, Referrer-Policy %q", path, resp.Header.Get("X-Content-Type-Options"), resp.Header.Get("Referrer-Policy"))
		}
		got := resp.Header.Get("Content-Security-Policy")
		for _, want := range csp {
			if !strings.Contains(got, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", path, got, want)
			}
		}
	}
	check("/demo/", 200, "default-src 'self'", "object-src 'none'", "frame-ancestors 'self'")
	check("/viewer/index.html", 200, "default-src 'self'", "connect-src 'self'", "object-src 'none'")
	check("/v1/events", 405, "default-src 'none'")
	check("/healthz", 200, "default-src 'none'")
	check("/nosuch", 404, "default-src 'none'")
	for _, p := range []string{"/demo/.hidden", "/demo/.git/config", "/demo/%2ehidden", "/viewer/.env"} {
		resp, b := do(t, "GET", c.url+p, nil)
		if resp.StatusCode != 404 || bytes.Contains(b, []byte("hidden")) || bytes.Contains(b, []byte("SECRET")) {
			t.Errorf("dotfile %s: %d %q", p, resp.StatusCode, b)
		}
	}

	// A request fasthttp cannot parse (a bare CR in a header): a terse 400, nothing echoed.
	conn, err := net.Dial("tcp", c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /v1/events HTTP/1.1\r\nHost: x\r\nX-Marker: echo-me-1234\rX-Injected: 1\r\nContent-Length: 2\r\n\r\n{}")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	answer, _ := io.ReadAll(conn)
	if !bytes.HasPrefix(answer, []byte("HTTP/1.1 400")) || bytes.Contains(answer, []byte("echo-me-1234")) || bytes.Contains(answer, []byte("X-Injected")) ||
		!bytes.Contains(bytes.ToLower(answer), []byte("x-content-type-options: nosniff")) {
		t.Fatalf("unparsable request answered %q", answer)
	}
}
