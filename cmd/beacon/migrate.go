package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/beaconprm/beacon/schema"
)

// chFlags are the ClickHouse connection flags shared by migrate, query and import.
type chFlags struct {
	addr, user, passwordFile, database string
	dialTimeout                        time.Duration
	tls                                chTLSFlags
}

func (c *chFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "clickhouse.addr", "127.0.0.1:9000", "ClickHouse native protocol address host:port (comma-separated for several replicas)")
	fs.StringVar(&c.user, "clickhouse.user", "default", "ClickHouse user")
	fs.StringVar(&c.passwordFile, "clickhouse.passwordFile", "", "file holding the ClickHouse password; else $BEACON_CLICKHOUSE_PASSWORD; else none")
	fs.StringVar(&c.database, "clickhouse.database", "beacon", "database holding the beacon tables")
	fs.DurationVar(&c.dialTimeout, "clickhouse.dialTimeout", 5*time.Second, "how long to wait for a connection to ClickHouse")
	c.tls.register(fs, "clickhouse")
}

func (c *chFlags) open(ctx context.Context) (driver.Conn, error) {
	password, err := clickhousePassword(c.passwordFile, "clickhouse.passwordFile")
	if err != nil {
		return nil, err
	}
	tc, err := c.tls.config()
	if err != nil {
		return nil, err
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        splitList(c.addr),
		Auth:        clickhouse.Auth{Username: c.user, Password: password},
		DialTimeout: c.dialTimeout,
		TLS:         tc,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot open ClickHouse at %s: %w", c.addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("cannot reach ClickHouse at %s: %w; check -clickhouse.addr", c.addr, err)
	}
	return conn, nil
}

// runMigrate applies (up), lists (status) or prints (render) the schema migrations.
func runMigrate(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("migrate")
	var ch chFlags
	ch.register(fs)
	ttl := fs.Int("migrate.ttlDays", 395, "days raw events are kept (TTL of the events table, set when it is created)")
	window := fs.Int("migrate.dedupWindow", 10000, "insert blocks each table remembers for insert_deduplication_token retries")
	cluster := fs.String("migrate.cluster", "", "render the cluster flavor (Replicated + Distributed, ON CLUSTER) for this cluster name; empty: single node")
	nodes := fs.String("migrate.nodes", "", "with -migrate.cluster: apply the cluster flavor to these nodes (host:port,...: every node of the cluster) one by one, without ON CLUSTER, for servers that cannot run distributed DDL")
	plain := fs.Bool("migrate.testPlainEngines", false, "TESTS ONLY: with -migrate.cluster, keep plain *MergeTree engines instead of Replicated ones (for a local test cluster whose Distributed tables replicate, internal_replication=false); never in production")
	fs.Usage = func() {
		fmt.Fprintln(m.Stderr, "usage: beacon migrate [flags] up|status|render\n\n  up      apply the migrations not yet recorded in <db>.schema_migrations\n  status  list migrations and whether each is applied\n  render  print the SQL of every migration for the chosen flavor, without connecting\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("beacon migrate: want exactly one of up, status, render")
	}
	opts := schema.Options{Database: ch.database, TTLDays: *ttl, DedupWindow: *window, Cluster: *cluster, NodeByNode: *nodes != "", PlainEngines: *plain}
	if *nodes != "" && *cluster == "" {
		return errors.New("beacon migrate: -migrate.nodes needs -migrate.cluster")
	}
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("beacon migrate: %w", err)
	}
	switch fs.Arg(0) {
	case "render":
		ms, err := schema.Migrations()
		if err != nil {
			return err
		}
		rs, err := schema.Render(ms, opts)
		if err != nil {
			return err
		}
		for _, r := range rs {
			fmt.Fprintf(m.Stdout, "-- %04d_%s\n", r.Version, r.Name)
			for _, s := range r.Statements {
				fmt.Fprintf(m.Stdout, "%s;\n\n", s)
			}
		}
		views, err := schema.RenderQueryViews(opts)
		if err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, "-- views of the saved queries, recreated by every 'migrate up'")
		for _, s := range views {
			fmt.Fprintf(m.Stdout, "%s;\n\n", s)
		}
		return nil
	case "up":
		if *nodes != "" {
			return migrateNodes(ctx, m, ch, splitList(*nodes), opts)
		}
		conn, err := ch.open(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		done, err := schema.Migrate(ctx, conn, opts)
		for _, v := range done {
			fmt.Fprintf(m.Stdout, "applied %04d\n", v)
		}
		if err != nil {
			return fmt.Errorf("beacon migrate up: %w", err)
		}
		if len(done) == 0 {
			fmt.Fprintln(m.Stdout, "up to date")
		}
		return nil
	case "status":
		conn, err := ch.open(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		sts, err := schema.MigrationStatus(ctx, conn, opts)
		if err != nil {
			return fmt.Errorf("beacon migrate status: %w", err)
		}
		tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tNAME\tSTATE\tAPPLIED AT")
		for _, s := range sts {
			state, at := "pending", ""
			if s.Applied {
				state, at = "applied", s.AppliedAt.UTC().Format(time.RFC3339)
				if s.Changed {
					state = "applied (file changed since)"
				}
			}
			fmt.Fprintf(tw, "%04d\t%s\t%s\t%s\n", s.Version, s.Name, state, at)
		}
		return tw.Flush()
	default:
		fs.Usage()
		return fmt.Errorf("beacon migrate: unknown action %q; want up, status or render", fs.Arg(0))
	}
}

// migrateNodes applies the cluster flavor node by node (schema.MigrateNodes).
func migrateNodes(ctx context.Context, m *Main, ch chFlags, addrs []string, opts schema.Options) error {
	var nodes []schema.Node
	defer func() {
		for _, n := range nodes {
			n.Conn.Close()
		}
	}()
	for _, addr := range addrs {
		c := ch
		c.addr = addr
		conn, err := c.open(ctx)
		if err != nil {
			return fmt.Errorf("beacon migrate up: node %s (-migrate.nodes): %w", addr, err)
		}
		nodes = append(nodes, schema.Node{Addr: addr, Conn: conn})
	}
	done, err := schema.MigrateNodes(ctx, nodes, opts)
	for _, v := range done {
		fmt.Fprintf(m.Stdout, "applied %04d on %d nodes\n", v, len(nodes))
	}
	if err != nil {
		return fmt.Errorf("beacon migrate up: %w", err)
	}
	if len(done) == 0 {
		fmt.Fprintln(m.Stdout, "up to date")
	}
	return nil
}
