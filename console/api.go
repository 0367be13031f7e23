package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/beaconprm/beacon/schema"
)

// endpoint is one API answer: a saved query and the request parameters it accepts.
type endpoint struct {
	path   string   // under /api/t/{tenant}/
	query  string   // the saved query that answers
	params []string // query-string parameters accepted
	// bind turns the checked request into the saved query's parameters.
	// It fails, naming the parameter, on values the saved query cannot take.
	bind func(s *Server, tenant string, in map[string]string, r *http.Request) (map[string]string, string, error)
	// extra adds figures derived from the rows (in Go, from the same answer).
	extra func(res *schema.Result, out *answer)
}

// endpoints are the console's API; docs in README.md.
var endpoints = []endpoint{
	{path: "contents", query: "content-use", params: []string{"kind", "from", "to"}, bind: passThrough},
	{path: "documents/{content}", query: "document-views", params: []string{"from", "to", "partner"}, bind: bindDocument, extra: documentPages},
	{path: "videos/{content}", query: "video-retention", bind: passThrough},
	{path: "videos/{content}/viewers", query: "video-viewers", bind: bindLimit},
	{path: "videos/{content}/seconds", query: "viewer-seconds", params: []string{"person", "viewer"}, bind: bindViewer},
	{path: "training", query: "training-completion", params: []string{"course", "partner"}, bind: passThrough},
	{path: "training/scores", query: "training-scores", params: []string{"course", "partner"}, bind: passThrough},
	{path: "campaigns", query: "campaign-ranking", params: []string{"campaign", "from", "to"}, bind: passThrough},
	{path: "tools", query: "content-outcomes", params: []string{"from", "to"}, bind: passThrough},
	{path: "versions", query: "content-versions", params: []string{"kind", "content"}, bind: passThrough},
	{path: "searches", query: "search-gaps", params: []string{"from", "to", "partner", "only"}, bind: passThrough},
	{path: "partners", query: "partner-activity", params: []string{"from", "to", "partner", "baseline_weeks", "level", "stopped"}, bind: bindActivity},
	{path: "partners/{partner}", query: "partner-activity", params: []string{"from", "to", "baseline_weeks"}, bind: bindActivity},
	{path: "partners/{partner}/timeline", query: "contact-timeline", params: []string{"from", "to", "before", "limit"}, bind: bindTimeline},
	{path: "people/{person}", query: "contact-timeline", params: []string{"from", "to", "before", "limit"}, bind: bindTimeline},
	{path: "reach/{content}", query: "content-reach", params: []string{"from", "to"}, bind: passThrough},
	{path: "activity", query: "tenant-activity", params: []string{"from", "to"}, bind: passThrough},
	{path: "directory", query: "directory", bind: passThrough},
	{path: "partners/{partner}/deals", query: "partner-deals", params: []string{"from", "to", "lookback"}, bind: bindDeals},
}

// pathValues are the ids an endpoint's path can carry; each becomes the saved query's
// parameter of the same name.
var pathValues = []string{"content", "partner", "person"}

// answer is the JSON of every query-backed endpoint: the saved query and the parameter
// values it ran with (defaults filled in), its columns, and its rows exactly as
// `beacon query <name> -format json` prints them.
type answer struct {
	Query   string            `json:"query"`
	Params  map[string]string `json:"params"`
	Columns []string          `json:"columns"`
	// "rows": the saved query's rows, Result.Write's JSON, written last by writeAnswer
	// documents: per page, from the rows
	Pages []pageStat `json:"pages,omitempty"`
	// documents: the answer stopped at the row limit
	Truncated bool `json:"truncated,omitempty"`
	// when the answer was computed, for a kept answer (beacon keep); absent when computed
	// for this request
	KeptAt *time.Time `json:"kept_at,omitempty"`
}

func passThrough(_ *Server, tenant string, in map[string]string, r *http.Request) (map[string]string, string, error) {
	p := map[string]string{"tenant": tenant}
	for k, v := range in {
		p[k] = v
	}
	for _, k := range pathValues {
		if c := r.PathValue(k); c != "" {
			p[k] = c
		}
	}
	return p, "", nil
}

// maxWindowDays bounds partner-activity's window (its days parameter is a UInt16, and a
// longer window says nothing a shorter one does not).
const maxWindowDays = 3660

// bindActivity gives partner-activity its window: the days from "from" to "to", both
// inclusive; without "from" the query's 7 days; without "to", up to today (UTC), which is
// then sent, so the answer's params say which days were measured.
func bindActivity(s *Server, tenant string, in map[string]string, r *http.Request) (map[string]string, string, error) {
	p, _, _ := passThrough(s, tenant, in, r)
	delete(p, "from")
	to := time.Now().UTC().Truncate(24 * time.Hour)
	if v, ok := in["to"]; ok {
		to, _ = time.Parse(time.DateOnly, v)
	}
	p["to"] = to.Format(time.DateOnly)
	if v, ok := in["from"]; ok {
		from, _ := time.Parse(time.DateOnly, v)
		if from.After(to) {
			return nil, "from", fmt.Errorf("parameter \"from\" (%s) is after the window's last day %s", v, p["to"])
		}
		days := int(to.Sub(from).Hours()/24) + 1
		if days > maxWindowDays {
			return nil, "from", fmt.Errorf("parameter \"from\": the window from %s to %s is %d days, more than %d", v, p["to"], days, maxWindowDays)
		}
		p["days"] = strconv.Itoa(days)
	}
	if v, ok := in["baseline_weeks"]; ok {
		if n, _ := strconv.Atoi(v); n < 1 || n > 520 {
			return nil, "baseline_weeks", fmt.Errorf("parameter \"baseline_weeks\": want 1 to 520 weeks, got %s", v)
		}
	}
	if v, ok := in["stopped"]; ok {
		if n, _ := strconv.Atoi(v); n > 1000 {
			return nil, "stopped", fmt.Errorf("parameter \"stopped\": want 0 to 1000 contents, got %s", v)
		}
	}
	return p, "", nil
}

// bindLimit caps a list at -console.maxRows rows.
func bindLimit(s *Server, tenant string, in map[string]string, r *http.Request) (map[string]string, string, error) {
	p, _, _ := passThrough(s, tenant, in, r)
	p["limit"] = strconv.Itoa(s.cfg.MaxRows)
	return p, "", nil
}

// bindViewer asks viewer-seconds for one person or one viewer key, not both or neither.
func bindViewer(s *Server, tenant string, in map[string]string, r *http.Request) (map[string]string, string, error) {
	p, _, _ := passThrough(s, tenant, in, r)
	if (in["person"] == "") == (in["viewer"] == "") {
		return nil, "person", errors.New("parameter \"person\" (a partner_user_id) or \"viewer\" (a viewer key such as v:<visitor_id>): give one of them")
	}
	return p, "", nil
}

// bindDeals gives partner-deals its lookback: 1 to maxWindowDays days.
func bindDeals(s *Server, tenant string, in map[string]string, r *http.Request) (map[string]string, string, error) {
	p, _, _ := passThrough(s, tenant, in, r)
	if v, ok := in["lookback"]; ok {
		if n, _ := strconv.Atoi(v); n < 1 || n > maxWindowDays {
			return nil, "lookback", fmt.Errorf("parameter \"lookback\": want 1 to %d days, got %s", maxWindowDays, v)
		}
	}
	return p, "", nil
}

// bindTimeline pages contact-timeline: at most -console.maxRows touches a page.
func bindTimeline(s *Server, tenant string, in map[string]string, r *http.Request) (map[string]string, string, error) {
	p, _, _ := passThrough(s, tenant, in, r)
	if v, ok := in["limit"]; ok {
		if n, _ := strconv.Atoi(v); n < 1 || n > s.cfg.MaxRows {
			return nil, "limit", fmt.Errorf("parameter \"limit\": want 1 to %d touches, got %s", s.cfg.MaxRows, v)
		}
	}
	return p, "", nil
}

// bindDocument gives document-views its times: from the start of the first day to the
// start of the day after the last (document-views keeps viewers active before "to").
func bindDocument(s *Server, tenant string, in map[string]string, r *http.Request) (map[string]string, string, error) {
	p := map[string]string{"tenant": tenant, "content": r.PathValue("content"), "limit": strconv.Itoa(s.cfg.MaxRows)}
	// days as beacon keep's document forms give them (schema.KeptEachForms), so that a
	// period's page is served kept: from its first day, up to the start of the day after the last
	if v, ok := in["from"]; ok {
		p["from"] = v
	}
	if v, ok := in["to"]; ok {
		d, _ := time.Parse(time.DateOnly, v)
		p["to"] = d.AddDate(0, 0, 1).Format(time.DateOnly)
	}
	if v, ok := in["partner"]; ok {
		p["partner"] = v
	}
	return p, "", nil
}

var (
	countRE  = regexp.MustCompile(`^[0-9]{1,6}$`)
	cursorRE = regexp.MustCompile(`^[A-Za-z0-9+/]{1,1000}={0,2}$`) // contact-timeline's cursor: base64
)

// checkParams validates the query string against the endpoint's parameters and returns
// them; the error names the parameter.
func checkParams(r *http.Request, allowed []string) (map[string]string, string, error) {
	out := map[string]string{}
	q := r.URL.Query()
	for k, vs := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			if len(allowed) == 0 {
				return nil, k, fmt.Errorf("unknown parameter %q: this endpoint takes none", k)
			}
			return nil, k, fmt.Errorf("unknown parameter %q: this endpoint takes %s", k, strings.Join(allowed, ", "))
		}
		if len(vs) != 1 {
			return nil, k, fmt.Errorf("parameter %q given %d times", k, len(vs))
		}
		v := vs[0]
		if v == "" {
			continue // an empty filter is no filter
		}
		switch k {
		case "from", "to":
			if _, err := time.Parse(time.DateOnly, v); err != nil || len(v) != 10 {
				return nil, k, fmt.Errorf("parameter %q: want a date YYYY-MM-DD, got %q", k, v)
			}
		case "limit", "baseline_weeks", "lookback", "stopped":
			if !countRE.MatchString(v) {
				return nil, k, fmt.Errorf("parameter %q: want a whole number, got %q", k, v)
			}
		case "level":
			if v != "partner" && v != "person" {
				return nil, k, fmt.Errorf("parameter %q: want partner or person, got %q", k, v)
			}
		case "before":
			if !cursorRE.MatchString(v) {
				return nil, k, fmt.Errorf("parameter %q: want the cursor of a row of the previous page, got %q", k, v)
			}
		default:
			if !idRE.MatchString(v) {
				return nil, k, fmt.Errorf("parameter %q: want an id of letters, digits and ._:@/+- (at most 200), got %q", k, v)
			}
		}
		out[k] = v
	}
	if f, t := out["from"], out["to"]; f != "" && t != "" && f > t {
		return nil, "from", fmt.Errorf("parameter \"from\" (%s) is after \"to\" (%s)", f, t)
	}
	return out, "", nil
}

func (s *Server) answer(e endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, k := range pathValues {
			if c := r.PathValue(k); c != "" && !idRE.MatchString(c) {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("%s id %q: want letters, digits and ._:@/+- (at most 200)", k, c), k)
				return
			}
		}
		in, param, err := checkParams(r, append([]string{"format"}, e.params...))
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error(), param)
			return
		}
		format := in["format"]
		delete(in, "format")
		if format != "" && format != "json" && format != "csv" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("parameter \"format\": want json or csv, got %q", format), "format")
			return
		}
		q, err := schema.LookupQuery(e.query)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error(), "")
			return
		}
		params, param, err := e.bind(s, r.PathValue("tenant"), in, r)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error(), param)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.QueryTimeout)
		defer cancel()
		res, err := q.Answer(ctx, s.conn, s.cfg.Database, params, s.cfg.KeptMaxAge)
		if err != nil {
			s.logf("saved query %s: %v", e.query, err)
			var ex *clickhouse.Exception
			if errors.As(err, &ex) {
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "ClickHouse could not answer " + e.query, "query": e.query, "unavailable": e.query})
				return
			}
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "ClickHouse is unavailable", "query": e.query, "unavailable": e.query})
			return
		}
		if format == "csv" {
			// exactly what `beacon query <name> -format csv` prints
			var b bytes.Buffer
			if err := res.Write(&b, "csv"); err != nil {
				writeError(w, http.StatusInternalServerError, err.Error(), "")
				return
			}
			header(w)
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="`+e.query+`.csv"`)
			w.Header().Set("Cache-Control", "no-store")
			w.Write(b.Bytes())
			return
		}
		var rows bytes.Buffer
		if err := res.Write(&rows, "json"); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error(), "")
			return
		}
		out := answer{Query: e.query, Params: map[string]string{}, Columns: res.Columns}
		if out.Columns == nil {
			out.Columns = []string{}
		}
		for _, p := range q.Params {
			v, ok := params[p.Name]
			if !ok {
				v = p.Default
			}
			out.Params[p.Name] = v
		}
		if !res.KeptAt.IsZero() {
			out.KeptAt = &res.KeptAt
		}
		if e.extra != nil {
			e.extra(res, &out)
		}
		if e.query == "document-views" || e.query == "video-viewers" {
			out.Truncated = len(res.Rows) >= s.cfg.MaxRows
		}
		writeAnswer(w, out, rows.Bytes())
	}
}

// writeAnswer writes out as JSON with "rows" last, the rows' JSON as Result.Write made it:
// through encoding/json (a json.RawMessage) they would be checked and compacted again,
// which took as long as writing them.
func writeAnswer(w http.ResponseWriter, out answer, rows []byte) {
	head, err := json.Marshal(out)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	jsonHeader(w, http.StatusOK)
	for _, b := range [][]byte{head[:len(head)-1], []byte(`,"rows":`), bytes.TrimSpace(rows), []byte("}\n")} {
		if _, err := w.Write(b); err != nil {
			return
		}
	}
}

// pageStat is one page of a document: how many viewers reached it (their furthest page
// is this one or later), how many spent time on it, and their time on it.
type pageStat struct {
	Page    int    `json:"page"`
	Reached int    `json:"reached"`
	Viewers int    `json:"viewers"`
	DwellMS uint64 `json:"dwell_ms"`
}

// documentPages computes per-page reach and dwell from document-views' rows.
func documentPages(res *schema.Result, out *answer) {
	col := map[string]int{}
	for i, c := range res.Columns {
		col[c] = i
	}
	iMax, iCount, iDwell := col["max_page"], col["page_count"], col["dwell_ms_by_page"]
	last := 0
	type row struct {
		max   int
		dwell map[int]uint64
	}
	var rows []row
	for _, r := range res.Rows {
		x := row{max: int(toUint(r[iMax])), dwell: map[int]uint64{}}
		last = max(last, x.max, int(toUint(r[iCount])))
		m := reflect.ValueOf(r[iDwell])
		if m.Kind() == reflect.Map {
			for _, k := range m.MapKeys() {
				p := int(toUint(k.Interface()))
				x.dwell[p] = toUint(m.MapIndex(k).Interface())
				last = max(last, p)
			}
		}
		rows = append(rows, x)
	}
	out.Pages = []pageStat{}
	for p := 1; p <= last && p <= 10000; p++ {
		st := pageStat{Page: p}
		for _, x := range rows {
			if x.max >= p {
				st.Reached++
			}
			if d, ok := x.dwell[p]; ok {
				st.Viewers++
				st.DwellMS += d
			}
		}
		out.Pages = append(out.Pages, st)
	}
}

func toUint(v any) uint64 {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if rv.Int() < 0 {
			return 0
		}
		return uint64(rv.Int())
	}
	return 0
}
