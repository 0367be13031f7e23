package chlocal

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A child that ignores SIGTERM is killed, with its whole process group, once Stop's
// timeout passes; one that honours it stops without error.
func TestChildStop(t *testing.T) {
	// It says when its trap is set: a SIGTERM before that would end it normally.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", `trap "" TERM; echo trapped; sleep 60 & wait`)
	cmd.Stdout = w
	stubborn, err := StartChild(cmd, nil)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(r).ReadString('\n'); line != "trapped\n" {
		t.Fatalf("child did not report its trap: %q %v", line, err)
	}
	r.Close()
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
