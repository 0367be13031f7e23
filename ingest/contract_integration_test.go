package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/beaconprm/beacon/beacon/event"
	"github.com/beaconprm/beacon/ingest/block"
	"github.com/beaconprm/beacon/ingest/internal/testmsg"
	"github.com/beaconprm/beacon/internal/testenv"
)

// The round trip the event crosses: the collector's real output, decoded by the ingest and
// inserted with its column list, must equal, column by column, what ClickHouse's own
// JSONEachRow reader makes of the same messages. This is what tells two swapped columns of
// one type (block.Columns.Values is positional) or a field the decoder misreads.
func TestCollectorOutputRoundTripsThroughIngest(t *testing.T) {
	msgs := testmsg.CollectorMessages(t)
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
	var d block.Decoder
	var cols block.Columns
	var r block.Row
	for _, m := range msgs {
		if err := d.Decode(m, &r); err != nil {
			t.Fatalf("ingest cannot decode the collector's message: %v\n%s", err, m)
		}
		cols.Append(&r)
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
