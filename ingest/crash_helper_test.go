package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/beaconprm/beacon/ingest/block"
	"github.com/beaconprm/beacon/ingest/internal/testmsg"
)

// crashedBeforeCommit inserts what a crashed ingester (BatchRows 100) would have left
// behind on a fresh one-partition topic holding events 0..499: [0,100) inserted at its
// natural end, [100,137) cut early, recorded and inserted, nothing committed. Then a
// real ingester takes over and must end with exactly 500 rows.
func crashedBeforeCommit(t *testing.T, kafkaAddr, topic, dlq, chAddr, db string) {
	cfg := testConfig(t, kafkaAddr, topic, dlq, chAddr, db)
	cfg.BatchRows = 100
	c := cfg.withDefaults()
	st, err := openStore(&c)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	insertRange := func(from, to int) {
		var d block.Decoder
		var cols block.Columns
		var r block.Row
		for i := from; i < to; i++ {
			if err := d.Decode(testmsg.Event(i), &r); err != nil {
				t.Fatal(err)
			}
			cols.Append(&r)
		}
		if err := st.insert(ctx, batchToken(topic, 0, int64(from), int64(to)), &cols); err != nil {
			t.Fatal(err)
		}
	}
	insertRange(0, 100)
	if err := st.ensureCuts(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.recordCut(ctx, topic, 0, 100, 137); err != nil {
		t.Fatal(err)
	}
	insertRange(100, 137)
	if rows, _, _ := rowCounts(t, st.conn, db); rows != 137 {
		t.Fatalf("setup: %d rows", rows)
	}
	ing, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runInProcess(t, ing)
	waitDone(t, st.conn, db, kafkaAddr, cfg.GroupID, topic, 1, 500, 500, time.Minute)
}
