package bench

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/beaconprm/beacon/bench/internal/load"
	"github.com/beaconprm/beacon/bench/internal/report"
	"github.com/beaconprm/beacon/bench/internal/stack"
	"github.com/beaconprm/beacon/ingest"
	"github.com/beaconprm/beacon/internal/ready"
)

// readTopic reads every message of topic (all partitions, from the start to the current
// end) and returns the values.
func readTopic(ctx context.Context, brokers, topic string) ([][]byte, error) {
	conn, err := kafka.DialContext(ctx, "tcp", brokers)
	if err != nil {
		return nil, err
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		return nil, fmt.Errorf("cannot list partitions of %s: %w", topic, err)
	}
	var out [][]byte
	for _, p := range parts {
		lc, err := kafka.DialLeader(ctx, "tcp", brokers, topic, p.ID)
		if err != nil {
			return nil, err
		}
		last, err := lc.ReadLastOffset()
		lc.Close()
		if err != nil {
			return nil, err
		}
		if last == 0 {
			continue
		}
		rd := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{brokers}, Topic: topic, Partition: p.ID, MaxBytes: 16 << 20, MaxWait: 500 * time.Millisecond})
		for {
			m, err := rd.ReadMessage(ctx)
			if err != nil {
				rd.Close()
				return nil, fmt.Errorf("reading %s/%d: %w", topic, p.ID, err)
			}
			out = append(out, m.Value)
			if m.Offset >= last-1 {
				break
			}
		}
		rd.Close()
	}
	return out, nil
}

// runIngest is scenario 3: the same Kafka messages (produced by the real collector from the
// load generator's mix) inserted into ClickHouse by `beacon ingest` and, as the ceiling, by
// ClickHouse's own HTTP INSERT ... FORMAT JSONEachRow, each into a freshly migrated
// database (raw table and its materialized views), alternating, medians.
func runIngest(ctx context.Context, o *Options, r *report.Report) error {
	s, err := newStack(o)
	if err != nil {
		return err
	}
	defer s.Close()
	ch, err := s.StartClickHouse()
	if err != nil {
		return err
	}
	brokers, _, err := s.StartKafka(6, "-kafka.syncWrites=false")
	if err != nil {
		return err
	}
	sitesPath, sites, err := s.WriteSites()
	if err != nil {
		return err
	}
	coll, collP, err := s.StartCollector(brokers, sitesPath)
	if err != nil {
		return err
	}
	mix, err := load.NewMix(load.MixConfig{}, sites)
	if err != nil {
		return err
	}
	fill, err := load.Run(ctx, load.Config{Addr: coll, Duration: 10 * time.Minute, Conns: 64, Mix: mix, Events: int64(o.Events),
		Progress: o.Log, Label: "filling beacon.events"})
	if err != nil {
		return err
	}
	// Wait until the collector's spool is shipped, so the topic holds every accepted event.
	if err := stack.WaitFor(collP, 5*time.Minute, func() error {
		// Every event passes through the spool: the bytes not yet shipped are what tells the
		// topic is whole.
		if b := scrape(coll, "beacon_spool_bytes"); b > 0 {
			return fmt.Errorf("the collector's spool still holds %.0f bytes", b)
		}
		return nil
	}); err != nil {
		return err
	}
	spooled := scrape(coll, "beacon_spool_messages_total")
	if err := s.Stop(collP); err != nil {
		return err
	}
	msgs, err := readTopic(ctx, brokers, "beacon.events")
	if err != nil {
		return err
	}
	if int64(len(msgs)) < fill.Events {
		return fmt.Errorf("the topic holds %d messages, the collector accepted %d events", len(msgs), fill.Events)
	}
	var bytesTotal int
	for _, m := range msgs {
		bytesTotal += len(m)
	}
	n := int64(len(msgs))
	fmt.Fprintf(o.Log, "%d messages, %.1f MiB, in beacon.events (%.0f went through the collector's spool)\n", n, float64(bytesTotal)/(1<<20), spooled)

	// The ceiling inserts as many rows at a time as the ingest under test does (its default
	// -ingest.batchRows): the server's CPU per row falls as inserts grow.
	const chunk = ingest.DefaultBatchRows
	ceiling := func(db string) (time.Duration, error) {
		var bodies [][]byte
		for i := 0; i < len(msgs); i += chunk {
			var b bytes.Buffer
			for _, m := range msgs[i:min(i+chunk, len(msgs))] {
				b.Write(m)
				b.WriteByte('\n')
			}
			bodies = append(bodies, b.Bytes())
		}
		// Two streams, one per core, like the ingester's overlapping batches.
		t0 := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(bodies); i += 2 {
					if _, err := ch.Post(ctx, "INSERT INTO "+db+".events SETTINGS optimize_on_insert = 0 FORMAT JSONEachRow", bytes.NewReader(bodies[i])); err != nil {
						errs[w] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		d := time.Since(t0)
		for _, err := range errs {
			if err != nil {
				return 0, err
			}
		}
		got, err := ch.QueryInt(ctx, "SELECT count() FROM "+db+".events")
		if err != nil {
			return 0, err
		}
		if got != n {
			return 0, fmt.Errorf("ceiling inserted %d rows, want %d", got, n)
		}
		return d, nil
	}
	type ingestRun struct {
		total, steady time.Duration
		steadyRows    int64
	}
	ingestOnce := func(db, group string) (ingestRun, error) {
		t0 := time.Now()
		p, err := s.StartIngest(brokers, ch, db, group)
		if err != nil {
			return ingestRun{}, err
		}
		defer s.Stop(p)
		var tFirst time.Time
		var cFirst int64
		deadline := time.Now().Add(10 * time.Minute)
		for {
			c, err := ch.QueryInt(ctx, "SELECT count() FROM "+db+".events")
			if err != nil {
				return ingestRun{}, err
			}
			if c > 0 && tFirst.IsZero() {
				tFirst, cFirst = time.Now(), c
			}
			if c >= n {
				if c > n {
					return ingestRun{}, fmt.Errorf("ingest wrote %d rows for %d messages", c, n)
				}
				end := time.Now()
				fmt.Fprintf(o.Log, "ingest %s: %d rows in %s (first rows after %s)\n", group, c, end.Sub(t0).Round(time.Millisecond), tFirst.Sub(t0).Round(time.Millisecond))
				return ingestRun{total: end.Sub(t0), steady: end.Sub(tFirst), steadyRows: n - cFirst}, nil
			}
			if p.Exited() || time.Now().After(deadline) {
				return ingestRun{}, fmt.Errorf("ingest stopped at %d of %d rows; its log:\n%s", c, n, ready.Tail(p.Log, 15))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var ceil, ingTotal, ingSteady []float64
	for i := 1; i <= o.Runs; i++ {
		cdb, idb := fmt.Sprintf("ceiling_%d", i), fmt.Sprintf("ingest_%d", i)
		for _, db := range []string{cdb, idb} {
			if err := s.Migrate(ch, db); err != nil {
				return err
			}
		}
		d, err := ceiling(cdb)
		if err != nil {
			return fmt.Errorf("ceiling: %w", err)
		}
		ceil = append(ceil, float64(n)/d.Seconds())
		ir, err := ingestOnce(idb, fmt.Sprintf("bench-%d", i))
		if err != nil {
			return err
		}
		ingTotal = append(ingTotal, float64(n)/ir.total.Seconds())
		if ir.steady > 0 {
			ingSteady = append(ingSteady, float64(ir.steadyRows)/ir.steady.Seconds())
		}
		r.Raw = append(r.Raw, fmt.Sprintf("run %d: ceiling %.0f rows/s (%s); ingest %.0f rows/s from process start (%s), %.0f rows/s after the first rows landed",
			i, ceil[i-1], d.Round(time.Millisecond), ingTotal[i-1], ir.total.Round(time.Millisecond), float64(ir.steadyRows)/ir.steady.Seconds()))
		fmt.Fprintln(o.Log, r.Raw[len(r.Raw)-1])
		for _, db := range []string{cdb, idb} { // keep the server's memory and disk flat across runs
			if _, err := ch.Query(ctx, "DROP DATABASE "+db+" SYNC"); err != nil {
				return err
			}
		}
	}
	c, it, is := report.Median(ceil), report.Median(ingTotal), report.Median(ingSteady)
	r.Rows = append(r.Rows,
		report.Row{Metric: "rows/s, from `beacon ingest` start to every row queryable (median)", Value: report.Num(it), Ceiling: report.Num(c), Ratio: report.Ratio(it, c), Target: ">= 0.7x", Verdict: report.Verdict(it/c >= 0.7)},
		report.Row{Metric: "rows/s, after the first batch landed (median; excludes group join)", Value: report.Num(is), Ceiling: report.Num(c), Ratio: report.Ratio(is, c), Target: ">= 0.8x", Verdict: report.Verdict(is/c >= 0.8)},
	)
	r.Notes = append(r.Notes, fmt.Sprintf("Method: `beacon kafka` (6 partitions), `beacon collector` fed by the load generator until %s events were accepted "+
		"(%s normalized messages, %.1f MiB, average %d bytes; %s of them went through the collector's disk spool, which with the default "+
		"-collector.ack=spool is every one, and the spool was shipped to Kafka before the runs). Then per run, alternating, each into a freshly migrated "+
		"database (raw table plus its materialized views, so both pay for the rollups): the ceiling POSTs the same messages to ClickHouse's "+
		"HTTP interface as `INSERT INTO events SETTINGS optimize_on_insert = 0 FORMAT JSONEachRow` (the server-side setting the ingest's inserts use) "+
		"in %d-row chunks on two parallel streams; `beacon ingest` (default flags, new "+
		"consumer group) reads the topic from the start; rows/s until `count()` reaches the message count (polled every 20 ms). %d runs, medians. "+
		"ClickHouse, the broker, the ingester and the bench share the machine's cores.",
		report.Num(float64(o.Events)), report.Num(float64(n)), float64(bytesTotal)/(1<<20), bytesTotal/len(msgs), report.Num(spooled), chunk, o.Runs))
	return nil
}
