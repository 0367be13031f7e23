package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/beaconprm/beacon/beacon"
	"github.com/beaconprm/beacon/collector"
)

// runCollector serves beacons over HTTP and hands them to Kafka (or the disk spool).
func runCollector(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("collector")
	var (
		cfg       collector.Config
		brokers   = fs.String("collector.brokers", "127.0.0.1:9092", "Kafka bootstrap brokers, comma-separated")
		maxBody   = newBytesFlag(64 << 10)
		spoolMax  = newBytesFlag(1 << 30)
		spoolSeg  = newBytesFlag(16 << 20)
		demoSites = fs.Bool("collector.demoSites", false, "write the demo site config (site key demo) to -collector.sites if that file does not exist")
		debug     = fs.Bool("collector.debug", false, "log debug details")
	)
	fs.StringVar(&cfg.Ack, "collector.ack", collector.AckSpool, "when a request is acknowledged: spool = once its events are appended to the local spool (write-ahead; a shipper sends the spool to Kafka in order, acks=all); kafka = once Kafka acknowledges (acks=all), spooling only after -collector.kafkaTimeout")
	fs.DurationVar(&cfg.SpoolSyncInterval, "collector.spoolSyncInterval", 100*time.Millisecond, "how often the spool is fsynced; acknowledged events survive a killed collector at once, but a machine crash can lose those of the last interval not yet in Kafka; 0 = fsync before every acknowledgement (group-committed, slower)")
	fs.StringVar(&cfg.ListenAddr, "collector.listenAddr", "127.0.0.1:8080", "HTTP address for /v1/events, /v1/p.gif, /l/, /b.js, /healthz, /readyz and /metrics")
	fs.StringVar(&cfg.SitesFile, "collector.sites", "var/sites.json", "site config file (site keys, tenants, origins, secret sources, privacy); reloaded on SIGHUP")
	fs.StringVar(&cfg.Topic, "collector.topic", "beacon.events", "Kafka topic receiving one normalized event per message")
	fs.DurationVar(&cfg.KafkaTimeout, "collector.kafkaTimeout", 250*time.Millisecond, "with -collector.ack=kafka: longest a request waits for Kafka's acks=all before its events go to the disk spool (beacon_kafka_errors_total counts timeouts)")
	fs.DurationVar(&cfg.KafkaBatchTimeout, "collector.kafkaBatchTimeout", time.Millisecond, "longest the Kafka writer waits to fill a partition batch; the producer already groups requests, so keep it small")
	fs.IntVar(&cfg.KafkaQueue, "collector.kafkaQueue", 4096, "requests waiting for the Kafka producer; when full they go to the spool (beacon_kafka_queue_fullness_ratio)")
	fs.IntVar(&cfg.KafkaMaxBatch, "collector.kafkaMaxBatch", 10000, "most messages per Kafka write")
	fs.IntVar(&cfg.KafkaWorkers, "collector.kafkaWorkers", 2, "Kafka writes in flight at once; more can reorder two in-flight requests of one visitor")
	fs.StringVar(&cfg.KafkaCompression, "collector.kafkaCompression", "lz4", "Kafka compression: none, gzip, snappy, lz4 or zstd")
	fs.StringVar(&cfg.SpoolDir, "collector.spoolDir", "var/spool", "directory of the disk spool (the write-ahead log with -collector.ack=spool; used while Kafka is slow or away with -collector.ack=kafka)")
	fs.Var(spoolMax, "collector.spoolMaxSize", "spool size limit (e.g. 1GiB); when full, requests get 503 spool_full and /readyz fails (beacon_spool_fullness_ratio)")
	fs.Var(spoolSeg, "collector.spoolSegmentSize", "spool segment size (e.g. 16MiB); replayed segments are deleted whole")
	fs.Var(maxBody, "collector.maxBodySize", "largest request body (e.g. 64KiB; a full batch of 100 events is far below); larger gets 413 body_too_large")
	fs.IntVar(&cfg.MaxConcurrency, "collector.maxConcurrency", 10000, "most connections served at once; bounds memory")
	fs.DurationVar(&cfg.ReadTimeout, "collector.readTimeout", 10*time.Second, "longest time to read one request")
	fs.DurationVar(&cfg.IdleTimeout, "collector.idleTimeout", 60*time.Second, "how long an idle keep-alive connection is kept")
	fs.BoolVar(&cfg.TrustForwardedFor, "collector.trustForwardedFor", false, "take the client address from the last X-Forwarded-For entry (only behind a proxy that sets it)")
	fs.StringVar(&cfg.SnippetDir, "collector.snippetDir", "js-snippet/dist", "snippet build served at /b.js and /<adapter>.js (missing is fine)")
	fs.DurationVar(&cfg.ShutdownTimeout, "collector.shutdownTimeout", 10*time.Second, "longest wait for in-flight requests at shutdown")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("beacon collector: unexpected arguments %q", fs.Args())
	}
	cfg.Brokers = splitList(*brokers)
	if cfg.SpoolSyncInterval == 0 {
		cfg.SpoolSyncInterval = -1 // the library's zero means its default
	}
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
			if err := beacon.WriteDemoConfig(cfg.SitesFile); err != nil {
				return err
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("beacon collector: %w", err)
	}
	c, err := collector.New(cfg)
	if err != nil {
		return err
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
