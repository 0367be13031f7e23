package beacon

import (
	"encoding/json"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzProcess feeds arbitrary bodies through the whole pipeline: it must never panic, and
// whatever it accepts must come out as valid JSON messages.
func FuzzProcess(f *testing.F) {
	f.Add(readExample(f))
	f.Add(batchJSON("", okEvent))
	f.Add(batchJSON(`,"token":"MWRlbW8.AAAA","url":"https://a/?pb_t=x#y"`, `{"type":"video","ts":1795420800000,"content_id":"v","action":"play","watched":[[0,1],[2,3]]}`))
	f.Add(batchJSON("", `{"type":"custom","ts":1795420800000,"name":"n","props":{"a":"\ud83d\ude00","b":"\u0000"}}`))
	f.Add(batchJSON("", `{"type":"search","ts":1795420800000,"query":"a bob@x.io sk_live_51HxQ2eKz9aBcDeFgHiJ \u00e9","results":0,"clicked":"d"}`,
		`{"type":"complete","ts":1795420800000,"content_id":"c","score":50,"passed":true,"content_version":"v1"}`))
	f.Add([]byte(`{"v":1,"site":"demo","events":[[[[[[[[[[]]]]]]]]]]}`))
	f.Add([]byte(`{"v":1e999}`))
	f.Add([]byte("{\"v\":1,\"site\":\"\xff\"}"))
	corpus, _ := filepath.Glob("testdata/bad/*.json")
	for _, p := range corpus {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	sites := testSites(f)
	var w Work
	f.Fuzz(func(t *testing.T, body []byte) {
		in := &Input{Body: body, UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", Addr: netip.MustParseAddr("192.0.2.1"), Now: exampleNow}
		res := w.Process(sites, in)
		if res.Problem.Reason != ReasonNone && len(w.Ends) != 0 {
			t.Fatalf("refused (%v) but produced messages", res.Problem.Reason)
		}
		if res.Accepted != len(w.Ends) {
			t.Fatalf("accepted %d, %d messages", res.Accepted, len(w.Ends))
		}
		start := 0
		for _, end := range w.Ends {
			if !json.Valid(w.Msgs[start:end]) {
				t.Fatalf("invalid message: %s", w.Msgs[start:end])
			}
			// a stored search text is never over its limit, nor holds a word that looks
			// like an e-mail address or a token (WIRE.md, "Search text")
			var m struct {
				Query string `json:"search_query"`
			}
			if err := json.Unmarshal(w.Msgs[start:end], &m); err != nil {
				t.Fatal(err)
			}
			if len(m.Query) > maxQuery {
				t.Fatalf("search text of %d bytes stored", len(m.Query))
			}
			for _, word := range strings.Fields(m.Query) {
				if looksLikeEmail(word) || looksLikeToken(word) {
					t.Fatalf("search text %q stores %q", m.Query, word)
				}
			}
			start = end
		}
	})
}

// query is a pixel query for tests: url.Values with the Peek fasthttp's Args has.
type query url.Values

func (q query) Peek(k string) []byte {
	if v, ok := q[k]; ok && len(v) > 0 {
		return []byte(v[0])
	}
	return nil
}

// FuzzPixel feeds arbitrary query strings through the pixel's decoding and the pipeline: it
// must never panic, and whatever it accepts must come out as one valid JSON message.
func FuzzPixel(f *testing.F) {
	f.Add("site=demo&cid=doc-1&ct=document&t=Guide&url=https%3A%2F%2Fx.example%2Fa%3Fpb_t%3Dz")
	f.Add("site=demo&vid=v9&sid=s9&type=page&cid=doc-1&p=2&pc=5&id=6fa459ea-ee8a-4ca4-894e-db77e160355e")
	f.Add("site=demo&type=scroll&d=300&ts=99999999999999999999")
	f.Add("site=demo&type=video&a=play&cid=v&tok=MQ.x")
	f.Add("site=%ff%fe&vid=%00&url=%")
	f.Add("site=demo&type=custom&n=" + strings.Repeat("x", 200))
	sites := testSites(f)
	var w Work
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		in := &Input{UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", Addr: netip.MustParseAddr("192.0.2.1"), Now: exampleNow}
		res := w.ProcessPixel(sites, query(v), in)
		if res.Accepted != len(w.Ends) || res.Accepted > 1 {
			t.Fatalf("accepted %d, %d messages", res.Accepted, len(w.Ends))
		}
		if res.Accepted == 1 && !json.Valid(w.Msgs) {
			t.Fatalf("invalid message: %s", w.Msgs)
		}
	})
}
