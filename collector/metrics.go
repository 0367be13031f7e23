package collector

import (
	"strconv"

	"github.com/beaconprm/beacon/beacon"
	"github.com/beaconprm/beacon/beacon/site"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// route indexes the collector's routes for metric labels.
type route uint8

const (
	routeEvents route = iota
	routePixel
	routeLink
	routeSnippet
	routeHealth
	routeMetrics
	routeOther
	numRoutes
)

var routeNames = [numRoutes]string{"events", "pixel", "link", "snippet", "health", "metrics", "other"}

// statusCodes are the answers the collector gives; anything else is counted as "other".
var statusCodes = [...]int{200, 204, 302, 304, 400, 403, 404, 405, 410, 413, 415, 500, 503}

// metrics are one collector's counters, registered on its own registry (no globals, so
// tests can run several collectors). Label values are resolved once, here.
type metrics struct {
	reg *prometheus.Registry

	requests       [numRoutes][len(statusCodes) + 1]prometheus.Counter
	rejected       [beacon.NumReasons]prometheus.Counter // whole requests, by reason
	eventsAccepted prometheus.Counter
	eventsRejected [beacon.NumReasons]prometheus.Counter
	eventsDropped  [beacon.NumReasons]prometheus.Counter
	attribution    [site.NumAttributions]prometheus.Counter
	bodyBytes      prometheus.Counter
	inflight       prometheus.Gauge

	ackTimeouts   prometheus.Counter
	kafkaLatency  prometheus.Histogram
	kafkaErrors   prometheus.Counter
	kafkaMessages prometheus.Counter

	spoolAppends  prometheus.Counter
	spoolMessages prometheus.Counter
	spoolReplayed prometheus.Counter
	spoolErrors   prometheus.Counter
	perIPRefused  prometheus.Counter
	slotWaits     prometheus.Counter
	reloads       [2]prometheus.Counter // ok, error
}

func newMetrics(c *Collector) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	reg := m.reg
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "beacon_requests_total", Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	reg.MustRegister(reqs)
	for r := range numRoutes {
		for i, code := range statusCodes {
			m.requests[r][i] = reqs.WithLabelValues(routeNames[r], strconv.Itoa(code))
		}
		m.requests[r][len(statusCodes)] = reqs.WithLabelValues(routeNames[r], "other")
	}
	rej := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "beacon_requests_rejected_total", Help: "Requests refused whole, by reason (WIRE.md)."}, []string{"reason"})
	evRej := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "beacon_events_rejected_total", Help: "Events dropped by per-event rules, by reason (WIRE.md)."}, []string{"reason"})
	evDrop := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "beacon_events_dropped_total", Help: "Batches dropped by site privacy settings (dnt, no_consent)."}, []string{"reason"})
	reg.MustRegister(rej, evRej, evDrop)
	for r := beacon.Reason(1); r < beacon.NumReasons; r++ {
		m.rejected[r] = rej.WithLabelValues(r.String())
		m.eventsRejected[r] = evRej.WithLabelValues(r.String())
		m.eventsDropped[r] = evDrop.WithLabelValues(r.String())
	}
	attr := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "beacon_attribution_total", Help: "Batches by partner token outcome (token = verified)."}, []string{"result"})
	reg.MustRegister(attr)
	for a := range site.NumAttributions {
		m.attribution[a] = attr.WithLabelValues(a.String())
	}
	m.eventsAccepted = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacon_events_accepted_total", Help: "Events accepted and handed to Kafka or the spool."})
	m.bodyBytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacon_request_body_bytes_total", Help: "Bytes of request bodies read."})
	m.inflight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "beacon_inflight_requests", Help: "Requests being handled."})
	m.ackTimeouts = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacon_ack_timeouts_total", Help: "Requests (-collector.ack=kafka) answered before their events reached Kafka: after -collector.kafkaTimeout, or at once while Kafka writes fail; their events stay in the spool."})
	m.kafkaLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "beacon_kafka_produce_seconds", Help: "Time for Kafka to acknowledge one write of the shipper (acks=all).",
		Buckets: []float64{.001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}})
	m.kafkaErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacon_kafka_errors_total", Help: "Failed Kafka writes of the shipper (retried with backoff; the events stay in the spool)."})
	m.kafkaMessages = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacon_kafka_messages_total", Help: "Messages acknowledged by Kafka."})
	m.spoolAppends = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacon_spool_appends_total", Help: "Records (requests) written to the disk spool."})
	m.spoolMessages = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacon_spool_messages_total", Help: "Messages written to the disk spool."})
	m.spoolReplayed = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacon_spool_replayed_messages_total", Help: "Messages shipped from the spool to Kafka (every event passes the spool)."})
	m.perIPRefused = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacon_connections_per_ip_refused_total", Help: "Connections refused with 429 because their client (IPv4 address or IPv6 /64) already had -collector.maxConnsPerIP open."})
	m.slotWaits = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacon_request_slot_waits_total", Help: "Requests that found every -collector.maxConcurrentRequests slot taken and queued for one (at most -collector.maxQueuedRequests at once, each at most -collector.maxQueueDuration); those shed are in beacon_requests_rejected_total{reason=\"overloaded\"}."})
	m.spoolErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacon_spool_errors_total", Help: "Spool write failures other than full (disk errors)."})
	reg.MustRegister(m.eventsAccepted, m.bodyBytes, m.inflight, m.ackTimeouts, m.kafkaLatency, m.kafkaErrors, m.kafkaMessages,
		m.spoolAppends, m.spoolMessages, m.spoolReplayed, m.spoolErrors, m.perIPRefused, m.slotWaits)
	reloads := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "beacon_config_reloads_total", Help: "Site config reloads (SIGHUP) by result."}, []string{"result"})
	reg.MustRegister(reloads)
	m.reloads = [2]prometheus.Counter{reloads.WithLabelValues("ok"), reloads.WithLabelValues("error")}

	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "beacon_spool_bytes", Help: "Bytes in the spool not yet shipped to Kafka (the shipper's lag)."},
			func() float64 { return float64(c.spool.Pending()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "beacon_spool_segments", Help: "Spool segment files."},
			func() float64 { return float64(c.spool.Segments()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "beacon_spool_fullness_ratio", Help: "Spool bytes over -collector.spoolMaxSize; at 1 requests get 503 spool_full."},
			func() float64 { return float64(c.spool.Pending()) / float64(c.cfg.SpoolMaxBytes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "beacon_spool_writes_total", Help: "write(2) calls that put records in the spool: concurrent requests share one (group commit), so beacon_spool_appends_total over this is the records per write."},
			func() float64 { return float64(c.spool.Writes()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "beacon_spool_corrupt_records_total", Help: "Corrupt or torn spool records skipped by the shipper (a torn record ends its segment)."},
			func() float64 { return float64(c.spool.Corrupt()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "beacon_concurrency_fullness_ratio", Help: "Open connections (idle keep-alives included) over -collector.maxConcurrency; at 1 new connections are refused (beacon_connections_rejected_total)."},
			func() float64 { return float64(c.server.GetOpenConnectionsCount()) / float64(c.cfg.MaxConcurrency) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "beacon_request_slots_fullness_ratio", Help: "Requests doing work over -collector.maxConcurrentRequests; at 1 new requests queue (-collector.maxQueuedRequests) or are shed with 503 overloaded."},
			func() float64 { return c.limiter.fullness() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "beacon_previous_secret_tokens_total", Help: "Partner tokens that verified only with their tenant's previous secret (links sent before a rotation); starts again at each site config reload. Drop the previous secret once it stops growing."},
			func() float64 { return float64(c.Sites().PreviousSecretUses()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "beacon_v1_tokens_total", Help: "Partner tokens and tracked links in the v1 format (readable, most without expiry) that verified on sites that still accept them; starts again at each site config reload. Set accept_v1_tokens: false once it stops growing."},
			func() float64 { return float64(c.Sites().V1TokenUses()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "beacon_connections_rejected_total", Help: "Connections refused with fasthttp's own 503 because -collector.maxConcurrency were open; raise it (memory allows) or add collectors."},
			func() float64 { return float64(c.server.GetRejectedConnectionsCount()) }),
	)
	return m
}

func (m *metrics) request(r route, code int) {
	for i, c := range statusCodes {
		if c == code {
			m.requests[r][i].Inc()
			return
		}
	}
	m.requests[r][len(statusCodes)].Inc()
}
