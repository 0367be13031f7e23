package signals

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beaconprm/beacon/internal/testenv"
)

// received is what a test receiver got: every request's key header and body.
type received struct {
	mu     sync.Mutex
	keys   []string
	bodies []map[string]any
}

func (r *received) handler(status func(n int) int) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		r.mu.Lock()
		r.keys = append(r.keys, req.Header.Get("Idempotency-Key"))
		r.bodies = append(r.bodies, body)
		n := len(r.keys)
		r.mu.Unlock()
		w.WriteHeader(status(n))
	}
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.keys)
}

func newRunner(t *testing.T, conn *testenv.ClickHouse, file string, tune func(*Config)) (*Runner, *prometheus.Registry) {
	t.Helper()
	f, err := ParseFile([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	cfg := Config{File: f, Conn: conn.Conn(t), Database: conn.Database, StatePath: filepath.Join(t.TempDir(), "state.json"),
		Interval: 100 * time.Millisecond, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		Registerer: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if tune != nil {
		tune(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, reg
}

// TestOpenedSlackBody: a named person opens a watched content; a Slack receiver gets one
// {"text": ...} body naming the person and the content, with the key in its header, and
// a later evaluation sends nothing more (the key was delivered).
func TestOpenedSlackBody(t *testing.T) {
	ch := newDB(t)
	var got received
	srv := httptest.NewServer(got.handler(func(int) int { return http.StatusOK }))
	defer srv.Close()
	r, _ := newRunner(t, ch, `{"receivers": [{"name": "slack", "url": "`+srv.URL+`", "format": "slack"}],
		"rules": [{"name": "reading", "kind": "opened", "tenant": "acme", "person": "p1", "contents": ["doc1", "doc2"], "receivers": ["slack"]}]}`, nil)
	now := time.Now().UTC()
	insertTouches(t, ch.Conn(t), ch.Database,
		touch{person: "p1", partner: "pa", content: "doc1", at: now.Add(-time.Second)},
		touch{person: "p2", partner: "pa", content: "doc1", at: now.Add(-time.Second)},   // not watched
		touch{person: "p1", partner: "pa", content: "doc3", at: now.Add(-time.Second)},   // not watched
		touch{person: "p1", partner: "pa", content: "doc2", at: now.Add(-2 * time.Hour)}) // before the window
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the Slack signal", 30*time.Second, func() bool { return got.count() >= 1 })
	// a few more evaluations: nothing else arrives
	evals := testutil.ToFloat64(r.m.evals)
	waitFor(t, "three more evaluations", 30*time.Second, func() bool { return testutil.ToFloat64(r.m.evals) >= evals+3 })
	got.mu.Lock()
	defer got.mu.Unlock()
	if len(got.bodies) != 1 {
		t.Fatalf("got %d requests, want 1: %v", len(got.bodies), got.bodies)
	}
	body := got.bodies[0]
	text, _ := body["text"].(string)
	if len(body) != 1 || text == "" {
		t.Fatalf("Slack body %v, want only a non-empty text", body)
	}
	want := Key("reading", "person:p1/content:doc1", "opened on "+now.Format("2006-01-02"))
	if got.keys[0] != want {
		t.Fatalf("Idempotency-Key %q, want %q", got.keys[0], want)
	}
	for _, s := range []string{"p1 opened doc1", want} {
		if !strings.Contains(text, s) {
			t.Fatalf("text %q lacks %q", text, s)
		}
	}
}

// TestReceiverTimeoutDoesNotStallEvaluation: a receiver that never answers holds the
// workers until their timeout, and a full queue is counted, while evaluations go on at
// their interval.
func TestReceiverTimeoutDoesNotStallEvaluation(t *testing.T) {
	ch := newDB(t)
	release := make(chan struct{})
	var got received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got.handler(func(int) int { return http.StatusOK })(httptest.NewRecorder(), req)
		select {
		case <-release:
		case <-req.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	r, reg := newRunner(t, ch, `{"receivers": [{"name": "slow", "url": "`+srv.URL+`", "timeout": "1h"}],
		"rules": [{"name": "reading", "kind": "opened", "tenant": "acme", "person": "p1", "contents": ["doc1", "doc2", "doc3"], "receivers": ["slow"]}]}`,
		func(c *Config) { c.Workers, c.QueueSize = 1, 2 })
	now := time.Now().UTC()
	insertTouches(t, ch.Conn(t), ch.Database,
		touch{person: "p1", partner: "pa", content: "doc1", at: now},
		touch{person: "p1", partner: "pa", content: "doc2", at: now},
		touch{person: "p1", partner: "pa", content: "doc3", at: now})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the first delivery to hang", 30*time.Second, func() bool { return got.count() >= 1 })
	evals := testutil.ToFloat64(r.m.evals)
	waitFor(t, "five evaluations while the receiver hangs", 30*time.Second, func() bool { return testutil.ToFloat64(r.m.evals) >= evals+5 })
	if n := got.count(); n != 1 {
		t.Fatalf("the hung receiver got %d requests, want 1 (one worker)", n)
	}
	if full := testutil.ToFloat64(r.m.queueFull); full < 5 {
		t.Fatalf("signals_queue_full_total = %v, want >= 5 (a third signal refused each round)", full)
	}
	if ratio := gauge(t, reg, "signals_queue_fullness_ratio"); ratio != 1 {
		t.Fatalf("signals_queue_fullness_ratio = %v, want 1", ratio)
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
