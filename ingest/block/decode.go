// Package block turns the collector's normalized event messages (the Kafka values of
// beacon.events: one JSON object per event, keys = the raw table's columns, beacon/event)
// into the raw table's columns, ready to be appended to a ClickHouse insert block. A
// Decoder reads one message into a Row without reflection; Columns collects the rows of a
// batch column by column, in the Go types clickhouse-go appends without per-row conversion.
// Nothing here talks to Kafka or ClickHouse: package ingest reads the messages, sends
// Columns.Values as one insert, and sends what Decode refuses to the dead-letter topic.
package block

import (
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/beaconprm/beacon/beacon/event"
	"github.com/beaconprm/beacon/internal/jsontext"
)

// DecodeError says why a message cannot become a row. Its text goes into the dead-letter
// header; Kind is the low-cardinality label of ingest_dlq_messages_total.
type DecodeError struct {
	kind  string // "json", "field" or "missing"
	field string
	msg   string
}

func (e *DecodeError) Error() string {
	if e.field == "" {
		return e.kind + ": " + e.msg
	}
	return e.kind + ": " + e.field + ": " + e.msg
}

// Kind says what is wrong with the message: "json" (not a well-formed JSON object),
// "field" (a value of the wrong type or out of range) or "missing" (no event_id,
// received_at or event_time).
func (e *DecodeError) Kind() string { return e.kind }

func jsonErr(msg string) error         { return &DecodeError{kind: "json", msg: msg} }
func fieldErr(field, msg string) error { return &DecodeError{kind: "field", field: field, msg: msg} }

// Decoder turns one Kafka message (a JSON object whose keys are the raw table's columns)
// into a Row without reflection. Strings are copied into its arena, so the message buffer
// may be reused once Decode returns. The zero value is ready to use. Not safe for
// concurrent use.
type Decoder struct {
	arena  arena
	floats []float32 // scratch for arrays
	key    []byte    // scratch for escaped keys
	// follows[k] is the column (index in event.Columns) whose key came after column k's in
	// the last message, follows[len] the first key's: the collector writes its keys in one
	// order, so the next key is checked against that guess before it is scanned.
	follows [len(event.Columns) + 1]uint8
	// checkOnly: parse and check every value as Decode does, keep only the event id (no
	// string copies, maps or arrays). Set by DecodeID.
	checkOnly bool
}

// quotedKeys are the columns' keys as they appear in a message, quotes included.
var quotedKeys = func() (q [len(event.Columns)]string) {
	for i, c := range event.Columns {
		q[i] = `"` + c.Name + `"`
	}
	return q
}()

// columnIndex finds a column by key; -1 for an unknown key.
var columnIndex = func() map[string]int {
	m := make(map[string]int, len(event.Columns))
	for i, c := range event.Columns {
		m[c.Name] = i
	}
	return m
}()

// maxDepth bounds nesting inside unknown fields that are skipped.
const maxDepth = 32

// Decode fills r from data. Missing columns keep their zero value, as JSONEachRow does,
// except event_id, received_at and event_time, without which a row is meaningless.
// Unknown keys are skipped so that the producer may add columns before the table has them.
// Every error it returns is a *DecodeError.
func (d *Decoder) Decode(data []byte, r *Row) error {
	*r = Row{}
	p := parser{jsontext.Cursor{Buf: data}}
	p.WS()
	if !p.Eat('{') {
		return jsonErr("message is not a JSON object")
	}
	p.WS()
	if !p.Eat('}') {
		prev := len(event.Columns)
		for {
			p.WS()
			var key []byte
			col := -1
			if guess := quotedKeys[d.follows[prev]]; len(p.Buf)-p.Pos >= len(guess) && string(p.Buf[p.Pos:p.Pos+len(guess)]) == guess {
				// The guess is a whole string: its closing quote is the first one.
				col = int(d.follows[prev])
				p.Pos += len(guess)
				key = p.Buf[p.Pos-len(guess)+1 : p.Pos-1]
			} else {
				raw, escaped, err := p.str()
				if err != nil {
					return err
				}
				key = raw
				if escaped {
					d.key = appendUnescaped(d.key[:0], raw)
					key = d.key
				}
				if i, ok := columnIndex[string(key)]; ok {
					col = i
					d.follows[prev] = uint8(i)
				}
			}
			if col >= 0 {
				prev = col
			}
			p.WS()
			if !p.Eat(':') {
				return jsonErr("expected ':' after key")
			}
			p.WS()
			if p.null() {
				// null means the column's default, like a missing key.
			} else if err := d.field(&p, key, r); err != nil {
				return err
			}
			p.WS()
			if p.Eat(',') {
				continue
			}
			if p.Eat('}') {
				break
			}
			return jsonErr("expected ',' or '}' in object")
		}
	}
	p.WS()
	if p.Pos != len(p.Buf) {
		return jsonErr("trailing data after object")
	}
	switch {
	case !r.haveID:
		return &DecodeError{kind: "missing", field: "event_id", msg: "required"}
	case !r.haveReceivedAt:
		return &DecodeError{kind: "missing", field: "received_at", msg: "required"}
	case !r.haveEventTime:
		return &DecodeError{kind: "missing", field: "event_time", msg: "required"}
	}
	return nil
}

// DecodeID says what Decode would say of data and returns the event id in r, without
// keeping the rest of the row: the dedup window's warm-up needs only the ids of the messages
// Decode accepts (ingest/dedup.go).
func (d *Decoder) DecodeID(data []byte, r *Row) (err error) {
	d.checkOnly = true
	err = d.Decode(data, r)
	d.checkOnly = false
	return err
}

// field decodes the value of one key into r.
func (d *Decoder) field(p *parser, key []byte, r *Row) (err error) {
	switch string(key) {
	case "event_id":
		raw, _, err := p.str()
		if err != nil {
			return err
		}
		if !parseUUID(raw, (*[16]byte)(&r.eventID)) {
			return fieldErr("event_id", "not a UUID")
		}
		r.haveID = true
		return nil
	case "tenant":
		r.tenant, err = d.text(p)
	case "site_key":
		r.siteKey, err = d.text(p)
	case "received_at":
		r.receivedAt, err = d.time(p, "received_at")
		r.haveReceivedAt = err == nil
	case "event_time":
		r.eventTime, err = d.time(p, "event_time")
		r.haveEventTime = err == nil
	case "client_time":
		r.clientTime, err = d.time(p, "client_time")
	case "type":
		r.typ, err = d.text(p)
	case "visitor_id":
		r.visitorID, err = d.text(p)
	case "session_id":
		r.sessionID, err = d.text(p)
	case "partner_id":
		r.partnerID, err = d.text(p)
	case "partner_user_id":
		r.partnerUserID, err = d.text(p)
	case "campaign_id":
		r.campaignID, err = d.text(p)
	case "attribution":
		r.attribution, err = d.text(p)
	case "content_id":
		r.contentID, err = d.text(p)
	case "content_type":
		r.contentType, err = d.text(p)
	case "content_title":
		r.contentTitle, err = d.text(p)
	case "url":
		r.url, err = d.text(p)
	case "referrer":
		r.referrer, err = d.text(p)
	case "page":
		r.page, err = d.uint32(p, "page")
	case "page_count":
		r.pageCount, err = d.uint32(p, "page_count")
	case "dwell_ms":
		r.dwellMs, err = d.uint32(p, "dwell_ms")
	case "scroll_depth":
		var v uint64
		v, err = d.uint(p, "scroll_depth", math.MaxUint8)
		r.scrollDepth = uint8(v)
	case "engaged_ms":
		r.engagedMs, err = d.uint32(p, "engaged_ms")
	case "action":
		r.action, err = d.text(p)
	case "position":
		r.position, err = d.float32(p, "position")
	case "duration":
		r.duration, err = d.float32(p, "duration")
	case "rate":
		r.rate, err = d.float32(p, "rate")
	case "watched_start":
		r.watchedStart, err = d.floatArray(p, "watched_start")
	case "watched_end":
		r.watchedEnd, err = d.floatArray(p, "watched_end")
	case "target_url":
		r.targetURL, err = d.text(p)
	case "name":
		r.name, err = d.text(p)
	case "props":
		r.props, err = d.stringMap(p)
	case "device":
		r.device, err = d.text(p)
	case "is_bot":
		r.isBot, err = d.flag(p, "is_bot")
	case "bot_reason":
		r.botReason, err = d.text(p)
	case "ip_prefix":
		r.ipPrefix, err = d.text(p)
	case "user_agent":
		r.userAgent, err = d.text(p)
	case "content_version":
		r.contentVersion, err = d.text(p)
	case "search_query":
		r.searchQuery, err = d.text(p)
	case "search_results":
		r.searchResults, err = d.uint32(p, "search_results")
	case "search_clicked":
		r.searchClicked, err = d.text(p)
	case "search_flags":
		var v uint64
		v, err = d.uint(p, "search_flags", math.MaxUint8)
		r.searchFlags = uint8(v)
	case "score":
		var f float32
		if f, err = d.float32(p, "score"); err == nil && !d.checkOnly {
			s := d.arena.floatsCopy([]float32{f})
			r.score = &s[0]
		}
	case "passed":
		var v uint8
		if v, err = d.flag(p, "passed"); err == nil {
			r.passed = &passedNo
			if v == 1 {
				r.passed = &passedYes
			}
		}
	default:
		return p.skip(0)
	}
	if e, ok := err.(*DecodeError); ok && e.field == "" && e.kind == "field" {
		e.field = string(key)
	}
	return err
}

// text decodes a JSON string into the arena.
func (d *Decoder) text(p *parser) (string, error) {
	if p.Peek() != '"' {
		return "", &DecodeError{kind: "field", msg: "not a string"}
	}
	raw, escaped, err := p.str()
	if err != nil || len(raw) == 0 || d.checkOnly {
		return "", err
	}
	if !escaped {
		return d.arena.str(raw), nil
	}
	// An unescaped string is never longer than its escaped form.
	d.arena.reserve(len(raw))
	start := len(d.arena.buf)
	d.arena.buf = appendUnescaped(d.arena.buf, raw)
	if len(d.arena.buf) == start {
		return "", nil
	}
	return unsafe.String(&d.arena.buf[start], len(d.arena.buf)-start), nil
}

func (d *Decoder) time(p *parser, field string) (int64, error) {
	raw, _, err := p.str()
	if err != nil {
		return 0, fieldErr(field, "not a string")
	}
	ms, ok := event.ParseTime(raw)
	if !ok {
		return 0, fieldErr(field, "not a time like 2026-01-02 15:04:05.000")
	}
	return ms, nil
}

func (d *Decoder) uint32(p *parser, field string) (uint32, error) {
	v, err := d.uint(p, field, math.MaxUint32)
	return uint32(v), err
}

// uint decodes a non-negative integer no larger than max; an integral float such as 3.0
// is accepted because JavaScript producers cannot tell the two apart.
func (d *Decoder) uint(p *parser, field string, max uint64) (uint64, error) {
	num := p.num()
	if len(num) == 0 {
		return 0, fieldErr(field, "not a number")
	}
	var v uint64
	for i, c := range num {
		if c < '0' || c > '9' {
			f, err := strconv.ParseFloat(unsafe.String(&num[0], len(num)), 64)
			if err != nil || f != math.Trunc(f) || f < 0 || f > float64(max) {
				return 0, fieldErr(field, "not an integer in range")
			}
			return uint64(f), nil
		}
		if i >= 19 {
			return 0, fieldErr(field, "integer out of range")
		}
		v = v*10 + uint64(c-'0')
	}
	if v > max {
		return 0, fieldErr(field, "integer out of range")
	}
	return v, nil
}

func (d *Decoder) float32(p *parser, field string) (float32, error) {
	num := p.num()
	if len(num) == 0 {
		return 0, fieldErr(field, "not a number")
	}
	f, err := strconv.ParseFloat(unsafe.String(&num[0], len(num)), 32)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fieldErr(field, "not a finite number")
	}
	return float32(f), nil
}

// flag decodes a 0/1 number or a JSON boolean.
func (d *Decoder) flag(p *parser, field string) (uint8, error) {
	switch {
	case p.lit("true"):
		return 1, nil
	case p.lit("false"):
		return 0, nil
	}
	v, err := d.uint(p, field, 1)
	return uint8(v), err
}

func (d *Decoder) floatArray(p *parser, field string) ([]float32, error) {
	if !p.Eat('[') {
		return nil, fieldErr(field, "not an array")
	}
	d.floats = d.floats[:0]
	p.WS()
	if !p.Eat(']') {
		for {
			p.WS()
			f, err := d.float32(p, field)
			if err != nil {
				return nil, err
			}
			d.floats = append(d.floats, f)
			p.WS()
			if p.Eat(',') {
				continue
			}
			if p.Eat(']') {
				break
			}
			return nil, jsonErr("expected ',' or ']' in array")
		}
	}
	if d.checkOnly {
		return nil, nil
	}
	return d.arena.floatsCopy(d.floats), nil
}

// stringMap decodes an object of string values. It allocates a map, which only custom
// events carry; an empty object stays nil.
func (d *Decoder) stringMap(p *parser) (map[string]string, error) {
	if !p.Eat('{') {
		return nil, fieldErr("props", "not an object")
	}
	p.WS()
	if p.Eat('}') {
		return nil, nil
	}
	var m map[string]string
	if !d.checkOnly {
		m = make(map[string]string, 4)
	}
	for {
		p.WS()
		k, err := d.text(p)
		if err != nil {
			return nil, fieldErr("props", "key is not a string")
		}
		p.WS()
		if !p.Eat(':') {
			return nil, jsonErr("expected ':' after key")
		}
		p.WS()
		v, err := d.text(p)
		if err != nil {
			return nil, fieldErr("props", "value is not a string")
		}
		if m != nil {
			m[k] = v
		}
		p.WS()
		if p.Eat(',') {
			continue
		}
		if p.Eat('}') {
			return m, nil
		}
		return nil, jsonErr("expected ',' or '}' in object")
	}
}

// parser is a minimal JSON scanner over one message.
type parser struct {
	jsontext.Cursor
}

func (p *parser) lit(s string) bool {
	if len(p.Buf)-p.Pos >= len(s) && string(p.Buf[p.Pos:p.Pos+len(s)]) == s {
		p.Pos += len(s)
		return true
	}
	return false
}

func (p *parser) null() bool { return p.lit("null") }

// str scans a JSON string and returns its raw content between the quotes, and whether it
// contains escapes; jsontext.Stop finds the bytes that end a plain run, eight at a time.
func (p *parser) str() (raw []byte, escaped bool, err error) {
	if !p.Eat('"') {
		return nil, false, jsonErr("expected a string")
	}
	b := p.Buf
	start, i := p.Pos, p.Pos
	for {
		i = jsontext.Stop(b, i)
		if i >= len(b) {
			p.Pos = len(b)
			return nil, false, jsonErr("unterminated string")
		}
		switch b[i] {
		case '"':
			p.Pos = i + 1
			return b[start:i], escaped, nil
		case '\\':
			escaped = true
			i += 2
		default:
			p.Pos = i
			return nil, false, jsonErr("control character in string")
		}
	}
}

// num scans a JSON number and returns its text, or nil if there is none.
func (p *parser) num() []byte {
	start := p.Pos
	for p.Pos < len(p.Buf) {
		switch c := p.Buf[p.Pos]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			p.Pos++
		default:
			return p.Buf[start:p.Pos]
		}
	}
	return p.Buf[start:p.Pos]
}

// skip steps over one value of any kind.
func (p *parser) skip(depth int) error {
	if depth > maxDepth {
		return jsonErr("nested too deep")
	}
	switch p.Peek() {
	case '"':
		_, _, err := p.str()
		return err
	case '{', '[':
		open := p.Buf[p.Pos]
		close := byte('}')
		if open == '[' {
			close = ']'
		}
		p.Pos++
		p.WS()
		if p.Eat(close) {
			return nil
		}
		for {
			p.WS()
			if open == '{' {
				if _, _, err := p.str(); err != nil {
					return err
				}
				p.WS()
				if !p.Eat(':') {
					return jsonErr("expected ':' after key")
				}
				p.WS()
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			p.WS()
			if p.Eat(',') {
				continue
			}
			if p.Eat(close) {
				return nil
			}
			return jsonErr("unterminated array or object")
		}
	default:
		if p.lit("true") || p.lit("false") || p.null() {
			return nil
		}
		if len(p.num()) == 0 {
			return jsonErr("unexpected character")
		}
		return nil
	}
}

// appendUnescaped appends the JSON string content raw with its escapes resolved.
// Invalid escapes become U+FFFD rather than failing: the row is still worth keeping.
func appendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(raw) {
			break
		}
		if c, ok := jsontext.Escaped(raw[i]); ok {
			dst = append(dst, c)
			continue
		}
		switch raw[i] {
		case 'u':
			r, n := jsontext.Hex4(raw[i+1:])
			i += n
			if r >= 0xD800 && r < 0xDC00 && i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if r2, n2 := jsontext.Hex4(raw[i+3:]); n2 == 4 && r2 >= 0xDC00 && r2 < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					i += 2 + n2
				}
			}
			if n != 4 || (r >= 0xD800 && r < 0xE000) {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			dst = utf8.AppendRune(dst, utf8.RuneError)
		}
	}
	return dst
}

// parseUUID parses the canonical 36-character form.
func parseUUID(b []byte, u *[16]byte) bool {
	if len(b) != 36 || b[8] != '-' || b[13] != '-' || b[18] != '-' || b[23] != '-' {
		return false
	}
	bad := byte(0)
	for j, i := range uuidHexAt {
		hi, lo := hexValue[b[i]], hexValue[b[i+1]]
		bad |= hi | lo
		u[j] = hi<<4 | lo&0x0f
	}
	return bad&0xf0 == 0
}

// uuidHexAt is where each byte's two hex digits start in the canonical form.
var uuidHexAt = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// hexValue maps a hex digit to its value and any other byte to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
		t[c-'a'+'A'] = byte(c - 'a' + 10)
	}
	return t
}()
