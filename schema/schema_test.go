package schema

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestSplitStatements(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		got, err := SplitStatements(in)
		if err != nil {
			t.Fatalf("SplitStatements(%q): %v", in, err)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("SplitStatements(%q)\ngot  %q\nwant %q", in, got, want)
		}
	}
	f("SELECT 1", "SELECT 1")
	f("SELECT 1;\nSELECT 2;\n", "SELECT 1", "SELECT 2")
	f("SELECT ';';", "SELECT ';'")
	f("SELECT 'it\\'s;';", "SELECT 'it\\'s;'")
	f("-- a; comment\nSELECT 1; -- trailing; comment\n", "-- a; comment\nSELECT 1")
	f("/* x; y */ SELECT 1;", "/* x; y */ SELECT 1")
	f("-- only a comment\n;\n-- another\n")
	f("SELECT `a;b` FROM t;", "SELECT `a;b` FROM t")

	bad := func(in string) {
		t.Helper()
		if _, err := SplitStatements(in); err == nil {
			t.Fatalf("SplitStatements(%q): want error", in)
		}
	}
	bad("SELECT 'open")
	bad("SELECT 1 /* open")
}

func TestMigrationsLoad(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 3 || ms[0].Version != 1 || ms[0].Name != "events" {
		t.Fatalf("unexpected migrations: %+v", ms)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Fatalf("migrations out of order: %d after %d", ms[i].Version, ms[i-1].Version)
		}
	}

	badFS := func(files ...string) {
		t.Helper()
		fsys := fstest.MapFS{}
		for _, f := range files {
			fsys["m/"+f] = &fstest.MapFile{Data: []byte("SELECT 1")}
		}
		if _, err := loadMigrations(fsys, "m"); err == nil {
			t.Fatalf("loadMigrations(%v): want error", files)
		}
	}
	badFS("1_x.sql")
	badFS("0001_x.sql", "0001_y.sql")
	badFS("0001_X.sql")
}

var leftoverRE = regexp.MustCompile(`\{(db|ttl_days|dedup_window|on_cluster)\}`)

func TestRenderSingleNode(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Render(ms, Options{Database: "bx", TTLDays: 30, DedupWindow: 77})
	if err != nil {
		t.Fatal(err)
	}
	all := ""
	for _, r := range rs {
		for _, s := range r.Statements {
			if leftoverRE.MatchString(s) {
				t.Fatalf("placeholder left in %04d: %s", r.Version, leftoverRE.FindString(s))
			}
			if strings.Contains(s, "ON CLUSTER") || strings.Contains(s, "ENGINE = Replicated") {
				t.Fatalf("single-node statement has cluster syntax: %.80s", s)
			}
			all += s + "\n"
		}
	}
	for _, want := range []string{"bx.events", "INTERVAL 30 DAY", "non_replicated_deduplication_window = 77"} {
		if !strings.Contains(all, want) {
			t.Fatalf("rendered schema lacks %q", want)
		}
	}
}

func TestRenderCluster(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Render(ms, Options{Cluster: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	for _, r := range rs {
		stmts = append(stmts, r.Statements...)
	}
	all := strings.Join(stmts, "\n;\n")
	for _, s := range stmts {
		if IsBackfill(s) {
			continue
		}
		if !strings.Contains(s, " ON CLUSTER c1") {
			t.Fatalf("cluster statement without ON CLUSTER: %.80s", s)
		}
		// 0012's refreshable view writes its table on each replica: the server refuses it
		// over a replicated table (Code 36), so that table stays unreplicated.
		if strings.Contains(s, "beacon.doc_viewer_snapshot_local ON CLUSTER c1\n(") {
			if !strings.Contains(s, "ENGINE = MergeTree") {
				t.Fatalf("the refreshed snapshot table is replicated: %.300s", s)
			}
			continue
		}
		if strings.Contains(s, "ENGINE = MergeTree") || regexp.MustCompile(`ENGINE = (Aggregating|Replacing)MergeTree`).MatchString(s) {
			t.Fatalf("cluster statement with a non-replicated engine: %.80s", s)
		}
	}
	for _, want := range []string{
		"CREATE TABLE IF NOT EXISTS beacon.events_local ON CLUSTER c1",
		"ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/beacon/events_local', '{replica}')",
		"CREATE TABLE IF NOT EXISTS beacon.events ON CLUSTER c1 AS beacon.events_local ENGINE = Distributed(c1, beacon, events_local, cityHash64(tenant,",
		"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/beacon/partners_local', '{replica}', imported_at)",
		"ENGINE = ReplicatedAggregatingMergeTree(",
		"TO beacon.doc_viewer_pages_local AS",
		"FROM beacon.events_local",
		// a column added to a local table is added to its Distributed table too
		"ALTER TABLE beacon.doc_viewers_local ON CLUSTER c1 ADD COLUMN IF NOT EXISTS updated_at",
		"ALTER TABLE beacon.doc_viewers ON CLUSTER c1 ADD COLUMN IF NOT EXISTS updated_at",
		// a view's changed query reads local tables
		"ALTER TABLE beacon.doc_viewers_mv ON CLUSTER c1 MODIFY QUERY",
		"REFRESH EVERY 15 MINUTE TO beacon.doc_viewer_snapshot_local AS",
		// run with distributed_product_mode = 'local', a WITH subquery over a Distributed
		// table needs an alias (Code 288)
		"FROM beacon.doc_viewers AS touched_doc_viewers\n    WHERE updated_at >=",
	} {
		if !strings.Contains(all, want) {
			t.Fatalf("cluster flavor lacks %q", want)
		}
	}
	// Materialized views read and write local tables only.
	for _, s := range stmts {
		if (strings.Contains(s, "MATERIALIZED VIEW") || strings.Contains(s, "MODIFY QUERY")) && regexp.MustCompile(`beacon\.events\b[^_]`).MatchString(s) {
			t.Fatalf("materialized view reads the Distributed table: %.200s", s)
		}
	}

	// Node by node: no ON CLUSTER; the test-only flavor keeps plain engines.
	rs, err = Render(ms, Options{Cluster: "c1", NodeByNode: true, PlainEngines: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		for _, s := range r.Statements {
			if strings.Contains(s, "ON CLUSTER") || regexp.MustCompile(`Replicated\w*MergeTree\(`).MatchString(s) {
				t.Fatalf("node-by-node plain flavor has ON CLUSTER or a Replicated engine: %.200s", s)
			}
		}
	}
	if _, err := Render(ms, Options{PlainEngines: true}); err == nil {
		t.Fatal("Render with plain engines and no cluster: want error")
	}
	if _, err := Render(ms, Options{Cluster: "bad name"}); err == nil {
		t.Fatal("Render with a bad cluster name: want error")
	}
	if _, err := Render(ms, Options{Database: "a.b"}); err == nil {
		t.Fatal("Render with a bad database name: want error")
	}
}

// BACKFILL expands to the query of the view feeding the table at that point, and is an
// error when no view feeds it (never created, or dropped).
func TestBackfillExpandsToTheFeedingView(t *testing.T) {
	view := "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.r_mv TO {db}.r AS\nSELECT tenant, count() AS n\nFROM {db}.events\nGROUP BY tenant"
	rs, err := Render([]Migration{
		{Version: 1, Name: "a", SQL: view + ";\n"},
		{Version: 2, Name: "b", SQL: "-- fill it\nBACKFILL {db}.r;\n"},
	}, Options{Database: "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := "-- fill it\nINSERT INTO x.r\nSELECT tenant, count() AS n\nFROM x.events\nGROUP BY tenant"
	if got := rs[1].Statements[0]; got != want || !IsBackfill(got) {
		t.Fatalf("BACKFILL rendered as\n%s\nwant\n%s", got, want)
	}
	// a view's query changed by MODIFY QUERY is what later backfills run
	rs, err = Render([]Migration{
		{Version: 1, Name: "a", SQL: view + ";\n"},
		{Version: 2, Name: "b", SQL: "ALTER TABLE {db}.r_mv MODIFY QUERY\nSELECT tenant, count() AS n, max(now()) AS at\nFROM {db}.events\nGROUP BY tenant;\nBACKFILL {db}.r;\n"},
	}, Options{Database: "x"})
	if err != nil {
		t.Fatal(err)
	}
	want = "INSERT INTO x.r\nSELECT tenant, count() AS n, max(now()) AS at\nFROM x.events\nGROUP BY tenant"
	if got := rs[1].Statements[1]; got != want {
		t.Fatalf("BACKFILL after MODIFY QUERY rendered as\n%s\nwant\n%s", got, want)
	}
	for _, sql := range []string{
		"BACKFILL {db}.r;\n" + view + ";\n",                            // before its view
		view + ";\nDROP VIEW IF EXISTS {db}.r_mv;\nBACKFILL {db}.r;\n", // after it was dropped
	} {
		if _, err := Render([]Migration{{Version: 1, Name: "a", SQL: sql}}, Options{}); err == nil || !strings.Contains(err.Error(), "no materialized view feeds r") {
			t.Fatalf("%q: err = %v, want one saying no view feeds r", sql, err)
		}
	}
}
