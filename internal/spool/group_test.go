package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Every Append that returns has its record in the segment file, ending where the returned
// position says, however many appenders share a group write: the acknowledgement contract.
func TestGroupAppendersAreInTheFileOnReturn(t *testing.T) {
	for _, every := range []time.Duration{0, time.Hour} {
		t.Run("sync="+every.String(), func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(Config{Dir: dir, SyncInterval: every, SegmentBytes: 8 << 10})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// A slow disk: each group write takes a millisecond more, so an appender woken
			// before its group is written would look at the file before the write lands.
			s.hookWrite = func() { time.Sleep(time.Millisecond) }
			const writers, each = 16, 40
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						v := fmt.Sprintf(`{"w":%d,"i":%d}`, w, i)
						pos, err := s.Append([]byte("k"), []byte(v), []int{len(v)})
						if err != nil {
							t.Error(err)
							return
						}
						// The record's value is its last bytes: read them back from the file.
						b, err := os.ReadFile(s.segPath(pos.id))
						if err != nil || int64(len(b)) < pos.off || !bytes.HasSuffix(b[:pos.off], []byte(v)) {
							t.Errorf("%s acknowledged at %+v but not in the file (%d bytes, %v)", v, pos, len(b), err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if got := drain(t, s, 1000); len(got) != writers*each {
				t.Fatalf("read %d records, want %d", len(got), writers*each)
			}
			if w := s.Writes(); w >= writers*each {
				t.Errorf("%d writes for %d concurrent appends: no group shared a write", w, writers*each)
			}
		})
	}
}

// A write that fails fails every Append of its group with the reason, and none of their
// records can be read back; the group before it is unaffected.
func TestFailedGroupWriteFailsEveryAppender(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, SyncInterval: time.Hour, SegmentBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Segment 1 takes the first group; the second group goes to segment 2, which is /dev/full
	// (writes fail with ENOSPC, as on a full disk). Made after Open, which would skip it.
	if err := os.Symlink("/dev/full", filepath.Join(dir, "00000000000000000002.seg")); err != nil {
		t.Fatal(err)
	}
	entered, release := holdFirstWrite(s)
	first := make(chan error, 1)
	go func() {
		_, err := s.Append([]byte("k"), []byte(`{"first":1}`), []int{11})
		first <- err
	}()
	<-entered
	const followers = 8
	errs := make(chan error, followers)
	var returned atomic.Int32
	for i := range followers {
		go func() {
			v := fmt.Sprintf(`{"i":%d}`, i)
			_, err := s.Append([]byte("k"), []byte(v), []int{len(v)})
			returned.Add(1)
			errs <- err
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.queuedRecords() != followers+1 {
		if time.Now().After(deadline) {
			t.Fatal("followers did not queue")
		}
		time.Sleep(time.Millisecond)
	}
	if n := returned.Load(); n != 0 {
		t.Fatalf("%d appends returned before their group was written", n)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first group: %v", err)
	}
	for range followers {
		err := <-errs
		if err == nil || !strings.Contains(err.Error(), "cannot write spool segment") || !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("append of the failed group: %v, want the write's reason (no space)", err)
		}
	}
	if w := s.Writes(); w != 2 {
		t.Errorf("%d writes, want 2 (the first group, then one for all the followers)", w)
	}
	if got := drain(t, s, 100); len(got) != 1 || got[0] != `k {"first":1}` {
		t.Fatalf("readable after the failed write: %q, want only the first group's record", got)
	}
}

// The writer holds a group open only while records keep arriving: a lone Append on an idle
// spool returns at once even with a very long GroupWait.
func TestLoneAppendDoesNotWaitForAGroup(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir(), SyncInterval: time.Hour, GroupWait: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for i := range 20 {
			if _, err := s.Append([]byte("k"), []byte(`{}`), []int{2}); err != nil {
				done <- fmt.Errorf("append %d: %w", i, err)
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		// No Close: it would wait for the stuck group too.
		t.Fatal("lone appends waited for a group that never came (GroupWait 1h)")
	}
	s.Close()
}

// The in-memory tail copies written records only while the shipper reads from it: once the
// shipper is behind the tail's start (it reads the file anyway), nothing is copied until it
// has caught up with the writes.
func TestSpoolTailOnlyWhileShipperReadsIt(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir(), SyncInterval: time.Hour, MaxBytes: 1 << 30, SegmentBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	big := bytes.Repeat([]byte("x"), 1<<20)
	for range maxSpoolTail>>20 + 1 { // more than the tail holds, none read
		if _, err := s.Append([]byte("k"), big, []int{len(big)}); err != nil {
			t.Fatal(err)
		}
	}
	appendN(t, s, 0, 3)
	if n := s.tailLen(); n != 0 {
		t.Fatalf("the tail holds %d bytes the shipper, reading the file %d MiB behind, will not read from it", n, maxSpoolTail>>20)
	}
	if got := drain(t, s, 1000); len(got) != maxSpoolTail>>20+1+6 {
		t.Fatalf("read %d messages", len(got))
	}
	appendN(t, s, 3, 1)
	if s.tailLen() == 0 {
		t.Fatal("the shipper caught up but the next record is not kept in memory")
	}
	if got := drain(t, s, 1000); len(got) != 2 || !strings.Contains(got[0], `"n":3,"m":1`) {
		t.Fatalf("after catching up: %q", got)
	}
}
