package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beaconprm/beacon/schema"
)

// runKeep computes the kept answers (schema.KeptForms: the tenant-wide forms of the
// heaviest saved queries) for every tenant, now and then every -keep.every, until ctx ends;
// the console and `beacon query -query.keptMaxAge` serve them while they are fresh.
func runKeep(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("keep")
	var ch chFlags
	ch.register(fs)
	every := fs.Duration("keep.every", 5*time.Minute, "time from the start of one round to the start of the next (a round that takes longer starts the next at once); keep it under the console's -console.keptMaxAge")
	once := fs.Bool("keep.once", false, "keep every answer once, then exit (non-zero when one failed)")
	tenantList := fs.String("keep.tenants", "", "comma-separated tenants to keep answers for; empty for every tenant with events")
	fs.Usage = func() {
		var forms []string
		for _, f := range schema.KeptForms {
			forms = append(forms, "  "+f.Query+formParams(f.Params))
		}
		fmt.Fprintln(m.Stderr, "usage: beacon keep [flags]\n\nComputes, for every tenant, the answers of the heaviest saved queries in the forms the console asks\nfor by default, and keeps them in ClickHouse (tables kept_answers and kept_<query>_<hash>), now and\nthen every -keep.every. The console and `beacon query -query.keptMaxAge` serve a kept answer while\nit is younger than their maximum age, and compute every other answer as before. Needs a ClickHouse\nuser that may create tables and insert in the database. The forms kept:\n"+strings.Join(forms, "\n")+"\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errors.New("beacon keep: takes no arguments")
	}
	if *every <= 0 {
		return fmt.Errorf("beacon keep: -keep.every must be positive, got %v", *every)
	}
	var tenants []string
	for _, t := range strings.Split(*tenantList, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tenants = append(tenants, t)
		}
	}
	conn, err := ch.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	k := &schema.Keeper{Conn: conn, DB: ch.database, Tenants: tenants, Log: m.Stderr}
	for {
		start := time.Now()
		st, err := k.Once(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fmt.Fprintf(m.Stderr, "beacon keep: kept %d answers (%d rows) in %s\n", st.Answers, st.Rows, st.Took.Round(time.Millisecond))
		if err != nil {
			if *once {
				return fmt.Errorf("beacon keep: %w", err)
			}
			fmt.Fprintf(m.Stderr, "beacon keep: %v (tried again next round)\n", err)
		}
		if *once {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(start.Add(*every))):
		}
	}
}

// formParams shows a kept form's parameters: " level=partner stopped=0".
func formParams(p map[string]string) string {
	var s []string
	for k, v := range p {
		s = append(s, k+"="+v)
	}
	if len(s) == 0 {
		return " (defaults)"
	}
	slices.Sort(s)
	return " " + strings.Join(s, " ")
}
