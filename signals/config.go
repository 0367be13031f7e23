package signals

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"time"
)

// Rule kinds.
const (
	KindSilent = "silent" // a partner or person turned silent in partner-activity
	KindBack   = "back"   // a subject signalled silent by another rule is active again
	KindOpened = "opened" // a named person opened a watched content
)

// Body formats of a receiver.
const (
	FormatGeneric = "generic" // the Signal as JSON
	FormatSlack   = "slack"   // {"text": "..."}, what Slack's incoming webhooks take
)

// File is the rules and receivers file (JSON), as signals/README.md documents.
type File struct {
	Receivers []Receiver `json:"receivers"`
	Rules     []Rule     `json:"rules"`
}

// Receiver is one webhook endpoint.
type Receiver struct {
	// Name identifies the receiver in rules and in the sent-keys state.
	Name string `json:"name"`
	// URL receives a POST per signal (http or https).
	URL string `json:"url"`
	// Format is the body: "generic" (default) or "slack".
	Format string `json:"format"`
	// Timeout bounds one attempt. Default: 10s.
	Timeout Duration `json:"timeout"`
}

// Rule is one condition watched on a schedule.
type Rule struct {
	// Name identifies the rule in signals, metrics and the idempotency key; changing it
	// makes every signal of the rule new.
	Name string `json:"name"`
	// Kind is silent, back or opened.
	Kind string `json:"kind"`
	// Receivers are names of receivers; each gets every signal of the rule.
	Receivers []string `json:"receivers"`

	// Tenant (silent, opened) is the tenant whose data the rule reads.
	Tenant string `json:"tenant"`
	// Partner (silent) limits the rule to one partner_id. Default: every partner.
	Partner string `json:"partner"`
	// Level (silent) is "partner", "person" or "both" (default).
	Level string `json:"level"`
	// Days (silent) is partner-activity's window. Default: 7.
	Days int `json:"days"`
	// BaselineWeeks (silent) is partner-activity's baseline. Default: 8.
	BaselineWeeks int `json:"baselineWeeks"`

	// After (back) names the silent rule whose signals arm this one; its tenant, partner,
	// level, days and baseline apply.
	After string `json:"after"`

	// Person (opened) is the watched partner_user_id.
	Person string `json:"person"`
	// Contents (opened) are the watched content_ids.
	Contents []string `json:"contents"`
	// Window (opened) is how far back an open still signals (for events that reach
	// ClickHouse late, and after a restart). Default: 1h.
	Window Duration `json:"window"`
}

// Duration is a time.Duration written as "10s" in the file.
type Duration time.Duration

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"10s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// LoadFile reads, defaults and validates the rules file at path.
func LoadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the signals config: %w", err)
	}
	f, err := ParseFile(b)
	if err != nil {
		return nil, fmt.Errorf("signals config %s: %w", path, err)
	}
	return f, nil
}

// ParseFile decodes a rules file (unknown fields are errors), fills defaults and validates it.
func ParseFile(b []byte) (*File, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("cannot parse JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("cannot parse JSON: more than one value")
	}
	f.defaults()
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

func (f *File) defaults() {
	for i := range f.Receivers {
		r := &f.Receivers[i]
		if r.Format == "" {
			r.Format = FormatGeneric
		}
		if r.Timeout == 0 {
			r.Timeout = Duration(10 * time.Second)
		}
	}
	for i := range f.Rules {
		r := &f.Rules[i]
		if r.Kind == KindSilent {
			if r.Level == "" {
				r.Level = "both"
			}
			if r.Days == 0 {
				r.Days = 7
			}
			if r.BaselineWeeks == 0 {
				r.BaselineWeeks = 8
			}
		}
		if r.Kind == KindOpened && r.Window == 0 {
			r.Window = Duration(time.Hour)
		}
	}
}

// Validate names the first wrong field as a JSON path, e.g. rules[1].tenant.
func (f *File) Validate() error {
	receivers := map[string]bool{}
	for i, r := range f.Receivers {
		at := fmt.Sprintf("receivers[%d]", i)
		if !nameRE.MatchString(r.Name) {
			return fmt.Errorf("%s.name %q must match %s", at, r.Name, nameRE)
		}
		if receivers[r.Name] {
			return fmt.Errorf("%s.name %q is used twice", at, r.Name)
		}
		receivers[r.Name] = true
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s.url must be an http or https URL", at)
		}
		if r.Format != FormatGeneric && r.Format != FormatSlack {
			return fmt.Errorf("%s.format %q must be %q or %q", at, r.Format, FormatGeneric, FormatSlack)
		}
		if r.Timeout < 0 {
			return fmt.Errorf("%s.timeout must be positive", at)
		}
	}
	if len(f.Rules) == 0 {
		return errors.New("rules: none; want at least one")
	}
	rules := map[string]Rule{}
	for _, r := range f.Rules {
		if _, dup := rules[r.Name]; !dup {
			rules[r.Name] = r
		}
	}
	seen := map[string]bool{}
	armedBy := map[string]string{}
	for i, r := range f.Rules {
		at := fmt.Sprintf("rules[%d]", i)
		if !nameRE.MatchString(r.Name) {
			return fmt.Errorf("%s.name %q must match %s", at, r.Name, nameRE)
		}
		if seen[r.Name] {
			return fmt.Errorf("%s.name %q is used twice", at, r.Name)
		}
		seen[r.Name] = true
		if len(r.Receivers) == 0 {
			return fmt.Errorf("%s.receivers: none; want at least one receiver name", at)
		}
		for j, name := range r.Receivers {
			if !receivers[name] {
				return fmt.Errorf("%s.receivers[%d]: no receiver named %q", at, j, name)
			}
		}
		switch r.Kind {
		case KindSilent:
			if r.Tenant == "" {
				return fmt.Errorf("%s.tenant is required for kind %q", at, r.Kind)
			}
			if r.Level != "partner" && r.Level != "person" && r.Level != "both" {
				return fmt.Errorf("%s.level %q must be partner, person or both", at, r.Level)
			}
			if r.Days < 1 || r.Days > 366 {
				return fmt.Errorf("%s.days %d must be 1..366", at, r.Days)
			}
			if r.BaselineWeeks < 1 || r.BaselineWeeks > 52 {
				return fmt.Errorf("%s.baselineWeeks %d must be 1..52", at, r.BaselineWeeks)
			}
		case KindBack:
			a, ok := rules[r.After]
			if !ok || a.Kind != KindSilent {
				return fmt.Errorf("%s.after %q must name a rule of kind %q", at, r.After, KindSilent)
			}
			if other, dup := armedBy[r.After]; dup {
				return fmt.Errorf("%s.after %q: rule %q already follows it", at, r.After, other)
			}
			armedBy[r.After] = r.Name
		case KindOpened:
			if r.Tenant == "" {
				return fmt.Errorf("%s.tenant is required for kind %q", at, r.Kind)
			}
			if r.Person == "" {
				return fmt.Errorf("%s.person is required for kind %q", at, r.Kind)
			}
			if len(r.Contents) == 0 {
				return fmt.Errorf("%s.contents: none; want at least one content_id", at)
			}
			for j, c := range r.Contents {
				if c == "" {
					return fmt.Errorf("%s.contents[%d] is empty", at, j)
				}
			}
			if r.Window <= 0 {
				return fmt.Errorf("%s.window must be positive", at)
			}
		default:
			return fmt.Errorf("%s.kind %q must be %q, %q or %q", at, r.Kind, KindSilent, KindBack, KindOpened)
		}
	}
	return nil
}
