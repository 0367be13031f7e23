package ingest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/beaconprm/beacon/ingest/block"
	"github.com/beaconprm/beacon/ingest/internal/testmsg"
	"github.com/beaconprm/beacon/internal/testenv"
)

// BenchmarkServerInsert is the server's side of one batch insert into the migrated raw
// table (its materialized views included) on the local ClickHouse (testenv): the
// server-us/row metric is the server's CPU time (user + system, from the ProfileEvents it
// sends back) per row, robust to other load on the machine. Sub-benchmarks: the insert as
// store.insert sends it (String for the LowCardinality columns) and with LowCardinality
// columns built by the client, at the default batch of 20,000 rows, and at 50,000 rows.
func BenchmarkServerInsert(b *testing.B) {
	ch := testenv.NewClickHouse(b)
	conn := ch.Conn(b)
	migrate(b, conn, ch.Database)
	cfg := Config{ClickHouseAddrs: []string{ch.NativeAddr}, Database: ch.Database}
	c := cfg.withDefaults()
	st, err := openStore(&c)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	msgs := testmsg.Batch(b)
	for _, bc := range []struct {
		rows    int
		lowcard int
	}{{20000, 0}, {20000, 1}, {50000, 0}} {
		b.Run(fmt.Sprintf("rows=%d/lowcard=%d", bc.rows, bc.lowcard), func(b *testing.B) {
			var d block.Decoder
			var cols block.Columns
			var r block.Row
			for i := range bc.rows {
				if err := d.Decode(msgs[i%len(msgs)], &r); err != nil {
					b.Fatal(err)
				}
				cols.Append(&r)
			}
			var serverUs atomic.Int64
			ctx := clickhouse.Context(context.Background(), clickhouse.WithSettings(clickhouse.Settings{
				"low_cardinality_allow_in_native_format": bc.lowcard}), clickhouse.WithProfileEvents(func(evs []clickhouse.ProfileEvent) {
				for _, e := range evs {
					if e.Type == "increment" && e.ThreadID == 0 && (e.Name == "UserTimeMicroseconds" || e.Name == "SystemTimeMicroseconds") {
						serverUs.Add(e.Value)
					}
				}
			}))
			b.ResetTimer()
			for range b.N {
				batch, err := st.conn.PrepareBatch(ctx, st.insertSQL)
				if err != nil {
					b.Fatal(err)
				}
				for j, v := range cols.Values() {
					if err := batch.Column(j).Append(v); err != nil {
						b.Fatal(err)
					}
				}
				if err := batch.Send(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(serverUs.Load())/float64(b.N*bc.rows), "server-us/row")
		})
	}
}
