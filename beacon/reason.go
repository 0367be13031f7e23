package beacon

import "github.com/beaconprm/beacon/internal/jsontext"

// Reason names why a request, an event or a token was refused. Each has a stable name used in
// responses and as a metric label (WIRE.md lists them).
type Reason uint8

const (
	ReasonNone Reason = iota

	// Whole-request reasons.
	ReasonMethodNotAllowed
	ReasonUnsupportedMediaType
	ReasonBodyTooLarge
	ReasonMalformedJSON
	ReasonTooDeep
	ReasonBadVersion
	ReasonUnknownSite
	ReasonOriginNotAllowed
	ReasonBadID
	ReasonBadTime
	ReasonEmptyBatch
	ReasonTooManyEvents
	ReasonSpoolFull
	ReasonOverloaded
	ReasonBadLink
	ReasonNotFound

	// Reasons for one event (some also apply to the whole request).
	ReasonWrongType
	ReasonMissingField
	ReasonFieldTooLong
	ReasonUnknownType
	ReasonBadUUID
	ReasonTimeOutOfRange
	ReasonBadValue
	ReasonTrackedNotFromLink

	// Privacy drops: not errors, the client is told 204.
	ReasonDNT
	ReasonNoConsent

	// NumReasons is the number of reasons (array sizes indexed by Reason).
	NumReasons
)

var reasonNames = [NumReasons]string{
	ReasonNone:                 "",
	ReasonMethodNotAllowed:     "method_not_allowed",
	ReasonUnsupportedMediaType: "unsupported_media_type",
	ReasonBodyTooLarge:         "body_too_large",
	ReasonMalformedJSON:        "malformed_json",
	ReasonTooDeep:              "too_deep",
	ReasonBadVersion:           "bad_version",
	ReasonUnknownSite:          "unknown_site",
	ReasonOriginNotAllowed:     "origin_not_allowed",
	ReasonBadID:                "bad_id",
	ReasonBadTime:              "bad_time",
	ReasonEmptyBatch:           "empty_batch",
	ReasonTooManyEvents:        "too_many_events",
	ReasonSpoolFull:            "spool_full",
	ReasonOverloaded:           "overloaded",
	ReasonBadLink:              "bad_link",
	ReasonNotFound:             "not_found",
	ReasonWrongType:            "wrong_type",
	ReasonMissingField:         "missing_field",
	ReasonFieldTooLong:         "field_too_long",
	ReasonUnknownType:          "unknown_type",
	ReasonBadUUID:              "bad_uuid",
	ReasonTimeOutOfRange:       "time_out_of_range",
	ReasonBadValue:             "bad_value",
	ReasonTrackedNotFromLink:   "tracked_not_from_link",
	ReasonDNT:                  "dnt",
	ReasonNoConsent:            "no_consent",
}

func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// Problem is a refused request: its reason and the field or rule that failed.
type Problem struct {
	Reason Reason
	Field  string // e.g. "visitor_id", "events[3]" (static text where possible)
	Detail string // what was wrong, for the client
}

func (p *Problem) Error() string {
	if p.Field == "" {
		return p.Reason.String() + ": " + p.Detail
	}
	return p.Reason.String() + ": " + p.Field + ": " + p.Detail
}

// AppendJSON appends the error body of a refused request (WIRE.md "Responses"):
// {"error":"<reason>","detail":"<field>: <detail>"} and a newline.
func (p *Problem) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"error":"`...)
	dst = append(dst, p.Reason.String()...)
	dst = append(dst, `","detail":`...)
	if p.Field != "" {
		dst = jsontext.AppendString(dst, p.Field)
		dst = append(dst[:len(dst)-1], ": "...) // continue the same string
		n := len(dst)
		dst = jsontext.AppendString(dst, p.Detail)
		dst = append(dst[:n], dst[n+1:]...) // without the detail's opening quote
	} else {
		dst = jsontext.AppendString(dst, p.Detail)
	}
	return append(dst, "}\n"...)
}
