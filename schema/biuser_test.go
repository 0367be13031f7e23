package schema

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/beaconprm/beacon/internal/testenv"
)

// A BI user made by BIUser.XML, loaded by a real server from users.d, reads only its
// tenant's rows in every table, through the q_ and bi_ views too, cannot raise its limits
// or write; the server's other users still read every tenant.
func TestBIUserSeesOneTenant(t *testing.T) {
	ctx := context.Background()
	// The tables, as `beacon biuser` reads them from a migrated database.
	conn, db := newDB(t)
	if _, err := Migrate(ctx, conn, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	tables, hidden, err := TenantTables(ctx, conn, db)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tables, "events") || slices.Contains(tables, migrationsTable) || slices.Contains(hidden, migrationsTable) {
		t.Fatalf("tenant tables %v, hidden %v", tables, hidden)
	}

	dir := t.TempDir()
	const password = "bi-password-for-the-test-0123"
	sum := sha256.Sum256([]byte(password))
	os.MkdirAll(filepath.Join(dir, "users.d"), 0o755)
	for _, tenant := range []string{"gen", "genx"} {
		u := BIUser{Name: "bi_" + tenant, Tenant: tenant, Database: "beacon", PasswordSHA256: hex.EncodeToString(sum[:]),
			MaxExecutionTime: 30, MaxResultRows: 100000, MaxMemoryUsage: 1 << 30, Tables: tables, Hidden: hidden}
		x, err := u.XML()
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "users.d", u.Name+".xml"), []byte(x), 0o600)
	}
	// The server's own users.xml: the default user the migrations, the ingest and the
	// console use; users.d/ beside it is merged in.
	os.WriteFile(filepath.Join(dir, "users.xml"), []byte(`<clickhouse>
  <profiles><default/></profiles>
  <users><default><password></password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default/></quotas>
</clickhouse>
`), 0o600)
	cfg := filepath.Join(dir, "config.xml")
	os.WriteFile(cfg, []byte("<clickhouse><users_config>"+filepath.Join(dir, "users.xml")+"</users_config></clickhouse>\n"), 0o600)

	s := testenv.NewClickHouseServerWithConfig(t, cfg)
	admin := s.Open(t, "default")
	exec(t, admin, "CREATE DATABASE beacon")
	if _, err := Migrate(ctx, admin, Options{Database: "beacon"}); err != nil {
		t.Fatal(err)
	}
	genDataset(t, admin, "beacon", 7)
	genAdditions(t, admin, "beacon", 7)
	refreshRows(t, admin, "beacon", time.Hour)

	bi, err := clickhouse.Open(&clickhouse.Options{Addr: []string{s.NativeAddr}, DialTimeout: 10 * time.Second,
		Auth: clickhouse.Auth{Database: "beacon", Username: "bi_gen", Password: password}})
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()

	// Every table: the BI user reads exactly the rows of its tenant.
	filtered := 0
	for _, tb := range tables {
		own := scalar[uint64](t, admin, "SELECT count() FROM beacon."+tb+" WHERE tenant = 'gen'")
		others := scalar[uint64](t, admin, "SELECT count() FROM beacon."+tb+" WHERE tenant != 'gen'")
		if got := scalar[uint64](t, bi, "SELECT count() FROM beacon."+tb); got != own {
			t.Errorf("%s: the BI user of gen reads %d rows, want %d (gen's; %d of other tenants)", tb, got, own, others)
		}
		if own > 0 && others > 0 {
			filtered++
		}
	}
	if filtered < 5 {
		t.Fatalf("only %d tables hold rows of both tenants: the dataset does not test the filters", filtered)
	}
	for _, tb := range hidden {
		if got := scalar[uint64](t, bi, "SELECT count() FROM beacon."+tb); got != 0 {
			t.Errorf("%s has no tenant column, yet the BI user reads %d of its rows", tb, got)
		}
	}

	// Views: a q_ view asked for another tenant answers nothing; a bi_ view holds gen only.
	count := func(c driver.Conn, q string) uint64 { return scalar[uint64](t, c, "SELECT count() FROM ("+q+")") }
	for _, tenant := range []string{"gen", "genx"} {
		q := "SELECT * FROM beacon.q_search_gaps(tenant = '" + tenant + "', from = '1970-01-01', to = '2100-01-01', partner = '', only = 'all', limit = 1000, lookback = 30)"
		want := count(admin, q)
		if tenant != "gen" {
			if want == 0 {
				t.Fatalf("search-gaps has no rows for %s: the dataset does not test the view", tenant)
			}
			want = 0
		}
		if got := count(bi, q); got != want {
			t.Errorf("q_search_gaps for %s: the BI user of gen gets %d rows, want %d", tenant, got, want)
		}
	}
	if got := scalar[uint64](t, bi, "SELECT count() FROM beacon.bi_touches WHERE tenant != 'gen'"); got != 0 {
		t.Errorf("bi_touches: %d rows of other tenants", got)
	}

	// Limits it cannot raise, nothing it can write.
	for _, q := range []string{
		"SELECT 1 SETTINGS max_execution_time = 3600",
		"SELECT 1 SETTINGS max_result_rows = 0", // 0: no limit
		"SELECT 1 SETTINGS max_execution_time = 0",
		"SELECT 1 SETTINGS max_memory_usage = 0",
		"SELECT 1 SETTINGS readonly = 0",
		"INSERT INTO beacon.searches (tenant) VALUES ('gen')",
		"CREATE TABLE beacon.x (a UInt8) ENGINE = Memory",
	} {
		if err := bi.Exec(ctx, q); err == nil {
			t.Errorf("the BI user ran %q", q)
		}
	}
	if got := scalar[uint64](t, admin, "SELECT uniqExact(tenant) FROM beacon.events"); got < 2 {
		t.Errorf("the default user reads %d tenants of events, want every one", got)
	}
}

// The SQL form names the same tables and limits; it cannot run on the local engine (its
// clickhouse-local mode has no writable access storage), so its text is checked.
func TestBIUserSQL(t *testing.T) {
	u := BIUser{Name: "bi_acme", Tenant: "acme", Database: "beacon", PasswordSHA256: strings.Repeat("ab", 32),
		MaxExecutionTime: 30, MaxResultRows: 1000, MaxMemoryUsage: 1 << 30, Tables: []string{"events", "searches"}, Hidden: []string{"notes"}}
	sql, err := u.SQL()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"readonly = 2 CONST", "max_execution_time = 30 MIN 1 MAX 30", "max_result_rows = 1000 MIN 1 MAX 1000",
		"CREATE ROW POLICY OR REPLACE bi_acme ON beacon.events FOR SELECT USING tenant = 'acme' TO bi_acme;",
		"CREATE ROW POLICY OR REPLACE bi_acme ON beacon.searches FOR SELECT USING tenant = 'acme' TO bi_acme;",
		"CREATE ROW POLICY OR REPLACE bi_acme ON beacon.notes FOR SELECT USING 0 TO bi_acme;",
		"CREATE ROW POLICY IF NOT EXISTS beacon_all ON beacon.events FOR SELECT USING 1 TO ALL EXCEPT beacon_bi_tenant;",
		"GRANT SELECT ON beacon.* TO bi_acme;", "GRANT beacon_bi_tenant TO bi_acme;",
	} {
		if !strings.Contains(sql, want) {
			t.Errorf("SQL lacks %q:\n%s", want, sql)
		}
	}
	for _, bad := range []BIUser{
		{Name: "bi acme", Tenant: "acme"}, {Name: "bi", Tenant: "ac'me"}, {Name: "bi", Tenant: "acme", Database: "beacon", PasswordSHA256: "x"},
	} {
		bad.MaxExecutionTime, bad.MaxResultRows, bad.MaxMemoryUsage, bad.Tables = 1, 1, 1, []string{"events"}
		if bad.Database == "" {
			bad.Database = "beacon"
		}
		if bad.PasswordSHA256 == "" {
			bad.PasswordSHA256 = strings.Repeat("ab", 32)
		}
		if _, err := bad.SQL(); err == nil {
			t.Errorf("%+v rendered", bad)
		}
	}
}
