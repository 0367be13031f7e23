package schema

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The golden dataset: tenant acme, partners p1 Alpha (people u1 Ann, u2 Bob, u5 Eve),
// p2 Beta (u3 Cid, u4 Dee, u7 Gus), p3 Gamma (u6, whose only traffic is a bot). u1 uses
// two devices (desktop d1, mobile m1); a1 is an anonymous device without a token. Another
// tenant uses the same content ids. Every expected answer below is computed by hand in the
// comments next to the events.

// Batch 1: documents, with a seek back (page 2 again) and a second device.
var goldenDocs = []ev{
	// u1 desktop, 2026-03-02: pages 1, 2, 3, back to 2. dwell 1:3000, 2:2000+1000, 3:4000
	{id: "d-u1-view", at: "2026-03-02 10:00:00", typ: "view", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "doc1", ctype: "document", pageCount: 10},
	{id: "d-u1-p1", at: "2026-03-02 10:00:05", typ: "page", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "doc1", ctype: "document", page: 1, pageCount: 10, dwell: 3000},
	{id: "d-u1-p2", at: "2026-03-02 10:00:10", typ: "page", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "doc1", ctype: "document", page: 2, pageCount: 10, dwell: 2000},
	{id: "d-u1-p3", at: "2026-03-02 10:00:20", typ: "page", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "doc1", ctype: "document", page: 3, pageCount: 10, dwell: 4000},
	{id: "d-u1-p2b", at: "2026-03-02 10:00:30", typ: "page", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "doc1", ctype: "document", page: 2, pageCount: 10, dwell: 1000},
	// u1 mobile, next day: page 3 (+500), page 5 (6000). u1 total: {1:3000,2:3000,3:4500,5:6000} = 16500, 2 sessions
	// (3 opens with the second tab below)
	{id: "d-u1m-view", at: "2026-03-03 08:00:00", typ: "view", visitor: "m1", session: "s2", partner: "p1", user: "u1", content: "doc1", ctype: "document", pageCount: 10},
	{id: "d-u1m-p3", at: "2026-03-03 08:00:05", typ: "page", visitor: "m1", session: "s2", partner: "p1", user: "u1", content: "doc1", ctype: "document", page: 3, pageCount: 10, dwell: 500},
	{id: "d-u1m-p5", at: "2026-03-03 08:00:10", typ: "page", visitor: "m1", session: "s2", partner: "p1", user: "u1", content: "doc1", ctype: "document", page: 5, pageCount: 10, dwell: 6000},
	// u3: page 1 (1000); a late page 2 arrives in batch 3 with an older time
	{id: "d-u3-view", at: "2026-03-02 11:00:00", typ: "view", visitor: "c3", session: "s3", partner: "p2", user: "u3", content: "doc1", ctype: "document", pageCount: 10},
	{id: "d-u3-p1", at: "2026-03-02 11:00:10", typ: "page", visitor: "c3", session: "s3", partner: "p2", user: "u3", content: "doc1", ctype: "document", page: 1, pageCount: 10, dwell: 1000},
	// anonymous a1: {1:700, 2:300}
	{id: "d-a1-view", at: "2026-03-02 12:00:00", typ: "view", visitor: "a1", session: "sa1", content: "doc1", ctype: "document", pageCount: 10},
	{id: "d-a1-p1", at: "2026-03-02 12:00:05", typ: "page", visitor: "a1", session: "sa1", content: "doc1", ctype: "document", page: 1, pageCount: 10, dwell: 700},
	{id: "d-a1-p2", at: "2026-03-02 12:00:10", typ: "page", visitor: "a1", session: "sa1", content: "doc1", ctype: "document", page: 2, pageCount: 10, dwell: 300},
	// u2 opens doc2 (camp1) only
	{id: "d2-u2-view", at: "2026-03-04 09:00:00", typ: "view", visitor: "b2", session: "s5", partner: "p1", user: "u2", content: "doc2", ctype: "document"},
	// a bot attributed to p3 reads everything: excluded everywhere
	{id: "d-bot-view", at: "2026-03-02 13:00:00", typ: "view", visitor: "bot1", session: "sb", partner: "p3", user: "u6", content: "doc1", ctype: "document", pageCount: 10, bot: true},
	{id: "d-bot-p9", at: "2026-03-02 13:00:01", typ: "page", visitor: "bot1", session: "sb", partner: "p3", user: "u6", content: "doc1", ctype: "document", page: 9, pageCount: 10, dwell: 99999, bot: true},
	// the other tenant's doc1
	{id: "d-other", tenant: "other", at: "2026-03-02 10:00:00", typ: "page", visitor: "x", session: "x", partner: "p1", user: "u1", content: "doc1", ctype: "document", page: 7, pageCount: 10, dwell: 5},
	// p4, a partner the partners table does not know (yet), opens doc2 (camp1) and reads
	// its page 1 for exactly 10 s: an engaged use of doc2 (campaign-ranking)
	{id: "d2-u9-view", at: "2026-03-04 10:00:00", typ: "view", visitor: "n9", session: "s10", partner: "p4", user: "u9", content: "doc2", ctype: "document"},
	{id: "d2-u9-p1", at: "2026-03-04 10:00:12", typ: "page", visitor: "n9", session: "s10", partner: "p4", user: "u9", content: "doc2", ctype: "document", page: 1, dwell: 10000},
	// u1 opens doc1 again in a second tab 3 s after the first, same session: u1 has 3
	// opens (views) in 2 sessions
	{id: "d-u1-view2", at: "2026-03-02 10:00:03", typ: "view", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "doc1", ctype: "document", pageCount: 10},
	// u1's page view of doc1 engaged 9.999 s: under campaign-ranking's 10 s minimum
	{id: "d-u1-engage", at: "2026-03-02 10:00:25", typ: "engage", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "doc1", ctype: "document", engaged: 9999},
}

// Batch 2: video vid1 (20 s), with seeks forward and back, a rewatch and two devices.
var goldenVideo = []ev{
	// u1 desktop: [0,5) then seek to 10: [10,15), then back to 3: [3,8) -> {0..7, 10..14}
	{id: "v-u1-view", at: "2026-03-02 10:10:00", typ: "view", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "vid1", ctype: "video"},
	{id: "v-u1-play", at: "2026-03-02 10:10:01", typ: "video", action: "play", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "vid1", ctype: "video", duration: 20},
	{id: "v-u1-pr1", at: "2026-03-02 10:10:06", typ: "video", action: "seek", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "vid1", ctype: "video", duration: 20, watched: [][2]float32{{0, 5}}},
	{id: "v-u1-pr2", at: "2026-03-02 10:10:11", typ: "video", action: "seek", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "vid1", ctype: "video", duration: 20, watched: [][2]float32{{10, 15}}},
	{id: "v-u1-pr3", at: "2026-03-02 10:10:16", typ: "video", action: "progress", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "vid1", ctype: "video", duration: 20, watched: [][2]float32{{3, 8}}},
	// u1 mobile: [14,20) and ended -> u1 overall {0..7, 10..19}
	{id: "v-u1m-pr", at: "2026-03-03 08:10:06", typ: "video", action: "progress", visitor: "m1", session: "s2", partner: "p1", user: "u1", content: "vid1", ctype: "video", duration: 20, watched: [][2]float32{{14, 20}}},
	{id: "v-u1m-end", at: "2026-03-03 08:10:07", typ: "video", action: "ended", visitor: "m1", session: "s2", partner: "p1", user: "u1", content: "vid1", ctype: "video", duration: 20},
	// u2: [0,2.5) -> {0,1,2}
	{id: "v-u2-view", at: "2026-03-02 10:20:00", typ: "view", visitor: "b2", session: "s5", partner: "p1", user: "u2", content: "vid1", ctype: "video"},
	{id: "v-u2-pr", at: "2026-03-02 10:20:03", typ: "video", action: "pause", visitor: "b2", session: "s5", partner: "p1", user: "u2", content: "vid1", ctype: "video", duration: 20, watched: [][2]float32{{0, 2.5}}},
	// u3 loads the player and never plays
	{id: "v-u3-view", at: "2026-03-02 11:20:00", typ: "view", visitor: "c3", session: "s3", partner: "p2", user: "u3", content: "vid1", ctype: "video"},
	// a1: [0,10) -> {0..9}
	{id: "v-a1-view", at: "2026-03-02 12:20:00", typ: "view", visitor: "a1", session: "sa1", content: "vid1", ctype: "video"},
	{id: "v-a1-pr", at: "2026-03-02 12:20:10", typ: "video", action: "progress", visitor: "a1", session: "sa1", content: "vid1", ctype: "video", duration: 20, watched: [][2]float32{{0, 6}, {6, 10}}},
	// bot watches everything
	{id: "v-bot", at: "2026-03-02 13:20:00", typ: "video", action: "progress", visitor: "bot1", session: "sb", partner: "p3", user: "u6", content: "vid1", ctype: "video", duration: 20, watched: [][2]float32{{0, 20}}, bot: true},
}

// Batch 3: courses, FAQ and tools, the campaign link, and late and duplicated events.
var goldenRest = []ev{
	// course1: u1 completes on mobile; u5 completes; u3 completes twice; u2 only starts;
	// u7 completes but is not assigned; a bot completes for u4.
	{id: "c-u1-view", at: "2026-03-02 14:00:00", typ: "view", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "course1", ctype: "course"},
	{id: "c-u1-done", at: "2026-03-03 14:00:00", typ: "complete", visitor: "m1", session: "s2", partner: "p1", user: "u1", content: "course1", ctype: "course"},
	{id: "c-u5-done", at: "2026-03-03 15:00:00", typ: "complete", visitor: "e5", session: "s8", partner: "p1", user: "u5", content: "course1", ctype: "course"},
	{id: "c-u3-done1", at: "2026-03-02 15:00:00", typ: "complete", visitor: "c3", session: "s3", partner: "p2", user: "u3", content: "course1", ctype: "course"},
	{id: "c-u3-done2", at: "2026-03-05 15:00:00", typ: "complete", visitor: "c3", session: "s4", partner: "p2", user: "u3", content: "course1", ctype: "course"},
	{id: "c-u2-view", at: "2026-03-02 16:00:00", typ: "view", visitor: "b2", session: "s5", partner: "p1", user: "u2", content: "course1", ctype: "course"},
	{id: "c-u7-done", at: "2026-03-02 16:00:00", typ: "complete", visitor: "g7", session: "s9", partner: "p2", user: "u7", content: "course1", ctype: "course"},
	{id: "c-bot-done", at: "2026-03-02 16:00:00", typ: "complete", visitor: "bot1", session: "sb", partner: "p2", user: "u4", content: "course1", ctype: "course", bot: true},
	// faq1 (camp1): sessions p1 {s1, s5}, p2 {s3}, anonymous {sa1}
	{id: "f-u1-view", at: "2026-03-02 17:00:00", typ: "view", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "faq1", ctype: "faq"},
	{id: "f-u1-click", at: "2026-03-02 17:00:05", typ: "click", action: "outbound", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "faq1", ctype: "faq"},
	{id: "f-u2-view", at: "2026-03-02 17:10:00", typ: "view", visitor: "b2", session: "s5", partner: "p1", user: "u2", content: "faq1", ctype: "faq"},
	{id: "f-u3-view", at: "2026-03-02 17:20:00", typ: "view", visitor: "c3", session: "s3", partner: "p2", user: "u3", content: "faq1", ctype: "faq"},
	// u3 reads faq1 for 12 s: an engaged use (campaign-ranking)
	{id: "f-u3-engage", at: "2026-03-02 17:20:20", typ: "engage", visitor: "c3", session: "s3", partner: "p2", user: "u3", content: "faq1", ctype: "faq", engaged: 12000},
	{id: "f-a1-view", at: "2026-03-02 17:30:00", typ: "view", visitor: "a1", session: "sa1", content: "faq1", ctype: "faq"},
	// faq9 is a FAQ only by its events (the contents table does not have it), read by u3
	// on March 3; events also call doc2 a FAQ, but the contents table says document
	{id: "f9-u3-view", at: "2026-03-03 09:00:00", typ: "view", visitor: "c3", session: "s12", partner: "p2", user: "u3", content: "faq9", ctype: "faq"},
	{id: "d2-u1-faq", at: "2026-03-03 09:30:00", typ: "view", visitor: "d1", session: "s13", partner: "p1", user: "u1", content: "doc2", ctype: "faq"},
	// p4 (not in the partners table, no deals) reads faq1 on March 4
	{id: "f-u9-view", at: "2026-03-04 10:05:00", typ: "view", visitor: "n9", session: "s10", partner: "p4", user: "u9", content: "faq1", ctype: "faq"},
	// tool1 (a page tagged tool, camp2): u3 in two sessions
	{id: "t-u3-a", at: "2026-03-02 18:00:00", typ: "view", visitor: "c3", session: "s3", partner: "p2", user: "u3", content: "tool1", ctype: "page"},
	{id: "t-u3-b", at: "2026-03-04 18:00:00", typ: "view", visitor: "c3", session: "s4", partner: "p2", user: "u3", content: "tool1", ctype: "page"},
	// page9 is in camp2 only through the campaign's tracked link (not in contents), which
	// u8 of p3 opened; u1 came in through a camp2 link too and read faq1, which does not
	// make faq1 a camp2 content
	{id: "l-p3", at: "2026-03-02 19:00:00", typ: "click", action: "tracked", visitor: "f6", session: "link", partner: "p3", user: "u8", campaign: "camp2", content: "page9"},
	{id: "l-u1-faq", at: "2026-03-02 19:05:00", typ: "view", visitor: "d1", session: "s1", partner: "p1", user: "u1", campaign: "camp2", content: "faq1", ctype: "faq"},
	// late: u3's doc1 page 2 (2000 ms) happened before everything else
	{id: "d-u3-p2-late", at: "2026-03-01 09:00:00", typ: "page", visitor: "c3", session: "s3", partner: "p2", user: "u3", content: "doc1", ctype: "document", page: 2, pageCount: 10, dwell: 2000},
	// duplicates of events of batches 1 and 2, delivered again in another batch
	goldenDocs[7],  // d-u1m-p5
	goldenVideo[8], // v-u2-pr
	goldenDocs[0],  // d-u1-view: still 3 opens
}

const (
	goldenPartners  = "partner_id,name,tier\np1,Alpha,gold\np2,Beta,silver\np3,Gamma,\n"
	goldenUsers     = "partner_user_id,partner_id,name\nu1,p1,Ann\nu2,p1,Bob\nu3,p2,Cid\nu4,p2,Dee\nu5,p1,Eve\nu6,p3,Fay\nu7,p2,Gus\n"
	goldenCampaigns = "campaign_id,name,starts_on,ends_on\ncamp1,Launch,2026-03-01,2026-03-31\ncamp2,Tools,2026-03-01,\n"
	goldenContents  = "content_id,content_type,title,campaign_id,duration_s,page_count,tags\n" +
		"doc1,document,Price list,camp1,,10,\ndoc2,document,Brochure,camp1,,4,\nvid1,video,Demo video,camp1,20,,training\n" +
		"faq1,faq,Setup FAQ,camp1,,,faq\ntool1,page,ROI calculator,camp2,,,tool\ncourse1,course,Onboarding,,,,training\ncourse2,course,Advanced,,,,training\n"
	goldenAssignments = "course_id,partner_user_id,partner_id,assigned_on\ncourse1,u1,p1,2026-03-01\ncourse1,u2,p1,2026-03-01\ncourse1,u5,p1,2026-03-01\n" +
		"course1,u3,p2,2026-03-01\ncourse1,u4,p2,2026-03-01\ncourse2,u4,p2,2026-03-01\n"
	goldenDeals = "deal_id,partner_id,amount,currency,stage,closed_on\nk1,p1,1000,EUR,won,2026-03-10\nk2,p1,500,EUR,lost,2026-03-11\nk3,p2,3000.00,EUR,won,2026-03-12\n"
)

// loadGolden migrates a fresh database and loads the golden dataset, each batch inserted
// twice with the same insert_deduplication_token, as a retrying ingest would.
func loadGolden(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	if _, err := Migrate(context.Background(), conn, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	loadGoldenData(t, conn, db)
}

// loadGoldenData loads the golden dataset into a migrated database.
func loadGoldenData(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	for i, batch := range [][]ev{goldenDocs, goldenVideo, goldenRest} {
		token := "golden-" + string(rune('a'+i))
		insert(t, conn, db, token, batch...)
		insert(t, conn, db, token, batch...) // the retry: dropped everywhere
	}
	// as the ingest does after each batch: recompute the document viewers just written
	refreshRows(t, conn, db, time.Hour)
	// the other tenant's deal and partner must not leak in
	importCSV(t, conn, db, "deals", "other", "deal_id,partner_id,amount,stage\nk9,p3,99999,won\n")
	importCSV(t, conn, db, "partners", "acme", goldenPartners)
	importCSV(t, conn, db, "partner_users", "acme", goldenUsers)
	importCSV(t, conn, db, "campaigns", "acme", goldenCampaigns)
	importCSV(t, conn, db, "contents", "acme", goldenContents)
	importCSV(t, conn, db, "course_assignments", "acme", goldenAssignments)
	importCSV(t, conn, db, "deals", "acme", goldenDeals)
	// re-importing is idempotent
	importCSV(t, conn, db, "contents", "acme", goldenContents)
	importCSV(t, conn, db, "deals", "acme", goldenDeals)
}

func TestGolden(t *testing.T) {
	conn, db := newDB(t)
	loadGolden(t, conn, db)

	// The token retry was dropped: each batch is in events once; the two re-delivered
	// events are in events twice (no token can catch them) and must not count twice below.
	want := uint64(len(goldenDocs) + len(goldenVideo) + len(goldenRest))
	if n := scalar[uint64](t, conn, "SELECT count() FROM "+db+".events"); n != want {
		t.Fatalf("events: %d rows, want %d", n, want)
	}
	if n := scalar[uint64](t, conn, "SELECT count() FROM "+db+".contents FINAL"); n != 7 {
		t.Fatalf("contents after re-import: %d rows, want 7", n)
	}

	t.Run("document-views", func(t *testing.T) {
		checkDocumentViews(t, conn, db)
	})

	t.Run("video-retention", func(t *testing.T) {
		// viewers per second: u1 {0..7,10..19}, u2 {0,1,2}, a1 {0..9}; plays 3 of 4 loads
		got := run(t, conn, db, "video-retention", map[string]string{"tenant": "acme", "content": "vid1"})
		sameRows(t, "video-retention", got,
			"0|3|1|0|0|4|3|0.75",
			"1|3|1|0|0|4|3|0.75",
			"2|3|1|0|0|4|3|0.75",
			"3|2|0.6667|1|1|4|3|0.75",
			"4|2|0.6667|0|0|4|3|0.75",
			"5|2|0.6667|0|0|4|3|0.75",
			"6|2|0.6667|0|0|4|3|0.75",
			"7|2|0.6667|0|0|4|3|0.75",
			"8|1|0.3333|1|2|4|3|0.75",
			"9|1|0.3333|0|0|4|3|0.75",
			"10|1|0.3333|0|0|4|3|0.75",
			"11|1|0.3333|0|0|4|3|0.75",
			"12|1|0.3333|0|0|4|3|0.75",
			"13|1|0.3333|0|0|4|3|0.75",
			"14|1|0.3333|0|0|4|3|0.75",
			"15|1|0.3333|0|0|4|3|0.75",
			"16|1|0.3333|0|0|4|3|0.75",
			"17|1|0.3333|0|0|4|3|0.75",
			"18|1|0.3333|0|0|4|3|0.75",
			"19|1|0.3333|0|0|4|3|0.75",
		)
		sameRows(t, "video-retention unknown video", run(t, conn, db, "video-retention", map[string]string{"tenant": "acme", "content": "nope"}))
	})

	t.Run("training-completion", func(t *testing.T) {
		// course1 p1: u1 (two devices), u5 done, u2 not; p2: u3 (twice) done, u4 not (the
		// bot's completion does not count), u7 done but not assigned; course2: nobody.
		sameRows(t, "training-completion", run(t, conn, db, "training-completion", map[string]string{"tenant": "acme"}),
			"course1|Onboarding|p1|Alpha|3|2|0.6667|[u2]",
			"course1|Onboarding|p2|Beta|2|1|0.5|[u4]",
			"course2|Advanced|p2|Beta|1|0|0|[u4]",
		)
		sameRows(t, "training-completion p2 course1", run(t, conn, db, "training-completion", map[string]string{"tenant": "acme", "partner": "p2", "course": "course1"}),
			"course1|Onboarding|p2|Beta|2|1|0.5|[u4]",
		)
	})

	t.Run("content-outcomes", func(t *testing.T) {
		// partners p1, p2, p3 and p4 (known only from its use of faq1); won amounts: p1 1000
		// (the lost deal does not count), p2 3000, p3 0, p4 0.
		// faq1: p1 used it on March 2 (u1 twice, u2), p2 on March 2 (u3), p4 on March 4, the
		// anonymous a1 counts for no partner: days [1,1,0,1] against [1000,3000,0,0] ->
		// corr (4*4000 - 3*4000) / sqrt((4*3 - 9) * (4*10e6 - 16e6)) = 4000 / 8485.28 =
		// 0.4714; avg won of users 4000/3, others 0/1.
		// tool1: p2 on March 2 and 4 -> [0,2,0,0] -> corr (4*6000 - 2*4000) /
		// sqrt((4*4 - 4) * 24e6) = 0.9428; users 3000, others (1000+0+0)/3.
		// faq9 (no title: only events know it): p2 on March 3 -> [0,1,0,0] -> corr
		// (4*3000 - 4000) / sqrt((4 - 1) * 24e6) = 0.9428; users 3000, others 1000/3.
		// doc2 is not listed: the contents table's kind wins.
		sameRows(t, "content-outcomes", run(t, conn, db, "content-outcomes", map[string]string{"tenant": "acme"}),
			"faq1|Setup FAQ|faq|3|3|0.4714|1333.33|0",
			"tool1|ROI calculator|tool|2|1|0.9428|3000|333.33",
			"faq9||faq|1|1|0.9428|3000|333.33",
		)
		// in a period without deals the correlation is undefined; tool1's March 4 is out,
		// and so is p4 (its only use is on March 4)
		sameRows(t, "content-outcomes early March", run(t, conn, db, "content-outcomes", map[string]string{"tenant": "acme", "to": "2026-03-03"}),
			"faq1|Setup FAQ|faq|2|2||0|0",
			"faq9||faq|1|1||0|0",
			"tool1|ROI calculator|tool|1|1||0|0",
		)
	})

	t.Run("campaign-ranking", func(t *testing.T) {
		// By default a partner consumed a content when one of its people engaged with it:
		// 10 s engaged on a page view, a document page visible 10 s in one report, a video
		// play, a completion.
		// camp1 = doc1, doc2, vid1, faq1: p1 played vid1 (u1, u2) but read doc1 for less
		// than 10 s a page (u1's engage is 9999 ms) and only opened doc2 and faq1 -> 1;
		// p2 read faq1 engaged for 12 s (u3) but doc1 only 1 and 2 s a page and never
		// played vid1 -> 1; p4 (not in the partners table) read doc2's page 1 for 10 s
		// -> 1; p3 only a bot -> 0.
		// camp2 = tool1 + page9 (via its link): p2 only opened tool1, p3 only clicked the
		// tracked link to page9: nobody consumed anything, all tied at rank 1.
		sameRows(t, "campaign-ranking", run(t, conn, db, "campaign-ranking", map[string]string{"tenant": "acme"}),
			"camp1|Launch|1|p1|Alpha|1|4|0.25",
			"camp1|Launch|1|p2|Beta|1|4|0.25",
			"camp1|Launch|1|p4||1|4|0.25",
			"camp1|Launch|4|p3|Gamma|0|4|0",
			"camp2|Tools|1|p1|Alpha|0|2|0",
			"camp2|Tools|1|p2|Beta|0|2|0",
			"camp2|Tools|1|p3|Gamma|0|2|0",
			"camp2|Tools|1|p4||0|2|0",
		)
		// only March 2: p4's reading was on March 4
		sameRows(t, "campaign-ranking camp1 on March 2", run(t, conn, db, "campaign-ranking", map[string]string{"tenant": "acme", "campaign": "camp1", "from": "2026-03-02", "to": "2026-03-02"}),
			"camp1|Launch|1|p1|Alpha|1|4|0.25",
			"camp1|Launch|1|p2|Beta|1|4|0.25",
			"camp1|Launch|3|p3|Gamma|0|4|0",
		)
		// use=any: any non-bot event counts, a tracked-link click alone included.
		// camp1: p1 all 4, p2 doc1+vid1+faq1, p4 doc2+faq1, p3 only a bot.
		// camp2: p2 tool1, p3 page9 (its click); p4 is ranked there too.
		sameRows(t, "campaign-ranking use=any", run(t, conn, db, "campaign-ranking", map[string]string{"tenant": "acme", "use": "any"}),
			"camp1|Launch|1|p1|Alpha|4|4|1",
			"camp1|Launch|2|p2|Beta|3|4|0.75",
			"camp1|Launch|3|p4||2|4|0.5",
			"camp1|Launch|4|p3|Gamma|0|4|0",
			"camp2|Tools|1|p2|Beta|1|2|0.5",
			"camp2|Tools|1|p3|Gamma|1|2|0.5",
			"camp2|Tools|3|p1|Alpha|0|2|0",
			"camp2|Tools|3|p4||0|2|0",
		)
		// only March 2: p1 did not open doc2 yet
		sameRows(t, "campaign-ranking use=any camp1 on March 2", run(t, conn, db, "campaign-ranking", map[string]string{"tenant": "acme", "campaign": "camp1", "from": "2026-03-02", "to": "2026-03-02", "use": "any"}),
			"camp1|Launch|1|p1|Alpha|3|4|0.75",
			"camp1|Launch|1|p2|Beta|3|4|0.75",
			"camp1|Launch|3|p3|Gamma|0|4|0",
		)
		q, err := LookupQuery("campaign-ranking")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := q.Run(context.Background(), conn, db, map[string]string{"tenant": "acme", "use": "clicks"}); err == nil {
			t.Fatal("campaign-ranking use=clicks: no error, want one naming the parameter")
		}
	})

	t.Run("query-views", func(t *testing.T) {
		// the q_<name> views answer like the saved queries (every parameter given)
		for _, c := range []struct {
			name, args string
			params     map[string]string
		}{
			{"document-views", "tenant = 'acme', content = 'doc1', from = '1970-01-01', to = '2100-01-01', partner = '', limit = 1000, lookback = 30", map[string]string{"tenant": "acme", "content": "doc1"}},
			{"video-retention", "tenant = 'acme', content = 'vid1', lookback = 30", map[string]string{"tenant": "acme", "content": "vid1"}},
			{"training-completion", "tenant = 'acme', course = '', partner = '', lookback = 30", map[string]string{"tenant": "acme"}},
			{"content-outcomes", "tenant = 'acme', from = '1970-01-01', to = '2100-01-01', lookback = 30", map[string]string{"tenant": "acme"}},
			{"campaign-ranking", "tenant = 'acme', campaign = '', from = '1970-01-01', to = '2100-01-01', use = 'engaged', lookback = 30", map[string]string{"tenant": "acme"}},
			{"campaign-ranking", "tenant = 'acme', campaign = '', from = '1970-01-01', to = '2100-01-01', use = 'any', lookback = 30", map[string]string{"tenant": "acme", "use": "any"}},
		} {
			want := run(t, conn, db, c.name, c.params)
			got := rawRows(t, conn, "SELECT * FROM "+db+"."+ViewName(c.name)+"("+c.args+")")
			if len(want) == 0 || joinRows(got) != joinRows(want) {
				t.Fatalf("%s view:\n%s\nsaved query:\n%s", c.name, joinRows(got), joinRows(want))
			}
		}
	})

	t.Run("bi-views", func(t *testing.T) {
		sameRows(t, "bi_document_viewers", rawRows(t, conn, "SELECT viewer, partner_id, max_page, pages_seen, opens, sessions, total_dwell_ms FROM "+db+".bi_document_viewers WHERE tenant = 'acme' AND content_id = 'doc1' ORDER BY viewer"),
			"u:u1|p1|5|4|3|2|16500", "u:u3|p2|2|2|1|1|3000", "v:a1||2|2|1|1|1000")
		sameRows(t, "bi_document_page_dwell", rawRows(t, conn, "SELECT page, dwell_ms FROM "+db+".bi_document_page_dwell WHERE tenant = 'acme' AND content_id = 'doc1' AND viewer = 'u:u1' ORDER BY page"),
			"1|3000", "2|3000", "3|4500", "5|6000")
		// u1 watched {0..7, 10..19} of 20 s on two devices and ended on the second
		sameRows(t, "bi_video_viewers", rawRows(t, conn, "SELECT viewer, loaded, played, ended, furthest, seconds_watched, completion FROM "+db+".bi_video_viewers WHERE tenant = 'acme' AND content_id = 'vid1' ORDER BY viewer"),
			"u:u1|1|1|1|20|18|0.9", "u:u2|1|1|0|2.5|3|0.15", "u:u3|1|0|0|0|0|", "v:a1|1|1|0|10|10|0.5")
		sameRows(t, "bi_video_seconds", rawRows(t, conn, "SELECT sum(viewers), count() FROM "+db+".bi_video_seconds WHERE tenant = 'acme' AND content_id = 'vid1'"),
			"31|20")
		sameRows(t, "bi_training_status", rawRows(t, conn, "SELECT course_id, partner_user_id, completed FROM "+db+".bi_training_status WHERE tenant = 'acme' ORDER BY course_id, partner_user_id"),
			"course1|u1|1", "course1|u2|0", "course1|u3|1", "course1|u4|0", "course1|u5|1", "course2|u4|0")
		// a row per (day, partner, content, link campaign): p1's session s1 is on two rows,
		// without and with camp2
		sameRows(t, "bi_content_use_daily", rawRows(t, conn, "SELECT partner_id, sum(sessions), sum(events) FROM "+db+".bi_content_use_daily WHERE tenant = 'acme' AND content_id = 'faq1' GROUP BY partner_id ORDER BY partner_id"),
			"|1|1", "p1|3|4", "p2|1|2", "p4|1|1")
		sameRows(t, "bi_partner_deals", rawRows(t, conn, "SELECT partner_id, won_deals, won_amount, deals FROM "+db+".bi_partner_deals WHERE tenant = 'acme' ORDER BY partner_id"),
			"p1|1|1000|2", "p2|1|3000|1")
	})
}

// goldenDocViewers are document-views' rows for doc1, earliest first. opens counts view
// events (u1: two tabs on the desktop, one on the mobile, one re-delivered), sessions the
// sessions.
var goldenDocViewers = []string{
	"p2|Beta|u3|Cid|u:u3|2026-03-01 09:00:00.000|2026-03-02 11:00:10.000|2|10|2|1|1|3000|{1:1000,2:2000}|0",
	"p1|Alpha|u1|Ann|u:u1|2026-03-02 10:00:00.000|2026-03-03 08:00:10.000|5|10|4|3|2|16500|{1:3000,2:3000,3:4500,5:6000}|0",
	"||||v:a1|2026-03-02 12:00:00.000|2026-03-02 12:00:10.000|2|10|2|1|1|1000|{1:700,2:300}|0",
}

// checkDocumentViews checks document-views on the golden data.
func checkDocumentViews(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	call := func(kv ...string) [][]string {
		p := map[string]string{"tenant": "acme", "content": "doc1"}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return run(t, conn, db, "document-views", p)
	}
	all := goldenDocViewers
	sameRows(t, "document-views", call(), all...)
	sameRows(t, "document-views from 2026-03-03", call("from", "2026-03-03"), all[1])
	sameRows(t, "document-views to 2026-03-02", call("to", "2026-03-02"), all[0])
	sameRows(t, "document-views partner p1", call("partner", "p1"), all[1])
	sameRows(t, "document-views limit 2", call("limit", "2"), all[:2]...)
	sameRows(t, "document-views other tenant", call("tenant", "other"),
		// a page event without a view: 0 opens in 1 session
		"p1||u1||u:u1|2026-03-02 10:00:00.000|2026-03-02 10:00:00.000|7|10|1|0|1|5|{7:5}|0")
}

// document-views reads doc_viewer_rows, the finished row of each viewer, which a refresh
// after each write recomputes for the viewers written in the refresh's window only.
func TestDocViewerRows(t *testing.T) {
	conn, db := newDB(t)
	loadGolden(t, conn, db)
	doc1 := map[string]string{"tenant": "acme", "content": "doc1"}
	versions := func() uint64 {
		t.Helper()
		return scalar[uint64](t, conn, "SELECT count() FROM "+db+".doc_viewer_rows WHERE tenant = 'acme'")
	}
	// As if the golden events had been written an hour ago: a refresh of the last minute
	// must then recompute only what is written below.
	exec(t, conn, "ALTER TABLE "+db+".doc_viewers UPDATE updated_at = updated_at - 3600 WHERE 1 SETTINGS mutations_sync = 2")
	before := versions()

	// u3 reads page 4 for 800 ms. Until a refresh the answer stays the last finished one:
	// the query reads nothing else.
	insert(t, conn, db, "u3-page-4", ev{id: "d-u3-p4", at: "2026-03-06 10:00:00", typ: "page", visitor: "c3", session: "s11", partner: "p2", user: "u3", content: "doc1", ctype: "document", page: 4, pageCount: 10, dwell: 800})
	sameRows(t, "document-views before the refresh", run(t, conn, db, "document-views", doc1), goldenDocViewers...)
	refreshRows(t, conn, db, time.Minute)
	u3 := "p2|Beta|u3|Cid|u:u3|2026-03-01 09:00:00.000|2026-03-06 10:00:00.000|4|10|3|1|2|3800|{1:1000,2:2000,4:800}|0"
	sameRows(t, "document-views after the refresh", run(t, conn, db, "document-views", doc1), u3, goldenDocViewers[1], goldenDocViewers[2])
	if n := versions(); n != before+1 {
		t.Fatalf("the refresh wrote %d rows, want 1 (u3 only)", n-before)
	}

	// Newer versions replace older ones even when the sort order or a filtered column
	// changes: a1 turns out to have opened the document first (a late view), and u1 is
	// seen attributed to p2 (partner_id is the largest seen), so a filter on p1 must not
	// find u1's older version.
	insert(t, conn, db, "changes",
		ev{id: "d-a1-late", at: "2026-02-28 08:00:00", typ: "view", visitor: "a1", session: "sa0", content: "doc1", ctype: "document", pageCount: 10},
		ev{id: "d-u1-as-p2", at: "2026-03-07 10:00:00", typ: "view", visitor: "d1", session: "s12", partner: "p2", user: "u1", content: "doc1", ctype: "document", pageCount: 10})
	refreshRows(t, conn, db, time.Minute)
	a1 := "||||v:a1|2026-02-28 08:00:00.000|2026-03-02 12:00:10.000|2|10|2|2|2|1000|{1:700,2:300}|0"
	u1 := "p2|Beta|u1|Ann|u:u1|2026-03-02 10:00:00.000|2026-03-07 10:00:00.000|5|10|4|4|3|16500|{1:3000,2:3000,3:4500,5:6000}|0"
	sameRows(t, "document-views after the changes", run(t, conn, db, "document-views", doc1), a1, u3, u1)
	sameRows(t, "document-views partner p1", run(t, conn, db, "document-views", map[string]string{"tenant": "acme", "content": "doc1", "partner": "p1"}))
	sameRows(t, "document-views partner p2", run(t, conn, db, "document-views", map[string]string{"tenant": "acme", "content": "doc1", "partner": "p2"}), u3, u1)
	sameRows(t, "bi_document_viewers", rawRows(t, conn, "SELECT viewer, partner_id, opens FROM "+db+".bi_document_viewers WHERE tenant = 'acme' AND content_id = 'doc1' ORDER BY viewer"),
		"u:u1|p2|4", "u:u3|p2|1", "v:a1||2")
}
