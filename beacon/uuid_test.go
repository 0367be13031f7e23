package beacon

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// validUUIDRef is the plain definition validUUID must agree with: 36 bytes, '-' at 8, 13,
// 18 and 23, hex digits (either case) everywhere else.
func validUUIDRef(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func TestValidUUIDAndLowercase(t *testing.T) {
	ok := "0f8fAD5b-d9cb-469f-a165-70867728950E"
	check := func(s string) {
		t.Helper()
		if got, want := validUUID(s), validUUIDRef(s); got != want {
			t.Fatalf("validUUID(%q) = %v, want %v", s, got, want)
		}
	}
	check(ok)
	check("")
	check(ok[:35])
	check(ok + "0")
	// Every single-byte change of a valid UUID, to every byte value.
	for i := 0; i < len(ok); i++ {
		for c := 0; c < 256; c++ {
			check(ok[:i] + string(rune(c))[:1] + ok[i+1:])
			b := []byte(ok)
			b[i] = byte(c)
			check(string(b))
		}
	}
	// Random strings over the UUID alphabet and a few others.
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789abcdefABCDEF-gG/:@` "
	for range 200000 {
		b := []byte(ok)
		for k := r.IntN(4); k >= 0; k-- {
			b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
		}
		check(string(b))
	}
	if got := string(appendLowerUUID([]byte("x"), ok)); got != "x"+strings.ToLower(ok) {
		t.Fatalf("appendLowerUUID = %q", got)
	}
}
