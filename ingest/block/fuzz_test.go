package block

import (
	"errors"
	"testing"

	"github.com/beaconprm/beacon/ingest/internal/testmsg"
)

// FuzzDecode feeds arbitrary messages (whatever any producer writes to the topic) to the
// decoder: it must never panic, a refusal must be a DecodeError (so the DLQ can classify
// it), an accepted row must append to the columns, and DecodeID (the dedup window's
// warm-up) must accept exactly what Decode accepts, with the same id.
func FuzzDecode(f *testing.F) {
	f.Add(testmsg.Event(1))
	for _, m := range testmsg.CollectorMessages(f) {
		f.Add(m)
	}
	f.Add([]byte(`{"event_id":"6fa459ea-ee8a-4ca4-894e-db77e160355e","received_at":"2026-11-23 10:00:00.123","event_time":"2026-11-23 10:00:00","props":{"a":"\ud83d\ude00","b":"\u0000"},"watched_start":[1.5,2],"x":[[[{}]]]}`))
	f.Add([]byte(`{"event_id":"","received_at":"9999-99-99 99:99:99"}`))
	f.Add([]byte(`{"content_title":"\ud800","page":4294967296,"is_bot":2}`))
	f.Add([]byte(`[`))
	var d Decoder
	var cols Columns
	f.Fuzz(func(t *testing.T, data []byte) {
		var r, idOnly Row
		idErr := d.DecodeID(data, &idOnly)
		err := d.Decode(data, &r)
		if (idErr == nil) != (err == nil) || idOnly.eventID != r.eventID {
			t.Fatalf("DecodeID says %v (id %v), Decode %v (id %v)", idErr, idOnly.eventID, err, r.eventID)
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a DecodeError", err, err)
			}
			return
		}
		cols.Append(&r)
		if cols.Len() > 1000 {
			cols.Reset()
		}
	})
}
