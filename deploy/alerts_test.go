package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/kafkalocal"
	"github.com/beaconprm/beacon/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestAlertsOnARealStack runs a real Prometheus against a real collector and ingest with the
// shipped alert rules, time-compressed (a minute of the rules is fiveseconds here). It stops
// the broker under traffic and expects the Kafka and spool alerts to fire and then resolve
// once the broker is back; then it kills the ingest and expects BeaconIngestDown.
func TestAlertsOnARealStack(t *testing.T) {
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus not found: install Debian's prometheus package (scripts/deps.sh does so for make test)")
	}
	bin := testenv.BuildBeacon(t)
	dir := t.TempDir()
	ch := testenv.NewClickHouse(t)
	kafka := testenv.NewKafkaServer(t, kafkalocal.Topic{Name: "beacon.events", Partitions: 2}, kafkalocal.Topic{Name: "beacon.dlq", Partitions: 1})

	run(t, bin, "migrate", "-clickhouse.addr", ch.NativeAddr, "-clickhouse.database", ch.Database, "up")
	collector := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	startProc(t, dir, "collector", bin, "collector", "-collector.listenAddr", collector, "-collector.brokers", kafka.Addr,
		"-collector.sites", filepath.Join(dir, "sites.json"), "-collector.demoSites", "-collector.spoolDir", filepath.Join(dir, "spool"),
		// A small spool, so that a stopped broker fills it within seconds.
		"-collector.spoolMaxSize", "256KiB", "-collector.spoolSegmentSize", "32KiB")
	waitHTTP(t, "http://"+collector+"/healthz")
	ingestMetrics := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	ingest := startProc(t, dir, "ingest", bin, "ingest", "-ingest.brokers", kafka.Addr, "-ingest.clickhouse.addr", ch.NativeAddr,
		"-ingest.clickhouse.database", ch.Database, "-ingest.metricsAddr", ingestMetrics)
	waitHTTP(t, "http://"+ingestMetrics+"/metrics")

	promAddr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	writeFile(t, filepath.Join(dir, "rules.yml"), compressRules(t, readFile(t, "prometheus/beacon.rules.yml")))
	writeFile(t, filepath.Join(dir, "prometheus.yml"), fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [rules.yml]
scrape_configs:
  - job_name: beacon-collector
    static_configs: [{targets: [%q]}]
  - job_name: beacon-ingest
    static_configs: [{targets: [%q]}]
`, collector, ingestMetrics))
	startProc(t, dir, "prometheus", prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address="+promAddr)
	waitHTTP(t, "http://"+promAddr+"/-/ready")
	alerts := func() []string { return firing(t, "http://"+promAddr) }

	stopTraffic := traffic(t, "http://"+collector+"/v1/events")
	defer stopTraffic()
	// Healthy: nothing fires once both targets have been scraped a while.
	awaitAlerts(t, alerts, "a healthy stack", func(a []string) bool { return len(a) == 0 && upSince(t, "http://"+promAddr) })
	// The dashboards' Prometheus panels, on the same real stack.
	checkPromPanels(t, "http://"+promAddr)

	kafka.Stop(t)
	awaitAlerts(t, alerts, "the broker stopped", func(a []string) bool {
		return slices.Contains(a, "BeaconKafkaUnavailable") && slices.Contains(a, "BeaconSpoolAlmostFull")
	})
	kafka.Start(t)
	awaitAlerts(t, alerts, "the broker back", func(a []string) bool {
		return !slices.Contains(a, "BeaconKafkaUnavailable") && !slices.Contains(a, "BeaconSpoolAlmostFull")
	})

	if err := ingest.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	awaitAlerts(t, alerts, "the ingest killed", func(a []string) bool { return slices.Contains(a, "BeaconIngestDown") })
}

// compressRules makes every duration in the rules' ranges and for clauses twelve times
// shorter (a minute becomes five seconds), so that the test sees alerts fire in seconds.
func compressRules(t *testing.T, rules string) string {
	t.Helper()
	minutes := regexp.MustCompile(`(\[|:|for: )(\d+)m\b`)
	out := minutes.ReplaceAllStringFunc(rules, func(m string) string {
		sub := minutes.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		return sub[1] + strconv.Itoa(5*n) + "s"
	})
	if out == rules || strings.Contains(out, "m]") {
		t.Fatalf("compressRules left minute durations in the rules:\n%s", out)
	}
	return out
}

// traffic posts the documented example batch to the collector ten times a second until stopped.
func traffic(t *testing.T, url string) (stop func()) {
	batch := readFile(t, "../beacon/testdata/example-batch.json")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		client := &http.Client{Timeout: 2 * time.Second}
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(batch))
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set("Origin", "http://localhost:3000")
			req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// firing returns the names of the alerts Prometheus reports as firing.
func firing(t *testing.T, prom string) []string {
	t.Helper()
	var r struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	getJSON(t, prom+"/api/v1/alerts", &r)
	var names []string
	for _, a := range r.Data.Alerts {
		if a.State == "firing" {
			names = append(names, a.Labels["alertname"])
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// upSince reports whether both beacon targets have been up for at least 10 s.
func upSince(t *testing.T, prom string) bool {
	t.Helper()
	var r struct {
		Data struct {
			Result []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	q := `count(count_over_time(up{job=~"beacon-.*"}[10s]) >= 8 and min_over_time(up{job=~"beacon-.*"}[10s]) == 1)`
	getJSON(t, prom+"/api/v1/query?query="+url.QueryEscape(q), &r)
	return len(r.Data.Result) == 1 && fmt.Sprint(r.Data.Result[0].Value[1]) == "2"
}

// getJSONAny decodes the answer whatever its status (Prometheus answers 400 with a JSON
// error) and returns the status.
func getJSONAny(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %s: %v", u, resp.Status, err)
	}
	return resp.StatusCode
}

// getJSON decodes a 200 answer.
func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	if status := getJSONAny(t, u, v); status != http.StatusOK {
		t.Fatalf("GET %s: %d", u, status)
	}
}

// awaitAlerts polls the firing alerts until cond holds, for at most two minutes.
func awaitAlerts(t *testing.T, alerts func() []string, what string, cond func([]string) bool) {
	t.Helper()
	start := time.Now()
	var last []string
	for time.Since(start) < 2*time.Minute {
		if last = alerts(); cond(last) {
			t.Logf("%s: firing %v after %s", what, last, time.Since(start).Round(time.Second))
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: firing %v after two minutes, not what the rules promise", what, last)
}

// startProc starts a child process with its output in dir/name.log, stopped at cleanup
// (the log is shown when the test failed).
func startProc(t *testing.T, dir, name, bin string, args ...string) *exec.Cmd {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log:\n%s", name, tail(b, 3000))
		}
	})
	return cmd
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func run(t *testing.T, bin string, args ...string) {
	t.Helper()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("beacon %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// waitHTTP polls url until it answers 200, for at most a minute.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within a minute (last: %v)", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSpace(b)) + "\n"
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
