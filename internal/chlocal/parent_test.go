package chlocal

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

const roleEnv = "CHLOCAL_TEST_ROLE"

// A supervisor (parent) starts a child with WithParentEnv and is then SIGKILLed, so it
// cannot stop the child; the child must end by itself. This test process is made a
// subreaper, so the orphaned child is re-parented to it and can be reaped here.
func TestWatchParentEndsChildWhenParentDies(t *testing.T) {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Skipf("cannot become a subreaper: %v", errno)
	}
	parent := exec.Command(os.Args[0], "-test.run=^TestWatchParentHelper$")
	parent.Env = append(os.Environ(), roleEnv+"=parent")
	parent.Stderr = os.Stderr
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	var child int
	if _, err := fmt.Fscan(bufio.NewReader(out), &child); err != nil || child <= 0 {
		parent.Process.Kill()
		parent.Wait()
		t.Fatalf("parent did not report its child's pid: %v", err)
	}
	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	parent.Wait()

	exited := make(chan syscall.WaitStatus, 1)
	go func() {
		var ws syscall.WaitStatus
		for {
			_, err := syscall.Wait4(child, &ws, 0, nil)
			if err != syscall.EINTR {
				break
			}
		}
		exited <- ws
	}()
	select {
	case ws := <-exited:
		if !ws.Exited() || ws.ExitStatus() != 0 {
			t.Fatalf("child ended with %v, want a clean exit once it noticed its parent was gone", ws)
		}
	case <-time.After(10 * time.Second):
		syscall.Kill(child, syscall.SIGKILL)
		<-exited
		t.Fatal("child still running 10 s after its parent was killed")
	}
}

// TestWatchParentHelper is the parent and the child processes of the test above.
func TestWatchParentHelper(t *testing.T) {
	switch os.Getenv(roleEnv) {
	case "parent":
		child := exec.Command(os.Args[0], "-test.run=^TestWatchParentHelper$")
		child.Env = WithParentEnv(append(os.Environ(), roleEnv+"=child"))
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		fmt.Println(child.Process.Pid)
		child.Wait() // until killed; the child outlives this only through WatchParent
	case "child":
		ctx, cancel := WatchParent(context.Background())
		defer cancel()
		<-ctx.Done()
	default:
		t.Skip("helper process of TestWatchParentEndsChildWhenParentDies")
	}
}
