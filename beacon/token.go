package beacon

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"
)

// Claims are what a partner token signs (WIRE.md, "Partner tokens and tracked links").
type Claims struct {
	Tenant   string
	Partner  string
	User     string // partner user (person)
	Campaign string
	Content  string // content id the link is for, optional
	Expires  int64  // Unix seconds; 0 = never
	Target   string // redirect target of a tracked link; empty in attribution tokens
}

// Attribution is the outcome of checking a batch's token.
type Attribution uint8

const (
	AttrNone Attribution = iota
	AttrToken
	AttrMalformed
	AttrBadSignature
	AttrExpired
	AttrWrongTenant
	// NumAttributions is the number of outcomes (array sizes indexed by Attribution).
	NumAttributions
)

var attrNames = [NumAttributions]string{"none", "token", "malformed", "bad_signature", "expired", "wrong_tenant"}

func (a Attribution) String() string { return attrNames[a] }

const (
	tokenSep     = 0x1f
	tokenMACLen  = 16
	maxTokenLen  = 1024
	maxClaimLen  = 256
	tokenVersion = "1"
)

var b64 = base64.RawURLEncoding

// checkClaims refuses claims that cannot be encoded or would be useless for attribution.
func checkClaims(c Claims) error {
	if c.Tenant == "" || c.Partner == "" {
		return errors.New("tenant and partner are required")
	}
	for _, f := range [...]struct{ name, v string }{{"tenant", c.Tenant}, {"partner", c.Partner}, {"user", c.User}, {"campaign", c.Campaign}, {"content", c.Content}} {
		if len(f.v) > maxClaimLen {
			return fmt.Errorf("%s is longer than %d bytes", f.name, maxClaimLen)
		}
		if strings.IndexFunc(f.v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			return fmt.Errorf("%s contains control characters", f.name)
		}
	}
	if strings.IndexByte(c.Target, tokenSep) >= 0 || len(c.Target) > 2048 {
		return errors.New("target is longer than 2048 bytes or has control characters")
	}
	if c.Expires < 0 {
		return errors.New("expiry must not be negative")
	}
	return nil
}

func appendPayload(b []byte, c Claims) []byte {
	b = append(b, tokenVersion...)
	for _, f := range [...]string{c.Tenant, c.Partner, c.User, c.Campaign, c.Content} {
		b = append(b, tokenSep)
		b = append(b, f...)
	}
	b = append(b, tokenSep)
	b = strconv.AppendInt(b, c.Expires, 10)
	b = append(b, tokenSep)
	return append(b, c.Target...)
}

func (t *tenantKey) sign(dst, payload []byte) []byte {
	m := t.getMAC()
	m.h.Write(payload)
	mac := m.h.Sum(m.sum[:0])
	dst = append(dst, mac[:tokenMACLen]...)
	t.putMAC(m)
	return dst
}

func (t *tenantKey) mint(c Claims) (string, error) {
	if c.Tenant != t.name {
		return "", fmt.Errorf("claims are for tenant %q, key is %q", c.Tenant, t.name)
	}
	if err := checkClaims(c); err != nil {
		return "", fmt.Errorf("cannot mint token: %w", err)
	}
	payload := appendPayload(nil, c)
	mac := t.sign(nil, payload)
	tok := b64.EncodeToString(payload) + "." + b64.EncodeToString(mac)
	if len(tok) > maxTokenLen {
		return "", fmt.Errorf("cannot mint token: it would be %d bytes, over %d; shorten the target", len(tok), maxTokenLen)
	}
	return tok, nil
}

// Mint signs claims with their tenant's secret and returns the token.
func (s *Sites) Mint(c Claims) (string, error) {
	t := s.byTenant[c.Tenant]
	if t == nil {
		return "", fmt.Errorf("cannot mint token: tenant %q is not in the site config", c.Tenant)
	}
	return t.mint(c)
}

// LinkURL mints a tracked link: base (the collector's public URL) + "/l/" + site + "/" +
// token. The click is recorded on that site, which must be one of the tenant's.
func (s *Sites) LinkURL(base, site string, c Claims) (string, error) {
	if st := s.Site(site); st == nil || st.Tenant != c.Tenant {
		return "", fmt.Errorf("cannot mint link: site %q is not a site of tenant %q", site, c.Tenant)
	}
	if c.Target == "" {
		return "", errors.New("cannot mint link: a target URL is required")
	}
	if err := checkLinkTarget(c.Target); err != nil {
		return "", fmt.Errorf("cannot mint link: %w", err)
	}
	tok, err := s.Mint(c)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(base, "/") + "/l/" + site + "/" + tok, nil
}

// decodeToken splits a token and decodes its payload into scratch; the returned claims point
// into scratch. It checks structure only.
func decodeToken(tok string, scratch []byte) (c Claims, payload, mac []byte, out []byte, ok bool) {
	out = scratch
	if len(tok) == 0 || len(tok) > maxTokenLen {
		return c, nil, nil, out, false
	}
	dot := strings.IndexByte(tok, '.')
	if dot <= 0 {
		return c, nil, nil, out, false
	}
	need := b64.DecodedLen(dot) + b64.DecodedLen(len(tok)-dot-1)
	if cap(out)-len(out) < need {
		out = append(make([]byte, 0, len(out)+need+64), out...)
	}
	start := len(out)
	buf := out[start : start+need]
	n, err := b64.Decode(buf, unsafe.Slice(unsafe.StringData(tok), dot))
	if err != nil {
		return c, nil, nil, out, false
	}
	payload = buf[:n]
	rest := tok[dot+1:]
	if len(rest) == 0 {
		return c, nil, nil, out, false
	}
	m, err := b64.Decode(buf[n:], unsafe.Slice(unsafe.StringData(rest), len(rest)))
	if err != nil || m != tokenMACLen {
		return c, nil, nil, out, false
	}
	mac = buf[n : n+m]
	out = out[:start+n+m]

	var f [8][]byte
	p := payload
	for i := 0; i < 7; i++ {
		j := bytes.IndexByte(p, tokenSep)
		if j < 0 {
			return c, nil, nil, out, false
		}
		f[i], p = p[:j], p[j+1:]
	}
	f[7] = p
	if string(f[0]) != tokenVersion {
		return c, nil, nil, out, false
	}
	exp, ok := parseUint(f[6])
	if !ok {
		return c, nil, nil, out, false
	}
	c = Claims{Tenant: bstr(f[1]), Partner: bstr(f[2]), User: bstr(f[3]), Campaign: bstr(f[4]), Content: bstr(f[5]), Expires: exp, Target: bstr(f[7])}
	if c.Tenant == "" || c.Partner == "" {
		return c, nil, nil, out, false
	}
	return c, payload, mac, out, true
}

func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func parseUint(b []byte) (int64, bool) {
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

// verify checks a token for a known tenant key: nowSec is the current Unix time.
func (t *tenantKey) verify(c Claims, payload, mac []byte, nowSec int64) Attribution {
	var sum [tokenMACLen]byte
	want := t.sign(sum[:0], payload)
	if !hmac.Equal(want, mac) {
		if t.previous == nil || !hmac.Equal(t.previous.sign(sum[:0], payload), mac) {
			return AttrBadSignature
		}
		t.previousUses.Add(1) // signed before a rotation: still the partner's own link
	}
	if c.Expires != 0 && nowSec > c.Expires {
		return AttrExpired
	}
	return AttrToken
}

// verifyToken checks a batch token against the site's tenant. Claims point into the
// returned scratch.
func (s *Site) verifyToken(tok string, nowSec int64, scratch []byte) (Claims, Attribution, []byte) {
	if tok == "" {
		return Claims{}, AttrNone, scratch
	}
	c, payload, mac, scratch, ok := decodeToken(tok, scratch)
	if !ok {
		return Claims{}, AttrMalformed, scratch
	}
	if c.Tenant != s.Tenant {
		return Claims{}, AttrWrongTenant, scratch
	}
	a := s.tenant.verify(c, payload, mac, nowSec)
	if a != AttrToken {
		return Claims{}, a, scratch
	}
	return c, a, scratch
}

// verifyLink checks a tracked link token against its tenant's secret.
func (s *Sites) verifyLink(tok string, nowSec int64, scratch []byte) (Claims, Attribution, []byte) {
	c, payload, mac, scratch, ok := decodeToken(tok, scratch)
	if !ok {
		return Claims{}, AttrMalformed, scratch
	}
	t := s.byTenant[c.Tenant]
	if t == nil {
		return Claims{}, AttrWrongTenant, scratch
	}
	a := t.verify(c, payload, mac, nowSec)
	if a != AttrToken {
		return Claims{}, a, scratch
	}
	return c, a, scratch
}
