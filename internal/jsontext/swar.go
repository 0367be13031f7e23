package jsontext

import (
	"encoding/binary"
	"math/bits"
)

// SWAR (8 bytes per step) scans for the bytes that end a plain run of string text: a quote,
// a backslash or a control character (and, when encoding, any non-ASCII byte). A possible
// hit only sends the caller to its byte loop, so false positives cost time, never
// correctness.

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// PlainRun returns how many leading bytes of b (in whole 8-byte words) hold no quote,
// backslash or control byte; with ascii, no byte >= 0x80 either.
func PlainRun[T string | []byte](b T, ascii bool) int {
	i := 0
	for i+8 <= len(b) {
		v := uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
			uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
		q := v ^ (lsb * '"')
		s := v ^ (lsb * '\\')
		hit := ((v - lsb*0x20) &^ v) | ((q - lsb) &^ q) | ((s - lsb) &^ s)
		if ascii {
			hit |= v
		}
		if hit&msb != 0 {
			return i
		}
		i += 8
	}
	return i
}

// Stop returns the index of the first byte of b at or after i that ends a plain run of
// string text (a quote, a backslash or a byte below 0x20), or len(b) when there is none.
// Both decoders scan strings with it, 8 bytes per step. It is exact: the lowest byte the
// word test marks is always a true stop (a borrow only marks bytes above one), so the
// caller reads that byte and no other.
func Stop(b []byte, i int) int {
	for i+8 <= len(b) {
		v := binary.LittleEndian.Uint64(b[i:])
		q := v ^ (lsb * '"')
		s := v ^ (lsb * '\\')
		if hit := (((v - lsb*0x20) &^ v) | ((q - lsb) &^ q) | ((s - lsb) &^ s)) & msb; hit != 0 {
			return i + bits.TrailingZeros64(hit)/8
		}
		i += 8
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}
