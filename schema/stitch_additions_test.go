package schema

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The stitching dataset of the wire v1 additions (search-gaps, content-versions,
// training-scores, and the searches of contact-timeline; migration 0024): tenant sx,
// partners pA Alpha (ann), pB Beta (cal). Every answer below is computed by hand in the
// comments; lookback 30 unless said.
//
//   - ann on two devices, anonymous first: the laptop "lap" is anonymous on April 1 and 2
//     and carries ann's token from April 3 (claim: March 4 to April 3); the phone "ph"
//     carries ann's token from its first event (April 5).
//   - the "kiosk" is anonymous on April 3, carries cal's token on April 4 (claim: March 5
//     to April 4), and is anonymous again on April 6 (after its last first token: nobody's).
//   - "zed" is anonymous and never identified.
var stitchAdditionsEvents = func() []xev {
	e := func(id, at, typ, visitor, user, content, ctype string) xev {
		partner := map[string]string{"ann": "pA", "cal": "pB"}[user]
		return xev{ev: ev{tenant: "sx", id: id, at: at, typ: typ, visitor: visitor, session: visitor + at[:10], partner: partner, user: user, content: content, ctype: ctype}}
	}
	search := func(x xev, q string, n uint32) xev {
		x.query, x.results = q, n
		return x
	}
	version := func(x xev, v string) xev {
		x.version = v
		return x
	}
	attempt := func(x xev, s float32, ok bool) xev {
		x.score, x.passed = score(s), pass(ok)
		return x
	}
	return []xev{
		// lap, anonymous, April 1: "pricing" at 10:00 finds nothing; "Pricing" at 10:10
		// finds 4; docV v1 opened at 10:35: 25 minutes after the second search (opened),
		// 35 after the first (not opened)
		search(e("lap-q1", "2026-04-01 10:00:00", "search", "lap", "", "", ""), "pricing", 0),
		search(e("lap-q2", "2026-04-01 10:10:00", "search", "lap", "", "", ""), "Pricing", 4),
		version(e("lap-v1", "2026-04-01 10:35:00", "view", "lap", "", "docV", "document"), "v1"),
		// lap, anonymous, April 2: fails courseX (40)
		attempt(e("lap-c", "2026-04-02 09:30:00", "complete", "lap", "", "courseX", "course"), 40, false),
		// lap, April 3: "roi" anonymous at 09:00, then ann's token at 09:05 opening faqX: the
		// search was followed by an open by the person it is stitched to
		search(e("lap-q3", "2026-04-03 09:00:00", "search", "lap", "", "", ""), "roi", 1),
		e("lap-ann", "2026-04-03 09:05:00", "view", "lap", "ann", "faqX", "faq"),
		// ph, ann's own, April 5: "pricing" (3 results, no open); passes courseX (80)
		search(e("ph-q", "2026-04-05 09:00:00", "search", "ph", "ann", "", ""), "pricing", 3),
		attempt(e("ph-c", "2026-04-05 10:00:00", "complete", "ph", "ann", "courseX", "course"), 80, true),
		// kiosk, anonymous, April 3 (-> cal): docV v1 at 11:00; "api" at 12:00 finds nothing
		// (the open before it does not count); fails courseX (50)
		version(e("k3-v1", "2026-04-03 11:00:00", "view", "kiosk", "", "docV", "document"), "v1"),
		search(e("k3-q", "2026-04-03 12:00:00", "search", "kiosk", "", "", ""), "api", 0),
		attempt(e("k3-c", "2026-04-03 12:20:00", "complete", "kiosk", "", "courseX", "course"), 50, false),
		// kiosk, cal's token, April 4: docV v2
		version(e("k4-cal", "2026-04-04 12:00:00", "view", "kiosk", "cal", "docV", "document"), "v2"),
		// kiosk, anonymous, April 6 (-> nobody): "pricing" (1 result, no open); passes
		// courseX (95)
		search(e("k6-q", "2026-04-06 12:00:00", "search", "kiosk", "", "", ""), "pricing", 1),
		attempt(e("k6-c", "2026-04-06 12:10:00", "complete", "kiosk", "", "courseX", "course"), 95, true),
		// zed, never identified: docV v1 on March 25 (v1's first use) and v2 on April 2
		// (v2's first use: the latest version); "pricing" on April 1 (2 results); courseX (10)
		version(e("z-v1", "2026-03-25 10:00:00", "view", "zed", "", "docV", "document"), "v1"),
		search(e("z-q", "2026-04-01 11:00:00", "search", "zed", "", "", ""), "pricing", 2),
		version(e("z-v2", "2026-04-02 08:00:00", "view", "zed", "", "docV", "document"), "v2"),
		attempt(e("z-c", "2026-04-02 13:00:00", "complete", "zed", "", "courseX", "course"), 10, false),
	}
}()

// loadStitchAdditionsData loads the dataset into a migrated database, in two batches
// with a re-delivered search, version use and attempt.
func loadStitchAdditionsData(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	half := len(stitchAdditionsEvents) / 2
	insertX(t, conn, db, stitchAdditionsEvents[:half]...)
	rest := append(append([]xev(nil), stitchAdditionsEvents[half:]...), stitchAdditionsEvents[0], stitchAdditionsEvents[2], stitchAdditionsEvents[3])
	insertX(t, conn, db, rest...)
	refreshRows(t, conn, db, time.Hour)
	importCSV(t, conn, db, "partners", "sx", "partner_id,name\npA,Alpha\npB,Beta\n")
	importCSV(t, conn, db, "partner_users", "sx", "partner_user_id,partner_id,name\nann,pA,Ann\ncal,pB,Cal\n")
	importCSV(t, conn, db, "contents", "sx", "content_id,content_type,title\ndocV,document,Price list\nfaqX,faq,Setup\ncourseX,course,Basics\n")
}

func TestStitchingAdditions(t *testing.T) {
	conn, db := newDB(t)
	if _, err := Migrate(context.Background(), conn, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	loadStitchAdditionsData(t, conn, db)
	call := func(name string, kv ...string) [][]string {
		t.Helper()
		p := map[string]string{"tenant": "sx"}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return run(t, conn, db, name, p)
	}

	t.Run("search-gaps", func(t *testing.T) {
		// partner|name|query|searches|searchers|zero results|no open|last search.
		// pA pricing: the laptop's two (April 1, stitched to ann) and ann's own on the
		// phone: 3 searches by 1 searcher, 1 found nothing, 2 not opened (10:00 and the
		// phone's). pA roi: opened by ann's token view 5 minutes later. pB api: the kiosk's
		// April 3 (cal's). Anonymous pricing: zed and the kiosk's April 6 (nobody's).
		sameRows(t, "search-gaps", call("search-gaps"),
			"||pricing|2|2|0|2|2026-04-06 12:00:00.000",
			"pA|Alpha|pricing|3|1|1|2|2026-04-05 09:00:00.000",
			"pA|Alpha|roi|1|1|0|0|2026-04-03 09:00:00.000",
			"pB|Beta|api|1|1|1|1|2026-04-03 12:00:00.000")
		sameRows(t, "search-gaps pA", call("search-gaps", "partner", "pA"),
			"pA|Alpha|pricing|3|1|1|2|2026-04-05 09:00:00.000",
			"pA|Alpha|roi|1|1|0|0|2026-04-03 09:00:00.000")
		sameRows(t, "search-gaps pB zero", call("search-gaps", "partner", "pB", "only", "zero"),
			"pB|Beta|api|1|1|1|1|2026-04-03 12:00:00.000")
		// lookback 0: only the first-token days: the laptop's April 3 (roi) is still ann's;
		// its April 1 and the kiosk's April 3 stay anonymous (3 devices, 5 searches)
		sameRows(t, "search-gaps lookback 0", call("search-gaps", "lookback", "0"),
			"||pricing|4|3|1|3|2026-04-06 12:00:00.000",
			"||api|1|1|1|1|2026-04-03 12:00:00.000",
			"pA|Alpha|pricing|1|1|0|1|2026-04-05 09:00:00.000",
			"pA|Alpha|roi|1|1|0|0|2026-04-03 09:00:00.000")
		// April 1 only: the laptop's searches are still ann's (claims do not depend on the period)
		sameRows(t, "search-gaps April 1", call("search-gaps", "from", "2026-04-01", "to", "2026-04-01"),
			"||pricing|1|1|0|1|2026-04-01 11:00:00.000",
			"pA|Alpha|pricing|2|1|1|1|2026-04-01 10:10:00.000")
	})

	t.Run("content-versions", func(t *testing.T) {
		// docV v1: zed (March 25), the laptop (April 1, ann's: pA), the kiosk (April 3,
		// cal's: pB); v2: zed (April 2, first: the latest), cal's own (April 4). pA's last
		// use is v1: outdated; pB's is v2. Totals count events: v1 3 events, 3 opens, 3
		// viewers (devices), 3 sessions; v2 2 each.
		// content|title|type|version|latest|first|last|events|opens|viewers|sessions|partners|outdated
		v1 := "docV|Price list|document|v1|0|2026-03-25 10:00:00.000|2026-04-03 11:00:00.000|3|3|3|3|"
		v2 := "docV|Price list|document|v2|1|2026-04-02 08:00:00.000|2026-04-04 12:00:00.000|2|2|2|2|[pB]|[]"
		sameRows(t, "content-versions", call("content-versions"), v1+"[pA,pB]|[pA]", v2)
		sameRows(t, "content-versions docV", call("content-versions", "content", "docV"), v1+"[pA,pB]|[pA]", v2)
		// lookback 0: no anonymous use is stitched: v1 has no partner
		sameRows(t, "content-versions lookback 0", call("content-versions", "lookback", "0"), v1+"[]|[]", v2)
	})

	t.Run("training-scores", func(t *testing.T) {
		// pA: ann failed on the laptop (40, April 2, stitched) then passed on the phone (80):
		// 1 person, 2 attempts, average 60, lowest 40, passed. pB: cal failed on the kiosk
		// (50, April 3, stitched). The kiosk's April 6 (95) and zed's (10) are nobody's.
		// course|title|partner|name|people|attempts|avg|min|passed|failed|failed people
		pA := "courseX|Basics|pA|Alpha|1|2|60|40|1|0|[]"
		pB := "courseX|Basics|pB|Beta|1|1|50|50|0|1|[cal]"
		sameRows(t, "training-scores", call("training-scores"), pA, pB)
		sameRows(t, "training-scores pB", call("training-scores", "partner", "pB", "course", "courseX"), pB)
		// lookback 0: only ann's own attempt
		sameRows(t, "training-scores lookback 0", call("training-scores", "lookback", "0"), "courseX|Basics|pA|Alpha|1|1|80|80|1|0|[]")
	})

	t.Run("contact-timeline", func(t *testing.T) {
		// at|viewer|stitched|content|searches|queries: ann's own touches (u:ann) and the
		// laptop's anonymous ones (stitched); the searches are on their touches (content '')
		got := project(call("contact-timeline", "person", "ann"), 0, 6, 7, 8, 23, 24)
		sameRows(t, "contact-timeline ann", got,
			"2026-04-05 10:00:00.000|u:ann|0|courseX|0|[]",
			"2026-04-05 09:00:00.000|u:ann|0||1|[{at:2026-04-05 09:00:00.000,clicked:,query:pricing,results:3}]",
			"2026-04-03 09:05:00.000|u:ann|0|faqX|0|[]",
			"2026-04-03 09:00:00.000|v:lap|1||1|[{at:2026-04-03 09:00:00.000,clicked:,query:roi,results:1}]",
			"2026-04-02 09:30:00.000|v:lap|1|courseX|0|[]",
			"2026-04-01 10:35:00.000|v:lap|1|docV|0|[]",
			"2026-04-01 10:00:00.000|v:lap|1||2|[{at:2026-04-01 10:00:00.000,clicked:,query:pricing,results:0},{at:2026-04-01 10:10:00.000,clicked:,query:Pricing,results:4}]")
		// the company pB: cal's own April 4 and the kiosk's April 3; its April 6 is nobody's
		got = project(call("contact-timeline", "partner", "pB"), 0, 6, 7, 8, 23, 24)
		sameRows(t, "contact-timeline pB", got,
			"2026-04-04 12:00:00.000|u:cal|0|docV|0|[]",
			"2026-04-03 12:20:00.000|v:kiosk|1|courseX|0|[]",
			"2026-04-03 12:00:00.000|v:kiosk|1||1|[{at:2026-04-03 12:00:00.000,clicked:,query:api,results:0}]",
			"2026-04-03 11:00:00.000|v:kiosk|1|docV|0|[]")
	})

	t.Run("bi-views", func(t *testing.T) {
		// bi_stitch_claims (look-back 30): the laptop's days March 4 to April 3 are ann's,
		// the kiosk's March 5 to April 4 cal's; the kiosk's April 6 and zed stay anonymous.
		// viewer|person|partner|query|opened|stitched, by time
		sameRows(t, "bi_searches", rawRows(t, conn, "SELECT viewer, person, partner_id, query, opened, stitched FROM "+db+".bi_searches WHERE tenant = 'sx' ORDER BY at, event_id"),
			"v:lap|ann|pA|pricing|0|1", "v:lap|ann|pA|pricing|1|1", "v:zed|||pricing|0|0", "v:lap|ann|pA|roi|1|1",
			"v:kiosk|cal|pB|api|0|1", "u:ann|ann|pA|pricing|0|0", "v:kiosk|||pricing|0|0")
		// content|version|partner|events|latest|current|stitched: the stitched rows have no
		// events of their own (the devices' events are in the anonymous row); pA's only
		// version is v1 (current), pB's last is v2
		sameRows(t, "bi_content_versions", rawRows(t, conn, "SELECT content_id, version, partner_id, events, latest, current, stitched FROM "+db+".bi_content_versions WHERE tenant = 'sx' ORDER BY content_id, version, partner_id"),
			"docV|v1||3|0|0|0", "docV|v1|pA|0|0|1|1", "docV|v1|pB|0|0|0|1", "docV|v2||1|1|0|0", "docV|v2|pB|1|1|1|0")
		// course|person|partner|attempts|avg|min|latest passed|stitched attempts
		sameRows(t, "bi_training_scores", rawRows(t, conn, "SELECT course_id, partner_user_id, partner_id, attempts, avg_score, min_score, latest_passed, stitched_attempts FROM "+db+".bi_training_scores WHERE tenant = 'sx' ORDER BY partner_user_id"),
			"courseX|ann|pA|2|60|40|1|1", "courseX|cal|pB|1|50|50|0|1")
	})
}
