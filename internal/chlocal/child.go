package chlocal

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Child is a supervised child process, as `beacon dev`, the test harness and the bench
// run their parts: it is told its parent's pid (WithParentEnv, so a beacon subcommand
// ends by itself when the parent dies, see WatchParent), it runs in its own process group
// (a terminal's Ctrl-C reaches only the parent, which stops the children in order), and
// it is stopped with SIGTERM, then SIGKILL.
type Child struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartChild starts cmd as a Child. cmd.Env (os.Environ() when nil) gets ParentEnv added.
// onExit, when not nil, runs once the child has exited, before Done is closed.
func StartChild(cmd *exec.Cmd, onExit func()) (*Child, error) {
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = WithParentEnv(cmd.Env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &Child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		if onExit != nil {
			onExit()
		}
		close(c.done)
	}()
	return c, nil
}

// Pid returns the child's process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Done is closed when the child has exited.
func (c *Child) Done() <-chan struct{} { return c.done }

// Err is how the child ended (cmd.Wait's error); read it after Done.
func (c *Child) Err() error { return c.err }

// Exited reports whether the child has ended.
func (c *Child) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the child's process group and waits up to timeout, then kills the
// group and says so in the error.
func (c *Child) Stop(timeout time.Duration) error {
	if c.Exited() {
		return nil
	}
	_ = syscall.Kill(-c.Pid(), syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.done:
		return nil
	case <-t.C:
		c.Kill()
		return fmt.Errorf("pid %d did not stop within %s of SIGTERM: killed", c.Pid(), timeout)
	}
}

// Kill ends the child's process group at once (SIGKILL) and waits for the child.
func (c *Child) Kill() {
	_ = syscall.Kill(-c.Pid(), syscall.SIGKILL)
	<-c.done
}
