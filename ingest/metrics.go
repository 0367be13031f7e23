package ingest

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/beaconprm/beacon/schema"
)

// metrics of one Ingester. Label values are partitions and error kinds only: bounded.
type metrics struct {
	rows          prometheus.Counter
	batches       *prometheus.CounterVec
	batchRows     prometheus.Histogram
	batchBytes    prometheus.Histogram
	insertSeconds prometheus.Histogram
	insertErrors  *prometheus.CounterVec
	dlq           *prometheus.CounterVec
	lag           *prometheus.GaugeVec
	committed     *prometheus.GaugeVec
	buffered      prometheus.Gauge
	assigned      prometheus.Gauge
	topicParts    prometheus.Gauge
	rejoins       *prometheus.CounterVec
	duplicates    prometheus.Counter

	refreshSeconds prometheus.Histogram
	refreshDelay   prometheus.Histogram
	refreshErrors  *prometheus.CounterVec

	compactSeconds *prometheus.HistogramVec
	compactErrors  *prometheus.CounterVec

	waited *waitClock // ingest_lag_seconds
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		waited: newWaitClock(),
		rows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ingest_rows_total", Help: "Rows inserted into the raw table (repeats the server dropped included)."}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingest_batches_total", Help: "Batches flushed, by what ended them: rows (natural offset boundary), bytes, time."},
			[]string{"cut"}),
		batchRows: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ingest_batch_rows", Help: "Rows per inserted batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		batchBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ingest_batch_bytes", Help: "Kafka message bytes per inserted batch.",
			Buckets: prometheus.ExponentialBuckets(1024, 4, 10)}),
		insertSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ingest_insert_duration_seconds", Help: "Latency of one successful batch insert into ClickHouse.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		insertErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingest_insert_errors_total", Help: "Failed writes by kind: schema (run migrations), unavailable, server, kafka. Each is retried."},
			[]string{"kind"}),
		dlq: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingest_dlq_messages_total", Help: "Messages sent to the dead-letter topic, by kind: json, field, missing."},
			[]string{"kind"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ingest_partition_lag", Help: "Messages in the partition after the last one fetched."},
			[]string{"partition"}),
		committed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ingest_committed_offset", Help: "Last offset committed for the partition (the next one to read)."},
			[]string{"partition"}),
		buffered: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ingest_buffered_bytes", Help: "Message bytes held in open batches; bounded by partitions x -ingest.batchBytes."}),
		assigned: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ingest_assigned_partitions", Help: "Partitions of the events topic this ingester consumes in the current generation of the consumer group."}),
		topicParts: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ingest_topic_partitions", Help: "Partitions of the events topic, as the watchdog last read them from the metadata (0 with the watchdog off); alert when the ingesters' ingest_assigned_partitions add up to fewer."}),
		rejoins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingest_rejoins_total", Help: "Times the watchdog made this ingester leave and rejoin the consumer group because a partition was consumed by no live member for two checks, by reason: unassigned (in no member's assignment), stalled (assigned to a member that does not consume it)."},
			[]string{"reason"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ingest_duplicates_dropped_total", Help: "Messages not inserted because their event_id appeared in one of the DedupWindow (default 20000) messages before them in their partition (spool re-sends, producer retries); counted when their batch is committed."}),
		refreshSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ingest_refresh_duration_seconds", Help: "Latency of one successful refresh of doc_viewer_rows (the finished rows document-views reads).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		refreshDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ingest_refresh_delay_seconds", Help: "From the start of the earliest insert a refresh covered to the refresh's end: how late document-views shows a batch.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16)}),
		refreshErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingest_refresh_errors_total", Help: "Failed refreshes of the finished rows (" + schema.FinishedTableNames() + ") by kind: schema (run migrations), unavailable, server. Each is retried."},
			[]string{"kind"}),
		compactSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ingest_compact_duration_seconds", Help: "Latency of one successful compaction (OPTIMIZE ... FINAL) of a small rollup the saved queries read whole, by table.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, []string{"table"}),
		compactErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingest_compact_errors_total", Help: "Failed compaction rounds by kind: schema (run migrations), unavailable, server. Each is retried."},
			[]string{"kind"}),
	}
	for _, k := range []string{kindSchema, kindUnavailable, kindServer, kindKafka} {
		m.insertErrors.WithLabelValues(k)
	}
	for _, k := range []string{kindSchema, kindUnavailable, kindServer} {
		m.refreshErrors.WithLabelValues(k)
		m.compactErrors.WithLabelValues(k)
	}
	for _, r := range []string{rejoinUnassigned, rejoinStalled} {
		m.rejoins.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.rows, m.batches, m.batchRows, m.batchBytes, m.insertSeconds,
			m.insertErrors, m.dlq, m.lag, m.committed, m.buffered, m.assigned, m.topicParts, m.rejoins, m.duplicates,
			m.refreshSeconds, m.refreshDelay, m.refreshErrors, m.compactSeconds, m.compactErrors, m.waited)
	}
	return m
}
