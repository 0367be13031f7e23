package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/beaconprm/beacon/schema"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The golden dataset (testdata/golden, shared with the browser test in web/test): events
// as the events table's JSONEachRow, dimension tables as `beacon import` CSV files.
const golden = "testdata/golden"

// loadGolden migrates database db and loads the golden dataset through the HTTP
// interface at httpAddr, as the browser test does, then refreshes the document rows as
// the ingest would.
func loadGolden(t testing.TB, conn driver.Conn, httpAddr, db string) {
	t.Helper()
	ctx := context.Background()
	if _, err := schema.Migrate(ctx, conn, schema.Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	body, err := os.Open(filepath.Join(golden, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	q := url.Values{"query": {"INSERT INTO " + db + ".events FORMAT JSONEachRow"}}
	resp, err := http.Post("http://"+httpAddr+"/?"+q.Encode(), "application/x-ndjson", body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("insert events: %s: %s", resp.Status, b)
	}
	if err := schema.RefreshRows(ctx, conn, db, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"partners", "partner_users", "campaigns", "contents", "course_assignments", "deals"} {
		d, err := schema.LookupDimension(table)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(golden, table+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = schema.Import(ctx, conn, d, f, schema.ImportOptions{Database: db, Tenant: "acme"})
		f.Close()
		if err != nil {
			t.Fatalf("import %s: %v", table, err)
		}
	}
}

// Passwords of the test users (their hashes are made at the start of each test).
const (
	annPassword = "ann-password-1"
	bobPassword = "bob-password-2"
)

// testUsers: ann sees acme, bob sees beta, root sees both.
func testUsers(t testing.TB) *Users {
	t.Helper()
	h := func(p string) string {
		s, err := HashPassword(p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	js := fmt.Sprintf(`{"users": [
		{"name": "ann", "passwordHash": %q, "tenants": ["acme"]},
		{"name": "bob", "passwordHash": %q, "tenants": ["beta"]},
		{"name": "root", "passwordHash": %q, "tenants": ["acme", "beta"]}]}`, h(annPassword), h(bobPassword), h(annPassword))
	u, err := ParseUsers([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// openReadOnly opens a console connection (ReadOnly) to addr's database db.
func openReadOnly(t testing.TB, addr, db string) driver.Conn {
	t.Helper()
	o := &clickhouse.Options{Addr: []string{addr}, Auth: clickhouse.Auth{Database: db}, DialTimeout: 2 * time.Second}
	ReadOnly(o)
	conn, err := clickhouse.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// newConsole serves a console over database db on a test HTTP server.
func newConsole(t testing.TB, conn driver.Conn, db string, edit func(*Config)) *httptest.Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.UsersFile = "(test)"
	cfg.Database = db
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg, conn, testUsers(t), testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

type testLog struct{ t testing.TB }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// client is a browser-like client with its own cookie jar.
type client struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newClient(t testing.TB, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) login(name, password string) *http.Response {
	c.t.Helper()
	b, _ := json.Marshal(map[string]string{"name": name, "password": password})
	resp, err := c.c.Post(c.base+"/api/login", "application/json", strings.NewReader(string(b)))
	if err != nil {
		c.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// get returns the status and body of GET path.
func (c *client) get(path string) (int, []byte) {
	c.t.Helper()
	resp, err := c.c.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// api decodes GET path's JSON answer, which must have the given status.
func (c *client) api(path string, status int) map[string]any {
	c.t.Helper()
	code, b := c.get(path)
	if code != status {
		c.t.Fatalf("GET %s: %d, want %d: %s", path, code, status, b)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		c.t.Fatalf("GET %s: %v: %s", path, err, b)
	}
	return v
}
