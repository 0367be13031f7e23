// Package event declares the normalized event once: the Kafka message value the collector
// writes (one JSON object per event, keys = the columns) and the row of the raw table
// (schema/migrations/0001_events.sql, grown by ALTER TABLE ... ADD COLUMN in later
// migrations: 0018_search_versions_scores.sql) that the ingest inserts. Tests hold the collector's
// encoder, the ingest's insert and the migration to this list, and a round trip
// (ingest/contract_integration_test.go) sends real collector output through the ingest into
// ClickHouse and compares every column.
package event

// Column is one column of the raw table and key of the message.
type Column struct {
	Name string
	Type string // the ClickHouse type in the migration, codecs left out
}

// Columns are the raw table's columns in table order, which is the order of every insert.
var Columns = [...]Column{
	{"event_id", "UUID"},
	{"tenant", "LowCardinality(String)"},
	{"site_key", "LowCardinality(String)"},
	{"received_at", "DateTime64(3, 'UTC')"},
	{"event_time", "DateTime64(3, 'UTC')"},
	{"client_time", "DateTime64(3, 'UTC')"},
	{"type", "LowCardinality(String)"},
	{"visitor_id", "String"},
	{"session_id", "String"},
	{"partner_id", "LowCardinality(String)"},
	{"partner_user_id", "String"},
	{"campaign_id", "LowCardinality(String)"},
	{"attribution", "LowCardinality(String)"},
	{"content_id", "LowCardinality(String)"},
	{"content_type", "LowCardinality(String)"},
	{"content_title", "String"},
	{"url", "String"},
	{"referrer", "String"},
	{"page", "UInt32"},
	{"page_count", "UInt32"},
	{"dwell_ms", "UInt32"},
	{"scroll_depth", "UInt8"},
	{"engaged_ms", "UInt32"},
	{"action", "LowCardinality(String)"},
	{"position", "Float32"},
	{"duration", "Float32"},
	{"rate", "Float32"},
	{"watched_start", "Array(Float32)"},
	{"watched_end", "Array(Float32)"},
	{"target_url", "String"},
	{"name", "LowCardinality(String)"},
	{"props", "Map(String, String)"},
	{"device", "LowCardinality(String)"},
	{"is_bot", "UInt8"},
	{"bot_reason", "LowCardinality(String)"},
	{"ip_prefix", "String"},
	{"user_agent", "String"},
	// wire v1 additions (0018_search_versions_scores.sql), after the original columns as
	// ADD COLUMN puts them
	{"content_version", "LowCardinality(String)"},
	{"search_query", "String"},
	{"search_results", "UInt32"},
	{"search_clicked", "String"},
	{"search_flags", "UInt8"},
	{"score", "Nullable(Float32)"},
	{"passed", "Nullable(UInt8)"},
}

// Names returns the column names in table order.
func Names() []string {
	out := make([]string, len(Columns))
	for i, c := range Columns {
		out[i] = c.Name
	}
	return out
}
