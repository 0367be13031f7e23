package beacon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beaconprm/beacon/beacon/site"
)

// What one event stores of a person's page, referrer, click target and browser: query
// strings are dropped but utm_*, the partner token in no spelling, no fragment, no user info,
// and only the User-Agent's browser and OS families (the security review's probe P10).
func TestStoredURLsAndUserAgent(t *testing.T) {
	sites := testSites(t)
	var w Work
	body := batchJSON(`,"url":"https://partners.example.com/reset?email=jane%40acme.example&token=s3cr3t&pb_t=XYZ&PB_T=UPPER&pb%5Ft=ENC&Pb%5FT=x&utm_source=mail&pb_t=again#frag",`+
		`"referrer":"https://jane:hunter2@mail.example/inbox?user=jane@acme.example&utm_medium=email&utm_term=pb_t%3DLEAK"`,
		`{"type":"click","ts":1795420800000,"href":"https://x.example/d?pb_t=LEAK&email=a@b&utm_campaign=q4#top","name":"n"}`,
		`{"type":"click","ts":1795420800000,"href":"mailto:jane@acme.example?subject=hi","name":"m"}`,
		`{"type":"view","ts":1795420800000,"content_id":"d","url":"https://spa.example/p/2?session=sessval&utm_content=x"}`)
	in := exampleInput(body)
	in.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86 custom-id-1234"
	res := w.Process(sites, in)
	if res.Problem.Reason != ReasonNone || res.Accepted != 3 {
		t.Fatalf("result %+v", res)
	}
	msgs := messages(&w)
	want := []map[string]string{
		{"url": "https://partners.example.com/reset?utm_source=mail", "target_url": "https://x.example/d?utm_campaign=q4"},
		{"url": "https://partners.example.com/reset?utm_source=mail", "target_url": "mailto:"},
		{"url": "https://spa.example/p/2?utm_content=x", "target_url": ""},
	}
	for i, m := range msgs {
		for k, v := range want[i] {
			if m[k] != v {
				t.Errorf("message %d: %s = %q, want %q", i, k, m[k], v)
			}
		}
		if m["referrer"] != "https://mail.example/inbox?utm_medium=email" {
			t.Errorf("message %d: referrer %q", i, m["referrer"])
		}
		if m["user_agent"] != "Edge; Windows" || m["device"] != "desktop" {
			t.Errorf("message %d: user_agent %q, device %q", i, m["user_agent"], m["device"])
		}
	}
	for _, leak := range []string{"jane", "s3cr3t", "XYZ", "UPPER", "ENC", "LEAK", "hunter2", "frag", "custom-id", "sessval"} {
		if strings.Contains(string(w.Msgs), leak) {
			t.Errorf("stored messages hold %q", leak)
		}
	}
}

// A site keeps the query parameters its config names (compared decoded) and, when it says
// so, the whole User-Agent; the partner token parameter cannot be kept.
func TestSiteKeepsWhatItNames(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.secret"), []byte(testSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := func(keep ...string) site.Config {
		return site.Config{SiteKey: "demo", Tenant: "demo", SecretFile: "s.secret", KeepQueryParams: keep, KeepUserAgent: true}
	}
	sites, err := site.NewSites(site.ConfigFile{Sites: []site.Config{conf("page", "lang")}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	var w Work
	in := exampleInput(batchJSON(`,"url":"https://a.example/doc?page=3&l%61ng=de&Page=9&q=secret&pb_t=x"`, okEvent))
	in.Origin = ""
	if res := w.Process(sites, in); res.Accepted != 1 {
		t.Fatalf("result %+v", res)
	}
	m := messages(&w)[0]
	if m["url"] != "https://a.example/doc?page=3&l%61ng=de" || m["user_agent"] != in.UserAgent {
		t.Errorf("url %q, user_agent %q", m["url"], m["user_agent"])
	}
	for _, bad := range []string{"pb_t", "PB_T", "", "a=b", "a&b", "x#", "p%5F"} {
		if _, err := site.NewSites(site.ConfigFile{Sites: []site.Config{conf(bad)}}, dir); err == nil || !strings.Contains(err.Error(), "keep_query_params") {
			t.Errorf("keep_query_params %q: error %v", bad, err)
		}
	}
}

func TestCleanURL(t *testing.T) {
	f := func(in, want string, keep ...string) {
		t.Helper()
		if got := string(appendCleanURL(nil, in, keep)); got != want {
			t.Errorf("clean(%q, %q) = %q, want %q", in, keep, got, want)
		}
	}
	f("https://a.example/p?x=1&pb_t=abc.def&y=2#frag", "https://a.example/p?x=1&y=2", "x", "y")
	f("https://a.example/p?x=1&y=2", "https://a.example/p")
	f("https://a.example/p?pb_t=abc", "https://a.example/p")
	f("https://a.example/p#x?pb_t=1", "https://a.example/p")
	f("https://a.example/p?pb_tx=1&&z", "https://a.example/p?pb_tx=1&z", "pb_tx", "z")
	f("https://a.example/p?x=pb%5fT%3d1&x=ok", "https://a.example/p?x=ok", "x")
	f("https://a.example/p?UTM_Source=a&utm%5Fmedium=b&utm=c", "https://a.example/p?UTM_Source=a&utm%5Fmedium=b")
	f("https://u:p@a.example:8443/p?utm_x=1", "https://a.example:8443/p?utm_x=1")
	f("https://a.example/p@q?x", "https://a.example/p@q")
	f("HTTP://A.example/p", "HTTP://A.example/p")
	f("javascript:alert(document.cookie)", "javascript:")
	f("tel:+4930123", "tel:")
	f("/relative/path?x=1&utm_a=2", "/relative/path?utm_a=2")
	f("", "")
	f("%", "%")
}

// FuzzCleanURL: whatever the URL, the cleaned one has no fragment and no parameter that
// decodes to the partner token parameter or carries one in its value.
func FuzzCleanURL(f *testing.F) {
	for _, s := range []string{"https://a.example/p?x=1&pb_t=abc.def&y=2#frag", "https://a/?pb%5Ft=1&PB_T=2&utm_a=pb_t%3D", "mailto:a@b", "https://u@h/?%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		out := string(appendCleanURL(nil, u, []string{"x", "y"}))
		if strings.Contains(out, "#") {
			t.Fatalf("fragment kept: %q -> %q", u, out)
		}
		if q := strings.IndexByte(out, '?'); q >= 0 {
			for _, p := range strings.Split(out[q+1:], "&") {
				name, value, _ := strings.Cut(p, "=")
				if decodedMatch(name, site.TokenParam, true, true) || decodedContainsFold(value, site.TokenParam) {
					t.Fatalf("partner token kept: %q -> %q", u, out)
				}
			}
		}
	})
}
