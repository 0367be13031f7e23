package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/beaconprm/beacon/console"
)

// runConsole serves the read-only web console, or with -hash prints a password hash for
// its users file.
func runConsole(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("console")
	var ch chFlags
	ch.register(fs)
	cfg := console.DefaultConfig()
	fs.StringVar(&cfg.ListenAddr, "console.listenAddr", cfg.ListenAddr, "HTTP address of the console; loopback by default, as a console is not public")
	fs.StringVar(&cfg.UsersFile, "console.users", "", `users file (JSON): {"users": [{"name": "ann", "passwordHash": "<beacon console -hash>", "tenants": ["acme"]}]}`)
	fs.StringVar(&cfg.TLSCertFile, "console.tlsCert", "", "TLS certificate file; with -console.tlsKey, serve HTTPS (session cookies are then Secure)")
	fs.StringVar(&cfg.TLSKeyFile, "console.tlsKey", "", "TLS key file")
	fs.StringVar(&cfg.UserHeader, "console.userHeader", "", "trust this header (e.g. X-Forwarded-User) from an authenticating reverse proxy for the user name; the proxy must strip it from clients; empty: login form only")
	fs.DurationVar(&cfg.SessionTTL, "console.sessionTTL", cfg.SessionTTL, "how long a sign-in lasts")
	fs.IntVar(&cfg.MaxSessions, "console.maxSessions", cfg.MaxSessions, "sessions kept in memory; the oldest is dropped when full")
	fs.IntVar(&cfg.LoginAttempts, "console.loginAttempts", cfg.LoginAttempts, "failed sign-ins allowed per client address and per user name within -console.loginWindow; then 429")
	fs.DurationVar(&cfg.LoginWindow, "console.loginWindow", cfg.LoginWindow, "window of -console.loginAttempts")
	fs.DurationVar(&cfg.QueryTimeout, "console.queryTimeout", cfg.QueryTimeout, "longest a saved query may run for one request")
	fs.DurationVar(&cfg.KeptMaxAge, "console.keptMaxAge", cfg.KeptMaxAge, "serve a tenant-wide answer kept by `beacon keep` while it is younger than this (the page says when it was computed); 0 computes every answer")
	fs.IntVar(&cfg.MaxRows, "console.maxRows", cfg.MaxRows, "most viewers of a document returned at once (document-views' limit)")
	hash := fs.Bool("hash", false, "read a password from stdin, print its bcrypt hash for the users file, and exit")
	fs.Usage = func() {
		fmt.Fprintln(m.Stderr, "usage: beacon console [flags]\n       echo -n 'password' | beacon console -hash\n\nServes the read-only web console (pages and the JSON API under /api/) on -console.listenAddr.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errors.New("beacon console: takes no arguments")
	}
	if *hash {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("beacon console -hash: cannot read a password from stdin: %w", err)
		}
		h, err := console.HashPassword(strings.TrimRight(line, "\r\n"))
		if err != nil {
			return fmt.Errorf("beacon console -hash: %w", err)
		}
		fmt.Fprintln(m.Stdout, h)
		return nil
	}
	cfg.Database = ch.database
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("beacon console: %w", err)
	}
	users, err := console.LoadUsers(cfg.UsersFile)
	if err != nil {
		return fmt.Errorf("beacon console: %w", err)
	}
	password, err := clickhousePassword(ch.passwordFile, "clickhouse.passwordFile")
	if err != nil {
		return err
	}
	// Not pinged: the console starts, and says so on its pages, while ClickHouse is away.
	opts := &clickhouse.Options{
		Addr:        splitList(ch.addr),
		Auth:        clickhouse.Auth{Username: ch.user, Password: password, Database: ch.database},
		DialTimeout: ch.dialTimeout,
	}
	console.ReadOnly(opts)
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return fmt.Errorf("cannot open ClickHouse at %s: %w", ch.addr, err)
	}
	defer conn.Close()
	srv, err := console.New(cfg, conn, users, m.Stderr)
	if err != nil {
		return fmt.Errorf("beacon console: %w", err)
	}
	fmt.Fprintf(m.Stderr, "console: serving http://%s (ClickHouse %s, database %s, %d users)\n", cfg.ListenAddr, ch.addr, ch.database, len(users.Users))
	return srv.Run(ctx)
}
