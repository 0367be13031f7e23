package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestWaitClock follows one partition through reads and commits: the lag is the wait of the
// oldest uncommitted batch's first row, 0 once everything read is committed, and the series
// goes away with the partition.
func TestWaitClock(t *testing.T) {
	w := newWaitClock()
	now := time.UnixMilli(1_000_000)
	w.now = func() time.Time { return now }
	f := func(step, want string) {
		t.Helper()
		head := "# HELP ingest_lag_seconds How long the oldest event read from the partition but not yet committed has waited since the collector received it; 0 when none waits.\n# TYPE ingest_lag_seconds gauge\n"
		if want == "" {
			head = ""
		}
		if err := testutil.CollectAndCompare(w, strings.NewReader(head+want)); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	f("not owned", "")
	w.read(3, 0, 1) // a partition not owned is ignored
	f("read before owning", "")
	w.own(3)
	f("owned, nothing read", "ingest_lag_seconds{partition=\"3\"} 0\n")
	w.read(3, 100, 990_000) // received 10 s ago
	w.read(3, 200, 998_000) // received 2 s ago
	f("two batches waiting", "ingest_lag_seconds{partition=\"3\"} 10\n")
	w.committed(3, 100)
	f("first committed", "ingest_lag_seconds{partition=\"3\"} 2\n")
	w.committed(3, 200)
	f("all committed", "ingest_lag_seconds{partition=\"3\"} 0\n")
	w.read(3, 300, 1_005_000) // the collector's clock is ahead of ours: never negative
	f("received in the future", "ingest_lag_seconds{partition=\"3\"} 0\n")
	w.drop(3)
	f("dropped", "")
}
