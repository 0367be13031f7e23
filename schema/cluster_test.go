package schema

import (
	"context"
	"strings"
	"testing"

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
