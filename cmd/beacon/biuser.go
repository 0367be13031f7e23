package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/beaconprm/beacon/schema"
)

// runBIUser prints a ClickHouse user for a BI tool that reads one tenant's rows: read-only,
// with limits it cannot raise, and a row filter on every table of the beacon database (read
// from the server, so run it after beacon migrate up, and again after a migration adds a
// table).
func runBIUser(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("biuser")
	var ch chFlags
	ch.register(fs)
	tenant := fs.String("biuser.tenant", "", "the tenant the user reads (required)")
	name := fs.String("biuser.name", "", "the user's name (default bi_<tenant>, - as _)")
	pwFile := fs.String("biuser.passwordFile", "", "file holding the user's password (required; only its SHA-256 is printed)")
	format := fs.String("biuser.format", "xml", "xml: a users.d file for users.xml; sql: statements for SQL-driven access control")
	maxTime := fs.Int64("biuser.maxExecutionTime", 30, "seconds a query may run, at most")
	maxRows := fs.Int64("biuser.maxResultRows", 1000000, "rows an answer may have, at most")
	maxMem := fs.Int64("biuser.maxMemoryUsage", 4<<30, "bytes of memory a query may use, at most")
	fs.Usage = func() {
		fmt.Fprintln(m.Stderr, "usage: beacon biuser -biuser.tenant T -biuser.passwordFile F [flags]\n\n"+
			"Prints a read-only ClickHouse user that sees tenant T's rows only (schema/README.md, \"BI tools\").\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenant == "" || *pwFile == "" {
		fs.Usage()
		return errors.New("beacon biuser: -biuser.tenant and -biuser.passwordFile are required")
	}
	if *format != "xml" && *format != "sql" {
		return fmt.Errorf("-biuser.format %q: want xml or sql", *format)
	}
	pw, err := secret(*pwFile, "biuser.passwordFile", "")
	if err != nil {
		return err
	}
	if len(pw) < 16 {
		return errors.New("-biuser.passwordFile: the password must be at least 16 characters")
	}
	sum := sha256.Sum256([]byte(pw))
	u := schema.BIUser{Name: *name, Tenant: *tenant, Database: ch.database, PasswordSHA256: hex.EncodeToString(sum[:]),
		MaxExecutionTime: *maxTime, MaxResultRows: *maxRows, MaxMemoryUsage: *maxMem}
	if u.Name == "" {
		u.Name = "bi_" + strings.ReplaceAll(*tenant, "-", "_")
	}
	conn, err := ch.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if u.Tables, u.Hidden, err = schema.TenantTables(ctx, conn, ch.database); err != nil {
		return err
	}
	var out string
	if *format == "xml" {
		out, err = u.XML()
	} else {
		out, err = u.SQL()
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(m.Stdout, out)
	return err
}
