package beacon

import (
	"errors"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// Link is a tracked link (GET /l/<token>, WIRE.md "Partner tokens and tracked links") after
// verification.
type Link struct {
	// Attribution is the token check's outcome (AttrToken: the signature verified).
	Attribution Attribution
	// Target is the signed redirect target, empty when the link does not verify (or is a
	// partner token without a target): then nothing is recorded and nobody is redirected.
	Target string
	// Token is the partner token (pb_t) to carry to the target; empty when it could not be
	// minted.
	Token string
}

// Redirect is where the person is sent: the target with pb_t=<Token> added to its query.
func (l Link) Redirect() string {
	loc, frag := l.Target, ""
	if i := strings.IndexByte(loc, '#'); i >= 0 {
		loc, frag = loc[:i], loc[i:]
	}
	sep := "?"
	if strings.IndexByte(loc, '?') >= 0 {
		sep = "&"
	}
	return loc + sep + "pb_t=" + l.Token + frag
}

// checkLinkTarget refuses a redirect target a browser would read differently from a person:
// one that is not http(s) (javascript:, //host), has user info ("https://docs.example.com%2f@evil.example/"
// goes to evil.example), spaces, control characters (CR/LF) or backslashes (which browsers
// read as slashes), or no host. It does not allocate: the collector checks every link it
// redirects.
func checkLinkTarget(target string) error {
	rest, ok := strings.CutPrefix(target, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(target, "http://"); !ok {
			return errors.New("target must be an http(s) URL")
		}
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return errors.New("target has a space, a control character (CR, LF) or a backslash; percent-encode it")
		}
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	switch {
	case host == "":
		return errors.New("target has no host")
	case strings.ContainsAny(host, "@%"):
		return errors.New("target has user info or an encoded host (@ or % before the path): the browser would go elsewhere")
	}
	return nil
}

// ProcessLink verifies a tracked link token and, when it verifies, records its click: one
// "click" event (action "tracked") for the link's site, attributed with a fresh partner
// token, run through the pipeline (so that site's privacy settings apply). siteKey is the
// site in the link (/l/<site>/<token>); it must belong to the token's tenant, or the link
// does not verify (AttrWrongTenant). Links minted before links carried their site
// (/l/<token>, siteKey "") are recorded on the tenant's first site by key. The Result is the
// click's (zero when the link did not verify). in.Origin is ignored; in.Referer is recorded
// as the referrer.
func (w *Work) ProcessLink(sites *Sites, siteKey, tok string, in *Input) (Link, Result) {
	// The claims point into w.link, which nothing else writes until the next request: the
	// Link's Target stays valid until then.
	claims, a, scratch := sites.verifyLink(tok, in.Now/1000, w.link[:0])
	w.link = scratch
	if a != AttrToken || claims.Target == "" {
		w.reset()
		return Link{Attribution: a}, Result{}
	}
	if checkLinkTarget(claims.Target) != nil {
		// Signed before targets were checked, or by hand: never redirect there.
		w.reset()
		return Link{Attribution: AttrMalformed}, Result{}
	}
	t := sites.byTenant[claims.Tenant]
	site := sites.Site(t.defaultSite)
	if siteKey != "" {
		if site = sites.Site(siteKey); site == nil || site.tenant != t {
			w.reset()
			return Link{Attribution: AttrWrongTenant}, Result{}
		}
	}
	if claims.v1 {
		if site != nil && !site.acceptV1 {
			w.reset()
			return Link{Attribution: AttrExpired}, Result{}
		}
		sites.v1Uses.Add(1)
	}
	link := Link{Attribution: a, Target: claims.Target}
	// The token handed on is always v2: a v1 link without expiry hands on one with the
	// site's token_ttl_days.
	var attrTok string
	err := errors.New("no site")
	if site != nil {
		attrTok, err = t.mint(Claims{Tenant: claims.Tenant, Partner: claims.Partner, User: claims.User, Campaign: claims.Campaign, Expires: claims.Expires}, in.Now/1000, site.tokenTTL)
	}
	if err != nil {
		w.reset()
		return link, Result{Problem: Problem{Reason: ReasonBadLink, Detail: "cannot mint partner token"}}
	}
	link.Token = attrTok

	b := w.batch()
	b.Site, b.SentAt, b.Token = site.Key, in.Now, attrTok
	b.fromLink = true
	b.VisitorID = partnerVisitorID(claims)
	b.SessionID = "link"
	b.Referrer = in.Referer
	e := b.nextEvent()
	e.Type, e.Action, e.TS = "click", "tracked", in.Now
	e.Href, e.ContentID = claims.Target, claims.Content
	in2 := *in
	in2.Origin = ""
	return link, w.processBatch(sites, &in2)
}

// partnerVisitorID is the visitor id of link clicks: stable per partner user, so clicks
// before the snippet has an id still group by person.
func partnerVisitorID(c Claims) string {
	h := xxhash.New()
	h.WriteString(c.Tenant)
	h.Write([]byte{0})
	h.WriteString(c.Partner)
	h.Write([]byte{0})
	h.WriteString(c.User)
	return "pu_" + strconv.FormatUint(h.Sum64(), 16)
}
