package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/beaconprm/beacon/internal/kafkalocal"
)

// runKafka serves the local Kafka-protocol broker (kfake) until signalled. Production
// uses real Kafka or Redpanda; this exists so that `make run` needs nothing installed.
func runKafka(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("kafka")
	var cfg kafkalocal.Config
	fs.StringVar(&cfg.DataDir, "kafka.dataDir", "var/kafka", "data directory (segments, topics, committed offsets); kept across restarts")
	fs.IntVar(&cfg.Port, "kafka.port", 9092, "port on 127.0.0.1 (with -kafka.brokers N: the first of N consecutive ports)")
	fs.IntVar(&cfg.Brokers, "kafka.brokers", 1, "brokers in this one process, to try a multi-broker topology (partition leaders spread over them; one copy of the data)")
	partitions := fs.Int("kafka.partitions", 6, "partitions of beacon.events and beacon.dlq when they are created (the number of ingesters that can share the work)")
	events := fs.String("kafka.eventsTopic", "beacon.events", "events topic, created when missing")
	dlq := fs.String("kafka.dlqTopic", "beacon.dlq", "dead-letter topic, created when missing")
	retBytes := newBytesFlag(256 << 20)
	segBytes := newBytesFlag(16 << 20)
	fs.Var(retBytes, "kafka.retentionBytes", "size kept per partition (e.g. 256MiB): bounds disk and the memory used to load segments at start")
	fs.Var(segBytes, "kafka.segmentBytes", "segment size (e.g. 16MiB); retention frees whole segments")
	fs.DurationVar(&cfg.Retention, "kafka.retention", 0, "age kept (default 72h)")
	fs.BoolVar(&cfg.SyncWrites, "kafka.syncWrites", true, "fsync every produced batch, so an acknowledged event survives a machine crash")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.Brokers < 1 {
		return errors.New("-kafka.brokers must be at least 1")
	}
	if *partitions < 1 {
		return errors.New("-kafka.partitions must be at least 1")
	}
	cfg.RetentionBytes, cfg.SegmentBytes = int64(retBytes.n), int64(segBytes.n)
	cfg.Topics = []kafkalocal.Topic{{Name: *events, Partitions: int32(*partitions)}, {Name: *dlq, Partitions: int32(*partitions)}}
	b, err := kafkalocal.Start(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "kafka: serving %s on %s (topics %s, %s)\n", cfg.DataDir, strings.Join(b.Addrs(), ","), *events, *dlq)
	<-ctx.Done()
	b.Close()
	return nil
}
