package jsontext

import (
	"math/rand/v2"
	"testing"
)

// stopRef is Stop one byte at a time.
func stopRef(b []byte, i int) int {
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}

// Stop finds exactly the first quote, backslash or control byte: at every offset of a word,
// behind bytes that make the word test borrow (0x00, 0x1f, 0x20, 0x21, 0x22, 0x5c, 0x5d,
// 0x80, 0xff), and from every start.
func TestStop(t *testing.T) {
	tricky := []byte{0x00, 0x01, 0x1f, 0x20, 0x21, '"', '#', '\\', ']', 'a', 0x7f, 0x80, 0xc3, 0xff}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 200000; n++ {
		b := make([]byte, r.IntN(40))
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = tricky[r.IntN(len(tricky))]
			} else {
				b[i] = byte(0x23 + r.IntN(0x59)) // plain ASCII, no quote or backslash
			}
		}
		from := 0
		if len(b) > 0 {
			from = r.IntN(len(b) + 1)
		}
		if got, want := Stop(b, from), stopRef(b, from); got != want {
			t.Fatalf("Stop(%q, %d) = %d, want %d", b, from, got, want)
		}
	}
	plain := []byte("abcdefghijklmnopqrstuvwxyz é 0123456789")
	if got := Stop(plain, 0); got != len(plain) {
		t.Fatalf("Stop of a plain run = %d, want %d", got, len(plain))
	}
}
