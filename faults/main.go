// Command faults is the fault-injection suite (faults/README.md): for each scenario it starts
// ClickHouse, the Kafka-protocol broker, one ingest and one collector as separate processes on
// free ports, sends events at a fixed rate while it kills, stops or freezes parts, drains with a
// deadline, and reports per scenario the acknowledged events lost, the events doubled in the raw
// table and in the answers. `make faults` runs it; -run picks scenarios.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/beaconprm/beacon/internal/ready"
)

func main() {
	run := flag.String("run", "", "comma-separated scenario names to run (default: all); -list shows them")
	list := flag.Bool("list", false, "list the scenarios and exit")
	out := flag.String("out", "", "also write the results table (markdown) to this file")
	resultsPath := flag.String("results", "", "also record the run in the faults section of this file (RESULTS.md), keeping the last three runs")
	budget := flag.Duration("budget", 14*time.Minute, "stop starting scenarios once the next one could end after this much time")
	keep := flag.Bool("keep", false, "keep each scenario's directory (logs, data) for a post-mortem")
	flag.BoolVar(&debug, "debug", false, "run the ingest and the collector with debug logging")
	flag.Parse()

	all := scenarios()
	if *list {
		for _, sc := range all {
			fmt.Printf("%-26s %s\n", sc.name, sc.what)
		}
		return
	}
	chosen := all
	if *run != "" {
		chosen = nil
		for _, name := range strings.Split(*run, ",") {
			found := false
			for _, sc := range all {
				if sc.name == strings.TrimSpace(name) {
					chosen = append(chosen, sc)
					found = true
				}
			}
			if !found {
				fatalf("-run: no scenario %q (see -list)", name)
			}
		}
	}
	root, err := ready.RepoRoot()
	if err != nil {
		fatalf("%v", err)
	}
	work, err := os.MkdirTemp("", "beacon-faults-")
	if err != nil {
		fatalf("%v", err)
	}
	bin := filepath.Join(work, "beacon")
	fmt.Fprintf(os.Stderr, "building %s\n", bin)
	build := exec.Command("go", "build", "-o", bin, "./cmd/beacon")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fatalf("go build ./cmd/beacon: %v", err)
	}

	began := time.Now()
	loadAtStart := loadAverage()
	var results []result
	failed := false
	for i, sc := range chosen {
		if time.Since(began)+sc.estimate() > *budget {
			fmt.Fprintf(os.Stderr, "budget %s: %s and the %d scenarios after it not run\n", *budget, sc.name, len(chosen)-i-1)
			for _, rest := range chosen[i:] {
				results = append(results, result{sc: rest, err: fmt.Errorf("not run: over the %s budget", *budget)})
			}
			failed = true
			break
		}
		dir := filepath.Join(work, sc.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fatalf("%v", err)
		}
		fmt.Fprintf(os.Stderr, "--- %s: %s\n", sc.name, sc.what)
		r := runScenario(root, bin, dir, sc)
		fmt.Fprintf(os.Stderr, "    %s\n", r.line())
		if !r.ok() {
			failed = true
			fmt.Fprintf(os.Stderr, "    logs kept in %s\n", dir)
		} else if !*keep {
			os.RemoveAll(dir)
		}
		results = append(results, r)
	}
	took := time.Since(began)
	table := markdown(results, took)
	fmt.Print(table)
	if *resultsPath != "" {
		cmd := "make faults"
		if *run != "" {
			cmd = "go run ./faults -run " + *run
		}
		heading := runHeading(began.UTC().Format("2006-01-02 15:04 UTC"), took.Round(time.Second).String(), loadAtStart, cmd)
		if err := writeResults(*resultsPath, heading+table); err != nil {
			fatalf("%v", err)
		}
	}
	if *out != "" {
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			fatalf("%v", err)
		}
		if err := os.WriteFile(*out, []byte(table), 0o644); err != nil {
			fatalf("%v", err)
		}
	}
	os.Remove(bin)
	if !failed && !*keep {
		os.RemoveAll(work)
	}
	if failed {
		os.Exit(1)
	}
}

// debug turns on the parts' debug logs (-debug).
var debug bool

func fatalf(f string, args ...any) {
	fmt.Fprintf(os.Stderr, "faults: "+f+"\n", args...)
	os.Exit(2)
}

// scenario is one fault played against the running stack while the load runs.
type scenario struct {
	name, what string
	negative   bool // loss is made on purpose: the suite must see it
	fault      func(ctx context.Context, s *stack) error
}

// estimate bounds how long a scenario may take: setup, load (with the longest fault),
// drain deadline.
func (sc scenario) estimate() time.Duration {
	return 20*time.Second + 45*time.Second + drainDeadline(sc)
}

const (
	faultAfter  = 3 * time.Second  // the load runs this long before the fault
	loadAtLeast = 15 * time.Second // and at least this long in all
	loadAfter   = 3 * time.Second  // and this long after the fault has restored the stack
)

func drainDeadline(sc scenario) time.Duration {
	if sc.negative {
		return 25 * time.Second // the loss never drains; waiting longer only costs time
	}
	return 75 * time.Second
}

func killRestart(p func(*stack) *part, down time.Duration) func(context.Context, *stack) error {
	return func(ctx context.Context, s *stack) error {
		p(s).kill()
		sleepCtx(ctx, down)
		return p(s).start()
	}
}

// abortEngine ends the engine process under `beacon clickhouse` with SIGABRT, as the chdb
// library's own aborts end it, and waits until its supervisor has it serving again.
func abortEngine(ctx context.Context, s *stack) error {
	if s.ch.child == nil || s.ch.child.Exited() {
		return errors.New("clickhouse is not running")
	}
	kids := ready.Children(s.ch.child.Pid())
	if len(kids) != 1 {
		return fmt.Errorf("beacon clickhouse (pid %d) has children %v, want its one engine", s.ch.child.Pid(), kids)
	}
	if err := syscall.Kill(kids[0], syscall.SIGABRT); err != nil {
		return err
	}
	gone := func() error {
		if s.ch.child.Exited() {
			return fmt.Errorf("beacon clickhouse exited after its engine aborted (%v); its log:\n%s", s.ch.child.Err(), ready.Tail(s.ch.log, 15))
		}
		return nil
	}
	// Down first (the engine's listeners go with it), then up again.
	down := func() error {
		if s.ch.ready() == nil {
			return errors.New("still answering")
		}
		return nil
	}
	if err := ready.Wait(10*time.Second, down, gone); err != nil {
		return fmt.Errorf("the aborted engine: %w", err)
	}
	if err := ready.Wait(90*time.Second, s.ch.ready, gone); err != nil {
		return fmt.Errorf("the engine was not served again: %w", err)
	}
	return nil
}

func repeatedKills(p func(*stack) *part, n int, gap time.Duration) func(context.Context, *stack) error {
	return func(ctx context.Context, s *stack) error {
		for i := range n {
			p(s).kill()
			if err := p(s).start(); err != nil {
				return fmt.Errorf("restart %d: %w", i+1, err)
			}
			if i < n-1 {
				sleepCtx(ctx, gap)
			}
		}
		return nil
	}
}

var (
	coll   = func(s *stack) *part { return s.coll }
	ing    = func(s *stack) *part { return s.ing }
	broker = func(s *stack) *part { return s.broker }
	ch     = func(s *stack) *part { return s.ch }
)

func scenarios() []scenario {
	return []scenario{
		{name: "baseline", what: "no fault", fault: func(context.Context, *stack) error { return nil }},
		{name: "collector-kill", what: "collector SIGKILLed, restarted 2 s later on its spool", fault: killRestart(coll, 2*time.Second)},
		{name: "collector-kill-x5", what: "collector SIGKILLed and restarted five times, 3 s apart", fault: repeatedKills(coll, 5, 3*time.Second)},
		{name: "ingest-kill", what: "ingest SIGKILLed, restarted 2 s later", fault: killRestart(ing, 2*time.Second)},
		{name: "ingest-kill-x5", what: "ingest SIGKILLed and restarted five times, 3 s apart", fault: repeatedKills(ing, 5, 3*time.Second)},
		{name: "broker-kill", what: "broker SIGKILLed, restarted 3 s later on its data", fault: killRestart(broker, 3*time.Second)},
		{name: "broker-kill-x3", what: "broker SIGKILLed and restarted three times, 3 s apart", fault: repeatedKills(broker, 3, 3*time.Second)},
		{name: "broker-stopped", what: "broker stopped (SIGTERM) for 8 s, then started", fault: func(ctx context.Context, s *stack) error {
			if err := s.broker.stop(); err != nil {
				return err
			}
			sleepCtx(ctx, 8*time.Second)
			return s.broker.start()
		}},
		{name: "broker-frozen", what: "broker frozen (SIGSTOP) for 8 s, then SIGCONT", fault: func(ctx context.Context, s *stack) error {
			if err := s.broker.signal(syscall.SIGSTOP); err != nil {
				return err
			}
			sleepCtx(ctx, 8*time.Second)
			return s.broker.signal(syscall.SIGCONT)
		}},
		{name: "clickhouse-kill", what: "ClickHouse SIGKILLed, restarted 3 s later on its data", fault: killRestart(ch, 3*time.Second)},
		{name: "clickhouse-kill-x3", what: "ClickHouse SIGKILLed and restarted three times, 3 s apart", fault: repeatedKills(ch, 3, 3*time.Second)},
		{name: "clickhouse-abort", what: "ClickHouse's engine aborted (SIGABRT to its process); `beacon clickhouse` restarts it", fault: abortEngine},
		{name: "all-kill", what: "all four parts SIGKILLed at once, restarted 2 s later", fault: func(ctx context.Context, s *stack) error {
			for _, p := range s.parts() {
				p.kill()
			}
			sleepCtx(ctx, 2*time.Second)
			for _, p := range []*part{s.ch, s.broker, s.ing, s.coll} {
				if err := p.start(); err != nil {
					return err
				}
			}
			return nil
		}},
		{name: "all-kill-x3", what: "all four parts SIGKILLed together and restarted, three times, 3 s apart", fault: func(ctx context.Context, s *stack) error {
			for i := range 3 {
				for _, p := range s.parts() {
					p.kill()
				}
				for _, p := range []*part{s.ch, s.broker, s.ing, s.coll} {
					if err := p.start(); err != nil {
						return fmt.Errorf("round %d: %w", i+1, err)
					}
				}
				sleepCtx(ctx, 3*time.Second)
			}
			return nil
		}},
		{name: "negative-spool-deleted", negative: true,
			what: "negative control: broker frozen 4 s, collector SIGKILLed and its spool deleted, then both resumed; must report loss",
			fault: func(ctx context.Context, s *stack) error {
				if err := s.broker.signal(syscall.SIGSTOP); err != nil {
					return err
				}
				sleepCtx(ctx, 4*time.Second)
				s.coll.kill()
				if err := os.RemoveAll(s.collectorSpool); err != nil {
					return err
				}
				if err := s.coll.start(); err != nil {
					return err
				}
				return s.broker.signal(syscall.SIGCONT)
			}},
	}
}

// result is what one scenario measured.
type result struct {
	sc            scenario
	acked         int   // events in 2xx answers
	failedReqs    int64 // requests not acknowledged (re-sent)
	lost          int   // acknowledged, not in the raw table after the drain
	rawDoubled    int   // rows beyond the first of each event_id in the raw table
	dropped       int   // repeats the ingest left out (its logs)
	answerDoubled int64 // events the answers count beyond the raw table's distinct ids
	drain         time.Duration
	drained       bool
	err           error
}

func (r result) ok() bool {
	if r.err != nil {
		return false
	}
	if r.sc.negative {
		return r.lost > 0
	}
	return r.lost == 0 && r.answerDoubled == 0
}

func (r result) verdict() string {
	switch {
	case r.err != nil:
		return "error: " + strings.ReplaceAll(r.err.Error(), "\n", " ")
	case r.sc.negative && r.lost > 0:
		return "ok (loss seen)"
	case r.sc.negative:
		return "FAIL: made loss not seen"
	case r.ok():
		return "ok"
	default:
		return "FAIL"
	}
}

func (r result) line() string {
	return fmt.Sprintf("acked %d, lost %d, doubled in raw %d, dropped by ingest %d, doubled in answers %d, requests re-sent %d, drain %.0fs: %s",
		r.acked, r.lost, r.rawDoubled, r.dropped, r.answerDoubled, r.failedReqs, r.drain.Seconds(), r.verdict())
}

func runScenario(root, bin, dir string, sc scenario) (r result) {
	r.sc = sc
	s, err := newStack(root, bin, dir)
	if err != nil {
		r.err = err
		return r
	}
	defer s.down()
	if err := s.up(); err != nil {
		r.err = fmt.Errorf("setup: %w", err)
		return r
	}
	l := newLoad(s.collector)
	loadCtx, stopLoad := context.WithCancel(context.Background())
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		l.run(loadCtx, uint64(time.Now().UnixNano()))
	}()
	began := time.Now()
	time.Sleep(faultAfter) // the load's warm-up, by design: the fault hits a stack under load
	faultCtx, cancelFault := context.WithTimeout(context.Background(), 2*time.Minute)
	ferr := sc.fault(faultCtx, s)
	cancelFault()
	sleepCtx(context.Background(), max(loadAtLeast-time.Since(began), loadAfter))
	stopLoad()
	<-loaded
	if ferr != nil {
		r.err = fmt.Errorf("fault: %w", ferr)
		return r
	}
	for _, p := range s.parts() {
		if p.child.Exited() {
			r.err = fmt.Errorf("%s exited during the scenario (%v); its log:\n%s", p.name, p.child.Err(), ready.Tail(p.log, 10))
			return r
		}
	}
	r.acked = len(l.acked)
	r.failedReqs = l.failed

	drainStart := time.Now()
	deadline := drainStart.Add(drainDeadline(sc))
	prevDoubled := -1
	for {
		lost, doubled, err := s.rawCounts(l.acked)
		if err == nil {
			r.lost, r.rawDoubled = lost, doubled
			if lost == 0 && doubled == prevDoubled {
				r.drained = true
				break
			}
			prevDoubled = doubled
		}
		if time.Now().After(deadline) {
			if err != nil {
				r.err = fmt.Errorf("drain: %w", err)
				return r
			}
			break
		}
		time.Sleep(2 * time.Second) // polling interval
	}
	r.drain = time.Since(drainStart)
	if r.lost > 0 && !sc.negative {
		// For the post-mortem: where the missing events wait (spool, partition lag,
		// committed offsets, insert errors).
		for name, u := range map[string]string{"ingest": "http://" + s.ingestMetrics + "/metrics", "collector": "http://" + s.collector + "/metrics"} {
			if body, err := get(u); err == nil {
				os.WriteFile(filepath.Join(dir, name+"-metrics.txt"), body, 0o644)
			}
		}
	}
	var counted int64
	r.answerDoubled, counted, err = s.answersBeyondRaw()
	switch {
	case err != nil:
		r.err = fmt.Errorf("answers: %w", err)
	case counted == 0 && r.acked > 0:
		r.err = fmt.Errorf("answers: the rollup counts no events; the comparison would see nothing")
	}
	r.dropped = droppedInLog(s.ing.log)
	return r
}

// rawCounts compares the raw table with the acknowledged ids: how many of them are missing,
// and how many rows repeat an event_id already in the table.
func (s *stack) rawCounts(acked map[string]struct{}) (lost, doubled int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := s.query(ctx, "SELECT toString(event_id), count() FROM events GROUP BY event_id FORMAT TabSeparated")
	if err != nil {
		return 0, 0, err
	}
	seen := make(map[string]struct{}, len(acked))
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		id, n, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			return 0, 0, fmt.Errorf("unexpected line %q", sc.Text())
		}
		c, err := strconv.Atoi(n)
		if err != nil {
			return 0, 0, err
		}
		seen[id] = struct{}{}
		doubled += c - 1
	}
	for id := range acked {
		if _, ok := seen[id]; !ok {
			lost++
		}
	}
	return lost, doubled, nil
}

// answersBeyondRaw compares what the saved queries count (the events of the per-content
// rollup partner_content_daily) with a recomputation from the raw table's distinct ids,
// content by content, and adds up the excess (events the answers count twice) and what the
// answers count in all.
func (s *stack) answersBeyondRaw() (excess, counted int64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := s.query(ctx, `SELECT sum(greatest(a - e, 0)), sum(a) FROM
  (SELECT content_id, toInt64(uniqMerge(events)) AS a FROM partner_content_daily WHERE tenant = 'faults' GROUP BY content_id) AS r
  FULL JOIN
  (SELECT content_id, toInt64(uniqExact(event_id)) AS e FROM events WHERE tenant = 'faults' AND is_bot = 0 AND content_id != '' GROUP BY content_id) AS x
  USING content_id FORMAT TabSeparated`)
	if err != nil {
		return 0, 0, err
	}
	_, err = fmt.Sscan(out, &excess, &counted)
	return excess, counted, err
}

func get(u string) ([]byte, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

var droppedRE = regexp.MustCompile(`repeated event ids left out of the batch.* count=(\d+)`)

// droppedInLog adds up the repeats the ingest reported leaving out, over all its restarts.
func droppedInLog(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := droppedRE.FindStringSubmatch(sc.Text()); m != nil {
			c, _ := strconv.Atoi(m[1])
			n += c
		}
	}
	return n
}

func markdown(rs []result, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| scenario | fault | acked events | lost | doubled in raw | dropped by ingest | doubled in answers | requests re-sent | drain | result |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d | %d | %.0f s | %s |\n", r.sc.name, r.sc.what, r.acked, r.lost,
			r.rawDoubled, r.dropped, r.answerDoubled, r.failedReqs, r.drain.Seconds(), r.verdict())
	}
	fmt.Fprintf(&b, "\n%d scenarios in %s.\n", len(rs), took.Round(time.Second))
	return b.String()
}
