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
