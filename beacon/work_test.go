package beacon

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/beacon/event"
	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/internal/jsontext"
)

const testSecret = "test-secret-0123456789abcdef0123456789"

// testSites returns sites "demo" (tenant demo) and "other" (tenant other, DNT and consent on).
func testSites(t testing.TB) *site.Sites {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "demo.secret"), []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "other.secret"), []byte("other-secret-0123456789abcdef0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := site.NewSites(site.ConfigFile{Sites: []site.Config{
		{SiteKey: "demo", Tenant: "demo", AllowedOrigins: []string{"http://localhost:*", "https://*.example.com"}, SecretFile: "demo.secret"},
		{SiteKey: "other", Tenant: "other", SecretFile: "other.secret", RespectDNT: true, RequireConsent: true},
	}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readExample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/example-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawColumns are the raw table's columns (the event contract), sorted.
func rawColumns() []string {
	cols := event.Names()
	sort.Strings(cols)
	return cols
}

var exampleNow = time.Date(2026, 11, 23, 17, 40, 0, 500_000_000, time.UTC).UnixMilli()

func exampleInput(body []byte) *Input {
	return &Input{
		Body:      body,
		Origin:    "http://localhost:8080",
		UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15",
		Addr:      netip.MustParseAddr("203.0.113.77"),
		Now:       exampleNow,
	}
}

func messages(w *Work) []map[string]any {
	var out []map[string]any
	start := 0
	for _, end := range w.Ends {
		var m map[string]any
		if err := json.Unmarshal(w.Msgs[start:end], &m); err != nil {
			panic("message is not JSON: " + err.Error() + ": " + string(w.Msgs[start:end]))
		}
		out = append(out, m)
		start = end
	}
	return out
}

func TestExampleBatchNormalizes(t *testing.T) {
	sites := testSites(t)
	var w Work
	res := w.Process(sites, exampleInput(readExample(t)))
	if res.Problem.Reason != ReasonNone || res.Accepted != 8 || res.Rejected != 0 {
		t.Fatalf("result %+v, want 8 accepted", res)
	}
	if string(w.Key) != "v_8fJ2kq0ZxY3mN1aB" {
		t.Fatalf("key %q", w.Key)
	}
	cols := rawColumns() // ingest's TestEventColumnsMatchMigration holds them to the migration
	msgs := messages(&w)
	for i, m := range msgs {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if !slices.Equal(keys, cols) {
			t.Fatalf("message %d keys\n%v\nwant the raw columns\n%v", i, keys, cols)
		}
	}
	f := func(i int, key string, want any) {
		t.Helper()
		got, _ := json.Marshal(msgs[i][key])
		w, _ := json.Marshal(want)
		if string(got) != string(w) {
			t.Errorf("message %d %s = %s, want %s", i, key, got, w)
		}
	}
	// Batch sent at ...800500 and received at exampleNow: events shift by exampleNow-sent_at.
	shift := exampleNow - 1795420800500
	f(0, "event_id", "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b")
	f(0, "tenant", "demo")
	f(0, "site_key", "demo")
	f(0, "received_at", "2026-11-23 17:40:00.500")
	f(0, "client_time", time.UnixMilli(1795420790000).UTC().Format("2006-01-02 15:04:05.000"))
	f(0, "event_time", time.UnixMilli(1795420790000+shift).UTC().Format("2006-01-02 15:04:05.000"))
	f(0, "type", "view")
	f(0, "content_type", "document")
	f(0, "content_title", "Pricing guide 2026")
	f(0, "page_count", 12)
	f(0, "url", "https://partners.example.com/library/pricing-guide?utm_source=email")
	f(0, "attribution", "none")
	f(0, "device", "desktop")
	f(0, "is_bot", 0)
	f(0, "ip_prefix", "203.0.113.0")
	f(1, "page", 1)
	f(1, "dwell_ms", 5400)
	f(2, "scroll_depth", 75)
	f(2, "page_count", 0)
	f(3, "engaged_ms", 15000)
	f(4, "action", "progress")
	f(4, "position", 12.5)
	f(4, "duration", 300)
	f(4, "watched_start", []float64{0})
	f(4, "watched_end", []float64{12.5})
	f(5, "action", "download")
	f(5, "target_url", "https://partners.example.com/files/pricing-guide.pdf")
	f(5, "name", "Download PDF")
	f(6, "type", "complete")
	f(6, "content_id", "course-sales-101")
	f(7, "name", "signup")
	f(7, "props", map[string]string{"plan": "pro", "seats": "5"})
	f(7, "watched_start", []float64{})

	// The same body processed again by the same Work gives the same bytes (no state leaks).
	first := append([]byte(nil), w.Msgs...)
	w.Process(sites, exampleInput(readExample(t)))
	if !bytes.Equal(first, w.Msgs) {
		t.Fatal("reprocessing the same body gave different messages")
	}
}

// batchJSON builds a body: base batch fields with the given events (raw JSON).
func batchJSON(extra string, events ...string) []byte {
	s := `{"v":1,"site":"demo","sent_at":1795420800500,"visitor_id":"v1","session_id":"s1"` + extra + `,"events":[` + strings.Join(events, ",") + `]}`
	return []byte(s)
}

const okEvent = `{"type":"scroll","ts":1795420800000,"depth":10}`

func TestRequestRejections(t *testing.T) {
	sites := testSites(t)
	var w Work
	f := func(name string, body []byte, origin string, want Reason) {
		t.Helper()
		in := exampleInput(body)
		in.Origin = origin
		res := w.Process(sites, in)
		if res.Problem.Reason != want {
			t.Errorf("%s: reason %v (%s), want %v", name, res.Problem.Reason, res.Problem.Detail, want)
		}
		if len(w.Ends) != 0 {
			t.Errorf("%s: refused request produced %d messages", name, len(w.Ends))
		}
	}
	f("empty", nil, "", ReasonMalformedJSON)
	f("not an object", []byte(`[1]`), "", ReasonMalformedJSON)
	f("truncated", batchJSON("", okEvent)[:60], "", ReasonMalformedJSON)
	f("trailing data", append(batchJSON("", okEvent), []byte(`{}`)...), "", ReasonMalformedJSON)
	f("invalid utf8", []byte("{\"v\":1,\"site\":\"de\xffmo\"}"), "", ReasonMalformedJSON)
	f("bad escape", batchJSON(`,"url":"a\qb"`, okEvent), "", ReasonMalformedJSON)
	f("control char", batchJSON(",\"url\":\"a\x01b\"", okEvent), "", ReasonMalformedJSON)
	f("deep", batchJSON(`,"x":`+strings.Repeat("[", 50)+strings.Repeat("]", 50), okEvent), "", ReasonTooDeep)
	f("deep in event", batchJSON("", `{"type":"scroll","x":[[[[[[[1]]]]]]]}`), "", ReasonTooDeep)
	f("no version", []byte(`{"site":"demo","events":[]}`), "", ReasonBadVersion)
	f("version 2", []byte(`{"v":2,"site":"demo"}`), "", ReasonBadVersion)
	f("site wrong type", []byte(`{"v":1,"site":5}`), "", ReasonWrongType)
	f("events wrong type", []byte(`{"v":1,"site":"demo","events":{}}`), "", ReasonWrongType)
	f("unknown site", bytes.Replace(batchJSON("", okEvent), []byte(`"demo"`), []byte(`"nope"`), 1), "", ReasonUnknownSite)
	f("origin", batchJSON("", okEvent), "https://evil.test", ReasonOriginNotAllowed)
	f("missing visitor", []byte(`{"v":1,"site":"demo","session_id":"s","sent_at":1795420800500,"events":[`+okEvent+`]}`), "", ReasonMissingField)
	f("bad visitor", bytes.Replace(batchJSON("", okEvent), []byte(`"v1"`), []byte(`"v 1"`), 1), "", ReasonBadID)
	f("long visitor", bytes.Replace(batchJSON("", okEvent), []byte(`"v1"`), []byte(`"`+strings.Repeat("v", 65)+`"`), 1), "", ReasonBadID)
	f("sent_at missing", []byte(`{"v":1,"site":"demo","visitor_id":"v","session_id":"s","events":[`+okEvent+`]}`), "", ReasonMissingField)
	f("sent_at seconds", bytes.Replace(batchJSON("", okEvent), []byte(`1795420800500`), []byte(`1795420800`), 1), "", ReasonBadTime)
	f("sent_at huge", bytes.Replace(batchJSON("", okEvent), []byte(`1795420800500`), []byte(`1e999`), 1), "", ReasonBadTime)
	f("url too long", batchJSON(`,"url":"`+strings.Repeat("u", 2049)+`"`, okEvent), "", ReasonFieldTooLong)
	f("token too long", batchJSON(`,"token":"`+strings.Repeat("t", 1025)+`"`, okEvent), "", ReasonFieldTooLong)
	f("no events", batchJSON(""), "", ReasonEmptyBatch)
	many := make([]string, DefaultMaxEvents+1)
	for i := range many {
		many[i] = okEvent
	}
	f("too many events", batchJSON("", many...), "", ReasonTooManyEvents)

	// Accepted shapes: unknown members ignored, null as absent, escapes, no Origin.
	ok := func(name string, body []byte, origin string) {
		t.Helper()
		in := exampleInput(body)
		in.Origin = origin
		res := w.Process(sites, in)
		if res.Problem.Reason != ReasonNone || res.Accepted != 1 {
			t.Errorf("%s: %+v, want 1 accepted", name, res)
		}
	}
	ok("unknown members", batchJSON(`,"future":{"a":[1,2,{"b":null}]},"token":null`, okEvent), "")
	ok("subdomain origin", batchJSON("", okEvent), "https://www.example.com")
	ok("escapes", batchJSON(`,"url":"https:\/\/x.example\u002fa\"b\ud83d\ude00\ud800"`, okEvent), "")
	ok("whitespace", []byte(" \n{ \"v\" : 1 , \"site\":\"demo\",\"sent_at\":1795420800500,\"visitor_id\":\"v\",\"session_id\":\"s\",\"events\" : [ "+okEvent+" ] } \n"), "")
}

func TestEventRejections(t *testing.T) {
	sites := testSites(t)
	var w Work
	f := func(ev string, want Reason, field string) {
		t.Helper()
		res := w.Process(sites, exampleInput(batchJSON("", okEvent, ev)))
		if res.Problem.Reason != ReasonNone {
			t.Fatalf("%s: request refused: %v", ev, res.Problem.Error())
		}
		if want == ReasonNone {
			if res.Accepted != 2 {
				t.Errorf("%s: accepted %d, want 2 (first reason %v)", ev, res.Accepted, res.FirstReason)
			}
			return
		}
		got, gotField := w.dec.batch.Events[1].Rejected()
		if res.Accepted != 1 || res.Rejected != 1 || got != want || gotField != field || w.Rejects[want] != 1 {
			t.Errorf("%s: accepted %d rejected %d reason %v/%s, want 1/1 %v/%s", ev, res.Accepted, res.Rejected, got, gotField, want, field)
		}
	}
	const ts = `"ts":1795420800000`
	f(`{"type":"view",`+ts+`,"content_id":"d"}`, ReasonNone, "")
	f(`{"type":"nope",`+ts+`}`, ReasonUnknownType, "type")
	f(`{`+ts+`}`, ReasonMissingField, "type")
	f(`{"type":"scroll","depth":5}`, ReasonMissingField, "ts")
	f(`{"type":"scroll","ts":1,"depth":5}`, ReasonTimeOutOfRange, "ts")
	f(`{"type":"scroll","ts":1795420900000,"depth":5}`, ReasonTimeOutOfRange, "ts")
	f(`{"type":"scroll","ts":1e400,"depth":5}`, ReasonTimeOutOfRange, "ts")
	f(`{"type":"scroll","ts":"1795420800000","depth":5}`, ReasonWrongType, "ts")
	f(`{"id":"not-a-uuid","type":"scroll",`+ts+`,"depth":5}`, ReasonBadUUID, "id")
	f(`{"id":"1B4E28BA-2FA1-4D3B-A3F5-EF19B5A7633B","type":"scroll",`+ts+`,"depth":5}`, ReasonNone, "")
	f(`{"id":7,"type":"scroll",`+ts+`,"depth":5}`, ReasonWrongType, "id")
	f(`{"type":"scroll",`+ts+`,"depth":101}`, ReasonBadValue, "depth")
	f(`{"type":"scroll",`+ts+`}`, ReasonMissingField, "depth")
	f(`{"type":"view",`+ts+`}`, ReasonMissingField, "content_id")
	f(`{"type":"view",`+ts+`,"content_id":"`+strings.Repeat("c", 257)+`"}`, ReasonFieldTooLong, "content_id")
	f(`{"type":"view",`+ts+`,"content_id":"d","content_type":"pdf"}`, ReasonBadValue, "content_type")
	f(`{"type":"view",`+ts+`,"content_id":"d","title":"`+strings.Repeat("t", 513)+`"}`, ReasonFieldTooLong, "title")
	f(`{"type":"page",`+ts+`,"content_id":"d","page":0}`, ReasonBadValue, "page")
	f(`{"type":"page",`+ts+`,"content_id":"d","page":3,"page_count":2}`, ReasonBadValue, "page_count")
	f(`{"type":"page",`+ts+`,"content_id":"d"}`, ReasonMissingField, "page")
	f(`{"type":"page",`+ts+`,"content_id":"d","page":1,"dwell_ms":-5}`, ReasonBadValue, "dwell_ms")
	f(`{"type":"page",`+ts+`,"content_id":"d","page":1,"dwell_ms":99999999999}`, ReasonBadValue, "dwell_ms")
	f(`{"type":"page",`+ts+`,"content_id":"d","page":1,"dwell_ms":1500.7}`, ReasonNone, "")
	f(`{"type":"engage",`+ts+`}`, ReasonMissingField, "engaged_ms")
	f(`{"type":"video",`+ts+`,"content_id":"v","action":"rewind"}`, ReasonBadValue, "action")
	f(`{"type":"video",`+ts+`,"content_id":"v"}`, ReasonMissingField, "action")
	f(`{"type":"video",`+ts+`,"content_id":"v","action":"play","rate":100}`, ReasonBadValue, "rate")
	f(`{"type":"video",`+ts+`,"content_id":"v","action":"play","watched":[[5,1]]}`, ReasonBadValue, "watched")
	f(`{"type":"video",`+ts+`,"content_id":"v","action":"play","watched":[[1,2,3]]}`, ReasonBadValue, "watched")
	f(`{"type":"video",`+ts+`,"content_id":"v","action":"play","watched":[["a",2]]}`, ReasonWrongType, "watched")
	f(`{"type":"video",`+ts+`,"content_id":"v","action":"play","watched":[1,2]}`, ReasonWrongType, "watched")
	f(`{"type":"video",`+ts+`,"content_id":"v","action":"play","watched":[`+strings.Repeat("[0,1],", 32)+`[0,1]]}`, ReasonFieldTooLong, "watched")
	f(`{"type":"click",`+ts+`,"action":"hover"}`, ReasonBadValue, "action")
	f(`{"type":"click",`+ts+`,"href":"`+strings.Repeat("h", 2049)+`"}`, ReasonFieldTooLong, "href")
	f(`{"type":"custom",`+ts+`}`, ReasonMissingField, "name")
	f(`{"type":"custom",`+ts+`,"name":"n","props":{"a":1}}`, ReasonWrongType, "props")
	f(`{"type":"custom",`+ts+`,"name":"n","props":[]}`, ReasonWrongType, "props")
	f(`{"type":"custom",`+ts+`,"name":"n","props":{"a":"`+strings.Repeat("v", 257)+`"}}`, ReasonFieldTooLong, "props")
	props := make([]string, 21)
	for i := range props {
		props[i] = `"k` + string(rune('a'+i)) + `":"v"`
	}
	f(`{"type":"custom",`+ts+`,"name":"n","props":{`+strings.Join(props, ",")+`}}`, ReasonFieldTooLong, "props")
	f(`"a string"`, ReasonWrongType, "event")
	f(`null`, ReasonWrongType, "event")

	// Every event bad: the request is still decoded, nothing is encoded.
	res := w.Process(sites, exampleInput(batchJSON("", `{"type":"x","ts":1795420800000}`)))
	if res.Accepted != 0 || res.Rejected != 1 || res.FirstReason != ReasonUnknownType || len(w.Ends) != 0 {
		t.Fatalf("all-bad batch: %+v", res)
	}
}

func TestPrivacyDrops(t *testing.T) {
	sites := testSites(t)
	var w Work
	body := bytes.Replace(batchJSON("", okEvent), []byte(`"demo"`), []byte(`"other"`), 1)
	in := exampleInput(body)
	in.Origin = ""
	if res := w.Process(sites, in); res.Dropped != ReasonNoConsent || len(w.Ends) != 0 {
		t.Fatalf("no consent: %+v", res)
	}
	in = exampleInput(bytes.Replace(batchJSON(`,"consent":true`, okEvent), []byte(`"demo"`), []byte(`"other"`), 1))
	in.Origin = ""
	if res := w.Process(sites, in); res.Dropped != ReasonNone || res.Accepted != 1 {
		t.Fatalf("consent: %+v", res)
	}
	in.DNT = true
	if res := w.Process(sites, in); res.Dropped != ReasonDNT || len(w.Ends) != 0 {
		t.Fatalf("dnt: %+v", res)
	}
	// The demo site does not respect DNT: kept.
	in = exampleInput(batchJSON("", okEvent))
	in.DNT = true
	if res := w.Process(sites, in); res.Accepted != 1 {
		t.Fatalf("dnt on demo: %+v", res)
	}
}

func TestDerivedIDsAreStable(t *testing.T) {
	sites := testSites(t)
	var w Work
	body := batchJSON("", okEvent, okEvent)
	w.Process(sites, exampleInput(body))
	ids := []string{}
	for _, m := range messages(&w) {
		ids = append(ids, m["event_id"].(string))
	}
	if !validUUID(ids[0]) || ids[0] == ids[1] {
		t.Fatalf("ids %v", ids)
	}
	w.Process(sites, exampleInput(body))
	for i, m := range messages(&w) {
		if m["event_id"] != ids[i] {
			t.Fatalf("resent batch got id %v, first time %v", m["event_id"], ids[i])
		}
	}
}

func TestEventTimeClamped(t *testing.T) {
	sites := testSites(t)
	var w Work
	f := func(sentAt, ts, now int64, want int64) {
		t.Helper()
		body := []byte(`{"v":1,"site":"demo","visitor_id":"v","session_id":"s","sent_at":` + itoa(sentAt) + `,"events":[{"type":"scroll","depth":1,"ts":` + itoa(ts) + `}]}`)
		in := exampleInput(body)
		in.Now = now
		res := w.Process(sites, in)
		if res.Accepted != 1 {
			t.Fatalf("%+v", res)
		}
		got := messages(&w)[0]["event_time"]
		if wantS := time.UnixMilli(want).UTC().Format("2006-01-02 15:04:05.000"); got != wantS {
			t.Errorf("sent %d ts %d now %d: event_time %v, want %s", sentAt, ts, now, got, wantS)
		}
	}
	now := exampleNow
	f(now, now-1000, now, now-1000)                 // clocks agree
	f(now-3600_000, now-3601_000, now, now-1000)    // client clock an hour slow: corrected
	f(now+5000, now+5000+30_000, now, now)          // event after sent (jitter): clamped to now
	f(now, now-6*24*3600_000, now, now-24*3600_000) // too old: clamped to 24h
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestAttribution(t *testing.T) {
	sites := testSites(t)
	var w Work
	tok, err := sites.Mint(site.Claims{Tenant: "demo", Partner: "acme", User: "jane@acme.example", Campaign: "q4"})
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := sites.Mint(site.Claims{Tenant: "demo", Partner: "acme", Expires: 1000})
	otherTenant, _ := sites.Mint(site.Claims{Tenant: "other", Partner: "acme"})
	tampered := tamper(t, tok)
	f := func(token string, want site.Attribution, partner string) {
		t.Helper()
		res := w.Process(sites, exampleInput(batchJSON(`,"token":"`+token+`"`, okEvent)))
		if res.Attribution != want || res.Accepted != 1 {
			t.Fatalf("token %q: %+v, want %v", token, res, want)
		}
		m := messages(&w)[0]
		if m["attribution"] != want.String() || m["partner_id"] != partner {
			t.Fatalf("token %q: attribution %v partner %v", token, m["attribution"], m["partner_id"])
		}
	}
	f(tok, site.AttrToken, "acme")
	f("", site.AttrNone, "")
	f("garbage", site.AttrMalformed, "")
	f("a.b", site.AttrMalformed, "")
	f(tampered, site.AttrBadSignature, "")
	f(expired, site.AttrExpired, "")
	f(otherTenant, site.AttrWrongTenant, "")
	// The expiry is judged at the batch's receive time (Input.Now), not the clock's.
	soon, _ := sites.Mint(site.Claims{Tenant: "demo", Partner: "acme", Expires: exampleNow/1000 + 60})
	for _, c := range []struct {
		after int64 // ms after exampleNow
		want  site.Attribution
	}{{0, site.AttrToken}, {120_000, site.AttrExpired}} {
		in := exampleInput(batchJSON(`,"token":"`+soon+`"`, okEvent))
		in.Now += c.after
		if res := w.Process(sites, in); res.Attribution != c.want {
			t.Errorf("token expiring a minute after exampleNow, %d ms after it: %v, want %v", c.after, res.Attribution, c.want)
		}
	}
	w.Process(sites, exampleInput(batchJSON(`,"token":"`+tok+`"`, okEvent)))
	m := messages(&w)[0]
	if m["partner_user_id"] != "jane@acme.example" || m["campaign_id"] != "q4" {
		t.Fatalf("claims not applied: %v", m)
	}
}

func TestEnrichHelpers(t *testing.T) {
	ip := func(in, want string) {
		t.Helper()
		if got := string(appendIPPrefix(nil, netip.MustParseAddr(in))); got != want {
			t.Errorf("prefix(%s) = %q, want %q", in, got, want)
		}
	}
	ip("203.0.113.77", "203.0.113.0")
	ip("::ffff:10.1.2.3", "10.1.2.0")
	ip("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::")
	ip("2001:0:0:12::1", "2001:0:0::")
	if got := appendIPPrefix(nil, netip.Addr{}); len(got) != 0 {
		t.Errorf("invalid addr gave %q", got)
	}

	js := func(in, want string) {
		t.Helper()
		if got := string(jsontext.AppendString(nil, in)); got != want {
			t.Errorf("json(%q) = %s, want %s", in, got, want)
		}
	}
	js("a\"b\\c\n\x01é", `"a\"b\\c\n\u0001é"`)
	js("bad\xffutf", `"bad\ufffdutf"`)

}

// tamper changes one character in the middle of a token's encrypted part and keeps its
// tag: what someone without the key can do. (Not the part's last character, whose padding
// bits must stay zero: that would be a malformed token, not a forged one.)
func tamper(t testing.TB, tok string) string {
	t.Helper()
	dot := strings.IndexByte(tok, '.')
	if dot < 20 || tok[0] != 'A' {
		t.Fatalf("not a v2 token: %q", tok)
	}
	b := []byte(tok)
	i := dot - 5
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
