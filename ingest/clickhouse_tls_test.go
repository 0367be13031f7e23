package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/beaconprm/beacon/internal/tlsfiles"
)

// TestClickHouseTLS checks that Config.ClickHouseTLS reaches the ClickHouse client: against
// a TLS port the handshake completes with the right CA. (The local engine cannot serve TLS;
// the port is a stand-in that only does the handshake, so the ping itself fails.)
func TestClickHouseTLS(t *testing.T) {
	certs := testenv.NewCerts(t)
	addr, handshakes := testenv.TLSProbe(t, certs.Server)
	tc, err := tlsfiles.Client(certs.CAFile, "", "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{ClickHouseAddrs: []string{addr}, ClickHouseTLS: tc}
	c := cfg.withDefaults()
	st, err := openStore(&c)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := st.conn.Ping(ctx); err == nil {
		t.Fatal("ping succeeded against a port that is not ClickHouse")
	}
	select {
	case err := <-handshakes:
		if err != nil {
			t.Fatalf("TLS handshake failed on the server side: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the ClickHouse client never connected")
	}
}
