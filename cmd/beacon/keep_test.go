package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/ready"
	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/beaconprm/beacon/schema"
)

// beacon keep refuses bad flags; -keep.once keeps every form, and the per-entity ones, for
// every tenant with events and exits; the loop (no per-entity answers) serves /metrics with its rounds and the time of the last full one.
func TestKeep(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"keep", "-keep.every=0"}, "-keep.every must be positive"},
		{[]string{"keep", "-keep.eachBudget=-1s"}, "-keep.eachBudget must be 0 or positive"},
		{[]string{"keep", "-keep.eachParallel=0"}, "-keep.eachParallel must be 1 or more"},
		{[]string{"keep", "extra"}, "takes no arguments"},
	} {
		var out, errOut bytes.Buffer
		if err := NewMain(&out, &errOut).Run(context.Background(), c.args); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("beacon %s: %v, want an error with %q", strings.Join(c.args, " "), err, c.want)
		}
	}

	ch := testenv.NewClickHouse(t)
	if _, err := schema.Migrate(context.Background(), ch.Conn(t), schema.Options{Database: ch.Database}); err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{"acme", "zeta"} {
		ch.Exec(t, fmt.Sprintf("INSERT INTO %s.events (tenant, event_id, site_key, event_time, type, visitor_id, session_id, content_id, content_type) "+
			"VALUES ('%s', generateUUIDv4(), 's', now64(3), 'view', 'v1', 's1', 'doc1', 'document')", ch.Database, tenant))
	}
	chArgs := []string{"-clickhouse.addr", ch.NativeAddr, "-clickhouse.database", ch.Database}
	var out, errOut bytes.Buffer
	if err := NewMain(&out, &errOut).Run(context.Background(), append([]string{"keep", "-keep.once"}, chArgs...)); err != nil {
		t.Fatalf("beacon keep -keep.once: %v\n%s", err, errOut.String())
	}
	// per tenant, the per-entity forms of its one document (document-views, over all time and
	// the periods, and content-reach)
	docForms := 0
	for _, f := range schema.KeptEachForms {
		if f.List == "document" {
			docForms++
		}
	}
	want := fmt.Sprintf("beacon keep: kept %d answers (%d per entity, 0 left for want of time;", 2*len(schema.KeptForms)+2*docForms, 2*docForms)
	if !strings.Contains(errOut.String(), want) || !strings.Contains(errOut.String(), `kept partner-activity (partner=&to=`) ||
		!strings.Contains(errOut.String(), `kept document-views for 1 of 1 document ids (content) for tenant "zeta"`) {
		t.Fatalf("beacon keep -keep.once said\n%s\nwant %q", errOut.String(), want)
	}

	port, err := ready.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- NewMain(io.Discard, io.Discard).Run(ctx, append([]string{"keep", "-keep.tenants=acme", "-keep.eachBudget=0", "-keep.metricsAddr=" + addr}, chArgs...))
	}()
	var metrics string
	err = ready.Wait(time.Minute, func() error {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if metrics = string(b); !strings.Contains(metrics, `keep_rounds_total{result="ok"} 1`) {
			return fmt.Errorf("no full round yet")
		}
		return nil
	}, nil)
	cancel()
	if err != nil {
		t.Fatalf("beacon keep's metrics: %v\n%s", err, metrics)
	}
	if err := <-done; err != nil {
		t.Fatalf("beacon keep stopped with %v", err)
	}
	for _, m := range []string{fmt.Sprintf("keep_answers_total %d", len(schema.KeptForms)), `keep_rounds_total{result="error"} 0`, "keep_last_success_timestamp_seconds 1.", "keep_round_duration_seconds", "keep_each_left 0"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("metrics lack %q:\n%s", m, metrics)
		}
	}
}
