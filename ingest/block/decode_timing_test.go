package block

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/beaconprm/beacon/beacon/event"
	"github.com/beaconprm/beacon/ingest/internal/testmsg"

	chproto "github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// newBlock returns a clickhouse-go block shaped like the insert's header (the raw table's
// columns with the types the server sends for them, insertType), which is what
// batch.Column(i).Append fills before Send.
func newBlock(t testing.TB) *proto.Block {
	b := proto.NewBlock()
	for _, c := range event.Columns {
		if err := b.AddColumn(c.Name, column.Type(insertType(c.Type))); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// insertType is the type the server gives a column of the raw table in the insert's
// header: low_cardinality_allow_in_native_format=0 (ingest's store.insert) replaces
// LowCardinality(T) with T.
func insertType(t string) string {
	if strings.HasPrefix(t, "LowCardinality(") && strings.HasSuffix(t, ")") {
		return t[len("LowCardinality(") : len(t)-1]
	}
	return t
}

func TestColumnsAppendToDriverBlock(t *testing.T) {
	var d Decoder
	var c Columns
	var r Row
	for i := range 100 {
		if err := d.Decode(testmsg.Event(i), &r); err != nil {
			t.Fatal(err)
		}
		c.Append(&r)
	}
	b := newBlock(t)
	for i, v := range c.Values() {
		if _, err := b.Columns[i].Append(v); err != nil {
			t.Fatalf("column %s: %v", event.Columns[i].Name, err)
		}
	}
	if b.Rows() != 100 {
		t.Fatalf("block has %d rows", b.Rows())
	}
}

// TestDecodeAllocations proves the hot path allocates nothing per event once the arena
// and the column slices have grown (a 64 KiB arena chunk per few hundred events aside).
func TestDecodeAllocations(t *testing.T) {
	msg := testmsg.Event(1)
	var d Decoder
	var c Columns
	var r Row
	allocs := testing.AllocsPerRun(2000, func() {
		if err := d.Decode(msg, &r); err != nil {
			t.Fatal(err)
		}
		c.Append(&r)
		if c.Len() == 1000 {
			c.Reset()
		}
	})
	if allocs > 0.05 {
		t.Fatalf("decode+append allocates %.3f times per event", allocs)
	}
}

// BenchmarkDecodeAppend is the ingest hot path: decode each message into the columns,
// then hand the columns to the driver's block as Send does.
func BenchmarkDecodeAppend(b *testing.B) {
	msgs := testmsg.Batch(b)
	var d Decoder
	var c Columns
	var r Row
	block := newBlock(b)
	b.ReportAllocs()
	b.SetBytes(testmsg.MeanSize(msgs))
	b.ResetTimer()
	for n := 0; n < b.N; n += testmsg.BatchSize {
		c.Reset()
		block.Reset()
		for _, m := range msgs {
			if err := d.Decode(m, &r); err != nil {
				b.Fatal(err)
			}
			c.Append(&r)
		}
		for i, v := range c.Values() {
			if _, err := block.Columns[i].Append(v); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDecodeOnly is the decoder into the columns alone.
func BenchmarkDecodeOnly(b *testing.B) {
	msgs := testmsg.Batch(b)
	var d Decoder
	var c Columns
	var r Row
	b.ReportAllocs()
	b.SetBytes(testmsg.MeanSize(msgs))
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if n%testmsg.BatchSize == 0 {
			c.Reset()
		}
		if err := d.Decode(msgs[n%testmsg.BatchSize], &r); err != nil {
			b.Fatal(err)
		}
		c.Append(&r)
	}
}

// jsonEvent is the baseline twin: encoding/json with reflection into a tagged struct.
type jsonEvent struct {
	EventID       string            `json:"event_id"`
	Tenant        string            `json:"tenant"`
	SiteKey       string            `json:"site_key"`
	ReceivedAt    string            `json:"received_at"`
	EventTime     string            `json:"event_time"`
	ClientTime    string            `json:"client_time"`
	Type          string            `json:"type"`
	VisitorID     string            `json:"visitor_id"`
	SessionID     string            `json:"session_id"`
	PartnerID     string            `json:"partner_id"`
	PartnerUserID string            `json:"partner_user_id"`
	CampaignID    string            `json:"campaign_id"`
	Attribution   string            `json:"attribution"`
	ContentID     string            `json:"content_id"`
	ContentType   string            `json:"content_type"`
	ContentTitle  string            `json:"content_title"`
	URL           string            `json:"url"`
	Referrer      string            `json:"referrer"`
	Page          uint32            `json:"page"`
	PageCount     uint32            `json:"page_count"`
	DwellMs       uint32            `json:"dwell_ms"`
	ScrollDepth   uint8             `json:"scroll_depth"`
	EngagedMs     uint32            `json:"engaged_ms"`
	Action        string            `json:"action"`
	Position      float32           `json:"position"`
	Duration      float32           `json:"duration"`
	Rate          float32           `json:"rate"`
	WatchedStart  []float32         `json:"watched_start"`
	WatchedEnd    []float32         `json:"watched_end"`
	TargetURL     string            `json:"target_url"`
	Name          string            `json:"name"`
	Props         map[string]string `json:"props"`
	Device        string            `json:"device"`
	IsBot         uint8             `json:"is_bot"`
	BotReason     string            `json:"bot_reason"`
	IPPrefix      string            `json:"ip_prefix"`
	UserAgent     string            `json:"user_agent"`
}

// BenchmarkDecodeOnlyEncodingJSON is BenchmarkDecodeOnly's baseline twin.
func BenchmarkDecodeOnlyEncodingJSON(b *testing.B) {
	msgs := testmsg.Batch(b)
	events := make([]jsonEvent, testmsg.BatchSize)
	b.ReportAllocs()
	b.SetBytes(testmsg.MeanSize(msgs))
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		e := &events[n%testmsg.BatchSize]
		*e = jsonEvent{}
		if err := json.Unmarshal(msgs[n%testmsg.BatchSize], e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBlockAppendEncode is what Send does with a decoded batch, per row: the columns
// appended to the driver's block (batch.Column(i).Append), then the block written in the
// native format into a buffer (before LZ4 and the socket).
func BenchmarkBlockAppendEncode(b *testing.B) {
	msgs := testmsg.Batch(b)
	var d Decoder
	var c Columns
	var r Row
	for _, m := range msgs {
		if err := d.Decode(m, &r); err != nil {
			b.Fatal(err)
		}
		c.Append(&r)
	}
	block := newBlock(b)
	var buf chproto.Buffer
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n += testmsg.BatchSize {
		block.Reset()
		buf.Reset()
		for i, v := range c.Values() {
			if _, err := block.Columns[i].Append(v); err != nil {
				b.Fatal(err)
			}
		}
		if err := block.Encode(&buf, proto.DBMS_TCP_PROTOCOL_VERSION); err != nil {
			b.Fatal(err)
		}
	}
}
