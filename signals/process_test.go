package signals

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/testenv"
)

// signalsProc is a `beacon signals` child process.
type signalsProc struct {
	cmd    *exec.Cmd
	out    *bytes.Buffer
	exited chan struct{}
}

func startSignals(t *testing.T, bin string, args ...string) *signalsProc {
	t.Helper()
	p := &signalsProc{cmd: exec.Command(bin, append([]string{"signals"}, args...)...), out: &bytes.Buffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill(t) })
	return p
}

// kill ends the process with SIGKILL: no chance to save anything on the way out.
func (p *signalsProc) kill(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	if t.Failed() {
		t.Logf("beacon signals output:\n%s", p.out.String())
	}
}

// metric reads one unlabelled sample from a /metrics page, -1 when unreachable.
func metric(addr, name string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

// TestSilentAndBackAcrossKill: a person goes silent and comes back; the receiver answers
// 500 to the first two requests and `beacon signals` is killed (SIGKILL) once while the
// first signal is still failing and once after it succeeded; the receiver still gets
// exactly one successful delivery of each signal, the same key on every attempt.
func TestSilentAndBackAcrossKill(t *testing.T) {
	bin := testenv.BuildBeacon(t)
	ch := newDB(t)
	now := time.Now().UTC()
	insertTouches(t, ch.Conn(t), ch.Database, weeklyBaseline(now)...)

	var (
		mu       sync.Mutex
		requests int
		okByKey  = map[string]int{}
		kinds    = map[string]string{}
		attempts = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		requests++
		key := r.Header.Get("Idempotency-Key")
		attempts[key]++
		if requests <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var s Signal
		if err := jsonDecode(r, &s); err != nil || s.Key != key {
			t.Errorf("body %+v (%v): its idempotency_key must equal the header %q", s, err, key)
		}
		okByKey[key]++
		kinds[key] = s.Kind + " " + s.Subject
	}))
	defer srv.Close()
	snapshot := func() (int, map[string]int, map[string]string) {
		mu.Lock()
		defer mu.Unlock()
		ok, k := map[string]int{}, map[string]string{}
		for a, b := range okByKey {
			ok[a] = b
		}
		for a, b := range kinds {
			k[a] = b
		}
		return requests, ok, k
	}

	dir := t.TempDir()
	config := filepath.Join(dir, "signals.json")
	if err := os.WriteFile(config, []byte(`{
  "receivers": [{"name": "hook", "url": "`+srv.URL+`", "timeout": "5s"}],
  "rules": [
    {"name": "quiet", "kind": "silent", "tenant": "acme", "level": "person", "receivers": ["hook"]},
    {"name": "back", "kind": "back", "after": "quiet", "receivers": ["hook"]}
  ]
}`), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state.json")
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	args := []string{"-clickhouse.addr=" + ch.NativeAddr, "-clickhouse.database=" + ch.Database,
		"-signals.config=" + config, "-signals.stateFile=" + state, "-signals.metricsAddr=" + metricsAddr,
		"-signals.interval=200ms", "-signals.retryMin=300ms", "-signals.retryMax=1s"}

	silentKey := Key("quiet", "partner:pa/person:p1", "silent after "+weeklyBaseline(now)[0].at.Format("2006-01-02 15:04:05.000"))
	backKey := Key("back", "partner:pa/person:p1", "back after silent after "+weeklyBaseline(now)[0].at.Format("2006-01-02 15:04:05.000"))

	// 1. The silent signal fails once; killed before its retry.
	p := startSignals(t, bin, args...)
	waitFor(t, "the first (failing) request", 60*time.Second, func() bool { n, _, _ := snapshot(); return n >= 1 })
	p.kill(t)
	// 2. Restarted: it finds the silence again, fails once more, then succeeds.
	p = startSignals(t, bin, args...)
	waitFor(t, "the silent signal delivered", 60*time.Second, func() bool { _, ok, _ := snapshot(); return ok[silentKey] >= 1 })
	waitFor(t, "the state file to record it", 10*time.Second, func() bool {
		b, _ := os.ReadFile(state)
		return bytes.Contains(b, []byte(silentKey))
	})
	p.kill(t)
	// 3. Restarted after the success: p1 touches doc1 now and becomes active.
	p = startSignals(t, bin, args...)
	waitFor(t, "an evaluation after the restart", 60*time.Second, func() bool { return metric(metricsAddr, "signals_evaluations_total") >= 1 })
	insertTouches(t, ch.Conn(t), ch.Database, touch{person: "p1", partner: "pa", content: "doc1", at: time.Now().UTC()})
	waitFor(t, "the back signal delivered", 60*time.Second, func() bool { _, ok, _ := snapshot(); return ok[backKey] >= 1 })
	evals := metric(metricsAddr, "signals_evaluations_total")
	waitFor(t, "five more evaluations", 60*time.Second, func() bool { return metric(metricsAddr, "signals_evaluations_total") >= evals+5 })
	p.kill(t)

	n, ok, k := snapshot()
	if len(ok) != 2 || ok[silentKey] != 1 || ok[backKey] != 1 {
		t.Fatalf("successful deliveries by key %v, want exactly one of %s (silent) and %s (back); kinds %v", ok, silentKey, backKey, k)
	}
	if k[silentKey] != "silent partner:pa/person:p1" || k[backKey] != "back partner:pa/person:p1" {
		t.Fatalf("signals %v", k)
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts[silentKey] != 3 || attempts[backKey] != 1 || n != 4 {
		t.Fatalf("attempts by key %v (%d requests), want 3 for the silent signal (two 500s, one success) and 1 for back", attempts, n)
	}
}
