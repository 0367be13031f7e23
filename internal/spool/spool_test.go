package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func appendN(t *testing.T, s *Spool, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		v1, v2 := fmt.Sprintf(`{"n":%d,"m":1}`, i), fmt.Sprintf(`{"n":%d,"m":2}`, i)
		if _, err := s.Append([]byte(fmt.Sprintf("k%d", i%3)), []byte(v1+v2), []int{len(v1), len(v1) + len(v2)}); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

// drain reads and commits everything, returning the values in order.
func drain(t *testing.T, s *Spool, batch int) []string {
	t.Helper()
	var out []string
	var b Batch
	for {
		b.Reset()
		pos, err := s.ReadNow(&b, batch)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Msgs) == 0 {
			return out
		}
		for _, m := range b.Msgs {
			out = append(out, string(m.Key)+" "+string(m.Value))
		}
		s.Commit(pos)
	}
}

func TestSpoolOrderRotationAndRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, SegmentBytes: 300})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Empty() {
		t.Fatal("new spool not empty")
	}
	appendN(t, s, 0, 20)
	if s.Segments() < 3 {
		t.Fatalf("segments %d, want rotation at 300 bytes", s.Segments())
	}
	// Read part, commit, then "crash" (no Close) and reopen: replay continues after the cursor.
	var b Batch
	pos, err := s.Read(&b, 6)
	if err != nil || len(b.Msgs) != 6 {
		t.Fatalf("read %d %v", len(b.Msgs), err)
	}
	s.Commit(pos)
	if err := s.flushCursor(); err != nil { // as the cursor loop would within CursorInterval
		t.Fatal(err)
	}
	s.lock.Close() // the "crashed" process's lock goes with it
	s2, err := Open(Config{Dir: dir, SegmentBytes: 300})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s2, 20, 5)
	got := drain(t, s2, 4)
	if len(got) != (25-3)*2 {
		t.Fatalf("replayed %d messages, want %d", len(got), 44)
	}
	for i, g := range got {
		n := 3 + i/2
		want := fmt.Sprintf(`k%d {"n":%d,"m":%d}`, n%3, n, i%2+1)
		if g != want {
			t.Fatalf("message %d = %s, want %s", i, g, want)
		}
	}
	if !s2.Empty() || s2.Pending() != 0 {
		t.Fatalf("after drain: empty %v pending %d", s2.Empty(), s2.Pending())
	}
	if s2.Segments() > 1 {
		t.Fatalf("replayed segments not removed: %d left", s2.Segments())
	}
}

func TestSpoolFull(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir(), MaxBytes: 200})
	if err != nil {
		t.Fatal(err)
	}
	var full error
	for i := 0; i < 10 && full == nil; i++ {
		_, full = s.Append([]byte("k"), []byte(`{"x":"0123456789"}`), []int{18})
	}
	if !errors.Is(full, ErrFull) || !s.Full() && s.Pending() < 170 {
		t.Fatalf("err %v pending %d", full, s.Pending())
	}
	drain(t, s, 100)
	if _, err := s.Append([]byte("k"), []byte(`{}`), []int{2}); err != nil {
		t.Fatalf("after drain: %v", err)
	}
}

// A record larger than the whole spool is refused, but does not make the spool full: no
// replay would ever clear that, and smaller records still fit.
func TestSpoolRecordOverLimitDoesNotFill(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir(), MaxBytes: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	big := make([]byte, 300)
	if _, err := s.Append([]byte("k"), big, []int{len(big)}); !errors.Is(err, ErrFull) {
		t.Fatalf("record over the limit: %v, want ErrFull", err)
	}
	if s.Full() {
		t.Fatal("Full after refusing a record larger than the spool, with nothing pending")
	}
	if _, err := s.Append([]byte("k"), []byte(`{}`), []int{2}); err != nil {
		t.Fatalf("small record after the refusal: %v", err)
	}
}

func TestSpoolCorruptRecordEndsSegment(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, SegmentBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 0, 3)
	s.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	b, _ := os.ReadFile(segs[0])
	b[len(b)-3] ^= 0xff // corrupt the last record
	os.WriteFile(segs[0], b, 0o644)
	// And a torn record after it.
	f, _ := os.OpenFile(segs[0], os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{40, 0, 0})
	f.Close()

	s2, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s2, 10, 1) // goes to a new segment
	got := drain(t, s2, 100)
	if len(got) != 6 || s2.Corrupt() != 1 {
		t.Fatalf("got %d messages (%v), corrupt %d; want the 2 good records + the new one and 1 corrupt", len(got), got, s2.Corrupt())
	}
	if got[4] != `k1 {"n":10,"m":1}` {
		t.Fatalf("new record %s", got[4])
	}
}

// Concurrent appends share fsyncs and lose nothing; each writer's records keep its order.
func TestSpoolConcurrentAppends(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir(), SegmentBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				v := fmt.Sprintf(`{"w":%d,"i":%d}`, w, i)
				if _, err := s.Append([]byte(fmt.Sprint(w)), []byte(v), []int{len(v)}); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	got := drain(t, s, 64)
	if len(got) != writers*each {
		t.Fatalf("read %d records, want %d", len(got), writers*each)
	}
	next := map[string]int{}
	for _, g := range got {
		var w, i int
		fmt.Sscanf(g[strings.IndexByte(g, ' ')+1:], `{"w":%d,"i":%d}`, &w, &i)
		if k := fmt.Sprint(w); i != next[k] {
			t.Fatalf("writer %d: record %d after %d", w, i, next[k]-1)
		}
		next[fmt.Sprint(w)]++
	}
	s.Close()
}

// BenchmarkSpoolAppendParallel measures durable appends/s while Kafka is away, many
// requests at once (group commit).
func BenchmarkSpoolAppendParallel(b *testing.B) {
	for _, sync := range []time.Duration{0, 100 * time.Millisecond} {
		b.Run("sync="+sync.String(), func(b *testing.B) { benchAppendParallel(b, sync) })
	}
}

func benchAppendParallel(b *testing.B, sync time.Duration) {
	s, err := Open(Config{Dir: b.TempDir(), MaxBytes: 1 << 40, SyncInterval: sync})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	msg := bytes.Repeat([]byte("x"), 1000)
	b.SetParallelism(32) // 32 goroutines per CPU
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Append([]byte("visitor"), msg, []int{500, 1000}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	s.mu.Lock()
	b.ReportMetric(float64(s.writes)/float64(b.N), "writes/append")
	s.mu.Unlock()
}

// holdFirstWrite makes s's first write wait, once it has begun (entered), until release is
// closed, so that the appends after it queue behind it; later writes go through.
func holdFirstWrite(s *Spool) (entered <-chan struct{}, release chan struct{}) {
	e := make(chan struct{}, 1)
	release = make(chan struct{})
	s.hookWrite = func() {
		select {
		case e <- struct{}{}:
			<-release
		default:
		}
	}
	return e, release
}

// Appends that arrive while a write is under way wait for it and then share one write(2).
func TestSpoolGroupWrite(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir(), SyncInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	entered, release := holdFirstWrite(s)
	const followers = 10
	var wg sync.WaitGroup
	appendOne := func(i int) {
		defer wg.Done()
		v := fmt.Sprintf(`{"i":%d}`, i)
		if _, err := s.Append([]byte("k"), []byte(v), []int{len(v)}); err != nil {
			t.Error(err)
		}
	}
	wg.Add(1)
	go appendOne(0)
	<-entered
	for i := 1; i <= followers; i++ {
		wg.Add(1)
		go appendOne(i)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		queued := s.enq - s.resolved
		s.mu.Unlock()
		if queued > 0 && s.queuedRecords() == followers+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("followers did not queue")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if s.writes != 2 {
		t.Fatalf("%d writes for %d appends, want 2 (the held one, then one for all that queued)", s.writes, followers+1)
	}
	if got := drain(t, s, 100); len(got) != followers+1 {
		t.Fatalf("read %d records", len(got))
	}
	s.Close()
}

// queuedRecords counts records queued or being written (tests).
func (s *Spool) queuedRecords() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for b := s.queued; len(b) >= spoolHeaderLen; n++ {
		b = b[spoolHeaderLen+int(binary.LittleEndian.Uint32(b)&^keyOnce):]
	}
	if s.writing {
		n++ // the held record
	}
	return n
}

// With a SyncInterval, Append returns once written and a background fsync follows; Close
// removes a fully replayed segment so the next run starts empty.
func TestSpoolBackgroundSyncAndCleanClose(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, SyncInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 0, 5)
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.syncMu.Lock()
		synced := s.synced
		s.syncMu.Unlock()
		s.mu.Lock()
		written := s.written
		s.mu.Unlock()
		if written > 0 && synced == written {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("synced %d of %d bytes", synced, written)
		}
		time.Sleep(time.Millisecond)
	}
	if got := drain(t, s, 100); len(got) != 10 {
		t.Fatalf("read %d messages", len(got))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Empty() || s.Segments() != 0 {
		t.Fatalf("reopened spool: empty %v, %d segments", s.Empty(), s.Segments())
	}
	appendN(t, s, 5, 1)
	if got := drain(t, s, 100); len(got) != 2 || !strings.Contains(got[0], `"n":5`) {
		t.Fatalf("after reopen: %q", got)
	}
	s.Close()
}

// The shipper reads what was just written from memory, not from the segment file.
func TestSpoolReadsRecentRecordsFromMemory(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, SyncInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendN(t, s, 0, 3)
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+spoolExt))
	for _, p := range segs {
		os.Remove(p) // the open segment keeps taking writes; a file read would now fail
	}
	got := drain(t, s, 4) // 2 records (4 messages), then 1
	if len(got) != 6 || !strings.Contains(got[5], `"n":2,"m":2`) {
		t.Fatalf("read %q", got)
	}
	appendN(t, s, 3, 1)
	if got := drain(t, s, 100); len(got) != 2 || !strings.Contains(got[0], `"n":3,"m":1`) {
		t.Fatalf("after commit: %q", got)
	}
	if s.tailLen() != 0 {
		t.Fatalf("tail keeps %d shipped bytes", s.tailLen())
	}
}

func (s *Spool) tailLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tail)
}

// TestSpoolReadFromFileIsBoundedInBytes replays a segment file holding more than
// maxReadBytes and expects one Read to stop after about maxReadBytes, however many messages
// it was allowed, and the next Read to go on from there.
func TestSpoolReadFromFileIsBoundedInBytes(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, SegmentBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	v := bytes.Repeat([]byte("x"), 60<<10)
	const n = maxReadBytes/(60<<10) + 40 // beyond one read
	for i := range n {
		if _, err := s.Append([]byte(fmt.Sprintf("k%d", i)), v, []int{len(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Config{Dir: dir, SegmentBytes: 64 << 20}) // no tail in memory: the file is read
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	pos, err := s.ReadNow(&b, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, m := range b.Msgs {
		got += len(m.Value)
	}
	if got > maxReadBytes+len(v) || len(b.Msgs) >= n {
		t.Fatalf("one read took %d messages, %d bytes; want at most about %d bytes of the %d messages", len(b.Msgs), got, maxReadBytes, n)
	}
	first := len(b.Msgs)
	s.Commit(pos)
	if rest := drain(t, s, 1<<30); first+len(rest) != n {
		t.Fatalf("read %d then %d messages, want %d in all", first, len(rest), n)
	}
}
