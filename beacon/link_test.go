package beacon

import (
	"strings"
	"testing"

	"github.com/beaconprm/beacon/beacon/site"
)

// A tracked link records one click and carries a fresh partner token to its target; a link
// that does not verify (or a partner token, which has no target) records nothing.
func TestProcessLink(t *testing.T) {
	sites := testSites(t)
	claims := site.Claims{Tenant: "demo", Partner: "acme", User: "jane", Campaign: "q4", Content: "doc-1", Target: "https://t.example/d?x=1#top"}
	link, err := sites.LinkURL("http://c.example", "demo", claims)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "http://c.example/l/demo/") {
		t.Fatalf("link %q does not carry its site", link)
	}
	if _, err := sites.LinkURL("http://c.example", "other", claims); err == nil {
		t.Fatal("a link minted for another tenant's site")
	}
	tok := link[strings.LastIndexByte(link, '/')+1:]
	partnerTok, _ := sites.Mint(site.Claims{Tenant: "demo", Partner: "acme"})
	var w Work
	in := exampleInput(nil)
	in.Referer = "https://mail.example/"

	l, res := w.ProcessLink(sites, "demo", tok, in)
	if l.Attribution != site.AttrToken || l.Target != claims.Target || l.Token == "" || res.Accepted != 1 {
		t.Fatalf("good link: %+v %+v", l, res)
	}
	if r := l.Redirect(); r != "https://t.example/d?x=1&pb_t="+l.Token+"#top" {
		t.Fatalf("redirect %q", r)
	}
	m := messages(&w)[0]
	if m["type"] != "click" || m["action"] != "tracked" || m["content_id"] != "doc-1" || m["partner_user_id"] != "jane" ||
		m["referrer"] != "https://mail.example/" || !strings.HasPrefix(m["visitor_id"].(string), "pu_") || m["attribution"] != "token" {
		t.Fatalf("click %v", m)
	}

	// A link minted before links carried their site: the tenant's first site by key.
	if l, res := w.ProcessLink(sites, "", tok, in); l.Attribution != site.AttrToken || res.Accepted != 1 || messages(&w)[0]["site_key"] != "demo" {
		t.Fatalf("link without a site: %+v %+v", l, res)
	}

	f := func(name, tok string, want site.Attribution) {
		t.Helper()
		l, res := w.ProcessLink(sites, "demo", tok, in)
		if l.Attribution != want || l.Target != "" || res.Accepted != 0 || len(w.Ends) != 0 {
			t.Errorf("%s: %+v %+v, want attribution %v and nothing recorded", name, l, res, want)
		}
	}
	f("tampered", tamper(t, tok), site.AttrBadSignature)
	f("truncated", tok[:len(tok)-3], site.AttrMalformed)
	f("garbage", "a.b", site.AttrMalformed)
	f("empty", "", site.AttrMalformed)
	f("partner token", partnerTok, site.AttrToken)
	for _, siteKey := range []string{"other", "nosuch"} { // another tenant's site; no site
		if l, res := w.ProcessLink(sites, siteKey, tok, in); l.Attribution != site.AttrWrongTenant || l.Target != "" || res.Accepted != 0 || len(w.Ends) != 0 {
			t.Errorf("link on site %s: %+v %+v, want wrong_tenant and nothing recorded", siteKey, l, res)
		}
	}
}

// The pixel decodes its query into one event; no visitor id derives one per network, agent
// and day; bad numbers drop the event with a reason.
func TestProcessPixel(t *testing.T) {
	sites := testSites(t)
	var w Work
	in := exampleInput(nil)
	in.Referer = "https://page.example/a?pb_t=x"
	f := func(q query, accepted int, check func(m map[string]any) bool) {
		t.Helper()
		res := w.ProcessPixel(sites, q, in)
		if res.Accepted != accepted {
			t.Errorf("%v: %+v, want %d accepted", q, res, accepted)
			return
		}
		if accepted == 1 && !check(messages(&w)[0]) {
			t.Errorf("%v: message %v", q, messages(&w)[0])
		}
	}
	f(query{"site": {"demo"}, "cid": {"doc"}}, 1, func(m map[string]any) bool {
		return m["type"] == "view" && m["url"] == "https://page.example/a" && m["session_id"] == "pixel" && strings.HasPrefix(m["visitor_id"].(string), "px_")
	})
	f(query{"site": {"demo"}, "vid": {"v9"}, "type": {"page"}, "cid": {"doc"}, "p": {"2"}, "pc": {"5"}}, 1, func(m map[string]any) bool {
		return m["visitor_id"] == "v9" && m["page"] == 2.0 && m["page_count"] == 5.0
	})
	f(query{"site": {"demo"}, "type": {"page"}, "cid": {"doc"}, "p": {"x"}}, 0, nil)
	f(query{"site": {"demo"}, "type": {"scroll"}, "d": {"101"}}, 0, nil)
	if res := w.ProcessPixel(sites, query{"site": {"nope"}}, in); res.Problem.Reason != ReasonUnknownSite {
		t.Errorf("unknown site: %+v", res)
	}
}

// The pixel honours the sending page like a batch does: an Origin, or else the origin of an
// http(s) Referer, must be one of the site's allowed origins (review probe C6); a pixel with
// neither (email, image proxies) is accepted.
func TestPixelOrigin(t *testing.T) {
	sites := testSites(t)
	var w Work
	f := func(origin, referer string, want Reason) {
		t.Helper()
		in := exampleInput(nil)
		in.Origin, in.Referer = origin, referer
		res := w.ProcessPixel(sites, query{"site": {"demo"}, "cid": {"doc"}}, in)
		if res.Problem.Reason != want || (want == ReasonNone) != (res.Accepted == 1) || (want != ReasonNone && len(w.Ends) != 0) {
			t.Errorf("Origin %q Referer %q: %+v, want %v", origin, referer, res, want)
		}
	}
	f("https://evil.example", "", ReasonOriginNotAllowed)
	f("https://evil.example", "https://docs.example.com/a", ReasonOriginNotAllowed)
	f("", "https://evil.example/page?x=1", ReasonOriginNotAllowed)
	f("", "HTTP://evil.example", ReasonOriginNotAllowed)
	f("", "https://docs.example.com.evil.example/", ReasonOriginNotAllowed)
	f("http://localhost:8080", "", ReasonNone)
	f("", "https://docs.example.com/library/a?b#c", ReasonNone)
	f("", "http://localhost:3000", ReasonNone)
	f("", "", ReasonNone)
	f("", "android-app://com.google.android.gm/", ReasonNone)
}

// beacon link refuses targets a browser would follow somewhere else than they read, and the
// collector never redirects to one, even when it is signed (review probes L8, L9, L10).
func TestLinkTargets(t *testing.T) {
	sites := testSites(t)
	claims := func(target string) site.Claims {
		return site.Claims{Tenant: "demo", Partner: "acme", User: "jane", Target: target}
	}
	for _, target := range []string{
		"https://docs.example.com/a?b=1#c", "http://localhost:8080/demo/", "https://docs.example.com:8443", "https://x.example/p%20q?e=a%40b",
	} {
		if _, err := sites.LinkURL("http://c.example", "demo", claims(target)); err != nil {
			t.Errorf("%q refused: %v", target, err)
		}
	}
	var w Work
	for _, target := range []string{
		"https://docs.example.com%2f@evil.example/", "https://user:pw@docs.example.com/", "https://docs.example.com\\@evil.example/",
		"https://docs.example.com/\r\nSet-Cookie: pwn=1", "https://docs.example.com/\n", "https://docs.example.com/a b", "https:///path",
		"javascript:alert(1)", "//evil.example/", "ftp://x.example/", "HTTPS://X.EXAMPLE/", "https://x.example/\x00", "https://x.example/\x7f",
	} {
		if _, err := sites.LinkURL("http://c.example", "demo", claims(target)); err == nil {
			t.Errorf("%q minted", target)
		}
		tok, err := sites.Mint(claims(target)) // signed by hand, as someone with the secret could
		if err != nil {
			continue // checkClaims refuses it already
		}
		if l, res := w.ProcessLink(sites, "demo", tok, exampleInput(nil)); l.Target != "" || res.Accepted != 0 {
			t.Errorf("signed %q: redirects to %q, %d recorded", target, l.Target, res.Accepted)
		}
	}
}
