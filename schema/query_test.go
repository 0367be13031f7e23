package schema

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSavedQueriesParse(t *testing.T) {
	qs, err := SavedQueries()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"campaign-ranking", "contact-timeline", "content-outcomes", "content-reach", "content-use", "content-versions", "directory", "document-views", "partner-activity", "partner-deals", "person-opens", "search-gaps", "tenant-activity", "training-completion", "training-scores", "video-retention", "video-viewers", "viewer-seconds"}
	var got []string
	for _, q := range qs {
		got = append(got, q.Name)
		if q.Doc == "" {
			t.Errorf("%s: no doc comment", q.Name)
		}
		if len(q.Params) == 0 || q.Params[0].Name != "tenant" || q.Params[0].Optional {
			t.Errorf("%s: first parameter must be a required tenant, got %+v", q.Name, q.Params)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("saved queries: got %v, want %v", got, want)
	}
}

func TestParseSavedQuery(t *testing.T) {
	q, err := parseSavedQuery("x", "-- Doc line.\n-- @param tenant\n-- @param from = 2020-01-01: first day\n-- @param c = : optional\nSELECT {tenant:String}, {from:String}, {c:String}, {tenant:String}")
	if err != nil {
		t.Fatal(err)
	}
	if q.Doc != "Doc line." || len(q.Params) != 3 {
		t.Fatalf("got %+v", q)
	}
	if p := q.Params[1]; p.Name != "from" || p.Default != "2020-01-01" || !p.Optional || p.Doc != "first day" || p.Type != "String" {
		t.Fatalf("from: got %+v", p)
	}
	if p := q.Params[2]; p.Default != "" || !p.Optional {
		t.Fatalf("c: got %+v", p)
	}
	// a default with colons (a time) is kept whole; the description follows ": "
	tq, err := parseSavedQuery("y", "-- @param from = 1970-01-01 00:00:00: keep rows after this\n-- @param content: the id\nSELECT {from:String}, {content:String}")
	if err != nil {
		t.Fatal(err)
	}
	if p := tq.Params[0]; p.Default != "1970-01-01 00:00:00" || p.Doc != "keep rows after this" || !p.Optional {
		t.Fatalf("time default: got %+v", p)
	}
	if p := tq.Params[1]; p.Optional || p.Doc != "the id" {
		t.Fatalf("content: got %+v", p)
	}

	sql, params, err := q.Bind("bx", map[string]string{"tenant": "t1", "c": "z"})
	if err != nil {
		t.Fatal(err)
	}
	if params["tenant"] != "t1" || params["from"] != "2020-01-01" || params["c"] != "z" || !strings.Contains(sql, "{tenant:String}") {
		t.Fatalf("Bind: %q %v", sql, params)
	}
	badBind := func(given map[string]string, db string) {
		t.Helper()
		if _, _, err := q.Bind(db, given); err == nil {
			t.Fatalf("Bind(%v, %q): want error", given, db)
		}
	}
	badBind(map[string]string{}, "bx")                               // tenant missing
	badBind(map[string]string{"tenant": "a", "nope": "1"}, "bx")     // unknown parameter
	badBind(map[string]string{"tenant": "a"}, "bx; DROP TABLE x --") // bad database

	bad := func(text string) {
		t.Helper()
		if _, err := parseSavedQuery("x", text); err == nil {
			t.Fatalf("parseSavedQuery(%q): want error", text)
		}
	}
	bad("SELECT {tenant:String}")                                // undeclared
	bad("-- @param a\nSELECT 1")                                 // declared, unused
	bad("-- @param a\nSELECT {a:String}, {a:UInt32}")            // two types
	bad("-- @param a\nSELECT 1\n-- @param b\nSELECT {b:String}") // declaration after the header
}

func TestResultWrite(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	s := "x"
	r := &Result{
		Columns: []string{"name", "n", "f", "at", "m", "arr", "ptr", "nilptr"},
		Rows: [][]any{
			{"a,b", uint64(3), math.NaN(), at, map[uint32]uint64{2: 20, 1: 10}, []string{"u1", "u2"}, &s, (*string)(nil)},
		},
	}
	f := func(format, want string) {
		t.Helper()
		var b bytes.Buffer
		if err := r.Write(&b, format); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Fatalf("%s:\ngot  %q\nwant %q", format, b.String(), want)
		}
	}
	f("csv", "name,n,f,at,m,arr,ptr,nilptr\n\"a,b\",3,NaN,2026-01-02 03:04:05.006,\"{1:10,2:20}\",\"[u1,u2]\",x,\n")
	f("json", "[\n{\"name\":\"a,b\",\"n\":3,\"f\":null,\"at\":\"2026-01-02T03:04:05.006Z\",\"m\":{\"1\":10,\"2\":20},\"arr\":[\"u1\",\"u2\"],\"ptr\":\"x\",\"nilptr\":null}\n]\n")
	f("table", "name  n  f    at                       m            arr      ptr  nilptr\na,b   3  NaN  2026-01-02 03:04:05.006  {1:10,2:20}  [u1,u2]  x    \n")
	if err := r.Write(&bytes.Buffer{}, "xml"); err == nil {
		t.Fatal("Write xml: want error")
	}
}

// An IN whose right side is a name (an array scalar, `x IN ids`), not a subquery or a
// literal list, makes this ClickHouse compare each row with every element and skip the
// primary key: content-use's filter cost seconds at 10M events that way. Saved queries
// write `x IN (SELECT arrayJoin(ids))`, a set that also uses the key.
func TestSavedQueriesNoInOverAName(t *testing.T) {
	qs, err := SavedQueries()
	if err != nil {
		t.Fatal(err)
	}
	inName := regexp.MustCompile(`\bIN\s+[A-Za-z_{]`)
	literal := regexp.MustCompile(`'(\\.|[^'\\])*'`)
	for _, q := range qs {
		for i, line := range strings.Split(q.SQL, "\n") {
			code, _, _ := strings.Cut(literal.ReplaceAllString(line, "''"), "--")
			if m := inName.FindString(code); m != "" {
				t.Errorf("%s line %d: %q: IN over a name; write IN (SELECT arrayJoin(...)) instead:\n%s", q.Name, i+1, m, line)
			}
		}
	}
}
