package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/beaconprm/beacon/schema"
)

// paramFlags collects repeated -param name=value flags.
type paramFlags map[string]string

func (p paramFlags) String() string { return "" }

func (p paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	if _, dup := p[k]; dup {
		return fmt.Errorf("parameter %q given twice", k)
	}
	p[k] = v
	return nil
}

// runQuery runs a saved query (schema/queries/<name>.sql) and prints its answer.
func runQuery(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("query")
	var ch chFlags
	ch.register(fs)
	params := paramFlags{}
	fs.Var(params, "param", "a query parameter as name=value; repeat for each (see 'beacon query -list')")
	format := fs.String("format", "table", "output format: "+strings.Join(schema.Formats, ", "))
	list := fs.Bool("list", false, "list the saved queries and their parameters, then exit")
	keptAge := fs.Duration("query.keptMaxAge", 0, "answer from a kept answer (beacon keep) computed within this age when there is one, and say so on stderr; 0 computes every answer")
	fs.Usage = func() {
		fmt.Fprintln(m.Stderr, "usage: beacon query [flags] <name>\n       beacon query -list\n\nexample: beacon query -param tenant=demo -param content=vid-1 video-retention\n\nflags:")
		fs.PrintDefaults()
	}
	// Flags may come before and after the name: beacon query video-retention -param ...
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		names, args = append(names, fs.Arg(0)), fs.Args()[1:]
	}
	if *list {
		return listQueries(m)
	}
	if len(names) != 1 {
		fs.Usage()
		return errors.New("beacon query: want exactly one saved query name")
	}
	name := names[0]
	if !slices.Contains(schema.Formats, *format) {
		return fmt.Errorf("beacon query: -format %q; want one of %s", *format, strings.Join(schema.Formats, ", "))
	}
	q, err := schema.LookupQuery(name)
	if err != nil {
		return fmt.Errorf("beacon query: %w", err)
	}
	if _, _, err := q.Bind(ch.database, params); err != nil {
		return fmt.Errorf("beacon query: %w", err)
	}
	conn, err := ch.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	res, err := q.Answer(ctx, conn, ch.database, params, *keptAge)
	if err != nil {
		return fmt.Errorf("beacon query: %w", err)
	}
	if !res.KeptAt.IsZero() {
		fmt.Fprintf(m.Stderr, "beacon query: the answer kept at %s (%s ago)\n", res.KeptAt.Format("2006-01-02 15:04:05.000 MST"), time.Since(res.KeptAt).Round(time.Second))
	}
	return res.Write(m.Stdout, *format)
}

func listQueries(m *Main) error {
	qs, err := schema.SavedQueries()
	if err != nil {
		return err
	}
	for _, q := range qs {
		fmt.Fprintf(m.Stdout, "%s\n", q.Name)
		for _, line := range strings.Split(q.Doc, "\n") {
			fmt.Fprintf(m.Stdout, "    %s\n", line)
		}
		tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		for _, p := range q.Params {
			def := "required"
			if p.Optional {
				def = fmt.Sprintf("default %q", p.Default)
			}
			fmt.Fprintf(tw, "    -param %s=\t%s\t%s\t%s\n", p.Name, p.Type, def, p.Doc)
		}
		tw.Flush()
		fmt.Fprintln(m.Stdout)
	}
	return nil
}
