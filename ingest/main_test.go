package ingest

import (
	"testing"

	"github.com/beaconprm/beacon/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
