package beacon

import (
	"encoding/json"
	"errors"
	"sort"

	"github.com/beaconprm/beacon/internal/jsontext"
)

// WireVersion is the version of the beacon wire format this package speaks; see WIRE.md.
const WireVersion = 1

// Batch is one POST /v1/events body (wire format v1, WIRE.md). It is the public contract
// between the snippet (or any integration) and the collector; fields are only ever added.
//
// The collector does not decode into this type with reflection: it has its own scanner
// (decode.go) that fills a pooled batch. Batch and Event exist so Go clients and tests can
// build bodies with encoding/json and so the format has one typed definition.
type Batch struct {
	V         int     `json:"v"`                  // wire version, 1
	Site      string  `json:"site"`               // public site key from the site config
	SentAt    int64   `json:"sent_at"`            // client clock when the batch was sent, ms since epoch
	VisitorID string  `json:"visitor_id"`         // anonymous device id, 1..64 of [A-Za-z0-9_-]
	SessionID string  `json:"session_id"`         // session id, 1..64 of [A-Za-z0-9_-]
	Token     string  `json:"token,omitempty"`    // signed partner token (pb_t), optional
	Consent   bool    `json:"consent,omitempty"`  // consent given; required by sites with require_consent
	URL       string  `json:"url,omitempty"`      // page URL
	Referrer  string  `json:"referrer,omitempty"` // document.referrer
	Events    []Event `json:"events"`             // 1..MaxEvents events

	hasV       bool // set by the decoder
	hasSentAt  bool
	hasConsent bool
	fromLink   bool // built by ProcessLink: the only source of "tracked" clicks
}

// Event is one beacon event. Which fields mean something depends on Type (WIRE.md); the
// others are ignored. Every event has an ID (UUID) and a client time TS.
type Event struct {
	ID   string `json:"id,omitempty"`  // UUID; when absent the collector derives one deterministically
	Type string `json:"type"`          // view|page|scroll|engage|video|click|complete|search|custom
	TS   int64  `json:"ts"`            // client clock at the event, ms since epoch
	URL  string `json:"url,omitempty"` // overrides the batch url for this event (single-page apps)

	ContentID   string `json:"content_id,omitempty"`
	ContentType string `json:"content_type,omitempty"` // document|video|page|course|tool|faq|link
	Title       string `json:"title,omitempty"`
	Version     string `json:"content_version,omitempty"` // any type: the content's version (e.g. "2026.2"), at most 64 bytes

	Page      uint32 `json:"page,omitempty"`       // page: 1-based page number
	PageCount uint32 `json:"page_count,omitempty"` // page, view: number of pages
	DwellMS   uint32 `json:"dwell_ms,omitempty"`   // page: ms visible since the previous beacon (increment)

	Depth     uint8  `json:"depth"`      // scroll: max depth 0..100
	EngagedMS uint32 `json:"engaged_ms"` // engage: cumulative visible-and-focused ms

	Action   string       `json:"action,omitempty"`   // video: play|pause|seek|ratechange|ended|progress; click: outbound|download|tracked
	Position float64      `json:"position,omitempty"` // video: seconds
	Duration float64      `json:"duration,omitempty"` // video: seconds
	Rate     float64      `json:"rate,omitempty"`     // video: playback rate
	Watched  [][2]float64 `json:"watched,omitempty"`  // video: [start,end] seconds watched since the previous video beacon

	Href  string `json:"href,omitempty"`  // click: target URL
	Name  string `json:"name,omitempty"`  // custom: event name; click: label
	Props Props  `json:"props,omitempty"` // custom: small string properties

	Query   string `json:"query,omitempty"`   // search: the text searched (redacted and truncated by the collector, WIRE.md)
	Results uint32 `json:"results"`           // search: number of results shown (0 is a search that found nothing)
	Clicked string `json:"clicked,omitempty"` // search: content_id of the result the person opened, if any

	// complete: a test's score 0..100 and whether it was passed. Pointers so that a Go
	// client can send a score of 0 and passed=false; the collector's decoder keeps its own
	// copies (score, passed) and never sets these.
	Score  *float64 `json:"score,omitempty"`
	Passed *bool    `json:"passed,omitempty"`

	// Set by the collector's decoder and validator, never on the wire.
	has      fieldSet // which optional numeric fields were present
	score    float64  // complete: the decoded score (has&hasScore)
	passed   bool     // complete: the decoded passed (has&hasPassed)
	rej      Reason   // why this event is dropped; ReasonNone keeps it
	rejField string   // the field that failed
}

// fieldSet records which fields of an event were present in its JSON.
type fieldSet uint16

const (
	hasTS fieldSet = 1 << iota
	hasPage
	hasPageCount
	hasDwell
	hasDepth
	hasEngaged
	hasPosition
	hasDuration
	hasRate
	hasResults
	hasScore
	hasPassed
)

// Rejected reports why the collector dropped this event (ReasonNone when kept).
func (e *Event) Rejected() (Reason, string) { return e.rej, e.rejField }

// reject marks the event dropped; the first reason wins.
func (e *Event) reject(r Reason, field string) {
	if e.rej == ReasonNone {
		e.rej, e.rejField = r, field
	}
}

// Prop is one custom property.
type Prop struct{ Key, Value string }

// Props are custom properties; on the wire a JSON object of strings. A slice, not a map,
// so the collector can decode it without allocating.
type Props []Prop

// MarshalJSON writes props as a JSON object, keys in order.
func (p Props) MarshalJSON() ([]byte, error) {
	b := append([]byte(nil), '{')
	for i, kv := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendString(b, kv.Key)
		b = append(b, ':')
		b = jsontext.AppendString(b, kv.Value)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads a JSON object of strings, keys sorted for a stable order.
func (p *Props) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return errors.New("props must be an object of strings")
	}
	out := (*p)[:0]
	for k, v := range m {
		out = append(out, Prop{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	*p = out
	return nil
}
