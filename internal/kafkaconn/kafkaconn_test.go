package kafkaconn

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/kafkalocal"
	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/segmentio/kafka-go"
)

var flags = map[string]string{
	"TLS": "x.kafka.tls", "CAFile": "x.kafka.tls.caFile", "CertFile": "x.kafka.tls.certFile", "KeyFile": "x.kafka.tls.keyFile",
	"SASLMechanism": "x.kafka.sasl.mechanism", "Username": "x.kafka.sasl.user", "Password": "x.kafka.sasl.passwordFile",
}

func startBroker(t *testing.T, cfg kafkalocal.Config) string {
	t.Helper()
	cfg.Topics = []kafkalocal.Topic{{Name: "events", Partitions: 1}}
	b, err := kafkalocal.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b.Addr()
}

// TestSecureRoundTrip produces and consumes through a broker that requires TLS and SASL,
// with each mechanism, as the collector (a writer's transport) and the ingest (a reader's
// dialer) do.
func TestSecureRoundTrip(t *testing.T) {
	certs := testenv.NewCerts(t)
	addr := startBroker(t, kafkalocal.Config{TLS: certs.Server, Users: []kafkalocal.User{
		{Mechanism: Plain, Name: "plain-user", Password: "plain-secret-1"},
		{Mechanism: ScramSHA256, Name: "scram256-user", Password: "scram-secret-256"},
		{Mechanism: ScramSHA512, Name: "scram512-user", Password: "scram-secret-512"},
	}})
	for _, c := range []Config{
		{TLS: true, CAFile: certs.CAFile, SASLMechanism: Plain, Username: "plain-user", Password: "plain-secret-1"},
		{TLS: true, CAFile: certs.CAFile, SASLMechanism: ScramSHA256, Username: "scram256-user", Password: "scram-secret-256"},
		{TLS: true, CAFile: certs.CAFile, SASLMechanism: ScramSHA512, Username: "scram512-user", Password: "scram-secret-512",
			CertFile: certs.CertFile, KeyFile: certs.KeyFile},
	} {
		t.Run(c.SASLMechanism, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := Check(ctx, []string{addr}, c); err != nil {
				t.Fatalf("Check: %v", err)
			}
			tr, err := c.Transport()
			if err != nil {
				t.Fatal(err)
			}
			w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "events", Transport: tr, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
			defer w.Close()
			value := "hello over " + c.SASLMechanism
			if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("k"), Value: []byte(value)}); err != nil {
				t.Fatalf("produce: %v", err)
			}
			d, err := c.Dialer(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: "events", Partition: 0, Dialer: d, MaxWait: 200 * time.Millisecond})
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					t.Fatalf("consume: %v", err)
				}
				if string(m.Value) == value {
					return
				}
			}
		})
	}
}

// TestMisconfigurationFailsAtStart expects Check to fail at once, naming the flag to fix,
// for each way an operator gets the wiring wrong.
func TestMisconfigurationFailsAtStart(t *testing.T) {
	certs := testenv.NewCerts(t)
	secure := startBroker(t, kafkalocal.Config{TLS: certs.Server, Users: []kafkalocal.User{{Mechanism: ScramSHA256, Name: "u", Password: "right-password-1"}}})
	plaintext := startBroker(t, kafkalocal.Config{})
	ok := Config{TLS: true, CAFile: certs.CAFile, SASLMechanism: ScramSHA256, Username: "u", Password: "right-password-1", Flags: flags}
	f := func(name, broker string, edit func(*Config), want ...string) {
		t.Helper()
		c := ok
		edit(&c)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		start := time.Now()
		err := Check(ctx, []string{broker}, c)
		if err == nil {
			t.Errorf("%s: Check succeeded, want an error", name)
			return
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", name, err, w)
			}
		}
		t.Logf("%s: %v", name, err)
		if !IsMisconfigured(err) {
			t.Errorf("%s: not reported as a misconfiguration, so the process would retry it forever", name)
		}
		if took := time.Since(start); took > 15*time.Second {
			t.Errorf("%s: took %s to fail", name, took)
		}
	}
	f("wrong password", secure, func(c *Config) { c.Password = "wrong-password-1" }, "authentication", "-x.kafka.sasl.passwordFile")
	f("wrong mechanism", secure, func(c *Config) { c.SASLMechanism = Plain }, "-x.kafka.sasl.mechanism")
	f("untrusted certificate", secure, func(c *Config) { c.CAFile = "" }, "not trusted", "-x.kafka.tls.caFile")
	f("plaintext to the TLS listener", secure, func(c *Config) { c.TLS, c.CAFile = false, "" }, "-x.kafka.tls")
	f("TLS to a plaintext listener", plaintext, func(c *Config) { c.SASLMechanism, c.Username, c.Password = "", "", "" }, "TLS handshake", "drop -x.kafka.tls")
	f("no password", secure, func(c *Config) { c.Password = "" }, "needs a password", "-x.kafka.sasl.passwordFile")
	f("unknown mechanism", secure, func(c *Config) { c.SASLMechanism = "GSSAPI" }, "GSSAPI", "-x.kafka.sasl.mechanism")
	f("a password SCRAM cannot use", secure, func(c *Config) { c.Password = "line\nbreak-secret" }, "SASLprep", "-x.kafka.sasl.passwordFile")
	c := ok
	c.Password = "line\nbreak-secret"
	if err := Check(context.Background(), []string{secure}, c); err == nil || strings.Contains(err.Error(), "break-secret") {
		t.Errorf("an error quotes the password: %v", err)
	}
	f("CA without TLS", secure, func(c *Config) { c.TLS = false }, "need -x.kafka.tls")
	f("certificate without key", secure, func(c *Config) { c.CertFile = certs.CertFile }, "go together")

	// A broker that is away is not a misconfiguration: the process keeps retrying.
	away := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	ctx0, cancel0 := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel0()
	if err := Check(ctx0, []string{away}, ok); err == nil || IsMisconfigured(err) {
		t.Errorf("a broker that is away: %v (misconfigured %v), want an error that is not a misconfiguration", err, IsMisconfigured(err))
	}

	// The reference: the right settings pass.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := Check(ctx, []string{secure}, ok); err != nil {
		t.Fatalf("the right settings: %v", err)
	}
}
