//go:build !race

package beacon

import (
	"testing"

	"github.com/beaconprm/beacon/beacon/site"
)

// The hot path must not allocate once its buffers are warm (STYLE.md: pooled buffers).
func TestProcessDoesNotAllocate(t *testing.T) {
	sites := testSites(t)
	tok, err := sites.Mint(site.Claims{Tenant: "demo", Partner: "acme", User: "jane", Campaign: "q4"}) // v2: AES-GCM open in place
	if err != nil {
		t.Fatal(err)
	}
	// A v1 token (tenant demo, partner acme, no expiry) made with testSecret before v2
	// tokens: the readable payload and an HMAC.
	const v1 = "MR9kZW1vH2FjbWUfdR9jHx8wHw.SMRL8UOnMOawbNlBGh7c_A"
	// Each body with the outcome it must have on every run, so an early return (an unknown
	// site, a token judged malformed) cannot pass for zero allocations.
	for name, c := range map[string]struct {
		body               []byte
		accepted, rejected int
		attr               site.Attribution
	}{
		"example":       {readExample(t), 8, 0, site.AttrNone},
		"with token":    {batchJSON(`,"token":"`+tok+`","url":"https://x.example/a?pb_t=1#f"`, okEvent, `{"type":"view","ts":1795420800000,"content_id":"d","title":"esc\u00e9\"aped"}`), 2, 0, site.AttrToken},
		"with v1 token": {batchJSON(`,"token":"`+v1+`"`, okEvent), 1, 0, site.AttrToken},
		"no ids":        {batchJSON("", okEvent, okEvent), 2, 0, site.AttrNone},
		"additions": {batchJSON("", `{"type":"search","ts":1795420800000,"query":"price list for bob@acme.example 2026","results":4,"clicked":"doc-1","content_version":"v2"}`,
			`{"type":"complete","ts":1795420800000,"content_id":"quiz","content_type":"course","score":87.5,"passed":true}`), 2, 0, site.AttrNone},
		"bad events": {batchJSON("", okEvent, `{"type":"nope","ts":1795420800000}`, `{"id":"x","type":"scroll"}`), 1, 2, site.AttrNone},
	} {
		var w Work
		in := exampleInput(c.body)
		run := func() {
			res := w.Process(sites, in)
			if res.Problem.Reason != ReasonNone || res.Accepted != c.accepted || res.Rejected != c.rejected || res.Attribution != c.attr {
				t.Fatalf("%s: %+v, want %d accepted, %d rejected, attribution %v", name, res, c.accepted, c.rejected, c.attr)
			}
		}
		run()
		if allocs := testing.AllocsPerRun(200, run); allocs != 0 {
			t.Errorf("%s: %.1f allocations per request, want 0", name, allocs)
		}
	}
}
