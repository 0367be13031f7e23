package schema

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
)

// ev is one raw event of a hand-written dataset; zero fields keep the column default.
type ev struct {
	id        string // a short name; the event_id is derived from it, so a repeat is a duplicate
	tenant    string // default "acme"
	at        string // event_time "2006-01-02 15:04:05"
	typ       string
	visitor   string
	session   string
	partner   string
	user      string
	campaign  string
	content   string
	ctype     string
	page      uint32
	pageCount uint32
	dwell     uint32
	engaged   uint32 // engaged_ms of an engage event
	action    string
	duration  float32
	watched   [][2]float32
	bot       bool
	device    string // default "desktop" ("bot" for bots)
}

func eventID(name string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("beacon-test:"+name))
}

const insertEvents = `INSERT INTO %s.events (event_id, tenant, received_at, event_time, client_time, type, visitor_id,
session_id, partner_id, partner_user_id, campaign_id, attribution, content_id, content_type, page, page_count, dwell_ms,
engaged_ms, action, duration, watched_start, watched_end, device, is_bot)`

// insert writes one batch of events as one insert block without merging its rows by key
// (optimize_on_insert 0, as the ingest inserts: ingest/clickhouse.go), so the queries read
// a key's rows unmerged; token, if set, is sent as insert_deduplication_token with the
// settings the ingest uses.
func insert(t testing.TB, conn driver.Conn, db, token string, evs ...ev) {
	t.Helper()
	settings := clickhouse.Settings{"optimize_on_insert": 0}
	if token != "" {
		settings["insert_deduplication_token"] = token
		settings["deduplicate_blocks_in_dependent_materialized_views"] = 1
	}
	ctx := clickhouse.Context(context.Background(), clickhouse.WithSettings(settings))
	b, err := conn.PrepareBatch(ctx, fmt.Sprintf(insertEvents, db))
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
		ws, we := []float32{}, []float32{}
		for _, r := range e.watched {
			ws, we = append(ws, r[0]), append(we, r[1])
		}
		attribution, device, bot := "none", "desktop", uint8(0)
		if e.partner != "" {
			attribution = "token"
		}
		if e.device != "" {
			device = e.device
		}
		if e.bot {
			device, bot = "bot", 1
		}
		err = b.Append(eventID(e.id), tenant, at, at, at, e.typ, e.visitor, e.session, e.partner, e.user, e.campaign, attribution,
			e.content, e.ctype, e.page, e.pageCount, e.dwell, e.engaged, e.action, e.duration, ws, we, device, bot)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("insert: %v", err)
	}
}

// run runs a saved query and returns its rows as text cells (as the CSV output prints them).
func run(t testing.TB, conn driver.Conn, db, name string, params map[string]string) [][]string {
	t.Helper()
	q, err := LookupQuery(name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := q.Run(context.Background(), conn, db, params)
	if err != nil {
		t.Fatal(err)
	}
	return cells(res)
}

func cells(res *Result) [][]string {
	out := make([][]string, 0, len(res.Rows))
	for _, r := range res.Rows {
		row := make([]string, len(r))
		for i, v := range r {
			row[i] = text(v)
		}
		out = append(out, row)
	}
	return out
}

// sameRows compares query rows with want, each row written as "a|b|c".
func sameRows(t testing.TB, what string, got [][]string, want ...string) {
	t.Helper()
	g := make([]string, len(got))
	for i, r := range got {
		g[i] = strings.Join(r, "|")
	}
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\ngot\n%s\nwant\n%s", what, strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

// importCSV loads a dimension table for the test tenant.
func importCSV(t testing.TB, conn driver.Conn, db, table, tenant, text string) {
	t.Helper()
	d, err := LookupDimension(table)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Import(context.Background(), conn, d, strings.NewReader(text), ImportOptions{Database: db, Tenant: tenant}); err != nil {
		t.Fatalf("import %s: %v", table, err)
	}
}

func exec(t testing.TB, conn driver.Conn, sql string, args ...any) {
	t.Helper()
	if err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func scalar[T any](t testing.TB, conn driver.Conn, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// refreshRows recomputes the finished rows (FinishedTables) for what was written in the
// last age, as the ingest does after each batch.
func refreshRows(t testing.TB, conn driver.Conn, db string, age time.Duration) {
	t.Helper()
	if err := RefreshRows(context.Background(), conn, db, age); err != nil {
		t.Fatal(err)
	}
}
