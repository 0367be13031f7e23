package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/beaconprm/beacon/beacon"
	"github.com/beaconprm/beacon/internal/spool"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Config configures the collector. Zero values take the defaults in the comments,
// which work with the local stack (`beacon dev`).
type Config struct {
	// ListenAddr is the HTTP address; default 127.0.0.1:8080. Ignored when Listener is set.
	ListenAddr string
	// Listener, when set, is used instead of listening on ListenAddr (tests, socket activation).
	Listener net.Listener
	// SitesFile is the site config file (required); Reload reads it again.
	SitesFile string

	// Ack is when a request's events count as durable, so it gets its 2xx:
	//   - "spool" (default, write-ahead): once they are appended to the local spool; a
	//     background shipper sends the spool to Kafka in order (acks=all) and advances its
	//     cursor. Requests never wait on Kafka.
	//   - "kafka": once Kafka acknowledges them (acks=all), waiting at most KafkaTimeout;
	//     after that, or with the producer queue full, they go to the spool, and so do all
	//     later ones until the spool has been replayed.
	// Either way nothing acknowledged is lost when any one process is killed; see
	// SpoolSyncInterval for machine crashes.
	Ack string

	// Brokers are the Kafka bootstrap brokers; default 127.0.0.1:9092.
	Brokers []string
	// Topic receives one normalized event per message; default beacon.events.
	Topic string
	// KafkaTimeout bounds how long a request waits for Kafka's acknowledgement before its
	// events go to the spool instead; default 250ms.
	KafkaTimeout time.Duration
	// KafkaBatchTimeout is how long the Kafka writer waits to fill a partition's batch; the
	// producer already hands it whole groups of requests, so keep it short; default 1ms.
	KafkaBatchTimeout time.Duration
	// KafkaCompression is none, gzip, snappy, lz4 or zstd; default lz4.
	KafkaCompression string
	// KafkaQueue bounds requests waiting for the producer; when full, requests go to the
	// spool; default 4096.
	KafkaQueue int
	// KafkaMaxBatch bounds the messages written to Kafka in one call; default 10000.
	KafkaMaxBatch int
	// KafkaWorkers is the number of writes in flight at once; default 2 (more can reorder
	// two requests of one visitor that are in flight together).
	KafkaWorkers int

	// SpoolDir holds the disk spool; default var/spool (where `beacon dev` keeps it).
	SpoolDir string
	// SpoolMaxBytes bounds the spool; when full, requests get 503 spool_full; default 1 GiB.
	SpoolMaxBytes int64
	// SpoolSegmentBytes is the size at which a spool segment is sealed; default 16 MiB.
	SpoolSegmentBytes int64
	// SpoolSyncInterval is how often spooled records are fsynced. A record is acknowledged once
	// written to the spool file (in the page cache: it survives the collector being killed);
	// a machine crash or power loss can lose what was acknowledged in the last
	// SpoolSyncInterval and not yet shipped to Kafka. Default 100ms; negative = fsync before
	// every acknowledgement (group-committed: concurrent requests share one fsync).
	SpoolSyncInterval time.Duration
	// ReplayBatch is how many spooled messages are shipped per Kafka write; default 4096.
	ReplayBatch int

	// MaxBodySize bounds a request body (413 body_too_large); default 64 KiB, far above a
	// full batch of 100 events.
	MaxBodySize int
	// MaxConcurrency bounds connections served at once; default 10000.
	MaxConcurrency int
	// ReadTimeout bounds reading one request; default 10s. IdleTimeout bounds keep-alive
	// idleness; default 60s.
	ReadTimeout, IdleTimeout time.Duration
	// TrustForwardedFor takes the client address from the last X-Forwarded-For entry (set it
	// only behind a proxy that appends it).
	TrustForwardedFor bool
	// SnippetDir is the snippet build (js-snippet/dist) served at /b.js; default
	// js-snippet/dist. Missing is fine: those routes answer 404.
	SnippetDir string
	// ShutdownTimeout bounds draining in-flight requests at shutdown; default 10s.
	ShutdownTimeout time.Duration
	// Logger receives operational messages; default slog.Default().
	Logger *slog.Logger
}

// Ack modes.
const (
	AckSpool = "spool"
	AckKafka = "kafka"
)

func (c *Config) setDefaults() {
	if c.Ack == "" {
		c.Ack = AckSpool
	}
	if c.SpoolSyncInterval == 0 {
		c.SpoolSyncInterval = 100 * time.Millisecond
	}
	if c.ListenAddr == "" {
		c.ListenAddr = "127.0.0.1:8080"
	}
	if len(c.Brokers) == 0 {
		c.Brokers = []string{"127.0.0.1:9092"}
	}
	if c.Topic == "" {
		c.Topic = "beacon.events"
	}
	if c.KafkaTimeout <= 0 {
		c.KafkaTimeout = 250 * time.Millisecond
	}
	if c.KafkaBatchTimeout <= 0 {
		c.KafkaBatchTimeout = time.Millisecond
	}
	if c.KafkaQueue <= 0 {
		c.KafkaQueue = 4096
	}
	if c.KafkaMaxBatch <= 0 {
		c.KafkaMaxBatch = 10000
	}
	if c.KafkaWorkers <= 0 {
		c.KafkaWorkers = 2
	}
	if c.KafkaCompression == "" {
		c.KafkaCompression = "lz4"
	}
	if c.SpoolDir == "" {
		c.SpoolDir = "var/spool"
	}
	if c.SpoolMaxBytes <= 0 {
		c.SpoolMaxBytes = 1 << 30
	}
	if c.SpoolSegmentBytes <= 0 {
		c.SpoolSegmentBytes = 16 << 20
	}
	if c.ReplayBatch <= 0 {
		c.ReplayBatch = 4096
	}
	if c.MaxBodySize <= 0 {
		c.MaxBodySize = 64 << 10
	}
	if c.MaxConcurrency <= 0 {
		c.MaxConcurrency = 10000
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 10 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.SnippetDir == "" {
		c.SnippetDir = "js-snippet/dist"
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	c.setDefaults()
	if c.SitesFile == "" {
		return errors.New("a site config file is required; set -collector.sites (beacon dev writes one)")
	}
	if c.Ack != AckSpool && c.Ack != AckKafka {
		return fmt.Errorf("unknown ack mode %q: want spool (acknowledge once spooled, ship to Kafka behind) or kafka (wait for Kafka, spool on timeout)", c.Ack)
	}
	if _, err := compressionCodec(c.KafkaCompression); err != nil {
		return err
	}
	if c.SpoolSegmentBytes > c.SpoolMaxBytes {
		return errors.New("spool segment size must not exceed the spool size")
	}
	if c.MaxBodySize < 1024 {
		return errors.New("max body size must be at least 1KiB")
	}
	return nil
}

func compressionCodec(name string) (kafka.Compression, error) {
	switch name {
	case "none":
		return 0, nil
	case "gzip":
		return compress.Gzip, nil
	case "snappy":
		return compress.Snappy, nil
	case "lz4":
		return compress.Lz4, nil
	case "zstd":
		return compress.Zstd, nil
	}
	return 0, fmt.Errorf("unknown kafka compression %q: want none, gzip, snappy, lz4 or zstd", name)
}

// Collector is the beacon HTTP collector: it validates and enriches beacons and hands them
// to Kafka, or to its disk spool while Kafka is slow or away.
type Collector struct {
	cfg      Config
	log      *slog.Logger
	sites    atomic.Pointer[beacon.Sites]
	snippets atomic.Pointer[snippetFiles]
	spool    *spool.Spool
	writer   *kafka.Writer // requests, through producer
	producer *producer
	replayer *kafka.Writer // spool replay
	spooling atomic.Bool   // new events go to the spool (keeps order while it drains)
	shipFail atomic.Bool   // the shipper's last Kafka write failed
	draining atomic.Bool
	wake     chan struct{}
	server   *fasthttp.Server
	ln       net.Listener
	m        *metrics
	reqs     sync.Pool
	timers   sync.Pool
	metricsH fasthttp.RequestHandler
	assets   fasthttp.RequestHandler
}

// reqState is the pooled per-request state.
type reqState struct {
	work beacon.Work
	in   beacon.Input
	prod produceReq
	out  []byte
	link []byte
}

// New loads the site config, opens the spool and the listener; Run serves.
func New(cfg Config) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	c := &Collector{cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1)}
	sites, err := beacon.LoadConfig(cfg.SitesFile)
	if err != nil {
		return nil, err
	}
	c.sites.Store(sites)
	c.snippets.Store(loadSnippets(cfg.SnippetDir))
	c.spool, err = spool.Open(spool.Config{Dir: cfg.SpoolDir, MaxBytes: cfg.SpoolMaxBytes, SegmentBytes: cfg.SpoolSegmentBytes,
		SyncInterval: max(cfg.SpoolSyncInterval, 0)})
	if err != nil {
		return nil, fmt.Errorf("cannot open the spool: %w; each collector needs its own -collector.spoolDir", err)
	}
	if cfg.Ack == AckSpool || !c.spool.Empty() {
		c.spooling.Store(true) // replay what an earlier run left before sending anything new
	}
	codec, _ := compressionCodec(cfg.KafkaCompression)
	c.writer = &kafka.Writer{
		Addr: kafka.TCP(cfg.Brokers...), Topic: cfg.Topic, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, Compression: codec, BatchTimeout: cfg.KafkaBatchTimeout,
		BatchSize: cfg.KafkaMaxBatch, BatchBytes: 16 << 20, MaxAttempts: 2, WriteBackoffMin: 10 * time.Millisecond, WriteBackoffMax: 50 * time.Millisecond,
		AllowAutoTopicCreation: true,
	}
	c.replayer = &kafka.Writer{
		Addr: kafka.TCP(cfg.Brokers...), Topic: cfg.Topic, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, Compression: codec, BatchTimeout: time.Millisecond,
		BatchSize: cfg.ReplayBatch, BatchBytes: 16 << 20, MaxAttempts: 3, WriteBackoffMin: 100 * time.Millisecond, WriteBackoffMax: time.Second,
		AllowAutoTopicCreation: true,
	}
	c.timers.New = func() any {
		t := time.NewTimer(time.Hour)
		t.Stop()
		return t
	}
	c.reqs.New = func() any { return &reqState{prod: produceReq{done: make(chan error, 1)}} }
	c.server = &fasthttp.Server{
		Handler:               c.handle,
		ErrorHandler:          c.handleError,
		Name:                  "beacon",
		MaxRequestBodySize:    cfg.MaxBodySize,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.ReadTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		Concurrency:           cfg.MaxConcurrency,
		ReadBufferSize:        16 << 10, // pixel URLs carry page URLs in the query
		NoDefaultServerHeader: true,
		CloseOnShutdown:       true,
		Logger:                slogPrintf{cfg.Logger},
	}
	c.m = newMetrics(c)
	c.producer = newProducer(c.writer, cfg.KafkaQueue, cfg.KafkaMaxBatch, cfg.KafkaWorkers, c.m)
	c.metricsH = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(c.m.reg, promhttp.HandlerOpts{}))
	fs := &fasthttp.FS{Root: cfg.SnippetDir, Compress: true, CacheDuration: time.Minute,
		IndexNames: []string{"index.html"}, AcceptByteRange: true} // the demo video seeks by range
	c.assets = fs.NewRequestHandler()
	c.ln = cfg.Listener
	if c.ln == nil {
		c.ln, err = net.Listen("tcp", cfg.ListenAddr)
		if err != nil {
			c.spool.Close()
			return nil, fmt.Errorf("cannot listen on %s: %w; change -collector.listenAddr", cfg.ListenAddr, err)
		}
	}
	return c, nil
}

// Addr is the address the collector listens on.
func (c *Collector) Addr() net.Addr { return c.ln.Addr() }

// Sites returns the current site config.
func (c *Collector) Sites() *beacon.Sites { return c.sites.Load() }

// Reload reads the site config and snippet files again; on error the old config stays.
func (c *Collector) Reload() error {
	s, err := beacon.LoadConfig(c.cfg.SitesFile)
	if err != nil {
		c.m.reloads[1].Inc()
		c.log.Error("site config reload failed; keeping the old one", "err", err)
		return err
	}
	c.sites.Store(s)
	c.snippets.Store(loadSnippets(c.cfg.SnippetDir))
	c.m.reloads[0].Inc()
	c.log.Info("site config reloaded", "sites", s.Len())
	return nil
}

// Run builds a collector from cfg and runs it until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	c, err := New(cfg)
	if err != nil {
		return err
	}
	return c.Run(ctx)
}

// Run serves until ctx ends, then shuts down in order: stop accepting and finish in-flight
// requests, stop replay, flush the Kafka writers, close the spool (records are already fsynced).
func (c *Collector) Run(ctx context.Context) error {
	replayCtx, stopReplay := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.replay(replayCtx)
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- c.server.Serve(c.ln) }()
	c.log.Info("collector listening", "addr", c.ln.Addr().String(), "topic", c.cfg.Topic, "brokers", strings.Join(c.cfg.Brokers, ","), "ack", c.cfg.Ack)

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("collector server stopped: %w", err)
	}
	c.draining.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), c.cfg.ShutdownTimeout)
	if serr := c.server.ShutdownWithContext(sctx); serr != nil && err == nil {
		err = fmt.Errorf("cannot drain in-flight requests: %w; increase -collector.shutdownTimeout", serr)
	}
	cancel()
	c.shipRest()
	stopReplay()
	wg.Wait()
	c.producer.close()
	if werr := c.writer.Close(); werr != nil {
		c.log.Warn("kafka writer close", "err", werr)
	}
	c.replayer.Close()
	if cerr := c.spool.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("cannot close spool: %w", cerr)
	}
	if p := c.spool.Pending(); p > 0 {
		c.log.Warn("spool not empty at shutdown; it is replayed on next start", "bytes", p)
	}
	return err
}

// shipRest gives the shipper up to ShutdownTimeout to send what is spooled to Kafka before
// the collector exits, unless Kafka is failing; what is left is replayed on the next start.
func (c *Collector) shipRest() {
	if c.spool.Empty() || c.shipFail.Load() {
		return
	}
	deadline := time.Now().Add(c.cfg.ShutdownTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	c.wakeShipper()
	for !c.spool.Empty() && !c.shipFail.Load() && time.Now().Before(deadline) {
		<-tick.C
	}
}

// shipLinger is how long the shipper lets records gather after a wake-up (ack=spool).
const shipLinger = 2 * time.Millisecond

func (c *Collector) wakeShipper() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// replay is the shipper: it moves spooled records to Kafka in order (acks=all) and advances
// the spool's cursor. In ack=kafka mode it then switches requests back to Kafka.
func (c *Collector) replay(ctx context.Context) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var batch spool.Batch
	var backoff time.Duration // after a failed Kafka write, so requests do not hammer a broker that is away
	for {
		if backoff > 0 {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		case <-tick.C:
		}
		if !c.spooling.Load() && c.spool.Empty() {
			continue
		}
		if c.cfg.Ack == AckSpool && backoff == 0 {
			// Let a few requests gather: at moderate load this turns one Kafka write per
			// request into one per shipLinger, for a few ms of freshness.
			t := time.NewTimer(shipLinger)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		for ctx.Err() == nil {
			batch.Reset()
			pos, err := c.spool.ReadNow(&batch, c.cfg.ReplayBatch)
			msgs := batch.Msgs
			if err != nil {
				c.m.spoolErrors.Inc()
				c.log.Error("cannot read spool", "err", err)
				break
			}
			if len(msgs) == 0 {
				if c.cfg.Ack == AckKafka && c.spool.IfEmpty(func() { c.spooling.Store(false) }) {
					c.log.Info("spool replayed; events go to Kafka directly again")
				}
				break
			}
			km := make([]kafka.Message, len(msgs))
			for i, m := range msgs {
				km[i] = kafka.Message{Key: m.Key, Value: m.Value}
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			t0 := time.Now()
			err = c.replayer.WriteMessages(wctx, km...)
			cancel()
			if err != nil {
				c.m.kafkaErrors.Inc()
				backoff = min(max(2*backoff, 100*time.Millisecond), 2*time.Second)
				c.shipFail.Store(true)
				break // Kafka still away: try again after the backoff
			}
			backoff = 0
			c.shipFail.Store(false)
			c.m.kafkaLatency.Observe(time.Since(t0).Seconds())
			c.m.kafkaMessages.Add(float64(len(km)))
			c.m.spoolReplayed.Add(float64(len(km)))
			c.spool.Commit(pos)
		}
	}
}

var (
	errKafkaTimeout   = errors.New("kafka did not acknowledge within -collector.kafkaTimeout")
	errKafkaQueueFull = errors.New("kafka queue is full; increase -collector.kafkaQueue")
)

// deliver makes a request's events durable: the spool (ack=spool, or while spooling), else
// Kafka within KafkaTimeout, else the spool.
// retained reports that the Kafka writer may still hold the message buffers (so the request
// state must not be reused).
func (c *Collector) deliver(rs *reqState) (retained bool, err error) {
	w := &rs.work
	if !c.spooling.Load() {
		pr := &rs.prod
		km := pr.msgs[:0]
		start := 0
		for _, end := range w.Ends {
			km = append(km, kafka.Message{Key: w.Key, Value: w.Msgs[start:end:end]})
			start = end
		}
		pr.msgs = km
		var err error
		if c.producer.submit(pr) {
			// From here the producer may hold the buffers until it answers.
			timer := c.timers.Get().(*time.Timer)
			timer.Reset(c.cfg.KafkaTimeout)
			select {
			case err = <-pr.done:
				timer.Stop()
				c.timers.Put(timer)
				if err == nil {
					return false, nil
				}
				// A failed write may have been cut by its own deadline, and kafka-go can
				// still read the buffers then: do not reuse them.
				retained = true
			case <-timer.C:
				c.timers.Put(timer)
				err = errKafkaTimeout
				retained = true
			}
		} else {
			err = errKafkaQueueFull
		}
		c.m.kafkaErrors.Inc()
		if !c.spooling.Swap(true) {
			c.log.Warn("kafka did not acknowledge in time; spooling events to disk", "err", err, "timeout", c.cfg.KafkaTimeout)
		}
	}
	if _, err := c.spool.Append(w.Key, w.Msgs, w.Ends); err != nil {
		if !errors.Is(err, spool.ErrFull) {
			c.m.spoolErrors.Inc()
			c.log.Error("cannot write spool", "err", err)
		}
		return retained, err
	}
	c.m.spoolAppends.Inc()
	c.m.spoolMessages.Add(float64(len(w.Ends)))
	c.wakeShipper()
	return retained, nil
}

// b2s views request bytes as a string for the duration of the handler.
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func (c *Collector) clientAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	if c.cfg.TrustForwardedFor {
		if xff := ctx.Request.Header.Peek("X-Forwarded-For"); len(xff) > 0 {
			s := b2s(xff)
			if i := strings.LastIndexByte(s, ','); i >= 0 {
				s = s[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
				return a
			}
		}
	}
	a, _ := netip.AddrFromSlice(ctx.RemoteIP())
	return a
}

func fillInput(in *beacon.Input, ctx *fasthttp.RequestCtx, addr netip.Addr, now int64) {
	h := &ctx.Request.Header
	*in = beacon.Input{
		Origin:    b2s(h.Peek("Origin")),
		UserAgent: b2s(h.UserAgent()),
		Addr:      addr,
		DNT:       string(h.Peek("DNT")) == "1" || string(h.Peek("Sec-GPC")) == "1",
		Prefetch:  isPrefetch(h),
		Now:       now,
		Referer:   b2s(h.Referer()),
	}
}

func isPrefetch(h *fasthttp.RequestHeader) bool {
	for _, name := range [...]string{"Purpose", "Sec-Purpose", "X-Purpose", "X-Moz"} {
		v := h.Peek(name)
		if len(v) > 0 && (strings.Contains(b2s(v), "prefetch") || strings.Contains(b2s(v), "preview")) {
			return true
		}
	}
	return false
}

// slogPrintf passes fasthttp's connection errors (already answered and counted) to the
// logger at debug level.
type slogPrintf struct{ l *slog.Logger }

func (s slogPrintf) Printf(format string, args ...any) {
	s.l.Debug(fmt.Sprintf(format, args...))
}
