package site

import (
	"errors"
	"strings"
)

// maxOriginLen caps the Origin header the matcher looks at: a scheme, a DNS name (at most
// 253 bytes) and a port fit; anything longer is refused before matching.
const maxOriginLen = 300

// originPattern is one parsed allowed_origins entry: scheme, host glob and port.
// A '*' in the host matches any run of host characters ([a-z0-9._-]), so it never crosses
// '/', '?', '#', '@', ':' or a space; the port is absent, exact, or '*' (any port).
type originPattern struct {
	scheme string   // lowercase, without "://"
	host   []string // the host split on '*': len 1 means an exact host
	port   string   // "" (no port), "*" (any port), or the exact digits
}

// parseOriginPattern parses an allowed_origins entry. It refuses a bare "*", a host made of
// stars only, "**", paths, user info, queries and anything outside host characters.
func parseOriginPattern(p string) (originPattern, error) {
	var o originPattern
	if len(p) > maxOriginLen {
		return o, errors.New("longer than 300 bytes")
	}
	i := strings.Index(p, "://")
	if i <= 0 || !validScheme(p[:i]) {
		return o, errors.New(`must start with a lowercase scheme and "://" ("*" alone is refused: list the origins)`)
	}
	o.scheme = p[:i]
	host, port, ok := splitHostPort(p[i+3:])
	if !ok {
		return o, errors.New("must be scheme://host[:port] with no path, user info or query")
	}
	switch {
	case port == "*" || port == "":
	case validPort(port):
	default:
		return o, errors.New(`port must be digits up to 65535 or "*"`)
	}
	o.port = port
	if host == "" {
		return o, errors.New("host is empty")
	}
	if host[0] == '[' {
		if strings.IndexByte(host, '*') >= 0 || !validIPv6Literal(host) {
			return o, errors.New(`an IPv6 host must be a literal [address] without "*"`)
		}
		o.host = []string{host}
		return o, nil
	}
	for j := 0; j < len(host); j++ {
		if c := host[j]; !hostByte(c) && c != '*' {
			return o, errors.New(`host must be lowercase letters, digits, "-", "_", "." and "*"`)
		}
	}
	if strings.Contains(host, "**") {
		return o, errors.New(`"**" is refused`)
	}
	o.host = strings.Split(host, "*")
	if last := o.host[len(o.host)-1]; len(o.host) > 1 && (strings.IndexByte(last, '.') < 0 || strings.Trim(last, ".") == "") {
		return o, errors.New(`the host after the last "*" must name a domain (for example "*.example.com")`)
	}
	return o, nil
}

// match reports whether origin matches the pattern, and the number of origin bytes it looked
// at (steps): at most (len(origin)+1)*(len(pattern)+1), whatever the pattern's stars.
func (p *originPattern) match(origin string) (ok bool, steps int) {
	if len(origin) > maxOriginLen {
		return false, 0
	}
	n := len(p.scheme)
	if len(origin) < n+3 || origin[:n] != p.scheme || origin[n:n+3] != "://" {
		return false, n + 3
	}
	steps = n + 3
	host, port, ok := splitHostPort(origin[n+3:])
	steps += len(origin) - n - 3
	if !ok || host == "" {
		return false, steps
	}
	switch p.port {
	case "":
		if port != "" {
			return false, steps
		}
	case "*":
		if !validPort(port) {
			return false, steps
		}
	default:
		if port != p.port {
			return false, steps
		}
	}
	if len(p.host) == 1 {
		return host == p.host[0], steps + len(host)
	}
	for i := 0; i < len(host); i++ {
		if !hostByte(host[i]) {
			return false, steps + i
		}
	}
	steps += len(host)
	first, last := p.host[0], p.host[len(p.host)-1]
	if len(host) < len(first)+len(last) || host[:len(first)] != first || host[len(host)-len(last):] != last {
		return false, steps + len(first) + len(last)
	}
	steps += len(first) + len(last)
	rest := host[len(first) : len(host)-len(last)]
	// Each middle part is taken at its leftmost place: with '*' as the only wildcard that
	// is always as good as any later place, so nothing is ever retried.
	for _, seg := range p.host[1 : len(p.host)-1] {
		at, looked := indexCounted(rest, seg)
		steps += looked
		if at < 0 {
			return false, steps
		}
		rest = rest[at+len(seg):]
	}
	return true, steps
}

// indexCounted is strings.Index that also returns the bytes compared (at most len(s)*len(sub)).
func indexCounted(s, sub string) (int, int) {
	looked := 0
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) {
			looked++
			if s[i+j] != sub[j] {
				break
			}
			j++
		}
		if j == len(sub) {
			return i, looked
		}
	}
	return -1, looked + 1
}

// splitHostPort splits "host[:port]" or "[v6]:port"; ok is false for anything with a path,
// query, fragment, user info or space.
func splitHostPort(s string) (host, port string, ok bool) {
	if strings.ContainsAny(s, "/?#@ \\") {
		return "", "", false
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", false
		}
		host, s = s[:end+1], s[end+1:]
		if s == "" {
			return host, "", true
		}
		if s[0] != ':' || len(s) == 1 {
			return "", "", false
		}
		return host, s[1:], true
	}
	c := strings.IndexByte(s, ':')
	if c < 0 {
		return s, "", true
	}
	if c == len(s)-1 || strings.IndexByte(s[c+1:], ':') >= 0 {
		return "", "", false
	}
	return s[:c], s[c+1:], true
}

func hostByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
}

func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func validPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v <= 65535
}

func validIPv6Literal(s string) bool {
	if len(s) < 4 || s[0] != '[' || s[len(s)-1] != ']' {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == ':' || c == '.') {
			return false
		}
	}
	return true
}
