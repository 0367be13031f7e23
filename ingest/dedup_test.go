package ingest

import (
	"testing"

	"github.com/google/uuid"
)

func TestSeenIDsWindow(t *testing.T) {
	s := newSeenIDs(3)
	a, b := uuid.New(), uuid.New()
	steps := []struct {
		offset int64
		id     uuid.UUID
		repeat bool
	}{
		{0, a, false},
		{1, b, false},
		{3, a, true},  // 0 is within [0, 3)
		{4, b, true},  // 1 is within [1, 4)
		{7, a, false}, // the last a (3) is before [4, 7): kept
		{8, a, true},
		{20, b, false},
	}
	for _, st := range steps {
		if got := st.repeat; s.repeat(st.offset, st.id) != got {
			t.Fatalf("offset %d: repeat %v, want %v", st.offset, !got, got)
		}
		if s.len() > 4 {
			t.Fatalf("offset %d: %d ids remembered, more than the window allows", st.offset, s.len())
		}
	}
	if len(s.count) != 1 {
		t.Fatalf("%d ids counted after the window moved on, want 1", len(s.count))
	}
	var off *seenIDs
	if off.repeat(0, a) || newSeenIDs(0).repeat(0, a) {
		t.Fatal("a disabled window dropped a message")
	}
}

// TestSeenIDsMemoryBounded: the ring's backing array stays within a few windows however
// long the partition.
func TestSeenIDsMemoryBounded(t *testing.T) {
	s := newSeenIDs(1000)
	for i := range int64(100000) {
		s.repeat(i, uuid.UUID{byte(i), byte(i >> 8), byte(i >> 16)})
	}
	if s.len() != 1001 || len(s.count) != 1001 || cap(s.ring) > 4*1001 {
		t.Fatalf("remembered %d, counted %d, ring capacity %d; want 1001, 1001, at most %d", s.len(), len(s.count), cap(s.ring), 4*1001)
	}
}
