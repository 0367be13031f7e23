package schema

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Every kept form's kept answer is the saved query's own answer, row for row and in order,
// on the golden and additions datasets (documents, videos, courses, deals, campaigns,
// searches, versions and scores), and so is one partner's, course's or content's part of
// it; forms not kept, and answers older than the maximum age, are computed.
func TestKeptAnswersEqualLive(t *testing.T) {
	conn, db := newDB(t)
	loadGolden(t, conn, db)
	loadAdditionsData(t, conn, db)
	ctx := context.Background()

	// the kept forms, and partner-activity on a window that holds the datasets' days
	forms := append(append([]KeptForm(nil), KeptForms...), KeptForm{"partner-activity", map[string]string{"to": "2026-03-06", "days": "3"}})
	var log bytes.Buffer
	k := &Keeper{Conn: conn, DB: db, Forms: forms, Log: &log}
	st, err := k.Once(ctx)
	if err != nil {
		t.Fatalf("keep: %v\n%s", err, log.String())
	}
	tenants := scalar[uint64](t, conn, "SELECT uniqExact(tenant) FROM "+db+".tenant_days")
	if st.Answers != len(forms)*int(tenants) || tenants == 0 {
		t.Fatalf("kept %d answers, want %d forms x %d tenants\n%s", st.Answers, len(forms), tenants, log.String())
	}
	if !strings.Contains(log.String(), `kept search-gaps (partner=&from=1970-01-01&to=2100-01-01&only=all&limit=50&lookback=30) for tenant "acme"`) {
		t.Errorf("the keeper's log does not say what it kept:\n%s", log.String())
	}

	nonEmpty := map[string]bool{}
	for _, f := range forms {
		q, err := LookupQuery(f.Query)
		if err != nil {
			t.Fatal(err)
		}
		given, err := f.Given("acme", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		live := keptEqualsLive(t, conn, db, q, given)
		if len(live.Rows) > 1 {
			nonEmpty[f.Query] = true
		}
	}
	// the comparison means something only where there were rows to compare, in order
	for _, name := range []string{"partner-activity", "search-gaps", "content-versions", "training-scores", "content-outcomes", "campaign-ranking", "content-use", "training-completion"} {
		if !nonEmpty[name] {
			t.Errorf("%s: no kept form with two rows or more on the datasets", name)
		}
	}

	// One partner's, course's or content's rows are served from the kept answer for all.
	subsetRows := 0
	for _, c := range []struct {
		query string
		kv    []string
	}{
		{"partner-activity", []string{"partner", "p1"}},
		{"partner-activity", []string{"partner", "p2", "level", "partner"}},
		{"partner-activity", []string{"partner", "p3", "level", "partner", "stopped", "0"}},
		{"partner-activity", []string{"partner", "p2", "to", "2026-03-06", "days", "3"}},
		{"partner-activity", []string{"partner", "nope"}},
		{"search-gaps", []string{"partner", "p1"}},
		{"search-gaps", []string{"partner", "p2"}},
		{"training-scores", []string{"course", "course1"}},
		{"training-scores", []string{"partner", "p1"}},
		{"training-scores", []string{"course", "course1", "partner", "p2"}},
		{"content-versions", []string{"content", "doc1"}},
		{"content-versions", []string{"kind", "document"}},
		{"content-versions", []string{"kind", "tool", "content", "tool1"}},
		{"training-completion", []string{"course", "course1"}},
		{"training-completion", []string{"partner", "p1"}},
	} {
		q, _ := LookupQuery(c.query)
		given := map[string]string{"tenant": "acme"}
		for i := 0; i+1 < len(c.kv); i += 2 {
			given[c.kv[i]] = c.kv[i+1]
		}
		subsetRows += len(keptEqualsLive(t, conn, db, q, given).Rows)
	}
	if subsetRows < 20 {
		t.Errorf("the subsets compared hold %d rows in all", subsetRows)
	}

	// a parameter that is not a filter: computed
	q, _ := LookupQuery("search-gaps")
	res, err := q.Answer(ctx, conn, db, map[string]string{"tenant": "acme", "only": "zero"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !res.KeptAt.IsZero() || len(res.Rows) == 0 {
		t.Errorf("search-gaps only=zero (not a kept form): kept at %v, %d rows; want computed rows", res.KeptAt, len(res.Rows))
	}
	if _, err := q.Answer(ctx, conn, db, map[string]string{"tenant": "acme", "nope": "1"}, time.Hour); err == nil || !strings.Contains(err.Error(), `no parameter "nope"`) {
		t.Errorf("an unknown parameter: err %v", err)
	}

	// An answer kept half an hour ago is served within an hour, not within ten minutes.
	old := time.Now().Add(-30 * time.Minute)
	k2 := &Keeper{Conn: conn, DB: db, Forms: []KeptForm{{"content-outcomes", nil}}, Tenants: []string{"zeta"}, Now: func() time.Time { return old }}
	if _, err := k2.Once(ctx); err != nil {
		t.Fatal(err)
	}
	q, _ = LookupQuery("content-outcomes")
	for _, c := range []struct {
		maxAge time.Duration
		kept   bool
	}{{10 * time.Minute, false}, {time.Hour, true}, {0, false}} {
		res, err := q.Answer(ctx, conn, db, map[string]string{"tenant": "zeta"}, c.maxAge)
		if err != nil {
			t.Fatal(err)
		}
		if got := !res.KeptAt.IsZero(); got != c.kept || (got && !res.KeptAt.Equal(old.UTC().Truncate(time.Millisecond))) {
			t.Errorf("content-outcomes kept %v ago, max age %v: kept at %v, want kept %v", time.Since(old).Round(time.Minute), c.maxAge, res.KeptAt, c.kept)
		}
	}
}

// Every per-entity form is kept for every id of its list (its Top busiest when it has a
// Top) when the budget allows, with its other parameters, and each kept answer is the saved
// query's own; the partners' list comes busiest first; a spent budget keeps none and counts
// them all as left.
func TestKeptEachEqualLive(t *testing.T) {
	conn, db := newDB(t)
	loadGolden(t, conn, db)
	loadAdditionsData(t, conn, db)
	ctx := context.Background()
	var log bytes.Buffer
	// the default forms (their periods up to today hold none of the datasets' days) and one
	// over days that hold the first document's reading
	period := KeptEach{Query: "document-views", Param: "content", List: "document", Params: map[string]string{"from": "2026-03-02", "to": "2026-03-04"}, Top: 1}
	each := append(append([]KeptEach(nil), KeptEachForms...), period)
	k := &Keeper{Conn: conn, DB: db, Forms: []KeptForm{}, Each: each, Tenants: []string{"acme"}, EachBudget: time.Hour, EachParallel: 3, Log: &log}
	st, err := k.Once(ctx)
	if err != nil {
		t.Fatalf("keep: %v\n%s", err, log.String())
	}
	total, rows, periodRows := 0, 0, 0
	for _, f := range each {
		q, err := LookupQuery(f.Query)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := k.list(ctx, f.List, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 2}[f.List == "video"]; len(ids) < want { // the datasets have one video
			t.Errorf("list %s: %v on the datasets; want %d ids or more", f.List, ids, want)
		}
		if f.Top > 0 {
			ids = ids[:min(f.Top, len(ids))]
		}
		t.Logf("%s by %s %v: %v", f.Query, f.Param, f.Params, ids)
		for _, id := range ids {
			given, err := f.Given("acme", id, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			n := len(keptEqualsLive(t, conn, db, q, given).Rows)
			rows += n
			total++
			if reflect.DeepEqual(f, period) {
				periodRows += n
			}
		}
	}
	if periodRows == 0 {
		t.Errorf("document-views from 2026-03-02 to 2026-03-04: no rows kept to compare")
	}
	if st.Each != total || st.Answers != total || st.EachLeft != 0 {
		t.Errorf("kept %d per-entity answers (%d in all), %d left; want %d, 0 left\n%s", st.Each, st.Answers, st.EachLeft, total, log.String())
	}
	if rows < 50 {
		t.Errorf("the per-entity answers compared hold %d rows in all", rows)
	}
	// busiest first: the partners by the days each used each content, counted from the raw
	// events (every row of the datasets' keys, merged or not, counted once)
	ids, err := k.list(ctx, "partner", "acme")
	if err != nil {
		t.Fatal(err)
	}
	// the least busy partner's first event again, three times, each insert a part of its
	// own (merges stopped, so the parts stay apart): the same content and day, so no busier
	// than it was
	for _, tbl := range []string{"content_partner_blocks", "viewer_months"} {
		if err := conn.Exec(ctx, "SYSTEM STOP MERGES "+db+"."+tbl); err != nil {
			t.Fatal(err)
		}
		defer conn.Exec(ctx, "SYSTEM START MERGES "+db+"."+tbl)
	}
	quiet := ids[len(ids)-1]
	for i := 0; i < 3; i++ {
		if err := conn.Exec(ctx, "INSERT INTO "+db+".events SELECT * REPLACE (generateUUIDv4() AS event_id) FROM "+db+
			".events WHERE tenant = 'acme' AND is_bot = 0 AND content_id != '' AND partner_id = '"+quiet+"' ORDER BY event_time LIMIT 1"); err != nil {
			t.Fatal(err)
		}
	}
	if ids, err = k.list(ctx, "partner", "acme"); err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(scalar[string](t, conn, "SELECT arrayStringConcat(groupArray(partner_id), ' ') FROM (SELECT partner_id FROM "+db+
		".events WHERE tenant = 'acme' AND is_bot = 0 AND content_id != '' AND partner_id != '' "+
		"GROUP BY partner_id ORDER BY uniqExact(content_id, toDate(event_time)) DESC, partner_id)"))
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("partners busiest first: %v, want %v", ids, want)
	}
	// the people by their active days, the same way: the least busy person's first event
	// three times more, each a millisecond later (else the rollup's insert of the same row
	// is deduplicated) and in a part of its own
	people, err := k.list(ctx, "person", "acme")
	if err != nil {
		t.Fatal(err)
	}
	quiet = people[len(people)-1]
	for i := 1; i <= 3; i++ {
		if err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s.events SELECT * REPLACE (generateUUIDv4() AS event_id, event_time + toIntervalMillisecond(%d) AS event_time) FROM %s"+
			".events WHERE tenant = 'acme' AND is_bot = 0 AND partner_user_id = '%s' ORDER BY event_time LIMIT 1", db, i, db, quiet)); err != nil {
			t.Fatal(err)
		}
	}
	if people, err = k.list(ctx, "person", "acme"); err != nil {
		t.Fatal(err)
	}
	want = strings.Fields(scalar[string](t, conn, "SELECT arrayStringConcat(groupArray(p), ' ') FROM (SELECT toString(partner_user_id) AS p FROM "+db+
		".events WHERE tenant = 'acme' AND is_bot = 0 AND partner_user_id != '' "+
		"GROUP BY p ORDER BY uniqExact(toDate(event_time)) DESC, p)"))
	days := scalar[string](t, conn, "SELECT arrayStringConcat(groupArray(toString(n)), ' ') FROM (SELECT uniqExact(toDate(event_time)) AS n FROM "+db+
		".events WHERE tenant = 'acme' AND is_bot = 0 AND partner_user_id != '' GROUP BY partner_user_id ORDER BY n DESC, partner_user_id)")
	if !reflect.DeepEqual(people, want) || len(people) < 3 {
		t.Errorf("people busiest first: %v, want %v (their active days: %s)", people, want, days)
	}
	t.Logf("people busiest first: %v (their active days: %s)", people, days)
	for _, line := range []string{`kept video-retention for 1 of 1 video ids (content) for tenant "acme"`,
		`kept document-views for 1 of 1 document ids (content from=2026-03-02 to=2026-03-04) for tenant "acme"`} {
		if !strings.Contains(log.String(), line) {
			t.Errorf("the keeper's log does not say what it kept per entity: no %q in\n%s", line, log.String())
		}
	}

	// nothing left of the budget: none kept, all counted
	k0 := &Keeper{Conn: conn, DB: db, Forms: []KeptForm{}, Each: each, Tenants: []string{"acme"}, EachBudget: time.Nanosecond}
	if st, err := k0.Once(ctx); err != nil || st.Each != 0 || st.EachLeft != total {
		t.Errorf("a spent budget: kept %d, left %d, err %v; want 0 and %d", st.Each, st.EachLeft, err, total)
	}
}

// A kept answer of partner-activity's "today" is an answer for the day it was kept on; a
// changed query text is kept in a table of its own.
func TestKeptParams(t *testing.T) {
	q, err := LookupQuery("partner-activity")
	if err != nil {
		t.Fatal(err)
	}
	day1 := time.Date(2026, 12, 4, 23, 59, 0, 0, time.UTC)
	day2 := day1.Add(2 * time.Minute)
	_, k1 := q.keptParams(map[string]string{"tenant": "acme"}, day1)
	_, k2 := q.keptParams(map[string]string{"tenant": "acme"}, day2)
	full, k3 := q.keptParams(map[string]string{"tenant": "acme", "to": "2026-12-04"}, day2)
	if k1 == k2 || k1 != k3 {
		t.Errorf("keys: today on the 4th %q, on the 5th %q, the 4th given %q", k1, k2, k3)
	}
	if want := "partner=&to=2026-12-04&days=7&baseline_weeks=8&lookback=30&level=&stopped=10"; k1 != want {
		t.Errorf("key %q, want %q", k1, want)
	}
	if full["tenant"] != "acme" || full["days"] != "7" || full["to"] != "2026-12-04" {
		t.Errorf("parameters to compute with: %v", full)
	}
	changed := q
	changed.SQL += "\n"
	if a, b := keptTable(q), keptTable(changed); a == b || !strings.HasPrefix(a, "kept_partner_activity_") {
		t.Errorf("tables %q and %q", a, b)
	}
}

// A kept form's {today}, {today-N} and {today+N} are UTC dates on the day it is kept.
func TestKeptFormDays(t *testing.T) {
	now := time.Date(2026, 12, 5, 23, 30, 0, 0, time.FixedZone("JST", 9*3600)) // 14:30 UTC
	got, err := KeptForm{"content-use", map[string]string{"from": "{today-29}", "to": "{today}", "until": "{today+1}", "kind": "video"}}.Given("acme", now)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"tenant": "acme", "from": "2026-11-06", "to": "2026-12-05", "until": "2026-12-06", "kind": "video"}; !reflect.DeepEqual(got, want) {
		t.Errorf("given %v, want %v", got, want)
	}
	for _, bad := range []string{"{today*1}", "{today-x}", "{today-}", "{today+}", "{today-01}", "{today+01}", "{today-0}", "{today1}"} {
		if _, err := (KeptForm{"content-use", map[string]string{"from": bad}}).Given("acme", now); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// Arrays of strings read packed come back as they went in, the empty array included.
func TestUnpackStrings(t *testing.T) {
	for _, want := range [][]string{{}, {""}, {"a"}, {"p1", "", "12:3", "日本語", "a:b:c"}, {"", ""}} {
		var b strings.Builder
		for _, e := range want {
			fmt.Fprintf(&b, "%d:%s", len(e), e)
		}
		got, err := unpackStrings(b.String())
		if err != nil || got == nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %q, %v; want %q", b.String(), got, err, want)
		}
	}
	for _, bad := range []string{"x", "3:ab", ":a", "-1:", "1", "01"} {
		if got, err := unpackStrings(bad); err == nil {
			t.Errorf("%q: %q, no error", bad, got)
		}
	}
}

// keptEqualsLive computes q's answer and fails t unless Answer serves a kept one equal to it
// (columns, types, and the rows' Go values in order); it returns the computed answer.
func keptEqualsLive(t *testing.T, conn driver.Conn, db string, q SavedQuery, given map[string]string) *Result {
	t.Helper()
	ctx := context.Background()
	live, err := q.Run(ctx, conn, db, given)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := q.Answer(ctx, conn, db, given, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case kept.KeptAt.IsZero():
		t.Errorf("%s %v: computed, not served from the kept answer", q.Name, given)
	case !reflect.DeepEqual(live.Columns, kept.Columns) || !reflect.DeepEqual(live.Types, kept.Types):
		t.Errorf("%s %v: kept columns %v %v, live %v %v", q.Name, given, kept.Columns, kept.Types, live.Columns, live.Types)
	case !reflect.DeepEqual(live.Rows, kept.Rows):
		t.Errorf("%s %v: kept rows differ from live ones:\nkept %v\nlive %v", q.Name, given, cells(kept), cells(live))
	}
	return live
}

// A round drops the kept tables of a query's former SQL once nothing has written to them
// for the rows' time to live, and leaves alone the current tables (however old their rows),
// a former query's table still written to (an older keeper running beside), and tables
// that are not kept answers.
func TestKeptDropStale(t *testing.T) {
	conn, db := newDB(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	q, err := LookupQuery("search-gaps")
	if err != nil {
		t.Fatal(err)
	}
	former, formerFresh := q, q
	former.SQL += "\n-- as an older release had it\n"
	formerFresh.SQL += "\n-- as another older release had it, whose keeper still runs\n"
	given := map[string]string{"tenant": "acme"}
	long := &Keeper{Conn: conn, DB: db, Now: func() time.Time { return time.Now().Add(-(keptTTLHours + 1) * time.Hour) }}
	now := &Keeper{Conn: conn, DB: db}
	for _, c := range []struct {
		k *Keeper
		q SavedQuery
	}{{long, former}, {long, q}, {now, formerFresh}} {
		if _, _, _, err := c.k.keep(ctx, c.q, given); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.Exec(ctx, "CREATE TABLE "+db+".kept_notes (note String) ENGINE = MergeTree ORDER BY note"); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	k := &Keeper{Conn: conn, DB: db, Forms: []KeptForm{}, Each: []KeptEach{}, Tenants: []string{"acme"}, Log: &log}
	st, err := k.Once(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{keptTable(former)}; !reflect.DeepEqual(st.Dropped, want) {
		t.Errorf("dropped %v, want %v\n%s", st.Dropped, want, log.String())
	}
	if !strings.Contains(log.String(), "dropped the kept table "+keptTable(former)) {
		t.Errorf("the keeper's log does not say what it dropped:\n%s", log.String())
	}
	left := scalar[string](t, conn, "SELECT arrayStringConcat(groupArray(name), ' ') FROM (SELECT name FROM system.tables WHERE database = '"+db+"' AND startsWith(name, 'kept_') ORDER BY name)")
	want := strings.Join(slices.Sorted(slices.Values([]string{keptIndex, keptTable(q), keptTable(formerFresh), "kept_notes"})), " ")
	if left != want {
		t.Errorf("kept tables left: %s, want %s", left, want)
	}
}
