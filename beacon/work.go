package beacon

import (
	"net/netip"
	"strconv"

	"github.com/beaconprm/beacon/beacon/event"
	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/beacon/useragent"
	"github.com/beaconprm/beacon/internal/jsontext"
)

// Input is one request as the event pipeline sees it. Strings may point into the request;
// they are not kept after Process returns.
type Input struct {
	Body      []byte
	Origin    string     // Origin header, "" when absent
	UserAgent string     // User-Agent header
	Addr      netip.Addr // client address (already resolved from X-Forwarded-For if trusted)
	DNT       bool       // DNT: 1 or Sec-GPC: 1
	Prefetch  bool       // Purpose/Sec-Purpose/X-Moz: prefetch
	Now       int64      // received_at, ms since the epoch
	Referer   string     // Referer header: the page of a pixel without url, a link click's referrer
}

// Result says what became of a request.
type Result struct {
	Problem     Problem          // non-zero: the whole request was refused
	Site        *site.Site       // the resolved site, nil when unknown
	Events      int              // events in the request once decoded
	Accepted    int              // events encoded into Work.Msgs
	Rejected    int              // events dropped by per-event rules
	FirstReason Reason           // reason of the first dropped event
	Dropped     Reason           // ReasonDNT or ReasonNoConsent: batch dropped by privacy settings
	Attribution site.Attribution // outcome of the batch's partner token
}

// Work holds the pooled buffers one request needs through decode, validate, enrich and
// encode; reuse it (Reset is implicit in Process) so the hot path does not allocate.
type Work struct {
	dec Decoder

	// Msgs holds the normalized events back to back; message i is Msgs[Ends[i-1]:Ends[i]]
	// (Ends[-1] = 0). Key is the Kafka key shared by all of them (the visitor id).
	Msgs []byte
	Ends []int
	Key  []byte

	// Rejects counts dropped events of the last request by reason.
	Rejects [NumReasons]uint16

	client useragent.Client
	tail   []byte   // the per-batch members every message of the batch ends with
	url    []byte   // the batch url, cleaned and JSON-quoted
	keep   []string // the site's kept query parameters (besides utm_*)
	lower  []byte
	tok    []byte

	times event.TimeCache

	seed    []byte
	pixelID []byte // a pixel's derived visitor id
	link    []byte // a tracked link's decoded claims
	query   []byte // a search's stored text
}

// Process decodes, validates, enriches and encodes one POST /v1/events body.
func (w *Work) Process(sites *site.Sites, in *Input) Result {
	b, p := w.dec.Decode(in.Body, DefaultMaxEvents)
	if p.Reason != ReasonNone {
		w.reset()
		return Result{Problem: p}
	}
	return w.process(sites, b, in)
}

// batch returns the work's batch, emptied, for the entries that build a batch without JSON
// (the pixel and tracked links); then processBatch.
func (w *Work) batch() *Batch {
	w.dec.batch.reset()
	return &w.dec.batch
}

// processBatch runs validation, enrichment and encoding over a batch from batch().
func (w *Work) processBatch(sites *site.Sites, in *Input) Result {
	b := &w.dec.batch
	b.hasV, b.V = true, WireVersion
	b.hasSentAt = true
	for i := range b.Events {
		b.Events[i].has |= hasTS
	}
	return w.process(sites, b, in)
}

func (w *Work) reset() {
	w.Msgs, w.Ends, w.Key = w.Msgs[:0], w.Ends[:0], w.Key[:0]
	w.Rejects = [NumReasons]uint16{}
}

func (w *Work) process(sites *site.Sites, b *Batch, in *Input) Result {
	w.reset()
	if p := b.validateBatch(); p.Reason != ReasonNone {
		return Result{Problem: p}
	}
	st := sites.Site(b.Site)
	if st == nil {
		return Result{Problem: Problem{Reason: ReasonUnknownSite, Field: "site", Detail: "no such site key"}}
	}
	res := Result{Site: st, Events: len(b.Events)}
	if in.Origin != "" && !st.OriginAllowed(in.Origin) {
		res.Problem = Problem{Reason: ReasonOriginNotAllowed, Field: "Origin", Detail: "origin is not allowed for this site"}
		return res
	}
	if st.RespectDNT && in.DNT {
		res.Dropped = ReasonDNT
		return res
	}
	if st.RequireConsent && !b.Consent {
		res.Dropped = ReasonNoConsent
		return res
	}

	var claims site.Claims
	claims, res.Attribution, w.tok = st.VerifyToken(b.Token, in.Now/1000, w.tok[:0])
	// Clients repeat their User-Agent on every beacon: the process remembers recent ones.
	w.lower = useragent.Classify(&w.client, in.UserAgent, in.Prefetch, w.lower)
	w.keep = st.KeepParams()
	w.buildTail(st, b, &claims, res.Attribution, in)
	w.seed = appendCleanURL(w.seed[:0], b.URL, w.keep)
	w.url = jsontext.AppendString(w.url[:0], w.seed)
	w.Key = append(w.Key, b.VisitorID...)

	for i := range b.Events {
		e := &b.Events[i]
		validateEvent(e, b.SentAt, b.fromLink)
		if e.rej != ReasonNone {
			res.Rejected++
			if res.FirstReason == ReasonNone {
				res.FirstReason = e.rej
			}
			w.Rejects[e.rej]++
			continue
		}
		w.Msgs = w.appendEvent(w.Msgs, b, e, i, in.Now)
		w.Ends = append(w.Ends, len(w.Msgs))
		res.Accepted++
	}
	return res
}

// buildTail encodes the members that are the same for every event of the batch once.
func (w *Work) buildTail(st *site.Site, b *Batch, c *site.Claims, a site.Attribution, in *Input) {
	t := w.tail[:0]
	t = append(t, `,"tenant":`...)
	t = jsontext.AppendString(t, st.Tenant)
	t = append(t, `,"site_key":`...)
	t = jsontext.AppendString(t, st.Key)
	t = append(t, `,"received_at":"`...)
	t = event.AppendTime(t, in.Now)
	t = append(t, `","visitor_id":`...)
	t = jsontext.AppendString(t, b.VisitorID)
	t = append(t, `,"session_id":`...)
	t = jsontext.AppendString(t, b.SessionID)
	t = append(t, `,"partner_id":`...)
	t = jsontext.AppendString(t, c.Partner)
	t = append(t, `,"partner_user_id":`...)
	t = jsontext.AppendString(t, c.User)
	t = append(t, `,"campaign_id":`...)
	t = jsontext.AppendString(t, c.Campaign)
	t = append(t, `,"attribution":"`...)
	t = append(t, a.String()...)
	t = append(t, `","referrer":`...)
	w.seed = appendCleanURL(w.seed[:0], b.Referrer, w.keep)
	t = jsontext.AppendString(t, w.seed)
	t = append(t, `,"device":"`...)
	t = append(t, w.client.Device...)
	if w.client.BotReason != "" {
		t = append(t, `","is_bot":1,"bot_reason":"`...)
	} else {
		t = append(t, `","is_bot":0,"bot_reason":"`...)
	}
	t = append(t, w.client.BotReason...)
	t = append(t, `","ip_prefix":"`...)
	t = appendIPPrefix(t, in.Addr)
	t = append(t, `","user_agent":`...)
	switch {
	case st.KeepUserAgent:
		ua := in.UserAgent
		if len(ua) > useragent.MaxLen {
			ua = ua[:useragent.MaxLen]
		}
		t = jsontext.AppendString(t, ua)
	case w.client.Browser == "":
		t = append(t, `""`...)
	default:
		// Only what enrichment reads: the browser and OS families (constants, JSON-safe).
		t = append(t, '"')
		t = append(t, w.client.Browser...)
		t = append(t, "; "...)
		t = append(t, w.client.OS...)
		t = append(t, '"')
	}
	w.tail = append(t, '}')
}

// appendEvent encodes one validated event as a normalized JSON object (keys = raw table
// columns). Members that do not apply to the event's type are written as zero.
func (w *Work) appendEvent(dst []byte, b *Batch, e *Event, idx int, now int64) []byte {
	dst = append(dst, `{"event_id":"`...)
	if e.ID != "" {
		dst = appendLowerUUID(dst, e.ID)
	} else {
		s := append(w.seed[:0], b.Site...)
		s = append(s, 0)
		s = append(s, b.VisitorID...)
		s = append(s, 0)
		s = append(s, b.SessionID...)
		s = strconv.AppendInt(append(s, 0), b.SentAt, 10)
		s = strconv.AppendInt(append(s, 0), int64(idx), 10)
		dst = appendDerivedUUID(dst, s)
		w.seed = s
	}
	et := e.TS + (now - b.SentAt)
	if et > now {
		et = now
	} else if et < now-clampBehind {
		et = now - clampBehind
	}
	dst = append(dst, `","event_time":"`...)
	dst = w.times.Append(dst, et)
	dst = append(dst, `","client_time":"`...)
	dst = w.times.Append(dst, e.TS)
	dst = append(dst, `","type":"`...)
	dst = append(dst, e.Type...) // validated: one of the known names
	dst = append(dst, `","content_id":`...)
	dst = jsontext.AppendString(dst, e.ContentID)
	dst = append(dst, `,"content_type":"`...)
	dst = append(dst, e.ContentType...) // validated enum
	dst = append(dst, `","content_title":`...)
	dst = jsontext.AppendString(dst, e.Title)
	dst = append(dst, `,"url":`...)
	if e.URL != "" {
		w.seed = appendCleanURL(w.seed[:0], e.URL, w.keep)
		dst = jsontext.AppendString(dst, w.seed)
	} else {
		dst = append(dst, w.url...)
	}

	// Members that do not apply to the type are written as one constant run of zeros.
	switch e.Type {
	case "page":
		dst = append(dst, `,"page":`...)
		dst = appendUint(dst, uint64(e.Page))
		dst = append(dst, `,"page_count":`...)
		dst = appendUint(dst, uint64(e.PageCount))
		dst = append(dst, `,"dwell_ms":`...)
		dst = appendUint(dst, uint64(e.DwellMS))
		dst = append(dst, `,"scroll_depth":0,"engaged_ms":0`...)
	case "view", "complete":
		dst = append(dst, `,"page":0,"page_count":`...)
		dst = appendUint(dst, uint64(e.PageCount))
		dst = append(dst, `,"dwell_ms":0,"scroll_depth":0,"engaged_ms":0`...)
	case "scroll":
		dst = append(dst, `,"page":0,"page_count":0,"dwell_ms":0,"scroll_depth":`...)
		dst = appendUint(dst, uint64(e.Depth))
		dst = append(dst, `,"engaged_ms":0`...)
	case "engage":
		dst = append(dst, `,"page":0,"page_count":0,"dwell_ms":0,"scroll_depth":0,"engaged_ms":`...)
		dst = appendUint(dst, uint64(e.EngagedMS))
	default:
		dst = append(dst, `,"page":0,"page_count":0,"dwell_ms":0,"scroll_depth":0,"engaged_ms":0`...)
	}
	if e.Type == "video" {
		dst = append(dst, `,"action":"`...)
		dst = append(dst, e.Action...) // validated enum
		dst = append(dst, `","position":`...)
		dst = appendFloat32(dst, e.Position)
		dst = append(dst, `,"duration":`...)
		dst = appendFloat32(dst, e.Duration)
		dst = append(dst, `,"rate":`...)
		dst = appendFloat32(dst, e.Rate)
		dst = append(dst, `,"watched_start":[`...)
		for i, r := range e.Watched {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendFloat32(dst, r[0])
		}
		dst = append(dst, `],"watched_end":[`...)
		for i, r := range e.Watched {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendFloat32(dst, r[1])
		}
		dst = append(dst, `],"target_url":"","name":"","props":{}`...)
		dst = w.appendAdditions(dst, e)
		return append(dst, w.tail...)
	}
	switch e.Type {
	case "click":
		action := e.Action
		if action == "" {
			action = "outbound"
		}
		dst = append(dst, `,"action":"`...)
		dst = append(dst, action...) // validated enum
		dst = append(dst, `","position":0,"duration":0,"rate":0,"watched_start":[],"watched_end":[],"target_url":`...)
		w.seed = appendCleanURL(w.seed[:0], e.Href, w.keep)
		dst = jsontext.AppendString(dst, w.seed)
		dst = append(dst, `,"name":`...)
		dst = jsontext.AppendString(dst, e.Name)
		dst = append(dst, `,"props":{}`...)
	case "custom":
		dst = append(dst, `,"action":"","position":0,"duration":0,"rate":0,"watched_start":[],"watched_end":[],"target_url":"","name":`...)
		dst = jsontext.AppendString(dst, e.Name)
		dst = append(dst, `,"props":{`...)
		for i, p := range e.Props {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsontext.AppendString(dst, p.Key)
			dst = append(dst, ':')
			dst = jsontext.AppendString(dst, p.Value)
		}
		dst = append(dst, '}')
	default:
		dst = append(dst, `,"action":"","position":0,"duration":0,"rate":0,"watched_start":[],"watched_end":[],"target_url":"","name":"","props":{}`...)
	}
	dst = w.appendAdditions(dst, e)
	return append(dst, w.tail...)
}

// appendAdditions encodes the members wire v1 grew later (0018_search_versions_scores.sql):
// the content version of any event, a search's text, results and click, a completion's
// score and passed (null when not sent).
func (w *Work) appendAdditions(dst []byte, e *Event) []byte {
	dst = append(dst, `,"content_version":`...)
	dst = jsontext.AppendString(dst, e.Version)
	if e.Type == "search" {
		var flags uint8
		w.query, flags = appendSearchQuery(w.query[:0], e.Query)
		dst = append(dst, `,"search_query":`...)
		dst = jsontext.AppendString(dst, w.query)
		dst = append(dst, `,"search_results":`...)
		dst = appendUint(dst, uint64(e.Results))
		dst = append(dst, `,"search_clicked":`...)
		dst = jsontext.AppendString(dst, e.Clicked)
		dst = append(dst, `,"search_flags":`...)
		dst = appendUint(dst, uint64(flags))
	} else {
		dst = append(dst, `,"search_query":"","search_results":0,"search_clicked":"","search_flags":0`...)
	}
	if e.Type == "complete" && e.has&hasScore != 0 {
		dst = append(dst, `,"score":`...)
		dst = appendFloat32(dst, e.score)
	} else {
		dst = append(dst, `,"score":null`...)
	}
	switch {
	case e.Type != "complete" || e.has&hasPassed == 0:
		return append(dst, `,"passed":null`...)
	case e.passed:
		return append(dst, `,"passed":1`...)
	}
	return append(dst, `,"passed":0`...)
}

func appendFloat32(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0')
	}
	return strconv.AppendFloat(dst, float64(float32(f)), 'f', -1, 32)
}
