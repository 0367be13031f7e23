package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/beaconprm/beacon/schema"
)

// beacon biuser reads the tables from a migrated database and prints a users.d file that
// filters each of them, with the password's hash only; bad input names its flag.
func TestBIUserCommand(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	if _, err := schema.Migrate(context.Background(), ch.Conn(t), schema.Options{Database: ch.Database}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pw := filepath.Join(dir, "bi.password")
	os.WriteFile(pw, []byte("a-long-bi-password-0123\n"), 0o600)
	run := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := NewMain(&out, &errb).Run(context.Background(), append([]string{"biuser", "-clickhouse.addr", ch.NativeAddr,
			"-clickhouse.database", ch.Database}, args...))
		return out.String(), err
	}
	out, err := run("-biuser.tenant", "acme-eu", "-biuser.passwordFile", pw)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<bi_acme_eu>", "<events><filter>tenant = 'acme-eu'</filter></events>",
		"<searches><filter>tenant = 'acme-eu'</filter></searches>", "<readonly>2</readonly>", "<password_sha256_hex>"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "a-long-bi-password") || strings.Contains(out, "schema_migrations") {
		t.Errorf("output holds the password or filters schema_migrations:\n%s", out)
	}
	if out, err = run("-biuser.tenant", "acme", "-biuser.passwordFile", pw, "-biuser.format", "sql"); err != nil || !strings.Contains(out, "CREATE ROW POLICY") {
		t.Fatalf("sql: %v\n%s", err, out)
	}
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("short"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-biuser.passwordFile", pw}, "-biuser.tenant"},
		{[]string{"-biuser.tenant", "acme"}, "-biuser.passwordFile"},
		{[]string{"-biuser.tenant", "ac'me", "-biuser.passwordFile", pw}, "-biuser.tenant"},
		{[]string{"-biuser.tenant", "acme", "-biuser.passwordFile", short}, "at least 16"},
		{[]string{"-biuser.tenant", "acme", "-biuser.passwordFile", pw, "-biuser.format", "json"}, "-biuser.format"},
		{[]string{"-biuser.tenant", "acme", "-biuser.passwordFile", pw, "-biuser.maxResultRows", "0"}, "-biuser.maxResultRows"},
	} {
		if _, err := run(c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.args, err, c.want)
		}
	}
}
