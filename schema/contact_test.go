package schema

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The contact dataset (contact-timeline, partner-activity, content-reach): tenant acme,
// evaluated on the 7 days to Sunday 2026-03-29 (W = March 23-29) against a 2-week
// baseline (B = March 9-22). Partners: pa Active (a1 Ann, a2 Art, a3 Ada), ps Silent
// (s1 Sam, s2 Sue), pc Cooling (c1 Cal), pn Nobody (n1 Ned, never seen), pz Zero (no one).
// Contents: doc1 (document, 4 pages) and vid1 (video, 10 s) in campaign camp1, faq1.
//
// Identity stitching (lookback 30 days):
//   - a1's laptop "lap" is anonymous until a1's token arrives on it on March 24: its
//     anonymous touches of March 5 (doc1) and March 20 (vid1) count for a1; the one of
//     February 10 is 42 days earlier and does not (it does with lookback 60). a1 also uses
//     a phone, "mob", verified from its first event.
//   - the shared device "kiosk": anonymous on March 10, a2's token on March 12, anonymous
//     on March 15, c1's token on March 16, anonymous on March 28. March 10 goes to a2
//     (the first token after it), March 15 to c1, March 28 to nobody (no token after it).
var contactEvents = func() []ev {
	a1 := func(id, at, typ, visitor, session, content, ctype string) ev {
		return ev{id: id, at: at, typ: typ, visitor: visitor, session: session, partner: "pa", user: "a1", content: content, ctype: ctype}
	}
	anon := func(id, at, typ, visitor, session, content, ctype string) ev {
		return ev{id: id, at: at, typ: typ, visitor: visitor, session: session, content: content, ctype: ctype}
	}
	evs := []ev{
		// lap, anonymous: doc1 on Feb 10 (out of the lookback)
		anon("lap-0210", "2026-02-10 09:00:00", "view", "lap", "L0", "doc1", "document"),
		// lap, anonymous, March 5: doc1 pages 1 (4000 ms) and 2 (6000 ms), page 2's event
		// delivered twice -> 2 of 4 pages, 10000 ms
		anon("lap-0305-v", "2026-03-05 10:00:00", "view", "lap", "L1", "doc1", "document"),
		{id: "lap-0305-p1", at: "2026-03-05 10:00:05", typ: "page", visitor: "lap", session: "L1", content: "doc1", ctype: "document", page: 1, pageCount: 4, dwell: 4000},
		{id: "lap-0305-p2", at: "2026-03-05 10:00:15", typ: "page", visitor: "lap", session: "L1", content: "doc1", ctype: "document", page: 2, pageCount: 4, dwell: 6000},
		{id: "lap-0305-p2", at: "2026-03-05 10:00:15", typ: "page", visitor: "lap", session: "L1", content: "doc1", ctype: "document", page: 2, pageCount: 4, dwell: 6000},
		// lap, anonymous, March 20: vid1 [0, 4) -> 4 of 10 s
		{id: "lap-0320", at: "2026-03-20 11:00:00", typ: "video", action: "progress", visitor: "lap", session: "L2", content: "vid1", ctype: "video", duration: 10, watched: [][2]float32{{0, 4}}},
		// lap, a1's token, March 24: faq1 and an outbound click
		a1("lap-0324-v", "2026-03-24 09:00:00", "view", "lap", "L3", "faq1", "faq"),
		func() ev {
			e := a1("lap-0324-c", "2026-03-24 09:01:00", "click", "lap", "L3", "faq1", "faq")
			e.action = "outbound"
			return e
		}(),
		// mob (a phone), a1's token, March 25: vid1 [2, 10) and ended -> 8 of 10 s, via camp1's link
		func() ev {
			e := a1("mob-0325-l", "2026-03-25 07:59:59", "click", "mob", "M1", "vid1", "")
			e.action, e.campaign, e.device = "tracked", "camp1", "mobile"
			return e
		}(),
		func() ev {
			e := a1("mob-0325-p", "2026-03-25 08:00:00", "video", "mob", "M1", "vid1", "video")
			e.action, e.duration, e.watched, e.device, e.campaign = "progress", 10, [][2]float32{{2, 10}}, "mobile", "camp1"
			return e
		}(),
		func() ev {
			e := a1("mob-0325-e", "2026-03-25 08:00:10", "video", "mob", "M1", "vid1", "video")
			e.action, e.duration, e.device, e.campaign = "ended", 10, "mobile", "camp1"
			return e
		}(),
		// kiosk
		anon("k-0310", "2026-03-10 12:00:00", "view", "kiosk", "K1", "doc1", "document"),
		{id: "k-0312", at: "2026-03-12 12:00:00", typ: "view", visitor: "kiosk", session: "K2", partner: "pa", user: "a2", content: "faq1", ctype: "faq"},
		anon("k-0315", "2026-03-15 12:00:00", "view", "kiosk", "K3", "doc1", "document"),
		{id: "k-0316", at: "2026-03-16 12:00:00", typ: "view", visitor: "kiosk", session: "K4", partner: "pc", user: "c1", content: "faq1", ctype: "faq"},
		anon("k-0328", "2026-03-28 12:00:00", "view", "kiosk", "K5", "doc1", "document"),
		// a2 on its own device, March 26
		{id: "a2-0326", at: "2026-03-26 15:00:00", typ: "view", visitor: "a2dev", session: "A1", partner: "pa", user: "a2", content: "doc1", ctype: "document"},
		// s2: vid1 on Monday March 9 only
		{id: "s2-0309", at: "2026-03-09 09:30:00", typ: "view", visitor: "s2dev", session: "S9", partner: "ps", user: "s2", content: "vid1", ctype: "video"},
		// a bot carrying s1's token in the window: never counts
		{id: "s1-bot", at: "2026-03-25 10:00:00", typ: "view", visitor: "bot", session: "B", partner: "ps", user: "s1", content: "doc1", ctype: "document", bot: true},
	}
	// s1: doc1 on Mondays March 9 and 16, faq1 on Wednesdays March 11 and 18, then nothing
	for _, d := range []string{"09", "16"} {
		evs = append(evs, ev{id: "s1-" + d, at: "2026-03-" + d + " 10:00:00", typ: "view", visitor: "s1dev", session: "S" + d, partner: "ps", user: "s1", content: "doc1", ctype: "document"})
	}
	for _, d := range []string{"11", "18"} {
		evs = append(evs, ev{id: "s1-" + d, at: "2026-03-" + d + " 10:00:00", typ: "view", visitor: "s1dev", session: "S" + d, partner: "ps", user: "s1", content: "faq1", ctype: "faq"})
	}
	// c1: doc1 every weekday of the baseline (March 9-13 and 16-20), then only on Monday
	// March 23
	for _, d := range []int{9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 23} {
		evs = append(evs, ev{id: fmt.Sprint("c1-", d), at: fmt.Sprintf("2026-03-%02d 08:00:00", d), typ: "view", visitor: "c1dev", session: fmt.Sprint("C", d), partner: "pc", user: "c1", content: "doc1", ctype: "document"})
	}
	return evs
}()

const (
	contactPartners = "partner_id,name\npa,Active\nps,Silent\npc,Cooling\npn,Nobody\npz,Zero\n"
	contactUsers    = "partner_user_id,partner_id,name\na1,pa,Ann\na2,pa,Art\na3,pa,Ada\ns1,ps,Sam\ns2,ps,Sue\nc1,pc,Cal\nn1,pn,Ned\n"
	contactContents = "content_id,content_type,title,campaign_id,duration_s,page_count,tags\n" +
		"doc1,document,Price list,camp1,,4,\nvid1,video,Demo,camp1,10,,\nfaq1,faq,Setup FAQ,,,,faq\n"
)

// loadContacts migrates a fresh database and loads the contact dataset in two batches
// (the second retried with its token).
func loadContacts(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	if _, err := Migrate(context.Background(), conn, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	half := len(contactEvents) / 2
	insert(t, conn, db, "contact-a", contactEvents[:half]...)
	insert(t, conn, db, "contact-b", contactEvents[half:]...)
	insert(t, conn, db, "contact-b", contactEvents[half:]...)
	refreshRows(t, conn, db, time.Hour)
	importCSV(t, conn, db, "partners", "acme", contactPartners)
	importCSV(t, conn, db, "partner_users", "acme", contactUsers)
	importCSV(t, conn, db, "contents", "acme", contactContents)
	importCSV(t, conn, db, "campaigns", "acme", "campaign_id,name\ncamp1,Launch\n")
}

// timeline columns checked: at, person, partner_id, partner_name, viewer, stitched,
// content_id, content_type, title, sessions, pages_seen, page_count, dwell_ms,
// seconds_watched, duration, completion, completed, clicks, devices, campaigns, via_link
func timelineRows(rows [][]string) [][]string {
	return project(rows, 0, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22)
}

var (
	tlA1Vid  = "2026-03-25 07:59:59.000|a1|pa|Active|u:a1|0|vid1|video|Demo|1|0|0|0|8|10|0.8|1|1|[mobile]|[camp1]|1"
	tlA1Faq  = "2026-03-24 09:00:00.000|a1|pa|Active|u:a1|0|faq1|faq|Setup FAQ|1|0|0|0|0|0||0|1|[desktop]|[]|0"
	tlA1Lap2 = "2026-03-20 11:00:00.000|a1|pa|Active|v:lap|1|vid1|video|Demo|1|0|0|0|4|10|0.4|0|0|[desktop]|[]|0"
	tlA1Lap1 = "2026-03-05 10:00:00.000|a1|pa|Active|v:lap|1|doc1|document|Price list|1|2|4|10000|0|0|0.5|0|0|[desktop]|[]|0"
	tlA1Old  = "2026-02-10 09:00:00.000|a1|pa|Active|v:lap|1|doc1|document|Price list|1|0|4|0|0|0||0|0|[desktop]|[]|0"
	tlA2Own  = "2026-03-26 15:00:00.000|a2|pa|Active|u:a2|0|doc1|document|Price list|1|0|4|0|0|0||0|0|[desktop]|[]|0"
	tlA2Faq  = "2026-03-12 12:00:00.000|a2|pa|Active|u:a2|0|faq1|faq|Setup FAQ|1|0|0|0|0|0||0|0|[desktop]|[]|0"
	tlA2Kio  = "2026-03-10 12:00:00.000|a2|pa|Active|v:kiosk|1|doc1|document|Price list|1|0|4|0|0|0||0|0|[desktop]|[]|0"
	tlC1Kio  = "2026-03-15 12:00:00.000|c1|pc|Cooling|v:kiosk|1|doc1|document|Price list|1|0|4|0|0|0||0|0|[desktop]|[]|0"
)

func TestContactTimeline(t *testing.T) {
	conn, db := newDB(t)
	loadContacts(t, conn, db)
	call := func(kv ...string) [][]string {
		t.Helper()
		p := map[string]string{"tenant": "acme"}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return run(t, conn, db, "contact-timeline", p)
	}
	// a1 on two devices, anonymous first on the laptop: the laptop's touches within 30
	// days before its first token count for a1 (stitched), the older one does not.
	all := call("person", "a1")
	sameRows(t, "contact-timeline a1", timelineRows(all), tlA1Vid, tlA1Faq, tlA1Lap2, tlA1Lap1)
	sameRows(t, "contact-timeline a1 lookback 60", timelineRows(call("person", "a1", "lookback", "60")), tlA1Vid, tlA1Faq, tlA1Lap2, tlA1Lap1, tlA1Old)
	// pages of 2: the cursor of a page's last row gives the next page
	p1 := call("person", "a1", "limit", "2")
	sameRows(t, "contact-timeline a1 page 1", timelineRows(p1), tlA1Vid, tlA1Faq)
	p2 := call("person", "a1", "limit", "2", "before", p1[1][len(p1[1])-1])
	sameRows(t, "contact-timeline a1 page 2", timelineRows(p2), tlA1Lap2, tlA1Lap1)
	p3 := call("person", "a1", "limit", "2", "before", p2[1][len(p2[1])-1])
	sameRows(t, "contact-timeline a1 page 3", timelineRows(p3))
	// a period
	sameRows(t, "contact-timeline a1 March 20-24", timelineRows(call("person", "a1", "from", "2026-03-20", "to", "2026-03-24")), tlA1Faq, tlA1Lap2)
	// the company: every person of pa; the kiosk's March 10 goes to a2 (the first token
	// after it), its March 15 to c1 (pc), March 28 to nobody
	sameRows(t, "contact-timeline pa", timelineRows(call("partner", "pa")), tlA2Own, tlA1Vid, tlA1Faq, tlA1Lap2, tlA2Faq, tlA2Kio, tlA1Lap1)
	sameRows(t, "contact-timeline c1 from March 14", timelineRows(call("person", "c1", "from", "2026-03-14", "to", "2026-03-16")),
		"2026-03-16 12:00:00.000|c1|pc|Cooling|u:c1|0|faq1|faq|Setup FAQ|1|0|0|0|0|0||0|0|[desktop]|[]|0",
		"2026-03-16 08:00:00.000|c1|pc|Cooling|u:c1|0|doc1|document|Price list|1|0|4|0|0|0||0|0|[desktop]|[]|0",
		tlC1Kio)
	// pages of 2 of c1, whose newest day has two touches of its own: the page's day bound
	// (the day by which the own touches add up to the limit) must not count the cursor's
	// day, or the second page would stop at that day and miss the older touches
	full := timelineRows(call("person", "c1"))
	if len(full) < 3 {
		t.Fatalf("contact-timeline c1: %d rows, the paging check needs at least 3", len(full))
	}
	var paged []string
	for before := ""; len(paged) <= len(full); {
		kv := []string{"person", "c1", "limit", "2"}
		if before != "" {
			kv = append(kv, "before", before)
		}
		p := call(kv...)
		if len(p) == 0 {
			break
		}
		for _, r := range timelineRows(p) {
			paged = append(paged, strings.Join(r, "|"))
		}
		last := p[len(p)-1]
		before = last[len(last)-1]
	}
	sameRows(t, "contact-timeline c1 in pages of 2", full, paged...)
	// nobody asked, or a person never seen: no rows
	sameRows(t, "contact-timeline nobody", call())
	sameRows(t, "contact-timeline n1", call("person", "n1"))
}

// partner-activity columns: level, partner_id, partner_name, person, person_name,
// ever_days, days_active, baseline_days, expected_days, status, reason, last_touch,
// touches, people_active, people_known, went_quiet, stopped
var activityRows = []string{
	// pa: a1 on March 5 and 20 (the laptop, stitched), 24 and 25; a2 on March 10 (the
	// kiosk, stitched), 12 and 26. Baseline days: Tue 10, Thu 12, Fri 20, each weekday once
	// in the window, over 2 weeks: 1.5 predicted, 3 active.
	"partner|pa|Active|||7|3|3|1.5|active|active 3 of 7 days; its baseline predicts 1.5|2026-03-26 15:00:00.000|3|2|3|[]|[]",
	"person|pa|Active|a1|Ann|4|2|1|0.5|active|active 2 of 7 days; its baseline predicts 0.5|2026-03-25 08:00:10.000|2|1|1|[]|[]",
	"person|pa|Active|a2|Art|3|1|2|1|active|active 1 of 7 days; its baseline predicts 1|2026-03-26 15:00:00.000|1|1|1|[]|[]",
	"person|pa|Active|a3|Ada|0|0|0|0|never started|no touch up to 2026-03-29||0|0|1|[]|[]",
	// pc: c1 every weekday of both baseline weeks and Sunday 15 (the kiosk, stitched): 11
	// baseline days, 5.5 predicted; active on Monday 23 only. It stopped using faq1.
	"partner|pc|Cooling|||12|1|11|5.5|cooling|active 1 of 7 days; its baseline predicts 5.5|2026-03-23 08:00:00.000|1|1|1|[]|[faq1]",
	"person|pc|Cooling|c1|Cal|12|1|11|5.5|cooling|active 1 of 7 days; its baseline predicts 5.5|2026-03-23 08:00:00.000|1|1|1|[]|[faq1]",
	// pn: known, never seen
	"partner|pn|Nobody|||0|0|0|0|never started|no touch up to 2026-03-29||0|0|1|[]|[]",
	"person|pn|Nobody|n1|Ned|0|0|0|0|never started|no touch up to 2026-03-29||0|0|1|[]|[]",
	// ps: Mondays 9 and 16, Wednesdays 11 and 18, then nothing (the bot in the window does
	// not count): 2 predicted, silent. s2 was active one Monday: 0.5 predicted, cooling.
	"partner|ps|Silent|||4|0|4|2|silent|no touch in the 7 days to 2026-03-29; its baseline predicts 2 active days; last touch 2026-03-18|2026-03-18 10:00:00.000|0|0|2|[s1,s2]|[doc1,faq1,vid1]",
	"person|ps|Silent|s1|Sam|4|0|4|2|silent|no touch in the 7 days to 2026-03-29; its baseline predicts 2 active days; last touch 2026-03-18|2026-03-18 10:00:00.000|0|0|1|[]|[doc1,faq1]",
	"person|ps|Silent|s2|Sue|1|0|1|0.5|cooling|active 0 of 7 days; its baseline predicts 0.5|2026-03-09 09:30:00.000|0|0|1|[]|[vid1]",
	// pz: a partner without any person
	"partner|pz|Zero|||0|0|0|0|never started|no touch up to 2026-03-29||0|0|0|[]|[]",
}

func TestPartnerActivity(t *testing.T) {
	conn, db := newDB(t)
	loadContacts(t, conn, db)
	call := func(kv ...string) [][]string {
		t.Helper()
		p := map[string]string{"tenant": "acme", "to": "2026-03-29", "baseline_weeks": "2"}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return run(t, conn, db, "partner-activity", p)
	}
	sameRows(t, "partner-activity", call(), activityRows...)
	sameRows(t, "partner-activity ps", call("partner", "ps"), activityRows[8:11]...)
	// Without stitching (lookback 0 keeps only anonymous touches of the token's own day)
	// a1 has no baseline day and a2 only Thursday March 12; pa is active on 12, 24, 25, 26.
	got := call("partner", "pa", "lookback", "0")
	sameRows(t, "partner-activity pa lookback 0", project(got, 3, 5, 6, 7, 8, 9),
		"|4|3|1|0.5|active", "a1|2|2|0|0|active", "a2|2|1|1|0.5|active", "a3|0|0|0|0|never started")
	// the partner rows only; stopped cut to its first content, or left empty (0)
	partnerRows := []string{activityRows[0], activityRows[4], activityRows[6], activityRows[8], activityRows[11]}
	sameRows(t, "partner-activity level partner", call("level", "partner"), partnerRows...)
	sameRows(t, "partner-activity stopped 1", project(call("level", "partner", "stopped", "1"), 1, 16),
		"pa|[]", "pc|[faq1]", "pn|[]", "ps|[doc1]", "pz|[]")
	noStopped := make([]string, len(partnerRows))
	for i, r := range partnerRows {
		noStopped[i] = r[:strings.LastIndex(r, "|")] + "|[]"
	}
	sameRows(t, "partner-activity stopped 0", call("level", "partner", "stopped", "0"), noStopped...)
	sameRows(t, "partner-activity level person", project(call("level", "person"), 0, 3), "person|a1", "person|a2", "person|a3", "person|c1", "person|n1", "person|s1", "person|s2")
	// a window or baseline of no days is refused, naming the parameters
	q, err := LookupQuery("partner-activity")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Run(context.Background(), conn, db, map[string]string{"tenant": "acme", "days": "0"}); err == nil || !strings.Contains(err.Error(), "days and baseline_weeks must be at least 1") {
		t.Fatalf("partner-activity with days=0: %v", err)
	}
	if _, err := q.Run(context.Background(), conn, db, map[string]string{"tenant": "acme", "level": "people"}); err == nil || !strings.Contains(err.Error(), "parameter level must be partner, person or empty") {
		t.Fatalf("partner-activity with level=people: %v", err)
	}
	// A week later (baseline March 16-29) pa is silent: a1 was active on 20, 24 and 25
	// (1.5 predicted: silent), a2 on 26 only (0.5 predicted: cooling); both went quiet.
	// stopped: the most baseline days first (vid1: a1 on 20 and 25).
	later := call("to", "2026-04-05", "partner", "pa")
	sameRows(t, "partner-activity pa a week later", project(later, 3, 8, 9, 15, 16),
		"|2|silent|[a1,a2]|[vid1,doc1,faq1]", "a1|1.5|silent|[]|[vid1,faq1]", "a2|0.5|cooling|[]|[doc1]", "a3|0|never started|[]|[]")
}

func TestContentReach(t *testing.T) {
	conn, db := newDB(t)
	loadContacts(t, conn, db)
	call := func(kv ...string) [][]string {
		t.Helper()
		p := map[string]string{"tenant": "acme"}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return run(t, conn, db, "content-reach", p)
	}
	// camp1 = doc1 + vid1. pa: a1 doc1 on March 5 (the laptop, stitched; not Feb 10, out of
	// the lookback) and vid1 on 20 (stitched) and 25: 3; a2 doc1 on 10 (the kiosk,
	// stitched) and 26: 2; a3 nothing. pc: c1 doc1 on 11 weekdays and Sunday 15 (the
	// kiosk, stitched): 12, alone. pn: n1 nothing. ps: s1 doc1 on 9 and 16, s2 vid1 on 9.
	sameRows(t, "content-reach camp1", call("campaign", "camp1"),
		"pa|Active|3|2|0.6667|[a1,a2]|[a3]|[]|5|a1|0.6|0",
		"pc|Cooling|1|1|1|[c1]|[]|[]|12|c1|1|1",
		"pn|Nobody|1|0|0|[]|[n1]|[]|0||0|0",
		"ps|Silent|2|2|1|[s1,s2]|[]|[]|3|s1|0.6667|0",
		"pz|Zero|0|0||[]|[]|[]|0||0|0",
	)
	// faq1 alone: in ps only s1 used it, so its use rests on one person
	sameRows(t, "content-reach faq1", call("content", "faq1"),
		"pa|Active|3|2|0.6667|[a1,a2]|[a3]|[]|2|a1|0.5|0",
		"pc|Cooling|1|1|1|[c1]|[]|[]|1|c1|1|1",
		"pn|Nobody|1|0|0|[]|[n1]|[]|0||0|0",
		"ps|Silent|2|1|0.5|[s1]|[s2]|[]|2|s1|1|1",
		"pz|Zero|0|0||[]|[]|[]|0||0|0",
	)
	// from March 21: ps no longer reached
	sameRows(t, "content-reach camp1 from March 21", call("campaign", "camp1", "from", "2026-03-21"),
		"pa|Active|3|2|0.6667|[a1,a2]|[a3]|[]|2|a1|0.5|0",
		"pc|Cooling|1|1|1|[c1]|[]|[]|1|c1|1|1",
		"pn|Nobody|1|0|0|[]|[n1]|[]|0||0|0",
		"ps|Silent|2|0|0|[]|[s1,s2]|[]|0||0|0",
		"pz|Zero|0|0||[]|[]|[]|0||0|0",
	)
	// lookback 60 adds a1's doc1 of February 10
	sameRows(t, "content-reach doc1 lookback 60, pa", call("content", "doc1", "lookback", "60")[:1],
		"pa|Active|3|2|0.6667|[a1,a2]|[a3]|[]|4|a1|0.5|0")
	// nothing asked: no rows
	sameRows(t, "content-reach nothing", call())
}

// The q_ views answer like the saved queries; the bi_ views stitch with the default
// look-back.
func TestContactViews(t *testing.T) {
	conn, db := newDB(t)
	loadContacts(t, conn, db)
	for _, c := range []struct {
		name, args string
		params     map[string]string
	}{
		{"contact-timeline", "tenant = 'acme', person = '', partner = 'pa', from = '1970-01-01', to = '2100-01-01', before = '', limit = 100, lookback = 30", map[string]string{"tenant": "acme", "partner": "pa"}},
		{"partner-activity", "tenant = 'acme', partner = '', to = '2026-03-29', days = 7, baseline_weeks = 2, lookback = 30, level = '', stopped = 10", map[string]string{"tenant": "acme", "to": "2026-03-29", "baseline_weeks": "2"}},
		{"content-reach", "tenant = 'acme', content = '', campaign = 'camp1', from = '1970-01-01', to = '2100-01-01', lookback = 30, one_person_share = 0.8", map[string]string{"tenant": "acme", "campaign": "camp1"}},
	} {
		want := run(t, conn, db, c.name, c.params)
		got := rawRows(t, conn, "SELECT * FROM "+db+"."+ViewName(c.name)+"("+c.args+")")
		if len(want) == 0 || joinRows(got) != joinRows(want) {
			t.Fatalf("%s view:\n%s\nsaved query:\n%s", c.name, joinRows(got), joinRows(want))
		}
	}
	sameRows(t, "bi_touches lap", rawRows(t, conn, "SELECT day, viewer, person, partner_id, stitched, content_id, pages_seen, dwell_ms, seconds_watched FROM "+db+".bi_touches WHERE tenant = 'acme' AND viewer IN ('v:lap', 'u:a1') ORDER BY day"),
		"2026-02-10|v:lap|||0|doc1|0|0|0",
		"2026-03-05|v:lap|a1|pa|1|doc1|2|10000|0",
		"2026-03-20|v:lap|a1|pa|1|vid1|0|0|4",
		"2026-03-24|u:a1|a1|pa|0|faq1|0|0|0",
		"2026-03-25|u:a1|a1|pa|0|vid1|0|0|8")
	sameRows(t, "bi_touches kiosk", rawRows(t, conn, "SELECT day, person, partner_id, stitched FROM "+db+".bi_touches WHERE tenant = 'acme' AND viewer IN ('v:kiosk') ORDER BY day"),
		"2026-03-10|a2|pa|1", "2026-03-15|c1|pc|1", "2026-03-28|||0")
	sameRows(t, "bi_person_days pa", rawRows(t, conn, "SELECT person, day, touches FROM "+db+".bi_person_days WHERE tenant = 'acme' AND partner_id = 'pa' ORDER BY person, day"),
		"a1|2026-03-05|1", "a1|2026-03-20|1", "a1|2026-03-24|1", "a1|2026-03-25|1",
		"a2|2026-03-10|1", "a2|2026-03-12|1", "a2|2026-03-26|1")
}
