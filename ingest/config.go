// Package ingest moves beacon events from Kafka into ClickHouse with an exactly-once effect.
//
// A consumer group shares the partitions of the events topic. Each assigned partition is
// read by its own goroutine that cuts the stream into batches whose offset ranges are
// reproducible after a crash: a batch ends at the next multiple of BatchRows, unless it had
// to be cut early (flush interval, byte limit), in which case the range is first recorded
// in ClickHouse (table ingest_cuts). Every insert carries an insert_deduplication_token
// naming its topic, partition and offset range, so a batch rebuilt after a crash is dropped
// by the server, in the raw table and in the materialized views fed by it. Offsets are
// committed only after ClickHouse acknowledged the insert.
package ingest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beaconprm/beacon/internal/kafkaconn"
	"github.com/beaconprm/beacon/schema"
)

// Config configures an Ingester. Its zero value works against the local stack; each
// field's comment gives its default.
type Config struct {
	// Brokers are the Kafka bootstrap addresses. Default: 127.0.0.1:9092.
	Brokers []string
	// Topic holds the events, one JSON object per message. Default: beacon.events.
	Topic string
	// GroupID is the consumer group shared by all ingesters. Default: beacon-ingest.
	GroupID string
	// DLQTopic receives messages that cannot become rows. Default: beacon.dlq.
	DLQTopic string
	// Kafka is TLS and SASL for every connection to the brokers. Default: plaintext.
	Kafka kafkaconn.Config

	// ClickHouseAddrs are ClickHouse native-protocol addresses. Default: 127.0.0.1:9000.
	ClickHouseAddrs []string
	// Database holds the raw table and the ingest_cuts table. Default: beacon.
	Database string
	// Table is the raw events table. Default: events.
	Table string
	// Username and Password authenticate to ClickHouse. Default: default, no password.
	Username, Password string
	// ClickHouseTLS connects to ClickHouse with TLS (its secure native port, 9440 by
	// default). Default: nil, plain TCP (the local stack and most private networks).
	ClickHouseTLS *tls.Config

	// BatchRows is the most offsets one batch covers; batches end at multiples of it so a
	// restart rebuilds identical batches. Changing it while an ingester has crashed
	// mid-batch may duplicate that one batch. Default: 20000, which at about 1 KB per
	// event stays under BatchBytes, so batches end at their natural boundary (no cut to
	// record) and the first rows land within one batch of a cold start.
	BatchRows int
	// BatchBytes bounds the message bytes of one open batch (per partition). Default: 32 MiB.
	BatchBytes int
	// FlushInterval is the longest a message waits in an open batch; it bounds freshness.
	// Default: 1s.
	FlushInterval time.Duration
	// FetchMaxWait is how long one Kafka fetch waits for data; it also bounds how long a
	// revoked partition takes to stop. Default: 500ms.
	FetchMaxWait time.Duration
	// SessionTimeout is how long the group waits for a silent member before giving its
	// partitions to others. Default: 10s.
	SessionTimeout time.Duration
	// WatchdogInterval is how often the ingest checks that every partition of the topic
	// is consumed by a live member of the group; a partition that is not, at two checks
	// in a row, makes this member leave and rejoin the group (ingest_rejoins_total).
	// Negative: never. Default: 30s.
	WatchdogInterval time.Duration
	// RefreshInterval is the shortest time between two refreshes of doc_viewer_rows, the
	// finished rows document-views reads: after inserting a batch the ingest recomputes
	// the rows of the document viewers it wrote, at most once per interval, coalescing
	// the batches inserted meanwhile. Default: 1s.
	RefreshInterval time.Duration
	// CompactInterval is how often the ingest merges the small rollups that saved queries
	// read whole (schema.CompactTables) back into one part each; a table whose last
	// compaction took d waits at least schema.CompactSpacing x d. Negative: never
	// (another ingester, or an operator's OPTIMIZE, does it). Default:
	// schema.CompactInterval (10s).
	CompactInterval time.Duration
	// DedupWindow is how many messages back, per partition, the ingest looks for a message's
	// event_id: a message whose id appears in one of the DedupWindow messages before it is
	// not inserted (ingest_duplicates_dropped_total). It catches the repeats that spool
	// re-sends and producer retries write close together; its memory is at most about 100 bytes per
	// message of the window per owned partition, and a new owner of a partition first re-reads the window
	// before its committed offset, so the same messages are dropped on every replay (see
	// dedup.go). Like BatchRows, keep it fixed: changing it (or turning it on or off) while
	// an ingester has crashed mid-batch may double or lose that one batch's rows in the raw
	// table. Negative: off. Default: 20000.
	DedupWindow int
	// Sites, when set, maps each site key of the site config to its tenant: a message whose
	// tenant owns none of them, or whose site key belongs to another tenant, is not inserted
	// but sent to the dead-letter topic (kind unknown_tenant). Anything written straight into
	// the topic otherwise reaches the answers (docs/operations.md, "Trust boundary"). Empty:
	// every tenant is taken. Restart the ingest after adding a tenant. (-ingest.sites)
	Sites map[string]string
	// RetryMin and RetryMax bound the backoff between retries of ClickHouse and Kafka
	// writes. Default: 100ms and 5s.
	RetryMin, RetryMax time.Duration

	// Registerer receives the ingest_* metrics. Default: none (metrics are kept private).
	Registerer prometheus.Registerer
	// Logger receives operational messages. Default: slog.Default().
	Logger *slog.Logger
}

// DefaultBatchRows is -ingest.batchRows' default (and the bench ceiling's insert size).
const DefaultBatchRows = 20000

func (c *Config) withDefaults() Config {
	out := *c
	if len(out.Brokers) == 0 {
		out.Brokers = []string{"127.0.0.1:9092"}
	}
	if out.Topic == "" {
		out.Topic = "beacon.events"
	}
	if out.GroupID == "" {
		out.GroupID = "beacon-ingest"
	}
	if out.DLQTopic == "" {
		out.DLQTopic = "beacon.dlq"
	}
	if len(out.ClickHouseAddrs) == 0 {
		out.ClickHouseAddrs = []string{"127.0.0.1:9000"}
	}
	if out.Database == "" {
		out.Database = "beacon"
	}
	if out.Table == "" {
		out.Table = "events"
	}
	if out.Username == "" {
		out.Username = "default"
	}
	if out.BatchRows == 0 {
		out.BatchRows = DefaultBatchRows
	}
	if out.BatchBytes == 0 {
		out.BatchBytes = 32 << 20
	}
	if out.FlushInterval == 0 {
		out.FlushInterval = time.Second
	}
	if out.RefreshInterval == 0 {
		out.RefreshInterval = time.Second
	}
	if out.CompactInterval == 0 {
		out.CompactInterval = schema.CompactInterval
	}
	if out.FetchMaxWait == 0 {
		out.FetchMaxWait = 500 * time.Millisecond
	}
	if out.SessionTimeout == 0 {
		out.SessionTimeout = 10 * time.Second
	}
	if out.WatchdogInterval == 0 {
		out.WatchdogInterval = 30 * time.Second
	}
	if out.DedupWindow == 0 {
		out.DedupWindow = 20000
	}
	if out.RetryMin == 0 {
		out.RetryMin = 100 * time.Millisecond
	}
	if out.RetryMax == 0 {
		out.RetryMax = 5 * time.Second
	}
	if out.Logger == nil {
		out.Logger = slog.Default()
	}
	return out
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	d := c.withDefaults()
	switch {
	case d.Topic == d.DLQTopic:
		return errors.New("ingest: the dead-letter topic must differ from the events topic")
	case d.BatchRows < 0:
		return fmt.Errorf("ingest: batch rows must be positive, got %d", d.BatchRows)
	case d.BatchBytes < 0:
		return fmt.Errorf("ingest: batch bytes must be positive, got %d", d.BatchBytes)
	case d.FlushInterval < 0 || d.FetchMaxWait < 0 || d.SessionTimeout < 0 || d.RefreshInterval < 0:
		return errors.New("ingest: durations must be positive")
	case d.RetryMin < 0 || d.RetryMax < d.RetryMin:
		return fmt.Errorf("ingest: retry backoff must satisfy 0 < min <= max, got %v and %v", d.RetryMin, d.RetryMax)
	case !validIdent(d.Database) || !validIdent(d.Table):
		return fmt.Errorf("ingest: database %q and table %q must be plain identifiers ([A-Za-z0-9_])", d.Database, d.Table)
	}
	if err := d.Kafka.Validate(); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}

// validIdent accepts names that need no quoting; they are written into SQL text.
func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
