package schema

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Node is one server of a cluster, as MigrateNodes reaches it.
type Node struct {
	Addr string // host:port, named in errors
	Conn driver.Conn
}

// MigrateNodes applies the cluster flavor where ON CLUSTER is unavailable: it runs every
// DDL statement on every node itself (o.NodeByNode is implied), each statement on all nodes
// before the next, and each backfill once, through the first node's Distributed tables,
// with distributed_foreground_insert so that the rows are on every replica when it returns.
//
// Every node records every migration in its own {db}.schema_migrations, and only after the
// migration's statements succeeded on all nodes: a record anywhere means the migration is
// done everywhere. So a run stopped by a node going down leaves the migration unrecorded
// (its statements are idempotent and run again; a backfill that ran re-runs, as in
// Migrate), and a run stopped while recording is finished by the next, which copies the
// records to the nodes that miss them. Every node must answer before anything is done, and
// an error names the node.
func MigrateNodes(ctx context.Context, nodes []Node, o Options) ([]uint32, error) {
	if o.Cluster == "" {
		return nil, errors.New("node-by-node migration needs the cluster name (-migrate.cluster)")
	}
	if len(nodes) == 0 {
		return nil, errors.New("node-by-node migration needs at least one node (-migrate.nodes)")
	}
	o.NodeByNode = true
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.WithDefaults()
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	rs, err := Render(ms, o)
	if err != nil {
		return nil, err
	}
	views, err := RenderQueryViews(o)
	if err != nil {
		return nil, err
	}
	if err := pingAll(ctx, nodes); err != nil {
		return nil, err
	}
	for _, s := range bootstrap(o) {
		if err := execAll(ctx, nodes, s); err != nil {
			return nil, fmt.Errorf("cannot create %s.schema_migrations: %w", o.Database, err)
		}
	}
	// applied[v] lists the nodes that recorded v.
	applied := map[uint32]map[int]bool{}
	for i, n := range nodes {
		vs, err := appliedVersions(ctx, n.Conn, o)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Addr, err)
		}
		for v := range vs {
			if applied[v] == nil {
				applied[v] = map[int]bool{}
			}
			applied[v][i] = true
		}
	}
	var done []uint32
	for _, r := range rs {
		if on := applied[r.Version]; len(on) > 0 {
			// Applied everywhere; finish the recording an earlier run left incomplete.
			var missing []int
			for i := range nodes {
				if !on[i] {
					missing = append(missing, i)
				}
			}
			if err := record(ctx, nodes, missing, r, o); err != nil {
				return done, err
			}
			continue
		}
		for i, s := range r.Statements {
			var err error
			if IsBackfill(s) {
				bctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"distributed_foreground_insert": 1}))
				if err = nodes[0].Conn.Exec(bctx, s); err != nil {
					err = fmt.Errorf("node %s: %w", nodes[0].Addr, err)
				}
			} else {
				err = execAll(ctx, nodes, s)
			}
			if err != nil {
				return done, fmt.Errorf("migration %04d_%s statement %d (not recorded): %w", r.Version, r.Name, i+1, err)
			}
		}
		// Record only when every node answers, so that a node lost now fails the run
		// before any record is written.
		if err := pingAll(ctx, nodes); err != nil {
			return done, fmt.Errorf("migration %04d_%s applied but not recorded: %w", r.Version, r.Name, err)
		}
		all := make([]int, len(nodes))
		for i := range all {
			all[i] = i
		}
		if err := record(ctx, nodes, all, r, o); err != nil {
			return done, err
		}
		done = append(done, r.Version)
	}
	for _, s := range views {
		if err := execAll(ctx, nodes, s); err != nil {
			return done, fmt.Errorf("cannot create the view of a saved query: %w", err)
		}
	}
	return done, nil
}

func pingAll(ctx context.Context, nodes []Node) error {
	var errs []error
	for _, n := range nodes {
		if err := n.Conn.Ping(ctx); err != nil {
			errs = append(errs, fmt.Errorf("node %s does not answer: %w", n.Addr, err))
		}
	}
	return errors.Join(errs...)
}

func execAll(ctx context.Context, nodes []Node, s string) error {
	for _, n := range nodes {
		if err := n.Conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("node %s: %w", n.Addr, err)
		}
	}
	return nil
}

func record(ctx context.Context, nodes []Node, which []int, r Rendered, o Options) error {
	sort.Ints(which)
	for _, i := range which {
		err := nodes[i].Conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s.schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, now64(3))", o.Database),
			r.Version, r.Name, checksum(r))
		if err != nil {
			return fmt.Errorf("cannot record migration %04d_%s on node %s: %w", r.Version, r.Name, nodes[i].Addr, err)
		}
	}
	return nil
}
