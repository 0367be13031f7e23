package schema

import "testing"

// TestTenantActivity: tenant-activity on the golden dataset (golden_test.go). Counted by
// hand from its batches, each delivered twice with one token (the retry is dropped), and
// three events delivered again in a later batch (counted again, as events holds them):
//
//	day     non-bot events                          bots  people (verified tokens)
//	03-01   1 (u3's late page)                      0     u3
//	03-02   12 docs + 10 video + 15 rest = 37       4     u1 u2 u3 u7 u8
//	03-03   3 + 2 + 5 = 10                          0     u1 u3 u5
//	03-04   3 + 0 + 2 = 5                           0     u2 u3 u9
//	03-05   1 (u3's second completion)              0     u3
func TestTenantActivity(t *testing.T) {
	conn, db := newDB(t)
	loadGolden(t, conn, db)
	call := func(p map[string]string) [][]string {
		t.Helper()
		return run(t, conn, db, "tenant-activity", p)
	}
	// events|bot_events|people|active_days|events_before|bot_events_before|people_before|active_days_before
	sameRows(t, "all time", call(map[string]string{"tenant": "acme"}), "54|4|7|5|0|0|0|0")
	// March 3-4 against March 1-2: u1 u2 u3 u5 u9 now, u1 u2 u3 u7 u8 before
	sameRows(t, "March 3-4", call(map[string]string{"tenant": "acme", "from": "2026-03-03", "to": "2026-03-04"}), "15|0|5|2|38|4|5|2")
	// one day against the day before it
	sameRows(t, "March 5", call(map[string]string{"tenant": "acme", "from": "2026-03-05", "to": "2026-03-05"}), "1|0|1|1|5|0|3|1")
	// a period without events: zeros, not an empty answer; the 30 days before April are
	// March 2-31, which leave out only March 1
	sameRows(t, "April", call(map[string]string{"tenant": "acme", "from": "2026-04-01", "to": "2026-04-30"}), "0|0|0|0|53|4|7|4")
	sameRows(t, "May 2030", call(map[string]string{"tenant": "acme", "from": "2030-05-01", "to": "2030-05-31"}), "0|0|0|0|0|0|0|0")
	// the other tenant's own event only; an unknown tenant has none
	sameRows(t, "other", call(map[string]string{"tenant": "other"}), "1|0|1|1|0|0|0|0")
	sameRows(t, "unknown tenant", call(map[string]string{"tenant": "nobody"}), "0|0|0|0|0|0|0|0")
	// the rollup counts what the raw table holds
	if n := scalar[uint64](t, conn, "SELECT count() FROM "+db+".events WHERE tenant = 'acme' AND is_bot = 0"); n != 54 {
		t.Fatalf("raw non-bot events of acme: %d, want 54", n)
	}
}
