package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/beaconprm/beacon/internal/chlocal"
	"github.com/beaconprm/beacon/internal/ready"
)

// part is one process of the pipeline. It keeps its command line, so a fault can kill it
// and start it again on the same ports and data; its output is appended to one log file
// across restarts.
type part struct {
	name  string
	bin   string
	args  []string
	dir   string // working directory (the repository root)
	log   string
	ready func() error
	child *chlocal.Child
	// addrs are where it listens: a restart waits until the killed process has let them go.
	addrs []string
}

func (p *part) start() error {
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "=== faults: start %s at %s\n", p.name, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = f, f
	c, err := chlocal.StartChild(cmd, func() { f.Close() })
	if err != nil {
		f.Close()
		return fmt.Errorf("cannot start %s: %w", p.name, err)
	}
	p.child = c
	gone := func() error {
		if c.Exited() {
			return fmt.Errorf("%s exited before it was ready (%v); its log:\n%s", p.name, c.Err(), ready.Tail(p.log, 15))
		}
		return nil
	}
	if err := ready.Wait(90*time.Second, p.ready, gone); err != nil {
		if c.Exited() {
			return err
		}
		return fmt.Errorf("%s: %w; its log:\n%s", p.name, err, ready.Tail(p.log, 15))
	}
	return nil
}

// kill sends SIGKILL to the part's process group and waits for it (a frozen part too), and
// then until its addresses are free: the child is reaped at once, but another process of
// its group (the ClickHouse engine under `beacon clickhouse`) may still be tearing down its
// memory with its listening sockets open, and a restart at once would find them taken
// (clickhouse-kill-x3, 2026-12-05: "bind: address already in use").
func (p *part) kill() {
	if p.child == nil {
		return
	}
	_ = syscall.Kill(-p.child.Pid(), syscall.SIGCONT)
	p.child.Kill()
	for _, a := range p.addrs {
		if err := ready.Wait(30*time.Second, ready.Free(a), nil); err != nil {
			fmt.Fprintf(os.Stderr, "faults: %s's %s still taken after it was killed: %v\n", p.name, a, err)
		}
	}
}

// signal sends sig to the part's process group.
func (p *part) signal(sig syscall.Signal) error {
	if p.child == nil || p.child.Exited() {
		return fmt.Errorf("%s is not running", p.name)
	}
	return syscall.Kill(-p.child.Pid(), sig)
}

// stop sends SIGTERM and waits (SIGKILL after 20s).
func (p *part) stop() error {
	if p.child == nil {
		return nil
	}
	_ = syscall.Kill(-p.child.Pid(), syscall.SIGCONT)
	return p.child.Stop(20 * time.Second)
}

// stack is the four parts on free ports with their data in dir.
type stack struct {
	dir, root, bin                     string
	chNative, chHTTP, kafka, collector string
	ingestMetrics                      string
	ch, broker, coll, ing              *part
	collectorSpool                     string
}

func newStack(root, bin, dir string) (*stack, error) {
	s := &stack{dir: dir, root: root, bin: bin}
	ports := make([]int, 6)
	for i := range ports {
		p, err := ready.FreePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	addr := func(p int) string { return "127.0.0.1:" + strconv.Itoa(p) }
	s.chNative, s.chHTTP, s.kafka, s.collector, s.ingestMetrics = addr(ports[0]), addr(ports[1]), addr(ports[2]), addr(ports[3]), addr(ports[4])
	s.collectorSpool = filepath.Join(dir, "spool")
	sites, err := writeSites(dir)
	if err != nil {
		return nil, err
	}
	mk := func(name string, ready func() error, args ...string) *part {
		return &part{name: name, bin: bin, args: args, dir: root, log: filepath.Join(dir, name+".log"), ready: ready}
	}

	s.ch = mk("clickhouse", ready.HTTP("http://"+s.chHTTP+"/ping"), "clickhouse",
		"-clickhouse.dataDir="+filepath.Join(dir, "clickhouse"),
		"-clickhouse.tcpPort="+strconv.Itoa(ports[0]), "-clickhouse.httpPort="+strconv.Itoa(ports[1]))
	s.broker = mk("kafka", ready.TCP(s.kafka), "kafka", "-kafka.dataDir="+filepath.Join(dir, "kafka"),
		"-kafka.port="+strconv.Itoa(ports[2]), "-kafka.partitions=6")
	s.coll = mk("collector", ready.HTTP("http://"+s.collector+"/readyz"), "collector",
		"-collector.listenAddr="+s.collector, "-collector.brokers="+s.kafka, "-collector.sites="+sites,
		"-collector.spoolDir="+s.collectorSpool, "-collector.snippetDir="+filepath.Join(dir, "no-snippet"),
		"-collector.maxConnsPerIP=-1")
	// The watchdog at 5s, not 30s: a scenario lasts a minute (ingest/README.md, watchdog).
	s.ing = mk("ingest", ready.HTTP("http://"+s.ingestMetrics+"/metrics"), "ingest",
		"-ingest.brokers="+s.kafka, "-ingest.clickhouse.addr="+s.chNative, "-ingest.clickhouse.database=beacon",
		"-ingest.group=beacon-ingest", "-ingest.metricsAddr="+s.ingestMetrics, "-ingest.watchdogInterval=5s")
	s.ch.addrs = []string{s.chNative, s.chHTTP}
	s.broker.addrs = []string{s.kafka}
	s.coll.addrs = []string{s.collector}
	s.ing.addrs = []string{s.ingestMetrics}
	if debug {
		s.ing.args = append(s.ing.args, "-ingest.debug")
		s.coll.args = append(s.coll.args, "-collector.debug")
	}
	return s, nil
}

// up starts ClickHouse, migrates, then the broker, the ingest and the collector.
func (s *stack) up() error {
	if err := s.ch.start(); err != nil {
		return err
	}
	// The native port is served once the engine is up behind the relay.
	if err := ready.Wait(time.Minute, ready.TCP(s.chNative), nil); err != nil {
		return fmt.Errorf("clickhouse native port: %w", err)
	}
	if _, err := s.queryIn(context.Background(), "default", "CREATE DATABASE IF NOT EXISTS beacon"); err != nil {
		return err
	}
	out, err := exec.Command(s.bin, "migrate", "-clickhouse.addr="+s.chNative, "-clickhouse.database=beacon", "up").CombinedOutput()
	if err != nil {
		return fmt.Errorf("beacon migrate up: %w: %s", err, out)
	}
	for _, p := range []*part{s.broker, s.ing, s.coll} {
		if err := p.start(); err != nil {
			return err
		}
	}
	return nil
}

// down kills every part (the scenario's figures are taken already).
func (s *stack) down() {
	for _, p := range []*part{s.coll, s.ing, s.broker, s.ch} {
		p.kill()
	}
}

func (s *stack) parts() []*part { return []*part{s.coll, s.ing, s.broker, s.ch} }

// query runs sql in the database beacon over ClickHouse's HTTP interface.
func (s *stack) query(ctx context.Context, sql string) (string, error) {
	return s.queryIn(ctx, "beacon", sql)
}

func (s *stack) queryIn(ctx context.Context, db, sql string) (string, error) {
	b, err := ready.Post(ctx, "http://"+s.chHTTP+"/?"+url.Values{"database": {db}}.Encode(), strings.NewReader(sql))
	if err != nil {
		return "", fmt.Errorf("clickhouse: %w", err)
	}
	return string(b), nil
}

// secret signs the suite's tenant tokens; it lives only in the run's temporary directory.
const secret = "faults-secret-0123456789abcdef0123"

func writeSites(dir string) (string, error) {
	if err := os.WriteFile(filepath.Join(dir, "faults.secret"), []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "sites.json")
	err := os.WriteFile(path, []byte(`{"sites":[{"site_key":"faults","tenant":"faults","allowed_origins":["http://localhost:*"],"secret_file":"faults.secret"}]}`+"\n"), 0o644)
	return path, err
}
