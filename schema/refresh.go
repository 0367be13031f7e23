package schema

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// RefreshDocViewers recomputes doc_viewer_rows (migration 0013) for every document viewer
// with a doc_viewers row written in the last age, as measured by the server's clock when
// the statement starts. Whoever writes events calls it after the write committed, with an
// age that reaches back to before the write started; a later refresh always wins, so
// overlapping or repeated refreshes are harmless. It returns when the rows are written.
func RefreshDocViewers(ctx context.Context, conn driver.Conn, db string, age time.Duration) error {
	if age < 0 {
		return fmt.Errorf("refresh age %v is negative", age)
	}
	ctx = clickhouse.Context(ctx,
		clickhouse.WithParameters(clickhouse.Parameters{"age_ms": fmt.Sprint(age.Milliseconds())}),
		// in the cluster flavor each shard picks and computes its own viewers (0013)
		clickhouse.WithSettings(clickhouse.Settings{"distributed_product_mode": "local"}))
	return conn.Exec(ctx, fmt.Sprintf("INSERT INTO `%s`.doc_viewer_rows SELECT * FROM `%s`.doc_viewer_rows_since("+
		"since = now64(3, 'UTC') - toIntervalMillisecond({age_ms:UInt64}))", db, db))
}
