package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

const (
	resultsBegin = "<!-- begin faults -->"
	resultsEnd   = "<!-- end faults -->"
	runMark      = "\n### Run "
	keepRuns     = 3
)

// loadAverage reads /proc/loadavg (Linux), for the record of a run.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// writeResults puts this run into the faults section of path (RESULTS.md), keeping the last
// runs before it (keepRuns in all) and everything outside the section as it is.
func writeResults(path, run string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(old)
	var before, after, body string
	if i := strings.Index(text, resultsBegin); i >= 0 {
		j := strings.Index(text[i:], resultsEnd)
		if j < 0 {
			return fmt.Errorf("%s: %q without %q", path, resultsBegin, resultsEnd)
		}
		before, body, after = text[:i], text[i+len(resultsBegin):i+j], text[i+j+len(resultsEnd):]
	} else {
		before = text
		if before == "" {
			before = "# Results\n\n"
		} else if !strings.HasSuffix(before, "\n\n") {
			before = strings.TrimRight(before, "\n") + "\n\n"
		}
		after = "\n"
	}
	var runs []string
	if k := strings.Index(body, runMark); k >= 0 {
		for _, r := range strings.Split(body[k+len(runMark):], runMark) {
			runs = append(runs, runMark+strings.TrimRight(r, "\n")+"\n")
		}
	}
	runs = append(runs, runMark+strings.TrimRight(run, "\n")+"\n")
	runs = runs[max(0, len(runs)-keepRuns):]
	var b strings.Builder
	b.WriteString(resultsBegin + "\n")
	b.WriteString(`## Fault injection (` + "`make faults`" + `)

Written by ` + "`make faults`" + ` (faults/README.md), which keeps the last three runs here. Each
scenario runs the four parts as separate processes under 500 events/s and plays its fault;
**lost** counts acknowledged events missing from the raw table after the drain, **doubled in
raw** the rows beyond the first of each event id, **dropped by ingest** the repeats the ingest
left out (ingest/README.md, "Repeated event ids"), **doubled in answers** the events the
rollup counts beyond the raw table's distinct ids. The negative control must report loss.
`)
	for _, r := range runs {
		b.WriteString(r)
	}
	b.WriteString(resultsEnd)
	out := before + b.String() + after
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(out), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// runHeading names a run in RESULTS.md: when it began, on what, under what load.
func runHeading(when, took, loadAtStart, cmd string) string {
	return fmt.Sprintf("%s (took %s)\n\n- Machine: %d CPUs, %s/%s, %s; load average %s at the start\n- Command: `%s`\n\n",
		when, took, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), loadAtStart, cmd)
}
