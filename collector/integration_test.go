package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/beaconprm/beacon/beacon"
	"github.com/beaconprm/beacon/internal/spool"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/kafkalocal"
	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/segmentio/kafka-go"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// sentEvent is what the load generator sent, to check against the topic.
type sentEvent struct {
	id, visitor string
	seq         int
}

// sendBatches posts events over HTTP (sequence numbers from seqStart): visitors send their batches in sequence (as one
// browser would), visitors in parallel. Each batch holds perBatch engage events whose
// engaged_ms is the per-visitor sequence number. Every answer must be 204.
func sendBatches(t *testing.T, url string, visitors, batchesPerVisitor, perBatch int, visitorPrefix string, seqStart int) []sentEvent {
	t.Helper()
	var mu sync.Mutex
	var sent []sentEvent
	var wg sync.WaitGroup
	errs := make(chan error, visitors)
	client := &http.Client{Timeout: 30 * time.Second}
	for v := 0; v < visitors; v++ {
		wg.Add(1)
		go func(v int) {
			defer wg.Done()
			visitor := fmt.Sprintf("%s%d", visitorPrefix, v)
			seq := seqStart
			for b := 0; b < batchesPerVisitor; b++ {
				now := time.Now().UnixMilli()
				batch := beacon.Batch{V: 1, Site: "demo", SentAt: now, VisitorID: visitor, SessionID: "s" + visitor}
				var mine []sentEvent
				for i := 0; i < perBatch; i++ {
					id := newUUID()
					batch.Events = append(batch.Events, beacon.Event{ID: id, Type: "engage", TS: now, EngagedMS: uint32(seq)})
					mine = append(mine, sentEvent{id: id, visitor: visitor, seq: seq})
					seq++
				}
				body, _ := json.Marshal(batch)
				resp, err := client.Post(url+"/v1/events", "text/plain;charset=UTF-8", strings.NewReader(string(body)))
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 204 {
					errs <- fmt.Errorf("visitor %s batch %d: status %d", visitor, b, resp.StatusCode)
					return
				}
				mu.Lock()
				sent = append(sent, mine...)
				mu.Unlock()
			}
		}(v)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return sent
}

// consume reads the topic's partitions from the start until want messages arrived (or the
// deadline), then returns every message read, in partition order.
// eventID is the event_id of a normalized message (the whole value if it has none).
func eventID(v []byte) string {
	const k = `"event_id":"`
	if i := bytes.Index(v, []byte(k)); i >= 0 {
		if j := bytes.IndexByte(v[i+len(k):], '"'); j >= 0 {
			return string(v[i+len(k) : i+len(k)+j])
		}
	}
	return string(v)
}

func consume(t *testing.T, broker, topic string, want int, timeout time.Duration) []kafka.Message {
	t.Helper()
	conn, err := kafka.Dial("tcp", broker)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var mu sync.Mutex
	var got []kafka.Message
	seen := map[string]bool{} // distinct event ids: duplicates (allowed after a kill) do not count
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: p, MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 200 * time.Millisecond})
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					return
				}
				mu.Lock()
				got = append(got, m)
				seen[eventID(m.Value)] = true
				if len(seen) >= want {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		}(p.ID)
	}
	select {
	case <-enough:
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
	return got
}

// topicSize sums the partitions' end offsets: the number of messages ever written.
func topicSize(t *testing.T, broker, topic string) int64 {
	t.Helper()
	conn, err := kafka.Dial("tcp", broker)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, p := range parts {
		lc, err := kafka.DialLeader(context.Background(), "tcp", broker, topic, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		last, err := lc.ReadLastOffset()
		lc.Close()
		if err != nil {
			t.Fatal(err)
		}
		n += last
	}
	return n
}

type gotEvent struct {
	EventID   string `json:"event_id"`
	VisitorID string `json:"visitor_id"`
	EngagedMS int    `json:"engaged_ms"`
	Type      string `json:"type"`
}

func decodeMessages(t *testing.T, msgs []kafka.Message) (byPartition map[int][]gotEvent) {
	t.Helper()
	byPartition = map[int][]gotEvent{}
	for _, m := range msgs {
		var e gotEvent
		if err := json.Unmarshal(m.Value, &e); err != nil {
			t.Fatalf("message is not JSON: %s", m.Value)
		}
		if string(m.Key) != e.VisitorID {
			t.Fatalf("message key %q, visitor %q", m.Key, e.VisitorID)
		}
		byPartition[m.Partition] = append(byPartition[m.Partition], e)
	}
	return byPartition
}

// checkOrderPerVisitor verifies that every sent event arrived and that, per visitor, first
// arrivals follow the send order (duplicates from retries allowed only when allowDup).
func checkDelivery(t *testing.T, sent []sentEvent, msgs []kafka.Message, allowDup bool) {
	t.Helper()
	want := map[string]sentEvent{}
	for _, s := range sent {
		want[s.id] = s
	}
	seen := map[string]bool{}
	lastSeq := map[string]int{}
	visitorPartition := map[string]int{}
	for p, evs := range decodeMessages(t, msgs) {
		for _, e := range evs {
			s, ok := want[e.EventID]
			if !ok {
				t.Fatalf("unexpected event %s", e.EventID)
			}
			if vp, ok := visitorPartition[e.VisitorID]; ok && vp != p {
				t.Fatalf("visitor %s in partitions %d and %d", e.VisitorID, vp, p)
			}
			visitorPartition[e.VisitorID] = p
			if seen[e.EventID] {
				if !allowDup {
					t.Fatalf("event %s delivered twice", e.EventID)
				}
				continue
			}
			seen[e.EventID] = true
			if last, ok := lastSeq[e.VisitorID]; ok && s.seq < last {
				t.Fatalf("visitor %s: event seq %d after %d", e.VisitorID, s.seq, last)
			}
			lastSeq[e.VisitorID] = s.seq
			if e.EngagedMS != s.seq || e.VisitorID != s.visitor {
				t.Fatalf("event %s content %+v, sent %+v", e.EventID, e, s)
			}
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%d of %d events reached Kafka", len(seen), len(want))
	}
}

// bothAckModes runs f once per ack mode (write-ahead spool, wait for Kafka).
func bothAckModes(t *testing.T, f func(t *testing.T, ack string)) {
	for _, ack := range []string{AckSpool, AckKafka} {
		t.Run("ack="+ack, func(t *testing.T) { f(t, ack) })
	}
}

// waitSpoolShipped waits until the shipper has sent everything spooled to Kafka.
func waitSpoolShipped(t *testing.T, c *testCollector) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !c.spool.Empty() {
		if time.Now().After(deadline) {
			t.Fatalf("spool not shipped: %d bytes pending", c.spool.Pending())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestKafka10000EventsExactlyOnce(t *testing.T) { bothAckModes(t, testKafka10000EventsExactlyOnce) }

func testKafka10000EventsExactlyOnce(t *testing.T, ack string) {
	k := testenv.NewKafka(t)
	topic := k.Topic(t, 4)
	// A generous bound, so that with ack=kafka every 2xx means the events are in Kafka.
	c := startCollector(t, Config{Ack: ack, Brokers: []string{k.Addr}, Topic: topic, KafkaTimeout: 10 * time.Second})
	sent := sendBatches(t, c.url, 20, 50, 10, "v", 0) // 20 visitors x 50 batches x 10 = 10,000
	if len(sent) != 10000 {
		t.Fatalf("sent %d", len(sent))
	}
	if ack == AckKafka {
		if n := topicSize(t, k.Addr, topic); n != 10000 || testutil.ToFloat64(c.m.ackTimeouts) != 0 {
			t.Fatalf("with ack=kafka and every request answered, the topic holds %d of 10000 (%v ack timeouts)", n, testutil.ToFloat64(c.m.ackTimeouts))
		}
	}
	msgs := consume(t, k.Addr, topic, len(sent), 60*time.Second)
	checkDelivery(t, sent, msgs, false)
	if n := topicSize(t, k.Addr, topic); n != 10000 {
		t.Fatalf("topic holds %d messages, want exactly 10000", n)
	}
	waitSpoolShipped(t, c)
	if got := testutil.ToFloat64(c.m.spoolReplayed); got != 10000 {
		t.Fatalf("shipped %v messages from the spool, want 10000", got)
	}
}

func TestKafkaAwaySpoolsThenReplaysInOrder(t *testing.T) {
	bothAckModes(t, testKafkaAwaySpoolsThenReplaysInOrder)
}

func testKafkaAwaySpoolsThenReplaysInOrder(t *testing.T, ack string) {
	const topic = "beacon.events"
	kb := testenv.NewKafkaServer(t, kafkalocal.Topic{Name: topic, Partitions: 3})
	// A stopped broker refuses connections at once, so the shipper knows it is away without
	// waiting for the bound (and ack=kafka requests are answered from the spool at once).
	c := startCollector(t, Config{Ack: ack, Brokers: []string{kb.Addr}, Topic: topic, KafkaTimeout: 2 * time.Second})

	sent := sendBatches(t, c.url, 5, 4, 5, "a", 0) // Kafka up
	kb.Stop(t)
	shipped := testutil.ToFloat64(c.m.spoolReplayed)
	sent = append(sent, sendBatches(t, c.url, 5, 10, 5, "a", 1000)...) // Kafka away: 2xx from the spool
	if got := testutil.ToFloat64(c.m.spoolMessages); got < 350 || c.spool.Pending() == 0 || testutil.ToFloat64(c.m.spoolReplayed) > shipped+25 {
		t.Fatalf("while Kafka was stopped: %v messages spooled (want 350), %d bytes pending, %v shipped", got, c.spool.Pending(), testutil.ToFloat64(c.m.spoolReplayed)-shipped)
	}
	if resp, _ := do(t, "GET", c.url+"/readyz", nil); resp.StatusCode != 200 {
		t.Fatalf("readyz %d while spooling below the limit", resp.StatusCode)
	}
	kb.Start(t)
	waitSpoolShipped(t, c)
	if got := testutil.ToFloat64(c.m.spoolReplayed); got < 350 {
		t.Fatalf("shipped %v messages, want 350", got)
	}
	sent = append(sent, sendBatches(t, c.url, 5, 4, 5, "a", 2000)...) // Kafka back
	msgs := consume(t, kb.Addr, topic, len(sent), 60*time.Second)
	// Order per visitor holds across the outage; a write cut while the broker went away may
	// have reached it and is retried: duplicates are allowed here.
	checkDelivery(t, sent, msgs, true)
	if c.spool.Segments() > 1 {
		t.Fatalf("replayed segments left behind: %d", c.spool.Segments())
	}
}

func TestBeaconLinkThroughCollector(t *testing.T) {
	k := testenv.NewKafka(t)
	topic := k.Topic(t, 1)
	dir := t.TempDir()
	sites := writeSites(t, dir)
	c := startCollector(t, Config{Brokers: []string{k.Addr}, Topic: topic, SitesFile: sites})
	bin := testenv.BuildBeacon(t)
	out, err := exec.Command(bin, "link", "-link.sites", sites, "-link.base", c.url, "-link.partner", "acme", "-link.user", "jane@acme.example",
		"-link.campaign", "q4", "-link.content", "doc-1", "-link.target", "https://partners.example.com/doc-1").CombinedOutput()
	if err != nil {
		t.Fatalf("beacon link: %v: %s", err, out)
	}
	link := strings.TrimSpace(string(out))
	if !strings.HasPrefix(link, c.url+"/l/") {
		t.Fatalf("link %q", link)
	}
	resp, _ := do(t, "GET", link, nil, "User-Agent", "Mozilla/5.0 (Windows NT 10.0)")
	if resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), "https://partners.example.com/doc-1?pb_t=") {
		t.Fatalf("link answered %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.HasPrefix(link, c.url+"/l/demo/") {
		t.Fatalf("link %q does not carry its site (-link.site demo)", link)
	}
	tok := link[strings.LastIndex(link, "/")+1:]
	resp, _ = do(t, "GET", c.url+"/l/demo/"+tamper(t, tok), nil)
	if resp.StatusCode != 403 || resp.Header.Get("Location") != "" {
		t.Fatalf("tampered link answered %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	msgs := consume(t, k.Addr, topic, 1, 30*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	var click map[string]any
	json.Unmarshal(msgs[0].Value, &click)
	if click["type"] != "click" || click["action"] != "tracked" || click["partner_id"] != "acme" || click["partner_user_id"] != "jane@acme.example" ||
		click["campaign_id"] != "q4" || click["content_id"] != "doc-1" || click["attribution"] != "token" {
		t.Fatalf("click %v", click)
	}
	if n := topicSize(t, k.Addr, topic); n != 1 {
		t.Fatalf("topic holds %d messages; the tampered link must record nothing", n)
	}
}

// startProcess runs `beacon collector` as its own process and waits until it answers.
func startProcess(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	port := testenv.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, append([]string{"collector", "-collector.listenAddr", addr}, args...)...)
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("collector log:\n%s", logs.String())
		}
	})
	url := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector did not come up: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A 2xx is durable: events acknowledged from the spool survive kill -9 of the collector and
// reach Kafka when a new collector starts on the same spool. With ack=spool the spool is
// written, not fsynced, before the 2xx: the page cache outlives the process.
func TestKilledCollectorLosesNothingAcknowledged(t *testing.T) {
	bothAckModes(t, func(t *testing.T, ack string) { testKilledCollector(t, ack, false) })
	// Write-ahead with Kafka up: killed while the shipper is behind, or between a Kafka
	// write and its cursor update (so duplicates are allowed, losses are not).
	t.Run("ack=spool/kafka-up", func(t *testing.T) { testKilledCollector(t, AckSpool, true) })
}

func testKilledCollector(t *testing.T, ack string, kafkaUp bool) {
	k := testenv.NewKafka(t)
	topic := k.Topic(t, 2)
	dir := t.TempDir()
	sites := writeSites(t, dir)
	bin := testenv.BuildBeacon(t)
	common := []string{"-collector.ack", ack, "-collector.sites", sites, "-collector.topic", topic, "-collector.spoolDir", dir + "/spool", "-collector.snippetDir", dir}

	firstBroker := deadBroker(t)
	if kafkaUp {
		firstBroker = k.Addr
	}
	first, url := startProcess(t, bin, append(common, "-collector.brokers", firstBroker)...)
	sent := sendBatches(t, url, 4, 10, 5, "k", 0) // Kafka unreachable: all from the spool
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	first.Wait()

	second, _ := startProcess(t, bin, append(common, "-collector.brokers", k.Addr)...)
	msgs := consume(t, k.Addr, topic, len(sent), 60*time.Second)
	checkDelivery(t, sent, msgs, kafkaUp)
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Fatalf("collector exit after SIGTERM: %v", err)
	}
	s, err := spool.Open(spool.Config{Dir: dir + "/spool"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Empty() {
		t.Fatalf("spool still holds %d bytes after replay", s.Pending())
	}
}

// TestShipperSplitsWritesTheBrokerRefusesAsTooLarge sets the topic's max.message.bytes so low
// that a write of the spooled requests is refused, and expects the shipper to write them in
// smaller pieces, every event once and in the order it was acknowledged. Before, the shipper
// retried the refused write forever and nothing after it reached Kafka.
func TestShipperSplitsWritesTheBrokerRefusesAsTooLarge(t *testing.T) {
	k := testenv.NewKafka(t)
	topic := k.Topic(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := (&kafka.Client{Addr: kafka.TCP(k.Addr)}).AlterConfigs(ctx, &kafka.AlterConfigsRequest{Resources: []kafka.AlterConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: topic,
		Configs: []kafka.AlterConfigRequestConfig{{Name: "max.message.bytes", Value: "4096"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	for r, err := range res.Errors {
		if err != nil {
			t.Fatalf("max.message.bytes of %s: %v", r.Name, err)
		}
	}
	c := newShipperCollector(t, k.Addr, topic)
	const requests, perRequest = 50, 8
	var order []string
	for i := range requests {
		events := make([]string, perRequest)
		for j := range events {
			events[j] = fmt.Sprintf(`{"type":"scroll","ts":%d,"depth":%d,"id":"%s"}`, 1795420800000+int64(i*perRequest+j), 10+j, newUUID())
		}
		var w beacon.Work
		in := beacon.Input{Body: batchJSON("", events...), Now: time.Now().UnixMilli()}
		if res := w.Process(c.Sites(), &in); res.Accepted != perRequest {
			t.Fatalf("request %d: %+v", i, res)
		}
		prev := 0
		for _, end := range w.Ends {
			order = append(order, eventID(w.Msgs[prev:end]))
			prev = end
		}
		if _, err := c.spool.Append(w.Key, w.Msgs, w.Ends); err != nil {
			t.Fatal(err)
		}
	}
	defer startShipper(c)()
	eventually(t, 30*time.Second, "the spool is not empty: some write never went through", c.spool.Empty)
	if n := testutil.ToFloat64(c.m.kafkaErrors); n == 0 {
		t.Fatal("the broker refused no write: the test did not exercise the limit")
	}
	t.Logf("%v writes refused as too large; writes now bounded to %d messages", testutil.ToFloat64(c.m.kafkaErrors), c.shipper.writeLimit())
	var got []string
	seen := map[string]bool{}
	for _, m := range consume(t, k.Addr, topic, len(order), 30*time.Second) {
		if id := eventID(m.Value); !seen[id] {
			seen[id] = true
			got = append(got, id)
		}
	}
	if !slices.Equal(got, order) {
		t.Fatalf("Kafka holds %d distinct events, want the %d acknowledged in their order", len(got), len(order))
	}
}
