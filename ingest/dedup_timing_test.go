package ingest

import (
	"fmt"
	"testing"

	"github.com/beaconprm/beacon/ingest/block"
	"github.com/beaconprm/beacon/ingest/internal/testmsg"
	"github.com/google/uuid"
)

// BenchmarkDedupWindow is the dedup window's cost per message at the default window: one
// partition's stream of ids, a repeat every 100 messages a few messages after its first copy.
func BenchmarkDedupWindow(b *testing.B) {
	const n = 1 << 16
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.NewSHA1(uuid.NameSpaceOID, fmt.Append(nil, i))
		if i%100 == 99 {
			ids[i] = ids[i-3]
		}
	}
	s := newSeenIDs((&Config{}).withDefaults().DedupWindow)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.repeat(int64(i), ids[i%n])
	}
}

// BenchmarkWarmup is the dedup window's warm-up per message (the window of committed
// messages a new owner reads back, ingester.go read): decode=full decode as before,
// id=block.Decoder.DecodeID, which checks the message the same way and keeps only its id.
func BenchmarkWarmup(b *testing.B) {
	msgs := testmsg.Batch(b)
	for _, mode := range []string{"decode", "id"} {
		b.Run(mode, func(b *testing.B) {
			var d block.Decoder
			var r block.Row
			s := newSeenIDs((&Config{}).withDefaults().DedupWindow)
			b.ReportAllocs()
			b.SetBytes(testmsg.MeanSize(msgs))
			for i := 0; i < b.N; i++ {
				var err error
				if mode == "id" {
					err = d.DecodeID(msgs[i%testmsg.BatchSize], &r)
				} else {
					err = d.Decode(msgs[i%testmsg.BatchSize], &r)
				}
				if err != nil {
					b.Fatal(err)
				}
				s.repeat(int64(i), r.EventID())
			}
		})
	}
}
