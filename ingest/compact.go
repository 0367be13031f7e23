package ingest

import (
	"context"
	"time"

	"github.com/beaconprm/beacon/schema"
)

// compact merges the small rollups that saved queries read whole (schema.CompactTables)
// back into one part, every CompactInterval, until ctx ends. While events keep arriving,
// ClickHouse's own merges leave them in several parts, and every part costs each read:
// content-outcomes, campaign-ranking, content-use and partner-deals read content_partner_blocks whole.
func (ing *Ingester) compact(ctx context.Context) {
	cfg := &ing.cfg
	c := &schema.Compactor{Conn: ing.store.conn, DB: cfg.Database, Interval: cfg.CompactInterval, Spacing: schema.CompactSpacing}
	f := &failures{log: ing.log, what: "compact the rollups", fix: "run `beacon migrate up`",
		kind: classifyCH, errors: ing.m.compactErrors}
	for sleep(ctx, cfg.CompactInterval) {
		done, err := c.Round(ctx, time.Now())
		for _, d := range done {
			if d.Err == nil {
				ing.m.compactSeconds.WithLabelValues(d.Table).Observe(d.Took.Seconds())
				ing.log.Debug("compacted", "table", d.Table, "parts", d.Parts, "took", d.Took)
			} else if err == nil {
				err = d.Err
			}
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			f.failed(err)
		default:
			f.succeeded()
		}
	}
}
