package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
