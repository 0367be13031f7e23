package ingest

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	ok := func(c Config) {
		t.Helper()
		if err := c.Validate(); err != nil {
			t.Fatalf("Validate(%+v) = %v, want nil", c, err)
		}
	}
	bad := func(c Config, want string) {
		t.Helper()
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Validate(%+v) = %v, want an error mentioning %q", c, err, want)
		}
	}
	ok(Config{}) // the zero value runs against the local stack
	ok(Config{Database: "beacon_test", Table: "events_v2", BatchRows: 10, FlushInterval: time.Millisecond})
	bad(Config{DLQTopic: "beacon.events"}, "dead-letter topic")
	bad(Config{BatchRows: -1}, "batch rows")
	bad(Config{BatchBytes: -1}, "batch bytes")
	bad(Config{FlushInterval: -time.Second}, "durations")
	bad(Config{RetryMin: 10 * time.Second, RetryMax: time.Second}, "retry backoff")
	bad(Config{Database: "beacon; DROP TABLE x"}, "plain identifiers")
	bad(Config{Table: "a.b"}, "plain identifiers")

	d := (&Config{}).withDefaults()
	if d.Topic != "beacon.events" || d.DLQTopic != "beacon.dlq" || d.Brokers[0] != "127.0.0.1:9092" ||
		d.ClickHouseAddrs[0] != "127.0.0.1:9000" || d.Database != "beacon" || d.Table != "events" {
		t.Fatalf("defaults: %+v", d)
	}
}

func TestBatchToken(t *testing.T) {
	// The token is the identity of a range across restarts and versions: never change it.
	if got := batchToken("beacon.events", 3, 1000, 1500); got != "beacon-ingest/beacon.events/3/1000-1500" {
		t.Fatalf("batchToken = %q", got)
	}
}
