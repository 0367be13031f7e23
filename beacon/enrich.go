package beacon

import (
	"net/netip"
	"strings"

	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/internal/jsontext"

	"github.com/cespare/xxhash/v2"
)

// AppendIPPrefix writes the network of addr that events keep (its /24 or /48), the form in
// which the collector also logs addresses.
func AppendIPPrefix(dst []byte, addr netip.Addr) []byte { return appendIPPrefix(dst, addr) }

// appendIPPrefix writes the /24 (IPv4) or /48 (IPv6) network of addr; the host part is dropped
// so the stored value cannot name one machine.
func appendIPPrefix(dst []byte, addr netip.Addr) []byte {
	addr = addr.Unmap()
	switch {
	case addr.Is4():
		a := addr.As4()
		dst = appendUint(dst, uint64(a[0]))
		dst = append(dst, '.')
		dst = appendUint(dst, uint64(a[1]))
		dst = append(dst, '.')
		dst = appendUint(dst, uint64(a[2]))
		return append(dst, '.', '0')
	case addr.Is6():
		a := addr.As16()
		for i := 0; i < 6; i += 2 {
			v := uint16(a[i])<<8 | uint16(a[i+1])
			dst = appendHex16(dst, v)
			dst = append(dst, ':')
		}
		return append(dst, ':')
	}
	return dst
}

func appendHex16(dst []byte, v uint16) []byte {
	started := false
	for shift := 12; shift >= 0; shift -= 4 {
		d := byte(v>>shift) & 0xf
		if d != 0 || started || shift == 0 {
			dst = append(dst, jsontext.HexDigits[d])
			started = true
		}
	}
	return dst
}

func appendUint(dst []byte, v uint64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// appendCleanURL writes u as it may be stored: without its fragment and user info, and with
// only the query parameters a site keeps (utm_* and the names in keep, compared after
// percent-decoding); the partner token parameter is removed in every spelling (any case,
// percent-encoded, repeated), and so is a kept parameter whose value carries one. A URL
// whose scheme is not http or https (mailto:, tel:, javascript:) is stored as its scheme
// alone: what follows names a person or is code. It appends to dst only (no allocation).
func appendCleanURL(dst []byte, u string, keep []string) []byte {
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	rest := u
	if i := schemeEnd(u); i > 0 {
		scheme := u[:i]
		if !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") {
			return append(dst, u[:i+1]...)
		}
		if strings.HasPrefix(u[i+1:], "//") {
			dst = append(dst, u[:i+3]...)
			rest = u[i+3:]
			auth := rest
			if j := strings.IndexAny(auth, "/?"); j >= 0 {
				auth = auth[:j]
			}
			if j := strings.LastIndexByte(auth, '@'); j >= 0 {
				rest = rest[j+1:] // user info (names, passwords) is never stored
			}
		}
	}
	q := strings.IndexByte(rest, '?')
	if q < 0 {
		return append(dst, rest...)
	}
	dst = append(dst, rest[:q]...)
	query := rest[q+1:]
	first := true
	for len(query) > 0 {
		var param string
		if i := strings.IndexByte(query, '&'); i >= 0 {
			param, query = query[:i], query[i+1:]
		} else {
			param, query = query, ""
		}
		name, value := param, ""
		if i := strings.IndexByte(param, '='); i >= 0 {
			name, value = param[:i], param[i+1:]
		}
		if name == "" || !keptParam(name, keep) || decodedContainsFold(value, site.TokenParam) {
			continue
		}
		if first {
			dst = append(dst, '?')
			first = false
		} else {
			dst = append(dst, '&')
		}
		dst = append(dst, param...)
	}
	return dst
}

// schemeEnd returns the index of the ':' ending u's scheme, or -1 when u has none.
func schemeEnd(u string) int {
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}

// keptParam reports whether a query parameter (its name as sent, percent-encoded) is kept:
// utm_* in any case, or exactly a name in keep; never the partner token parameter.
func keptParam(name string, keep []string) bool {
	if decodedMatch(name, site.TokenParam, true, true) {
		return false
	}
	if decodedMatch(name, "utm_", true, false) {
		return true
	}
	for _, k := range keep {
		if decodedMatch(name, k, false, true) {
			return true
		}
	}
	return false
}

// queryDecoder yields the bytes of a query component as a server decodes it: %XX is one
// byte, + is a space. It decodes in place, so comparing never allocates.
type queryDecoder struct {
	s string
	i int
}

func (d *queryDecoder) next() (byte, bool) {
	if d.i >= len(d.s) {
		return 0, false
	}
	c := d.s[d.i]
	switch {
	case c == '%' && d.i+2 < len(d.s) && isHex(d.s[d.i+1]) && isHex(d.s[d.i+2]):
		c = unhex(d.s[d.i+1])<<4 | unhex(d.s[d.i+2])
		d.i += 3
		return c, true
	case c == '+':
		c = ' '
	}
	d.i++
	return c, true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// decodedMatch reports whether s, percent-decoded, starts with want (whole: is exactly
// want); with fold, s is compared lowercased (want is lowercase ASCII then).
func decodedMatch(s, want string, fold, whole bool) bool {
	d := queryDecoder{s: s}
	for i := 0; i < len(want); i++ {
		c, ok := d.next()
		if fold {
			c = lowerASCII(c)
		}
		if !ok || c != want[i] {
			return false
		}
	}
	if !whole {
		return true
	}
	_, more := d.next()
	return !more
}

// decodedContainsFold reports whether s, decoded, contains the lowercase ASCII word in any
// case. The word has no repeated prefix ("pb_t"), so a mismatch restarts at the current byte.
func decodedContainsFold(s, word string) bool {
	d := queryDecoder{s: s}
	n := 0
	for {
		c, ok := d.next()
		if !ok {
			return false
		}
		c = lowerASCII(c)
		if c != word[n] {
			n = 0
		}
		if c == word[n] {
			n++
			if n == len(word) {
				return true
			}
		}
	}
}

// appendDerivedUUID writes a UUID (version 8, RFC 9562) derived from seed, for events the
// client sent without an id: the same batch resent gets the same ids, so duplicates
// stay harmless downstream.
func appendDerivedUUID(dst, seed []byte) []byte {
	var u [16]byte
	h1 := xxhash.Sum64(seed)
	h2 := xxhash.Sum64(append(seed, 0xff)) // seed is the caller's scratch: appending is fine
	for i := 0; i < 8; i++ {
		u[i] = byte(h1 >> (56 - 8*i))
		u[8+i] = byte(h2 >> (56 - 8*i))
	}
	u[6] = u[6]&0x0f | 0x80
	u[8] = u[8]&0x3f | 0x80
	return appendUUID(dst, u)
}

func appendUUID(dst []byte, u [16]byte) []byte {
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, jsontext.HexDigits[c>>4], jsontext.HexDigits[c&0xf])
	}
	return dst
}

// appendLowerUUID writes a validated UUID in lowercase: its bytes are hex digits and '-',
// and setting bit 0x20 lowercases 'A'-'F' and leaves '0'-'9' and '-' as they are (no
// branch on the letters, which come at random).
func appendLowerUUID(dst []byte, s string) []byte {
	n := len(dst)
	dst = append(dst, s...)
	for i := n; i < len(dst); i++ {
		dst[i] |= 0x20
	}
	return dst
}
