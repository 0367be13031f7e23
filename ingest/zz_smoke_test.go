//go:build smoke

package ingest

import (
	"bytes"
	"context"
	"fmt"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

func TestSmoke(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "ev"), kfake.SeedTopics(1, "dlq"), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{"127.0.0.1:19400"}})
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("smoke%d", time.Now().Unix())
	migrate(t, conn, db)
	bad := map[int][]byte{5: []byte("junk")}
	produce(t, addr, "ev", 0, 20000, bad)
	cfg := testConfig(t, addr, "ev", "dlq", "127.0.0.1:19400", db)
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Registerer = prometheus.NewRegistry()
	ing, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ing.Run(ctx) }()
	waitDone(t, conn, db, addr, cfg.GroupID, "ev", 2, 20000, 19999, time.Minute)
	cancel()
	t.Log(<-done)
}

func TestSmokeCrash(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "ev"), kfake.SeedTopics(1, "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{"127.0.0.1:19400"}})
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("smokec%d", time.Now().UnixNano())
	migrate(t, conn, db)
	produce(t, addr, "ev", 0, 500, nil)
	crashedBeforeCommit(t, addr, "ev", "dlq", "127.0.0.1:19400", db)
}

func TestSmokeThroughput(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "ev"), kfake.SeedTopics(1, "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{"127.0.0.1:19400"}})
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("smoket%d", time.Now().UnixNano())
	if os.Getenv("RAWONLY") != "" {
		src, _ := os.ReadFile("../schema/migrations/0001_events.sql")
		q := strings.NewReplacer("{db}", db, "{ttl_days}", "3650", "{dedup_window}", "10000").Replace(string(src))
		if err := conn.Exec(context.Background(), "CREATE DATABASE "+db); err != nil {
			t.Fatal(err)
		}
		if err := conn.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	} else {
		migrate(t, conn, db)
	}
	const n = 400000
	t0 := time.Now()
	produce(t, addr, "ev", 0, n, nil)
	t.Logf("produced %d in %v", n, time.Since(t0))
	cfg := testConfig(t, addr, "ev", "dlq", "127.0.0.1:19400", db)
	cfg.BatchRows = 50000
	cfg.FlushInterval = time.Second
	cfg.Registerer = prometheus.NewRegistry()
	ing, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	runInProcess(t, ing)
	waitDone(t, conn, db, addr, cfg.GroupID, "ev", 4, n, n, 5*time.Minute)
	el := time.Since(t0)
	t.Logf("ingested %d in %v: %.0f rows/s", n, el, n/el.Seconds())
	mfs, _ := cfg.Registerer.(*prometheus.Registry).Gather()
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			if h := m.GetHistogram(); h != nil {
				t.Logf("%s count %d sum %.3f", mf.GetName(), h.GetSampleCount(), h.GetSampleSum())
			} else if c := m.GetCounter(); c != nil {
				t.Logf("%s %v %v", mf.GetName(), m.GetLabel(), c.GetValue())
			}
		}
	}
}

func TestSmokeCeiling(t *testing.T) {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{"127.0.0.1:19400"}})
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("smokeceil%d", time.Now().UnixNano())
	src, _ := os.ReadFile("../schema/migrations/0001_events.sql")
	q := strings.NewReplacer("{db}", db, "{ttl_days}", "3650", "{dedup_window}", "10000").Replace(string(src))
	if err := conn.Exec(context.Background(), "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	const n = 400000
	var body []byte
	for i := 0; i < n; i++ {
		body = append(body, testEvent(i)...)
		body = append(body, '\n')
	}
	t0 := time.Now()
	resp, err := http.Post("http://127.0.0.1:19401/?query="+url.QueryEscape("INSERT INTO "+db+".events FORMAT JSONEachRow"), "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	el := time.Since(t0)
	t.Logf("HTTP JSONEachRow %d rows in %v: %.0f rows/s (%s %s)", n, el, n/el.Seconds(), resp.Status, b)
	// native, one stream, same rows
	db2 := db + "n"
	conn.Exec(context.Background(), "CREATE DATABASE "+db2)
	conn.Exec(context.Background(), strings.ReplaceAll(q, db, db2))
	cfg := Config{ClickHouseAddrs: []string{"127.0.0.1:19400"}, Database: db2}
	c := cfg.withDefaults()
	st, _ := openStore(&c)
	var d decoder
	var r row
	msgs := bytes.Split(body[:len(body)-1], []byte("\n"))
	t0 = time.Now()
	var cols columns
	for k := 0; k < n; k += 50000 {
		cols.reset()
		for i := k; i < k+50000; i++ {
			d.decode(msgs[i], &r)
			cols.append(&r)
		}
		if err := st.insert(context.Background(), fmt.Sprint(k), &cols); err != nil {
			t.Fatal(err)
		}
	}
	el = time.Since(t0)
	t.Logf("native decode+insert %d rows in %v: %.0f rows/s", n, el, n/el.Seconds())
}

func TestSmokeRead(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "ev"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	const n = 400000
	produce(t, addr, "ev", 0, n, nil)
	t0 := time.Now()
	var total int64
	done := make(chan int, 4)
	for p := 0; p < 4; p++ {
		go func(p int) {
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: "ev", Partition: p, MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 500 * time.Millisecond, QueueCapacity: 500})
			defer r.Close()
			cnt := 0
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				m, err := r.FetchMessage(ctx)
				cancel()
				if err != nil {
					break
				}
				cnt++
				if m.Offset == m.HighWaterMark-1 {
					break
				}
			}
			done <- cnt
		}(p)
	}
	for p := 0; p < 4; p++ {
		total += int64(<-done)
	}
	el := time.Since(t0)
	t.Logf("read %d in %v: %.0f msg/s", total, el, float64(total)/el.Seconds())
}

func TestSmokeOutage(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "ev"), kfake.SeedTopics(1, "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{"127.0.0.1:19400"}})
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("smokeo%d", time.Now().UnixNano())
	migrate(t, conn, db)
	const total = 30000
	cfg := testConfig(t, addr, "ev", "dlq", "127.0.0.1:19400", db)
	cfg.BatchRows = 1000
	cfg.BatchBytes = 256 << 10
	cfg.Registerer = prometheus.NewRegistry()
	ing, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	produce(t, addr, "ev", 0, 10000, nil)
	runInProcess(t, ing)
	eventually(t, time.Minute, "first rows", func() (bool, string) {
		rows, _, err := rowCounts(t, conn, db)
		return rows >= 3000, fmt.Sprintf("rows %d, err %v", rows, err)
	})
	if out, err := exec.Command("/tmp/ingest-scratch/chctl.sh", "stop").CombinedOutput(); err != nil {
		t.Fatal(err, string(out))
	}
	produce(t, addr, "ev", 10000, total, nil)
	maxBuffered := 0.0
	eventually(t, time.Minute, "repeated insert failures while ClickHouse is down", func() (bool, string) {
		maxBuffered = max(maxBuffered, testutil.ToFloat64(ing.m.buffered))
		unavailable := testutil.ToFloat64(ing.m.insertErrors.WithLabelValues(kindUnavailable))
		return unavailable >= 10, fmt.Sprintf("unavailable errors %v", unavailable)
	})
	t.Logf("max buffered %v, schema errors %v, server errors %v", maxBuffered, testutil.ToFloat64(ing.m.insertErrors.WithLabelValues(kindSchema)), testutil.ToFloat64(ing.m.insertErrors.WithLabelValues(kindServer)))
	if out, err := exec.Command("/tmp/ingest-scratch/chctl.sh", "start").CombinedOutput(); err != nil {
		t.Fatal(err, string(out))
	}
	waitDone(t, conn, db, addr, cfg.GroupID, "ev", 2, total, total, 2*time.Minute)
}
