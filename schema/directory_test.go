package schema

import "testing"

// TestDirectory: directory on the golden dataset: the acme partners and people as
// imported (golden_test.go), never the other tenant's.
func TestDirectory(t *testing.T) {
	conn, db := newDB(t)
	loadGolden(t, conn, db)
	importCSV(t, conn, db, "partners", "other", "partner_id,name\np1,Other Alpha\n")
	importCSV(t, conn, db, "partner_users", "other", "partner_user_id,partner_id,name\nu1,p1,Other Ann\n")
	sameRows(t, "directory", run(t, conn, db, "directory", map[string]string{"tenant": "acme"}),
		"partner|p1|Alpha|p1|Alpha|gold",
		"partner|p2|Beta|p2|Beta|silver",
		"partner|p3|Gamma|p3|Gamma|",
		"person|u1|Ann|p1|Alpha|",
		"person|u2|Bob|p1|Alpha|",
		"person|u3|Cid|p2|Beta|",
		"person|u4|Dee|p2|Beta|",
		"person|u5|Eve|p1|Alpha|",
		"person|u6|Fay|p3|Gamma|",
		"person|u7|Gus|p2|Beta|",
	)
	sameRows(t, "unknown tenant", run(t, conn, db, "directory", map[string]string{"tenant": "nobody"}))
}
