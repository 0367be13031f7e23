package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/beaconprm/beacon/schema"
)

// The query scenario's generator (sql/synthetic_events.sql), at a small size: it must insert
// through every materialized view and give each saved query of the scenario something to
// answer, the wire v1 additions included (searches, versions, scores).
func TestSyntheticEventsFeedTheQueries(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	conn := ch.Conn(t)
	ctx := context.Background()
	if _, err := schema.Migrate(ctx, conn, schema.Options{Database: ch.Database}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range strings.Split(sqlFor(dimensionsSQL, ch.Database), ";\n") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			ch.Exec(t, stmt)
		}
	}
	ch.Exec(t, sqlFor(syntheticEventsSQL, ch.Database, "start", "0", "count", "200000"))
	// as the scenario does after its load: document-views reads the refreshed rows
	if err := schema.RefreshRows(ctx, conn, ch.Database, time.Hour); err != nil {
		t.Fatal(err)
	}
	var searches, zero, clicked, versioned, outdated, scored, passed uint64
	if err := conn.QueryRow(ctx, "SELECT countIf(type = 'search'), countIf(type = 'search' AND search_results = 0), countIf(search_clicked != ''), "+
		"countIf(content_version != ''), countIf(content_version = 'v2' AND event_time > now() - INTERVAL 30 DAY), countIf(score IS NOT NULL), countIf(passed = 1) FROM "+ch.Database+".events").
		Scan(&searches, &zero, &clicked, &versioned, &outdated, &scored, &passed); err != nil {
		t.Fatal(err)
	}
	// 3% of the 10% FAQ events; a fifth with no result; a third clicked; documents and tools
	// (47%) versioned; some recent v2; four in five completions (7.5% of 10%) scored
	if searches < 400 || searches > 800 || zero == 0 || clicked == 0 || versioned < 80000 || outdated == 0 || scored < 800 || passed == 0 || passed >= scored {
		t.Fatalf("searches %d (zero %d, clicked %d), versioned %d (recent v2 %d), scored %d (passed %d)", searches, zero, clicked, versioned, outdated, scored, passed)
	}
	for _, c := range queryCases {
		q, err := schema.LookupQuery(c.name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := q.Run(ctx, conn, ch.Database, c.params)
		if err != nil {
			t.Fatalf("%s %v: %v", c.name, c.params, err)
		}
		if len(res.Rows) == 0 {
			t.Errorf("%s %v: no rows from the synthetic events", c.name, c.params)
		}
	}
}
