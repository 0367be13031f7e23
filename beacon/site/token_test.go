package site

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mintV1 makes a v1 token as beacon made them before v2 (WIRE.md, "v1 tokens"): the fields
// in clear, joined by 0x1F, and the first 16 bytes of HMAC-SHA256 with the secret.
func mintV1(secret string, c Claims) string {
	p := strings.Join([]string{"1", c.Tenant, c.Partner, c.User, c.Campaign, c.Content, strconv.FormatInt(c.Expires, 10), c.Target}, "\x1f")
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(p))
	e := base64.RawURLEncoding
	return e.EncodeToString([]byte(p)) + "." + e.EncodeToString(h.Sum(nil)[:16])
}

// decodings are every way someone could read a token's bytes: each dot-separated part in
// both base64 alphabets, at each of the four alignments.
func decodings(tok string) []string {
	var out []string
	for _, part := range strings.Split(tok, ".") {
		for skip := 0; skip < 4 && skip < len(part); skip++ {
			for _, e := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
				s := part[skip:]
				s = s[:len(s)-len(s)%4]
				if b, err := e.DecodeString(s); err == nil {
					out = append(out, string(b))
				}
			}
		}
	}
	return out
}

// A link and the partner token it hands on do not show who they are for: no tenant, partner,
// person, campaign, content or target can be read from them (security review L11).
func TestTokenIDsNotReadable(t *testing.T) {
	sites := testSites(t)
	claims := Claims{Tenant: "demo", Partner: "acme-partner", User: "jane@acme.example", Campaign: "q4-campaign", Content: "doc-secret", Target: "https://docs.example.com/target-page"}
	link, err := sites.LinkURL("http://c.example", "demo", claims)
	if err != nil {
		t.Fatal(err)
	}
	tok := link[strings.LastIndexByte(link, '/')+1:]
	partnerTok, err := sites.Mint(Claims{Tenant: claims.Tenant, Partner: claims.Partner, User: claims.User, Campaign: claims.Campaign})
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := sites.OpenLink("demo", tok, testNow, nil)
	if err != nil || l.Attribution != AttrToken || l.Token == "" {
		t.Fatalf("link does not verify: %+v", l)
	}
	for _, tk := range []string{tok, partnerTok, l.Token} {
		for _, d := range append(decodings(tk), tk) {
			for _, id := range []string{"acme-partner", "jane", "acme.example", "q4-campaign", "doc-secret", "target-page", "\x1fdemo\x1f"} {
				if strings.Contains(d, id) {
					t.Errorf("token %q shows %q", tk, id)
				}
			}
		}
	}
	if c, a, _ := sites.Site("demo").VerifyToken(partnerTok, testNow, nil); a != AttrToken || c.User != claims.User || c.Partner != claims.Partner || c.Campaign != claims.Campaign {
		t.Fatalf("partner token: %v %+v", a, c)
	}
}

// respell returns other spellings of tok: base64 that decodes to the same bytes (padding
// bits, padding, the standard alphabet, ignored CR/LF), case changes and trailing bytes.
func respell(tok string) map[string]string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	dot := strings.IndexByte(tok, '.')
	body, tag := tok[:dot], tok[dot+1:]
	flipLow := func(s string) string { // the last char of 22 (16 bytes) holds 4 unused bits
		last := strings.IndexByte(alpha, s[len(s)-1])
		return s[:len(s)-1] + string(alpha[last^1])
	}
	std := strings.NewReplacer("-", "+", "_", "/")
	out := map[string]string{
		"padding bits of the tag":     body + "." + flipLow(tag),
		"CR LF inside":                body[:4] + "\r\n" + body[4:] + "." + tag,
		"padding":                     body + strings.Repeat("=", (4-len(body)%4)%4) + "." + tag + "==",
		"trailing byte":               tok + "A",
		"trailing newline":            tok + "\n",
		"trailing dot":                tok + ".",
		"leading space":               " " + tok,
		"upper case":                  strings.ToUpper(tok),
		"lower case":                  strings.ToLower(tok),
		"percent-encoded dot":         body + "%2E" + tag,
		"trailing segment":            tok + ".AAAA",
		"tag of 32 bytes (MAC style)": body + "." + tag + tag[:21],
	}
	if s := std.Replace(tok); s != tok {
		out["standard alphabet"] = s
	}
	if len(body)%4 != 0 { // the body's last char holds unused bits too
		out["padding bits of the body"] = flipLow(body) + "." + tag
	}
	return out
}

// A token has one spelling: any other that would decode to the same bytes, or the same
// token with bytes around it, does not verify (security review T11).
func TestTokenOneSpelling(t *testing.T) {
	sites := testSites(t)
	site := sites.Site("demo")
	for i := 0; i < 8; i++ { // random nonces: tokens of every padding-bit layout
		tok, err := sites.Mint(Claims{Tenant: "demo", Partner: "acme", User: strings.Repeat("j", i), Campaign: "q4"})
		if err != nil {
			t.Fatal(err)
		}
		if _, a, _ := site.VerifyToken(tok, testNow, nil); a != AttrToken {
			t.Fatalf("minted token %q: %v", tok, a)
		}
		for name, other := range respell(tok) {
			if other == tok {
				continue
			}
			if _, a, _ := site.VerifyToken(other, testNow, nil); a == AttrToken {
				t.Errorf("%s: %q verifies as %v", name, other, a)
			}
		}
	}
	// v1 tokens, still accepted, have one spelling too.
	v1 := mintV1(testSecret, Claims{Tenant: "demo", Partner: "acme", User: "jane"})
	if _, a, _ := site.VerifyToken(v1, testNow, nil); a != AttrToken {
		t.Fatalf("v1 token: %v", a)
	}
	for name, other := range respell(v1) {
		if _, a, _ := site.VerifyToken(other, testNow, nil); a == AttrToken {
			t.Errorf("v1, %s: %q verifies", name, other)
		}
	}
}

// A token minted without an expiry expires after the site's token_ttl_days (180 by
// default), and then verifies as expired, for batches and links alike.
func TestTokenDefaultExpiry(t *testing.T) {
	sites := testSites(t)
	now := time.Now().Unix()
	const day = 86400
	tok, err := sites.Mint(Claims{Tenant: "demo", Partner: "acme", User: "jane"})
	if err != nil {
		t.Fatal(err)
	}
	link, err := sites.LinkURL("http://c.example", "demo", Claims{Tenant: "demo", Partner: "acme", Target: "https://t.example/"})
	if err != nil {
		t.Fatal(err)
	}
	linkTok := link[strings.LastIndexByte(link, '/')+1:]
	site := sites.Site("demo")
	for _, c := range []struct {
		at   int64
		want Attribution
	}{{now, AttrToken}, {now + 179*day, AttrToken}, {now + 181*day, AttrExpired}, {now + 10*365*day, AttrExpired}} {
		if _, a, _ := site.VerifyToken(tok, c.at, nil); a != c.want {
			t.Errorf("partner token at now+%dd: %v, want %v", (c.at-now)/day, a, c.want)
		}
		if _, a, _ := sites.verifyLink(linkTok, c.at, nil); a != c.want {
			t.Errorf("link at now+%dd: %v, want %v", (c.at-now)/day, a, c.want)
		}
	}

	// A site's own lifetime; the token a link click hands on keeps the link's expiry.
	t.Setenv("TTL_SECRET", testSecret)
	short, err := NewSites(ConfigFile{Sites: []Config{{SiteKey: "s", Tenant: "demo", SecretEnv: "TTL_SECRET", TokenTTLDays: 7}}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	short.clock = func() time.Time { return time.Unix(now, 0) }
	link, err = short.LinkURL("http://c.example", "s", Claims{Tenant: "demo", Partner: "acme", Target: "https://t.example/"})
	if err != nil {
		t.Fatal(err)
	}
	linkTok = link[strings.LastIndexByte(link, '/')+1:]
	if _, a, _ := short.verifyLink(linkTok, now+6*day, nil); a != AttrToken {
		t.Errorf("7-day link after 6 days: %v", a)
	}
	if _, a, _ := short.verifyLink(linkTok, now+8*day, nil); a != AttrExpired {
		t.Errorf("7-day link after 8 days: %v", a)
	}
	l, _, err := short.OpenLink("s", linkTok, now+day, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, a, _ := short.Site("s").VerifyToken(l.Token, now+8*day, nil); a != AttrExpired || c.Partner != "" {
		t.Errorf("token handed on by a 7-day link, after 8 days: %v", a)
	}
	for _, bad := range []int{-1, maxTokenTTLDays + 1} {
		_, err := NewSites(ConfigFile{Sites: []Config{{SiteKey: "s", Tenant: "demo", SecretEnv: "TTL_SECRET", TokenTTLDays: bad}}}, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "token_ttl_days") {
			t.Errorf("token_ttl_days %d: %v", bad, err)
		}
	}
}

// A v2 token names the secret that made it: it is opened with that key only (the current
// one, or the previous one during a rotation), never with each in turn, and a key id no
// secret has is refused without opening anything.
func TestTokenKeyID(t *testing.T) {
	const old, cur = "old-secret-0123456789abcdef0123456789", "new-secret-0123456789abcdef0123456789"
	t.Setenv("KID_OLD", old)
	t.Setenv("KID_CUR", cur)
	before, err := NewSites(ConfigFile{Sites: []Config{{SiteKey: "p", Tenant: "acme", SecretEnv: "KID_OLD"}}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	during, err := NewSites(ConfigFile{Sites: []Config{{SiteKey: "p", Tenant: "acme", SecretEnv: "KID_CUR", PreviousSecretEnv: "KID_OLD"}}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	claims := Claims{Tenant: "acme", Partner: "r42", User: "jane", Target: "https://t.example/"}
	oldTok, _ := before.Mint(claims)
	newTok, _ := during.Mint(claims)
	oldLink, _ := before.LinkURL("http://c", "p", claims)
	oldLink = oldLink[strings.LastIndexByte(oldLink, '/')+1:]

	var tried []string
	testKeyTried = func(k *tenantKey) { tried = append(tried, string(k.secret)) }
	t.Cleanup(func() { testKeyTried = nil })
	check := func(name, tok string, want Attribution, wantTried ...string) {
		t.Helper()
		for _, verify := range []func() Attribution{
			func() Attribution { _, a, _ := during.Site("p").VerifyToken(tok, testNow, nil); return a },
			func() Attribution { _, a, _ := during.verifyLink(tok, testNow, nil); return a },
		} {
			tried = tried[:0]
			if a := verify(); a != want || strings.Join(tried, ",") != strings.Join(wantTried, ",") {
				t.Errorf("%s: %v with keys %q, want %v with %q", name, a, tried, want, wantTried)
			}
		}
	}
	check("minted with the current secret", newTok, AttrToken, cur)
	check("minted before the rotation", oldTok, AttrToken, old)
	check("link minted before the rotation", oldLink, AttrToken, old)
	check("tampered, names the current secret", tamper(t, newTok), AttrBadSignature, cur)

	// Another key id: the token is refused before any key is tried.
	body, _ := b64.DecodeString(newTok[:strings.IndexByte(newTok, '.')])
	body[1] ^= 0x80
	check("unknown key id", b64.EncodeToString(body)+newTok[strings.IndexByte(newTok, '.'):], AttrBadSignature)
	if during.PreviousSecretUses() != 4 {
		t.Errorf("%d uses of the previous secret counted, want 4", during.PreviousSecretUses())
	}
}

// v1 tokens (readable, most without expiry) still verify, for batches and links, until the
// site sets accept_v1_tokens: false; then they verify as expired. A v1 link hands on a v2
// token.
func TestTokenV1Sunset(t *testing.T) {
	v1 := mintV1(testSecret, Claims{Tenant: "demo", Partner: "acme", User: "jane", Campaign: "q4"})
	v1Link := mintV1(testSecret, Claims{Tenant: "demo", Partner: "acme", User: "jane", Target: "https://t.example/"})
	v1Expired := mintV1(testSecret, Claims{Tenant: "demo", Partner: "acme", Expires: 1000})
	t.Setenv("V1_SECRET", testSecret)
	for _, accept := range []*bool{nil, new(true), new(false)} {
		sites, err := NewSites(ConfigFile{Sites: []Config{{SiteKey: "demo", Tenant: "demo", AllowedOrigins: []string{"http://localhost:*"}, SecretEnv: "V1_SECRET", AcceptV1Tokens: accept}}}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		want, name := AttrToken, "accept_v1_tokens absent"
		if accept != nil {
			name = "accept_v1_tokens " + strconv.FormatBool(*accept)
			if !*accept {
				want = AttrExpired
			}
		}
		if _, a, _ := sites.Site("demo").VerifyToken(v1, testNow, nil); a != want {
			t.Errorf("%s: v1 batch token %v, want %v", name, a, want)
		}
		if _, a, _ := sites.Site("demo").VerifyToken(v1Expired, testNow, nil); a != AttrExpired {
			t.Errorf("%s: expired v1 token %v", name, a)
		}
		l, _, err := sites.OpenLink("demo", v1Link, testNow, nil)
		if err != nil || l.Attribution != want || (want == AttrToken) != (l.Site != nil && l.Token != "") {
			t.Errorf("%s: v1 link %+v %v, want %v", name, l, err, want)
		}
		if want == AttrToken {
			if raw, _ := b64.DecodeString(l.Token[:strings.IndexByte(l.Token, '.')]); len(raw) == 0 || raw[0] != tokenV2 {
				t.Errorf("%s: a v1 link hands on %q, not a v2 token", name, l.Token)
			}
			if _, a, _ := sites.Site("demo").VerifyToken(l.Token, testNow+179*86400, nil); a != AttrToken {
				t.Errorf("%s: token handed on by a v1 link: %v", name, a)
			}
			if n := sites.V1TokenUses(); n != 2 {
				t.Errorf("%s: %d v1 uses counted, want 2", name, n)
			}
		}
	}
}
