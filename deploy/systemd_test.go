package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/internal/testenv"
)

// TestSystemdUnits verifies the units with systemd itself, holds their hardening to an
// exposure level of at most 2.0 ("OK" in systemd-analyze security), and runs each
// ExecStart's flags, and the example environment file's, through the real flag parser.
func TestSystemdUnits(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not found: the units cannot be verified on this machine")
	}
	bin := testenv.BuildBeacon(t)
	dir := t.TempDir()
	env := map[string]string{
		"beacon-collector.service": readFile(t, "systemd/collector.env.example"),
		"beacon-ingest.service":    readFile(t, "systemd/ingest.env.example"),
	}
	for _, unit := range []string{"beacon-collector.service", "beacon-ingest.service"} {
		text := strings.ReplaceAll(readFile(t, "systemd/"+unit), "/usr/local/bin/beacon", bin)
		path := filepath.Join(dir, unit)
		writeFile(t, path, text)
		if out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out)
		}
		out, _ := exec.Command("systemd-analyze", "security", "--offline=true", path).CombinedOutput()
		m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out)
		if m == nil {
			t.Errorf("systemd-analyze security %s: no exposure level in:\n%s", unit, out)
		} else if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2.0 {
			t.Errorf("%s: exposure level %.1f, want at most 2.0", unit, level)
		}

		args := execStart(t, text)
		if e := env[unit]; e != "" {
			_, flags, _ := strings.Cut(strings.TrimSpace(lastLine(e)), "=")
			args = append(args, strings.Fields(flags)...)
		}
		for i, a := range args {
			a = strings.ReplaceAll(a, "${STATE_DIRECTORY}", "/var/lib/beacon/spool")
			args[i] = strings.ReplaceAll(a, "${CREDENTIALS_DIRECTORY}", "/run/credentials/x")
		}
		out, _ = exec.Command(args[0], append(args[1:], "-help")...).CombinedOutput()
		if !strings.Contains(string(out), "Usage of beacon") || strings.Contains(string(out), "not defined") || strings.Contains(string(out), "invalid") {
			t.Errorf("%s: its flags do not parse:\n%s\n%s", unit, strings.Join(args, " "), out)
		}
	}
}

// execStart returns the ExecStart command line of a unit, without the $VARIABLE expansions
// of an environment file.
func execStart(t *testing.T, unit string) []string {
	t.Helper()
	_, after, ok := strings.Cut(unit, "\nExecStart=")
	if !ok {
		t.Fatal("no ExecStart")
	}
	var line strings.Builder
	for _, l := range strings.Split(after, "\n") {
		line.WriteString(strings.TrimSuffix(l, "\\") + " ")
		if !strings.HasSuffix(l, "\\") {
			break
		}
	}
	var args []string
	for _, f := range strings.Fields(line.String()) {
		if !strings.HasPrefix(f, "$BEACON_") {
			args = append(args, f)
		}
	}
	return args
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestExampleSites loads the example production site config with the collector's own
// loader, its secrets supplied as the config says (a file beside it, an environment variable).
func TestExampleSites(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sites.json"), readFile(t, "sites.example.json"))
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "secrets", "acme.key"), "acme-secret-at-least-32-bytes-long-0123\n")
	t.Setenv("BEACON_SECRET_GLOBEX", "globex-secret-at-least-32-bytes-long-0123")
	sites, err := site.LoadConfig(filepath.Join(dir, "sites.json"))
	if err != nil {
		t.Fatal(err)
	}
	if sites.Len() != 3 {
		t.Fatalf("%d sites, want 3", sites.Len())
	}
	if s := sites.Site("acme-partner-portal"); s == nil || s.Tenant != "acme" || !s.RequireConsent || !s.OriginAllowed("https://partners.acme.example") || s.OriginAllowed("https://evil.example") {
		t.Fatalf("acme-partner-portal loaded as %+v", s)
	}
	if s := sites.Site("globex-portal"); s == nil || !s.OriginAllowed("https://partners.globex.example") {
		t.Fatalf("globex-portal loaded as %+v", s)
	}
}
