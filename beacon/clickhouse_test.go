package beacon

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/internal/testenv"
)

// The normalized message is the contract with the raw table: ClickHouse itself must read
// the collector's messages as JSONEachRow into schema/migrations/0001_events.sql, with
// unknown keys refused, and give back what went in.
func TestMessagesInsertIntoRawTableAsJSONEachRow(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	ddl, err := os.ReadFile("../schema/migrations/0001_events.sql")
	if err != nil {
		t.Fatal(err)
	}
	vars := strings.NewReplacer("{db}", ch.Database, "{ttl_days}", "3650", "{dedup_window}", "10000")
	ch.Exec(t, vars.Replace(string(ddl)))
	// the columns wire v1 grew later, as the migrations add them
	files, _ := filepath.Glob("../schema/migrations/*.sql")
	added := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range strings.Split(string(src), ";") {
			if i := strings.Index(stmt, "ALTER TABLE {db}.events\n"); i >= 0 && strings.Contains(stmt, "ADD COLUMN") {
				ch.Exec(t, vars.Replace(stmt[i:]))
				added++
			}
		}
	}
	if added == 0 {
		t.Fatal("no migration adds columns to events; the wire v1 additions are not in the raw table")
	}

	sites := testSites(t)
	var w Work
	var rows bytes.Buffer
	add := func(body []byte) {
		t.Helper()
		res := w.Process(sites, exampleInput(body))
		if res.Problem.Reason != ReasonNone || res.Rejected != 0 {
			t.Fatalf("%+v", res)
		}
		start := 0
		for _, end := range w.Ends {
			rows.Write(w.Msgs[start:end])
			rows.WriteByte('\n')
			start = end
		}
	}
	add(readExample(t))
	tok, _ := sites.Mint(site.Claims{Tenant: "demo", Partner: "acme", User: "jane@acme.example", Campaign: "q4"})
	add(batchJSON(`,"token":"`+tok+`","url":"https://x.example/p?a=1&pb_t=zz#frag"`,
		`{"id":"00000000-0000-4000-8000-000000000001","type":"view","ts":1795420800000,"content_id":"doc-\u00e9","title":"quote \" backslash \\ tab \t nul \u0000 emoji \ud83d\ude00"}`,
		`{"id":"00000000-0000-4000-8000-000000000002","type":"video","ts":1795420800000,"content_id":"v","action":"progress","position":1.25,"duration":3600.5,"rate":1.5,"watched":[[0,1.25],[10,20]]}`,
		`{"id":"00000000-0000-4000-8000-000000000003","type":"custom","ts":1795420800000,"name":"signup","props":{"plan":"pro","k\"ey":"v\\al"}}`))

	// wire v1 additions: a search (its e-mail redacted), a scored completion, a version
	add(batchJSON("",
		`{"id":"00000000-0000-4000-8000-000000000004","type":"search","ts":1795420800000,"query":"reset  jane@acme.example","results":0,"clicked":"faq-9","content_version":"2.1"}`,
		`{"id":"00000000-0000-4000-8000-000000000005","type":"complete","ts":1795420800000,"content_id":"quiz","content_type":"course","score":62.5,"passed":false}`,
		`{"id":"00000000-0000-4000-8000-000000000006","type":"complete","ts":1795420800000,"content_id":"quiz","content_type":"course"}`))

	q := url.Values{"query": {"INSERT INTO " + ch.Database + ".events FORMAT JSONEachRow"}, "input_format_skip_unknown_fields": {"0"}, "date_time_input_format": {"basic"}}
	resp, err := http.Post("http://"+ch.HTTPAddr+"/?"+q.Encode(), "application/x-ndjson", &rows)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("insert: %d %s", resp.StatusCode, msg)
	}

	ctx := context.Background()
	conn := ch.Conn(t)
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&n); err != nil || n != 14 {
		t.Fatalf("count %d %v", n, err)
	}
	var (
		title, partner, attribution, urlv string
		received, eventTime               time.Time
	)
	if err := conn.QueryRow(ctx, "SELECT content_title, partner_user_id, attribution, url, received_at, event_time FROM events WHERE event_id = '00000000-0000-4000-8000-000000000001'").
		Scan(&title, &partner, &attribution, &urlv, &received, &eventTime); err != nil {
		t.Fatal(err)
	}
	if title != "quote \" backslash \\ tab \t nul \x00 emoji 😀" || partner != "jane@acme.example" || attribution != "token" || urlv != "https://x.example/p" {
		t.Fatalf("row: %q %q %q %q", title, partner, attribution, urlv)
	}
	if !received.Equal(time.UnixMilli(exampleNow)) || !eventTime.Equal(time.UnixMilli(exampleNow-500)) {
		t.Fatalf("times %v %v", received, eventTime)
	}
	var starts, ends []float32
	var rate float32
	if err := conn.QueryRow(ctx, "SELECT watched_start, watched_end, rate FROM events WHERE event_id = '00000000-0000-4000-8000-000000000002'").Scan(&starts, &ends, &rate); err != nil {
		t.Fatal(err)
	}
	if len(starts) != 2 || starts[1] != 10 || ends[0] != 1.25 || rate != 1.5 {
		t.Fatalf("video %v %v %v", starts, ends, rate)
	}
	var sq, sc, ver, scores string
	if err := conn.QueryRow(ctx, "SELECT search_query, search_clicked, content_version FROM events WHERE event_id = '00000000-0000-4000-8000-000000000004'").Scan(&sq, &sc, &ver); err != nil {
		t.Fatal(err)
	}
	if sq != "reset [email]" || sc != "faq-9" || ver != "2.1" {
		t.Fatalf("search %q %q %q", sq, sc, ver)
	}
	if err := conn.QueryRow(ctx, "SELECT toString(groupArray((score, passed, search_flags, search_results))) FROM (SELECT * FROM events WHERE event_id IN ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000005', '00000000-0000-4000-8000-000000000006') ORDER BY event_id)").Scan(&scores); err != nil {
		t.Fatal(err)
	}
	if scores != "[(NULL,NULL,2,0),(62.5,0,0,0),(NULL,NULL,0,0)]" {
		t.Fatalf("score, passed, flags, results: %s", scores)
	}
	var props map[string]string
	if err := conn.QueryRow(ctx, "SELECT props FROM events WHERE event_id = '00000000-0000-4000-8000-000000000003'").Scan(&props); err != nil {
		t.Fatal(err)
	}
	if props["plan"] != "pro" || props[`k"ey`] != `v\al` {
		t.Fatalf("props %v", props)
	}
}
