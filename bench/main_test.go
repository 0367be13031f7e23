package bench

import (
	"testing"

	"github.com/beaconprm/beacon/internal/testenv"
)

// TestMain lets testenv run the shared ClickHouse server as a child of the test binary.
func TestMain(m *testing.M) { testenv.Main(m) }
