package schema

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestParseCSV(t *testing.T) {
	contents, err := LookupDimension("contents")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ParseCSV(contents, strings.NewReader("\ufefftags,content_id,content_type,duration_s\n faq | tool ,c1,faq,1.5\n,c2,video,\n"), 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("got %d rows", len(rows))
	}
	// columns in table order: content_id, content_type, title, campaign_id, duration_s, page_count, tags
	if rows[0][0] != "c1" || rows[0][1] != "faq" || rows[0][2] != "" || rows[0][4] != float32(1.5) || rows[0][5] != uint32(0) {
		t.Fatalf("row 1: %#v", rows[0])
	}
	if tags := rows[0][6].([]string); strings.Join(tags, ",") != "faq,tool" {
		t.Fatalf("row 1 tags: %q", tags)
	}
	if tags := rows[1][6].([]string); tags == nil || len(tags) != 0 {
		t.Fatalf("row 2 tags: %#v", tags)
	}

	// bad lists the expected error lines for a file.
	bad := func(table, file string, want ...string) {
		t.Helper()
		d, err := LookupDimension(table)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseCSV(d, strings.NewReader(file), 3)
		if err == nil {
			t.Fatalf("ParseCSV(%q): want error", file)
		}
		var le *LineErrors
		if !errors.As(err, &le) {
			if len(want) != 1 || !strings.Contains(err.Error(), want[0]) {
				t.Fatalf("ParseCSV(%q): got %v, want %q", file, err, want)
			}
			return
		}
		if len(le.Errs) != len(want) {
			t.Fatalf("ParseCSV(%q): got %q, want %q", file, le.Errs, want)
		}
		for i, w := range want {
			if !strings.HasPrefix(le.Errs[i], w) {
				t.Fatalf("ParseCSV(%q) error %d: got %q, want prefix %q", file, i, le.Errs[i], w)
			}
		}
	}
	bad("partners", "", "empty file")
	bad("partners", "partner_id\np1\n", `line 1: bad header for partners: missing column "name"`)
	bad("partners", "partner_id,name,colour\n", `unknown column "colour"`)
	bad("partners", "partner_id,name,name\n", `column "name" given twice`)
	bad("partners", "partner_id,name\np1,A\n,B\np3\np1,C\n", "line 3: column partner_id: is empty", "line 4: wrong number of fields", "line 5: duplicate partner_id (first on line 2)")
	bad("deals", "deal_id,partner_id,amount,stage,closed_on\nd1,p1,12.345,won,2026-01-01\nd2,p1,abc,won,2026-01-01\nd3,p1,1,won,2026-13-01\n",
		"line 2: column amount", "line 3: column amount", "line 4: column closed_on")
	bad("course_assignments", "course_id,partner_user_id,partner_id\nc1,u1,p1\nc1,u1,p2\n", "line 3: duplicate course_id+partner_user_id (first on line 2)")
	// only MaxErrors lines are kept
	bad("partners", "partner_id,name\n,a\n,b\n,c\n,d\n", "line 2", "line 3", "line 4")
}

func TestImportReplaces(t *testing.T) {
	conn, db := newDB(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	d, _ := LookupDimension("deals")
	imp := func(tenant, file string) error {
		_, err := Import(ctx, conn, d, strings.NewReader(file), ImportOptions{Database: db, Tenant: tenant})
		return err
	}
	file := "deal_id,partner_id,amount,stage,closed_on\nk1,p1,10.5,open,\nk2,p2,20,won,2026-03-01\n"
	for i := 0; i < 3; i++ {
		if err := imp("acme", file); err != nil {
			t.Fatal(err)
		}
	}
	// a newer export changes k1 and adds k3
	if err := imp("acme", "deal_id,partner_id,amount,stage,closed_on\nk1,p1,12,won,2026-03-05\nk3,p1,1,lost,2026-03-06\n"); err != nil {
		t.Fatal(err)
	}
	// a file with one bad line imports nothing
	err := imp("acme", "deal_id,partner_id,amount,stage\nk4,p1,1,won\nk5,p1,x,won\n")
	var le *LineErrors
	if !errors.As(err, &le) || len(le.Errs) != 1 || !strings.HasPrefix(le.Errs[0], "line 3: column amount") {
		t.Fatalf("bad file: got %v", err)
	}
	if err := imp("other", file); err != nil {
		t.Fatal(err)
	}
	rows := rawRows(t, conn, "SELECT deal_id, partner_id, amount, stage, closed_on FROM "+db+".deals FINAL WHERE tenant = 'acme' ORDER BY deal_id")
	sameRows(t, "deals", rows,
		"k1|p1|12|won|2026-03-05",
		"k2|p2|20|won|2026-03-01",
		"k3|p1|1|lost|2026-03-06",
	)
}
