// Package kafkaconn holds how beacon's processes reach Kafka: TLS (with an optional client
// certificate) and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), turned into kafka-go dialers
// and transports, and a start-up check that fails at once with the flag to fix instead of
// retrying a misconfiguration forever.
package kafkaconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/beaconprm/beacon/internal/tlsfiles"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// SASL mechanisms.
const (
	Plain       = "PLAIN"
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
)

// Config is how to connect to the brokers. The zero value is plaintext without
// authentication, what the local broker speaks.
type Config struct {
	// TLS connects with TLS, verifying the brokers' certificates against CAFile or, when
	// CAFile is "", the system's roots.
	TLS bool
	// CAFile is a PEM file of the CA certificates the brokers' certificates chain to.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and key for mutual TLS; both or neither.
	CertFile, KeyFile string
	// SASLMechanism is "", PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	SASLMechanism string
	// Username and Password authenticate with SASLMechanism. The password comes from a file
	// or the environment, never from a flag value.
	Username, Password string

	// Flags names the flags that set these fields, for error messages: its keys are the
	// field names above ("TLS", "CAFile", "SASLMechanism", ...). Missing names print the field.
	Flags map[string]string
}

func (c Config) flag(field string) string {
	if f, ok := c.Flags[field]; ok {
		return "-" + f
	}
	return field
}

// Validate checks the settings without connecting.
func (c Config) Validate() error {
	if !c.TLS && (c.CAFile != "" || c.CertFile != "" || c.KeyFile != "") {
		return fmt.Errorf("%s, %s and %s need %s", c.flag("CAFile"), c.flag("CertFile"), c.flag("KeyFile"), c.flag("TLS"))
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return fmt.Errorf("%s and %s go together: give both or neither", c.flag("CertFile"), c.flag("KeyFile"))
	}
	switch strings.ToUpper(c.SASLMechanism) {
	case "":
		if c.Username != "" {
			return fmt.Errorf("%s is set but %s is not: choose PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.flag("Username"), c.flag("SASLMechanism"))
		}
	case Plain, ScramSHA256, ScramSHA512:
		if c.Username == "" {
			return fmt.Errorf("%s %s needs %s", c.flag("SASLMechanism"), c.SASLMechanism, c.flag("Username"))
		}
		if c.Password == "" {
			return fmt.Errorf("%s %s needs a password (%s)", c.flag("SASLMechanism"), c.SASLMechanism, c.flag("Password"))
		}
	default:
		return fmt.Errorf("%s %q is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", c.flag("SASLMechanism"), c.SASLMechanism)
	}
	return nil
}

// TLSConfig returns the client TLS configuration, nil without TLS.
func (c Config) TLSConfig() (*tls.Config, error) {
	if !c.TLS {
		return nil, nil
	}
	tc, err := tlsfiles.Client(c.CAFile, c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("%s, %s, %s: %w", c.flag("CAFile"), c.flag("CertFile"), c.flag("KeyFile"), err)
	}
	return tc, nil
}

// Mechanism returns the SASL mechanism, nil without SASL.
func (c Config) Mechanism() (sasl.Mechanism, error) {
	switch strings.ToUpper(c.SASLMechanism) {
	case "":
		return nil, nil
	case Plain:
		return plain.Mechanism{Username: c.Username, Password: c.Password}, nil
	case ScramSHA256, ScramSHA512:
		algo := scram.SHA256
		if strings.ToUpper(c.SASLMechanism) == ScramSHA512 {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, c.Username, c.Password)
		if err != nil {
			// The library's message quotes the password: never pass it on.
			return nil, misconfigured{fmt.Errorf("the SASL user name or password (%s, %s) is not valid for %s: it has characters SASLprep prohibits, such as a line break",
				c.flag("Username"), c.flag("Password"), c.SASLMechanism)}
		}
		return m, nil
	}
	return nil, c.Validate()
}

// Dialer returns a kafka-go dialer with c's TLS and SASL (for readers and consumer groups).
func (c Config) Dialer(timeout time.Duration) (*kafka.Dialer, error) {
	tc, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	mech, err := c.Mechanism()
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{Timeout: timeout, DualStack: true, TLS: tc, SASLMechanism: mech}, nil
}

// Transport returns a new kafka-go transport with c's TLS and SASL (for writers). Each
// writer gets its own: a shared transport's metadata cache can miss a topic created later.
func (c Config) Transport() (*kafka.Transport, error) {
	tc, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	mech, err := c.Mechanism()
	if err != nil {
		return nil, err
	}
	return &kafka.Transport{TLS: tc, SASL: mech}, nil
}

// Check connects to the brokers once, as the process will, and reads the cluster's
// metadata. It returns nil when one broker answers; otherwise an error that says what
// failed (unreachable, TLS, authentication) and which flag to look at. Processes call it at
// start so that a wrong password or certificate stops them at once.
func Check(ctx context.Context, brokers []string, c Config) error {
	if err := c.Validate(); err != nil {
		return misconfigured{err}
	}
	d, err := c.Dialer(5 * time.Second)
	if err != nil {
		return misconfigured{err}
	}
	var errs []error
	for _, b := range brokers {
		conn, err := d.DialContext(ctx, "tcp", b)
		if err == nil {
			_, err = conn.Brokers()
			conn.Close()
		}
		if err == nil {
			return nil
		}
		errs = append(errs, c.explain(b, err))
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// Enabled reports whether c asks for TLS or SASL (else it is the plaintext default).
func (c Config) Enabled() bool { return c.TLS || c.SASLMechanism != "" }

// misconfigured marks an error that retrying cannot fix: the settings are wrong.
type misconfigured struct{ error }

func (m misconfigured) Unwrap() error { return m.error }

// IsMisconfigured reports whether err (from Check) comes from wrong TLS or SASL settings or a
// listener speaking another protocol, which no retry fixes, rather than from an unreachable
// broker, which may come back. Processes exit on the first and keep retrying on the second.
func IsMisconfigured(err error) bool {
	var m misconfigured
	return errors.As(err, &m)
}

// explain turns a connection error into one that names the likely cause and the flag,
// marked misconfigured when the cause is the settings rather than the broker's absence.
func (c Config) explain(broker string, err error) error {
	var (
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		recErr   tls.RecordHeaderError
		kafkaErr kafka.Error
		netErr   net.Error
	)
	timeout := errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout()
	wrong := func(format string, args ...any) error { return misconfigured{fmt.Errorf(format, args...)} }
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostErr):
		return wrong("cannot connect to Kafka at %s: the broker's certificate is not trusted (%w); give its CA with %s", broker, err, c.flag("CAFile"))
	case errors.As(err, &recErr):
		return wrong("cannot connect to Kafka at %s: TLS to a port that does not speak TLS (%w); drop %s or use the broker's TLS listener", broker, err, c.flag("TLS"))
	case errors.As(err, &kafkaErr) && (kafkaErr == kafka.SASLAuthenticationFailed || kafkaErr == kafka.IllegalSASLState || kafkaErr == kafka.UnsupportedSASLMechanism):
		return wrong("cannot connect to Kafka at %s: SASL %s authentication as %q failed (%w); check %s, %s and the password (%s)",
			broker, c.SASLMechanism, c.Username, err, c.flag("SASLMechanism"), c.flag("Username"), c.flag("Password"))
	case !c.TLS && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "connection reset")):
		return wrong("cannot connect to Kafka at %s: the broker closed the connection (%w); if it expects TLS set %s, if it expects SASL set %s", broker, err, c.flag("TLS"), c.flag("SASLMechanism"))
	case c.TLS && timeout:
		return wrong("cannot connect to Kafka at %s: no answer to the TLS handshake in time (%w); if the listener does not speak TLS drop %s", broker, err, c.flag("TLS"))
	case timeout:
		return fmt.Errorf("cannot connect to Kafka at %s: no answer in time (%w); if the listener expects TLS set %s", broker, err, c.flag("TLS"))
	}
	return fmt.Errorf("cannot connect to Kafka at %s: %w", broker, err)
}
