package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/kafkaconn"
	"github.com/beaconprm/beacon/internal/kafkalocal"
	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/segmentio/kafka-go"
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

// TestCollectorShipsOverTLSAndSASL runs `beacon collector` against a broker that requires
// TLS and SCRAM-SHA-512: the documented example batch must reach the topic, read back with
// the same settings; wrong settings must end the collector at start.
func TestCollectorShipsOverTLSAndSASL(t *testing.T) {
	exe := testenv.BuildBeacon(t)
	certs := testenv.NewCerts(t)
	b, err := kafkalocal.Start(kafkalocal.Config{TLS: certs.Server,
		Users:  []kafkalocal.User{{Mechanism: kafkaconn.ScramSHA512, Name: "collector", Password: "collector-secret"}},
		Topics: []kafkalocal.Topic{{Name: "beacon.events", Partitions: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	dir := t.TempDir()
	pw := filepath.Join(dir, "kafka-password")
	if err := os.WriteFile(pw, []byte("collector-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	secure := []string{"-collector.kafka.tls", "-collector.kafka.tls.caFile", certs.CAFile, "-collector.kafka.sasl.mechanism", "SCRAM-SHA-512",
		"-collector.kafka.sasl.user", "collector", "-collector.kafka.sasl.passwordFile", pw}
	common := []string{"collector", "-collector.brokers", b.Addr(), "-collector.listenAddr", addr, "-collector.demoSites",
		"-collector.sites", filepath.Join(dir, "sites.json"), "-collector.spoolDir", filepath.Join(dir, "spool"), "-collector.ack", "kafka", "-collector.kafkaTimeout", "5s"}

	// A wrong password ends it at start.
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	wrongPw := filepath.Join(dir, "wrong-password")
	if err := os.WriteFile(wrongPw, []byte("not-the-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrong := append(append([]string{}, common...), secure[:len(secure)-1]...)
	out, err := exec.CommandContext(ctx, exe, append(wrong, wrongPw)...).CombinedOutput()
	if err == nil || ctx.Err() != nil || !strings.Contains(string(out), "-collector.kafka.sasl.passwordFile") || strings.Contains(string(out), "not-the-secret") {
		t.Fatalf("collector with a wrong Kafka password: err %v, ctx %v, output:\n%s", err, ctx.Err(), out)
	}

	cmd := exec.Command(exe, append(common, secure...)...)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector not up:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	batch, err := os.ReadFile("../../beacon/testdata/example-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/events", bytes.NewReader(batch))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST: %s\n%s", resp.Status, logs.String())
	}
	want := strings.Count(string(batch), `"id"`)
	sec := kafkaconn.Config{TLS: true, CAFile: certs.CAFile, SASLMechanism: kafkaconn.ScramSHA512, Username: "collector", Password: "collector-secret"}
	d, err := sec.Dialer(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{b.Addr()}, Topic: "beacon.events", Partition: 0, Dialer: d, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer rcancel()
	for got := 0; got < want; got++ {
		if _, err := r.ReadMessage(rctx); err != nil {
			t.Fatalf("read %d of %d events back over TLS and SASL: %v\n%s", got, want, err, logs.String())
		}
	}
}
