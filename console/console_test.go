package console

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/beaconprm/beacon/schema"
)

// savedRows runs a saved query directly (as `beacon query -format json` does) and returns
// its rows decoded from JSON.
func savedRows(t *testing.T, ch *testenv.ClickHouse, name string, params map[string]string) any {
	t.Helper()
	q, err := schema.LookupQuery(name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := q.Run(context.Background(), ch.Conn(t), ch.Database, params)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := res.Write(&b, "json"); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func rowsOf(v map[string]any) []any {
	r, _ := v["rows"].([]any)
	return r
}

// The API answers exactly what the saved queries answer, with the parameters the request
// names, for the signed-in user's tenant only.
func TestAPIAnswersSavedQueries(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	loadGolden(t, ch.Conn(t), ch.HTTPAddr, ch.Database)
	srv := newConsole(t, openReadOnly(t, ch.NativeAddr, ch.Database), ch.Database, nil)
	ann := newClient(t, srv.URL)
	if r := ann.login("ann", annPassword); r.StatusCode != http.StatusOK {
		t.Fatalf("login: %s", r.Status)
	}

	for _, c := range []struct {
		path   string
		query  string
		params map[string]string
		rows   int // rows the golden data gives, to be sure the comparison is not of two empty answers
	}{
		{"/api/t/acme/contents", "content-use", map[string]string{"tenant": "acme"}, 5},
		{"/api/t/acme/contents?kind=document&from=2026-03-03&to=2026-03-04", "content-use", map[string]string{"tenant": "acme", "kind": "document", "from": "2026-03-03", "to": "2026-03-04"}, 1},
		{"/api/t/acme/documents/doc1", "document-views", map[string]string{"tenant": "acme", "content": "doc1"}, 4},
		// a day range: from its first day's start to the next day's start
		{"/api/t/acme/documents/doc1?from=2026-03-02&to=2026-03-03", "document-views", map[string]string{"tenant": "acme", "content": "doc1", "from": "2026-03-02", "to": "2026-03-04"}, 3},
		{"/api/t/acme/documents/doc1?partner=p1", "document-views", map[string]string{"tenant": "acme", "content": "doc1", "partner": "p1"}, 2},
		{"/api/t/acme/videos/vid1", "video-retention", map[string]string{"tenant": "acme", "content": "vid1"}, 10},
		{"/api/t/acme/training", "training-completion", map[string]string{"tenant": "acme"}, 2},
		{"/api/t/acme/training?partner=p2&course=course1", "training-completion", map[string]string{"tenant": "acme", "partner": "p2", "course": "course1"}, 1},
		{"/api/t/acme/campaigns", "campaign-ranking", map[string]string{"tenant": "acme"}, 6},
		{"/api/t/acme/campaigns?campaign=camp1&from=2026-03-02&to=2026-03-02", "campaign-ranking", map[string]string{"tenant": "acme", "campaign": "camp1", "from": "2026-03-02", "to": "2026-03-02"}, 3},
		{"/api/t/acme/tools", "content-outcomes", map[string]string{"tenant": "acme"}, 2},
		{"/api/t/acme/tools?from=2026-03-03", "content-outcomes", map[string]string{"tenant": "acme", "from": "2026-03-03"}, 2},
		{"/api/t/acme/activity", "tenant-activity", map[string]string{"tenant": "acme"}, 1},
		{"/api/t/acme/directory", "directory", map[string]string{"tenant": "acme"}, 8},
		{"/api/t/acme/videos/vid1/viewers", "video-viewers", map[string]string{"tenant": "acme", "content": "vid1", "limit": "1000"}, 4},
		{"/api/t/acme/videos/vid1/seconds?person=u3", "viewer-seconds", map[string]string{"tenant": "acme", "content": "vid1", "person": "u3"}, 10},
		{"/api/t/acme/videos/vid1/seconds?viewer=v:a1", "viewer-seconds", map[string]string{"tenant": "acme", "content": "vid1", "viewer": "v:a1"}, 10},
		{"/api/t/acme/partners/p1/deals", "partner-deals", map[string]string{"tenant": "acme", "partner": "p1"}, 1},
		{"/api/t/acme/partners/p2/deals?from=2026-03-01&to=2026-03-31&lookback=30", "partner-deals", map[string]string{"tenant": "acme", "partner": "p2", "from": "2026-03-01", "to": "2026-03-31", "lookback": "30"}, 1},
		{"/api/t/acme/activity?from=2026-03-03&to=2026-03-04", "tenant-activity", map[string]string{"tenant": "acme", "from": "2026-03-03", "to": "2026-03-04"}, 1},
	} {
		got := ann.api(c.path, http.StatusOK)
		want := savedRows(t, ch, c.query, c.params)
		if got["query"] != c.query {
			t.Fatalf("%s: query %v, want %s", c.path, got["query"], c.query)
		}
		if len(rowsOf(got)) != c.rows || !reflect.DeepEqual(got["rows"], want) {
			t.Fatalf("%s: rows\n%v\nwant (%d rows)\n%v", c.path, got["rows"], c.rows, want)
		}
		// every parameter the query ran with is reported, defaults included
		q, _ := schema.LookupQuery(c.query)
		params := got["params"].(map[string]any)
		for _, p := range q.Params {
			want, ok := c.params[p.Name]
			if !ok && p.Name != "limit" {
				want = p.Default
			}
			if p.Name != "limit" && params[p.Name] != want {
				t.Fatalf("%s: params[%s] = %v, want %q", c.path, p.Name, params[p.Name], want)
			}
		}
	}

	// Per page of doc1, from the golden events: reached (furthest page at or past it):
	// u1 4, u2 2, u3 1, a1 1; time on it: page 1 3000+5000+2000+800, page 2 4000+1500.
	doc := ann.api("/api/t/acme/documents/doc1", http.StatusOK)
	pages, _ := json.Marshal(doc["pages"])
	wantPages := `[{"dwell_ms":10800,"page":1,"reached":4,"viewers":4},{"dwell_ms":5500,"page":2,"reached":2,"viewers":2},` +
		`{"dwell_ms":2000,"page":3,"reached":1,"viewers":1},{"dwell_ms":1000,"page":4,"reached":1,"viewers":1}]`
	if string(pages) != wantPages {
		t.Fatalf("doc1 pages:\n%s\nwant\n%s", pages, wantPages)
	}
	// ?format=csv: the saved query's CSV, as beacon query -format csv prints it
	q, _ := schema.LookupQuery("training-completion")
	res, err := q.Run(context.Background(), ch.Conn(t), ch.Database, map[string]string{"tenant": "acme"})
	if err != nil {
		t.Fatal(err)
	}
	var wantCSV bytes.Buffer
	res.Write(&wantCSV, "csv")
	code, gotCSV := ann.get("/api/t/acme/training?format=csv")
	if code != http.StatusOK || string(gotCSV) != wantCSV.String() || strings.Count(wantCSV.String(), "\n") != 3 {
		t.Fatalf("training as CSV: %d\n%s\nwant\n%s", code, gotCSV, wantCSV.String())
	}
	ann.api("/api/t/acme/training?format=xml", http.StatusBadRequest)

	// Unknown content: an empty answer, not an error.
	for _, p := range []string{"/api/t/acme/documents/nope", "/api/t/acme/videos/nope"} {
		if v := ann.api(p, http.StatusOK); len(rowsOf(v)) != 0 {
			t.Fatalf("%s: %v, want no rows", p, v["rows"])
		}
	}
}

func TestTenantIsolation(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	loadGolden(t, ch.Conn(t), ch.HTTPAddr, ch.Database)
	srv := newConsole(t, openReadOnly(t, ch.NativeAddr, ch.Database), ch.Database, nil)
	ann, bob, root, anon := newClient(t, srv.URL), newClient(t, srv.URL), newClient(t, srv.URL), newClient(t, srv.URL)
	ann.login("ann", annPassword)
	bob.login("bob", bobPassword)
	root.login("root", annPassword)

	// Each sees its own tenant's doc1; beta's holds one viewer with 999 ms.
	if v := bob.api("/api/t/beta/documents/doc1", http.StatusOK); len(rowsOf(v)) != 1 || rowsOf(v)[0].(map[string]any)["total_dwell_ms"] != float64(999) {
		t.Fatalf("bob's beta doc1: %v", v["rows"])
	}
	if v := ann.api("/api/t/acme/documents/doc1", http.StatusOK); len(rowsOf(v)) != 4 {
		t.Fatalf("ann's acme doc1: %v", v["rows"])
	}
	// The other tenant is not found, like a tenant that does not exist, on every
	// endpoint and page.
	for _, e := range endpoints {
		p := "/api/t/beta/" + strings.NewReplacer("{content}", "doc1", "{partner}", "q1", "{person}", "w1").Replace(e.path)
		if v := ann.api(p, http.StatusNotFound); v["error"] != "no such tenant" {
			t.Fatalf("ann %s: %v", p, v)
		}
		if v := ann.api(strings.Replace(p, "/beta/", "/nobody/", 1), http.StatusNotFound); v["error"] != "no such tenant" {
			t.Fatalf("ann unknown tenant: %v", v)
		}
		if code, _ := anon.get(p); code != http.StatusUnauthorized {
			t.Fatalf("signed out %s: %d, want 401", p, code)
		}
	}
	if code, _ := ann.get("/t/beta/documents/doc1"); code != http.StatusNotFound {
		t.Fatalf("ann's page of beta: %d, want 404", code)
	}
	if code, _ := bob.get("/t/beta/"); code == http.StatusNotFound {
		t.Fatalf("bob's page of beta: 404")
	}
	// A user of both tenants sees both.
	root.api("/api/t/beta/documents/doc1", http.StatusOK)
	root.api("/api/t/acme/documents/doc1", http.StatusOK)
	// Signed out: pages send to the login, the API says 401.
	resp, err := anon.c.Get(srv.URL + "/t/acme/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Fatalf("signed-out page: %s -> %q", resp.Status, resp.Header.Get("Location"))
	}
	// After logout the session is gone.
	r, _ := ann.c.Post(srv.URL+"/api/logout", "application/json", nil)
	r.Body.Close()
	ann.api("/api/t/acme/training", http.StatusUnauthorized)
}

func TestBadParameters(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	loadGolden(t, ch.Conn(t), ch.HTTPAddr, ch.Database)
	srv := newConsole(t, openReadOnly(t, ch.NativeAddr, ch.Database), ch.Database, nil)
	ann := newClient(t, srv.URL)
	ann.login("ann", annPassword)
	for _, c := range []struct{ path, param string }{
		{"/api/t/acme/contents?from=yesterday", "from"},
		{"/api/t/acme/contents?to=2026-13-01", "to"},
		{"/api/t/acme/contents?from=2026-03-05&to=2026-03-01", "from"},
		{"/api/t/acme/contents?sql=DROP", "sql"},
		{"/api/t/acme/videos/vid1?from=2026-03-01", "from"},
		{"/api/t/acme/training?partner=p1&partner=p2", "partner"},
		{"/api/t/acme/training?partner=%27%3B", "partner"},
		{"/api/t/acme/documents/doc%20one", "content"},
		{"/api/t/acme/partners/p%201", "partner"},
		{"/api/t/acme/people/u%3B1", "person"},
		{"/api/t/acme/partners?baseline_weeks=0", "baseline_weeks"},
		{"/api/t/acme/partners?baseline_weeks=eight", "baseline_weeks"},
		{"/api/t/acme/partners?from=0001-01-01&to=2026-03-07", "from"},
		{"/api/t/acme/partners?days=7", "days"},
		{"/api/t/acme/partners?level=people", "level"},
		{"/api/t/acme/partners?stopped=1001", "stopped"},
		{"/api/t/acme/partners?stopped=-1", "stopped"},
		{"/api/t/acme/partners?from=2999-01-01", "from"}, // after today, the window's default last day
		{"/api/t/acme/partners/p1?partner=p2", "partner"},
		{"/api/t/acme/people/u1?limit=0", "limit"},
		{"/api/t/acme/people/u1?limit=100000", "limit"},
		{"/api/t/acme/people/u1?before=not%20a%20cursor", "before"},
		{"/api/t/acme/partners/p1/timeline?person=u1", "person"},
		{"/api/t/acme/reach/doc1?campaign=camp1", "campaign"},
		{"/api/t/acme/partners/p1/deals?lookback=0", "lookback"},
		{"/api/t/acme/partners/p1/deals?lookback=ninety", "lookback"},
		{"/api/t/acme/partners/p1/deals?lookback=99999", "lookback"},
		{"/api/t/acme/partners/p1/deals?to=2026-02-30", "to"},
		{"/api/t/acme/activity?from=2026-03-05&to=2026-03-01", "from"},
		{"/api/t/acme/directory?partner=p1", "partner"},
		{"/api/t/acme/videos/vid1/seconds", "person"},
		{"/api/t/acme/videos/vid1/seconds?person=u1&viewer=v:a1", "person"},
		{"/api/t/acme/videos/vid1/seconds?viewer=v%20a1", "viewer"},
		{"/api/t/acme/videos/vid1/viewers?limit=5", "limit"},
	} {
		v := ann.api(c.path, http.StatusBadRequest)
		if v["param"] != c.param || !strings.Contains(v["error"].(string), c.param) {
			t.Fatalf("%s: %v, want the parameter %q named", c.path, v, c.param)
		}
	}
	ann.api("/api/nothing", http.StatusNotFound)
	// an empty filter is no filter
	if v := ann.api("/api/t/acme/training?partner=", http.StatusOK); len(rowsOf(v)) != 2 {
		t.Fatalf("empty partner: %v", v["rows"])
	}
}

func TestLogin(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	srv := newConsole(t, openReadOnly(t, ch.NativeAddr, ch.Database), ch.Database, nil)
	c := newClient(t, srv.URL)
	r := c.login("ann", annPassword)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("login: %s", r.Status)
	}
	ck := r.Cookies()
	if len(ck) != 1 || ck[0].Name != cookieName || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode || ck[0].Secure {
		t.Fatalf("session cookie over plain HTTP: %+v", ck)
	}
	if v := c.api("/api/me", http.StatusOK); v["name"] != "ann" {
		t.Fatalf("me: %v", v)
	}
	// a form post (what another site could send) is refused
	form, err := http.Post(srv.URL+"/api/login", "text/plain", strings.NewReader(`{"name":"ann","password":"`+annPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	form.Body.Close()
	if form.StatusCode != http.StatusUnsupportedMediaType || len(form.Cookies()) != 0 {
		t.Fatalf("sign-in as text/plain: %s, cookies %v", form.Status, form.Cookies())
	}

	// Five failures from one address, then 429 even with the right password; a client
	// from the same address trying another name is blocked too (the address's limit).
	bad := newClient(t, srv.URL)
	for i := 0; i < 5; i++ {
		if r := bad.login("ann", "wrong"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %s", i+1, r.Status)
		}
	}
	r = bad.login("ann", annPassword)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth attempt: %s, Retry-After %q; want 429", r.Status, r.Header.Get("Retry-After"))
	}
	if r := bad.login("bob", bobPassword); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("other name from the blocked address: %s", r.Status)
	}
	if r := bad.login("nobody", "x"); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("unknown name from the blocked address: %s", r.Status)
	}

	// Over TLS the cookie is Secure.
	cfg := DefaultConfig()
	cfg.UsersFile = "(test)"
	s, err := New(cfg, openReadOnly(t, ch.NativeAddr, ch.Database), testUsers(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := httptest.NewTLSServer(s.Handler())
	defer tlsSrv.Close()
	tc := tlsSrv.Client()
	tc.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	resp, err := tc.Post(tlsSrv.URL+"/api/login", "application/json", strings.NewReader(`{"name":"ann","password":"`+annPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ck := resp.Cookies(); len(ck) != 1 || !ck[0].Secure || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie over TLS: %+v", ck)
	}
}

// A reverse proxy that authenticates users can name them in a header instead.
func TestUserHeader(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	loadGolden(t, ch.Conn(t), ch.HTTPAddr, ch.Database)
	srv := newConsole(t, openReadOnly(t, ch.NativeAddr, ch.Database), ch.Database, func(c *Config) { c.UserHeader = "X-Forwarded-User" })
	get := func(user, path string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("X-Forwarded-User", user)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get("bob", "/api/t/beta/training"); c != http.StatusOK {
		t.Fatalf("bob via header: %d", c)
	}
	if c := get("bob", "/api/t/acme/training"); c != http.StatusNotFound {
		t.Fatalf("bob via header, other tenant: %d", c)
	}
	if c := get("mallory", "/api/t/acme/training"); c != http.StatusUnauthorized {
		t.Fatalf("unknown user via header: %d", c)
	}
}

// The console's connection cannot write.
func TestReadOnlyConnection(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	loadGolden(t, ch.Conn(t), ch.HTTPAddr, ch.Database)
	ro := openReadOnly(t, ch.NativeAddr, ch.Database)
	err := ro.Exec(context.Background(), "INSERT INTO "+ch.Database+".partners (tenant, partner_id, name) VALUES ('acme', 'px', 'X')")
	if err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Fatalf("insert through the console's connection: %v, want a readonly error", err)
	}
	if err := ro.Exec(context.Background(), "DROP TABLE "+ch.Database+".partners"); err == nil {
		t.Fatal("drop through the console's connection succeeded")
	}
	// reads work, with a deadline (the driver then sets max_execution_time)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var n uint64
	if err := ro.QueryRow(ctx, "SELECT count() FROM "+ch.Database+".partners FINAL").Scan(&n); err != nil || n != 3 {
		t.Fatalf("read through the console's connection: %d, %v", n, err)
	}
}

// ClickHouse down: the API says which part is unavailable, the console keeps serving, and
// answers again once ClickHouse is back.
func TestClickHouseDown(t *testing.T) {
	s := testenv.NewClickHouseServer(t)
	admin := s.Open(t, "default")
	db := "console_down"
	if err := admin.Exec(context.Background(), "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	loadGolden(t, s.Open(t, db), s.HTTPAddr, db)
	srv := newConsole(t, openReadOnly(t, s.NativeAddr, db), db, func(c *Config) { c.QueryTimeout = 3 * time.Second })
	ann := newClient(t, srv.URL)
	ann.login("ann", annPassword)
	want := len(rowsOf(ann.api("/api/t/acme/training", http.StatusOK)))

	s.Stop(t)
	v := ann.api("/api/t/acme/training", http.StatusServiceUnavailable)
	if v["unavailable"] != "training-completion" || v["error"] != "ClickHouse is unavailable" {
		t.Fatalf("while down: %v", v)
	}
	if h := ann.api("/api/health", http.StatusServiceUnavailable); h["clickhouse"] != "unavailable" || h["console"] != "ok" {
		t.Fatalf("health while down: %v", h)
	}
	ann.api("/api/me", http.StatusOK) // sessions and pages do not need ClickHouse

	s.Start(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, b := ann.get("/api/t/acme/training")
		if code == http.StatusOK {
			var v map[string]any
			json.Unmarshal(b, &v)
			if n := len(rowsOf(v)); n != want {
				t.Fatalf("after recovery: %d rows, want %d", n, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery within 30 s: %d %s", code, b)
		}
		time.Sleep(100 * time.Millisecond) // polling with a deadline
	}
	ann.api("/api/health", http.StatusOK)
}

// A tenant-wide answer kept by `beacon keep` is served, read-only, with the time it was
// computed; with -console.keptMaxAge=0, or for a form not kept, it is computed.
func TestKeptAnswers(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	loadGolden(t, ch.Conn(t), ch.HTTPAddr, ch.Database)
	k := &schema.Keeper{Conn: ch.Conn(t), DB: ch.Database, Tenants: []string{"acme"}, Forms: []schema.KeptForm{{Query: "campaign-ranking"}}}
	if _, err := k.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	live := savedRows(t, ch, "campaign-ranking", map[string]string{"tenant": "acme"})
	for _, c := range []struct {
		maxAge time.Duration
		path   string
		kept   bool
	}{
		{10 * time.Minute, "/api/t/acme/campaigns", true},
		{0, "/api/t/acme/campaigns", false},
		{10 * time.Minute, "/api/t/acme/campaigns?from=2026-03-02", false},
	} {
		srv := newConsole(t, openReadOnly(t, ch.NativeAddr, ch.Database), ch.Database, func(c2 *Config) { c2.KeptMaxAge = c.maxAge })
		ann := newClient(t, srv.URL)
		if r := ann.login("ann", annPassword); r.StatusCode != http.StatusOK {
			t.Fatalf("login: %s", r.Status)
		}
		got := ann.api(c.path, http.StatusOK)
		at, isKept := got["kept_at"].(string)
		if isKept != c.kept {
			t.Fatalf("%s, max age %v: kept_at %v, want kept %v", c.path, c.maxAge, got["kept_at"], c.kept)
		}
		if c.kept {
			if when, err := time.Parse(time.RFC3339Nano, at); err != nil || time.Since(when) > time.Minute {
				t.Fatalf("kept_at %q: %v", at, err)
			}
		}
		if len(rowsOf(got)) == 0 || (c.path == "/api/t/acme/campaigns" && !reflect.DeepEqual(got["rows"], live)) {
			t.Fatalf("%s, max age %v: rows\n%v\nwant\n%v", c.path, c.maxAge, got["rows"], live)
		}
	}
}
