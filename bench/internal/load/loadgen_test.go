package load

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func TestQuantile(t *testing.T) {
	d := func(ms ...int) []time.Duration {
		var out []time.Duration
		for _, m := range ms {
			out = append(out, time.Duration(m)*time.Millisecond)
		}
		return out
	}
	lat := d(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.9, 9 * time.Millisecond}, {0.99, 10 * time.Millisecond}, {1, 10 * time.Millisecond}, {0, time.Millisecond}} {
		if got := Quantile(lat, c.q); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if Quantile(nil, 0.5) != 0 {
		t.Error("Quantile of nothing is not 0")
	}
}

func serve(t *testing.T, h fasthttp.RequestHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

// TestLoadFixedRate: the open-loop mode offers the asked rate, counts statuses and events,
// and charges a slow server's delay to latency.
func TestLoadFixedRate(t *testing.T) {
	var got atomic.Int64
	addr := serve(t, func(ctx *fasthttp.RequestCtx) {
		got.Add(1)
		if got.Load()%10 == 0 {
			ctx.SetStatusCode(503)
			return
		}
		time.Sleep(20 * time.Millisecond)
		ctx.SetStatusCode(204)
	})
	mix, err := NewMix(MixConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Config{Addr: addr, Rate: 200, Duration: time.Second, Conns: 16, Mix: mix})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests < 150 || res.Requests > 210 {
		t.Errorf("%d requests at 200/s for 1s", res.Requests)
	}
	if res.Status[503] == 0 || res.Status[204] == 0 || res.OK != res.Status[204] {
		t.Errorf("statuses %v, ok %d", res.Status, res.OK)
	}
	if res.Events < res.OK {
		t.Errorf("%d events in %d ok requests", res.Events, res.OK)
	}
	if p := res.Pct(0.9); p < 20*time.Millisecond {
		t.Errorf("p90 %v below the server's 20ms", p)
	}
	// The 503s are answered at once, the 2xx after 20ms: the accepted requests' latencies
	// are kept apart, and the timeline adds up to the totals.
	if len(res.OKLat) != int(res.OK) || res.OKPct(0.01) < 20*time.Millisecond {
		t.Errorf("%d accepted latencies for %d 2xx, their p1 %v (want >= 20ms)", len(res.OKLat), res.OK, res.OKPct(0.01))
	}
	var sum Second
	for _, s := range res.Timeline {
		sum.OK, sum.Shed, sum.Other, sum.NetErrors = sum.OK+s.OK, sum.Shed+s.Shed, sum.Other+s.Other, sum.NetErrors+s.NetErrors
	}
	if sum.OK != res.OK || sum.Shed != res.Status[503] || sum.Other != 0 || sum.NetErrors != res.NetErrors || len(res.Timeline) > 3 {
		t.Errorf("timeline %+v sums to %+v; totals ok %d, 503 %d, net errors %d", res.Timeline, sum, res.OK, res.Status[503], res.NetErrors)
	}
}

// TestLoadMaxRateStopsAtEvents: the closed-loop mode ends once enough events were accepted.
func TestLoadMaxRateStopsAtEvents(t *testing.T) {
	addr := serve(t, func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(204) })
	mix, err := NewMix(MixConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	res, err := Run(context.Background(), Config{Addr: addr, Duration: 30 * time.Second, Conns: 8, Mix: mix, Events: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Events < 5000 || time.Since(t0) > 20*time.Second {
		t.Errorf("%d events after %v", res.Events, time.Since(t0))
	}
	if res.Errors() != 0 {
		t.Errorf("errors against a 204 server: %v", res.Status)
	}
}
