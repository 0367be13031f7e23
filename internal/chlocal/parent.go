package chlocal

import (
	"context"
	"os"
	"strconv"
	"time"
)

// ParentEnv names the variable through which a supervisor (beacon dev, the test harness)
// tells a child its pid, so the child can stop when the supervisor is gone.
//
// Pdeathsig is not used for this: Linux sends it when the *thread* that forked the child
// exits, and a Go program does not control which thread that is.
const ParentEnv = "BEACON_PARENT_PID"

// WithParentEnv returns env plus the ParentEnv entry naming this process.
func WithParentEnv(env []string) []string {
	return append(env, ParentEnv+"="+strconv.Itoa(os.Getpid()))
}

// WatchParent returns a context that ends when ctx ends or, if ParentEnv is set, when the
// process named there is no longer this process's parent (it died and we were re-parented).
func WatchParent(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	ppid, err := strconv.Atoi(os.Getenv(ParentEnv))
	if err != nil || ppid <= 1 {
		return ctx, cancel
	}
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if os.Getppid() != ppid {
					cancel()
					return
				}
			}
		}
	}()
	return ctx, cancel
}
