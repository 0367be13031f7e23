package console

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// assets holds the bundle `make` builds from web/ (console.js, console.css); the
// directory is committed with only its README, so the Go build never needs Node.
//
//go:embed assets
var assets embed.FS

//go:embed index.html
var indexHTML string

// Server serves the console's pages and API.
type Server struct {
	cfg      Config
	conn     driver.Conn
	users    *Users
	sessions *sessions
	byAddr   *limiter
	byName   *limiter
	logw     io.Writer
	logMu    sync.Mutex
	assets   fs.FS
	index    string // index.html with the assets' version filled in
	built    bool   // the bundle is present
	mux      *http.ServeMux
}

// New returns a console answering from conn (a read-only connection, see Options) for
// users; it logs failed queries to logw.
func New(cfg Config, conn driver.Conn, users *Users, logw io.Writer) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if users == nil {
		return nil, errors.New("console: no users")
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, conn: conn, users: users, logw: logw, assets: sub,
		sessions: newSessions(cfg.MaxSessions, cfg.SessionTTL),
		byAddr:   newLimiter(cfg.LoginAttempts, cfg.LoginWindow),
		byName:   newLimiter(cfg.LoginAttempts, cfg.LoginWindow),
	}
	h := sha256.New()
	s.built = true
	for _, f := range []string{"console.js", "console.css"} {
		b, err := fs.ReadFile(sub, f)
		if err != nil {
			s.built = false
			continue
		}
		h.Write(b)
	}
	s.index = strings.ReplaceAll(indexHTML, "{{version}}", hex.EncodeToString(h.Sum(nil))[:12])
	s.routes()
	return s, nil
}

// Handler returns the console's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Run serves on cfg.ListenAddr until ctx ends, then shuts down within 5 s.
func (s *Server) Run(ctx context.Context) error {
	l, err := net.Listen("tcp", s.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("cannot listen on -console.listenAddr %s: %w", s.cfg.ListenAddr, err)
	}
	srv := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	done := make(chan error, 1)
	go func() {
		if s.cfg.TLSCertFile != "" {
			done <- srv.ServeTLS(l, s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		} else {
			done <- srv.Serve(l)
		}
	}()
	select {
	case err := <-done:
		return fmt.Errorf("console server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func (s *Server) logf(format string, args ...any) {
	if s.logw == nil {
		return
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.logw, "console: "+format+"\n", args...)
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/health", s.health)
	m.HandleFunc("POST /api/login", s.login)
	m.HandleFunc("POST /api/logout", s.logout)
	m.HandleFunc("GET /api/me", s.signedIn(s.me))
	for _, e := range endpoints {
		m.HandleFunc("GET /api/t/{tenant}/"+e.path, s.signedIn(s.tenantScoped(s.answer(e))))
	}
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint: "+r.Method+" "+r.URL.Path, "")
	})
	m.HandleFunc("GET /assets/{file}", s.asset)
	m.HandleFunc("GET /login", s.page)
	m.HandleFunc("GET /{$}", s.home)
	m.HandleFunc("GET /t/{tenant}/{rest...}", s.tenantPage)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.notFound(w)
	})
	s.mux = m
}

// header sets what every answer carries.
func header(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	header(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !s.built {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "<!doctype html><title>beacon console</title><p>The console's scripts were not built into this binary: run <code>make build</code>.</p>\n")
		return
	}
	io.WriteString(w, s.index)
}

func (s *Server) notFound(w http.ResponseWriter) {
	header(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, "<!doctype html><meta charset=utf-8><title>Not found</title><p>Not found. <a href=\"/\">beacon console</a></p>\n")
}

func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(s.assets, name)
	if err != nil || strings.HasPrefix(name, ".") || path.Ext(name) == ".md" {
		s.notFound(w)
		return
	}
	header(w)
	switch path.Ext(name) {
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".png":
		w.Header().Set("Content-Type", "image/png")
	}
	// index.html names the assets with their content's hash (?v=), so they can be kept.
	if r.URL.Query().Get("v") != "" {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	w.Write(b)
}

// user returns the signed-in user of r, or nil.
func (s *Server) user(r *http.Request) *User {
	if s.cfg.UserHeader != "" {
		if name := r.Header.Get(s.cfg.UserHeader); name != "" {
			return s.users.lookup(name)
		}
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	return s.sessions.get(c.Value)
}

type userKey struct{}

func (s *Server) signedIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := s.user(r)
		if u == nil {
			writeError(w, http.StatusUnauthorized, "sign in first: POST /api/login", "")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	}
}

// tenantScoped answers 404, as for a tenant that does not exist, when the user may not
// see the tenant of the path: a user cannot learn which other tenants exist.
func (s *Server) tenantScoped(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := r.Context().Value(userKey{}).(*User)
		if !u.mayRead(r.PathValue("tenant")) {
			writeError(w, http.StatusNotFound, "no such tenant", "")
			return
		}
		next(w, r)
	}
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	u := s.user(r)
	if u == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/t/"+url.PathEscape(u.Tenants[0])+"/", http.StatusSeeOther)
}

func (s *Server) tenantPage(w http.ResponseWriter, r *http.Request) {
	u := s.user(r)
	if u == nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if !u.mayRead(r.PathValue("tenant")) {
		s.notFound(w)
		return
	}
	s.page(w, r)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	st := map[string]string{"console": "ok", "clickhouse": "ok"}
	code := http.StatusOK
	if err := s.conn.Ping(ctx); err != nil {
		st["clickhouse"] = "unavailable"
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, st)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	u := r.Context().Value(userKey{}).(*User)
	writeJSON(w, http.StatusOK, map[string]any{"name": u.Name, "tenants": u.Tenants})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	// JSON only: another site's form cannot send it without a CORS preflight, so it
	// cannot sign a visitor in to an account of its choosing.
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "send the sign-in as Content-Type: application/json", "")
		return
	}
	var in struct{ Name, Password string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "want a JSON body {\"name\": ..., \"password\": ...}", "")
		return
	}
	addr, _, _ := net.SplitHostPort(r.RemoteAddr)
	for _, k := range []struct {
		l   *limiter
		key string
	}{{s.byAddr, addr}, {s.byName, in.Name}} {
		if blocked, until := k.l.blocked(k.key); blocked {
			w.Header().Set("Retry-After", fmt.Sprint(int(time.Until(until).Seconds())+1))
			writeError(w, http.StatusTooManyRequests, "too many failed sign-ins; try again later", "")
			return
		}
	}
	u := s.users.check(in.Name, in.Password)
	if u == nil {
		s.byAddr.fail(addr)
		s.byName.fail(in.Name)
		writeError(w, http.StatusUnauthorized, "unknown user or wrong password", "")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: s.sessions.create(u), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
		MaxAge: int(s.cfg.SessionTTL.Seconds()),
	})
	writeJSON(w, http.StatusOK, map[string]any{"name": u.Name, "tenants": u.Tenants})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		s.sessions.remove(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	writeJSON(w, http.StatusOK, map[string]any{})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	jsonHeader(w, code)
	_ = json.NewEncoder(w).Encode(v)
}

// jsonHeader writes the header of a JSON answer.
func jsonHeader(w http.ResponseWriter, code int) {
	header(w)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
}

// writeError answers {"error": msg} and, for a bad parameter, "param": its name.
func writeError(w http.ResponseWriter, code int, msg, param string) {
	v := map[string]string{"error": msg}
	if param != "" {
		v["param"] = param
	}
	writeJSON(w, code, v)
}

// ReadOnly makes every query of a connection opened with o read-only: the `readonly`
// setting 2 forbids writes and DDL and still lets the driver set max_execution_time from
// each request's deadline (readonly 1 would refuse that setting).
func ReadOnly(o *clickhouse.Options) {
	if o.Settings == nil {
		o.Settings = clickhouse.Settings{}
	}
	o.Settings["readonly"] = 2
}
