package collector

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Default request limits (Config.MaxConcurrentRequests, MaxQueuedRequests,
// MaxQueueDuration).
const (
	// slotsPerCPUSpool: with ack=spool a request is CPU work plus a write(2); 32 per CPU
	// keeps the cores busy through the spool's group writes while each request shares them
	// with few others, so it stays fast.
	slotsPerCPUSpool = 32
	// slotsPerCPUKafka: with ack=kafka a request also waits for the shipper's Kafka write
	// (milliseconds, Little's law), holding its slot meanwhile.
	slotsPerCPUKafka = 512
	// DefaultMaxQueueDuration bounds a queued request's wait for a slot. Under a spike the
	// queue's length (MaxQueuedRequests) is what bounds the wait; this is the bound when
	// slots are held long (a stalled disk, ack=kafka with Kafka slow).
	DefaultMaxQueueDuration = time.Second
	// overloadRetryAfter is the Retry-After of a shed request, in seconds; the snippet adds
	// its own jitter and backoff on top.
	overloadRetryAfter = "1"
)

// maxConcurrentRequests resolves Config.MaxConcurrentRequests: 0 is the default for the ack
// mode, -1 no limit (0 returned).
func maxConcurrentRequests(n int, ack string) int {
	switch {
	case n < 0:
		return 0
	case n > 0:
		return n
	case ack == AckKafka:
		return slotsPerCPUKafka * runtime.GOMAXPROCS(0)
	default:
		return slotsPerCPUSpool * runtime.GOMAXPROCS(0)
	}
}

// queuePerSlot is the default queue length per slot. With as many places as slots, the
// bench's closed loop of 256 connections at max rate (2 CPUs: 64 slots) had a fifth of its
// requests shed at saturation, not overload; eight per slot queue that loop whole, while
// an accepted request waits behind at most 9 x slots others under a spike.
const queuePerSlot = 8

// maxQueuedRequests resolves Config.MaxQueuedRequests for slots: 0 is queuePerSlot per
// slot, -1 none.
func maxQueuedRequests(n, slots int) int {
	switch {
	case n < 0:
		return 0
	case n > 0:
		return n
	default:
		return queuePerSlot * slots
	}
}

// requestLimiter bounds the requests doing work (decode, validate, spool) at once, not the
// connections: idle keep-alive connections hold no slot. A request that finds every slot
// taken queues for one, if fewer than queue others are queued, for at most wait; otherwise,
// or when the wait ends, it is shed with a cheap 503 before its body is decoded. The queue
// is bounded by its length rather than by a short wait, so that a process that is not
// scheduled for a while (a busy host, a GC pause) does not shed every request it holds
// when it runs again, and under a spike an accepted request waits for at most
// slots+queue requests ahead of it, whatever the spike's size.
type requestLimiter struct {
	slots   chan struct{} // nil: no limit
	queue   int64
	waiting atomic.Int64
	wait    time.Duration
	timers  *sync.Pool // of stopped *time.Timer
}

func newRequestLimiter(slots, queue int, wait time.Duration, timers *sync.Pool) *requestLimiter {
	l := &requestLimiter{queue: int64(queue), wait: wait, timers: timers}
	if slots > 0 {
		l.slots = make(chan struct{}, slots)
	}
	return l
}

// acquire takes a slot, queueing for one if the queue has room; waited says whether it
// queued. When ok, release must follow.
func (l *requestLimiter) acquire() (ok, waited bool) {
	if l.slots == nil {
		return true, false
	}
	select {
	case l.slots <- struct{}{}:
		return true, false
	default:
	}
	if l.wait <= 0 || l.waiting.Add(1) > l.queue {
		if l.wait > 0 {
			l.waiting.Add(-1)
		}
		return false, false
	}
	defer l.waiting.Add(-1)
	t := l.timers.Get().(*time.Timer)
	t.Reset(l.wait)
	select {
	case l.slots <- struct{}{}:
		t.Stop()
		l.timers.Put(t)
		return true, true
	case <-t.C:
		l.timers.Put(t)
		return false, true
	}
}

func (l *requestLimiter) release() {
	if l.slots != nil {
		<-l.slots
	}
}

// fullness is the share of slots taken (0 without a limit).
func (l *requestLimiter) fullness() float64 {
	if l.slots == nil {
		return 0
	}
	return float64(len(l.slots)) / float64(cap(l.slots))
}
