// Command beacon is the partner-engagement tracking pipeline: one binary whose subcommands
// run the collector, the ingester, the schema tools and the local development stack.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/beaconprm/beacon/internal/chlocal"
)

func main() {
	m := NewMain(os.Stdout, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, unwatch := chlocal.WatchParent(ctx) // a child of `beacon dev` ends with it
	err := m.Run(ctx, os.Args[1:])
	unwatch()
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "beacon: %v\n", err)
		os.Exit(1)
	}
}

// command is one subcommand: it parses its own flags and runs until done or ctx ends.
type command struct {
	summary string
	hidden  bool
	run     func(ctx context.Context, m *Main, args []string) error
}

// Main holds what subcommands share: where they print.
type Main struct {
	Stdout, Stderr io.Writer
	commands       map[string]command
}

// NewMain returns a Main with every subcommand registered.
func NewMain(stdout, stderr io.Writer) *Main {
	return &Main{Stdout: stdout, Stderr: stderr, commands: map[string]command{
		"dev":        {summary: "run the whole stack locally (ClickHouse, Kafka, collector, ingest)", run: runDev},
		"clickhouse": {summary: "run the local ClickHouse 26.7 server from the chdb library", run: runClickHouse},
		"kafka":      {summary: "run the local Kafka-protocol broker with a data directory", run: runKafka},
		"collector":  {summary: "run the beacon collector (HTTP -> Kafka)", run: runCollector},
		"ingest":     {summary: "run the ingester (Kafka -> ClickHouse)", run: runIngest},
		"migrate":    {summary: "apply or show schema migrations (up|status|render)", run: runMigrate},
		"query":      {summary: "run a saved query", run: runQuery},
		"keep":       {summary: "keep the tenant-wide answers of the heaviest saved queries computed, on a schedule", run: runKeep},
		"biuser":     {summary: "print a read-only ClickHouse user for a BI tool that sees one tenant's rows", run: runBIUser},
		"import":     {summary: "import a dimension table from CSV", run: runImport},
		"refresh":    {summary: "recompute document-views' rows after writing events without the ingest", run: runRefresh},
		"link":       {summary: "mint a signed tracked link for a partner", run: runLink},
		"console":    {summary: "serve the read-only web console (pages and JSON API)", run: runConsole},
		"signals":    {summary: "evaluate signal rules on a schedule and POST webhooks (silent, back, opened)", run: runSignals},
	}}
}

// Run dispatches args[0] to its subcommand.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		m.usage()
		if len(args) == 0 {
			return flag.ErrHelp
		}
		return nil
	}
	c, ok := m.commands[args[0]]
	if !ok {
		m.usage()
		return fmt.Errorf("unknown subcommand %q", args[0])
	}
	return c.run(ctx, m, args[1:])
}

func (m *Main) usage() {
	fmt.Fprintln(m.Stderr, "usage: beacon <subcommand> [flags]\n\nsubcommands:")
	names := make([]string, 0, len(m.commands))
	for n, c := range m.commands {
		if !c.hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(m.Stderr, "  %-11s %s\n", n, m.commands[n].summary)
	}
	fmt.Fprintln(m.Stderr, "\nrun 'beacon <subcommand> -help' for its flags")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func (m *Main) newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("beacon "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	return fs
}
