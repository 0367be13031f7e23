package schema

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// CompactTables are the rollups that a saved query reads whole, with FINAL or by merging
// one aggregation state per part, so that every extra part costs each read; and that are
// small enough to rewrite often. On 100M synthetic events OPTIMIZE TABLE ... FINAL took
// 13 ms (content_kinds), 97 ms (video_reach), 155 ms (content_partner_blocks) and 1.4 s
// (video_seconds). The merge policy of migration 0011 does not merge them while events
// keep arriving: regular merges keep making new parts younger than its age.
var CompactTables = []string{"content_partner_blocks", "content_kinds", "campaign_links", "video_reach", "video_seconds"}

// The schedule the ingest compacts on (and the bench simulates): a round every
// CompactInterval, and a table whose last compaction took d waits at least
// CompactSpacing x d, so each table's rewrites take at most 2% of a core however large it
// grows.
const (
	CompactInterval = 10 * time.Second
	CompactSpacing  = 50
)

// Compaction is what a Compactor did to one table.
type Compaction struct {
	Table string
	Parts int // active parts before
	Took  time.Duration
	Err   error
}

// String says what happened: "<table> from <n> parts in <took>", or "<table>: <error>".
func (c Compaction) String() string {
	if c.Err != nil {
		return fmt.Sprintf("%s: %v", c.Table, c.Err)
	}
	return fmt.Sprintf("%s from %d parts in %s", c.Table, c.Parts, c.Took.Round(time.Millisecond))
}

// Compactor merges each of CompactTables into one part per partition when it has more,
// with OPTIMIZE TABLE ... FINAL. Interval and Spacing bound what it costs: a table is
// compacted at most once per Interval, and a compaction that took d is followed by at
// least Spacing x d without one, so rewriting a table takes at most 1/Spacing of a core
// whatever its size. The zero schedule compacts every fragmented table at every Round.
//
// In the cluster flavor the tables are Distributed, which have no parts of their own: the
// Compactor finds nothing to do there (the local tables need OPTIMIZE ... ON CLUSTER).
type Compactor struct {
	Conn     driver.Conn
	DB       string
	Interval time.Duration
	Spacing  int

	next map[string]time.Time // when each table may be compacted again
}

// Round compacts the tables that have more than one part in a partition and are due at
// now, one after the other, and says what it did. now is the caller's clock: the ingest
// passes time.Now(), a simulation its own time. It returns an error only when it cannot
// tell which tables need compacting; a failed compaction is in its Compaction, and the
// table is tried again an Interval later.
func (c *Compactor) Round(ctx context.Context, now time.Time) ([]Compaction, error) {
	parts, err := c.fragmented(ctx)
	if err != nil {
		return nil, err
	}
	if c.next == nil {
		c.next = map[string]time.Time{}
	}
	var done []Compaction
	for _, t := range CompactTables {
		n, ok := parts[t]
		if !ok || now.Before(c.next[t]) {
			continue
		}
		t0 := time.Now()
		err := c.Conn.Exec(ctx, fmt.Sprintf("OPTIMIZE TABLE `%s`.`%s` FINAL", c.DB, t))
		took := time.Since(t0)
		wait := max(c.Interval, time.Duration(c.Spacing)*took)
		if err != nil {
			wait = c.Interval
		}
		c.next[t] = now.Add(wait)
		done = append(done, Compaction{Table: t, Parts: n, Took: took, Err: err})
		if ctx.Err() != nil {
			break
		}
	}
	return done, nil
}

// fragmented returns the active part counts of the CompactTables that have more than one
// active part in some partition.
func (c *Compactor) fragmented(ctx context.Context) (map[string]int, error) {
	ctx = clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"db": c.DB}))
	rows, err := c.Conn.Query(ctx, "SELECT table, toInt64(sum(n)) FROM ("+
		"SELECT table, partition_id, count() AS n FROM system.parts "+
		"WHERE database = {db:String} AND active AND table IN ('"+strings.Join(CompactTables, "', '")+"') "+
		"GROUP BY table, partition_id) GROUP BY table HAVING max(n) > 1")
	if err != nil {
		return nil, fmt.Errorf("listing the parts of %s's rollups: %w", c.DB, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		out[t] = int(n)
	}
	return out, rows.Err()
}
