package site

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beaconprm/beacon/internal/ascii"
)

// Config is one site in the site config file (JSON: {"sites":[...]}).
type Config struct {
	// SiteKey is the public key the snippet sends as "site" (1..64 chars).
	SiteKey string `json:"site_key"`
	// Tenant owns the site; it names whose partners are attributed.
	Tenant string `json:"tenant"`
	// AllowedOrigins are browser origins allowed to send beacons, each scheme://host[:port].
	// In the host, "*" matches any run of host characters ("https://*.example.com"); it never
	// crosses "/", "?", "@" or ":". A port of "*" matches any port ("http://localhost:*").
	// A bare "*" is refused. Empty: no browser origin.
	AllowedOrigins []string `json:"allowed_origins"`
	// SecretEnv names an environment variable holding the tenant's token secret; it wins
	// over SecretFile when set and non-empty.
	SecretEnv string `json:"secret_env,omitempty"`
	// SecretFile is a file holding the secret (trailing whitespace trimmed), relative to the
	// config file's directory. Secrets are never written in the config itself.
	SecretFile string `json:"secret_file,omitempty"`
	// PreviousSecretEnv and PreviousSecretFile name the tenant's previous secret during a
	// rotation: tokens made with it still verify (links already sent keep their attribution;
	// a v2 token names its secret by key id), new tokens are made with the current secret only. Drop them once
	// beacon_previous_secret_tokens_total stops growing.
	PreviousSecretEnv  string `json:"previous_secret_env,omitempty"`
	PreviousSecretFile string `json:"previous_secret_file,omitempty"`
	// RespectDNT drops batches sent with DNT: 1 or Sec-GPC: 1.
	RespectDNT bool `json:"respect_dnt,omitempty"`
	// RequireConsent drops batches without "consent": true.
	RequireConsent bool `json:"require_consent,omitempty"`
	// KeepQueryParams names the query parameters kept in stored URLs (page url, referrer,
	// click targets) besides utm_*, which are always kept; every other parameter is dropped,
	// and so is the fragment. Names are compared after percent-decoding, case-sensitively;
	// the partner token parameter (pb_t) can never be kept.
	KeepQueryParams []string `json:"keep_query_params,omitempty"`
	// KeepUserAgent stores the User-Agent as sent (its first 512 bytes); by default only its
	// browser and OS families are stored ("Chrome; Windows").
	KeepUserAgent bool `json:"keep_user_agent,omitempty"`
	// TokenTTLDays is how long partner tokens and tracked links minted for this site without
	// an explicit expiry (beacon link without -link.ttl, the token a link click hands on)
	// stay valid: 1..3650 days; 0 or absent = 180. The expiry is inside the encrypted token.
	TokenTTLDays int `json:"token_ttl_days,omitempty"`
	// AcceptV1Tokens: v1 partner tokens (readable payload, most without expiry) still verify
	// on this site while true or absent; false makes them verify as expired. Set it to false
	// once beacon_v1_tokens_total stops growing.
	AcceptV1Tokens *bool `json:"accept_v1_tokens,omitempty"`
}

// ConfigFile is the site config file.
type ConfigFile struct {
	Sites []Config `json:"sites"`
}

// minSecretLen is the shortest accepted token secret: 32 bytes, the HMAC-SHA256 key size; a
// short secret makes forging links easy (`head -c32 /dev/urandom | xxd -p -c64` makes one).
const minSecretLen = 32

// minPreviousSecretLen is the shortest accepted previous secret: the minimum before secrets
// had to be 32 bytes, so a tenant can rotate away from such a secret with its links working.
const minPreviousSecretLen = 16

// Site is a loaded site: its settings and its tenant's secret.
type Site struct {
	Key            string
	Tenant         string
	RespectDNT     bool
	RequireConsent bool
	KeepUserAgent  bool
	tokenTTL       int64 // seconds: lifetime of tokens minted without an expiry
	acceptV1       bool  // v1 tokens verify (else: expired)
	sites          *Sites
	keepParams     []string // query parameters kept in stored URLs besides utm_*
	origins        []originPattern
	tenant         *tenantKey
}

// tenantKey holds one tenant's secret: the v2 token key derived from it, with its key id,
// and a pool of HMAC states for v1 tokens (hmac.New allocates).
type tenantKey struct {
	name        string
	defaultSite string // site key recorded for tracked-link clicks: the tenant's first site, by key
	secret      []byte
	aead        cipher.AEAD // v2 tokens (AES-256-GCM, key from HKDF)
	kid         uint32      // v2 key id
	macs        sync.Pool
	// previous is the secret being rotated out: it verifies, never signs; nil outside a rotation.
	previous *tenantKey
	// previousUses counts tokens that verified only with previous (shared by the Sites).
	previousUses *atomic.Int64
}

func newTenantKey(name string, secret []byte) (*tenantKey, error) {
	aead, kid, err := deriveTokenKeys(name, secret)
	if err != nil {
		return nil, fmt.Errorf("cannot derive token key: %w", err)
	}
	t := &tenantKey{name: name, secret: secret, aead: aead, kid: kid}
	t.macs.New = func() any { return &macState{h: hmac.New(sha256.New, t.secret)} }
	return t, nil
}

// macState is a pooled HMAC with room for its sum, so signing does not allocate.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

func (t *tenantKey) getMAC() *macState {
	m := t.macs.Get().(*macState)
	m.h.Reset()
	return m
}

func (t *tenantKey) putMAC(m *macState) { t.macs.Put(m) }

// Sites is a loaded site config. It is read-only once built; a reload builds a new one.
type Sites struct {
	byKey    map[string]*Site
	byTenant map[string]*tenantKey
	byKid    map[uint32]*tenantKey // every tenant's current and previous key by v2 key id

	previousUses atomic.Int64
	v1Uses       atomic.Int64
	clock        func() time.Time // tests; nil = time.Now
}

func (s *Sites) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// V1TokenUses counts the v1 partner tokens that verified since these sites were loaded
// (on sites that still accept them).
func (s *Sites) V1TokenUses() int64 { return s.v1Uses.Load() }

// PreviousSecretUses counts the tokens that verified only with a tenant's previous secret
// since these sites were loaded: links sent before a rotation, still in use.
func (s *Sites) PreviousSecretUses() int64 { return s.previousUses.Load() }

// Site returns the site with the key, or nil.
func (s *Sites) Site(key string) *Site { return s.byKey[key] }

// Len returns the number of sites.
func (s *Sites) Len() int { return len(s.byKey) }

// AnyOriginAllowed reports whether some site allows origin (CORS preflights carry no site key).
func (s *Sites) AnyOriginAllowed(origin string) bool {
	for _, site := range s.byKey {
		if site.OriginAllowed(origin) {
			return true
		}
	}
	return false
}

// LoadConfig reads the site config file at path and resolves every site's secret.
func LoadConfig(path string) (*Sites, error) {
	f, err := ReadConfigFile(path)
	if err != nil {
		return nil, err
	}
	s, err := NewSites(f, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("site config %s: %w", path, err)
	}
	return s, nil
}

// ReadConfigFile reads and parses the site config file at path (unknown fields refused),
// without resolving its secrets: what a reader that verifies no token (the ingest) needs.
func ReadConfigFile(path string) (ConfigFile, error) {
	var f ConfigFile
	data, err := os.ReadFile(path)
	if err != nil {
		return f, fmt.Errorf("cannot read site config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("cannot parse site config %s: %w", path, err)
	}
	return f, nil
}

// NewSites resolves a config (secret files relative to dir).
func NewSites(f ConfigFile, dir string) (*Sites, error) {
	s := &Sites{byKey: map[string]*Site{}, byTenant: map[string]*tenantKey{}, byKid: map[uint32]*tenantKey{}}
	if len(f.Sites) == 0 {
		return nil, errors.New("no sites")
	}
	for i, sc := range f.Sites {
		if !ascii.IsID(sc.SiteKey) {
			return nil, fmt.Errorf("sites[%d]: site_key %q must be 1..64 of [A-Za-z0-9_-]", i, sc.SiteKey)
		}
		if !ascii.IsID(sc.Tenant) {
			return nil, fmt.Errorf("site %s: tenant %q must be 1..64 of [A-Za-z0-9_-]", sc.SiteKey, sc.Tenant)
		}
		if _, dup := s.byKey[sc.SiteKey]; dup {
			return nil, fmt.Errorf("site %s: listed twice", sc.SiteKey)
		}
		origins := make([]originPattern, 0, len(sc.AllowedOrigins))
		for _, o := range sc.AllowedOrigins {
			p, err := parseOriginPattern(o)
			if err != nil {
				return nil, fmt.Errorf("site %s: allowed_origins entry %q: %w", sc.SiteKey, o, err)
			}
			origins = append(origins, p)
		}
		for _, k := range sc.KeepQueryParams {
			if k == "" || len(k) > 64 || strings.ContainsAny(k, "&=#?% +") || strings.EqualFold(k, TokenParam) {
				return nil, fmt.Errorf("site %s: keep_query_params entry %q must be a parameter name (1..64 bytes, no & = # ? %% + or space) other than %s", sc.SiteKey, k, TokenParam)
			}
		}
		secret, err := readSecret(sc.SecretEnv, sc.SecretFile, dir, minSecretLen)
		if err != nil {
			return nil, fmt.Errorf("site %s: %w", sc.SiteKey, err)
		}
		var previous []byte
		if sc.PreviousSecretEnv != "" || sc.PreviousSecretFile != "" {
			if previous, err = readSecret(sc.PreviousSecretEnv, sc.PreviousSecretFile, dir, minPreviousSecretLen); err != nil {
				return nil, fmt.Errorf("site %s: previous secret: %w", sc.SiteKey, err)
			}
			if hmac.Equal(previous, secret) {
				return nil, fmt.Errorf("site %s: the previous secret equals the current one", sc.SiteKey)
			}
		}
		// One tenant's secret must not verify another's links.
		for name, o := range s.byTenant {
			if name == sc.Tenant {
				continue
			}
			if hmac.Equal(o.secret, secret) || previous != nil && hmac.Equal(o.secret, previous) ||
				o.previous != nil && (hmac.Equal(o.previous.secret, secret) || previous != nil && hmac.Equal(o.previous.secret, previous)) {
				return nil, fmt.Errorf("site %s: tenant %s uses a secret of tenant %s; give every tenant its own", sc.SiteKey, sc.Tenant, name)
			}
		}
		if sc.TokenTTLDays < 0 || sc.TokenTTLDays > maxTokenTTLDays {
			return nil, fmt.Errorf("site %s: token_ttl_days %d must be 1..%d (0 or absent: %d)", sc.SiteKey, sc.TokenTTLDays, maxTokenTTLDays, DefaultTokenTTLDays)
		}
		ttlDays := sc.TokenTTLDays
		if ttlDays == 0 {
			ttlDays = DefaultTokenTTLDays
		}
		t := s.byTenant[sc.Tenant]
		switch {
		case t == nil:
			if t, err = newTenantKey(sc.Tenant, secret); err != nil {
				return nil, fmt.Errorf("site %s: %w", sc.SiteKey, err)
			}
			t.previousUses = &s.previousUses
			keys := []*tenantKey{t}
			if previous != nil {
				if t.previous, err = newTenantKey(sc.Tenant, previous); err != nil {
					return nil, fmt.Errorf("site %s: previous secret: %w", sc.SiteKey, err)
				}
				keys = append(keys, t.previous)
			}
			for _, k := range keys {
				if o := s.byKid[k.kid]; o != nil {
					// 1 in 2^32 for two random secrets; a new secret fixes it.
					return nil, fmt.Errorf("site %s: a secret of tenant %s has the token key id of a secret of tenant %s; make a new secret", sc.SiteKey, sc.Tenant, o.name)
				}
				s.byKid[k.kid] = k
			}
			s.byTenant[sc.Tenant] = t
		case !hmac.Equal(t.secret, secret):
			return nil, fmt.Errorf("site %s: tenant %s already has a different secret; sites of one tenant share its secret", sc.SiteKey, sc.Tenant)
		case (t.previous == nil) != (previous == nil) || t.previous != nil && !hmac.Equal(t.previous.secret, previous):
			return nil, fmt.Errorf("site %s: tenant %s already has a different previous secret; sites of one tenant share it", sc.SiteKey, sc.Tenant)
		}
		if t.defaultSite == "" || sc.SiteKey < t.defaultSite {
			t.defaultSite = sc.SiteKey
		}
		s.byKey[sc.SiteKey] = &Site{
			Key: sc.SiteKey, Tenant: sc.Tenant, RespectDNT: sc.RespectDNT, RequireConsent: sc.RequireConsent,
			KeepUserAgent: sc.KeepUserAgent, keepParams: slices.Clone(sc.KeepQueryParams), origins: origins, tenant: t,
			tokenTTL: int64(ttlDays) * 86400, acceptV1: sc.AcceptV1Tokens == nil || *sc.AcceptV1Tokens, sites: s,
		}
	}
	return s, nil
}

func readSecret(env, file, dir string, minLen int) ([]byte, error) {
	var secret string
	switch {
	case env != "" && os.Getenv(env) != "":
		secret = os.Getenv(env)
	case file != "":
		p := file
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("cannot read secret file: %w", err)
		}
		secret = strings.TrimRight(string(b), " \t\r\n")
	case env != "":
		return nil, fmt.Errorf("secret env %s is empty and no secret file is set", env)
	default:
		return nil, errors.New("no secret: set secret_env or secret_file")
	}
	if len(secret) < minLen {
		return nil, fmt.Errorf("secret is shorter than %d bytes; make one with: head -c32 /dev/urandom | xxd -p -c64", minLen)
	}
	return []byte(secret), nil
}

// KeepParams are the query parameters kept in stored URLs besides utm_* (keep_query_params).
// The slice is the site's own: callers read it, never write it.
func (s *Site) KeepParams() []string { return s.keepParams }

// OriginAllowed reports whether a browser origin may send beacons for the site. Its cost
// is linear in the origin's length (capped at maxOriginLen) for every pattern.
func (s *Site) OriginAllowed(origin string) bool {
	for i := range s.origins {
		if ok, _ := s.origins[i].match(origin); ok {
			return true
		}
	}
	return false
}

// DemoSecretEnv is the environment variable holding the demo tenant's secret.
const DemoSecretEnv = "BEACON_DEMO_SECRET"

// WriteDemoConfig writes the site config `beacon dev` uses: site key `demo`, tenant `demo`,
// origins http://localhost:* and http://127.0.0.1:*, secret from $BEACON_DEMO_SECRET or else
// from demo.secret next to the config, which it creates with random bytes when absent.
func WriteDemoConfig(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create site config dir: %w", err)
	}
	secretPath := filepath.Join(dir, "demo.secret")
	if _, err := os.Stat(secretPath); errors.Is(err, os.ErrNotExist) {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("cannot make demo secret: %w", err)
		}
		if err := os.WriteFile(secretPath, []byte(hex.EncodeToString(b[:])+"\n"), 0o600); err != nil {
			return fmt.Errorf("cannot write demo secret: %w", err)
		}
	}
	f := ConfigFile{Sites: []Config{{
		SiteKey: "demo", Tenant: "demo",
		AllowedOrigins: []string{"http://localhost:*", "http://127.0.0.1:*", "http://localhost", "http://127.0.0.1"},
		SecretEnv:      DemoSecretEnv, SecretFile: "demo.secret",
	}}}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("cannot write site config: %w", err)
	}
	return os.Rename(tmp, path)
}
