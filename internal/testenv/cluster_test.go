package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The 2x2 topology: every node knows the cluster and its own place in it, a Distributed
// insert writes both replicas of the target shard, and a killed replica catches up from
// the sender's queue once restarted.
func TestClickHouseCluster(t *testing.T) {
	c := NewClickHouseCluster(t, 2, 2)
	ctx := context.Background()
	for s := 0; s < 2; s++ {
		for r := 0; r < 2; r++ {
			conn := c.Node(s, r).Open(t, "default")
			var shard, replica string
			var hosts uint64
			if err := conn.QueryRow(ctx, "SELECT getMacro('shard'), getMacro('replica'), (SELECT count() FROM system.clusters WHERE cluster = ?)", c.Name).Scan(&shard, &replica, &hosts); err != nil {
				t.Fatalf("node s%d r%d: %v", s+1, r+1, err)
			}
			if shard != fmt.Sprintf("s%d", s+1) || replica != fmt.Sprintf("r%d", r+1) || hosts != 4 {
				t.Fatalf("node s%d r%d: macros %s %s, %d hosts in %s", s+1, r+1, shard, replica, hosts, c.Name)
			}
			for _, q := range []string{
				"CREATE TABLE lt (k UInt64) ENGINE = MergeTree ORDER BY k",
				"CREATE TABLE dt AS lt ENGINE = Distributed(" + c.Name + ", default, lt, k)",
			} {
				if err := conn.Exec(ctx, q); err != nil {
					t.Fatalf("node s%d r%d: %v", s+1, r+1, err)
				}
			}
		}
	}
	first := c.Node(0, 0).Open(t, "default")
	if err := first.Exec(ctx, "INSERT INTO dt SELECT number FROM numbers(100) SETTINGS distributed_foreground_insert = 1"); err != nil {
		t.Fatal(err)
	}
	counts := func() []uint64 {
		out := make([]uint64, len(c.Nodes))
		for i, n := range c.Nodes {
			if err := n.Open(t, "default").QueryRow(ctx, "SELECT count() FROM lt").Scan(&out[i]); err != nil {
				t.Fatalf("node %d: %v", i, err)
			}
		}
		return out
	}
	if got := fmt.Sprint(counts()); got != "[50 50 50 50]" {
		t.Fatalf("local counts after a foreground insert of 100 rows = %s, want [50 50 50 50]", got)
	}

	// Kill shard 2's second replica, insert in the background, restart it: it catches up.
	c.Node(1, 1).Kill(t)
	if err := first.Exec(ctx, "INSERT INTO dt SELECT number FROM numbers(100, 100)"); err != nil {
		t.Fatal(err)
	}
	var total uint64
	if err := first.QueryRow(ctx, "SELECT count() FROM dt").Scan(&total); err != nil {
		t.Fatal(err)
	}
	c.Node(1, 1).Start(t)
	deadline := time.Now().Add(60 * time.Second)
	for got := fmt.Sprint(counts()); got != "[100 100 100 100]"; got = fmt.Sprint(counts()) {
		if time.Now().After(deadline) {
			t.Fatalf("local counts 60 s after the restart = %s, want [100 100 100 100]", got)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("count through dt while a replica was down: %d", total)
}
