package schema

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrateIdempotent(t *testing.T) {
	conn, db := newDB(t)
	ctx := context.Background()
	o := Options{Database: db}

	sts, err := MigrationStatus(ctx, conn, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		if s.Applied {
			t.Fatalf("migration %d applied before Migrate", s.Version)
		}
	}
	ms, _ := Migrations()
	done, err := Migrate(ctx, conn, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != len(ms) {
		t.Fatalf("first run applied %v, want all %d", done, len(ms))
	}
	done, err = Migrate(ctx, conn, o)
	if err != nil || len(done) != 0 {
		t.Fatalf("second run applied %v, %v; want nothing", done, err)
	}
	sts, err = MigrationStatus(ctx, conn, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		if !s.Applied || s.Changed || s.AppliedAt.IsZero() {
			t.Fatalf("after Migrate: %+v", s)
		}
	}
	if n := scalar[uint64](t, conn, "SELECT count() FROM "+db+".schema_migrations FINAL"); n != uint64(len(ms)) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(ms))
	}
	// The TTL and dedup window options reach the server.
	ddl := scalar[string](t, conn, "SELECT create_table_query FROM system.tables WHERE database = ? AND name = 'events'", db)
	for _, want := range []string{"toIntervalDay(395)", "non_replicated_deduplication_window = 10000"} {
		if !strings.Contains(ddl, want) {
			t.Fatalf("events DDL lacks %q:\n%s", want, ddl)
		}
	}
	// Every MergeTree table a saved query reads has the merge policy (0011): a query merges
	// one state per part, so a table left in many parts makes every run slower.
	qs, err := SavedQueries()
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	for _, q := range qs {
		for _, m := range regexp.MustCompile(`\{db\}\.(\w+)`).FindAllStringSubmatch(q.SQL, -1) {
			read[m[1]] = true
		}
	}
	for name := range read {
		// (a view, such as stitch_claims, has an engine and no engine_full)
		engine := scalar[string](t, conn, "SELECT trim(concat(engine, ' ', engine_full)) FROM system.tables WHERE database = ? AND name = ?", db, name)
		if engine == "" {
			t.Fatalf("a saved query reads %s, which the migrations do not create", name)
		}
		if strings.Contains(engine, "MergeTree") && !strings.Contains(engine, "min_age_to_force_merge_seconds = 3600") {
			t.Errorf("%s, read by a saved query, has no merge policy: %s", name, engine)
		}
	}
}

func TestMigrateResumesAfterFailure(t *testing.T) {
	conn, db := newDB(t)
	ctx := context.Background()
	o := Options{Database: db}
	broken := []Migration{
		{Version: 1, Name: "a", SQL: "CREATE TABLE IF NOT EXISTS {db}.a (x UInt8) ENGINE = MergeTree ORDER BY x;"},
		{Version: 2, Name: "b", SQL: "CREATE TABLE IF NOT EXISTS {db}.b (x UInt8) ENGINE = MergeTree ORDER BY x;\nCREATE TABLE IF NOT EXISTS {db}.c (x NoSuchType) ENGINE = MergeTree ORDER BY x;"},
	}
	done, err := migrate(ctx, conn, broken, o)
	if err == nil || !strings.Contains(err.Error(), "migration 0002_b statement 2") {
		t.Fatalf("want an error naming migration 0002_b statement 2, got %v", err)
	}
	if len(done) != 1 || done[0] != 1 {
		t.Fatalf("applied %v before the failure, want [1]", done)
	}
	// Fixed, the re-run applies 2 (its first statement again, harmlessly) and not 1.
	broken[1].SQL = strings.Replace(broken[1].SQL, "NoSuchType", "UInt8", 1)
	done, err = migrate(ctx, conn, broken, o)
	if err != nil || len(done) != 1 || done[0] != 2 {
		t.Fatalf("re-run applied %v, %v; want [2]", done, err)
	}
}

func TestMigrationFilesChecked(t *testing.T) {
	fsys := fstest.MapFS{"m/0001_x.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS {db}.x (a UInt8) ENGINE = MergeTree ORDER BY a")}}
	ms, err := loadMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	r1, _ := Render(ms, Options{})
	ms[0].SQL += " SETTINGS index_granularity = 1024"
	r2, _ := Render(ms, Options{})
	if checksum(r1[0]) == checksum(r2[0]) {
		t.Fatal("an edited migration has the same checksum")
	}
}

// The cluster flavor cannot be run without a cluster here; every statement must at least
// parse on the real server.
func TestClusterFlavorParses(t *testing.T) {
	conn, _ := newDB(t)
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Render(ms, Options{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rs {
		for _, s := range r.Statements {
			f := scalar[string](t, conn, "SELECT formatQuery(?)", s)
			if !IsBackfill(s) && !strings.Contains(f, "ON CLUSTER prod") {
				t.Fatalf("formatted statement lost ON CLUSTER: %.200s", f)
			}
			n++
		}
	}
	views, err := RenderQueryViews(Options{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range views {
		if f := scalar[string](t, conn, "SELECT formatQuery(?)", s); !strings.Contains(f, "ON CLUSTER prod") {
			t.Fatalf("formatted view lost ON CLUSTER: %.200s", f)
		}
	}
	for _, s := range bootstrap(Options{Database: "beacon", Cluster: "prod"}) {
		scalar[string](t, conn, "SELECT formatQuery(?)", s)
	}
	if n < 20 {
		t.Fatalf("only %d cluster statements", n)
	}
}
