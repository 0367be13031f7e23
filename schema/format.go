package schema

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/beaconprm/beacon/internal/jsontext"
)

// Formats lists the output formats of Write.
var Formats = []string{"table", "csv", "json"}

// Write prints r as an aligned text table, CSV with a header line, or a JSON array of
// objects whose keys keep the column order.
func (r *Result) Write(w io.Writer, format string) error {
	switch format {
	case "table":
		return r.writeTable(w)
	case "csv":
		return r.writeCSV(w)
	case "json":
		return r.writeJSON(w)
	default:
		return fmt.Errorf("unknown format %q; want one of %s", format, strings.Join(Formats, ", "))
	}
}

func (r *Result) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(r.Columns, "\t"))
	for _, row := range r.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(text(v))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func (r *Result) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.Columns); err != nil {
		return err
	}
	cells := make([]string, len(r.Columns))
	for _, row := range r.Rows {
		for i, v := range row {
			cells[i] = text(v)
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (r *Result) writeJSON(w io.Writer) error {
	keys := make([][]byte, len(r.Columns))
	for i, c := range r.Columns {
		keys[i] = append(jsontext.AppendString(nil, c), ':')
	}
	b := make([]byte, 0, 64*len(r.Rows)*max(1, len(r.Columns))+4)
	b = append(b, '[')
	for n, row := range r.Rows {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n', '{')
		for i, v := range row {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, keys[i]...)
			var err error
			if b, err = appendJSON(b, reflect.ValueOf(v)); err != nil {
				return fmt.Errorf("column %s: %w", r.Columns[i], err)
			}
		}
		b = append(b, '}')
	}
	b = append(b, "\n]\n"...)
	_, err := w.Write(b)
	return err
}

// appendJSON appends v as JSON, the values a saved query's rows hold written directly (a
// large answer is most of the console's time otherwise): NaN and infinities as null, times
// RFC 3339 with milliseconds in UTC, nil pointers null, maps as objects (keys as text,
// sorted), slices and arrays as arrays, strings as the pipeline writes them
// (jsontext.AppendString), numbers as encoding/json writes them; anything else through
// encoding/json (TestAppendJSON holds it to the values encoding/json's output reads back as).
func appendJSON(b []byte, v reflect.Value) ([]byte, error) {
	if !v.IsValid() {
		return append(b, "null"...), nil
	}
	if k := v.Kind(); k < reflect.Kind(len(plainTypes)) && plainTypes[k] != nil && v.Type() == plainTypes[k] {
		// the unnamed basic types, most of the values: no methods to look for
		switch k {
		case reflect.String:
			return jsontext.AppendString(b, v.String()), nil
		case reflect.Bool:
			return strconv.AppendBool(b, v.Bool()), nil
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return strconv.AppendInt(b, v.Int(), 10), nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return strconv.AppendUint(b, v.Uint(), 10), nil
		case reflect.Float32, reflect.Float64:
			return appendJSONFloat(b, v.Float()), nil
		}
	}
	if v.Type() == timeType {
		return jsontext.AppendString(b, v.Interface().(time.Time).UTC().Format("2006-01-02T15:04:05.000Z")), nil
	}
	if v.Type().Implements(marshalerType) {
		return appendMarshal(b, v.Interface())
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return append(b, "null"...), nil
		}
		return appendJSON(b, v.Elem())
	case reflect.Float32, reflect.Float64:
		return appendJSONFloat(b, v.Float()), nil
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return jsontext.AppendString(b, v.Bytes()), nil
		}
		b = append(b, '[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, v.Index(i)); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case reflect.Map:
		type entry struct {
			key string
			val reflect.Value
		}
		es := make([]entry, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			es = append(es, entry{fmt.Sprint(it.Key().Interface()), it.Value()})
		}
		sort.Slice(es, func(i, j int) bool { return es[i].key < es[j].key })
		b = append(b, '{')
		for i, e := range es {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(jsontext.AppendString(b, e.key), ':')
			var err error
			if b, err = appendJSON(b, e.val); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	return appendMarshal(b, v.Interface()) // a named type may marshal itself
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	// plainTypes[k] is the unnamed type of basic kind k (string, bool, the numbers)
	plainTypes = func() []reflect.Type {
		t := make([]reflect.Type, reflect.String+1)
		for _, v := range []any{"", false, int(0), int8(0), int16(0), int32(0), int64(0),
			uint(0), uint8(0), uint16(0), uint32(0), uint64(0), float32(0), float64(0)} {
			t[reflect.TypeOf(v).Kind()] = reflect.TypeOf(v)
		}
		return t
	}()
)

func appendMarshal(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	return append(b, j...), err
}

// appendJSONFloat writes f as encoding/json writes a float64; NaN and infinities as null.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-07 as e-7
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// text renders one value for the table and CSV formats.
func text(v any) string {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return ""
	}
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format("2006-01-02 15:04:05.000")
	}
	if s, ok := v.(fmt.Stringer); ok && rv.Kind() != reflect.Pointer {
		return s.String()
	}
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return ""
		}
		return text(rv.Elem().Interface())
	case reflect.Float32, reflect.Float64:
		return fmt.Sprint(v)
	case reflect.Slice, reflect.Array:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = text(rv.Index(i).Interface())
		}
		return "[" + strings.Join(parts, ",") + "]"
	case reflect.Map:
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return lessValue(keys[i], keys[j]) })
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = text(k.Interface()) + ":" + text(rv.MapIndex(k).Interface())
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprint(v)
}

func lessValue(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() < b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return a.Uint() < b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() < b.Float()
	}
	return fmt.Sprint(a.Interface()) < fmt.Sprint(b.Interface())
}
