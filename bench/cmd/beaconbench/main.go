// Command beaconbench runs the benchmark scenarios of bench/ and the load generator on its
// own. Usage:
//
//	beaconbench <scenario> [flags]    collector | hotpath | ingest | freshness | queries | overload | console
//	beaconbench load -addr host:port [-rate N] [-duration 10s]
//	beaconbench ceiling -addr host:port
//
// Each scenario starts what it needs from bin/beacon on free ports with temporary data,
// stops it all, and rewrites its section of bench/RESULTS.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/beaconprm/beacon/bench"
	"github.com/beaconprm/beacon/bench/internal/load"
	"github.com/beaconprm/beacon/internal/chlocal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, unwatch := chlocal.WatchParent(ctx) // `beaconbench ceiling` ends with the bench that started it
	err := run(ctx, os.Args[1:])
	unwatch()
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "beaconbench: %v\n", err)
		os.Exit(1)
	} else if err != nil {
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: beaconbench <command> [flags]

scenarios (each rewrites its section of bench/RESULTS.md):
  collector   collector throughput vs a bare fasthttp 204 server, latency against load
  hotpath     collector hot path on one core (go test -bench in ./beacon)
  ingest      ingest rows/s vs ClickHouse's own HTTP INSERT FORMAT JSONEachRow
  freshness   accepted-to-queryable p50/p99 at a sustained rate
  queries     saved query p50/p95 on -rows synthetic raw events
  overload    collector RSS and 503 shedding at -overload x saturation
  console     console API p50/p95 per call and pages visually complete in Chromium, on -rows synthetic raw events

tools:
  load        run the load generator against -addr (fixed rate with -rate, else max rate)
  ceiling     serve the bare fasthttp 204 handler on -addr

run 'beaconbench <command> -help' for flags`)
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") || args[0] == "help" {
		usage()
		return flag.ErrHelp
	}
	name, args := args[0], args[1:]
	fs := flag.NewFlagSet("beaconbench "+name, flag.ContinueOnError)
	o := bench.DefaultOptions()
	fs.StringVar(&o.Results, "out", "", "results file to rewrite (default bench/RESULTS.md of the repository)")
	fs.StringVar(&o.Beacon, "beacon", "", "beacon binary (default bin/beacon of the repository; build it with make build)")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "length of one load run")
	fs.IntVar(&o.Runs, "runs", o.Runs, "runs per figure; the median is reported")
	fs.IntVar(&o.Conns, "conns", o.Conns, "load generator connections (workers) at max rate")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary data directories and logs")
	// Rate's zero is the load subcommand's max rate; the freshness scenario then takes
	// DefaultOptions' rate.
	fs.Float64Var(&o.Rate, "rate", 0, fmt.Sprintf("freshness: events/s offered (0 = %v); load: requests/s (0 = max rate)", o.Rate))
	fs.IntVar(&o.Events, "events", o.Events, "ingest: messages produced and ingested per run")
	fs.Int64Var(&o.Rows, "rows", o.Rows, "queries, console: synthetic raw events generated server-side")
	fs.StringVar(&o.Data, "data", "", "queries, console: keep the loaded ClickHouse data in this directory (empty or absent at first); "+
		"the console scenario reuses a load an earlier run left there with the same -rows, so one load serves both")
	fs.IntVar(&o.QueryN, "n", o.QueryN, "queries: runs of each saved query; console: of each API call")
	fs.Float64Var(&o.Overload, "overload", o.Overload, "overload: offered load as a multiple of the measured saturation")
	fs.BoolVar(&o.Shared, "shared", false, "overload: run the collector on the same CPUs as the load generator (default: half the CPUs each, with taskset)")
	addr := fs.String("addr", "", "load and ceiling: host:port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch name {
	case "ceiling":
		if *addr == "" {
			return errors.New("ceiling: -addr is required")
		}
		return bench.ServeCeiling(ctx, *addr)
	case "load":
		if *addr == "" {
			return errors.New("load: -addr is required")
		}
		mix, err := load.NewMix(load.MixConfig{Site: "bench"}, nil)
		if err != nil {
			return err
		}
		res, err := load.Run(ctx, load.Config{Addr: *addr, Rate: o.Rate, Duration: o.Duration, Conns: o.Conns, Mix: mix,
			Progress: os.Stderr, Label: "load " + *addr})
		if err != nil {
			return err
		}
		fmt.Println(res)
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	o.Self = self
	o.Log = os.Stderr
	o.Command = strings.Join(append([]string{filepath.Join("bin", "beaconbench"), name}, args...), " ")
	return bench.Run(ctx, name, o)
}
