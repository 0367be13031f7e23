package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/beacon"
	"github.com/beaconprm/beacon/beacon/site"
)

// After `make run` (beacon dev keeps its files under var/), `beacon link` works without
// flags, and the collector's defaults point at the same files.
func TestLinkAndCollectorDefaultsMatchTheDevStack(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := site.WriteDemoConfig(filepath.Join("var", "sites.json")); err != nil {
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

// beacon link mints v2 links: the token is encrypted (no id readable from the link) and
// expires after the site's token_ttl_days.
func TestLinkMintsV2(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := site.WriteDemoConfig(filepath.Join("var", "sites.json")); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	m := NewMain(&out, &errb)
	if err := runLink(context.Background(), m, []string{"-link.partner=acme-partner", "-link.user=jane@acme.example", "-link.campaign=q4-campaign", "-link.target=https://example.com/doc-page"}); err != nil {
		t.Fatalf("beacon link: %v %s", err, errb.String())
	}
	link := strings.TrimSpace(out.String())
	tok := link[strings.LastIndexByte(link, '/')+1:]
	body, err := base64.RawURLEncoding.DecodeString(tok[:max(strings.IndexByte(tok, '.'), 0)])
	if err != nil || len(body) == 0 || body[0] != 2 {
		t.Fatalf("link %q: token is not v2 (%v)", link, err)
	}
	for _, id := range []string{"acme-partner", "jane", "q4-campaign", "doc-page"} {
		if strings.Contains(link, id) || strings.Contains(string(body), id) {
			t.Errorf("link %q shows %q", link, id)
		}
	}
	sites, err := site.LoadConfig(filepath.Join("var", "sites.json"))
	if err != nil {
		t.Fatal(err)
	}
	var w beacon.Work
	at := func(days int) site.Attribution {
		l, _ := w.ProcessLink(sites, "demo", tok, &beacon.Input{Now: time.Now().Add(time.Duration(days) * 24 * time.Hour).UnixMilli()})
		return l.Attribution
	}
	if a := at(0); a != site.AttrToken {
		t.Fatalf("link today: %v", a)
	}
	if a := at(181); a != site.AttrExpired {
		t.Fatalf("link after 181 days: %v, want expired (default token_ttl_days 180)", a)
	}
}
