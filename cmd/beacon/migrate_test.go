package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/beaconprm/beacon/internal/testenv"
)

// beacon migrate -migrate.nodes: a node down is named and nothing is applied; with every
// node up the cluster flavor applies on all of them, and a second run has nothing to do.
func TestMigrateNodesCommand(t *testing.T) {
	c := testenv.NewClickHouseCluster(t, 2, 2)
	run := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := NewMain(&out, &errb).Run(context.Background(), append([]string{"migrate", "-migrate.cluster", c.Name,
			"-migrate.nodes", strings.Join(c.NativeAddrs(), ","), "-migrate.testPlainEngines"}, args...))
		return out.String(), err
	}
	down := c.Node(0, 1)
	down.Kill(t)
	if out, err := run("up"); err == nil || !strings.Contains(err.Error(), down.NativeAddr) || strings.Contains(out, "applied") {
		t.Fatalf("up with node %s down: err %v, output %q; want an error naming it and nothing applied", down.NativeAddr, err, out)
	}
	down.Start(t)
	out, err := run("up")
	if err != nil || !strings.Contains(out, "applied 0001 on 4 nodes") || !strings.Contains(out, "applied 0013 on 4 nodes") {
		t.Fatalf("up: %v\n%s", err, out)
	}
	if out, err = run("up"); err != nil || strings.TrimSpace(out) != "up to date" {
		t.Fatalf("second up: %v\n%s", err, out)
	}
	if err := NewMain(&bytes.Buffer{}, &bytes.Buffer{}).Run(context.Background(), []string{"migrate", "-migrate.nodes", c.NativeAddrs()[0], "up"}); err == nil || !strings.Contains(err.Error(), "-migrate.cluster") {
		t.Fatalf("-migrate.nodes without -migrate.cluster: err %v", err)
	}
}
