package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/beaconprm/beacon/internal/chlocal"
	"github.com/beaconprm/beacon/internal/ready"
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
	engineReadyTimeout     = 2 * time.Minute // a first start creates the system tables
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
// (a port taken, a bad config file) is not restarted: its error is returned, as when a
// child does not answer within engineReadyTimeout (it is stopped first).
func superviseEngine(ctx context.Context, stderr io.Writer, exe string, args []string, httpPort int, serverLog string) error {
	var (
		policy engineRestarts
		served bool // some child answered /ping
	)
	ping := ready.HTTP(fmt.Sprintf("http://127.0.0.1:%d/ping", httpPort))
	for {
		cmd := exec.Command(exe, args...)
		cmd.Env = chlocal.WithParentEnv(os.Environ())
		cmd.Stdout, cmd.Stderr = stderr, stderr
		started := time.Now()
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("cannot start the ClickHouse engine: %w", err)
		}
		exited := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(exited) }()
		// Until it answers /ping (its first start creates the system tables), or exits,
		// or this process is told to stop.
		err := ready.Wait(engineReadyTimeout, ping, func() error {
			select {
			case <-exited:
				return errEngineExited
			case <-ctx.Done():
				return ctx.Err()
			default:
				return nil
			}
		})
		switch {
		case ctx.Err() != nil:
			return stopEngine(cmd, exited)
		case err == nil && served:
			fmt.Fprintf(stderr, "clickhouse: engine ready again (restart %d, pid %d)\n", policy.n, cmd.Process.Pid)
		case err == nil:
			fmt.Fprintf(stderr, "clickhouse: engine ready (pid %d)\n", cmd.Process.Pid)
			served = true
		case !served && errors.Is(err, errEngineExited):
			return fmt.Errorf("the ClickHouse engine exited before it was ready: %v", exitReason(waitErr))
		case !errors.Is(err, errEngineExited):
			_ = stopEngine(cmd, exited)
			return fmt.Errorf("the ClickHouse engine did not answer on port %d: %w (log: %s)", httpPort, err, serverLog)
		}
		select {
		case <-ctx.Done():
			return stopEngine(cmd, exited)
		case <-exited:
		}
		up := time.Since(started).Round(time.Second)
		fmt.Fprintf(stderr, "clickhouse: engine exited unexpectedly after %s: %v; last lines of %s:\n%s",
			up, exitReason(waitErr), serverLog, lastLines(serverLog, engineLogLines, "clickhouse | "))
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

// errEngineExited is superviseEngine's "the child exited" while waiting for it to answer.
var errEngineExited = errors.New("the engine exited")

// stopEngine asks the engine child to stop (SIGTERM), waits up to engineStopTimeout for it
// to exit (exited closed), then kills it.
func stopEngine(cmd *exec.Cmd, exited <-chan struct{}) error {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(engineStopTimeout)
	defer t.Stop()
	select {
	case <-exited:
		return nil
	case <-t.C:
		_ = cmd.Process.Kill()
		<-exited
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
