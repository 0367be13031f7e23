package schema

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/beaconprm/beacon/internal/testenv"
)

// clusterNodes opens every node of c as a migration target.
func clusterNodes(t *testing.T, c *testenv.ClickHouseCluster) []Node {
	var nodes []Node
	for _, n := range c.Nodes {
		nodes = append(nodes, Node{Addr: n.NativeAddr, Conn: n.Open(t, "default")})
	}
	return nodes
}

// versionsOn counts the distinct migrations node n recorded.
func versionsOn(t *testing.T, n Node, db string) uint64 {
	t.Helper()
	var v uint64
	if err := n.Conn.QueryRow(context.Background(), "SELECT uniqExact(version) FROM "+db+".schema_migrations").Scan(&v); err != nil {
		t.Fatalf("node %s: %v", n.Addr, err)
	}
	return v
}

// The cluster flavor applied node by node to a 2x2 cluster: a node down stops the run
// before anything happens, naming the node; then every migration (including 0012's
// refreshable view and 0013's backfill) applies, every node records every migration, a
// re-run applies nothing, and a record missing on one node is restored without re-running.
func TestMigrateNodes(t *testing.T) {
	c := testenv.NewClickHouseCluster(t, 2, 2)
	nodes := clusterNodes(t, c)
	ctx := context.Background()
	o := Options{Database: "beacon", Cluster: c.Name, PlainEngines: true}

	down := c.Node(1, 1)
	down.Kill(t)
	_, err := MigrateNodes(ctx, nodes, o)
	if err == nil || !strings.Contains(err.Error(), down.NativeAddr) {
		t.Fatalf("MigrateNodes with node %s down: err = %v, want an error naming it", down.NativeAddr, err)
	}
	var dbs uint64
	if err := nodes[0].Conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = 'beacon'").Scan(&dbs); err != nil || dbs != 0 {
		t.Fatalf("after the failed run node %s has %d beacon databases (err %v), want none", nodes[0].Addr, dbs, err)
	}
	down.Start(t)

	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	done, err := MigrateNodes(ctx, nodes, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != len(ms) {
		t.Fatalf("applied %d migrations, want %d", len(done), len(ms))
	}
	for _, n := range nodes {
		if v := versionsOn(t, n, "beacon"); v != uint64(len(ms)) {
			t.Fatalf("node %s recorded %d migrations, want %d", n.Addr, v, len(ms))
		}
	}
	if done, err = MigrateNodes(ctx, nodes, o); err != nil || len(done) != 0 {
		t.Fatalf("re-run applied %v (err %v), want nothing", done, err)
	}

	// A run stopped while recording: the last migration is recorded on one node only.
	last := ms[len(ms)-1].Version
	for _, n := range nodes[1:] {
		if err := n.Conn.Exec(ctx, "DELETE FROM beacon.schema_migrations WHERE version = ?", last); err != nil {
			t.Fatal(err)
		}
	}
	if v := versionsOn(t, nodes[3], "beacon"); v != uint64(len(ms)-1) {
		t.Fatalf("node %s has %d records after the delete, want %d", nodes[3].Addr, v, len(ms)-1)
	}
	if done, err = MigrateNodes(ctx, nodes, o); err != nil || len(done) != 0 {
		t.Fatalf("repairing run applied %v (err %v), want nothing", done, err)
	}
	for _, n := range nodes {
		if v := versionsOn(t, n, "beacon"); v != uint64(len(ms)) {
			t.Fatalf("after the repair node %s recorded %d migrations, want %d", n.Addr, v, len(ms))
		}
	}
}

// clusterCases are the parameters each saved query runs with in TestClusterSavedQueries,
// over the golden and additions datasets (tenant acme), and the stitched additions
// (tenant sx, stitch_additions_test.go).
var clusterCases = map[string][]map[string]string{
	"campaign-ranking":    {{}, {"use": "any"}, {"campaign": "camp1", "from": "2026-03-02", "to": "2026-03-02"}},
	"contact-timeline":    {{"person": "u1", "limit": "100000"}, {"partner": "p2", "limit": "100000"}, {"tenant": "sx", "person": "ann"}, {"tenant": "sx", "partner": "pB"}},
	"content-outcomes":    {{}, {"to": "2026-03-03"}},
	"content-reach":       {{"content": "doc1"}, {"campaign": "camp1"}},
	"content-use":         {{}, {"kind": "document"}},
	"content-versions":    {{}, {"tenant": "sx"}},
	"directory":           {{}},
	"document-views":      {{"content": "doc1"}, {"content": "doc1", "partner": "p1"}},
	"partner-activity":    {{"to": "2026-03-07"}, {"to": "2026-03-07", "partner": "p1"}},
	"partner-deals":       {{"partner": "p1"}, {"partner": "p2"}},
	"person-opens":        {{"person": "u1", "content": "doc1", "since": "2026-03-01 00:00:00"}},
	"search-gaps":         {{}, {"only": "zero"}, {"tenant": "sx"}, {"tenant": "sx", "partner": "pA"}},
	"tenant-activity":     {{}},
	"training-completion": {{}, {"partner": "p2", "course": "course1"}},
	"training-scores":     {{}, {"tenant": "sx"}},
	"video-retention":     {{"content": "vid1"}},
	"video-viewers":       {{"content": "vid1"}},
	"viewer-seconds":      {{"content": "vid1", "person": "u1"}, {"content": "vid1", "viewer": "v:a1"}},
}

// clusterKnownDifferent are the saved queries whose cluster answer is known to differ from
// the single node's, with why. The test skips them while they differ and fails once they
// agree, so that the list stays true.
var clusterKnownDifferent = map[string]string{}

// The same events, loaded into one node and, through the Distributed tables, into a 2x2
// cluster migrated node by node, give the same answer to every saved query.
func TestClusterSavedQueries(t *testing.T) {
	c := testenv.NewClickHouseCluster(t, 2, 2)
	ctx := context.Background()
	o := Options{Database: "beacon", Cluster: c.Name, PlainEngines: true}
	if _, err := MigrateNodes(ctx, clusterNodes(t, c), o); err != nil {
		t.Fatal(err)
	}
	// Inserts wait until every replica has the rows, so the answers can be read at once.
	cl, err := clickhouse.Open(&clickhouse.Options{
		Addr:     []string{c.Node(0, 0).NativeAddr},
		Settings: clickhouse.Settings{"distributed_foreground_insert": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	single, db := newDB(t)
	if _, err := Migrate(ctx, single, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct {
		conn driver.Conn
		db   string
	}{{single, db}, {cl, "beacon"}} {
		loadGoldenData(t, l.conn, l.db)
		loadAdditionsData(t, l.conn, l.db)
		loadStitchAdditionsData(t, l.conn, l.db)
	}
	if a, b := scalar[uint64](t, single, "SELECT count() FROM "+db+".events"), scalar[uint64](t, cl, "SELECT count() FROM beacon.events"); a != b || a == 0 {
		t.Fatalf("events: %d on the single node, %d on the cluster", a, b)
	}
	qs, err := SavedQueries()
	if err != nil {
		t.Fatal(err)
	}
	// Every node of the cluster answers, not only the one the events went through.
	readers := make([]driver.Conn, len(c.Nodes))
	for i, n := range c.Nodes {
		readers[i] = n.Open(t, "default")
	}
	for _, q := range qs {
		cases, ok := clusterCases[q.Name]
		if !ok {
			t.Errorf("saved query %s has no case in clusterCases", q.Name)
			continue
		}
		t.Run(q.Name, func(t *testing.T) {
			if why, ok := clusterKnownDifferent[q.Name]; ok {
				if d := clusterDiff(t, single, db, readers, q, cases); d != "" {
					t.Skipf("known to differ on the cluster: %s\n%s", why, d)
				}
				t.Fatalf("%s now gives the single node's answers on the cluster: remove it from clusterKnownDifferent", q.Name)
			}
			for i, params := range cases {
				p := map[string]string{"tenant": "acme"}
				for k, v := range params {
					p[k] = v
				}
				want := rowsText(t, single, db, q, p)
				if i == 0 && want == "" {
					t.Errorf("%s %v: no rows on the single node: the case tests nothing", q.Name, params)
				}
				for n, r := range readers {
					if got := rowsText(t, r, "beacon", q, p); got != want {
						t.Errorf("%s %v through node %s:\ncluster\n%s\nsingle node\n%s", q.Name, params, c.Nodes[n].NativeAddr, got, want)
					}
				}
			}
		})
	}
}

func rowsText(t *testing.T, conn driver.Conn, db string, q SavedQuery, p map[string]string) string {
	t.Helper()
	res, err := q.Run(context.Background(), conn, db, p)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range cells(res) {
		b.WriteString(strings.Join(r, "|"))
		b.WriteByte('\n')
	}
	return b.String()
}

// clusterDiff describes the first case whose cluster answer (or error) differs from the
// single node's; "" when every case agrees on every node.
func clusterDiff(t *testing.T, single driver.Conn, db string, readers []driver.Conn, q SavedQuery, cases []map[string]string) string {
	text := func(conn driver.Conn, db string, p map[string]string) string {
		res, err := q.Run(context.Background(), conn, db, p)
		if err != nil {
			return "error: " + strings.SplitN(err.Error(), "\n", 2)[0]
		}
		var b strings.Builder
		for _, r := range cells(res) {
			b.WriteString(strings.Join(r, "|") + "\n")
		}
		return b.String()
	}
	for _, params := range cases {
		p := map[string]string{"tenant": "acme"}
		for k, v := range params {
			p[k] = v
		}
		want := text(single, db, p)
		for _, r := range readers {
			if got := text(r, "beacon", p); got != want {
				return fmt.Sprintf("%v:\ncluster\n%s\nsingle node\n%s", params, got, want)
			}
		}
	}
	return ""
}
