package load

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beaconprm/beacon/beacon"
	"github.com/beaconprm/beacon/beacon/site"
)

// testSecret signs the test site's tokens.
const testSecret = "bench-secret-0123456789abcdef0123"

func testSites(t *testing.T) *site.Sites {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bench.secret"), []byte(testSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := site.NewSites(site.ConfigFile{Sites: []site.Config{{SiteKey: "bench", Tenant: "bench", SecretFile: "bench.secret"}}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMixIsValid proves every generated batch is accepted whole by the collector's own
// pipeline (so the load measures the accept path, not rejections), that tokens verify,
// and that the mix has the shape it claims.
func TestMixIsValid(t *testing.T) {
	sites := testSites(t)
	mix, err := NewMix(MixConfig{}, sites)
	if err != nil {
		t.Fatal(err)
	}
	gen := mix.NewGen(0)
	var w beacon.Work
	now := time.Now()
	var events, attributed, bots, big int
	types := map[string]int{}
	const n = 3000
	for i := 0; i < n; i++ {
		b := gen.Next(nil, now)
		in := &beacon.Input{Body: b.Body, UserAgent: b.UserAgent, Addr: netip.MustParseAddr("203.0.113.7"), Now: now.UnixMilli()}
		res := w.Process(sites, in)
		if res.Problem.Reason != beacon.ReasonNone || res.Accepted != b.Events || res.Rejected != 0 {
			t.Fatalf("batch %d not accepted whole: %+v\n%s", i, res, b.Body)
		}
		if res.Attribution == site.AttrToken {
			attributed++
		}
		var batch struct {
			Events []struct{ Type string } `json:"events"`
		}
		if err := json.Unmarshal(b.Body, &batch); err != nil || len(batch.Events) != b.Events {
			t.Fatalf("batch %d: %v, %d events, want %d", i, err, len(batch.Events), b.Events)
		}
		for _, e := range batch.Events {
			types[e.Type]++
		}
		if bytes.Contains(w.Msgs, []byte(`"is_bot":1`)) {
			bots++
		}
		if b.Events > 40 {
			big++
		}
		events += b.Events
	}
	for _, typ := range []string{"view", "page", "scroll", "engage", "video", "click", "complete", "custom"} {
		if types[typ] == 0 {
			t.Errorf("no %s event in %d batches: %v", typ, n, types)
		}
	}
	if mean := float64(events) / n; mean < 3 || mean > 10 {
		t.Errorf("mean batch size %.1f, want 3..10", mean)
	}
	if share := float64(attributed) / n; share < 0.3 || share > 0.9 {
		t.Errorf("attributed share %.2f, want about 0.6", share)
	}
	if bots == 0 || bots > n/10 {
		t.Errorf("%d bot batches of %d", bots, n)
	}
	if big == 0 {
		t.Errorf("no batch over 40 events")
	}
}

// TestMixIDsAreFresh: a resent id would be deduplicated downstream and hide rows.
func TestMixIDsAreFresh(t *testing.T) {
	mix, err := NewMix(MixConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for w := 0; w < 3; w++ {
		gen := mix.NewGen(w)
		for i := 0; i < 500; i++ {
			var batch struct {
				Events []struct{ ID string } `json:"events"`
			}
			if err := json.Unmarshal(gen.Next(nil, time.Now()).Body, &batch); err != nil {
				t.Fatal(err)
			}
			for _, e := range batch.Events {
				if seen[e.ID] {
					t.Fatalf("id %s sent twice", e.ID)
				}
				seen[e.ID] = true
			}
		}
	}
}
