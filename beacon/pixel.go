package beacon

import (
	"strconv"
	"strings"

	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/internal/ascii"
	"github.com/beaconprm/beacon/internal/jsontext"

	"github.com/cespare/xxhash/v2"
)

// Query is where the pixel reads its parameters: fasthttp's *Args, or any lookup that
// returns nil for a missing key. Values may point into the request.
type Query interface {
	Peek(key string) []byte
}

// ProcessPixel decodes one pixel request (GET /v1/p.gif, WIRE.md "Pixel") from its query
// parameters and runs it through the pipeline like a one-event batch. The sending page must
// be one of the site's allowed origins, as for a batch: in.Origin when the browser sent one,
// else the origin of an http(s) in.Referer (an <img> request carries no Origin); a pixel with
// neither (an email client, an image proxy, a server) is accepted. in.Referer is also the page
// when no url is given.
func (w *Work) ProcessPixel(sites *site.Sites, q Query, in *Input) Result {
	arg := func(k string) string { return ascii.String(q.Peek(k)) }
	b := w.batch()
	b.Site, b.VisitorID, b.SessionID, b.Token = arg("site"), arg("vid"), arg("sid"), arg("tok")
	b.URL, b.Referrer = arg("url"), arg("ref")
	if b.URL == "" {
		b.URL = in.Referer
	}
	if b.SessionID == "" {
		b.SessionID = "pixel"
	}
	if b.VisitorID == "" {
		// No id (an email client): derive one from network, agent and day so repeated opens
		// by one reader count once a day, without storing the address.
		seed := appendIPPrefix(w.pixelID[:0], in.Addr)
		seed = append(seed, 0)
		seed = append(seed, in.UserAgent...)
		seed = strconv.AppendInt(append(seed, 0), in.Now/86400000, 10)
		h := xxhash.Sum64(seed)
		seed = append(seed[:0], "px_"...)
		for i := 60; i >= 0; i -= 4 {
			seed = append(seed, jsontext.HexDigits[(h>>uint(i))&0xf])
		}
		w.pixelID = seed
		b.VisitorID = ascii.String(seed)
	}
	b.SentAt = in.Now
	e := b.nextEvent()
	e.ID, e.Type = arg("id"), arg("type")
	if e.Type == "" {
		e.Type = "view"
	}
	e.TS = in.Now
	if ts := q.Peek("ts"); len(ts) > 0 {
		if v, ok := ascii.ParseUint(ts); ok {
			e.TS, b.SentAt = v, v // one event sent at once: no clock correction
		} else {
			e.reject(ReasonBadValue, "ts")
		}
	}
	e.ContentID, e.ContentType, e.Title = arg("cid"), arg("ct"), arg("t")
	e.Action, e.Name, e.Href = arg("a"), arg("n"), arg("href")
	num := func(k string, dst *uint32, f fieldSet) {
		v := q.Peek(k)
		if len(v) == 0 {
			return
		}
		n, ok := ascii.ParseUint(v)
		if !ok || n > 1<<32-1 {
			e.reject(ReasonBadValue, "query")
		}
		*dst = uint32(n)
		e.has |= f
	}
	var depth uint32
	num("p", &e.Page, hasPage)
	num("pc", &e.PageCount, hasPageCount)
	num("d", &depth, hasDepth)
	if depth > 100 {
		e.reject(ReasonBadValue, "d")
	}
	e.Depth = uint8(depth)
	in2 := *in
	if in2.Origin == "" {
		in2.Origin = refererOrigin(in.Referer)
	}
	return w.processBatch(sites, &in2)
}

// refererOrigin returns the origin (scheme://host[:port]) of an http or https Referer, or ""
// for any other (none, android-app://, about:blank). A substring: no allocation.
func refererOrigin(ref string) string {
	var rest string
	switch {
	case len(ref) > 7 && strings.EqualFold(ref[:7], "http://"):
		rest = ref[7:]
	case len(ref) > 8 && strings.EqualFold(ref[:8], "https://"):
		rest = ref[8:]
	default:
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		return ref[:len(ref)-len(rest)+i]
	}
	return ref
}
