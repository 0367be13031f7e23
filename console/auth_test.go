package console

import (
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	s := newSessions(3, time.Hour)
	s.now = func() time.Time { return now }
	u := &User{Name: "ann"}
	a := s.create(u)
	if s.get(a) != u || s.get("nope") != nil {
		t.Fatal("a new session is not found, or an unknown one is")
	}
	now = now.Add(time.Hour + time.Second)
	if s.get(a) != nil {
		t.Fatal("an expired session is still valid")
	}
	// full: the oldest goes
	b, c, d, e := s.create(u), s.create(u), s.create(u), s.create(u)
	if s.get(b) != nil || s.get(c) == nil || s.get(d) == nil || s.get(e) == nil {
		t.Fatal("a full store did not drop its oldest session")
	}
	// signing in and out forever keeps the memory bounded
	for i := 0; i < 1000; i++ {
		s.remove(s.create(u))
	}
	if len(s.keys) > 2*s.max+1 || len(s.m) > s.max {
		t.Fatalf("after 1000 sign-ins and outs: %d keys, %d sessions", len(s.keys), len(s.m))
	}
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(2, time.Minute)
	l.now = func() time.Time { return now }
	l.fail("a")
	if b, _ := l.blocked("a"); b {
		t.Fatal("blocked after 1 of 2 failures")
	}
	l.fail("a")
	if b, until := l.blocked("a"); !b || !until.Equal(now.Add(time.Minute)) {
		t.Fatalf("not blocked after 2 failures, or until %v", until)
	}
	if b, _ := l.blocked("b"); b {
		t.Fatal("another key is blocked")
	}
	now = now.Add(time.Minute)
	if b, _ := l.blocked("a"); b {
		t.Fatal("still blocked after the window")
	}
}
