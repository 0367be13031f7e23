package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/beaconprm/beacon/internal/kafkaconn"
	"github.com/beaconprm/beacon/internal/tlsfiles"
)

// splitList splits a comma-separated flag value, dropping blanks and spaces.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// clickhousePassword reads the password from file (named by flagName in errors) when given,
// else from $BEACON_CLICKHOUSE_PASSWORD; secrets never come from flag values.
func clickhousePassword(file, flagName string) (string, error) {
	return secret(file, flagName, "BEACON_CLICKHOUSE_PASSWORD")
}

// secret reads a secret from file (named by flagName in errors) when given, else from the
// environment variable env; secrets never come from flag values.
func secret(file, flagName, env string) (string, error) {
	if file == "" {
		return os.Getenv(env), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("cannot read -%s: %w", flagName, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// bytesFlag is a size flag accepting 65536, 64KiB, 16MiB, 1GiB (or KB/MB/GB in powers of ten).
type bytesFlag struct{ n int64 }

func newBytesFlag(def int64) *bytesFlag { return &bytesFlag{n: def} }

func (b *bytesFlag) String() string {
	if b == nil {
		return "0"
	}
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b.n >= u.mult && b.n%u.mult == 0 {
			return strconv.FormatInt(b.n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(b.n, 10)
}

func (b *bytesFlag) Set(s string) error {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return errors.New("want a positive size such as 65536, 64KiB or 1GiB")
	}
	b.n = n * mult
	return nil
}

// kafkaFlags are one subcommand's Kafka connection flags, -<prefix>.kafka.*.
type kafkaFlags struct {
	prefix       string
	cfg          kafkaconn.Config
	passwordFile string
}

func newKafkaFlags(fs *flag.FlagSet, prefix string) *kafkaFlags {
	k := &kafkaFlags{prefix: prefix}
	p := prefix + ".kafka."
	fs.BoolVar(&k.cfg.TLS, p+"tls", false, "connect to the Kafka brokers with TLS")
	fs.StringVar(&k.cfg.CAFile, p+"tls.caFile", "", "PEM file of the CA certificates the brokers' certificates chain to (default: the system's roots)")
	fs.StringVar(&k.cfg.CertFile, p+"tls.certFile", "", "PEM client certificate for mutual TLS, with -"+p+"tls.keyFile")
	fs.StringVar(&k.cfg.KeyFile, p+"tls.keyFile", "", "PEM private key of -"+p+"tls.certFile")
	fs.StringVar(&k.cfg.SASLMechanism, p+"sasl.mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default: none)")
	fs.StringVar(&k.cfg.Username, p+"sasl.user", "", "SASL user name")
	fs.StringVar(&k.passwordFile, p+"sasl.passwordFile", "", "file holding the SASL password (default: $BEACON_KAFKA_PASSWORD)")
	return k
}

// config returns the settings, with the password read from its file or the environment.
func (k *kafkaFlags) config() (kafkaconn.Config, error) {
	c := k.cfg
	p := k.prefix + ".kafka."
	c.Flags = map[string]string{
		"TLS": p + "tls", "CAFile": p + "tls.caFile", "CertFile": p + "tls.certFile", "KeyFile": p + "tls.keyFile",
		"SASLMechanism": p + "sasl.mechanism", "Username": p + "sasl.user", "Password": p + "sasl.passwordFile",
	}
	if c.SASLMechanism == "" {
		return c, nil
	}
	var err error
	c.Password, err = secret(k.passwordFile, p+"sasl.passwordFile", "BEACON_KAFKA_PASSWORD")
	return c, err
}

// checkKafka connects once when TLS or SASL is set. Wrong settings end the process at
// start, naming the flag; brokers that are only away are logged, and the process goes on
// retrying as it does when Kafka goes away later.
func checkKafka(ctx context.Context, brokers []string, c kafkaconn.Config, log *slog.Logger) error {
	if !c.Enabled() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err := kafkaconn.Check(ctx, brokers, c)
	switch {
	case err == nil:
		return nil
	case kafkaconn.IsMisconfigured(err):
		return err
	}
	log.Warn("Kafka is not reachable yet; retrying in the background", "err", err)
	return nil
}

// chTLSFlags are the TLS flags of a ClickHouse connection, -<prefix>.tls*.
type chTLSFlags struct {
	prefix                    string
	on                        bool
	caFile, certFile, keyFile string
}

func (t *chTLSFlags) register(fs *flag.FlagSet, prefix string) {
	t.prefix = prefix
	fs.BoolVar(&t.on, prefix+".tls", false, "connect to ClickHouse with TLS (its secure native port, usually 9440)")
	fs.StringVar(&t.caFile, prefix+".tls.caFile", "", "PEM file of the CA certificates ClickHouse's certificate chains to (default: the system's roots)")
	fs.StringVar(&t.certFile, prefix+".tls.certFile", "", "PEM client certificate, with -"+prefix+".tls.keyFile")
	fs.StringVar(&t.keyFile, prefix+".tls.keyFile", "", "PEM private key of -"+prefix+".tls.certFile")
}

// config returns the TLS configuration, nil without -<prefix>.tls.
func (t *chTLSFlags) config() (*tls.Config, error) {
	if !t.on {
		if t.caFile != "" || t.certFile != "" || t.keyFile != "" {
			return nil, fmt.Errorf("-%s.tls.caFile, -%[1]s.tls.certFile and -%[1]s.tls.keyFile need -%[1]s.tls", t.prefix)
		}
		return nil, nil
	}
	tc, err := tlsfiles.Client(t.caFile, t.certFile, t.keyFile)
	if err != nil {
		return nil, fmt.Errorf("-%s.tls.caFile, -%[1]s.tls.certFile, -%[1]s.tls.keyFile: %w", t.prefix, err)
	}
	return tc, nil
}
