package bench

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/beaconprm/beacon/bench/internal/report"
	"github.com/beaconprm/beacon/internal/ready"
)

// BenchLine is one result line of `go test -bench`.
type BenchLine struct {
	Name    string // without the -N GOMAXPROCS suffix
	N       int64
	Metrics map[string]float64 // by unit: ns/op, allocs/op, events/s ...
}

// ParseBench reads the result lines of `go test -bench` output.
func ParseBench(out string) []BenchLine {
	var lines []BenchLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		bl := BenchLine{Name: name, N: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			bl.Metrics[f[i+1]] = v
		}
		lines = append(lines, bl)
	}
	return lines
}

// medianMetric is the median of unit over the lines named name.
func medianMetric(lines []BenchLine, name, unit string) (float64, bool) {
	var xs []float64
	for _, l := range lines {
		if v, ok := l.Metrics[unit]; ok && l.Name == name {
			xs = append(xs, v)
		}
	}
	return report.Median(xs), len(xs) > 0
}

// runHotPath is scenario 2: the collector owner's benchmarks of the event pipeline
// (beacon/work_timing_test.go), on one core, several counts, medians.
func runHotPath(ctx context.Context, o *Options, r *report.Report) error {
	root, err := ready.RepoRoot()
	if err != nil {
		return err
	}
	count := max(o.Runs, 8)
	args := []string{"test", "-run", "^$", "-bench", "^Benchmark(Process|ProcessWithToken|DecodeOnly)$", "-benchmem", "-cpu", "1",
		"-count", strconv.Itoa(count), "-benchtime", "1s", "./beacon/"}
	fmt.Fprintf(o.Log, "go %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go test -bench ./beacon: %w\n%s", err, out)
	}
	lines := ParseBench(string(out))
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(l, "Benchmark") {
			r.Raw = append(r.Raw, l)
		}
	}
	const perBatch = 8 // the example batch (beacon/testdata/example-batch.json) has 8 events
	for _, b := range []struct{ name, what string }{
		{"BenchmarkProcess", "events/s on one core, CPU time (example batch, no token)"},
		{"BenchmarkProcessWithToken", "events/s on one core, CPU time (the same batch with a v2 partner token: one AES-GCM open per batch)"},
	} {
		ev, ok := medianMetric(lines, b.name, "events/cpu-s")
		if !ok {
			ev, ok = medianMetric(lines, b.name, "events/s")
		}
		if !ok {
			return fmt.Errorf("no events/s figure from %s in:\n%s", b.name, out)
		}
		r.Rows = append(r.Rows, report.Row{Metric: b.what, Value: report.Num(ev), Target: ">= 1,000,000", Verdict: report.Verdict(ev >= 1e6)})
		allocs, _ := medianMetric(lines, b.name, "allocs/op")
		bytes, _ := medianMetric(lines, b.name, "B/op")
		r.Rows = append(r.Rows, report.Row{Metric: "allocations per event (" + strings.TrimPrefix(b.name, "Benchmark") + ")",
			Value: fmt.Sprintf("%.3f (%.0f B/batch)", allocs/perBatch, bytes), Target: "near 0", Verdict: report.Verdict(allocs/perBatch < 0.1)})
	}
	if dec, ok := medianMetric(lines, "BenchmarkDecodeOnly", "ns/op"); ok {
		full, _ := medianMetric(lines, "BenchmarkProcess", "ns/op")
		r.Rows = append(r.Rows, report.Row{Metric: "ns per batch: whole pipeline vs decode alone (the twin)", Value: fmt.Sprintf("%.0f", full),
			Ceiling: fmt.Sprintf("%.0f", dec), Ratio: report.Ratio(full, dec)})
	}
	r.Notes = append(r.Notes, fmt.Sprintf("Method: `go %s` from the repository root: the collector's own benchmarks of "+
		"`beacon.Work.Process` (decode, validate, enrich, encode to the normalized Kafka JSON) on the 8-event example batch, "+
		"GOMAXPROCS=1, %d counts, medians. events/cpu-s divides by the process's CPU time, which is steadier than wall time "+
		"on a shared machine. DecodeOnly is the baseline twin: parsing the batch and nothing else.", strings.Join(args, " "), count))
	return nil
}
