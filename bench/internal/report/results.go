// Package report writes what the benchmark scenarios measured: each scenario's section of
// bench/RESULTS.md (a table of figures beside their ceiling and target, notes, plots and the
// raw runs) and the SVG line charts beside it, with the number formats the sections use.
package report

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Scenarios in the order RESULTS.md lists them, with their titles.
var Scenarios = []struct{ Name, Title string }{
	{"collector", "1. Collector throughput vs a bare fasthttp 204 handler"},
	{"hotpath", "2. Collector hot path (decode, validate, enrich, encode) on one core"},
	{"ingest", "3. Ingest rows/s vs ClickHouse's own HTTP INSERT ... FORMAT JSONEachRow"},
	{"freshness", "4. End-to-end freshness: accepted by the collector to queryable"},
	{"queries", "5. Saved query latency on synthetic raw events"},
	{"overload", "6. Collector memory and load shedding under 2x overload"},
	{"console", "7. Console: API p95 per call and pages visually complete, on synthetic raw events"},
}

// Row is one figure: the measured value beside its ceiling and target.
type Row struct {
	Metric  string
	Value   string
	Ceiling string // the same measure of the ceiling in the same run, or ""
	Ratio   string // value / ceiling, or ""
	Target  string // the target in docs/design.md, or ""
	Verdict string // "meets", "misses" or ""
}

// Report is one scenario's section of RESULTS.md.
type Report struct {
	Scenario string
	Command  string
	Started  time.Time
	Rows     []Row
	Notes    []string // paragraphs: method, caveats
	Plots    []string // paths relative to bench/ of SVG files
	Raw      []string // lines of raw per-run figures
}

// Verdict returns "meets" or "misses".
func Verdict(ok bool) string {
	if ok {
		return "meets"
	}
	return "misses"
}

// Machine describes this machine for the report.
func Machine() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				mem = fmt.Sprintf(", %.1f GiB memory", float64(kb)/(1<<20))
			}
		}
	}
	host, _ := os.Hostname()
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = ", load average " + strings.Join(f[:3], " ") + " at the start"
		}
	}
	return fmt.Sprintf("%d CPUs (%s)%s, %s/%s, %s, host %s%s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH,
		runtime.Version(), host, load)
}

const (
	resultsHeader = `# Benchmark results

Written by the bench commands (` + "`make bench`" + `, or ` + "`make -C bench <scenario>`" + `), not by
hand: each scenario rewrites its own section. Every figure that matters is a ratio against a
ceiling measured in the same run on the same machine, because the machines here are shared
and noisy. The targets are in docs/design.md ("Performance targets"). See bench/README.md for the method.
`
	beginMark = "<!-- begin %s -->"
	endMark   = "<!-- end %s -->"
)

// WriteResults rewrites the report's section of path (bench/RESULTS.md), keeping the other
// scenarios' sections as they are.
func WriteResults(path string, r *Report) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	sections := map[string]string{}
	for _, s := range Scenarios {
		b, e := fmt.Sprintf(beginMark, s.Name), fmt.Sprintf(endMark, s.Name)
		if i := bytes.Index(old, []byte(b)); i >= 0 {
			if j := bytes.Index(old[i:], []byte(e)); j >= 0 {
				sections[s.Name] = string(old[i+len(b) : i+j])
			}
		}
	}
	sections[r.Scenario] = "\n" + r.Markdown()
	var out strings.Builder
	out.WriteString(resultsHeader)
	for _, s := range Scenarios {
		body, ok := sections[s.Name]
		if !ok {
			body = fmt.Sprintf("\n## %s\n\nNot run yet: `make -C bench %s`.\n", s.Title, s.Name)
		}
		fmt.Fprintf(&out, "\n"+beginMark+"%s"+endMark+"\n", s.Name, body, s.Name)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(out.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Markdown renders the section.
func (r *Report) Markdown() string {
	title := r.Scenario
	for _, s := range Scenarios {
		if s.Name == r.Scenario {
			title = s.Title
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", title)
	fmt.Fprintf(&b, "- Date: %s (took %s)\n", r.Started.UTC().Format("2006-01-02 15:04 UTC"), time.Since(r.Started).Round(time.Second))
	fmt.Fprintf(&b, "- Machine: %s\n", Machine())
	fmt.Fprintf(&b, "- Command: `%s`\n\n", r.Command)
	if len(r.Rows) > 0 {
		b.WriteString("| Metric | Value | Ceiling (same run) | Ratio | Target | |\n|---|---|---|---|---|---|\n")
		for _, row := range r.Rows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", row.Metric, row.Value, dash(row.Ceiling), dash(row.Ratio), dash(row.Target), row.Verdict)
		}
		b.WriteString("\n")
	}
	for _, n := range r.Notes {
		b.WriteString(n + "\n\n")
	}
	for _, p := range r.Plots {
		fmt.Fprintf(&b, "![%s](%s)\n\n", strings.TrimSuffix(filepath.Base(p), ".svg"), p)
	}
	if len(r.Raw) > 0 {
		b.WriteString("<details><summary>Raw runs</summary>\n\n```\n")
		for _, l := range r.Raw {
			b.WriteString(l + "\n")
		}
		b.WriteString("```\n</details>\n")
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Median of xs (0 when empty).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Num formats a count or rate with thousands separators.
func Num(x float64) string {
	s := strconv.FormatInt(int64(x+0.5), 10)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// Ratio formats a/b as "0.83x".
func Ratio(a, b float64) string {
	if b == 0 {
		return ""
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// Ms formats a duration in milliseconds.
func Ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
