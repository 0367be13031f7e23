package schema

import (
	"bufio"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

//go:embed queries/*.sql
var queryFS embed.FS

// SavedQuery is one file of queries/: a question answered with ClickHouse server-side
// query parameters ({name:Type}), documented by its leading comment.
type SavedQuery struct {
	Name   string // file name without .sql, e.g. "document-views"
	Doc    string // the leading comment, without "-- " and the @param lines
	Params []Param
	SQL    string // the text, with {db} not yet substituted
}

// Param is one parameter of a saved query, declared in its header as
// "-- @param name[ = default][: description]".
type Param struct {
	Name, Type, Default, Doc string
	Optional                 bool // has a default
}

var (
	paramUseRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z0-9_(), ']+)\}`)
	// The description follows ": " (a colon and a space), so a default may hold colons:
	// "-- @param from = 1970-01-01 00:00:00: keep viewers active at or after this time".
	paramDeclRE = regexp.MustCompile(`^--\s*@param\s+([A-Za-z_][A-Za-z0-9_]*)\s*(=\s*(.*?))?\s*(:\s+(.*)|:)?$`)
)

// SavedQueries returns every embedded saved query, sorted by name.
func SavedQueries() ([]SavedQuery, error) {
	entries, err := fs.ReadDir(queryFS, "queries")
	if err != nil {
		return nil, fmt.Errorf("cannot list saved queries: %w", err)
	}
	var qs []SavedQuery
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(queryFS, "queries/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("cannot read saved query %q: %w", e.Name(), err)
		}
		q, err := parseSavedQuery(strings.TrimSuffix(e.Name(), ".sql"), string(b))
		if err != nil {
			return nil, err
		}
		qs = append(qs, q)
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i].Name < qs[j].Name })
	return qs, nil
}

// LookupQuery returns the saved query called name.
func LookupQuery(name string) (SavedQuery, error) {
	qs, err := SavedQueries()
	if err != nil {
		return SavedQuery{}, err
	}
	var names []string
	for _, q := range qs {
		if q.Name == name {
			return q, nil
		}
		names = append(names, q.Name)
	}
	return SavedQuery{}, fmt.Errorf("no saved query %q; have %s", name, strings.Join(names, ", "))
}

func parseSavedQuery(name, text string) (SavedQuery, error) {
	q := SavedQuery{Name: name, SQL: text}
	declared := map[string]int{}
	var doc []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "--") {
			break
		}
		if m := paramDeclRE.FindStringSubmatch(line); m != nil {
			declared[m[1]] = len(q.Params)
			q.Params = append(q.Params, Param{Name: m[1], Default: strings.TrimSpace(m[3]), Optional: m[2] != "", Doc: strings.TrimSpace(m[5])})
			continue
		}
		doc = append(doc, strings.TrimSpace(strings.TrimPrefix(line, "--")))
	}
	q.Doc = strings.Join(doc, "\n")
	for _, m := range paramUseRE.FindAllStringSubmatch(text, -1) {
		i, ok := declared[m[1]]
		if !ok {
			return q, fmt.Errorf("saved query %s uses {%s:%s} without a -- @param %s line", name, m[1], m[2], m[1])
		}
		if t := q.Params[i].Type; t != "" && t != m[2] {
			return q, fmt.Errorf("saved query %s uses parameter %s as both %s and %s", name, m[1], t, m[2])
		}
		q.Params[i].Type = m[2]
	}
	for _, p := range q.Params {
		if p.Type == "" {
			return q, fmt.Errorf("saved query %s declares @param %s but never uses it", name, p.Name)
		}
	}
	return q, nil
}

// Bind checks given against q's parameters, fills defaults, and returns the SQL for
// database db with the parameter values to send to the server.
func (q SavedQuery) Bind(db string, given map[string]string) (string, clickhouse.Parameters, error) {
	params := clickhouse.Parameters{}
	known := map[string]bool{}
	var missing []string
	for _, p := range q.Params {
		known[p.Name] = true
		v, ok := given[p.Name]
		switch {
		case ok:
			params[p.Name] = v
		case p.Optional:
			params[p.Name] = p.Default
		default:
			missing = append(missing, p.Name)
		}
	}
	for k := range given {
		if !known[k] {
			return "", nil, fmt.Errorf("saved query %s has no parameter %q; it takes %s", q.Name, k, q.paramNames())
		}
	}
	if len(missing) > 0 {
		return "", nil, fmt.Errorf("saved query %s needs -param %s=...", q.Name, strings.Join(missing, "=... -param "))
	}
	if !identRE.MatchString(db) {
		return "", nil, fmt.Errorf("database name %q must match %s", db, identRE)
	}
	return strings.ReplaceAll(q.SQL, "{db}", db), params, nil
}

func (q SavedQuery) paramNames() string {
	var s []string
	for _, p := range q.Params {
		s = append(s, p.Name)
	}
	return strings.Join(s, ", ")
}

// Result is a saved query's answer: column names and types, and rows of Go values as the
// driver scans them (string, numbers, time.Time, maps, slices, decimals, pointers for
// Nullable columns).
type Result struct {
	Columns []string
	Types   []string
	Rows    [][]any
	// KeptAt is when the answer was computed, when it is a kept answer (Answer); zero when
	// it was computed for this call.
	KeptAt time.Time
}

// Run runs saved query q on database db with the given parameter values. Values are sent
// as server-side query parameters, never spliced into the SQL text.
func (q SavedQuery) Run(ctx context.Context, conn driver.Conn, db string, given map[string]string) (*Result, error) {
	sql, params, err := q.Bind(db, given)
	if err != nil {
		return nil, err
	}
	// On a cluster, a subquery or joined table read through a Distributed table is read
	// whole, through that Distributed table, by each shard (distributed_product_mode =
	// 'allow'): the answer is then the single node's whatever the tables' sharding keys,
	// at the cost of reading it once per shard. ('global' would read it once, but this
	// server version fails with it on several saved queries: "Invalid local IN function
	// name globalIn", and an unresolved identifier in stitching's join.) Without
	// Distributed tables the setting changes nothing.
	ctx = clickhouse.Context(ctx, clickhouse.WithParameters(params), clickhouse.WithSettings(runSettings))
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("saved query %s: %w", q.Name, err)
	}
	defer rows.Close()
	res, err := scanAll(rows)
	if err != nil {
		return nil, fmt.Errorf("saved query %s: %w", q.Name, err)
	}
	return res, nil
}

// scanAll reads every row into Go values of the driver's scan types.
func scanAll(rows driver.Rows) (*Result, error) {
	res := &Result{Columns: rows.Columns()}
	cts := rows.ColumnTypes()
	for _, ct := range cts {
		res.Types = append(res.Types, ct.DatabaseTypeName())
	}
	// One destination per column, reused for every row: each row's values are copied out
	// of it (Interface copies), so only the copies are allocated per row.
	ptrs := make([]any, len(cts))
	elems := make([]reflect.Value, len(cts))
	dates := make([]bool, len(cts))
	for i, ct := range cts {
		p := reflect.New(ct.ScanType())
		ptrs[i], elems[i], dates[i] = p.Interface(), p.Elem(), isDate[res.Types[i]]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("cannot read row: %w", err)
		}
		row := make([]any, len(ptrs))
		for i, e := range elems {
			row[i] = e.Interface()
			if dates[i] {
				row[i] = dateOnly(row[i])
			}
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}

// ViewName is the name of the parameterized view that serves saved query name to BI
// tools: "document-views" -> "q_document_views".
func ViewName(name string) string {
	return "q_" + strings.ReplaceAll(name, "-", "_")
}

// RenderQueryViews returns the statements that (re)create one parameterized view per saved
// query, {db}.q_<name>, so a BI tool that can pass parameters gets exactly the saved
// query's answer, e.g. SELECT * FROM beacon.q_video_retention(tenant='acme',
// content='vid-1', lookback=30). A parameterized view takes every parameter; the saved
// query's defaults do not apply.
func RenderQueryViews(o Options) ([]string, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.WithDefaults()
	qs, err := SavedQueries()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, q := range qs {
		s := fmt.Sprintf("CREATE OR REPLACE VIEW %s.%s AS\n%s", o.Database, ViewName(q.Name), strings.TrimSpace(strings.ReplaceAll(q.SQL, "{db}", o.Database)))
		if o.Cluster != "" {
			cs, err := clusterize(s, o, nil, nil)
			if err != nil {
				return nil, err
			}
			s = cs[0]
		}
		out = append(out, s)
	}
	return out, nil
}

var isDate = map[string]bool{"Date": true, "Date32": true, "Nullable(Date)": true, "Nullable(Date32)": true}

// dateOnly prints a Date column as a date, not as a midnight timestamp.
func dateOnly(v any) any {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Format(time.DateOnly)
	case *time.Time:
		if t == nil {
			return nil
		}
		return t.UTC().Format(time.DateOnly)
	}
	return v
}
