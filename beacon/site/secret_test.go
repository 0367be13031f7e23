package site

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tenant secret shorter than 32 bytes, or one shared by two tenants, is refused (review
// probe O5: a 16-byte secret and one secret for two tenants were accepted). A previous secret
// may still be a short one, so a tenant can rotate away from it.
func TestWeakSecretsRefused(t *testing.T) {
	dir := t.TempDir()
	write := func(name, secret string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("short", strings.Repeat("a", 31))
	write("ok", strings.Repeat("k", 32))
	write("ok2", strings.Repeat("m", 40))
	write("old16", strings.Repeat("o", 16))
	load := func(sites ...Config) error {
		_, err := NewSites(ConfigFile{Sites: sites}, dir)
		return err
	}
	if err := load(Config{SiteKey: "s", Tenant: "t", SecretFile: "short"}); err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Errorf("a 31-byte secret: %v", err)
	}
	if err := load(Config{SiteKey: "s", Tenant: "t", SecretFile: "ok"}); err != nil {
		t.Errorf("a 32-byte secret: %v", err)
	}
	if err := load(Config{SiteKey: "s", Tenant: "t", SecretFile: "ok", PreviousSecretFile: "old16"}); err != nil {
		t.Errorf("rotating away from a 16-byte secret: %v", err)
	}
	if err := load(Config{SiteKey: "s", Tenant: "t", SecretFile: "ok"}, Config{SiteKey: "s2", Tenant: "t2", SecretFile: "ok"}); err == nil || !strings.Contains(err.Error(), "tenant t") {
		t.Errorf("two tenants sharing a secret: %v", err)
	}
	if err := load(Config{SiteKey: "s", Tenant: "t", SecretFile: "ok"}, Config{SiteKey: "s2", Tenant: "t2", SecretFile: "ok2", PreviousSecretFile: "ok"}); err == nil {
		t.Error("a tenant's previous secret is another tenant's current one: accepted")
	}
	if err := load(Config{SiteKey: "s", Tenant: "t", SecretFile: "ok"}, Config{SiteKey: "s2", Tenant: "t", SecretFile: "ok"}); err != nil {
		t.Errorf("two sites of one tenant: %v", err)
	}
}
