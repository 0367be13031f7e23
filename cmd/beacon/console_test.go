package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// beacon console refuses to start without a usable users file, naming the flag.
func TestConsoleFlags(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"users": [{"name": "ann", "passwordHash": "plain", "tenants": ["acme"]}]}`), 0o600)
	noTenants := filepath.Join(dir, "none.json")
	os.WriteFile(noTenants, []byte(`{"users": [{"name": "ann", "passwordHash": "", "tenants": []}]}`), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"console"}, "-console.users is required"},
		{[]string{"console", "-console.users", filepath.Join(dir, "missing.json")}, "cannot read -console.users"},
		{[]string{"console", "-console.users", bad}, "not a bcrypt hash"},
		{[]string{"console", "-console.users", noTenants}, "has no tenants"},
		{[]string{"console", "-console.users", bad, "-console.listenAddr", "nowhere"}, "-console.listenAddr"},
		{[]string{"console", "-console.users", bad, "-console.tlsCert", "c.pem"}, "-console.tlsCert and -console.tlsKey go together"},
		{[]string{"console", "extra"}, "takes no arguments"},
	} {
		var out, errOut bytes.Buffer
		err := NewMain(&out, &errOut).Run(context.Background(), c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("beacon %s: %v, want an error with %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}
