package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beaconprm/beacon/beacon"
)

// After `make run` (beacon dev keeps its files under var/), `beacon link` works without
// flags, and the collector's defaults point at the same files.
func TestLinkAndCollectorDefaultsMatchTheDevStack(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := beacon.WriteDemoConfig(filepath.Join("var", "sites.json")); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	m := NewMain(&out, &errb)
	err := runLink(context.Background(), m, []string{"-link.partner=acme", "-link.user=jane", "-link.target=https://example.com/doc"})
	if err != nil || !strings.HasPrefix(out.String(), "http://127.0.0.1:8080/l/") {
		t.Fatalf("beacon link with default flags: %v, printed %q %s", err, out.String(), errb.String())
	}

	errb.Reset()
	if err := runCollector(context.Background(), m, []string{"-help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("collector -help: %v", err)
	}
	for _, want := range []string{`(default "var/sites.json")`, `(default "var/spool")`} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("collector flags lack %s:\n%s", want, errb.String())
		}
	}
}
