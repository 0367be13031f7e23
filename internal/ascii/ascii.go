// Package ascii holds the few byte-level helpers the wire format's decoders share
// (beacon's pipeline and beacon/site's tokens): reading ids, numbers and strings from request
// bytes without allocating.
package ascii

import "unsafe"

// String returns b as a string without copying. The string is valid only while b is not
// written: callers use it for bytes they own until the request ends.
func String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// ParseUint reads 1..18 decimal digits (no sign, no spaces): a number that fits an int64.
func ParseUint(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// IsID reports whether s is 1..64 of [A-Za-z0-9_-]: the spelling of visitor, session, site
// and tenant ids.
func IsID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
