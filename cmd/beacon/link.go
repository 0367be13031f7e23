package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/beaconprm/beacon/beacon/site"
)

// runLink prints a tracked link carrying a v2 token (encrypted with a key derived from the
// tenant's current secret): opening it records a click attributed to the partner user and
// redirects to the target with the partner token.
func runLink(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("link")
	var (
		sites   = fs.String("link.sites", "var/sites.json", "site config file holding the tenant's secret source")
		siteKey = fs.String("link.site", "demo", "site key the link's clicks are recorded on; its tenant signs the link and its privacy settings (respect_dnt, require_consent) apply to the click")
		c       site.Claims
		base    = fs.String("link.base", "http://127.0.0.1:8080", "public URL of the collector")
		ttl     = fs.Duration("link.ttl", 0, "link lifetime (e.g. 720h); 0 = the site's token_ttl_days (default 180 days)")
	)
	fs.StringVar(&c.Tenant, "link.tenant", "", "tenant; must be -link.site's (default: the tenant of -link.site)")
	fs.StringVar(&c.Partner, "link.partner", "", "partner company id (required)")
	fs.StringVar(&c.User, "link.user", "", "partner user (person) id")
	fs.StringVar(&c.Campaign, "link.campaign", "", "campaign id")
	fs.StringVar(&c.Content, "link.content", "", "content id the link opens")
	fs.StringVar(&c.Target, "link.target", "", "target URL (required, http or https)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("beacon link: unexpected arguments %q", fs.Args())
	}
	if c.Partner == "" || c.Target == "" {
		return errors.New("beacon link: -link.partner and -link.target are required")
	}
	s, err := site.LoadConfig(*sites)
	if err != nil {
		return fmt.Errorf("beacon link: %w", err)
	}
	st := s.Site(*siteKey)
	if st == nil {
		return fmt.Errorf("beacon link: site %q is not in %s; set -link.site", *siteKey, *sites)
	}
	if c.Tenant == "" {
		c.Tenant = st.Tenant
	}
	if c.Tenant != st.Tenant {
		return fmt.Errorf("beacon link: -link.site %s belongs to tenant %s, not -link.tenant %s", *siteKey, st.Tenant, c.Tenant)
	}
	if *ttl > 0 {
		c.Expires = time.Now().Add(*ttl).Unix()
	}
	u, err := s.LinkURL(*base, *siteKey, c)
	if err != nil {
		return fmt.Errorf("beacon link: %w", err)
	}
	fmt.Fprintln(m.Stdout, u)
	return nil
}
