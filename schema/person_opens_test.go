package schema

import "testing"

// TestPersonOpens: person-opens on the contact dataset (contact_test.go), answers computed
// by hand from its events.
func TestPersonOpens(t *testing.T) {
	conn, db := newDB(t)
	loadContacts(t, conn, db)
	call := func(person, content, since string) [][]string {
		t.Helper()
		return run(t, conn, db, "person-opens", map[string]string{"tenant": "acme", "person": person, "content": content, "since": since})
	}
	// a1's phone on March 25: the tracked-link click at 07:59:59, then the video to 08:00:10,
	// one session; reported while its last event is at or after since.
	a1Vid := "a1|vid1|2026-03-25|2026-03-25 07:59:59.000|2026-03-25 08:00:10.000|1"
	sameRows(t, "a1 vid1 since 08:00:05", call("a1", "vid1", "2026-03-25 08:00:05"), a1Vid)
	sameRows(t, "a1 vid1 since 08:00:10", call("a1", "vid1", "2026-03-25 08:00:10"), a1Vid)
	sameRows(t, "a1 vid1 since 08:00:11", call("a1", "vid1", "2026-03-25 08:00:11"))
	// the laptop's anonymous vid1 of March 20 is stitched to a1 elsewhere, not here
	sameRows(t, "a1 vid1 since March 1", call("a1", "vid1", "2026-03-01 00:00:00"), a1Vid)
	sameRows(t, "a1 doc1 (anonymous only)", call("a1", "doc1", "2026-01-01 00:00:00"))
	// faq1 on the laptop with a1's token: a view at 09:00, an outbound click at 09:01
	sameRows(t, "a1 faq1", call("a1", "faq1", "2026-03-24 00:00:00"),
		"a1|faq1|2026-03-24|2026-03-24 09:00:00.000|2026-03-24 09:01:00.000|1")
	// a2: faq1 on the kiosk (March 12) and doc1 on its own device (March 26); the kiosk's
	// anonymous doc1 of March 10 is not a2's own
	sameRows(t, "a2 doc1", call("a2", "doc1", "2026-03-01 00:00:00"),
		"a2|doc1|2026-03-26|2026-03-26 15:00:00.000|2026-03-26 15:00:00.000|1")
	// a bot carrying s1's token never counts
	sameRows(t, "s1 doc1 (bot)", call("s1", "doc1", "2026-03-20 00:00:00"))
	// s1's Monday doc1 touches, both reported from March 1
	sameRows(t, "s1 doc1", call("s1", "doc1", "2026-03-01 00:00:00"),
		"s1|doc1|2026-03-09|2026-03-09 10:00:00.000|2026-03-09 10:00:00.000|1",
		"s1|doc1|2026-03-16|2026-03-16 10:00:00.000|2026-03-16 10:00:00.000|1")
}
