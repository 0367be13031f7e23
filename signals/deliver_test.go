package signals

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestPostRetryRule: which answers are retried (timeouts, 5xx, 408, 429, redirects) and
// which are not (other 4xx); a redirect is not followed.
func TestPostRetryRule(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Idempotency-Key") != "k1" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusTemporaryRedirect) })
	for path, code := range map[string]int{"/503": 503, "/500": 500, "/408": 408, "/429": 429, "/404": 404, "/400": 400} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
	}
	// the body is read first: only then does the server notice the client giving up
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) { _, _ = io.ReadAll(r.Body); <-r.Context().Done() })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	q := newQueue(Config{QueueSize: 1, Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	f := func(path string, wantErr, wantRetry bool) {
		t.Helper()
		d := &delivery{key: "k1", rule: "r", receiver: Receiver{Name: "x", URL: srv.URL + path, Timeout: Duration(200 * time.Millisecond)}, body: []byte(`{}`)}
		retry, err := q.post(context.Background(), d)
		if (err != nil) != wantErr || retry != wantRetry {
			t.Fatalf("POST %s: retry %v, err %v; want retry %v, an error %v", path, retry, err, wantRetry, wantErr)
		}
	}
	f("/ok", false, false)
	f("/moved", true, true)
	f("/503", true, true)
	f("/500", true, true)
	f("/408", true, true)
	f("/429", true, true)
	f("/hang", true, true)
	f("/404", true, false)
	f("/400", true, false)
}
