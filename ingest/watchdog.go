package ingest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// Reasons for a rejoin, the values of ingest_rejoins_total{reason}.
const (
	// rejoinUnassigned: a partition of the topic is in no member's assignment.
	rejoinUnassigned = "unassigned"
	// rejoinStalled: a partition is assigned to another member that does not consume it:
	// messages wait and its committed offset did not move between two checks, while this
	// member's own partitions are consumed.
	rejoinStalled = "stalled"
)

// membership is what this member consumes in the current generation; the watchdog reads it.
type membership struct {
	mu       sync.Mutex
	memberID string
	parts    []int
	rejoin   context.CancelFunc // ends the current group session; nil between sessions
}

func (ms *membership) set(memberID string, parts []int) {
	ms.mu.Lock()
	ms.memberID, ms.parts = memberID, parts
	ms.mu.Unlock()
}

func (ms *membership) get() (string, []int) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.memberID, ms.parts
}

// partitionState is one partition as one watchdog check saw it.
type partitionState struct {
	owner     string // member ID, "" when no member has it in its assignment
	committed int64  // the group's committed offset, -1 when none
	lag       int64  // high-water mark minus committed offset
}

// watchdog checks every interval that each partition of the topic is consumed by a live
// member of the group, and makes this member leave and rejoin when one is not for two
// checks in a row. The rejoin starts a rebalance: a member that no longer exists (a
// "ghost": a join left behind by a killed process that the broker never expires, see
// README "Group membership") does not answer it and is dropped, and the partitions are
// shared among the live members again.
type watchdog struct {
	ing    *Ingester
	client *kafka.Client
	prev   map[int]partitionState
}

func (ing *Ingester) newWatchdog() (*watchdog, error) {
	transport, err := ing.cfg.Kafka.Transport()
	if err != nil {
		return nil, err
	}
	return &watchdog{
		ing:    ing,
		client: &kafka.Client{Addr: kafka.TCP(ing.cfg.Brokers...), Timeout: 10 * time.Second, Transport: transport},
	}, nil
}

// run checks until ctx ends.
func (w *watchdog) run(ctx context.Context) {
	t := time.NewTicker(w.ing.cfg.WatchdogInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, w.ing.cfg.WatchdogInterval)
		reason, detail, err := w.check(cctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				w.ing.log.Debug("watchdog: cannot check the group's assignment", "err", err)
			}
			w.prev = nil
			continue
		}
		if reason == "" {
			continue
		}
		w.ing.log.Warn("watchdog: partitions not consumed by any live member for two checks; leaving and rejoining the group",
			"reason", reason, "partitions", detail, "interval", w.ing.cfg.WatchdogInterval)
		w.ing.m.rejoins.WithLabelValues(reason).Inc()
		w.prev = nil
		w.ing.own.mu.Lock()
		if w.ing.own.rejoin != nil {
			w.ing.own.rejoin()
		}
		w.ing.own.mu.Unlock()
	}
}

// check reads the topic's partitions, the group's assignment and its committed offsets,
// and returns a reason and the partitions concerned when some partition was not consumed
// by a live member at this check and the previous one; "" when all are.
func (w *watchdog) check(ctx context.Context) (reason, detail string, err error) {
	cfg := &w.ing.cfg
	self, mine := w.ing.own.get()
	if self == "" {
		w.prev = nil
		return "", "", nil // not in a generation: nothing to compare with
	}
	md, err := w.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{cfg.Topic}})
	if err != nil {
		return "", "", err
	}
	var ids []int
	for _, t := range md.Topics {
		if t.Name == cfg.Topic {
			if t.Error != nil {
				return "", "", t.Error
			}
			for _, p := range t.Partitions {
				ids = append(ids, p.ID)
			}
		}
	}
	if len(ids) == 0 {
		return "", "", fmt.Errorf("topic %s has no partitions in the metadata", cfg.Topic)
	}
	slices.Sort(ids)
	w.ing.m.topicParts.Set(float64(len(ids)))

	dg, err := w.client.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{cfg.GroupID}})
	if err != nil {
		return "", "", err
	}
	if len(dg.Groups) != 1 {
		return "", "", fmt.Errorf("describe group %s: %d groups in the answer", cfg.GroupID, len(dg.Groups))
	}
	g := dg.Groups[0]
	if g.Error != nil {
		return "", "", g.Error
	}
	if g.GroupState != "Stable" {
		w.prev = nil // a rebalance is under way: judge its outcome, not its middle
		return "", "", nil
	}
	owner := map[int]string{}
	for _, m := range g.Members {
		for _, t := range m.MemberAssignments.Topics {
			if t.Topic == cfg.Topic {
				for _, p := range t.Partitions {
					owner[p] = m.MemberID
				}
			}
		}
	}

	of, err := w.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: cfg.GroupID, Topics: map[string][]int{cfg.Topic: ids}})
	if err != nil {
		return "", "", err
	}
	if of.Error != nil {
		return "", "", of.Error
	}
	committed := map[int]int64{}
	for _, p := range of.Topics[cfg.Topic] {
		if p.Error != nil {
			return "", "", p.Error
		}
		committed[p.Partition] = p.CommittedOffset
	}
	reqs := make([]kafka.OffsetRequest, len(ids))
	for i, id := range ids {
		reqs[i] = kafka.LastOffsetOf(id)
	}
	lo, err := w.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{cfg.Topic: reqs}})
	if err != nil {
		return "", "", err
	}
	hwm := map[int]int64{}
	for _, p := range lo.Topics[cfg.Topic] {
		if p.Error != nil {
			return "", "", p.Error
		}
		hwm[p.Partition] = p.LastOffset
	}

	cur := make(map[int]partitionState, len(ids))
	for _, id := range ids {
		c, ok := committed[id]
		if !ok {
			c = -1
		}
		cur[id] = partitionState{owner: owner[id], committed: c, lag: max(hwm[id]-max(c, 0), 0)}
	}
	prev := w.prev
	w.prev = cur
	if prev == nil {
		return "", "", nil
	}
	// stalled says whether the partition waited with its committed offset unmoved since
	// the previous check, under the same owner.
	stalled := func(id int) bool {
		p, c := prev[id], cur[id]
		return c.owner != "" && c.owner == p.owner && c.lag > 0 && p.lag > 0 && c.committed == p.committed
	}
	// A shared outage (ClickHouse down) stalls every member alike; only when this
	// member's own waiting partitions move is a stalled partition of another member a
	// sign that the member is gone.
	selfHealthy := true
	for _, id := range mine {
		if stalled(id) {
			selfHealthy = false
		}
	}
	var unassigned, gone []int
	for _, id := range ids {
		switch {
		case cur[id].owner == "" && prev[id].owner == "":
			unassigned = append(unassigned, id)
		case cur[id].owner != self && selfHealthy && stalled(id):
			gone = append(gone, id)
		}
	}
	switch {
	case len(unassigned) > 0:
		return rejoinUnassigned, fmt.Sprint(unassigned), nil
	case len(gone) > 0:
		owners := make([]string, len(gone))
		for i, id := range gone {
			owners[i] = fmt.Sprintf("%d:%s@%d", id, cur[id].owner, cur[id].committed)
		}
		return rejoinStalled, fmt.Sprint(owners), nil
	}
	return "", "", nil
}
