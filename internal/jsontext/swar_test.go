package jsontext

import "testing"

func TestPlainRun(t *testing.T) {
	f := func(s string, ascii bool, want int) {
		t.Helper()
		if got := PlainRun(s, ascii); got != want {
			t.Errorf("PlainRun(%q, %v) = %d, want %d", s, ascii, got, want)
		}
		if got := PlainRun([]byte(s), ascii); got != want {
			t.Errorf("PlainRun([]byte %q, %v) = %d, want %d", s, ascii, got, want)
		}
	}
	f("abcdefghijklmnopq", false, 16)
	f("abcdefg\"ijklmnop", false, 0)
	f("abcdefghijklmn\\p", false, 8)
	f("abcdefghijklm\x1fop", false, 8)
	f("abcdefghé", false, 8)
	f("abcdefghijklmnéopqrs", true, 8)
	f("abcdéfghijklmnop", false, 16)
	f("\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", false, 8)
	f(" !#$%&'()*+,-./0123456789", false, 24)
	f("short", false, 0)
	// Every byte value in every position: a run never includes a special byte.
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			special := c < 0x20 || c == '"' || c == '\\'
			if n := PlainRun(b, false); special && n != 0 {
				t.Fatalf("byte %#x at %d passed", c, pos)
			}
			if n := PlainRun(b, true); (special || c >= 0x80) && n != 0 {
				t.Fatalf("ascii: byte %#x at %d passed", c, pos)
			}
		}
	}
}
