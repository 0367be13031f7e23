package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
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
			if b, err := RSS(pid); err == nil {
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

// runOverload is scenario 6: the collector offered o.Overload times its measured
// saturation (open loop, more connections than -collector.maxConcurrency), then the same
// with Kafka gone so the spool fills to its limit; RSS sampled throughout.
func runOverload(ctx context.Context, o *Options, r *Report) error {
	s, err := NewStack(o)
	if err != nil {
		return err
	}
	defer s.Close()
	brokers, kafkaP, err := s.StartKafka(6, "-kafka.syncWrites=false")
	if err != nil {
		return err
	}
	sitesPath, sites, err := s.WriteSites()
	if err != nil {
		return err
	}
	const maxConc, spoolMax = 1024, 128
	coll, collP, err := s.StartCollector(brokers, sitesPath, fmt.Sprintf("-collector.maxConcurrency=%d", maxConc),
		fmt.Sprintf("-collector.spoolMaxSize=%dMiB", spoolMax))
	if err != nil {
		return err
	}
	mix, err := NewMix(MixConfig{}, sites)
	if err != nil {
		return err
	}
	start := time.Now()
	rss := sampleRSS(collP.Pid(), start)
	defer rss.Stop()
	mark := func() float64 { return time.Since(start).Seconds() }
	sat, err := Load(ctx, LoadConfig{Addr: coll, Duration: 5 * time.Second, Conns: o.Conns, Mix: mix, Progress: o.Log, Label: "saturation"})
	if err != nil {
		return err
	}
	r.Raw = append(r.Raw, sat.String())
	t1 := mark()
	rate := o.Overload * sat.OKPerSec()
	conns := 4 * maxConc
	over, err := Load(ctx, LoadConfig{Addr: coll, Rate: rate, Duration: o.Duration, Conns: conns, Mix: mix, Progress: o.Log,
		Label: fmt.Sprintf("%.0fx overload", o.Overload)})
	if err != nil {
		return err
	}
	r.Raw = append(r.Raw, over.String())
	t2 := mark()
	// Kafka away: requests go to the spool until it is full, then 503 spool_full.
	if err := s.Stop(kafkaP); err != nil {
		return err
	}
	away, err := Load(ctx, LoadConfig{Addr: coll, Rate: sat.OKPerSec(), Duration: o.Duration, Conns: conns, Mix: mix, Progress: o.Log,
		Label: "Kafka away"})
	if err != nil {
		return err
	}
	r.Raw = append(r.Raw, away.String())
	t3 := mark()
	spoolFull := scrape(coll, `beacon_requests_rejected_total{reason="spool_full"}`)
	spoolRatio := scrape(coll, "beacon_spool_fullness_ratio")
	spooled := scrape(coll, "beacon_spool_messages_total")
	rss.Stop()
	if collP.Exited() {
		return fmt.Errorf("the collector exited under overload; its log:\n%s", collP.tail())
	}
	base := rss.maxBetween(0, t1)
	half := t1 + (t2-t1)/2
	firstHalf, secondHalf := rss.maxBetween(t1, half), rss.maxBetween(half, t2)
	awayMax := rss.maxBetween(t2, t3+1)
	bounded := secondHalf <= firstHalf*1.25+16
	r.Rows = append(r.Rows,
		Row{"saturation (max rate, 2xx requests/s)", Num(sat.OKPerSec()), "", "", "", ""},
		Row{fmt.Sprintf("offered at %.0fx (requests/s, %d connections > maxConcurrency %d)", o.Overload, conns, maxConc), Num(rate), "", "", "", ""},
		Row{"2xx requests/s under overload (goodput)", Num(over.OKPerSec()), Num(sat.OKPerSec()), Ratio(over.OKPerSec(), sat.OKPerSec()), "", ""},
		Row{"503 answers under overload (shed)", Num(float64(over.Status[503])), "", "", "> 0", Verdict(over.Status[503] > 0)},
		Row{"connection errors under overload", Num(float64(over.NetErrors)), "", "", "", ""},
		Row{"collector RSS: at saturation / overload 1st half / 2nd half (MiB)", fmt.Sprintf("%.0f / %.0f / %.0f", base, firstHalf, secondHalf),
			"", "", "flat (2nd half <= 1.25x 1st + 16)", Verdict(bounded)},
		Row{fmt.Sprintf("Kafka away: 2xx (spooled) / 503 answers, spool limit %d MiB", spoolMax), fmt.Sprintf("%s / %s", Num(float64(away.OK)), Num(float64(away.Status[503]))),
			"", "", "503 once full", Verdict(away.Status[503] > 0)},
		Row{"Kafka away: events spooled / spool fullness at the end / 503 spool_full counted by the collector",
			fmt.Sprintf("%s / %.2f / %s", Num(spooled), spoolRatio, Num(spoolFull)), "", "", "", ""},
		Row{"Kafka away: collector max RSS (MiB)", fmt.Sprintf("%.0f", awayMax), "", "", "bounded", ""},
	)
	abs, rel := o.plotPath("overload-rss.svg")
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	pl := &Plot{Title: "Collector RSS: saturation, overload, then Kafka away", XLabel: fmt.Sprintf("seconds (overload from %.0f s, Kafka away from %.0f s)", t1, t2),
		YLabel: "RSS (MiB)", Series: []Series{{Name: "collector RSS", X: rss.t, Y: rss.v}}}
	if err := pl.WriteSVG(abs); err != nil {
		return err
	}
	r.Plots = append(r.Plots, rel)
	r.Notes = append(r.Notes, fmt.Sprintf("Method: `beacon kafka` (`-kafka.syncWrites=false`) and `beacon collector -collector.maxConcurrency=%d "+
		"-collector.spoolMaxSize=%dMiB`. Saturation is a 5 s max-rate run (%d connections); then %s open-loop at %.0fx that rate with %d "+
		"connections (so the concurrency limit must shed), then Kafka is stopped and the saturation rate is offered for %s (requests go to the "+
		"disk spool until it is full, then 503 spool_full). RSS is read from /proc every 250 ms.",
		maxConc, spoolMax, o.Conns, o.Duration, o.Overload, conns, o.Duration))
	return nil
}
