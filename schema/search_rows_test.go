package schema

import (
	"context"
	"testing"
	"time"
)

// The writer's refresh judges again every search a batch can change (migration 0032): a
// search whose open arrives in a later batch, in its own bucket or in the next one, and a
// search that arrives after its open; the searches the batch cannot change keep their rows.
func TestSearchRowsRefreshTouchedSearches(t *testing.T) {
	conn, db := newDB(t)
	if _, err := Migrate(context.Background(), conn, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	search := func(id, at, user, query string) xev {
		return xev{ev: ev{tenant: "sr", id: id, at: at, typ: "search", visitor: "d-" + user, session: id, partner: "p1", user: user}, query: query, results: 4}
	}
	open := func(id, at, user string) xev {
		return xev{ev: ev{tenant: "sr", id: id, at: at, typ: "view", visitor: "d-" + user, session: id, partner: "p1", user: user, content: "doc1", ctype: "document"}}
	}
	// partner|name|query|searches|searchers|zero results|no open|last search
	gaps := func() [][]string {
		t.Helper()
		return run(t, conn, db, "search-gaps", map[string]string{"tenant": "sr"})
	}

	// The old batch: ann searches at 10:05 and at 10:25 and opens nothing; bob searches at
	// 10:00 after an open at 09:50 (before it: no open); cid opens at 11:40, her search of
	// 11:35 comes later.
	insertX(t, conn, db,
		search("a1", "2026-05-04 10:05:00", "ann", "pricing"),
		search("a2", "2026-05-04 10:25:00", "ann", "roi"),
		open("b0", "2026-05-04 09:50:00", "bob"),
		search("b1", "2026-05-04 10:00:00", "bob", "brochure"),
		open("c0", "2026-05-04 11:40:00", "cid"))
	refreshRows(t, conn, db, time.Hour)
	sameRows(t, "search-gaps after the old batch", gaps(),
		"p1||brochure|1|1|0|1|2026-05-04 10:00:00.000",
		"p1||pricing|1|1|0|1|2026-05-04 10:05:00.000",
		"p1||roi|1|1|0|1|2026-05-04 10:25:00.000")
	// as if the old batch had been written an hour ago
	for _, table := range []string{"searches", "open_marks"} {
		exec(t, conn, "ALTER TABLE "+db+"."+table+" UPDATE updated_at = updated_at - 3600 WHERE 1 SETTINGS mutations_sync = 2")
	}

	// The new batch: ann opens at 10:20 (15 minutes after "pricing", its bucket) and at
	// 10:40 (15 minutes after "roi", the next bucket); cid's search of 11:35 arrives. Only
	// the new batch is refreshed: ann's searches were written an hour ago, her opens now.
	insertX(t, conn, db,
		open("a3", "2026-05-04 10:20:00", "ann"),
		open("a4", "2026-05-04 10:40:00", "ann"),
		search("c1", "2026-05-04 11:35:00", "cid", "setup"))
	refreshRows(t, conn, db, time.Minute)
	sameRows(t, "search-gaps after the new batch", gaps(),
		"p1||brochure|1|1|0|1|2026-05-04 10:00:00.000", // untouched: still no open
		"p1||pricing|1|1|0|0|2026-05-04 10:05:00.000",
		"p1||roi|1|1|0|0|2026-05-04 10:25:00.000",
		"p1||setup|1|1|0|0|2026-05-04 11:35:00.000")
}
