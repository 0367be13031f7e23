package site

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// originSites loads one site per pattern list through the real config path.
func originSites(t testing.TB, patterns ...string) (*Sites, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.secret"), []byte(testSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	return NewSites(ConfigFile{Sites: []Config{{SiteKey: "s", Tenant: "t", AllowedOrigins: patterns, SecretFile: "s.secret"}}}, dir)
}

func TestOriginMatchTable(t *testing.T) {
	sites, err := originSites(t, "http://localhost:*", "http://localhost", "https://*.example.com",
		"https://partners.acme.test", "https://*-*-*.example.org", "http://127.0.0.1:8080", "http://[::1]:*")
	if err != nil {
		t.Fatal(err)
	}
	site := sites.Site("s")
	cases := []struct {
		origin string
		want   bool
	}{
		{"http://localhost:3000", true},
		{"http://localhost", true},
		{"http://localhost:", false},
		{"http://localhost:abc", false},
		{"http://localhost:3000.evil.com", false},
		{"http://localhost:@evil.com", false},
		{"http://localhost:3000/path", false},
		{"https://www.example.com", true},
		{"https://a.b.c.example.com", true},
		{"https://.example.com", true}, // "*" may match nothing; no browser sends this
		{"https://example.com", false},
		{"https://example.com.evil.com", false},
		{"https://evilexample.com", false},
		{"http://x.example.com", false},
		{"https://x.example.com:8443", false},
		{"https://evil.com/.example.com", false},
		{"https://evil.com@x.example.com", false},
		{"https://evil.com?.example.com", false},
		{"https://evil.com#.example.com", false},
		{"https://evil.com .example.com", false},
		{"https://evil.com:.example.com", false},
		{"https://partners.acme.test", true},
		{"https://partners.acme.test:443", false},
		{"https://a-b-c.example.org", true},
		{"https://a-b.example.org", false},
		{"https://a/b-c-d.example.org", false},
		{"http://127.0.0.1:8080", true},
		{"http://127.0.0.1:8081", false},
		{"http://[::1]:5173", true},
		{"null", false},
		{"file://", false},
		{"", false},
		{"https://" + strings.Repeat("a", 300) + ".example.com", false}, // over the length cap
	}
	for _, c := range cases {
		if got := site.OriginAllowed(c.origin); got != c.want {
			t.Errorf("OriginAllowed(%q) = %v, want %v", c.origin, got, c.want)
		}
	}
}

func TestOriginPatternRefused(t *testing.T) {
	for _, p := range []string{"*", "", "**", "https://**.example.com", "https://*", "*://x.example.com",
		"https://x.example.com/", "https://x.example.com/path", "https://user@x.example.com", "x.example.com",
		"https://x.example.com:*9", "https://x.example.com:99999", "https://x.exa mple.com", "https://*:*"} {
		if _, err := originSites(t, p); err == nil {
			t.Errorf("pattern %q accepted", p)
		} else if !strings.Contains(err.Error(), "allowed_origins") {
			t.Errorf("pattern %q: error %q does not name allowed_origins", p, err)
		}
	}
}

// TestOriginMatchLinear checks the work done by one match against a long origin with a
// many-star pattern: it must grow linearly with the origin, never with a power of it.
func TestOriginMatchLinear(t *testing.T) {
	for _, pat := range []string{"https://*.*.example.com", "https://*-*-*.example.com", "https://*a*a*a*a*.example.com"} {
		p, err := parseOriginPattern(pat)
		if err != nil {
			t.Fatal(err)
		}
		for _, fill := range []string{"-", ".", "a", "a-"} {
			host := strings.Repeat(fill, maxOriginLen)[:maxOriginLen-len("https://x")]
			origin := "https://" + host + "x"
			ok, steps := p.match(origin)
			if ok {
				t.Errorf("%s matched %q", pat, origin)
			}
			// every origin byte is looked at a bounded number of times per pattern byte.
			if limit := (len(origin) + 1) * (len(pat) + 1); steps > limit {
				t.Errorf("%s against %d bytes of %q: %d steps, more than %d", pat, len(origin), fill, steps, limit)
			}
		}
	}
}

// FuzzOriginMatch checks the matcher against a regular expression built from the parsed
// pattern (Go's regexp runs in linear time and knows nothing of our shortcuts), and that the
// work done stays within the linear bound.
func FuzzOriginMatch(f *testing.F) {
	f.Add("https://*.example.com", "https://a.b.example.com")
	f.Add("http://localhost:*", "http://localhost:@evil.com")
	f.Add("https://*-*-*.example.org", "https://"+strings.Repeat("-", 280)+"x")
	f.Add("https://*a*a*.example.com", "https://aaaa.example.com")
	f.Add("http://[::1]:*", "http://[::1]:8080")
	f.Add("*", "null")
	f.Fuzz(func(t *testing.T, pattern, origin string) {
		p, err := parseOriginPattern(pattern)
		if err != nil {
			return
		}
		ok, steps := p.match(origin)
		if limit := (len(origin) + 1) * (len(pattern) + 1); steps > limit {
			t.Fatalf("%q against %q: %d steps, more than %d", pattern, origin, steps, limit)
		}
		want := len(origin) <= maxOriginLen && referenceOrigin(p).MatchString(origin)
		if ok != want {
			t.Fatalf("%q against %q: match %v, reference %v", pattern, origin, ok, want)
		}
	})
}

func referenceOrigin(p originPattern) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^" + regexp.QuoteMeta(p.scheme) + "://")
	for i, seg := range p.host {
		if i > 0 {
			b.WriteString("[a-z0-9._-]*")
		}
		b.WriteString(regexp.QuoteMeta(seg))
	}
	switch p.port {
	case "":
	case "*":
		b.WriteString(":[0-9]{1,5}")
	default:
		b.WriteString(":" + regexp.QuoteMeta(p.port))
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// A pattern matches what it names and nothing that only starts or ends like it.
func TestOriginPatternMatch(t *testing.T) {
	o := func(pattern, origin string, want bool) {
		t.Helper()
		pat, err := parseOriginPattern(pattern)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := pat.match(origin); ok != want {
			t.Errorf("match(%q, %q) != %v", pattern, origin, want)
		}
	}
	o("http://localhost:*", "http://localhost:8080", true)
	o("http://localhost:*", "http://localhost.evil.test", false)
	o("https://*.example.com", "https://a.b.example.com", true)
	o("https://*.example.com", "https://example.com.evil.test", false)
	o("https://x.test", "https://x.test", true)
}
