package useragent

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

var sharedCache = newUACache()

func newUACache() *uaCache { return &uaCache{seed: maphash.MakeSeed()} }

// Classify sets c as Parse does, from the process's cache when it holds ua, else by parsing
// it (lower is Parse's scratch, returned grown) and remembering the answer. Clients repeat
// their User-Agent on every beacon.
func Classify(c *Client, ua string, prefetch bool, lower []byte) []byte {
	return sharedCache.classify(c, ua, prefetch, lower)
}

// classify is Classify on cache u.
func (u *uaCache) classify(c *Client, ua string, prefetch bool, lower []byte) []byte {
	if len(ua) > MaxLen {
		ua = ua[:MaxLen] // Parse reads no further
	}
	slot := &u.slots[maphash.String(u.seed, ua)&(uaCacheSlots-1)]
	if e := slot.Load(); e != nil && e.prefetch == prefetch && e.ua == ua {
		*c = e.client
		return lower
	}
	lower = Parse(c, ua, prefetch, lower)
	// ua may point into the request's buffer, which is reused: keep a copy.
	slot.Store(&uaEntry{ua: strings.Clone(ua), prefetch: prefetch, client: *c})
	return lower
}
