// Package signals watches the saved queries on a schedule and tells people, through
// webhooks, what changed: a partner or person went silent, a silent one came back, a named
// person opened a watched content. Each signal carries an idempotency key derived from
// the rule, the subject and the change; deliveries are retried with bounded exponential
// backoff and recorded in a state file once they succeed, so a signal reaches each
// receiver at least once and is never sent again after a success (README.md).
package signals

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/beaconprm/beacon/schema"
)

// Config configures a Runner. Each field's comment gives its default (the zero value).
type Config struct {
	// File holds the rules and receivers. Required.
	File *File
	// Conn reads the saved queries. Required.
	Conn driver.Conn
	// Database holds the beacon tables. Default: beacon.
	Database string
	// StatePath is the state file (sent keys, signalled silences). Required.
	StatePath string
	// Interval between evaluations. Default: 1m.
	Interval time.Duration
	// QueryTimeout bounds one saved query of an evaluation. Default: 30s.
	QueryTimeout time.Duration
	// QueueSize bounds the deliveries pending (queued, in flight, waiting to retry).
	// Default: 1000.
	QueueSize int
	// Workers deliver in parallel, so a slow receiver holds at most one each. Default: 4.
	Workers int
	// MaxAttempts per delivery before it is given up until the next evaluation finds it
	// again. Default: 8.
	MaxAttempts int
	// RetryMin and RetryMax bound the backoff between attempts (doubling, with jitter).
	// Default: 1s and 1m.
	RetryMin, RetryMax time.Duration
	// KeepSent is how long a sent key is remembered. It must outlast the longest silence
	// to be signalled once. Default: 400 days (longer than the raw events' 395-day TTL).
	KeepSent time.Duration
	// Registerer receives the signals_* metrics. Default: none.
	Registerer prometheus.Registerer
	// Logger receives operational messages. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Database == "" {
		c.Database = "beacon"
	}
	if c.Interval == 0 {
		c.Interval = time.Minute
	}
	if c.QueryTimeout == 0 {
		c.QueryTimeout = 30 * time.Second
	}
	if c.QueueSize == 0 {
		c.QueueSize = 1000
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 8
	}
	if c.RetryMin == 0 {
		c.RetryMin = time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = time.Minute
	}
	if c.KeepSent == 0 {
		c.KeepSent = 400 * 24 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate names the knob that is wrong (flags in cmd/beacon carry the same names).
func (c Config) Validate() error {
	switch {
	case c.File == nil:
		return errors.New("signals: no rules file; set -signals.config")
	case c.Conn == nil:
		return errors.New("signals: no ClickHouse connection")
	case c.StatePath == "":
		return errors.New("signals: no state file; set -signals.stateFile")
	case c.Interval < 0:
		return errors.New("signals: -signals.interval must be positive")
	case c.QueryTimeout < 0:
		return errors.New("signals: -signals.queryTimeout must be positive")
	case c.QueueSize < 0:
		return errors.New("signals: -signals.queueSize must be positive")
	case c.Workers < 0:
		return errors.New("signals: -signals.workers must be positive")
	case c.MaxAttempts < 0:
		return errors.New("signals: -signals.maxAttempts must be positive")
	case c.RetryMin < 0 || c.RetryMax < 0 || (c.RetryMax > 0 && c.RetryMin > c.RetryMax):
		return errors.New("signals: -signals.retryMin and -signals.retryMax must be positive, min <= max")
	}
	return c.File.Validate()
}

// Signal is one change told to the receivers; the generic body is this as JSON.
type Signal struct {
	Key         string    `json:"idempotency_key"`
	Rule        string    `json:"rule"`
	Kind        string    `json:"kind"`
	Tenant      string    `json:"tenant"`
	Subject     string    `json:"subject"`
	Level       string    `json:"level,omitempty"` // partner or person
	PartnerID   string    `json:"partner_id,omitempty"`
	PartnerName string    `json:"partner_name,omitempty"`
	Person      string    `json:"person,omitempty"`
	PersonName  string    `json:"person_name,omitempty"`
	ContentID   string    `json:"content_id,omitempty"`
	Status      string    `json:"status,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	LastTouch   string    `json:"last_touch,omitempty"`
	OpenedAt    string    `json:"opened_at,omitempty"`
	Text        string    `json:"text"`
	DetectedAt  time.Time `json:"detected_at"`
}

// Key is the idempotency key of a change: the same rule, subject and change always give
// the same key, in any process.
func Key(rule, subject, change string) string {
	h := sha256.Sum256([]byte("beacon-signal-v1\x00" + rule + "\x00" + subject + "\x00" + change))
	return hex.EncodeToString(h[:16])
}

// Runner evaluates the rules on a schedule and delivers their signals.
type Runner struct {
	cfg       Config
	state     *state
	queue     *queue
	m         *metrics
	receivers map[string]Receiver
	queries   map[string]schema.SavedQuery
}

// New opens the state file and prepares the queries; Run starts the work.
func New(cfg Config) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	st, err := openState(cfg.StatePath, cfg.KeepSent)
	if err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, state: st, receivers: map[string]Receiver{}, queries: map[string]schema.SavedQuery{}}
	for _, rc := range cfg.File.Receivers {
		r.receivers[rc.Name] = rc
	}
	for _, name := range []string{"partner-activity", "person-opens"} {
		q, err := schema.LookupQuery(name)
		if err != nil {
			return nil, err
		}
		r.queries[name] = q
	}
	r.queue = newQueue(cfg)
	r.m = newMetrics(cfg.Registerer, r.queue.fullness)
	r.queue.m = r.m
	return r, nil
}

// Run evaluates every Interval until ctx ends; deliveries run beside it, so a slow
// receiver never delays an evaluation. Pending deliveries are dropped on the way out:
// they were not recorded as sent, so the next run finds them again.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for i := 0; i < r.cfg.Workers; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); r.queue.work(ctx) }()
	}
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		r.Evaluate(ctx)
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-t.C:
		}
	}
}

// Evaluate runs every rule once and queues the signals not yet delivered.
func (r *Runner) Evaluate(ctx context.Context) {
	defer r.m.evals.Inc()
	backOf := map[string]Rule{}
	for _, rule := range r.cfg.File.Rules {
		if rule.Kind == KindBack {
			backOf[rule.After] = rule
		}
	}
	for _, rule := range r.cfg.File.Rules {
		var err error
		switch rule.Kind {
		case KindSilent:
			back, ok := backOf[rule.Name]
			var bp *Rule
			if ok {
				bp = &back
			}
			err = r.evalSilent(ctx, rule, bp)
		case KindOpened:
			err = r.evalOpened(ctx, rule)
		}
		if err != nil && ctx.Err() == nil {
			r.m.evalErrors.WithLabelValues(rule.Name).Inc()
			r.cfg.Logger.Warn("signals: cannot evaluate rule", "rule", rule.Name, "err", err)
		}
	}
}

// evalSilent reads partner-activity once for a silent rule and its back rule.
func (r *Runner) evalSilent(ctx context.Context, rule Rule, back *Rule) error {
	ectx, cancel := context.WithTimeout(ctx, r.cfg.QueryTimeout)
	defer cancel()
	res, err := r.queries["partner-activity"].Run(ectx, r.cfg.Conn, r.cfg.Database, map[string]string{
		"tenant":         rule.Tenant,
		"partner":        rule.Partner,
		"days":           fmt.Sprint(rule.Days),
		"baseline_weeks": fmt.Sprint(rule.BaselineWeeks),
	})
	if err != nil {
		return err
	}
	cols := columns(res)
	now := r.cfg.Now().UTC()
	for _, row := range res.Rows {
		get := func(name string) string { return cellText(row, cols[name]) }
		level := get("level")
		if rule.Level != "both" && rule.Level != level {
			continue
		}
		s := Signal{
			Tenant: rule.Tenant, Level: level,
			PartnerID: get("partner_id"), PartnerName: get("partner_name"),
			Person: get("person"), PersonName: get("person_name"),
			Status: get("status"), Reason: get("reason"), LastTouch: get("last_touch"),
			DetectedAt: now,
		}
		s.Subject = "partner:" + s.PartnerID
		who := nameOr(s.PartnerName, s.PartnerID)
		if level == "person" {
			s.Subject += "/person:" + s.Person
			who = nameOr(s.PersonName, s.Person) + " (" + who + ")"
		}
		switch s.Status {
		case "silent":
			s.Rule, s.Kind = rule.Name, KindSilent
			s.Key = Key(rule.Name, s.Subject, "silent after "+s.LastTouch)
			s.Text = fmt.Sprintf("%s went silent: %s", who, s.Reason)
			episode, subject := s.LastTouch, s.Subject
			r.deliver(rule, s, func(f *stateFile) { f.Silent[rule.Name+" "+subject] = episode })
		case "active":
			if back == nil {
				continue
			}
			episode, ok := r.state.silentEpisode(rule.Name, s.Subject)
			if !ok {
				continue
			}
			s.Rule, s.Kind = back.Name, KindBack
			s.Key = Key(back.Name, s.Subject, "back after silent after "+episode)
			s.Text = fmt.Sprintf("%s is active again: %s", who, s.Reason)
			subject, b := s.Subject, *back
			r.deliver(b, s, func(f *stateFile) {
				for _, rc := range b.Receivers {
					if _, ok := f.Sent[sentKey(s.Key, rc)]; !ok {
						return // disarm only once every receiver has it
					}
				}
				delete(f.Silent, rule.Name+" "+subject)
			})
		}
	}
	return nil
}

// evalOpened asks person-opens for each watched content: one signal per (person,
// content, UTC day) with a use at or after now - Window.
func (r *Runner) evalOpened(ctx context.Context, rule Rule) error {
	ectx, cancel := context.WithTimeout(ctx, r.cfg.QueryTimeout)
	defer cancel()
	now := r.cfg.Now().UTC()
	since := now.Add(-time.Duration(rule.Window)).Format("2006-01-02 15:04:05.000")
	var errs []error
	for _, content := range rule.Contents {
		res, err := r.queries["person-opens"].Run(ectx, r.cfg.Conn, r.cfg.Database, map[string]string{
			"tenant": rule.Tenant, "person": rule.Person, "content": content, "since": since,
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cols := columns(res)
		for _, row := range res.Rows {
			day := cellText(row, cols["day"])
			s := Signal{
				Rule: rule.Name, Kind: KindOpened, Tenant: rule.Tenant,
				Subject: "person:" + rule.Person + "/content:" + content,
				Level:   "person", Person: rule.Person, ContentID: content,
				OpenedAt: cellText(row, cols["first_at"]), LastTouch: cellText(row, cols["last_at"]),
				DetectedAt: now,
			}
			s.Key = Key(rule.Name, s.Subject, "opened on "+day)
			s.Text = fmt.Sprintf("%s opened %s at %s UTC (last activity %s)", rule.Person, content, s.OpenedAt, s.LastTouch)
			r.deliver(rule, s, nil)
		}
	}
	return errors.Join(errs...)
}

// deliver queues s for each of the rule's receivers that has not had it yet.
func (r *Runner) deliver(rule Rule, s Signal, onSuccess func(*stateFile)) {
	for _, name := range rule.Receivers {
		if r.state.sent(s.Key, name) {
			continue
		}
		rc := r.receivers[name]
		body, err := encode(s, rc.Format)
		if err != nil {
			r.cfg.Logger.Error("signals: cannot encode", "rule", rule.Name, "err", err)
			continue
		}
		r.queue.add(&delivery{key: s.Key, rule: rule.Name, receiver: rc, body: body, onSuccess: onSuccess, state: r.state})
	}
}

func nameOr(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

func columns(res *schema.Result) map[string]int {
	m := make(map[string]int, len(res.Columns))
	for i, c := range res.Columns {
		m[c] = i
	}
	return m
}

// cellText prints a saved query's cell: times as "2006-01-02 15:04:05.000" UTC, NULL as "".
func cellText(row []any, i int) string {
	if i >= len(row) {
		return ""
	}
	switch v := row[i].(type) {
	case nil:
		return ""
	case string:
		return v
	case time.Time:
		return v.UTC().Format("2006-01-02 15:04:05.000")
	case *time.Time:
		if v == nil {
			return ""
		}
		return v.UTC().Format("2006-01-02 15:04:05.000")
	case *string:
		if v == nil {
			return ""
		}
		return *v
	}
	return fmt.Sprint(row[i])
}
