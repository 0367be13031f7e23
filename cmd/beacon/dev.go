package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/beaconprm/beacon/internal/chlocal"
)

// devConfig is the local stack's layout; every part keeps its data under DataDir.
type devConfig struct {
	DataDir         string
	CacheDir        string
	CHTCPPort       int
	CHHTTPPort      int
	KafkaPort       int
	Partitions      int
	CollectorAddr   string
	IngestMetrics   string
	ConsoleAddr     string
	SignalsMetrics  string
	SignalsReceiver string
	SignalsInterval time.Duration
	SnippetDir      string
	StopTimeout     time.Duration
	ReadyTimeout    time.Duration
	executable      string
	stdout, stderr  io.Writer
}

// runDev brings up the whole stack as child processes of this binary, in dependency
// order, and stops it in reverse order on Ctrl-C: signals, console, collector (drains
// into Kafka), ingest (flushes into ClickHouse), broker, ClickHouse.
func runDev(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("dev")
	cfg := devConfig{stdout: m.Stdout, stderr: m.Stderr}
	fs.StringVar(&cfg.DataDir, "dev.dataDir", "var", "where every part keeps its data and logs; kept across restarts")
	fs.StringVar(&cfg.CacheDir, "cacheDir", chlocal.CacheDir(), "where the ClickHouse engine library is cached (fetched with npm when absent)")
	fs.IntVar(&cfg.CHTCPPort, "dev.clickhouseTCPPort", 9000, "ClickHouse native protocol port on 127.0.0.1")
	fs.IntVar(&cfg.CHHTTPPort, "dev.clickhouseHTTPPort", 8123, "ClickHouse HTTP port on 127.0.0.1")
	fs.IntVar(&cfg.KafkaPort, "dev.kafkaPort", 9092, "Kafka broker port on 127.0.0.1")
	fs.IntVar(&cfg.Partitions, "dev.partitions", 6, "partitions of beacon.events and beacon.dlq when first created")
	fs.StringVar(&cfg.CollectorAddr, "dev.collectorAddr", "127.0.0.1:8080", "collector HTTP address")
	fs.StringVar(&cfg.IngestMetrics, "dev.ingestMetricsAddr", "127.0.0.1:9101", "ingest /metrics address")
	fs.StringVar(&cfg.ConsoleAddr, "dev.consoleAddr", "127.0.0.1:8090", "web console address")
	fs.StringVar(&cfg.SignalsMetrics, "dev.signalsMetricsAddr", "127.0.0.1:9102", "beacon signals' /metrics address")
	fs.StringVar(&cfg.SignalsReceiver, "dev.signalsReceiverAddr", "127.0.0.1:9103", "the dev receiver that prints the signals of the default rules file (<dev.dataDir>/signals.json, written when absent)")
	fs.DurationVar(&cfg.SignalsInterval, "dev.signalsInterval", time.Minute, "time between two evaluations of the signal rules")
	fs.StringVar(&cfg.SnippetDir, "dev.snippetDir", "js-snippet/dist", "snippet build the collector serves at /b.js (make run builds it)")
	fs.DurationVar(&cfg.StopTimeout, "dev.stopTimeout", 8*time.Second, "longest wait for each part to stop before it is killed")
	fs.DurationVar(&cfg.ReadyTimeout, "dev.readyTimeout", 60*time.Second, "longest wait for each part to become ready")
	if err := fs.Parse(args); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find the beacon executable to start the stack's parts: %w", err)
	}
	cfg.executable = exe
	return cfg.run(ctx)
}

func (c *devConfig) run(ctx context.Context) error {
	if err := checkPortsFree(c.ports()); err != nil {
		return err
	}
	logDir := filepath.Join(c.DataDir, "log")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", logDir, err)
	}
	// Fetch the engine here, so its progress shows instead of hiding in a child's log.
	if _, err := chlocal.EnsureLibrary(ctx, c.CacheDir, c.stderr); err != nil {
		return err
	}
	var parts []*devPart
	defer func() {
		for i := len(parts) - 1; i >= 0; i-- {
			parts[i].stop(c.StopTimeout, c.stderr)
		}
		fmt.Fprintln(c.stderr, "dev: stopped")
	}()
	start := func(name string, stream bool, ready func(context.Context) error, args ...string) error {
		p, err := startPart(name, c.executable, args, filepath.Join(logDir, name+".log"), stream, c.stderr)
		if err != nil {
			return err
		}
		parts = append(parts, p)
		rctx, cancel := context.WithTimeout(ctx, c.ReadyTimeout)
		defer cancel()
		if err := p.waitReady(rctx, ready); err != nil {
			return fmt.Errorf("%s did not become ready: %w (log: %s)", name, err, p.logPath)
		}
		fmt.Fprintf(c.stderr, "dev: %s ready\n", name)
		return nil
	}
	chArgs := clickhouseArgs(filepath.Join(c.DataDir, "clickhouse", "data"), c.CHTCPPort, c.CHHTTPPort, c.CacheDir)
	chReady := httpReady("http://127.0.0.1:" + strconv.Itoa(c.CHHTTPPort) + "/ping")
	if err := start("clickhouse", false, chReady, chArgs...); err != nil {
		return err
	}
	// A crashed engine is started again on its data (watch); this is how.
	restartEngine := func(ctx context.Context) (*devPart, error) {
		p, err := startPart("clickhouse", c.executable, chArgs, filepath.Join(logDir, "clickhouse.log"), false, c.stderr)
		if err != nil {
			return nil, err
		}
		rctx, cancel := context.WithTimeout(ctx, c.ReadyTimeout)
		defer cancel()
		return p, p.waitReady(rctx, chReady)
	}
	kafkaAddr := "127.0.0.1:" + strconv.Itoa(c.KafkaPort)
	if err := start("kafka", false, tcpReady(kafkaAddr), "kafka",
		"-kafka.dataDir="+filepath.Join(c.DataDir, "kafka"), "-kafka.port="+strconv.Itoa(c.KafkaPort),
		"-kafka.partitions="+strconv.Itoa(c.Partitions)); err != nil {
		return err
	}
	chNative := "127.0.0.1:" + strconv.Itoa(c.CHTCPPort)
	mig := exec.CommandContext(ctx, c.executable, "migrate", "-clickhouse.addr="+chNative, "up")
	mig.Stdout, mig.Stderr = c.stderr, c.stderr
	if err := mig.Run(); err != nil {
		return fmt.Errorf("schema migration failed: %w", err)
	}
	if err := start("ingest", true, tcpReady(c.IngestMetrics), "ingest",
		"-ingest.brokers="+kafkaAddr, "-ingest.clickhouse.addr="+chNative, "-ingest.metricsAddr="+c.IngestMetrics); err != nil {
		return err
	}
	if err := start("collector", true, httpReady("http://"+c.CollectorAddr+"/healthz"), "collector",
		"-collector.brokers="+kafkaAddr, "-collector.listenAddr="+c.CollectorAddr,
		"-collector.sites="+filepath.Join(c.DataDir, "sites.json"), "-collector.demoSites",
		"-collector.spoolDir="+filepath.Join(c.DataDir, "spool"), "-collector.snippetDir="+c.SnippetDir,
		"-collector.demo", "-collector.viewer"); err != nil {
		return err
	}
	consoleLine, err := c.startDevConsole(start, chNative)
	if err != nil {
		return err
	}
	signalsLine, stopReceiver, err := c.startDevSignals(start, chNative)
	if err != nil {
		return err
	}
	defer stopReceiver()
	c.printWelcome(chNative, kafkaAddr, logDir, consoleLine+signalsLine)

	// Run until Ctrl-C, or until a part dies on its own: the engine is restarted, any
	// other part stops the rest and says which.
	return c.watch(ctx, parts, restartEngine)
}

// ports lists every address the stack listens on, checked before anything starts.
func (c *devConfig) ports() []devPort {
	local := func(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
	return []devPort{
		{"ClickHouse native port", "-dev.clickhouseTCPPort", local(c.CHTCPPort)},
		{"ClickHouse HTTP port", "-dev.clickhouseHTTPPort", local(c.CHHTTPPort)},
		{"Kafka port", "-dev.kafkaPort", local(c.KafkaPort)},
		{"collector", "-dev.collectorAddr", c.CollectorAddr},
		{"ingest metrics", "-dev.ingestMetricsAddr", c.IngestMetrics},
		{"console", "-dev.consoleAddr", c.ConsoleAddr},
		{"signals metrics", "-dev.signalsMetricsAddr", c.SignalsMetrics},
		{"signals receiver", "-dev.signalsReceiverAddr", c.SignalsReceiver},
	}
}

func (c *devConfig) printWelcome(chNative, kafkaAddr, logDir, consoleLine string) {
	fmt.Fprintf(c.stdout, `
beacon dev stack is up (data in %s/, logs in %s/):
  collector   http://%s   POST /v1/events, GET /b.js, demo page http://%s/demo/
%s  metrics     http://%s/metrics (collector), http://%s/metrics (ingest)
  ClickHouse  http://127.0.0.1:%d (HTTP), %s (native), database beacon
  Kafka       %s, topics beacon.events and beacon.dlq

try:
  curl -s 'http://127.0.0.1:%d/?query=SELECT+type,count()+FROM+beacon.events+GROUP+BY+type'
  ./bin/beacon query -list
  ./bin/beacon query document-views -param tenant=demo -param content=doc-demo-playbook
  kcat -b %s -L
Ctrl-C stops everything.
`, c.DataDir, logDir, c.CollectorAddr, c.CollectorAddr, consoleLine, c.CollectorAddr, c.IngestMetrics,
		c.CHHTTPPort, chNative, kafkaAddr, c.CHHTTPPort, kafkaAddr)
}

// devPart is one child process of the dev stack.
type devPart struct {
	*chlocal.Child
	name, logPath string
	started       time.Time
}

func startPart(name, exe string, args []string, logPath string, stream bool, console io.Writer) (*devPart, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", logPath, err)
	}
	cmd := exec.Command(exe, args...)
	var out io.Writer = logf
	var pw *io.PipeWriter
	if stream {
		// The collector's and ingester's own lines are worth seeing; prefix them.
		var pr *io.PipeReader
		pr, pw = io.Pipe()
		out = io.MultiWriter(logf, pw)
		go prefixLines(pr, name, console)
	}
	cmd.Stdout, cmd.Stderr = out, out
	// chlocal.Child: a terminal's Ctrl-C reaches only dev, which stops the parts in order;
	// they stop by themselves if dev dies (chlocal.WatchParent in main).
	child, err := chlocal.StartChild(cmd, func() {
		logf.Close()
		if pw != nil {
			pw.Close()
		}
	})
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("cannot start %s: %w", name, err)
	}
	p := &devPart{Child: child, name: name, logPath: logPath, started: time.Now()}
	return p, nil
}

var consoleMu sync.Mutex

func prefixLines(r io.Reader, name string, w io.Writer) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		consoleMu.Lock()
		fmt.Fprintf(w, "%-9s | %s\n", name, sc.Text())
		consoleMu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

func (p *devPart) waitReady(ctx context.Context, ready func(context.Context) error) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("exited: %v", p.Err())
		case <-ctx.Done():
			return fmt.Errorf("%w (last check: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func (p *devPart) stop(timeout time.Duration, log io.Writer) {
	if err := p.Stop(timeout); err != nil {
		fmt.Fprintf(log, "dev: %s %v\n", p.name, err)
	}
}

func httpReady(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := (&http.Client{Timeout: time.Second}).Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return errors.New(resp.Status)
		}
		return nil
	}
}

func tcpReady(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		d := net.Dialer{Timeout: time.Second}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return conn.Close()
	}
}
