// Package load is the benchmarks' load generator: a fasthttp client that posts realistic
// beacon batches (Mix: wire format v1, every event type, Zipf-skewed visitors and contents,
// partner tokens, bots) to a collector or a ceiling, at a fixed rate (open loop, latency
// from each request's schedule) or as fast as it is answered (closed loop), and measures
// requests, statuses, accepted events and latency (Run). bench/README.md describes the mix.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Config is one load run. Zero values take the defaults in the comments.
type Config struct {
	Addr     string        // host:port of the server under test (required)
	Path     string        // default /v1/events
	Rate     float64       // requests/s offered (open loop); 0 = max rate (closed loop)
	Duration time.Duration // default 10s
	Conns    int           // connections = workers; default 128
	Timeout  time.Duration // per request; default 5s
	Mix      *Mix          // required
	Progress io.Writer     // a progress line every second; nil = quiet
	Label    string        // printed on the progress line
	// Events, when positive, ends the run once this many events were accepted (2xx).
	Events int64
}

// Result is what a run measured. Latency in fixed-rate mode is from the request's
// scheduled send time, so a server that stalls is not flattered by the client waiting
// (coordinated omission).
type Result struct {
	Label     string
	Rate      float64 // offered requests/s; 0 = max rate
	Elapsed   time.Duration
	Requests  int64           // completed requests, any status
	OK        int64           // 2xx
	Status    map[int]int64   // every status seen
	NetErrors int64           // timeouts, refused and reset connections
	Events    int64           // events in 2xx requests
	Lat       []time.Duration // sorted latencies of all completed requests
	OKLat     []time.Duration // sorted latencies of the 2xx requests (accepted)
	Late      int64           // fixed rate: requests sent more than 1s after their schedule
	Start     time.Time       // when the run began
	Timeline  []Second        // what completed in each second of the run, by when it completed
}

// Second counts what completed in one second of a run.
type Second struct {
	OK, Shed, Other, NetErrors int64 // 2xx, 503, any other status, network errors
}

// OKPct is the q-quantile of the accepted (2xx) requests' latencies.
func (r *Result) OKPct(q float64) time.Duration { return Quantile(r.OKLat, q) }

// ReqPerSec is completed requests per second; OKPerSec counts only 2xx.
func (r *Result) ReqPerSec() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }
func (r *Result) OKPerSec() float64  { return float64(r.OK) / r.Elapsed.Seconds() }

// EventsPerSec is accepted events per second.
func (r *Result) EventsPerSec() float64 { return float64(r.Events) / r.Elapsed.Seconds() }

// Pct is the q-quantile (0..1) of the latencies.
func (r *Result) Pct(q float64) time.Duration { return Quantile(r.Lat, q) }

// Errors is every request that did not get a 2xx.
func (r *Result) Errors() int64 { return r.NetErrors + r.Requests - r.OK }

func (r *Result) String() string {
	return fmt.Sprintf("%s: %.0f req/s (%.0f ok/s), %.0f events/s, p50 %s p90 %s p99 %s max %s, errors %d %v",
		r.Label, r.ReqPerSec(), r.OKPerSec(), r.EventsPerSec(), ms(r.Pct(0.5)), ms(r.Pct(0.9)), ms(r.Pct(0.99)),
		ms(r.Pct(1)), r.Errors(), r.Status)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

// Quantile returns the q-quantile of sorted (nearest rank); 0 when empty.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

type workerStats struct {
	lat, okLat []time.Duration
	timeline   []Second
	status     map[int]int64
	netErrors  int64
	events     int64
	ok         int64
	late       int64
}

// Run runs one load against cfg.Addr and returns what it measured.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Addr == "" || cfg.Mix == nil {
		return nil, errors.New("bench: load needs an address and a mix")
	}
	if cfg.Path == "" {
		cfg.Path = "/v1/events"
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.Conns <= 0 {
		cfg.Conns = 128
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	client := &fasthttp.HostClient{Addr: cfg.Addr, MaxConns: cfg.Conns, ReadTimeout: cfg.Timeout, WriteTimeout: cfg.Timeout,
		MaxIdemponentCallAttempts: 1, MaxConnWaitTimeout: cfg.Timeout}
	defer client.CloseIdleConnections()
	uri := "http://" + cfg.Addr + cfg.Path

	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var (
		sched      chan time.Time // fixed rate: scheduled send times
		reqs, evts atomic.Int64
		errs       atomic.Int64
	)
	start := time.Now()
	if cfg.Rate > 0 {
		sched = make(chan time.Time, 1<<16)
		go pace(ctx, sched, cfg.Rate, start)
	}
	stats := make([]*workerStats, cfg.Conns)
	var wg sync.WaitGroup
	for w := range cfg.Conns {
		st := &workerStats{status: map[int]int64{}}
		stats[w] = st
		wg.Add(1)
		go func() {
			defer wg.Done()
			gen := cfg.Mix.NewGen(w)
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			var body []byte
			for {
				var t0 time.Time
				if sched != nil {
					var ok bool
					if t0, ok = <-sched; !ok {
						return
					}
					if ctx.Err() != nil {
						continue // the run is over: drop what is still scheduled
					}
					if time.Since(t0) > time.Second {
						st.late++
					}
				} else {
					if ctx.Err() != nil {
						return
					}
					t0 = time.Now()
				}
				// pace hands out a schedule up to a millisecond early (it does not sleep
				// less): a request sent before its time counts from its sending
				if now := time.Now(); now.Before(t0) {
					t0 = now
				}
				batch := gen.Next(body, time.Now())
				body = batch.Body
				req.Reset()
				req.Header.SetMethod("POST")
				req.SetRequestURI(uri)
				req.Header.SetContentType("text/plain;charset=UTF-8")
				req.Header.SetUserAgent(batch.UserAgent)
				req.SetBodyRaw(body)
				err := client.DoTimeout(req, resp, cfg.Timeout)
				done := time.Now()
				sec := st.second(done.Sub(start))
				if err != nil {
					st.netErrors++
					sec.NetErrors++
					errs.Add(1)
					continue
				}
				code := resp.StatusCode()
				st.lat = append(st.lat, done.Sub(t0))
				st.status[code]++
				reqs.Add(1)
				switch {
				case code >= 200 && code < 300:
					sec.OK++
				case code == 503:
					sec.Shed++
				default:
					sec.Other++
				}
				if code >= 200 && code < 300 {
					st.okLat = append(st.okLat, done.Sub(t0))
					st.ok++
					st.events += int64(batch.Events)
					if evts.Add(int64(batch.Events)) >= cfg.Events && cfg.Events > 0 {
						cancel()
					}
				} else {
					errs.Add(1)
				}
			}
		}()
	}
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		if cfg.Progress == nil {
			return
		}
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		var lastR, lastE int64
		for {
			select {
			case <-stopProgress:
				fmt.Fprintln(cfg.Progress)
				return
			case <-tk.C:
				r, e := reqs.Load(), evts.Load()
				fmt.Fprintf(cfg.Progress, "\r%-22s %5.0fs  %8d req/s  %9d events/s  errors %d   ",
					cfg.Label, time.Since(start).Seconds(), r-lastR, e-lastE, errs.Load())
				lastR, lastE = r, e
			}
		}
	}()
	wg.Wait()
	elapsed := time.Since(start)
	close(stopProgress)
	<-progressDone

	res := &Result{Label: cfg.Label, Rate: cfg.Rate, Elapsed: elapsed, Status: map[int]int64{}, Start: start}
	for _, st := range stats {
		res.Lat = append(res.Lat, st.lat...)
		res.OKLat = append(res.OKLat, st.okLat...)
		for i, s := range st.timeline {
			for len(res.Timeline) <= i {
				res.Timeline = append(res.Timeline, Second{})
			}
			t := &res.Timeline[i]
			t.OK, t.Shed, t.Other, t.NetErrors = t.OK+s.OK, t.Shed+s.Shed, t.Other+s.Other, t.NetErrors+s.NetErrors
		}
		for c, n := range st.status {
			res.Status[c] += n
			res.Requests += n
		}
		res.NetErrors += st.netErrors
		res.Events += st.events
		res.OK += st.ok
		res.Late += st.late
	}
	slices.Sort(res.Lat)
	slices.Sort(res.OKLat)
	return res, nil
}

// second returns the timeline entry of the second at d into the run.
func (st *workerStats) second(d time.Duration) *Second {
	i := max(0, int(d/time.Second))
	for len(st.timeline) <= i {
		st.timeline = append(st.timeline, Second{})
	}
	return &st.timeline[i]
}

// pace sends the scheduled time of every request at rate per second until ctx ends, then
// closes ch. Schedules are computed, not measured, so a slow server shows as latency.
func pace(ctx context.Context, ch chan<- time.Time, rate float64, start time.Time) {
	defer close(ch)
	interval := time.Duration(float64(time.Second) / rate)
	for i := int64(0); ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			// Sleep in steps of at least a millisecond: timers are not finer than that.
			if d >= time.Millisecond {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case ch <- at:
		}
	}
}
