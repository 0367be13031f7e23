package ingest

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// waitClock tells, per owned partition, how long the oldest event read but not yet
// committed has waited since the collector received it: ingest_lag_seconds. It is 0 when
// nothing read is waiting, so an idle topic is not "late"; a partition not owned has no
// series. Batches are committed in offset order, so the oldest waiting event is the first
// row of the oldest uncommitted batch.
type waitClock struct {
	desc *prometheus.Desc
	now  func() time.Time

	mu    sync.Mutex
	parts map[int][]waiting // partition -> uncommitted batches, in offset order
}

type waiting struct {
	start      int64 // the batch's first offset
	receivedMs int64 // received_at of its first row, unix milliseconds
}

func newWaitClock() *waitClock {
	return &waitClock{
		desc: prometheus.NewDesc("ingest_lag_seconds",
			"How long the oldest event read from the partition but not yet committed has waited since the collector received it; 0 when none waits.",
			[]string{"partition"}, nil),
		now:   time.Now,
		parts: map[int][]waiting{},
	}
}

// own starts the partition's series at 0; drop removes it when the partition is given up.
func (w *waitClock) own(partition int) {
	w.mu.Lock()
	w.parts[partition] = nil
	w.mu.Unlock()
}

func (w *waitClock) drop(partition int) {
	w.mu.Lock()
	delete(w.parts, partition)
	w.mu.Unlock()
}

// read notes the first decoded row of the batch starting at start.
func (w *waitClock) read(partition int, start, receivedMs int64) {
	w.mu.Lock()
	if q, ok := w.parts[partition]; ok {
		w.parts[partition] = append(q, waiting{start, receivedMs})
	}
	w.mu.Unlock()
}

// committed forgets the batches up to and including the one starting at start.
func (w *waitClock) committed(partition int, start int64) {
	w.mu.Lock()
	q := w.parts[partition]
	i := 0
	for i < len(q) && q[i].start <= start {
		i++
	}
	if q != nil {
		w.parts[partition] = append(q[:0], q[i:]...)
	}
	w.mu.Unlock()
}

func (w *waitClock) Describe(ch chan<- *prometheus.Desc) { ch <- w.desc }

func (w *waitClock) Collect(ch chan<- prometheus.Metric) {
	nowMs := w.now().UnixMilli()
	w.mu.Lock()
	defer w.mu.Unlock()
	for p, q := range w.parts {
		lag := 0.0
		if len(q) > 0 {
			lag = max(float64(nowMs-q[0].receivedMs)/1000, 0)
		}
		ch <- prometheus.MustNewConstMetric(w.desc, prometheus.GaugeValue, lag, strconv.Itoa(p))
	}
}
