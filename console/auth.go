package console

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

const cookieName = "beacon_console"

// session is one signed-in browser.
type session struct {
	user    *User
	expires time.Time
}

// sessions is the in-memory session store: a restart signs everyone out.
type sessions struct {
	mu   sync.Mutex
	m    map[string]session
	max  int
	ttl  time.Duration
	now  func() time.Time
	keys []string // in creation order, to drop the oldest when full
}

func newSessions(max int, ttl time.Duration) *sessions {
	return &sessions{m: map[string]session{}, max: max, ttl: ttl, now: time.Now}
}

// create starts a session for u and returns its token.
func (s *sessions) create(u *User) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.m) >= s.max && len(s.keys) > 0 {
		delete(s.m, s.keys[0])
		s.keys = s.keys[1:]
	}
	s.m[tok] = session{user: u, expires: s.now().Add(s.ttl)}
	s.keys = append(s.keys, tok)
	if len(s.keys) > 2*s.max { // drop the tokens of sessions ended by sign-out
		live := s.keys[:0]
		for _, k := range s.keys {
			if _, ok := s.m[k]; ok {
				live = append(live, k)
			}
		}
		s.keys = live
	}
	return tok
}

// get returns the session's user, or nil when unknown or expired.
func (s *sessions) get(tok string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.m[tok]
	if !ok {
		return nil
	}
	if s.now().After(x.expires) {
		delete(s.m, tok)
		return nil
	}
	return x.user
}

func (s *sessions) remove(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, tok)
}

// limiter counts failed sign-ins per key (client address, user name) in fixed windows.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	m      map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// maxLimiterKeys bounds the limiter's memory; past it, expired windows are dropped
// and, if still full, new keys share one window (failing closed for everyone).
const maxLimiterKeys = 100000

func newLimiter(max int, w time.Duration) *limiter {
	return &limiter{max: max, window: w, now: time.Now, m: map[string]*window{}}
}

// blocked says whether key has used up its failed attempts, and until when.
func (l *limiter) blocked(key string) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.m[l.slot(key)]
	if w == nil || l.now().Sub(w.start) >= l.window {
		return false, time.Time{}
	}
	return w.n >= l.max, w.start.Add(l.window)
}

// fail records a failed attempt by key.
func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.m) >= maxLimiterKeys {
		for k, w := range l.m {
			if now.Sub(w.start) >= l.window {
				delete(l.m, k)
			}
		}
	}
	k := l.slot(key)
	w := l.m[k]
	if w == nil || now.Sub(w.start) >= l.window {
		w = &window{start: now}
		l.m[k] = w
	}
	w.n++
}

func (l *limiter) slot(key string) string {
	if _, ok := l.m[key]; !ok && len(l.m) >= maxLimiterKeys {
		return "\x00full"
	}
	return key
}
