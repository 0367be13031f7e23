package jsontext

import "testing"

func TestCursor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		stop int // where WS stops
	}{
		{"", 0}, {"x", 0}, {" \t\r\n{", 4}, {"  ", 2},
		{"\v{", 0}, {"\f{", 0}, {"\x00 ", 0}, {" \xa0", 1}, // only JSON's four white space bytes
	} {
		c := Cursor{Buf: []byte(tc.in)}
		c.WS()
		if c.Pos != tc.stop {
			t.Errorf("WS(%q) stopped at %d, want %d", tc.in, c.Pos, tc.stop)
		}
	}
	c := Cursor{Buf: []byte("ab")}
	if c.Eat('b') || c.Pos != 0 {
		t.Fatalf("Eat of another byte moved to %d", c.Pos)
	}
	if !c.Eat('a') || c.Peek() != 'b' || !c.Eat('b') || c.Peek() != 0 || c.Eat('b') {
		t.Fatalf("Eat/Peek through %q went wrong at %d", c.Buf, c.Pos)
	}
}

func TestEscapes(t *testing.T) {
	for in, want := range map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'} {
		if got, ok := Escaped(in); !ok || got != want {
			t.Errorf("Escaped(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []byte{'u', 'x', 'N', '0', '\''} {
		if _, ok := Escaped(in); ok {
			t.Errorf("Escaped(%q) is a one-letter escape", in)
		}
	}
	for _, tc := range []struct {
		in   string
		r    rune
		read int
	}{{"00e9", 0xe9, 4}, {"D83D\\u", 0xd83d, 4}, {"aBcD1", 0xabcd, 4}, {"12", 0x12, 2}, {"1g34", 0x1, 1}, {"", 0, 0}} {
		if r, n := Hex4([]byte(tc.in)); r != tc.r || n != tc.read {
			t.Errorf("Hex4(%q) = %#x, %d; want %#x, %d", tc.in, r, n, tc.r, tc.read)
		}
	}
}
