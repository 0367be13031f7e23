package beacon

import (
	"strings"
	"testing"
)

// The wire v1 additions (search, content_version, score, passed): each bad value is
// dropped alone with its named reason, and counted like every other rejection.
func TestAdditionsRejections(t *testing.T) {
	sites := testSites(t)
	long := func(n int) string { return strings.Repeat("x", n) }
	for _, c := range []struct {
		name, event string
		reason      Reason
		field       string
	}{
		{"search without query", `{"type":"search","ts":1795420800000,"results":3}`, ReasonMissingField, "query"},
		{"search with empty query", `{"type":"search","ts":1795420800000,"query":"","results":3}`, ReasonMissingField, "query"},
		{"search without results", `{"type":"search","ts":1795420800000,"query":"q"}`, ReasonMissingField, "results"},
		{"search with negative results", `{"type":"search","ts":1795420800000,"query":"q","results":-1}`, ReasonBadValue, "results"},
		{"search with too many results", `{"type":"search","ts":1795420800000,"query":"q","results":1000001}`, ReasonBadValue, "results"},
		{"search with text results", `{"type":"search","ts":1795420800000,"query":"q","results":"3"}`, ReasonWrongType, "results"},
		{"search with a number query", `{"type":"search","ts":1795420800000,"query":42,"results":3}`, ReasonWrongType, "query"},
		{"clicked too long", `{"type":"search","ts":1795420800000,"query":"q","results":3,"clicked":"` + long(257) + `"}`, ReasonFieldTooLong, "clicked"},
		{"version too long", `{"type":"view","ts":1795420800000,"content_id":"d","content_version":"` + long(65) + `"}`, ReasonFieldTooLong, "content_version"},
		{"version a number", `{"type":"view","ts":1795420800000,"content_id":"d","content_version":2}`, ReasonWrongType, "content_version"},
		{"score over 100", `{"type":"complete","ts":1795420800000,"content_id":"c","score":100.5}`, ReasonBadValue, "score"},
		{"score negative", `{"type":"complete","ts":1795420800000,"content_id":"c","score":-1}`, ReasonBadValue, "score"},
		{"score text", `{"type":"complete","ts":1795420800000,"content_id":"c","score":"90"}`, ReasonWrongType, "score"},
		{"passed a number", `{"type":"complete","ts":1795420800000,"content_id":"c","passed":1}`, ReasonWrongType, "passed"},
	} {
		var w Work
		res := w.Process(sites, exampleInput(batchJSON("", okEvent, c.event)))
		if res.Problem.Reason != ReasonNone || res.Accepted != 1 || res.Rejected != 1 || res.FirstReason != c.reason || w.Rejects[c.reason] != 1 {
			t.Errorf("%s: %+v, want 1 kept and 1 dropped as %v", c.name, res, c.reason)
			continue
		}
		w.dec.Decode(batchJSON("", okEvent, c.event), DefaultMaxEvents)
		e := &w.dec.batch.Events[1]
		validateEvent(e, 1795420800500, false)
		if r, f := e.Rejected(); r != c.reason || f != c.field {
			t.Errorf("%s: rejected %v on %q, want %v on %q", c.name, r, f, c.reason, c.field)
		}
	}
	// In range, and the old clients' events (no new field) unchanged.
	var w Work
	res := w.Process(sites, exampleInput(batchJSON("",
		`{"type":"complete","ts":1795420800000,"content_id":"c","score":0,"passed":false}`,
		`{"type":"complete","ts":1795420800000,"content_id":"c","score":100,"passed":true,"content_version":"`+long(64)+`"}`,
		`{"type":"search","ts":1795420800000,"query":"q","results":1000000,"clicked":"`+long(256)+`"}`,
		`{"type":"view","ts":1795420800000,"content_id":"d","score":500}`)))
	if res.Accepted != 4 || res.Rejected != 0 {
		t.Fatalf("limits: %+v, want 4 kept (a view's score is ignored)", res)
	}
	m := messages(&w)
	if m[0]["score"] != 0.0 || m[0]["passed"] != 0.0 || m[1]["score"] != 100.0 || m[1]["passed"] != 1.0 || m[3]["score"] != nil || m[3]["passed"] != nil {
		t.Fatalf("score and passed: %v %v / %v %v / %v %v", m[0]["score"], m[0]["passed"], m[1]["score"], m[1]["passed"], m[3]["score"], m[3]["passed"])
	}
}

// A search text is stored redacted and cut (WIRE.md, "Search text").
func TestSearchTextRule(t *testing.T) {
	for _, c := range []struct {
		in, out string
		flags   uint8
	}{
		{"pricing  sheet\t2026 ", "pricing sheet 2026", 0},
		{"reset password for jane.doe@acme.example please", "reset password for [email] please", SearchRedacted},
		{"<jane@acme.co.uk>,", "[email]", SearchRedacted},
		{"mailto:a@b.io", "[email]", SearchRedacted},
		{"@channel a@b and x@y.", "@channel a@b and x@y.", 0}, // no domain with a dot and more after it
		{"key sk_live_51HxQ2eKz9aBcDeFgHiJ", "key [token]", SearchRedacted},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc123", "[token]", SearchRedacted},
		{"https://portal.example/x?pb_t=abc.def", "[token]", SearchRedacted},
		{"1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b", "[token]", SearchRedacted},
		{"my key sk_live_51HxQ2eKz9aBcDeFgHiJ, help", "my key [token] help", SearchRedacted}, // punctuation around it
		{"x\u00a0sk_live_51HxQ2eKz9aBcDeFgHiJ", "[token]", SearchRedacted},                   // glued by a no-break space
		{"internationalization configuration", "internationalization configuration", 0},      // long words without digits
		{"ISO-9001-2015 cert", "ISO-9001-2015 cert", 0},                                      // under 20 bytes
		{strings.Repeat("a ", 200), strings.TrimSpace(strings.Repeat("a ", 128)), SearchTruncated},
		{strings.Repeat("é", 200), strings.Repeat("é", 128), SearchTruncated},             // 2-byte runes: cut at 256
		{"x" + strings.Repeat("é", 200), "x" + strings.Repeat("é", 127), SearchTruncated}, // never inside a rune
		{strings.Repeat("word ", 60) + "bob@x.io", strings.TrimSpace(strings.Repeat("word ", 51)) + " w", SearchTruncated | SearchRedacted},
	} {
		got, flags := appendSearchQuery(nil, c.in)
		if string(got) != c.out || flags != c.flags {
			t.Errorf("%.40q: got %q flags %d, want %q flags %d", c.in, got, flags, c.out, c.flags)
		}
		if len(got) > maxQuery {
			t.Errorf("%.40q: %d bytes stored", c.in, len(got))
		}
	}
	// the whole way: what the collector writes
	sites := testSites(t)
	var w Work
	res := w.Process(sites, exampleInput(batchJSON("", `{"type":"search","ts":1795420800000,"query":"price for bob@acme.example","results":0,"clicked":"doc-1"}`)))
	if res.Accepted != 1 {
		t.Fatalf("%+v", res)
	}
	m := messages(&w)[0]
	if m["search_query"] != "price for [email]" || m["search_flags"] != 2.0 || m["search_results"] != 0.0 || m["search_clicked"] != "doc-1" {
		t.Fatalf("stored search: %v", m)
	}
	if strings.Contains(string(w.Msgs), "bob@") {
		t.Fatalf("the address reached the message: %s", w.Msgs)
	}
}

// BenchmarkProcessAdditions is a batch of the wire v1 additions: searches (one redacted),
// versioned views and scored completions.
func BenchmarkProcessAdditions(b *testing.B) {
	sites := testSites(b)
	body := batchJSON("",
		`{"type":"search","ts":1795420800000,"query":"price list for bob@acme.example 2026","results":4,"clicked":"doc-1"}`,
		`{"type":"search","ts":1795420800000,"query":"onboarding checklist","results":0}`,
		`{"type":"view","ts":1795420800000,"content_id":"doc-1","content_type":"document","content_version":"2026.2"}`,
		`{"type":"complete","ts":1795420800000,"content_id":"quiz","content_type":"course","score":87.5,"passed":true}`)
	var w Work
	in := exampleInput(body)
	if res := w.Process(sites, in); res.Accepted != 4 {
		b.Fatalf("%+v", res)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		w.Process(sites, in)
	}
	reportRate(b, 4, cpu0)
}
