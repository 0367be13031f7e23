package collector

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/beaconprm/beacon/beacon"
	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/internal/spool"
	"github.com/valyala/fasthttp"
)

// The request flows one way: route -> parse into pooled buffers -> hand off -> respond.
func (c *Collector) handle(ctx *fasthttp.RequestCtx) {
	c.m.inflight.Inc()
	defer c.m.inflight.Dec()
	path := ctx.Path()
	secureHeaders(ctx, path)
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
		if c.metrics != nil {
			// On its own listener (-collector.metricsAddr): not on the public port.
			c.problem(ctx, routeOther, 404, beacon.Problem{Reason: beacon.ReasonNotFound, Detail: "no such route"}, "")
			return
		}
		c.metricsH(ctx)
		c.m.request(routeMetrics, ctx.Response.StatusCode())
	default:
		switch {
		case bytes.HasPrefix(path, []byte("/l/")):
			c.handleLink(ctx, b2s(path[3:]))
		case bytes.HasSuffix(path, []byte(".js")) && c.serveSnippet(ctx, b2s(path[1:])):
			c.m.request(routeSnippet, ctx.Response.StatusCode())
		case !c.staticOn(path):
			c.problem(ctx, routeOther, 404, beacon.Problem{Reason: beacon.ReasonNotFound, Detail: "no such route"}, "")
		case (bytes.HasPrefix(path, []byte("/demo/")) || bytes.HasPrefix(path, []byte("/viewer/"))) && bytes.Contains(path, []byte("/.")):
			// Dotfiles and dot-directories (.git, .env) are never served.
			c.problem(ctx, routeOther, 404, beacon.Problem{Reason: beacon.ReasonNotFound, Detail: "no such route"}, "")
		case bytes.HasPrefix(path, []byte("/demo/")) || bytes.HasPrefix(path, []byte("/viewer/")):
			c.assets(ctx)
			relativeRedirect(ctx)
			if bytes.HasSuffix(path, []byte(".webm")) {
				// The demo's sample video: minimal systems have no mime.types entry for it
				// and Chromium will not play it as application/octet-stream.
				ctx.Response.Header.SetContentType("video/webm")
			}
			c.m.request(routeSnippet, ctx.Response.StatusCode())
		case string(path) == "/demo" || string(path) == "/viewer":
			// Relative links in index.html need the directory form.
			ctx.Response.Header.Set("Location", string(path)+"/")
			ctx.SetStatusCode(301)
			c.m.request(routeSnippet, 301)
		default:
			c.problem(ctx, routeOther, 404, beacon.Problem{Reason: beacon.ReasonNotFound, Detail: "no such route"}, "")
		}
	}
}

// staticOn reports whether a path under /demo or /viewer may be served: only when that
// directory is switched on (Config.ServeDemo, ServeViewer). Other paths are not its business.
func (c *Collector) staticOn(path []byte) bool {
	switch {
	case string(path) == "/demo" || bytes.HasPrefix(path, []byte("/demo/")):
		return c.cfg.ServeDemo
	case string(path) == "/viewer" || bytes.HasPrefix(path, []byte("/viewer/")):
		return c.cfg.ServeViewer
	}
	return true
}

// relativeRedirect turns the absolute Location fasthttp's FS builds for a directory without
// its slash (from the request's Host header, which the client chooses) into a path.
func relativeRedirect(ctx *fasthttp.RequestCtx) {
	loc := ctx.Response.Header.Peek("Location")
	if len(loc) == 0 {
		return
	}
	if i := bytes.Index(loc, []byte("://")); i >= 0 {
		rest := loc[i+3:]
		p := []byte("/")
		if j := bytes.IndexByte(rest, '/'); j >= 0 && !bytes.HasPrefix(rest[j:], []byte("//")) {
			p = rest[j:] // never "//host": that would be another site
		}
		ctx.Response.Header.SetBytesV("Location", append([]byte(nil), p...))
	}
}

// handleError answers errors fasthttp meets before the handler (body too large, bad HTTP).
func (c *Collector) handleError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		c.problem(ctx, routeEvents, 413, beacon.Problem{Reason: beacon.ReasonBodyTooLarge, Detail: "body is over " + strconv.Itoa(c.cfg.MaxBodySize) + " bytes"}, "")
		ctx.SetConnectionClose()
		return
	}
	// The error's text quotes the request's bytes: it is never sent back.
	detail := "cannot parse the HTTP request"
	var timeout interface{ Timeout() bool }
	if errors.As(err, &timeout) && timeout.Timeout() {
		detail = "the request was not read in time"
	}
	c.problem(ctx, routeOther, 400, beacon.Problem{Reason: beacon.ReasonMalformedJSON, Detail: detail}, "")
	ctx.SetConnectionClose()
}

// Content-Security-Policy of the demo page: its own scripts, styles, media and the viewer
// frame only; framed only by its own origin.
const cspDemo = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"media-src 'self'; frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// Content-Security-Policy of the hosted viewer: same-origin scripts, pdf.js worker and PDF
// files (connect-src 'self', so ?file= loads only this origin's documents); pdf.js needs
// WebAssembly for some image codecs and data:/blob: images. Partner portals frame it, so no
// frame-ancestors.
const cspViewer = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'"

// Content-Security-Policy of everything else (JSON, the pixel, text): nothing to run or frame.
const cspNone = "default-src 'none'; frame-ancestors 'none'"

// secureHeaders sets the headers every answer carries; problem sets them again after its
// Reset. Constant strings: no allocation.
func secureHeaders(ctx *fasthttp.RequestCtx, path []byte) {
	h := &ctx.Response.Header
	h.Set("X-Content-Type-Options", "nosniff")
	switch {
	case bytes.HasPrefix(path, []byte("/demo/")):
		h.Set("Content-Security-Policy", cspDemo)
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	case bytes.HasPrefix(path, []byte("/viewer/")):
		h.Set("Content-Security-Policy", cspViewer)
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	default:
		h.Set("Content-Security-Policy", cspNone)
		h.Set("Referrer-Policy", "no-referrer")
	}
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
func (c *Collector) problem(ctx *fasthttp.RequestCtx, r route, code int, p beacon.Problem, allowOrigin string) {
	c.m.rejected[p.Reason].Inc()
	c.m.request(r, code)
	ctx.Response.Reset()
	secureHeaders(ctx, nil)
	ctx.SetStatusCode(code)
	ctx.SetContentType("application/json")
	if allowOrigin != "" {
		setCORS(ctx, allowOrigin)
	}
	var b [256]byte
	ctx.SetBody(p.AppendJSON(b[:0]))
}

func setCORS(ctx *fasthttp.RequestCtx, origin string) {
	h := &ctx.Response.Header
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Vary", "Origin")
}

func (c *Collector) getReq() *reqState { return c.reqs.Get().(*reqState) }

func (c *Collector) putReq(rs *reqState) {
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
		c.problem(ctx, routeEvents, 405, beacon.Problem{Reason: beacon.ReasonMethodNotAllowed, Detail: "use POST"}, "")
		return
	}
	if ce := ctx.Request.Header.ContentEncoding(); len(ce) > 0 && string(ce) != "identity" {
		// Compressed bodies are refused: no decompression means no gzip bombs.
		c.problem(ctx, routeEvents, 415, beacon.Problem{Reason: beacon.ReasonUnsupportedMediaType, Detail: "compressed bodies are not accepted"}, "")
		return
	}
	if ct := ctx.Request.Header.ContentType(); len(ct) > 0 && !bytes.HasPrefix(ct, []byte("text/plain")) && !bytes.HasPrefix(ct, []byte("application/json")) {
		c.problem(ctx, routeEvents, 415, beacon.Problem{Reason: beacon.ReasonUnsupportedMediaType, Detail: "send text/plain or application/json"}, "")
		return
	}
	if !c.admit(ctx, routeEvents, sites, origin) {
		return
	}
	defer c.limiter.release()
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
	defer c.putReq(rs)
	if res.Problem.Reason != beacon.ReasonNone {
		code := 400
		if res.Problem.Reason == beacon.ReasonOriginNotAllowed {
			code = 403
		}
		c.problem(ctx, routeEvents, code, res.Problem, allow)
		return
	}
	c.countResult(&rs.work, &res)
	if res.Dropped != beacon.ReasonNone {
		c.noContent(ctx, routeEvents, allow)
		return
	}
	if res.Accepted > 0 {
		if err := c.deliver(rs); err != nil {
			p := spoolFullProblem
			if !errors.Is(err, spool.ErrFull) {
				p.Detail = "the spool cannot be written; retry later"
			}
			c.refuse(ctx, p, spoolFullRetryAfter, allow)
			return
		}
		c.m.eventsAccepted.Add(float64(res.Accepted))
	}
	switch {
	case res.Accepted == 0:
		c.problem(ctx, routeEvents, 400, beacon.Problem{Reason: res.FirstReason, Field: "events", Detail: "no event was valid"}, allow)
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

// The answers of a request refused for the spool (its limit, -collector.spoolMaxSize) and
// their Retry-After in seconds: the spool empties at the shipper's pace, not in a second.
var spoolFullProblem = beacon.Problem{Reason: beacon.ReasonSpoolFull, Detail: "the spool is full; retry later"}

const spoolFullRetryAfter = "5"

var overloadedProblem = beacon.Problem{Reason: beacon.ReasonOverloaded,
	Detail: "the collector is at -collector.maxConcurrentRequests and its queue is full; retry after Retry-After seconds, with jitter"}

// admit lets a request do its work (decode, validate, spool) or sheds it first, cheaply:
// while the spool is full (the shipper behind, or Kafka away) it would only be decoded to be
// refused, so it is refused at once with 503 spool_full; otherwise it takes a request slot,
// queueing for one if the queue has room, and without one it is shed with 503 overloaded.
// A shed event batch is never decoded and gets Retry-After and CORS for an origin some site
// allows, so the snippet can read the status and Retry-After and back off; a shed pixel is
// only counted (its caller answers the GIF). Every shed request is counted in
// beacon_requests_rejected_total by its reason. When admit returns true, the caller must
// release the slot (c.limiter.release).
func (c *Collector) admit(ctx *fasthttp.RequestCtx, r route, sites *site.Sites, origin string) bool {
	if c.spool.Full() {
		c.shed(ctx, r, sites, origin, spoolFullProblem, spoolFullRetryAfter)
		return false
	}
	ok, waited := c.limiter.acquire()
	if waited {
		c.m.slotWaits.Inc()
	}
	if ok {
		return true
	}
	c.shed(ctx, r, sites, origin, overloadedProblem, overloadRetryAfter)
	return false
}

// shed refuses a request admit does not let in (see admit).
func (c *Collector) shed(ctx *fasthttp.RequestCtx, r route, sites *site.Sites, origin string, p beacon.Problem, retryAfter string) {
	if r != routeEvents {
		c.m.rejected[p.Reason].Inc()
		return
	}
	allow := ""
	if origin != "" && sites.AnyOriginAllowed(origin) {
		allow = origin
	}
	c.refuse(ctx, p, retryAfter, allow)
}

// refuse answers an event batch 503 with Retry-After (readable by the snippet when allow is
// its origin) and counts it under p's reason.
func (c *Collector) refuse(ctx *fasthttp.RequestCtx, p beacon.Problem, retryAfter, allow string) {
	c.problem(ctx, routeEvents, 503, p, allow)
	h := &ctx.Response.Header
	h.Set("Retry-After", retryAfter)
	if allow != "" {
		h.Set("Access-Control-Expose-Headers", "Retry-After")
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
func (c *Collector) countResult(w *beacon.Work, res *beacon.Result) {
	if res.Dropped != beacon.ReasonNone {
		c.m.eventsDropped[res.Dropped].Add(float64(res.Events))
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

func (c *Collector) preflight(ctx *fasthttp.RequestCtx, sites *site.Sites, origin string) {
	if origin == "" || !sites.AnyOriginAllowed(origin) {
		c.problem(ctx, routeEvents, 403, beacon.Problem{Reason: beacon.ReasonOriginNotAllowed, Field: "Origin", Detail: "origin is not allowed for any site"}, "")
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
		c.m.rejected[beacon.ReasonMethodNotAllowed].Inc()
		return
	}
	if !c.admit(ctx, routePixel, nil, "") {
		return // the deferred GIF: a pixel is never retried, so a 503 would only break the image
	}
	defer c.limiter.release()
	sites := c.sites.Load()
	rs := c.getReq()
	defer c.putReq(rs)
	in := &rs.in
	fillInput(in, ctx, c.clientAddr(ctx), time.Now().UnixMilli())
	res := rs.work.ProcessPixel(sites, ctx.QueryArgs(), in)
	if res.Problem.Reason != beacon.ReasonNone {
		c.m.rejected[res.Problem.Reason].Inc()
		return
	}
	c.countResult(&rs.work, &res)
	if res.Accepted > 0 {
		if err := c.deliver(rs); err != nil {
			c.m.rejected[beacon.ReasonSpoolFull].Inc()
			return
		}
		c.m.eventsAccepted.Add(float64(res.Accepted))
	}
}

// handleLink verifies a tracked link (path /l/<site>/<token>, or /l/<token> for links minted
// before links carried their site), records the click on that site and redirects to its
// target. A link that does not verify never redirects (no open redirect).
func (c *Collector) handleLink(ctx *fasthttp.RequestCtx, tok string) {
	if !ctx.IsGet() && !ctx.IsHead() {
		c.problem(ctx, routeLink, 405, beacon.Problem{Reason: beacon.ReasonMethodNotAllowed, Detail: "use GET"}, "")
		return
	}
	sites := c.sites.Load()
	rs := c.getReq()
	defer c.putReq(rs)
	in := &rs.in
	fillInput(in, ctx, c.clientAddr(ctx), time.Now().UnixMilli())
	in.Prefetch = in.Prefetch || ctx.IsHead() // scanners probe links with HEAD
	siteKey := ""
	if i := strings.IndexByte(tok, '/'); i >= 0 { // /l/<site>/<token>; older links: /l/<token>
		siteKey, tok = tok[:i], tok[i+1:]
	}
	link, res := rs.work.ProcessLink(sites, siteKey, tok, in)
	if link.Target == "" {
		code := 400
		switch link.Attribution {
		case site.AttrBadSignature, site.AttrWrongTenant:
			code = 403
		case site.AttrExpired:
			code = 410
		}
		c.m.attribution[link.Attribution].Inc()
		c.problem(ctx, routeLink, code, beacon.Problem{Reason: beacon.ReasonBadLink, Detail: "link does not verify: " + link.Attribution.String()}, "")
		return
	}
	if link.Token == "" {
		c.problem(ctx, routeLink, 500, res.Problem, "")
		return
	}
	if res.Problem.Reason == beacon.ReasonNone {
		c.countResult(&rs.work, &res)
		if res.Accepted > 0 {
			if err := c.deliver(rs); err != nil {
				c.m.rejected[beacon.ReasonSpoolFull].Inc() // the person still gets to the target
			} else {
				c.m.eventsAccepted.Add(float64(res.Accepted))
			}
		}
	} else {
		c.m.rejected[res.Problem.Reason].Inc()
	}
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.Header.Set("Referrer-Policy", "no-referrer")
	ctx.Redirect(link.Redirect(), 302)
	c.m.request(routeLink, 302)
}
