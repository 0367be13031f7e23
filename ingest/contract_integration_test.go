package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/beacon"
	"github.com/beaconprm/beacon/beacon/event"
	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/internal/testenv"
)

// collectorMessages runs request bodies, a pixel and a tracked link through the collector's
// real pipeline (beacon.Work) and returns the normalized messages it would ship.
func collectorMessages(t testing.TB) [][]byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "demo.secret"), []byte("contract-secret-0123456789abcdef0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	sites, err := site.NewSites(site.ConfigFile{Sites: []site.Config{{SiteKey: "demo", Tenant: "demo", SecretFile: "demo.secret",
		AllowedOrigins: []string{"https://mail.example"}}}}, dir) // the pixel's Referer must be an allowed origin
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../beacon/testdata/example-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 17, 40, 0, 500_000_000, time.UTC).UnixMilli()
	in := &beacon.Input{UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148 Safari/604.1",
		Addr: netip.MustParseAddr("2001:db8:aa:bb::1"), Now: now, Referer: "https://mail.example/inbox"}
	var msgs [][]byte
	var w beacon.Work
	take := func(res beacon.Result) {
		t.Helper()
		if res.Problem.Reason != beacon.ReasonNone || res.Accepted == 0 || res.Rejected != 0 {
			t.Fatalf("%+v", res)
		}
		start := 0
		for _, end := range w.Ends {
			msgs = append(msgs, append([]byte(nil), w.Msgs[start:end]...))
			start = end
		}
	}
	in.Body = example
	take(w.Process(sites, in))
	tok, err := sites.Mint(site.Claims{Tenant: "demo", Partner: "acme", User: "jane@acme.example", Campaign: "q4"})
	if err != nil {
		t.Fatal(err)
	}
	in.Body = []byte(`{"v":1,"site":"demo","sent_at":1795420800500,"visitor_id":"v1","session_id":"s1","token":"` + tok + `","url":"https://x.example/p?a=1&pb_t=zz#frag","referrer":"https://r.example/","events":[` +
		`{"id":"00000000-0000-4000-8000-000000000001","type":"view","ts":1795420800000,"content_id":"doc-\u00e9","content_type":"document","title":"quote \" backslash \\ tab \t nul \u0000 emoji \ud83d\ude00"},` +
		`{"id":"00000000-0000-4000-8000-000000000002","type":"video","ts":1795420800000,"content_id":"v","action":"progress","position":1.25,"duration":3600.5,"rate":1.5,"watched":[[0,1.25],[10,20]]},` +
		`{"id":"00000000-0000-4000-8000-000000000003","type":"custom","ts":1795420800000,"name":"signup","props":{"plan":"pro","k\"ey":"v\\al","z":"1","a":"2"}},` +
		`{"type":"page","ts":1795420700000,"content_id":"doc-1","page":3,"page_count":12,"dwell_ms":4200},` +
		`{"type":"scroll","ts":1795420800000,"content_id":"doc-1","depth":75},` +
		`{"type":"engage","ts":1795420800000,"content_id":"doc-1","engaged_ms":65000},` +
		`{"type":"click","ts":1795420800000,"href":"https://out.example/x","name":"Download"}` +
		// wire v1 additions: a search (redacted and cut), versions, scored and unscored completions
		`,{"type":"search","ts":1795420800000,"query":"price \u00e9 jane@acme.example ` + strings.Repeat("long ", 60) + `","results":0,"clicked":"doc-1","content_version":"2026.2"},` +
		`{"type":"search","ts":1795420800000,"query":"pricing","results":12},` +
		`{"type":"view","ts":1795420800000,"content_id":"doc-1","content_version":"v\"3"},` +
		`{"type":"complete","ts":1795420800000,"content_id":"quiz","content_type":"course","score":62.5,"passed":false},` +
		`{"type":"complete","ts":1795420800000,"content_id":"quiz","content_type":"course","score":0,"passed":true},` +
		`{"type":"complete","ts":1795420800000,"content_id":"quiz","content_type":"course","passed":true}]}`)
	take(w.Process(sites, in))
	take(w.ProcessPixel(sites, pixelQuery{"site": "demo", "cid": "doc-2", "ct": "document", "t": "Mail"}, in))
	link, err := sites.LinkURL("http://c.example", "demo", site.Claims{Tenant: "demo", Partner: "acme", User: "joe", Campaign: "q4", Content: "doc-3", Target: "https://t.example/d"})
	if err != nil {
		t.Fatal(err)
	}
	_, res := w.ProcessLink(sites, "demo", link[strings.LastIndex(link, "/")+1:], in)
	take(res)
	return msgs
}

type pixelQuery map[string]string

func (q pixelQuery) Peek(k string) []byte {
	if v, ok := q[k]; ok {
		return []byte(v)
	}
	return nil
}

// The round trip the event crosses: the collector's real output, decoded by the ingest and
// inserted with its column list, must equal, column by column, what ClickHouse's own
// JSONEachRow reader makes of the same messages. This is what tells two swapped columns of
// one type (columns.values is positional) or a field the decoder misreads.
func TestCollectorOutputRoundTripsThroughIngest(t *testing.T) {
	msgs := collectorMessages(t)
	ch := testenv.NewClickHouse(t)
	conn := ch.Conn(t)
	migrate(t, conn, ch.Database)
	ch.Exec(t, fmt.Sprintf("CREATE TABLE `%[1]s`.events_json AS `%[1]s`.events", ch.Database))

	// ClickHouse reads the messages itself: the reference.
	q := url.Values{"query": {"INSERT INTO `" + ch.Database + "`.events_json FORMAT JSONEachRow"},
		"input_format_skip_unknown_fields": {"0"}, "date_time_input_format": {"basic"}}
	resp, err := http.Post("http://"+ch.HTTPAddr+"/?"+q.Encode(), "application/x-ndjson", bytes.NewReader(append(bytes.Join(msgs, []byte("\n")), '\n')))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("JSONEachRow insert: %d %s", resp.StatusCode, body)
	}

	// The ingest's path: its decoder, its columns, its insert.
	cfg := Config{ClickHouseAddrs: []string{ch.NativeAddr}, Database: ch.Database}
	c := cfg.withDefaults()
	st, err := openStore(&c)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var d decoder
	var cols columns
	var r row
	for _, m := range msgs {
		if err := d.decode(m, &r); err != nil {
			t.Fatalf("ingest cannot decode the collector's message: %v\n%s", err, m)
		}
		cols.append(&r)
	}
	ctx := context.Background()
	if err := st.insert(ctx, "contract", &cols); err != nil {
		t.Fatal(err)
	}

	var n, nRef uint64
	if err := conn.QueryRow(ctx, "SELECT (SELECT count() FROM `"+ch.Database+"`.events), (SELECT count() FROM `"+ch.Database+"`.events_json)").Scan(&n, &nRef); err != nil {
		t.Fatal(err)
	}
	if n != uint64(len(msgs)) || nRef != n || n < 15 {
		t.Fatalf("rows: ingest %d, JSONEachRow %d, messages %d", n, nRef, len(msgs))
	}
	for _, col := range event.Columns {
		expr := "`" + col.Name + "`"
		if col.Name == "props" { // map order follows insertion; compare sorted
			expr = "arraySort(mapKeys(props)), arrayMap(k -> props[k], arraySort(mapKeys(props)))"
		}
		sel := func(table string) string {
			return "SELECT event_id, " + expr + " FROM `" + ch.Database + "`." + table
		}
		var diff uint64
		sql := "SELECT count() FROM ((" + sel("events") + " EXCEPT " + sel("events_json") + ") UNION ALL (" + sel("events_json") + " EXCEPT " + sel("events") + "))"
		if err := conn.QueryRow(ctx, sql).Scan(&diff); err != nil {
			t.Fatalf("%s: %v", col.Name, err)
		}
		if diff != 0 {
			t.Errorf("column %s: %d rows differ between the ingest's insert and ClickHouse's JSONEachRow reading", col.Name, diff)
		}
	}
}
