package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/beaconprm/beacon/beacon"
	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/internal/kafkaconn"
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

	// Ack is when a request's events count as delivered, so it gets its 2xx. Either way they
	// are first appended to the spool (the write-ahead log), and one shipper sends the spool
	// to Kafka in order (acks=all) and commits its position:
	//   - "spool" (default): once they are appended to the spool. Requests never wait on Kafka.
	//   - "kafka": once the shipper has committed past them (Kafka has them), waiting at most
	//     KafkaTimeout; after that, or at once while the shipper's last Kafka write failed,
	//     the request is answered from the spool as with "spool".
	// Either way nothing acknowledged is lost when any one process is killed; see
	// SpoolSyncInterval for machine crashes.
	Ack string

	// Brokers are the Kafka bootstrap brokers; default 127.0.0.1:9092.
	Brokers []string
	// Topic receives one normalized event per message; default beacon.events.
	Topic string
	// KafkaTimeout bounds how long a request waits for its events to reach Kafka with
	// Ack "kafka"; default 250ms.
	KafkaTimeout time.Duration
	// KafkaCompression is none, gzip, snappy, lz4 or zstd; default lz4.
	KafkaCompression string
	// Kafka is TLS and SASL for the shipper's connections; default plaintext.
	Kafka kafkaconn.Config

	// SpoolDir holds the disk spool; default var/spool (where `beacon dev` keeps it).
	SpoolDir string
	// SpoolMaxBytes bounds the spool; when full, requests get 503 spool_full; default 1 GiB.
	SpoolMaxBytes int64
	// SpoolSegmentBytes is the size at which a spool segment is sealed; default 16 MiB.
	SpoolSegmentBytes int64
	// SpoolSyncInterval is how often spooled records are fsynced. A record is acknowledged once
	// written to the spool file (one write(2) for every request appending meanwhile; in the
	// page cache: it survives the collector being killed);
	// a machine crash or power loss can lose what was acknowledged in the last
	// SpoolSyncInterval and not yet shipped to Kafka. 0 = fsync before every acknowledgement
	// (group-committed: concurrent requests share one fsync); DefaultConfig has 100ms.
	SpoolSyncInterval time.Duration
	// ShipBatch bounds the spooled messages the shipper sends per Kafka write; default
	// 16384. Under load a write's time is mostly waiting its turn among the request
	// goroutines, whatever its size, so the shipper keeps up by writing more at a time. A
	// write Kafka refuses as too large (max.message.bytes) is split in halves.
	ShipBatch int

	// MaxBodySize bounds a request body (413 body_too_large); default 64 KiB, the browser's
	// keepalive quota for the snippet's beacons (js-snippet/src/batch.js).
	MaxBodySize int
	// MaxConcurrency bounds connections served at once; default 10000.
	MaxConcurrency int
	// MaxConcurrentRequests bounds the requests doing work at once (/v1/events batches and
	// pixels: decode, validate, spool; with ack=kafka also the wait for Kafka), not the
	// connections: idle keep-alives hold no slot. A request that finds every slot taken
	// queues for one (see MaxQueuedRequests, MaxQueueDuration); a request the queue has no
	// room for, or whose wait ends, gets 503 overloaded with Retry-After before its body is
	// decoded (a pixel still gets its GIF), counted in
	// beacon_requests_rejected_total{reason="overloaded"}. 0 (default) = 32 per CPU
	// (GOMAXPROCS) with ack spool, 512 per CPU with ack kafka; -1 = no limit.
	MaxConcurrentRequests int
	// MaxQueuedRequests bounds the requests queued for a MaxConcurrentRequests slot; more
	// are shed at once. It is what bounds an accepted request's wait under a spike. 0
	// (default) = 8 per slot; -1 = none (shed as soon as every slot is taken).
	MaxQueuedRequests int
	// MaxQueueDuration bounds a queued request's wait for a slot; default 1s
	// (DefaultMaxQueueDuration). It matters when slots are held long (a stalled disk,
	// ack=kafka with Kafka slow); under a spike MaxQueuedRequests bounds the wait.
	MaxQueueDuration time.Duration
	// MaxConnsPerIP bounds the connections open at once from one client address (an IPv4
	// address, or an IPv6 /64: one host holds a whole /64), so one client cannot hold every
	// MaxConcurrency slot; more are refused with 429 and counted in
	// beacon_connections_per_ip_refused_total. Default 256 (DefaultMaxConnsPerIP); -1 = no limit.
	MaxConnsPerIP int
	// HeaderTimeout bounds the time from a connection's opening (or a keep-alive request's
	// first byte) to the end of the request headers, so connections that send nothing are
	// closed quickly; the body then has ReadTimeout. Default 5s.
	HeaderTimeout time.Duration
	// ReadTimeout bounds reading a request body once its headers are in; default 10s.
	// IdleTimeout bounds keep-alive idleness between requests; default 60s.
	ReadTimeout, IdleTimeout time.Duration
	// TrustedProxies are the addresses of the proxies in front of the collector. Only when a
	// request's peer is one of them is X-Forwarded-For read, and the client is its right-most
	// entry that is not itself a trusted proxy. Empty: the header is ignored.
	TrustedProxies []netip.Prefix
	// MetricsAddr, when set, is the address of a listener of its own for /metrics, which the
	// public ListenAddr then answers 404 (metrics show load and fullness, which help time an
	// attack). Default "": /metrics on ListenAddr.
	MetricsAddr string
	// SnippetDir is the snippet build (js-snippet/dist) served at /b.js; default
	// js-snippet/dist. Missing is fine: those routes answer 404.
	SnippetDir string
	// ServeDemo serves SnippetDir's demo/ at /demo/ (the demo page; `beacon dev` turns it on).
	// Default false: /demo/ answers 404.
	ServeDemo bool
	// ServeViewer serves SnippetDir's viewer/ at /viewer/ (the hosted PDF viewer, for sites
	// that link or frame it; `beacon dev` turns it on). Default false: /viewer/ answers 404.
	ServeViewer bool
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

// DefaultConfig is the configuration `beacon collector`'s flags start from: the local
// stack's (`beacon dev` keeps its files under var/). A zero field of a Config passed to New
// takes the value here, except SitesFile (required) and SpoolSyncInterval (0 = fsync before
// every acknowledgement).
func DefaultConfig() Config {
	return Config{
		ListenAddr:        "127.0.0.1:8080",
		SitesFile:         "var/sites.json",
		Ack:               AckSpool,
		Brokers:           []string{"127.0.0.1:9092"},
		Topic:             "beacon.events",
		KafkaTimeout:      250 * time.Millisecond,
		KafkaCompression:  "lz4",
		SpoolDir:          "var/spool",
		SpoolMaxBytes:     1 << 30,
		SpoolSegmentBytes: 16 << 20,
		SpoolSyncInterval: 100 * time.Millisecond,
		ShipBatch:         16384,
		MaxBodySize:       64 << 10,
		MaxConcurrency:    10000,
		MaxConnsPerIP:     DefaultMaxConnsPerIP,
		MaxQueueDuration:  DefaultMaxQueueDuration,
		HeaderTimeout:     5 * time.Second,
		ReadTimeout:       10 * time.Second,
		IdleTimeout:       60 * time.Second,
		SnippetDir:        "js-snippet/dist",
		ShutdownTimeout:   10 * time.Second,
	}
}

func (c *Config) setDefaults() {
	d := DefaultConfig()
	setDefault(&c.ListenAddr, d.ListenAddr)
	setDefault(&c.Ack, d.Ack)
	if len(c.Brokers) == 0 {
		c.Brokers = d.Brokers
	}
	setDefault(&c.Topic, d.Topic)
	setDefault(&c.KafkaTimeout, d.KafkaTimeout)
	setDefault(&c.KafkaCompression, d.KafkaCompression)
	setDefault(&c.SpoolDir, d.SpoolDir)
	setDefault(&c.SpoolMaxBytes, d.SpoolMaxBytes)
	setDefault(&c.SpoolSegmentBytes, d.SpoolSegmentBytes)
	setDefault(&c.ShipBatch, d.ShipBatch)
	setDefault(&c.MaxBodySize, d.MaxBodySize)
	setDefault(&c.MaxConcurrency, d.MaxConcurrency)
	setDefault(&c.MaxConnsPerIP, d.MaxConnsPerIP)
	setDefault(&c.MaxQueueDuration, d.MaxQueueDuration)
	setDefault(&c.HeaderTimeout, d.HeaderTimeout)
	setDefault(&c.ReadTimeout, d.ReadTimeout)
	setDefault(&c.IdleTimeout, d.IdleTimeout)
	setDefault(&c.SnippetDir, d.SnippetDir)
	setDefault(&c.ShutdownTimeout, d.ShutdownTimeout)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// setDefault sets *v to d when *v is zero.
func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	c.setDefaults()
	if c.SitesFile == "" {
		return errors.New("a site config file is required; set -collector.sites (beacon dev writes one)")
	}
	if c.Ack != AckSpool && c.Ack != AckKafka {
		return fmt.Errorf("unknown -collector.ack mode %q: want spool (acknowledge once spooled) or kafka (once shipped to Kafka, at most -collector.kafkaTimeout)", c.Ack)
	}
	if _, err := compressionCodec(c.KafkaCompression); err != nil {
		return err
	}
	if err := c.Kafka.Validate(); err != nil {
		return err
	}
	if c.SpoolSegmentBytes > c.SpoolMaxBytes {
		return errors.New("-collector.spoolSegmentSize must not exceed -collector.spoolMaxSize")
	}
	if c.MaxBodySize < 1024 {
		return errors.New("max body size must be at least 1KiB; raise -collector.maxBodySize")
	}
	if c.MaxConnsPerIP < -1 {
		return errors.New("-collector.maxConnsPerIP must be positive, or -1 for no limit")
	}
	if c.MaxConcurrentRequests < -1 {
		return errors.New("-collector.maxConcurrentRequests must be positive, 0 for the default, or -1 for no limit")
	}
	if c.MaxQueuedRequests < -1 {
		return errors.New("-collector.maxQueuedRequests must be positive, 0 for the default, or -1 for none")
	}
	for _, v := range [...]struct {
		name string
		neg  bool
	}{{"-collector.kafkaTimeout", c.KafkaTimeout < 0}, {"-collector.spoolSyncInterval", c.SpoolSyncInterval < 0},
		{"-collector.spoolMaxSize", c.SpoolMaxBytes < 0}, {"-collector.spoolSegmentSize", c.SpoolSegmentBytes < 0},
		{"-collector.shipBatch", c.ShipBatch < 0}, {"-collector.maxConcurrency", c.MaxConcurrency < 0},
		{"-collector.maxQueueDuration", c.MaxQueueDuration < 0},
		{"-collector.readTimeout", c.ReadTimeout < 0}, {"-collector.headerTimeout", c.HeaderTimeout < 0}, {"-collector.idleTimeout", c.IdleTimeout < 0},
		{"-collector.shutdownTimeout", c.ShutdownTimeout < 0}} {
		if v.neg {
			return fmt.Errorf("%s must not be negative", v.name)
		}
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
		useKafkaLz4Blocks()
		return compress.Lz4, nil
	case "zstd":
		return compress.Zstd, nil
	}
	return 0, fmt.Errorf("unknown kafka compression %q: want none, gzip, snappy, lz4 or zstd", name)
}

// Collector is the beacon HTTP collector: it validates and enriches beacons, appends them to
// its spool (the write-ahead log) and ships the spool to Kafka.
type Collector struct {
	cfg      Config
	log      *slog.Logger
	sites    atomic.Pointer[site.Sites]
	snippets atomic.Pointer[snippetFiles]
	spool    *spool.Spool
	shipper  shipper
	draining atomic.Bool
	server   *fasthttp.Server
	ln       net.Listener
	m        *metrics
	reqs     sync.Pool
	timers   sync.Pool
	limiter  *requestLimiter
	metricsH fasthttp.RequestHandler
	metrics  *fasthttp.Server // serves /metrics on MetricsAddr; nil without one
	metln    net.Listener
	assets   fasthttp.RequestHandler
	gzDir    string // compressed copies of the served files, removed when Run ends
}

// reqState is the pooled per-request state.
type reqState struct {
	work    beacon.Work
	in      beacon.Input
	out     []byte
	shipped chan struct{} // ack=kafka: the shipper committed past this request's record
}

// New loads the site config, opens the spool and the listener; Run serves.
func New(cfg Config) (_ *Collector, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	c := &Collector{cfg: cfg, log: cfg.Logger}
	sites, err := site.LoadConfig(cfg.SitesFile)
	if err != nil {
		return nil, err
	}
	c.sites.Store(sites)
	c.snippets.Store(loadSnippets(cfg.SnippetDir))
	c.spool, err = spool.Open(spool.Config{Dir: cfg.SpoolDir, MaxBytes: cfg.SpoolMaxBytes, SegmentBytes: cfg.SpoolSegmentBytes,
		SyncInterval: cfg.SpoolSyncInterval})
	if err != nil {
		return nil, fmt.Errorf("cannot open the spool: %w; each collector needs its own -collector.spoolDir", err)
	}
	defer func() {
		if err != nil {
			c.closeOpened()
		}
	}()
	codec, _ := compressionCodec(cfg.KafkaCompression)
	// Its own transport, with the TLS and SASL settings: kafka.DefaultTransport is shared by
	// the process and caches topic metadata.
	transport, err := cfg.Kafka.Transport()
	if err != nil {
		return nil, err
	}
	c.shipper.init(c, &kafka.Writer{
		Transport: &topicMetaCache{next: transport},
		Addr:      kafka.TCP(cfg.Brokers...), Topic: cfg.Topic, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, Compression: codec,
		// The shipper hands over whole batches and waits for them: nothing to gather.
		BatchTimeout: time.Millisecond, BatchSize: cfg.ShipBatch, BatchBytes: 16 << 20,
		MaxAttempts: 3, WriteBackoffMin: 100 * time.Millisecond, WriteBackoffMax: time.Second,
		AllowAutoTopicCreation: true,
	})
	c.timers.New = func() any {
		t := time.NewTimer(time.Hour)
		t.Stop()
		return t
	}
	c.reqs.New = func() any { return &reqState{shipped: make(chan struct{}, 1)} }
	slots := maxConcurrentRequests(cfg.MaxConcurrentRequests, cfg.Ack)
	c.limiter = newRequestLimiter(slots, maxQueuedRequests(cfg.MaxQueuedRequests, slots), cfg.MaxQueueDuration, &c.timers)
	c.server = &fasthttp.Server{
		Handler:            c.handle,
		ErrorHandler:       c.handleError,
		Name:               "beacon",
		MaxRequestBodySize: cfg.MaxBodySize,
		// ReadTimeout runs from a connection's opening (or a keep-alive request's first byte)
		// to the end of the headers; HeaderReceived then gives the body the full ReadTimeout.
		ReadTimeout: cfg.HeaderTimeout,
		HeaderReceived: func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
			return fasthttp.RequestConfig{ReadTimeout: cfg.ReadTimeout}
		},
		WriteTimeout:          cfg.ReadTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		Concurrency:           cfg.MaxConcurrency,
		ReadBufferSize:        16 << 10, // pixel URLs carry page URLs in the query
		NoDefaultServerHeader: true,
		CloseOnShutdown:       true,
		Logger:                slogPrintf{cfg.Logger},
	}
	c.m = newMetrics(c)
	c.metricsH = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(c.m.reg, promhttp.HandlerOpts{}))
	// Compressed copies go to a directory of this process's own: the snippet directory may be
	// read-only, and a copy left beside a file outlives it (an edited file kept being served
	// as it was, gzipped, by the next collector).
	if c.gzDir, err = os.MkdirTemp("", "beacon-collector-gz-"); err != nil {
		return nil, fmt.Errorf("cannot create a directory for compressed assets: %w; set TMPDIR", err)
	}
	fs := &fasthttp.FS{Root: cfg.SnippetDir, Compress: true, CompressRoot: c.gzDir, CacheDuration: time.Minute,
		IndexNames: []string{"index.html"}, AcceptByteRange: true} // the demo video seeks by range
	c.assets = fs.NewRequestHandler()
	c.ln = cfg.Listener
	if c.ln == nil {
		c.ln, err = net.Listen("tcp", cfg.ListenAddr)
		if err != nil {
			return nil, fmt.Errorf("cannot listen on %s: %w; change -collector.listenAddr", cfg.ListenAddr, err)
		}
	}
	c.ln = newClientLimitListener(c.ln, cfg.MaxConnsPerIP, c.m.perIPRefused.Inc)
	if cfg.MetricsAddr != "" {
		if c.metln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return nil, fmt.Errorf("cannot listen on %s: %w; change -collector.metricsAddr", cfg.MetricsAddr, err)
		}
		c.metrics = &fasthttp.Server{
			Handler: func(ctx *fasthttp.RequestCtx) {
				secureHeaders(ctx, nil)
				if string(ctx.Path()) != "/metrics" {
					ctx.Error("no such route\n", 404)
					return
				}
				c.metricsH(ctx)
				c.m.request(routeMetrics, ctx.Response.StatusCode())
			},
			Name: "beacon", NoDefaultServerHeader: true, ReadTimeout: cfg.ReadTimeout, WriteTimeout: cfg.ReadTimeout,
			IdleTimeout: cfg.IdleTimeout, CloseOnShutdown: true, Logger: slogPrintf{cfg.Logger},
		}
	}
	return c, nil
}

// closeOpened undoes what New opened before it failed: the listener, the compressed-assets
// directory, the spool.
func (c *Collector) closeOpened() {
	if c.ln != nil {
		c.ln.Close()
	}
	if c.gzDir != "" {
		os.RemoveAll(c.gzDir)
	}
	c.spool.Close()
}

// MetricsAddr is the address of the /metrics listener; nil when /metrics is on Addr.
func (c *Collector) MetricsAddr() net.Addr {
	if c.metln == nil {
		return nil
	}
	return c.metln.Addr()
}

// Addr is the address the collector listens on.
func (c *Collector) Addr() net.Addr { return c.ln.Addr() }

// Sites returns the current site config.
func (c *Collector) Sites() *site.Sites { return c.sites.Load() }

// Reload reads the site config and snippet files again; on error the old config stays.
func (c *Collector) Reload() error {
	s, err := site.LoadConfig(c.cfg.SitesFile)
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
// requests, give the shipper up to ShutdownTimeout to empty the spool, stop it, close the
// spool (what is left is shipped on the next start).
func (c *Collector) Run(ctx context.Context) error {
	shipped := make(chan struct{})
	go func() {
		defer close(shipped)
		c.shipper.run()
	}()
	serveErr := make(chan error, 2)
	go func() { serveErr <- c.server.Serve(c.ln) }()
	if c.metrics != nil {
		go func() {
			if err := c.metrics.Serve(c.metln); err != nil {
				serveErr <- fmt.Errorf("metrics listener: %w", err)
			}
		}()
		c.log.Info("metrics listening", "addr", c.metln.Addr().String())
	}
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
	if c.metrics != nil {
		c.metrics.Shutdown() // scrapes are short; CloseOnShutdown ends idle ones
	}
	c.shipper.finish(c.cfg.ShutdownTimeout)
	<-shipped
	os.RemoveAll(c.gzDir)
	if cerr := c.spool.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("cannot close spool: %w", cerr)
	}
	if p := c.spool.Pending(); p > 0 {
		c.log.Warn("spool not empty at shutdown; it is shipped on the next start", "bytes", p)
	}
	return err
}

// deliver appends a request's events to the spool and, with ack=kafka, waits (at most
// KafkaTimeout) until the shipper has committed past them.
func (c *Collector) deliver(rs *reqState) error {
	w := &rs.work
	end, err := c.spool.Append(w.Key, w.Msgs, w.Ends)
	if err != nil {
		if !errors.Is(err, spool.ErrFull) {
			c.m.spoolErrors.Inc()
			c.log.Error("cannot write spool", "err", err)
		}
		return err
	}
	c.m.spoolAppends.Inc()
	c.m.spoolMessages.Add(float64(len(w.Ends)))
	if c.cfg.Ack == AckKafka && !c.shipper.awaitShipped(end, rs.shipped, c) {
		c.m.ackTimeouts.Inc()
	}
	return nil
}

// b2s views request bytes as a string for the duration of the handler.
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// clientAddr is the request's client: its peer, or, when the peer is a trusted proxy, the
// right-most X-Forwarded-For hop that is not a trusted proxy. Header lines are read last to
// first, entries right to left: what a client wrote itself is on the left of what the
// proxies appended, so it is never reached while an untrusted hop comes first.
func (c *Collector) clientAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	peer, _ := netip.AddrFromSlice(ctx.RemoteIP())
	peer = peer.Unmap()
	if !c.trustedProxy(peer) {
		return peer
	}
	client := peer
	lines := ctx.Request.Header.PeekAll("X-Forwarded-For")
	for l := len(lines) - 1; l >= 0; l-- {
		s := b2s(lines[l])
		for s != "" {
			hop := s
			if i := strings.LastIndexByte(s, ','); i >= 0 {
				hop, s = s[i+1:], s[:i]
			} else {
				s = ""
			}
			hop = strings.TrimSpace(hop)
			if hop == "" {
				continue
			}
			a, err := netip.ParseAddr(hop)
			if err != nil {
				return client // a hop we cannot read: the last trusted one we could
			}
			a = a.Unmap()
			if !c.trustedProxy(a) {
				return a
			}
			client = a
		}
	}
	return client
}

func (c *Collector) trustedProxy(a netip.Addr) bool {
	for _, p := range c.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
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
// logger at debug level, with addresses cut to the prefix events keep and without the
// request bytes fasthttp quotes.
type slogPrintf struct{ l *slog.Logger }

func (s slogPrintf) Printf(format string, args ...any) {
	if !s.l.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	s.l.Debug(redactLog(fmt.Sprintf(format, args...)))
}

// logAddr finds what may be an IP address in a log line: bracketed, IPv6-like (two colons or
// more) or dotted IPv4. redactLog keeps the ones that parse.
var logAddr = regexp.MustCompile(`\[[0-9A-Za-z:.%_-]+\]|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f.]*(%[0-9A-Za-z_.-]+)?|\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)

// logQuoted finds a Go-quoted string (fasthttp quotes addresses and request bytes with %q).
var logQuoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// redactLog rewrites every IP address in msg to its /24 or /48 prefix (the client's address is
// personal data; the prefix is what events keep) and drops the request bytes fasthttp quotes
// (headers, tokens in URLs, forwarded addresses): a quoted string that is not an address, and
// whatever follows "contents:".
func redactLog(msg string) string {
	if i := strings.Index(msg, "contents: "); i >= 0 {
		msg = msg[:i] + "contents: (not logged)"
	}
	msg = logQuoted.ReplaceAllStringFunc(msg, func(q string) string {
		s := q[1 : len(q)-1]
		if _, err := netip.ParseAddrPort(s); err == nil {
			return q
		}
		if _, err := netip.ParseAddr(s); err == nil {
			return q
		}
		return `"(not logged)"`
	})
	return logAddr.ReplaceAllStringFunc(msg, func(m string) string {
		s := strings.TrimSuffix(strings.TrimPrefix(m, "["), "]")
		if i := strings.IndexByte(s, '%'); i >= 0 {
			s = s[:i] // a zone names an interface, not a host
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return m
		}
		p := string(beacon.AppendIPPrefix(nil, a))
		if strings.HasPrefix(m, "[") {
			return "[" + p + "]"
		}
		return p
	})
}

// ParseTrustedProxies parses -collector.trustedProxies: comma-separated CIDRs or addresses
// (an address is its own /32 or /128).
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("-collector.trustedProxies: %q is neither a CIDR nor an address", f)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("-collector.trustedProxies: %q is neither a CIDR nor an address", f)
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("-collector.trustedProxies: %q trusts every address, so any client could choose its own; list your proxies", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
