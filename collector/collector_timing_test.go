package collector

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/beaconprm/beacon/beacon"
	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/kafka-go"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// benchHTTP drives handler through an in-memory listener with the same client and
// parallelism for both twins, posting the example batch.
// It returns the process's CPU time when the load began.
func benchHTTP(b *testing.B, handler fasthttp.RequestHandler, events int) (cpu0 time.Duration) {
	ln := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: handler}
	go srv.Serve(ln)
	defer srv.Shutdown()
	client := &fasthttp.HostClient{Addr: "bench", Dial: func(string) (net.Conn, error) { return ln.Dial() }, MaxConns: 1024}
	body := readExample(b)
	b.SetParallelism(32) // many browsers at once: each request waits for Kafka acks (Little's law)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 = cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		req := fasthttp.AcquireRequest()
		resp := fasthttp.AcquireResponse()
		req.Header.SetMethod("POST")
		req.SetRequestURI("http://bench/v1/events")
		req.Header.SetContentType("text/plain;charset=UTF-8")
		req.Header.SetUserAgent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0")
		req.SetBody(body)
		for pb.Next() {
			if err := client.Do(req, resp); err != nil {
				b.Error(err)
				return
			}
			if resp.StatusCode() != 204 {
				b.Errorf("status %d: %s", resp.StatusCode(), resp.Body())
				return
			}
		}
	})
	b.StopTimer()
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	// CPU per request: the load generator's client is in the same process for both twins, so
	// the difference between them is what the collector adds (issue 16's figure).
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/req")
	if events > 0 {
		reportRate(b, events, cpu0)
	}
	return cpu0
}

// BenchmarkHTTPBare204 is the baseline twin: a fasthttp handler that answers 204.
func BenchmarkHTTPBare204(b *testing.B) {
	benchHTTP(b, func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(204) }, 0)
}

// BenchmarkHTTPEvents is the collector's events endpoint with a real (in-process kfake)
// broker, default ack mode (write-ahead spool; the shipper sends to Kafka with acks=all
// meanwhile). Compare req/s with BenchmarkHTTPBare204 from the same run. drain-s is how long
// the shipper took after the last request to have everything in Kafka: near 0 means it kept
// up with the load.
func BenchmarkHTTPEvents(b *testing.B) { benchHTTPEvents(b, AckSpool) }

// BenchmarkHTTPEventsAckKafka is the same with -collector.ack=kafka: every request waits
// until the shipper has its events in Kafka (acks=all).
func BenchmarkHTTPEventsAckKafka(b *testing.B) { benchHTTPEvents(b, AckKafka) }

func benchHTTPEvents(b *testing.B, ack string) {
	k := testenv.NewKafka(b)
	topic := k.Topic(b, 4)
	c := startCollector(b, Config{Ack: ack, Brokers: []string{k.Addr}, Topic: topic, KafkaTimeout: 5 * time.Second,
		SpoolSyncInterval: DefaultConfig().SpoolSyncInterval, KafkaCompression: os.Getenv("BENCH_COMPRESSION")})
	cpu0 := benchHTTP(b, c.handle, 8)
	// Requests per spool write(2): how many share a group commit under this load.
	b.ReportMetric(float64(b.N)/float64(c.spool.Writes()), "reqs/spool-write")
	if v := testutil.ToFloat64(c.m.ackTimeouts); v != 0 {
		b.Logf("note: %v requests were answered before their events reached Kafka", v)
	}
	t0 := time.Now()
	for !c.spool.Empty() {
		if time.Since(t0) > time.Minute {
			b.Fatalf("spool not shipped a minute after the load: %d bytes", c.spool.Pending())
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(time.Since(t0).Seconds(), "drain-s")
	// The shipper's work is only done once the spool is drained: CPU per request up to here
	// (the in-process broker included) is the figure to compare across changes.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/req-shipped")
	if n := histogramCount(b, c.m.kafkaLatency); n > 0 {
		b.ReportMetric(testutil.ToFloat64(c.m.kafkaMessages)/n, "msgs/kafka-write")
	}
}

// histogramCount is how many observations h holds.
func histogramCount(tb testing.TB, h prometheus.Histogram) float64 {
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		tb.Fatal(err)
	}
	return float64(m.GetHistogram().GetSampleCount())
}

// BenchmarkHTTPLatency is one client posting the example batch back to back (no queueing
// behind other requests), reporting the median and p99 request latency per ack mode: what a
// request pays for durability.
func BenchmarkHTTPLatency(b *testing.B) {
	for _, ack := range []string{AckSpool, AckKafka} {
		b.Run("ack="+ack, func(b *testing.B) {
			k := testenv.NewKafka(b)
			topic := k.Topic(b, 4)
			c := startCollector(b, Config{Ack: ack, Brokers: []string{k.Addr}, Topic: topic, KafkaTimeout: 5 * time.Second})
			ln := fasthttputil.NewInmemoryListener()
			srv := &fasthttp.Server{Handler: c.handle}
			go srv.Serve(ln)
			defer srv.Shutdown()
			client := &fasthttp.HostClient{Addr: "bench", Dial: func(string) (net.Conn, error) { return ln.Dial() }}
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			req.Header.SetMethod("POST")
			req.SetRequestURI("http://bench/v1/events")
			req.Header.SetContentType("text/plain;charset=UTF-8")
			req.SetBody(readExample(b))
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				if err := client.Do(req, resp); err != nil || resp.StatusCode() != 204 {
					b.Fatalf("status %d: %v", resp.StatusCode(), err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// cpuTime is the process's user+system CPU time: on a shared machine events per CPU second
// is steadier than events per wall second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRate reports events/s (wall) and events/cpu-s.
func reportRate(b *testing.B, events int, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N*events)/b.Elapsed().Seconds(), "events/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N*events)/cpu.Seconds(), "events/cpu-s")
	}
}

// BenchmarkShipper is the shipper alone: b.N requests' records (the example batch, 8
// messages, visitor ids varied so they spread over the partitions) are spooled first, then
// the shipper sends them all to the in-process broker in full batches. msgs/cpu-s divides by
// the process's CPU time (the broker's included).
func BenchmarkShipper(b *testing.B) {
	k := testenv.NewKafka(b)
	topic := k.Topic(b, 4)
	dir := b.TempDir()
	c, err := New(Config{SitesFile: writeSites(b, dir), SpoolDir: filepath.Join(dir, "spool"), Brokers: []string{k.Addr}, Topic: topic,
		SpoolSyncInterval: time.Hour, SpoolMaxBytes: 8 << 30, SpoolSegmentBytes: 64 << 20, ListenAddr: "127.0.0.1:0",
		SnippetDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer c.ln.Close()
	var w beacon.Work
	in := beacon.Input{Body: readExample(b), Now: time.Now().UnixMilli()}
	if res := w.Process(c.Sites(), &in); res.Accepted != 8 {
		b.Fatalf("example batch: %+v", res)
	}
	key := w.Key
	for i := range b.N {
		key = strconv.AppendInt(w.Key[:0:0], int64(i), 10)
		if _, err := c.spool.Append(key, w.Msgs, w.Ends); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.shipper.run()
	}()
	for !c.spool.Empty() {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	c.shipper.finish(time.Second)
	<-done
	c.spool.Close()
	msgs := float64(b.N * len(w.Ends))
	b.ReportMetric(msgs/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(msgs/cpu.Seconds(), "msgs/cpu-s")
	if n := histogramCount(b, c.m.kafkaLatency); n > 0 {
		b.ReportMetric(testutil.ToFloat64(c.m.kafkaMessages)/n, "msgs/kafka-write")
	}
}

// TestShipperSmallWritesAllocateLittle ships one request's events at a time, as the shipper
// does when traffic is light, and expects each Kafka write to allocate in proportion to its
// messages. Two things made it megabytes: kafka-go makes room for the Writer's BatchSize
// messages in every partition batch it starts (BatchSize left at ShipBatch: 4096 messages'
// room for 8), and the lz4 package's 4 MiB frame blocks. Either left alone fails this test.
func TestShipperSmallWritesAllocateLittle(t *testing.T) {
	k := testenv.NewKafka(t)
	topic := k.Topic(t, 4)
	c := newShipperCollector(t, k.Addr, topic)
	var w beacon.Work
	in := beacon.Input{Body: readExample(t), Now: time.Now().UnixMilli()}
	if res := w.Process(c.Sites(), &in); res.Accepted != 8 {
		t.Fatalf("example batch: %+v", res)
	}
	defer startShipper(c)()
	ship := func() {
		t.Helper()
		if _, err := c.spool.Append(w.Key, w.Msgs, w.Ends); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "the shipper did not ship one request", c.spool.Empty)
	}
	ship() // metadata, connections
	const writes = 20
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range writes {
		ship()
	}
	runtime.ReadMemStats(&m1)
	perWrite := (m1.TotalAlloc - m0.TotalAlloc) / writes
	oldRoom := uint64(c.cfg.ShipBatch) * uint64(unsafe.Sizeof(kafka.Message{}))
	t.Logf("%d bytes allocated per write of %d messages (ShipBatch %d messages' room: %d bytes)", perWrite, len(w.Ends), c.cfg.ShipBatch, oldRoom)
	if perWrite > oldRoom/4 {
		t.Errorf("a write of %d messages allocated %d bytes, over a quarter of ShipBatch's room (%d bytes)", len(w.Ends), perWrite, oldRoom)
	}
}
