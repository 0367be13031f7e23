package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/kafkalocal"
	"github.com/beaconprm/beacon/internal/testenv"
)

// TestIngestExitsOnKafkaMisconfiguration starts `beacon ingest` against a broker requiring
// TLS and SCRAM with wrong settings: each must end the process at start with an error naming
// the flag, not retry forever.
func TestIngestExitsOnKafkaMisconfiguration(t *testing.T) {
	exe := testenv.BuildBeacon(t)
	certs := testenv.NewCerts(t)
	b, err := kafkalocal.Start(kafkalocal.Config{TLS: certs.Server, Users: []kafkalocal.User{{Mechanism: "SCRAM-SHA-256", Name: "ingest", Password: "right-password"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	dir := t.TempDir()
	wrong := filepath.Join(dir, "wrong")
	if err := os.WriteFile(wrong, []byte("wrong-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"ingest", "-ingest.brokers", b.Addr(), "-ingest.metricsAddr", "", "-ingest.clickhouse.addr", "127.0.0.1:1"}
	f := func(name string, args []string, want ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, exe, append(append([]string{}, base...), args...)...).CombinedOutput()
		if ctx.Err() != nil || err == nil {
			t.Errorf("%s: beacon ingest did not exit at start (err %v, ctx %v):\n%s", name, err, ctx.Err(), out)
			return
		}
		for _, w := range want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: output does not name %q:\n%s", name, w, out)
			}
		}
	}
	f("wrong password", []string{"-ingest.kafka.tls", "-ingest.kafka.tls.caFile", certs.CAFile, "-ingest.kafka.sasl.mechanism", "SCRAM-SHA-256",
		"-ingest.kafka.sasl.user", "ingest", "-ingest.kafka.sasl.passwordFile", wrong}, "authentication", "-ingest.kafka.sasl.passwordFile")
	f("untrusted certificate", []string{"-ingest.kafka.tls", "-ingest.kafka.sasl.mechanism", "SCRAM-SHA-256",
		"-ingest.kafka.sasl.user", "ingest", "-ingest.kafka.sasl.passwordFile", wrong}, "not trusted", "-ingest.kafka.tls.caFile")
	f("plaintext to the TLS port", []string{"-ingest.kafka.sasl.mechanism", "SCRAM-SHA-256",
		"-ingest.kafka.sasl.user", "ingest", "-ingest.kafka.sasl.passwordFile", wrong}, "-ingest.kafka.tls")
}
