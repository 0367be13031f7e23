package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/beaconprm/beacon/ingest/internal/testmsg"
	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/beaconprm/beacon/schema"
)

// TestIngestIntoCluster: the ingest reads a topic of a 3-broker Kafka and writes into a 2x2
// ClickHouse cluster through the cluster flavor's Distributed tables, with the same
// offset-range dedup tokens as on one node. The partitions' leaders move between brokers
// and a replica is killed while the events go in; nothing is missed: once it is back,
// every replica of each shard holds each of its events once, and the raw table read
// through the cluster holds every event once.
func TestIngestIntoCluster(t *testing.T) {
	c := testenv.NewClickHouseCluster(t, 2, 2)
	ctx := context.Background()
	const db = "beacon"
	nodes := migrateCluster(t, c, db)
	k := testenv.NewKafkaCluster(t, 3)
	const partitions = 6
	topic, dlq := k.Topic(t, partitions), k.Topic(t, 1)
	// kfake places new partitions' leaders at random: spread them over the three brokers.
	for p := int32(0); p < partitions; p++ {
		if err := k.Cluster().MoveTopicPartition(topic, p, p%3); err != nil {
			t.Fatal(err)
		}
	}
	leaders := map[int]bool{}
	kc, err := kafka.DialContext(ctx, "tcp", k.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := kc.ReadPartitions(topic)
	kc.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		leaders[p.Leader.ID] = true
	}
	if len(ps) != partitions || len(leaders) != 3 {
		t.Fatalf("%d partitions led by %d brokers, want %d led by 3", len(ps), len(leaders), partitions)
	}
	entry := nodes[0] // shard 1, replica 1: the ingest's server
	cfg := testConfig(t, k.Addr, topic, dlq, entry.Addr, db)
	ing, reg := runNew(t, cfg)

	const total = 6000
	produce(t, k.Addr, topic, 0, total/3, people(0, total/3))
	victim := c.Node(1, 1)
	eventually(t, time.Minute, "the first events in the cluster", func() (bool, string) {
		rows, _, err := rowCounts(t, entry.Conn, db)
		return err == nil && rows > 0, fmt.Sprintf("rows %d (err %v)", rows, err)
	})
	victim.Kill(t)
	k.Cluster().ShufflePartitionLeaders() // a leader election on every partition
	produce(t, k.Addr, topic, total/3, 2*total/3, people(total/3, 2*total/3))
	k.Cluster().ShufflePartitionLeaders()
	produce(t, k.Addr, topic, 2*total/3, total, people(2*total/3, total))
	// Everything committed and readable through the cluster while the replica is down:
	// the Distributed table reads the other replica of its shard.
	eventually(t, 2*time.Minute, "every event committed and in the cluster", func() (bool, string) {
		sum, err := committedSum(k.Addr, cfg.GroupID, topic, partitions)
		rows, ids, cerr := rowCounts(t, entry.Conn, db)
		return err == nil && sum == total && rows == total && ids == total,
			fmt.Sprintf("committed %d/%d (err %v), rows %d, ids %d (err %v)", sum, total, err, rows, ids, cerr)
	})

	// The finished rows were refreshed after the batches, through the cluster, without an
	// error.
	if n, _ := histogram(t, reg, "ingest_refresh_duration_seconds"); n == 0 {
		t.Fatal("no refresh of the finished rows")
	}
	for _, k := range []string{kindSchema, kindServer} {
		if got := testutil.ToFloat64(ing.m.refreshErrors.WithLabelValues(k)); got != 0 {
			t.Fatalf("%v refresh errors of kind %s", got, k)
		}
	}

	victim.Start(t)
	local := func(n schema.Node) (rows, ids uint64, err error) {
		err = n.Conn.QueryRow(ctx, "SELECT count(), uniqExact(event_id) FROM "+db+".events_local").Scan(&rows, &ids)
		return rows, ids, err
	}
	eventually(t, 2*time.Minute, "every replica holds its shard's events once", func() (bool, string) {
		var state []string
		ok := true
		var shards uint64
		for s := 0; s < c.Shards; s++ {
			var first uint64
			for r := 0; r < c.Replicas; r++ {
				rows, ids, err := local(nodes[s*c.Replicas+r])
				state = append(state, fmt.Sprintf("shard %d replica %d: %d rows, %d ids (err %v)", s+1, r+1, rows, ids, err))
				if err != nil || rows != ids || (r > 0 && rows != first) {
					ok = false
				}
				if r == 0 {
					first = rows
					ok = ok && rows > 0 // both shards hold events
				}
			}
			shards += first
		}
		return ok && shards == total, strings.Join(state, "; ") + fmt.Sprintf("; shards sum %d of %d", shards, total)
	})
	// The answers: every saved query read with shard 2 served by the replica that was
	// killed (its sibling down), then by its sibling (it down), the same.
	answers := func() map[string]string {
		out := map[string]string{}
		qs, err := schema.SavedQueries()
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			params := map[string]string{"tenant": "acme"}
			for _, p := range q.Params {
				switch p.Name {
				case "content":
					params["content"] = "doc-1"
				case "person":
					params["person"] = "u-9"
				case "since":
					params["since"] = "2026-11-01 00:00:00"
				}
			}
			if q.Name == "partner-deals" {
				params["partner"] = "p-7"
			}
			res, err := q.Run(ctx, entry.Conn, db, params)
			if err != nil {
				t.Fatalf("%s %v: %v", q.Name, params, err)
			}
			var b strings.Builder
			if err := res.Write(&b, "json"); err != nil {
				t.Fatal(err)
			}
			out[q.Name] = b.String()
		}
		return out
	}
	sibling := c.Node(1, 0)
	sibling.Kill(t)
	fromVictim := answers()
	sibling.Start(t)
	victim.Kill(t)
	fromSibling := answers()
	victim.Start(t)
	if !strings.Contains(fromVictim["document-views"], "u-9") || !strings.Contains(fromVictim["tenant-activity"], `"events":6000,`) {
		t.Fatalf("the answers miss events: document-views %s, tenant-activity %s", fromVictim["document-views"], fromVictim["tenant-activity"])
	}
	for name, want := range fromSibling {
		if got := fromVictim[name]; got != want {
			t.Errorf("%s: read from the replica that was down:\n%.600s\nfrom its sibling:\n%.600s", name, got, want)
		}
	}

	// No event is in two shards: the shards' distinct ids add up to the whole.
	var ids uint64
	if err := entry.Conn.QueryRow(ctx, "SELECT uniqExact(event_id) FROM "+db+".events").Scan(&ids); err != nil || ids != total {
		t.Fatalf("distinct events through the cluster: %d (err %v), want %d", ids, err, total)
	}
}

// people gives events from..to-1 fifty people (u-0..u-49, event i is person i%50's), so that
// the cluster's events, sharded by person, land on both shards.
func people(from, to int) map[int][]byte {
	m := make(map[int][]byte, to-from)
	for i := from; i < to; i++ {
		m[i] = bytes.Replace(testmsg.Event(i), []byte(`"partner_user_id":"u-9"`), fmt.Appendf(nil, `"partner_user_id":"u-%d"`, i%50), 1)
	}
	return m
}

// TestClusterIngestRate measures, when asked, the ingest's rows/s into one server and into
// the 2x2 cluster (through its Distributed tables) in the same run: the same events of 50
// people from a 6-partition topic, the ingest in-process with its default batch size, from
// its start until every event is committed and readable. It is a measurement, not a check:
//
//	BEACON_CLUSTER_RATE_ROWS=200000 go test ./ingest -run TestClusterIngestRate -v -timeout 30m
//
// Every server, the broker and the ingest share the machine's cores.
func TestClusterIngestRate(t *testing.T) {
	rows, _ := strconv.Atoi(os.Getenv("BEACON_CLUSTER_RATE_ROWS"))
	if rows <= 0 {
		t.Skip("set BEACON_CLUSTER_RATE_ROWS to measure")
	}
	k := testenv.NewKafkaCluster(t, 3)
	const partitions = 6
	topic := k.Topic(t, partitions)
	for from := 0; from < rows; from += 20000 {
		produce(t, k.Addr, topic, from, min(rows, from+20000), people(from, min(rows, from+20000)))
	}
	rate := func(name, addr, db string, conn driver.Conn) {
		cfg := testConfig(t, k.Addr, topic, k.Topic(t, 1), addr, db)
		cfg.GroupID = "rate-" + name
		cfg.BatchRows = DefaultBatchRows
		cfg.Registerer = prometheus.NewRegistry()
		ing, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		runInProcess(t, ing)
		eventually(t, 20*time.Minute, name+": every event committed and readable", func() (bool, string) {
			sum, err := committedSum(k.Addr, cfg.GroupID, topic, partitions)
			n, _, cerr := rowCounts(t, conn, db)
			return err == nil && sum == int64(rows) && n == uint64(rows), fmt.Sprintf("committed %d, rows %d (errors %v, %v)", sum, n, err, cerr)
		})
		d := time.Since(start)
		t.Logf("%s: %d events in %s: %.0f rows/s", name, rows, d.Round(time.Millisecond), float64(rows)/d.Seconds())
	}
	single := testenv.NewClickHouse(t)
	migrate(t, single.Conn(t), single.Database)
	rate("one server", single.NativeAddr, single.Database, single.Conn(t))

	c := testenv.NewClickHouseCluster(t, 2, 2)
	nodes := migrateCluster(t, c, "beacon")
	rate("2x2 cluster", nodes[0].Addr, "beacon", nodes[0].Conn)
}

// migrateCluster applies the cluster flavor (plain engines: the Distributed tables
// replicate) to every node of c, database db, and returns the nodes with a connection each.
func migrateCluster(t *testing.T, c *testenv.ClickHouseCluster, db string) []schema.Node {
	t.Helper()
	var nodes []schema.Node
	for _, n := range c.Nodes {
		nodes = append(nodes, schema.Node{Addr: n.NativeAddr, Conn: n.Open(t, "default")})
	}
	if _, err := schema.MigrateNodes(context.Background(), nodes, schema.Options{Database: db, Cluster: c.Name, PlainEngines: true}); err != nil {
		t.Fatal(err)
	}
	return nodes
}
