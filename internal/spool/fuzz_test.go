package spool

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzParseRecord feeds arbitrary payloads (bytes read back from disk) to the record parser
// in both layouts: it must never panic, must append nothing when it refuses, and whatever
// it accepts must lie within the payload.
func FuzzParseRecord(f *testing.F) {
	rec := appendRecord(nil, []byte("visitor"), []byte(`{"a":1}{"b":2}`), []int{7, 14})
	f.Add(rec[spoolHeaderLen:], true)
	f.Add([]byte{2, 0, 0, 0, 1, 0, 'k', 1, 0, 0, 0, 'x', 1, 0, 'k', 1, 0, 0, 0, 'y'}, false)
	f.Add([]byte{255, 255, 255, 255}, true)
	f.Add([]byte{1, 0, 0, 0, 255, 255}, true)
	f.Fuzz(func(t *testing.T, p []byte, keyOnce bool) {
		var b Batch
		b.Msgs = append(b.Msgs, Message{Value: []byte("before")})
		ok := b.parseRecord(p, keyOnce)
		if !ok && len(b.Msgs) != 1 {
			t.Fatalf("refused, yet appended %d messages", len(b.Msgs)-1)
		}
		total := 0
		for _, m := range b.Msgs[1:] {
			total += len(m.Value)
			if len(m.Value) > 0 && !bytes.Contains(p, m.Value) {
				t.Fatalf("message %q is not from the payload", m.Value)
			}
		}
		if total > len(p) {
			t.Fatalf("%d value bytes from a %d-byte payload", total, len(p))
		}
		if ok && len(p) >= 4 && uint32(len(b.Msgs)-1) != binary.LittleEndian.Uint32(p) {
			t.Fatalf("accepted %d messages of a record that says %d", len(b.Msgs)-1, binary.LittleEndian.Uint32(p))
		}
	})
}
