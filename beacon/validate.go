package beacon

import (
	"github.com/beaconprm/beacon/beacon/site"
	"github.com/beaconprm/beacon/internal/ascii"
)

// Limits of wire v1 (WIRE.md). Fixed by the format, so not flags: a client that fits them
// fits every collector.
const (
	DefaultMaxEvents = 100
	maxTextURL       = 2048
	maxContentID     = 256
	maxTitle         = 512
	maxName          = 128
	maxPropKey       = 64
	maxPropValue     = 256
	maxSiteKey       = 64
	maxVersion       = 64      // content_version
	maxQuery         = 256     // a search text is stored cut to this many bytes (flagged, not refused)
	maxResults       = 1000000 // a search's result count
	maxScore         = 100

	minSentAt = 946684800000  // 2000-01-01
	maxSentAt = 4102444800000 // 2100-01-01

	tsBefore     = 7 * 24 * 3600 * 1000 // an event may be this much older than its batch
	tsAfter      = 60 * 1000            // or this much newer (clock jitter within a page)
	clampBehind  = 24 * 3600 * 1000     // event_time is clamped to [received-24h, received]
	maxMediaSecs = 1e7
	maxRate      = 16
	maxPage      = 100000
	maxMS        = 86400000
)

// validateBatch checks the batch-level rules that need no site config.
func (b *Batch) validateBatch() Problem {
	switch {
	case !b.hasV:
		return Problem{Reason: ReasonBadVersion, Field: "v", Detail: "missing; this collector speaks version 1"}
	case b.V != WireVersion:
		return Problem{Reason: ReasonBadVersion, Field: "v", Detail: "unsupported version; this collector speaks version 1"}
	case b.Site == "":
		return Problem{Reason: ReasonMissingField, Field: "site", Detail: "required"}
	case len(b.Site) > maxSiteKey:
		return Problem{Reason: ReasonFieldTooLong, Field: "site", Detail: "longer than 64 bytes"}
	case b.VisitorID == "":
		return Problem{Reason: ReasonMissingField, Field: "visitor_id", Detail: "required"}
	case !ascii.IsID(b.VisitorID):
		return Problem{Reason: ReasonBadID, Field: "visitor_id", Detail: "must be 1..64 of [A-Za-z0-9_-]"}
	case b.SessionID == "":
		return Problem{Reason: ReasonMissingField, Field: "session_id", Detail: "required"}
	case !ascii.IsID(b.SessionID):
		return Problem{Reason: ReasonBadID, Field: "session_id", Detail: "must be 1..64 of [A-Za-z0-9_-]"}
	case !b.hasSentAt:
		return Problem{Reason: ReasonMissingField, Field: "sent_at", Detail: "required"}
	case b.SentAt < minSentAt || b.SentAt > maxSentAt:
		return Problem{Reason: ReasonBadTime, Field: "sent_at", Detail: "must be ms since the epoch, years 2000..2100"}
	case len(b.Token) > site.MaxTokenLen:
		return Problem{Reason: ReasonFieldTooLong, Field: "token", Detail: "longer than 1024 bytes"}
	case len(b.URL) > maxTextURL:
		return Problem{Reason: ReasonFieldTooLong, Field: "url", Detail: "longer than 2048 bytes"}
	case len(b.Referrer) > maxTextURL:
		return Problem{Reason: ReasonFieldTooLong, Field: "referrer", Detail: "longer than 2048 bytes"}
	case len(b.Events) == 0:
		return Problem{Reason: ReasonEmptyBatch, Field: "events", Detail: "no events"}
	}
	return Problem{}
}

// validateEvent marks e rejected when it breaks a rule; sentAt is the batch's sent_at.
// fromLink is set for the click ProcessLink records: a "tracked" click from anything else (a
// posted batch, the pixel) is refused, so nobody adds contents to a campaign by posting.
func validateEvent(e *Event, sentAt int64, fromLink bool) {
	if e.rej != ReasonNone {
		return
	}
	if e.ID != "" && !validUUID(e.ID) {
		e.reject(ReasonBadUUID, "id")
		return
	}
	if e.has&hasTS == 0 {
		e.reject(ReasonMissingField, "ts")
		return
	}
	if e.TS < sentAt-tsBefore || e.TS > sentAt+tsAfter {
		e.reject(ReasonTimeOutOfRange, "ts")
		return
	}
	switch {
	case len(e.URL) > maxTextURL:
		e.reject(ReasonFieldTooLong, "url")
	case len(e.ContentID) > maxContentID:
		e.reject(ReasonFieldTooLong, "content_id")
	case len(e.Title) > maxTitle:
		e.reject(ReasonFieldTooLong, "title")
	case len(e.Href) > maxTextURL:
		e.reject(ReasonFieldTooLong, "href")
	case len(e.Name) > maxName:
		e.reject(ReasonFieldTooLong, "name")
	case len(e.Version) > maxVersion:
		e.reject(ReasonFieldTooLong, "content_version")
	}
	if e.rej != ReasonNone {
		return
	}
	switch e.ContentType {
	case "", "document", "video", "page", "course", "tool", "faq", "link":
	default:
		e.reject(ReasonBadValue, "content_type")
		return
	}
	needContent := func() bool {
		if e.ContentID == "" {
			e.reject(ReasonMissingField, "content_id")
			return false
		}
		return true
	}
	switch e.Type {
	case "":
		e.reject(ReasonMissingField, "type")
	case "view", "complete":
		needContent()
		if e.PageCount > maxPage {
			e.reject(ReasonBadValue, "page_count")
		}
		// score is ignored on a view (stored as null), like every field of another type
		if e.Type == "complete" && e.has&hasScore != 0 && !(e.score >= 0 && e.score <= maxScore) {
			e.reject(ReasonBadValue, "score")
		}
	case "search":
		switch {
		case e.Query == "":
			e.reject(ReasonMissingField, "query")
		case e.has&hasResults == 0:
			e.reject(ReasonMissingField, "results")
		case e.Results > maxResults:
			e.reject(ReasonBadValue, "results")
		case len(e.Clicked) > maxContentID:
			e.reject(ReasonFieldTooLong, "clicked")
		}
	case "page":
		switch {
		case !needContent():
		case e.has&hasPage == 0:
			e.reject(ReasonMissingField, "page")
		case e.Page < 1 || e.Page > maxPage:
			e.reject(ReasonBadValue, "page")
		case e.PageCount > maxPage || (e.PageCount > 0 && e.Page > e.PageCount):
			e.reject(ReasonBadValue, "page_count")
		case e.DwellMS > maxMS:
			e.reject(ReasonBadValue, "dwell_ms")
		}
	case "scroll":
		if e.has&hasDepth == 0 {
			e.reject(ReasonMissingField, "depth")
		}
	case "engage":
		if e.has&hasEngaged == 0 {
			e.reject(ReasonMissingField, "engaged_ms")
		}
	case "video":
		switch {
		case !needContent():
		case e.Action == "":
			e.reject(ReasonMissingField, "action")
		case !oneOf(e.Action, "play", "pause", "seek", "ratechange", "ended", "progress"):
			e.reject(ReasonBadValue, "action")
		case e.Position < 0 || e.Position > maxMediaSecs:
			e.reject(ReasonBadValue, "position")
		case e.Duration < 0 || e.Duration > maxMediaSecs:
			e.reject(ReasonBadValue, "duration")
		case e.Rate < 0 || e.Rate > maxRate:
			e.reject(ReasonBadValue, "rate")
		default:
			for _, r := range e.Watched {
				if r[0] < 0 || r[0] > r[1] || r[1] > maxMediaSecs {
					e.reject(ReasonBadValue, "watched")
					break
				}
			}
		}
	case "click":
		switch {
		case e.Action == "tracked":
			if !fromLink {
				e.reject(ReasonTrackedNotFromLink, "action")
			}
		case e.Action != "" && !oneOf(e.Action, "outbound", "download"):
			e.reject(ReasonBadValue, "action")
		}
	case "custom":
		if e.Name == "" {
			e.reject(ReasonMissingField, "name")
			return
		}
		for _, p := range e.Props {
			if len(p.Key) > maxPropKey || len(p.Value) > maxPropValue {
				e.reject(ReasonFieldTooLong, "props")
				return
			}
		}
	default:
		e.reject(ReasonUnknownType, "type")
	}
}

func oneOf(s string, list ...string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

// validUUID accepts the 8-4-4-4-12 hex form, any case.
func validUUID(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	// Count the bytes that are no hex digit, without a branch per byte: exactly the four
	// dashes just checked.
	var n byte
	for i := 0; i < 36; i++ {
		n += notHex[s[i]]
	}
	return n == 4
}

// notHex is 1 for every byte but an ASCII hex digit (either case).
var notHex = func() (t [256]byte) {
	for c := range t {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			t[c] = 1
		}
	}
	return t
}()
