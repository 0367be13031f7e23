package schema

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The stitching dataset (the five first saved queries, migration 0021): tenant st,
// partners pA Alpha (ann, bob), pB Beta (cal), pC Gamma (nobody); campaign cs (docS, a
// 4-page document, and vidS, a 10 s video); faqS; courses courseS and courseT. Every
// answer below is computed by hand in the comments; lookback 30 unless said.
//
//   - ann on two devices, anonymous first: the laptop "lap" is anonymous on April 1 and
//     2 and carries ann's token from April 3 (its first token: the laptop's anonymous use
//     of March 4 to April 3 is ann's); the phone "ph" is verified from its first event.
//   - one device, two people: the "kiosk" is anonymous on April 1, carries bob's token on
//     April 2, is anonymous on April 3, carries cal's token on April 4, is anonymous on
//     April 6. April 1 goes to bob (the first token on or after it), April 3 to cal (bob's
//     first token came before it), April 6 to nobody (no token after it).
//   - "zed" is anonymous and never identified: it stays its own viewer.
var stitchEvents = func() []ev {
	e := func(id, at, typ, visitor, session, user, content, ctype string) ev {
		partner := map[string]string{"ann": "pA", "bob": "pA", "cal": "pB"}[user]
		return ev{tenant: "st", id: id, at: at, typ: typ, visitor: visitor, session: session, partner: partner, user: user, content: content, ctype: ctype}
	}
	page := func(x ev, page, dwell uint32) ev {
		x.page, x.pageCount, x.dwell = page, 4, dwell
		return x
	}
	watch := func(x ev, from, to float32) ev {
		x.action, x.duration, x.watched = "progress", 10, [][2]float32{{from, to}}
		return x
	}
	view := func(x ev) ev {
		x.pageCount = 4
		return x
	}
	return []ev{
		// lap, anonymous, April 1: docS pages 1 (12 s: engaged) and 2 (3 s); vidS [0, 6)
		view(e("lap-d", "2026-04-01 10:00:00", "view", "lap", "L1", "", "docS", "document")),
		page(e("lap-d1", "2026-04-01 10:00:15", "page", "lap", "L1", "", "docS", "document"), 1, 12000),
		page(e("lap-d2", "2026-04-01 10:00:20", "page", "lap", "L1", "", "docS", "document"), 2, 3000),
		watch(e("lap-v", "2026-04-01 10:05:00", "video", "lap", "L1", "", "vidS", "video"), 0, 6),
		// lap, anonymous, April 2: faqS, and completes courseS
		e("lap-f", "2026-04-02 09:00:00", "view", "lap", "L2", "", "faqS", "faq"),
		e("lap-c", "2026-04-02 09:30:00", "complete", "lap", "L2", "", "courseS", "course"),
		// lap, ann's token, April 3: faqS
		e("lap-ann", "2026-04-03 09:00:00", "view", "lap", "L3", "ann", "faqS", "faq"),
		// ph, ann, April 5: docS pages 2 (1 s) and 3 (2 s); vidS [4, 10)
		view(e("ph-d", "2026-04-05 09:00:00", "view", "ph", "P1", "ann", "docS", "document")),
		page(e("ph-d2", "2026-04-05 09:00:05", "page", "ph", "P1", "ann", "docS", "document"), 2, 1000),
		page(e("ph-d3", "2026-04-05 09:00:10", "page", "ph", "P1", "ann", "docS", "document"), 3, 2000),
		watch(e("ph-v", "2026-04-05 09:05:00", "video", "ph", "P1", "ann", "vidS", "video"), 4, 10),
		// zed, anonymous, never identified: vidS [0, 2)
		watch(e("zed-v", "2026-04-01 11:00:00", "video", "zed", "Z1", "", "vidS", "video"), 0, 2),
		// kiosk, anonymous, April 1 (-> bob): docS page 1 (2 s, not engaged), faqS
		view(e("k1-d", "2026-04-01 12:00:00", "view", "kiosk", "K1", "", "docS", "document")),
		page(e("k1-d1", "2026-04-01 12:00:05", "page", "kiosk", "K1", "", "docS", "document"), 1, 2000),
		e("k1-f", "2026-04-01 12:10:00", "view", "kiosk", "K1", "", "faqS", "faq"),
		// kiosk, bob's token, April 2: faqS
		e("k2-bob", "2026-04-02 12:00:00", "view", "kiosk", "K2", "bob", "faqS", "faq"),
		// kiosk, anonymous, April 3 (-> cal): vidS [0, 3), faqS, completes courseS
		watch(e("k3-v", "2026-04-03 12:00:00", "video", "kiosk", "K3", "", "vidS", "video"), 0, 3),
		e("k3-f", "2026-04-03 12:10:00", "view", "kiosk", "K3", "", "faqS", "faq"),
		e("k3-c", "2026-04-03 12:20:00", "complete", "kiosk", "K3", "", "courseS", "course"),
		// kiosk, cal's token, April 4: faqS
		e("k4-cal", "2026-04-04 12:00:00", "view", "kiosk", "K4", "cal", "faqS", "faq"),
		// kiosk, anonymous, April 6 (-> nobody): faqS, completes courseT
		e("k6-f", "2026-04-06 12:00:00", "view", "kiosk", "K6", "", "faqS", "faq"),
		e("k6-c", "2026-04-06 12:10:00", "complete", "kiosk", "K6", "", "courseT", "course"),
	}
}()

func loadStitch(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	if _, err := Migrate(context.Background(), conn, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	half := len(stitchEvents) / 2
	insert(t, conn, db, "stitch-a", stitchEvents[:half]...)
	insert(t, conn, db, "stitch-b", stitchEvents[half:]...)
	refreshRows(t, conn, db, time.Hour)
	importCSV(t, conn, db, "partners", "st", "partner_id,name\npA,Alpha\npB,Beta\npC,Gamma\n")
	importCSV(t, conn, db, "partner_users", "st", "partner_user_id,partner_id,name\nann,pA,Ann\nbob,pA,Bob\ncal,pB,Cal\n")
	importCSV(t, conn, db, "contents", "st", "content_id,content_type,title,campaign_id,duration_s,page_count,tags\n"+
		"docS,document,Sheet,cs,,4,\nvidS,video,Clip,cs,10,,\nfaqS,faq,Setup,,,,faq\ncourseS,course,Basics,,,,\ncourseT,course,Expert,,,,\n")
	importCSV(t, conn, db, "campaigns", "st", "campaign_id,name\ncs,Spring\n")
	importCSV(t, conn, db, "course_assignments", "st", "course_id,partner_user_id,partner_id,assigned_on\n"+
		"courseS,ann,pA,2026-03-01\ncourseS,bob,pA,2026-03-01\ncourseS,cal,pB,2026-03-01\ncourseT,bob,pA,2026-03-01\n")
	importCSV(t, conn, db, "deals", "st", "deal_id,partner_id,amount,currency,stage,closed_on\nk1,pA,1000,EUR,won,2026-04-10\nk2,pC,500,EUR,won,2026-04-11\n")
}

func TestStitching(t *testing.T) {
	conn, db := newDB(t)
	loadStitch(t, conn, db)
	call := func(name string, kv ...string) [][]string {
		t.Helper()
		p := map[string]string{"tenant": "st"}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return run(t, conn, db, name, p)
	}

	t.Run("claims", func(t *testing.T) {
		// lap: ann from March 4 (April 3 - 30) to April 3; kiosk: bob March 3 to April 2,
		// cal April 3 to April 4; ph has none: it was never anonymous, so it has nothing to
		// claim (0025 keeps the claims of devices with anonymous use only)
		sameRows(t, "stitch_claims", rawRows(t, conn, "SELECT viewer, person, partner_id, lo, hi FROM "+db+".stitch_claims(tenant = 'st', lookback = 30) ORDER BY viewer, lo"),
			"v:kiosk|bob|pA|2026-03-03|2026-04-02", "v:kiosk|cal|pB|2026-04-03|2026-04-04",
			"v:lap|ann|pA|2026-03-04|2026-04-03")
	})

	t.Run("document-views", func(t *testing.T) {
		// ann: lap (April 1: pages 1 12000, 2 3000) and ph (April 5: pages 2 1000, 3 2000)
		// merged: pages {1,2,3}, 2 opens in 2 sessions, 18000 ms. bob: the kiosk's April 1
		// (page 1, 2000 ms). Columns: partner, name, person, name, viewer, first opened,
		// last seen, max page, page count, pages seen, opens, sessions, dwell, by page, stitched
		ann := "pA|Alpha|ann|Ann|u:ann|2026-04-01 10:00:00.000|2026-04-05 09:00:10.000|3|4|3|2|2|18000|{1:12000,2:4000,3:2000}|1"
		bob := "pA|Alpha|bob|Bob|u:bob|2026-04-01 12:00:00.000|2026-04-01 12:00:05.000|1|4|1|1|1|2000|{1:2000}|1"
		sameRows(t, "document-views", call("document-views", "content", "docS"), ann, bob)
		sameRows(t, "document-views partner pA limit 1", call("document-views", "content", "docS", "partner", "pA", "limit", "1"), ann)
		sameRows(t, "document-views partner pB", call("document-views", "content", "docS", "partner", "pB"))
		// lookback 1: the laptop's April 1 is 2 days before ann's token on it and stays
		// anonymous; the kiosk's April 1 is 1 day before bob's
		sameRows(t, "document-views lookback 1", call("document-views", "content", "docS", "lookback", "1"),
			"||||v:lap|2026-04-01 10:00:00.000|2026-04-01 10:00:20.000|2|4|2|1|1|15000|{1:12000,2:3000}|0",
			bob,
			"pA|Alpha|ann|Ann|u:ann|2026-04-05 09:00:00.000|2026-04-05 09:00:10.000|3|4|2|1|1|3000|{2:1000,3:2000}|0")
	})

	t.Run("video-retention", func(t *testing.T) {
		// viewers: ann (lap [0,6) and ph [4,10): {0..9}, one viewer), zed [0,2), cal (the
		// kiosk's April 3, [0,3)). Per second: 0-1: 3, 2: 2, 3-9: 1; 3 loads, 3 plays (the
		// rollups alone count 4: lap, ph, zed, kiosk). Falls of 1 at seconds 2 and 3.
		rest := "|1|0.3333|0|0|3|3|1"
		sameRows(t, "video-retention", call("video-retention", "content", "vidS"),
			"0|3|1|0|0|3|3|1", "1|3|1|0|0|3|3|1", "2|2|0.6667|1|1|3|3|1", "3|1|0.3333|1|2|3|3|1",
			"4"+rest, "5"+rest, "6"+rest, "7"+rest, "8"+rest, "9"+rest)
		// lookback 1: the laptop's April 1 stays anonymous: lap [0,6), ph [4,10), zed
		// [0,2), cal [0,3): 0-1: 3 of 4 ... seconds 4-5 have lap and ph: 2
		sameRows(t, "video-retention lookback 1", call("video-retention", "content", "vidS", "lookback", "1"),
			"0|3|0.75|0|0|4|4|1", "1|3|0.75|0|0|4|4|1", "2|2|0.5|1|1|4|4|1", "3|1|0.25|1|2|4|4|1",
			"4|2|0.5|-1|0|4|4|1", "5|2|0.5|0|0|4|4|1", "6|1|0.25|1|3|4|4|1", "7|1|0.25|0|0|4|4|1", "8|1|0.25|0|0|4|4|1", "9|1|0.25|0|0|4|4|1")
	})

	t.Run("training-completion", func(t *testing.T) {
		// courseS: ann completed on the laptop while anonymous (April 2), cal on the kiosk
		// (April 3), bob not (the kiosk's April 3 is cal's). courseT: the kiosk's April 6
		// completion is after its last first token: nobody's, so bob has not completed.
		sameRows(t, "training-completion", call("training-completion"),
			"courseS|Basics|pB|Beta|1|1|1|[]",
			"courseS|Basics|pA|Alpha|2|1|0.5|[bob]",
			"courseT|Expert|pA|Alpha|1|0|0|[bob]")
		// lookback 0: only the first-token days themselves: nothing anonymous counts
		sameRows(t, "training-completion lookback 0", call("training-completion", "lookback", "0"),
			"courseS|Basics|pA|Alpha|2|0|0|[ann,bob]",
			"courseS|Basics|pB|Beta|1|0|0|[cal]",
			"courseT|Expert|pA|Alpha|1|0|0|[bob]")
	})

	t.Run("campaign-ranking", func(t *testing.T) {
		// engaged: pA read docS 12 s on the laptop (ann's) and played vidS; pB played vidS
		// on the kiosk on April 3 (cal's). bob's 2 s on the kiosk's docS is not engaged.
		sameRows(t, "campaign-ranking", call("campaign-ranking"),
			"cs|Spring|1|pA|Alpha|2|2|1", "cs|Spring|2|pB|Beta|1|2|0.5", "cs|Spring|3|pC|Gamma|0|2|0")
		// April 3 only, any use: the kiosk's vidS that day is cal's (pB), not bob's
		sameRows(t, "campaign-ranking April 3", call("campaign-ranking", "from", "2026-04-03", "to", "2026-04-03", "use", "any"),
			"cs|Spring|1|pB|Beta|1|2|0.5", "cs|Spring|2|pA|Alpha|0|2|0", "cs|Spring|2|pC|Gamma|0|2|0")
		// April 1, any use: docS and vidS on the laptop (ann) and docS on the kiosk (bob)
		sameRows(t, "campaign-ranking April 1", call("campaign-ranking", "from", "2026-04-01", "to", "2026-04-01", "use", "any"),
			"cs|Spring|1|pA|Alpha|2|2|1", "cs|Spring|2|pB|Beta|0|2|0", "cs|Spring|2|pC|Gamma|0|2|0")
	})

	t.Run("content-outcomes", func(t *testing.T) {
		// faqS: pA on April 1 (kiosk -> bob), 2 (laptop -> ann; bob's own), 3 (ann's own):
		// 3 days; pB on April 3 (kiosk -> cal) and 4 (cal's own): 2 days; the kiosk's
		// April 6 is nobody's. Won: pA 1000, pB 0, pC 500 (unused). x = [3, 2, 0],
		// y = [1000, 0, 500]: n = 3, sx = 5, sxx = 13, sy = 1500, syy = 1250000, sxy = 3000;
		// r = (3*3000 - 5*1500) / sqrt((3*13 - 25) * (3*1250000 - 1500^2)) = 1500 /
		// sqrt(14 * 1500000) = 0.3273; users' average (1000 + 0) / 2 = 500, others' 500.
		sameRows(t, "content-outcomes", call("content-outcomes"), "faqS|Setup|faq|5|2|0.3273|500|500")
		// lookback 0: pA {2, 3}, pB {4}: x = [2, 1, 0], sx = 3, sxx = 5, sxy = 2000:
		// r = (6000 - 4500) / sqrt((15 - 9) * 1500000) = 0.5
		sameRows(t, "content-outcomes lookback 0", call("content-outcomes", "lookback", "0"), "faqS|Setup|faq|3|2|0.5|500|500")
	})
}

// The writer's refresh recomputes the claims of the devices a batch touched, whole, from
// every row they have, and leaves the others alone: a device anonymous in an old batch
// and identified in a new one gets its claim from a refresh of the new batch only.
func TestClaimsRefreshTouchedDevices(t *testing.T) {
	conn, db := newDB(t)
	if _, err := Migrate(context.Background(), conn, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	claims := func() [][]string {
		t.Helper()
		return rawRows(t, conn, "SELECT viewer, person, partner_id, lo, hi, anon_first_day FROM "+db+".stitch_claims(tenant = 'st', lookback = 30) ORDER BY viewer, person")
	}
	e := func(id, at, visitor, user string) ev {
		partner := map[string]string{"ann": "pA", "bob": "pB"}[user]
		return ev{tenant: "st", id: id, at: at, typ: "view", visitor: visitor, session: id, partner: partner, user: user, content: "faqS", ctype: "faq"}
	}
	// the old batch: "old" is anonymous, then ann's; "late" is anonymous only
	insert(t, conn, db, "", e("o1", "2026-04-01 10:00:00", "old", ""), e("o2", "2026-04-02 10:00:00", "old", "ann"),
		e("l1", "2026-04-01 11:00:00", "late", ""))
	refreshRows(t, conn, db, time.Hour)
	sameRows(t, "claims after the old batch", claims(), "v:old|ann|pA|2026-03-03|2026-04-02|2026-04-01")
	// as if the old batch had been written an hour ago
	exec(t, conn, "ALTER TABLE "+db+".visitor_people UPDATE updated_at = updated_at - 3600 WHERE 1 SETTINGS mutations_sync = 2")

	// the new batch touches "late" only: bob's token on it
	insert(t, conn, db, "", e("l2", "2026-04-05 10:00:00", "late", "bob"))
	refreshRows(t, conn, db, time.Minute)
	sameRows(t, "claims after the new batch", claims(),
		"v:late|bob|pB|2026-03-06|2026-04-05|2026-04-01", // its anonymous day comes from the old batch's row
		"v:old|ann|pA|2026-03-03|2026-04-02|2026-04-01")  // untouched, kept
}
