package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/beaconprm/beacon/internal/chlocal"
)

// ClusterName is the name the cluster's config files give it in remote_servers.
const ClusterName = "beacon_test"

// ClickHouseCluster is a sharded, replicated topology of local ClickHouse servers, each a
// child process of the test binary on its own free ports, data directory and config file.
//
// The engine here (libchdb in clickhouse-local mode) cannot run Replicated*MergeTree
// replication or ON CLUSTER DDL: it starts no interserver listener and no DDL worker. So the
// cluster is the topology those features would run on, with replication done by the
// Distributed tables: remote_servers lists every replica with internal_replication=false,
// so an insert through a Distributed table writes every replica of the target shard, and a
// replica that was down catches up from the sender's queue once it is back. Tables must
// use plain *MergeTree engines (schema.Options.PlainEngines).
type ClickHouseCluster struct {
	Name     string
	Shards   int
	Replicas int
	// Nodes lists the servers shard by shard: shard s (0-based), replica r is
	// Nodes[s*Replicas+r]. Its macros are shard=s<s+1>, replica=r<r+1>.
	Nodes []*ClickHouseServer
}

// Node returns the server of shard s, replica r (both 0-based).
func (c *ClickHouseCluster) Node(s, r int) *ClickHouseServer { return c.Nodes[s*c.Replicas+r] }

// NativeAddrs lists every node's native protocol address, in Nodes order.
func (c *ClickHouseCluster) NativeAddrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.NativeAddr
	}
	return out
}

// NewClickHouseCluster starts shards x replicas servers that all know each other as
// cluster ClusterName, and stops them at cleanup.
func NewClickHouseCluster(t testing.TB, shards, replicas int) *ClickHouseCluster {
	t.Helper()
	if shards < 1 || replicas < 1 {
		t.Fatalf("testenv: cluster needs at least 1 shard and 1 replica, got %dx%d", shards, replicas)
	}
	lib, err := chlocal.EnsureLibrary(context.Background(), chlocal.CacheDir(), os.Stderr)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	n := shards * replicas
	type ports struct{ tcp, http int }
	ps := make([]ports, n)
	seen := map[int]bool{}
	for i := range ps {
		for _, p := range []*int{&ps[i].tcp, &ps[i].http} {
			for *p = FreePort(t); seen[*p]; *p = FreePort(t) {
			}
			seen[*p] = true
		}
	}
	var rs strings.Builder
	fmt.Fprintf(&rs, "  <remote_servers>\n    <%s>\n", ClusterName)
	for s := 0; s < shards; s++ {
		rs.WriteString("      <shard>\n        <internal_replication>false</internal_replication>\n")
		for r := 0; r < replicas; r++ {
			fmt.Fprintf(&rs, "        <replica><host>127.0.0.1</host><port>%d</port></replica>\n", ps[s*replicas+r].tcp)
		}
		rs.WriteString("      </shard>\n")
	}
	fmt.Fprintf(&rs, "    </%s>\n  </remote_servers>\n", ClusterName)
	c := &ClickHouseCluster{Name: ClusterName, Shards: shards, Replicas: replicas}
	base := filepath.Join(tmpDir(t), fmt.Sprintf("cluster-%d", serverSeq.Add(1)))
	for s := 0; s < shards; s++ {
		for r := 0; r < replicas; r++ {
			dir := filepath.Join(base, fmt.Sprintf("s%d-r%d", s+1, r+1))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatalf("testenv: %v", err)
			}
			// background_distributed_schedule_pool_size is 0 in this engine mode unless set,
			// and then asynchronous Distributed inserts are never sent.
			cfg := fmt.Sprintf("<clickhouse>\n  <macros><shard>s%d</shard><replica>r%d</replica></macros>\n"+
				"  <background_distributed_schedule_pool_size>4</background_distributed_schedule_pool_size>\n%s</clickhouse>\n",
				s+1, r+1, rs.String())
			file := filepath.Join(dir, "config.xml")
			if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
				t.Fatalf("testenv: %v", err)
			}
			p := ps[s*replicas+r]
			c.Nodes = append(c.Nodes, newServer(lib, dir, p.tcp, p.http, file))
		}
	}
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, node := range c.Nodes {
			if t.Failed() {
				node.reportLog(t)
			}
			wg.Add(1)
			go func() { defer wg.Done(); node.stop() }()
		}
		wg.Wait()
	})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, node := range c.Nodes {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = node.start() }()

	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("testenv: cannot start cluster node %d (shard %d, replica %d): %v", i, i/replicas+1, i%replicas+1, err)
		}
	}
	return c
}
