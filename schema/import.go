package schema

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"
)

type colKind int

const (
	kString colKind = iota
	kFloat
	kUint
	kDate
	kDecimal
	kTags // "a|b|c" -> Array(String)
)

// dimColumn is one CSV column of a dimension table.
type dimColumn struct {
	name     string
	kind     colKind
	required bool     // must be in the header and non-empty on every line
	oneOf    []string // allowed values when not empty
}

// Dimension describes a dimension table that `beacon import` loads.
type Dimension struct {
	Table   string
	Key     []string // natural key: a file may not repeat it
	columns []dimColumn
}

// Columns lists the CSV header names the table accepts, required ones first marked "*".
func (d Dimension) Columns() []string {
	var out []string
	for _, c := range d.columns {
		if c.required {
			out = append(out, c.name+"*")
		} else {
			out = append(out, c.name)
		}
	}
	return out
}

var contentTypes = []string{"document", "video", "page", "course", "tool", "faq", "link"}

// Dimensions are the tables `beacon import` accepts, in the order they are best loaded.
var Dimensions = []Dimension{
	{Table: "partners", Key: []string{"partner_id"}, columns: []dimColumn{
		{name: "partner_id", required: true}, {name: "name", required: true}, {name: "tier"}, {name: "region"}}},
	{Table: "partner_users", Key: []string{"partner_user_id"}, columns: []dimColumn{
		{name: "partner_user_id", required: true}, {name: "partner_id", required: true}, {name: "name"}, {name: "email"}, {name: "role"}}},
	{Table: "campaigns", Key: []string{"campaign_id"}, columns: []dimColumn{
		{name: "campaign_id", required: true}, {name: "name"}, {name: "starts_on", kind: kDate}, {name: "ends_on", kind: kDate}}},
	{Table: "contents", Key: []string{"content_id"}, columns: []dimColumn{
		{name: "content_id", required: true}, {name: "content_type", required: true, oneOf: contentTypes}, {name: "title"},
		{name: "campaign_id"}, {name: "duration_s", kind: kFloat}, {name: "page_count", kind: kUint}, {name: "tags", kind: kTags}}},
	{Table: "course_assignments", Key: []string{"course_id", "partner_user_id"}, columns: []dimColumn{
		{name: "course_id", required: true}, {name: "partner_user_id", required: true}, {name: "partner_id", required: true},
		{name: "assigned_on", kind: kDate}, {name: "due_on", kind: kDate}}},
	{Table: "deals", Key: []string{"deal_id"}, columns: []dimColumn{
		{name: "deal_id", required: true}, {name: "partner_id", required: true}, {name: "amount", kind: kDecimal, required: true},
		{name: "currency"}, {name: "stage", required: true}, {name: "closed_on", kind: kDate}}},
}

// LookupDimension returns the dimension table called name.
func LookupDimension(name string) (Dimension, error) {
	var names []string
	for _, d := range Dimensions {
		if d.Table == name {
			return d, nil
		}
		names = append(names, d.Table)
	}
	return Dimension{}, fmt.Errorf("no dimension table %q; have %s", name, strings.Join(names, ", "))
}

// ImportOptions says where and how a CSV file is imported.
type ImportOptions struct {
	Database string // default "beacon"
	Tenant   string // required: every row belongs to it
	// MaxErrors is how many bad lines are reported before giving up. Default 20.
	MaxErrors int
	// Now stamps imported_at, the version ReplacingMergeTree keeps the latest of.
	// Default time.Now.
	Now func() time.Time
}

// LineErrors lists the bad lines of a CSV file; nothing was imported.
type LineErrors struct {
	Errs      []string
	Truncated bool
}

func (e *LineErrors) Error() string {
	more := ""
	if e.Truncated {
		more = "\n(more bad lines not shown)"
	}
	return fmt.Sprintf("%d bad line(s), nothing imported:\n%s%s", len(e.Errs), strings.Join(e.Errs, "\n"), more)
}

// Import validates a CSV file (header line naming the columns, in any order) for table d
// and, only if every line is good, inserts it in one batch. Importing the same file again
// replaces the rows (ReplacingMergeTree on the natural key, newest imported_at wins). It
// returns the number of rows imported; a *LineErrors lists the bad lines by number.
func Import(ctx context.Context, conn driver.Conn, d Dimension, r io.Reader, o ImportOptions) (int, error) {
	if o.Database == "" {
		o.Database = "beacon"
	}
	if o.MaxErrors == 0 {
		o.MaxErrors = 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Tenant == "" {
		return 0, errors.New("tenant is required")
	}
	if !identRE.MatchString(o.Database) {
		return 0, fmt.Errorf("database name %q must match %s", o.Database, identRE)
	}
	rows, err := ParseCSV(d, r, o.MaxErrors)
	if err != nil {
		return 0, err
	}
	names := []string{"tenant"}
	for _, c := range d.columns {
		names = append(names, c.name)
	}
	names = append(names, "imported_at")
	batch, err := conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s.%s (%s)", o.Database, d.Table, strings.Join(names, ", ")))
	if err != nil {
		return 0, fmt.Errorf("cannot insert into %s.%s: %w", o.Database, d.Table, err)
	}
	defer batch.Abort()
	now := o.Now().UTC()
	vals := make([]any, 0, len(names))
	for _, row := range rows {
		vals = append(vals[:0], o.Tenant)
		vals = append(vals, row...)
		vals = append(vals, now)
		if err := batch.Append(vals...); err != nil {
			return 0, fmt.Errorf("cannot insert into %s.%s: %w", o.Database, d.Table, err)
		}
	}
	if err := batch.Send(); err != nil {
		return 0, fmt.Errorf("cannot insert into %s.%s: %w", o.Database, d.Table, err)
	}
	return len(rows), nil
}

// ParseCSV reads and validates a CSV file for d, returning one row of typed values per
// line in d's column order (absent optional columns get their zero value).
func ParseCSV(d Dimension, r io.Reader, maxErrors int) ([][]any, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty file: want a header line naming the columns")
	}
	if err != nil {
		return nil, fmt.Errorf("line 1: %w", err)
	}
	pos := make([]int, len(d.columns)) // CSV field of each column, -1 if absent
	for i := range pos {
		pos[i] = -1
	}
	var herrs []string
	for f, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		i := slices.IndexFunc(d.columns, func(c dimColumn) bool { return c.name == h })
		switch {
		case i < 0:
			herrs = append(herrs, fmt.Sprintf("unknown column %q", h))
		case pos[i] >= 0:
			herrs = append(herrs, fmt.Sprintf("column %q given twice", h))
		default:
			pos[i] = f
		}
	}
	for i, c := range d.columns {
		if c.required && pos[i] < 0 {
			herrs = append(herrs, fmt.Sprintf("missing column %q", c.name))
		}
	}
	if len(herrs) > 0 {
		return nil, fmt.Errorf("line 1: bad header for %s: %s; want columns %s (* required)", d.Table, strings.Join(herrs, "; "), strings.Join(d.Columns(), ","))
	}

	var keyCols []int
	for _, k := range d.Key {
		keyCols = append(keyCols, slices.IndexFunc(d.columns, func(c dimColumn) bool { return c.name == k }))
	}
	seen := map[string]int{}
	le := &LineErrors{}
	bad := func(line int, format string, args ...any) bool {
		if len(le.Errs) >= maxErrors {
			le.Truncated = true
			return false
		}
		le.Errs = append(le.Errs, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
		return true
	}
	var rows [][]any
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, fmt.Errorf("cannot read CSV: %w", err)
			}
			if !bad(pe.StartLine, "%v", pe.Err) {
				break
			}
			continue
		}
		row := make([]any, len(d.columns))
		ok := true
		for i, c := range d.columns {
			s := ""
			if pos[i] >= 0 {
				s = strings.TrimSpace(rec[pos[i]])
			}
			v, err := parseField(c, s)
			if err != nil {
				ok = false
				if !bad(line, "column %s: %v", c.name, err) {
					break
				}
				continue
			}
			row[i] = v
		}
		if !ok {
			if le.Truncated {
				break
			}
			continue
		}
		var key strings.Builder
		for _, k := range keyCols {
			key.WriteString(row[k].(string))
			key.WriteByte(0)
		}
		if first, dup := seen[key.String()]; dup {
			if !bad(line, "duplicate %s (first on line %d)", strings.Join(d.Key, "+"), first) {
				break
			}
			continue
		}
		seen[key.String()] = line
		rows = append(rows, row)
	}
	if len(le.Errs) > 0 {
		return nil, le
	}
	return rows, nil
}

func parseField(c dimColumn, s string) (any, error) {
	if s == "" && c.required {
		return nil, errors.New("is empty")
	}
	if s != "" && c.oneOf != nil && !slices.Contains(c.oneOf, s) {
		return nil, fmt.Errorf("%q is not one of %s", s, strings.Join(c.oneOf, ", "))
	}
	switch c.kind {
	case kFloat:
		if s == "" {
			return float32(0), nil
		}
		f, err := strconv.ParseFloat(s, 32)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%q is not a non-negative number", s)
		}
		return float32(f), nil
	case kUint:
		if s == "" {
			return uint32(0), nil
		}
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		return uint32(n), nil
	case kDate:
		if s == "" {
			return time.Unix(0, 0).UTC(), nil
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil || t.Year() < 1970 || t.Year() > 2148 {
			return nil, fmt.Errorf("%q is not a date YYYY-MM-DD between 1970 and 2148", s)
		}
		return t, nil
	case kDecimal:
		v, err := decimal.NewFromString(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		if v.Abs().GreaterThanOrEqual(decimal.New(1, 16)) || !v.Equal(v.Round(2)) {
			return nil, fmt.Errorf("%q does not fit Decimal(18, 2)", s)
		}
		return v, nil
	case kTags:
		var tags []string
		for _, t := range strings.Split(s, "|") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
		if tags == nil {
			tags = []string{}
		}
		return tags, nil
	}
	return s, nil
}
