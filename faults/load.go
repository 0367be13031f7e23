package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
)

// load sends batches of view events to the collector at a fixed rate and records the id of
// every event in a 2xx answer. A batch that is not acknowledged is sent again, byte for byte,
// as the snippet does, until it is or the load ends: those re-sends are one source of raw
// duplicates.
type load struct {
	addr    string
	rate    int // events per second
	batch   int // events per request
	workers int

	mu      sync.Mutex
	acked   map[string]struct{}
	sent    int64 // requests, re-sends included
	failed  int64 // requests answered non-2xx or not answered
	batches int64 // distinct batches acknowledged
}

func newLoad(addr string) *load {
	return &load{addr: addr, rate: 500, batch: 10, workers: 10, acked: make(map[string]struct{})}
}

// run sends until ctx ends; a batch being re-sent when it ends is given up (not acknowledged).
func (l *load) run(ctx context.Context, seed uint64) {
	// One idle connection per worker, so none waits long enough in the pool for the
	// collector's header timeout.
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: l.workers, IdleConnTimeout: 2 * time.Second}}
	perWorker := time.Duration(float64(time.Second) * float64(l.batch*l.workers) / float64(l.rate))
	var wg sync.WaitGroup
	for w := range l.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			next := time.Now()
			for ctx.Err() == nil {
				ids, body := l.build(rng)
				for ctx.Err() == nil {
					ok := l.post(ctx, client, body)
					if !ok && ctx.Err() != nil {
						break // cut short by the end of the load, not by a fault
					}
					l.mu.Lock()
					l.sent++
					if ok {
						l.batches++
						for _, id := range ids {
							l.acked[id] = struct{}{}
						}
					} else {
						l.failed++
					}
					l.mu.Unlock()
					if ok {
						break
					}
					sleepCtx(ctx, 200*time.Millisecond)
				}
				next = next.Add(perWorker)
				if d := time.Until(next); d > 0 {
					sleepCtx(ctx, d)
				} else {
					next = time.Now() // behind after an outage: no burst to catch up
				}
			}
		}()
	}
	wg.Wait()
}

func (l *load) build(rng *rand.Rand) ([]string, []byte) {
	now := time.Now().UnixMilli()
	visitor := fmt.Sprintf("v-%d", rng.IntN(500))
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"v":1,"site":"faults","sent_at":%d,"visitor_id":%q,"session_id":"s-%s","consent":true,"url":"https://partners.example.com/docs","events":[`, now, visitor, visitor)
	ids := make([]string, l.batch)
	for i := range ids {
		var u uuid.UUID
		for j := range u {
			u[j] = byte(rng.Uint32())
		}
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		ids[i] = u.String()
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%q,"type":"view","ts":%d,"content_id":"doc-%d","content_type":"document","title":"Doc","page_count":4}`,
			ids[i], now-int64(i), rng.IntN(20))
	}
	b.WriteString("]}")
	return ids, b.Bytes()
}

func (l *load) post(ctx context.Context, c *http.Client, body []byte) bool {
	req, err := http.NewRequestWithContext(ctx, "POST", "http://"+l.addr+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "text/plain")
	// A browser's agent: the collector marks Go's own as a bot, and the rollups skip bots.
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
