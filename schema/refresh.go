package schema

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// refreshSlack widens every refresh's window: updated_at is in whole seconds, and the
// server's clock is read when the statement starts, a network trip after the caller
// measured the age on its own clock.
const refreshSlack = 2 * time.Second

// RefreshDocViewers recomputes doc_viewer_rows (migration 0013) for every document viewer
// with a doc_viewers row written in the last age (plus 2 s of slack), as measured by the
// server's clock when the statement starts. Whoever writes events calls it after the write
// committed, with the time since the write started; the refresh started last wins, so
// overlapping or repeated refreshes are harmless. It returns when the rows are written.
func RefreshDocViewers(ctx context.Context, conn driver.Conn, db string, age time.Duration) error {
	if age < 0 {
		return fmt.Errorf("refresh age %v is negative", age)
	}
	ctx = clickhouse.Context(ctx,
		clickhouse.WithParameters(clickhouse.Parameters{"age_ms": fmt.Sprint((age + refreshSlack).Milliseconds())}),
		// in the cluster flavor each shard picks and computes its own viewers (0013)
		clickhouse.WithSettings(clickhouse.Settings{"distributed_product_mode": "local"}))
	return conn.Exec(ctx, fmt.Sprintf("INSERT INTO `%s`.doc_viewer_rows SELECT * FROM `%s`.doc_viewer_rows_since("+
		"since = now64(3, 'UTC') - toIntervalMillisecond({age_ms:UInt64}))", db, db))
}
