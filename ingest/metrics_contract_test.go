package ingest

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMetricsContract pins the ingest's metric names, types and label names: alert rules,
// dashboards (deploy/) and operators' queries depend on them, so a change must be made here
// on purpose, with deploy/ and docs/operations.md in the same commit. Families whose series
// appear only once partitions are owned or batches flushed are given their labels by hand.
func TestMetricsContract(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	m.waited.own(0)
	m.lag.WithLabelValues("0")
	m.committed.WithLabelValues("0")
	m.batches.WithLabelValues("rows")
	m.dlq.WithLabelValues("json")
	m.compactSeconds.WithLabelValues("video_seconds").Observe(1)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range mfs {
		var labels []string
		for _, mm := range mf.GetMetric() {
			for _, l := range mm.GetLabel() {
				if !slices.Contains(labels, l.GetName()) {
					labels = append(labels, l.GetName())
				}
			}
		}
		sort.Strings(labels)
		got = append(got, strings.TrimSpace(mf.GetName()+" "+strings.ToLower(mf.GetType().String())+" "+strings.Join(labels, ",")))
	}
	want := []string{
		"ingest_assigned_partitions gauge",
		"ingest_batch_bytes histogram",
		"ingest_batch_rows histogram",
		"ingest_batches_total counter cut",
		"ingest_buffered_bytes gauge",
		"ingest_committed_offset gauge partition",
		"ingest_compact_duration_seconds histogram table",
		"ingest_compact_errors_total counter kind",
		"ingest_dlq_messages_total counter kind",
		"ingest_duplicates_dropped_total counter",
		"ingest_insert_duration_seconds histogram",
		"ingest_insert_errors_total counter kind",
		"ingest_lag_seconds gauge partition",
		"ingest_partition_lag gauge partition",
		"ingest_refresh_delay_seconds histogram",
		"ingest_refresh_duration_seconds histogram",
		"ingest_refresh_errors_total counter kind",
		"ingest_rejoins_total counter reason",
		"ingest_rows_total counter",
		"ingest_topic_partitions gauge",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("metric families changed:\n got %q\nwant %q", got, want)
	}
}
