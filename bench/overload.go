package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/beaconprm/beacon/bench/internal/load"
	"github.com/beaconprm/beacon/bench/internal/report"
	"github.com/beaconprm/beacon/bench/internal/stack"
	"github.com/beaconprm/beacon/internal/ready"
)

// scrape returns the value of the first /metrics sample whose name and labels start with
// prefix (0 when absent).
func scrape(addr, prefix string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, prefix) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			return v
		}
	}
	return 0
}

// scrapeAll returns every /metrics sample, keyed by its name and labels as the collector
// writes them (labels sorted by name: `beacon_requests_total{code="503",route="events"}`).
func scrapeAll(client *http.Client, addr string) (map[string]float64, error) {
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, nil
}

// The collector's counters of the answers it refuses, by where they come from.
const (
	mOverloaded   = `beacon_requests_rejected_total{reason="overloaded"}`
	mSpoolFull    = `beacon_requests_rejected_total{reason="spool_full"}`
	mEvents503    = `beacon_requests_total{code="503",route="events"}`
	mConnRejected = "beacon_connections_rejected_total"
	mSpoolBytes   = "beacon_spool_bytes"
	mShipped      = "beacon_kafka_messages_total"
	mSpooled      = "beacon_spool_messages_total"
	mWrites       = "beacon_kafka_produce_seconds_count"
	mWriteSecs    = "beacon_kafka_produce_seconds_sum"
)

// metricsSampler scrapes the collector's /metrics every second until stopped, so the 503s a
// load generator sees can be matched, phase by phase, with the reasons the collector counted.
type metricsSampler struct {
	mu   sync.Mutex
	t    []float64 // seconds since start
	v    []map[string]float64
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func sampleMetrics(addr string, start time.Time) *metricsSampler {
	s := &metricsSampler{stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 2 * time.Second}
	go func() {
		defer close(s.done)
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			if m, err := scrapeAll(client, addr); err == nil {
				s.mu.Lock()
				s.t = append(s.t, time.Since(start).Seconds())
				s.v = append(s.v, m)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-tk.C:
			}
		}
	}()
	return s
}

// Stop ends sampling; it may be called more than once.
func (s *metricsSampler) Stop() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

// table is the samples second by second: the spool, what was spooled and shipped, and the
// refusals by reason.
func (s *metricsSampler) table() string {
	var b strings.Builder
	b.WriteString("collector, second by second: s, spool MiB, spooled events/s, shipped events/s, 503 overloaded/s, 503 spool_full/s, refused connections/s, Kafka writes/s, mean write ms\n")
	for i := 1; i < len(s.v); i++ {
		dt := s.t[i] - s.t[i-1]
		rate := func(k string) float64 { return (s.v[i][k] - s.v[i-1][k]) / dt }
		writeMs := 0.0
		if w := rate(mWrites); w > 0 {
			writeMs = 1000 * rate(mWriteSecs) / w
		}
		fmt.Fprintf(&b, "%5.1f %6.1f %7.0f %7.0f %7.0f %7.0f %6.0f %5.1f %7.1f\n", s.t[i], s.v[i][mSpoolBytes]/(1<<20), rate(mSpooled), rate(mShipped),
			rate(mOverloaded), rate(mSpoolFull), rate(mConnRejected), rate(mWrites), writeMs)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// at is a metric's last sample taken at or before t seconds.
func (s *metricsSampler) at(name string, t float64) float64 {
	v := 0.0
	for i := range s.v {
		if s.t[i] > t {
			break
		}
		v = s.v[i][name]
	}
	return v
}

// series is one metric over time (per second when rate).
func (s *metricsSampler) series(name, label string, rate bool) report.Series {
	out := report.Series{Name: label}
	for i := range s.v {
		if rate {
			if i == 0 {
				continue
			}
			dt := s.t[i] - s.t[i-1]
			out.X, out.Y = append(out.X, s.t[i]), append(out.Y, (s.v[i][name]-s.v[i-1][name])/dt)
			continue
		}
		out.X, out.Y = append(out.X, s.t[i]), append(out.Y, s.v[i][name])
	}
	return out
}

// cpus is CPU time over a phase as CPUs busy on average, joined with " / ".
func cpus(used []time.Duration, elapsed time.Duration) string {
	var parts []string
	for _, u := range used {
		parts = append(parts, fmt.Sprintf("%.2f", u.Seconds()/elapsed.Seconds()))
	}
	return strings.Join(parts, " / ")
}

func scaled(s report.Series, f float64) report.Series {
	for i := range s.Y {
		s.Y[i] *= f
	}
	return s
}

// rssSampler records a process's RSS every 250 ms until stopped.
type rssSampler struct {
	mu   sync.Mutex
	t, v []float64 // seconds since start, MiB
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func sampleRSS(pid int, start time.Time) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tk := time.NewTicker(250 * time.Millisecond)
		defer tk.Stop()
		for {
			if b, err := stack.RSS(pid); err == nil {
				s.mu.Lock()
				s.t = append(s.t, time.Since(start).Seconds())
				s.v = append(s.v, float64(b)/(1<<20))
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-tk.C:
			}
		}
	}()
	return s
}

// Stop ends sampling; it may be called more than once.
func (s *rssSampler) Stop() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

// maxBetween is the largest sample in [from, to) seconds.
func (s *rssSampler) maxBetween(from, to float64) float64 {
	m := 0.0
	for i, t := range s.t {
		if t >= from && t < to && s.v[i] > m {
			m = s.v[i]
		}
	}
	return m
}

// runOverload is scenario 6: a spike. The collector's saturation is measured (max rate),
// then it is offered half of it, o.Overload times it (more connections than a browser
// population keeps open at once), and half again, back to back, with the goodput, the
// accepted requests' latency, the 503s and connection errors counted second by second, the
// collector's CPU read from /proc and its RSS sampled throughout; then the saturation rate with
// Kafka gone, so the spool fills to its limit.
func runOverload(ctx context.Context, o *Options, r *report.Report) error {
	s, err := newStack(o)
	if err != nil {
		return err
	}
	defer s.Close()
	// The load generator's CPU grows with the offered load: at 2x it would come out of the
	// collector's on a shared machine. Split the CPUs first, so the broker inherits the
	// load generator's half.
	placement := "the collector, the load generator (the bench process) and the broker on the same CPUs (-shared)"
	collCPUs := 0 // the collector's own CPUs; 0 with -shared
	if !o.Shared {
		prefix, split, restore, err := stack.SplitCPUs()
		if err != nil {
			return fmt.Errorf("cannot give the collector CPUs of its own (%w); run with -shared to measure on shared CPUs", err)
		}
		defer restore()
		s.CollectorPrefix, placement = prefix, split
		collCPUs = runtime.NumCPU() - runtime.NumCPU()/2
	}
	brokers, kafkaP, err := s.StartKafka(6, "-kafka.syncWrites=false")
	if err != nil {
		return err
	}
	sitesPath, sites, err := s.WriteSites()
	if err != nil {
		return err
	}
	// Default request limit (-collector.maxConcurrentRequests), connection limit and spool
	// limit (1 GiB): the spike's connections stay under -collector.maxConcurrency, so
	// shedding is the request limiter's 503 overloaded, not refused connections, and the
	// spool absorbs what the shipper falls behind by, as it does in production. The small
	// spool limit of the Kafka-away step is a second collector's: with it the spike's
	// shipping lag alone filled the spool (2026-12-04), so the spike measured spool_full.
	const spoolMax, conns = 128, 4096
	coll, collP, err := s.StartCollector(brokers, sitesPath)
	if err != nil {
		return err
	}
	mix, err := load.NewMix(load.MixConfig{}, sites)
	if err != nil {
		return err
	}
	start := time.Now()
	rss := sampleRSS(collP.Pid(), start)
	defer rss.Stop()
	mets := sampleMetrics(coll, start)
	defer mets.Stop()
	scrapes := &http.Client{Timeout: 5 * time.Second}
	// counted is what the collector's counters moved by over a phase.
	type counted map[string]float64
	snapOf := func(addr string) map[string]float64 {
		m, err := scrapeAll(scrapes, addr)
		if err != nil {
			fmt.Fprintf(o.Log, "cannot scrape the collector's metrics: %v\n", err)
		}
		return m
	}
	snap := func() map[string]float64 { return snapOf(coll) }
	delta := func(a, b map[string]float64) counted {
		d := counted{}
		for k, v := range b {
			d[k] = v - a[k]
		}
		return d
	}
	phaseCounts := map[string]counted{}
	phaseCPU := map[string][]time.Duration{} // collector, load generator (this process), Kafka
	mark := func() float64 { return time.Since(start).Seconds() }
	sat, err := load.Run(ctx, load.Config{Addr: coll, Duration: 5 * time.Second, Conns: o.Conns, Mix: mix, Progress: o.Log, Label: "saturation"})
	if err != nil {
		return err
	}
	r.Raw = append(r.Raw, sat.String())
	phase := func(label string, rate float64, d time.Duration) (*load.Result, time.Duration, error) {
		m0 := snap()
		cpu := stack.StartCPU(collP.Pid(), os.Getpid(), kafkaP.Pid())
		res, err := load.Run(ctx, load.Config{Addr: coll, Rate: rate, Duration: d, Conns: conns, Mix: mix, Progress: o.Log, Label: label})
		if err != nil {
			return nil, 0, err
		}
		phaseCounts[label] = delta(m0, snap())
		phaseCPU[label] = cpu.Used()
		r.Raw = append(r.Raw, res.String())
		return res, cpu.Used()[0], nil
	}
	half, rate := 0.5*sat.OKPerSec(), o.Overload*sat.OKPerSec()
	side := max(o.Duration/2, 3*time.Second)
	// Settle first: the shipper ships the saturation run's backlog, the new connections open.
	if _, err := load.Run(ctx, load.Config{Addr: coll, Rate: half, Duration: 3 * time.Second, Conns: conns, Mix: mix, Progress: o.Log, Label: "settle (0.5x)"}); err != nil {
		return err
	}
	before, beforeCPU, err := phase("before the spike (0.5x)", half, side)
	if err != nil {
		return err
	}
	t1 := mark()
	spike, spikeCPU, err := phase(fmt.Sprintf("spike (%.0fx)", o.Overload), rate, o.Duration)
	if err != nil {
		return err
	}
	t2 := mark()
	after, _, err := phase("after the spike (0.5x)", half, max(side, 6*time.Second))
	if err != nil {
		return err
	}
	t3 := mark()
	// Recovery: the first second after the spike from which every request was accepted.
	recovered := -1
	for i := len(after.Timeline) - 1; i >= 0; i-- {
		if s := after.Timeline[i]; s.Shed+s.Other+s.NetErrors > 0 {
			break
		}
		recovered = i
	}
	end := snap()
	spoolAtEnd, overloaded := end[mSpoolBytes]/(1<<20), end[mOverloaded]
	mets.Stop()
	if collP.Exited() {
		return fmt.Errorf("the collector exited under overload; its log:\n%s", ready.Tail(collP.Log, 15))
	}
	bare, bareCPU, err := bareAtSpike(ctx, o, s, mix, rate, side, conns)
	if err != nil {
		return err
	}
	// Kafka away: a second collector with a small spool limit takes requests into its spool
	// until it is full, then answers 503 spool_full.
	if err := s.Stop(kafkaP); err != nil {
		return err
	}
	coll2, coll2P, err := s.StartCollector(brokers, sitesPath, fmt.Sprintf("-collector.spoolMaxSize=%dMiB", spoolMax))
	if err != nil {
		return err
	}
	rss2 := sampleRSS(coll2P.Pid(), start)
	defer rss2.Stop()
	m0 := snapOf(coll2)
	away, err := load.Run(ctx, load.Config{Addr: coll2, Rate: sat.OKPerSec(), Duration: o.Duration, Conns: conns, Mix: mix, Progress: o.Log,
		Label: "Kafka away"})
	if err != nil {
		return err
	}
	awayEnd := snapOf(coll2)
	phaseCounts[away.Label] = delta(m0, awayEnd)
	r.Raw = append(r.Raw, away.String())
	t4 := mark()
	spoolFull, spoolRatio, spooled := awayEnd[mSpoolFull], awayEnd["beacon_spool_fullness_ratio"], awayEnd[mSpooled]
	rss.Stop()
	rss2.Stop()
	if coll2P.Exited() {
		return fmt.Errorf("the collector exited with Kafka away; its log:\n%s", ready.Tail(coll2P.Log, 15))
	}
	spikeSpool := mets.at(mSpoolBytes, t2) / (1 << 20)
	base := rss.maxBetween(0, t1)
	mid := t1 + (t2-t1)/2
	firstHalf, secondHalf := rss.maxBetween(t1, mid), rss.maxBetween(mid, t2)
	awayMax := rss2.maxBetween(t3, t4+1)
	bounded := secondHalf <= firstHalf*1.25+16
	goodput := spike.OKPerSec()
	p99Half, p99Spike := before.OKPct(0.99), spike.OKPct(0.99)
	recoveredIn := "not within the run"
	if recovered >= 0 {
		recoveredIn = fmt.Sprintf("%d s", recovered)
	}
	r.Rows = append(r.Rows,
		report.Row{Metric: "saturation (max rate, 2xx requests/s)", Value: report.Num(sat.OKPerSec())},
		report.Row{Metric: fmt.Sprintf("offered in the spike (requests/s, %.0fx, %d connections)", o.Overload, conns), Value: report.Num(rate)},
		report.Row{Metric: "2xx requests/s in the spike (goodput)", Value: report.Num(goodput), Ceiling: report.Num(sat.OKPerSec()), Ratio: report.Ratio(goodput, sat.OKPerSec()), Target: ">= 0.8x", Verdict: report.Verdict(goodput >= 0.8*sat.OKPerSec())},
		report.Row{Metric: "p99 of the accepted (2xx) requests: in the spike / at half of saturation before it", Value: report.Ms(p99Spike), Ceiling: report.Ms(p99Half), Ratio: report.Ratio(float64(p99Spike), float64(p99Half)),
			Target: "<= 3x", Verdict: report.Verdict(p99Spike <= 3*p99Half)},
		report.Row{Metric: "503 answers in the spike (shed) / counted overloaded by the collector (its whole run)", Value: fmt.Sprintf("%s / %s", report.Num(float64(spike.Status[503])), report.Num(overloaded))},
		report.Row{Metric: "the shipper's lag: spool at the spike's end / after the recovery phase (MiB)", Value: fmt.Sprintf("%.0f / %.0f", spikeSpool, spoolAtEnd)},
		report.Row{Metric: "connection errors / other non-2xx in the spike", Value: fmt.Sprintf("%s / %s", report.Num(float64(spike.NetErrors)), report.Num(float64(spike.Requests-spike.OK-spike.Status[503])))},
		report.Row{Metric: "collector CPU per accepted request (us, /proc): in the spike / at half of saturation", Value: fmt.Sprintf("%.1f", perReq(spikeCPU, spike.OK)), Ceiling: fmt.Sprintf("%.1f", perReq(beforeCPU, before.OK)),
			Ratio: report.Ratio(perReq(spikeCPU, spike.OK), perReq(beforeCPU, before.OK))},
		report.Row{Metric: "CPUs busy (/proc): collector / load generator (the bench process) / Kafka, in the spike; at half of saturation in Ceiling", Value: cpus(phaseCPU[spike.Label], spike.Elapsed), Ceiling: cpus(phaseCPU[before.Label], before.Elapsed)},
		report.Row{Metric: "collector RSS: at saturation / spike 1st half / 2nd half (MiB)", Value: fmt.Sprintf("%.0f / %.0f / %.0f", base, firstHalf, secondHalf),
			Target: "flat (2nd half <= 1.25x 1st + 16)", Verdict: report.Verdict(bounded)},
		bareRow(bare, bareCPU),
		acceptBound(bare, bareCPU, collCPUs, perReq(beforeCPU, before.OK), sat.OKPerSec()),
		report.Row{Metric: "recovery: from the spike's end to the first second from which every request got a 2xx", Value: recoveredIn, Target: "<= 5 s", Verdict: report.Verdict(recovered >= 0 && recovered <= 5)},
		report.Row{Metric: fmt.Sprintf("Kafka away: 2xx (spooled) / 503 answers, spool limit %d MiB", spoolMax), Value: fmt.Sprintf("%s / %s", report.Num(float64(away.OK)), report.Num(float64(away.Status[503]))),
			Target: "503 once full", Verdict: report.Verdict(away.Status[503] > 0)},
		report.Row{Metric: "Kafka away: events spooled / spool fullness at the end / 503 spool_full counted by the collector",
			Value: fmt.Sprintf("%s / %.2f / %s", report.Num(spooled), spoolRatio, report.Num(spoolFull))},
		report.Row{Metric: "Kafka away: collector max RSS (MiB)", Value: fmt.Sprintf("%.0f", awayMax), Target: "bounded"},
	)
	// Where the 503s came from, phase by phase: the load generator's count against the
	// collector's own counters over the same phase (scraped before and after it).
	for _, ph := range []*load.Result{before, spike, after, away} {
		d := phaseCounts[ph.Label]
		seen := float64(ph.Status[503])
		uncounted := seen - d[mEvents503] - d[mConnRejected]
		r.Rows = append(r.Rows, report.Row{
			Metric: fmt.Sprintf("503s, %s: seen by the load generator / collector's overloaded / spool_full / refused connections (fasthttp Server.Concurrency) / not counted", ph.Label),
			Value:  fmt.Sprintf("%s / %s / %s / %s / %s", report.Num(seen), report.Num(d[mOverloaded]), report.Num(d[mSpoolFull]), report.Num(d[mConnRejected]), report.Num(uncounted)),
			Target: "every 503 counted", Verdict: report.Verdict(uncounted == 0)})
		r.Rows = append(r.Rows, report.Row{Metric: fmt.Sprintf("%s: events spooled / shipped to Kafka per second", ph.Label),
			Value: fmt.Sprintf("%s / %s", report.Num(d[mSpooled]/ph.Elapsed.Seconds()), report.Num(d[mShipped]/ph.Elapsed.Seconds()))})
	}
	// Second by second through the spike: what the load generator got back.
	var okS, shedS, errS report.Series
	okS.Name, shedS.Name, errS.Name = "2xx/s", "503/s", "connection errors and other non-2xx/s"
	for _, ph := range []*load.Result{before, spike, after} {
		off := ph.Start.Sub(start).Seconds()
		for i, sec := range ph.Timeline {
			x := off + float64(i) + 0.5
			okS.X, okS.Y = append(okS.X, x), append(okS.Y, float64(sec.OK))
			shedS.X, shedS.Y = append(shedS.X, x), append(shedS.Y, float64(sec.Shed))
			errS.X, errS.Y = append(errS.X, x), append(errS.Y, float64(sec.NetErrors+sec.Other))
		}
	}
	abs, rel := o.plotPath("overload-timeline.svg")
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	tl := &report.Plot{Title: fmt.Sprintf("A %.0fx spike: answers per second (saturation %s/s)", o.Overload, report.Num(sat.OKPerSec())),
		XLabel: fmt.Sprintf("seconds (0.5x from %.0f s, spike %.0f-%.0f s, 0.5x until %.0f s)", before.Start.Sub(start).Seconds(), t1, t2, t3),
		YLabel: "requests/s", Series: []report.Series{okS, shedS, errS}}
	if err := tl.WriteSVG(abs); err != nil {
		return err
	}
	r.Plots = append(r.Plots, rel)
	r.Raw = append(r.Raw, mets.table())
	abs, rel = o.plotPath("overload-sources.svg")
	src := &report.Plot{Title: "The collector's refusals per second, by reason, and its spool", XLabel: fmt.Sprintf("seconds (spike %.0f-%.0f s, Kafka away from %.0f s)", t1, t2, t3),
		YLabel: "per second / MiB", Series: []report.Series{
			mets.series(mOverloaded, "503 overloaded/s", true),
			mets.series(mSpoolFull, "503 spool_full/s", true),
			mets.series(mConnRejected, "refused connections/s", true),
			scaled(mets.series(mSpoolBytes, "spool MiB", false), 1.0/(1<<20)),
		}}
	if err := src.WriteSVG(abs); err != nil {
		return err
	}
	r.Plots = append(r.Plots, rel)
	abs, rel = o.plotPath("overload-rss.svg")
	pl := &report.Plot{Title: "Collector RSS: saturation, spike, recovery, then Kafka away", XLabel: fmt.Sprintf("seconds (spike %.0f-%.0f s, Kafka away from %.0f s)", t1, t2, t3),
		YLabel: "RSS (MiB)", Series: []report.Series{{Name: "collector RSS", X: rss.t, Y: rss.v}, {Name: "Kafka away: second collector's RSS", X: rss2.t, Y: rss2.v}}}
	if err := pl.WriteSVG(abs); err != nil {
		return err
	}
	r.Plots = append(r.Plots, rel)
	r.Notes = append(r.Notes, fmt.Sprintf("Method: `beacon kafka` (`-kafka.syncWrites=false`) and `beacon collector` with its default "+
		"request limit (-collector.maxConcurrentRequests 32 per CPU it runs on, 8 queue places per slot), connection limit (10,000) and spool limit (1 GiB), "+
		"on one machine with the load generator (the bench process): %s. Saturation is a 5 s "+
		"max-rate run (%d connections). Then, open loop with %d connections, after 3 s at half of saturation to settle (not counted): %s at half of saturation, %s at %.0fx saturation (the spike), %s at half "+
		"again (recovery), back to back; latency counts from each request's scheduled time. Goodput and the accepted requests' p99 are the 2xx "+
		"answers only. CPU per accepted request is the collector's user+system time from /proc over a phase divided by its 2xx answers. "+
		"The 503s by source are the collector's counters (beacon_requests_rejected_total by reason, beacon_connections_rejected_total) scraped "+
		"before and after each phase; \"not counted\" is what the load generator saw beyond them. Then Kafka "+
		"is stopped and a second collector with `-collector.spoolMaxSize=%dMiB` is offered the saturation rate for %s (requests go to the disk "+
		"spool until it is full, then 503 spool_full). RSS is read "+
		"from /proc every 250 ms. Each phase's load generator waits for its requests in flight before the next begins, so the recovery phase starts "+
		"without the spike's backlog on the client side. "+
		"With the CPUs split, a bare fasthttp server answering 204 (`beaconbench ceiling`) is then started on the collector's CPUs and offered the spike's "+
		"rate over as many connections for %s: the CPU it takes to answer every offered request while doing no work. What is left of the collector's "+
		"CPUs after that, divided by what an accepted request costs the collector beyond it (its CPU per accepted request at half of saturation "+
		"less the bare server's per answer), estimates the most 2xx/s the collector could give while answering every offered request at once, which "+
		"is what keeps the accepted requests' latency from growing through the spike.",
		placement, o.Conns, conns, side, o.Duration, o.Overload, max(side, 6*time.Second), spoolMax, o.Duration, side))
	return nil
}

// bareAtSpike offers the spike's rate to a bare fasthttp 204 server on the collector's CPUs
// (nil without a CPU split) and returns what it answered and the CPU it took.
func bareAtSpike(ctx context.Context, o *Options, s *stack.Stack, mix *load.Mix, rate float64, d time.Duration, conns int) (*load.Result, time.Duration, error) {
	if len(s.CollectorPrefix) == 0 {
		return nil, 0, nil
	}
	addr, p, err := startCeiling(s, o.Self, s.CollectorPrefix...)
	if err != nil {
		return nil, 0, err
	}
	defer s.Stop(p)
	cpu := stack.StartCPU(p.Pid())
	res, err := load.Run(ctx, load.Config{Addr: addr, Rate: rate, Duration: d, Conns: conns, Mix: mix, Progress: o.Log, Label: "bare 204 server at the spike's rate"})
	if err != nil {
		return nil, 0, err
	}
	return res, cpu.Used()[0], nil
}

// bareRow reports what bareAtSpike measured.
func bareRow(bare *load.Result, cpu time.Duration) report.Row {
	row := report.Row{Metric: "a bare fasthttp 204 server on the collector's CPUs offered the spike's rate: answers/s / p99 / CPUs busy (/proc)", Value: "- (with -shared)"}
	if bare != nil {
		row.Value = fmt.Sprintf("%s / %s / %.2f", report.Num(bare.ReqPerSec()), report.Ms(bare.Pct(0.99)), cpu.Seconds()/bare.Elapsed.Seconds())
	}
	return row
}

// acceptBound estimates the most 2xx/s the collector could give in the spike while answering
// every offered request: the CPU the bare server leaves of the collector's, over what an
// accepted request costs the collector beyond a bare answer.
func acceptBound(bare *load.Result, bareCPU time.Duration, cpus int, perAccepted, saturation float64) report.Row {
	row := report.Row{Metric: "estimate: most 2xx/s in the spike with every offered request answered ((collector CPUs - bare server's CPUs busy) / (collector CPU per accepted request at half of saturation - bare server's per answer))",
		Value: "-"}
	if bare == nil || bare.Requests == 0 || cpus == 0 {
		return row
	}
	extra := perAccepted - perReq(bareCPU, bare.Requests)
	left := float64(cpus) - bareCPU.Seconds()/bare.Elapsed.Seconds()
	if extra <= 0 {
		return row
	}
	bound := max(0, left) * 1e6 / extra
	row.Value = fmt.Sprintf("%s (%.2f CPUs left, %.1f us per accepted request beyond a bare answer)", report.Num(bound), left, extra)
	row.Ceiling, row.Ratio = report.Num(saturation), report.Ratio(bound, saturation)
	return row
}
