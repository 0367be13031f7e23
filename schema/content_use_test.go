package schema

import "testing"

// content-use on the golden dataset (golden_test.go), computed by hand from its events:
// partners counted per content and day from their non-bot events (the bot's p3 reading of
// doc1 and its completion of course1 do not count), unattributed use (a1) for no partner.
func TestGoldenContentUse(t *testing.T) {
	conn, db := newDB(t)
	loadGolden(t, conn, db)
	call := func(kv ...string) [][]string {
		p := map[string]string{"tenant": "acme"}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return run(t, conn, db, "content-use", p)
	}
	// All time: p1, p2, p3 (page9 through the camp2 link) and p4 used something. faq1: p1,
	// p2, p4 one day each; course1: p1 (Mar 2, 3), p2 (Mar 2, 5); doc1: p1 (Mar 2, 3), p2
	// (the late page on Mar 1, Mar 2); doc2: p1 (Mar 3 as an event-typed FAQ, Mar 4), p4
	// (Mar 4); vid1: p1 (Mar 2, 3), p2 (Mar 2, a load only); tool1: p2 (Mar 2, 4). doc2's
	// first event is the one that called it a FAQ; the contents table's type wins. faq9
	// and page9 are known only from events (page9's tracked click has no type); course2
	// from the contents table only. doc2 is last seen in p4's page report at 10:00:12 (the
	// golden dataset's second opening of doc2, added with 0015). No period before 1970-01-01.
	sameRows(t, "content-use", call(),
		"faq1|faq|Setup FAQ|camp1|2026-03-02 17:00:00.000|2026-03-04 10:05:00.000|3|3|0|4|0",
		"course1|course|Onboarding||2026-03-02 14:00:00.000|2026-03-05 15:00:00.000|2|4|0|4|0",
		"doc1|document|Price list|camp1|2026-03-01 09:00:00.000|2026-03-03 08:00:10.000|2|4|0|4|0",
		"doc2|document|Brochure|camp1|2026-03-03 09:30:00.000|2026-03-04 10:00:12.000|2|3|0|4|0",
		"vid1|video|Demo video|camp1|2026-03-02 10:10:00.000|2026-03-03 08:10:07.000|2|3|0|4|0",
		"tool1|page|ROI calculator|camp2|2026-03-02 18:00:00.000|2026-03-04 18:00:00.000|1|2|0|4|0",
		"faq9|faq|||2026-03-03 09:00:00.000|2026-03-03 09:00:00.000|1|1|0|4|0",
		"page9||||2026-03-02 19:00:00.000|2026-03-02 19:00:00.000|1|1|0|4|0",
		"course2|course|Advanced||||0|0|0|4|0",
	)
	// March 3-4 against March 1-2: now p1 (doc1, doc2, vid1, course1), p2 (faq9, tool1),
	// p4 (doc2, faq1); before p1, p2 and p3 (page9).
	sameRows(t, "content-use March 3-4", call("from", "2026-03-03", "to", "2026-03-04"),
		"doc2|document|Brochure|camp1|2026-03-03 09:30:00.000|2026-03-04 10:00:12.000|2|3|0|3|3",
		"course1|course|Onboarding||2026-03-02 14:00:00.000|2026-03-05 15:00:00.000|1|1|2|3|3",
		"doc1|document|Price list|camp1|2026-03-01 09:00:00.000|2026-03-03 08:00:10.000|1|1|2|3|3",
		"faq1|faq|Setup FAQ|camp1|2026-03-02 17:00:00.000|2026-03-04 10:05:00.000|1|1|2|3|3",
		"faq9|faq|||2026-03-03 09:00:00.000|2026-03-03 09:00:00.000|1|1|0|3|3",
		"tool1|page|ROI calculator|camp2|2026-03-02 18:00:00.000|2026-03-04 18:00:00.000|1|1|1|3|3",
		"vid1|video|Demo video|camp1|2026-03-02 10:10:00.000|2026-03-03 08:10:07.000|1|1|2|3|3",
		"course2|course|Advanced||||0|0|0|3|3",
		"page9||||2026-03-02 19:00:00.000|2026-03-02 19:00:00.000|0|0|1|3|3",
	)
	// one kind: the totals count the partners of the listed contents only
	sameRows(t, "content-use documents", call("kind", "document"),
		"doc1|document|Price list|camp1|2026-03-01 09:00:00.000|2026-03-03 08:00:10.000|2|4|0|3|0",
		"doc2|document|Brochure|camp1|2026-03-03 09:30:00.000|2026-03-04 10:00:12.000|2|3|0|3|0",
	)
	// another tenant sees its own doc1 only; an unknown tenant nothing
	sameRows(t, "content-use other tenant", call("tenant", "other"),
		"doc1|document|||2026-03-02 10:00:00.000|2026-03-02 10:00:00.000|1|1|0|1|0")
	sameRows(t, "content-use unknown tenant", call("tenant", "nobody"))

	// An event without a type (scroll, engage) later than the typed ones: faq9, known only
	// from events, stays a FAQ.
	insert(t, conn, db, "untyped", ev{id: "f9-u3-scroll", at: "2026-03-08 10:00:00", typ: "scroll", visitor: "c3", session: "s14", partner: "p2", user: "u3", content: "faq9"})
	sameRows(t, "content-use FAQs after an untyped event", call("kind", "faq"),
		"faq1|faq|Setup FAQ|camp1|2026-03-02 17:00:00.000|2026-03-04 10:05:00.000|3|3|0|3|0",
		"faq9|faq|||2026-03-03 09:00:00.000|2026-03-08 10:00:00.000|1|2|0|3|0",
	)
}
