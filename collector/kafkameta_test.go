package collector

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/segmentio/kafka-go"
	metadataAPI "github.com/segmentio/kafka-go/protocol/metadata"
)

// countingTransport answers metadata requests for one topic, counting the round trips.
type countingTransport struct {
	trips      int
	partitions int
	fail       error
}

func (t *countingTransport) RoundTrip(_ context.Context, _ net.Addr, req kafka.Request) (kafka.Response, error) {
	t.trips++
	if t.fail != nil {
		return nil, t.fail
	}
	m := req.(*metadataAPI.Request)
	res := &metadataAPI.Response{}
	for _, name := range m.TopicNames {
		topic := metadataAPI.ResponseTopic{Name: name, Partitions: make([]metadataAPI.ResponsePartition, t.partitions)}
		if t.partitions == 0 {
			topic.ErrorCode = 3 // UNKNOWN_TOPIC_OR_PARTITION
		}
		res.Topics = append(res.Topics, topic)
	}
	return res, nil
}

// The shipper's kafka.Writer asks for its topic's metadata once per message: the cache
// answers repeats from one response, but never keeps an error or an unknown topic (a topic
// being created must be asked again), and asks again for another topic.
func TestTopicMetaCache(t *testing.T) {
	ask := func(c *topicMetaCache, topic string) (kafka.Response, error) {
		return c.RoundTrip(context.Background(), nil, &metadataAPI.Request{TopicNames: []string{topic}, AllowAutoTopicCreation: true})
	}
	next := &countingTransport{partitions: 6}
	c := &topicMetaCache{next: next}
	for range 1000 {
		r, err := ask(c, "beacon.events")
		if err != nil || len(r.(*metadataAPI.Response).Topics[0].Partitions) != 6 {
			t.Fatalf("cached metadata: %v %v", r, err)
		}
	}
	if next.trips != 1 {
		t.Fatalf("%d round trips for 1000 asks within the TTL, want 1", next.trips)
	}
	if _, err := ask(c, "other"); err != nil || next.trips != 2 {
		t.Fatalf("another topic: %v, %d round trips, want 2", err, next.trips)
	}

	creating := &countingTransport{}
	c = &topicMetaCache{next: creating}
	ask(c, "new")
	ask(c, "new")
	if creating.trips != 2 {
		t.Fatalf("an unknown topic was cached: %d round trips, want 2", creating.trips)
	}
	failing := &countingTransport{fail: errors.New("broker away")}
	c = &topicMetaCache{next: failing}
	if _, err := ask(c, "beacon.events"); err == nil {
		t.Fatal("a failed round trip returned no error")
	}
	ask(c, "beacon.events")
	if failing.trips != 2 {
		t.Fatalf("a failure was cached: %d round trips, want 2", failing.trips)
	}
}
