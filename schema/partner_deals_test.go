package schema

import "testing"

// TestPartnerDeals: partner-deals on the golden dataset (golden_test.go). Deals: k1 (p1,
// won 1000, March 10), k2 (p1, lost 500, March 11), k3 (p2, won 3000, March 12); the other
// tenant's k9 never shows. p1's use by day (non-bot events of its people): doc1 March 2
// and 3, doc2 March 3 (events call it a FAQ there) and 4, vid1 March 2 and 3, course1
// March 2 and 3 (u1, u2, u5), faq1 March 2. p2's: doc1 March 1 (the late page) and 2, vid1
// March 2 (u3 loads it), course1 March 2 and 5 (u3 twice, u7; the bot's completion does not
// count), faq1 March 2, faq9 March 3, tool1 March 2 and 4.
func TestPartnerDeals(t *testing.T) {
	conn, db := newDB(t)
	loadGolden(t, conn, db)
	call := func(p map[string]string) [][]string {
		t.Helper()
		p["tenant"] = "acme"
		return run(t, conn, db, "partner-deals", p)
	}
	// deal_id|stage|amount|currency|closed_on|contents_used|used|used_days|used_titles
	p1 := "[course1,doc1,doc2,vid1,faq1]|[2,2,2,2,1]|[Onboarding,Price list,Brochure,Demo video,Setup FAQ]"
	sameRows(t, "p1", call(map[string]string{"partner": "p1"}),
		"k2|lost|500|EUR|2026-03-11|5|"+p1,
		"k1|won|1000|EUR|2026-03-10|5|"+p1)
	// a week up to March 10 is March 3-10: faq1's March 2 is out, so is one day of the others
	sameRows(t, "p1 lookback 7", call(map[string]string{"partner": "p1", "lookback": "7", "to": "2026-03-10"}),
		"k1|won|1000|EUR|2026-03-10|4|[doc2,course1,doc1,vid1]|[2,1,1,1]|[Brochure,Onboarding,Price list,Demo video]")
	sameRows(t, "p2", call(map[string]string{"partner": "p2"}),
		"k3|won|3000|EUR|2026-03-12|6|[course1,doc1,tool1,faq1,faq9,vid1]|[2,2,2,1,1,1]|[Onboarding,Price list,ROI calculator,Setup FAQ,,Demo video]")
	// the close date counts; the day after it does not: k3 with a 9-day window is March 3-12
	sameRows(t, "p2 lookback 9", call(map[string]string{"partner": "p2", "lookback": "9"}),
		"k3|won|3000|EUR|2026-03-12|3|[course1,faq9,tool1]|[1,1,1]|[Onboarding,,ROI calculator]")
	// a period of close dates; a deal without use in its window has empty lists
	sameRows(t, "p1 from March 11", call(map[string]string{"partner": "p1", "from": "2026-03-11", "to": "2026-03-31"}),
		"k2|lost|500|EUR|2026-03-11|5|"+p1)
	sameRows(t, "p1 lookback 1", call(map[string]string{"partner": "p1", "lookback": "1"}),
		"k2|lost|500|EUR|2026-03-11|0|[]|[]|[]",
		"k1|won|1000|EUR|2026-03-10|0|[]|[]|[]")
	// no deals: p3 (the other tenant's k9 is p3's there), an unknown partner
	sameRows(t, "p3", call(map[string]string{"partner": "p3"}))
	sameRows(t, "unknown", call(map[string]string{"partner": "nobody"}))
}
