package site

import (
	"strings"
	"testing"
	"time"
)

const testSecret = "test-secret-0123456789abcdef0123456789"

// testNow is the Unix second the tests verify at (a fixed day, so expiries are reproducible).
var testNow = time.Date(2026, 11, 23, 17, 40, 0, 0, time.UTC).Unix()

// testSites returns sites "demo" (tenant demo) and "other" (tenant other, DNT and consent
// on), their secrets read from the environment.
func testSites(t testing.TB) *Sites {
	t.Helper()
	t.Setenv("SITE_TEST_DEMO", testSecret)
	t.Setenv("SITE_TEST_OTHER", "other-secret-0123456789abcdef0123456789")
	s, err := NewSites(ConfigFile{Sites: []Config{
		{SiteKey: "demo", Tenant: "demo", AllowedOrigins: []string{"http://localhost:*", "https://*.example.com"}, SecretEnv: "SITE_TEST_DEMO"},
		{SiteKey: "other", Tenant: "other", SecretEnv: "SITE_TEST_OTHER", RespectDNT: true, RequireConsent: true},
	}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tamper flips one bit of a token's encrypted payload (its last byte) and keeps its tag:
// what someone without the key can do.
func tamper(t testing.TB, tok string) string {
	t.Helper()
	dot := strings.IndexByte(tok, '.')
	body, err := b64.DecodeString(tok[:dot])
	if err != nil || len(body) < 20 || body[0] != tokenV2 {
		t.Fatalf("not a v2 token: %q", tok)
	}
	body[len(body)-1] ^= 1
	return b64.EncodeToString(body) + tok[dot:]
}
