package block

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/ingest/internal/testmsg"
	"github.com/beaconprm/beacon/internal/jsontext"
	"github.com/google/uuid"
)

func TestDecodeFull(t *testing.T) {
	var d Decoder
	var r Row
	if err := d.Decode(testmsg.Event(1), &r); err != nil {
		t.Fatal(err)
	}
	wantTime := time.Date(2026, 11, 23, 9, 59, 59, 900e6, time.UTC).UnixMilli()
	if r.eventTime != wantTime || r.page != 3 || r.scrollDepth != 75 || r.contentTitle != `Price list "2026"` ||
		r.eventID != uuid.NewSHA1(uuid.NameSpaceOID, []byte("1")) || r.device != "desktop" || r.props != nil {
		t.Fatalf("decoded %+v", r)
	}
}

func TestDecode(t *testing.T) {
	const base = `"event_id":"0b6a3c1e-8d8f-4c1a-9d55-2f1a4c7e9b10","received_at":"2026-11-23 10:00:00","event_time":"2026-11-23 10:00:00"`
	ok := func(extra string, check func(r *Row) bool) {
		t.Helper()
		var d Decoder
		var r Row
		in := "{" + base + extra + "}"
		if err := d.Decode([]byte(in), &r); err != nil {
			t.Fatalf("decode(%s): %v", in, err)
		}
		if !check(&r) {
			t.Fatalf("decode(%s) = %+v", in, r)
		}
	}
	ok(``, func(r *Row) bool { return r.page == 0 && r.url == "" && r.props == nil })
	ok(`,"page":7.0,"is_bot":true`, func(r *Row) bool { return r.page == 7 && r.isBot == 1 })
	ok(`,"url":null,"page":null`, func(r *Row) bool { return r.url == "" && r.page == 0 })
	ok(`,"name":"caf\u00e9 \ud83d\ude00 a\/b\n"`, func(r *Row) bool { return r.name == "café 😀 a/b\n" })
	ok(`,"watched_start":[0, 12.5],"watched_end":[12.5,20]`, func(r *Row) bool {
		return len(r.watchedStart) == 2 && r.watchedStart[1] == 12.5 && r.watchedEnd[1] == 20
	})
	ok(`,"props":{"plan":"pro","x":""}`, func(r *Row) bool { return r.props["plan"] == "pro" && len(r.props) == 2 })
	ok(`,"future_column":{"a":[1,{"b":null}],"c":"d"},"rate":1.25`, func(r *Row) bool { return r.rate == 1.25 })
	ok(`,"client_time":"2026-11-23T10:00:00.123456Z"`, func(r *Row) bool {
		return r.clientTime == time.Date(2026, 11, 23, 10, 0, 0, 123e6, time.UTC).UnixMilli()
	})
	ok(`,"client_time":"2024-02-29 23:59:59.5"`, func(r *Row) bool {
		return r.clientTime == time.Date(2024, 2, 29, 23, 59, 59, 500e6, time.UTC).UnixMilli()
	})
	ok(`,"client_time":"1969-12-31 23:59:59.000"`, func(r *Row) bool { return r.clientTime == -1000 })

	bad := func(in, wantKind string) {
		t.Helper()
		var d Decoder
		var r Row
		err := d.Decode([]byte(in), &r)
		de, isDE := err.(*DecodeError)
		if err == nil || !isDE || de.kind != wantKind {
			t.Fatalf("decode(%s) = %v, want a %s error", in, err, wantKind)
		}
	}
	bad(``, "json")
	bad(`[]`, "json")
	bad(`{`+base, "json")
	bad(`{`+base+`} x`, "json")
	bad(`{`+base+`,"page":"3"}`, "field")
	bad(`{`+base+`,"page":-1}`, "field")
	bad(`{`+base+`,"page":4294967296}`, "field")
	bad(`{`+base+`,"scroll_depth":256}`, "field")
	bad(`{`+base+`,"page":1.5}`, "field")
	bad(`{`+base+`,"rate":1e999}`, "field")
	bad(`{`+base+`,"url":3}`, "field")
	bad(`{`+base+`,"props":{"a":1}}`, "field")
	bad(`{`+base+`,"is_bot":2}`, "field")
	bad(`{`+base+`,"watched_start":[1,"x"]}`, "field")
	bad(`{`+base+`,"name":"a`+"\x01"+`"}`, "json")
	bad(`{"received_at":"2026-11-23 10:00:00","event_time":"2026-11-23 10:00:00"}`, "missing")
	bad(`{"event_id":"0b6a3c1e-8d8f-4c1a-9d55-2f1a4c7e9b10","event_time":"2026-11-23 10:00:00"}`, "missing")
	bad(`{"event_id":"not-a-uuid","received_at":"2026-11-23 10:00:00","event_time":"2026-11-23 10:00:00"}`, "field")
	for _, ts := range []string{"2026-02-30 10:00:00", "2026-11-23 24:00:00", "2026-11-23", "2026-11-23 10:00:00.", "1800-01-01 00:00:00", "2026/11/23 10:00:00"} {
		bad(`{"event_id":"0b6a3c1e-8d8f-4c1a-9d55-2f1a4c7e9b10","received_at":"`+ts+`","event_time":"2026-11-23 10:00:00"}`, "field")
	}
}

// TestDecodeMatchesEncodingJSON cross-checks string unescaping against the standard library.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"plain", "tab\there", `quote"back\slash`, "日本語", "emoji 😀", "<&>", "\u2028"} {
		enc, _ := json.Marshal(s)
		var d Decoder
		var r Row
		in := `{"event_id":"0b6a3c1e-8d8f-4c1a-9d55-2f1a4c7e9b10","received_at":"2026-11-23 10:00:00","event_time":"2026-11-23 10:00:00","url":` + string(enc) + `}`
		if err := d.Decode([]byte(in), &r); err != nil || r.url != s {
			t.Fatalf("decode url %s = %q, %v; want %q", enc, r.url, err, s)
		}
	}
}

// TestDecodeStringsSurviveArenaGrowth checks that strings handed out before the arena
// moved to a new chunk keep their contents.
func TestDecodeStringsSurviveArenaGrowth(t *testing.T) {
	var d Decoder
	var c Columns
	var r Row
	for i := range 5000 {
		if err := d.Decode(testmsg.Event(i), &r); err != nil {
			t.Fatal(err)
		}
		c.Append(&r)
	}
	for i := range 5000 {
		if want := fmt.Sprintf("v-%d", i%1000); c.visitorID[i] != want || c.userAgent[i] != "Mozilla/5.0 (X11; Linux x86_64)" {
			t.Fatalf("row %d: visitor %q, want %q", i, c.visitorID[i], want)
		}
	}
	if strings.Count(strings.Join(c.url, ""), "example.com") != 5000 {
		t.Fatal("urls corrupted")
	}
}

// strBytewise is parser.str as it was before it read eight bytes at a time: the reference.
func strBytewise(b []byte) (raw []byte, escaped bool, end int, ok bool) {
	i := 1
	for i < len(b) {
		switch c := b[i]; {
		case c == '"':
			return b[1:i], escaped, i + 1, true
		case c == '\\':
			escaped = true
			i += 2
		case c < 0x20:
			return nil, false, 0, false
		default:
			i++
		}
	}
	return nil, false, 0, false
}

// TestStrWordAtATime: the eight-bytes-at-a-time scan agrees with a byte-by-byte one for
// every placement of the bytes that end a run (quote, backslash, control characters, bytes
// just above and below them, UTF-8) at every offset within a word.
func TestStrWordAtATime(t *testing.T) {
	alphabet := []byte{'a', '"', '\\', 0x00, 0x1f, 0x20, 0x21, '#', '[', ']', 0x5b, 0x5d, 0x7f, 0x80, 0xc3, 0xa9, 0xff}
	rnd := rand.New(rand.NewPCG(1, 2))
	for n := range 200000 {
		in := make([]byte, 1+rnd.IntN(40))
		in[0] = '"'
		for i := 1; i < len(in); i++ {
			in[i] = 'x'
			if rnd.IntN(6) == 0 {
				in[i] = alphabet[rnd.IntN(len(alphabet))]
			}
		}
		wantRaw, wantEsc, wantEnd, wantOK := strBytewise(in)
		p := parser{jsontext.Cursor{Buf: in}}
		raw, esc, err := p.str()
		if (err == nil) != wantOK || string(raw) != string(wantRaw) || esc != wantEsc || (wantOK && p.Pos != wantEnd) {
			t.Fatalf("case %d %q: got %q %v %v at %d, want %q %v ok=%v at %d", n, in, raw, esc, err, p.Pos, wantRaw, wantEsc, wantOK, wantEnd)
		}
	}
}

// TestDecodeKeyOrderGuess: the decoder guesses each key from the order of the last message;
// a wrong guess, a key the guess is a prefix of, an escaped key or an unknown one in between
// must decode as if there were no guess.
func TestDecodeKeyOrderGuess(t *testing.T) {
	const id = `"event_id":"0b6a3c1e-8d8f-4c1a-9d55-2f1a4c7e9b10","received_at":"2026-11-23 10:00:00","event_time":"2026-11-23 10:00:00"`
	var d Decoder
	var r Row
	msgs := []struct {
		in              string
		page, pageCount uint32
	}{
		{`{` + id + `,"page":1,"page_count":2}`, 1, 2},
		{`{` + id + `,"page_count":3,"page":4}`, 4, 3},
		{`{` + id + `,"page":5,"x":{"page":9},"page_count":6}`, 5, 6},
		{`{` + id + `,"pa\u0067e":7,"page_counter":1,"page_count":8}`, 7, 8},
		{`{"page_count":10,` + id + `,"page":9}`, 9, 10},
		{`{` + id + `,"page":1,"page_count":2}`, 1, 2},
	}
	for _, m := range msgs {
		if err := d.Decode([]byte(m.in), &r); err != nil {
			t.Fatalf("%s: %v", m.in, err)
		}
		if r.page != m.page || r.pageCount != m.pageCount || !r.haveID || !r.haveEventTime {
			t.Fatalf("%s: page %d, page_count %d", m.in, r.page, r.pageCount)
		}
	}
}

// TestParseUUID agrees with github.com/google/uuid on the canonical form, with a byte
// changed anywhere to anything.
func TestParseUUID(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for n := range 100000 {
		in := []byte(uuid.NewSHA1(uuid.NameSpaceOID, fmt.Append(nil, n)).String())
		if n%3 == 0 {
			in = bytes.ToUpper(in)
		}
		if n%2 == 0 {
			in[rnd.IntN(len(in))] = byte(rnd.IntN(256))
		}
		want, werr := uuid.ParseBytes(in)
		var got [16]byte
		if ok := parseUUID(in, &got); ok != (werr == nil) || ok && got != want {
			t.Fatalf("%q: parseUUID %v %x, uuid.ParseBytes %v %x", in, ok, got, werr, want)
		}
	}
}
