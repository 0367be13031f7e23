package console

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// User is one console user: a name, a bcrypt hash of the password, and the tenants
// whose data the user may see.
type User struct {
	Name         string   `json:"name"`
	PasswordHash string   `json:"passwordHash"`
	Tenants      []string `json:"tenants"`
}

// Users is the users file:
//
//	{"users": [{"name": "ann", "passwordHash": "$2a$10$...", "tenants": ["acme"]}]}
type Users struct {
	Users  []User `json:"users"`
	byName map[string]*User
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}$`)

// LoadUsers reads and checks a users file.
func LoadUsers(path string) (*Users, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read -console.users: %w", err)
	}
	u, err := ParseUsers(b)
	if err != nil {
		return nil, fmt.Errorf("-console.users %s: %w", path, err)
	}
	return u, nil
}

// ParseUsers parses the users file's JSON.
func ParseUsers(b []byte) (*Users, error) {
	var u Users
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		return nil, fmt.Errorf("cannot parse: %w", err)
	}
	u.byName = map[string]*User{}
	for i := range u.Users {
		x := &u.Users[i]
		if x.Name == "" {
			return nil, fmt.Errorf("user %d has no name", i+1)
		}
		if _, dup := u.byName[x.Name]; dup {
			return nil, fmt.Errorf("user %q is listed twice", x.Name)
		}
		if _, err := bcrypt.Cost([]byte(x.PasswordHash)); err != nil && x.PasswordHash != "" {
			return nil, fmt.Errorf("user %q: passwordHash is not a bcrypt hash (make one with beacon console -hash): %v", x.Name, err)
		}
		if len(x.Tenants) == 0 {
			return nil, fmt.Errorf("user %q has no tenants", x.Name)
		}
		for _, t := range x.Tenants {
			if !idRE.MatchString(t) {
				return nil, fmt.Errorf("user %q: tenant %q must match %s", x.Name, t, idRE)
			}
		}
		u.byName[x.Name] = x
	}
	if len(u.Users) == 0 {
		return nil, fmt.Errorf("no users")
	}
	return &u, nil
}

// lookup returns the user called name, or nil.
func (u *Users) lookup(name string) *User { return u.byName[name] }

// check returns the user when name and password match. A user without a hash (only
// for a reverse proxy's header) cannot sign in with a password. The hash is compared
// even for unknown names, so the answer's timing does not tell which names exist.
func (u *Users) check(name, password string) *User {
	x := u.byName[name]
	hash := dummyHash()
	if x != nil && x.PasswordHash != "" {
		hash = []byte(x.PasswordHash)
	}
	ok := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if !ok || x == nil || x.PasswordHash == "" {
		return nil
	}
	return x
}

// dummyHash is a bcrypt hash of random bytes nobody knows, made on first use.
var dummyHash = sync.OnceValue(func() []byte {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	h, _ := bcrypt.GenerateFromPassword(secret, bcrypt.DefaultCost)
	return h
})

// mayRead says whether the user may see tenant's data.
func (x *User) mayRead(tenant string) bool { return slices.Contains(x.Tenants, tenant) }

// HashPassword returns a bcrypt hash of password for the users file.
func HashPassword(password string) (string, error) {
	if len(password) < 8 {
		return "", fmt.Errorf("password too short: want at least 8 characters")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("cannot hash password: %w", err)
	}
	return string(h), nil
}
