package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/ready"
	"github.com/beaconprm/beacon/internal/testenv"
)

// TestDevRestartsCrashedClickHouse kills the ClickHouse child of a running `beacon dev`
// with SIGKILL (as the engine's own aborts end it) and expects the stack to stay up, the
// engine to be restarted on its data (the events sent before are still there) and a new
// batch sent through the collector to become queryable.
func TestDevRestartsCrashedClickHouse(t *testing.T) {
	exe := testenv.BuildBeacon(t)
	dir := t.TempDir()
	chHTTP, chTCP, kafkaPort := testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)
	collector := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	cmd := exec.Command(exe, "dev",
		"-dev.dataDir="+filepath.Join(dir, "var"),
		"-dev.clickhouseHTTPPort="+strconv.Itoa(chHTTP), "-dev.clickhouseTCPPort="+strconv.Itoa(chTCP),
		"-dev.kafkaPort="+strconv.Itoa(kafkaPort), "-dev.partitions=2",
		"-dev.collectorAddr="+collector,
		"-dev.ingestMetricsAddr=127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)),
		"-dev.consoleAddr=127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)),
		"-dev.signalsMetricsAddr=127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)),
		"-dev.signalsReceiverAddr=127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)),
		"-dev.snippetDir="+filepath.Join(dir, "no-snippet"))
	stderr := &testenv.SyncBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("beacon dev stderr:\n%s", stderr.String())
		}
	})
	awaitBanner(t, stdout, exited)

	batch, err := os.ReadFile("../../beacon/testdata/example-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(string(batch), `"id"`)
	count := "SELECT count() FROM beacon.events WHERE site_key = 'demo'"
	postBatch(t, collector, batch)
	if got := awaitCH(chHTTP, count, strconv.Itoa(n)); got != strconv.Itoa(n) {
		t.Fatalf("before the crash: beacon.events holds %s demo events, want %d", got, n)
	}

	engine := clickhouseChild(t, cmd.Process.Pid)
	if err := syscall.Kill(engine, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed the ClickHouse child, pid %d", engine)
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(stderr.String(), "dev: clickhouse ready again (restart 1)") {
		select {
		case err := <-exited:
			t.Fatalf("beacon dev exited after the engine was killed: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("clickhouse not restarted within 2 minutes of the kill")
		}
		time.Sleep(100 * time.Millisecond) // polling interval of a condition with a deadline
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(l, "dev: clickhouse") || strings.HasPrefix(l, "dev: restarting") || strings.HasPrefix(l, "clickhouse | ") {
			t.Log(l)
		}
	}
	if again := clickhouseChild(t, cmd.Process.Pid); again == engine {
		t.Fatalf("the ClickHouse child is still pid %d", again)
	}
	for _, want := range []string{"dev: clickhouse exited unexpectedly", "signal: killed", "dev: restarting clickhouse on its data in 1s (restart 1)"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("dev's log lacks %q", want)
		}
	}

	// New events through the collector, Kafka and the ingest, which rode out the outage.
	postBatch(t, collector, newEventIDs(batch))
	if got := awaitCH(chHTTP, count, strconv.Itoa(2*n)); got != strconv.Itoa(2*n) {
		t.Fatalf("after the restart: beacon.events holds %s demo events, want %d", got, 2*n)
	}
	select {
	case err := <-exited:
		t.Fatalf("beacon dev exited: %v", err)
	default:
	}
}

// clickhouseChild returns the pid of the `beacon clickhouse` child of parent (dev, or a
// `beacon clickhouse` that restarts its engine).
func clickhouseChild(t *testing.T, parent int) int {
	t.Helper()
	for _, pid := range ready.Children(parent) {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if args := strings.Split(string(b), "\x00"); len(args) > 1 && args[1] == "clickhouse" {
			return pid
		}
	}
	t.Fatalf("pid %d has no clickhouse child among %v", parent, ready.Children(parent))
	return 0
}

func postBatch(t *testing.T, collector string, batch []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+collector+"/v1/events", bytes.NewReader(batch))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST batch: %s", resp.Status)
	}
}

var eventIDRE = regexp.MustCompile(`"id": "([0-9a-f])`)

// newEventIDs changes the first hex digit of every event id, so the batch holds new events.
func newEventIDs(batch []byte) []byte {
	return eventIDRE.ReplaceAllFunc(batch, func(m []byte) []byte {
		out := bytes.Clone(m)
		if c := &out[len(out)-1]; *c == 'a' {
			*c = 'b'
		} else {
			*c = 'a'
		}
		return out
	})
}
