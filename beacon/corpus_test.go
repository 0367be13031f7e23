package beacon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInputCorpus runs every file of testdata/bad through the pipeline: each must get its
// documented outcome (a named reason, or accepted where the input is odd but valid).
// badCorpus is the expected outcome of each file in testdata/bad.
var badCorpus = map[string]Reason{
	"truncated":           ReasonMalformedJSON,
	"wrong-types":         ReasonWrongType,
	"huge-number":         ReasonBadTime,
	"deep-nesting":        ReasonTooDeep,
	"not-json":            ReasonMalformedJSON,
	"lone-surrogate":      ReasonNone, // decoded as U+FFFD, like browsers do
	"nul-in-string":       ReasonNone, // a valid JSON escape; written back escaped
	"duplicate-keys":      ReasonNone, // last one wins, as in JavaScript
	"array-body":          ReasonMalformedJSON,
	"number-garbage":      ReasonMalformedJSON,
	"minus-only":          ReasonMalformedJSON,
	"unterminated-string": ReasonMalformedJSON,
	"leading-zero":        ReasonMalformedJSON,
	"bom":                 ReasonMalformedJSON,
	"invalid-utf8":        ReasonMalformedJSON,
}

func TestBadInputCorpus(t *testing.T) {
	want := badCorpus
	files, err := filepath.Glob("testdata/bad/*.json")
	if err != nil || len(files) != len(want) {
		t.Fatalf("corpus has %d files, table %d (%v)", len(files), len(want), err)
	}
	sites := testSites(t)
	var w Work
	for _, p := range files {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := want[name]
		if !ok {
			t.Errorf("%s: no expected outcome in the table", name)
			continue
		}
		res := w.Process(sites, exampleInput(body))
		if res.Problem.Reason != r {
			t.Errorf("%s: reason %v (%s), want %v", name, res.Problem.Reason, res.Problem.Detail, r)
		}
		if r == ReasonNone && res.Accepted != 1 {
			t.Errorf("%s: accepted %d, want 1", name, res.Accepted)
		}
	}

	// Generated: 10,000 events in one batch stops at the limit without decoding the rest.
	events := make([]string, 10000)
	for i := range events {
		events[i] = okEvent
	}
	if res := w.Process(sites, exampleInput(batchJSON("", events...))); res.Problem.Reason != ReasonTooManyEvents {
		t.Errorf("10,000 events: %v, want too_many_events", res.Problem.Reason)
	}
}
