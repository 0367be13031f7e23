// Package testenv gives integration tests real engines: one ClickHouse 26.7 server and one
// Kafka-protocol broker per test binary, on free ports, with a fresh database or topic per
// test, plus dedicated instances that a test may stop and start.
//
// Every package that uses it needs:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// because the ClickHouse server runs as a child process of the test binary itself.
package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/beaconprm/beacon/internal/chlocal"
	"github.com/beaconprm/beacon/internal/kafkalocal"
)

const roleEnv = "BEACON_TESTENV_CLICKHOUSE"

// shared holds the engines of this test binary; they start on first use.
var shared struct {
	mu      sync.Mutex
	tmp     string
	chOnce  sync.Once
	ch      *ClickHouseServer
	chErr   error
	kafka   *kafkalocal.Broker
	kErr    error
	beacon  string
	bErr    error
	closers []func()
}

// Main runs the tests, or, in a child started by this package, the ClickHouse server.
func Main(m *testing.M) {
	if v := os.Getenv(roleEnv); v != "" {
		os.Exit(serveChild(v))
	}
	code := m.Run()
	shared.mu.Lock()
	for i := len(shared.closers) - 1; i >= 0; i-- {
		shared.closers[i]()
	}
	if shared.tmp != "" {
		os.RemoveAll(shared.tmp)
	}
	shared.mu.Unlock()
	os.Exit(code)
}

func serveChild(v string) int {
	var cfg chlocal.ServeConfig
	if err := json.Unmarshal([]byte(v), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: bad server config:", err)
		return 2
	}
	sctx, stop := signalContext()
	defer stop()
	ctx, unwatch := chlocal.WatchParent(sctx)
	defer unwatch()
	if err := chlocal.Serve(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	// Say why the server stopped, so an unexpected stop is explained in the test log.
	if sctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "testenv: ClickHouse server stopping: signalled")
	} else {
		fmt.Fprintln(os.Stderr, "testenv: ClickHouse server stopping: test binary exited")
	}
	return 0
}

// tmpDir is a directory removed when the test binary ends.
func tmpDir(t testing.TB) string {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.tmp == "" {
		d, err := os.MkdirTemp("", "beacon-testenv-")
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		shared.tmp = d
	}
	return shared.tmp
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ClickHouseServer is a ClickHouse server child that a test may stop and start again
// on the same ports and data.
type ClickHouseServer struct {
	NativeAddr, HTTPAddr string
	cfg                  chlocal.StartConfig
	mu                   sync.Mutex
	proc                 *chlocal.Process
}

var serverSeq atomic.Int64

func startServer(t testing.TB, configFile string) (*ClickHouseServer, error) {
	lib, err := chlocal.EnsureLibrary(context.Background(), chlocal.CacheDir(), os.Stderr)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(tmpDir(t), fmt.Sprintf("clickhouse-%d", serverSeq.Add(1)))
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a public port can be taken between FreePort and the bind
		s := newServer(lib, dir, FreePort(t), FreePort(t), configFile)
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

// newServer describes a server child on the given ports; it is not started.
func newServer(lib, dir string, tcpPort, httpPort int, configFile string) *ClickHouseServer {
	serve := chlocal.ServeConfig{Library: lib, DataDir: filepath.Join(dir, "data"), TCPPort: tcpPort, HTTPPort: httpPort, ConfigFile: configFile}
	js, _ := json.Marshal(serve)
	return &ClickHouseServer{cfg: chlocal.StartConfig{
		ServeConfig: serve,
		Command:     []string{os.Args[0]},
		Env:         []string{roleEnv + "=" + string(js)},
		LogPath:     filepath.Join(dir, "clickhouse.log"),
	}}
}

// start starts the server child, up to three times: the engine's internal port is probed
// free in the child, then bound, and another server starting meanwhile (a cluster's
// sibling node, a parallel test binary) can take it ("Address already in use" in its log).
func (s *ClickHouseServer) start() error {
	var p *chlocal.Process
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if p, err = chlocal.Start(context.Background(), s.cfg); err == nil {
			break
		}
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proc, s.NativeAddr, s.HTTPAddr = p, p.TCPAddr, p.HTTPAddr
	s.mu.Unlock()
	return nil
}

func (s *ClickHouseServer) stop() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		_ = p.Stop(10 * time.Second)
	}
}

// NewClickHouseServer starts a dedicated server for this test, stopped at cleanup.
func NewClickHouseServer(t testing.TB) *ClickHouseServer {
	t.Helper()
	return NewClickHouseServerWithConfig(t, "")
}

// NewClickHouseServerWithConfig starts a dedicated server reading configFile (a
// ClickHouse config file, e.g. naming a users_config; empty for none), stopped at cleanup.
func NewClickHouseServerWithConfig(t testing.TB, configFile string) *ClickHouseServer {
	t.Helper()
	s, err := startServer(t, configFile)
	if err != nil {
		t.Fatalf("testenv: cannot start ClickHouse: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			s.reportLog(t)
		}
		s.stop()
	})
	return s
}

// Stop stops the server (SIGTERM); its data stays.
func (s *ClickHouseServer) Stop(t testing.TB) {
	t.Helper()
	s.stop()
}

// Kill stops the server with SIGKILL.
func (s *ClickHouseServer) Kill(t testing.TB) {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.Kill()
	}
}

// Start starts a stopped server again on the same ports and data.
func (s *ClickHouseServer) Start(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatalf("testenv: cannot restart ClickHouse: %v", err)
	}
}

// Open returns a native connection to database db, closed at cleanup.
func (s *ClickHouseServer) Open(t testing.TB, db string) driver.Conn {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{s.NativeAddr},
		Auth:        clickhouse.Auth{Database: db},
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("testenv: cannot open ClickHouse %s: %v", s.NativeAddr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// reportLog prints the tails of the server process's output and of the engine's own log.
func (s *ClickHouseServer) reportLog(t testing.TB) {
	for _, path := range []string{s.cfg.LogPath, filepath.Join(filepath.Dir(s.cfg.DataDir), "clickhouse-server.log")} {
		b, err := os.ReadFile(path)
		if err != nil || len(b) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		t.Logf("ClickHouse log (%s), last %d lines:\n%s", path, len(lines), strings.Join(lines, "\n"))
	}
}

// ClickHouse is a fresh database on the test binary's shared server.
type ClickHouse struct {
	NativeAddr, HTTPAddr string
	Database             string
	server               *ClickHouseServer
	conn                 driver.Conn
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_]+`)
var dbSeq atomic.Int64

// NewClickHouse returns a new database on the shared server, dropped at cleanup.
func NewClickHouse(t testing.TB) *ClickHouse {
	t.Helper()
	// One start for the whole binary, even when parallel tests ask at once.
	shared.chOnce.Do(func() {
		s, err := startServer(t, "")
		shared.mu.Lock()
		shared.ch, shared.chErr = s, err
		if s != nil {
			shared.closers = append(shared.closers, s.stop)
		}
		shared.mu.Unlock()
	})
	shared.mu.Lock()
	s, err := shared.ch, shared.chErr
	shared.mu.Unlock()
	if err != nil {
		t.Fatalf("testenv: cannot start ClickHouse: %v", err)
	}
	if s == nil {
		t.Fatal("testenv: the shared ClickHouse server failed to start in an earlier test")
	}
	name := strings.ToLower(unsafeName.ReplaceAllString(t.Name(), "_"))
	if len(name) > 40 {
		name = name[:40]
	}
	db := fmt.Sprintf("t%d_%s", dbSeq.Add(1), name)
	admin := s.Open(t, "default")
	ctx := context.Background()
	if err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		s.reportLog(t)
		t.Fatalf("testenv: cannot create database %s: %v", db, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			s.reportLog(t)
		}
		_ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" SYNC")
	})
	return &ClickHouse{NativeAddr: s.NativeAddr, HTTPAddr: s.HTTPAddr, Database: db, server: s, conn: s.Open(t, db)}
}

// Conn is a native connection whose default database is the test's.
func (c *ClickHouse) Conn(t testing.TB) driver.Conn { return c.conn }

// Exec runs one statement in the test's database or fails the test.
func (c *ClickHouse) Exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if err := c.conn.Exec(context.Background(), query, args...); err != nil {
		t.Fatalf("clickhouse: %v\nquery: %s", err, query)
	}
}

// Kafka is the test binary's shared in-memory broker.
type Kafka struct {
	Addr   string
	broker *kafkalocal.Broker
}

var topicSeq atomic.Int64

// NewKafka returns the shared broker, starting it on first use.
func NewKafka(t testing.TB) *Kafka {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.kafka == nil && shared.kErr == nil {
		shared.kafka, shared.kErr = kafkalocal.Start(kafkalocal.Config{})
		if shared.kafka != nil {
			shared.closers = append(shared.closers, shared.kafka.Close)
		}
	}
	if shared.kErr != nil {
		t.Fatalf("testenv: cannot start Kafka: %v", shared.kErr)
	}
	return &Kafka{Addr: shared.kafka.Addr(), broker: shared.kafka}
}

// NewKafkaCluster starts a broker process of its own with n brokers (kafkalocal.Config's
// Brokers), stopped at cleanup. Addr is the first broker; the test can move partition
// leaders with Cluster() (kfake's ShufflePartitionLeaders).
func NewKafkaCluster(t testing.TB, n int) *Kafka {
	t.Helper()
	b, err := kafkalocal.Start(kafkalocal.Config{Brokers: n})
	if err != nil {
		t.Fatalf("testenv: cannot start %d Kafka brokers: %v", n, err)
	}
	t.Cleanup(b.Close)
	return &Kafka{Addr: b.Addr(), broker: b}
}

// Cluster exposes the brokers' kfake cluster for fault injection.
func (k *Kafka) Cluster() *kfake.Cluster { return k.broker.Cluster() }

// Topic creates a topic unique to this test with the given partitions.
func (k *Kafka) Topic(t testing.TB, partitions int32) string {
	t.Helper()
	name := fmt.Sprintf("t%d.%s", topicSeq.Add(1), strings.ToLower(unsafeName.ReplaceAllString(t.Name(), "_")))
	if len(name) > 200 {
		name = name[:200]
	}
	if err := k.broker.CreateTopic(name, partitions); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { _ = k.broker.Cluster().DeleteTopic(name) })
	return name
}

// KafkaServer is a dedicated persistent broker that a test may stop and start.
type KafkaServer struct {
	Addr   string
	cfg    kafkalocal.Config
	mu     sync.Mutex
	broker *kafkalocal.Broker
}

// NewKafkaServer starts a broker with its own data directory and the given topics.
func NewKafkaServer(t testing.TB, topics ...kafkalocal.Topic) *KafkaServer {
	t.Helper()
	s := &KafkaServer{cfg: kafkalocal.Config{DataDir: t.TempDir(), Port: FreePort(t), Topics: topics}}
	s.Start(t)
	s.Addr = s.broker.Addr()
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Broker returns the running broker (nil while stopped), e.g. to create topics or inject faults.
func (s *KafkaServer) Broker() *kafkalocal.Broker {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.broker
}

// Stop closes the broker; its data directory stays.
func (s *KafkaServer) Stop(t testing.TB) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broker != nil {
		s.broker.Close()
		s.broker = nil
	}
}

// Start starts the broker again from its data directory on the same port.
func (s *KafkaServer) Start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broker != nil {
		return
	}
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for { // the old listener's port may take a moment to be free again
		s.broker, err = kafkalocal.Start(s.cfg)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("testenv: cannot start Kafka on port %d: %v", s.cfg.Port, err)
	}
}

// BuildBeacon builds the beacon binary once per test binary and returns its path.
func BuildBeacon(t testing.TB) string {
	t.Helper()
	dir := tmpDir(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.beacon == "" && shared.bErr == nil {
		out := filepath.Join(dir, "beacon")
		cmd := exec.Command("go", "build", "-o", out, "github.com/beaconprm/beacon/cmd/beacon")
		if b, err := cmd.CombinedOutput(); err != nil {
			shared.bErr = fmt.Errorf("go build beacon: %v\n%s", err, b)
		} else {
			shared.beacon = out
		}
	}
	if shared.bErr != nil {
		t.Fatalf("testenv: %v", shared.bErr)
	}
	return shared.beacon
}
