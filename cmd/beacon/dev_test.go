package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/ready"
	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/beaconprm/beacon/signals"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestDevStackEndToEnd runs `beacon dev` as a user would (on free ports), sends the
// documented example batch, expects its events queryable in ClickHouse (and the document
// viewer's finished row refreshed by the ingest), then stops the
// stack with SIGINT and expects it, and every part it started, gone within 10 s.
func TestDevStackEndToEnd(t *testing.T) {
	exe := testenv.BuildBeacon(t)
	dir := t.TempDir()
	chHTTP, chTCP, kafkaPort := testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)
	collector := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	ingestMetrics := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	consoleAddr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	signalsMetrics := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	receiver := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	cmd := exec.Command(exe, "dev",
		"-dev.dataDir="+filepath.Join(dir, "var"),
		"-dev.clickhouseHTTPPort="+strconv.Itoa(chHTTP), "-dev.clickhouseTCPPort="+strconv.Itoa(chTCP),
		"-dev.kafkaPort="+strconv.Itoa(kafkaPort), "-dev.partitions=2",
		"-dev.collectorAddr="+collector, "-dev.ingestMetricsAddr="+ingestMetrics, "-dev.consoleAddr="+consoleAddr,
		"-dev.signalsMetricsAddr="+signalsMetrics, "-dev.signalsReceiverAddr="+receiver, "-dev.signalsInterval=1s",
		"-dev.snippetDir="+filepath.Join(dir, "no-snippet"))
	stderr := &testenv.SyncBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("beacon dev stderr:\n%s", stderr.String())
		}
	})

	banner := awaitBanner(t, stdout, exited)

	batch, err := os.ReadFile("../../beacon/testdata/example-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+collector+"/v1/events", bytes.NewReader(batch))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Origin", "http://localhost:3000")
	// a browser's: Go's own user agent is flagged as a bot, and bots never reach the rollups
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST example batch: %s", resp.Status)
	}
	want := strconv.Itoa(strings.Count(string(batch), `"id"`))
	if got := awaitCH(chHTTP, "SELECT count() FROM beacon.events WHERE site_key = 'demo'", want); got != want {
		t.Fatalf("beacon.events holds %s demo events, want %s", got, want)
	}
	// The ingest then refreshes the document viewer's finished row, which document-views
	// reads: the batch's one page event of the pricing guide, 5400 ms.
	if got := awaitCH(chHTTP, "SELECT sum(total_dwell_ms) FROM beacon.doc_viewer_rows FINAL WHERE content_id = 'doc-pricing-2026'", "5400"); got != "5400" {
		t.Fatalf("doc_viewer_rows: dwell %q for the pricing guide, want 5400", got)
	}

	// The console runs as a part, on its own address; the banner's dev user signs in and
	// sees the demo tenant's document.
	var password string
	for _, l := range banner {
		if _, rest, ok := strings.Cut(l, "sign in as dev / "); ok && strings.Contains(l, consoleAddr) {
			password, _, _ = strings.Cut(rest, " ")
		}
	}
	if password == "" {
		t.Fatalf("no console line with the dev password in the banner:\n%s", strings.Join(banner, "\n"))
	}
	login, err := http.Post("http://"+consoleAddr+"/api/login", "application/json", strings.NewReader(`{"name":"dev","password":"`+password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	login.Body.Close()
	if login.StatusCode != http.StatusOK || len(login.Cookies()) != 1 {
		t.Fatalf("console sign-in as dev: %s", login.Status)
	}
	creq, _ := http.NewRequest(http.MethodGet, "http://"+consoleAddr+"/api/t/demo/contents?kind=document", nil)
	creq.AddCookie(login.Cookies()[0])
	cresp, err := http.DefaultClient.Do(creq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(cresp.Body)
	cresp.Body.Close()
	if cresp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"content_id":"doc-pricing-2026"`) {
		t.Fatalf("console documents of the demo tenant: %s %s", cresp.Status, body)
	}

	// beacon signals runs as a part with the default rules file, which the banner names;
	// its signals go to the dev receiver, which prints them. A demo partner active every
	// day of the 8 weeks before the last 7 days, and not since, is silent: one signal.
	rulesPath := filepath.Join(dir, "var", "signals.json")
	var signalsLine string
	for _, l := range banner {
		if strings.Contains(l, "signals") && strings.Contains(l, rulesPath) {
			signalsLine = l
		}
	}
	if signalsLine == "" || !strings.Contains(signalsLine, "http://"+receiver+"/signals") || !strings.Contains(signalsLine, signalsMetrics) {
		t.Fatalf("no signals line naming %s, the receiver and the metrics in the banner:\n%s", rulesPath, strings.Join(banner, "\n"))
	}
	rules, err := signals.LoadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.Receivers) != 1 || rules.Receivers[0].URL != "http://"+receiver+"/signals" {
		t.Fatalf("default rules file: receivers %+v, want only the dev receiver", rules.Receivers)
	}
	mresp, err := http.Get("http://" + signalsMetrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mbody, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !strings.Contains(string(mbody), "signals_") {
		t.Fatalf("beacon signals' /metrics has no signals_ metric:\n%.2000s", mbody)
	}
	insert := "INSERT INTO beacon.events (event_id, tenant, site_key, event_time, type, visitor_id, session_id, partner_id, partner_user_id, content_id, content_type) " +
		"SELECT generateUUIDv4(), 'demo', 'demo', now64(3) - toIntervalDay(8 + number), 'view', 'v-quiet', concat('s', toString(number)), 'p-quiet', 'u-quiet', 'doc-quiet', 'document' FROM numbers(56)"
	ireq, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:"+strconv.Itoa(chHTTP)+"/", strings.NewReader(insert))
	iresp, err := http.DefaultClient.Do(ireq)
	if err != nil {
		t.Fatal(err)
	}
	ibody, _ := io.ReadAll(iresp.Body)
	iresp.Body.Close()
	if iresp.StatusCode != http.StatusOK {
		t.Fatalf("insert the quiet partner's events: %s %s", iresp.Status, ibody)
	}
	received := func() int {
		n := 0
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.HasPrefix(l, "signal ") && strings.Contains(l, "rule demo-partners-silent, silent partner:p-quiet") {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(time.Minute); received() == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond) // polling interval of a condition with a deadline
	}
	if received() != 1 {
		t.Fatalf("the dev receiver printed %d silent signals for p-quiet, want 1", received())
	}
	// three more evaluations: still one (the state remembers it was sent)
	time.Sleep(3 * time.Second)
	if n := received(); n != 1 {
		t.Fatalf("the dev receiver printed %d silent signals for p-quiet after more evaluations, want 1", n)
	}

	children := ready.Children(cmd.Process.Pid)
	if len(children) < 6 {
		t.Fatalf("dev has %d child processes (%v), want clickhouse, kafka, ingest, collector, console and signals", len(children), children)
	}
	start := time.Now()
	stopAndWait(t, cmd.Process, exited, syscall.SIGINT, 10*time.Second, "beacon dev")
	t.Logf("stack stopped %s after SIGINT", time.Since(start).Round(10*time.Millisecond))
	for _, pid := range children {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("child pid %d still running after dev exited", pid)
		}
	}
}

// awaitCH runs sql on ClickHouse's HTTP port until it answers want or 30 s pass, and
// returns the last answer.
func awaitCH(port int, sql, want string) string {
	q := "http://127.0.0.1:" + strconv.Itoa(port) + "/?query=" + url.QueryEscape(sql)
	got := ""
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if r, err := http.Get(q); err == nil {
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if got = strings.TrimSpace(string(b)); got == want {
				break
			}
		}
		time.Sleep(100 * time.Millisecond) // polling interval of a condition with a deadline
	}
	return got
}

// TestDevRefusesBusyPorts holds one of the stack's ports and expects `beacon dev` to fail
// before starting anything, naming the port, its flag and this test's process as the holder.
func TestDevRefusesBusyPorts(t *testing.T) {
	exe := testenv.BuildBeacon(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().(*net.TCPAddr).Port
	dir := filepath.Join(t.TempDir(), "var")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "dev", "-dev.dataDir="+dir,
		"-dev.clickhouseHTTPPort="+strconv.Itoa(testenv.FreePort(t)), "-dev.clickhouseTCPPort="+strconv.Itoa(testenv.FreePort(t)),
		"-dev.kafkaPort="+strconv.Itoa(busy),
		"-dev.collectorAddr=127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)), "-dev.ingestMetricsAddr=127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)),
		"-dev.consoleAddr=127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)),
		"-dev.signalsMetricsAddr=127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)), "-dev.signalsReceiverAddr=127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)))
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("beacon dev with a busy Kafka port: err=%v ctx=%v, want a prompt failure; output:\n%s", err, ctx.Err(), out)
	}
	want := fmt.Sprintf("Kafka port 127.0.0.1:%d (-dev.kafkaPort) is in use by pid %d (", busy, os.Getpid())
	if !strings.Contains(string(out), want) {
		t.Fatalf("output does not name the port, flag and holder %q:\n%s", want, out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("beacon dev created %s before failing (err=%v): it must check ports before starting anything", dir, err)
	}
}

// awaitBanner reads beacon dev's output until the banner's last line and returns the banner;
// the rest of the output is discarded. It fails the test if dev exits first or is not up
// within 3 minutes.
func awaitBanner(t *testing.T, stdout io.Reader, exited <-chan error) []string {
	t.Helper()
	up := make(chan struct{})
	var banner []string // read only after up
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			banner = append(banner, sc.Text())
			if strings.Contains(sc.Text(), "Ctrl-C stops everything") {
				close(up)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case <-up:
	case err := <-exited:
		t.Fatalf("beacon dev exited before the stack was up: %v", err)
	case <-time.After(3 * time.Minute):
		t.Fatal("beacon dev: stack not up within 3 minutes")
	}
	return banner
}
