package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// referenceJSON is what the JSON format wrote before appendJSON: each value made encodable
// (NaN and infinities null, times RFC 3339 with milliseconds, maps keyed by their text),
// then encoding/json.
func referenceJSON(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if t, ok := v.Interface().(time.Time); ok {
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if m, ok := v.Interface().(json.Marshaler); ok {
		return m
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return referenceJSON(v.Elem())
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return f
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return string(v.Bytes())
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = referenceJSON(v.Index(i))
		}
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for _, k := range v.MapKeys() {
			out[fmt.Sprint(k.Interface())] = referenceJSON(v.MapIndex(k))
		}
		return out
	}
	return v.Interface()
}

// appendJSON writes every kind of value a saved query's row holds as JSON that reads back
// as what encoding/json wrote before: the same values, numbers to the digit (the console's
// and `beacon query -format json`'s answers mean what they did; strings are escaped as the
// rest of the pipeline escapes them, so <, > and & are no longer \u003c and the like).
func TestAppendJSON(t *testing.T) {
	type label string
	s := "x"
	var nilMap map[string]uint64
	values := []any{
		nil, "", "plain", `quote " backslash \ slash /`, "<b>&amp;</b>", "tab\tnew\nline\rcr\bbs\fff\x00\x1f\x7f",
		"日本語のタイトル", "line\u2028sep\u2029para", "bad \xff utf-8 \xc3", "emoji 😀",
		true, false, int8(-8), int16(-16), int32(-32), int64(math.MinInt64), uint8(255), uint16(65535), uint32(1 << 31),
		uint64(math.MaxUint64), 0,
		0.0, math.Copysign(0, -1), 1.5, -2.25, 0.1, float32(0.1), 1e20, 1e21, 1.234e21, 1e-6, 1e-7, 9.99e-7, -3e-9, 123456789.125,
		math.NaN(), math.Inf(1), math.Inf(-1), float32(3.4e38),
		time.Date(2026, 12, 5, 10, 4, 5, 6e6, time.FixedZone("JST", 9*3600)), time.Time{},
		&s, (*string)(nil), []string{}, []string(nil), []string{"a", "b<"}, [][]uint32{{1, 2}, {}},
		[]byte("bytes"), [2]int64{-1, 1}, []any{"a", 1.5, nil, math.NaN()},
		map[uint32]uint64{2: 20, 1: 10, 10: 100}, map[string]float64{"b": math.NaN(), "a": 1}, nilMap,
		map[string][]string{"k": {"v"}}, []map[uint8]string{{3: "c", 1: "a"}},
		label("named"), uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), decimal.RequireFromString("12.3400"),
		struct {
			A string
			B uint64 `json:"b"`
		}{"a", 2},
		[]any{[]any{"nested", []float64{0.5}}},
	}
	for _, v := range values {
		want, err := json.Marshal(referenceJSON(reflect.ValueOf(v)))
		if err != nil {
			t.Fatalf("%#v: reference: %v", v, err)
		}
		got, err := appendJSON(nil, reflect.ValueOf(v))
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		if !json.Valid(got) || !reflect.DeepEqual(decodeJSON(t, got), decodeJSON(t, want)) {
			t.Errorf("%#v:\ngot  %s\nwant %s", v, got, want)
		}
	}
}

// decodeJSON reads b with numbers kept as their text.
func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return v
}
