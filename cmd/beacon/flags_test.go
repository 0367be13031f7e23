package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beaconprm/beacon/collector"
)

func TestBytesFlag(t *testing.T) {
	ok := func(in string, want int64, show string) {
		t.Helper()
		b := newBytesFlag(1)
		if err := b.Set(in); err != nil {
			t.Fatalf("Set(%q): %v", in, err)
		}
		if b.n != want || b.String() != show {
			t.Errorf("Set(%q) = %d shown %q, want %d shown %q", in, b.n, b.String(), want, show)
		}
	}
	ok("65536", 65536, "64KiB")
	ok("64KiB", 64<<10, "64KiB")
	ok("32MiB", 32<<20, "32MiB")
	ok("1GiB", 1<<30, "1GiB")
	ok("2MB", 2000000, "2000000")
	ok("1000", 1000, "1000")
	for _, bad := range []string{"", "0", "-5", "abc", "1.5MiB", "10XB", "MiB"} {
		if err := newBytesFlag(1).Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

func TestSplitList(t *testing.T) {
	got := splitList(" a:1, ,b:2,")
	if len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
		t.Fatalf("splitList = %q, want [a:1 b:2]", got)
	}
	if got := splitList(""); len(got) != 0 {
		t.Fatalf("splitList(\"\") = %q, want none", got)
	}
}

func TestClickHousePassword(t *testing.T) {
	t.Setenv("BEACON_CLICKHOUSE_PASSWORD", "from-env")
	if p, err := clickhousePassword("", "x.passwordFile"); err != nil || p != "from-env" {
		t.Fatalf("no file: %q, %v; want the environment's", p, err)
	}
	f := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(f, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := clickhousePassword(f, "x.passwordFile"); err != nil || p != "from-file" {
		t.Fatalf("file: %q, %v; want from-file", p, err)
	}
	_, err := clickhousePassword(f+".missing", "x.passwordFile")
	if err == nil || !strings.Contains(err.Error(), "-x.passwordFile") {
		t.Fatalf("missing file: err = %v, want one naming -x.passwordFile", err)
	}
}

// The removed -collector.trustForwardedFor stops the collector with the flag to use instead,
// and -collector.trustedProxies refuses values that would trust any client.
func TestCollectorTrustFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-collector.trustForwardedFor"}, "-collector.trustedProxies"},
		{[]string{"-collector.trustedProxies=0.0.0.0/0"}, "trusts every address"},
		{[]string{"-collector.trustedProxies=10.0.0.0/8,proxy.internal"}, `"proxy.internal" is neither`},
	} {
		var out, errb bytes.Buffer
		err := runCollector(context.Background(), NewMain(&out, &errb), c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("collector %q: %v, want an error naming %s", c.args, err, c.want)
		}
	}
	for in, want := range map[string]string{"": "[]", "10.0.0.0/8, 192.0.2.7 ,2001:db8::/32": "[10.0.0.0/8 192.0.2.7/32 2001:db8::/32]", "::ffff:192.0.2.1": "[192.0.2.1/32]"} {
		p, err := collector.ParseTrustedProxies(in)
		if err != nil || fmt.Sprint(p) != want {
			t.Errorf("ParseTrustedProxies(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
}
