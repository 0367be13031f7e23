package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/beaconprm/beacon/signals"
)

// devSignalsFile is the rules file `beacon dev` writes when the data directory has none:
// the demo tenant's partners going silent and coming back, delivered to the dev stack's
// own receiver, which only prints them. Nothing leaves the machine until the file names
// a real webhook (signals/README.md, "The config file").
func devSignalsFile(receiverAddr string) string {
	return fmt.Sprintf(`{
  "receivers": [
    {"name": "dev-log", "url": "http://%s/signals", "format": "generic", "timeout": "5s"}
  ],
  "rules": [
    {"name": "demo-partners-silent", "kind": "silent", "tenant": %q, "level": "partner",
     "days": 7, "baselineWeeks": 8, "receivers": ["dev-log"]},
    {"name": "demo-partners-back", "kind": "back", "after": "demo-partners-silent", "receivers": ["dev-log"]}
  ]
}
`, receiverAddr, devConsoleTenant)
}

// startDevSignals starts `beacon signals` as a part of the dev stack, with the rules file
// in the data directory (written with devSignalsFile when absent, never overwritten) and
// the receiver that prints what it gets; it returns the banner lines and a stop for the
// receiver.
func (c *devConfig) startDevSignals(start func(name string, stream bool, ready func(context.Context) error, args ...string) error, chNative string) (string, func(), error) {
	path := filepath.Join(c.DataDir, "signals.json")
	wrote := false
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(path, []byte(devSignalsFile(c.SignalsReceiver)), 0o600); err != nil {
			return "", nil, fmt.Errorf("cannot write the dev rules file for beacon signals: %w", err)
		}
		wrote = true
	}
	file, err := signals.LoadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("beacon dev: %w (delete it to get the default one)", err)
	}
	ln, err := net.Listen("tcp", c.SignalsReceiver)
	if err != nil {
		return "", nil, fmt.Errorf("cannot listen on -dev.signalsReceiverAddr=%s: %w", c.SignalsReceiver, err)
	}
	srv := &http.Server{Handler: devReceiver(c.stderr), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() { _ = srv.Close() }
	if err := start("signals", true, tcpReady(c.SignalsMetrics), "signals",
		"-clickhouse.addr="+chNative, "-signals.config="+path,
		"-signals.stateFile="+filepath.Join(c.DataDir, "signals-state.json"),
		"-signals.metricsAddr="+c.SignalsMetrics, "-signals.interval="+c.SignalsInterval.String()); err != nil {
		stop()
		return "", nil, err
	}
	how := "edit it to add webhooks"
	if wrote {
		how = "written now; edit it to add webhooks"
	}
	line := fmt.Sprintf("  signals     %s (%d rules, %d receivers; %s), every %s; the dev receiver http://%s/signals prints what it gets; metrics http://%s/metrics\n",
		path, len(file.Rules), len(file.Receivers), how, c.SignalsInterval, c.SignalsReceiver, c.SignalsMetrics)
	return line, stop, nil
}

// devReceiver answers every POST with 204 and prints the signal on the dev console, one
// line each: the generic body's rule, kind, subject and text; a Slack body's text.
func devReceiver(console io.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		var s struct {
			Rule    string `json:"rule"`
			Kind    string `json:"kind"`
			Subject string `json:"subject"`
			Text    string `json:"text"`
		}
		_ = json.Unmarshal(b, &s)
		consoleMu.Lock()
		if s.Rule != "" {
			fmt.Fprintf(console, "%-9s | received %s: rule %s, %s %s: %s\n", "signal", r.Header.Get("Idempotency-Key"), s.Rule, s.Kind, s.Subject, s.Text)
		} else {
			fmt.Fprintf(console, "%-9s | received %s: %s\n", "signal", r.Header.Get("Idempotency-Key"), s.Text)
		}
		consoleMu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
}
