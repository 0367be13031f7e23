package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/beacon"
	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/internal/spool"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// deadBroker returns an address where nothing listens, so every event goes to the spool.
func deadBroker(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// writeSites writes a site config for the demo tenant and returns its path.
func writeSites(t testing.TB, dir string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "demo.secret"), []byte(testSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	f := site.ConfigFile{Sites: []site.Config{
		{SiteKey: "demo", Tenant: "demo", AllowedOrigins: []string{"http://localhost:*"}, SecretFile: "demo.secret"},
		{SiteKey: "private", Tenant: "demo", SecretFile: "demo.secret", RespectDNT: true},
	}}
	b, _ := json.Marshal(f)
	p := filepath.Join(dir, "sites.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type testCollector struct {
	*Collector
	url  string
	done chan error
}

// startCollector runs a collector on a free port until the test ends.
func startCollector(t testing.TB, cfg Config) *testCollector {
	t.Helper()
	dir := t.TempDir()
	if cfg.SitesFile == "" {
		cfg.SitesFile = writeSites(t, dir)
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = filepath.Join(dir, "spool")
	}
	if len(cfg.Brokers) == 0 {
		cfg.Brokers = []string{deadBroker(t)}
	}
	if cfg.SnippetDir == "" {
		cfg.SnippetDir = filepath.Join(dir, "no-snippet")
	}
	cfg.ListenAddr = "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tc := &testCollector{Collector: c, url: "http://" + c.Addr().String(), done: make(chan error, 1)}
	go func() { tc.done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-tc.done:
			if err != nil {
				t.Errorf("collector Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("collector did not shut down")
		}
	})
	return tc
}

var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func do(t testing.TB, method, url string, body []byte, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// spooled reads every message in the collector's spool without committing.
func spooled(t testing.TB, c *Collector) []map[string]any {
	t.Helper()
	var b spool.Batch
	if _, err := c.spool.ReadNow(&b, 1<<20); err != nil {
		t.Fatal(err)
	}
	msgs := b.Msgs
	var out []map[string]any
	for _, m := range msgs {
		var v map[string]any
		if err := json.Unmarshal(m.Value, &v); err != nil {
			t.Fatalf("spooled message is not JSON: %s", m.Value)
		}
		if v["visitor_id"] != string(m.Key) {
			t.Fatalf("key %q, visitor %v", m.Key, v["visitor_id"])
		}
		out = append(out, v)
	}
	return out
}

// Accepted events are written to the spool before the 2xx, with the visitor as the key.
func TestHTTPEventsAreSpooled(t *testing.T) {
	c := startCollector(t, Config{})
	body := readExample(t)
	resp, b := do(t, "POST", c.url+"/v1/events", body, "Origin", "http://localhost:3000", "User-Agent", "Mozilla/5.0 (Windows NT 10.0)")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Fatalf("status %d acao %q body %s", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), b)
	}
	msgs := spooled(t, c.Collector)
	if len(msgs) != 8 || msgs[0]["event_id"] != "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b" || msgs[0]["ip_prefix"] != "127.0.0.0" {
		t.Fatalf("spooled %d: %v", len(msgs), msgs)
	}
	if got := testutil.ToFloat64(c.m.eventsAccepted); got != 8 {
		t.Fatalf("accepted metric %v", got)
	}
	resp, _ = do(t, "GET", c.url+"/readyz", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("readyz %d", resp.StatusCode)
	}
	resp, b = do(t, "GET", c.url+"/metrics", nil)
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`beacon_requests_total{code="204",route="events"} 1`)) || !bytes.Contains(b, []byte("beacon_spool_bytes")) {
		t.Fatalf("metrics %d:\n%s", resp.StatusCode, b)
	}
}

func TestHTTPBadInputGetsNamedReasons(t *testing.T) {
	c := startCollector(t, Config{})
	okBody := batchJSON("", okEvent)
	f := func(name string, method, path string, body []byte, code int, reason beacon.Reason, headers ...string) {
		t.Helper()
		before := testutil.ToFloat64(c.m.rejected[reason])
		resp, b := do(t, method, c.url+path, body, headers...)
		if resp.StatusCode != code {
			t.Errorf("%s: status %d, want %d (%s)", name, resp.StatusCode, code, b)
			return
		}
		var e struct{ Error, Detail string }
		if err := json.Unmarshal(b, &e); err != nil || e.Error != reason.String() {
			t.Errorf("%s: body %s, want error %s", name, b, reason)
		}
		if after := testutil.ToFloat64(c.m.rejected[reason]); after != before+1 {
			t.Errorf("%s: rejected{%s} went %v -> %v", name, reason, before, after)
		}
	}
	// A 10 MB body is refused from its Content-Length, before it is read (raw TCP: an HTTP
	// client would see the reset while still sending).
	tooLarge := func(name string, body []byte) {
		t.Helper()
		conn, err := net.Dial("tcp", strings.TrimPrefix(c.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		before := testutil.ToFloat64(c.m.rejected[beacon.ReasonBodyTooLarge])
		fmt.Fprintf(conn, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", len(body))
		conn.Write(body[:4096])
		raw, _ := io.ReadAll(conn)
		if !bytes.HasPrefix(raw, []byte("HTTP/1.1 413")) || !bytes.Contains(raw, []byte(`"error":"body_too_large"`)) || testutil.ToFloat64(c.m.rejected[beacon.ReasonBodyTooLarge]) != before+1 {
			t.Fatalf("%s: %q", name, raw)
		}
	}
	tooLarge("10 MB body", bytes.Repeat([]byte("a"), 10<<20))
	f("gzip", "POST", "/v1/events", okBody, 415, beacon.ReasonUnsupportedMediaType, "Content-Encoding", "gzip")
	f("form", "POST", "/v1/events", okBody, 415, beacon.ReasonUnsupportedMediaType, "Content-Type", "application/x-www-form-urlencoded")
	f("GET", "GET", "/v1/events", nil, 405, beacon.ReasonMethodNotAllowed)
	f("truncated", "POST", "/v1/events", okBody[:40], 400, beacon.ReasonMalformedJSON)
	f("deep", "POST", "/v1/events", []byte(`{"v":1,"x":`+strings.Repeat("[", 60000)), 400, beacon.ReasonTooDeep)
	f("unknown site", "POST", "/v1/events", bytes.Replace(okBody, []byte(`"demo"`), []byte(`"nope"`), 1), 400, beacon.ReasonUnknownSite)
	f("origin", "POST", "/v1/events", okBody, 403, beacon.ReasonOriginNotAllowed, "Origin", "https://evil.test")
	f("all events bad", "POST", "/v1/events", batchJSON("", `{"type":"nope","ts":1795420800000}`), 400, beacon.ReasonUnknownType)
	f("no route", "GET", "/nope", nil, 404, beacon.ReasonNotFound)
	events := make([]string, 10000)
	for i := range events {
		events[i] = `{"type":"engage","ts":1795420800000,"engaged_ms":1}`
	}
	tooLarge("10,000 events", batchJSON("", events...))
	f("101 events", "POST", "/v1/events", batchJSON("", events[:101]...), 400, beacon.ReasonTooManyEvents)

	// The bad-input corpus over HTTP: each file the pipeline refuses (beacon's
	// TestBadInputCorpus pins which reason) gets a 400 with that reason, counted.
	files, _ := filepath.Glob(testdata + "bad/*.json")
	if len(files) < 10 {
		t.Fatalf("bad-input corpus has %d files", len(files))
	}
	var w beacon.Work
	refused := 0
	for _, p := range files {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		body, _ := os.ReadFile(p)
		r := w.Process(c.Sites(), &beacon.Input{Body: body, Now: time.Now().UnixMilli()}).Problem.Reason
		if r == beacon.ReasonNone {
			continue // odd but valid input, accepted
		}
		refused++
		f("corpus "+name, "POST", "/v1/events", body, 400, r)
	}
	if refused < 10 {
		t.Fatalf("only %d corpus files refused", refused)
	}

	// Partly bad: the good event is kept, the answer says what was dropped.
	resp, b := do(t, "POST", c.url+"/v1/events", batchJSON("", okEvent, `{"type":"nope","ts":1795420800000}`))
	if resp.StatusCode != 200 || string(b) != `{"accepted":1,"rejected":1,"reason":"unknown_type"}`+"\n" {
		t.Fatalf("partial: %d %s", resp.StatusCode, b)
	}
	if got := testutil.ToFloat64(c.m.eventsRejected[beacon.ReasonUnknownType]); got != 2 { // with "all events bad"
		t.Fatalf("events_rejected{unknown_type} = %v", got)
	}
	// DNT on a site that respects it: 204, nothing stored, counted.
	before := len(spooled(t, c.Collector))
	resp, _ = do(t, "POST", c.url+"/v1/events", bytes.Replace(okBody, []byte(`"demo"`), []byte(`"private"`), 1), "DNT", "1")
	if resp.StatusCode != 204 || len(spooled(t, c.Collector)) != before || testutil.ToFloat64(c.m.eventsDropped[beacon.ReasonDNT]) != 1 {
		t.Fatalf("dnt: %d", resp.StatusCode)
	}
}

func TestHTTPPreflight(t *testing.T) {
	c := startCollector(t, Config{})
	resp, _ := do(t, "OPTIONS", c.url+"/v1/events", nil, "Origin", "http://localhost:5173", "Access-Control-Request-Method", "POST")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Fatalf("preflight %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = do(t, "OPTIONS", c.url+"/v1/events", nil, "Origin", "https://evil.test")
	if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("evil preflight %d %v", resp.StatusCode, resp.Header)
	}
}

func TestHTTPPixel(t *testing.T) {
	c := startCollector(t, Config{})
	if len(transparentGIF) != 43 {
		t.Fatalf("gif is %d bytes", len(transparentGIF))
	}
	f := func(query string) {
		t.Helper()
		resp, b := do(t, "GET", c.url+"/v1/p.gif?"+query, nil, "User-Agent", "Mozilla/5.0 (iPhone; Mobile)")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" || !bytes.Equal(b, transparentGIF) || !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
			t.Fatalf("%s: %d %s %v", query, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header)
		}
	}
	f("site=demo&cid=doc-1&ct=document&t=Guide&url=https%3A%2F%2Fx.example%2Fa%3Fpb_t%3Dz")
	f("site=demo&vid=v9&sid=s9&type=page&cid=doc-1&p=2&pc=5&id=6fa459ea-ee8a-4ca4-894e-db77e160355e")
	f("site=nope")               // unknown site: still a GIF
	f("site=demo&type=scroll")   // no depth: still a GIF
	f("site=demo&type=page&p=x") // bad number
	msgs := spooled(t, c.Collector)
	if len(msgs) != 2 {
		t.Fatalf("spooled %d, want 2: %v", len(msgs), msgs)
	}
	if msgs[0]["url"] != "https://x.example/a" || msgs[0]["device"] != "mobile" || !strings.HasPrefix(msgs[0]["visitor_id"].(string), "px_") || msgs[0]["session_id"] != "pixel" {
		t.Fatalf("pixel event %v", msgs[0])
	}
	if msgs[1]["page"] != 2.0 || msgs[1]["page_count"] != 5.0 || msgs[1]["visitor_id"] != "v9" || msgs[1]["event_id"] != "6fa459ea-ee8a-4ca4-894e-db77e160355e" {
		t.Fatalf("pixel page event %v", msgs[1])
	}
	if testutil.ToFloat64(c.m.rejected[beacon.ReasonUnknownSite]) != 1 || testutil.ToFloat64(c.m.eventsRejected[beacon.ReasonMissingField]) != 1 || testutil.ToFloat64(c.m.eventsRejected[beacon.ReasonBadValue]) != 1 {
		t.Fatal("pixel errors not counted")
	}
}

// A pixel from a page of an origin the site does not allow is refused and counted as a batch
// would be (beacon_requests_rejected_total{reason="origin_not_allowed"}), and still gets its GIF.
func TestHTTPPixelOrigin(t *testing.T) {
	c := startCollector(t, Config{})
	for _, h := range [][]string{{"Origin", "https://evil.test"}, {"Referer", "https://evil.test/page.html"}} {
		resp, b := do(t, "GET", c.url+"/v1/p.gif?site=demo&cid=doc-1", nil, h...)
		if resp.StatusCode != 200 || !bytes.Equal(b, transparentGIF) {
			t.Fatalf("%v: %d %q", h, resp.StatusCode, b)
		}
	}
	if n := testutil.ToFloat64(c.m.rejected[beacon.ReasonOriginNotAllowed]); n != 2 {
		t.Errorf("origin_not_allowed counted %v, want 2", n)
	}
	do(t, "GET", c.url+"/v1/p.gif?site=demo&cid=doc-2", nil, "Referer", "http://localhost:3000/page.html")
	if msgs := spooled(t, c.Collector); len(msgs) != 1 || msgs[0]["content_id"] != "doc-2" {
		t.Fatalf("spooled %v, want only the allowed page's pixel", msgs)
	}
}

func TestHTTPTrackedLink(t *testing.T) {
	c := startCollector(t, Config{})
	link, err := c.Sites().LinkURL(c.url, "demo", site.Claims{Tenant: "demo", Partner: "acme", User: "jane@acme.example", Campaign: "q4", Content: "doc-1", Target: "https://partners.example.com/doc?x=1#top"})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := do(t, "GET", link, nil, "User-Agent", "Mozilla/5.0 (Macintosh)")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 302 || !strings.HasPrefix(loc, "https://partners.example.com/doc?x=1&pb_t=") || !strings.HasSuffix(loc, "#top") {
		t.Fatalf("link: %d %q", resp.StatusCode, loc)
	}
	// The pb_t token attributes later beacons to the same partner user.
	tok := strings.TrimSuffix(loc[strings.Index(loc, "pb_t=")+5:], "#top")
	resp, b := do(t, "POST", c.url+"/v1/events", batchJSON(`,"token":"`+tok+`"`, okEvent))
	if resp.StatusCode != 204 {
		t.Fatalf("beacon with token: %d %s", resp.StatusCode, b)
	}
	msgs := spooled(t, c.Collector)
	if len(msgs) != 2 {
		t.Fatalf("spooled %d", len(msgs))
	}
	click := msgs[0]
	if click["type"] != "click" || click["action"] != "tracked" || click["partner_user_id"] != "jane@acme.example" || click["partner_id"] != "acme" ||
		click["campaign_id"] != "q4" || click["content_id"] != "doc-1" || click["target_url"] != "https://partners.example.com/doc" || click["attribution"] != "token" {
		// The redirect keeps the target whole; what is stored is cleaned (WIRE.md, "Stored URLs").
		t.Fatalf("click %v", click)
	}
	if msgs[1]["partner_user_id"] != "jane@acme.example" || msgs[1]["attribution"] != "token" {
		t.Fatalf("beacon %v", msgs[1])
	}

	// Tampered, truncated and garbage links: 4xx and never a redirect.
	tokPart := link[strings.LastIndex(link, "/")+1:]
	for _, bad := range []string{tamper(t, tokPart), tokPart[:len(tokPart)-3], "https%3A%2F%2Fevil.test", "", "a.b"} {
		resp, _ := do(t, "GET", c.url+"/l/"+bad, nil)
		if resp.StatusCode < 400 || resp.StatusCode > 499 || resp.Header.Get("Location") != "" {
			t.Fatalf("bad link %q: %d %q", bad, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if len(spooled(t, c.Collector)) != 2 {
		t.Fatal("a bad link recorded a click")
	}
	// A mail scanner following the link is redirected but flagged.
	resp, _ = do(t, "GET", link, nil, "User-Agent", "Mozilla/5.0 Mimecast")
	if resp.StatusCode != 302 {
		t.Fatalf("scanner %d", resp.StatusCode)
	}
	msgs = spooled(t, c.Collector)
	if last := msgs[len(msgs)-1]; last["is_bot"] != 1.0 || last["bot_reason"] != "scanner:mimecast" {
		t.Fatalf("scanner click %v", last)
	}
}

func TestHTTPSnippetAndReload(t *testing.T) {
	dir := t.TempDir()
	dist := filepath.Join(dir, "dist")
	os.MkdirAll(filepath.Join(dist, "0.1.0"), 0o755)
	os.WriteFile(filepath.Join(dist, "b.js"), []byte("/*b*/"), 0o644)
	os.WriteFile(filepath.Join(dist, "0.1.0", "b.js"), []byte("/*b 0.1.0*/"), 0o644)
	sitesFile := writeSites(t, dir)
	c := startCollector(t, Config{SnippetDir: dist, SitesFile: sitesFile})
	resp, b := do(t, "GET", c.url+"/b.js", nil)
	if resp.StatusCode != 200 || string(b) != "/*b*/" || resp.Header.Get("Cache-Control") != "public, max-age=300" || resp.Header.Get("ETag") == "" {
		t.Fatalf("b.js %d %q %v", resp.StatusCode, b, resp.Header)
	}
	resp, _ = do(t, "GET", c.url+"/b.js", nil, "If-None-Match", resp.Header.Get("ETag"))
	if resp.StatusCode != 304 {
		t.Fatalf("conditional %d", resp.StatusCode)
	}
	resp, b = do(t, "GET", c.url+"/0.1.0/b.js", nil)
	if resp.StatusCode != 200 || string(b) != "/*b 0.1.0*/" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("versioned %d %q", resp.StatusCode, b)
	}
	if resp, _ := do(t, "GET", c.url+"/../sites.json", nil); resp.StatusCode != 404 {
		t.Fatalf("traversal %d", resp.StatusCode)
	}

	// Reload: a new site appears; a broken file keeps the old config.
	f := site.ConfigFile{Sites: []site.Config{{SiteKey: "demo", Tenant: "demo", SecretFile: "demo.secret"}, {SiteKey: "new", Tenant: "demo", SecretFile: "demo.secret"}}}
	data, _ := json.Marshal(f)
	os.WriteFile(sitesFile, data, 0o644)
	if err := c.Reload(); err != nil || c.Sites().Site("new") == nil {
		t.Fatalf("reload: %v", err)
	}
	os.WriteFile(sitesFile, []byte("{"), 0o644)
	if err := c.Reload(); err == nil || c.Sites().Site("new") == nil {
		t.Fatalf("bad reload replaced the config: %v", err)
	}
}

func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	c, err := New(Config{SitesFile: writeSites(t, dir), SpoolDir: filepath.Join(dir, "spool"), Brokers: []string{deadBroker(t)},
		ListenAddr: "127.0.0.1:0", SnippetDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + c.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	resp, _ := do(t, "POST", url+"/v1/events", batchJSON("", okEvent))
	if resp.StatusCode != 204 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("still accepting after shutdown")
	}
	// The spooled event survives: a new collector on the same spool replays it first.
	s, err := spool.Open(spool.Config{Dir: filepath.Join(dir, "spool")})
	if err != nil {
		t.Fatal(err)
	}
	var b spool.Batch
	if _, err := s.ReadNow(&b, 10); err != nil || len(b.Msgs) != 1 {
		t.Fatalf("spool after shutdown: %d messages, %v", len(b.Msgs), err)
	}
}

func TestSpoolFullAnswers503(t *testing.T) {
	c := startCollector(t, Config{SpoolMaxBytes: 4096, SpoolSegmentBytes: 4096})
	body := readExample(t) // 8 events, about 9 KB normalized: over the limit in one record
	resp, b := do(t, "POST", c.url+"/v1/events", body)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !bytes.Contains(b, []byte(`"error":"spool_full"`)) {
		t.Fatalf("status %d %s", resp.StatusCode, b)
	}
	if testutil.ToFloat64(c.m.rejected[beacon.ReasonSpoolFull]) != 1 || testutil.ToFloat64(c.m.eventsAccepted) != 0 {
		t.Fatal("spool_full not counted")
	}
	// Small batches fit until the spool is at its limit; then readiness fails too.
	for i := 0; ; i++ {
		resp, _ := do(t, "POST", c.url+"/v1/events", batchJSON("", okEvent))
		if resp.StatusCode == 503 {
			break
		}
		if resp.StatusCode != 204 || i > 100 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	if c.spool.Pending() < 4096-1500 {
		t.Fatalf("503 with only %d bytes spooled", c.spool.Pending())
	}
	if resp, b := do(t, "GET", c.url+"/readyz", nil); resp.StatusCode != 503 || string(b) != "spool_full\n" {
		t.Fatalf("readyz %d %q with the spool full", resp.StatusCode, b)
	}
}

// Once the spool is full, a request is refused before its body is read into the pipeline or
// decoded: under a spike with the shipper behind (or Kafka away), refusing is cheap, so the
// collector's CPU goes to the requests it can take. Even a batch that is not JSON gets 503
// spool_full (it would get 400 once there is room), with Retry-After and CORS for the snippet.
func TestSpoolFullShedsBeforeDecoding(t *testing.T) {
	c := startCollector(t, Config{SpoolMaxBytes: 4096, SpoolSegmentBytes: 4096})
	for i := 0; ; i++ {
		resp, _ := do(t, "POST", c.url+"/v1/events", batchJSON("", okEvent))
		if resp.StatusCode == 503 {
			break
		}
		if resp.StatusCode != 204 || i > 100 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	decoded := func() float64 {
		n := testutil.ToFloat64(c.m.bodyBytes)
		for a := range site.NumAttributions {
			n += testutil.ToFloat64(c.m.attribution[a])
		}
		return n
	}
	before, full := decoded(), testutil.ToFloat64(c.m.rejected[beacon.ReasonSpoolFull])
	resp, b := do(t, "POST", c.url+"/v1/events", []byte("not json at all"), "Origin", "http://localhost:3000")
	if resp.StatusCode != 503 || !bytes.Contains(b, []byte(`"error":"spool_full"`)) || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("batch with the spool full: %d %s Retry-After %q; want 503 spool_full before decoding", resp.StatusCode, b, resp.Header.Get("Retry-After"))
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Fatalf("the snippet cannot read the refusal: %v", resp.Header)
	}
	resp, b = do(t, "POST", c.url+"/v1/events", readExample(t))
	if resp.StatusCode != 503 || !bytes.Contains(b, []byte(`"error":"spool_full"`)) {
		t.Fatalf("valid batch with the spool full: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, "GET", c.url+"/v1/p.gif?site=demo&cid=doc-1&ct=document", nil)
	if resp.StatusCode != 200 || !bytes.Equal(b, transparentGIF) {
		t.Fatalf("pixel with the spool full: %d, %d bytes; want the GIF", resp.StatusCode, len(b))
	}
	if got := decoded(); got != before {
		t.Fatalf("bodies read or batches decoded while the spool was full (body bytes + attributions %v -> %v)", before, got)
	}
	if got := testutil.ToFloat64(c.m.rejected[beacon.ReasonSpoolFull]) - full; got != 3 {
		t.Fatalf("beacon_requests_rejected_total{reason=spool_full} grew by %v, want 3", got)
	}
}

// X-Forwarded-For counts only when the peer is a trusted proxy, and then its right-most hop
// that is not itself a trusted proxy is the client: a client cannot choose its address by
// sending the header itself, directly or through the proxy.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	elsewhere := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, c := range []struct {
		name    string
		trusted []netip.Prefix
		xff     []string // header lines, in order
		want    string
	}{
		{"no trusted proxies: header ignored", nil, []string{"8.8.8.8"}, "127.0.0.0"},
		{"peer is not a trusted proxy: spoof ignored", elsewhere, []string{"8.8.8.8"}, "127.0.0.0"},
		{"trusted peer: the hop it appended", loopback, []string{"198.51.100.23, 2001:db8:aa:bb::1"}, "2001:db8:aa::"},
		{"client's own line, then the proxy's", loopback, []string{"8.8.8.8", "198.51.100.7"}, "198.51.100.0"},
		{"trusted hops skipped", loopback, []string{"8.8.8.8, 203.0.113.9, 10.1.2.3"}, "203.0.113.0"},
		{"garbage hop: the last trusted address", loopback, []string{"8.8.8.8, x"}, "127.0.0.0"},
		{"every hop trusted: the left-most", loopback, []string{"10.9.9.9, 10.1.1.1"}, "10.9.9.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			col := startCollector(t, Config{TrustedProxies: c.trusted})
			req, err := http.NewRequest("POST", col.url+"/v1/events", bytes.NewReader(batchJSON("", okEvent)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "text/plain")
			for _, line := range c.xff {
				req.Header.Add("X-Forwarded-For", line)
			}
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 204 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := spooled(t, col.Collector)[0]["ip_prefix"]; got != c.want {
				t.Fatalf("ip_prefix %v, want %s", got, c.want)
			}
		})
	}
}

// blackHoleBroker accepts connections and never answers: a Kafka that hangs.
func blackHoleBroker(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// With ack=spool (the default) a request is answered once its events are in the spool: a
// hanging Kafka costs it nothing, where ack=kafka waits out -collector.kafkaTimeout.
func TestAckSpoolDoesNotWaitForKafka(t *testing.T) {
	const bound = 3 * time.Second
	for _, ack := range []string{"", AckKafka} {
		c := startCollector(t, Config{Ack: ack, Brokers: []string{blackHoleBroker(t)}, KafkaTimeout: bound, ShutdownTimeout: time.Second})
		t0 := time.Now()
		resp, b := do(t, "POST", c.url+"/v1/events", readExample(t))
		took := time.Since(t0)
		if resp.StatusCode != 204 || testutil.ToFloat64(c.m.spoolMessages) != 8 {
			t.Fatalf("ack=%q: status %d %s, %v spooled", ack, resp.StatusCode, b, testutil.ToFloat64(c.m.spoolMessages))
		}
		switch {
		case ack == "" && took >= bound:
			t.Fatalf("ack=spool waited %v for a hanging Kafka", took)
		case ack == AckKafka && took < bound:
			t.Fatalf("ack=kafka answered after %v, before the Kafka bound %v", took, bound)
		}
	}
}

func TestAckModeAndSyncIntervalSettings(t *testing.T) {
	if err := (Config{SitesFile: "x", Ack: "later"}).Validate(); err == nil || !strings.Contains(err.Error(), "-collector.ack") {
		t.Fatalf("unknown ack mode: %v", err)
	}
	if err := (Config{SitesFile: "x", SpoolSyncInterval: -1}).Validate(); err == nil || !strings.Contains(err.Error(), "-collector.spoolSyncInterval") {
		t.Fatalf("negative spool sync interval: %v", err)
	}
	// One meaning of zero: fsync before every acknowledgement, in the Config as in the flag;
	// the 100ms default is DefaultConfig's.
	c := startCollector(t, Config{})
	if c.cfg.Ack != AckSpool || c.spool.Config().SyncInterval != 0 {
		t.Fatalf("zero config: ack %q, spool fsync every %v", c.cfg.Ack, c.spool.Config().SyncInterval)
	}
	d := DefaultConfig()
	c = startCollector(t, Config{SpoolSyncInterval: d.SpoolSyncInterval})
	if d.SpoolSyncInterval != 100*time.Millisecond || c.spool.Config().SyncInterval != d.SpoolSyncInterval {
		t.Fatalf("default spool fsync every %v, collector's %v", d.SpoolSyncInterval, c.spool.Config().SyncInterval)
	}
}

// Two collectors given one -collector.spoolDir would both append to and replay the same
// files: the second refuses to start and says which flag to change.
func TestSecondCollectorOnOneSpoolDirRefused(t *testing.T) {
	c := startCollector(t, Config{})
	dir := t.TempDir()
	_, err := New(Config{SitesFile: writeSites(t, dir), SpoolDir: c.cfg.SpoolDir, Brokers: []string{deadBroker(t)},
		ListenAddr: "127.0.0.1:0", SnippetDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if !errors.Is(err, spool.ErrLocked) || !strings.Contains(err.Error(), "-collector.spoolDir") {
		t.Fatalf("second collector on %s: %v; want a lock error naming -collector.spoolDir", c.cfg.SpoolDir, err)
	}
}

// Connections over -collector.maxConcurrency get fasthttp's own 503 before any handler runs;
// beacon_connections_rejected_total counts them.
func TestConnectionsOverMaxConcurrencyAreCounted(t *testing.T) {
	c := startCollector(t, Config{MaxConcurrency: 1})
	held, err := net.Dial("tcp", c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	// The held connection is served (and so counted as open) once it has sent a request.
	fmt.Fprintf(held, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	held.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := held.Read(make([]byte, 512)); err != nil {
		t.Fatal(err)
	}
	rejected := func() float64 {
		mfs, err := c.m.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "beacon_connections_rejected_total" {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		t.Fatal("beacon_connections_rejected_total is not registered")
		return 0
	}
	if got := rejected(); got != 0 {
		t.Fatalf("rejected %v before any refusal", got)
	}
	// fasthttp answers a refused connection at once, before it reads a request: raw TCP.
	second, err := net.Dial("tcp", c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetReadDeadline(time.Now().Add(10 * time.Second))
	answer, _ := io.ReadAll(second)
	if !bytes.HasPrefix(answer, []byte("HTTP/1.1 503")) {
		t.Fatalf("second connection answered %q, want fasthttp's 503", answer)
	}
	if got := rejected(); got != 1 {
		t.Fatalf("beacon_connections_rejected_total = %v, want 1", got)
	}
}

// A spool write that fails (here the disk is full: the segment is /dev/full) answers 503
// with a reason and counts it; nothing is acknowledged that was not written.
func TestSpoolWriteFailureAnswers503(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	dir := t.TempDir()
	spoolDir := filepath.Join(dir, "spool")
	if err := os.MkdirAll(spoolDir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := startCollector(t, Config{SpoolDir: spoolDir, SpoolSyncInterval: DefaultConfig().SpoolSyncInterval})
	// The first segment the fresh spool will create, made /dev/full after it was opened.
	if err := os.Symlink("/dev/full", filepath.Join(spoolDir, "00000000000000000001.seg")); err != nil {
		t.Fatal(err)
	}
	resp, b := do(t, "POST", c.url+"/v1/events", batchJSON("", okEvent))
	var e struct{ Error, Detail string }
	json.Unmarshal(b, &e)
	if resp.StatusCode != 503 || e.Error != "spool_full" || !strings.Contains(e.Detail, "cannot be written") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d %s", resp.StatusCode, b)
	}
	if testutil.ToFloat64(c.m.spoolErrors) != 1 || testutil.ToFloat64(c.m.rejected[beacon.ReasonSpoolFull]) != 1 || testutil.ToFloat64(c.m.eventsAccepted) != 0 {
		t.Fatal("the failed write is not counted as such")
	}
	if msgs := spooled(t, c.Collector); len(msgs) != 0 {
		t.Fatalf("%d messages readable from a spool whose write failed", len(msgs))
	}
}

// A New that fails after opening the spool (here: -collector.metricsAddr taken) releases it,
// so the next collector on the same spool directory starts.
func TestFailedNewReleasesTheSpool(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := Config{ListenAddr: "127.0.0.1:0", SitesFile: writeSites(t, dir), SpoolDir: filepath.Join(dir, "spool"),
		Brokers: []string{deadBroker(t)}, SnippetDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MetricsAddr: busy.Addr().String()}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "-collector.metricsAddr") {
		t.Fatalf("New with a taken metrics address: %v", err)
	}
	cfg.MetricsAddr = ""
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New on the same spool after a failed New: %v", err)
	}
	c.closeOpened()
}
