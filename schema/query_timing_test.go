package schema

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// TestSavedQueryLatency reports p50/p95 of every saved query against an already loaded
// database; it is a measurement, not a check, and runs only when pointed at one:
//
//	BEACON_LATENCY_ADDR=127.0.0.1:9000 BEACON_LATENCY_DB=beacon BEACON_LATENCY_TENANT=bench \
//	BEACON_LATENCY_DOC=c0 BEACON_LATENCY_VIDEO=c8 go test ./schema -run TestSavedQueryLatency -v
func TestSavedQueryLatency(t *testing.T) {
	addr := os.Getenv("BEACON_LATENCY_ADDR")
	if addr == "" {
		t.Skip("set BEACON_LATENCY_ADDR (and _DB, _TENANT, _DOC, _VIDEO) to measure")
	}
	env := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	db, tenant := env("BEACON_LATENCY_DB", "beacon"), env("BEACON_LATENCY_TENANT", "bench")
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	calls := []struct {
		name   string
		params map[string]string
	}{
		{"document-views", map[string]string{"tenant": tenant, "content": env("BEACON_LATENCY_DOC", "c0")}},
		{"video-retention", map[string]string{"tenant": tenant, "content": env("BEACON_LATENCY_VIDEO", "c8")}},
		{"training-completion", map[string]string{"tenant": tenant}},
		{"content-outcomes", map[string]string{"tenant": tenant}},
		{"campaign-ranking", map[string]string{"tenant": tenant, "campaign": env("BEACON_LATENCY_CAMPAIGN", "camp0")}},
	}
	for _, c := range calls {
		q, err := LookupQuery(c.name)
		if err != nil {
			t.Fatal(err)
		}
		var ds []time.Duration
		rows := 0
		for i := 0; i < 21; i++ {
			start := time.Now()
			res, err := q.Run(context.Background(), conn, db, c.params)
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 { // the first run warms the caches
				ds = append(ds, time.Since(start))
			}
			rows = len(res.Rows)
		}
		slices.Sort(ds)
		t.Logf("%-20s rows=%-6d p50=%-8v p95=%v %s", c.name, rows, ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)*95/100].Round(time.Millisecond), strings.Repeat("", 0))
	}
}
