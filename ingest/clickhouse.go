package ingest

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/beaconprm/beacon/beacon/event"
	"github.com/beaconprm/beacon/ingest/block"
)

var (
	//go:embed sql/cuts.sql
	cutsTableSQL string
	//go:embed sql/load_cuts.sql
	loadCutsSQL string
)

// store writes batches and cut records to ClickHouse.
type store struct {
	conn      driver.Conn
	db        string
	insertSQL string
	cutsSQL   string
	loadSQL   string
	cutsMade  atomic.Bool // ingest_cuts exists: created once per process, not per partition
}

func openStore(cfg *Config) (*store, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        cfg.ClickHouseAddrs,
		Auth:        clickhouse.Auth{Database: cfg.Database, Username: cfg.Username, Password: cfg.Password},
		TLS:         cfg.ClickHouseTLS,
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
		DialTimeout: 5 * time.Second,
		ReadTimeout: time.Minute,
		// One insert per partition goroutine at a time; the pool grows with the partitions.
		MaxOpenConns: 64,
		MaxIdleConns: 16,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot configure the ClickHouse client for %v: %w", cfg.ClickHouseAddrs, err)
	}
	render := func(s string) string { return strings.ReplaceAll(s, "{db}", cfg.Database) }
	return &store{
		conn: conn,
		db:   cfg.Database,
		insertSQL: fmt.Sprintf("INSERT INTO `%s`.`%s` (%s)", cfg.Database, cfg.Table,
			strings.Join(event.Names(), ", ")),
		cutsSQL: render(cutsTableSQL),
		loadSQL: render(loadCutsSQL),
	}, nil
}

func (s *store) Close() error { return s.conn.Close() }

// insert sends one batch as one block. The token makes a repeat of the same range a no-op,
// in the raw table and, with deduplicate_blocks_in_dependent_materialized_views, in every
// materialized view that reads from it.
func (s *store) insert(ctx context.Context, token string, cols *block.Columns) error {
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"insert_deduplicate":                                 1,
		"insert_deduplication_token":                         token,
		"deduplicate_blocks_in_dependent_materialized_views": 1,
		"async_insert":                                       0,
		// The server sends the insert's header with String where the table has
		// LowCardinality(String) and builds the dictionaries itself, as it does for a
		// JSONEachRow insert. Appending to a LowCardinality column in clickhouse-go costs
		// reflection, an interface allocation and a map lookup per row and column (13
		// columns): more than half of the client's block work (BenchmarkBlockAppendEncode
		// in ingest/block).
		"low_cardinality_allow_in_native_format": 0,
		// The rollups' tables are (Aggregating|Replacing)MergeTree, and by default the server
		// merges each block's rows by key before writing the part: the aggregate functions
		// run over keys that are nearly all distinct (most views write a row per event), work
		// the background merges do again anyway. Without it, 1M synthetic events through every
		// view took 31 % less server CPU and went in 38 % faster (schema/README.md, "Ingest
		// cost"). The saved queries aggregate a key's rows whatever parts they are in; the
		// schema tests insert the same way.
		"optimize_on_insert": 0,
	}))
	batch, err := s.conn.PrepareBatch(ctx, s.insertSQL)
	if err != nil {
		return err
	}
	for i, v := range cols.Values() {
		if err := batch.Column(i).Append(v); err != nil {
			_ = batch.Abort()
			return &schemaError{fmt.Errorf("cannot append column %s: %w", event.Columns[i].Name, err)}
		}
	}
	return batch.Send()
}

// ensureCuts creates the cut record table if it is missing, once per process (every
// partition assignment asks, six at a time on a rebalance).
func (s *store) ensureCuts(ctx context.Context) error {
	if s.cutsMade.Load() {
		return nil
	}
	if err := s.conn.Exec(ctx, s.cutsSQL); err != nil {
		return err
	}
	s.cutsMade.Store(true)
	return nil
}

// recordCut remembers that the batch starting at start ends at end.
func (s *store) recordCut(ctx context.Context, topic string, partition int, start, end int64) error {
	batch, err := s.conn.PrepareBatch(ctx,
		fmt.Sprintf("INSERT INTO `%s`.ingest_cuts (topic, partition, start_offset, end_offset)", s.db))
	if err != nil {
		return err
	}
	if err := batch.Append(topic, int32(partition), start, end); err != nil {
		_ = batch.Abort()
		return err
	}
	return batch.Send()
}

// loadCuts returns the recorded cuts of a partition from offset from on.
func (s *store) loadCuts(ctx context.Context, topic string, partition int, from int64) (map[int64]int64, error) {
	ctx = clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"topic":     topic,
		"partition": fmt.Sprint(partition),
		"from":      fmt.Sprint(from),
	}))
	rows, err := s.conn.Query(ctx, s.loadSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cuts := make(map[int64]int64)
	for rows.Next() {
		var start, end int64
		if err := rows.Scan(&start, &end); err != nil {
			return nil, err
		}
		cuts[start] = end
	}
	return cuts, rows.Err()
}

// schemaError marks a failure that retrying cannot fix until the table changes.
type schemaError struct{ err error }

func (e *schemaError) Error() string { return e.err.Error() }
func (e *schemaError) Unwrap() error { return e.err }

// Error kinds, the values of the kind label of ingest_insert_errors_total.
const (
	kindSchema      = "schema"      // the table does not match the rows: run migrations
	kindUnavailable = "unavailable" // ClickHouse or Kafka cannot be reached
	kindServer      = "server"      // ClickHouse refused the insert for another reason
	kindKafka       = "kafka"       // a Kafka write or commit failed
)

// schemaCodes are ClickHouse error codes that mean the table does not match what ingest
// sends, as opposed to a server that is down or overloaded.
var schemaCodes = map[int32]bool{
	8:   true, // THERE_IS_NO_COLUMN
	16:  true, // NO_SUCH_COLUMN_IN_TABLE
	20:  true, // NUMBER_OF_COLUMNS_DOESNT_MATCH
	47:  true, // UNKNOWN_IDENTIFIER
	53:  true, // TYPE_MISMATCH
	60:  true, // UNKNOWN_TABLE
	70:  true, // CANNOT_CONVERT_TYPE
	81:  true, // UNKNOWN_DATABASE
	115: true, // UNKNOWN_SETTING
	497: true, // ACCESS_DENIED
	516: true, // AUTHENTICATION_FAILED
}

// classifyCH names the kind of a ClickHouse error.
func classifyCH(err error) string {
	var se *schemaError
	if errors.As(err, &se) {
		return kindSchema
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		if schemaCodes[ex.Code] {
			return kindSchema
		}
		return kindServer
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) {
		return kindUnavailable
	}
	if strings.Contains(err.Error(), "acquire conn timeout") {
		return kindUnavailable
	}
	return kindServer
}
