package stack

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestCPUTimeFromProc(t *testing.T) {
	d, err := parseStatCPU("4242 (beacon col) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 1 2 3")
	if err != nil || d != 3250*time.Millisecond {
		t.Fatalf("parseStatCPU = %v, %v; want 3.25s (325 ticks)", d, err)
	}
	if _, err := parseStatCPU("4242 (beacon) S 1"); err == nil {
		t.Fatal("a short stat line parsed")
	}
	m := StartCPU(os.Getpid())
	deadline := time.Now().Add(10 * time.Second)
	for m.Used()[0] < 50*time.Millisecond { // busy until /proc shows this process's CPU
		if time.Now().After(deadline) {
			t.Fatal("/proc/self/stat shows no CPU time after 10 s of spinning")
		}
		for i := 0; i < 1e6; i++ {
			_ = strings.Repeat("x", i%3)
		}
	}
}
