package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/collector"
)

// runCollector serves beacons over HTTP, appends them to the spool and ships it to Kafka.
func runCollector(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("collector")
	cfg := collector.DefaultConfig() // the flags' defaults
	var (
		brokers   = fs.String("collector.brokers", strings.Join(cfg.Brokers, ","), "Kafka bootstrap brokers, comma-separated")
		maxBody   = newBytesFlag(int64(cfg.MaxBodySize))
		spoolMax  = newBytesFlag(cfg.SpoolMaxBytes)
		spoolSeg  = newBytesFlag(cfg.SpoolSegmentBytes)
		demoSites = fs.Bool("collector.demoSites", false, "write the demo site config (site key demo) to -collector.sites if that file does not exist")
		debug     = fs.Bool("collector.debug", false, "log debug details (connection errors; client addresses cut to their /24 or /48, request bytes never logged)")
		kafkaSec  = newKafkaFlags(fs, "collector")
	)
	fs.StringVar(&cfg.Ack, "collector.ack", cfg.Ack, "when a request is acknowledged; either way its events are first appended to the local spool and one shipper sends the spool to Kafka in order (acks=all): spool = once appended; kafka = once the shipper has them in Kafka, at most -collector.kafkaTimeout")
	fs.DurationVar(&cfg.SpoolSyncInterval, "collector.spoolSyncInterval", cfg.SpoolSyncInterval, "how often the spool is fsynced; acknowledged events survive a killed collector at once, but a machine crash can lose those of the last interval not yet in Kafka; 0 = fsync before every acknowledgement (group-committed, slower)")
	fs.StringVar(&cfg.ListenAddr, "collector.listenAddr", cfg.ListenAddr, "HTTP address for /v1/events, /v1/p.gif, /l/, /b.js, /healthz, /readyz, /metrics (unless -collector.metricsAddr) and, when switched on, /demo/ and /viewer/")
	fs.StringVar(&cfg.MetricsAddr, "collector.metricsAddr", cfg.MetricsAddr, "address of a listener of its own for /metrics (e.g. 127.0.0.1:9100, reachable by Prometheus only); when set, the public -collector.listenAddr answers /metrics with 404. Empty = /metrics on -collector.listenAddr")
	fs.BoolVar(&cfg.ServeDemo, "collector.demo", cfg.ServeDemo, "serve the demo page (-collector.snippetDir's demo/) at /demo/; beacon dev turns it on. Off: 404")
	fs.BoolVar(&cfg.ServeViewer, "collector.viewer", cfg.ServeViewer, "serve the hosted PDF viewer (-collector.snippetDir's viewer/) at /viewer/, for sites that link or frame it; beacon dev turns it on. Off: 404")
	fs.StringVar(&cfg.SitesFile, "collector.sites", cfg.SitesFile, "site config file (site keys, tenants, origins, secret sources, privacy); reloaded on SIGHUP")
	fs.StringVar(&cfg.Topic, "collector.topic", cfg.Topic, "Kafka topic receiving one normalized event per message")
	fs.DurationVar(&cfg.KafkaTimeout, "collector.kafkaTimeout", cfg.KafkaTimeout, "with -collector.ack=kafka: longest a request waits for the shipper to have its events in Kafka before it is answered from the spool (beacon_ack_timeouts_total counts those)")
	fs.StringVar(&cfg.KafkaCompression, "collector.kafkaCompression", cfg.KafkaCompression, "Kafka compression: none, gzip, snappy, lz4 or zstd")
	fs.IntVar(&cfg.ShipBatch, "collector.shipBatch", cfg.ShipBatch, "most spooled messages the shipper sends in one Kafka write (about 16 MiB at most; a write Kafka refuses as over max.message.bytes is split in halves)")
	fs.StringVar(&cfg.SpoolDir, "collector.spoolDir", cfg.SpoolDir, "directory of the disk spool, the write-ahead log every event passes; one collector per directory (it is locked)")
	fs.Var(spoolMax, "collector.spoolMaxSize", "spool size limit (e.g. 1GiB); when full, requests get 503 spool_full and /readyz fails (beacon_spool_fullness_ratio)")
	fs.Var(spoolSeg, "collector.spoolSegmentSize", "spool segment size (e.g. 16MiB); shipped segments are deleted whole")
	fs.Var(maxBody, "collector.maxBodySize", "largest request body (e.g. 64KiB, the browser's keepalive quota for one beacon); larger gets 413 body_too_large")
	fs.IntVar(&cfg.MaxConcurrency, "collector.maxConcurrency", cfg.MaxConcurrency, "most connections open at once, idle keep-alives included; bounds memory; more are refused with 503 (beacon_connections_rejected_total)")
	fs.IntVar(&cfg.MaxConcurrentRequests, "collector.maxConcurrentRequests", cfg.MaxConcurrentRequests, "most requests doing work at once (event batches and pixels: decode, validate, spool; with -collector.ack=kafka also the wait for Kafka); idle keep-alive connections hold none. A request finding all taken queues for one (-collector.maxQueuedRequests, -collector.maxQueueDuration); one the queue has no room for gets a cheap 503 overloaded with Retry-After, its body not decoded (beacon_requests_rejected_total{reason=\"overloaded\"}, beacon_request_slots_fullness_ratio). 0 = 32 per CPU with -collector.ack=spool, 512 per CPU with kafka (requests then wait for Kafka holding their slot); -1 = no limit")
	fs.IntVar(&cfg.MaxQueuedRequests, "collector.maxQueuedRequests", cfg.MaxQueuedRequests, "most requests queued for a -collector.maxConcurrentRequests slot; more are shed with 503 overloaded at once. Under a spike it bounds how long an accepted request waits (beacon_request_slot_waits_total counts the queued). 0 = as many as -collector.maxConcurrentRequests; -1 = none")
	fs.DurationVar(&cfg.MaxQueueDuration, "collector.maxQueueDuration", cfg.MaxQueueDuration, "longest a queued request waits for a -collector.maxConcurrentRequests slot before it is shed with 503 overloaded; matters when slots are held long (a stalled disk, -collector.ack=kafka with Kafka slow)")
	fs.IntVar(&cfg.MaxConnsPerIP, "collector.maxConnsPerIP", cfg.MaxConnsPerIP, "most connections open at once from one client address (an IPv4 address or an IPv6 /64), so one client cannot hold every -collector.maxConcurrency slot; more are refused with 429 (beacon_connections_per_ip_refused_total). The default 256 serves about 40 busy browsers (6 connections each) behind one NAT address; -1 = no limit. Behind a load balancer every connection comes from its address: raise it above the balancer's connection pool or set -1, and limit per client at the balancer")
	fs.DurationVar(&cfg.HeaderTimeout, "collector.headerTimeout", cfg.HeaderTimeout, "longest time from a connection's opening (or a request's first byte) to the end of its headers; connections that send nothing are closed after it (a browser sends its headers at once)")
	fs.DurationVar(&cfg.ReadTimeout, "collector.readTimeout", cfg.ReadTimeout, "longest time to read a request body once its headers are in")
	fs.DurationVar(&cfg.IdleTimeout, "collector.idleTimeout", cfg.IdleTimeout, "how long an idle keep-alive connection is kept")
	trusted := fs.String("collector.trustedProxies", "", "comma-separated CIDRs or addresses of the proxies in front of the collector (e.g. 10.0.0.0/8); only requests whose peer is one of them have X-Forwarded-For read, and the client is its right-most entry that is not a trusted proxy; empty = the header is ignored")
	oldTrust := fs.Bool("collector.trustForwardedFor", false, "removed: it trusted X-Forwarded-For from anyone; use -collector.trustedProxies")
	fs.StringVar(&cfg.SnippetDir, "collector.snippetDir", cfg.SnippetDir, "snippet build served at /b.js and /<adapter>.js (missing is fine)")
	fs.DurationVar(&cfg.ShutdownTimeout, "collector.shutdownTimeout", cfg.ShutdownTimeout, "longest wait for in-flight requests at shutdown, and then for the shipper to empty the spool")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("beacon collector: unexpected arguments %q", fs.Args())
	}
	if *oldTrust {
		return errors.New("-collector.trustForwardedFor was removed (it let any client choose its address): set -collector.trustedProxies to your proxies' CIDRs")
	}
	var err error
	if cfg.TrustedProxies, err = collector.ParseTrustedProxies(*trusted); err != nil {
		return err
	}
	cfg.Brokers = splitList(*brokers)
	cfg.MaxBodySize = int(maxBody.n)
	cfg.SpoolMaxBytes = spoolMax.n
	cfg.SpoolSegmentBytes = spoolSeg.n
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	if *demoSites {
		if _, err := os.Stat(cfg.SitesFile); errors.Is(err, os.ErrNotExist) {
			if err := site.WriteDemoConfig(cfg.SitesFile); err != nil {
				return err
			}
		}
	}
	if cfg.Kafka, err = kafkaSec.config(); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("beacon collector: %w", err)
	}
	if err := checkKafka(ctx, cfg.Brokers, cfg.Kafka, cfg.Logger); err != nil {
		return fmt.Errorf("beacon collector: %w", err)
	}
	c, err := collector.New(cfg) // validates cfg
	if err != nil {
		return fmt.Errorf("beacon collector: %w", err)
	}
	// SIGHUP reloads the site config and snippet files. The handler is installed before Run
	// serves, so a SIGHUP sent once the collector answers never takes its default action.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for {
			select {
			case <-runCtx.Done():
				return
			case <-hup:
				c.Reload() // logs and counts a failure; the old config stays
			}
		}
	}()
	return c.Run(runCtx)
}
