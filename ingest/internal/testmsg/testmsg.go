// Package testmsg holds the Kafka messages the ingest's tests and benchmarks feed it, shared
// by package ingest and the packages split off it (ingest/block): one synthetic page event
// (Event), the collector's real output for every event type (CollectorMessages), and a
// benchmark batch of the latter (Batch). Only tests import it.
package testmsg

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/beacon"
	"github.com/beaconprm/beacon/beacon/site"
	"github.com/google/uuid"
)

// Event returns a realistic page event as the collector writes it; i varies the id.
func Event(i int) []byte {
	return fmt.Appendf(nil, `{"event_id":"%s","tenant":"acme","site_key":"demo",`+
		`"received_at":"2026-11-23 10:00:00.123","event_time":"2026-11-23 09:59:59.900","client_time":"2026-11-23 09:59:58.000",`+
		`"type":"page","visitor_id":"v-%d","session_id":"s-%d","partner_id":"p-7","partner_user_id":"u-9","campaign_id":"c-1",`+
		`"attribution":"token","content_id":"doc-1","content_type":"document","content_title":"Price list \"2026\"",`+
		`"url":"https://example.com/docs/1?x=1","referrer":"https://mail.example.com/","page":3,"page_count":12,`+
		`"dwell_ms":5400,"scroll_depth":75,"engaged_ms":0,"action":"","position":0,"duration":0,"rate":0,`+
		`"watched_start":[],"watched_end":[],"target_url":"","name":"","props":{},"device":"desktop","is_bot":0,`+
		`"bot_reason":"","ip_prefix":"203.0.113.0","user_agent":"Mozilla/5.0 (X11; Linux x86_64)"}`,
		uuid.NewSHA1(uuid.NameSpaceOID, fmt.Append(nil, i)), i%1000, i%5000)
}

// CollectorMessages runs request bodies, a pixel and a tracked link through the collector's
// real pipeline (beacon.Work) and returns the normalized messages it would ship.
func CollectorMessages(t testing.TB) [][]byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "demo.secret"), []byte("contract-secret-0123456789abcdef0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	sites, err := site.NewSites(site.ConfigFile{Sites: []site.Config{{SiteKey: "demo", Tenant: "demo", SecretFile: "demo.secret",
		AllowedOrigins: []string{"https://mail.example"}}}}, dir) // the pixel's Referer must be an allowed origin
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(moduleRoot(t), "beacon", "testdata", "example-batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 17, 40, 0, 500_000_000, time.UTC).UnixMilli()
	in := &beacon.Input{UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148 Safari/604.1",
		Addr: netip.MustParseAddr("2001:db8:aa:bb::1"), Now: now, Referer: "https://mail.example/inbox"}
	var msgs [][]byte
	var w beacon.Work
	take := func(res beacon.Result) {
		t.Helper()
		if res.Problem.Reason != beacon.ReasonNone || res.Accepted == 0 || res.Rejected != 0 {
			t.Fatalf("%+v", res)
		}
		start := 0
		for _, end := range w.Ends {
			msgs = append(msgs, append([]byte(nil), w.Msgs[start:end]...))
			start = end
		}
	}
	in.Body = example
	take(w.Process(sites, in))
	tok, err := sites.Mint(site.Claims{Tenant: "demo", Partner: "acme", User: "jane@acme.example", Campaign: "q4"})
	if err != nil {
		t.Fatal(err)
	}
	in.Body = []byte(`{"v":1,"site":"demo","sent_at":1795420800500,"visitor_id":"v1","session_id":"s1","token":"` + tok + `","url":"https://x.example/p?a=1&pb_t=zz#frag","referrer":"https://r.example/","events":[` +
		`{"id":"00000000-0000-4000-8000-000000000001","type":"view","ts":1795420800000,"content_id":"doc-\u00e9","content_type":"document","title":"quote \" backslash \\ tab \t nul \u0000 emoji \ud83d\ude00"},` +
		`{"id":"00000000-0000-4000-8000-000000000002","type":"video","ts":1795420800000,"content_id":"v","action":"progress","position":1.25,"duration":3600.5,"rate":1.5,"watched":[[0,1.25],[10,20]]},` +
		`{"id":"00000000-0000-4000-8000-000000000003","type":"custom","ts":1795420800000,"name":"signup","props":{"plan":"pro","k\"ey":"v\\al","z":"1","a":"2"}},` +
		`{"type":"page","ts":1795420700000,"content_id":"doc-1","page":3,"page_count":12,"dwell_ms":4200},` +
		`{"type":"scroll","ts":1795420800000,"content_id":"doc-1","depth":75},` +
		`{"type":"engage","ts":1795420800000,"content_id":"doc-1","engaged_ms":65000},` +
		`{"type":"click","ts":1795420800000,"href":"https://out.example/x","name":"Download"}` +
		// wire v1 additions: a search (redacted and cut), versions, scored and unscored completions
		`,{"type":"search","ts":1795420800000,"query":"price \u00e9 jane@acme.example ` + strings.Repeat("long ", 60) + `","results":0,"clicked":"doc-1","content_version":"2026.2"},` +
		`{"type":"search","ts":1795420800000,"query":"pricing","results":12},` +
		`{"type":"view","ts":1795420800000,"content_id":"doc-1","content_version":"v\"3"},` +
		`{"type":"complete","ts":1795420800000,"content_id":"quiz","content_type":"course","score":62.5,"passed":false},` +
		`{"type":"complete","ts":1795420800000,"content_id":"quiz","content_type":"course","score":0,"passed":true},` +
		`{"type":"complete","ts":1795420800000,"content_id":"quiz","content_type":"course","passed":true}]}`)
	take(w.Process(sites, in))
	take(w.ProcessPixel(sites, pixelQuery{"site": "demo", "cid": "doc-2", "ct": "document", "t": "Mail"}, in))
	link, err := sites.LinkURL("http://c.example", "demo", site.Claims{Tenant: "demo", Partner: "acme", User: "joe", Campaign: "q4", Content: "doc-3", Target: "https://t.example/d"})
	if err != nil {
		t.Fatal(err)
	}
	_, res := w.ProcessLink(sites, "demo", link[strings.LastIndex(link, "/")+1:], in)
	take(res)
	return msgs
}

type pixelQuery map[string]string

func (q pixelQuery) Peek(k string) []byte {
	if v, ok := q[k]; ok {
		return []byte(v)
	}
	return nil
}

// moduleRoot is the directory holding go.mod, found upwards from the test's working
// directory (its package's directory), so the fixture reads the same files from any package.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testmsg: no go.mod above the working directory")
		}
		dir = parent
	}
}

// BatchSize is the number of messages in Batch.
const BatchSize = 10000

// Batch is a batch of the collector's real output (CollectorMessages: every event type, all
// columns, in the collector's key order), cycled to BatchSize messages, each with its own
// event id: what the benchmarks decode.
func Batch(tb testing.TB) [][]byte {
	tb.Helper()
	src := CollectorMessages(tb)
	msgs := make([][]byte, BatchSize)
	for i := range msgs {
		m := append([]byte(nil), src[i%len(src)]...)
		at := bytes.Index(m, []byte(`"event_id":"`)) + len(`"event_id":"`)
		copy(m[at:at+36], uuid.NewSHA1(uuid.NameSpaceOID, fmt.Append(nil, i)).String())
		msgs[i] = m
	}
	return msgs
}

// MeanSize is the mean length of msgs in bytes, for b.SetBytes.
func MeanSize(msgs [][]byte) int64 {
	n := 0
	for _, m := range msgs {
		n += len(m)
	}
	return int64(n / len(msgs))
}
