package collector

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

// families returns "name type label,label" for each family the registry exposes.
func families(t *testing.T, c *Collector, prefix string) []string {
	t.Helper()
	mfs, err := c.m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), prefix) {
			continue
		}
		var labels []string
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if !slices.Contains(labels, l.GetName()) {
					labels = append(labels, l.GetName())
				}
			}
		}
		sort.Strings(labels)
		out = append(out, strings.TrimSpace(mf.GetName()+" "+strings.ToLower(mf.GetType().String())+" "+strings.Join(labels, ",")))
	}
	return out
}

// TestMetricsContract pins the collector's metric names, types and label names: alert rules,
// dashboards (deploy/) and operators' own queries depend on them, so a change must be made
// here on purpose, with deploy/ and docs/operations.md in the same commit.
func TestMetricsContract(t *testing.T) {
	c := startCollector(t, Config{})
	do(t, "POST", c.url+"/v1/events", batchJSON("", okEvent), "Origin", "http://localhost:3000")
	do(t, "POST", c.url+"/v1/events", []byte("{"), "Origin", "http://localhost:3000")
	want := []string{
		"beacon_ack_timeouts_total counter",
		"beacon_attribution_total counter result",
		"beacon_concurrency_fullness_ratio gauge",
		"beacon_config_reloads_total counter result",
		"beacon_connections_rejected_total counter",
		"beacon_events_accepted_total counter",
		"beacon_events_dropped_total counter reason",
		"beacon_events_rejected_total counter reason",
		"beacon_inflight_requests gauge",
		"beacon_kafka_errors_total counter",
		"beacon_kafka_messages_total counter",
		"beacon_kafka_produce_seconds histogram",
		"beacon_previous_secret_tokens_total counter",
		"beacon_request_body_bytes_total counter",
		"beacon_requests_rejected_total counter reason",
		"beacon_requests_total counter code,route",
		"beacon_spool_appends_total counter",
		"beacon_spool_bytes gauge",
		"beacon_spool_corrupt_records_total counter",
		"beacon_spool_errors_total counter",
		"beacon_spool_fullness_ratio gauge",
		"beacon_spool_messages_total counter",
		"beacon_spool_replayed_messages_total counter",
		"beacon_spool_segments gauge",
	}
	got := families(t, c.Collector, "beacon_")
	if !slices.Equal(got, want) {
		t.Fatalf("metric families changed:\n got %q\nwant %q", got, want)
	}
}
