package schema

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCompactor(t *testing.T) {
	conn, db := newDB(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	// No background merges, so that only the Compactor changes the parts (OPTIMIZE ...
	// FINAL is not bound by this limit).
	for _, tb := range CompactTables {
		exec(t, conn, "ALTER TABLE "+db+"."+tb+" MODIFY SETTING max_bytes_to_merge_at_max_space_in_pool = 1")
	}
	loadGolden(t, conn, db)
	parts := func(tb string) uint64 {
		t.Helper()
		return scalar[uint64](t, conn, "SELECT count() FROM system.parts WHERE database = ? AND table = ? AND active", db, tb)
	}
	fragmented := map[string]int{}
	for _, tb := range CompactTables {
		if n := parts(tb); n > 1 {
			fragmented[tb] = int(n)
		}
	}
	if fragmented["content_partner_blocks"] == 0 || fragmented["video_seconds"] == 0 {
		t.Fatalf("the golden load left content_partner_blocks and video_seconds in one part (%v); the test needs several", fragmented)
	}
	acme := map[string]string{"tenant": "acme"}
	vid1 := map[string]string{"tenant": "acme", "content": "vid1"}
	outcomes, retention := run(t, conn, db, "content-outcomes", acme), run(t, conn, db, "video-retention", vid1)

	c := &Compactor{Conn: conn, DB: db, Interval: time.Hour, Spacing: 50}
	now := time.Now()
	round := func(at time.Time) map[string]Compaction {
		t.Helper()
		done, err := c.Round(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Compaction{}
		for _, d := range done {
			got[d.Table] = d
		}
		return got
	}
	got := round(now)
	if len(got) != len(fragmented) {
		t.Fatalf("compacted %v, want the fragmented tables %v", got, fragmented)
	}
	for tb, n := range fragmented {
		if d := got[tb]; d.Err != nil || d.Parts != n {
			t.Errorf("%s: %+v, want %d parts and no error", tb, d, n)
		}
		if n := parts(tb); n != 1 {
			t.Errorf("%s has %d parts after the compaction, want 1", tb, n)
		}
	}
	sameRows(t, "content-outcomes after the compaction", run(t, conn, db, "content-outcomes", acme), rowStrings(outcomes)...)
	sameRows(t, "video-retention after the compaction", run(t, conn, db, "video-retention", vid1), rowStrings(retention)...)

	// A new batch splits content_partner_blocks again: it waits for the Interval.
	faq := ev{id: "f-u2-again", at: "2026-03-04 11:00:00", typ: "view", visitor: "b2", session: "s20", partner: "p1", user: "u2", content: "faq1", ctype: "faq"}
	insert(t, conn, db, "again", faq)
	if n := parts("content_partner_blocks"); n != 2 {
		t.Fatalf("content_partner_blocks has %d parts after one more insert, want 2", n)
	}
	if got := round(now.Add(59 * time.Minute)); len(got) != 0 {
		t.Fatalf("compacted %v within the interval", got)
	}
	if got := round(now.Add(time.Hour)); got["content_partner_blocks"].Parts != 2 || got["content_partner_blocks"].Err != nil || parts("content_partner_blocks") != 1 {
		t.Fatalf("an interval later: %v, and %d parts", got, parts("content_partner_blocks"))
	}

	// Spacing: a compaction that took d keeps the table waiting Spacing x d.
	c.Interval, c.Spacing = 0, 1<<30
	insert(t, conn, db, "again-2", faq)
	if got := round(now.Add(3 * time.Hour)); got["content_partner_blocks"].Took <= 0 {
		t.Fatalf("with no interval and the previous wait over: %v", got)
	}
	insert(t, conn, db, "again-3", faq)
	// at least 100 us x 2^30 = 29 hours
	if got := round(now.Add(4 * time.Hour)); len(got) != 0 {
		t.Fatalf("compacted %v within Spacing x the last compaction's time", got)
	}

	// A failed compaction is reported, and tried again an Interval later.
	c = &Compactor{Conn: conn, DB: db, Interval: time.Minute}
	exec(t, conn, "SYSTEM STOP MERGES "+db+".content_partner_blocks")
	if got := round(now); got["content_partner_blocks"].Err == nil || !strings.Contains(got["content_partner_blocks"].Err.Error(), "Cancelled merging parts") {
		t.Fatalf("with merges stopped: %v, want the error \"Cancelled merging parts\"", got)
	}
	exec(t, conn, "SYSTEM START MERGES "+db+".content_partner_blocks")
	if got := round(now.Add(time.Second)); len(got) != 0 {
		t.Fatalf("tried again %v within the interval", got)
	}
	if got := round(now.Add(time.Minute)); got["content_partner_blocks"].Err != nil || parts("content_partner_blocks") != 1 {
		t.Fatalf("a minute later: %v, and %d parts", got, parts("content_partner_blocks"))
	}
}

// rowStrings turns rows as run returns them back into sameRows' want form.
func rowStrings(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, "|")
	}
	return out
}
