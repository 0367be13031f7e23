package ingest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/testenv"
)

// processArgs are the `beacon ingest` flags for a test topic and database.
func processArgs(kafkaAddr, topic, dlq, group, chAddr, db string) []string {
	return []string{
		"-ingest.brokers=" + kafkaAddr,
		"-ingest.topic=" + topic,
		"-ingest.dlqTopic=" + dlq,
		"-ingest.group=" + group,
		"-ingest.clickhouse.addr=" + chAddr,
		"-ingest.clickhouse.database=" + db,
		"-ingest.metricsAddr=",
		"-ingest.batchRows=3000",
		"-ingest.flushInterval=200ms",
		"-ingest.sessionTimeout=6s",
		"-ingest.retryMax=1s",
	}
}

// TestSIGKILLTwice: 100,000 events, the ingester killed with SIGKILL twice mid-stream and
// restarted; the raw table then holds exactly 100,000 rows.
func TestSIGKILLTwice(t *testing.T) {
	bin := testenv.BuildBeacon(t)
	srv := testenv.NewClickHouseServer(t)
	conn := srv.Open(t, "default")
	ch := struct{ NativeAddr, Database string }{srv.NativeAddr, "ingest_proc"}
	migrate(t, conn, ch.Database)
	restartOnAbort(t, srv)
	k := testenv.NewKafka(t)
	const partitions, total = 4, 100000
	topic, dlq := k.Topic(t, partitions), k.Topic(t, 1)
	group := "g-" + topic
	args := processArgs(k.Addr, topic, dlq, group, ch.NativeAddr, ch.Database)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); produce(t, k.Addr, topic, 0, total, nil) }()
	defer wg.Wait()

	for run, killAt := range []uint64{15000, 50000} {
		p := startIngest(t, bin, fmt.Sprintf("ingest-%d", run), args...)
		eventually(t, 2*time.Minute, fmt.Sprintf("run %d to reach %d rows", run, killAt), func() (bool, string) {
			rows, _, err := rowCounts(t, conn, ch.Database)
			if p.Exited() {
				t.Fatalf("ingester exited early: %v", p.Err())
			}
			return rows >= killAt, fmt.Sprintf("rows %d, err %v", rows, err)
		})
		p.Kill()
		rows, ids, _ := rowCounts(t, conn, ch.Database)
		sum, _ := committedSum(k.Addr, group, topic, partitions)
		t.Logf("SIGKILL %d: rows %d, ids %d, committed %d", run+1, rows, ids, sum)
	}
	startIngest(t, bin, "ingest-final", args...)
	wg.Wait()
	waitDone(t, conn, ch.Database, k.Addr, group, topic, partitions, total, total, 3*time.Minute)
}

// TestTwoIngestersOneLeaves: two ingesters share the partitions, one leaves mid-stream,
// the other takes over its partitions; every event is stored exactly once.
func TestTwoIngestersOneLeaves(t *testing.T) {
	bin := testenv.BuildBeacon(t)
	srv := testenv.NewClickHouseServer(t)
	conn := srv.Open(t, "default")
	ch := struct{ NativeAddr, Database string }{srv.NativeAddr, "ingest_proc"}
	migrate(t, conn, ch.Database)
	restartOnAbort(t, srv)
	k := testenv.NewKafka(t)
	const partitions, total = 4, 60000
	topic, dlq := k.Topic(t, partitions), k.Topic(t, 1)
	group := "g-" + topic
	args := processArgs(k.Addr, topic, dlq, group, ch.NativeAddr, ch.Database)

	a := startIngest(t, bin, "ingest-a", args...)
	b := startIngest(t, bin, "ingest-b", args...)
	eventually(t, time.Minute, "both ingesters to own partitions", func() (bool, string) {
		return a.hasPartitions() && b.hasPartitions(), fmt.Sprintf("a %v, b %v", a.hasPartitions(), b.hasPartitions())
	})

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); produce(t, k.Addr, topic, 0, total, nil) }()
	defer wg.Wait()
	eventually(t, 2*time.Minute, "a third of the events", func() (bool, string) {
		rows, _, err := rowCounts(t, conn, ch.Database)
		return rows >= total/3, fmt.Sprintf("rows %d, err %v", rows, err)
	})
	b.stop()
	rows, _, _ := rowCounts(t, conn, ch.Database)
	t.Logf("ingest-b left at %d rows", rows)
	wg.Wait()
	waitDone(t, conn, ch.Database, k.Addr, group, topic, partitions, total, total, 3*time.Minute)
	if a.Exited() {
		t.Fatalf("ingest-a exited: %v", a.Err())
	}
}
