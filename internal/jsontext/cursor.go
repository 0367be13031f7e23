package jsontext

// Cursor is a read position in a JSON text, shared by the collector's request decoder and
// the ingest's message parser: each embeds one and adds its own grammar on top.
type Cursor struct {
	Buf []byte
	Pos int
}

// WS skips JSON white space.
func (c *Cursor) WS() {
	for c.Pos < len(c.Buf) {
		b := c.Buf[c.Pos]
		if b > ' ' || (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
			return
		}
		c.Pos++
	}
}

// Peek is the byte at the position, 0 at the end.
func (c *Cursor) Peek() byte {
	if c.Pos < len(c.Buf) {
		return c.Buf[c.Pos]
	}
	return 0
}

// Eat consumes b if it is the byte at the position.
func (c *Cursor) Eat(b byte) bool {
	if c.Pos < len(c.Buf) && c.Buf[c.Pos] == b {
		c.Pos++
		return true
	}
	return false
}

// Escaped is the byte a one-letter JSON escape (\" \\ \/ \b \f \n \r \t) stands for, given
// the letter after the backslash; false for any other letter (\u has four hex digits: Hex4).
func Escaped(e byte) (byte, bool) {
	switch e {
	case '"', '\\', '/':
		return e, true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	}
	return 0, false
}

// Hex4 decodes up to four hex digits at the start of b and says how many it read (4 for a
// whole \u escape).
func Hex4(b []byte) (rune, int) {
	var r rune
	for n := range 4 {
		if n >= len(b) {
			return r, n
		}
		c := b[n]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return r, n
		}
	}
	return r, 4
}
