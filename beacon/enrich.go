package beacon

import (
	"bytes"
	"github.com/beaconprm/beacon/internal/jsontext"
	"net/netip"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// Client is what the collector learns about the sender of a request, once per request.
type Client struct {
	Device    string // desktop | mobile | tablet | bot | unknown
	BotReason string // "" or ua:<token>, scanner:<name>, prefetch
}

// uaRule maps a lowercase User-Agent substring to a bot reason. Specific names come first so
// the reason says who it was; generic words catch the rest.
type uaRule struct{ sub, reason string }

var scannerRules = [...]uaRule{
	{"barracuda", "scanner:barracuda"},
	{"mimecast", "scanner:mimecast"},
	{"proofpoint", "scanner:proofpoint"},
	{"messagelabs", "scanner:symantec"},
	{"symantec", "scanner:symantec"},
	{"trendmicro", "scanner:trendmicro"},
	{"forcepoint", "scanner:forcepoint"},
	{"ironport", "scanner:cisco"},
	{"safelinks", "scanner:microsoft"},
	{"ms-office", "scanner:microsoft"},
	{"microsoft office", "scanner:microsoft"},
	{"googleimageproxy", "scanner:gmail-proxy"},
	{"yahoomailproxy", "scanner:yahoo-proxy"},
}

var botRules = [...]uaRule{
	{"googlebot", "ua:googlebot"},
	{"bingbot", "ua:bingbot"},
	{"yandex", "ua:yandex"},
	{"baiduspider", "ua:baidu"},
	{"duckduckbot", "ua:duckduckbot"},
	{"applebot", "ua:applebot"},
	{"facebookexternalhit", "ua:facebook"},
	{"slackbot", "ua:slack"},
	{"linkedinbot", "ua:linkedin"},
	{"twitterbot", "ua:twitter"},
	{"headlesschrome", "ua:headless"},
	{"phantomjs", "ua:headless"},
	{"lighthouse", "ua:lighthouse"},
	{"curl/", "ua:curl"},
	{"wget", "ua:wget"},
	{"python-", "ua:python"},
	{"go-http-client", "ua:go"},
	{"java/", "ua:java"},
	{"okhttp", "ua:okhttp"},
	{"node-fetch", "ua:node"},
	{"axios", "ua:node"},
	{"bot", "ua:bot"},
	{"crawl", "ua:crawler"},
	{"spider", "ua:spider"},
	{"preview", "ua:preview"},
}

// maxUALen bounds how much of a User-Agent is classified (and stored).
const maxUALen = 512

// classifyUA sets c.Device and c.BotReason from the User-Agent and whether the request is a
// prefetch (Purpose/Sec-Purpose/X-Moz headers). lower is scratch for the lowercased UA.
func classifyUA(c *Client, ua string, prefetch bool, lower []byte) []byte {
	if len(ua) > maxUALen {
		ua = ua[:maxUALen]
	}
	lower = lower[:0]
	for i := 0; i < len(ua); i++ {
		ch := ua[i]
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		lower = append(lower, ch)
	}
	c.Device, c.BotReason = "unknown", ""
	if len(lower) == 0 {
		c.Device, c.BotReason = "bot", "ua:empty"
		return lower
	}
	for _, r := range scannerRules {
		if bytes.Contains(lower, []byte(r.sub)) {
			c.Device, c.BotReason = "bot", r.reason
			return lower
		}
	}
	for _, r := range botRules {
		if bytes.Contains(lower, []byte(r.sub)) {
			c.Device, c.BotReason = "bot", r.reason
			return lower
		}
	}
	if prefetch {
		c.BotReason = "prefetch"
	}
	has := func(s string) bool { return bytes.Contains(lower, []byte(s)) }
	switch {
	case has("ipad") || has("tablet") || (has("android") && !has("mobile")):
		c.Device = "tablet"
	case has("mobi") || has("iphone") || has("android"):
		c.Device = "mobile"
	case has("windows") || has("macintosh") || has("x11") || has("cros") || has("linux"):
		c.Device = "desktop"
	}
	return lower
}

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

// appendCleanURL writes u without its fragment and without the pb_t (partner token)
// parameter, which must not end up in stored URLs.
func appendCleanURL(dst []byte, u string) []byte {
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	q := strings.IndexByte(u, '?')
	if q < 0 {
		return append(dst, u...)
	}
	dst = append(dst, u[:q]...)
	query := u[q+1:]
	first := true
	for len(query) > 0 {
		var param string
		if i := strings.IndexByte(query, '&'); i >= 0 {
			param, query = query[:i], query[i+1:]
		} else {
			param, query = query, ""
		}
		if param == "" || param == "pb_t" || strings.HasPrefix(param, "pb_t=") {
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
