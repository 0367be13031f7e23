// Package kafkalocal runs a Kafka-protocol broker (kfake) for the local stack and tests,
// persisted to a data directory with bounded retention so disk and start-up memory stay
// bounded (kfake reads segments whole into memory when it starts).
//
// Production deployments use real Kafka or Redpanda through the same client flags.
package kafkalocal

import (
	"crypto/tls"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Topic is a topic to create at start when it does not exist yet.
type Topic struct {
	Name       string
	Partitions int32
}

// Config configures a broker; its zero value is an in-memory broker on a free port.
type Config struct {
	// DataDir persists segments, topics and committed offsets; "" keeps everything in memory.
	DataDir string
	// Port on 127.0.0.1; 0 picks a free one. With several Brokers, they listen on Port,
	// Port+1, ... (or free ports when 0).
	Port int
	// Brokers is the number of brokers in the one process (default 1). Partition leaders
	// are spread over them and clients are told every broker's address, as with a real
	// cluster; replication between them is metadata only (one copy of the data).
	Brokers int
	// Topics are created at start when missing.
	Topics []Topic
	// RetentionBytes bounds each partition; default 256 MiB.
	RetentionBytes int64
	// Retention bounds record age; default 72h.
	Retention time.Duration
	// SegmentBytes is the segment size; default 16 MiB, small so retention frees disk early.
	SegmentBytes int64
	// SyncWrites fsyncs every produced batch (acks=all then means on disk).
	SyncWrites bool
	// Users turns SASL on: clients must authenticate as one of them. Tests of production
	// wiring use it; the local stack does not.
	Users []User
	// TLS serves TLS only, with this server configuration (tests of production wiring).
	TLS *tls.Config
}

// User is a SASL user: Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
type User struct {
	Mechanism, Name, Password string
}

// Broker is a running broker.
type Broker struct {
	c    *kfake.Cluster
	stop chan struct{}
	wg   sync.WaitGroup
}

// Start starts the broker and creates missing topics.
func Start(cfg Config) (*Broker, error) {
	if cfg.RetentionBytes == 0 {
		cfg.RetentionBytes = 256 << 20
	}
	if cfg.Retention == 0 {
		cfg.Retention = 72 * time.Hour
	}
	if cfg.SegmentBytes == 0 {
		cfg.SegmentBytes = 16 << 20
	}
	if cfg.Brokers == 0 {
		cfg.Brokers = 1
	}
	if cfg.Brokers < 1 {
		return nil, fmt.Errorf("cannot start %d Kafka brokers", cfg.Brokers)
	}
	ports := make([]int, cfg.Brokers)
	for i := range ports {
		if cfg.Port != 0 {
			ports[i] = cfg.Port + i
		}
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(cfg.Brokers),
		kfake.Ports(ports...),
		kfake.BrokerConfigs(map[string]string{
			"log.retention.bytes": strconv.FormatInt(cfg.RetentionBytes, 10),
			"log.retention.ms":    strconv.FormatInt(cfg.Retention.Milliseconds(), 10),
			"log.segment.bytes":   strconv.FormatInt(cfg.SegmentBytes, 10),
		}),
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	if cfg.SyncWrites {
		opts = append(opts, kfake.SyncWrites())
	}
	if len(cfg.Users) > 0 {
		opts = append(opts, kfake.EnableSASL())
		for _, u := range cfg.Users {
			opts = append(opts, kfake.Superuser(u.Mechanism, u.Name, u.Password))
		}
	}
	if cfg.TLS != nil {
		opts = append(opts, kfake.TLS(cfg.TLS))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot start Kafka broker on port %d: %w", cfg.Port, err)
	}
	b := &Broker{c: c, stop: make(chan struct{})}
	for _, t := range cfg.Topics {
		if err := b.CreateTopic(t.Name, t.Partitions); err != nil {
			c.Close()
			return nil, err
		}
	}
	b.wg.Add(1)
	go b.enforceRetention()
	return b, nil
}

// enforceRetention applies the retention limits periodically; kfake only applies them on request.
func (b *Broker) enforceRetention() {
	defer b.wg.Done()
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.c.ApplyRetention()
		}
	}
}

// CreateTopic creates a topic unless it exists.
func (b *Broker) CreateTopic(name string, partitions int32) error {
	if b.c.TopicInfo(name) != nil {
		return nil
	}
	if err := b.c.CreateTopic(name, partitions, nil); err != nil {
		return fmt.Errorf("cannot create topic %s with %d partitions: %w", name, partitions, err)
	}
	return nil
}

// Addr is the bootstrap address (127.0.0.1:port), the first broker's.
func (b *Broker) Addr() string { return b.c.ListenAddrs()[0] }

// Addrs are every broker's address.
func (b *Broker) Addrs() []string { return b.c.ListenAddrs() }

// Cluster exposes kfake for fault injection in tests.
func (b *Broker) Cluster() *kfake.Cluster { return b.c }

// Close stops the broker, flushing its data directory.
func (b *Broker) Close() {
	close(b.stop)
	b.wg.Wait()
	b.c.Close()
}
