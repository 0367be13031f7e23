package schema

import (
	"context"
	"fmt"
	"testing"
	"time"

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

// insertX writes one batch of events with the additions as one insert block.
func insertX(t testing.TB, conn driver.Conn, db string, evs ...xev) {
	t.Helper()
	b, err := conn.PrepareBatch(context.Background(), fmt.Sprintf(insertAdditions, db))
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
	insertX(t, conn, db, additionsEvents[:20]...)
	// a later batch: the rest, and re-deliveries of a search, a version use and an attempt
	rest := append(append([]xev(nil), additionsEvents[20:]...), additionsEvents[3], additionsEvents[19], additionsEvents[25])
	insertX(t, conn, db, rest...)
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
		if _, err := q.Run(context.Background(), conn, db, map[string]string{"tenant": "acme", "only": "gaps"}); err == nil {
			t.Fatal("search-gaps only=gaps: no error, want one naming the parameter")
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

	t.Run("query-views", func(t *testing.T) {
		for _, c := range []struct {
			name, args string
			params     map[string]string
		}{
			{"search-gaps", "tenant = 'acme', partner = '', from = '1970-01-01', to = '2100-01-01', only = 'all', limit = 50", map[string]string{"tenant": "acme"}},
			{"content-versions", "tenant = 'acme', content = '', kind = ''", map[string]string{"tenant": "acme"}},
			{"training-scores", "tenant = 'acme', course = '', partner = ''", map[string]string{"tenant": "acme"}},
		} {
			want := run(t, conn, db, c.name, c.params)
			got := rawRows(t, conn, "SELECT * FROM "+db+"."+ViewName(c.name)+"("+c.args+")")
			if len(want) == 0 || joinRows(got) != joinRows(want) {
				t.Fatalf("%s view:\n%s\nsaved query:\n%s", c.name, joinRows(got), joinRows(want))
			}
		}
	})
}
