// Package stack starts and stops the processes a benchmark scenario measures: `beacon
// clickhouse`, `beacon kafka`, `beacon collector` and `beacon ingest` from the beacon binary,
// each on free ports with its data in the stack's temporary directory. It also reads their
// resident memory and CPU time from /proc, and on Linux splits the machine's CPUs between
// the collector and the bench process (SplitCPUs).
package stack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/internal/chlocal"
	"github.com/beaconprm/beacon/internal/ready"
)

// Proc is a child process started by a scenario (Pid, Exited, Err, Kill from
// chlocal.Child); its output goes to a log file in the stack's work directory.
type Proc struct {
	*chlocal.Child
	Name string
	Log  string
}

// Stop sends SIGTERM and waits for the child, then SIGKILL after 20s.
func (p *Proc) Stop() error {
	if err := p.Child.Stop(20 * time.Second); err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	return nil
}

// Stack starts the pipeline's processes from the beacon binary on free ports with data in
// a temporary directory, and stops them in reverse order.
type Stack struct {
	Root string // repository root (where go.mod is)
	Bin  string // the beacon binary
	Work string // temporary directory of this run
	Keep bool   // keep Work after Close (for post-mortems)
	Log  io.Writer
	// CollectorPrefix, when set, is the command that starts each collector, the beacon
	// binary and its arguments appended (taskset: see SplitCPUs).
	CollectorPrefix []string
	procs           []*Proc
}

// New prepares a stack for a scenario run: the beacon binary bin (default
// <root>/bin/beacon), progress to log, the work directory kept after Close if keep.
func New(bin string, keep bool, log io.Writer) (*Stack, error) {
	root, err := ready.RepoRoot()
	if err != nil {
		return nil, err
	}
	if bin == "" {
		bin = filepath.Join(root, "bin", "beacon")
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("cannot find the beacon binary: %w; run `make build` (go build -o bin/beacon ./cmd/beacon)", err)
	}
	work, err := os.MkdirTemp("", "beacon-bench-")
	if err != nil {
		return nil, err
	}
	return &Stack{Root: root, Bin: bin, Work: work, Keep: keep, Log: log}, nil
}

// Start runs bin with args as a child named name.
func (s *Stack) Start(name, bin string, args ...string) (*Proc, error) {
	logPath := filepath.Join(s.Work, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.Root
	cmd.Stdout, cmd.Stderr = f, f
	// Never outlive the bench: the children (beacon subcommands, the ceiling) watch this pid.
	child, err := chlocal.StartChild(cmd, func() { f.Close() })
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot start %s: %w", name, err)
	}
	p := &Proc{Child: child, Name: name, Log: logPath}
	s.procs = append(s.procs, p)
	if s.Log != nil {
		fmt.Fprintf(s.Log, "started %s (pid %d): %s %s\n", name, p.Pid(), filepath.Base(bin), strings.Join(args, " "))
	}
	return p, nil
}

// Stop stops p and forgets it.
func (s *Stack) Stop(p *Proc) error {
	for i, q := range s.procs {
		if q == p {
			s.procs = append(s.procs[:i], s.procs[i+1:]...)
			break
		}
	}
	return p.Stop()
}

// Close stops every child in reverse start order and removes the work directory.
func (s *Stack) Close() error {
	var errs []error
	for i := len(s.procs) - 1; i >= 0; i-- {
		errs = append(errs, s.procs[i].Stop())
	}
	s.procs = nil
	if !s.Keep {
		errs = append(errs, os.RemoveAll(s.Work))
	} else if s.Log != nil {
		fmt.Fprintf(s.Log, "kept %s\n", s.Work)
	}
	return errors.Join(errs...)
}

// FreeAddr returns 127.0.0.1:<a free port>.
func FreeAddr() (string, error) {
	p, err := ready.FreePort()
	return "127.0.0.1:" + strconv.Itoa(p), err
}

// WaitFor polls ok until it returns nil, p exits, or timeout passes. p may be nil (nothing
// to watch); when it is not, an error carries the end of its log.
func WaitFor(p *Proc, timeout time.Duration, ok func() error) error {
	var gone func() error
	if p != nil {
		gone = func() error {
			if p.Exited() {
				return fmt.Errorf("%s exited before it was ready (%v); its log:\n%s", p.Name, p.Err(), ready.Tail(p.Log, 15))
			}
			return nil
		}
	}
	err := ready.Wait(timeout, ok, gone)
	if err != nil && p != nil && !p.Exited() {
		err = fmt.Errorf("%w; its log:\n%s", err, ready.Tail(p.Log, 15))
	}
	return err
}

// ClickHouse is a started ClickHouse server.
type ClickHouse struct {
	Proc                 *Proc
	NativeAddr, HTTPAddr string
}

// StartClickHouse starts `beacon clickhouse` with its data in the work directory.
func (s *Stack) StartClickHouse() (*ClickHouse, error) {
	return s.StartClickHouseAt(filepath.Join(s.Work, "clickhouse"))
}

// StartClickHouseAt starts `beacon clickhouse` with its data in dir.
func (s *Stack) StartClickHouseAt(dir string) (*ClickHouse, error) {
	tcp, err := ready.FreePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := ready.FreePort()
	if err != nil {
		return nil, err
	}
	p, err := s.Start("clickhouse", s.Bin, "clickhouse", "-clickhouse.dataDir="+dir,
		"-clickhouse.tcpPort="+strconv.Itoa(tcp), "-clickhouse.httpPort="+strconv.Itoa(httpPort))
	if err != nil {
		return nil, err
	}
	ch := &ClickHouse{Proc: p, NativeAddr: "127.0.0.1:" + strconv.Itoa(tcp), HTTPAddr: "127.0.0.1:" + strconv.Itoa(httpPort)}
	// The first start may fetch the engine library with npm.
	if err := WaitFor(p, 5*time.Minute, ready.HTTP("http://"+ch.HTTPAddr+"/ping")); err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	if err := WaitFor(p, time.Minute, ready.TCP(ch.NativeAddr)); err != nil {
		return nil, fmt.Errorf("clickhouse native port: %w", err)
	}
	return ch, nil
}

// Query runs sql (sent as the request body) over HTTP and returns the answer (trimmed).
func (ch *ClickHouse) Query(ctx context.Context, sql string) (string, error) {
	return ch.do(ctx, "http://"+ch.HTTPAddr+"/", sql, strings.NewReader(sql))
}

// Post sends sql in the URL and body as the request body (for INSERT ... FORMAT).
func (ch *ClickHouse) Post(ctx context.Context, sql string, body io.Reader) (string, error) {
	return ch.do(ctx, "http://"+ch.HTTPAddr+"/?query="+url.QueryEscape(sql), sql, body)
}

func (ch *ClickHouse) do(ctx context.Context, u, sql string, body io.Reader) (string, error) {
	b, err := ready.Post(ctx, u, body)
	if err != nil {
		return "", fmt.Errorf("clickhouse: %w (query %.200q)", err, sql)
	}
	return strings.TrimSpace(string(b)), nil
}

// QueryInt runs a query answering one number.
func (ch *ClickHouse) QueryInt(ctx context.Context, sql string) (int64, error) {
	s, err := ch.Query(ctx, sql)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(s, 10, 64)
}

// Migrate runs `beacon migrate up` against database db.
func (s *Stack) Migrate(ch *ClickHouse, db string) error {
	if _, err := ch.Query(context.Background(), "CREATE DATABASE IF NOT EXISTS "+db); err != nil {
		return err
	}
	out, err := exec.Command(s.Bin, "migrate", "-clickhouse.addr="+ch.NativeAddr, "-clickhouse.database="+db, "up").CombinedOutput()
	if err != nil {
		return fmt.Errorf("beacon migrate up: %w: %s", err, out)
	}
	return nil
}

// StartKafka starts `beacon kafka` (topics beacon.events and beacon.dlq with partitions).
// Extra flags are appended (e.g. -kafka.syncWrites=false).
func (s *Stack) StartKafka(partitions int, extra ...string) (string, *Proc, error) {
	addr, err := FreeAddr()
	if err != nil {
		return "", nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	name := "kafka"
	if len(s.procs) > 0 {
		name += strconv.Itoa(len(s.procs))
	}
	args := append([]string{"kafka", "-kafka.dataDir=" + filepath.Join(s.Work, name), "-kafka.port=" + port,
		"-kafka.partitions=" + strconv.Itoa(partitions)}, extra...)
	p, err := s.Start(name, s.Bin, args...)
	if err != nil {
		return "", nil, err
	}
	if err := WaitFor(p, time.Minute, ready.TCP(addr)); err != nil {
		return "", nil, fmt.Errorf("kafka: %w", err)
	}
	return addr, p, nil
}

// benchSecret signs the bench tenant's tokens; it only ever lives in the temp directory.
const benchSecret = "bench-secret-0123456789abcdef0123"

// WriteSites writes the bench site config (site and tenant "bench", a secret file) into
// the work directory and returns its path and the loaded sites (to mint tokens).
func (s *Stack) WriteSites() (string, *site.Sites, error) {
	dir := filepath.Join(s.Work, "sites")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.secret"), []byte(benchSecret+"\n"), 0o600); err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, "sites.json")
	// The load generator sends no Origin (as a server-side integration would); a bare "*" is
	// refused since origins are parsed, so the entry is only a valid placeholder.
	if err := os.WriteFile(path, []byte(`{"sites":[{"site_key":"bench","tenant":"bench","allowed_origins":["http://localhost:*"],"secret_file":"bench.secret"}]}`+"\n"), 0o644); err != nil {
		return "", nil, err
	}
	sites, err := site.LoadConfig(path)
	return path, sites, err
}

// StartCollector starts `beacon collector` on a free port with extra flags appended.
func (s *Stack) StartCollector(brokers, sitesPath string, extra ...string) (string, *Proc, error) {
	addr, err := FreeAddr()
	if err != nil {
		return "", nil, err
	}
	args := append([]string{"collector", "-collector.listenAddr=" + addr, "-collector.brokers=" + brokers,
		"-collector.sites=" + sitesPath, "-collector.spoolDir=" + filepath.Join(s.Work, "spool"),
		"-collector.snippetDir=" + filepath.Join(s.Work, "no-snippet"),
		"-collector.maxConnsPerIP=-1"}, extra...) // the load generator is a single client address
	name := "collector"
	if len(s.procs) > 0 {
		name += strconv.Itoa(len(s.procs))
	}
	// A stopped process leaves s.procs: the name may be taken, and a spool is locked by its
	// collector while it runs.
	for i := 2; ; i++ {
		if _, err := os.Stat(filepath.Join(s.Work, name+"-spool")); err != nil {
			break
		}
		name = "collector" + strconv.Itoa(len(s.procs)) + "-" + strconv.Itoa(i)
	}
	args[4] = "-collector.spoolDir=" + filepath.Join(s.Work, name+"-spool")
	bin := s.Bin
	if len(s.CollectorPrefix) > 0 {
		bin, args = s.CollectorPrefix[0], append(append(slices.Clone(s.CollectorPrefix[1:]), s.Bin), args...)
	}
	p, err := s.Start(name, bin, args...)
	if err != nil {
		return "", nil, err
	}
	if err := WaitFor(p, time.Minute, ready.HTTP("http://"+addr+"/readyz")); err != nil {
		return "", nil, fmt.Errorf("collector: %w", err)
	}
	return addr, p, nil
}

// StartIngest starts `beacon ingest` into database db with consumer group group.
func (s *Stack) StartIngest(brokers string, ch *ClickHouse, db, group string, extra ...string) (*Proc, error) {
	maddr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{"ingest", "-ingest.brokers=" + brokers, "-ingest.clickhouse.addr=" + ch.NativeAddr,
		"-ingest.clickhouse.database=" + db, "-ingest.group=" + group, "-ingest.metricsAddr=" + maddr}, extra...)
	p, err := s.Start("ingest-"+group, s.Bin, args...)
	if err != nil {
		return nil, err
	}
	if err := WaitFor(p, time.Minute, ready.HTTP("http://"+maddr+"/metrics")); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return p, nil
}

// RSS returns the resident set size of pid in bytes (Linux /proc).
func RSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// clockTicks is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, 100 on every
// Linux architecture Go supports (`getconf CLK_TCK`).
const clockTicks = 100

// CPUTime returns the user+system CPU time pid has used, all its threads (Linux /proc).
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a /proc/<pid>/stat line. The
// command name (field 2) is in parentheses and may hold spaces, so fields are counted from
// its closing parenthesis.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no command name in /proc stat")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("short /proc stat line")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("cannot parse utime/stime in /proc stat: %q %q", f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// CPUMeter measures processes' CPU time over a stretch of work.
type CPUMeter struct {
	pids []int
	t0   []time.Duration
}

// StartCPU starts measuring the CPU time of pids (CPUTime) from now.
func StartCPU(pids ...int) *CPUMeter {
	m := &CPUMeter{pids: pids, t0: make([]time.Duration, len(pids))}
	for i, p := range pids {
		m.t0[i], _ = CPUTime(p)
	}
	return m
}

// Used returns each process's CPU time since StartCPU.
func (m *CPUMeter) Used() []time.Duration {
	out := make([]time.Duration, len(m.pids))
	for i, p := range m.pids {
		t, err := CPUTime(p)
		if err == nil {
			out[i] = t - m.t0[i]
		}
	}
	return out
}
