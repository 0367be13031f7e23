package ingest

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/beaconprm/beacon/schema"
)

const (
	// startLookback is the window of the first refresh after a start: it covers the
	// batches a predecessor inserted and may not have refreshed before it stopped.
	startLookback = 10 * time.Minute
	// finalRefreshTimeout bounds the refresh of the last batches on the way out.
	finalRefreshTimeout = 30 * time.Second
)

// refresher keeps the finished rows the saved queries read current (schema.FinishedTables:
// document viewers, stitching claims, content versions, searches): after a batch is
// inserted it recomputes the rows of what was written since that insert began
// (schema.RefreshRows). One refresh runs at
// a time and at most one per RefreshInterval; batches inserted meanwhile wait for the next
// one, so refreshes coalesce under load instead of queueing.
type refresher struct {
	ing     *Ingester
	mu      sync.Mutex
	pending time.Time // earliest start of what no refresh has covered yet; zero if none
	insert  time.Time // the same for inserts only (not the lookback of a start), for the delay metric
	kick    chan struct{}
}

func newRefresher(ing *Ingester) *refresher {
	return &refresher{ing: ing, kick: make(chan struct{}, 1)}
}

// touched records that an insert which started at start has committed.
func (r *refresher) touched(start time.Time) { r.cover(start, start) }

// cover asks for a refresh of what was written since start; insert is the start of the
// earliest insert among it, or zero.
func (r *refresher) cover(start, insert time.Time) {
	r.mu.Lock()
	if r.pending.IsZero() || start.Before(r.pending) {
		r.pending = start
	}
	if !insert.IsZero() && (r.insert.IsZero() || insert.Before(r.insert)) {
		r.insert = insert
	}
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// take returns and clears what is pending.
func (r *refresher) take() (start, insert time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start, insert = r.pending, r.insert
	r.pending, r.insert = time.Time{}, time.Time{}
	return start, insert
}

// run refreshes until ctx ends, then once more for what is still pending.
func (r *refresher) run(ctx context.Context) {
	cfg := &r.ing.cfg
	log := r.ing.log
	r.cover(time.Now().Add(-startLookback), time.Time{})
	var last time.Time
	backoff := cfg.RetryMin
	f := &failures{log: log, what: "refresh the finished rows (" + schema.FinishedHolds() + ")", fix: "run `beacon migrate up`",
		kind: classifyCH, errors: r.ing.m.refreshErrors}
	for {
		select {
		case <-ctx.Done():
			r.final(log)
			return
		case <-r.kick:
		}
		if wait := cfg.RefreshInterval - time.Since(last); wait > 0 && !sleep(ctx, wait) {
			r.final(log)
			return
		}
		start, insert := r.take()
		if start.IsZero() {
			continue
		}
		last = time.Now()
		if err := r.refresh(ctx, start, insert); err != nil {
			r.cover(start, insert) // try again, with whatever came meanwhile
			if ctx.Err() != nil {
				r.final(log)
				return
			}
			f.failed(err, "backoff", backoff)
			if !sleep(ctx, backoff) {
				r.final(log)
				return
			}
			backoff = min(backoff*2, cfg.RetryMax)
			continue
		}
		f.succeeded()
		backoff = cfg.RetryMin
	}
}

// refresh recomputes the rows of the viewers written since start (this process's clock);
// insert, if set, is when the earliest insert covered began.
func (r *refresher) refresh(ctx context.Context, start, insert time.Time) error {
	t0 := time.Now()
	err := schema.RefreshRows(ctx, r.ing.store.conn, r.ing.cfg.Database, time.Since(start))
	if err != nil {
		return err
	}
	r.ing.m.refreshSeconds.Observe(time.Since(t0).Seconds())
	if !insert.IsZero() {
		r.ing.m.refreshDelay.Observe(time.Since(insert).Seconds())
	}
	return nil
}

// final refreshes what the last batches wrote, within finalRefreshTimeout.
func (r *refresher) final(log *slog.Logger) {
	start, insert := r.take()
	if start.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), finalRefreshTimeout)
	defer cancel()
	if err := r.refresh(ctx, start, insert); err != nil {
		log.Warn("cannot refresh the finished rows on the way out; the next start covers the last "+startLookback.String(), "err", err)
	}
}
