package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"github.com/beaconprm/beacon/bench/internal/load"
	"github.com/beaconprm/beacon/bench/internal/report"
	"github.com/beaconprm/beacon/bench/internal/stack"
)

// meanBatch estimates the mix's mean events per request.
func meanBatch(m *load.Mix) float64 {
	g := m.NewGen(1 << 20)
	var n int
	var buf []byte
	const k = 5000
	for i := 0; i < k; i++ {
		b := g.Next(buf, time.Now())
		buf, n = b.Body, n+b.Events
	}
	return float64(n) / k
}

type probe struct {
	id       string
	accepted time.Time // 2xx received by the client
	seen     time.Time // first poll that found the row
}

// runFreshness is scenario 4: the whole pipeline (collector, Kafka, ingest, ClickHouse)
// under a sustained load, with a probe event every 100 ms whose time from the collector's
// 2xx to the first poll (every 50 ms) that finds it in ClickHouse is its freshness.
func runFreshness(ctx context.Context, o *Options, r *report.Report) error {
	s, err := newStack(o)
	if err != nil {
		return err
	}
	defer s.Close()
	ch, err := s.StartClickHouse()
	if err != nil {
		return err
	}
	const db = "bench"
	if err := s.Migrate(ch, db); err != nil {
		return err
	}
	brokers, _, err := s.StartKafka(6, "-kafka.syncWrites=false")
	if err != nil {
		return err
	}
	if _, err := s.StartIngest(brokers, ch, db, "bench"); err != nil {
		return err
	}
	sitesPath, sites, err := s.WriteSites()
	if err != nil {
		return err
	}
	coll, _, err := s.StartCollector(brokers, sitesPath)
	if err != nil {
		return err
	}
	mix, err := load.NewMix(load.MixConfig{}, sites)
	if err != nil {
		return err
	}
	client := &fasthttp.HostClient{Addr: coll, MaxConns: 4}
	var (
		mu      sync.Mutex
		pending = map[string]*probe{}
		probes  []*probe
		start   time.Time
	)
	send := func() error {
		id := uuid.NewString()
		now := time.Now().UnixMilli()
		body := `{"v":1,"site":"bench","sent_at":` + strconv.FormatInt(now, 10) + `,"visitor_id":"probe","session_id":"probe","events":[{"id":"` +
			id + `","type":"custom","ts":` + strconv.FormatInt(now, 10) + `,"name":"probe"}]}`
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.Header.SetMethod("POST")
		req.SetRequestURI("http://" + coll + "/v1/events")
		req.Header.SetContentType("text/plain")
		req.Header.SetUserAgent("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 bench-probe")
		req.SetBodyString(body)
		if err := client.DoTimeout(req, resp, 10*time.Second); err != nil {
			return err
		}
		if resp.StatusCode() != 204 {
			return fmt.Errorf("probe: status %d: %s", resp.StatusCode(), resp.Body())
		}
		p := &probe{id: id, accepted: time.Now()}
		mu.Lock()
		pending[id] = p
		probes = append(probes, p)
		mu.Unlock()
		return nil
	}
	poll := func() error {
		mu.Lock()
		ids := make([]string, 0, len(pending))
		for id := range pending {
			ids = append(ids, "'"+id+"'")
		}
		mu.Unlock()
		if len(ids) == 0 {
			return nil
		}
		out, err := ch.Query(ctx, "SELECT toString(event_id) FROM "+db+".events WHERE tenant = 'bench' AND content_id = '' AND type = 'custom' AND event_id IN ("+strings.Join(ids, ",")+")")
		if err != nil {
			return err
		}
		now := time.Now()
		mu.Lock()
		for _, id := range strings.Fields(out) {
			if p := pending[id]; p != nil {
				p.seen = now
				delete(pending, id)
			}
		}
		mu.Unlock()
		return nil
	}
	pollCtx, stopPoll := context.WithCancel(ctx)
	pollErr := make(chan error, 1)
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-pollCtx.Done():
				pollErr <- nil
				return
			case <-t.C:
				if err := poll(); err != nil {
					pollErr <- err
					return
				}
			}
		}
	}()
	defer stopPoll()
	// Warm-up: the ingester joins its group; wait for a first probe to arrive.
	if err := send(); err != nil {
		return err
	}
	if err := stack.WaitFor(nil, 2*time.Minute, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(pending) > 0 {
			return fmt.Errorf("the warm-up probe is not in ClickHouse yet")
		}
		return nil
	}); err != nil {
		return err
	}
	mu.Lock()
	probes = probes[:0]
	mu.Unlock()

	mean := meanBatch(mix)
	reqRate := o.Rate / mean
	start = time.Now()
	probeCtx, stopProbes := context.WithCancel(ctx)
	probeErr := make(chan error, 1)
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-probeCtx.Done():
				probeErr <- nil
				return
			case <-t.C:
				if err := send(); err != nil {
					probeErr <- err
					return
				}
			}
		}
	}()
	res, err := load.Run(ctx, load.Config{Addr: coll, Rate: reqRate, Duration: o.Duration, Conns: 512, Mix: mix, Progress: o.Log, Label: "sustained load"})
	stopProbes()
	if err2 := <-probeErr; err == nil {
		err = err2
	}
	if err != nil {
		return err
	}
	r.Raw = append(r.Raw, res.String())
	// Every acknowledged probe must arrive; give the tail 30 s.
	_ = stack.WaitFor(nil, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(pending) > 0 {
			return fmt.Errorf("%d probes not in ClickHouse", len(pending))
		}
		return nil
	})
	stopPoll()
	if err := <-pollErr; err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	var fr []time.Duration
	var xs, ys []float64
	for _, p := range probes {
		if p.seen.IsZero() {
			continue
		}
		d := p.seen.Sub(p.accepted)
		fr = append(fr, d)
		xs = append(xs, p.accepted.Sub(start).Seconds())
		ys = append(ys, float64(d)/1e6)
	}
	slices.Sort(fr)
	missing := len(pending)
	p99 := load.Quantile(fr, 0.99)
	r.Rows = append(r.Rows,
		report.Row{Metric: "sustained load offered / accepted (events/s)", Value: report.Num(o.Rate) + " / " + report.Num(res.EventsPerSec())},
		report.Row{Metric: fmt.Sprintf("freshness p50 (%d probes)", len(fr)), Value: report.Ms(load.Quantile(fr, 0.5))},
		report.Row{Metric: "freshness p99", Value: report.Ms(p99), Target: "<= 1 s", Verdict: report.Verdict(p99 <= time.Second && len(fr) > 0)},
		report.Row{Metric: "freshness max", Value: report.Ms(load.Quantile(fr, 1))},
		report.Row{Metric: "acknowledged probes never seen in ClickHouse", Value: strconv.Itoa(missing), Target: "0", Verdict: report.Verdict(missing == 0)},
		report.Row{Metric: "load requests failed or non-2xx", Value: report.Num(float64(res.Errors())), Target: "0", Verdict: report.Verdict(res.Errors() == 0)},
	)
	abs, rel := o.plotPath("freshness.svg")
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	pl := &report.Plot{Title: fmt.Sprintf("Freshness over time at %s events/s (accepted -> queryable)", report.Num(o.Rate)), XLabel: "seconds into the run",
		YLabel: "freshness (ms)", Series: []report.Series{{Name: "probe freshness", X: xs, Y: ys}}}
	if err := pl.WriteSVG(abs); err != nil {
		return err
	}
	r.Plots = append(r.Plots, rel)
	r.Notes = append(r.Notes, fmt.Sprintf("Method: the whole pipeline as separate processes on free ports: `beacon clickhouse`, `beacon migrate up`, "+
		"`beacon kafka` (6 partitions, `-kafka.syncWrites=false`), `beacon ingest` and `beacon collector`, default flags (so "+
		"`-ingest.flushInterval=1s` bounds how long an event waits in an open batch). The load generator offers %s events/s "+
		"(%.0f requests/s of the realistic mix, mean %.1f events per batch, open loop, 512 connections) for %s; every 100 ms a probe batch "+
		"with one known event id is sent, and its freshness is the time from the collector's 2xx to the first poll of ClickHouse "+
		"(every 50 ms, `event_id IN (...)`) that returns it, so figures include up to about 50 ms of polling granularity.",
		report.Num(o.Rate), reqRate, mean, o.Duration))
	return nil
}
