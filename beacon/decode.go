package beacon

import (
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/beaconprm/beacon/internal/jsontext"
)

// maxDepth bounds JSON nesting (the format itself needs 5: batch, events, event, watched,
// range); deeper input is refused with too_deep before it can cost stack or time.
const maxDepth = 8

// maxNumberLen bounds the text of one JSON number; longer ones are refused as bad_value.
const maxNumberLen = 40

// Decoder reads wire v1 batches without reflection. It is not safe for concurrent use; keep
// one per worker (the collector pools them). Strings in a decoded Batch point into the body
// or the decoder's scratch buffer: they are valid until the next Decode and must be copied
// to be kept.
type Decoder struct {
	jsontext.Cursor
	scratch []byte
	batch   Batch
	prob    Problem
}

// Decode parses body into the decoder's Batch. A non-zero Problem refuses the whole request;
// a problem with one event marks only that event (Event.Rejected). maxEvents bounds the
// number of events (too_many_events). Decode checks JSON syntax and types; Validate checks
// the rules of WIRE.md.
func (d *Decoder) Decode(body []byte, maxEvents int) (*Batch, Problem) {
	d.Buf, d.Pos, d.scratch, d.prob = body, 0, d.scratch[:0], Problem{}
	b := &d.batch
	b.reset()
	if !utf8.Valid(body) {
		return nil, Problem{Reason: ReasonMalformedJSON, Detail: "body is not valid UTF-8"}
	}
	if !d.batchObject(b, maxEvents) {
		return nil, d.prob
	}
	d.WS()
	if d.Pos != len(d.Buf) {
		return nil, Problem{Reason: ReasonMalformedJSON, Detail: "data after the batch object at byte " + strconv.Itoa(d.Pos)}
	}
	return b, Problem{}
}

func (b *Batch) reset() {
	ev := b.Events[:0]
	*b = Batch{Events: ev}
}

// nextEvent appends an event, reusing the slices of an earlier batch's event in that slot.
func (b *Batch) nextEvent() *Event {
	n := len(b.Events)
	if n < cap(b.Events) {
		b.Events = b.Events[:n+1]
		e := &b.Events[n]
		w, p := e.Watched[:0], e.Props[:0]
		*e = Event{Watched: w, Props: p}
		return e
	}
	b.Events = append(b.Events, Event{})
	return &b.Events[n]
}

func (d *Decoder) fail(r Reason, field, detail string) bool {
	if d.prob.Reason == ReasonNone {
		d.prob = Problem{Reason: r, Field: field, Detail: detail}
	}
	return false
}

func (d *Decoder) syntax(what string) bool {
	return d.fail(ReasonMalformedJSON, "", what+" at byte "+strconv.Itoa(d.Pos))
}

// objectNext is called after a member's value: it consumes ',' (more members: true) or '}'
// (end: false). ok is false on a syntax error.
func (d *Decoder) objectNext() (more, ok bool) {
	d.WS()
	if d.Eat(',') {
		d.WS()
		return true, true
	}
	if d.Eat('}') {
		return false, true
	}
	return false, d.syntax("expected ',' or '}'")
}

func (d *Decoder) arrayNext() (more, ok bool) {
	d.WS()
	if d.Eat(',') {
		d.WS()
		return true, true
	}
	if d.Eat(']') {
		return false, true
	}
	return false, d.syntax("expected ',' or ']'")
}

// key reads `"name" :` and leaves the position at the value.
func (d *Decoder) key() (string, bool) {
	if d.Peek() != '"' {
		return "", d.syntax("expected a member name")
	}
	k, ok := d.str()
	if !ok {
		return "", false
	}
	d.WS()
	if !d.Eat(':') {
		return "", d.syntax("expected ':'")
	}
	d.WS()
	return k, true
}

// str reads a JSON string at the position (which holds '"').
func (d *Decoder) str() (string, bool) {
	start := d.Pos + 1
	buf := d.Buf
	i := jsontext.Stop(buf, start)
	if i >= len(buf) {
		d.Pos = len(buf)
		return "", d.syntax("unterminated string")
	}
	switch buf[i] {
	case '"':
		d.Pos = i + 1
		if i == start {
			return "", true
		}
		return unsafe.String(&buf[start], i-start), true
	case '\\':
		return d.strEscaped(start, i)
	}
	d.Pos = i
	return "", d.syntax("control character in string")
}

func (d *Decoder) strEscaped(start, i int) (string, bool) {
	off := len(d.scratch)
	d.scratch = append(d.scratch, d.Buf[start:i]...)
	for i < len(d.Buf) {
		c := d.Buf[i]
		switch {
		case c == '"':
			d.Pos = i + 1
			n := len(d.scratch) - off
			if n == 0 {
				return "", true
			}
			return unsafe.String(&d.scratch[off], n), true
		case c < 0x20:
			d.Pos = i
			return "", d.syntax("control character in string")
		case c != '\\':
			d.scratch = append(d.scratch, c)
			i++
			continue
		}
		if i+1 >= len(d.Buf) {
			break
		}
		e := d.Buf[i+1]
		i += 2
		if c, ok := jsontext.Escaped(e); ok {
			d.scratch = append(d.scratch, c)
			continue
		}
		switch e {
		case 'u':
			r, n := jsontext.Hex4(d.Buf[i:])
			if n < 4 {
				d.Pos = i
				return "", d.syntax("bad \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(d.Buf) && d.Buf[i] == '\\' && d.Buf[i+1] == 'u' {
					if x, n := jsontext.Hex4(d.Buf[i+2:]); n == 4 {
						r2 = x
					}
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			d.scratch = utf8.AppendRune(d.scratch, r)
		default:
			d.Pos = i - 1
			return "", d.syntax("bad escape")
		}
	}
	d.Pos = len(d.Buf)
	return "", d.syntax("unterminated string")
}

// numText reads the text of a JSON number, checking its grammar.
func (d *Decoder) numText() ([]byte, bool) {
	start, i, b := d.Pos, d.Pos, d.Buf
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		d.Pos = i
		return nil, d.syntax("bad number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			d.Pos = i
			return nil, d.syntax("bad number")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			d.Pos = i
			return nil, d.syntax("bad number")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	d.Pos = i
	return b[start:i], true
}

// numValue converts number text; ok is false for text that is too long or out of float64 range.
func numValue(t []byte) (float64, bool) {
	if len(t) > maxNumberLen {
		return 0, false
	}
	if len(t) <= 15 {
		neg := false
		s := t
		if s[0] == '-' {
			neg, s = true, s[1:]
		}
		var n int64
		integral := true
		for _, c := range s {
			if c < '0' || c > '9' {
				integral = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if integral {
			if neg {
				n = -n
			}
			return float64(n), true
		}
	}
	f, err := strconv.ParseFloat(unsafe.String(&t[0], len(t)), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// literal consumes true, false or null.
func (d *Decoder) literal() (byte, bool) {
	rest := d.Buf[d.Pos:]
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(rest) >= len(lit) && string(rest[:len(lit)]) == lit {
			d.Pos += len(lit)
			return lit[0], true
		}
	}
	return 0, d.syntax("bad literal")
}

// skip consumes any value, at nesting depth depth.
func (d *Decoder) skip(depth int) bool {
	if depth > maxDepth {
		return d.fail(ReasonTooDeep, "", "nesting deeper than "+strconv.Itoa(maxDepth))
	}
	switch c := d.Peek(); {
	case c == '"':
		_, ok := d.str()
		return ok
	case c == '{':
		d.Pos++
		d.WS()
		if d.Eat('}') {
			return true
		}
		for {
			if _, ok := d.key(); !ok {
				return false
			}
			if !d.skip(depth + 1) {
				return false
			}
			more, ok := d.objectNext()
			if !ok {
				return false
			}
			if !more {
				return true
			}
		}
	case c == '[':
		d.Pos++
		d.WS()
		if d.Eat(']') {
			return true
		}
		for {
			if !d.skip(depth + 1) {
				return false
			}
			more, ok := d.arrayNext()
			if !ok {
				return false
			}
			if !more {
				return true
			}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		_, ok := d.numText()
		return ok
	case c == 't' || c == 'f' || c == 'n':
		_, ok := d.literal()
		return ok
	case c == 0 && d.Pos >= len(d.Buf):
		return d.syntax("unexpected end of input")
	default:
		return d.syntax("unexpected character")
	}
}

// Typed readers for member values. Each returns (value, present, ok): present is false for
// null; ok is false on a syntax error (d.prob set). A value of the wrong JSON type is
// skipped and reported through wrong (present=false, ok=true, *wrong=true).

func (d *Decoder) strVal(depth int, wrong *bool) (string, bool, bool) {
	switch d.Peek() {
	case '"':
		s, ok := d.str()
		return s, ok, ok
	case 'n':
		if lit, ok := d.literal(); !ok || lit != 'n' {
			*wrong = ok
			return "", false, ok
		}
		return "", false, true
	}
	*wrong = true
	return "", false, d.skip(depth)
}

// numVal reads a number; *bad is set for a number out of range.
func (d *Decoder) numVal(depth int, wrong, bad *bool) (float64, bool, bool) {
	switch c := d.Peek(); {
	case c == '-' || (c >= '0' && c <= '9'):
		t, ok := d.numText()
		if !ok {
			return 0, false, false
		}
		f, fine := numValue(t)
		if !fine {
			*bad = true
			return 0, false, true
		}
		return f, true, true
	case c == 'n':
		if lit, ok := d.literal(); !ok || lit != 'n' {
			*wrong = ok
			return 0, false, ok
		}
		return 0, false, true
	}
	*wrong = true
	return 0, false, d.skip(depth)
}

func (d *Decoder) batchObject(b *Batch, maxEvents int) bool {
	d.WS()
	if !d.Eat('{') {
		if d.Pos >= len(d.Buf) {
			return d.syntax("empty body")
		}
		return d.syntax("expected a JSON object")
	}
	d.WS()
	if d.Eat('}') {
		return true
	}
	for {
		k, ok := d.key()
		if !ok {
			return false
		}
		var wrong, bad bool
		switch k {
		case "v":
			var f float64
			f, b.hasV, ok = d.numVal(2, &wrong, &bad)
			if f != 1 || bad {
				b.V = -1
			} else {
				b.V = 1
			}
		case "site":
			b.Site, _, ok = d.strVal(2, &wrong)
		case "sent_at":
			var f float64
			f, b.hasSentAt, ok = d.numVal(2, &wrong, &bad)
			if bad {
				return d.fail(ReasonBadTime, "sent_at", "number out of range")
			}
			b.SentAt = clampInt64(f)
		case "visitor_id":
			b.VisitorID, _, ok = d.strVal(2, &wrong)
		case "session_id":
			b.SessionID, _, ok = d.strVal(2, &wrong)
		case "token":
			b.Token, _, ok = d.strVal(2, &wrong)
		case "url":
			b.URL, _, ok = d.strVal(2, &wrong)
		case "referrer":
			b.Referrer, _, ok = d.strVal(2, &wrong)
		case "consent":
			switch d.Peek() {
			case 't', 'f', 'n':
				var lit byte
				lit, ok = d.literal()
				b.Consent = lit == 't'
				b.hasConsent = lit != 'n'
			default:
				wrong = true
				ok = d.skip(2)
			}
		case "events":
			if d.Peek() != '[' {
				if d.Peek() == 0 {
					return d.syntax("unexpected end of input")
				}
				if !d.skip(2) {
					return false
				}
				return d.fail(ReasonWrongType, "events", "must be an array")
			}
			ok = d.events(b, maxEvents)
		default:
			ok = d.skip(2)
		}
		if !ok {
			return false
		}
		if wrong {
			return d.fail(ReasonWrongType, batchFieldName(k), "wrong JSON type")
		}
		more, ok := d.objectNext()
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

// batchFieldName returns a static copy of a known batch member name (k points into the body).
func batchFieldName(k string) string {
	for _, n := range [...]string{"v", "site", "sent_at", "visitor_id", "session_id", "token", "url", "referrer", "consent"} {
		if k == n {
			return n
		}
	}
	return "batch"
}

func clampInt64(f float64) int64 {
	if f >= math.MaxInt64 {
		return math.MaxInt64
	}
	if f <= math.MinInt64 {
		return math.MinInt64
	}
	return int64(f)
}

func (d *Decoder) events(b *Batch, maxEvents int) bool {
	d.Pos++ // '['
	d.WS()
	if d.Eat(']') {
		return true
	}
	for {
		if len(b.Events) >= maxEvents {
			return d.fail(ReasonTooManyEvents, "events", "more than "+strconv.Itoa(maxEvents)+" events")
		}
		e := b.nextEvent()
		if d.Peek() == '{' {
			if !d.event(e) {
				return false
			}
		} else {
			e.reject(ReasonWrongType, "event")
			if !d.skip(3) {
				return false
			}
		}
		more, ok := d.arrayNext()
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

// event reads one event object (depth 3).
func (d *Decoder) event(e *Event) bool {
	d.Pos++ // '{'
	d.WS()
	if d.Eat('}') {
		return true
	}
	for {
		k, ok := d.key()
		if !ok {
			return false
		}
		var wrong, bad bool
		var field string
		var f float64
		var present bool
		switch k {
		case "id":
			field = "id"
			e.ID, _, ok = d.strVal(4, &wrong)
		case "type":
			field = "type"
			e.Type, _, ok = d.strVal(4, &wrong)
		case "ts":
			field = "ts"
			f, present, ok = d.numVal(4, &wrong, &bad)
			if present {
				e.TS = clampInt64(f)
				e.has |= hasTS
			}
			if bad {
				e.reject(ReasonTimeOutOfRange, "ts")
			}
			bad = false
		case "url":
			field = "url"
			e.URL, _, ok = d.strVal(4, &wrong)
		case "content_id":
			field = "content_id"
			e.ContentID, _, ok = d.strVal(4, &wrong)
		case "content_type":
			field = "content_type"
			e.ContentType, _, ok = d.strVal(4, &wrong)
		case "title":
			field = "title"
			e.Title, _, ok = d.strVal(4, &wrong)
		case "action":
			field = "action"
			e.Action, _, ok = d.strVal(4, &wrong)
		case "href":
			field = "href"
			e.Href, _, ok = d.strVal(4, &wrong)
		case "name":
			field = "name"
			e.Name, _, ok = d.strVal(4, &wrong)
		case "page":
			field = "page"
			f, present, ok = d.numVal(4, &wrong, &bad)
			e.Page, bad = toUint32(f, bad)
			e.has |= flagIf(present, hasPage)
		case "page_count":
			field = "page_count"
			f, present, ok = d.numVal(4, &wrong, &bad)
			e.PageCount, bad = toUint32(f, bad)
			e.has |= flagIf(present, hasPageCount)
		case "dwell_ms":
			field = "dwell_ms"
			f, present, ok = d.numVal(4, &wrong, &bad)
			e.DwellMS, bad = toUint32(f, bad)
			e.has |= flagIf(present, hasDwell)
		case "engaged_ms":
			field = "engaged_ms"
			f, present, ok = d.numVal(4, &wrong, &bad)
			e.EngagedMS, bad = toUint32(f, bad)
			e.has |= flagIf(present, hasEngaged)
		case "depth":
			field = "depth"
			f, present, ok = d.numVal(4, &wrong, &bad)
			if f < 0 || f > 100 {
				bad = true
			}
			e.Depth = uint8(f)
			e.has |= flagIf(present, hasDepth)
		case "position":
			field = "position"
			e.Position, present, ok = d.numVal(4, &wrong, &bad)
			e.has |= flagIf(present, hasPosition)
		case "duration":
			field = "duration"
			e.Duration, present, ok = d.numVal(4, &wrong, &bad)
			e.has |= flagIf(present, hasDuration)
		case "rate":
			field = "rate"
			e.Rate, present, ok = d.numVal(4, &wrong, &bad)
			e.has |= flagIf(present, hasRate)
		case "content_version":
			field = "content_version"
			e.Version, _, ok = d.strVal(4, &wrong)
		case "query":
			field = "query"
			e.Query, _, ok = d.strVal(4, &wrong)
		case "clicked":
			field = "clicked"
			e.Clicked, _, ok = d.strVal(4, &wrong)
		case "results":
			field = "results"
			f, present, ok = d.numVal(4, &wrong, &bad)
			e.Results, bad = toUint32(f, bad)
			e.has |= flagIf(present, hasResults)
		case "score":
			field = "score"
			e.score, present, ok = d.numVal(4, &wrong, &bad)
			e.has |= flagIf(present, hasScore)
		case "passed":
			field = "passed"
			switch d.Peek() {
			case 't', 'f', 'n':
				var lit byte
				lit, ok = d.literal()
				e.passed = lit == 't'
				e.has |= flagIf(ok && lit != 'n', hasPassed)
			default:
				wrong = true
				ok = d.skip(4)
			}
		case "watched":
			ok = d.watched(e)
		case "props":
			ok = d.props(e)
		default:
			ok = d.skip(4)
		}
		if !ok {
			return false
		}
		if wrong {
			e.reject(ReasonWrongType, field)
		} else if bad {
			e.reject(ReasonBadValue, field)
		}
		more, ok := d.objectNext()
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

func flagIf(present bool, f fieldSet) fieldSet {
	if present {
		return f
	}
	return 0
}

// toUint32 truncates a count or a duration in ms; negative or too large is bad.
func toUint32(f float64, bad bool) (uint32, bool) {
	if bad || f < 0 || f > math.MaxUint32 {
		return 0, true
	}
	return uint32(f), false
}

// maxWatched bounds the watched ranges of one video event.
const maxWatched = 32

// container opens the value of an optional array or object field of an event (depth 4):
// null is no value, anything but open is rejected as wrong_type and skipped. It reports
// whether there are elements to read (the value is open and not empty), and ok = false on
// malformed JSON.
func (d *Decoder) container(e *Event, open, close byte, field string) (elems, ok bool) {
	switch d.Peek() {
	case 'n':
		lit, ok := d.literal()
		if ok && lit != 'n' {
			e.reject(ReasonWrongType, field)
		}
		return false, ok
	case open:
	default:
		e.reject(ReasonWrongType, field)
		return false, d.skip(4)
	}
	d.Pos++
	d.WS()
	return !d.Eat(close), true
}

func (d *Decoder) watched(e *Event) bool {
	if elems, ok := d.container(e, '[', ']', "watched"); !elems {
		return ok
	}
	for {
		if d.Peek() != '[' {
			e.reject(ReasonWrongType, "watched")
			if !d.skip(5) {
				return false
			}
		} else if !d.watchedRange(e) {
			return false
		}
		more, ok := d.arrayNext()
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

// watchedRange reads one [start, end] pair (depth 5).
func (d *Decoder) watchedRange(e *Event) bool {
	d.Pos++
	d.WS()
	var r [2]float64
	n := 0
	if !d.Eat(']') {
		for {
			var wrong, bad bool
			f, present, ok := d.numVal(6, &wrong, &bad)
			if !ok {
				return false
			}
			switch {
			case wrong || !present:
				e.reject(ReasonWrongType, "watched")
			case bad:
				e.reject(ReasonBadValue, "watched")
			case n < 2:
				r[n] = f
			}
			n++
			more, ok := d.arrayNext()
			if !ok {
				return false
			}
			if !more {
				break
			}
		}
	}
	switch {
	case n != 2:
		e.reject(ReasonBadValue, "watched")
	case len(e.Watched) >= maxWatched:
		e.reject(ReasonFieldTooLong, "watched")
	default:
		e.Watched = append(e.Watched, r)
	}
	return true
}

// maxProps bounds the properties of one custom event.
const maxProps = 20

func (d *Decoder) props(e *Event) bool {
	if elems, ok := d.container(e, '{', '}', "props"); !elems {
		return ok
	}
	for {
		k, ok := d.key()
		if !ok {
			return false
		}
		var wrong bool
		v, present, ok := d.strVal(5, &wrong)
		if !ok {
			return false
		}
		switch {
		case wrong:
			e.reject(ReasonWrongType, "props")
		case !present:
		default:
			e.setProp(k, v)
		}
		more, ok := d.objectNext()
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

func (e *Event) setProp(k, v string) {
	for i := range e.Props {
		if e.Props[i].Key == k {
			e.Props[i].Value = v
			return
		}
	}
	if len(e.Props) >= maxProps {
		e.reject(ReasonFieldTooLong, "props")
		return
	}
	e.Props = append(e.Props, Prop{k, v})
}
