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
	c := startCollector(t, Config{SnippetDir: dir, ServeDemo: true, ServeViewer: true})
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

// /demo/ and /viewer/ are served only when switched on; /metrics moves to its own listener
// when -collector.metricsAddr is set; a directory redirect never names the client's Host.
func TestStaticAndMetricsSwitches(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"demo/index.html", "viewer/index.html", "viewer/images/a.svg"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("<!doctype html>"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	status := func(url string) int {
		t.Helper()
		resp, _ := do(t, "GET", url, nil)
		return resp.StatusCode
	}
	off := startCollector(t, Config{SnippetDir: dir})
	for _, p := range []string{"/demo/", "/demo", "/demo/index.html", "/viewer/", "/viewer", "/viewer/index.html"} {
		if s := status(off.url + p); s != 404 {
			t.Errorf("switched off: %s answered %d, want 404", p, s)
		}
	}
	if s := status(off.url + "/metrics"); s != 200 {
		t.Errorf("no -collector.metricsAddr: /metrics answered %d", s)
	}

	on := startCollector(t, Config{SnippetDir: dir, ServeViewer: true, MetricsAddr: "127.0.0.1:0"})
	if s := status(on.url + "/viewer/index.html"); s != 200 {
		t.Errorf("viewer on: %d", s)
	}
	if s := status(on.url + "/demo/"); s != 404 {
		t.Errorf("viewer on, demo off: /demo/ answered %d", s)
	}
	if s := status(on.url + "/metrics"); s != 404 {
		t.Errorf("with -collector.metricsAddr the public /metrics answered %d, want 404", s)
	}
	resp, b := do(t, "GET", "http://"+on.MetricsAddr().String()+"/metrics", nil)
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte("beacon_requests_total")) {
		t.Errorf("metrics listener: %d %.200s", resp.StatusCode, b)
	}
	if s := status("http://" + on.MetricsAddr().String() + "/healthz"); s != 404 {
		t.Errorf("metrics listener serves /healthz: %d", s)
	}

	conn, err := net.Dial("tcp", on.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /viewer/images HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	answer, _ := io.ReadAll(conn)
	if !bytes.Contains(answer, []byte("\r\nLocation: /viewer/images/\r\n")) || bytes.Contains(answer, []byte("evil")) {
		t.Errorf("directory redirect: %q", answer)
	}
}
