package stack

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	d, err := parseStatCPU("4242 (beacon col) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 1 2 3")
	if err != nil || d != 3250*time.Millisecond {
		t.Fatalf("parseStatCPU = %v, %v; want 3.25s (325 ticks)", d, err)
	}
	if _, err := parseStatCPU("4242 (beacon) S 1"); err == nil {
		t.Fatal("a short stat line parsed")
	}
	if _, err := CPUTime(os.Getpid()); err != nil {
		t.Fatalf("CPUTime of this process: %v", err)
	}
}
