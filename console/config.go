// Package console is beacon's read-only web console: pages and a JSON API for the
// partner-programme manager, answering only with the saved queries of package schema
// (the same code as `beacon query`), with server-side parameters, for the tenants each
// signed-in user may see.
package console

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Config is the console's configuration; DefaultConfig gives every default, which the
// flags of `beacon console` reuse.
type Config struct {
	// ListenAddr is the HTTP address (default 127.0.0.1:8090: a console is not public;
	// put it behind a reverse proxy to serve others).
	ListenAddr string
	// Database holds the beacon tables (default beacon).
	Database string
	// UsersFile is the JSON file of users, their bcrypt password hashes and tenants
	// (see LoadUsers). Required.
	UsersFile string
	// TLSCertFile and TLSKeyFile, when both set, serve HTTPS (and mark the session
	// cookie Secure). Empty: plain HTTP.
	TLSCertFile, TLSKeyFile string
	// UserHeader, when set, trusts this request header (set by an authenticating
	// reverse proxy, e.g. X-Forwarded-User) for the user's name instead of the login
	// form; the user must still be in UsersFile. Empty (default): login form only.
	UserHeader string
	// SessionTTL is how long a session lasts after sign-in (default 12h).
	SessionTTL time.Duration
	// MaxSessions bounds the sessions kept in memory (default 10000); the oldest is
	// dropped when full.
	MaxSessions int
	// LoginAttempts failed sign-ins per client address and per user name are allowed
	// within LoginWindow (defaults 5 per 1m); further attempts get 429 until the window
	// passes.
	LoginAttempts int
	LoginWindow   time.Duration
	// QueryTimeout bounds each saved query (default 10s).
	QueryTimeout time.Duration
	// KeptMaxAge is the oldest kept answer (beacon keep) served instead of computing the
	// answer (default 10m); 0 computes every answer.
	KeptMaxAge time.Duration
	// MaxRows bounds document-views' viewers per answer (default 1000, the query's own
	// default).
	MaxRows int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		ListenAddr:    "127.0.0.1:8090",
		Database:      "beacon",
		SessionTTL:    12 * time.Hour,
		MaxSessions:   10000,
		LoginAttempts: 5,
		LoginWindow:   time.Minute,
		QueryTimeout:  10 * time.Second,
		KeptMaxAge:    10 * time.Minute,
		MaxRows:       1000,
	}
}

// Validate says which knob is wrong.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		return fmt.Errorf("-console.listenAddr %q: %w", c.ListenAddr, err)
	}
	if c.Database == "" {
		return errors.New("-clickhouse.database must not be empty")
	}
	if c.UsersFile == "" {
		return errors.New("-console.users is required: a JSON file of users (make a password hash with beacon console -hash)")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("-console.tlsCert and -console.tlsKey go together")
	}
	if c.SessionTTL <= 0 {
		return fmt.Errorf("-console.sessionTTL must be positive, got %v", c.SessionTTL)
	}
	if c.MaxSessions <= 0 {
		return fmt.Errorf("-console.maxSessions must be positive, got %d", c.MaxSessions)
	}
	if c.LoginAttempts <= 0 || c.LoginWindow <= 0 {
		return fmt.Errorf("-console.loginAttempts (%d) and -console.loginWindow (%v) must be positive", c.LoginAttempts, c.LoginWindow)
	}
	if c.QueryTimeout <= 0 {
		return fmt.Errorf("-console.queryTimeout must be positive, got %v", c.QueryTimeout)
	}
	if c.KeptMaxAge < 0 {
		return fmt.Errorf("-console.keptMaxAge must be 0 or positive, got %v", c.KeptMaxAge)
	}
	if c.MaxRows <= 0 {
		return fmt.Errorf("-console.maxRows must be positive, got %d", c.MaxRows)
	}
	return nil
}
