package site

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/beaconprm/beacon/internal/ascii"
)

// Claims are what a partner token carries (WIRE.md, "Partner tokens and tracked links").
type Claims struct {
	Tenant   string
	Partner  string
	User     string // partner user (person)
	Campaign string
	Content  string // content id the link is for, optional
	// Expires is the Unix second after which the token verifies as expired. When minting, 0
	// means the site's token_ttl_days from now (a v2 token always expires); a v1 token may
	// carry 0 = never.
	Expires int64
	Target  string // redirect target of a tracked link; empty in attribution tokens

	v1 bool // verified from the v1 format (site setting accept_v1_tokens)
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
	tokenSep    = 0x1f
	tokenMACLen = 16 // v1 MAC and v2 AEAD tag
	// MaxTokenLen is the longest partner token accepted (longer ones are malformed).
	MaxTokenLen = 1024
	maxClaimLen = 256

	tokenV1 = '1' // first byte of a v1 payload (the version field "1")
	tokenV2 = 2   // first byte of a v2 token

	// v2 layout: version (1) | key id (4) | nonce (12) | ciphertext | tag (16); the
	// plaintext is the expiry (8, big-endian Unix seconds) then partner, user, campaign,
	// content and target joined by 0x1F.
	kidLen      = 4
	nonceLen    = 12
	v2AADLen    = 1 + kidLen // version and key id: authenticated, in clear
	v2HeaderLen = v2AADLen + nonceLen
	v2ExpLen    = 8
	v2MinLen    = v2HeaderLen + v2ExpLen + 5 // a one-byte partner and four separators

	// DefaultTokenTTLDays is how long a partner token minted without an explicit expiry
	// stays valid when the site config does not set token_ttl_days.
	DefaultTokenTTLDays = 180
	// maxTokenTTLDays caps token_ttl_days (10 years).
	maxTokenTTLDays = 3650

	// tokenKDFSalt separates the keys derived from a tenant secret from any other use of it.
	tokenKDFSalt = "beacon partner token v2"
)

// b64 is the only spelling of a token: URL alphabet, no padding, zero padding bits.
var b64 = base64.RawURLEncoding.Strict()

// deriveTokenKeys derives a tenant secret's v2 token keys with HKDF-SHA256: the AES-256-GCM
// key (bound to the tenant's name) and the key id that v2 tokens carry in clear so the
// collector opens each token with exactly one key.
func deriveTokenKeys(tenant string, secret []byte) (cipher.AEAD, uint32, error) {
	key, err := hkdf.Key(sha256.New, secret, []byte(tokenKDFSalt), "aes-256-gcm key for tenant "+tenant, 32)
	if err != nil {
		return nil, 0, err
	}
	id, err := hkdf.Key(sha256.New, secret, []byte(tokenKDFSalt), "key id", kidLen)
	if err != nil {
		return nil, 0, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, 0, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, 0, err
	}
	return aead, binary.BigEndian.Uint32(id), nil
}

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
	if c.Expires <= 0 {
		return errors.New("expiry must be a positive Unix time")
	}
	return nil
}

// sign is the v1 MAC: the first 16 bytes of HMAC-SHA256 over the payload.
func (t *tenantKey) sign(dst, payload []byte) []byte {
	m := t.getMAC()
	m.h.Write(payload)
	mac := m.h.Sum(m.sum[:0])
	dst = append(dst, mac[:tokenMACLen]...)
	t.putMAC(m)
	return dst
}

// mint makes a v2 token: nowSec is the current Unix time and ttl (seconds) the lifetime
// given to claims without an expiry.
func (t *tenantKey) mint(c Claims, nowSec, ttl int64) (string, error) {
	if c.Tenant != t.name {
		return "", fmt.Errorf("claims are for tenant %q, key is %q", c.Tenant, t.name)
	}
	if c.Expires == 0 {
		c.Expires = nowSec + ttl
	}
	if err := checkClaims(c); err != nil {
		return "", fmt.Errorf("cannot mint token: %w", err)
	}
	buf := make([]byte, v2HeaderLen, v2HeaderLen+v2ExpLen+len(c.Partner)+len(c.User)+len(c.Campaign)+len(c.Content)+len(c.Target)+4+tokenMACLen)
	buf[0] = tokenV2
	binary.BigEndian.PutUint32(buf[1:], t.kid)
	_, _ = rand.Read(buf[v2AADLen:v2HeaderLen]) // never fails (crypto/rand)
	plain := binary.BigEndian.AppendUint64(buf[v2HeaderLen:], uint64(c.Expires))
	for i, f := range [...]string{c.Partner, c.User, c.Campaign, c.Content, c.Target} {
		if i > 0 {
			plain = append(plain, tokenSep)
		}
		plain = append(plain, f...)
	}
	sealed := t.aead.Seal(buf[v2HeaderLen:v2HeaderLen], buf[v2AADLen:v2HeaderLen], plain, buf[:v2AADLen])
	all := buf[:v2HeaderLen+len(sealed)]
	body, tag := all[:len(all)-tokenMACLen], all[len(all)-tokenMACLen:]
	tok := b64.EncodeToString(body) + "." + b64.EncodeToString(tag)
	if len(tok) > MaxTokenLen {
		return "", fmt.Errorf("cannot mint token: it would be %d bytes, over %d; shorten the target", len(tok), MaxTokenLen)
	}
	return tok, nil
}

// Mint encrypts claims with their tenant's current secret and returns the v2 token. Claims
// without an expiry get the token_ttl_days of the tenant's first site by key.
func (s *Sites) Mint(c Claims) (string, error) {
	t := s.byTenant[c.Tenant]
	if t == nil {
		return "", fmt.Errorf("cannot mint token: tenant %q is not in the site config", c.Tenant)
	}
	return t.mint(c, s.now().Unix(), s.Site(t.defaultSite).tokenTTL)
}

// LinkURL mints a tracked link: base (the collector's public URL) + "/l/" + site + "/" +
// token. The click is recorded on that site, which must be one of the tenant's; claims
// without an expiry get that site's token_ttl_days.
func (s *Sites) LinkURL(base, site string, c Claims) (string, error) {
	st := s.Site(site)
	if st == nil || st.Tenant != c.Tenant {
		return "", fmt.Errorf("cannot mint link: site %q is not a site of tenant %q", site, c.Tenant)
	}
	if c.Target == "" {
		return "", errors.New("cannot mint link: a target URL is required")
	}
	if err := checkLinkTarget(c.Target); err != nil {
		return "", fmt.Errorf("cannot mint link: %w", err)
	}
	tok, err := st.tenant.mint(c, s.now().Unix(), st.tokenTTL)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(base, "/") + "/l/" + site + "/" + tok, nil
}

// decodeToken checks a token's spelling and decodes it into scratch: raw is the decoded
// first part followed by the 16 bytes of the second (v1: payload then MAC; v2: header and
// ciphertext then tag). Only one spelling decodes: URL-safe base64 characters and one dot,
// no padding, zero padding bits; anything else (standard alphabet, '=', CR/LF, spaces,
// another dot) is malformed.
func decodeToken(tok string, scratch []byte) (raw []byte, out []byte, ok bool) {
	out = scratch
	if len(tok) == 0 || len(tok) > MaxTokenLen {
		return nil, out, false
	}
	dot := -1
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.' && dot < 0:
			dot = i
		default:
			return nil, out, false
		}
	}
	if dot <= 0 || dot == len(tok)-1 {
		return nil, out, false
	}
	need := b64.DecodedLen(dot) + b64.DecodedLen(len(tok)-dot-1)
	if cap(out)-len(out) < need {
		out = append(make([]byte, 0, len(out)+need+64), out...)
	}
	start := len(out)
	buf := out[start : start+need]
	n, err := b64.Decode(buf, unsafe.Slice(unsafe.StringData(tok), dot))
	if err != nil || n == 0 {
		return nil, out, false
	}
	rest := tok[dot+1:]
	m, err := b64.Decode(buf[n:], unsafe.Slice(unsafe.StringData(rest), len(rest)))
	if err != nil || m != tokenMACLen {
		return nil, out, false
	}
	out = out[:start+n+m]
	return buf[:n+m], out, true
}

// parseV1 splits a v1 payload: "1", tenant, partner, user, campaign, content, expiry and
// target joined by 0x1F.
func parseV1(payload []byte) (c Claims, ok bool) {
	var f [8][]byte
	if !splitFields(payload, f[:]) || len(f[0]) != 1 || f[0][0] != tokenV1 {
		return c, false
	}
	exp, ok := ascii.ParseUint(f[6])
	if !ok {
		return c, false
	}
	c = Claims{Tenant: ascii.String(f[1]), Partner: ascii.String(f[2]), User: ascii.String(f[3]), Campaign: ascii.String(f[4]), Content: ascii.String(f[5]), Expires: exp, Target: ascii.String(f[7]), v1: true}
	if c.Tenant == "" || c.Partner == "" {
		return c, false
	}
	return c, true
}

// splitFields cuts p at its first len(f)-1 tokenSep bytes into f; the last field is the
// rest. It reports false when p has fewer separators.
func splitFields(p []byte, f [][]byte) bool {
	last := len(f) - 1
	for i := 0; i < last; i++ {
		j := bytes.IndexByte(p, tokenSep)
		if j < 0 {
			return false
		}
		f[i], p = p[:j], p[j+1:]
	}
	f[last] = p
	return true
}

// parseV2 splits a v2 plaintext (tenant is the key's).
func parseV2(tenant string, plain []byte) (c Claims, ok bool) {
	if len(plain) < v2ExpLen+5 {
		return c, false
	}
	exp := binary.BigEndian.Uint64(plain)
	if exp == 0 || exp > math.MaxInt64 {
		return c, false
	}
	var f [5][]byte
	if !splitFields(plain[v2ExpLen:], f[:]) || len(f[0]) == 0 || bytes.IndexByte(f[4], tokenSep) >= 0 {
		return c, false
	}
	return Claims{Tenant: tenant, Partner: ascii.String(f[0]), User: ascii.String(f[1]), Campaign: ascii.String(f[2]), Content: ascii.String(f[3]), Expires: int64(exp), Target: ascii.String(f[4])}, true
}

// keyByID returns the tenant's secret (current or previous) that a v2 key id names, or nil.
func (t *tenantKey) keyByID(kid uint32) *tenantKey {
	switch {
	case kid == t.kid:
		return t
	case t.previous != nil && kid == t.previous.kid:
		return t.previous
	}
	return nil
}

// testKeyTried, when set by a test, sees every key a v2 token is opened with.
var testKeyTried func(*tenantKey)

// open authenticates and decrypts a v2 token (raw from decodeToken) in place with the one
// key its key id names.
func (k *tenantKey) open(raw []byte) ([]byte, bool) {
	if testKeyTried != nil {
		testKeyTried(k)
	}
	ct := raw[v2HeaderLen:]
	plain, err := k.aead.Open(ct[:0], raw[v2AADLen:v2HeaderLen], ct, raw[:v2AADLen])
	return plain, err == nil
}

// verifyRaw checks a decoded token against tenant t (nil: the tenant a v2 key id or a v1
// payload names, for links without a site). nowSec is the current Unix time.
func (s *Sites) verifyRaw(t *tenantKey, raw []byte, nowSec int64) (Claims, Attribution) {
	var c Claims
	switch raw[0] {
	case tokenV2:
		if len(raw) < v2MinLen+tokenMACLen {
			return c, AttrMalformed
		}
		kid := binary.BigEndian.Uint32(raw[1:])
		if t == nil {
			if k := s.byKid[kid]; k != nil {
				t = s.byTenant[k.name]
			}
		}
		var k *tenantKey
		if t != nil {
			k = t.keyByID(kid)
		}
		if k == nil {
			if o := s.byKid[kid]; o != nil && (t == nil || o.name != t.name) {
				return c, AttrWrongTenant
			}
			return c, AttrBadSignature // a key never configured, or rotated out
		}
		plain, ok := k.open(raw)
		if !ok {
			return c, AttrBadSignature
		}
		if c, ok = parseV2(t.name, plain); !ok {
			return Claims{}, AttrMalformed // cannot be minted: only with the key
		}
		if k != t {
			t.previousUses.Add(1) // minted before a rotation: still the partner's own link
		}
	case tokenV1:
		payload, mac := raw[:len(raw)-tokenMACLen], raw[len(raw)-tokenMACLen:]
		var ok bool
		if c, ok = parseV1(payload); !ok {
			return Claims{}, AttrMalformed
		}
		if t == nil {
			t = s.byTenant[c.Tenant]
		}
		if t == nil || c.Tenant != t.name {
			return Claims{}, AttrWrongTenant
		}
		var sum [tokenMACLen]byte
		if !hmac.Equal(t.sign(sum[:0], payload), mac) {
			if t.previous == nil || !hmac.Equal(t.previous.sign(sum[:0], payload), mac) {
				return Claims{}, AttrBadSignature
			}
			t.previousUses.Add(1)
		}
	default:
		return c, AttrMalformed
	}
	if c.Expires != 0 && nowSec > c.Expires {
		return Claims{}, AttrExpired
	}
	return c, AttrToken
}

// VerifyToken checks a batch token against the site's tenant. Claims point into the
// returned scratch. A v1 token on a site with accept_v1_tokens false verifies as expired.
func (s *Site) VerifyToken(tok string, nowSec int64, scratch []byte) (Claims, Attribution, []byte) {
	if tok == "" {
		return Claims{}, AttrNone, scratch
	}
	raw, scratch, ok := decodeToken(tok, scratch)
	if !ok {
		return Claims{}, AttrMalformed, scratch
	}
	c, a := s.sites.verifyRaw(s.tenant, raw, nowSec)
	if a == AttrToken && c.v1 {
		if !s.acceptV1 {
			return Claims{}, AttrExpired, scratch
		}
		s.sites.v1Uses.Add(1)
	}
	if a != AttrToken {
		return Claims{}, a, scratch
	}
	return c, a, scratch
}

// verifyLink checks a tracked link token against its tenant's secrets (the tenant its v2 key
// id or its v1 payload names). The caller applies the site's accept_v1_tokens.
func (s *Sites) verifyLink(tok string, nowSec int64, scratch []byte) (Claims, Attribution, []byte) {
	raw, scratch, ok := decodeToken(tok, scratch)
	if !ok {
		return Claims{}, AttrMalformed, scratch
	}
	c, a := s.verifyRaw(nil, raw, nowSec)
	return c, a, scratch
}
