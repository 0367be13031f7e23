package load

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/beaconprm/beacon/beacon/site"
)

// MixConfig shapes the synthetic traffic. Zero values take the defaults in the comments.
type MixConfig struct {
	Site      string  // site key; default "bench"
	Tenant    string  // tenant of the site; default "bench"
	Visitors  int     // distinct devices, Zipf-distributed (a few heavy users); default 100000
	Partners  int     // partner companies; default 200
	Users     int     // partner people, spread over the partners; default 5000
	Campaigns int     // default 20
	Contents  int     // contents per kind (documents, videos, courses, ...); default 200
	Attrib    float64 // share of visitors arriving through a partner link (carry a token); default 0.6
	Bots      float64 // share of requests from crawlers and link scanners; default 0.02
	Seed      uint64  // default 1
}

func (c *MixConfig) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Site == "" {
		c.Site = "bench"
	}
	if c.Tenant == "" {
		c.Tenant = "bench"
	}
	def(&c.Visitors, 100000)
	def(&c.Partners, 200)
	def(&c.Users, 5000)
	def(&c.Campaigns, 20)
	def(&c.Contents, 200)
	if c.Attrib <= 0 {
		c.Attrib = 0.6
	}
	if c.Bots < 0 {
		c.Bots = 0
	} else if c.Bots == 0 {
		c.Bots = 0.02
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
}

// Mix builds realistic beacon batches (wire format v1, beacon/WIRE.md): mostly small
// batches from the snippet's flush timer, a tail of large ones from page unloads, every
// event type, many visitors and partners with Zipf-skewed popularity of contents.
type Mix struct {
	cfg    MixConfig
	tokens []string // one attribution token per partner user
	uas    []string
	botUAs []string
}

// NewMix returns a mix whose tokens verify against sites (the site config the collector
// under test loads). sites may be nil: every batch is then unattributed.
func NewMix(cfg MixConfig, sites *site.Sites) (*Mix, error) {
	cfg.defaults()
	m := &Mix{cfg: cfg,
		uas: []string{
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
			"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
			"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
			"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		},
		botUAs: []string{
			"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			"curl/8.5.0",
		},
	}
	if sites != nil {
		m.tokens = make([]string, cfg.Users)
		for u := range m.tokens {
			tok, err := sites.Mint(site.Claims{Tenant: cfg.Tenant, Partner: PartnerID(u % cfg.Partners),
				User: UserID(u), Campaign: CampaignID(u % cfg.Campaigns)})
			if err != nil {
				return nil, fmt.Errorf("cannot mint a bench token: %w", err)
			}
			m.tokens[u] = tok
		}
	}
	return m, nil
}

// PartnerID, UserID, CampaignID and ContentID name the synthetic entities; the query
// scenario generates the same names server-side.
func PartnerID(i int) string  { return "p" + strconv.Itoa(i) }
func UserID(i int) string     { return "u" + strconv.Itoa(i) + "@partner.example" }
func CampaignID(i int) string { return "cmp-" + strconv.Itoa(i) }

// Content kinds in the order the query scenario uses too.
var contentKinds = []struct{ prefix, ctype string }{
	{"doc", "document"}, {"vid", "video"}, {"course", "course"}, {"faq", "faq"}, {"tool", "tool"}, {"page", "page"},
}

// ContentID is the i-th content of kind k (see contentKinds).
func ContentID(k, i int) string { return contentKinds[k].prefix + "-" + strconv.Itoa(i) }

// Gen is one goroutine's generator: not safe for concurrent use.
type Gen struct {
	m     *Mix
	rng   *rand.Rand
	zVis  *rand.Zipf
	zCont *rand.Zipf
}

// NewGen returns a generator seeded from the mix seed and worker.
func (m *Mix) NewGen(worker int) *Gen {
	rng := rand.New(rand.NewPCG(m.cfg.Seed, uint64(worker)+1))
	return &Gen{m: m, rng: rng,
		zVis:  rand.NewZipf(rng, 1.1, 8, uint64(m.cfg.Visitors-1)),
		zCont: rand.NewZipf(rng, 1.2, 4, uint64(m.cfg.Contents-1)),
	}
}

// Batch is one request to send.
type Batch struct {
	Body      []byte
	Events    int
	UserAgent string
}

// batchSize draws the number of events: most flushes carry one or a few events, unloads
// carry more, and a rare page-long session fills the batch.
func (g *Gen) batchSize() int {
	switch r := g.rng.Float64(); {
	case r < 0.45:
		return 1
	case r < 0.75:
		return 2 + g.rng.IntN(3)
	case r < 0.93:
		return 5 + g.rng.IntN(8)
	case r < 0.99:
		return 13 + g.rng.IntN(28)
	default:
		return 41 + g.rng.IntN(60)
	}
}

// Next appends a fresh batch to dst[:0] with event ids that were never sent before, times
// around now, and returns it.
func (g *Gen) Next(dst []byte, now time.Time) Batch {
	cfg := &g.m.cfg
	vis := int(g.zVis.Uint64())
	nowMs := now.UnixMilli()
	b := append(dst[:0], `{"v":1,"site":`...)
	b = strconv.AppendQuote(b, cfg.Site)
	b = append(b, `,"sent_at":`...)
	b = strconv.AppendInt(b, nowMs, 10)
	b = append(b, `,"visitor_id":"v_`...)
	b = strconv.AppendInt(b, int64(vis), 36)
	b = append(b, `","session_id":"s_`...)
	b = strconv.AppendInt(b, int64(vis), 36)
	b = append(b, '_')
	b = strconv.AppendInt(b, nowMs/1800000, 36) // a session per half hour
	b = append(b, '"')
	// A stable share of visitors are partner people who arrived through a link.
	if g.m.tokens != nil && float64(vis%1000) < cfg.Attrib*1000 {
		b = append(b, `,"token":"`...)
		b = append(b, g.m.tokens[vis%len(g.m.tokens)]...)
		b = append(b, '"')
	}
	kind := g.kind()
	cont := int(g.zCont.Uint64())
	cid := ContentID(kind, cont)
	b = append(b, `,"consent":true,"url":"https://partners.example.com/`...)
	b = append(b, contentKinds[kind].prefix...)
	b = append(b, '/')
	b = append(b, cid...)
	b = append(b, `?utm_source=email","referrer":"https://mail.example.com/","events":[`...)
	n := g.batchSize()
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		ts := nowMs - int64(n-i)*int64(500+g.rng.IntN(4000))
		b = g.event(b, kind, cont, cid, i, ts)
	}
	b = append(b, "]}"...)
	ua := g.m.uas[vis%len(g.m.uas)]
	if g.rng.Float64() < cfg.Bots {
		ua = g.m.botUAs[g.rng.IntN(len(g.m.botUAs))]
	}
	return Batch{Body: b, Events: n, UserAgent: ua}
}

// kind draws the content kind of a page: documents and videos dominate.
func (g *Gen) kind() int {
	switch r := g.rng.Float64(); {
	case r < 0.40:
		return 0
	case r < 0.65:
		return 1
	case r < 0.75:
		return 2
	case r < 0.85:
		return 3
	case r < 0.92:
		return 4
	default:
		return 5
	}
}

// appendUUID appends a random version 4 UUID drawn from rng to b (the events' ids).
func appendUUID(b []byte, rng *rand.Rand) []byte {
	const hex = "0123456789abcdef"
	hi, lo := rng.Uint64(), rng.Uint64()
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // variant 10
	var u [36]byte
	j := 0
	for i := 0; i < 32; i++ {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			u[j] = '-'
			j++
		}
		var nib uint64
		if i < 16 {
			nib = hi >> (60 - 4*i) & 0xf
		} else {
			nib = lo >> (60 - 4*(i-16)) & 0xf
		}
		u[j] = hex[nib]
		j++
	}
	return append(b, u[:]...)
}

// event appends one event about content cid of kind: what the snippet and its adapters
// send on such a page.
func (g *Gen) event(b []byte, kind, cont int, cid string, i int, ts int64) []byte {
	b = append(b, `{"id":"`...)
	b = appendUUID(b, g.rng)
	b = append(b, `","ts":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"content_id":"`...)
	b = append(b, cid...)
	b = append(b, `","content_type":"`...)
	b = append(b, contentKinds[kind].ctype...)
	b = append(b, '"')
	r := g.rng.Float64()
	switch {
	case i == 0 && r < 0.5:
		b = append(b, `,"type":"view","title":"`...)
		b = append(b, contentKinds[kind].prefix...)
		b = append(b, ` title `...)
		b = strconv.AppendInt(b, int64(cont), 10)
		b = append(b, `","page_count":`...)
		b = strconv.AppendInt(b, int64(pageCount(cont)), 10)
	case kind == 0 && r < 0.85: // document pages
		pc := pageCount(cont)
		b = append(b, `,"type":"page","page":`...)
		b = strconv.AppendInt(b, int64(1+min(i, pc-1)), 10)
		b = append(b, `,"page_count":`...)
		b = strconv.AppendInt(b, int64(pc), 10)
		b = append(b, `,"dwell_ms":`...)
		b = strconv.AppendInt(b, int64(500+g.rng.IntN(30000)), 10)
	case kind == 1 && r < 0.85: // video progress with watched ranges
		dur := videoDuration(cont)
		start := float64(i*10) + g.rng.Float64()*5
		if start > dur {
			start = dur
		}
		end := start + 10
		if end > dur {
			end = dur
		}
		act := "progress"
		switch {
		case i == 0:
			act = "play"
		case end >= dur:
			act = "ended"
		case r < 0.05:
			act = "seek"
		}
		b = append(b, `,"type":"video","action":"`...)
		b = append(b, act...)
		b = append(b, `","position":`...)
		b = strconv.AppendFloat(b, end, 'f', 1, 64)
		b = append(b, `,"duration":`...)
		b = strconv.AppendFloat(b, dur, 'f', 0, 64)
		b = append(b, `,"rate":1,"watched":[[`...)
		b = strconv.AppendFloat(b, start, 'f', 1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, end, 'f', 1, 64)
		b = append(b, "]]"...)
	case kind == 2 && r < 0.3:
		b = append(b, `,"type":"complete"`...)
	case r < 0.55:
		b = append(b, `,"type":"scroll","depth":`...)
		b = strconv.AppendInt(b, int64(g.rng.IntN(101)), 10)
	case r < 0.75:
		b = append(b, `,"type":"engage","engaged_ms":`...)
		b = strconv.AppendInt(b, int64(1000*(i+1)+g.rng.IntN(5000)), 10)
	case r < 0.88:
		b = append(b, `,"type":"click","action":"download","href":"https://partners.example.com/files/`...)
		b = append(b, cid...)
		b = append(b, `.pdf","name":"Download"`...)
	default:
		b = append(b, `,"type":"custom","name":"signup","props":{"plan":"pro","seats":"`...)
		b = strconv.AppendInt(b, int64(1+g.rng.IntN(50)), 10)
		b = append(b, `"}`...)
	}
	return append(b, '}')
}

func pageCount(cont int) int         { return 4 + cont%37 }
func videoDuration(cont int) float64 { return float64(60 + (cont%20)*30) }
