package ingest

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestWatchdogRejoinsPastAGhostMember makes the state of issue 21 on purpose: a second
// member joins the group, takes half the partitions and never consumes them (joinAndIdle).
// The watchdog must see those partitions stall while its own advance, leave and rejoin,
// and every event must then be stored exactly once. With the watchdog off
// (WatchdogInterval -1) the ghost's partitions stay unconsumed and the test times out.
func TestWatchdogRejoinsPastAGhostMember(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	migrate(t, ch.Conn(t), ch.Database)
	k := testenv.NewKafka(t)
	const partitions, total = 4, 20000
	topic, dlq := k.Topic(t, partitions), k.Topic(t, 1)
	cfg := testConfig(t, k.Addr, topic, dlq, ch.NativeAddr, ch.Database)
	cfg.WatchdogInterval = time.Second
	ing, _ := runNew(t, cfg)
	eventually(t, time.Minute, "the ingester to own every partition", func() (bool, string) {
		n := testutil.ToFloat64(ing.m.assigned)
		return n == partitions, fmt.Sprintf("ingest_assigned_partitions %v", n)
	})

	ghost := joinAndIdle(t, k.Addr, cfg.GroupID, topic)
	eventually(t, time.Minute, "the ghost to hold partitions", func() (bool, string) {
		owned := groupAssignment(t, k.Addr, cfg.GroupID, topic)[ghost]
		return len(owned) > 0, fmt.Sprintf("ghost owns %v, ingest_assigned_partitions %v", owned, testutil.ToFloat64(ing.m.assigned))
	})
	t.Logf("the ghost %s holds partitions %v", ghost, groupAssignment(t, k.Addr, cfg.GroupID, topic)[ghost])

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); produce(t, k.Addr, topic, 0, total, nil) }()
	wg.Wait()
	waitDone(t, ch.Conn(t), ch.Database, k.Addr, cfg.GroupID, topic, partitions, total, total, 2*time.Minute)
	if n := testutil.ToFloat64(ing.m.rejoins.WithLabelValues(rejoinStalled)); n < 1 {
		t.Fatalf("ingest_rejoins_total{reason=stalled} = %v, want at least 1", n)
	}
	if owned := groupAssignment(t, k.Addr, cfg.GroupID, topic)[ghost]; len(owned) > 0 {
		t.Fatalf("the ghost still holds %v", owned)
	}
	eventually(t, time.Minute, "the ingester to own every partition again", func() (bool, string) {
		n := testutil.ToFloat64(ing.m.assigned)
		return n == partitions, fmt.Sprintf("ingest_assigned_partitions %v", n)
	})
	if n := testutil.ToFloat64(ing.m.topicParts); n != partitions {
		t.Fatalf("ingest_topic_partitions = %v, want %d", n, partitions)
	}
}

// groupAssignment maps each member of group to its partitions of topic.
func groupAssignment(t *testing.T, addr, group, topic string) map[string][]int {
	c := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil || len(res.Groups) != 1 {
		t.Logf("describe group %s: %v", group, err)
		return nil
	}
	out := map[string][]int{}
	for _, m := range res.Groups[0].Members {
		out[m.MemberID] = nil
		for _, tp := range m.MemberAssignments.Topics {
			if tp.Topic == topic {
				out[m.MemberID] = append(out[m.MemberID], tp.Partitions...)
			}
		}
	}
	return out
}

// joinAndIdle joins group as a consumer of topic on a raw connection and takes its share
// of the partitions, then heartbeats without ever fetching or committing; at the next
// rebalance it stops answering. That is what the local broker's ghost looks like to the
// group: a member that holds partitions, consumes none, and is only dropped by a rebalance
// (the broker, kfake, sometimes never sets the session timer of a member whose JoinGroup
// answer found the connection closed: README "Group membership"). It returns the
// member's ID once it holds its assignment.
func joinAndIdle(t *testing.T, addr, group, topic string) string {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("ghost"))
	corr := int32(0)
	roundTrip := func(req kmsg.Request, resp kmsg.Response) error {
		corr++
		if _, err := conn.Write(f.AppendRequest(nil, req, corr)); err != nil {
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		var size [4]byte
		if _, err := io.ReadFull(conn, size[:]); err != nil {
			return err
		}
		body := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(conn, body); err != nil {
			return err
		}
		resp.SetVersion(req.GetVersion())
		return resp.ReadFrom(body[4:]) // after the correlation ID
	}
	meta := (&kmsg.ConsumerMemberMetadata{Version: 0, Topics: []string{topic}}).AppendTo(nil)
	join := func(memberID string) *kmsg.JoinGroupResponse {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Version = 5
		req.Group = group
		req.SessionTimeoutMillis = 6000
		req.RebalanceTimeoutMillis = 6000
		req.MemberID = memberID
		req.ProtocolType = "consumer"
		req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: meta}}
		resp := kmsg.NewPtrJoinGroupResponse()
		if err := roundTrip(req, resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// The first join has no member ID; the broker answers with one to use. The second
	// is held until the live member has rejoined.
	first := join("")
	if first.ErrorCode != kerr.MemberIDRequired.Code || first.MemberID == "" {
		t.Fatalf("first join: error %v, member %q; want MEMBER_ID_REQUIRED and an ID", kerr.ErrorForCode(first.ErrorCode), first.MemberID)
	}
	id := first.MemberID
	joined := join(id)
	if err := kerr.ErrorForCode(joined.ErrorCode); err != nil {
		t.Fatalf("join: %v", err)
	}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Version = 3
	sync.Group, sync.Generation, sync.MemberID = group, joined.Generation, id
	synced := kmsg.NewPtrSyncGroupResponse()
	if err := roundTrip(sync, synced); err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(synced.ErrorCode); err != nil {
		t.Fatalf("sync: %v", err)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			hb := kmsg.NewPtrHeartbeatRequest()
			hb.Version = 3
			hb.Group, hb.Generation, hb.MemberID = group, joined.Generation, id
			resp := kmsg.NewPtrHeartbeatResponse()
			if err := roundTrip(hb, resp); err != nil || resp.ErrorCode != 0 {
				return // a rebalance (or a closed broker): the ghost does not rejoin
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		conn.Close()
		<-stopped
	})
	return id
}
