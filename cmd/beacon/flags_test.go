package main

import "testing"

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
