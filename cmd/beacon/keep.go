package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/beaconprm/beacon/schema"
)

// runKeep computes the kept answers (schema.KeptForms: the tenant-wide forms of the
// heaviest saved queries) for every tenant, now and then every -keep.every, until ctx ends;
// the console and `beacon query -query.keptMaxAge` serve them while they are fresh.
func runKeep(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("keep")
	var ch chFlags
	ch.register(fs)
	every := fs.Duration("keep.every", 5*time.Minute, "time from the start of one round to the start of the next (a round that takes longer starts the next at once); keep it under the console's -console.keptMaxAge")
	once := fs.Bool("keep.once", false, "keep every answer once, then exit (non-zero when one failed)")
	tenantList := fs.String("keep.tenants", "", "comma-separated tenants to keep answers for; empty for every tenant with events")
	eachBudget := fs.Duration("keep.eachBudget", schema.DefaultEachBudget, "time per tenant and round for the per-entity answers, the busiest entities first; 0 keeps none")
	eachParallel := fs.Int("keep.eachParallel", schema.DefaultEachParallel, "per-entity answers computed at once (about the ClickHouse server's cores: most are small queries that leave a core idle)")
	metricsAddr := fs.String("keep.metricsAddr", "127.0.0.1:9104", "where to serve Prometheus /metrics (keep_*); empty disables")
	fs.Usage = func() {
		var forms []string
		for _, f := range schema.KeptForms {
			forms = append(forms, "  "+f.Query+" "+cmp.Or(schema.ParamsText(f.Params), "(defaults)"))
		}
		var each []string
		for _, f := range schema.KeptEachForms {
			top := ""
			if f.Top > 0 {
				top = fmt.Sprintf(", the %d busiest", f.Top)
			}
			each = append(each, strings.TrimRight(fmt.Sprintf("  %s %s=<each %s%s> %s", f.Query, f.Param, f.List, top, schema.ParamsText(f.Params)), " "))
		}
		fmt.Fprintln(m.Stderr, "usage: beacon keep [flags]\n\nComputes, for every tenant, the answers of the heaviest saved queries in the forms the console asks\nfor by default, and keeps them in ClickHouse (tables kept_answers and kept_<query>_<hash>), now and\nthen every -keep.every. The console and `beacon query -query.keptMaxAge` serve a kept answer while\nit is younger than their maximum age, and compute every other answer as before. Needs a ClickHouse\nuser that may create tables and insert in the database. The tenant-wide forms kept:\n"+strings.Join(forms, "\n")+
			"\n\nThen, within -keep.eachBudget per tenant, the per-entity forms, the busiest entity of each form, then\nthe second of each, and so on (what the budget does not reach is computed when asked):\n"+strings.Join(each, "\n")+"\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errors.New("beacon keep: takes no arguments")
	}
	if *eachParallel < 1 {
		return fmt.Errorf("beacon keep: -keep.eachParallel must be 1 or more, got %d", *eachParallel)
	}
	if *eachBudget < 0 {
		return fmt.Errorf("beacon keep: -keep.eachBudget must be 0 or positive, got %v", *eachBudget)
	}
	if *every <= 0 {
		return fmt.Errorf("beacon keep: -keep.every must be positive, got %v", *every)
	}
	var tenants []string
	for _, t := range strings.Split(*tenantList, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tenants = append(tenants, t)
		}
	}
	conn, err := ch.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	k := &schema.Keeper{Conn: conn, DB: ch.database, Tenants: tenants, Log: m.Stderr, EachBudget: *eachBudget, EachParallel: *eachParallel}
	met := newKeepMetrics()
	if *metricsAddr != "" && !*once {
		_, stop, err := serveMetrics(*metricsAddr, met.reg)
		if err != nil {
			return fmt.Errorf("cannot serve metrics on -keep.metricsAddr=%s: %w", *metricsAddr, err)
		}
		defer stop()
	}
	for {
		start := time.Now()
		st, err := k.Once(ctx)
		if ctx.Err() != nil {
			return nil
		}
		met.round(st, err)
		fmt.Fprintf(m.Stderr, "beacon keep: kept %d answers (%d per entity, %d left for want of time; %d rows) in %s\n",
			st.Answers, st.Each, st.EachLeft, st.Rows, st.Took.Round(time.Millisecond))
		if err != nil {
			if *once {
				return fmt.Errorf("beacon keep: %w", err)
			}
			fmt.Fprintf(m.Stderr, "beacon keep: %v (tried again next round)\n", err)
		}
		if *once {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(start.Add(*every))):
		}
	}
}

// formParams shows a kept form's parameters: " level=partner stopped=0".
// keepMetrics are beacon keep's /metrics: what each round did, and when one last kept every
// answer (the alert BeaconKeptAnswersStale watches it).
type keepMetrics struct {
	reg         *prometheus.Registry
	rounds      *prometheus.CounterVec
	answers     prometheus.Counter
	lastSuccess prometheus.Gauge
	lastRound   prometheus.Gauge
	eachLeft    prometheus.Gauge
}

func newKeepMetrics() *keepMetrics {
	m := &keepMetrics{
		reg: prometheus.NewRegistry(),
		rounds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keep_rounds_total",
			Help: "Rounds of beacon keep, by result: ok (every answer kept) or error (at least one failed)."}, []string{"result"}),
		answers: prometheus.NewCounter(prometheus.CounterOpts{Name: "keep_answers_total", Help: "Answers kept."}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "keep_last_success_timestamp_seconds",
			Help: "Unix time at which the last round that kept every answer ended; 0 before the first."}),
		lastRound: prometheus.NewGauge(prometheus.GaugeOpts{Name: "keep_round_duration_seconds", Help: "Duration of the last round."}),
		eachLeft: prometheus.NewGauge(prometheus.GaugeOpts{Name: "keep_each_left",
			Help: "Per-entity answers the last round's -keep.eachBudget did not reach (computed when asked)."}),
	}
	m.rounds.WithLabelValues("ok")
	m.rounds.WithLabelValues("error")
	m.reg.MustRegister(m.rounds, m.answers, m.lastSuccess, m.lastRound, m.eachLeft,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *keepMetrics) round(st schema.KeepStats, err error) {
	m.answers.Add(float64(st.Answers))
	m.lastRound.Set(st.Took.Seconds())
	m.eachLeft.Set(float64(st.EachLeft))
	if err != nil {
		m.rounds.WithLabelValues("error").Inc()
		return
	}
	m.rounds.WithLabelValues("ok").Inc()
	m.lastSuccess.SetToCurrentTime()
}

// serveMetrics serves reg at http://addr/metrics until stop is called; at is the address
// listened on (its port chosen when addr's is 0).
func serveMetrics(addr string, reg *prometheus.Registry) (at string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}
