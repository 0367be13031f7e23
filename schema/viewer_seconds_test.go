package schema

import (
	"fmt"
	"testing"
)

// heat writes viewer-seconds' expected rows from plays per second.
func heat(plays ...int) []string {
	var out []string
	for s, n := range plays {
		r := 0
		if n > 1 {
			r = 1
		}
		out = append(out, fmt.Sprintf("%d|%d|%d", s, n, r))
	}
	return out
}

// TestViewerSeconds: each viewer's own heatmap of vid1 (20 s) on the golden dataset
// (golden_test.go).
func TestViewerSeconds(t *testing.T) {
	conn, db := newDB(t)
	loadGolden(t, conn, db)
	call := func(p map[string]string) [][]string {
		t.Helper()
		p["tenant"] = "acme"
		if p["content"] == "" {
			p["content"] = "vid1"
		}
		return run(t, conn, db, "viewer-seconds", p)
	}
	// u1 on the desktop [0,5), seek to [10,15), back to [3,8); on the mobile [14,20): 3, 4
	// and 14 played twice, 8 and 9 never
	sameRows(t, "u1", call(map[string]string{"person": "u1"}),
		heat(1, 1, 1, 2, 2, 1, 1, 1, 0, 0, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1)...)
	// u2 [0,2.5), its event delivered again in a later batch: once
	sameRows(t, "u2", call(map[string]string{"person": "u2"}),
		heat(1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)...)
	// the anonymous a1 by its viewer key: [0,6) and [6,10) in one event
	sameRows(t, "v:a1", call(map[string]string{"viewer": "v:a1"}),
		heat(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)...)
	// u3 loaded the player and never played; u6's plays are a bot's; nobody, another
	// video, no viewer at all: no rows
	for _, p := range []map[string]string{{"person": "u3"}, {"person": "u6"}, {"person": "nobody"}, {"person": "u1", "content": "doc1"}, {}} {
		sameRows(t, fmt.Sprint(p), call(p))
	}
}

// TestVideoViewers: who watched vid1, latest first; seconds as the coverage bitmap keeps
// them (rewatches once), completion of the 20 s.
func TestVideoViewers(t *testing.T) {
	conn, db := newDB(t)
	loadGolden(t, conn, db)
	// u3 only loaded the player: no duration reported, so no completion
	u1 := "p1|Alpha|u1|Ann|u:u1|2026-03-02 10:10:00.000|2026-03-03 08:10:07.000|18|20|0.9|1|1"
	a1 := "||||v:a1|2026-03-02 12:20:00.000|2026-03-02 12:20:10.000|10|10|0.5|1|0"
	sameRows(t, "vid1", run(t, conn, db, "video-viewers", map[string]string{"tenant": "acme", "content": "vid1"}),
		u1, a1,
		"p2|Beta|u3|Cid|u:u3|2026-03-02 11:20:00.000|2026-03-02 11:20:00.000|0|0||0|0",
		"p1|Alpha|u2|Bob|u:u2|2026-03-02 10:20:00.000|2026-03-02 10:20:03.000|3|2.5|0.15|1|0",
	)
	sameRows(t, "vid1 limit 2", run(t, conn, db, "video-viewers", map[string]string{"tenant": "acme", "content": "vid1", "limit": "2"}), u1, a1)
	sameRows(t, "unknown", run(t, conn, db, "video-viewers", map[string]string{"tenant": "acme", "content": "nope"}))
}
