package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// watch runs until ctx ends (nil) or a part other than the ClickHouse engine exits (an
// error naming it). The engine, which aborts now and then (the chdb library, on some
// client connection resets), is restarted on its data with bounded backoff, counted and
// logged with its last log lines; the ingest retries its inserts meanwhile and the
// collector does not depend on it, so the stack stays up. parts is updated in place so
// that the caller stops the running engine.
func (c *devConfig) watch(ctx context.Context, parts []*devPart, restartEngine func(context.Context) (*devPart, error)) error {
	exited := make(chan *devPart)
	quit := make(chan struct{})
	defer close(quit)
	notify := func(p *devPart) {
		go func() {
			select {
			case <-p.Done():
				select {
				case exited <- p:
				case <-quit:
				}
			case <-quit:
			}
		}()
	}
	for _, p := range parts {
		notify(p)
	}
	var restarts engineRestarts
	for {
		var p *devPart
		select {
		case <-ctx.Done():
			fmt.Fprintln(c.stderr, "\ndev: stopping (console, collector, ingest, kafka, clickhouse) ...")
			return nil
		case p = <-exited:
		}
		if p.name != "clickhouse" {
			return fmt.Errorf("%s exited unexpectedly: %v (log: %s)", p.name, p.Err(), p.logPath)
		}
		up := time.Since(p.started).Round(time.Second)
		serverLog := filepath.Join(c.DataDir, "clickhouse", "clickhouse-server.log")
		fmt.Fprintf(c.stderr, "dev: clickhouse exited unexpectedly after %s: %v; last lines of %s and %s:\n%s%s",
			up, p.Err(), p.logPath, serverLog,
			lastLines(p.logPath, engineLogLines, "clickhouse | "), lastLines(serverLog, engineLogLines, "clickhouse | "))
		wait, err := restarts.next(up)
		if err != nil {
			return fmt.Errorf("%w (log: %s)", err, p.logPath)
		}
		fmt.Fprintf(c.stderr, "dev: restarting clickhouse on its data in %s (restart %d)\n", wait, restarts.n)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			fmt.Fprintln(c.stderr, "\ndev: stopping (console, collector, ingest, kafka) ...")
			return nil
		case <-t.C:
		}
		np, err := restartEngine(ctx)
		if np != nil {
			for i := range parts {
				if parts[i] == p {
					parts[i] = np
				}
			}
			notify(np)
		}
		switch {
		case ctx.Err() != nil:
			continue // the next round stops the stack
		case err != nil && (np == nil || !np.Exited()):
			return fmt.Errorf("clickhouse did not come back after restart %d: %w", restarts.n, err)
		case err != nil:
			continue // it died again while starting: notify reports it, backoff grows
		}
		fmt.Fprintf(c.stderr, "dev: clickhouse ready again (restart %d)\n", restarts.n)
	}
}

// lastLines returns the last n lines of the file at path, each prefixed; "" when it
// cannot be read.
func lastLines(path string, n int, prefix string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const window = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > window {
		_, _ = f.Seek(-window, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	lines := strings.Split(string(bytes.TrimRight(b, "\n")), "\n")
	lines = lines[max(0, len(lines)-n):]
	var sb strings.Builder
	for _, l := range lines {
		if l != "" {
			sb.WriteString(prefix + l + "\n")
		}
	}
	return sb.String()
}
