package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/beaconprm/beacon/schema"
)

// runRefresh does for events written another way (a bulk INSERT, a repair) what the
// ingest does for its batches: it recomputes the finished rows the saved queries read
// (schema.FinishedTables: document viewers, stitching claims, content versions, searches,
// for what was written recently), then merges the small rollups the saved queries read
// whole into one part each (schema.Compactor).
func runRefresh(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("refresh")
	var ch chFlags
	ch.register(fs)
	since := fs.Duration("refresh.since", time.Hour, "recompute the finished rows ("+schema.FinishedHolds()+") of what was written in this last span (by the server's clock)")
	all := fs.Bool("refresh.all", false, "recompute every finished row, whenever written (about 50 s and 7 GB of server memory per 100M events)")
	compact := fs.Bool("refresh.compact", true, "then merge the small rollups saved queries read whole ("+strings.Join(schema.CompactTables, ", ")+") into one part each")
	fs.Usage = func() {
		fmt.Fprintln(m.Stderr, "usage: beacon refresh [flags]\n\nRecomputes the finished rows the saved queries read ("+schema.FinishedTableNames()+":\n"+schema.FinishedHolds()+") of what was written in the last -refresh.since, then merges the small\nrollups the saved queries read whole into one part each. The ingest does both as batches arrive; run it\nafter writing events to ClickHouse another way (a bulk load, a repair).\n\nflags:")
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
	fmt.Fprintf(m.Stderr, "refreshing %s in %s: rows %s\n", schema.FinishedTableNames(), ch.database, what)
	t0 := time.Now()
	if err := schema.RefreshRows(pctx, conn, ch.database, age); err != nil {
		return fmt.Errorf("beacon refresh: %w (is the schema at migration 32 or later? `beacon migrate status`)", err)
	}
	fmt.Fprintf(m.Stdout, "refreshed %d rows (%s) in %s\n", wrote.Load(), schema.FinishedHolds(), time.Since(t0).Round(time.Millisecond))
	if !*compact {
		return nil
	}
	fmt.Fprintln(m.Stderr, "compacting the rollups the saved queries read whole")
	done, err := (&schema.Compactor{Conn: conn, DB: ch.database}).Round(ctx, time.Now())
	if err != nil {
		return fmt.Errorf("beacon refresh: %w", err)
	}
	var failed []string
	for _, d := range done {
		if d.Err != nil {
			failed = append(failed, d.String())
			continue
		}
		fmt.Fprintf(m.Stdout, "compacted %s\n", d)
	}
	if len(failed) > 0 {
		return fmt.Errorf("beacon refresh: cannot compact %s", strings.Join(failed, "; "))
	}
	return nil
}
