package ingest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/beaconprm/beacon/ingest/internal/testmsg"
	"github.com/beaconprm/beacon/internal/kafkaconn"
	"github.com/beaconprm/beacon/internal/kafkalocal"
	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
)

// TestSecureKafka ingests from a broker that requires TLS and SASL SCRAM-SHA-512: the
// consumer group, the partition readers and the dead-letter writer all use Config.Kafka.
func TestSecureKafka(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	conn := ch.Conn(t)
	migrate(t, conn, ch.Database)
	certs := testenv.NewCerts(t)
	sec := kafkaconn.Config{TLS: true, CAFile: certs.CAFile, SASLMechanism: kafkaconn.ScramSHA512, Username: "ingest", Password: "ingest-secret-512"}
	b, err := kafkalocal.Start(kafkalocal.Config{TLS: certs.Server,
		Users:  []kafkalocal.User{{Mechanism: kafkaconn.ScramSHA512, Name: "ingest", Password: "ingest-secret-512"}},
		Topics: []kafkalocal.Topic{{Name: "events", Partitions: 2}, {Name: "dlq", Partitions: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)

	tr, err := sec.Transport()
	if err != nil {
		t.Fatal(err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(b.Addr()), Topic: "events", Balancer: &kafka.Hash{}, Transport: tr, BatchTimeout: time.Millisecond}
	const total = 500
	msgs := make([]kafka.Message, 0, total+1)
	for i := range total {
		msgs = append(msgs, kafka.Message{Key: fmt.Appendf(nil, "v-%d", i%50), Value: testmsg.Event(i)})
	}
	msgs = append(msgs, kafka.Message{Key: []byte("bad"), Value: []byte("not json")}) // goes to the dead-letter topic
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce over TLS and SASL: %v", err)
	}
	w.Close()

	cfg := testConfig(t, b.Addr(), "events", "dlq", ch.NativeAddr, ch.Database)
	cfg.Kafka = sec
	ing, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runInProcess(t, ing)
	eventually(t, time.Minute, "every event in ClickHouse and the bad one dead-lettered", func() (bool, string) {
		rows, _, err := rowCounts(t, conn, ch.Database)
		n := testutil.ToFloat64(ing.m.dlq.WithLabelValues("json"))
		return rows == total && n == 1, fmt.Sprintf("rows %d (%v), dead letters %v", rows, err, n)
	})
}
