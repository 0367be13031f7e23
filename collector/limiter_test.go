package collector

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beaconprm/beacon/beacon"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// eventually polls cond until it holds, failing the test after d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Forced overload: one request slot and no queue, the slot held by a slow request (ack=kafka
// against a broker that never answers keeps it for -collector.kafkaTimeout). A batch arriving
// meanwhile gets a cheap 503 overloaded with Retry-After at once, its body never decoded or
// spooled; a pixel still gets its GIF. Once the slot is free the collector accepts again.
func TestOverloadIsShedThenAccepted(t *testing.T) {
	const kafkaWait = 1500 * time.Millisecond
	c := startCollector(t, Config{Ack: AckKafka, Brokers: []string{blackHoleBroker(t)}, KafkaTimeout: kafkaWait,
		MaxConcurrentRequests: 1, MaxQueuedRequests: -1, ShutdownTimeout: time.Second})
	body := readExample(t)
	var wg sync.WaitGroup
	wg.Add(1)
	slowStatus := 0
	go func() {
		defer wg.Done()
		resp, _ := do(t, "POST", c.url+"/v1/events", body)
		slowStatus = resp.StatusCode
	}()
	eventually(t, 5*time.Second, "the slow request never reached its wait for Kafka, holding the slot", func() bool {
		return c.limiter.fullness() == 1 && testutil.ToFloat64(c.m.spoolMessages) == 8
	})

	t0 := time.Now()
	resp, b := do(t, "POST", c.url+"/v1/events", body, "Origin", "http://localhost:3000")
	took := time.Since(t0)
	if resp.StatusCode != 503 || !bytes.Contains(b, []byte(`"error":"overloaded"`)) || resp.Header.Get("Retry-After") != overloadRetryAfter {
		t.Fatalf("request over the limit: %d %s Retry-After %q; want 503 overloaded with Retry-After", resp.StatusCode, b, resp.Header.Get("Retry-After"))
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Fatalf("the snippet cannot read the shed answer: %v", resp.Header)
	}
	if took >= kafkaWait/2 {
		t.Fatalf("shed after %v: it waited for the slow request though the queue has no place", took)
	}
	resp, b = do(t, "GET", c.url+"/v1/p.gif?site=demo&cid=doc-1&ct=document", nil)
	if resp.StatusCode != 200 || !bytes.Equal(b, transparentGIF) {
		t.Fatalf("pixel over the limit: %d, %d bytes; want the GIF", resp.StatusCode, len(b))
	}
	if got := testutil.ToFloat64(c.m.rejected[beacon.ReasonOverloaded]); got != 2 {
		t.Fatalf("beacon_requests_rejected_total{reason=overloaded} = %v, want 2 (the batch and the pixel)", got)
	}
	if got := testutil.ToFloat64(c.m.slotWaits); got != 0 {
		t.Fatalf("beacon_request_slot_waits_total = %v, want 0: no queue", got)
	}
	if got := testutil.ToFloat64(c.m.spoolMessages); got != 8 {
		t.Fatalf("%v messages spooled, want only the slow request's 8: shed requests must not be processed", got)
	}

	wg.Wait()
	if slowStatus != 204 {
		t.Fatalf("the slow request got %d, want 204 (answered from the spool after -collector.kafkaTimeout)", slowStatus)
	}
	if c.limiter.fullness() != 0 {
		t.Fatalf("slot not released: fullness %v", c.limiter.fullness())
	}
	resp, b = do(t, "POST", c.url+"/v1/events", body)
	if resp.StatusCode != 204 || testutil.ToFloat64(c.m.spoolMessages) != 16 {
		t.Fatalf("after the overload: %d %s, %v spooled; want 204 and 16", resp.StatusCode, b, testutil.ToFloat64(c.m.spoolMessages))
	}
}

// A request that finds every slot taken queues for one if the queue has room, and gets one
// freed within -collector.maxQueueDuration; with the queue full it is refused at once, and a
// queued request whose wait ends is refused too.
func TestRequestLimiterQueue(t *testing.T) {
	c := startCollector(t, Config{})
	l := newRequestLimiter(1, 1, 10*time.Second, &c.timers)
	if ok, waited := l.acquire(); !ok || waited {
		t.Fatalf("free slot: ok %v waited %v", ok, waited)
	}
	got := make(chan bool)
	go func() {
		ok, _ := l.acquire()
		got <- ok
	}()
	eventually(t, 5*time.Second, "the second request never queued", func() bool { return l.waiting.Load() == 1 })
	if ok, waited := l.acquire(); ok || waited {
		t.Fatalf("queue full: ok %v waited %v; want refused at once", ok, waited)
	}
	l.release()
	select {
	case ok := <-got:
		if !ok {
			t.Fatal("the queued request got no slot though one was freed")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the queued request was not given the freed slot")
	}
	l = newRequestLimiter(1, 1, 20*time.Millisecond, &c.timers)
	l.acquire()
	if ok, waited := l.acquire(); ok || !waited {
		t.Fatalf("slot held past -collector.maxQueueDuration: ok %v waited %v; want refused after queueing", ok, waited)
	}
	if l.waiting.Load() != 0 {
		t.Fatalf("%d still counted as queued", l.waiting.Load())
	}
	if q := maxQueuedRequests(0, 64); q != 8*64 {
		t.Fatalf("default queue for 64 slots: %d", q)
	}
	if q := maxQueuedRequests(-1, 64); q != 0 {
		t.Fatalf("-1 queue: %d", q)
	}
	if n := maxConcurrentRequests(-1, AckSpool); n != 0 {
		t.Fatalf("-1 gave a limit of %d", n)
	}
	if a, b := maxConcurrentRequests(0, AckSpool), maxConcurrentRequests(0, AckKafka); a <= 0 || b <= a {
		t.Fatalf("defaults: spool %d, kafka %d; want kafka (requests wait for Kafka) above spool", a, b)
	}
	if err := (Config{SitesFile: "x", MaxConcurrentRequests: -2}).Validate(); err == nil || !strings.Contains(err.Error(), "-collector.maxConcurrentRequests") {
		t.Fatalf("maxConcurrentRequests -2: %v", err)
	}
	if err := (Config{SitesFile: "x", MaxQueuedRequests: -2}).Validate(); err == nil || !strings.Contains(err.Error(), "-collector.maxQueuedRequests") {
		t.Fatalf("maxQueuedRequests -2: %v", err)
	}
	if err := (Config{SitesFile: "x", MaxQueueDuration: -time.Second}).Validate(); err == nil || !strings.Contains(err.Error(), "-collector.maxQueueDuration") {
		t.Fatalf("negative maxQueueDuration: %v", err)
	}
}
