package chlocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// ServeConfig is what one server process needs.
type ServeConfig struct {
	Library  string // path of libchdb.so
	DataDir  string // persistent data directory
	Host     string // listen host; default 127.0.0.1
	TCPPort  int    // native protocol port; default 9000
	HTTPPort int    // HTTP interface port; default 8123
	// ServerLog is the engine's own log file (warnings and errors); default DataDir/../clickhouse-server.log.
	ServerLog string
	// ConfigFile is an optional ClickHouse config file for what the flags here do not set,
	// such as users_config (users, profiles and row filters: see `beacon biuser`). Ports,
	// host, data path and log are still these fields'.
	ConfigFile string
}

func (c *ServeConfig) defaults() {
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.TCPPort == 0 {
		c.TCPPort = 9000
	}
	if c.HTTPPort == 0 {
		c.HTTPPort = 8123
	}
}

// ServerLogOf is the engine's own log file for a data directory when ServeConfig.ServerLog
// is empty: clickhouse-server.log beside the directory.
func ServerLogOf(dataDir string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(dataDir)), "clickhouse-server.log")
}

// keepServing is the statement that holds the clickhouse-local process open after the
// listeners start: a slow, effectively endless scan that outputs nothing.
const keepServing = "SYSTEM START LISTEN TCP; SYSTEM START LISTEN HTTP; " +
	"SELECT sleepEachRow(1) FROM numbers(1000000000000) SETTINGS max_block_size = 1 FORMAT Null"

// Serve runs the ClickHouse server in this process until ctx ends. It is meant for a
// dedicated child process (see Start): the engine owns the process, and returning from
// Serve is the caller's cue to exit it. Acknowledged inserts are already on disk then.
func Serve(ctx context.Context, cfg ServeConfig) error {
	cfg.defaults()
	if cfg.Library == "" || cfg.DataDir == "" {
		return errors.New("chlocal: Library and DataDir are required")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("cannot create ClickHouse data directory %s: %w", cfg.DataDir, err)
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	if cfg.ServerLog == "" {
		cfg.ServerLog = ServerLogOf(abs)
	}
	// The engine listens on internal loopback ports behind a guard on the public ones (see
	// guard.go). Binding the public ports first also makes a taken port fail at once.
	public := map[string]int{"native": cfg.TCPPort, "HTTP": cfg.HTTPPort}
	internal := map[string]int{}
	var guards []*guard
	defer func() {
		for _, g := range guards {
			g.close()
		}
	}()
	for _, proto := range []string{"native", "HTTP"} {
		ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(public[proto])))
		if err != nil {
			return fmt.Errorf("ClickHouse %s port: %w", proto, err)
		}
		port, err := internalPort("127.0.0.1")
		if err != nil {
			ln.Close()
			return err
		}
		internal[proto] = port
		guards = append(guards, newGuard(ln, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), proto == "native"))
	}
	argv := []string{
		"clickhouse",
		"--logger.log=" + cfg.ServerLog,
		"--log-level=warning",
		"--path=" + abs + "/",
		"--listen_host=127.0.0.1",
		"--tcp_port=" + strconv.Itoa(internal["native"]),
		"--http_port=" + strconv.Itoa(internal["HTTP"]),
	}
	if cfg.ConfigFile != "" {
		cf, err := filepath.Abs(cfg.ConfigFile)
		if err != nil {
			return err
		}
		if _, err := os.Stat(cf); err != nil {
			return fmt.Errorf("ClickHouse config file: %w", err)
		}
		argv = append(argv, "--config-file="+cf)
	}
	argv = append(argv, "--query="+keepServing)
	// A client that disappears mid-query makes the engine's next write raise SIGPIPE on one
	// of its own threads; ClickHouse's server ignores SIGPIPE and handles EPIPE, but under
	// the Go runtime that signal aborts the process. Ignore it, as the server does.
	signal.Ignore(syscall.SIGPIPE)
	done := make(chan error, 1)
	go func() { done <- serveInProcess(cfg.Library, argv) }()
	select {
	case err := <-done:
		if err != nil {
			return err
		}
		return errors.New("ClickHouse server stopped by itself: see its log")
	case <-ctx.Done():
		return nil
	}
}

// Process is a ClickHouse server running as a child process (Pid, Done, Kill, Err from
// Child).
type Process struct {
	*Child
	HTTPAddr string
	TCPAddr  string
}

// StartConfig says how to launch a server child.
type StartConfig struct {
	ServeConfig
	// Command is the argv that makes a process call Serve with ServeConfig; the
	// server flags are appended by the caller that builds it (see `beacon clickhouse`).
	Command []string
	Env     []string // extra environment for the child
	LogPath string   // child's stdout and stderr; default DataDir/../clickhouse.log
	// ReadyTimeout bounds the wait for /ping; default 60s (first start creates system tables).
	ReadyTimeout time.Duration
}

// Start launches the child and waits until its HTTP interface answers /ping.
func Start(ctx context.Context, cfg StartConfig) (*Process, error) {
	cfg.defaults()
	if len(cfg.Command) == 0 {
		return nil, errors.New("chlocal: StartConfig.Command is empty")
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 60 * time.Second
	}
	if cfg.LogPath == "" {
		cfg.LogPath = filepath.Join(filepath.Dir(filepath.Clean(cfg.DataDir)), "clickhouse.log")
	}
	if err := os.MkdirAll(filepath.Dir(cfg.LogPath), 0o755); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(cfg.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open ClickHouse log %s: %w", cfg.LogPath, err)
	}
	defer logf.Close()
	cmd := exec.Command(cfg.Command[0], cfg.Command[1:]...)
	cmd.Env = append(os.Environ(), cfg.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// The child stops by itself when its starter dies (WatchParent): it must not outlive
	// a crashed test or dev run.
	logPath := cfg.LogPath
	child, err := StartChild(cmd, func() {
		// Record how the server ended: a crash inside the engine may leave no other trace.
		if f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintf(f, "chlocal: server pid %d exited: %v\n", cmd.Process.Pid, cmd.ProcessState)
			f.Close()
		}
	})
	if err != nil {
		return nil, fmt.Errorf("cannot start ClickHouse server %v: %w", cfg.Command, err)
	}
	p := &Process{
		Child:    child,
		HTTPAddr: fmt.Sprintf("%s:%d", cfg.Host, cfg.HTTPPort),
		TCPAddr:  fmt.Sprintf("%s:%d", cfg.Host, cfg.TCPPort),
	}
	if err := p.waitReady(ctx, cfg.ReadyTimeout); err != nil {
		p.Kill()
		return nil, fmt.Errorf("%w (log: %s)", err, cfg.LogPath)
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	url := "http://" + p.HTTPAddr + "/ping"
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.Done():
			return fmt.Errorf("ClickHouse server exited before it was ready: %v", p.Err())
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ClickHouse server not ready on %s after %s", p.HTTPAddr, timeout)
		}
	}
}

// Stop sends SIGTERM and waits up to timeout, then kills.
func (p *Process) Stop(timeout time.Duration) error {
	if err := p.Child.Stop(timeout); err != nil {
		return fmt.Errorf("ClickHouse server: %w", err)
	}
	return nil
}
