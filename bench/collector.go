package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/beaconprm/beacon/bench/internal/load"
	"github.com/beaconprm/beacon/bench/internal/report"
	"github.com/beaconprm/beacon/bench/internal/stack"
)

// runCollector is scenario 1: the collector's /v1/events against a bare fasthttp 204
// server, same load generator, same mix, alternating runs; then latency against offered
// load (fixed rate, a fraction of the collector's saturation) for both.
func runCollector(ctx context.Context, o *Options, r *report.Report) error {
	s, err := newStack(o)
	if err != nil {
		return err
	}
	defer s.Close()
	// Production Kafka acknowledges acks=all from the replicas' memory and flushes later;
	// the local broker's per-batch fsync is measured separately below.
	brokers, kafkaP, err := s.StartKafka(6, "-kafka.syncWrites=false")
	if err != nil {
		return err
	}
	sitesPath, sites, err := s.WriteSites()
	if err != nil {
		return err
	}
	coll, collP, err := s.StartCollector(brokers, sitesPath)
	if err != nil {
		return err
	}
	ceil, ceilP, err := startCeiling(s, o.Self)
	if err != nil {
		return err
	}
	mix, err := load.NewMix(load.MixConfig{}, sites)
	if err != nil {
		return err
	}
	run := func(label, addr string, rate float64, d time.Duration) (*load.Result, error) {
		res, err := load.Run(ctx, load.Config{Addr: addr, Rate: rate, Duration: d, Conns: o.Conns, Mix: mix, Progress: o.Log, Label: label})
		if err == nil {
			if label != "warm-up" {
				r.Raw = append(r.Raw, res.String())
			}
			if res.Requests == 0 {
				err = fmt.Errorf("%s: no request completed (%d network errors)", label, res.NetErrors)
			}
		}
		return res, err
	}
	// Warm both up (connections, JIT-free but page cache, Kafka partitions' first segments).
	for _, a := range []string{ceil, coll} {
		if _, err := run("warm-up", a, 0, 2*time.Second); err != nil {
			return err
		}
	}
	var cReq, cEv, bReq, bEv, cCPU, bCPU, kCPU []float64
	var cErr int64
	for i := 1; i <= o.Runs; i++ {
		bm := stack.StartCPU(ceilP.Pid())
		b, err := run(fmt.Sprintf("ceiling run %d", i), ceil, 0, o.Duration)
		if err != nil {
			return err
		}
		bCPU = append(bCPU, perReq(bm.Used()[0], b.Requests))
		cm := stack.StartCPU(collP.Pid(), kafkaP.Pid())
		c, err := run(fmt.Sprintf("collector run %d", i), coll, 0, o.Duration)
		if err != nil {
			return err
		}
		// The shipper's work for this run counts too: wait until the spool is shipped.
		waitSpoolShipped(coll, 30*time.Second)
		u := cm.Used()
		cCPU, kCPU = append(cCPU, perReq(u[0], c.Requests)), append(kCPU, perReq(u[1], c.Requests))
		r.Raw = append(r.Raw, fmt.Sprintf("CPU per request, run %d: collector %.1f us (shipping included), local broker %.1f us, ceiling %.1f us",
			i, cCPU[len(cCPU)-1], kCPU[len(kCPU)-1], bCPU[len(bCPU)-1]))
		bReq, bEv = append(bReq, b.OKPerSec()), append(bEv, b.EventsPerSec())
		cReq, cEv = append(cReq, c.OKPerSec()), append(cEv, c.EventsPerSec())
		cErr += c.Errors()
	}
	sat, satB := report.Median(cReq), report.Median(bReq)
	ratio := sat / satB
	r.Rows = append(r.Rows,
		report.Row{Metric: "requests/s at max rate (2xx, median)", Value: report.Num(sat), Ceiling: report.Num(satB), Ratio: report.Ratio(sat, satB), Target: ">= 0.5x", Verdict: report.Verdict(ratio >= 0.5)},
		report.Row{Metric: "events/s accepted at max rate (median)", Value: report.Num(report.Median(cEv)), Ceiling: report.Num(report.Median(bEv)), Ratio: report.Ratio(report.Median(cEv), report.Median(bEv))},
		report.Row{Metric: "non-2xx and failed requests at max rate", Value: report.Num(float64(cErr)), Target: "0", Verdict: report.Verdict(cErr == 0)},
		report.Row{Metric: "CPU per request at max rate, collector process (us, /proc, median)", Value: fmt.Sprintf("%.1f", report.Median(cCPU)), Ceiling: fmt.Sprintf("%.1f", report.Median(bCPU)),
			Ratio: report.Ratio(report.Median(cCPU), report.Median(bCPU)), Target: "<= 2x", Verdict: report.Verdict(report.Median(cCPU) <= 2*report.Median(bCPU))},
		report.Row{Metric: "CPU per request at max rate, local broker process (us, /proc, median)", Value: fmt.Sprintf("%.1f", report.Median(kCPU))},
	)

	// Latency against load: fixed rates as fractions of the collector's saturation, the
	// same absolute rates on the ceiling.
	fracs := []float64{0.1, 0.25, 0.5, 0.75, 0.9}
	d := o.Duration / 2
	if d < 3*time.Second {
		d = 3 * time.Second
	}
	var xs, c50, c99, b99 []float64
	var halfP99, halfB99 time.Duration
	for _, f := range fracs {
		rate := f * sat
		// Alternating runs, medians of each percentile: single runs on a shared machine
		// are at the mercy of whatever else runs in those seconds.
		var cp50, cp99, bp50, bp99 []float64
		for i := 1; i <= o.Runs; i++ {
			c, err := run(fmt.Sprintf("collector %.0f%% run %d", f*100, i), coll, rate, d)
			if err != nil {
				return err
			}
			b, err := run(fmt.Sprintf("ceiling %.0f%% run %d", f*100, i), ceil, rate, d)
			if err != nil {
				return err
			}
			cp50, cp99 = append(cp50, float64(c.Pct(0.5))), append(cp99, float64(c.Pct(0.99)))
			bp50, bp99 = append(bp50, float64(b.Pct(0.5))), append(bp99, float64(b.Pct(0.99)))
		}
		xs = append(xs, rate)
		c50 = append(c50, report.Median(cp50)/1e6)
		c99 = append(c99, report.Median(cp99)/1e6)
		b99 = append(b99, report.Median(bp99)/1e6)
		if f == 0.5 {
			halfP99, halfB99 = time.Duration(report.Median(cp99)), time.Duration(report.Median(bp99))
			r.Rows = append(r.Rows, report.Row{Metric: "p50 latency at half of saturation (median of runs)", Value: report.Ms(time.Duration(report.Median(cp50))), Ceiling: report.Ms(time.Duration(report.Median(bp50)))})
		}
	}
	collRSS, _ := stack.RSS(collP.Pid())
	kafkaRSS, _ := stack.RSS(kafkaP.Pid())
	r.Rows = append(r.Rows, report.Row{Metric: "RSS after the runs: collector / local broker (MiB)", Value: fmt.Sprintf("%d / %d", collRSS>>20, kafkaRSS>>20)})
	// The same collector against the local broker with fsync on every produced batch
	// (`beacon dev`'s default), once: this is the broker's disk, not the collector.
	brokersSync, _, err := s.StartKafka(6, "-kafka.syncWrites=true")
	if err != nil {
		return err
	}
	collSync, _, err := s.StartCollector(brokersSync, sitesPath)
	if err != nil {
		return err
	}
	if _, err := run("warm-up", collSync, 0, 2*time.Second); err != nil {
		return err
	}
	cs, err := run("collector, broker fsync on", collSync, 0, o.Duration)
	if err != nil {
		return err
	}
	r.Rows = append(r.Rows, report.Row{Metric: "requests/s at max rate, local broker fsyncing every batch (1 run)", Value: report.Num(cs.OKPerSec()), Ceiling: report.Num(satB), Ratio: report.Ratio(cs.OKPerSec(), satB), Verdict: "(informative)"})
	r.Rows = append(r.Rows, report.Row{Metric: fmt.Sprintf("p99 latency at half of saturation (%s req/s, median of runs)", report.Num(sat/2)), Value: report.Ms(halfP99), Ceiling: report.Ms(halfB99),
		Ratio: report.Ratio(float64(halfP99), float64(halfB99)), Target: "< 5 ms", Verdict: report.Verdict(halfP99 < 5*time.Millisecond)})
	abs, rel := o.plotPath("collector-latency.svg")
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	p := &report.Plot{Title: "Collector latency against offered load (fixed rate, open loop)", XLabel: "offered requests/s",
		YLabel: "latency (ms, log scale)", LogY: true, Series: []report.Series{
			{Name: "collector p99", X: xs, Y: c99}, {Name: "collector p50", X: xs, Y: c50}, {Name: "bare fasthttp 204 p99", X: xs, Y: b99}}}
	if err := p.WriteSVG(abs); err != nil {
		return err
	}
	r.Plots = append(r.Plots, rel)
	r.Notes = append(r.Notes,
		fmt.Sprintf("Method: `beacon kafka` (6 partitions, `-kafka.syncWrites=false`: like a production Kafka, which acknowledges acks=all without an fsync per batch) and `beacon collector` (default flags: acknowledged once in its spool, shipped to Kafka with acks=all) as separate processes, "+
			"and a bare fasthttp server answering 204 as the ceiling (`beaconbench ceiling`, also its own process). "+
			"The load generator (fasthttp client, %d connections, realistic mix: 1-100 events per batch, mean about 5, all event types, "+
			"100k Zipf visitors, 60%% with a signed partner token, 2%% bot user agents) runs %d alternating max-rate runs of %s on each; medians reported. "+
			"CPU per request is each process's user+system time from /proc/<pid>/stat over its max-rate run divided by the requests answered; "+
			"the collector's is read once its spool is shipped (beacon_spool_bytes 0), so its shipping counts. "+
			"Latency runs are open loop (fixed rate, latency from the scheduled send time) at 10-90%% of the collector's saturation, %s each, alternating, medians of each percentile over the runs. "+
			"Everything shares the machine's cores, the load generator included, so the absolute numbers are lower than on a dedicated box; the ratio is the figure.",
			o.Conns, o.Runs, o.Duration, d))
	return nil
}

// waitSpoolShipped polls the collector's beacon_spool_bytes until it is 0, at most timeout.
func waitSpoolShipped(addr string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for scrape(addr, "beacon_spool_bytes ") > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}
