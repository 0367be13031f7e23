package ingest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beaconprm/beacon/ingest/internal/testmsg"
	"github.com/beaconprm/beacon/internal/testenv"
)

// With Config.Sites, a message written straight into the topic for a tenant the site config
// does not know, or naming another tenant's site, goes to the dead-letter topic with the
// reason; the rest is inserted.
func TestUnknownTenantsGoToDLQ(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	conn := ch.Conn(t)
	migrate(t, conn, ch.Database)
	k := testenv.NewKafka(t)
	topic, dlq := k.Topic(t, 1), k.Topic(t, 1)
	forged := map[int][]byte{
		3: bytes.Replace(testmsg.Event(3), []byte(`"tenant":"acme"`), []byte(`"tenant":"mallory"`), 1),
		7: bytes.Replace(testmsg.Event(7), []byte(`"site_key":"demo"`), []byte(`"site_key":"other-site"`), 1),
	}
	produce(t, k.Addr, topic, 0, 20, forged)

	cfg := testConfig(t, k.Addr, topic, dlq, ch.NativeAddr, ch.Database)
	cfg.Sites = map[string]string{"demo": "acme", "other-site": "globex"}
	ing, _ := runNew(t, cfg)
	waitDone(t, conn, ch.Database, k.Addr, cfg.GroupID, topic, 1, 20, 18, time.Minute)
	if got := testutil.ToFloat64(ing.m.dlq.WithLabelValues("unknown_tenant")); got != 2 {
		t.Errorf("ingest_dlq_messages_total{kind=unknown_tenant} = %v, want 2", got)
	}
	msgs, hs := deadLetters(t, k.Addr, dlq, 2)
	reasons := map[string]string{}
	for i, m := range msgs {
		reasons[string(m.Key)] = hs[i]["reason"]
	}
	if !strings.Contains(reasons["v-3"], `tenant "mallory" is not in the site config`) ||
		!strings.Contains(reasons["v-7"], `site "other-site" is not a site of tenant "acme"`) {
		t.Fatalf("dead-letter reasons %v", reasons)
	}
	var n uint64
	q := fmt.Sprintf("SELECT count() FROM `%s`.events WHERE tenant = 'mallory' OR site_key = 'other-site'", ch.Database)
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil || n != 0 {
		t.Fatalf("forged rows in the table: %d (%v)", n, err)
	}
}
