package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/ingest"
	"github.com/beaconprm/beacon/schema"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// runIngest consumes beacon.events and inserts the events into ClickHouse.
func runIngest(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("ingest")
	var (
		cfg      ingest.Config
		brokers  = fs.String("ingest.brokers", "127.0.0.1:9092", "Kafka bootstrap brokers, comma-separated")
		chAddrs  = fs.String("ingest.clickhouse.addr", "127.0.0.1:9000", "ClickHouse native-protocol addresses, comma-separated")
		password = fs.String("ingest.clickhouse.passwordFile", "", "file holding the ClickHouse password (default: none, or $BEACON_CLICKHOUSE_PASSWORD)")
		batchB   = newBytesFlag(32 << 20)
		metrics  = fs.String("ingest.metricsAddr", "127.0.0.1:9101", "where to serve Prometheus /metrics; empty disables")
		verbose  = fs.Bool("ingest.debug", false, "log consumer-group and partition details")
		kafkaSec = newKafkaFlags(fs, "ingest")
		chTLS    chTLSFlags
	)
	chTLS.register(fs, "ingest.clickhouse")
	fs.StringVar(&cfg.Topic, "ingest.topic", "beacon.events", "Kafka topic of the events")
	fs.StringVar(&cfg.GroupID, "ingest.group", "beacon-ingest", "consumer group shared by all ingesters of one pipeline")
	fs.StringVar(&cfg.DLQTopic, "ingest.dlqTopic", "beacon.dlq", "Kafka topic receiving messages that cannot become rows (counted in ingest_dlq_messages_total)")
	fs.StringVar(&cfg.Database, "ingest.clickhouse.database", "beacon", "ClickHouse database of the raw table")
	fs.StringVar(&cfg.Table, "ingest.clickhouse.table", "events", "raw events table")
	fs.StringVar(&cfg.Username, "ingest.clickhouse.user", "default", "ClickHouse user")
	fs.IntVar(&cfg.BatchRows, "ingest.batchRows", ingest.DefaultBatchRows, "most offsets per batch; batches end at multiples of it so restarts rebuild them identically (keep it fixed across restarts); keep batchRows x event size under -ingest.batchBytes")
	fs.IntVar(&cfg.DedupWindow, "ingest.dedupWindow", 20000, "per partition, how many messages back a repeated event id is dropped before insert (ingest_duplicates_dropped_total); keep it fixed across restarts, as -ingest.batchRows; negative: keep every repeat")
	fs.Var(batchB, "ingest.batchBytes", "most message bytes buffered per partition before a batch is cut (e.g. 32MiB); bounds memory with the partitions count")
	fs.DurationVar(&cfg.FlushInterval, "ingest.flushInterval", time.Second, "longest a message waits in an open batch; bounds freshness")
	fs.DurationVar(&cfg.FetchMaxWait, "ingest.fetchMaxWait", 500*time.Millisecond, "longest one Kafka fetch waits for data")
	fs.DurationVar(&cfg.SessionTimeout, "ingest.sessionTimeout", 10*time.Second, "how long the group waits for a silent ingester before reassigning its partitions")
	fs.DurationVar(&cfg.WatchdogInterval, "ingest.watchdogInterval", 30*time.Second, "how often to check that every partition is consumed by a live member of the group; one that is not at two checks in a row makes this ingester leave and rejoin (ingest_rejoins_total); negative: never")
	fs.DurationVar(&cfg.RefreshInterval, "ingest.refreshInterval", time.Second, "shortest time between two refreshes of the document viewers' finished rows (doc_viewer_rows, read by document-views); batches inserted meanwhile are refreshed together")
	fs.DurationVar(&cfg.CompactInterval, "ingest.compactInterval", schema.CompactInterval, "how often to merge the small rollups saved queries read whole (content_partner_blocks, video_seconds, ...) back into one part each; negative: never")
	sitesFile := fs.String("ingest.sites", "", "the collector's site config (JSON): messages of a tenant it does not list, or naming another tenant's site, go to the dead-letter topic (kind unknown_tenant) instead of the tables; restart the ingest after adding a tenant; empty: take every tenant")
	fs.DurationVar(&cfg.RetryMax, "ingest.retryMax", 5*time.Second, "longest backoff between retries while ClickHouse or Kafka fail")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("beacon ingest: unexpected arguments %q", fs.Args())
	}
	cfg.Brokers = splitList(*brokers)
	cfg.ClickHouseAddrs = splitList(*chAddrs)
	cfg.BatchBytes = int(batchB.n)
	var err error
	if *sitesFile != "" {
		if cfg.Sites, err = siteTenants(*sitesFile); err != nil {
			return err
		}
	}
	if cfg.Password, err = clickhousePassword(*password, "ingest.clickhouse.passwordFile"); err != nil {
		return err
	}
	if cfg.Kafka, err = kafkaSec.config(); err != nil {
		return err
	}
	if cfg.ClickHouseTLS, err = chTLS.config(); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg.Registerer = reg
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := checkKafka(ctx, cfg.Brokers, cfg.Kafka, cfg.Logger); err != nil {
		return fmt.Errorf("beacon ingest: %w", err)
	}
	ing, err := ingest.New(cfg)
	if err != nil {
		return err
	}
	if *metrics != "" {
		ln, err := net.Listen("tcp", *metrics)
		if err != nil {
			return fmt.Errorf("cannot serve metrics on -ingest.metricsAddr=%s: %w", *metrics, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		cfg.Logger.Info("serving metrics", "addr", ln.Addr().String())
	}
	cfg.Logger.Info("ingest starting", "brokers", cfg.Brokers, "topic", cfg.Topic, "group", cfg.GroupID,
		"clickhouse", cfg.ClickHouseAddrs, "table", cfg.Database+"."+cfg.Table)
	return ing.Run(ctx)
}

// siteTenants reads the site keys and their tenants from a site config file; the secrets it
// names are not read (the ingest verifies no token).
func siteTenants(path string) (map[string]string, error) {
	cf, err := site.ReadConfigFile(path)
	if err != nil {
		return nil, fmt.Errorf("-ingest.sites: %w", err)
	}
	out := map[string]string{}
	for _, s := range cf.Sites {
		if s.SiteKey == "" || s.Tenant == "" {
			return nil, fmt.Errorf("-ingest.sites %s: a site without site_key or tenant", path)
		}
		out[s.SiteKey] = s.Tenant
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-ingest.sites %s: no sites", path)
	}
	return out, nil
}
