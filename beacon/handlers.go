package beacon

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/valyala/fasthttp"
)

// The request flows one way: route -> parse into pooled buffers -> hand off -> respond.
func (c *Collector) handle(ctx *fasthttp.RequestCtx) {
	c.m.inflight.Inc()
	defer c.m.inflight.Dec()
	path := ctx.Path()
	switch string(path) {
	case "/v1/events":
		c.handleEvents(ctx)
	case "/v1/p.gif":
		c.handlePixel(ctx)
	case "/healthz":
		ctx.SetStatusCode(200)
		ctx.SetBodyString("ok\n")
		c.m.request(routeHealth, 200)
	case "/readyz":
		c.handleReady(ctx)
	case "/metrics":
		c.metricsH(ctx)
		c.m.request(routeMetrics, ctx.Response.StatusCode())
	default:
		switch {
		case bytes.HasPrefix(path, []byte("/l/")):
			c.handleLink(ctx, b2s(path[3:]))
		case bytes.HasSuffix(path, []byte(".js")) && c.serveSnippet(ctx, b2s(path[1:])):
			c.m.request(routeSnippet, ctx.Response.StatusCode())
		case bytes.HasPrefix(path, []byte("/demo/")) || bytes.HasPrefix(path, []byte("/viewer/")):
			c.assets(ctx)
			c.m.request(routeSnippet, ctx.Response.StatusCode())
		case string(path) == "/demo" || string(path) == "/viewer":
			// Relative links in index.html need the directory form.
			ctx.Response.Header.Set("Location", string(path)+"/")
			ctx.SetStatusCode(301)
			c.m.request(routeSnippet, 301)
		default:
			c.problem(ctx, routeOther, 404, Problem{Reason: ReasonNotFound, Detail: "no such route"}, "")
		}
	}
}

// handleError answers errors fasthttp meets before the handler (body too large, bad HTTP).
func (c *Collector) handleError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		c.problem(ctx, routeEvents, 413, Problem{Reason: ReasonBodyTooLarge, Detail: "body is over " + strconv.Itoa(c.cfg.MaxBodySize) + " bytes"}, "")
		ctx.SetConnectionClose()
		return
	}
	c.problem(ctx, routeOther, 400, Problem{Reason: ReasonMalformedJSON, Detail: "cannot read request: " + err.Error()}, "")
	ctx.SetConnectionClose()
}

func (c *Collector) handleReady(ctx *fasthttp.RequestCtx) {
	switch {
	case c.draining.Load():
		ctx.SetStatusCode(503)
		ctx.SetBodyString("draining\n")
	case c.spool.Full():
		ctx.SetStatusCode(503)
		ctx.SetBodyString("spool_full\n")
	default:
		ctx.SetStatusCode(200)
		ctx.SetBodyString("ready\n")
	}
	c.m.request(routeHealth, ctx.Response.StatusCode())
}

// problem answers a refused request with {"error":reason,"detail":...} and counts it.
func (c *Collector) problem(ctx *fasthttp.RequestCtx, r route, code int, p Problem, allowOrigin string) {
	c.m.rejected[p.Reason].Inc()
	c.m.request(r, code)
	ctx.Response.Reset()
	ctx.SetStatusCode(code)
	ctx.SetContentType("application/json")
	if allowOrigin != "" {
		setCORS(ctx, allowOrigin)
	}
	var b [256]byte
	out := append(b[:0], `{"error":"`...)
	out = append(out, p.Reason.String()...)
	out = append(out, `","detail":`...)
	detail := p.Detail
	if p.Field != "" {
		detail = p.Field + ": " + detail
	}
	out = appendJSONString(out, detail)
	out = append(out, "}\n"...)
	ctx.SetBody(out)
}

func setCORS(ctx *fasthttp.RequestCtx, origin string) {
	h := &ctx.Response.Header
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Vary", "Origin")
}

func (c *Collector) getReq() *reqState { return c.reqs.Get().(*reqState) }

func (c *Collector) putReq(rs *reqState, retained bool) {
	if retained {
		return // the Kafka writer may still read these buffers: let the GC have them
	}
	if cap(rs.work.Msgs) > 1<<20 {
		return // do not pool one huge request's buffers
	}
	c.reqs.Put(rs)
}

func (c *Collector) handleEvents(ctx *fasthttp.RequestCtx) {
	origin := b2s(ctx.Request.Header.Peek("Origin"))
	sites := c.sites.Load()
	switch {
	case ctx.IsPost():
	case ctx.IsOptions():
		c.preflight(ctx, sites, origin)
		return
	default:
		c.problem(ctx, routeEvents, 405, Problem{Reason: ReasonMethodNotAllowed, Detail: "use POST"}, "")
		return
	}
	if ce := ctx.Request.Header.ContentEncoding(); len(ce) > 0 && string(ce) != "identity" {
		// Compressed bodies are refused: no decompression means no gzip bombs.
		c.problem(ctx, routeEvents, 415, Problem{Reason: ReasonUnsupportedMediaType, Detail: "compressed bodies are not accepted"}, "")
		return
	}
	if ct := ctx.Request.Header.ContentType(); len(ct) > 0 && !bytes.HasPrefix(ct, []byte("text/plain")) && !bytes.HasPrefix(ct, []byte("application/json")) {
		c.problem(ctx, routeEvents, 415, Problem{Reason: ReasonUnsupportedMediaType, Detail: "send text/plain or application/json"}, "")
		return
	}
	body := ctx.PostBody()
	c.m.bodyBytes.Add(float64(len(body)))

	rs := c.getReq()
	in := &rs.in
	fillInput(in, ctx, c.clientAddr(ctx), time.Now().UnixMilli())
	in.Body = body
	res := rs.work.Process(sites, in)
	allow := ""
	if res.Site != nil && origin != "" && res.Site.OriginAllowed(origin) {
		allow = origin
	}
	retained := false
	defer func() { c.putReq(rs, retained) }()
	if res.Problem.Reason != ReasonNone {
		code := 400
		if res.Problem.Reason == ReasonOriginNotAllowed {
			code = 403
		}
		c.problem(ctx, routeEvents, code, res.Problem, allow)
		return
	}
	c.countResult(&rs.work, &res)
	if res.Dropped != ReasonNone {
		c.noContent(ctx, routeEvents, allow)
		return
	}
	if res.Accepted > 0 {
		var err error
		retained, err = c.deliver(rs)
		if err != nil {
			p := Problem{Reason: ReasonSpoolFull, Detail: "kafka is unavailable and the spool is full; retry later"}
			if !errors.Is(err, ErrSpoolFull) {
				p.Detail = "kafka is unavailable and the spool cannot be written; retry later"
			}
			c.problem(ctx, routeEvents, 503, p, allow)
			ctx.Response.Header.Set("Retry-After", "5")
			return
		}
		c.m.eventsAccepted.Add(float64(res.Accepted))
	}
	switch {
	case res.Accepted == 0:
		c.problem(ctx, routeEvents, 400, Problem{Reason: res.FirstReason, Field: "events", Detail: "no event was valid"}, allow)
	case res.Rejected > 0:
		ctx.SetStatusCode(200)
		ctx.SetContentType("application/json")
		if allow != "" {
			setCORS(ctx, allow)
		}
		out := append(rs.out[:0], `{"accepted":`...)
		out = strconv.AppendInt(out, int64(res.Accepted), 10)
		out = append(out, `,"rejected":`...)
		out = strconv.AppendInt(out, int64(res.Rejected), 10)
		out = append(out, `,"reason":"`...)
		out = append(out, res.FirstReason.String()...)
		out = append(out, "\"}\n"...)
		rs.out = out
		ctx.SetBody(out)
		c.m.request(routeEvents, 200)
	default:
		c.noContent(ctx, routeEvents, allow)
	}
}

func (c *Collector) noContent(ctx *fasthttp.RequestCtx, r route, allow string) {
	ctx.SetStatusCode(204)
	if allow != "" {
		setCORS(ctx, allow)
	}
	c.m.request(r, 204)
}

// countResult adds a processed request's outcome to the metrics.
func (c *Collector) countResult(w *Work, res *Result) {
	if res.Dropped != ReasonNone {
		c.m.eventsDropped[res.Dropped].Add(float64(len(w.dec.batch.Events)))
		return
	}
	c.m.attribution[res.Attribution].Inc()
	if res.Rejected > 0 {
		for r, n := range w.Rejects {
			if n > 0 {
				c.m.eventsRejected[r].Add(float64(n))
			}
		}
	}
}

func (c *Collector) preflight(ctx *fasthttp.RequestCtx, sites *Sites, origin string) {
	if origin == "" || !sites.anyOriginAllowed(origin) {
		c.problem(ctx, routeEvents, 403, Problem{Reason: ReasonOriginNotAllowed, Field: "Origin", Detail: "origin is not allowed for any site"}, "")
		return
	}
	setCORS(ctx, origin)
	h := &ctx.Response.Header
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	ctx.SetStatusCode(204)
	c.m.request(routeEvents, 204)
}

// transparentGIF is a 1x1 transparent GIF (43 bytes).
var transparentGIF = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b")

// handlePixel records one event from query parameters and always answers the GIF.
func (c *Collector) handlePixel(ctx *fasthttp.RequestCtx) {
	defer func() {
		ctx.Response.Header.Set("Cache-Control", "no-store, max-age=0")
		ctx.SetContentType("image/gif")
		ctx.SetStatusCode(200)
		ctx.SetBody(transparentGIF)
		c.m.request(routePixel, 200)
	}()
	if !ctx.IsGet() && !ctx.IsHead() {
		c.m.rejected[ReasonMethodNotAllowed].Inc()
		return
	}
	sites := c.sites.Load()
	rs := c.getReq()
	retained := false
	defer func() { c.putReq(rs, retained) }()
	now := time.Now().UnixMilli()
	in := &rs.in
	fillInput(in, ctx, c.clientAddr(ctx), now)
	in.Origin = "" // an image request's origin is not a CORS origin
	args := ctx.QueryArgs()
	arg := func(k string) string { return b2s(args.Peek(k)) }

	b := rs.work.Batch()
	b.Site, b.VisitorID, b.SessionID, b.Token = arg("site"), arg("vid"), arg("sid"), arg("tok")
	b.URL, b.Referrer = arg("url"), arg("ref")
	if b.URL == "" {
		b.URL = b2s(ctx.Request.Header.Referer())
	}
	if b.SessionID == "" {
		b.SessionID = "pixel"
	}
	if b.VisitorID == "" {
		// No id (an email client): derive one from network, agent and day so repeated opens
		// by one reader count once a day, without storing the address.
		seed := appendIPPrefix(rs.link[:0], in.Addr)
		seed = append(seed, 0)
		seed = append(seed, in.UserAgent...)
		seed = strconv.AppendInt(append(seed, 0), now/86400000, 10)
		h := xxhash.Sum64(seed)
		seed = append(seed[:0], "px_"...)
		for i := 60; i >= 0; i -= 4 {
			seed = append(seed, hexDigits[(h>>uint(i))&0xf])
		}
		rs.link = seed
		b.VisitorID = b2s(seed)
	}
	b.SentAt = now
	e := b.NewEvent()
	e.ID, e.Type = arg("id"), arg("type")
	if e.Type == "" {
		e.Type = "view"
	}
	e.TS = now
	if ts := args.Peek("ts"); len(ts) > 0 {
		if v, ok := parseUint(ts); ok {
			e.TS, b.SentAt = v, v // one event sent at once: no clock correction
		} else {
			e.reject(ReasonBadValue, "ts")
		}
	}
	e.ContentID, e.ContentType, e.Title = arg("cid"), arg("ct"), arg("t")
	e.Action, e.Name, e.Href = arg("a"), arg("n"), arg("href")
	num := func(k string, dst *uint32) bool {
		v := args.Peek(k)
		if len(v) == 0 {
			return false
		}
		n, ok := parseUint(v)
		if !ok || n > 1<<32-1 {
			e.reject(ReasonBadValue, "query")
		}
		*dst = uint32(n)
		return true
	}
	var depth uint32
	hp, hpc, hd := num("p", &e.Page), num("pc", &e.PageCount), num("d", &depth)
	if depth > 100 {
		e.reject(ReasonBadValue, "d")
	}
	e.Depth = uint8(depth)
	e.MarkPresent(hp, hpc, hd)

	res := rs.work.ProcessBatch(sites, in)
	if res.Problem.Reason != ReasonNone {
		c.m.rejected[res.Problem.Reason].Inc()
		return
	}
	c.countResult(&rs.work, &res)
	if res.Accepted > 0 {
		var err error
		if retained, err = c.deliver(rs); err != nil {
			c.m.rejected[ReasonSpoolFull].Inc()
			return
		}
		c.m.eventsAccepted.Add(float64(res.Accepted))
	}
}

// handleLink verifies a tracked link, records the click and redirects to its target. A
// link that does not verify never redirects (no open redirect).
func (c *Collector) handleLink(ctx *fasthttp.RequestCtx, tok string) {
	if !ctx.IsGet() && !ctx.IsHead() {
		c.problem(ctx, routeLink, 405, Problem{Reason: ReasonMethodNotAllowed, Detail: "use GET"}, "")
		return
	}
	sites := c.sites.Load()
	now := time.Now().UnixMilli()
	rs := c.getReq()
	retained := false
	defer func() { c.putReq(rs, retained) }()
	claims, a, scratch := sites.verifyLink(tok, now/1000, rs.link[:0])
	rs.link = scratch
	if a != AttrToken || claims.Target == "" {
		code := 400
		switch a {
		case AttrBadSignature, AttrWrongTenant:
			code = 403
		case AttrExpired:
			code = 410
		}
		c.m.attribution[a].Inc()
		c.problem(ctx, routeLink, code, Problem{Reason: ReasonBadLink, Detail: "link does not verify: " + a.String()}, "")
		return
	}
	t := sites.byTenant[claims.Tenant]
	site := sites.Site(t.defaultSite)
	attr := Claims{Tenant: claims.Tenant, Partner: claims.Partner, User: claims.User, Campaign: claims.Campaign, Expires: claims.Expires}
	attrTok, err := t.mint(attr)
	if err != nil || site == nil {
		c.problem(ctx, routeLink, 500, Problem{Reason: ReasonBadLink, Detail: "cannot mint partner token"}, "")
		return
	}

	in := &rs.in
	fillInput(in, ctx, c.clientAddr(ctx), now)
	in.Origin = ""
	in.Prefetch = in.Prefetch || ctx.IsHead() // scanners probe links with HEAD
	b := rs.work.Batch()
	b.Site, b.SentAt, b.Token = site.Key, now, attrTok
	b.VisitorID = partnerVisitorID(claims)
	b.SessionID = "link"
	b.Referrer = b2s(ctx.Request.Header.Referer())
	e := b.NewEvent()
	e.Type, e.Action, e.TS = "click", "tracked", now
	e.Href, e.ContentID = claims.Target, claims.Content
	res := rs.work.ProcessBatch(sites, in)
	if res.Problem.Reason == ReasonNone {
		c.countResult(&rs.work, &res)
		if res.Accepted > 0 {
			if retained, err = c.deliver(rs); err != nil {
				c.m.rejected[ReasonSpoolFull].Inc() // the person still gets to the target
			} else {
				c.m.eventsAccepted.Add(float64(res.Accepted))
			}
		}
	} else {
		c.m.rejected[res.Problem.Reason].Inc()
	}

	loc := claims.Target
	frag := ""
	if i := strings.IndexByte(loc, '#'); i >= 0 {
		loc, frag = loc[:i], loc[i:]
	}
	sep := "?"
	if strings.IndexByte(loc, '?') >= 0 {
		sep = "&"
	}
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.Header.Set("Referrer-Policy", "no-referrer")
	ctx.Redirect(loc+sep+"pb_t="+attrTok+frag, 302)
	c.m.request(routeLink, 302)
}

// partnerVisitorID is the visitor id of link clicks: stable per partner user, so clicks
// before the snippet has an id still group by person.
func partnerVisitorID(c Claims) string {
	h := xxhash.New()
	h.WriteString(c.Tenant)
	h.Write([]byte{0})
	h.WriteString(c.Partner)
	h.Write([]byte{0})
	h.WriteString(c.User)
	return "pu_" + strconv.FormatUint(h.Sum64(), 16)
}
