package schema

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// TEMPORARY until internal/testenv lands.
func newDB(t *testing.T) (driver.Conn, string) {
	addr := os.Getenv("SCRATCH_CH")
	if addr == "" {
		t.Skip("no SCRATCH_CH")
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("t_%d", time.Now().UnixNano())
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db); conn.Close() })
	return conn, db
}
