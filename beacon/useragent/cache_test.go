package useragent

import (
	"fmt"
	"hash/maphash"
	"strings"
	"testing"
	"unsafe"
)

// The shared cache answers as Parse does: for the same string twice (the second from
// the cache), with and without prefetch, past the length Parse reads, and across
// more strings than it has slots (entries replaced by colliding ones).
func TestUACacheAnswersAsClassify(t *testing.T) {
	u := newUACache()
	uas := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"Mozilla/5.0 Barracuda Sentinel",
		"curl/8.5.0",
		"",
		strings.Repeat("x", MaxLen) + " Googlebot",          // the bot word lies past what is read
		strings.Repeat("y", MaxLen-3) + "Mozilla/5.0 (iPad", // cut inside a word
	}
	for i := range 3 * uaCacheSlots {
		uas = append(uas, fmt.Sprintf("Mozilla/5.0 (%s; rv:%d) Firefox/%d", []string{"Windows NT 10.0", "Android 14; Mobile", "X11; Linux x86_64", "compatible; examplebot"}[i%4], i, i))
	}
	for round := range 2 {
		for _, ua := range uas {
			for _, prefetch := range []bool{false, true} {
				var want, got Client
				Parse(&want, ua, prefetch, nil)
				u.classify(&got, ua, prefetch, nil)
				if got != want {
					t.Fatalf("round %d, %.60q prefetch %v: cache gave %+v, Parse %+v", round, ua, prefetch, got, want)
				}
			}
		}
	}
}

// An entry keeps its own copy of the User-Agent: the request buffer it came from is
// reused for the next request. A desktop browser whose string lands in the bot's slot
// is written over the bot's bytes: with a shared buffer, the entry would now claim to be
// the browser's, and answer for it "bot".
func TestUACacheCopiesTheUserAgent(t *testing.T) {
	u := newUACache()
	bot := "Mozilla/5.0 (compatible; Googlebot/2.1)"
	slot := func(s string) uint64 { return maphash.String(u.seed, s) & (uaCacheSlots - 1) }
	next := ""
	for i := 0; next == ""; i++ {
		c := fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0) %0*d", len(bot)-30, i) // as long as bot
		if slot(c) == slot(bot) {
			next = c
		}
	}
	buf := []byte(bot)
	ua := unsafe.String(&buf[0], len(buf)) // as the collector hands it over
	var c Client
	u.classify(&c, ua, false, nil)
	if c.Device != "bot" {
		t.Fatalf("Googlebot: %+v", c)
	}
	copy(buf, next) // the next request, in the same buffer, the same slot
	var got, want Client
	u.classify(&got, ua, false, nil)
	Parse(&want, next, false, nil)
	if got != want || got.Device != "desktop" {
		t.Fatalf("%q after %q in the same buffer: cache %+v, want %+v", next, bot, got, want)
	}
}
