package ingest

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// failures reports the consecutive failures of one repeated task without flooding the log:
// each is counted by kind; a schema problem is logged at ERROR every time, since only an
// operator can fix it; any other failure on the first and every 20th attempt; and the
// recovery once.
type failures struct {
	log    *slog.Logger
	what   string                 // the task, as in "cannot <what>"
	fix    string                 // what an operator does about a schema problem
	kind   func(error) string     // the error's kind: kindSchema, kindServer, ...
	errors *prometheus.CounterVec // failures by kind
	n      int                    // consecutive failures so far
}

// failed counts and logs a failure; attrs are added to the log record.
func (f *failures) failed(err error, attrs ...any) {
	f.n++
	k := f.kind(err)
	f.errors.WithLabelValues(k).Inc()
	attrs = append([]any{"kind", k, "err", err, "attempt", f.n}, attrs...)
	switch {
	case k == kindSchema:
		f.log.Error("cannot "+f.what+": "+f.fix+", retrying", attrs...)
	case f.n == 1 || f.n%20 == 0:
		f.log.Warn("cannot "+f.what+"; retrying", attrs...)
	}
}

// succeeded ends a run of failures, if there was one.
func (f *failures) succeeded() {
	if f.n > 0 {
		f.log.Info("recovered", "what", f.what, "attempts", f.n+1)
	}
	f.n = 0
}
