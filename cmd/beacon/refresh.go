package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/beaconprm/beacon/schema"
)

// runRefresh recomputes the document viewers' finished rows (doc_viewer_rows, migration
// 0013) for the viewers written recently: the ingest does it after every batch, this is
// for events written another way (a bulk INSERT, a repair).
func runRefresh(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("refresh")
	var ch chFlags
	ch.register(fs)
	since := fs.Duration("refresh.since", time.Hour, "recompute the viewers with rows written in this last span (by the server's clock)")
	all := fs.Bool("refresh.all", false, "recompute every viewer, whenever written (about 50 s and 7 GB of server memory per 100M events)")
	fs.Usage = func() {
		fmt.Fprintln(m.Stderr, "usage: beacon refresh [flags]\n\nRecomputes document-views' finished rows (doc_viewer_rows) for the document viewers written in\nthe last -refresh.since. The ingest does this after every batch; run it after writing events\nto ClickHouse another way.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errors.New("beacon refresh: takes no arguments")
	}
	if *since <= 0 {
		return fmt.Errorf("beacon refresh: -refresh.since must be positive, got %v", *since)
	}
	age := *since
	what := "written in the last " + age.String()
	if *all {
		age, what = time.Since(time.Unix(0, 0))+24*time.Hour, "all"
	}
	conn, err := ch.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var wrote atomic.Uint64
	pctx := clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) { wrote.Add(p.WroteRows) }))
	fmt.Fprintf(m.Stderr, "refreshing doc_viewer_rows in %s: viewers %s\n", ch.database, what)
	t0 := time.Now()
	if err := schema.RefreshDocViewers(pctx, conn, ch.database, age); err != nil {
		return fmt.Errorf("beacon refresh: %w (is the schema at migration 13 or later? `beacon migrate status`)", err)
	}
	fmt.Fprintf(m.Stdout, "refreshed %d document viewers' rows in %s\n", wrote.Load(), time.Since(t0).Round(time.Millisecond))
	return nil
}
