package site

import (
	"strings"
	"testing"
)

// TestSecretRotation mints a link with a tenant's old secret and checks it against the
// config of each step of a rotation: before (old secret), during (new secret, old as
// previous: it verifies and is counted), after (new only: bad signature); new links verify
// throughout the rotation. Misconfigured rotations are refused.
func TestSecretRotation(t *testing.T) {
	const old, cur = "old-secret-0123456789abcdef0123456789", "new-secret-0123456789abcdef0123456789"
	sites := func(secret, previous string) (*Sites, error) {
		t.Setenv("ROT_SECRET", secret)
		t.Setenv("ROT_PREVIOUS", previous)
		sc := Config{SiteKey: "portal", Tenant: "acme", SecretEnv: "ROT_SECRET"}
		if previous != "" {
			sc.PreviousSecretEnv = "ROT_PREVIOUS"
		}
		return NewSites(ConfigFile{Sites: []Config{sc}}, t.TempDir())
	}
	must := func(s *Sites, err error) *Sites {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	claims := Claims{Tenant: "acme", Partner: "reseller-42", User: "jane"}
	before := must(sites(old, ""))
	oldTok, err := before.Mint(claims)
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, s *Sites, tok string, want Attribution, wantUses int64) {
		t.Helper()
		c, got, _ := s.Site("portal").VerifyToken(tok, 1_800_000_000, nil)
		if got != want {
			t.Errorf("%s: %v, want %v", step, got, want)
		}
		if got == AttrToken && (c.Partner != "reseller-42" || c.User != "jane") {
			t.Errorf("%s: claims %+v", step, c)
		}
		if n := s.PreviousSecretUses(); n != wantUses {
			t.Errorf("%s: %d uses of the previous secret counted, want %d", step, n, wantUses)
		}
	}
	check("before the rotation", before, oldTok, AttrToken, 0)

	during := must(sites(cur, old))
	newTok, err := during.Mint(claims)
	if err != nil {
		t.Fatal(err)
	}
	if newTok == oldTok {
		t.Fatal("a link minted during the rotation is signed with the previous secret")
	}
	check("during, an old link", during, oldTok, AttrToken, 1)
	check("during, a new link", during, newTok, AttrToken, 1)

	after := must(sites(cur, ""))
	check("after, an old link", after, oldTok, AttrBadSignature, 0)
	check("after, a new link", after, newTok, AttrToken, 0)

	if _, err := sites(cur, cur); err == nil || !strings.Contains(err.Error(), "equals the current") {
		t.Errorf("previous = current: %v", err)
	}
	if _, err := sites(cur, "short"); err == nil || !strings.Contains(err.Error(), "previous secret") {
		t.Errorf("a short previous secret: %v", err)
	}
	t.Setenv("ROT_SECRET", cur)
	t.Setenv("ROT_PREVIOUS", old)
	_, err = NewSites(ConfigFile{Sites: []Config{
		{SiteKey: "a", Tenant: "acme", SecretEnv: "ROT_SECRET", PreviousSecretEnv: "ROT_PREVIOUS"},
		{SiteKey: "b", Tenant: "acme", SecretEnv: "ROT_SECRET"},
	}}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "previous secret") {
		t.Errorf("two sites of one tenant, one without the previous secret: %v", err)
	}
}
