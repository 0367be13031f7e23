//go:build !race

package spool

import (
	"testing"
	"time"
)

// Once warm, appending a record and shipping it (Read into a reused Batch, Commit) allocate
// nothing: every event of the collector passes this way.
func TestAppendReadCommitDoNotAllocate(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir(), SyncInterval: time.Hour, MaxBytes: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msgs := []byte(`{"event_id":"1","type":"view"}{"event_id":"2","type":"page"}`)
	ends := []int{30, len(msgs)}
	var b Batch
	run := func() {
		end, err := s.Append([]byte("visitor-1"), msgs, ends)
		if err != nil {
			t.Fatal(err)
		}
		b.Reset()
		pos, err := s.Read(&b, 100)
		if err != nil || len(b.Msgs) != 2 || !pos.Reached(end) {
			t.Fatalf("read %d messages to %+v (record ends at %+v): %v", len(b.Msgs), pos, end, err)
		}
		s.Commit(pos)
	}
	run()
	if allocs := testing.AllocsPerRun(200, run); allocs != 0 {
		t.Fatalf("%.1f allocations per record, want 0", allocs)
	}
}
