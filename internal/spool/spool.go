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
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The spool keeps acknowledged events on local disk while Kafka is slow or away, in
// append-only segment files replayed in order. Record layout (little endian):
//
//	u32 payload length | u32 CRC-32C of payload | payload
//	payload = u32 message count, then per message: u16 key length, key, u32 value length, value
//
// A record is one request's events, written before the request is answered. Concurrent
// appends are group-committed: one caller writes every record queued meanwhile in a single
// write(2), the others wait for it. A record in the page cache survives the collector being
// killed; fsync (for machine crashes) happens before Append returns when SyncInterval is 0,
// otherwise at most SyncInterval later, in the background.
// Replay reads records in order; a torn or corrupt record ends its segment (counted).
// The replay position is kept in the file "cursor" (segment id and offset); losing it only
// replays records again (duplicates are harmless downstream), never skips any.

// ErrFull is returned by Append when the spool is at its byte limit.
var ErrFull = errors.New("spool is full")

const (
	spoolHeaderLen = 8
	spoolExt       = ".seg"
	// maxSpoolRecord bounds one record (a request's events); larger headers mean corruption.
	maxSpoolRecord = 64 << 20
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

	// Group write: records are encoded into queued; one appender at a time (writing) takes
	// the queue and writes it with one write(2) while the others wait on wrote. Positions
	// enq and resolved count queued bytes ever, so a waiter knows when its record is done.
	queued    []byte
	spare     []byte
	writing   bool
	enq       int64
	resolved  int64
	failed    []spoolSpan // recent resolved spans that could not be written
	wrote     *sync.Cond  // on mu: resolved advanced
	writes    int64       // write(2) calls for records (tests)
	hookWrite func()      // tests: runs before each group write, without the lock

	stopSync chan struct{}
	syncDone chan struct{}
	sealing  sync.WaitGroup // background fsyncs of sealed segments

	// tail is a copy of the active segment's bytes [tailOff, activeSize), so the shipper
	// reads what was just written from memory instead of the file; bounded by maxSpoolTail.
	tail    []byte
	tailID  uint64
	tailOff int64

	cursorMu sync.Mutex // orders cursor file writes (persistCursor)
	dirDirty bool       // a segment was created and the directory not yet fsynced (SyncInterval > 0)

	syncMu sync.Mutex // held by the one fsyncing for a group
	synced int64      // bytes of written known to be on disk
	closed bool
}

type spoolSpan struct {
	from, to int64
	err      error
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
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create spool dir: %w", err)
	}
	s := &Spool{cfg: cfg}
	s.wrote = sync.NewCond(&s.mu)
	entries, err := os.ReadDir(cfg.Dir)
	if err != nil {
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
			return nil, fmt.Errorf("cannot stat spool segment: %w", err)
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
	return s, nil
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

func (s *Spool) loadCursor() (uint64, int64) {
	b, err := os.ReadFile(filepath.Join(s.cfg.Dir, "cursor"))
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0
	}
	id, err1 := strconv.ParseUint(f[0], 10, 64)
	off, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || off < 0 {
		return 0, 0
	}
	return id, off
}

// saveCursor writes the replay position; called with mu held (Close).
func (s *Spool) saveCursor() error { return writeCursor(s.cfg.Dir, s.readID, s.readOff) }

// persistCursor writes the current replay position without holding mu, so file system
// stalls never hold up appends. cursorMu orders the writers; each writes the newest position.
func (s *Spool) persistCursor() error {
	s.cursorMu.Lock()
	defer s.cursorMu.Unlock()
	s.mu.Lock()
	id, off := s.readID, s.readOff
	s.mu.Unlock()
	return writeCursor(s.cfg.Dir, id, off)
}

func writeCursor(dir string, id uint64, off int64) error {
	p := filepath.Join(dir, "cursor")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(id, 10)+" "+strconv.FormatInt(off, 10)+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// Append adds one record holding the messages msgs[ends[i-1]:ends[i]], all with key. It
// returns once the record is written (and, with SyncInterval 0, fsynced). Concurrent appends
// share writes and fsyncs (group commit). It returns ErrFull when the record would
// take the spool over MaxBytes.
func (s *Spool) Append(key, msgs []byte, ends []int) error {
	my, err := s.write(key, msgs, ends)
	if err != nil || s.cfg.SyncInterval > 0 {
		return err
	}
	return s.syncTo(my)
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
// the bytes written to segment files by then. The first appender to find no write under way
// writes the queue, and keeps writing what queues meanwhile; the others wait.
func (s *Spool) write(key, msgs []byte, ends []int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errors.New("spool is closed")
	}
	if s.broken != nil {
		return 0, s.broken
	}
	size := spoolHeaderLen + 4
	start := 0
	for _, end := range ends {
		size += 2 + len(key) + 4 + end - start
		start = end
	}
	if s.pending+int64(size) > s.cfg.MaxBytes {
		s.refused = true
		return 0, ErrFull
	}
	s.refused = false
	s.queued = appendRecord(s.queued, key, msgs, ends)
	s.pending += int64(size)
	from := s.enq
	s.enq += int64(size)
	my := s.enq
	for s.resolved < my {
		if s.writing {
			s.wrote.Wait()
		} else {
			s.writeQueued() // holds this record: one write resolves it
		}
	}
	for _, f := range s.failed {
		if from < f.to && my > f.from {
			return 0, f.err
		}
	}
	if s.broken != nil {
		return 0, s.broken
	}
	return s.written, nil
}

// appendRecord encodes one record (header, count, messages) onto b.
func appendRecord(b, key, msgs []byte, ends []int) []byte {
	h := len(b)
	b = append(b, make([]byte, spoolHeaderLen)...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ends)))
	start := 0
	for _, end := range ends {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(key)))
		b = append(b, key...)
		b = binary.LittleEndian.AppendUint32(b, uint32(end-start))
		b = append(b, msgs[start:end]...)
		start = end
	}
	payload := b[h+spoolHeaderLen:]
	binary.LittleEndian.PutUint32(b[h:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[h+4:], crc32.Checksum(payload, crcTable))
	return b
}

// writeQueued writes everything queued with one write(2); called with mu held, it releases
// mu during the write so more records can queue behind it, for the next writer: a waiter
// whose record is still queued takes over, so no appender keeps writing for others forever.
func (s *Spool) writeQueued() {
	s.writing = true
	if len(s.queued) > 0 {
		buf := s.queued
		s.queued = s.spare[:0]
		err := s.prepareSegment(int64(len(buf)))
		var n int
		if err == nil {
			f := s.active
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
			s.failed = append(s.failed, spoolSpan{s.resolved, s.resolved + int64(len(buf)), err})
			if len(s.failed) > 64 {
				s.failed = s.failed[len(s.failed)-64:]
			}
		}
		s.resolved += int64(len(buf))
		if cap(buf) <= 1<<20 {
			s.spare = buf[:0] // keep one modest buffer; do not pin a huge one
		} else {
			s.spare = nil
		}
		s.wrote.Broadcast()
	}
	s.writing = false
}

// maxSpoolTail bounds the in-memory copy of recently written records.
const maxSpoolTail = 8 << 20

// keepTail adds buf, just written at activeSize of the active segment, to the tail.
func (s *Spool) keepTail(buf []byte) {
	if s.tailID != s.activeID || s.tailOff+int64(len(s.tail)) != s.activeSize || len(s.tail)+len(buf) > maxSpoolTail {
		// Not contiguous (new segment) or the shipper is far behind: restart the tail here;
		// what came before is read from the file.
		s.tailID, s.tailOff, s.tail = s.activeID, s.activeSize+int64(len(buf)), s.tail[:0]
		if len(buf) > maxSpoolTail {
			return
		}
		s.tailOff = s.activeSize
	}
	s.tail = append(s.tail, buf...)
}

// readTailLocked returns whole records at off from the tail (copied), or ok=false when the
// tail does not hold off.
func (s *Spool) readTailLocked(id uint64, off int64, maxMessages int) (msgs []Message, end int64, ok bool) {
	if id != s.tailID || off < s.tailOff || off >= s.tailOff+int64(len(s.tail)) {
		return nil, off, false
	}
	b := s.tail[off-s.tailOff:]
	// Find the whole records to take, then copy them once: the tail changes after unlock.
	// At most about 1 MiB per read, so appends never wait long behind the copy.
	n, count := 0, 0
	for n+spoolHeaderLen <= len(b) && count < maxMessages && n < 1<<20 {
		l := int(binary.LittleEndian.Uint32(b[n:]))
		if n+spoolHeaderLen+l > len(b) || l < 4 {
			break
		}
		count += int(binary.LittleEndian.Uint32(b[n+spoolHeaderLen:]))
		n += spoolHeaderLen + l
	}
	if n == 0 {
		return nil, off, false
	}
	own := append([]byte(nil), b[:n]...)
	for p := 0; p < n; {
		l := int(binary.LittleEndian.Uint32(own[p:]))
		rec, valid := parseRecord(own[p+spoolHeaderLen : p+spoolHeaderLen+l])
		if !valid {
			return nil, off, false // cannot happen for records this process wrote; use the file
		}
		msgs = append(msgs, rec...)
		p += spoolHeaderLen + l
	}
	return msgs, off + int64(n), true
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
		f, err := os.OpenFile(s.segPath(id), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o644)
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

// Corrupt returns how many corrupt or torn records replay has skipped.
func (s *Spool) Corrupt() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.corrupt
}

// Full reports whether the spool is at its limit: it refused the last record for space
// and replay has not freed any since.
func (s *Spool) Full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused || s.pending >= s.cfg.MaxBytes
}

// Message is one replayed message; Key and Value are owned by the caller.
type Message struct{ Key, Value []byte }

// Pos is a replay position returned by Read and passed back to Commit.
type Pos struct {
	id  uint64
	off int64
}

// Read returns up to maxMessages messages (whole records only, at least one record if any)
// from the replay position, and the position after them. It returns no messages when the
// spool is empty.
func (s *Spool) Read(maxMessages int) ([]Message, Pos, error) {
	for {
		s.mu.Lock()
		id, off := s.readID, s.readOff
		var limit int64 = -1 // bytes readable in this segment; -1 = whole file (sealed)
		if s.active != nil && id == s.activeID {
			limit = s.activeSize
		}
		exists := len(s.segs) > 0 && s.segs[0] == id
		if exists && limit >= 0 {
			if off >= limit {
				s.mu.Unlock()
				return nil, Pos{id, off}, nil // caught up with the active segment
			}
			if msgs, end, ok := s.readTailLocked(id, off, maxMessages); ok {
				s.mu.Unlock()
				return msgs, Pos{id, end}, nil
			}
		}
		s.mu.Unlock()
		if !exists {
			return nil, Pos{id, off}, nil
		}
		msgs, end, corrupt, err := readRecords(s.segPath(id), off, limit, maxMessages)
		if err != nil {
			return nil, Pos{}, err
		}
		if len(msgs) > 0 {
			return msgs, Pos{id, end}, nil
		}
		if limit >= 0 {
			return nil, Pos{id, off}, nil // caught up with the active segment
		}
		// A sealed segment is done (or ends in a torn/corrupt record): move to the next one.
		s.mu.Lock()
		if corrupt {
			s.corrupt++
		}
		done := s.finishSegmentLocked(id)
		s.mu.Unlock()
		if done {
			os.Remove(s.segPath(id))
			s.persistCursor()
		}
	}
}

// finishSegmentLocked moves past a fully replayed sealed segment; the caller then removes
// its file and saves the cursor (without mu). It reports whether it moved.
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
	if s.pending < 0 || len(s.segs) == 0 {
		s.pending = max(s.pending, 0)
		if len(s.segs) == 0 {
			s.pending = 0
		}
	}
	return true
}

// Commit records that everything before pos reached Kafka.
func (s *Spool) Commit(pos Pos) error {
	s.mu.Lock()
	if pos.id != s.readID || pos.off < s.readOff {
		s.mu.Unlock()
		return nil
	}
	s.pending -= pos.off - s.readOff
	s.readOff = pos.off
	s.refused = false
	s.trimTailLocked(pos.id, pos.off)
	s.mu.Unlock()
	return s.persistCursor()
}

// Empty reports whether every record has been replayed.
func (s *Spool) Empty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.emptyLocked()
}

func (s *Spool) emptyLocked() bool {
	if s.enq != s.resolved {
		return false // records queued or being written
	}
	switch len(s.segs) {
	case 0:
		return true
	case 1:
		return s.active != nil && s.segs[0] == s.activeID && s.readID == s.activeID && s.readOff == s.activeSize
	}
	return false
}

// IfEmpty runs fn while holding the spool's lock if the spool is empty, so no Append can
// slip in between the check and fn. It reports whether fn ran.
func (s *Spool) IfEmpty(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.emptyLocked() {
		return false
	}
	fn()
	return true
}

// Close waits for queued records, stops background fsync, seals (fsyncs) the active segment
// and, when everything has been replayed, removes it so the next run starts empty.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for s.enq != s.resolved {
		s.wrote.Wait()
	}
	s.mu.Unlock()
	if s.stopSync != nil {
		close(s.stopSync)
		<-s.syncDone
	}
	s.sealing.Wait()
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
		err = s.saveCursor()
	}
	return err
}

// readRecords reads whole records from path at off, up to limit bytes of the file (-1: to
// its end), until maxMessages. corrupt reports a bad record where reading stopped.
func readRecords(path string, off, limit int64, maxMessages int) (msgs []Message, end int64, corrupt bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, off, false, fmt.Errorf("cannot open spool segment: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, off, false, err
	}
	var r io.Reader = f
	if limit >= 0 {
		r = io.LimitReader(f, limit-off)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	end = off
	var hdr [spoolHeaderLen]byte
	for len(msgs) < maxMessages {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return msgs, end, err != io.EOF, nil
		}
		n := binary.LittleEndian.Uint32(hdr[0:])
		sum := binary.LittleEndian.Uint32(hdr[4:])
		if n < 4 || n > maxSpoolRecord {
			return msgs, end, true, nil
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return msgs, end, true, nil
		}
		if crc32.Checksum(payload, crcTable) != sum {
			return msgs, end, true, nil
		}
		rec, ok := parseRecord(payload)
		if !ok {
			return msgs, end, true, nil
		}
		msgs = append(msgs, rec...)
		end += spoolHeaderLen + int64(n)
	}
	return msgs, end, false, nil
}

func parseRecord(p []byte) ([]Message, bool) {
	count := binary.LittleEndian.Uint32(p)
	p = p[4:]
	if count > uint32(len(p)) {
		return nil, false
	}
	out := make([]Message, 0, count)
	for i := uint32(0); i < count; i++ {
		if len(p) < 2 {
			return nil, false
		}
		kl := int(binary.LittleEndian.Uint16(p))
		p = p[2:]
		if len(p) < kl+4 {
			return nil, false
		}
		key := p[:kl:kl]
		vl := int(binary.LittleEndian.Uint32(p[kl:]))
		p = p[kl+4:]
		if len(p) < vl {
			return nil, false
		}
		out = append(out, Message{Key: key, Value: p[:vl:vl]})
		p = p[vl:]
	}
	return out, len(p) == 0
}

// Config returns the spool's configuration, defaults applied.
func (s *Spool) Config() Config { return s.cfg }
