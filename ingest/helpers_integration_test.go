package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/beaconprm/beacon/ingest/internal/testmsg"
	"github.com/beaconprm/beacon/internal/chlocal"
	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/beaconprm/beacon/schema"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// migrate creates the raw table and its rollups in db, as `beacon migrate up` does.
func migrate(t testing.TB, conn driver.Conn, db string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := schema.Migrate(ctx, conn, schema.Options{Database: db}); err != nil {
		t.Fatalf("migrate %s: %v", db, err)
	}
}

// produce writes events from..to-1 (testmsg.Event ids) to topic; bad maps an index to a
// poison payload instead of the event.
func produce(t *testing.T, addr, topic string, from, to int, bad map[int][]byte) {
	t.Helper()
	w := &kafka.Writer{
		Addr:         kafka.TCP(addr),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchSize:    1000,
		BatchBytes:   4 << 20,
		BatchTimeout: 2 * time.Millisecond,
		// Not the shared DefaultTransport: its metadata cache does not know the topic
		// this test has just created.
		Transport: &kafka.Transport{},
	}
	defer w.Close()
	const chunk = 2000
	msgs := make([]kafka.Message, 0, chunk)
	for i := from; i < to; i++ {
		v := testmsg.Event(i)
		if p, ok := bad[i]; ok {
			v = p
		}
		msgs = append(msgs, kafka.Message{Key: fmt.Appendf(nil, "v-%d", i%1000), Value: v})
		if len(msgs) == chunk || i == to-1 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := w.WriteMessages(ctx, msgs...)
			cancel()
			if err != nil {
				t.Errorf("produce to %s: %v", topic, err)
				return
			}
			msgs = msgs[:0]
		}
	}
}

// rowCounts returns count() and uniqExact(event_id) of the raw table. A server that
// refuses connections fails the test at once: waiting for it would only hide why.
func rowCounts(t *testing.T, conn driver.Conn, db string) (rows, ids uint64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = conn.QueryRow(ctx, fmt.Sprintf("SELECT count(), uniqExact(event_id) FROM `%s`.events", db)).Scan(&rows, &ids)
	if errors.Is(err, syscall.ECONNREFUSED) {
		switch {
		case restartCH != nil:
			restartCH()
		case !allowDown.Load():
			t.Fatalf("the ClickHouse test server is gone (connection refused): %v", err)
		}
	}
	return rows, ids, err
}

var (
	// allowDown is set while a test has stopped ClickHouse on purpose.
	allowDown atomic.Bool
	// restartCH, when set, brings a dedicated server back after it died.
	restartCH func()
)

// restartOnAbort makes rowCounts restart srv when it is found dead. The local chdb
// engine now and then aborts (SIGABRT, exit status 134, nothing in its log) when a native
// client is SIGKILLed in the middle of an insert; a real server does not. Restarting it
// keeps the data and dedup logs, so the exactness checks stay as strict.
func restartOnAbort(t *testing.T, srv *testenv.ClickHouseServer) {
	restarts := 0
	restartCH = func() {
		restarts++
		t.Logf("ClickHouse server gone (chdb engine abort); restarting it (%d)", restarts)
		srv.Start(t)
	}
	t.Cleanup(func() { restartCH = nil })
}

// committedSum adds the group's committed offsets over the topic's partitions; with
// offsets starting at 0 it equals the number of messages the group has finished.
func committedSum(addr, group, topic string, partitions int) (int64, error) {
	ids := make([]int, partitions)
	for i := range ids {
		ids[i] = i
	}
	c := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ids}})
	if err != nil {
		return 0, err
	}
	if res.Error != nil {
		return 0, res.Error
	}
	var sum int64
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return 0, p.Error
		}
		sum += max(p.CommittedOffset, 0)
	}
	return sum, nil
}

// eventually polls cond until it holds or the deadline passes; cond describes the state
// it saw so a timeout says what was missing.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last state: %s", timeout, what, last)
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not synchronization
	}
}

// waitDone waits until the group committed every one of total messages, then checks
// that the raw table holds exactly want rows with want distinct ids.
func waitDone(t *testing.T, conn driver.Conn, db, kafkaAddr, group, topic string, partitions int, total int64, want uint64, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, "every message committed", func() (bool, string) {
		sum, err := committedSum(kafkaAddr, group, topic, partitions)
		rows, ids, cerr := rowCounts(t, conn, db)
		return err == nil && sum == total, fmt.Sprintf("committed %d/%d (err %v), rows %d, ids %d (err %v)", sum, total, err, rows, ids, cerr)
	})
	rows, ids, err := rowCounts(t, conn, db)
	if err != nil {
		t.Fatal(err)
	}
	if rows != want || ids != want {
		explainDuplicates(t, conn, db)
		t.Fatalf("raw table holds %d rows with %d distinct ids, want exactly %d of each", rows, ids, want)
	}
}

// testConfig is an in-process ingester's config for a test topic.
func testConfig(t *testing.T, kafkaAddr, topic, dlq, chAddr, db string) Config {
	return Config{
		Brokers:         []string{kafkaAddr},
		Topic:           topic,
		GroupID:         "g-" + topic,
		DLQTopic:        dlq,
		ClickHouseAddrs: []string{chAddr},
		Database:        db,
		BatchRows:       2000,
		FlushInterval:   200 * time.Millisecond,
		SessionTimeout:  6 * time.Second,
		RetryMin:        50 * time.Millisecond,
		RetryMax:        time.Second,
		Logger:          slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
}

// runNew makes an in-process ingester from cfg, with a metrics registry of its own, and
// runs it until cleanup (runInProcess).
func runNew(t *testing.T, cfg Config) (*Ingester, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	ing, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runInProcess(t, ing)
	return ing, reg
}

// runInProcess starts ing.Run and stops it at cleanup, failing if Run returned an error.
func runInProcess(t *testing.T, ing *Ingester) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ing.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Run did not return within 30s of cancellation")
		}
	})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// ingestProc is a `beacon ingest` child process (Exited, Err, Kill from chlocal.Child).
type ingestProc struct {
	*chlocal.Child
	t    *testing.T
	name string
	log  string
}

func startIngest(t *testing.T, bin, name string, args ...string) *ingestProc {
	t.Helper()
	dir := t.TempDir()
	if d := os.Getenv("BEACON_TEST_KEEP_LOGS"); d != "" {
		dir = d
	}
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"ingest"}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	child, err := chlocal.StartChild(cmd, func() { f.Close() })
	if err != nil {
		f.Close()
		t.Fatal(err)
	}
	p := &ingestProc{Child: child, t: t, name: name, log: logPath}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			lines := strings.Split(string(b), "\n")
			t.Logf("--- %s log (last 40 lines) ---\n%s", name, strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
	return p
}

func (p *ingestProc) stop() {
	if err := p.Stop(30 * time.Second); err != nil {
		p.t.Errorf("%s: %v", p.name, err)
	}
}

var assignedRE = regexp.MustCompile(`partitions assigned.*partitions="?\[\d`)

// hasPartitions says whether the process logged a non-empty assignment.
func (p *ingestProc) hasPartitions() bool {
	b, _ := os.ReadFile(p.log)
	return assignedRE.Match(b)
}

// explainDuplicates logs, for a failed exactness check, how the duplicated rows are
// spread over the table's parts, and the recorded batch cuts.
func explainDuplicates(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := conn.Query(ctx, fmt.Sprintf(`
		WITH d AS (SELECT event_id FROM `+"`%[1]s`"+`.events GROUP BY event_id HAVING count() > 1)
		SELECT _part, count(), countIf(event_id IN d) FROM `+"`%[1]s`"+`.events GROUP BY _part ORDER BY _part`, db))
	if err != nil {
		t.Logf("parts: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var part string
		var n, dups uint64
		if err := rows.Scan(&part, &n, &dups); err != nil {
			t.Logf("scan: %v", err)
			return
		}
		t.Logf("part %s: %d rows, %d of them duplicated", part, n, dups)
	}
	var cuts []string
	crows, err := conn.Query(ctx, fmt.Sprintf("SELECT format('p{} {}-{}', toString(partition), toString(start_offset), toString(end_offset)) FROM `%s`.ingest_cuts ORDER BY partition, start_offset", db))
	if err != nil {
		t.Logf("cuts: %v", err)
		return
	}
	defer crows.Close()
	for crows.Next() {
		var c string
		if err := crows.Scan(&c); err != nil {
			t.Logf("scan: %v", err)
			return
		}
		cuts = append(cuts, c)
	}
	t.Logf("recorded cuts: %v", cuts)
}

// deadLetters reads n messages from partition 0 of the dead-letter topic dlq, each within
// 20 s, with their headers by key.
func deadLetters(t *testing.T, addr, dlq string, n int) ([]kafka.Message, []map[string]string) {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: dlq, Partition: 0, MaxWait: 500 * time.Millisecond})
	defer r.Close()
	var msgs []kafka.Message
	var hs []map[string]string
	for len(msgs) < n {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		m, err := r.ReadMessage(ctx)
		cancel()
		if err != nil {
			t.Fatalf("reading the dead-letter topic after %d messages: %v", len(msgs), err)
		}
		h := map[string]string{}
		for _, x := range m.Headers {
			h[x.Key] = string(x.Value)
		}
		msgs, hs = append(msgs, m), append(hs, h)
	}
	return msgs, hs
}
