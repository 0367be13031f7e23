package collector

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beaconprm/beacon/internal/spool"
	"github.com/segmentio/kafka-go"
)

// shipper is the one path to Kafka. It reads the spool in order (waiting until there is a
// record), writes each batch to Kafka (acks=all) until the write succeeds, commits the spool
// position, and wakes the requests (ack=kafka) whose records it has passed. One write is in
// flight at a time and a failed batch is retried whole before anything after it, so a
// visitor's events reach Kafka in the order the collector acknowledged them.
type shipper struct {
	c       *Collector
	w       *kafka.Writer
	ctx     context.Context
	stop    context.CancelFunc
	failing atomic.Bool // the last Kafka write failed
	// limit bounds the messages of one Kafka write below ShipBatch (0: no bound) after the
	// broker refused a write as too large; fits counts the writes that went through since.
	limit, fits int
	events      chan struct{} // a commit or a failed write happened (shutdown waits on it)

	mu      sync.Mutex
	shipped spool.Pos // everything before it is in Kafka
	waiting []waiter  // ack=kafka requests
}

type waiter struct {
	end spool.Pos
	ch  chan struct{}
}

func (s *shipper) init(c *Collector, w *kafka.Writer) {
	s.c, s.w = c, w
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.events = make(chan struct{}, 1)
	s.shipped = c.spool.Committed()
}

// run ships until finish stops it.
func (s *shipper) run() {
	defer s.w.Close()
	var batch spool.Batch
	var msgs []kafka.Message
	var backoff time.Duration
	for {
		batch.Reset()
		pos, err := s.c.spool.Read(&batch, s.c.cfg.ShipBatch)
		if errors.Is(err, spool.ErrStopped) {
			return
		}
		if err != nil {
			s.c.m.spoolErrors.Inc()
			s.c.log.Error("cannot read spool", "err", err)
			if !s.sleep(time.Second) {
				return
			}
			continue
		}
		msgs = msgs[:0]
		for _, m := range batch.Msgs {
			msgs = append(msgs, kafka.Message{Key: m.Key, Value: m.Value})
		}
		retained := false
		for start := 0; start < len(msgs); {
			part := msgs[start:min(len(msgs), start+s.writeLimit())]
			// kafka-go gives each partition's batch room for BatchSize messages up front.
			// Sized to this write, a trickle of small writes does not allocate ShipBatch
			// messages per partition each time, and still no partition's share is split
			// into two batches by count (a retry of the whole write then cannot reorder
			// them). Only this goroutine writes with w, and kafka-go reads BatchSize in the
			// calling goroutine.
			s.w.BatchSize = len(part)
			wctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
			t0 := time.Now()
			err = s.w.WriteMessages(wctx, part...)
			cancel()
			if err == nil {
				s.c.m.kafkaLatency.Observe(time.Since(t0).Seconds())
				s.c.m.kafkaMessages.Add(float64(len(part)))
				s.fitted()
				start += len(part)
				continue
			}
			if s.ctx.Err() != nil {
				return // shutting down: the batch stays in the spool for the next start
			}
			// kafka-go may still read the buffers of a write cut by its deadline: do not
			// reuse them for the next batch.
			retained = true
			s.c.m.kafkaErrors.Inc()
			if len(part) > 1 && tooLarge(err) {
				// Some partition's share was over the broker's message.max.bytes (the
				// topic's max.message.bytes). Write the same messages in halves, in order,
				// at once: a partition that took its share already gets it again, which
				// the ingest drops as repeats.
				s.halveWrites(len(part))
				continue
			}
			if !s.failing.Swap(true) {
				s.c.log.Warn("cannot write to Kafka; events stay in the spool until it is back", "err", err)
			}
			s.notify()
			backoff = min(max(2*backoff, 100*time.Millisecond), 2*time.Second)
			if !s.sleep(backoff) {
				return
			}
		}
		backoff = 0
		if s.failing.Swap(false) {
			s.c.log.Info("Kafka is back; shipping the spool")
		}
		s.c.m.spoolReplayed.Add(float64(len(msgs)))
		s.c.spool.Commit(pos)
		s.advance(pos)
		if retained {
			batch, msgs = spool.Batch{}, nil
		}
	}
}

// writeLimit is the most messages one Kafka write may carry now.
func (s *shipper) writeLimit() int {
	if s.limit > 0 {
		return s.limit
	}
	return s.c.cfg.ShipBatch
}

// halveWrites bounds the next writes to half of n messages, after a write of n was refused
// as too large.
func (s *shipper) halveWrites(n int) {
	s.limit, s.fits = max(1, n/2), 0
	s.c.log.Warn("Kafka refused a write as too large (the topic's max.message.bytes); writing fewer messages at a time",
		"messages", n, "now", s.limit)
}

// fitted notes a write that went through: after shipperGrowAfter of them the bound doubles,
// back to ShipBatch, so a broker limit met once by a burst of large events does not keep
// the writes small for good.
func (s *shipper) fitted() {
	if s.limit == 0 {
		return
	}
	if s.fits++; s.fits >= shipperGrowAfter {
		s.limit, s.fits = 2*s.limit, 0
		if s.limit >= s.c.cfg.ShipBatch {
			s.limit = 0
		}
	}
}

// shipperGrowAfter is how many writes go through before a bound set by halveWrites doubles.
const shipperGrowAfter = 64

// tooLarge reports whether Kafka refused a write, or one partition's share of it, as over
// its size limit.
func tooLarge(err error) bool {
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if e != nil && errors.Is(e, kafka.MessageSizeTooLarge) {
				return true
			}
		}
	}
	return errors.Is(err, kafka.MessageSizeTooLarge)
}

// sleep waits d unless the shipper is stopped first (false).
func (s *shipper) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (s *shipper) notify() {
	select {
	case s.events <- struct{}{}:
	default:
	}
}

// advance records that everything before pos is in Kafka and wakes the requests it passed.
func (s *shipper) advance(pos spool.Pos) {
	s.mu.Lock()
	s.shipped = pos
	kept := s.waiting[:0]
	for _, w := range s.waiting {
		if pos.Reached(w.end) {
			w.ch <- struct{}{} // buffered, and each request waits once: never blocks
		} else {
			kept = append(kept, w)
		}
	}
	clear(s.waiting[len(kept):])
	s.waiting = kept
	s.mu.Unlock()
	s.notify()
}

// awaitShipped waits until the shipper has committed past end, at most KafkaTimeout, and
// reports whether it got there. While Kafka writes fail it does not wait: the records are
// safe in the spool, and holding every request for the timeout would only pile them up.
// ch is the request's own (buffered, pooled with it).
func (s *shipper) awaitShipped(end spool.Pos, ch chan struct{}, c *Collector) bool {
	s.mu.Lock()
	if s.shipped.Reached(end) {
		s.mu.Unlock()
		return true
	}
	if s.failing.Load() {
		s.mu.Unlock()
		return false
	}
	s.waiting = append(s.waiting, waiter{end, ch})
	s.mu.Unlock()
	timer := c.timers.Get().(*time.Timer)
	timer.Reset(c.cfg.KafkaTimeout)
	select {
	case <-ch:
		timer.Stop()
		c.timers.Put(timer)
		return true
	case <-timer.C:
		c.timers.Put(timer)
	}
	s.mu.Lock()
	for i, w := range s.waiting {
		if w.ch == ch {
			last := len(s.waiting) - 1
			s.waiting[i] = s.waiting[last]
			s.waiting[last] = waiter{}
			s.waiting = s.waiting[:last]
			break
		}
	}
	s.mu.Unlock()
	select {
	case <-ch: // shipped just now; also leaves ch empty for the request state's next use
		return true
	default:
		return false
	}
}

// finish gives the shipper up to timeout to empty the spool (unless Kafka writes are
// failing), then stops it; a Kafka write in flight is abandoned and its records are shipped
// again on the next start (duplicates, never losses).
func (s *shipper) finish(timeout time.Duration) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
wait:
	for !s.c.spool.Empty() && !s.failing.Load() {
		select {
		case <-s.events:
		case <-deadline.C:
			break wait
		}
	}
	s.c.spool.StopReads()
	s.stop()
}
