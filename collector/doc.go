// Package collector is the beacon HTTP collector: fasthttp routes for the wire format of the
// beacon package (POST /v1/events, the pixel, tracked links), the snippet and demo files,
// health, readiness and Prometheus metrics, and the shipper that sends the write-ahead spool
// (internal/spool) to Kafka in order.
//
//	c, err := collector.New(collector.Config{SitesFile: ..., Brokers: ...})
//	c.Addr(); c.Reload() // on SIGHUP, from cmd/beacon
//	err = c.Run(ctx)     // serves until ctx ends, then drains in order
//
// The events handler does not allocate per request once warm; see handler_alloc_test.go.
package collector
