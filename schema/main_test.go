package schema

import (
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/beaconprm/beacon/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// newDB returns a connection to the shared test ClickHouse server and a fresh database.
func newDB(t *testing.T) (driver.Conn, string) {
	ch := testenv.NewClickHouse(t)
	return ch.Conn(t), ch.Database
}
