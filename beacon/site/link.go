package site

import (
	"errors"
	"strings"
)

// TokenParam is the query parameter carrying a partner token: a tracked link's redirect
// appends it, the snippet reads it, and stored URLs never keep it.
const TokenParam = "pb_t"

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

// Click is a tracked link after verification: what its click is recorded with.
type Click struct {
	// Attribution is the link's outcome: AttrToken when it verified, has a target a browser
	// reads as written, belongs to the site in the link and (v1) is accepted there.
	Attribution Attribution
	// Claims are the link's claims (pointing into the scratch OpenLink returns); valid only
	// when Attribution is AttrToken.
	Claims Claims
	// Site is where the click is recorded: the site in the link, or the tenant's first site
	// by key for links minted before links carried their site.
	Site *Site
	// Token is a fresh v2 partner token for the same person, to carry to the target (a v1
	// link without expiry hands on one with the site's token_ttl_days).
	Token string
}

// OpenLink verifies a tracked link token (GET /l/<siteKey>/<tok>; siteKey "" for the older
// /l/<tok>) against its tenant's secrets and resolves where its click is recorded. A link
// that does not verify comes back with the reason in Attribution and no error; the error is
// for a verified link whose hand-on token cannot be minted. nowSec is the current Unix
// time; Claims point into the returned scratch.
func (s *Sites) OpenLink(siteKey, tok string, nowSec int64, scratch []byte) (Click, []byte, error) {
	claims, a, scratch := s.verifyLink(tok, nowSec, scratch)
	if a != AttrToken || claims.Target == "" {
		return Click{Attribution: a}, scratch, nil
	}
	if checkLinkTarget(claims.Target) != nil {
		// Signed before targets were checked, or by hand: never redirect there.
		return Click{Attribution: AttrMalformed}, scratch, nil
	}
	t := s.byTenant[claims.Tenant]
	site := s.Site(t.defaultSite)
	if siteKey != "" {
		if site = s.Site(siteKey); site == nil || site.tenant != t {
			return Click{Attribution: AttrWrongTenant}, scratch, nil
		}
	}
	if claims.v1 {
		if site != nil && !site.acceptV1 {
			return Click{Attribution: AttrExpired}, scratch, nil
		}
		s.v1Uses.Add(1)
	}
	c := Click{Attribution: a, Claims: claims, Site: site}
	if site == nil {
		return c, scratch, errors.New("no site")
	}
	handOn := Claims{Tenant: claims.Tenant, Partner: claims.Partner, User: claims.User, Campaign: claims.Campaign, Expires: claims.Expires}
	var err error
	c.Token, err = t.mint(handOn, nowSec, site.tokenTTL)
	return c, scratch, err
}
