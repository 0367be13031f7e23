package signals

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/beaconprm/beacon/schema"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// touch is one verified view event of a person.
type touch struct {
	person, partner, content string
	at                       time.Time
}

// newDB migrates a fresh database of the shared test server.
func newDB(t *testing.T) *testenv.ClickHouse {
	t.Helper()
	ch := testenv.NewClickHouse(t)
	if _, err := schema.Migrate(context.Background(), ch.Conn(t), schema.Options{Database: ch.Database}); err != nil {
		t.Fatal(err)
	}
	return ch
}

// insertTouches writes one view event per touch, tenant acme, as the ingest would.
func insertTouches(t *testing.T, conn driver.Conn, db string, ts ...touch) {
	t.Helper()
	b, err := conn.PrepareBatch(context.Background(), "INSERT INTO "+db+`.events (event_id, tenant, received_at, event_time,
client_time, type, visitor_id, session_id, partner_id, partner_user_id, attribution, content_id, content_type, device, is_bot)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		id := uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("signals-test:", x.person, x.content, x.at.UnixMilli())))
		if err := b.Append(id, "acme", x.at, x.at, x.at, "view", "dev-"+x.person, "s-"+x.at.Format("20060102"),
			x.partner, x.person, "token", x.content, "document", "desktop", uint8(0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("insert: %v", err)
	}
}

// weeklyBaseline is p1's use of doc1 (partner pa) on today's weekday of each of the 8
// weeks before the 7-day window ending today: partner-activity expects 1 active day in
// the window (8 baseline days x 1 window day of that weekday / 8 weeks), so with no
// touch in the window p1 is silent, and one touch today makes it active (1 >= 1/2).
func weeklyBaseline(now time.Time) []touch {
	day := time.Date(now.Year(), now.Month(), now.Day(), 10, 0, 0, 0, time.UTC)
	var ts []touch
	for k := 1; k <= 8; k++ {
		ts = append(ts, touch{person: "p1", partner: "pa", content: "doc1", at: day.AddDate(0, 0, -7*k)})
	}
	return ts
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jsonDecode(r *http.Request, v any) error { return json.NewDecoder(r.Body).Decode(v) }
