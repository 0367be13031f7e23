// Package spool is a bounded write-ahead log of message records on local disk: the
// collector appends every request's events before answering it, and its shipper reads them
// back in order, sends them to Kafka and commits its position.
//
// Layout: append-only segment files (<id>.seg) and a cursor file. Record layout (little
// endian):
//
//	u32 flags|payload length | u32 CRC-32C of payload | payload
//	payload = u32 message count, u16 key length, key, then per message: u32 value length, value
//
// Every message of a record (one request's events) has the record's key (the visitor id),
// so it is stored once. A record whose length word lacks the keyOnce flag is in the earlier
// layout (a key per message) and is still read, so a spool left by an older collector ships.
//
// Appends are group-committed: Append encodes its record into an in-memory queue and waits;
// one writer goroutine takes everything queued and writes it to the active segment with a
// single write(2), then wakes each appender of that group with its record's outcome. Before
// it writes, the writer lets the goroutines that are ready to run append too, as long as new
// records keep arriving, for at most GroupWait and GroupBytes: an idle spool writes a lone
// record at once, a busy one writes many per syscall. While a group is being written the next
// one queues.
//
// What an acknowledgement means is unchanged by the grouping: Append returns only once its
// record is in the segment file (write(2) done), so the caller answers 2xx only then. A record
// in the page cache survives the collector being killed; fsync (for machine crashes) happens
// before Append returns when SyncInterval is 0, otherwise at most SyncInterval later, in the
// background. A write that fails fails every Append of its group with the reason, none of them
// acknowledged. A crash (kill -9) while a group is queued or being written loses only records
// whose Append had not returned, so nothing acknowledged; a group cut by the crash leaves a torn
// last record, which replay skips (counted), while the whole records before it in that group
// are shipped although their requests were not acknowledged: a client that retries them sends
// those events twice (duplicates, deduplicated downstream by event id), never loses them.
//
// Read blocks until a record is there and appends whole records into the caller's buffer; a
// torn or corrupt record ends its segment (counted). Commit moves the replay position in
// memory; the position is written to the cursor file (with a checksum, by rename) at most
// CursorInterval later and at Close. So a crash re-sends what was committed in the last
// CursorInterval (duplicates, which the ingest tolerates), never skips a record; a cursor file
// that is torn or fails its checksum is ignored, which replays the oldest segment again.
//
// The directory is locked (flock) while open: a second process on the same directory gets
// ErrLocked instead of appending to and replaying the same files.
package spool

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrFull is returned by Append when the spool is at its byte limit.
var ErrFull = errors.New("spool is full")

// ErrLocked is returned by Open when another process has the directory open.
var ErrLocked = errors.New("spool dir is locked by another process")

// ErrStopped is returned by Read once StopReads or Close was called.
var ErrStopped = errors.New("spool reads stopped")

const (
	spoolHeaderLen = 8
	spoolExt       = ".seg"
	// maxSpoolRecord bounds one record (a request's events); larger headers mean corruption.
	maxSpoolRecord = 64 << 20
	// keyOnce flags a record's length word: the key is stored once for all its messages.
	keyOnce = 1 << 31
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Config configures a Spool. Zero values take the defaults in the comments.
type Config struct {
	Dir          string // required
	MaxBytes     int64  // bytes not yet replayed before Append refuses; default 1 GiB
	SegmentBytes int64  // a segment is sealed once this big; default 16 MiB
	// SyncInterval: 0 = Append returns once its record is fsynced (group commit); > 0 =
	// Append returns once its record is written, and written records are fsynced at most
	// this long afterwards, so a machine crash (not a process kill) loses at most that much.
	SyncInterval time.Duration
	// CursorInterval is how often a committed position is written to the cursor file;
	// default 1s. A crash re-sends what was committed since (duplicates, never losses).
	CursorInterval time.Duration
	// GroupWait bounds how long the writer holds a group open for more records while they
	// keep arriving (it never waits when none arrive); default 500us; negative = write what is
	// queued as soon as the writer runs.
	GroupWait time.Duration
	// GroupBytes: a group this big is written without waiting for more; default 512 KiB.
	GroupBytes int
}

// Spool is a bounded on-disk FIFO of message records. Safe for concurrent use.
type Spool struct {
	cfg Config

	mu         sync.Mutex
	segs       []uint64 // ids of segment files, oldest first; the last may be active
	active     *os.File // open for append, or nil (next Append opens segs' max+1)
	activeID   uint64
	activeSize int64
	readID     uint64 // replay position
	readOff    int64
	pending    int64 // bytes not yet replayed
	corrupt    int64 // records found corrupt during replay
	refused    bool  // the last Append was refused for space; cleared by replay progress
	written    int64 // bytes ever written to segment files by this process (fsync position)
	broken     error // a failed fsync: refuse further appends

	// Group write: appenders encode records into queued and wait on their ticket; the writer
	// goroutine (writeLoop) takes the queue and writes it with one write(2). Positions enq
	// and resolved count queued bytes ever, so Close knows when every record is done.
	queued     []byte
	spare      []byte
	writing    bool // the writer holds a group (lingering or writing)
	writerIdle bool // the writer waits for kick; the next appender sends it
	kick       chan struct{}
	stopWriter chan struct{}
	writerDone chan struct{}
	enq        int64
	resolved   int64
	tickets    []*ticket  // appenders whose records are queued, in order
	group      []*ticket  // the writer's: appenders of the group being written
	ticketsP   sync.Pool  // of *ticket, so Append does not allocate
	wrote      *sync.Cond // on mu: resolved advanced (Close waits on it)
	writes     int64      // write(2) calls for records
	hookWrite  func()     // tests: runs before each group write, without the lock

	readable *sync.Cond // on mu: a record was written, or reads stopped
	stopped  bool       // StopReads or Close: Read returns ErrStopped

	lock *os.File // holds the directory's flock until Close

	stopSync chan struct{}
	syncDone chan struct{}
	sealing  sync.WaitGroup // background fsyncs of sealed segments

	// tail is a copy of the active segment's bytes [tailOff, activeSize), so the shipper
	// reads what was just written from memory instead of the file; bounded by maxSpoolTail.
	tail    []byte
	tailID  uint64
	tailOff int64

	cursorMu    sync.Mutex // orders cursor file writes (flushCursor)
	cursorDirty bool       // the replay position moved since the cursor file was written
	stopCursor  chan struct{}
	cursorDone  chan struct{}
	dirDirty    bool // a segment was created and the directory not yet fsynced (SyncInterval > 0)

	syncMu sync.Mutex // held by the one fsyncing for a group
	synced int64      // bytes of written known to be on disk
	closed bool
}

// ticket is one appender's record in the group write: the writer fills in where it
// landed (or why it failed) and then wakes the appender through ready.
type ticket struct {
	to      int64 // the record's end in queued bytes ever (enq)
	pos     Pos
	written int64 // bytes written to segment files once the record was
	err     error
	ready   chan struct{} // cap 1; one send per use
}

// Open opens (or creates) the spool directory and finds where replay stopped.
func Open(cfg Config) (*Spool, error) {
	if cfg.Dir == "" {
		return nil, errors.New("spool dir is required")
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 30
	}
	if cfg.SegmentBytes <= 0 {
		cfg.SegmentBytes = 16 << 20
	}
	if cfg.CursorInterval <= 0 {
		cfg.CursorInterval = time.Second
	}
	if cfg.GroupWait == 0 {
		cfg.GroupWait = 500 * time.Microsecond
	}
	if cfg.GroupBytes <= 0 {
		cfg.GroupBytes = 512 << 10
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create spool dir: %w", err)
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	s := &Spool{cfg: cfg, lock: lock}
	s.wrote = sync.NewCond(&s.mu)
	s.readable = sync.NewCond(&s.mu)
	s.ticketsP.New = func() any { return &ticket{ready: make(chan struct{}, 1)} }
	entries, err := os.ReadDir(cfg.Dir)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("cannot list spool dir: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, spoolExt) {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSuffix(name, spoolExt), 10, 64)
		if err != nil {
			continue
		}
		s.segs = append(s.segs, id)
	}
	sort.Slice(s.segs, func(i, j int) bool { return s.segs[i] < s.segs[j] })
	s.readID, s.readOff = s.loadCursor()
	// Drop segments the cursor has passed; start replay at the first remaining one.
	for len(s.segs) > 0 && s.segs[0] < s.readID {
		os.Remove(s.segPath(s.segs[0]))
		s.segs = s.segs[1:]
	}
	if len(s.segs) > 0 && s.segs[0] != s.readID {
		s.readID, s.readOff = s.segs[0], 0
	}
	for _, id := range s.segs {
		fi, err := os.Stat(s.segPath(id))
		if err != nil {
			lock.Close()
			return nil, fmt.Errorf("cannot stat spool segment: %w", err)
		}
		if id == s.readID && s.readOff > fi.Size() {
			s.readOff = 0 // a cursor past its segment's end cannot be right: replay it whole
		}
		s.pending += fi.Size()
	}
	s.pending -= s.readOff
	if s.pending < 0 {
		s.pending = 0
	}
	// Never append to a segment from an earlier run: its tail may be torn.
	if len(s.segs) > 0 {
		s.activeID = s.segs[len(s.segs)-1] + 1
	} else {
		s.activeID = max(s.readID, 1)
		s.readID, s.readOff = s.activeID, 0
	}
	if cfg.SyncInterval > 0 {
		s.stopSync, s.syncDone = make(chan struct{}), make(chan struct{})
		go s.syncLoop()
	}
	s.stopCursor, s.cursorDone = make(chan struct{}), make(chan struct{})
	go s.cursorLoop()
	s.kick, s.stopWriter, s.writerDone = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	s.writerIdle = true
	go s.writeLoop()
	return s, nil
}

// lockDir takes an exclusive flock on dir/lock, held until the file is closed (or the
// process dies, so a killed collector never leaves a stale lock).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot create spool lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
		}
		return nil, fmt.Errorf("cannot lock spool dir %s: %w", dir, err)
	}
	return f, nil
}

// cursorLoop writes the replay position to the cursor file every CursorInterval when it
// moved, until Close (which writes the last one).
func (s *Spool) cursorLoop() {
	defer close(s.cursorDone)
	t := time.NewTicker(s.cfg.CursorInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopCursor:
			return
		case <-t.C:
		}
		s.flushCursor() // a failed write is retried next tick; until then a crash re-sends more
	}
}

// syncLoop fsyncs what was written, every SyncInterval, until Close.
func (s *Spool) syncLoop() {
	defer close(s.syncDone)
	t := time.NewTicker(s.cfg.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopSync:
			return
		case <-t.C:
		}
		s.mu.Lock()
		n, dirty := s.written, s.dirDirty
		s.dirDirty = false
		s.mu.Unlock()
		if dirty {
			syncDir(s.cfg.Dir) // best effort: a lost name only matters after a machine crash
		}
		s.syncTo(n) // a failure breaks the spool (see syncTo); nothing else to do here
	}
}

func (s *Spool) segPath(id uint64) string {
	return filepath.Join(s.cfg.Dir, fmt.Sprintf("%020d%s", id, spoolExt))
}

// loadCursor reads the replay position; a missing, torn or corrupt cursor file reads as
// the start (the oldest segment is replayed again: duplicates, never a skipped record).
func (s *Spool) loadCursor() (uint64, int64) {
	b, err := os.ReadFile(filepath.Join(s.cfg.Dir, "cursor"))
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(b))
	switch {
	case len(f) == 3 && f[2] == cursorSum(f[0], f[1]):
	case len(f) == 2 && strings.HasSuffix(string(b), "\n"): // written by an older collector
	default:
		return 0, 0
	}
	id, err1 := strconv.ParseUint(f[0], 10, 64)
	off, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || off < 0 {
		return 0, 0
	}
	return id, off
}

// cursorSum is the checksum written after the position, so a damaged file is told apart.
func cursorSum(id, off string) string {
	return strconv.FormatUint(uint64(crc32.Checksum([]byte(id+" "+off), crcTable)), 16)
}

// flushCursor writes the replay position if it moved, without holding mu, so file system
// stalls never hold up appends. cursorMu orders the writers; each writes the newest position.
func (s *Spool) flushCursor() error {
	s.cursorMu.Lock()
	defer s.cursorMu.Unlock()
	s.mu.Lock()
	id, off, dirty := s.readID, s.readOff, s.cursorDirty
	s.cursorDirty = false
	s.mu.Unlock()
	if !dirty {
		return nil
	}
	if err := writeCursor(s.cfg.Dir, id, off); err != nil {
		s.mu.Lock()
		s.cursorDirty = true
		s.mu.Unlock()
		return err
	}
	return nil
}

func writeCursor(dir string, id uint64, off int64) error {
	p := filepath.Join(dir, "cursor")
	tmp := p + ".tmp"
	ids, offs := strconv.FormatUint(id, 10), strconv.FormatInt(off, 10)
	if err := os.WriteFile(tmp, []byte(ids+" "+offs+" "+cursorSum(ids, offs)+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// Append adds one record holding the messages msgs[ends[i-1]:ends[i]], all with key. It
// returns once the record is written (and, with SyncInterval 0, fsynced), with the position
// just after it: once a Commit reaches that position, the record has been shipped.
// Concurrent appends share writes and fsyncs (group commit). It returns ErrFull when the
// record would take the spool over MaxBytes.
func (s *Spool) Append(key, msgs []byte, ends []int) (Pos, error) {
	pos, written, err := s.write(key, msgs, ends)
	if err != nil || s.cfg.SyncInterval > 0 {
		return pos, err
	}
	return pos, s.syncTo(written)
}

// syncTo returns once the first n bytes ever written are on disk. One caller fsyncs for all
// who wait behind it.
func (s *Spool) syncTo(n int64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.synced >= n {
		return nil
	}
	s.mu.Lock()
	f, upTo, broken := s.active, s.written, s.broken
	s.mu.Unlock()
	if broken != nil {
		return broken
	}
	if f != nil {
		// A segment sealed meanwhile was fsynced before it was closed (sealActive).
		if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			err = fmt.Errorf("spool fsync failed; restart the collector after checking the disk: %w", err)
			s.mu.Lock()
			if s.broken == nil {
				s.broken = err
			}
			s.mu.Unlock()
			return err
		}
	}
	s.mu.Lock()
	broken = s.broken
	s.mu.Unlock()
	if broken != nil {
		return broken
	}
	s.synced = upTo
	return nil
}

// write queues one record and returns once it is in a segment file (not yet fsynced), with
// its end position and the bytes written to segment files by then. The writer goroutine
// writes it, with whatever else is queued, and wakes this appender.
func (s *Spool) write(key, msgs []byte, ends []int) (Pos, int64, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Pos{}, 0, errors.New("spool is closed")
	}
	if s.broken != nil {
		err := s.broken
		s.mu.Unlock()
		return Pos{}, 0, err
	}
	size := recordSize(key, ends)
	if s.pending+int64(size) > s.cfg.MaxBytes {
		s.refused = true
		s.mu.Unlock()
		return Pos{}, 0, ErrFull
	}
	s.refused = false
	s.queued = appendRecord(s.queued, key, msgs, ends)
	s.pending += int64(size)
	s.enq += int64(size)
	t := s.ticketsP.Get().(*ticket)
	t.to, t.pos, t.written, t.err = s.enq, Pos{}, 0, nil
	s.tickets = append(s.tickets, t)
	if s.writerIdle {
		s.writerIdle = false
		s.kick <- struct{}{} // cap 1, and only sent while the writer waits: never blocks
	}
	s.mu.Unlock()
	<-t.ready
	pos, written, err := t.pos, t.written, t.err
	s.ticketsP.Put(t)
	if err != nil {
		return Pos{}, 0, err
	}
	return pos, written, nil
}

// recordSize is the bytes a record takes in a segment.
func recordSize(key []byte, ends []int) int {
	n := 0
	if len(ends) > 0 {
		n = ends[len(ends)-1]
	}
	return spoolHeaderLen + 4 + 2 + len(key) + 4*len(ends) + n
}

// appendRecord encodes one record (header, count, key, messages) onto b.
func appendRecord(b, key, msgs []byte, ends []int) []byte {
	h := len(b)
	b = append(b, make([]byte, spoolHeaderLen)...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ends)))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(key)))
	b = append(b, key...)
	start := 0
	for _, end := range ends {
		b = binary.LittleEndian.AppendUint32(b, uint32(end-start))
		b = append(b, msgs[start:end]...)
		start = end
	}
	payload := b[h+spoolHeaderLen:]
	binary.LittleEndian.PutUint32(b[h:], uint32(len(payload))|keyOnce)
	binary.LittleEndian.PutUint32(b[h+4:], crc32.Checksum(payload, crcTable))
	return b
}

// writeLoop is the writer: it waits for a record, lets the group grow (linger) and writes
// it, until Close stops it (after every queued record was resolved).
func (s *Spool) writeLoop() {
	defer close(s.writerDone)
	for {
		select {
		case <-s.stopWriter:
			return
		case <-s.kick:
		}
		s.mu.Lock()
		for len(s.queued) > 0 {
			s.writing = true
			s.lingerLocked()
			s.writeQueued()
			s.writing = false
		}
		s.writerIdle = true
		s.mu.Unlock()
	}
}

// lingerLocked holds the group open while records keep arriving: it yields the processor so
// that goroutines ready to run (requests about to append) queue theirs, and stops as soon as a
// yield brought no record, the group reached GroupBytes or GroupWait has passed. Called and
// returns with mu held.
func (s *Spool) lingerLocked() {
	if s.cfg.GroupWait < 0 {
		return
	}
	var start time.Time
	for len(s.queued) < s.cfg.GroupBytes {
		before := s.enq
		s.mu.Unlock()
		if start.IsZero() {
			start = time.Now()
		}
		runtime.Gosched()
		s.mu.Lock()
		if s.enq == before || time.Since(start) >= s.cfg.GroupWait {
			return
		}
	}
}

// writeQueued writes everything queued with one write(2) and wakes the group's appenders;
// called by the writer with mu held, it releases mu during the write so the next group can
// queue meanwhile.
func (s *Spool) writeQueued() {
	buf := s.queued
	s.queued = s.spare[:0]
	s.group, s.tickets = s.tickets, s.group[:0]
	err := s.prepareSegment(int64(len(buf)))
	from := s.resolved
	var id uint64
	var off int64
	var n int
	if err == nil {
		f := s.active
		id, off = s.activeID, s.activeSize
		hook := s.hookWrite
		s.mu.Unlock()
		if hook != nil {
			hook()
		}
		n, err = f.Write(buf)
		s.mu.Lock()
		s.writes++
		if err == nil {
			s.keepTail(buf)
		}
		s.activeSize += int64(n)
		s.written += int64(n)
		if err != nil {
			// A partial write leaves a torn record: seal this segment so replay stops
			// there and later records go to a fresh one.
			err = fmt.Errorf("cannot write spool segment: %w", err)
			s.sealActive()
		}
	}
	if err != nil {
		s.pending -= int64(len(buf) - n)
	}
	s.resolved += int64(len(buf))
	// Tell the appenders of these records where they landed, or why not: a failed write
	// fails the whole group, so nothing is acknowledged that might not be in the file.
	for k, t := range s.group {
		t.pos, t.written, t.err = Pos{id, off + (t.to - from)}, s.written, err
		t.ready <- struct{}{} // cap 1: never blocks; t is the appender's again after this
		s.group[k] = nil
	}
	if cap(buf) <= 1<<20 {
		s.spare = buf[:0] // keep one modest buffer; do not pin a huge one
	} else {
		s.spare = nil
	}
	s.wrote.Broadcast()
	if n > 0 {
		s.readable.Broadcast()
	}
}

// maxSpoolTail bounds the in-memory copy of recently written records.
const maxSpoolTail = 8 << 20

// keepTail adds buf, just written at activeSize of the active segment, to the tail. The copy
// only pays while the shipper reads from the tail, that is while its committed position is in
// the tail; once the shipper is behind the tail's start (the tail was restarted ahead of it,
// or it fell behind a new segment) it reads the file anyway, so nothing is copied until it
// has caught up with the writes.
func (s *Spool) keepTail(buf []byte) {
	end := s.tailOff + int64(len(s.tail))
	contiguous := s.tailID == s.activeID && end == s.activeSize
	shipperIn := s.readID == s.activeID && s.readOff >= s.tailOff
	if contiguous && shipperIn && len(s.tail)+len(buf) <= maxSpoolTail {
		s.tail = append(s.tail, buf...)
		return
	}
	// Restart the tail after buf; start it with buf if the shipper reads that next.
	s.tailID, s.tailOff, s.tail = s.activeID, s.activeSize+int64(len(buf)), s.tail[:0]
	if s.readID == s.activeID && s.readOff == s.activeSize && len(buf) <= maxSpoolTail {
		s.tailOff = s.activeSize
		s.tail = append(s.tail, buf...)
	}
}

// readTailLocked appends whole records at off from the tail to dst, or ok=false when the
// tail does not hold off.
func (s *Spool) readTailLocked(dst *Batch, id uint64, off int64, maxMessages int) (end int64, ok bool) {
	if id != s.tailID || off < s.tailOff || off >= s.tailOff+int64(len(s.tail)) {
		return off, false
	}
	b := s.tail[off-s.tailOff:]
	// Take whole records, at most about 1 MiB per read, so appends never wait long behind
	// the copy (the tail changes once mu is released).
	n, count := 0, 0
	for n+spoolHeaderLen <= len(b) && count < maxMessages && n < 1<<20 {
		l := int(binary.LittleEndian.Uint32(b[n:]) &^ keyOnce)
		if n+spoolHeaderLen+l > len(b) || l < 4 {
			break
		}
		count += int(binary.LittleEndian.Uint32(b[n+spoolHeaderLen:]))
		n += spoolHeaderLen + l
	}
	if n == 0 {
		return off, false
	}
	mark := dst.mark()
	for p := 0; p < n; {
		h := binary.LittleEndian.Uint32(b[p:])
		l := int(h &^ keyOnce)
		if !dst.addRecord(b[p+spoolHeaderLen:p+spoolHeaderLen+l], h&keyOnce != 0) {
			dst.undo(mark)
			return off, false // cannot happen for records this process wrote; use the file
		}
		p += spoolHeaderLen + l
	}
	return off + int64(n), true
}

// trimTailLocked drops tail bytes before off in segment id (shipped).
func (s *Spool) trimTailLocked(id uint64, off int64) {
	if id != s.tailID || off <= s.tailOff {
		return
	}
	k := min(off-s.tailOff, int64(len(s.tail)))
	rest := copy(s.tail, s.tail[k:])
	s.tail = s.tail[:rest]
	s.tailOff += k
}

// prepareSegment makes sure an active segment can take n more bytes (rotating a full one).
func (s *Spool) prepareSegment(n int64) error {
	if s.broken != nil {
		return s.broken
	}
	if s.active != nil && s.activeSize > 0 && s.activeSize+n > s.cfg.SegmentBytes {
		if err := s.sealActive(); err != nil {
			return err
		}
	}
	if s.active == nil {
		// Only the writer (s.writing) changes the active segment, so mu can be released
		// while the file system works: the shipper and readiness checks do not wait on it.
		id := s.activeID
		s.mu.Unlock()
		f, err := os.OpenFile(s.segPath(id), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o600)
		if err == nil && s.cfg.SyncInterval == 0 {
			if err = syncDir(s.cfg.Dir); err != nil {
				f.Close()
			}
		}
		s.mu.Lock()
		if err != nil {
			return fmt.Errorf("cannot create spool segment: %w", err)
		}
		s.active, s.activeSize = f, 0
		s.segs = append(s.segs, id)
		s.dirDirty = s.cfg.SyncInterval > 0 // the background sync makes the new name durable
	}
	return nil
}

// sealActive fsyncs and closes the active segment; later records go to a new one. A failed
// fsync breaks the spool: what was acknowledged might not be on disk, so nothing more is.
// With a SyncInterval the fsync runs in the background (a segment's fsync can take long and
// appends must not wait for it); Close waits for it.
func (s *Spool) sealActive() error {
	if s.active == nil {
		return nil
	}
	f := s.active
	s.active = nil
	s.activeID++
	s.tail, s.tailID = s.tail[:0], 0 // a sealed segment is read from its file
	if s.cfg.SyncInterval > 0 && !s.closed {
		s.sealing.Add(1)
		go func() {
			defer s.sealing.Done()
			if err := f.Sync(); err != nil {
				s.mu.Lock()
				if s.broken == nil {
					s.broken = fmt.Errorf("spool fsync failed; restart the collector after checking the disk: %w", err)
				}
				s.mu.Unlock()
			}
			f.Close()
		}()
		return nil
	}
	err := f.Sync()
	if err != nil {
		s.broken = fmt.Errorf("spool fsync failed; restart the collector after checking the disk: %w", err)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Pending returns the bytes not yet replayed.
func (s *Spool) Pending() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// Segments returns the number of segment files.
func (s *Spool) Segments() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.segs)
}

// Writes returns the write(2) calls that put records in segment files (one per group).
func (s *Spool) Writes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// Corrupt returns how many corrupt or torn records replay has skipped.
func (s *Spool) Corrupt() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.corrupt
}

// Full reports whether the spool is at its limit: it refused the last record for space
// and replay has not freed any since. A record refused while nothing is pending is larger
// than the whole spool: that does not make it full (no replay would ever clear it, and
// smaller records fit).
func (s *Spool) Full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused && s.pending > 0 || s.pending >= s.cfg.MaxBytes
}

// Message is one replayed message; Key and Value point into the Batch that Read filled.
type Message struct{ Key, Value []byte }

// Batch is what Read fills; reuse it (Reset) so reading does not allocate once warm.
type Batch struct {
	Msgs []Message
	buf  []byte
	br   *bufio.Reader
}

// Reset empties the batch and keeps its memory.
func (b *Batch) Reset() {
	clear(b.Msgs) // do not keep the old bytes reachable through stale slices
	b.Msgs, b.buf = b.Msgs[:0], b.buf[:0]
}

type batchMark struct{ msgs, buf int }

func (b *Batch) mark() batchMark  { return batchMark{len(b.Msgs), len(b.buf)} }
func (b *Batch) undo(m batchMark) { b.Msgs, b.buf = b.Msgs[:m.msgs], b.buf[:m.buf] }
func (b *Batch) addRecord(p []byte, keyOnce bool) bool {
	start := len(b.buf)
	b.buf = append(b.buf, p...)
	return b.parseRecord(b.buf[start:], keyOnce)
}

// parseRecord appends the messages of one record payload p (held by b.buf) to b.Msgs; false
// (and nothing appended) when the payload is malformed.
func (b *Batch) parseRecord(p []byte, keyOnce bool) bool {
	n := len(b.Msgs)
	if len(p) < 4 {
		return false
	}
	count := binary.LittleEndian.Uint32(p)
	p = p[4:]
	if count > uint32(len(p)) {
		return false
	}
	var key []byte
	if keyOnce {
		if len(p) < 2 || len(p) < 2+int(binary.LittleEndian.Uint16(p)) {
			return false
		}
		kl := int(binary.LittleEndian.Uint16(p))
		key, p = p[2:2+kl:2+kl], p[2+kl:]
	}
	for i := uint32(0); i < count; i++ {
		if !keyOnce {
			if len(p) < 2 || len(p) < 2+int(binary.LittleEndian.Uint16(p)) {
				b.Msgs = b.Msgs[:n]
				return false
			}
			kl := int(binary.LittleEndian.Uint16(p))
			key, p = p[2:2+kl:2+kl], p[2+kl:]
		}
		if len(p) < 4 {
			b.Msgs = b.Msgs[:n]
			return false
		}
		vl := int(binary.LittleEndian.Uint32(p))
		p = p[4:]
		if vl < 0 || len(p) < vl {
			b.Msgs = b.Msgs[:n]
			return false
		}
		b.Msgs = append(b.Msgs, Message{Key: key, Value: p[:vl:vl]})
		p = p[vl:]
	}
	if len(p) != 0 {
		b.Msgs = b.Msgs[:n]
		return false
	}
	return true
}

// Pos is a position in the spool: where a record ends (Append), where a read stopped (Read,
// Commit). Positions of one spool are ordered.
type Pos struct {
	id  uint64
	off int64
}

// Reached reports whether p is at or after q.
func (p Pos) Reached(q Pos) bool { return p.id > q.id || p.id == q.id && p.off >= q.off }

// Read appends up to maxMessages messages and about maxReadBytes of them (whole records
// only, at least one record) from the replay position to dst and returns the position after
// them. It blocks until there is a record; after StopReads or Close it returns ErrStopped.
func (s *Spool) Read(dst *Batch, maxMessages int) (Pos, error) {
	return s.read(dst, maxMessages, true)
}

// ReadNow is Read without waiting: with nothing to read it appends nothing.
func (s *Spool) ReadNow(dst *Batch, maxMessages int) (Pos, error) {
	return s.read(dst, maxMessages, false)
}

// StopReads makes Read return ErrStopped, now and from then on (shutdown).
func (s *Spool) StopReads() {
	s.mu.Lock()
	s.stopped = true
	s.readable.Broadcast()
	s.mu.Unlock()
}

func (s *Spool) read(dst *Batch, maxMessages int, wait bool) (Pos, error) {
	for {
		s.mu.Lock()
		if wait && s.stopped {
			s.mu.Unlock()
			return Pos{}, ErrStopped
		}
		id, off := s.readID, s.readOff
		var limit int64 = -1 // bytes readable in this segment; -1 = whole file (sealed)
		if s.active != nil && id == s.activeID {
			limit = s.activeSize
		}
		exists := len(s.segs) > 0 && s.segs[0] == id
		if !exists || limit >= 0 && off >= limit {
			// Caught up: nothing written beyond the replay position.
			if !wait {
				s.mu.Unlock()
				return Pos{id, off}, nil
			}
			s.readable.Wait()
			s.mu.Unlock()
			continue
		}
		if limit >= 0 {
			if end, ok := s.readTailLocked(dst, id, off, maxMessages); ok {
				s.mu.Unlock()
				return Pos{id, end}, nil
			}
		}
		s.mu.Unlock()
		end, corrupt, err := readRecords(dst, s.segPath(id), off, limit, maxMessages)
		if err != nil {
			return Pos{}, err
		}
		if end > off {
			return Pos{id, end}, nil
		}
		if limit >= 0 {
			// The active segment holds bytes past off that are no whole valid record; it
			// cannot be finished while it takes writes, so wait for more.
			s.mu.Lock()
			if corrupt {
				s.corrupt++
			}
			if !wait || s.stopped {
				s.mu.Unlock()
				return Pos{id, off}, nil
			}
			s.readable.Wait()
			s.mu.Unlock()
			continue
		}
		// A sealed segment is done (or ends in a torn/corrupt record): move to the next one.
		s.mu.Lock()
		if corrupt {
			s.corrupt++
		}
		done := s.finishSegmentLocked(id)
		s.mu.Unlock()
		if done {
			os.Remove(s.segPath(id)) // the cursor need not be written first: see Open
		}
	}
}

// finishSegmentLocked moves past a fully replayed sealed segment; the caller then removes
// its file (without mu). It reports whether it moved.
func (s *Spool) finishSegmentLocked(id uint64) bool {
	if len(s.segs) == 0 || s.segs[0] != id {
		return false
	}
	if fi, err := os.Stat(s.segPath(id)); err == nil {
		s.pending -= fi.Size() - s.readOff
	}
	s.refused = false
	s.segs = s.segs[1:]
	if len(s.segs) > 0 {
		s.readID = s.segs[0]
	} else {
		s.readID = s.activeID
	}
	s.readOff = 0
	s.cursorDirty = true
	if s.pending < 0 || len(s.segs) == 0 {
		s.pending = max(s.pending, 0)
		if len(s.segs) == 0 {
			s.pending = 0
		}
	}
	return true
}

// Commit records that everything before pos was shipped. The cursor file follows within
// CursorInterval.
func (s *Spool) Commit(pos Pos) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pos.id != s.readID || pos.off < s.readOff {
		return
	}
	s.pending -= pos.off - s.readOff
	s.readOff = pos.off
	s.refused = false
	s.cursorDirty = true
	s.trimTailLocked(pos.id, pos.off)
}

// Committed returns the replay position: every record before it was shipped.
func (s *Spool) Committed() Pos {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Pos{s.readID, s.readOff}
}

// Empty reports whether every record has been replayed.
func (s *Spool) Empty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.emptyLocked()
}

func (s *Spool) emptyLocked() bool {
	// pending counts bytes written (or left by an earlier run) and not yet committed.
	return s.enq == s.resolved && s.pending == 0
}

// Close stops reads, waits for queued records, stops background fsync, seals (fsyncs) the
// active segment and, when everything has been replayed, removes it so the next run starts
// empty; it writes the cursor and releases the directory.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.stopped = true
	s.readable.Broadcast()
	for s.enq != s.resolved {
		s.wrote.Wait()
	}
	s.mu.Unlock()
	close(s.stopWriter)
	<-s.writerDone
	if s.stopSync != nil {
		close(s.stopSync)
		<-s.syncDone
	}
	close(s.stopCursor)
	<-s.cursorDone
	s.sealing.Wait()
	defer s.lock.Close() // releases the flock, last
	s.cursorMu.Lock()
	defer s.cursorMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirDirty {
		syncDir(s.cfg.Dir)
		s.dirDirty = false
	}
	done := s.emptyLocked() && s.active != nil
	id := s.activeID
	err := s.sealActive()
	if done && err == nil {
		os.Remove(s.segPath(id))
		s.segs = s.segs[:0]
		s.readID, s.readOff = s.activeID, 0
		s.pending = 0
		s.cursorDirty = true
	}
	if s.cursorDirty {
		if cerr := writeCursor(s.cfg.Dir, s.readID, s.readOff); cerr != nil && err == nil {
			err = fmt.Errorf("cannot write spool cursor: %w", cerr)
		}
		s.cursorDirty = false
	}
	return err
}

// maxReadBytes bounds the records one Read takes from a segment file (a replay after an
// outage), so what a reader holds stays bounded whatever the messages' sizes.
const maxReadBytes = 16 << 20

// readRecords appends whole records from path at off, up to limit bytes of the file (-1: to
// its end), until maxMessages or maxReadBytes, to dst. corrupt reports a bad record where
// reading stopped.
func readRecords(dst *Batch, path string, off, limit int64, maxMessages int) (end int64, corrupt bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return off, false, fmt.Errorf("cannot open spool segment: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return off, false, err
	}
	var r io.Reader = f
	if limit >= 0 {
		r = io.LimitReader(f, limit-off)
	}
	if dst.br == nil {
		dst.br = bufio.NewReaderSize(r, 64<<10)
	} else {
		dst.br.Reset(r)
	}
	br := dst.br
	defer br.Reset(nil)
	end = off
	var hdr [spoolHeaderLen]byte
	for n := 0; n < maxMessages && end-off < maxReadBytes; {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return end, err != io.EOF, nil
		}
		h := binary.LittleEndian.Uint32(hdr[0:])
		l := int(h &^ keyOnce)
		sum := binary.LittleEndian.Uint32(hdr[4:])
		if l < 4 || l > maxSpoolRecord {
			return end, true, nil
		}
		mark := dst.mark()
		dst.buf = append(dst.buf, make([]byte, l)...) // no allocation once buf has grown
		payload := dst.buf[len(dst.buf)-l:]
		if _, err := io.ReadFull(br, payload); err != nil {
			dst.undo(mark)
			return end, true, nil
		}
		if crc32.Checksum(payload, crcTable) != sum || !dst.parseRecord(payload, h&keyOnce != 0) {
			dst.undo(mark)
			return end, true, nil
		}
		n += len(dst.Msgs) - mark.msgs
		end += spoolHeaderLen + int64(l)
	}
	return end, false, nil
}

// Config returns the spool's configuration, defaults applied.
func (s *Spool) Config() Config { return s.cfg }
