package block

import (
	"unsafe"

	"github.com/beaconprm/beacon/beacon/event"
	"github.com/google/uuid"
)

// Row is one decoded event before it is appended to the columns; decoding into a row
// first means a message that fails halfway leaves the columns untouched. Its strings point
// into the Decoder's arena.
type Row struct {
	eventID                               uuid.UUID
	tenant, siteKey                       string
	receivedAt, eventTime, clientTime     int64 // unix milliseconds
	typ, visitorID, sessionID             string
	partnerID, partnerUserID, campaignID  string
	attribution                           string
	contentID, contentType, contentTitle  string
	url, referrer                         string
	page, pageCount, dwellMs, engagedMs   uint32
	scrollDepth                           uint8
	action                                string
	position, duration, rate              float32
	watchedStart, watchedEnd              []float32
	targetURL, name                       string
	props                                 map[string]string
	device                                string
	isBot                                 uint8
	botReason, ipPrefix, userAgent        string
	contentVersion, searchQuery           string
	searchResults                         uint32
	searchClicked                         string
	searchFlags                           uint8
	score                                 *float32 // nil: NULL; points into the decoder's arena
	passed                                *uint8   // nil: NULL; points at passedNo or passedYes
	haveID, haveReceivedAt, haveEventTime bool
}

// The two values of a non-NULL passed, shared by every row (never written).
var passedNo, passedYes = uint8(0), uint8(1)

// EventID is the row's event_id.
func (r *Row) EventID() uuid.UUID { return r.eventID }

// Tenant is the row's tenant.
func (r *Row) Tenant() string { return r.tenant }

// SiteKey is the row's site_key.
func (r *Row) SiteKey() string { return r.siteKey }

// ReceivedAt is the row's received_at in unix milliseconds.
func (r *Row) ReceivedAt() int64 { return r.receivedAt }

// Columns holds one batch column by column, in the types clickhouse-go appends without
// per-row conversion. The zero value is empty and ready to use.
type Columns struct {
	eventID                              []uuid.UUID
	tenant, siteKey                      []string
	receivedAt, eventTime, clientTime    []int64
	typ, visitorID, sessionID            []string
	partnerID, partnerUserID, campaignID []string
	attribution                          []string
	contentID, contentType, contentTitle []string
	url, referrer                        []string
	page, pageCount, dwellMs             []uint32
	scrollDepth                          []uint8
	engagedMs                            []uint32
	action                               []string
	position, duration, rate             []float32
	watchedStart, watchedEnd             [][]float32
	targetURL, name                      []string
	props                                []map[string]string
	device                               []string
	isBot                                []uint8
	botReason, ipPrefix, userAgent       []string
	contentVersion, searchQuery          []string
	searchResults                        []uint32
	searchClicked                        []string
	searchFlags                          []uint8
	score                                []*float32
	passed                               []*uint8
}

// Len is the number of rows.
func (c *Columns) Len() int { return len(c.eventID) }

// Append adds r as the last row.
func (c *Columns) Append(r *Row) {
	c.eventID = append(c.eventID, r.eventID)
	c.tenant = append(c.tenant, r.tenant)
	c.siteKey = append(c.siteKey, r.siteKey)
	c.receivedAt = append(c.receivedAt, r.receivedAt)
	c.eventTime = append(c.eventTime, r.eventTime)
	c.clientTime = append(c.clientTime, r.clientTime)
	c.typ = append(c.typ, r.typ)
	c.visitorID = append(c.visitorID, r.visitorID)
	c.sessionID = append(c.sessionID, r.sessionID)
	c.partnerID = append(c.partnerID, r.partnerID)
	c.partnerUserID = append(c.partnerUserID, r.partnerUserID)
	c.campaignID = append(c.campaignID, r.campaignID)
	c.attribution = append(c.attribution, r.attribution)
	c.contentID = append(c.contentID, r.contentID)
	c.contentType = append(c.contentType, r.contentType)
	c.contentTitle = append(c.contentTitle, r.contentTitle)
	c.url = append(c.url, r.url)
	c.referrer = append(c.referrer, r.referrer)
	c.page = append(c.page, r.page)
	c.pageCount = append(c.pageCount, r.pageCount)
	c.dwellMs = append(c.dwellMs, r.dwellMs)
	c.scrollDepth = append(c.scrollDepth, r.scrollDepth)
	c.engagedMs = append(c.engagedMs, r.engagedMs)
	c.action = append(c.action, r.action)
	c.position = append(c.position, r.position)
	c.duration = append(c.duration, r.duration)
	c.rate = append(c.rate, r.rate)
	c.watchedStart = append(c.watchedStart, r.watchedStart)
	c.watchedEnd = append(c.watchedEnd, r.watchedEnd)
	c.targetURL = append(c.targetURL, r.targetURL)
	c.name = append(c.name, r.name)
	c.props = append(c.props, r.props)
	c.device = append(c.device, r.device)
	c.isBot = append(c.isBot, r.isBot)
	c.botReason = append(c.botReason, r.botReason)
	c.ipPrefix = append(c.ipPrefix, r.ipPrefix)
	c.userAgent = append(c.userAgent, r.userAgent)
	c.contentVersion = append(c.contentVersion, r.contentVersion)
	c.searchQuery = append(c.searchQuery, r.searchQuery)
	c.searchResults = append(c.searchResults, r.searchResults)
	c.searchClicked = append(c.searchClicked, r.searchClicked)
	c.searchFlags = append(c.searchFlags, r.searchFlags)
	c.score = append(c.score, r.score)
	c.passed = append(c.passed, r.passed)
}

// Reset empties the columns and keeps their capacity. Strings already handed out stay
// valid: they live in the arena's chunks, which are never written twice.
func (c *Columns) Reset() {
	c.eventID = c.eventID[:0]
	c.tenant, c.siteKey = c.tenant[:0], c.siteKey[:0]
	c.receivedAt, c.eventTime, c.clientTime = c.receivedAt[:0], c.eventTime[:0], c.clientTime[:0]
	c.typ, c.visitorID, c.sessionID = c.typ[:0], c.visitorID[:0], c.sessionID[:0]
	c.partnerID, c.partnerUserID, c.campaignID = c.partnerID[:0], c.partnerUserID[:0], c.campaignID[:0]
	c.attribution = c.attribution[:0]
	c.contentID, c.contentType, c.contentTitle = c.contentID[:0], c.contentType[:0], c.contentTitle[:0]
	c.url, c.referrer = c.url[:0], c.referrer[:0]
	c.page, c.pageCount, c.dwellMs = c.page[:0], c.pageCount[:0], c.dwellMs[:0]
	c.scrollDepth, c.engagedMs = c.scrollDepth[:0], c.engagedMs[:0]
	c.action = c.action[:0]
	c.position, c.duration, c.rate = c.position[:0], c.duration[:0], c.rate[:0]
	clear(c.watchedStart)
	clear(c.watchedEnd)
	clear(c.props)
	c.watchedStart, c.watchedEnd = c.watchedStart[:0], c.watchedEnd[:0]
	c.targetURL, c.name, c.props = c.targetURL[:0], c.name[:0], c.props[:0]
	c.device, c.isBot = c.device[:0], c.isBot[:0]
	c.botReason, c.ipPrefix, c.userAgent = c.botReason[:0], c.ipPrefix[:0], c.userAgent[:0]
	c.contentVersion, c.searchQuery, c.searchResults = c.contentVersion[:0], c.searchQuery[:0], c.searchResults[:0]
	c.searchClicked, c.searchFlags = c.searchClicked[:0], c.searchFlags[:0]
	clear(c.score)
	clear(c.passed)
	c.score, c.passed = c.score[:0], c.passed[:0]
}

// Values returns every column in event.Columns order (the explicit column list of every
// insert), ready for batch.Column(i).Append. The order is positional: the round trip in
// ingest/contract_integration_test.go is what tells two swapped columns of one type apart.
func (c *Columns) Values() [len(event.Columns)]any {
	return [len(event.Columns)]any{
		c.eventID, c.tenant, c.siteKey, c.receivedAt, c.eventTime, c.clientTime, c.typ,
		c.visitorID, c.sessionID, c.partnerID, c.partnerUserID, c.campaignID, c.attribution,
		c.contentID, c.contentType, c.contentTitle, c.url, c.referrer, c.page, c.pageCount,
		c.dwellMs, c.scrollDepth, c.engagedMs, c.action, c.position, c.duration, c.rate,
		c.watchedStart, c.watchedEnd, c.targetURL, c.name, c.props, c.device, c.isBot,
		c.botReason, c.ipPrefix, c.userAgent,
		c.contentVersion, c.searchQuery, c.searchResults, c.searchClicked, c.searchFlags, c.score, c.passed,
	}
}

// arenaChunk is the size of one arena allocation; a batch of typical events needs a few.
const arenaChunk = 64 << 10

// arena hands out strings and float slices that share a few large allocations instead of
// one allocation per field. A chunk is only ever appended to, never rewritten, so a string
// handed out stays valid for as long as anything references it.
type arena struct {
	buf    []byte
	floats []float32
}

// reserve makes room for n more bytes in the current chunk.
func (a *arena) reserve(n int) {
	if cap(a.buf)-len(a.buf) >= n {
		return
	}
	size := arenaChunk
	if n > size {
		size = n
	}
	a.buf = make([]byte, 0, size)
}

// str copies b into the arena and returns it as a string.
func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	a.reserve(len(b))
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[start], len(b))
}

// floatsCopy copies f into the arena; a nil or empty f stays nil.
func (a *arena) floatsCopy(f []float32) []float32 {
	if len(f) == 0 {
		return nil
	}
	if cap(a.floats)-len(a.floats) < len(f) {
		size := arenaChunk / 4
		if len(f) > size {
			size = len(f)
		}
		a.floats = make([]float32, 0, size)
	}
	start := len(a.floats)
	a.floats = append(a.floats, f...)
	return a.floats[start:len(a.floats):len(a.floats)]
}
