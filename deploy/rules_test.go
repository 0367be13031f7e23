// Package deploy holds no Go code: its tests check the shipped operations files (alert rules,
// Prometheus configuration) with the real tools and against a real stack.
package deploy

import (
	"os/exec"
	"strings"
	"testing"
)

// promtool returns the path of promtool, skipping the test when it is not installed
// (scripts/deps.sh installs Debian's prometheus package, which has it, for make test).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not found: install Debian's prometheus package (scripts/deps.sh does so for make test)")
	}
	return p
}

// TestAlertRules checks the rule file and runs its unit tests: each alert must fire, with its
// rendered summary, on the series written for it, and stay silent where it must.
func TestAlertRules(t *testing.T) {
	pt := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", "prometheus/beacon.rules.yml"},
		{"check", "config", "prometheus/prometheus.yml"},
		{"test", "rules", "prometheus/beacon.rules.test.yml"},
	} {
		out, err := exec.Command(pt, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
