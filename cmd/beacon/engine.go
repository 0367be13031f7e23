package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/beaconprm/beacon/internal/chlocal"
)

// How a crashed local ClickHouse engine is started again, by `beacon dev` and by `beacon
// clickhouse`: after engineBackoffMin, doubling up to engineBackoffMax while it keeps
// crashing; a run of engineStableAfter resets the backoff; engineMaxQuickRestarts crashes
// in a row, each within engineStableAfter of its start, give up (the engine cannot start on
// its data: its log says why).
const (
	engineBackoffMin       = time.Second
	engineBackoffMax       = 30 * time.Second
	engineStableAfter      = time.Minute
	engineMaxQuickRestarts = 8
	engineLogLines         = 12
	engineStopTimeout      = 20 * time.Second
)

// engineRestarts is that policy's state over one supervisor's life.
type engineRestarts struct {
	backoff time.Duration
	quick   int // crashes in a row, each within engineStableAfter of its start
	n       int // restarts so far
}

// next is told that the engine exited by itself after running for up. It returns how long
// to wait before restart r.n, or an error when the engine crashed too often in a row.
func (r *engineRestarts) next(up time.Duration) (time.Duration, error) {
	if r.backoff == 0 || up >= engineStableAfter {
		r.backoff, r.quick = engineBackoffMin, 0
	}
	r.quick++
	if r.quick > engineMaxQuickRestarts {
		return 0, fmt.Errorf("clickhouse exited %d times in a row within %s of starting: not restarting it again", r.quick, engineStableAfter)
	}
	r.n++
	wait := r.backoff
	r.backoff = min(r.backoff*2, engineBackoffMax)
	return wait, nil
}

// superviseEngine is `beacon clickhouse` with -clickhouse.restart: the engine serves in a
// child process (exe with args, which must serve in-process), and when the chdb library
// aborts it (it does, now and then, on some client connection resets), the child is
// started again on its data with engineRestarts' backoff, each restart logged with the
// engine's last log lines and numbered. The child stays in this process's group, so a
// terminal's Ctrl-C or a kill of the group ends both; it also ends by itself when this
// process is gone (chlocal.WatchParent). A child that exits before it ever answered /ping
// (a port taken, a bad config file) is not restarted: its error is returned.
func superviseEngine(ctx context.Context, stderr io.Writer, exe string, args []string, httpPort int, serverLog string) error {
	var (
		policy engineRestarts
		served bool // some child answered /ping
	)
	ping := fmt.Sprintf("http://127.0.0.1:%d/ping", httpPort)
	for {
		cmd := exec.Command(exe, args...)
		cmd.Env = chlocal.WithParentEnv(os.Environ())
		cmd.Stdout, cmd.Stderr = stderr, stderr
		started := time.Now()
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("cannot start the ClickHouse engine: %w", err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		readyc := make(chan struct{})
		pctx, stopPing := context.WithCancel(ctx)
		go awaitPing(pctx, ping, readyc)

		var err error
		select {
		case <-ctx.Done():
			stopPing()
			return stopEngine(cmd, done)
		case <-readyc:
			if served {
				fmt.Fprintf(stderr, "clickhouse: engine ready again (restart %d, pid %d)\n", policy.n, cmd.Process.Pid)
			} else {
				fmt.Fprintf(stderr, "clickhouse: engine ready (pid %d)\n", cmd.Process.Pid)
			}
			served = true
			select {
			case <-ctx.Done():
				stopPing()
				return stopEngine(cmd, done)
			case err = <-done:
			}
		case err = <-done:
		}
		stopPing()
		if !served {
			return fmt.Errorf("the ClickHouse engine exited before it was ready: %v", exitReason(err))
		}
		up := time.Since(started).Round(time.Second)
		fmt.Fprintf(stderr, "clickhouse: engine exited unexpectedly after %s: %v; last lines of %s:\n%s",
			up, exitReason(err), serverLog, lastLines(serverLog, engineLogLines, "clickhouse | "))
		wait, perr := policy.next(up)
		if perr != nil {
			return fmt.Errorf("%w (log: %s)", perr, serverLog)
		}
		fmt.Fprintf(stderr, "clickhouse: restarting the engine on its data in %s (restart %d)\n", wait, policy.n)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// awaitPing closes ready once url answers 200, polling until ctx ends.
func awaitPing(ctx context.Context, url string, ready chan<- struct{}) {
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				close(ready)
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// stopEngine asks the engine child to stop (SIGTERM), waits up to engineStopTimeout, then
// kills it.
func stopEngine(cmd *exec.Cmd, done <-chan error) error {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(engineStopTimeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("the ClickHouse engine did not stop within %s of SIGTERM: killed", engineStopTimeout)
	}
}

// exitReason is how a child ended, for a log line.
func exitReason(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String()
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
