// Package beacon is the wire format v1 (WIRE.md: Batch, Event, the pixel and tracked links)
// and the pure event pipeline: a reflection-free decoder, validation with named reasons,
// enrichment (event time, device and bot flags, IP prefix, partner attribution from signed
// tokens), and encoding to the normalized Kafka message (keys = the raw table's columns). The
// site config and the partner tokens it checks are beacon/site's, the User-Agent
// classification beacon/useragent's, the columns beacon/event's. It has no server, spool or
// signals: the collector package serves it over HTTP.
//
// Entry points:
//
//	sites, err := site.LoadConfig("var/sites.json")        // site keys, tenants, secrets
//	err = site.WriteDemoConfig("var/sites.json")          // the `demo` site for beacon dev
//	link, err := sites.LinkURL(base, key, site.Claims{...}) // what `beacon link` prints
//	var w beacon.Work                                      // pooled per-request buffers
//	res := w.Process(sites, &beacon.Input{Body: body, ...}) // POST /v1/events
//	res = w.ProcessPixel(sites, query, in)                 // GET /v1/p.gif
//	link, res := w.ProcessLink(sites, key, token, in)       // GET /l/<site>/<token>
//	// then w.Msgs, w.Ends and w.Key hold the normalized messages
//
// The hot path (Work.Process) does not allocate once its buffers are warm; see
// alloc_test.go and work_timing_test.go.
package beacon
