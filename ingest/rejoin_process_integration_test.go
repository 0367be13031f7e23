package ingest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/testenv"
)

// TestRepeatedKillsLeaveNoPartitionUnconsumed is issue 21's scenario: an ingester process
// SIGKILLed five times, 3 s apart, while events arrive, then one more started. On the local
// broker the kills can leave a member behind that holds partitions and never expires
// (README "Group membership and the watchdog"); the last ingester's watchdog must get every
// partition consumed, and every event stored exactly once. The state is reached by chance
// (in two runs with the watchdog off it was not); TestWatchdogRejoinsPastAGhostMember
// makes it on purpose.
func TestRepeatedKillsLeaveNoPartitionUnconsumed(t *testing.T) {
	bin := testenv.BuildBeacon(t)
	srv := testenv.NewClickHouseServer(t)
	conn := srv.Open(t, "default")
	ch := struct{ NativeAddr, Database string }{srv.NativeAddr, "ingest_kills"}
	migrate(t, conn, ch.Database)
	restartOnAbort(t, srv)
	k := testenv.NewKafka(t)
	const partitions, total = 6, 60000
	topic, dlq := k.Topic(t, partitions), k.Topic(t, 1)
	group := "g-" + topic
	args := append(processArgs(k.Addr, topic, dlq, group, ch.NativeAddr, ch.Database), "-ingest.watchdogInterval=2s")

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); produce(t, k.Addr, topic, 0, total, nil) }()
	defer wg.Wait()
	for i := range 5 {
		p := startIngest(t, bin, fmt.Sprintf("ingest-%d", i), args...)
		time.Sleep(3 * time.Second) // the fault schedule: a kill every 3 s, whatever the state
		p.Kill()
	}
	last := startIngest(t, bin, "ingest-last", args...)
	eventually(t, time.Minute, "the last ingester to own partitions", func() (bool, string) {
		return last.hasPartitions(), "no assignment logged yet"
	})
	t.Logf("group after the kills: %v", groupAssignment(t, k.Addr, group, topic))
	wg.Wait()
	waitDone(t, conn, ch.Database, k.Addr, group, topic, partitions, total, total, 3*time.Minute)
	t.Logf("group at the end: %v", groupAssignment(t, k.Addr, group, topic))
}
