// Package bench holds the scenario runners behind `make bench` (see bench/README.md): each
// starts what it measures (internal/stack), drives it with the load generator
// (internal/load) or its own queries, and rewrites its section of RESULTS.md
// (internal/report). Figures are always measured beside a ceiling in the same run, because
// the machines here are shared and noisy.
package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/beaconprm/beacon/bench/internal/report"
	"github.com/beaconprm/beacon/bench/internal/stack"
	"github.com/beaconprm/beacon/internal/ready"
)

// Options are the knobs shared by the scenarios (flags of cmd/beaconbench).
type Options struct {
	Results  string        // RESULTS.md to rewrite; default <root>/bench/RESULTS.md
	Beacon   string        // beacon binary; default <root>/bin/beacon
	Self     string        // this program (runs the ceiling server as a separate process)
	Command  string        // the command line, for the report
	Duration time.Duration // one load run; default 10s
	Runs     int           // runs per figure (the median is reported); default 3
	Conns    int           // load generator connections at max rate; default 256
	Keep     bool          // keep the temporary directories
	Log      io.Writer     // progress and child process notes

	Rate     float64 // freshness: events/s offered; default 2000
	Events   int     // ingest: messages; default 500000
	Rows     int64   // queries: synthetic raw events; default 100M
	Data     string  // queries, console: ClickHouse data directory kept after the run; console reuses a load found there
	QueryN   int     // queries: runs of each saved query; default 30
	Overload float64 // overload: offered load as a multiple of saturation; default 2
	// Shared (overload): leave the collector and the load generator on the same CPUs
	// instead of splitting the machine's CPUs between them (stack.SplitCPUs).
	Shared bool
}

// DefaultOptions are the defaults of the knobs that have one; cmd/beaconbench's flags start
// from them and a zero field of Options passed to Run takes the value here.
func DefaultOptions() Options {
	return Options{Duration: 10 * time.Second, Runs: 3, Conns: 256, Rate: 2000, Events: 500000, Rows: 100_000_000, QueryN: 30, Overload: 2}
}

func (o *Options) defaults() error {
	d := DefaultOptions()
	if o.Results == "" {
		root, err := ready.RepoRoot()
		if err != nil {
			return err
		}
		o.Results = filepath.Join(root, "bench", "RESULTS.md")
	}
	if o.Duration <= 0 {
		o.Duration = d.Duration
	}
	if o.Runs <= 0 {
		o.Runs = d.Runs
	}
	if o.Conns <= 0 {
		o.Conns = d.Conns
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Rate <= 0 {
		o.Rate = d.Rate
	}
	if o.Events <= 0 {
		o.Events = d.Events
	}
	if o.Rows <= 0 {
		o.Rows = d.Rows
	}
	if o.QueryN <= 0 {
		o.QueryN = d.QueryN
	}
	if o.Overload <= 0 {
		o.Overload = d.Overload
	}
	return nil
}

// newStack prepares the processes' stack of a scenario run with o: the beacon binary
// o.Beacon, progress to o.Log, the work directory kept after Close if o.Keep.
func newStack(o *Options) (*stack.Stack, error) { return stack.New(o.Beacon, o.Keep, o.Log) }

// Run runs scenario name and rewrites its section of RESULTS.md.
func Run(ctx context.Context, name string, o Options) error {
	if err := o.defaults(); err != nil {
		return err
	}
	fns := map[string]func(context.Context, *Options, *report.Report) error{
		"collector": runCollector,
		"hotpath":   runHotPath,
		"ingest":    runIngest,
		"freshness": runFreshness,
		"queries":   runQueries,
		"overload":  runOverload,
		"console":   runConsole,
	}
	fn, ok := fns[name]
	if !ok {
		return fmt.Errorf("unknown scenario %q", name)
	}
	r := &report.Report{Scenario: name, Command: o.Command, Started: time.Now()}
	fmt.Fprintf(o.Log, "== scenario %s\n", name)
	if err := fn(ctx, &o, r); err != nil {
		return fmt.Errorf("scenario %s: %w", name, err)
	}
	if err := report.WriteResults(o.Results, r); err != nil {
		return err
	}
	fmt.Fprintf(o.Log, "== %s done in %s; wrote %s\n", name, time.Since(r.Started).Round(time.Second), o.Results)
	for _, row := range r.Rows {
		fmt.Fprintf(o.Log, "   %-45s %-18s ceiling %-14s %-7s target %-12s %s\n", row.Metric, row.Value, row.Ceiling, row.Ratio, row.Target, row.Verdict)
	}
	return nil
}

// ServeCeiling serves the ceiling: a bare fasthttp handler answering 204 to everything,
// until ctx ends. It runs as its own process, like the collector it is compared with.
func ServeCeiling(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &fasthttp.Server{Handler: func(c *fasthttp.RequestCtx) { c.SetStatusCode(fasthttp.StatusNoContent) }}
	go func() {
		<-ctx.Done()
		srv.Shutdown()
	}()
	return srv.Serve(ln)
}

// startCeiling starts this program's `ceiling` subcommand on a free port, through prefix
// (taskset, to pin it) when one is given.
func startCeiling(s *stack.Stack, self string, prefix ...string) (string, *stack.Proc, error) {
	addr, err := stack.FreeAddr()
	if err != nil {
		return "", nil, err
	}
	bin, args := self, []string{"ceiling", "-addr", addr}
	if len(prefix) > 0 {
		bin, args = prefix[0], append(append(slices.Clone(prefix[1:]), self), args...)
	}
	p, err := s.Start("ceiling", bin, args...)
	if err != nil {
		return "", nil, err
	}
	if err := stack.WaitFor(p, 30*time.Second, ready.TCP(addr)); err != nil {
		return "", nil, fmt.Errorf("ceiling: %w", err)
	}
	return addr, p, nil
}

// plotPath returns where plot name goes: the plots/ folder beside RESULTS.md, absolute and
// relative to it.
func (o *Options) plotPath(name string) (abs, rel string) {
	return filepath.Join(filepath.Dir(o.Results), "plots", name), "plots/" + name
}

// perReq is microseconds of CPU per request.
func perReq(cpu time.Duration, requests int64) float64 {
	if requests <= 0 {
		return 0
	}
	return float64(cpu.Microseconds()) / float64(requests)
}
