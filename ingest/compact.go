package ingest

import (
	"context"
	"time"

	"github.com/beaconprm/beacon/schema"
)

// compactSpacing keeps the compactions cheap whatever the tables grow to: a compaction of
// a table that took d is followed by at least compactSpacing x d without one, so each
// table's rewrites take at most 2% of a core.
const compactSpacing = 50

// compact merges the small rollups that saved queries read whole (schema.CompactTables)
// back into one part, every CompactInterval, until ctx ends. While events keep arriving,
// ClickHouse's own merges leave them in several parts, and every part costs each read:
// content-outcomes reads content_partner_blocks with FINAL.
func (ing *Ingester) compact(ctx context.Context) {
	cfg := &ing.cfg
	c := &schema.Compactor{Conn: ing.store.conn, DB: cfg.Database, Interval: cfg.CompactInterval, Spacing: compactSpacing}
	log := ing.log.With("what", "compact rollups")
	failures := 0
	for sleep(ctx, cfg.CompactInterval) {
		done, err := c.Round(ctx, time.Now())
		for _, d := range done {
			if d.Err == nil {
				ing.m.compactSeconds.WithLabelValues(d.Table).Observe(d.Took.Seconds())
				log.Debug("compacted", "table", d.Table, "parts", d.Parts, "took", d.Took)
			} else if err == nil {
				err = d.Err
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			if failures > 0 {
				log.Info("recovered", "attempts", failures+1)
			}
			failures = 0
			continue
		}
		failures++
		k := classifyCH(err)
		ing.m.compactErrors.WithLabelValues(k).Inc()
		switch {
		case k == kindSchema:
			log.Error("cannot compact the rollups; run `beacon migrate up`, retrying", "kind", k, "err", err, "attempt", failures)
		case failures == 1 || failures%20 == 0:
			log.Warn("cannot compact the rollups; retrying", "kind", k, "err", err, "attempt", failures)
		}
	}
}
