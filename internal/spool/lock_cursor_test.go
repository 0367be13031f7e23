package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A second spool on the same directory (a second collector given the same
// -collector.spoolDir) is refused while the first is open, and allowed after Close.
func TestSpoolDirIsLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Config{Dir: dir}); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second open of %s: %v, want ErrLocked naming the dir", dir, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Config{Dir: dir})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	s.Close()
}

// Read waits for a record instead of polling, appends into the caller's batch, and returns
// ErrStopped once reads are stopped.
func TestSpoolReadBlocksUntilAppend(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir(), SyncInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type result struct {
		msgs []string
		pos  Pos
		err  error
	}
	read := func() chan result {
		ch := make(chan result, 1)
		go func() {
			var b Batch
			pos, err := s.Read(&b, 10)
			var msgs []string
			for _, m := range b.Msgs {
				msgs = append(msgs, string(m.Key)+" "+string(m.Value))
			}
			ch <- result{msgs, pos, err}
		}()
		return ch
	}
	got := read()
	select {
	case r := <-got:
		t.Fatalf("Read returned from an empty spool: %+v", r)
	case <-time.After(50 * time.Millisecond): // a negative check, not synchronization
	}
	end, err := s.Append([]byte("visitor"), []byte("ab"), []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("Read did not wake up after Append")
	}
	if r.err != nil || strings.Join(r.msgs, ",") != "visitor a,visitor b" {
		t.Fatalf("read %q, %v", r.msgs, r.err)
	}
	if !r.pos.Reached(end) || !end.Reached(r.pos) {
		t.Fatalf("read up to %+v, the record ends at %+v", r.pos, end)
	}
	if s.Committed().Reached(end) {
		t.Fatal("committed before Commit")
	}
	s.Commit(r.pos)
	if !s.Committed().Reached(end) {
		t.Fatal("Commit did not pass the record")
	}

	// A Read can append to what an earlier one left in the batch.
	var b Batch
	for i := 0; i < 3; i++ {
		if _, err := s.Append([]byte("k"), []byte(fmt.Sprint(i)), []int{1}); err != nil {
			t.Fatal(err)
		}
		pos, err := s.Read(&b, 1)
		if err != nil {
			t.Fatal(err)
		}
		s.Commit(pos)
	}
	if len(b.Msgs) != 3 || string(b.Msgs[0].Value) != "0" || string(b.Msgs[2].Value) != "2" {
		t.Fatalf("batch %q", b.Msgs)
	}

	got = read() // blocks: everything is committed
	s.StopReads()
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("Read did not return after StopReads")
	}
	if !errors.Is(r.err, ErrStopped) || len(r.msgs) != 0 {
		t.Fatalf("after StopReads: %+v", r)
	}
	if _, err := s.Read(&b, 1); !errors.Is(err, ErrStopped) {
		t.Fatalf("Read after StopReads: %v", err)
	}
}

// The key is written once per record, not once per message.
func TestSpoolStoresKeyOncePerRecord(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, SyncInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("visitor-0123456789")
	if _, err := s.Append(key, []byte("aaabbbccc"), []int{3, 6, 9}); err != nil {
		t.Fatal(err)
	}
	want := spoolHeaderLen + 4 + 2 + len(key) + 3*(4+3)
	if s.Pending() != int64(want) {
		t.Fatalf("record takes %d bytes, want %d (key once)", s.Pending(), want)
	}
	if got := drain(t, s, 10); strings.Join(got, ",") != "visitor-0123456789 aaa,visitor-0123456789 bbb,visitor-0123456789 ccc" {
		t.Fatalf("read back %q", got)
	}
	s.Close()
}

// A spool left by an older collector (a key per message, no flag) still ships.
func TestSpoolReadsEarlierRecordLayout(t *testing.T) {
	dir := t.TempDir()
	var payload []byte
	payload = binary.LittleEndian.AppendUint32(payload, 2)
	for _, m := range []struct{ k, v string }{{"k1", `{"a":1}`}, {"k2", `{"b":2}`}} {
		payload = binary.LittleEndian.AppendUint16(payload, uint16(len(m.k)))
		payload = append(payload, m.k...)
		payload = binary.LittleEndian.AppendUint32(payload, uint32(len(m.v)))
		payload = append(payload, m.v...)
	}
	rec := binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))
	rec = binary.LittleEndian.AppendUint32(rec, crc32.Checksum(payload, crcTable))
	rec = append(rec, payload...)
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%020d%s", 1, spoolExt)), rec, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := drain(t, s, 10); strings.Join(got, ",") != `k1 {"a":1},k2 {"b":2}` || s.Corrupt() != 0 {
		t.Fatalf("read %q, corrupt %d", got, s.Corrupt())
	}
}

// The cursor file is written on its interval, not per Commit; a crash then re-sends what
// was committed since (duplicates), and a torn or damaged cursor file replays from the
// oldest segment: duplicates again, never a lost record.
func TestSpoolCursorCrashAndTornCursor(t *testing.T) {
	// run appends 20 messages, ships 6 and writes the cursor, ships 4 more without writing
	// it, "crashes" (no Close), lets damage change the cursor file, and reopens.
	run := func(t *testing.T, damage func(good []byte) []byte) []string {
		dir := t.TempDir()
		cursor := filepath.Join(dir, "cursor")
		open := func() *Spool {
			t.Helper()
			s, err := Open(Config{Dir: dir, SyncInterval: time.Hour, CursorInterval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		s := open()
		appendN(t, s, 0, 10)
		var b Batch
		pos, err := s.ReadNow(&b, 6)
		if err != nil || len(b.Msgs) != 6 {
			t.Fatalf("read %d, %v", len(b.Msgs), err)
		}
		s.Commit(pos)
		if _, err := os.Stat(cursor); !os.IsNotExist(err) {
			t.Fatalf("cursor file written on Commit (interval 1h): %v", err)
		}
		if err := s.flushCursor(); err != nil {
			t.Fatal(err)
		}
		b.Reset()
		pos, _ = s.ReadNow(&b, 4)
		s.Commit(pos)  // committed, not yet in the cursor file
		s.lock.Close() // the crashed process's lock goes with it
		good, err := os.ReadFile(cursor)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cursor, damage(good), 0o644); err != nil {
			t.Fatal(err)
		}
		s = open()
		defer s.Close()
		got := drain(t, s, 100)
		if s.Corrupt() != 0 {
			t.Fatalf("%d corrupt records", s.Corrupt())
		}
		return got
	}
	got := run(t, func(good []byte) []byte { return good })
	if len(got) != 14 || !strings.Contains(got[0], `"n":3,"m":1`) {
		t.Fatalf("after a crash: %d messages, first %q; want the 14 after the written cursor", len(got), got[:min(len(got), 1)])
	}
	for name, damage := range map[string]func([]byte) []byte{
		"truncated":     func(g []byte) []byte { return g[:len(g)-4] },
		"empty":         func([]byte) []byte { return nil },
		"digit changed": func(g []byte) []byte { return []byte(strings.Replace(string(g), " ", "9 ", 1)) },
		"garbage":       func([]byte) []byte { return []byte("\x00\x00\x00\x00") },
		"past segment":  func([]byte) []byte { return []byte(fmt.Sprintf("1 99999 %s\n", cursorSum("1", "99999"))) },
		"torn old form": func([]byte) []byte { return []byte("1 5") },
	} {
		t.Run(name, func(t *testing.T) {
			got := run(t, damage)
			if len(got) != 20 || !strings.Contains(got[0], `"n":0,"m":1`) {
				t.Fatalf("replayed %d messages, want all 20 from the start", len(got))
			}
		})
	}
}

// The spool holds events (page URLs, partner ids) until Kafka has them: its directory and
// files are the collector's own, not readable by other users of the machine.
func TestSpoolFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	s, err := Open(Config{Dir: dir, SyncInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append([]byte("k"), []byte(`{"e":1}`), []int{7}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: readable by others", p, fi.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
