package collector

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/beacon"
	"github.com/beaconprm/beacon/beacon/site"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A link carries the site its click is recorded on (/l/<site>/<token>), and that site's
// privacy settings apply: here "private" (respect_dnt), not the tenant's first site "demo".
func TestLinkClickRecordedOnItsSite(t *testing.T) {
	c := startCollector(t, Config{})
	tok, err := c.Sites().Mint(site.Claims{Tenant: "demo", Partner: "acme", User: "jane", Campaign: "q4", Content: "doc-1", Target: "https://docs.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := do(t, "GET", c.url+"/l/private/"+tok, nil, "User-Agent", "Mozilla/5.0 (Macintosh)")
	if resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), "https://docs.example.com/?pb_t=") {
		t.Fatalf("link with its site: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	msgs := spooled(t, c.Collector)
	if len(msgs) != 1 || msgs[0]["site_key"] != "private" || msgs[0]["action"] != "tracked" {
		t.Fatalf("spooled %v, want one tracked click on site private", msgs)
	}
	// private respects DNT: the person is redirected, nothing is recorded.
	resp, _ = do(t, "GET", c.url+"/l/private/"+tok, nil, "User-Agent", "Mozilla/5.0 (Macintosh)", "DNT", "1")
	if resp.StatusCode != 302 {
		t.Fatalf("link with DNT: %d", resp.StatusCode)
	}
	if got := testutil.ToFloat64(c.m.eventsDropped[beacon.ReasonDNT]); got != 1 {
		t.Fatalf("dnt drops = %v, want 1 (the site's own privacy rules)", got)
	}
	// A site of no tenant's, or of another tenant: refused, never a redirect.
	resp, _ = do(t, "GET", c.url+"/l/nosuch/"+tok, nil)
	if resp.StatusCode != 403 || resp.Header.Get("Location") != "" {
		t.Fatalf("link with an unknown site: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// A client cannot send a tracked click: only /l/ records those, so nobody adds contents to a
// campaign by posting events.
func TestClientTrackedClickRefused(t *testing.T) {
	c := startCollector(t, Config{})
	tok, err := c.Sites().Mint(site.Claims{Tenant: "demo", Partner: "acme", User: "jane", Campaign: "q4"})
	if err != nil {
		t.Fatal(err)
	}
	injected := `{"type":"click","action":"tracked","ts":1795420800000,"content_id":"doc-injected","href":"https://evil.example/"}`
	resp, b := do(t, "POST", c.url+"/v1/events", batchJSON(`,"token":"`+tok+`"`, injected, okEvent))
	var r struct {
		Accepted, Rejected int
		Reason             string
	}
	json.Unmarshal(b, &r)
	if resp.StatusCode != 200 || r.Accepted != 1 || r.Rejected != 1 || r.Reason != "tracked_not_from_link" {
		t.Fatalf("client tracked click: %d %s", resp.StatusCode, b)
	}
	for _, m := range spooled(t, c.Collector) {
		if m["action"] == "tracked" {
			t.Fatalf("a client's tracked click was stored: %v", m)
		}
	}
	if got := testutil.ToFloat64(c.m.eventsRejected[beacon.ReasonTrackedNotFromLink]); got != 1 {
		t.Fatalf("tracked_not_from_link = %v, want 1", got)
	}
	// The pixel is a client too.
	resp, _ = do(t, "GET", c.url+"/v1/p.gif?site=demo&vid=v1&type=click&a=tracked&cid=doc-injected", nil)
	if resp.StatusCode != 200 || testutil.ToFloat64(c.m.eventsRejected[beacon.ReasonTrackedNotFromLink]) != 2 {
		t.Fatalf("pixel tracked click: %d, rejected %v", resp.StatusCode, testutil.ToFloat64(c.m.eventsRejected[beacon.ReasonTrackedNotFromLink]))
	}
}

// An expired v2 token is a named outcome: a batch keeps its events unattributed, a link
// answers 410, and both count in beacon_attribution_total{result="expired"}. A v1 token
// still verifies and counts in beacon_v1_tokens_total.
func TestExpiredTokenCounted(t *testing.T) {
	c := startCollector(t, Config{})
	past := time.Now().Unix() - 1
	tok, err := c.Sites().Mint(site.Claims{Tenant: "demo", Partner: "acme", User: "jane", Expires: past})
	if err != nil {
		t.Fatal(err)
	}
	link, err := c.Sites().LinkURL(c.url, "demo", site.Claims{Tenant: "demo", Partner: "acme", Target: "https://docs.example.com/", Expires: past})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range []string{tok, link[strings.LastIndexByte(link, '/')+1:]} {
		if raw, err := b64.DecodeString(tk[:strings.IndexByte(tk, '.')]); err != nil || raw[0] != 2 {
			t.Fatalf("not a v2 token: %q", tk)
		}
	}
	resp, b := do(t, "POST", c.url+"/v1/events", batchJSON(`,"token":"`+tok+`"`, okEvent))
	if resp.StatusCode != 204 {
		t.Fatalf("batch with an expired token: %d %s", resp.StatusCode, b)
	}
	if msgs := spooled(t, c.Collector); len(msgs) != 1 || msgs[0]["attribution"] != "expired" || msgs[0]["partner_id"] != "" {
		t.Fatalf("spooled %v, want one unattributed event with attribution expired", msgs)
	}
	resp, _ = do(t, "GET", link, nil, "User-Agent", "Mozilla/5.0 (Macintosh)")
	if resp.StatusCode != 410 || resp.Header.Get("Location") != "" {
		t.Fatalf("expired link: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := testutil.ToFloat64(c.m.attribution[site.AttrExpired]); got != 2 {
		t.Fatalf(`beacon_attribution_total{result="expired"} = %v, want 2`, got)
	}

	p := strings.Join([]string{"1", "demo", "acme", "jane", "", "", "0", ""}, "\x1f")
	h := hmac.New(sha256.New, []byte(testSecret))
	h.Write([]byte(p))
	v1 := b64.EncodeToString([]byte(p)) + "." + b64.EncodeToString(h.Sum(nil)[:16])
	resp, b = do(t, "POST", c.url+"/v1/events", batchJSON(`,"token":"`+v1+`"`, okEvent))
	if resp.StatusCode != 204 || testutil.ToFloat64(c.m.attribution[site.AttrToken]) != 1 || c.Sites().V1TokenUses() != 1 {
		t.Fatalf("v1 token: %d %s, %v verified, %d v1 uses", resp.StatusCode, b, testutil.ToFloat64(c.m.attribution[site.AttrToken]), c.Sites().V1TokenUses())
	}
}
