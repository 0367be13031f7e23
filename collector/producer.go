package collector

import (
	"context"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// producer group-commits requests to Kafka: a worker takes every request queued while the
// previous write was in flight and writes them in one call, so Kafka sees few large batches
// and a request waits about one acknowledgement, not a batch timer. The queue is bounded:
// when it is full a request goes straight to the spool (beacon_kafka_queue_fullness_ratio).
type producer struct {
	w        *kafka.Writer
	queue    chan *produceReq
	maxBatch int
	wg       sync.WaitGroup
	m        *metrics
}

// produceReq is one request's messages and where its outcome is sent (buffered, so a worker
// never blocks on a request that stopped waiting).
type produceReq struct {
	msgs []kafka.Message
	done chan error
}

func newProducer(w *kafka.Writer, queueLen, maxBatch, workers int, m *metrics) *producer {
	p := &producer{w: w, queue: make(chan *produceReq, queueLen), maxBatch: maxBatch, m: m}
	for range workers {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// submit queues r; false when the queue is full.
func (p *producer) submit(r *produceReq) bool {
	select {
	case p.queue <- r:
		return true
	default:
		return false
	}
}

// close stops the workers after they have written what is queued.
func (p *producer) close() {
	close(p.queue)
	p.wg.Wait()
}

func (p *producer) work() {
	defer p.wg.Done()
	var batch []kafka.Message
	var reqs []*produceReq
	for r := range p.queue {
		batch = append(batch[:0], r.msgs...)
		reqs = append(reqs[:0], r)
	collect:
		for len(batch) < p.maxBatch {
			select {
			case r2, ok := <-p.queue:
				if !ok {
					break collect
				}
				batch = append(batch, r2.msgs...)
				reqs = append(reqs, r2)
			default:
				break collect
			}
		}
		// The bound a request waits is enforced by the request; this one only stops a
		// write that can never finish from holding the worker forever.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t0 := time.Now()
		err := p.w.WriteMessages(ctx, batch...)
		cancel()
		if err == nil {
			p.m.kafkaLatency.Observe(time.Since(t0).Seconds())
			p.m.kafkaMessages.Add(float64(len(batch)))
		}
		for _, r := range reqs {
			r.done <- err
		}
		clear(batch) // drop references to request buffers
		clear(reqs)
	}
}
