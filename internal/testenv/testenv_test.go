package testenv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/segmentio/kafka-go"

	"github.com/beaconprm/beacon/internal/kafkalocal"
)

func TestMain(m *testing.M) { Main(m) }

// TestClickHouseNativeAndHTTP proves the local server speaks both protocols that the
// product uses: batch insert over native, read back over native and HTTP.
func TestClickHouseNativeAndHTTP(t *testing.T) {
	ch := NewClickHouse(t)
	ctx := context.Background()
	ch.Exec(t, `CREATE TABLE kv (k UInt32, v String, ts DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY k`)
	conn := ch.Conn(t)
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO kv")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 1000; i++ {
		if err := batch.Append(uint32(i), fmt.Sprintf("v%d", i), base.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	var n uint64
	var sum uint64
	if err := conn.QueryRow(ctx, "SELECT count(), sum(k) FROM kv").Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 1000 || sum != 999*1000/2 {
		t.Fatalf("native: count=%d sum=%d, want 1000 and %d", n, sum, 999*1000/2)
	}

	db := clickhouse.OpenDB(&clickhouse.Options{
		Addr:     []string{ch.HTTPAddr},
		Protocol: clickhouse.HTTP,
		Auth:     clickhouse.Auth{Database: ch.Database},
	})
	defer db.Close()
	if _, err := db.ExecContext(ctx, "INSERT INTO kv VALUES (5000, 'http', '2026-11-23 12:00:05.000')"); err != nil {
		t.Fatalf("http insert: %v", err)
	}
	var v string
	var ts time.Time
	if err := db.QueryRowContext(ctx, "SELECT v, ts FROM kv WHERE k = 5000").Scan(&v, &ts); err != nil {
		t.Fatalf("http select: %v", err)
	}
	if v != "http" || !ts.Equal(base.Add(5*time.Second)) {
		t.Fatalf("http read back v=%q ts=%v", v, ts)
	}
	var total uint64
	if err := db.QueryRowContext(ctx, "SELECT count() FROM kv").Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != 1001 {
		t.Fatalf("http count=%d, want 1001", total)
	}
}

// TestClickHouseServerRestartKeepsData proves a dedicated server restarts on its data.
func TestClickHouseServerRestartKeepsData(t *testing.T) {
	s := NewClickHouseServer(t)
	ctx := context.Background()
	conn := s.Open(t, "default")
	if err := conn.Exec(ctx, "CREATE TABLE keep (x UInt8) ENGINE = MergeTree ORDER BY x"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, "INSERT INTO keep VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	s.Stop(t)
	if err := conn.Ping(ctx); err == nil {
		t.Fatal("ping succeeded on a stopped server")
	}
	s.Start(t)
	conn2 := s.Open(t, "default")
	var x uint8
	if err := conn2.QueryRow(ctx, "SELECT x FROM keep").Scan(&x); err != nil {
		t.Fatal(err)
	}
	if x != 7 {
		t.Fatalf("after restart x=%d, want 7", x)
	}
}

// TestClickHouseSurvivesConnectionResets resets connections to both ports at every point of
// a native Hello, the way a killed client (an ingest SIGKILLed mid-insert) or a port scanner
// does. The engine alone aborts on such a reset ("Socket is not connected", signal 6) within
// a few hundred tries; the server must stay up and answer on both protocols.
func TestClickHouseSurvivesConnectionResets(t *testing.T) {
	s := NewClickHouseServer(t)
	hello := nativeHello()
	for i := 0; i < 600; i++ {
		addr := s.NativeAddr
		if i%3 == 2 {
			addr = s.HTTPAddr
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("after %d resets: %v", i, err)
		}
		tc := c.(*net.TCPConn)
		if _, err := tc.Write(hello[:i%len(hello)]); err != nil {
			t.Fatalf("after %d resets: %v", i, err)
		}
		_ = tc.SetLinger(0) // close with RST, not FIN
		tc.Close()
	}
	ctx := context.Background()
	var n uint64
	if err := s.Open(t, "default").QueryRow(ctx, "SELECT count() FROM numbers(10)").Scan(&n); err != nil || n != 10 {
		t.Fatalf("native after the resets: n=%d err=%v", n, err)
	}
	resp, err := http.Get("http://" + s.HTTPAddr + "/ping")
	if err != nil {
		t.Fatalf("http after the resets: %v", err)
	}
	resp.Body.Close()
}

// nativeHello is a client Hello packet of the native protocol.
func nativeHello() []byte {
	var b []byte
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	b = binary.AppendUvarint(b, 0) // packet type Hello
	str("testenv")
	b = binary.AppendUvarint(b, 24)
	b = binary.AppendUvarint(b, 8)
	b = binary.AppendUvarint(b, 54460)
	str("default")
	str("default")
	str("")
	return b
}

// TestKafkaCommittedOffsetsSurviveRestart produces, consumes half with committed offsets,
// restarts the broker from its data directory, and expects the group to resume exactly.
func TestKafkaCommittedOffsetsSurviveRestart(t *testing.T) {
	const topic = "beacon.events"
	ks := NewKafkaServer(t, kafkalocal.Topic{Name: topic, Partitions: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(ks.Addr), Topic: topic, RequiredAcks: kafka.RequireAll, Balancer: &kafka.Hash{}, BatchTimeout: 5 * time.Millisecond}
	msgs := make([]kafka.Message, 100)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte(fmt.Sprintf("k%d", i%10)), Value: []byte(fmt.Sprintf("m%03d", i))}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce: %v", err)
	}
	w.Close()

	seen := map[string]int{}
	consume := func(limit int) {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{ks.Addr}, GroupID: "g1", Topic: topic, MaxWait: 500 * time.Millisecond, StartOffset: kafka.FirstOffset})
		defer r.Close()
		for got := 0; got < limit; got++ {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				t.Fatalf("fetch after %d: %v", got, err)
			}
			seen[string(m.Value)]++
			if err := r.CommitMessages(ctx, m); err != nil {
				t.Fatalf("commit: %v", err)
			}
		}
	}
	consume(40)
	ks.Stop(t)
	ks.Start(t)
	consume(60)
	if len(seen) != 100 {
		t.Fatalf("saw %d distinct messages, want 100", len(seen))
	}
	for v, n := range seen {
		if n != 1 {
			t.Errorf("message %s consumed %d times", v, n)
		}
	}
	// Nothing is left for the group: a short read must time out, not return a message.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{ks.Addr}, GroupID: "g1", Topic: topic, MaxWait: 500 * time.Millisecond})
	defer r.Close()
	short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
	defer cancelShort()
	if m, err := r.FetchMessage(short); err == nil {
		t.Fatalf("group re-read %q after restart", m.Value)
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unexpected error: %v", err)
	}
}
