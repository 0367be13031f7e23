package schema

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// genDataset writes a random but reproducible tenant "gen": partners, people on one or two
// devices, anonymous devices, documents, videos with seeks and rewatches, courses, FAQs,
// tools and campaigns; events arrive in many batches, some retried with the same token,
// some events re-delivered in a later batch, some late, some from bots.
func genDataset(t *testing.T, conn driver.Conn, db string, seed uint64) (docs, videos []string) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	type person struct {
		partner, user string
		devices       []string
		anonBefore    time.Time // events before it carry no token (the device was anonymous first)
	}
	var people []person
	partners := "partner_id,name\n"
	users := "partner_user_id,partner_id,name\n"
	for p := 1; p <= 6; p++ {
		partners += fmt.Sprintf("p%d,Partner %d\n", p, p)
		for u := 1; u <= 1+r.IntN(5); u++ {
			id := fmt.Sprintf("u%d_%d", p, u)
			users += fmt.Sprintf("%s,p%d,Person %s\n", id, p, id)
			ps := person{partner: fmt.Sprintf("p%d", p), user: id, devices: []string{"d" + id}}
			if r.IntN(3) == 0 {
				ps.devices = append(ps.devices, "m"+id)
			}
			if r.IntN(3) == 0 { // anonymous on its devices for its first 2-14 days
				ps.anonBefore = time.Date(2026, 3, 3+r.IntN(13), 0, 0, 0, 0, time.UTC)
			}
			if r.IntN(4) == 0 { // one of two devices shared with other people
				ps.devices = append(ps.devices, fmt.Sprintf("shared%d", r.IntN(2)))
			}
			people = append(people, ps)
		}
	}
	for a := 1; a <= 8; a++ {
		people = append(people, person{devices: []string{fmt.Sprintf("anon%d", a)}})
	}
	contents := "content_id,content_type,title,campaign_id,duration_s,page_count,tags\n"
	type content struct {
		id, typ string
		size    int // pages or seconds
	}
	var cs []content
	add := func(id, typ string, size int, campaign, tags string) {
		cs = append(cs, content{id, typ, size})
		dur, pages := "", ""
		if typ == "video" {
			dur = fmt.Sprint(size)
		} else if typ == "document" {
			pages = fmt.Sprint(size)
		}
		contents += fmt.Sprintf("%s,%s,%s,%s,%s,%s,%s\n", id, typ, "Title "+id, campaign, dur, pages, tags)
	}
	for i := 1; i <= 5; i++ {
		id := fmt.Sprintf("doc%d", i)
		docs = append(docs, id)
		add(id, "document", 3+r.IntN(15), fmt.Sprintf("camp%d", 1+i%3), "")
	}
	for i := 1; i <= 4; i++ {
		id := fmt.Sprintf("vid%d", i)
		videos = append(videos, id)
		add(id, "video", 20+r.IntN(200), fmt.Sprintf("camp%d", 1+i%3), "training")
	}
	for i := 1; i <= 3; i++ {
		add(fmt.Sprintf("course%d", i), "course", 0, "", "training")
		add(fmt.Sprintf("faq%d", i), "faq", 0, fmt.Sprintf("camp%d", 1+i%2), "faq")
	}
	add("tool1", "tool", 0, "camp3", "tool")
	add("tool2", "page", 0, "", "tool")
	assignments := "course_id,partner_user_id,partner_id\n"
	for _, p := range people {
		for c := 1; c <= 3; c++ {
			if p.user != "" && r.IntN(2) == 0 {
				assignments += fmt.Sprintf("course%d,%s,%s\n", c, p.user, p.partner)
			}
		}
	}
	deals := "deal_id,partner_id,amount,stage,closed_on\n"
	for d := 1; d <= 20; d++ {
		stage := []string{"won", "lost", "open"}[r.IntN(3)]
		deals += fmt.Sprintf("k%d,p%d,%d.%02d,%s,2026-03-%02d\n", d, 1+r.IntN(6), r.IntN(10000), r.IntN(100), stage, 1+r.IntN(28))
	}
	importCSV(t, conn, db, "partners", "gen", partners)
	importCSV(t, conn, db, "partner_users", "gen", users)
	importCSV(t, conn, db, "contents", "gen", contents)
	importCSV(t, conn, db, "campaigns", "gen", "campaign_id,name\ncamp1,One\ncamp2,Two\ncamp3,Three\n")
	importCSV(t, conn, db, "course_assignments", "gen", assignments)
	importCSV(t, conn, db, "deals", "gen", deals)

	var all []ev
	n := 0
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for s := 0; s < 400; s++ { // sessions
		p := people[r.IntN(len(people))]
		dev := p.devices[r.IntN(len(p.devices))]
		sess := fmt.Sprintf("s%d", s)
		c := cs[r.IntN(len(cs))]
		at := base.Add(time.Duration(r.IntN(20*24*3600)) * time.Second)
		campaign := ""
		if r.IntN(4) == 0 {
			campaign = fmt.Sprintf("camp%d", 1+r.IntN(3))
		}
		bot := r.IntN(15) == 0
		partner, user := p.partner, p.user
		if at.Before(p.anonBefore) {
			partner, user = "", ""
		}
		e := func(typ string) ev {
			n++
			at = at.Add(time.Duration(1+r.IntN(30)) * time.Second)
			return ev{id: fmt.Sprintf("g%d", n), tenant: "gen", at: at.Format(time.DateTime), typ: typ, visitor: dev, session: sess,
				partner: partner, user: user, campaign: campaign, content: c.id, ctype: c.typ, bot: bot}
		}
		if campaign != "" && r.IntN(2) == 0 { // came in through the campaign's tracked link
			x := e("click")
			x.action, x.ctype, x.session = "tracked", "", "link"
			all = append(all, x)
		}
		if r.IntN(5) > 0 {
			all = append(all, e("view"))
			if r.IntN(6) == 0 { // opened again in a second tab: another opening, same session
				all = append(all, e("view"))
			}
		}
		if r.IntN(3) == 0 { // engaged time of the page view, 10 s (campaign-ranking's minimum) or not
			x := e("engage")
			x.engaged = uint32(5000 + r.IntN(10000))
			all = append(all, x)
		}
		switch c.typ {
		case "document":
			page := 1
			for k := 0; k < 1+r.IntN(8); k++ {
				x := e("page")
				x.page, x.pageCount, x.dwell = uint32(page), uint32(c.size), uint32(1+r.IntN(20000))
				all = append(all, x)
				page += r.IntN(4) - 1 // forward, stay, or back
				page = max(1, min(page, c.size))
			}
		case "video":
			pos := 0.0
			for k := 0; k < 1+r.IntN(6); k++ {
				x := e("video")
				x.action, x.duration = "progress", float32(c.size)
				if r.IntN(3) == 0 { // seek anywhere, back or forth
					pos = float64(r.IntN(c.size))
					x.action = "seek"
				}
				end := min(pos+float64(r.IntN(40))+r.Float64(), float64(c.size))
				if end > pos {
					x.watched = [][2]float32{{float32(pos), float32(end)}}
				}
				pos = end
				all = append(all, x)
			}
			if pos >= float64(c.size) {
				x := e("video")
				x.action, x.duration = "ended", float32(c.size)
				all = append(all, x)
			}
		case "course":
			if r.IntN(2) == 0 {
				all = append(all, e("complete"))
			}
		default:
			if r.IntN(2) == 0 {
				x := e("click")
				x.action = "outbound"
				all = append(all, x)
			}
		}
	}
	// Deliver: shuffled (so events arrive late), in batches; every 5th batch retried with
	// its token, and some events re-delivered in a later batch.
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for b, start := 0, 0; start < len(all); b, start = b+1, start+150 {
		batch := append([]ev(nil), all[start:min(start+150, len(all))]...)
		for k := 0; k < 5 && start > 0; k++ {
			batch = append(batch, all[r.IntN(start)])
		}
		token := fmt.Sprintf("gen-%d", b)
		insert(t, conn, db, token, batch...)
		if b%5 == 0 {
			insert(t, conn, db, token, batch...)
		}
	}
	return docs, videos
}

var createMVBodyRE = regexp.MustCompile(`(?s)^.*CREATE MATERIALIZED VIEW IF NOT EXISTS \w+\.(\w+_mv) TO \w+\.(\w+) AS\n(.*)$`)

// refDatabase makes database ref answer the saved queries straight from db's raw events:
// each rollup is a plain view running its materialized view's query over the whole
// events table at once, and the dimension tables are copies.
func refDatabase(t *testing.T, conn driver.Conn, db, ref string) {
	t.Helper()
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Render(ms, Options{Database: db})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, conn, "CREATE DATABASE "+ref)
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+ref) })
	bodies := rollupBodies(t, rs)
	// the rollups as migrated: their engines and sorting keys, and how many views feed them
	replacing := map[string]string{}
	for _, r := range rawRows(t, conn, "SELECT name, sorting_key FROM system.tables WHERE database = ? AND engine = 'ReplacingMergeTree'", db) {
		replacing[r[0]] = r[1]
	}
	mvs := rawRows(t, conn, "SELECT count() FROM system.tables WHERE database = ? AND engine = 'MaterializedView'", db)[0][0]
	for target, body := range bodies {
		// a ReplacingMergeTree rollup holds plain rows that readers take with FINAL: its
		// reference keeps one row per key, as FINAL does (raw events hold repeats)
		if key, ok := replacing[target]; ok {
			body += "\nLIMIT 1 BY " + key
		}
		exec(t, conn, fmt.Sprintf("CREATE VIEW %s.%s AS %s", ref, target, body))
	}
	if fmt.Sprint(len(bodies)) != mvs {
		t.Fatalf("made %d reference views, want one per materialized view of %s (%s)", len(bodies), db, mvs)
	}
	for _, d := range Dimensions {
		exec(t, conn, fmt.Sprintf("CREATE TABLE %s.%s AS %s.%s", ref, d.Table, db, d.Table))
		exec(t, conn, fmt.Sprintf("INSERT INTO %s.%s SELECT * FROM %s.%s", ref, d.Table, db, d.Table))
	}
	// document-views reads finished rows: computed here by the migrations' own view, over
	// the reference views, into a copy of the table.
	refRendered, err := Render(ms, Options{Database: ref})
	if err != nil {
		t.Fatal(err)
	}
	// The finished rows (FinishedTables): the same tables, filled by the migrations' own
	// views over the reference views; stitch_claims reads device_claims.
	views := []string{"stitch_claims"}
	for _, f := range FinishedTables {
		views = append(views, f.Table+"_since")
	}
	made := map[string]bool{}
	for _, r := range refRendered {
		for _, s := range r.Statements {
			for _, v := range views {
				if strings.Contains(s, "VIEW "+ref+"."+v+" AS") {
					exec(t, conn, s)
					made[v] = true
				}
			}
		}
	}
	for _, v := range views {
		if !made[v] {
			t.Fatalf("the migrations create %v, want %v", made, views)
		}
	}
	for _, f := range FinishedTables {
		exec(t, conn, fmt.Sprintf("CREATE TABLE %s.%s AS %s.%s", ref, f.Table, db, f.Table))
		exec(t, conn, fmt.Sprintf("INSERT INTO %s.%s SELECT * FROM %s.%s_since(since = '1970-01-01 00:00:00')", ref, f.Table, ref, f.Table))
	}
}

// rollupBodies maps every rollup target to the query of the materialized view that feeds
// it (a later view on the same target replaces an earlier one; a dropped view removes it).
func rollupBodies(t *testing.T, rs []Rendered) map[string]string {
	t.Helper()
	bodies := map[string]string{}
	views := map[string]string{} // view -> target
	for _, r := range rs {
		for _, s := range r.Statements {
			if m := createMVBodyRE.FindStringSubmatch(s); m != nil {
				views[m[1]] = m[2]
				bodies[m[2]] = m[3]
			}
			if m := modifyQueryBodyRE.FindStringSubmatch(s); m != nil {
				if target, ok := views[m[1]]; ok {
					bodies[target] = m[2]
				}
			}
			if m := dropViewRE.FindStringSubmatch(s); m != nil {
				if target, ok := views[m[1]]; ok {
					delete(bodies, target)
				}
			}
		}
	}
	return bodies
}

var (
	dropViewRE        = regexp.MustCompile(`(?s)^(?:\s*--[^\n]*\n)*\s*DROP (?:VIEW|TABLE) IF EXISTS \w+\.(\w+_mv)\b`)
	modifyQueryBodyRE = regexp.MustCompile(`(?s)^(?:\s*--[^\n]*\n)*\s*ALTER TABLE \w+\.(\w+_mv) MODIFY QUERY\n(.*)$`)
	backfillBodyRE    = regexp.MustCompile(`(?s)^(?:\s*--[^\n]*\n)*\s*INSERT INTO \w+\.(\w+)\n(.*)$`)
)

// A backfill must fill its rollup exactly as the view does, or old events would be
// counted differently from new ones.
func TestBackfillsRunTheirViewsQuery(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Render(ms, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, r := range rs {
		// the views as they stand when this migration runs
		bodies := rollupBodies(t, rs[:i+1])
		for _, s := range r.Statements {
			if !IsBackfill(s) {
				continue
			}
			if t := insertRE.FindStringSubmatch(s); bodies[t[2]] == "" {
				continue // not a rollup: no view feeds it (doc_viewer_rows, filled from the rollups)
			}
			m := backfillBodyRE.FindStringSubmatch(s)
			if m == nil {
				t.Fatalf("backfill not in the form INSERT INTO db.table\\nSELECT ...: %.80s", s)
			}
			if bodies[m[1]] != m[2] {
				t.Fatalf("backfill of %s differs from its view's query:\n%s\nview:\n%s", m[1], m[2], bodies[m[1]])
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no backfill found")
	}
}

// rawRows runs a reference query over raw events and returns text cells.
func rawRows(t *testing.T, conn driver.Conn, sql string, args ...any) [][]string {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	res, err := scanAll(rows)
	if err != nil {
		t.Fatal(err)
	}
	return cells(res)
}

func project(rows [][]string, cols ...int) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		for _, c := range cols {
			out[i] = append(out[i], r[c])
		}
	}
	return out
}

func joinRows(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "|"))
		b.WriteString("\n")
	}
	return b.String()
}

func TestRollupsMatchRawEvents(t *testing.T) {
	conn, db := newDB(t)
	if _, err := Migrate(context.Background(), conn, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	docs, videos := genDataset(t, conn, db, 7)
	genAdditions(t, conn, db, 7)
	refreshRows(t, conn, db, time.Hour)
	// Merge some parts and not others, so the rollups are read both merged and unmerged.
	exec(t, conn, "OPTIMIZE TABLE "+db+".doc_page_dwell FINAL")
	exec(t, conn, "OPTIMIZE TABLE "+db+".video_seconds FINAL")

	ref := db + "_ref"
	refDatabase(t, conn, db, ref)

	// 1. Every saved query gives the same answer from the rollups as from raw events
	// aggregated in one go.
	calls := []struct {
		name   string
		params map[string]string
	}{
		{"training-completion", map[string]string{"tenant": "gen"}},
		{"content-outcomes", map[string]string{"tenant": "gen"}},
		{"content-outcomes", map[string]string{"tenant": "gen", "from": "2026-03-05", "to": "2026-03-12"}},
		{"campaign-ranking", map[string]string{"tenant": "gen"}},
		{"campaign-ranking", map[string]string{"tenant": "gen", "campaign": "camp2", "from": "2026-03-10"}},
		{"campaign-ranking", map[string]string{"tenant": "gen", "use": "any"}},
		{"campaign-ranking", map[string]string{"tenant": "gen", "campaign": "camp2", "from": "2026-03-10", "use": "any"}},
		// the contact questions, with anonymous-then-identified and shared devices
		{"partner-activity", map[string]string{"tenant": "gen", "to": "2026-03-14", "baseline_weeks": "1"}},
		{"partner-activity", map[string]string{"tenant": "gen", "to": "2026-03-21", "days": "3", "baseline_weeks": "2"}},
		{"partner-activity", map[string]string{"tenant": "gen", "to": "2026-03-17", "partner": "p2", "lookback": "3"}},
		{"content-reach", map[string]string{"tenant": "gen", "campaign": "camp1"}},
		{"content-reach", map[string]string{"tenant": "gen", "campaign": "camp3", "from": "2026-03-08", "to": "2026-03-15"}},
		{"content-reach", map[string]string{"tenant": "gen", "content": "doc1", "lookback": "3"}},
		{"contact-timeline", map[string]string{"tenant": "gen", "partner": "p1"}},
		{"contact-timeline", map[string]string{"tenant": "gen", "partner": "p3", "lookback": "3", "from": "2026-03-05"}},
		// search, versions and scores (genAdditions, tenant genx)
		{"search-gaps", map[string]string{"tenant": "genx"}},
		{"search-gaps", map[string]string{"tenant": "genx", "partner": "p2", "from": "2026-03-05", "to": "2026-03-12"}},
		{"search-gaps", map[string]string{"tenant": "genx", "only": "no_open", "limit": "3"}},
		{"content-versions", map[string]string{"tenant": "genx"}},
		{"content-versions", map[string]string{"tenant": "genx", "kind": "tool"}},
		{"training-scores", map[string]string{"tenant": "genx"}},
		{"training-scores", map[string]string{"tenant": "genx", "partner": "p1", "course": "course2"}},
		// the console's (0020)
		{"tenant-activity", map[string]string{"tenant": "gen"}},
		{"tenant-activity", map[string]string{"tenant": "gen", "from": "2026-03-08", "to": "2026-03-14"}},
		{"partner-deals", map[string]string{"tenant": "gen", "partner": "p1"}},
		{"partner-deals", map[string]string{"tenant": "gen", "partner": "p2", "lookback": "5"}},
	}
	for _, u := range rawRows(t, conn, "SELECT partner_user_id FROM "+db+".partner_users FINAL WHERE tenant = 'gen' ORDER BY partner_user_id") {
		calls = append(calls, struct {
			name   string
			params map[string]string
		}{"contact-timeline", map[string]string{"tenant": "gen", "person": u[0], "limit": "7"}})
	}
	for _, c := range docs {
		calls = append(calls, struct {
			name   string
			params map[string]string
		}{"document-views", map[string]string{"tenant": "gen", "content": c}})
	}
	for _, c := range videos {
		calls = append(calls, struct {
			name   string
			params map[string]string
		}{"video-retention", map[string]string{"tenant": "gen", "content": c}}, struct {
			name   string
			params map[string]string
		}{"video-viewers", map[string]string{"tenant": "gen", "content": c}})
		for _, u := range rawRows(t, conn, "SELECT DISTINCT partner_user_id FROM "+db+".events WHERE tenant = 'gen' AND content_id = ? AND type = 'video' AND partner_user_id != '' ORDER BY partner_user_id LIMIT 3", c) {
			calls = append(calls, struct {
				name   string
				params map[string]string
			}{"viewer-seconds", map[string]string{"tenant": "gen", "content": c, "person": u[0]}})
		}
	}
	nonEmpty, stitched := 0, 0
	for _, c := range calls {
		got := run(t, conn, db, c.name, c.params)
		want := run(t, conn, ref, c.name, c.params)
		if joinRows(got) != joinRows(want) {
			t.Fatalf("%s %v: rollups and raw events differ\nrollups:\n%s\nraw:\n%s", c.name, c.params, joinRows(got), joinRows(want))
		}
		if len(got) > 0 {
			nonEmpty++
		}
		if c.name == "contact-timeline" {
			for _, r := range got {
				if r[7] == "1" {
					stitched++
				}
			}
		}
	}
	if stitched == 0 {
		t.Fatal("no contact-timeline row is a stitched anonymous touch; the generated dataset does not test stitching")
	}
	if nonEmpty < len(calls)-1 {
		t.Fatalf("only %d of %d answers have rows; the generated dataset is too thin", nonEmpty, len(calls))
	}

	// Second pages: the cursor of a first page's last row (the same string on both sides).
	for _, c := range calls {
		if c.name != "contact-timeline" || c.params["limit"] == "" {
			continue
		}
		first := run(t, conn, db, c.name, c.params)
		if len(first) < 7 {
			continue
		}
		next := map[string]string{"before": first[6][len(first[6])-1]}
		for k, v := range c.params {
			next[k] = v
		}
		got, want := run(t, conn, db, c.name, next), run(t, conn, ref, c.name, next)
		if len(got) == 0 || joinRows(got) != joinRows(want) {
			t.Fatalf("contact-timeline %v: second pages differ or are empty\nrollups:\n%s\nraw:\n%s", next, joinRows(got), joinRows(want))
		}
	}

	// Stitching, written another way over raw events: an anonymous touch (device, day,
	// content) counts for the person whose first token on that device came first among
	// those on or after its day, if at most 30 days after it. Every person's whole
	// timeline has exactly those touches and its own.
	var got [][]string
	for _, u := range rawRows(t, conn, "SELECT partner_user_id FROM "+db+".partner_users FINAL WHERE tenant = 'gen' ORDER BY partner_user_id") {
		for _, r := range run(t, conn, db, "contact-timeline", map[string]string{"tenant": "gen", "person": u[0], "limit": "100000"}) {
			got = append(got, []string{r[2], r[6], r[0][:10], r[8]})
		}
	}
	want := rawRows(t, conn, fmt.Sprintf(`
WITH e AS (SELECT * FROM %s.events WHERE tenant = 'gen' AND is_bot = 0 LIMIT 1 BY event_id),
firsts AS (SELECT visitor_id, partner_user_id AS person, min(event_time) AS f FROM e WHERE partner_user_id != '' GROUP BY visitor_id, person),
anon AS (SELECT DISTINCT visitor_id, toDate(event_time) AS d, toString(content_id) AS content_id FROM e WHERE partner_user_id = ''),
claimed AS
(
    SELECT a.visitor_id AS visitor_id, a.d AS d, a.content_id AS content_id,
           argMin(fs.person, (fs.f, fs.person)) AS person, min(fs.f) AS f
    FROM anon AS a INNER JOIN firsts AS fs ON fs.visitor_id = a.visitor_id
    WHERE toDate(fs.f) >= a.d
    GROUP BY visitor_id, d, content_id
)
SELECT person, viewer, toString(d), content_id FROM
(
    SELECT person, concat('v:', visitor_id) AS viewer, d, content_id FROM claimed WHERE d >= toDate(f) - 30
    UNION ALL
    SELECT DISTINCT partner_user_id, concat('u:', partner_user_id), toDate(event_time), toString(content_id) FROM e WHERE partner_user_id != ''
)
ORDER BY person, viewer, d, content_id`, db))
	sort.Slice(got, func(i, j int) bool { return strings.Join(got[i], "|") < strings.Join(got[j], "|") })
	if joinRows(got) != joinRows(want) {
		t.Fatalf("contact-timeline touches and raw stitching differ\nrollups:\n%s\nraw:\n%s", joinRows(got), joinRows(want))
	}
	if !strings.Contains(joinRows(want), "|v:") {
		t.Fatal("no stitched touch in the raw answer")
	}

	// 2. Independent SQL over raw events (deduplicated by event_id, bots excluded) agrees
	// with the rollup-based answers on the per-viewer document facts and the video curve.
	// Stitching (0021) written another way: each anonymous day of a device has an owner
	// (rawDayOwners); a device's use of a document or video counts for a person when every
	// day of it has that owner.
	stitchedDocs, stitchedVideos := 0, 0
	for _, doc := range docs {
		got := project(run(t, conn, db, "document-views", map[string]string{"tenant": "gen", "content": doc}), 4, 5, 6, 7, 9, 10, 11, 12, 13)
		want := rawRows(t, conn, fmt.Sprintf(`
WITH %[2]s,
rowowner AS (%[3]s),
e AS (
    SELECT if(partner_user_id != '', 'u:' || partner_user_id,
              if(r.person != '', 'u:' || r.person, 'v:' || visitor_id)) AS who, *
    FROM %[1]s.events AS ev LEFT JOIN rowowner AS r ON r.visitor_id = ev.visitor_id
    WHERE tenant = 'gen' AND content_id = ? AND is_bot = 0 AND type IN ('view', 'page')
    LIMIT 1 BY event_id
),
p AS (SELECT who, page, sum(toUInt64(dwell_ms)) AS d FROM e WHERE type = 'page' GROUP BY who, page)
SELECT e.who, min(event_time), max(event_time), max(if(type = 'page', e.page, 0)), uniqExactIf(e.page, type = 'page'),
       countIf(type = 'view'), uniqExact(session_id), (SELECT sum(d) FROM p WHERE p.who = e.who),
       (SELECT mapSort(mapFromArrays(groupArray(page), groupArray(d))) FROM p WHERE p.who = e.who)
FROM e GROUP BY e.who ORDER BY min(event_time), e.who`, db, rawDayOwners(db), rawRowOwners("'view', 'page'")), doc, doc)
		for _, r := range run(t, conn, db, "document-views", map[string]string{"tenant": "gen", "content": doc}) {
			if r[14] == "1" {
				stitchedDocs++
			}
		}
		if joinRows(got) != joinRows(want) {
			t.Fatalf("document-views %s: rollups and raw SQL differ\nrollups:\n%s\nraw:\n%s", doc, joinRows(got), joinRows(want))
		}
	}
	// campaign-ranking's consumed counts per (campaign, partner), with both definitions of
	// use, from raw events: a campaign's contents are its contents rows and the targets of
	// its tracked-link clicks; engaged use as 0015 states it.
	for _, use := range []struct{ name, cond string }{
		{"engaged", "(type = 'engage' AND engaged_ms >= 10000) OR (type = 'page' AND dwell_ms >= 10000) OR (type = 'video' AND (action = 'play' OR notEmpty(watched_start))) OR type = 'complete'"},
		{"any", "1"},
	} {
		var got [][]string
		for _, r := range run(t, conn, db, "campaign-ranking", map[string]string{"tenant": "gen", "use": use.name}) {
			if r[5] != "0" {
				got = append(got, []string{r[0], r[3], r[5]})
			}
		}
		want := rawRows(t, conn, fmt.Sprintf(`
WITH cc AS (
    SELECT DISTINCT campaign_id, content_id FROM (
        SELECT campaign_id, content_id FROM %[1]s.contents FINAL WHERE tenant = 'gen' AND campaign_id != ''
        UNION ALL
        SELECT campaign_id, content_id FROM %[1]s.events
        WHERE tenant = 'gen' AND is_bot = 0 AND type = 'click' AND action = 'tracked' AND campaign_id != '' AND content_id != ''))
SELECT cc.campaign_id AS c, u.partner_id AS p, toString(count()) FROM cc
INNER JOIN (SELECT DISTINCT partner_id, content_id FROM
            (
                SELECT partner_id, content_id FROM %[1]s.events
                WHERE tenant = 'gen' AND is_bot = 0 AND partner_id != '' AND content_id != '' AND (%[2]s)
                UNION ALL
                SELECT o.partner, ev.content_id FROM %[1]s.events AS ev
                INNER JOIN (%[3]s) AS o ON o.visitor_id = ev.visitor_id AND o.d = toDate(ev.event_time)
                WHERE ev.tenant = 'gen' AND ev.is_bot = 0 AND ev.partner_user_id = '' AND ev.content_id != '' AND o.partner != '' AND (%[2]s)
            )) AS u ON u.content_id = cc.content_id
GROUP BY c, p ORDER BY c, p`, db, use.cond, "WITH "+rawDayOwners(db)+" SELECT * FROM dayowner"))
		sortRows := func(rs [][]string) string {
			lines := strings.Split(strings.TrimSpace(joinRows(rs)), "\n")
			slices.Sort(lines)
			return strings.Join(lines, "\n")
		}
		if sortRows(got) != sortRows(want) {
			t.Fatalf("campaign-ranking use=%s: rollups and raw SQL differ\nrollups:\n%s\nraw:\n%s", use.name, sortRows(got), sortRows(want))
		}
		if len(want) < 3 {
			t.Fatalf("campaign-ranking use=%s: only %d consuming (campaign, partner) pairs; the dataset is too thin", use.name, len(want))
		}
	}
	checkAdditionsAgainstRaw(t, conn, db)
	for _, vid := range videos {
		var got [][]string
		for _, r := range run(t, conn, db, "video-retention", map[string]string{"tenant": "gen", "content": vid}) {
			if r[1] != "0" {
				got = append(got, []string{r[0], r[1], r[5], r[6]})
			}
		}
		for _, r := range run(t, conn, db, "video-retention", map[string]string{"tenant": "gen", "content": vid, "lookback": "0"}) {
			if len(got) > 0 && r[5] != got[0][2] {
				stitchedVideos++
				break
			}
		}
		want := rawRows(t, conn, fmt.Sprintf(`
WITH %[2]s,
rowowner AS (%[3]s),
e AS (
    SELECT if(partner_user_id != '', 'u:' || partner_user_id,
              if(r.person != '', 'u:' || r.person, 'v:' || visitor_id)) AS who, *
    FROM %[1]s.events AS ev LEFT JOIN rowowner AS r ON r.visitor_id = ev.visitor_id
    WHERE tenant = 'gen' AND content_id = ? AND is_bot = 0
    LIMIT 1 BY event_id
),
secs AS (
    SELECT who, arrayJoin(range(toUInt32(floor(r.1)), toUInt32(ceil(r.2)))) AS second
    FROM e ARRAY JOIN arrayZip(watched_start, watched_end) AS r WHERE type = 'video'
),
who AS (
    SELECT uniqExactIf(who, type = 'view' OR notEmpty(watched_start) OR action = 'play') AS loads,
           uniqExactIf(who, type = 'video' AND (notEmpty(watched_start) OR action = 'play')) AS plays
    FROM e
)
SELECT second, uniqExact(who), (SELECT loads FROM who), (SELECT plays FROM who) FROM secs GROUP BY second ORDER BY second`, db, rawDayOwners(db), rawRowOwners("'view', 'video', 'complete'")), vid, vid)
		if joinRows(got) != joinRows(want) {
			t.Fatalf("video-retention %s: rollups and raw SQL differ\nrollups:\n%s\nraw:\n%s", vid, joinRows(got), joinRows(want))
		}
	}
	if stitchedDocs == 0 || stitchedVideos == 0 {
		t.Fatalf("%d document-views rows and %d videos with a stitched device; the generated dataset does not test stitching there", stitchedDocs, stitchedVideos)
	}
}

// rawDayOwners is a WITH list over db's raw events ending in dayowner: per anonymous
// (device, day), the person whose verified token came first on that device among those
// on or after that day, if at most 30 days later, and that person's partner there.
func rawDayOwners(db string) string {
	return fmt.Sprintf(`
e0 AS (SELECT * FROM %s.events WHERE tenant = 'gen' AND is_bot = 0 AND visitor_id != '' LIMIT 1 BY event_id),
firsts AS
(
    SELECT visitor_id, partner_user_id AS person, max(toString(partner_id)) AS partner, min(event_time) AS f
    FROM e0 WHERE partner_user_id != '' GROUP BY visitor_id, person
),
dayowner AS
(
    SELECT a.visitor_id AS visitor_id, a.d AS d, argMin(fs.person, (fs.f, fs.person)) AS person,
           argMin(fs.partner, (fs.f, fs.person)) AS partner, min(fs.f) AS f
    FROM (SELECT DISTINCT visitor_id, toDate(event_time) AS d FROM e0 WHERE partner_user_id = '') AS a
    INNER JOIN firsts AS fs ON fs.visitor_id = a.visitor_id
    WHERE toDate(fs.f) >= a.d
    GROUP BY visitor_id, d
    HAVING d >= toDate(f) - 30
)`, db)
}

// rawRowOwners selects (visitor_id, person) for the devices whose anonymous events of
// the given types on the content (the query's first parameter) all fall on days one
// person owns: the devices whose row a per-viewer rollup counts for that person.
func rawRowOwners(types string) string {
	return fmt.Sprintf(`
    SELECT a.visitor_id AS visitor_id, any(o.person) AS person
    FROM (SELECT DISTINCT visitor_id, toDate(event_time) AS d FROM e0
          WHERE partner_user_id = '' AND content_id = ? AND type IN (%s)) AS a
    LEFT JOIN dayowner AS o ON o.visitor_id = a.visitor_id AND o.d = a.d
    GROUP BY a.visitor_id
    HAVING uniqExact(o.person) = 1 AND min(o.person) != ''`, types)
}

// A database that got its events before 0005 and 0006 existed answers, once upgraded
// (the new rollups backfilled from its events), exactly as one that had every rollup
// from the start.
func TestUpgradeBackfillsRollups(t *testing.T) {
	ctx := context.Background()
	conn, old := newDB(t)
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for n < len(ms) && ms[n].Version < 5 {
		n++
	}
	if n == len(ms) {
		t.Fatal("no migration after 0004 to upgrade to")
	}
	if _, err := migrate(ctx, conn, ms[:n], Options{Database: old}); err != nil {
		t.Fatal(err)
	}
	docs, videos := genDataset(t, conn, old, 7)
	done, err := Migrate(ctx, conn, Options{Database: old})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != len(ms)-n {
		t.Fatalf("upgrade applied %v, want the %d migrations after 0004", done, len(ms)-n)
	}

	fresh := old + "_fresh"
	exec(t, conn, "CREATE DATABASE "+fresh)
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+fresh) })
	if _, err := Migrate(ctx, conn, Options{Database: fresh}); err != nil {
		t.Fatal(err)
	}
	genDataset(t, conn, fresh, 7)
	refreshRows(t, conn, fresh, time.Hour) // the upgraded database's rows come from 0013's fill

	calls := []struct {
		name   string
		params map[string]string
	}{
		{"training-completion", map[string]string{"tenant": "gen"}},
		{"content-outcomes", map[string]string{"tenant": "gen"}},
		{"campaign-ranking", map[string]string{"tenant": "gen"}},
		{"campaign-ranking", map[string]string{"tenant": "gen", "campaign": "camp2", "from": "2026-03-10"}},
		{"campaign-ranking", map[string]string{"tenant": "gen", "use": "any"}},
		{"document-views", map[string]string{"tenant": "gen", "content": docs[0]}},
		{"document-views", map[string]string{"tenant": "gen", "content": docs[1]}},
		{"video-retention", map[string]string{"tenant": "gen", "content": videos[0]}},
		{"video-retention", map[string]string{"tenant": "gen", "content": videos[1]}},
	}
	for _, c := range calls {
		got, want := run(t, conn, old, c.name, c.params), run(t, conn, fresh, c.name, c.params)
		if len(want) == 0 {
			t.Fatalf("%s %v: no rows; the comparison proves nothing", c.name, c.params)
		}
		if joinRows(got) != joinRows(want) {
			t.Fatalf("%s %v: upgraded and fresh databases differ\nupgraded:\n%s\nfresh:\n%s", c.name, c.params, joinRows(got), joinRows(want))
		}
	}
}
