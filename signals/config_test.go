package signals

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseFile(t *testing.T) {
	ok := func(text string, check func(f *File)) {
		t.Helper()
		f, err := ParseFile([]byte(text))
		if err != nil {
			t.Fatalf("ParseFile(%s): %v", text, err)
		}
		check(f)
	}
	fail := func(text, want string) {
		t.Helper()
		_, err := ParseFile([]byte(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("ParseFile(%s): error %v, want one containing %q", text, err, want)
		}
	}
	recv := `"receivers": [{"name": "hook", "url": "http://127.0.0.1:1/x"}]`
	ok(`{`+recv+`, "rules": [{"name": "q", "kind": "silent", "tenant": "acme", "receivers": ["hook"]}]}`, func(f *File) {
		r := f.Rules[0]
		if r.Level != "both" || r.Days != 7 || r.BaselineWeeks != 8 {
			t.Fatalf("silent defaults: %+v", r)
		}
		if f.Receivers[0].Format != FormatGeneric || time.Duration(f.Receivers[0].Timeout) != 10*time.Second {
			t.Fatalf("receiver defaults: %+v", f.Receivers[0])
		}
	})
	ok(`{`+recv+`, "rules": [{"name": "w", "kind": "opened", "tenant": "acme", "person": "p1", "contents": ["doc1"], "window": "10m", "receivers": ["hook"]}]}`, func(f *File) {
		if time.Duration(f.Rules[0].Window) != 10*time.Minute {
			t.Fatalf("window: %v", f.Rules[0].Window)
		}
	})

	fail(`{`+recv+`, "rules": [{"name": "q", "kind": "silent", "receivers": ["hook"]}]}`, "rules[0].tenant is required")
	fail(`{`+recv+`, "rules": [{"name": "q", "kind": "loud", "tenant": "acme", "receivers": ["hook"]}]}`, `rules[0].kind "loud"`)
	fail(`{`+recv+`, "rules": [{"name": "q", "kind": "silent", "tenant": "acme", "receivers": ["nope"]}]}`, `rules[0].receivers[0]: no receiver named "nope"`)
	fail(`{`+recv+`, "rules": [{"name": "q", "kind": "silent", "tenant": "acme"}]}`, "rules[0].receivers: none")
	fail(`{`+recv+`, "rules": [{"name": "q", "kind": "silent", "tenant": "acme", "level": "team", "receivers": ["hook"]}]}`, `rules[0].level "team"`)
	fail(`{`+recv+`, "rules": [{"name": "q", "kind": "silent", "tenant": "acme", "days": 400, "receivers": ["hook"]}]}`, "rules[0].days 400")
	fail(`{`+recv+`, "rules": [{"name": "q", "kind": "silent", "tenant": "acme", "receivers": ["hook"]}, {"name": "b", "kind": "back", "after": "x", "receivers": ["hook"]}]}`, `rules[1].after "x" must name a rule of kind "silent"`)
	fail(`{`+recv+`, "rules": [{"name": "q", "kind": "silent", "tenant": "acme", "receivers": ["hook"]}, {"name": "q", "kind": "silent", "tenant": "acme", "receivers": ["hook"]}]}`, `rules[1].name "q" is used twice`)
	fail(`{`+recv+`, "rules": [{"name": "w", "kind": "opened", "tenant": "acme", "contents": ["doc1"], "receivers": ["hook"]}]}`, "rules[0].person is required")
	fail(`{`+recv+`, "rules": [{"name": "w", "kind": "opened", "tenant": "acme", "person": "p1", "receivers": ["hook"]}]}`, "rules[0].contents: none")
	fail(`{`+recv+`, "rules": [{"name": "w", "kind": "opened", "tenant": "acme", "person": "p1", "contents": ["doc1"], "window": "soon", "receivers": ["hook"]}]}`, "soon")
	fail(`{"receivers": [{"name": "hook", "url": "ftp://x/y"}], "rules": []}`, "receivers[0].url must be an http or https URL")
	fail(`{"receivers": [{"name": "hook", "url": "http://x/y", "format": "teams"}], "rules": []}`, `receivers[0].format "teams"`)
	fail(`{"receivers": [{"name": "hook", "url": "http://x/y"}], "rules": []}`, "rules: none")
	fail(`{"receivers": [{"name": "hook", "url": "http://x/y", "retries": 3}], "rules": []}`, `unknown field "retries"`)
	fail(`{"receivers": [`, "cannot parse JSON")
}

func TestBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 7: 60 * time.Second, 30: 60 * time.Second} {
		for i := 0; i < 50; i++ {
			got := backoff(time.Second, time.Minute, attempt)
			if got < want/2 || got > want {
				t.Fatalf("backoff(attempt %d) = %v, want within [%v, %v]", attempt, got, want/2, want)
			}
		}
	}
}

func TestKeyIsDeterministic(t *testing.T) {
	a := Key("quiet", "partner:pa/person:p1", "silent after 2026-03-01 10:00:00.000")
	if a != Key("quiet", "partner:pa/person:p1", "silent after 2026-03-01 10:00:00.000") {
		t.Fatal("the same change gave two keys")
	}
	for _, other := range []string{
		Key("quiet2", "partner:pa/person:p1", "silent after 2026-03-01 10:00:00.000"),
		Key("quiet", "partner:pa/person:p2", "silent after 2026-03-01 10:00:00.000"),
		Key("quiet", "partner:pa/person:p1", "silent after 2026-03-08 10:00:00.000"),
	} {
		if other == a {
			t.Fatal("different changes gave the same key")
		}
	}
}

// TestReadmeExample: the config file example in README.md is valid.
func TestReadmeExample(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```json\n{\n  \"receivers\"")
	if !ok {
		t.Fatal("README.md has no ```json block starting with the receivers")
	}
	text, _, _ := strings.Cut("{\n  \"receivers\""+rest, "```")
	f, err := ParseFile([]byte(text))
	if err != nil {
		t.Fatalf("README.md's example: %v", err)
	}
	if len(f.Rules) != 3 || len(f.Receivers) != 2 {
		t.Fatalf("README.md's example: %d rules, %d receivers", len(f.Rules), len(f.Receivers))
	}
}
