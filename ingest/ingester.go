package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/beaconprm/beacon/ingest/block"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// Ingester consumes the events topic as a member of the consumer group and inserts the
// events into ClickHouse. Create it with New and start it with Run.
type Ingester struct {
	cfg   Config
	log   *slog.Logger
	m     *metrics
	store *store
	dlq   *kafka.Writer
	rows  *refresher

	dialer *kafka.Dialer // TLS and SASL of Config.Kafka, for the group and the readers

	commitMu sync.Mutex // one offset commit at a time on the generation's coordinator conn

	own membership // the current generation's member ID and partitions, for the watchdog

	tenants map[string]bool // the tenants of Config.Sites; nil: every tenant
}

// New validates cfg and returns an Ingester; nothing is dialled before Run.
func New(cfg Config) (*Ingester, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	st, err := openStore(&c)
	if err != nil {
		return nil, err
	}
	// One dialer for the group and the readers; its own transport for the dead-letter
	// writer: kafka.DefaultTransport is shared by the whole process (beacon dev runs the
	// collector beside us) and caches topic metadata.
	dialer, err := c.Kafka.Dialer(5 * time.Second)
	if err != nil {
		return nil, err
	}
	transport, err := c.Kafka.Transport()
	if err != nil {
		return nil, err
	}
	ing := &Ingester{
		cfg:   c,
		log:   c.Logger.With("component", "ingest", "topic", c.Topic, "group", c.GroupID),
		m:     newMetrics(c.Registerer),
		store: st,
		dlq: &kafka.Writer{
			Addr:                   kafka.TCP(c.Brokers...),
			Topic:                  c.DLQTopic,
			Balancer:               &kafka.Hash{},
			RequiredAcks:           kafka.RequireAll,
			BatchTimeout:           5 * time.Millisecond, // writes are synchronous, one call per batch
			AllowAutoTopicCreation: true,
			Transport:              transport,
		},
		dialer: dialer,
	}
	ing.rows = newRefresher(ing)
	if len(c.Sites) > 0 {
		ing.tenants = map[string]bool{}
		for _, t := range c.Sites {
			ing.tenants[t] = true
		}
	}
	return ing, nil
}

// Run is New followed by Ingester.Run.
func Run(ctx context.Context, cfg Config) error {
	ing, err := New(cfg)
	if err != nil {
		return err
	}
	return ing.Run(ctx)
}

// Run consumes until ctx ends, then leaves the group and returns nil. Kafka or ClickHouse
// being unreachable is not an error: it is retried with backoff and reported in the log
// and metrics. Open batches are not flushed on the way out; whoever takes the partitions
// next rebuilds them from the committed offsets. The inserted ones get their document
// viewers' rows refreshed before Run returns.
func (ing *Ingester) Run(ctx context.Context) error {
	defer ing.store.Close()
	defer ing.dlq.Close()
	refreshCtx, stopRefresh := context.WithCancel(context.Background())
	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		ing.rows.run(refreshCtx)
	}()
	defer func() {
		stopRefresh()
		<-refreshed
	}()
	cfg := &ing.cfg
	if cfg.CompactInterval > 0 {
		compactCtx, stopCompact := context.WithCancel(ctx)
		compacted := make(chan struct{})
		go func() {
			defer close(compacted)
			ing.compact(compactCtx)
		}()
		defer func() {
			stopCompact()
			<-compacted
		}()
	}
	if cfg.WatchdogInterval > 0 {
		w, err := ing.newWatchdog()
		if err != nil {
			return err
		}
		watchCtx, stopWatch := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			w.run(watchCtx)
		}()
		defer func() {
			stopWatch()
			<-watched
		}()
	}
	for ctx.Err() == nil {
		if err := ing.session(ctx); err != nil {
			return err
		}
	}
	return nil
}

// groupConfig is the consumer group's configuration. The timeouts are derived from
// SessionTimeout (s, default 10s) so that they agree with each other and with the broker:
//   - heartbeats every s/3, so two may be lost before the session expires;
//   - the rebalance timeout is s: a live member learns of a rebalance at its next
//     heartbeat and rejoins well within it, and the broker never parks a join longer
//     than that (plus the time it waits for members that have not rejoined);
//   - a JoinGroup is given up after Timeout + rebalance timeout (5s + s) and a
//     SyncGroup after Timeout + s (kafka-go's deadlines), longer than the broker holds
//     either.
func (ing *Ingester) groupConfig() kafka.ConsumerGroupConfig {
	cfg := &ing.cfg
	return kafka.ConsumerGroupConfig{
		ID:                     cfg.GroupID,
		Brokers:                cfg.Brokers,
		Topics:                 []string{cfg.Topic},
		HeartbeatInterval:      cfg.SessionTimeout / 3,
		SessionTimeout:         cfg.SessionTimeout,
		RebalanceTimeout:       cfg.SessionTimeout,
		JoinGroupBackoff:       time.Second,
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 5 * time.Second,
		StartOffset:            kafka.FirstOffset,
		Timeout:                5 * time.Second,
		Dialer:                 ing.dialer,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			ing.log.Debug("kafka consumer group: " + fmt.Sprintf(msg, args...))
		}),
	}
}

// session is one membership of the consumer group: it joins, consumes the partitions of
// each generation, and leaves when ctx ends or the watchdog asks for a rejoin.
func (ing *Ingester) session(ctx context.Context) error {
	cfg := &ing.cfg
	cg, err := kafka.NewConsumerGroup(ing.groupConfig())
	if err != nil {
		return fmt.Errorf("cannot create the consumer group %q: %w", cfg.GroupID, err)
	}
	sctx, rejoin := context.WithCancel(ctx)
	defer rejoin()
	ing.own.mu.Lock()
	ing.own.rejoin = rejoin
	ing.own.mu.Unlock()
	for {
		gen, err := cg.Next(sctx)
		if err != nil {
			if sctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				break
			}
			ing.log.Warn("cannot join the consumer group; retrying", "brokers", cfg.Brokers, "err", err)
			continue
		}
		assigned := gen.Assignments[cfg.Topic]
		parts := make([]int, len(assigned))
		for i, pa := range assigned {
			parts[i] = pa.ID
		}
		ing.own.set(gen.MemberID, parts)
		ing.m.assigned.Set(float64(len(parts)))
		ing.log.Info("partitions assigned", "generation", gen.ID, "member", gen.MemberID, "partitions", parts)
		for _, pa := range assigned {
			gen.Start(func(genCtx context.Context) { ing.consume(ctx, genCtx, gen, pa) })
		}
	}
	ing.own.mu.Lock()
	ing.own.rejoin = nil
	ing.own.mu.Unlock()
	ing.own.set("", nil)
	ing.m.assigned.Set(0)
	// Close ends the current generation, waits for the partition goroutines and leaves
	// the group so the others take over at once instead of after the session timeout.
	if err := cg.Close(); err != nil {
		ing.log.Warn("cannot leave the consumer group cleanly", "err", err)
	}
	return nil
}

// consume runs one partition for as long as this member owns it in this generation.
func (ing *Ingester) consume(runCtx, genCtx context.Context, gen *kafka.Generation, pa kafka.PartitionAssignment) {
	ctx, cancel := context.WithCancel(runCtx)
	defer cancel()
	stop := context.AfterFunc(genCtx, cancel)
	defer stop()

	label := strconv.Itoa(pa.ID)
	p := &partition{
		ing:       ing,
		gen:       gen,
		id:        pa.ID,
		log:       ing.log.With("partition", pa.ID),
		lag:       ing.m.lag.WithLabelValues(label),
		committed: ing.m.committed.WithLabelValues(label),
	}
	// The committed offset is known from the assignment: without this the gauge read 0
	// after every rebalance until the partition's first commit.
	if pa.Offset >= 0 {
		p.committed.Set(float64(pa.Offset))
	}
	ing.m.waited.own(pa.ID)
	defer func() {
		ing.m.lag.DeleteLabelValues(label)
		ing.m.committed.DeleteLabelValues(label)
		ing.m.waited.drop(pa.ID)
	}()
	p.run(ctx, pa.Offset)
}

// partition turns one partition's messages into batches and writes them. Two batches
// alternate: one fills while the other is written, so decoding overlaps the insert; when
// both are busy (ClickHouse slow or down) the partition is not read, which bounds memory
// to two batches.
type partition struct {
	ing       *Ingester
	gen       *kafka.Generation
	id        int
	log       *slog.Logger
	lag       prometheus.Gauge
	committed prometheus.Gauge

	// Owned by the reading goroutine.
	cuts map[int64]int64 // recorded batch ranges: start offset -> end offset
	seen *seenIDs        // event ids of the last DedupWindow messages (dedup.go)
	from int64           // messages before it only fill seen: they are committed
	dec  block.Decoder
	row  block.Row
	b    *batch // the open batch, nil between batches

	free chan *batch // batches ready to fill
	full chan *batch // batches to write, in offset order
}

// batch is a range of offsets of one partition: [start, next) read so far, to be ended
// at end (exclusive) unless the flush interval or the byte limit cut it earlier.
type batch struct {
	start      int64
	next       int64
	end        int64
	hwm        int64  // highest high-water mark seen while the batch was open
	clocked    bool   // its first row's receive time is in the wait clock
	recorded   bool   // end comes from a recorded cut and must be kept
	record     bool   // end was chosen early: record it before inserting
	cut        string // what ended it: rows, bytes or time
	bytes      int
	dropped    int // messages left out as repeats (dedup.go)
	cols       block.Columns
	poison     []kafka.Message
	reasons    []string
	kinds      []string
	deadline   context.Context
	cancelTime context.CancelFunc
}

func (p *partition) run(ctx context.Context, committed int64) {
	cfg := &p.ing.cfg
	from := max(committed, 0)
	ok := p.retry(ctx, "load recorded cuts", classifyCH, func(ctx context.Context) error {
		if err := p.ing.store.ensureCuts(ctx); err != nil {
			return err
		}
		cuts, err := p.ing.store.loadCuts(ctx, cfg.Topic, p.id, from)
		p.cuts = cuts
		return err
	})
	if !ok {
		return
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   cfg.Brokers,
		Topic:     cfg.Topic,
		Partition: p.id,
		MinBytes:  1,
		MaxBytes:  max(cfg.BatchBytes/4, 1<<20),
		MaxWait:   cfg.FetchMaxWait,
		Dialer:    p.ing.dialer,
		// The queue between the fetcher and us keeps filling while both batches are
		// busy; it bounds the memory of a stalled partition together with them.
		QueueCapacity: 500,
	})
	defer r.Close()
	start := committed
	if start < 0 {
		start = kafka.FirstOffset
	}
	p.from = start
	if cfg.DedupWindow > 0 {
		p.seen = newSeenIDs(cfg.DedupWindow)
		if committed > 0 {
			// Re-read the window before the committed offset into seen, so this owner
			// drops exactly what any earlier owner dropped (dedup.go). Not below the log
			// start, which the reader would wait on forever.
			first := int64(0)
			ok := p.retry(ctx, "read the partition's first offset", func(error) string { return kindKafka }, func(ctx context.Context) error {
				var err error
				first, err = p.firstOffset(ctx)
				return err
			})
			if !ok {
				return
			}
			start = max(committed-int64(cfg.DedupWindow), first, 0)
		}
	}
	if err := r.SetOffset(start); err != nil {
		p.log.Error("cannot seek to the committed offset", "offset", committed, "err", err)
		return
	}
	p.log.Debug("partition started", "committed", committed, "recorded_cuts", len(p.cuts))

	p.free = make(chan *batch, 2)
	p.free <- new(batch)
	p.free <- new(batch)
	p.full = make(chan *batch, 1)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		p.write(ctx)
	}()
	defer func() {
		close(p.full)
		<-writerDone
		p.drop(p.b)
		for b := range p.full { // batches the writer never took, if it stopped early
			p.drop(b)
		}
	}()
	p.read(ctx, r)
}

// read fetches messages and cuts them into batches until ctx ends or the writer stops.
func (p *partition) read(ctx context.Context, r *kafka.Reader) {
	cfg := &p.ing.cfg
	backoff := cfg.RetryMin
	for {
		fetchCtx := ctx
		if p.b != nil {
			fetchCtx = p.b.deadline
		}
		msg, err := r.FetchMessage(fetchCtx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if b := p.b; b != nil && b.deadline.Err() != nil {
				if b.next < b.end && (b.recorded || b.hwm >= b.end) {
					// The messages up to the planned end exist and are on their way:
					// a predecessor that read them may have inserted exactly this
					// range (recorded, or ending at its natural boundary), so cutting
					// now would build a different batch and double its rows. A cut
					// is only chosen while the log itself ends before the boundary;
					// no predecessor can have seen further, as the log only grows.
					b.cancelTime()
					b.deadline, b.cancelTime = context.WithTimeout(ctx, cfg.FlushInterval)
					continue
				}
				if !p.cut(ctx, b.next, "time") {
					return
				}
				continue
			}
			p.log.Warn("cannot fetch from Kafka; retrying", "err", err, "backoff", backoff)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, cfg.RetryMax)
			continue
		}
		backoff = cfg.RetryMin
		p.lag.Set(float64(max(msg.HighWaterMark-msg.Offset-1, 0)))
		if msg.Offset < p.from {
			// Committed by an earlier owner: only its event id is wanted.
			if p.dec.DecodeID(msg.Value, &p.row) == nil {
				p.seen.repeat(msg.Offset, p.row.EventID())
			}
			continue
		}

		if b := p.b; b != nil {
			size := len(msg.Key) + len(msg.Value)
			switch {
			case msg.Offset >= b.end:
				if !p.cut(ctx, b.end, "rows") {
					return
				}
			case !b.recorded && b.bytes+size > cfg.BatchBytes:
				if !p.cut(ctx, b.next, "bytes") {
					return
				}
			}
		}
		if p.b == nil && !p.begin(ctx, msg.Offset) {
			return
		}
		p.b.hwm = max(p.b.hwm, msg.HighWaterMark)
		p.add(&msg)
		if msg.Offset == p.b.end-1 {
			if !p.cut(ctx, p.b.end, "rows") {
				return
			}
		}
	}
}

// begin opens a batch at offset start, waiting for a free one. Its end is the recorded
// cut for start if there is one, else the next multiple of BatchRows: the same end any
// earlier owner chose.
func (p *partition) begin(ctx context.Context, start int64) bool {
	var b *batch
	select {
	case b = <-p.free:
	case <-ctx.Done():
		return false
	}
	n := int64(p.ing.cfg.BatchRows)
	b.start, b.next, b.bytes, b.hwm, b.clocked, b.dropped = start, start, 0, 0, false, 0
	b.end, b.recorded, b.record = (start/n+1)*n, false, false
	if end, ok := p.cuts[start]; ok && end > start {
		b.end, b.recorded = end, true
	}
	for s := range p.cuts {
		if s < start {
			delete(p.cuts, s)
		}
	}
	b.deadline, b.cancelTime = context.WithTimeout(ctx, p.ing.cfg.FlushInterval)
	p.b = b
	return true
}

// add decodes msg into the open batch, or sets it aside for the dead-letter topic.
func (p *partition) add(msg *kafka.Message) {
	b := p.b
	size := len(msg.Key) + len(msg.Value)
	b.next = msg.Offset + 1
	b.bytes += size
	p.ing.m.buffered.Add(float64(size))
	if err := p.dec.Decode(msg.Value, &p.row); err != nil {
		kind := "json"
		var de *block.DecodeError
		if errors.As(err, &de) {
			kind = de.Kind()
		}
		b.poison = append(b.poison, *msg)
		b.reasons = append(b.reasons, err.Error())
		b.kinds = append(b.kinds, kind)
		return
	}
	if reason := p.ing.unknownTenant(&p.row); reason != "" {
		b.poison = append(b.poison, *msg)
		b.reasons = append(b.reasons, reason)
		b.kinds = append(b.kinds, "unknown_tenant")
		return
	}
	if p.seen.repeat(msg.Offset, p.row.EventID()) {
		b.dropped++
		return
	}
	b.cols.Append(&p.row)
	if !b.clocked {
		b.clocked = true
		p.ing.m.waited.read(p.id, b.start, p.row.ReceivedAt())
	}
}

// cut ends the open batch at end and hands it to the writer.
func (p *partition) cut(ctx context.Context, end int64, cut string) bool {
	b := p.b
	b.cancelTime()
	if end != b.end {
		b.record = true
		b.end, b.recorded = end, true
		p.cuts[b.start] = end
	}
	b.cut = cut
	select {
	case p.full <- b:
		p.b = nil
		return true
	case <-ctx.Done():
		return false
	}
}

// write writes the batches handed over by read, in order, and returns them to the pool.
func (p *partition) write(ctx context.Context) {
	for b := range p.full {
		if !p.flush(ctx, b) {
			p.drop(b)
			return
		}
		p.drop(b)
		p.free <- b
	}
}

// flush writes b as the range [start, end) and commits end. It returns false only when
// ctx ended; every failure before that is retried.
func (p *partition) flush(ctx context.Context, b *batch) bool {
	cfg := &p.ing.cfg
	m := p.ing.m
	if b.record {
		// An early cut: remember it before anything is inserted, so a successor that
		// finds this range uncommitted rebuilds exactly it.
		ok := p.retry(ctx, "record the batch range", classifyCH, func(ctx context.Context) error {
			return p.ing.store.recordCut(ctx, cfg.Topic, p.id, b.start, b.end)
		})
		if !ok {
			return false
		}
	}
	if len(b.poison) > 0 {
		msgs := make([]kafka.Message, len(b.poison))
		for i, src := range b.poison {
			msgs[i] = kafka.Message{
				Key:   src.Key,
				Value: src.Value,
				Headers: append(src.Headers[:len(src.Headers):len(src.Headers)],
					kafka.Header{Key: "reason", Value: []byte(b.reasons[i])},
					kafka.Header{Key: "source_topic", Value: []byte(cfg.Topic)},
					kafka.Header{Key: "source_partition", Value: strconv.AppendInt(nil, int64(p.id), 10)},
					kafka.Header{Key: "source_offset", Value: strconv.AppendInt(nil, src.Offset, 10)},
				),
			}
		}
		ok := p.retry(ctx, "write dead letters", func(error) string { return kindKafka }, func(ctx context.Context) error {
			return p.ing.dlq.WriteMessages(ctx, msgs...)
		})
		if !ok {
			return false
		}
		for _, k := range b.kinds {
			m.dlq.WithLabelValues(k).Inc()
		}
		p.log.Warn("messages sent to the dead-letter topic", "count", len(msgs), "dlq", cfg.DLQTopic,
			"first_offset", b.poison[0].Offset, "first_reason", b.reasons[0])
	}
	if rows := b.cols.Len(); rows > 0 {
		token := batchToken(cfg.Topic, p.id, b.start, b.end)
		began := time.Now() // rows of any attempt were written after this
		var took time.Duration
		ok := p.retry(ctx, "insert the batch", classifyCH, func(ctx context.Context) error {
			t0 := time.Now()
			err := p.ing.store.insert(ctx, token, &b.cols)
			took = time.Since(t0)
			return err
		})
		// Even when ctx ended mid-insert: the server may have written the rows anyway, and
		// whoever inserts the batch again is dropped as a repeat, so refreshes only from then.
		p.ing.rows.touched(began)
		if !ok {
			return false
		}
		p.log.Debug("batch inserted", "token", token, "rows", rows, "cut", b.cut, "recorded", b.record, "took", took)
		m.insertSeconds.Observe(took.Seconds())
		m.rows.Add(float64(rows))
		m.batchRows.Observe(float64(rows))
	}
	m.batchBytes.Observe(float64(b.bytes))
	m.batches.WithLabelValues(b.cut).Inc()
	ok := p.retry(ctx, "commit the offset", func(error) string { return kindKafka }, func(context.Context) error {
		p.ing.commitMu.Lock()
		defer p.ing.commitMu.Unlock()
		return p.gen.CommitOffsets(map[string]map[int]int64{cfg.Topic: {p.id: b.end}})
	})
	if !ok {
		return false
	}
	p.committed.Set(float64(b.end))
	m.waited.committed(p.id, b.start)
	if b.dropped > 0 {
		m.duplicates.Add(float64(b.dropped))
		p.log.Info("repeated event ids left out of the batch", "count", b.dropped, "start", b.start, "end", b.end)
	}
	p.log.Debug("offset committed", "offset", b.end)
	return true
}

// firstOffset reads the partition's log start offset from its leader.
func (p *partition) firstOffset(ctx context.Context) (int64, error) {
	cfg := &p.ing.cfg
	var err error
	for _, addr := range cfg.Brokers {
		var conn *kafka.Conn
		conn, err = p.ing.dialer.DialLeader(ctx, "tcp", addr, cfg.Topic, p.id)
		if err != nil {
			continue
		}
		if d, ok := ctx.Deadline(); ok {
			conn.SetDeadline(d)
		} else {
			conn.SetDeadline(time.Now().Add(cfg.SessionTimeout)) // a frozen broker does not hold the partition forever
		}
		first, ferr := conn.ReadFirstOffset()
		conn.Close()
		return first, ferr
	}
	return 0, err
}

// batchToken names the offset range [start, end) of a partition; it is the batch's
// insert_deduplication_token, so it must never change for a given range.
func batchToken(topic string, partition int, start, end int64) string {
	return fmt.Sprintf("beacon-ingest/%s/%d/%d-%d", topic, partition, start, end)
}

// drop empties b and keeps its capacity. After a flush its rows are in ClickHouse; on
// shutdown or revocation they are left to whoever reads the partition next.
func (p *partition) drop(b *batch) {
	if b == nil {
		return
	}
	p.ing.m.buffered.Sub(float64(b.bytes))
	if b.cancelTime != nil {
		b.cancelTime()
	}
	b.bytes = 0
	b.cols.Reset()
	clear(b.poison)
	b.poison, b.reasons, b.kinds = b.poison[:0], b.reasons[:0], b.kinds[:0]
}

// retry calls fn until it succeeds or ctx ends, backing off between attempts up to
// RetryMax. While it waits the partition is not read, so memory stays bounded.
func (p *partition) retry(ctx context.Context, what string, kind func(error) string, fn func(context.Context) error) bool {
	cfg := &p.ing.cfg
	f := &failures{log: p.log, what: what, kind: kind, errors: p.ing.m.insertErrors,
		fix: "the ClickHouse table " + cfg.Database + "." + cfg.Table + " does not match the events; run `beacon migrate up` or fix the table"}
	backoff := cfg.RetryMin
	for {
		err := fn(ctx)
		if err == nil {
			f.succeeded()
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		f.failed(err, "backoff", backoff)
		if !sleep(ctx, backoff) {
			return false
		}
		backoff = min(backoff*2, cfg.RetryMax)
	}
}

// sleep waits d or until ctx ends, and says whether it waited the whole d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// unknownTenant says why r may not be inserted under Config.Sites ("" when it may): its
// tenant is not in the site config, or its site key is another tenant's.
func (ing *Ingester) unknownTenant(r *block.Row) string {
	if ing.tenants == nil {
		return ""
	}
	if !ing.tenants[r.Tenant()] {
		return "tenant " + strconv.Quote(r.Tenant()) + " is not in the site config (-ingest.sites)"
	}
	if t, ok := ing.cfg.Sites[r.SiteKey()]; r.SiteKey() != "" && (!ok || t != r.Tenant()) {
		return "site " + strconv.Quote(r.SiteKey()) + " is not a site of tenant " + strconv.Quote(r.Tenant()) + " in the site config (-ingest.sites)"
	}
	return ""
}
