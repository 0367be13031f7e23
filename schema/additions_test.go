package schema

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// xev is an event with the wire v1 additions (0018): a search, a content version, a score.
type xev struct {
	ev
	version string
	query   string
	results uint32
	clicked string
	score   *float32 // nil: not sent
	passed  *uint8   // nil: not sent
}

func score(f float32) *float32 { return &f }
func pass(ok bool) *uint8 {
	v := uint8(0)
	if ok {
		v = 1
	}
	return &v
}

const insertAdditions = `INSERT INTO %s.events (event_id, tenant, received_at, event_time, client_time, type, visitor_id,
session_id, partner_id, partner_user_id, attribution, content_id, content_type, device, is_bot,
content_version, search_query, search_results, search_clicked, score, passed)`

// insertX writes one batch of events with the additions as one insert block, its rows
// not merged by key (optimize_on_insert 0, as the ingest and insert do).
func insertX(t testing.TB, conn driver.Conn, db string, evs ...xev) {
	t.Helper()
	ctx := clickhouse.Context(context.Background(), clickhouse.WithSettings(clickhouse.Settings{"optimize_on_insert": 0}))
	b, err := conn.PrepareBatch(ctx, fmt.Sprintf(insertAdditions, db))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		tenant := e.tenant
		if tenant == "" {
			tenant = "acme"
		}
		at, err := time.Parse(time.DateTime, e.at)
		if err != nil {
			t.Fatalf("event %s: %v", e.id, err)
		}
		attribution, device, bot := "none", "desktop", uint8(0)
		if e.partner != "" {
			attribution = "token"
		}
		if e.bot {
			device, bot = "bot", 1
		}
		err = b.Append(eventID(e.id), tenant, at, at, at, e.typ, e.visitor, e.session, e.partner, e.user, attribution,
			e.content, e.ctype, device, bot, e.version, e.query, e.results, e.clicked, e.score, e.passed)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("insert: %v", err)
	}
}

// The additions dataset: tenant acme, partners p1 Alpha (u1, u2, u5), p2 Beta (u3, u4;
// u7 is not in partner_users but its events carry p2), an anonymous device a1, a bot.
// Every expected answer below is computed by hand in the comments next to the events.
var additionsEvents = []xev{
	// search-gaps. Opens count within 30 minutes after a search, in 30-minute buckets of
	// the clock ([10:00, 10:30), [10:30, 11:00), ...).
	// u2 opens doc2 at 09:00, then searches "brochure" at 09:10 and opens nothing after:
	// the earlier open does not count -> no open.
	{ev: ev{id: "s-u2-view", at: "2026-03-02 09:00:00", typ: "view", visitor: "b2", session: "s2", partner: "p1", user: "u2", content: "doc2", ctype: "document"}},
	{ev: ev{id: "s-u2-q", at: "2026-03-02 09:10:00", typ: "search", visitor: "b2", session: "s2", partner: "p1", user: "u2"}, query: "brochure", results: 3},
	// u1 searches "Pricing 2027" at 10:00 and finds nothing (0 results; its key is
	// lowercased); then "pricing" at 10:25 (5 results) and opens doc1 at 10:40, 15 minutes
	// later, in the next bucket -> the second led to an open, the first did not (10:40 is
	// 40 minutes after 10:00). u1 opens doc1 again at 11:00, an hour after the first.
	{ev: ev{id: "s-u1-q0", at: "2026-03-02 10:00:00", typ: "search", visitor: "d1", session: "s1", partner: "p1", user: "u1"}, query: "Pricing 2027", results: 0},
	{ev: ev{id: "s-u1-q1", at: "2026-03-02 10:25:00", typ: "search", visitor: "d1", session: "s1", partner: "p1", user: "u1"}, query: "pricing", results: 5},
	{ev: ev{id: "s-u1-open", at: "2026-03-02 10:40:00", typ: "view", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "doc1", ctype: "document"}},
	{ev: ev{id: "s-u1-open2", at: "2026-03-02 11:00:00", typ: "view", visitor: "d1", session: "s1", partner: "p1", user: "u1", content: "doc1", ctype: "document"}},
	// u3 searches "setup" and clicks a result: led to an open without a view event
	{ev: ev{id: "s-u3-q", at: "2026-03-02 12:00:00", typ: "search", visitor: "c3", session: "s3", partner: "p2", user: "u3"}, query: "setup", results: 2, clicked: "faq1"},
	// u3 searches "roi" at 14:00 and opens tool1 at 14:30:00, exactly 30 minutes later ->
	// opened; again at 15:00 and opens tool1 at 15:30:01, a second too late -> no open.
	{ev: ev{id: "s-u3-roi1", at: "2026-03-02 14:00:00", typ: "search", visitor: "c3", session: "s3", partner: "p2", user: "u3"}, query: "roi", results: 1},
	{ev: ev{id: "s-u3-roi1-open", at: "2026-03-02 14:30:00", typ: "view", visitor: "c3", session: "s3", partner: "p2", user: "u3", content: "tool1", ctype: "tool"}},
	{ev: ev{id: "s-u3-roi2", at: "2026-03-02 15:00:00", typ: "search", visitor: "c3", session: "s3", partner: "p2", user: "u3"}, query: "roi", results: 1},
	{ev: ev{id: "s-u3-roi2-open", at: "2026-03-02 15:30:01", typ: "view", visitor: "c3", session: "s3", partner: "p2", user: "u3", content: "tool1", ctype: "tool"}},
	// anonymous a1 searches "pricing" and opens nothing: partner ''
	{ev: ev{id: "s-a1-q", at: "2026-03-02 13:00:00", typ: "search", visitor: "a1", session: "sa"}, query: "pricing", results: 5},
	// a bot searching, and another tenant's search: never counted
	{ev: ev{id: "s-bot-q", at: "2026-03-02 13:00:00", typ: "search", visitor: "bot1", session: "sb", partner: "p1", user: "u6", bot: true}, query: "pricing", results: 0},
	{ev: ev{id: "s-other-q", tenant: "other", at: "2026-03-02 13:00:00", typ: "search", visitor: "x", session: "x", partner: "p1", user: "u1"}, query: "pricing", results: 0},

	// content-versions. doc1 v1 is first seen March 1, v2 March 10 (v2 is the latest).
	// p1: u2 on v1 (March 9), u1 on v1 (March 1) then v2 (March 11) -> p1 last used v2;
	// p2: u3 on v1 March 5 and still March 12 -> p2 still uses an outdated version.
	// a1 (anonymous) opened v2 first, March 10. tool1 has one version, 2026.1, used by u3
	// with a view and a click in two sessions.
	{ev: ev{id: "v-u1-v1", at: "2026-03-01 10:00:00", typ: "view", visitor: "d1", session: "vs1", partner: "p1", user: "u1", content: "doc1", ctype: "document"}, version: "v1"},
	{ev: ev{id: "v-u3-v1a", at: "2026-03-05 10:00:00", typ: "view", visitor: "c3", session: "vs3", partner: "p2", user: "u3", content: "doc1", ctype: "document"}, version: "v1"},
	{ev: ev{id: "v-u2-v1", at: "2026-03-09 10:00:00", typ: "view", visitor: "b2", session: "vs2", partner: "p1", user: "u2", content: "doc1", ctype: "document"}, version: "v1"},
	{ev: ev{id: "v-a1-v2", at: "2026-03-10 10:00:00", typ: "view", visitor: "a1", session: "vsa", content: "doc1", ctype: "document"}, version: "v2"},
	{ev: ev{id: "v-u1-v2", at: "2026-03-11 10:00:00", typ: "view", visitor: "d1", session: "vs4", partner: "p1", user: "u1", content: "doc1", ctype: "document"}, version: "v2"},
	{ev: ev{id: "v-u3-v1b", at: "2026-03-12 10:00:00", typ: "view", visitor: "c3", session: "vs5", partner: "p2", user: "u3", content: "doc1", ctype: "document"}, version: "v1"},
	// doc1 without a version, and a bot on v1 later than everyone: not counted
	{ev: ev{id: "v-u1-none", at: "2026-03-13 10:00:00", typ: "view", visitor: "d1", session: "vs6", partner: "p1", user: "u1", content: "doc1", ctype: "document"}},
	{ev: ev{id: "v-bot-v1", at: "2026-03-20 10:00:00", typ: "view", visitor: "bot1", session: "sb", partner: "p1", user: "u6", content: "doc1", ctype: "document", bot: true}, version: "v1"},
	{ev: ev{id: "v-u3-tool-view", at: "2026-03-03 10:00:00", typ: "view", visitor: "c3", session: "vs7", partner: "p2", user: "u3", content: "tool1", ctype: "tool"}, version: "2026.1"},
	{ev: ev{id: "v-u3-tool-click", at: "2026-03-04 10:00:00", typ: "click", action: "download", visitor: "c3", session: "vs8", partner: "p2", user: "u3", content: "tool1", ctype: "tool"}, version: "2026.1"},

	// training-scores on course1. p1: u1 failed (40) then passed (90) -> passed; u2 failed
	// (55) -> failed; u5 (p1 in partner_users, its events say p9) failed (30) -> failed:
	// 3 people, 4 attempts, average (40+90+55+30)/4 = 53.75, lowest 30, passed 1, failed 2.
	// p2: u3 scored 70 without a pass, then passed without a score -> passed; u7 (not in
	// partner_users, events p2) passed with 100: 2 people, 3 attempts, average 85, lowest
	// 70, passed 2. u4 completed without score or pass: not an attempt. a1 (anonymous) and a
	// bot are never counted.
	{ev: ev{id: "q-u1-1", at: "2026-03-02 10:00:00", typ: "complete", visitor: "d1", session: "q1", partner: "p1", user: "u1", content: "course1", ctype: "course"}, score: score(40), passed: pass(false)},
	{ev: ev{id: "q-u1-2", at: "2026-03-03 10:00:00", typ: "complete", visitor: "m1", session: "q2", partner: "p1", user: "u1", content: "course1", ctype: "course"}, score: score(90), passed: pass(true)},
	{ev: ev{id: "q-u2-1", at: "2026-03-02 11:00:00", typ: "complete", visitor: "b2", session: "q3", partner: "p1", user: "u2", content: "course1", ctype: "course"}, score: score(55), passed: pass(false)},
	{ev: ev{id: "q-u5-1", at: "2026-03-05 11:00:00", typ: "complete", visitor: "e5", session: "q4", partner: "p9", user: "u5", content: "course1", ctype: "course"}, score: score(30), passed: pass(false)},
	{ev: ev{id: "q-u3-1", at: "2026-03-02 12:00:00", typ: "complete", visitor: "c3", session: "q5", partner: "p2", user: "u3", content: "course1", ctype: "course"}, score: score(70)},
	{ev: ev{id: "q-u3-2", at: "2026-03-04 12:00:00", typ: "complete", visitor: "c3", session: "q6", partner: "p2", user: "u3", content: "course1", ctype: "course"}, passed: pass(true)},
	{ev: ev{id: "q-u7-1", at: "2026-03-04 13:00:00", typ: "complete", visitor: "g7", session: "q7", partner: "p2", user: "u7", content: "course1", ctype: "course"}, score: score(100), passed: pass(true)},
	{ev: ev{id: "q-u4-1", at: "2026-03-04 14:00:00", typ: "complete", visitor: "d4", session: "q8", partner: "p2", user: "u4", content: "course1", ctype: "course"}},
	{ev: ev{id: "q-a1-1", at: "2026-03-04 15:00:00", typ: "complete", visitor: "a1", session: "q9", content: "course1", ctype: "course"}, score: score(10), passed: pass(false)},
	{ev: ev{id: "q-bot-1", at: "2026-03-04 16:00:00", typ: "complete", visitor: "bot1", session: "sb", partner: "p2", user: "u4", content: "course1", ctype: "course", bot: true}, score: score(0), passed: pass(false)},
}

func loadAdditions(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	if _, err := Migrate(context.Background(), conn, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	loadAdditionsData(t, conn, db)
}

// loadAdditionsData loads the additions dataset into a migrated database.
func loadAdditionsData(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	insertX(t, conn, db, additionsEvents[:20]...)
	// a later batch: the rest, and re-deliveries of a search, a version use and an attempt
	rest := append(append([]xev(nil), additionsEvents[20:]...), additionsEvents[3], additionsEvents[19], additionsEvents[25])
	insertX(t, conn, db, rest...)
	refreshRows(t, conn, db, time.Hour)
	importCSV(t, conn, db, "partners", "acme", "partner_id,name\np1,Alpha\np2,Beta\n")
	importCSV(t, conn, db, "partner_users", "acme", "partner_user_id,partner_id,name\nu1,p1,Ann\nu2,p1,Bob\nu5,p1,Eve\nu3,p2,Cid\nu4,p2,Dee\n")
	importCSV(t, conn, db, "contents", "acme", "content_id,content_type,title\ndoc1,document,Price list\ntool1,tool,ROI calculator\ncourse1,course,Onboarding\n")
}

func TestGoldenAdditions(t *testing.T) {
	conn, db := newDB(t)
	loadAdditions(t, conn, db)
	call := func(name string, kv ...string) [][]string {
		p := map[string]string{"tenant": "acme"}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return run(t, conn, db, name, p)
	}

	t.Run("search-gaps", func(t *testing.T) {
		// partner|name|query|searches|searchers|zero results|no open|last search
		sameRows(t, "search-gaps", call("search-gaps"),
			"||pricing|1|1|0|1|2026-03-02 13:00:00.000",
			"p1|Alpha|brochure|1|1|0|1|2026-03-02 09:10:00.000",
			"p1|Alpha|pricing|1|1|0|0|2026-03-02 10:25:00.000",
			"p1|Alpha|pricing 2027|1|1|1|1|2026-03-02 10:00:00.000",
			"p2|Beta|roi|2|1|0|1|2026-03-02 15:00:00.000",
			"p2|Beta|setup|1|1|0|0|2026-03-02 12:00:00.000",
		)
		sameRows(t, "search-gaps zero", call("search-gaps", "only", "zero"),
			"p1|Alpha|pricing 2027|1|1|1|1|2026-03-02 10:00:00.000")
		sameRows(t, "search-gaps no_open p2", call("search-gaps", "only", "no_open", "partner", "p2"),
			"p2|Beta|roi|2|1|0|1|2026-03-02 15:00:00.000")
		sameRows(t, "search-gaps limit 1", call("search-gaps", "limit", "1"),
			"||pricing|1|1|0|1|2026-03-02 13:00:00.000",
			"p1|Alpha|brochure|1|1|0|1|2026-03-02 09:10:00.000",
			"p2|Beta|roi|2|1|0|1|2026-03-02 15:00:00.000")
		sameRows(t, "search-gaps another day", call("search-gaps", "from", "2026-03-03"))
		q, err := LookupQuery("search-gaps")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := q.Run(context.Background(), conn, db, map[string]string{"tenant": "acme", "only": "gaps"}); err == nil || !strings.Contains(err.Error(), "parameter only") {
			t.Fatalf("search-gaps only=gaps: %v, want an error naming the parameter", err)
		}
	})

	t.Run("content-versions", func(t *testing.T) {
		// content|title|type|version|latest|first|last|events|opens|viewers|sessions|partners|outdated
		doc1 := []string{
			"doc1|Price list|document|v1|0|2026-03-01 10:00:00.000|2026-03-12 10:00:00.000|4|4|3|4|[p1,p2]|[p2]",
			"doc1|Price list|document|v2|1|2026-03-10 10:00:00.000|2026-03-11 10:00:00.000|2|2|2|2|[p1]|[]",
		}
		tool1 := "tool1|ROI calculator|tool|2026.1|1|2026-03-03 10:00:00.000|2026-03-04 10:00:00.000|2|1|1|2|[p2]|[]"
		sameRows(t, "content-versions", call("content-versions"), doc1[0], doc1[1], tool1)
		sameRows(t, "content-versions doc1", call("content-versions", "content", "doc1"), doc1...)
		sameRows(t, "content-versions tools", call("content-versions", "kind", "tool"), tool1)
		sameRows(t, "content-versions other tenant", call("content-versions", "tenant", "other"))
	})

	t.Run("training-scores", func(t *testing.T) {
		// course|title|partner|name|people|attempts|avg|min|passed|failed|failed people
		p1 := "course1|Onboarding|p1|Alpha|3|4|53.75|30|1|2|[u2,u5]"
		p2 := "course1|Onboarding|p2|Beta|2|3|85|70|2|0|[]"
		sameRows(t, "training-scores", call("training-scores"), p1, p2)
		sameRows(t, "training-scores p2", call("training-scores", "partner", "p2", "course", "course1"), p2)
		sameRows(t, "training-scores other course", call("training-scores", "course", "course2"))
	})

	t.Run("bi-views", func(t *testing.T) {
		sameRows(t, "bi_searches", rawRows(t, conn, "SELECT partner_id, query, results, opened FROM "+db+".bi_searches WHERE tenant = 'acme' ORDER BY at, event_id"),
			"p1|brochure|3|0", "p1|pricing 2027|0|0", "p1|pricing|5|1", "p2|setup|2|1", "|pricing|5|0", "p2|roi|1|1", "p2|roi|1|0")
		sameRows(t, "bi_content_versions", rawRows(t, conn, "SELECT content_id, version, partner_id, events, latest, current FROM "+db+".bi_content_versions WHERE tenant = 'acme' ORDER BY content_id, version, partner_id"),
			"doc1|v1|p1|2|0|0", "doc1|v1|p2|2|0|1", "doc1|v2||1|1|0", "doc1|v2|p1|1|1|1", "tool1|2026.1|p2|2|1|1")
		sameRows(t, "bi_training_scores", rawRows(t, conn, "SELECT course_id, partner_user_id, partner_id, attempts, avg_score, min_score, latest_passed FROM "+db+".bi_training_scores WHERE tenant = 'acme' ORDER BY partner_user_id"),
			"course1|u1|p1|2|65|40|1", "course1|u2|p1|1|55|55|0", "course1|u3|p2|2|70|70|1", "course1|u5|p1|1|30|30|0", "course1|u7|p2|1|100|100|1")
	})

	t.Run("query-views", func(t *testing.T) {
		for _, c := range []struct {
			name, args string
			params     map[string]string
		}{
			{"search-gaps", "tenant = 'acme', partner = '', from = '1970-01-01', to = '2100-01-01', only = 'all', limit = 50, lookback = 30", map[string]string{"tenant": "acme"}},
			{"content-versions", "tenant = 'acme', content = '', kind = '', lookback = 30", map[string]string{"tenant": "acme"}},
			{"training-scores", "tenant = 'acme', course = '', partner = '', lookback = 30", map[string]string{"tenant": "acme"}},
		} {
			want := run(t, conn, db, c.name, c.params)
			got := rawRows(t, conn, "SELECT * FROM "+db+"."+ViewName(c.name)+"("+c.args+")")
			if len(want) == 0 || joinRows(got) != joinRows(want) {
				t.Fatalf("%s view:\n%s\nsaved query:\n%s", c.name, joinRows(got), joinRows(want))
			}
		}
	})
}

// genAdditions writes tenant "genx" (beside genDataset's "gen", whose answers it leaves
// alone): searches with and without results, clicks and later opens (some right at the
// 30-minute edge and across bucket boundaries), content versions used by partners over
// time, and scored attempts; from its own random source, in batches, some events
// re-delivered, some from bots.
func genAdditions(t *testing.T, conn driver.Conn, db string, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 2))
	type who struct{ partner, user, device string }
	var people []who
	partners, users := "partner_id,name\n", "partner_user_id,partner_id,name\n"
	for p := 1; p <= 5; p++ {
		partners += fmt.Sprintf("p%d,Partner %d\n", p, p)
		for u := 1; u <= 1+r.IntN(4); u++ {
			id := fmt.Sprintf("u%d_%d", p, u)
			partner := fmt.Sprintf("p%d", p)
			if r.IntN(5) > 0 { // one in five is not in partner_users: its events name the partner
				users += fmt.Sprintf("%s,%s,Person %s\n", id, partner, id)
			}
			people = append(people, who{partner, id, "d" + id})
		}
	}
	importCSV(t, conn, db, "partners", "genx", partners)
	importCSV(t, conn, db, "partner_users", "genx", users)
	importCSV(t, conn, db, "contents", "genx", "content_id,content_type,title\ndoc1,document,One\ntool1,tool,Tool\ncourse1,course,Course\n")
	for a := 1; a <= 4; a++ {
		people = append(people, who{device: fmt.Sprintf("anon%d", a)})
	}
	// Devices anonymous first (identity stitching, 0024): about one person in three has a
	// laptop that searches, uses versions and makes attempts without a token all period,
	// and carries the person's token once (a view on a random day): its anonymous use in
	// the 30 days up to that day counts for the person, later use for nobody. A kiosk is
	// shared by two people (tokens on days 7 and 14).
	var tokens []who
	var tokenDays []int
	for _, p := range people {
		if p.user != "" && r.IntN(3) == 0 {
			people = append(people, who{device: "l" + p.user})
			tokens, tokenDays = append(tokens, who{p.partner, p.user, "l" + p.user}), append(tokenDays, 3+r.IntN(15))
		}
	}
	people = append(people, who{device: "kiosk"})
	tokens, tokenDays = append(tokens, who{people[0].partner, people[0].user, "kiosk"}, who{people[3].partner, people[3].user, "kiosk"}), append(tokenDays, 7, 14)
	queries := []string{"pricing", "Pricing", "roi calculator", "setup guide", "api", "warranty 2027", "brochure", "onboarding"}
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var all []xev
	n := 0
	mk := func(p who, at time.Time, typ string) xev {
		n++
		return xev{ev: ev{id: fmt.Sprintf("x%d", n), tenant: "genx", at: at.Format(time.DateTime), typ: typ, visitor: p.device,
			session: fmt.Sprintf("xs%d", n/4), partner: p.partner, user: p.user, bot: r.IntN(20) == 0}}
	}
	for i, tk := range tokens {
		e := openOf(mk(tk, base.Add(time.Duration(tokenDays[i]*24*60+r.IntN(24*60))*time.Minute), "view"))
		e.bot = false
		all = append(all, e)
	}
	for i := 0; i < 250; i++ { // searches, each maybe followed by an open
		p := people[r.IntN(len(people))]
		at := base.Add(time.Duration(r.IntN(20*24*60)) * time.Minute).Add(time.Duration(r.IntN(60)) * time.Second)
		s := mk(p, at, "search")
		s.query, s.results = queries[r.IntN(len(queries))], uint32(r.IntN(4))
		if r.IntN(5) == 0 {
			s.clicked = fmt.Sprintf("faq%d", 1+r.IntN(3))
		}
		all = append(all, s)
		switch r.IntN(4) {
		case 0: // an open 0..50 minutes later
			all = append(all, openOf(mk(p, at.Add(time.Duration(r.IntN(50*60))*time.Second), "view")))
		case 1: // right at the edge: 30 minutes, or a second more
			all = append(all, openOf(mk(p, at.Add(30*time.Minute+time.Duration(r.IntN(2))*time.Second), "view")))
		case 2: // an open just before
			all = append(all, openOf(mk(p, at.Add(-time.Duration(1+r.IntN(600))*time.Second), "view")))
		}
	}
	for i := 0; i < 300; i++ { // versions: v1 from day 0, v2 from day 6, v3 from day 12
		p := people[r.IntN(len(people))]
		day := r.IntN(20)
		e := mk(p, base.Add(time.Duration(day*24*60+r.IntN(24*60))*time.Minute), []string{"view", "page", "click"}[r.IntN(3)])
		e.content, e.ctype = fmt.Sprintf("doc%d", 1+r.IntN(5)), "document"
		if r.IntN(4) == 0 {
			e.content, e.ctype = "tool1", "tool"
		}
		e.version = fmt.Sprintf("v%d", 1+r.IntN(1+day/6))
		all = append(all, e)
	}
	for i := 0; i < 200; i++ { // attempts: a score, a pass, both or neither
		p := people[r.IntN(len(people))]
		e := mk(p, base.Add(time.Duration(r.IntN(20*24*60))*time.Minute), "complete")
		e.content, e.ctype = fmt.Sprintf("course%d", 1+r.IntN(3)), "course"
		if r.IntN(4) > 0 {
			e.score = score(float32(r.IntN(201)) / 2)
		}
		if r.IntN(4) > 0 {
			e.passed = pass(r.IntN(2) == 0)
		}
		all = append(all, e)
	}
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for start := 0; start < len(all); start += 100 {
		batch := append([]xev(nil), all[start:min(start+100, len(all))]...)
		for k := 0; k < 5 && start > 0; k++ {
			batch = append(batch, all[r.IntN(start)]) // re-delivered
		}
		insertX(t, conn, db, batch...)
	}
}

func openOf(e xev) xev {
	e.content, e.ctype = fmt.Sprintf("doc%d", 1+len(e.id)%5), "document"
	return e
}

// stitchedEvents is SQL over raw events (tenant genx, deduplicated by event_id, bots out)
// with identity stitching written per event, not as claims: an event without a token on
// day d of a device counts for the person whose first verified event on that device is
// the earliest on day d or later (ties by person id), when that day is at most 30 days
// after d. Columns: the event's, viewer (as seen: 'u:<person>' or 'v:<device>'), who (the
// person it counts for as 'u:<person>', else viewer), partner (the stitched person's on
// that device, else the event's own) and own_partner.
const stitchedEvents = `
e0 AS (SELECT * FROM %[1]s.events WHERE tenant = 'genx' AND is_bot = 0 LIMIT 1 BY event_id),
firsts AS (SELECT visitor_id, partner_user_id AS person, max(toString(partner_id)) AS pid, min(event_time) AS f
           FROM e0 WHERE partner_user_id != '' GROUP BY visitor_id, person),
st AS (SELECT a.event_id AS event_id, 1 AS hit, argMin((f.person, f.pid, toDate(f.f)), (f.f, f.person)) AS c, any(toDate(a.event_time)) AS d
       FROM (SELECT event_id, visitor_id, event_time FROM e0 WHERE partner_user_id = '') AS a
       INNER JOIN firsts AS f ON f.visitor_id = a.visitor_id
       WHERE toDate(f.f) >= toDate(a.event_time)
       GROUP BY a.event_id
       HAVING c.3 - d <= 30),
e AS (SELECT e0.*, if(e0.partner_user_id != '', 'u:' || e0.partner_user_id, 'v:' || e0.visitor_id) AS viewer,
             if(st.hit = 1, 'u:' || st.c.1, viewer) AS who,
             toString(e0.partner_id) AS own_partner,
             if(st.hit = 1, st.c.2, own_partner) AS partner
      FROM e0 LEFT JOIN st ON st.event_id = e0.event_id)`

// checkAdditionsAgainstRaw holds the rollup-based answers of search-gaps, content-versions
// and training-scores to independent SQL over raw events (deduplicated by event_id, bots
// out), written the plain way, stitching per event (stitchedEvents): a search was followed
// by an open when a view by the same device or by the person it counts for falls in [at,
// at + 30 min]; a partner's current version is the one of its latest use, a stitched
// device's use of a version counting when every event of it counts for one person; a
// person's latest pass is the passed of its latest attempt carrying one, a stitched
// device's attempts included.
func checkAdditionsAgainstRaw(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	got := project(run(t, conn, db, "search-gaps", map[string]string{"tenant": "genx", "limit": "1000"}), 0, 2, 3, 4, 5, 6)
	want := rawRows(t, conn, fmt.Sprintf(`
WITH`+stitchedEvents+`,
s AS (SELECT * FROM e WHERE type = 'search'),
v AS (SELECT viewer, event_time FROM e WHERE type = 'view' AND content_id != ''),
judged AS (
    SELECT s.event_id, any(s.partner) AS partner_id, any(lowerUTF8(s.search_query)) AS q, any(s.who) AS who,
           any(s.search_results) AS results,
           any(s.search_clicked) != '' OR countIf(v.event_time >= s.event_time AND v.event_time <= s.event_time + toIntervalMinute(30)) > 0 AS opened
    FROM s LEFT JOIN v ON v.viewer = s.viewer OR v.viewer = s.who
    GROUP BY s.event_id)
SELECT toString(partner_id), q, count() AS n, uniqExact(who), countIf(results = 0), countIf(NOT opened)
FROM judged GROUP BY partner_id, q ORDER BY partner_id, n DESC, q`, db))
	if joinRows(got) != joinRows(want) {
		t.Fatalf("search-gaps: rollups and raw SQL differ\nrollups:\n%s\nraw:\n%s", joinRows(got), joinRows(want))
	}
	if !strings.Contains(joinRows(want), "|0\n") || len(want) < 10 {
		t.Fatalf("search-gaps: the raw answer is too thin to test the window:\n%s", joinRows(want))
	}

	got = project(run(t, conn, db, "content-versions", map[string]string{"tenant": "genx"}), 0, 3, 4, 7, 8, 11, 12)
	want = rawRows(t, conn, fmt.Sprintf(`
WITH`+stitchedEvents+`,
ev AS (SELECT * FROM e WHERE content_version != '' AND content_id != ''),
latest AS (SELECT content_id, argMax(content_version, (f, content_version)) AS lv
           FROM (SELECT content_id, content_version, min(event_time) AS f FROM ev GROUP BY content_id, content_version) GROUP BY content_id),
-- use by a partner: its own events, and a device's anonymous use of a version every event
-- of which counts for one person
uses AS (SELECT content_id, content_version, own_partner AS partner, event_time FROM ev WHERE own_partner != ''
         UNION ALL
         SELECT content_id, content_version, any(partner), max(event_time) FROM ev WHERE partner_user_id = ''
         GROUP BY content_id, content_version, visitor_id HAVING uniqExact(who) = 1 AND startsWith(any(who), 'u:')),
cur AS (SELECT content_id, partner, argMax(content_version, (event_time, content_version)) AS cv FROM uses GROUP BY content_id, partner),
pv AS (SELECT u.content_id AS content_id, u.content_version AS content_version, arraySort(groupUniqArray(u.partner)) AS ps,
              arraySort(groupUniqArrayIf(u.partner, c.cv = u.content_version AND l.lv != u.content_version)) AS outdated
       FROM uses AS u INNER JOIN latest AS l ON l.content_id = u.content_id
       LEFT JOIN cur AS c ON c.content_id = u.content_id AND c.partner = u.partner
       GROUP BY u.content_id, u.content_version)
SELECT toString(ev.content_id), toString(ev.content_version), toString(any(l.lv) = ev.content_version), toString(count()), toString(countIf(type = 'view')),
       any(pv.ps), any(pv.outdated)
FROM ev INNER JOIN latest AS l ON l.content_id = ev.content_id
LEFT JOIN pv ON pv.content_id = ev.content_id AND pv.content_version = ev.content_version
GROUP BY ev.content_id, ev.content_version ORDER BY ev.content_id, min(ev.event_time), ev.content_version`, db))
	if joinRows(got) != joinRows(want) {
		t.Fatalf("content-versions: rollups and raw SQL differ\nrollups:\n%s\nraw:\n%s", joinRows(got), joinRows(want))
	}
	if !strings.Contains(joinRows(want), "|[p") || len(want) < 6 {
		t.Fatalf("content-versions: no partner on an outdated version; the dataset does not test it:\n%s", joinRows(want))
	}

	got = project(run(t, conn, db, "training-scores", map[string]string{"tenant": "genx"}), 0, 2, 4, 5, 6, 7, 8, 9, 10)
	want = rawRows(t, conn, fmt.Sprintf(`
WITH`+stitchedEvents+`,
a AS (SELECT *, substring(who, 3) AS person FROM e
      WHERE type = 'complete' AND startsWith(who, 'u:') AND content_id != '' AND (score IS NOT NULL OR passed IS NOT NULL)),
p AS (
    SELECT toString(a.content_id) AS c, a.person AS who,
           if(any(u.partner_id) != '', any(u.partner_id), max(a.partner)) AS partner,
           count() AS attempts, sumIf(assumeNotNull(score), score IS NOT NULL) AS total, countIf(score IS NOT NULL) AS scored,
           minIf(assumeNotNull(score), score IS NOT NULL) AS lowest,
           argMaxIf(passed, (event_time, event_id), passed IS NOT NULL) AS last_pass
    FROM a LEFT JOIN (SELECT partner_user_id, partner_id FROM %[1]s.partner_users FINAL WHERE tenant = 'genx') AS u ON u.partner_user_id = a.person
    GROUP BY c, who)
SELECT c, partner, toString(count()), toString(sum(attempts)),
       if(sum(scored) = 0, NULL, round(sum(total) / sum(scored), 2)), if(sum(scored) = 0, NULL, round(minIf(lowest, scored > 0), 2)),
       toString(countIf(last_pass = 1)), toString(countIf(last_pass = 0)), arraySort(groupArrayIf(who, last_pass = 0))
FROM p GROUP BY c, partner ORDER BY c, partner`, db))
	if joinRows(got) != joinRows(want) {
		t.Fatalf("training-scores: rollups and raw SQL differ\nrollups:\n%s\nraw:\n%s", joinRows(got), joinRows(want))
	}
	if len(want) < 6 {
		t.Fatalf("training-scores: only %d rows; the dataset is too thin", len(want))
	}
	// the dataset stitches each kind: searches, version uses and attempts of devices
	// without a token that count for a person
	stitched := rawRows(t, conn, fmt.Sprintf(`WITH`+stitchedEvents+`
SELECT toString(countIf(type = 'search')), toString(countIf(content_version != '')), toString(countIf(type = 'complete' AND (score IS NOT NULL OR passed IS NOT NULL)))
FROM e WHERE partner_user_id = '' AND startsWith(who, 'u:')`, db))
	for i, what := range []string{"searches", "version uses", "attempts"} {
		if stitched[0][i] == "0" {
			t.Fatalf("no stitched %s in the generated dataset (%v): it does not test their stitching", what, stitched[0])
		}
	}
}
