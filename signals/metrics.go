package signals

import "github.com/prometheus/client_golang/prometheus"

// Delivery results, the values of signals_sent_total's result label.
const (
	resultOK       = "ok"       // the receiver answered 2xx
	resultRejected = "rejected" // a 4xx other than 408 and 429: not retried
	resultGaveUp   = "gave_up"  // MaxAttempts failed attempts; the next evaluation finds it again
	resultError    = "state_error"
)

type metrics struct {
	sent       *prometheus.CounterVec
	retries    prometheus.Counter
	queueFull  prometheus.Counter
	evalErrors *prometheus.CounterVec
	evals      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, fullness func() float64) *metrics {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signals_sent_total",
			Help: "Webhook deliveries finished, by rule and result (ok, rejected: a 4xx; gave_up: retries exhausted, found again by the next evaluation; state_error: delivered but the state file could not be written).",
		}, []string{"rule", "result"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "signals_retry_total",
			Help: "Delivery attempts that failed with a timeout, a connection error, a 5xx, a 408/429 or a redirect and were scheduled again.",
		}),
		queueFull: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "signals_queue_full_total",
			Help: "Signals not queued because the retry queue was full (-signals.queueSize); the next evaluation finds them again.",
		}),
		evalErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signals_eval_errors_total",
			Help: "Rule evaluations that failed (a saved query error, ClickHouse unreachable), by rule.",
		}, []string{"rule"}),
		evals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "signals_evaluations_total",
			Help: "Evaluation rounds finished (every rule evaluated once, with or without errors).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.retries, m.queueFull, m.evalErrors, m.evals,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "signals_queue_fullness_ratio",
				Help: "Deliveries pending (queued, in flight or waiting to retry) over -signals.queueSize.",
			}, fullness))
	}
	return m
}
