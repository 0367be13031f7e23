package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/beaconprm/beacon/bench/internal/report"
	"github.com/beaconprm/beacon/bench/internal/stack"
	"github.com/beaconprm/beacon/schema"
)

// synthetic is a ClickHouse server with the bench database: migrated, the dimension tables
// loaded and synthetic raw events generated server-side (bench/sql/synthetic_events.sql), as
// the queries and console scenarios read it.
type synthetic struct {
	ch      *stack.ClickHouse
	conn    clickhouse.Conn
	db      string
	dir     string        // the server's data directory
	rows    int64         // raw events generated so far (numbers 0..rows-1)
	genTime time.Duration // time spent generating them (the inserts only)
	reused  bool          // the data was loaded by an earlier run (-data)
}

// syntheticMark is the file in a -data directory that says what an earlier run loaded there.
const syntheticMark = "bench-load.json"

type loadMark struct {
	Rows      int64  `json:"rows"`      // raw events the load generated
	Migration uint32 `json:"migration"` // the last migration applied
	Loaded    string `json:"loaded"`    // when the load finished
	GenTime   string `json:"genTime"`   // how long the generation took
}

// openSynthetic starts ClickHouse with its data in o.Data (kept after the run) or in the
// stack's work directory, and migrates db and loads the dimension tables unless the data
// is an earlier run's load (reuse). With reuse false, o.Data must not hold a load.
func openSynthetic(ctx context.Context, s *stack.Stack, o *Options, reuse bool) (*synthetic, error) {
	const db = "bench"
	dir := filepath.Join(s.Work, "clickhouse")
	var mark *loadMark
	if o.Data != "" {
		dir = o.Data
		m, err := readLoadMark(dir)
		if err != nil {
			return nil, err
		}
		latest, err := latestMigration()
		if err != nil {
			return nil, err
		}
		switch {
		case m != nil && !reuse:
			return nil, fmt.Errorf("-data %s already holds a load (%s); this scenario measures from a fresh load: remove the directory or give another", dir, filepath.Join(dir, syntheticMark))
		case m != nil && (m.Rows != o.Rows || m.Migration != latest):
			return nil, fmt.Errorf("-data %s holds %s events at migration %d, not %s at migration %d: remove the directory to load again",
				dir, report.Num(float64(m.Rows)), m.Migration, report.Num(float64(o.Rows)), latest)
		case m == nil:
			if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
				return nil, fmt.Errorf("-data %s is not empty and holds no finished load (no %s): remove it", dir, syntheticMark)
			}
		}
		mark = m
	}
	ch, err := s.StartClickHouseAt(dir)
	if err != nil {
		return nil, err
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{ch.NativeAddr}, DialTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Minute})
	if err != nil {
		return nil, err
	}
	sy := &synthetic{ch: ch, conn: conn, db: db, dir: dir}
	if mark != nil {
		sy.rows, sy.reused = mark.Rows, true
		sy.genTime, _ = time.ParseDuration(mark.GenTime)
		fmt.Fprintf(o.Log, "reusing the load in %s: %s raw events loaded %s\n", dir, report.Num(float64(mark.Rows)), mark.Loaded)
		return sy, nil
	}
	if err := s.Migrate(ch, db); err != nil {
		conn.Close()
		return nil, err
	}
	for _, stmt := range strings.Split(sqlFor(dimensionsSQL, db), ";\n") {
		if stmt = strings.TrimSpace(stmt); stmt != "" && !strings.HasPrefix(stmt, "--") || strings.Contains(stmt, "INSERT") {
			if _, err := ch.Query(ctx, stmt); err != nil {
				conn.Close()
				return nil, fmt.Errorf("dimension tables: %w", err)
			}
		}
	}
	return sy, nil
}

func (sy *synthetic) Close() error { return sy.conn.Close() }

// generate adds synthetic raw events up to number upTo, in chunks that keep each insert's
// memory (and the views' aggregation states) bounded, with progress on log.
func (sy *synthetic) generate(ctx context.Context, upTo int64, log func(string)) error {
	const chunk = 2_000_000
	for sy.rows < upTo {
		n := min(chunk, upTo-sy.rows)
		t0 := time.Now()
		if _, err := sy.ch.Query(ctx, sqlFor(syntheticEventsSQL, sy.db, "start", strconv.FormatInt(sy.rows, 10), "count", strconv.FormatInt(n, 10))); err != nil {
			return fmt.Errorf("generating events: %w", err)
		}
		sy.genTime += time.Since(t0)
		sy.rows += n
		log(fmt.Sprintf("\rgenerated %s of %s raw events, %s rows/s   ", report.Num(float64(sy.rows)), report.Num(float64(upTo)),
			report.Num(float64(sy.rows)/sy.genTime.Seconds())))
	}
	log("\n")
	return nil
}

// refresh does what `beacon refresh` does after a bulk load (the ingest does it as batches
// arrive): recompute the finished rows of the document viewers written in the last since
// (doc_viewer_rows, migration 0013), then compact the small rollups the saved queries read
// whole; then it waits for merges to settle. It returns how long the recomputation took and
// what the compaction did.
func (sy *synthetic) refresh(ctx context.Context, since time.Duration) (time.Duration, string, error) {
	r0 := time.Now()
	if err := schema.RefreshRows(ctx, sy.conn, sy.db, since); err != nil {
		return 0, "", fmt.Errorf("refreshing doc_viewer_rows: %w", err)
	}
	took := time.Since(r0)
	compacted, err := (&schema.Compactor{Conn: sy.conn, DB: sy.db}).Round(ctx, time.Now())
	if err != nil {
		return 0, "", err
	}
	if err := settleMerges(ctx, sy.ch, sy.db); err != nil {
		return 0, "", err
	}
	return took, describeCompactions(compacted), nil
}

// keep writes the mark that lets a later scenario given the same -data reuse this load.
func (sy *synthetic) keep(o *Options) error {
	if o.Data == "" || sy.reused {
		return nil
	}
	latest, err := latestMigration()
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(loadMark{Rows: sy.rows, Migration: latest, Loaded: time.Now().UTC().Format(time.RFC3339),
		GenTime: sy.genTime.Round(time.Second).String()}, "", "  ")
	return os.WriteFile(filepath.Join(sy.dir, syntheticMark), append(b, '\n'), 0o644)
}

func readLoadMark(dir string) (*loadMark, error) {
	b, err := os.ReadFile(filepath.Join(dir, syntheticMark))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m loadMark
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, syntheticMark), err)
	}
	return &m, nil
}

func latestMigration() (uint32, error) {
	all, err := schema.Migrations()
	if err != nil {
		return 0, err
	}
	if len(all) == 0 {
		return 0, errors.New("no migrations")
	}
	return all[len(all)-1].Version, nil
}
