package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/testenv"
)

// TestClickHouseRestartsItsEngine runs `beacon clickhouse` as an operator would, writes a
// row, kills the engine (its child process) with SIGABRT, as the chdb library's own aborts
// end it, and expects the engine served again on the same ports and data, the restart
// logged with its number, and on SIGTERM both processes gone.
func TestClickHouseRestartsItsEngine(t *testing.T) {
	exe := testenv.BuildBeacon(t)
	dir := t.TempDir()
	httpPort, tcpPort := testenv.FreePort(t), testenv.FreePort(t)
	cmd := exec.Command(exe, "clickhouse", "-clickhouse.dataDir="+filepath.Join(dir, "data"),
		"-clickhouse.httpPort="+strconv.Itoa(httpPort), "-clickhouse.tcpPort="+strconv.Itoa(tcpPort))
	stderr := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("beacon clickhouse output:\n%s", stderr.String())
		}
	})
	ping := "SELECT 1"
	if got := awaitCH(httpPort, ping, "1"); got != "1" {
		t.Fatalf("the server did not answer %q within 30 s: %q", ping, got)
	}
	for _, q := range []string{"CREATE TABLE kept (n UInt8) ENGINE = MergeTree ORDER BY n", "INSERT INTO kept VALUES (7)"} {
		resp, err := http.Post("http://127.0.0.1:"+strconv.Itoa(httpPort)+"/", "text/plain", strings.NewReader(q))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s %s", q, resp.Status, b)
		}
	}

	// The supervisor restarts an engine it has seen serving (one that never served cannot
	// start: that is an error), so wait for it to have seen this one.
	awaitLog(t, stderr, exited, "clickhouse: engine ready (pid ", 30*time.Second)
	engine := clickhouseChild(t, cmd.Process.Pid)
	if err := syscall.Kill(engine, syscall.SIGABRT); err != nil {
		t.Fatal(err)
	}
	t.Logf("aborted the engine, pid %d", engine)
	awaitLog(t, stderr, exited, "clickhouse: engine ready again (restart 1, pid ", 2*time.Minute)
	for _, want := range []string{"clickhouse: engine exited unexpectedly after", "signal: aborted",
		"clickhouse: restarting the engine on its data in 1s (restart 1)"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	again := clickhouseChild(t, cmd.Process.Pid)
	if again == engine {
		t.Fatalf("the engine is still pid %d", again)
	}
	if got := awaitCH(httpPort, "SELECT sum(n) FROM kept", "7"); got != "7" {
		t.Fatalf("after the restart the row written before reads %q, want 7", got)
	}

	stopAndWait(t, cmd.Process, exited, syscall.SIGTERM, 30*time.Second, "beacon clickhouse")
	if syscall.Kill(again, 0) == nil {
		t.Errorf("the engine, pid %d, still runs after beacon clickhouse exited", again)
	}
}

// awaitLog waits until out holds want, failing when the process exits first or timeout
// passes.
func awaitLog(t *testing.T, out *testenv.SyncBuffer, exited <-chan error, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(out.String(), want) {
		select {
		case err := <-exited:
			t.Fatalf("exited (%v) before logging %q", err, want)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %s", want, timeout)
		}
		time.Sleep(100 * time.Millisecond) // polling interval of a condition with a deadline
	}
}

// stopAndWait sends sig to p and expects it to exit cleanly (status 0) within timeout.
func stopAndWait(t *testing.T, p *os.Process, exited <-chan error, sig syscall.Signal, timeout time.Duration, what string) {
	t.Helper()
	if err := p.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("%s exited with %v after %v, want status 0", what, err, sig)
		}
	case <-time.After(timeout):
		t.Fatalf("%s did not stop within %s of %v", what, timeout, sig)
	}
}
