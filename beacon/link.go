package beacon

import (
	"strconv"
	"strings"

	"github.com/beaconprm/beacon/beacon/site"
	"github.com/cespare/xxhash/v2"
)

// Link is a tracked link (GET /l/<token>, WIRE.md "Partner tokens and tracked links") after
// verification.
type Link struct {
	// Attribution is the token check's outcome (AttrToken: the signature verified).
	Attribution site.Attribution
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
	return loc + sep + site.TokenParam + "=" + l.Token + frag
}

// ProcessLink verifies a tracked link token and, when it verifies, records its click: one
// "click" event (action "tracked") for the link's site, attributed with a fresh partner
// token, run through the pipeline (so that site's privacy settings apply). siteKey is the
// site in the link (/l/<site>/<token>); it must belong to the token's tenant, or the link
// does not verify (AttrWrongTenant). Links minted before links carried their site
// (/l/<token>, siteKey "") are recorded on the tenant's first site by key. The Result is the
// click's (zero when the link did not verify). in.Origin is ignored; in.Referer is recorded
// as the referrer.
func (w *Work) ProcessLink(sites *site.Sites, siteKey, tok string, in *Input) (Link, Result) {
	// The claims point into w.link, which nothing else writes until the next request: the
	// Link's Target stays valid until then.
	click, scratch, err := sites.OpenLink(siteKey, tok, in.Now/1000, w.link[:0])
	w.link = scratch
	if click.Attribution != site.AttrToken || click.Claims.Target == "" {
		w.reset()
		return Link{Attribution: click.Attribution}, Result{}
	}
	claims := &click.Claims
	link := Link{Attribution: click.Attribution, Target: claims.Target}
	if err != nil {
		w.reset()
		return link, Result{Problem: Problem{Reason: ReasonBadLink, Detail: "cannot mint partner token"}}
	}
	link.Token = click.Token

	b := w.batch()
	b.Site, b.SentAt, b.Token = click.Site.Key, in.Now, click.Token
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
func partnerVisitorID(c *site.Claims) string {
	h := xxhash.New()
	h.WriteString(c.Tenant)
	h.Write([]byte{0})
	h.WriteString(c.Partner)
	h.Write([]byte{0})
	h.WriteString(c.User)
	return "pu_" + strconv.FormatUint(h.Sum64(), 16)
}
