package ingest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/beaconprm/beacon/ingest/block"
	"github.com/beaconprm/beacon/ingest/internal/testmsg"
	"github.com/beaconprm/beacon/internal/testenv"
)

// produceValues writes values, in order, to partition 0 of a one-partition topic.
func produceValues(t *testing.T, addr, topic string, values [][]byte) {
	t.Helper()
	w := &kafka.Writer{
		Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchSize: 1000, BatchTimeout: 2 * time.Millisecond, Transport: &kafka.Transport{},
	}
	defer w.Close()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Key: []byte("v"), Value: v}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// octoberEvent is testmsg.Event(i) happening a month earlier, so a batch holding it and
// November events is inserted as two blocks (the raw table is partitioned by month).
func octoberEvent(i int) []byte {
	return bytes.ReplaceAll(testmsg.Event(i), []byte(`"2026-11-23 `), []byte(`"2026-10-23 `))
}

// TestRepeatsDroppedAndReplayedIdentically: re-sent events (the same id again a few
// messages later, as the spool and producer retries write them) are left out of the raw
// table, and an owner that takes over after a crash drops the same ones, so the batch it
// rebuilds is the one its predecessor inserted and the server drops it as a repeat.
//
// Partition 0 holds ids 0..299 (250..299 in October), then ids 250..299 again (offsets
// 300..349), then ids 300..349 (offsets 350..399). A first ingester inserts and commits
// [0, 300). A crashed successor then inserted [300, 400) as the rule builds it (ids
// 300..349 only, November: one block) without committing. The next ingester resumes at
// 300 with an empty memory: unless it re-reads the window before 300, it keeps the
// October repeats, builds a two-block batch under the same token, and the server keeps one
// of the blocks, leaving 400 rows or 50 ids short of 350.
func TestRepeatsDroppedAndReplayedIdentically(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	conn, db := ch.Conn(t), ch.Database
	migrate(t, conn, db)
	k := testenv.NewKafka(t)
	topic, dlq := k.Topic(t, 1), k.Topic(t, 1)

	var first [][]byte
	for i := range 300 {
		if i >= 250 {
			first = append(first, octoberEvent(i))
		} else {
			first = append(first, testmsg.Event(i))
		}
	}
	produceValues(t, k.Addr, topic, first)
	cfg := testConfig(t, k.Addr, topic, dlq, ch.NativeAddr, db)
	cfg.BatchRows = 100
	cfg.DedupWindow = 1000
	ing, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ing.Run(ctx) }()
	waitDone(t, conn, db, k.Addr, cfg.GroupID, topic, 1, 300, 300, time.Minute)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("first ingester: %v", err)
	}

	var second [][]byte
	for i := 250; i < 300; i++ {
		second = append(second, octoberEvent(i)) // the re-sent events
	}
	for i := 300; i < 350; i++ {
		second = append(second, testmsg.Event(i))
	}
	produceValues(t, k.Addr, topic, second)

	// The crashed owner's insert of [300, 400): the new events only.
	c := cfg.withDefaults()
	st, err := openStore(&c)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var d block.Decoder
	var cols block.Columns
	var r block.Row
	for i := 300; i < 350; i++ {
		if err := d.Decode(testmsg.Event(i), &r); err != nil {
			t.Fatal(err)
		}
		cols.Append(&r)
	}
	if err := st.insert(context.Background(), batchToken(topic, 0, 300, 400), &cols); err != nil {
		t.Fatal(err)
	}

	next, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runInProcess(t, next)
	waitDone(t, conn, db, k.Addr, cfg.GroupID, topic, 1, 400, 350, time.Minute)
	eventually(t, 10*time.Second, "the dropped repeats counted", func() (bool, string) {
		n := testutil.ToFloat64(next.m.duplicates)
		return n == 50, fmt.Sprintf("ingest_duplicates_dropped_total %v, want 50", n)
	})
}

// TestRepeatsDroppedWithinOneRun: repeats within the window are left out, in the same
// batch and across batches; the first occurrence of every id is kept.
func TestRepeatsDroppedWithinOneRun(t *testing.T) {
	rt := newIngestTest(t, 1, time.Second, func(c *Config) { c.BatchRows = 100; c.DedupWindow = 500 })
	var values [][]byte
	for i := range 400 {
		values = append(values, testmsg.Event(i))
		if i%10 == 9 {
			values = append(values, testmsg.Event(i-5)) // a re-send of an event 6 messages back
		}
	}
	values = append(values, testmsg.Event(20), testmsg.Event(399)) // 418 and 2 messages back
	produceValues(t, rt.k.Addr, rt.topic, values)
	runInProcess(t, rt.ing)
	total := int64(len(values))
	waitDone(t, rt.conn, rt.ch.Database, rt.k.Addr, rt.cfg.GroupID, rt.topic, 1, total, 400, time.Minute)
	if n := testutil.ToFloat64(rt.ing.m.duplicates); n != 42 {
		t.Fatalf("ingest_duplicates_dropped_total %v, want 42", n)
	}
}
