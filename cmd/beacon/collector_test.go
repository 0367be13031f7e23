package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/testenv"
)

// `beacon collector` reloads its site config on SIGHUP: a site added to the file is served
// after the signal, and a broken file keeps the old config (the process keeps running).
func TestCollectorReloadsSitesOnSIGHUP(t *testing.T) {
	exe := testenv.BuildBeacon(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "demo.secret"), []byte("test-secret-0123456789abcdef0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	sites := filepath.Join(dir, "sites.json")
	writeSites := func(keys ...string) {
		t.Helper()
		var list []string
		for _, k := range keys {
			list = append(list, `{"site_key":"`+k+`","tenant":"demo","secret_file":"demo.secret"}`)
		}
		if err := os.WriteFile(sites, []byte(`{"sites":[`+strings.Join(list, ",")+`]}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeSites("demo")
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cmd := exec.Command(exe, "collector", "-collector.listenAddr="+addr, "-collector.sites="+sites,
		"-collector.spoolDir="+filepath.Join(dir, "spool"), "-collector.snippetDir="+dir,
		fmt.Sprintf("-collector.brokers=127.0.0.1:%d", testenv.FreePort(t)))
	var logs testenv.SyncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("collector log:\n%s", logs.String())
		}
	})
	post := func(site string) int {
		body := `{"v":1,"site":"` + site + `","sent_at":1795420800500,"visitor_id":"v1","session_id":"s1","events":[{"type":"scroll","ts":1795420800000,"depth":10}]}`
		resp, err := http.Post("http://"+addr+"/v1/events", "text/plain", strings.NewReader(body))
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// await polls (with a deadline) until post(site) answers want.
	await := func(site string, want int) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); post(site) != want; {
			if time.Now().After(deadline) {
				t.Fatalf("site %s: never answered %d", site, want)
			}
			time.Sleep(20 * time.Millisecond) // polling interval of a condition with a deadline
		}
	}
	await("demo", 204)
	if code := post("added"); code != 400 {
		t.Fatalf("unknown site answered %d", code)
	}
	writeSites("demo", "added")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	await("added", 204)

	if err := os.WriteFile(sites, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(logs.String(), "site config reload failed"); {
		if time.Now().After(deadline) {
			t.Fatal("the broken config was not reported")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := post("added"); code != 204 {
		t.Fatalf("after a broken reload the old config must stay; site added answered %d", code)
	}
}
