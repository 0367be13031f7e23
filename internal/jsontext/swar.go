package jsontext

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
