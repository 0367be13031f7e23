package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/beaconprm/beacon/signals"
)

// runSignals evaluates the signal rules (signals/README.md) on a schedule and delivers
// their webhooks until ctx ends.
func runSignals(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("signals")
	var ch chFlags
	ch.register(fs)
	var cfg signals.Config
	configPath := fs.String("signals.config", "signals.json", "the rules and webhook receivers, JSON (signals/README.md); it holds the receivers' URLs, keep it private")
	metricsAddr := fs.String("signals.metricsAddr", "127.0.0.1:9102", "where to serve Prometheus /metrics (signals_*); empty disables")
	fs.StringVar(&cfg.StatePath, "signals.stateFile", "var/signals-state.json", "the signals sent and the silences signalled, rewritten atomically after each delivery; one `beacon signals` per file")
	fs.DurationVar(&cfg.Interval, "signals.interval", time.Minute, "time between two evaluations of every rule (an evaluation that takes longer delays the next). An open of a watched content is signalled within this much of reaching ClickHouse")
	fs.DurationVar(&cfg.QueryTimeout, "signals.queryTimeout", 30*time.Second, "longest one saved query of an evaluation may take; it then counts in signals_eval_errors_total")
	fs.IntVar(&cfg.QueueSize, "signals.queueSize", 1000, "most deliveries pending (queued, in flight, waiting to retry); more are counted in signals_queue_full_total and offered again by the next evaluation")
	fs.IntVar(&cfg.Workers, "signals.workers", 4, "deliveries in flight at once; a receiver that hangs holds one until its timeout")
	fs.IntVar(&cfg.MaxAttempts, "signals.maxAttempts", 8, "attempts per delivery before it waits for the next evaluation to be offered again")
	fs.DurationVar(&cfg.RetryMin, "signals.retryMin", time.Second, "first backoff after a failed attempt; it doubles each time, with jitter")
	fs.DurationVar(&cfg.RetryMax, "signals.retryMax", time.Minute, "longest backoff between two attempts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("beacon signals: unexpected arguments %q", fs.Args())
	}
	file, err := signals.LoadFile(*configPath)
	if err != nil {
		return fmt.Errorf("beacon signals: %w (-signals.config)", err)
	}
	cfg.File = file
	cfg.Database = ch.database
	cfg.Logger = slog.New(slog.NewTextHandler(m.Stderr, nil))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg.Registerer = reg
	conn, err := ch.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	cfg.Conn = conn
	r, err := signals.New(cfg)
	if err != nil {
		return fmt.Errorf("beacon signals: %w", err)
	}
	if *metricsAddr != "" {
		at, stop, err := serveMetrics(*metricsAddr, reg)
		if err != nil {
			return fmt.Errorf("cannot serve metrics on -signals.metricsAddr=%s: %w", *metricsAddr, err)
		}
		defer stop()
		cfg.Logger.Info("serving metrics", "addr", at)
	}
	cfg.Logger.Info("signals starting", "rules", len(file.Rules), "receivers", len(file.Receivers), "interval", cfg.Interval, "state", cfg.StatePath)
	return r.Run(ctx)
}
