package collector

import (
	"sort"
	"strings"
	"testing"
)

// The collector's metric families are a contract with dashboards and alerts (WIRE.md names
// the reason labels): this pins each beacon_ family's name, type and label names.
func TestMetricFamiliesArePinned(t *testing.T) {
	c := startCollector(t, Config{})
	mfs, err := c.m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "beacon_") {
			continue
		}
		if mf.GetHelp() == "" {
			t.Errorf("%s has no HELP", mf.GetName())
		}
		var labels []string
		for _, l := range mf.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		got = append(got, mf.GetName()+" "+strings.ToLower(mf.GetType().String())+" "+strings.Join(labels, ","))
	}
	sort.Strings(got)
	want := []string{
		"beacon_ack_timeouts_total counter ",
		"beacon_attribution_total counter result",
		"beacon_concurrency_fullness_ratio gauge ",
		"beacon_config_reloads_total counter result",
		"beacon_connections_per_ip_refused_total counter ",
		"beacon_connections_rejected_total counter ",
		"beacon_events_accepted_total counter ",
		"beacon_events_dropped_total counter reason",
		"beacon_events_rejected_total counter reason",
		"beacon_inflight_requests gauge ",
		"beacon_kafka_errors_total counter ",
		"beacon_kafka_messages_total counter ",
		"beacon_kafka_produce_seconds histogram ",
		"beacon_previous_secret_tokens_total counter ",
		"beacon_request_body_bytes_total counter ",
		"beacon_request_slot_waits_total counter ",
		"beacon_request_slots_fullness_ratio gauge ",
		"beacon_requests_rejected_total counter reason",
		"beacon_requests_total counter code,route",
		"beacon_spool_appends_total counter ",
		"beacon_spool_bytes gauge ",
		"beacon_spool_corrupt_records_total counter ",
		"beacon_spool_errors_total counter ",
		"beacon_spool_fullness_ratio gauge ",
		"beacon_spool_messages_total counter ",
		"beacon_spool_replayed_messages_total counter ",
		"beacon_spool_segments gauge ",
		"beacon_spool_writes_total counter ",
		"beacon_v1_tokens_total counter ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("metric families changed (update dashboards, WIRE.md and this list together):\ngot:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
