package bench

import (
	"testing"
	"time"
)

func TestParseBench(t *testing.T) {
	out := `goos: linux
BenchmarkProcess       	  100000	     28422 ns/op	 120.50 MB/s	    281000 events/s	    802148 events/cpu-s	       0 B/op	       0 allocs/op
BenchmarkProcess-2     	  100000	     30000 ns/op	       16 B/op	       1 allocs/op
BenchmarkBroken	 abc	 1 ns/op
PASS`
	lines := ParseBench(out)
	if len(lines) != 2 {
		t.Fatalf("got %d lines: %+v", len(lines), lines)
	}
	if lines[1].Name != "BenchmarkProcess" || lines[1].Metrics["allocs/op"] != 1 {
		t.Errorf("suffix not stripped or metric lost: %+v", lines[1])
	}
	if v, ok := medianMetric(lines, "BenchmarkProcess", "ns/op"); !ok || v != 29211 {
		t.Errorf("median ns/op = %v %v", v, ok)
	}
	if _, ok := medianMetric(lines, "BenchmarkProcess", "events/wall"); ok {
		t.Error("a missing unit was found")
	}
}

func TestPerReq(t *testing.T) {
	if got := perReq(2*time.Millisecond, 100); got != 20 {
		t.Fatalf("perReq = %v, want 20 us", got)
	}
}
