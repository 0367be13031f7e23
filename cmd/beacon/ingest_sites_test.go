package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// -ingest.sites reads site keys and tenants only (no secret file is opened), parses the file
// as the collector does (an unknown field is refused), and names itself in every error.
func TestIngestSiteTenants(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	got, err := siteTenants(write("ok.json", `{"sites":[{"site_key":"demo","tenant":"acme","secret_file":"missing.key"},{"site_key":"gx","tenant":"globex"}]}`))
	if err != nil || len(got) != 2 || got["demo"] != "acme" || got["gx"] != "globex" {
		t.Fatalf("siteTenants: %v, %v", got, err)
	}
	for _, path := range []string{filepath.Join(dir, "absent.json"), write("bad.json", `{"sites":`), write("empty.json", `{"sites":[]}`),
		write("notenant.json", `{"sites":[{"site_key":"demo"}]}`),
		write("typo.json", `{"sites":[{"site_key":"demo","tenant":"acme","tennant":"globex"}]}`)} { // refused as the collector refuses it
		if _, err := siteTenants(path); err == nil || !strings.Contains(err.Error(), "-ingest.sites") {
			t.Errorf("%s: %v, want an error naming -ingest.sites", filepath.Base(path), err)
		}
	}
}
