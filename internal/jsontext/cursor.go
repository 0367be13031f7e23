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
