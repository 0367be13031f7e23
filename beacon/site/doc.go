// Package site is who may send events and who they are for: the site config (site keys, the
// tenant each belongs to, allowed browser origins, privacy settings, where each tenant's
// secret is read from), the tenants' secrets and their rotation, the partner tokens minted
// and verified with them (WIRE.md, "Partner tokens and tracked links"), and tracked links.
//
//	sites, err := site.LoadConfig("var/sites.json")        // read once, reloaded whole
//	tok, err := sites.Mint(site.Claims{Tenant: "acme", Partner: "r42", User: "jane"})
//	link, err := sites.LinkURL(base, "portal", claims)      // what `beacon link` prints
//	claims, attr, scratch := sites.Site("portal").VerifyToken(tok, nowSec, scratch)
//	click, scratch, err := sites.OpenLink("portal", tok, nowSec, scratch) // GET /l/<site>/<token>
//
// Verification does not allocate: the claims point into the caller's scratch.
package site
