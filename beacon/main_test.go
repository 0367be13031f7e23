package beacon

import (
	"testing"

	"github.com/beaconprm/beacon/internal/testenv"
)

// TestMain lets testenv run the ClickHouse server of clickhouse_test.go as a child of this
// test binary (without it the child would run the tests again).
func TestMain(m *testing.M) { testenv.Main(m) }
