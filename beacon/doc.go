// Package beacon is the collector side of the pipeline: the wire format v1 (WIRE.md, Batch,
// Event), its reflection-free decoder, validation with named reasons, enrichment (event
// time, device and bot flags, IP prefix, partner attribution from signed tokens), encoding
// to the normalized Kafka message (keys = the raw table's columns), the site config, and
// the fasthttp collector with its bounded disk spool (by default a write-ahead log: a request
// is acknowledged once spooled, a shipper sends the spool to Kafka in order) and Kafka hand-off.
//
// Entry points:
//
//	sites, err := beacon.LoadConfig("var/sites.json")      // site keys, tenants, secrets
//	err = beacon.WriteDemoConfig("var/sites.json")        // the `demo` site for beacon dev
//	link, err := sites.LinkURL(base, beacon.Claims{...})   // what `beacon link` prints
//	err = beacon.RunCollector(ctx, beacon.CollectorConfig{SitesFile: ..., Brokers: ...})
//	// or c, _ := beacon.NewCollector(cfg); c.Addr(); c.Run(ctx); c.Reload()
//
// The hot path (Work.Process) does not allocate once its pooled buffers are warm; see
// alloc_test.go, handler_alloc_test.go and work_timing_test.go.
package beacon
