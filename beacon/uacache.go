package beacon

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// uaCacheSlots is the number of User-Agents whose classification is remembered across
// requests. Browsers send a handful of User-Agent strings per release, so a few thousand
// cover nearly every request; a flood of distinct strings only replaces entries.
const uaCacheSlots = 4096

// uaCache remembers the classification of recent User-Agents for every request of the
// process. Works are pooled across clients, so a Work remembering its own last one (as it
// did) rarely matched on a busy collector, and classification (a lowercase copy and a few
// dozen substring searches) ran for nearly every request. Slots are replaced whole, never
// changed: a reader sees an entry or another, never half of one.
type uaCache struct {
	seed  maphash.Seed
	slots [uaCacheSlots]atomic.Pointer[uaEntry]
}

type uaEntry struct {
	ua       string
	prefetch bool
	client   Client
}

var sharedUACache = newUACache()

func newUACache() *uaCache { return &uaCache{seed: maphash.MakeSeed()} }

// classify sets c as classifyUA would, from the cache when it holds ua, else by classifying
// it (lower is classifyUA's scratch, returned grown) and remembering the answer.
func (u *uaCache) classify(c *Client, ua string, prefetch bool, lower []byte) []byte {
	if len(ua) > maxUALen {
		ua = ua[:maxUALen] // classifyUA reads no further
	}
	slot := &u.slots[maphash.String(u.seed, ua)&(uaCacheSlots-1)]
	if e := slot.Load(); e != nil && e.prefetch == prefetch && e.ua == ua {
		*c = e.client
		return lower
	}
	lower = classifyUA(c, ua, prefetch, lower)
	// ua may point into the request's buffer, which is reused: keep a copy.
	slot.Store(&uaEntry{ua: strings.Clone(ua), prefetch: prefetch, client: *c})
	return lower
}
