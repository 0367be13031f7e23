package chlocal

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A child that ignores SIGTERM is killed, with its whole process group, once Stop's
// timeout passes; one that honours it stops without error.
func TestChildStop(t *testing.T) {
	stubborn, err := StartChild(exec.Command("sh", "-c", `trap "" TERM; sleep 60 & wait`), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = stubborn.Stop(300 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed") || !stubborn.Exited() {
		t.Fatalf("Stop of a child ignoring SIGTERM: err %v, exited %v; want killed", err, stubborn.Exited())
	}

	polite, err := StartChild(exec.Command("sleep", "60"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := polite.Stop(10 * time.Second); err != nil || !polite.Exited() {
		t.Fatalf("Stop of a child that ends on SIGTERM: err %v, exited %v", err, polite.Exited())
	}
	if polite.Err() == nil {
		t.Fatal("a child ended by SIGTERM reports no error from Wait")
	}
}
