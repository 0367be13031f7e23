package signals

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// delivery is one signal for one receiver.
type delivery struct {
	key       string
	rule      string
	receiver  Receiver
	body      []byte
	attempts  int
	onSuccess func(*stateFile)
	state     *state
}

// queue holds the pending deliveries: at most size of them, queued, in flight or waiting
// for their next attempt. A delivery already pending is not added twice; a full queue
// refuses (counted), and the next evaluation offers the signal again.
type queue struct {
	cfg     Config
	m       *metrics
	ch      chan *delivery
	mu      sync.Mutex
	pending map[string]bool
	client  *http.Client
}

func newQueue(cfg Config) *queue {
	return &queue{
		cfg:     cfg,
		ch:      make(chan *delivery, cfg.QueueSize),
		pending: map[string]bool{},
		// A redirect is not followed: the receiver moved or is misconfigured, and a POST
		// must not turn into a GET elsewhere; it is retried like a 5xx.
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
}

func (q *queue) fullness() float64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return float64(len(q.pending)) / float64(cap(q.ch))
}

func (q *queue) add(d *delivery) {
	id := sentKey(d.key, d.receiver.Name)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pending[id] {
		return
	}
	if len(q.pending) >= cap(q.ch) {
		q.m.queueFull.Inc()
		return
	}
	q.pending[id] = true
	q.ch <- d // never blocks: the channel holds at most len(pending) deliveries
}

func (q *queue) done(d *delivery) {
	q.mu.Lock()
	delete(q.pending, sentKey(d.key, d.receiver.Name))
	q.mu.Unlock()
}

func (q *queue) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-q.ch:
			q.attempt(ctx, d)
		}
	}
}

// attempt posts d once and decides: done, retry later, or give up.
func (q *queue) attempt(ctx context.Context, d *delivery) {
	if d.state.sent(d.key, d.receiver.Name) {
		q.done(d) // delivered meanwhile (the same change offered again)
		return
	}
	d.attempts++
	retry, err := q.post(ctx, d)
	switch {
	case err == nil:
		if serr := d.state.succeeded(d.key, d.receiver.Name, q.cfg.Now(), d.onSuccess); serr != nil {
			// Delivered but not remembered: the next evaluation sends it again, with the
			// same key for the receiver to recognize.
			q.m.sent.WithLabelValues(d.rule, resultError).Inc()
			q.cfg.Logger.Error("signals: delivered but cannot record it", "rule", d.rule, "err", serr)
		} else {
			q.m.sent.WithLabelValues(d.rule, resultOK).Inc()
		}
		q.done(d)
	case ctx.Err() != nil:
		q.done(d)
	case !retry:
		q.m.sent.WithLabelValues(d.rule, resultRejected).Inc()
		q.cfg.Logger.Warn("signals: receiver refused a signal", "rule", d.rule, "receiver", d.receiver.Name, "err", err)
		q.done(d)
	case d.attempts >= q.cfg.MaxAttempts:
		q.m.sent.WithLabelValues(d.rule, resultGaveUp).Inc()
		q.cfg.Logger.Warn("signals: giving up a delivery until the next evaluation", "rule", d.rule, "receiver", d.receiver.Name, "attempts", d.attempts, "err", err)
		q.done(d)
	default:
		q.m.retries.Inc()
		wait := backoff(q.cfg.RetryMin, q.cfg.RetryMax, d.attempts)
		time.AfterFunc(wait, func() { q.ch <- d }) // still counted in pending: room is reserved
	}
}

// backoff is min(max, min * 2^(attempt-1)), jittered to between half and all of it.
func backoff(min, max time.Duration, attempt int) time.Duration {
	d := min
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}

// post sends d once; retry says whether a failure is worth another attempt (timeouts,
// connection errors, 5xx, 408, 429, redirects) or not (other 4xx).
func (q *queue) post(ctx context.Context, d *delivery) (retry bool, err error) {
	actx, cancel := context.WithTimeout(ctx, time.Duration(d.receiver.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, d.receiver.URL, bytes.NewReader(d.body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", d.key)
	req.Header.Set("User-Agent", "beacon-signals/1")
	resp, err := q.client.Do(req)
	if err != nil {
		return true, fmt.Errorf("post to receiver %s: %w", d.receiver.Name, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return false, nil
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500 || (c >= 300 && c < 400):
		return true, fmt.Errorf("receiver %s answered %s", d.receiver.Name, resp.Status)
	default:
		return false, fmt.Errorf("receiver %s answered %s", d.receiver.Name, resp.Status)
	}
}

// encode is the body for a receiver's format.
func encode(s Signal, format string) ([]byte, error) {
	if format == FormatSlack {
		return json.Marshal(struct {
			Text string `json:"text"`
		}{Text: s.Text + " [" + s.Rule + ", key " + s.Key + "]"})
	}
	return json.Marshal(s)
}
