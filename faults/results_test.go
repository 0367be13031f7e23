package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The faults section keeps the last three runs and leaves the rest of the file alone.
func TestWriteResultsKeepsLastRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := os.WriteFile(path, []byte("# Results\n\nsomething by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, run := range []string{"one", "two", "three", "four"} {
		if err := writeResults(path, run+" (took 1s)\n\n| table |\n"); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{"something by hand", "### Run two", "### Run three", "### Run four", resultsBegin, resultsEnd} {
		if strings.Count(got, want) != 1 {
			t.Errorf("want %q once in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "### Run one") {
		t.Errorf("the oldest of four runs is still there:\n%s", got)
	}
	if strings.Index(got, "### Run two") > strings.Index(got, "### Run four") {
		t.Errorf("runs out of order:\n%s", got)
	}
}
