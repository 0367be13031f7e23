package collector

import (
	"runtime"
	"sync"
	"time"
)

// Default request limits (Config.MaxConcurrentRequests, MaxQueueDuration).
const (
	// slotsPerCPUSpool: with ack=spool a request is CPU work plus a write(2); 64 per CPU
	// keeps the cores busy through the spool's group writes while bounding the queue in
	// front of them to a few milliseconds of work.
	slotsPerCPUSpool = 64
	// slotsPerCPUKafka: with ack=kafka a request also waits for the shipper's Kafka write
	// (milliseconds, Little's law), holding its slot meanwhile.
	slotsPerCPUKafka = 512
	// DefaultMaxQueueDuration is how long a request waits for a slot before it is shed:
	// short, so that the requests accepted during a spike stay fast.
	DefaultMaxQueueDuration = 10 * time.Millisecond
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

// requestLimiter bounds the requests doing work (decode, validate, spool) at once, not the
// connections: idle keep-alive connections hold no slot. A request that finds every slot
// taken waits up to wait for one; then it is shed with a cheap 503 before its body is
// decoded. Under a spike the collector keeps serving what its cores can finish, and every
// other request costs it only a parsed header.
type requestLimiter struct {
	slots  chan struct{} // nil: no limit
	wait   time.Duration
	timers *sync.Pool // of stopped *time.Timer
}

func newRequestLimiter(n int, wait time.Duration, timers *sync.Pool) *requestLimiter {
	l := &requestLimiter{wait: wait, timers: timers}
	if n > 0 {
		l.slots = make(chan struct{}, n)
	}
	return l
}

// acquire takes a slot, waiting at most l.wait; waited says whether every slot was taken at
// first. When ok, release must follow.
func (l *requestLimiter) acquire() (ok, waited bool) {
	if l.slots == nil {
		return true, false
	}
	select {
	case l.slots <- struct{}{}:
		return true, false
	default:
	}
	if l.wait <= 0 {
		return false, true
	}
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
