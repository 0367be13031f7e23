package ingest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/beaconprm/beacon/ingest/block"
	"github.com/beaconprm/beacon/ingest/internal/testmsg"
	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/beaconprm/beacon/schema"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// TestInsertDedupThroughViews proves the insert settings: the same batch sent twice with
// the same token is stored once, in the raw table and in a materialized view fed by it.
func TestInsertDedupThroughViews(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	conn := ch.Conn(t)
	migrate(t, conn, ch.Database)
	ch.Exec(t, fmt.Sprintf("CREATE TABLE `%s`.event_counts (k UInt8, c UInt64) ENGINE = SummingMergeTree ORDER BY k "+
		"SETTINGS non_replicated_deduplication_window = 1000", ch.Database))
	ch.Exec(t, fmt.Sprintf("CREATE MATERIALIZED VIEW `%[1]s`.event_counts_mv TO `%[1]s`.event_counts AS "+
		"SELECT toUInt8(1) AS k, count() AS c FROM `%[1]s`.events", ch.Database))

	cfg := Config{ClickHouseAddrs: []string{ch.NativeAddr}, Database: ch.Database}
	c := cfg.withDefaults()
	st, err := openStore(&c)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fill := func(from, to int) *block.Columns {
		var d block.Decoder
		var cols block.Columns
		var r block.Row
		for i := from; i < to; i++ {
			if err := d.Decode(testmsg.Event(i), &r); err != nil {
				t.Fatal(err)
			}
			cols.Append(&r)
		}
		return &cols
	}
	ctx := context.Background()
	for _, step := range []struct {
		token    string
		from, to int
		want     uint64
	}{
		{"t/0/0-100", 0, 100, 100},
		{"t/0/0-100", 0, 100, 100},     // a retry after a crash: dropped
		{"t/0/100-150", 100, 150, 150}, // the next range
		{"t/0/0-100", 0, 100, 150},     // an old range again: still dropped
		{"t/0/0-100", 1, 101, 150},     // the token decides, not the contents
	} {
		if err := st.insert(ctx, step.token, fill(step.from, step.to)); err != nil {
			t.Fatalf("insert %s: %v", step.token, err)
		}
		rows, _, err := rowCounts(t, conn, ch.Database)
		if err != nil {
			t.Fatal(err)
		}
		var viewRows uint64
		if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT sum(c) FROM `%s`.event_counts", ch.Database)).Scan(&viewRows); err != nil {
			t.Fatal(err)
		}
		if rows != step.want || viewRows != step.want {
			t.Fatalf("after %s: raw table %d rows, view counted %d, want %d", step.token, rows, viewRows, step.want)
		}
	}
}

// TestSchemaMismatchIsToldApart checks that a table lacking a column is reported as a
// schema error, not as ClickHouse being unavailable.
func TestSchemaMismatchIsToldApart(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	ch.Exec(t, fmt.Sprintf("CREATE TABLE `%s`.events (event_id UUID, tenant String) ENGINE = MergeTree ORDER BY tuple()", ch.Database))
	cfg := Config{ClickHouseAddrs: []string{ch.NativeAddr}, Database: ch.Database}
	c := cfg.withDefaults()
	st, err := openStore(&c)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var d block.Decoder
	var cols block.Columns
	var r block.Row
	if err := d.Decode(testmsg.Event(1), &r); err != nil {
		t.Fatal(err)
	}
	cols.Append(&r)
	err = st.insert(context.Background(), "x", &cols)
	if err == nil || classifyCH(err) != kindSchema {
		t.Fatalf("insert into a table without the columns: %v (kind %q), want a schema error", err, classifyCH(err))
	}
	// A server nobody listens on is unavailable, not a schema problem.
	cfg.ClickHouseAddrs = []string{"127.0.0.1:1"}
	c = cfg.withDefaults()
	down, err := openStore(&c)
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	err = down.insert(context.Background(), "x", &cols)
	if err == nil || classifyCH(err) != kindUnavailable {
		t.Fatalf("insert into a closed port: %v (kind %q), want unavailable", err, classifyCH(err))
	}
}

// TestPoisonMessagesGoToDLQ: poison messages land in the dead-letter topic with their key,
// value, reason and source offset, and the good messages around them in ClickHouse.
func TestPoisonMessagesGoToDLQ(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	conn := ch.Conn(t)
	migrate(t, conn, ch.Database)
	k := testenv.NewKafka(t)
	topic, dlq := k.Topic(t, 1), k.Topic(t, 1)

	bad := map[int][]byte{
		10: []byte(`not json`),
		11: []byte(`{"event_id":"nope","received_at":"2026-11-23 10:00:00","event_time":"2026-11-23 10:00:00"}`),
		25: []byte(`{"event_id":"0b6a3c1e-8d8f-4c1a-9d55-2f1a4c7e9b10","received_at":"2026-11-23 10:00:00"}`),
		39: []byte(`{"event_id":"0b6a3c1e-8d8f-4c1a-9d55-2f1a4c7e9b10","received_at":"2026-11-23 10:00:00","event_time":"2026-11-23 10:00:00","page":-3}`),
	}
	produce(t, k.Addr, topic, 0, 40, bad)

	cfg := testConfig(t, k.Addr, topic, dlq, ch.NativeAddr, ch.Database)
	cfg.BatchRows = 16 // several batches, one of them made only of poison at its end
	ing, _ := runNew(t, cfg)
	waitDone(t, conn, ch.Database, k.Addr, cfg.GroupID, topic, 1, 40, 36, time.Minute)

	if got := testutil.ToFloat64(ing.m.dlq.WithLabelValues("json")) + testutil.ToFloat64(ing.m.dlq.WithLabelValues("field")) +
		testutil.ToFloat64(ing.m.dlq.WithLabelValues("missing")); got != 4 {
		t.Errorf("ingest_dlq_messages_total = %v, want 4", got)
	}
	msgs, hs := deadLetters(t, k.Addr, dlq, len(bad))
	seen := map[int64]bool{}
	for i, m := range msgs {
		h := hs[i]
		off, err := strconv.ParseInt(h["source_offset"], 10, 64)
		if err != nil || h["source_partition"] != "0" || h["source_topic"] != topic || h["reason"] == "" {
			t.Fatalf("dead letter headers %v", h)
		}
		// One partition and no repeats: source offset i is message i.
		if string(m.Value) != string(bad[int(off)]) || string(m.Key) != fmt.Sprintf("v-%d", off%1000) {
			t.Fatalf("dead letter for offset %d: key %q value %q", off, m.Key, m.Value)
		}
		seen[off] = true
		t.Logf("dead letter offset %d: %s", off, h["reason"])
	}
	if len(seen) != len(bad) {
		t.Fatalf("dead letters for offsets %v, want one for each of %d", seen, len(bad))
	}
	// The good neighbours of each poison message are in the table.
	var n uint64
	q := fmt.Sprintf("SELECT count() FROM `%s`.events WHERE visitor_id IN ('v-9','v-12','v-24','v-26','v-38')", ch.Database)
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil || n != 5 {
		t.Fatalf("neighbours of the poison messages: %d rows (%v), want 5", n, err)
	}
}

// TestClickHouseOutage stops ClickHouse during consumption: the ingester keeps retrying
// with consumption paused and its buffered bytes bounded, and after ClickHouse returns
// every event is there exactly once.
func TestClickHouseOutage(t *testing.T) {
	srv := testenv.NewClickHouseServer(t)
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{srv.NativeAddr}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	db := "outage"
	migrate(t, conn, db)
	k := testenv.NewKafka(t)
	topic, dlq := k.Topic(t, 2), k.Topic(t, 1)
	const total = 30000

	cfg := testConfig(t, k.Addr, topic, dlq, srv.NativeAddr, db)
	cfg.BatchRows = 1000
	cfg.BatchBytes = 256 << 10
	cfg.Registerer = prometheus.NewRegistry()
	ing, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	produce(t, k.Addr, topic, 0, 10000, nil)
	runInProcess(t, ing)
	eventually(t, time.Minute, "first rows", func() (bool, string) {
		rows, _, err := rowCounts(t, conn, db)
		return rows >= 3000, fmt.Sprintf("rows %d, err %v", rows, err)
	})

	allowDown.Store(true)
	defer allowDown.Store(false)
	srv.Stop(t)
	produce(t, k.Addr, topic, 10000, total, nil)
	// Stay down until both partitions have failed repeatedly, watching the buffer.
	maxBuffered := 0.0
	eventually(t, time.Minute, "repeated insert failures while ClickHouse is down", func() (bool, string) {
		maxBuffered = max(maxBuffered, testutil.ToFloat64(ing.m.buffered))
		unavailable := testutil.ToFloat64(ing.m.insertErrors.WithLabelValues(kindUnavailable))
		return unavailable >= 10, fmt.Sprintf("unavailable errors %v", unavailable)
	})
	if bound := float64(2 * 2 * (cfg.BatchBytes + 8<<10)); maxBuffered > bound {
		t.Fatalf("buffered %v bytes while ClickHouse was down, want at most %v (2 partitions x 2 batches x batch bytes)", maxBuffered, bound)
	}
	if schemaErrs := testutil.ToFloat64(ing.m.insertErrors.WithLabelValues(kindSchema)); schemaErrs != 0 {
		t.Fatalf("an outage was reported as %v schema errors", schemaErrs)
	}
	sum, _ := committedSum(k.Addr, cfg.GroupID, topic, 2)
	t.Logf("ClickHouse down: committed %d/%d, buffered at most %v bytes", sum, total, maxBuffered)
	// The test events were received on 2026-11-23: read and not committed, they have waited days.
	if lag := maxWaited(t, ing); lag < 24*3600 {
		t.Fatalf("ingest_lag_seconds %v while ClickHouse is down with events waiting, want the age of the oldest waiting event", lag)
	}

	srv.Start(t)
	waitDone(t, conn, db, k.Addr, cfg.GroupID, topic, 2, total, total, 2*time.Minute)
	eventually(t, 30*time.Second, "ingest_lag_seconds back to 0", func() (bool, string) {
		lag := maxWaited(t, ing)
		return lag == 0, fmt.Sprintf("lag %v s", lag)
	})
}

// maxWaited returns the largest ingest_lag_seconds over the partitions ing owns, failing
// when it owns none.
func maxWaited(t *testing.T, ing *Ingester) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	ing.m.waited.Collect(ch)
	close(ch)
	n, lag := 0, 0.0
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		n++
		lag = max(lag, d.GetGauge().GetValue())
	}
	if n == 0 {
		t.Fatal("ingest_lag_seconds has no series: the ingester owns no partition")
	}
	return lag
}

// TestCommittedOffsetAfterAssignment gives a consumed topic to a new ingester with nothing
// new to read: ingest_committed_offset must show the offsets its predecessor committed
// (it read 0 after every rebalance until the partition's next commit).
func TestCommittedOffsetAfterAssignment(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	conn, db := ch.Conn(t), ch.Database
	migrate(t, conn, db)
	k := testenv.NewKafka(t)
	topic, dlq := k.Topic(t, 2), k.Topic(t, 1)
	const total = 3000
	produce(t, k.Addr, topic, 0, total, nil)

	cfg := testConfig(t, k.Addr, topic, dlq, ch.NativeAddr, db)
	first, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	waitDone(t, conn, db, k.Addr, cfg.GroupID, topic, 2, total, total, 2*time.Minute)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("first ingester: %v", err)
	}

	second, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runInProcess(t, second)
	eventually(t, time.Minute, "the committed offsets of both partitions", func() (bool, string) {
		n := testutil.CollectAndCount(second.m.committed)
		sum := testutil.ToFloat64(second.m.committed.WithLabelValues("0")) + testutil.ToFloat64(second.m.committed.WithLabelValues("1"))
		return n == 2 && sum == total, fmt.Sprintf("%d series, sum %v, want 2 series summing to %d", n, sum, total)
	})
}

// TestRebuildAfterCrashIsDeduplicated plays the crash the design is about: a previous
// owner inserted a batch (one ending at a natural boundary, one cut early and recorded)
// and died before committing. The next owner must rebuild the same ranges, so the server
// drops them, and the table holds every event once.
func TestRebuildAfterCrashIsDeduplicated(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	conn := ch.Conn(t)
	migrate(t, conn, ch.Database)
	k := testenv.NewKafka(t)
	topic, dlq := k.Topic(t, 1), k.Topic(t, 1)
	produce(t, k.Addr, topic, 0, 500, nil)
	crashedBeforeCommit(t, k.Addr, topic, dlq, ch.NativeAddr, ch.Database)
}

// TestDocViewerRowsFollowInserts: after the batches are inserted, the ingest refreshes the
// finished rows document-views reads (doc_viewer_rows), with nobody else refreshing them.
func TestDocViewerRowsFollowInserts(t *testing.T) {
	rt := newIngestTest(t, 2, 100*time.Millisecond)
	runInProcess(t, rt.ing)

	produce(t, rt.k.Addr, rt.topic, 0, 300, nil)
	eventually(t, time.Minute, "the viewer's row after 300 events", rt.viewerRow(300))
	produce(t, rt.k.Addr, rt.topic, 300, 450, nil)
	eventually(t, time.Minute, "the viewer's row after 450 events", rt.viewerRow(450))
	if n := testutil.CollectAndCount(rt.reg, "ingest_refresh_duration_seconds"); n != 1 {
		t.Fatalf("ingest_refresh_duration_seconds: %d series", n)
	}
	if got := testutil.ToFloat64(rt.ing.m.refreshErrors.WithLabelValues(kindSchema)); got != 0 {
		t.Fatalf("%v schema errors while refreshing", got)
	}
	// The delay counts from the inserts' starts, not from the start's 10-minute lookback.
	n, sum := histogram(t, rt.reg, "ingest_refresh_delay_seconds")
	if n == 0 || sum/float64(n) > 60 {
		t.Fatalf("ingest_refresh_delay_seconds: %d samples, sum %.1f s", n, sum)
	}
}

// TestCompactsRollups: while batches keep coming, the ingest merges the small rollups the
// saved queries read whole back into one part.
func TestCompactsRollups(t *testing.T) {
	rt := newIngestTest(t, 1, time.Second, func(c *Config) { c.CompactInterval = 100 * time.Millisecond })
	// Only the compactions merge: ClickHouse's merges would make the test pass without them.
	for _, tb := range schema.CompactTables {
		if err := rt.conn.Exec(context.Background(), fmt.Sprintf("ALTER TABLE `%s`.%s MODIFY SETTING max_bytes_to_merge_at_max_space_in_pool = 1", rt.ch.Database, tb)); err != nil {
			t.Fatal(err)
		}
	}
	runInProcess(t, rt.ing)
	parts := func() (bool, string) {
		var n uint64
		err := rt.conn.QueryRow(context.Background(), "SELECT count() FROM system.parts WHERE database = ? AND table = 'content_partner_blocks' AND active", rt.ch.Database).Scan(&n)
		return err == nil && n == 1, fmt.Sprintf("%d parts (err %v)", n, err)
	}
	for i := range 3 {
		produce(t, rt.k.Addr, rt.topic, i*100, (i+1)*100, nil)
		waitDone(t, rt.conn, rt.ch.Database, rt.k.Addr, rt.cfg.GroupID, rt.topic, 1, int64(i+1)*100, uint64(i+1)*100, time.Minute)
		eventually(t, time.Minute, fmt.Sprintf("content_partner_blocks in one part after batch %d", i+1), parts)
	}
	if n := testutil.CollectAndCount(rt.reg, "ingest_compact_duration_seconds"); n == 0 {
		t.Fatal("ingest_compact_duration_seconds: no series")
	}
	for _, k := range []string{kindSchema, kindUnavailable, kindServer} {
		if got := testutil.ToFloat64(rt.ing.m.compactErrors.WithLabelValues(k)); got != 0 {
			t.Fatalf("%v %s errors while compacting", got, k)
		}
	}
}

// histogram returns the sample count and sum of a histogram without labels in reg.
func histogram(t *testing.T, reg *prometheus.Registry, name string) (uint64, float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0, 0
}

// viewerRow checks the finished row of the test events' viewer: every test event is a page
// event of person u-9 on doc-1 with 5400 ms of dwell, each with its own id, so the row must
// count each of want events once, whichever batch it came in; want 0 means no row.
func (rt *ingestTest) viewerRow(want int) func() (bool, string) {
	return func() (bool, string) {
		var dwell, rows uint64
		err := rt.conn.QueryRow(context.Background(), fmt.Sprintf(
			"SELECT sum(total_dwell_ms), count() FROM `%s`.doc_viewer_rows FINAL WHERE tenant = 'acme' AND content_id = 'doc-1' AND viewer = 'u:u-9'",
			rt.ch.Database)).Scan(&dwell, &rows)
		wantRows := uint64(min(want, 1))
		return err == nil && rows == wantRows && dwell == uint64(want)*5400,
			fmt.Sprintf("%d rows, dwell %d ms (err %v), want %d row(s) and %d ms", rows, dwell, err, wantRows, want*5400)
	}
}

// TestRefreshOnTheWayOut: batches inserted but not yet refreshed when the ingester stops
// get their viewers' rows refreshed before Run returns.
func TestRefreshOnTheWayOut(t *testing.T) {
	rt := newIngestTest(t, 1, time.Hour) // after the start's refresh, none until the way out
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- rt.ing.Run(ctx) }()
	refreshes := func() uint64 {
		n, _ := histogram(t, rt.reg, "ingest_refresh_duration_seconds")
		return n
	}
	eventually(t, time.Minute, "the refresh at the start", func() (bool, string) {
		n := refreshes()
		return n == 1, fmt.Sprintf("%d refreshes", n)
	})
	produce(t, rt.k.Addr, rt.topic, 0, 120, nil)
	waitDone(t, rt.conn, rt.ch.Database, rt.k.Addr, rt.cfg.GroupID, rt.topic, 1, 120, 120, time.Minute)
	if ok, state := rt.viewerRow(0)(); !ok {
		t.Fatalf("a refresh ran before the way out: %s", state)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return within a minute of cancellation")
	}
	if ok, state := rt.viewerRow(120)(); !ok {
		t.Fatalf("after Run returned: %s", state)
	}
	if n := refreshes(); n != 2 {
		t.Fatalf("%d refreshes, want 2 (the start's and the way out's)", n)
	}
}

// ingestTest is a migrated database, a topic and an ingester (not started) with its own
// metrics registry, the given refresh interval and whatever else set changes.
type ingestTest struct {
	ch    *testenv.ClickHouse
	conn  driver.Conn
	k     *testenv.Kafka
	topic string
	cfg   Config
	reg   *prometheus.Registry
	ing   *Ingester
}

func newIngestTest(t *testing.T, partitions int32, interval time.Duration, set ...func(*Config)) *ingestTest {
	rt := &ingestTest{ch: testenv.NewClickHouse(t), k: testenv.NewKafka(t), reg: prometheus.NewRegistry()}
	rt.conn = rt.ch.Conn(t)
	migrate(t, rt.conn, rt.ch.Database)
	rt.topic = rt.k.Topic(t, partitions)
	rt.cfg = testConfig(t, rt.k.Addr, rt.topic, rt.k.Topic(t, 1), rt.ch.NativeAddr, rt.ch.Database)
	rt.cfg.Registerer = rt.reg
	rt.cfg.RefreshInterval = interval
	for _, f := range set {
		f(&rt.cfg)
	}
	ing, err := New(rt.cfg)
	if err != nil {
		t.Fatal(err)
	}
	rt.ing = ing
	return rt
}
