package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/testenv"
)

// TestClickHouseTLSFlags runs `beacon migrate status` against a TLS port: with -clickhouse.tls
// and the right CA the handshake completes; without the CA the client refuses the
// certificate; without -clickhouse.tls it does not speak TLS at all. (The local ClickHouse
// engine cannot serve TLS, so the port is a stand-in that only does the handshake.)
func TestClickHouseTLSFlags(t *testing.T) {
	exe := testenv.BuildBeacon(t)
	certs := testenv.NewCerts(t)
	addr, handshakes := testenv.TLSProbe(t, certs.Server)
	f := func(name string, args []string, wantHandshake bool, wantOut string) {
		t.Helper()
		for len(handshakes) > 0 {
			<-handshakes
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, exe, append([]string{"migrate", "-clickhouse.addr", addr, "-clickhouse.dialTimeout", "3s"}, append(args, "status")...)...).CombinedOutput()
		if err == nil {
			t.Fatalf("%s: migrate status succeeded against a port that is not ClickHouse:\n%s", name, out)
		}
		if wantOut != "" && !strings.Contains(string(out), wantOut) {
			t.Errorf("%s: output does not contain %q:\n%s", name, wantOut, out)
		}
		select {
		case hs := <-handshakes:
			if (hs == nil) != wantHandshake {
				t.Errorf("%s: server-side handshake error %v, want completed=%v", name, hs, wantHandshake)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: the client never connected", name)
		}
	}
	f("TLS with the CA", []string{"-clickhouse.tls", "-clickhouse.tls.caFile", certs.CAFile}, true, "")
	f("TLS without the CA", []string{"-clickhouse.tls"}, false, "certificate")
	f("plain TCP to the TLS port", nil, false, "")

	out, err := exec.Command(exe, "migrate", "-clickhouse.tls.caFile", certs.CAFile, "status").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "need -clickhouse.tls") {
		t.Errorf("a CA file without -clickhouse.tls: err %v, output:\n%s", err, out)
	}
}
