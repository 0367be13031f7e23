package ingest

import (
	"github.com/google/uuid"
)

// Dropping repeated event ids, and why the exactly-once effect survives it.
//
// The same event can reach a partition twice: the collector's spool re-sends what it shipped
// but could not confirm when the broker died, the producer retries a write whose answer was
// lost, a browser re-sends after a network error. Each is a new message with a new offset, so
// the batches' insert_deduplication_token (which names an offset range) cannot catch it, and
// the raw table holds the event twice. The rollups and the saved queries count distinct ids
// and stay right; a count() on the raw table does not.
//
// The rule: a message whose event_id also appears in one of the DedupWindow messages before
// it in its partition (offsets [o-DedupWindow, o)) is not inserted. The first occurrence of
// an id in the partition has nothing before it, so it is always kept: no event is lost. The
// collector keys messages by visitor, so the repeats of one event land in one partition.
//
// The rule is a function of the partition's log alone, never of what this process happens to
// remember. That is what keeps the exactly-once effect: a batch [start, end) must be
// byte-identical each time it is built, because the server recognises a repeated insert by
// keys derived from its token, one per block it writes (the raw table is partitioned by
// month: a batch spanning two months is two blocks, and so is every view's share of it), not
// by comparing rows. A rebuilt batch with a row more or less can have other blocks than the
// first attempt: a block under a key the first attempt never wrote is inserted again
// (TestRepeatsDroppedAndReplayedIdentically sees 50 rows doubled so), and after a partial
// first insert a new block can fall on a key already written and be dropped. The memory is lost on every restart and
// rebalance, so a new owner that resumes at the committed offset c first reads the window's
// worth of messages before c ([c-DedupWindow, c), or from the log start) into memory without
// inserting them, and only then builds batches: its memory at every offset is exactly the one
// any earlier owner had there, so it drops exactly the same messages and builds exactly the
// same batches. (Retention deleting messages inside that window before a restart would make
// the new owner keep a repeat the old one dropped; that needs a batch older than the topic's
// retention minus the window to be still uncommitted.)
//
// Memory is bounded by the window: at most DedupWindow ids per owned partition.

// seenIDs remembers the event ids of one partition's last window offsets.
type seenIDs struct {
	window int64
	ring   []seenID // in offset order; ring[head:] is the window
	head   int
	count  map[uuid.UUID]int32 // occurrences of each id in the window
}

type seenID struct {
	offset int64
	id     uuid.UUID
}

func newSeenIDs(window int) *seenIDs {
	return &seenIDs{window: int64(window), count: make(map[uuid.UUID]int32)}
}

// repeat records that the message at offset carries id and says whether id already
// appeared in one of the window messages before it. Offsets must increase from call to call.
func (s *seenIDs) repeat(offset int64, id uuid.UUID) bool {
	if s == nil || s.window <= 0 {
		return false
	}
	for s.head < len(s.ring) && s.ring[s.head].offset < offset-s.window {
		old := s.ring[s.head].id
		if n := s.count[old]; n <= 1 {
			delete(s.count, old)
		} else {
			s.count[old] = n - 1
		}
		s.head++
	}
	if s.head > 0 && s.head >= len(s.ring)/2 {
		// Shift the live part down so the ring's backing array stays within twice the window.
		n := copy(s.ring, s.ring[s.head:])
		s.ring = s.ring[:n]
		s.head = 0
	}
	seen := s.count[id] > 0
	s.ring = append(s.ring, seenID{offset: offset, id: id})
	s.count[id]++
	return seen
}

// len is the number of ids remembered.
func (s *seenIDs) len() int { return len(s.ring) - s.head }
