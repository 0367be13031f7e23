package ascii

import (
	"strings"
	"testing"
)

func TestParseUint(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "42": 42, "007": 7, strings.Repeat("9", 18): 999_999_999_999_999_999} {
		if n, ok := ParseUint([]byte(in)); !ok || n != want {
			t.Errorf("ParseUint(%q) = %d, %v; want %d", in, n, ok, want)
		}
	}
	for _, in := range []string{"", "-1", "+1", "1 ", " 1", "1.5", "0x10", strings.Repeat("9", 19)} {
		if n, ok := ParseUint([]byte(in)); ok {
			t.Errorf("ParseUint(%q) = %d, accepted", in, n)
		}
	}
}

func TestIsID(t *testing.T) {
	for _, s := range []string{"a", "demo", "v-1_X", strings.Repeat("z", 64)} {
		if !IsID(s) {
			t.Errorf("IsID(%q) = false", s)
		}
	}
	for _, s := range []string{"", strings.Repeat("z", 65), "a b", "a.b", "é", "a/b", "a\x00"} {
		if IsID(s) {
			t.Errorf("IsID(%q) = true", s)
		}
	}
}

func TestString(t *testing.T) {
	if String(nil) != "" || String([]byte("abc")) != "abc" {
		t.Fatal("String does not read its bytes")
	}
}
