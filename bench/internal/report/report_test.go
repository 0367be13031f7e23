package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMedianAndNum(t *testing.T) {
	if m := Median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("Median odd = %v", m)
	}
	if m := Median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("Median even = %v", m)
	}
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567"} {
		if got := Num(in); got != want {
			t.Errorf("Num(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestWriteResultsKeepsOtherSections: each scenario rewrites only its own section.
func TestWriteResultsKeepsOtherSections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	write := func(name, value string) {
		t.Helper()
		r := &Report{Scenario: name, Command: "bin/beaconbench " + name, Started: time.Now(),
			Rows: []Row{{Metric: "m", Value: value, Target: ">= 1", Verdict: "meets"}}}
		if err := WriteResults(path, r); err != nil {
			t.Fatal(err)
		}
	}
	write("collector", "first-collector")
	write("ingest", "first-ingest")
	write("collector", "second-collector")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"second-collector", "first-ingest", "Not run yet: `make -C bench queries`", "bin/beaconbench ingest", "- Machine: "} {
		if !strings.Contains(s, want) {
			t.Errorf("RESULTS.md lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "first-collector") {
		t.Errorf("the old collector section survived:\n%s", s)
	}
	if strings.Index(s, "begin collector") > strings.Index(s, "begin ingest") {
		t.Error("sections out of order")
	}
}

func TestPlotSVG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.svg")
	p := &Plot{Title: "t <&>", XLabel: "x", YLabel: "y", LogY: true,
		Series: []Series{{Name: "a", X: []float64{1, 2, 3}, Y: []float64{0.5, 5, 50}}}}
	if err := p.WriteSVG(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	s := string(b)
	if !strings.HasPrefix(s, "<svg") || !strings.Contains(s, "<polyline") || !strings.Contains(s, "t &lt;&amp;&gt;") {
		t.Errorf("bad svg:\n%s", s)
	}
}
