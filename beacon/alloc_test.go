//go:build !race

package beacon

import "testing"

// The hot path must not allocate once its buffers are warm (STYLE.md: pooled buffers).
func TestProcessDoesNotAllocate(t *testing.T) {
	sites := testSites(t)
	tok, err := sites.Mint(Claims{Tenant: "demo", Partner: "acme", User: "jane", Campaign: "q4"})
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{
		"example":    readExample(t),
		"with token": batchJSON(`,"token":"`+tok+`","url":"https://x.example/a?pb_t=1#f"`, okEvent, `{"type":"view","ts":1795420800000,"content_id":"d","title":"esc\u00e9\"aped"}`),
		"no ids":     batchJSON("", okEvent, okEvent),
		"bad events": batchJSON("", okEvent, `{"type":"nope","ts":1795420800000}`, `{"id":"x","type":"scroll"}`),
	} {
		var w Work
		in := exampleInput(body)
		w.Process(sites, in)
		allocs := testing.AllocsPerRun(200, func() { w.Process(sites, in) })
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per request, want 0", name, allocs)
		}
	}
}
