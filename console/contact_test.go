package console

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/testenv"
)

// The partner, person and reach endpoints answer what partner-activity, contact-timeline
// and content-reach answer for the parameters they bind; unknown partners and people are
// empty answers, and the timeline pages by the query's own cursor.
func TestContactEndpoints(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	loadGolden(t, ch.Conn(t), ch.HTTPAddr, ch.Database)
	srv := newConsole(t, openReadOnly(t, ch.NativeAddr, ch.Database), ch.Database, nil)
	ann := newClient(t, srv.URL)
	ann.login("ann", annPassword)
	today := time.Now().UTC().Format(time.DateOnly)

	for _, c := range []struct {
		path   string
		query  string
		params map[string]string
		rows   int
	}{
		// the golden events are 2026-03-02..07: a week after them, with a one-week
		// baseline, Alpha and Gamma are silent, Beta (tool1 on the 7th) active
		{"/api/t/acme/partners?from=2026-03-07&to=2026-03-13&baseline_weeks=1", "partner-activity", map[string]string{"tenant": "acme", "to": "2026-03-13", "days": "7", "baseline_weeks": "1"}, 8},
		{"/api/t/acme/partners?to=2026-03-07", "partner-activity", map[string]string{"tenant": "acme", "to": "2026-03-07"}, 8},
		// no window given: the query's 7 days, to today, which the console sends
		{"/api/t/acme/partners", "partner-activity", map[string]string{"tenant": "acme", "to": today}, 8},
		{"/api/t/acme/partners?partner=p2&to=2026-03-13&baseline_weeks=1", "partner-activity", map[string]string{"tenant": "acme", "partner": "p2", "to": "2026-03-13", "baseline_weeks": "1"}, 3},
		// what the overview asks: the partner rows, without stopped contents
		{"/api/t/acme/partners?to=2026-03-13&baseline_weeks=1&level=partner&stopped=0", "partner-activity", map[string]string{"tenant": "acme", "to": "2026-03-13", "baseline_weeks": "1", "level": "partner", "stopped": "0"}, 3},
		{"/api/t/acme/partners/p1?from=2026-03-07&to=2026-03-13&baseline_weeks=1", "partner-activity", map[string]string{"tenant": "acme", "partner": "p1", "to": "2026-03-13", "days": "7", "baseline_weeks": "1"}, 3},
		// p1's touches: u1's search that found nothing (no content) is one of its own
		{"/api/t/acme/partners/p1/timeline", "contact-timeline", map[string]string{"tenant": "acme", "partner": "p1"}, 8},
		{"/api/t/acme/partners/p2/timeline?from=2026-03-03&to=2026-03-06", "contact-timeline", map[string]string{"tenant": "acme", "partner": "p2", "from": "2026-03-03", "to": "2026-03-06"}, 5},
		{"/api/t/acme/people/u3", "contact-timeline", map[string]string{"tenant": "acme", "person": "u3"}, 6},
		{"/api/t/acme/people/u3?limit=2", "contact-timeline", map[string]string{"tenant": "acme", "person": "u3", "limit": "2"}, 2},
		{"/api/t/acme/reach/doc1", "content-reach", map[string]string{"tenant": "acme", "content": "doc1"}, 3},
		{"/api/t/acme/reach/doc1?from=2026-03-03&to=2026-03-04", "content-reach", map[string]string{"tenant": "acme", "content": "doc1", "from": "2026-03-03", "to": "2026-03-04"}, 3},
	} {
		got := ann.api(c.path, http.StatusOK)
		want := savedRows(t, ch, c.query, c.params)
		if got["query"] != c.query {
			t.Fatalf("%s: query %v, want %s", c.path, got["query"], c.query)
		}
		if len(rowsOf(got)) != c.rows || !reflect.DeepEqual(got["rows"], want) {
			t.Fatalf("%s: rows\n%v\nwant (%d rows)\n%v", c.path, got["rows"], c.rows, want)
		}
		params := got["params"].(map[string]any)
		for k, v := range c.params {
			if params[k] != v {
				t.Fatalf("%s: params[%s] = %v, want %q", c.path, k, params[k], v)
			}
		}
	}

	// statuses of the week after the golden events, against the week of them
	status := map[string]string{}
	for _, r := range rowsOf(ann.api("/api/t/acme/partners?from=2026-03-07&to=2026-03-13&baseline_weeks=1", http.StatusOK)) {
		m := r.(map[string]any)
		status[m["partner_id"].(string)+"/"+m["person"].(string)] = m["status"].(string)
	}
	wantStatus := map[string]string{"p1/": "silent", "p1/u1": "silent", "p1/u2": "silent", "p2/": "active", "p2/u3": "active", "p2/u4": "never started", "p3/": "silent", "p3/u5": "silent"}
	if !reflect.DeepEqual(status, wantStatus) {
		t.Fatalf("statuses %v, want %v", status, wantStatus)
	}

	// paging: u3's six touches, two at a time, each page what the query gives after the
	// previous page's last cursor, and together the whole log in order
	all := rowsOf(ann.api("/api/t/acme/people/u3", http.StatusOK))
	var paged []any
	before := ""
	for i := 0; i < 5; i++ {
		page := rowsOf(ann.api("/api/t/acme/people/u3?limit=2&before="+url.QueryEscape(before), http.StatusOK))
		want := savedRows(t, ch, "contact-timeline", map[string]string{"tenant": "acme", "person": "u3", "limit": "2", "before": before})
		if !reflect.DeepEqual(any(page), want) && !(len(page) == 0 && want == nil) {
			t.Fatalf("page %d after %q: %v, want %v", i+1, before, page, want)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		before = page[len(page)-1].(map[string]any)["cursor"].(string)
	}
	if len(paged) != 6 || !reflect.DeepEqual(paged, all) {
		t.Fatalf("u3's log paged two at a time:\n%v\nwant\n%v", paged, all)
	}

	// unknown partner or person: empty answers
	for _, p := range []string{"/api/t/acme/partners/nope", "/api/t/acme/partners/nope/timeline", "/api/t/acme/people/nope"} {
		if v := ann.api(p, http.StatusOK); len(rowsOf(v)) != 0 {
			t.Fatalf("%s: %v, want no rows", p, v["rows"])
		}
	}
	// unknown content: every partner, none of its people reached
	for _, r := range rowsOf(ann.api("/api/t/acme/reach/nope", http.StatusOK)) {
		if m := r.(map[string]any); m["people_reached"] != float64(0) || m["touches"] != float64(0) {
			t.Fatalf("reach of unknown content: %v", m)
		}
	}
}
