package schema

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// refreshSlack widens every refresh's window: updated_at is in whole seconds, and the
// server's clock is read when the statement starts, a network trip after the caller
// measured the age on its own clock.
const refreshSlack = 2 * time.Second

// Finished is a table of finished rows and what its rows are.
type Finished struct{ Table, Holds string }

// FinishedTables are the tables of finished rows the writer keeps current, each filled by
// the view named after it with _since (SELECT * FROM <table>_since(since = ...)), and what
// their rows are: doc_viewer_rows (migration 0013) for every document viewer with a
// doc_viewers row written since, device_claims (0025, the stitching claims) for every
// device with a visitor_people row written since, content_version_rows (0026) for every
// content version with a content_version_totals row written since, and search_rows (0032)
// for every search written since or in a (viewer, 30-minute bucket) with an open written
// since.
var FinishedTables = []Finished{
	{"doc_viewer_rows", "document viewers"},
	{"device_claims", "stitching claims"},
	{"content_version_rows", "content versions"},
	{"search_rows", "searches"},
}

// FinishedTableNames lists the finished tables' names for messages: "a, b, c and d".
func FinishedTableNames() string {
	return finishedList(func(f Finished) string { return f.Table })
}

// FinishedHolds lists what the finished tables' rows are, for messages.
func FinishedHolds() string {
	return finishedList(func(f Finished) string { return f.Holds })
}

func finishedList(what func(Finished) string) string {
	names := make([]string, len(FinishedTables))
	for i, f := range FinishedTables {
		names[i] = what(f)
	}
	if n := len(names); n > 1 {
		return strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	}
	return strings.Join(names, "")
}

// RefreshRows recomputes the finished rows the saved queries read (FinishedTables) for
// whatever was written in the last age (plus 2 s of slack), as measured by the server's
// clock when the refresh starts. Whoever writes events calls it after the write committed,
// with the time since the write started; the refresh started last wins, so overlapping or
// repeated refreshes are harmless. It returns when the rows are written.
func RefreshRows(ctx context.Context, conn driver.Conn, db string, age time.Duration) error {
	if age < 0 {
		return fmt.Errorf("refresh age %v is negative", age)
	}
	// The server's clock gives the start of the window, which is then sent as a literal: in
	// the cluster flavor a view argument computed in the statement (now64() - interval) is
	// passed on to the shards as a number that they cannot parse as a DateTime64 (Code 41).
	var now time.Time
	if err := conn.QueryRow(ctx, "SELECT now64(3, 'UTC')").Scan(&now); err != nil {
		return fmt.Errorf("refresh: cannot read the server's clock: %w", err)
	}
	since := now.Add(-(age + refreshSlack)).UTC().Format("2006-01-02 15:04:05.000")
	// in the cluster flavor each shard picks and computes its own viewers (0013)
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"distributed_product_mode": "local"}))
	for _, f := range FinishedTables {
		if err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO `%s`.%s SELECT * FROM `%s`.%s_since(since = '%s')", db, f.Table, db, f.Table, since)); err != nil {
			return fmt.Errorf("refresh %s: %w", f.Table, err)
		}
	}
	return nil
}
