package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/beaconprm/beacon/schema"
)

// runImport loads a dimension table (partners, contents, deals, ...) from a CSV file.
func runImport(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("import")
	var ch chFlags
	ch.register(fs)
	tenant := fs.String("import.tenant", "", "tenant the rows belong to (required)")
	maxErrors := fs.Int("import.maxErrors", 20, "bad lines reported before giving up; a file with any bad line imports nothing")
	fs.Usage = func() {
		fmt.Fprintln(m.Stderr, "usage: beacon import -import.tenant T [flags] <table> FILE.csv\n\nThe first line names the columns (any order; * required). Re-importing replaces rows by key.\ntables:")
		for _, d := range schema.Dimensions {
			fmt.Fprintf(m.Stderr, "  %-19s %s\n", d.Table, strings.Join(d.Columns(), ","))
		}
		fmt.Fprintln(m.Stderr, "\nflags:")
		fs.PrintDefaults()
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) != 2 {
		fs.Usage()
		return errors.New("beacon import: want <table> FILE.csv")
	}
	if *tenant == "" {
		return errors.New("beacon import: -import.tenant is required")
	}
	d, err := schema.LookupDimension(pos[0])
	if err != nil {
		return fmt.Errorf("beacon import: %w", err)
	}
	f, err := os.Open(pos[1])
	if err != nil {
		return fmt.Errorf("beacon import: %w", err)
	}
	defer f.Close()
	conn, err := ch.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	n, err := schema.Import(ctx, conn, d, f, schema.ImportOptions{Database: ch.database, Tenant: *tenant, MaxErrors: *maxErrors})
	if err != nil {
		return fmt.Errorf("beacon import %s %s: %w", d.Table, pos[1], err)
	}
	fmt.Fprintf(m.Stdout, "imported %d rows into %s.%s for tenant %s\n", n, ch.database, d.Table, *tenant)
	return nil
}
