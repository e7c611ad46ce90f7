// The embedded directory store: DirStore, opened with OpenDir.
//
// # Directory layout
//
//	<dir>/LOCK                               flock(LOCK_EX) while a DirStore has dir open
//	<dir>/<project>/00000000000000000001.wal  segment whose first record is LSN 1
//	<dir>/<project>/00000000000000004711.wal  next segment, first record LSN 4711
//
// One sub-directory per project (project names are restricted by
// ValidateProjectName, so they are safe file names). A project's log is a
// sequence of segment files, each named by the LSN of its first record,
// zero-padded to 20 digits. A new segment is started when the next batch
// would push the current one past DirOptions.SegmentSize; a batch is never
// split across segments. Only the last segment is ever written to.
//
// # Segment format
//
// All integers are little-endian.
//
//	segment header (16 bytes)
//	+-------------+-------------+-----------------+
//	| magic   u32 | version u32 | first LSN   u64 |
//	| "AWAL"      | 2           | = file name     |
//	+-------------+-------------+-----------------+
//	followed by zero or more frames, back to back:
//
//	frame (28-byte header + payload)
//	 0            4            8                 16                24          28
//	+------------+------------+-----------------+-----------------+-----------+------------------+
//	| magic  u32 | length u32 | lsn         u64 | batch       u64 | crc   u32 | payload          |
//	| 0xE4A1F7C3 | of payload | record's LSN    | first LSN of    | crc32c    | Record.Encode()  |
//	|            |            |                 | its Append      | (*)       |                  |
//	+------------+------------+-----------------+-----------------+-----------+------------------+
//	(*) CRC-32C (Castagnoli) over bytes 4..24 (length, lsn, batch) followed by the payload.
//
// The frames of a segment carry consecutive LSNs starting at the header's
// first LSN, and the first LSN of a segment is one past the last LSN of the
// segment before it (1 for a project's first segment).
//
// # Durability and recovery
//
// Append writes every frame of a batch with one write, then calls fdatasync
// once (unless DirOptions.NoSync). Creating a project directory or a segment
// also fsyncs the directory that holds it. A crash can therefore leave, at
// the end of the last segment, an incomplete or garbled frame, and since
// the disk may persist an unsynced write's pages in any order, valid frames
// after a bad one, all of the bad frame's batch: recovery in OpenDir
// truncates the torn batch away (torn tail; none of it was acknowledged).
// Any other damage — a bad frame in a segment other than the last, a bad
// frame followed by a valid frame of another batch (found by scanning
// forward byte by byte for the frame magic and checking the CRC, so a
// damaged length field is still detected), LSNs that are not consecutive —
// makes OpenDir fail with an error wrapping ErrCorrupt that names the file
// and the offset. Nothing is ever skipped silently.

package wal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Directory layout and frame format of the embedded store. Part of the
// format: changing any of these makes existing directories unreadable.
const (
	dirLockFile = "LOCK"

	segmentExt        = ".wal"
	segmentNameDigits = 20

	segmentMagic      uint32 = 0x4C415741 // "AWAL" as the file's first 4 bytes
	segmentVersion    uint32 = 2
	segmentHeaderSize        = 16 // magic u32, version u32, first LSN u64

	frameMagic      uint32 = 0xE4A1F7C3
	frameHeaderSize        = 28 // magic u32, length u32, lsn u64, batch u64, crc u32
	frameCRCStart          = 4  // the CRC covers header bytes [4:24) ...
	frameCRCEnd            = 24 // ... and then the payload
	minFramePayload        = 5  // the smallest BSON document
	maxFramePayload        = MaxRecordSize
)

// DefaultSegmentSize is the segment size used when DirOptions.SegmentSize is
// not set.
const DefaultSegmentSize = 64 << 20

// castagnoli is the CRC-32C table. It is only ever read.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// DirOptions configures OpenDir. A nil *DirOptions means the defaults.
type DirOptions struct {
	// NoSync skips every fsync and fdatasync. Default false: Append calls
	// fdatasync before it returns, so acknowledged records survive a crash of
	// the machine. With NoSync, acknowledged records survive a crash of the
	// process (they are in the operating system's page cache) but the newest
	// ones may be lost on a power failure, and if the disk wrote pages out of
	// order OpenDir may then report ErrCorrupt. For tests and benchmarks.
	NoSync bool
	// SegmentSize is the size in bytes at which a project's log moves on to
	// a new segment file. Default (zero or negative) DefaultSegmentSize,
	// 64 MiB. A batch larger than SegmentSize gets a segment of its own.
	SegmentSize int64
}

// DirStore is the embedded Store, the default one: each project's log is a
// sequence of segment files in one directory on the local file system, and
// no server is needed. A DirStore is safe for concurrent use by multiple
// goroutines; records are durable when Append returns.
//
// Reads run concurrently with each other and with appends; appends to one
// project are serialized. Only one DirStore, in any process, may have a
// directory open at a time (a LOCK file held with flock enforces it).
//
// Durable means that Append has written the records' frames and called
// fdatasync, so they survive a crash of the process or of the machine
// (with DirOptions.NoSync, only of the process). Readers never see a record
// before it is durable.
//
// The layout and the format are described in the package documentation (doc.go).
type DirStore struct {
	dir  string
	opts DirOptions
	lock *os.File

	// mu is held shared by every operation for its whole duration and
	// exclusively by Close, so Close waits for in-flight operations.
	mu     sync.RWMutex
	closed bool

	projMu   sync.RWMutex
	projects map[string]*dirProject

	ckpt dirCkpts // checkpoints (dir_checkpoint.go)
}

// dirProject is one project's log.
type dirProject struct {
	name string
	dir  string

	// appendMu serializes appends. Fields below it that are not guarded by
	// mu are guarded by appendMu.
	appendMu  sync.Mutex
	gcMu      sync.Mutex // serializes Tombstone calls (gc.go)
	dirExists bool
	failed    error // sticky: set when an append left the file in doubt

	// mu guards segs (the slice and each segment's offs and size), tail
	// and tailTime. Appends change them holding appendMu and mu; appends
	// may read them holding appendMu alone.
	mu       sync.RWMutex
	segs     []*dirSegment
	tail     LSN
	tailTime time.Time
}

// dirSegment is one segment file and its index.
type dirSegment struct {
	first LSN
	path  string
	f     *os.File
	offs  []int64 // offs[i] is the file offset of the frame of LSN first+i
	size  int64   // end of the last frame: the file's size
	// sealed stops appends to the segment: garbage collection seals the
	// last segment before rewriting it (gc.go). Guarded by appendMu.
	sealed bool
}

// OpenDir opens the embedded store kept in dir, creating dir if it does not
// exist. A nil opts means the defaults (see DirOptions).
//
// OpenDir takes an exclusive lock on dir: while the store is open, another
// OpenDir of the same directory, in this process or another, fails with an
// error wrapping ErrLocked. It then reads every segment, checks every frame's
// CRC and LSN, and builds the in-memory index that Read and Tail use. An
// incomplete or invalid frame at the end of a project's last segment, after
// which no valid frame can be found, is the torn tail of an interrupted
// append: it is truncated away. Any other damage makes OpenDir fail with an
// error wrapping ErrCorrupt that names the file and the offset.
//
// OpenDir reads the whole log, so it takes time proportional to its size.
func OpenDir(ctx context.Context, dir string, opts *DirOptions) (*DirStore, error) {
	var o DirOptions
	if opts != nil {
		o = *opts
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if dir == "" {
		return nil, errors.New("wal: OpenDir: empty directory name")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := createDir(dir, !o.NoSync); err != nil {
		return nil, fmt.Errorf("wal: OpenDir: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &DirStore{dir: dir, opts: o, lock: lock, projects: make(map[string]*dirProject)}
	if err := s.load(ctx); err != nil {
		s.closeFiles()
		return nil, errors.Join(err, unlockDir(lock))
	}
	return s, nil
}

// createDir creates dir if it is missing and then syncs its parent.
func createDir(dir string, sync bool) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if sync {
		return syncDir(filepath.Dir(filepath.Clean(dir)))
	}
	return nil
}

// lockDir opens and locks dir's LOCK file.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, dirLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wal: OpenDir: %w", err)
	}
	locked, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("wal: OpenDir: lock %s: %w", path, err)
	}
	if locked {
		f.Close()
		return nil, fmt.Errorf("%w: %s is already open (%s is held by this or another process)", ErrLocked, dir, path)
	}
	return f, nil
}

// unlockDir releases the lock by closing the file.
func unlockDir(f *os.File) error { return f.Close() }

// load scans every project directory.
func (s *DirStore) load(ctx context.Context) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("wal: OpenDir: %w", err)
	}
	for _, e := range entries {
		// Entries that cannot be projects (LOCK, lost+found, dot files)
		// are not ours: leave them alone.
		if !e.IsDir() || ValidateProjectName(e.Name()) != nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := s.loadProject(e.Name())
		if err != nil {
			return err
		}
		s.projects[p.name] = p
	}
	return nil
}

// segmentName is the file name of the segment whose first LSN is first.
func segmentName(first LSN) string {
	return fmt.Sprintf("%0*d%s", segmentNameDigits, uint64(first), segmentExt)
}

// parseSegmentName returns the first LSN encoded in a segment file name.
func parseSegmentName(name string) (LSN, bool) {
	digits, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(digits) != segmentNameDigits {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return LSN(n), true
}

// corruptf returns an error wrapping ErrCorrupt that names a file and offset.
func corruptf(path string, off int64, format string, args ...any) error {
	return fmt.Errorf("%w: %s offset %d: %s", ErrCorrupt, path, off, fmt.Sprintf(format, args...))
}

// loadProject scans one project's segments, repairs a torn tail and builds
// the index.
func (s *DirStore) loadProject(name string) (_ *dirProject, err error) {
	pdir := filepath.Join(s.dir, name)
	entries, err := os.ReadDir(pdir)
	if err != nil {
		return nil, fmt.Errorf("wal: OpenDir: %w", err)
	}
	var firsts []LSN
	for _, e := range entries {
		if first, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			firsts = append(firsts, first)
		}
	}
	slices.Sort(firsts)
	p := &dirProject{name: name, dir: pdir, dirExists: true}
	defer func() {
		if err != nil {
			p.closeFiles()
		}
	}()
	var lastPayload []byte
	var lastOff int64
	var lastPath string
	for i, first := range firsts {
		path := filepath.Join(pdir, segmentName(first))
		if want := p.tail + 1; first != want {
			return nil, corruptf(path, 0, "segment starts at lsn %d, expected %d (a segment is missing or out of place)", first, want)
		}
		last := i == len(firsts)-1
		seg, payload, err := s.loadSegment(path, first, last)
		if err != nil {
			return nil, err
		}
		p.segs = append(p.segs, seg)
		if n := len(seg.offs); n > 0 {
			p.tail = first + LSN(n) - 1
			lastPayload, lastOff, lastPath = payload, seg.offs[n-1], path
		} else if !last {
			return nil, corruptf(path, segmentHeaderSize, "segment has no records but is not the last one")
		}
	}
	if p.tail > 0 {
		r, err := DecodeRecord(lastPayload)
		if err != nil {
			return nil, fmt.Errorf("%s offset %d: %w", lastPath, lastOff, err)
		}
		if r.LSN != p.tail {
			return nil, corruptf(lastPath, lastOff, "frame of lsn %d holds a record of lsn %d", p.tail, r.LSN)
		}
		p.tailTime = r.Time
	}
	return p, nil
}

// loadSegment reads and checks one segment. In the last segment it truncates
// a torn tail. It returns the segment, with its file open, and a copy of the
// payload of its last frame.
func (s *DirStore) loadSegment(path string, first LSN, last bool) (seg *dirSegment, lastPayload []byte, err error) {
	flag := os.O_RDONLY
	if last {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("wal: OpenDir: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("wal: OpenDir: read %s: %w", path, err)
	}
	seg = &dirSegment{first: first, path: path, f: f}

	if herr := checkSegmentHeader(data, first); herr != nil {
		// A header that is missing, incomplete or garbled, in the last
		// segment, with no valid frame anywhere after it, is a segment whose
		// creation was interrupted. A readable header with the wrong version
		// or LSN is never torn: it is not ours to overwrite.
		tornable := last && (len(data) < segmentHeaderSize || binary.LittleEndian.Uint32(data) != segmentMagic)
		if !tornable {
			return nil, nil, corruptf(path, 0, "%v", herr)
		}
		if v := findValidFrame(data, 0); v >= 0 {
			return nil, nil, corruptf(path, 0, "%v, but a valid frame follows at offset %d", herr, v)
		}
		if err := writeSegmentHeader(f, first, !s.opts.NoSync); err != nil {
			return nil, nil, fmt.Errorf("wal: OpenDir: rewrite torn header of %s: %w", path, err)
		}
		seg.size = segmentHeaderSize
		return seg, nil, nil
	}

	off := int64(segmentHeaderSize)
	next := first
	for off < int64(len(data)) {
		n, lsn, ferr := parseFrame(data, off)
		if ferr == nil && lsn != next {
			return nil, nil, corruptf(path, off, "frame has lsn %d, expected %d", lsn, next)
		}
		if ferr != nil {
			if !last {
				return nil, nil, corruptf(path, off, "%v (in a segment that is not the last)", ferr)
			}
			if v := findValidFrame(data, off+1); v >= 0 {
				// Valid frames after a bad one are a torn tail only if they
				// all belong to the bad frame's batch: the disk may persist
				// the pages of an unsynced write in any order. A frame of a
				// later batch proves the bad one was synced: corruption.
				cut, keep, ok := tornBatchStart(data, v, off, next, seg.offs, first)
				if !ok {
					return nil, nil, corruptf(path, off, "%v, but a valid frame of another batch follows at offset %d", ferr, v)
				}
				off, seg.offs = cut, seg.offs[:keep]
			}
			// Torn tail: the end of the log.
			if err := f.Truncate(off); err != nil {
				return nil, nil, fmt.Errorf("wal: OpenDir: truncate torn tail of %s at offset %d: %w", path, off, err)
			}
			if !s.opts.NoSync {
				if err := syncData(f); err != nil {
					return nil, nil, fmt.Errorf("wal: OpenDir: %w", err)
				}
			}
			break
		}
		seg.offs = append(seg.offs, off)
		off += n
		next++
	}
	seg.size = off
	if k := len(seg.offs); k > 0 {
		start := seg.offs[k-1] + frameHeaderSize
		lastPayload = bytes.Clone(data[start:seg.size])
	}
	return seg, lastPayload, nil
}

// checkSegmentHeader validates the header at the start of data.
func checkSegmentHeader(data []byte, first LSN) error {
	if len(data) < segmentHeaderSize {
		return fmt.Errorf("segment header is incomplete (%d of %d bytes)", len(data), segmentHeaderSize)
	}
	if m := binary.LittleEndian.Uint32(data[0:]); m != segmentMagic {
		return fmt.Errorf("bad segment magic %#08x", m)
	}
	if v := binary.LittleEndian.Uint32(data[4:]); v != segmentVersion {
		return fmt.Errorf("unsupported segment format version %d (this build reads %d)", v, segmentVersion)
	}
	if l := LSN(binary.LittleEndian.Uint64(data[8:])); l != first {
		return fmt.Errorf("segment header says first lsn %d, file name says %d", l, first)
	}
	return nil
}

// segmentHeader returns the header of the segment whose first LSN is first.
func segmentHeader(first LSN) []byte {
	h := make([]byte, segmentHeaderSize)
	binary.LittleEndian.PutUint32(h[0:], segmentMagic)
	binary.LittleEndian.PutUint32(h[4:], segmentVersion)
	binary.LittleEndian.PutUint64(h[8:], uint64(first))
	return h
}

// writeSegmentHeader (re)initializes f as an empty segment.
func writeSegmentHeader(f *os.File, first LSN, sync bool) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(segmentHeader(first), 0); err != nil {
		return err
	}
	if sync {
		return syncData(f)
	}
	return nil
}

// parseFrame checks the frame at data[off:] and returns its total length and
// LSN. It does not decode the payload.
func parseFrame(data []byte, off int64) (n int64, lsn LSN, err error) {
	n, lsn, _, err = parseFrameBatch(data, off)
	return n, lsn, err
}

// parseFrameBatch is parseFrame that also returns the first LSN of the
// frame's batch (the records one Append wrote with one fdatasync).
func parseFrameBatch(data []byte, off int64) (n int64, lsn, batch LSN, err error) {
	rest := int64(len(data)) - off
	if rest < frameHeaderSize {
		return 0, 0, 0, fmt.Errorf("incomplete frame header (%d bytes)", rest)
	}
	h := data[off : off+frameHeaderSize]
	if m := binary.LittleEndian.Uint32(h[0:]); m != frameMagic {
		return 0, 0, 0, fmt.Errorf("bad frame magic %#08x", m)
	}
	length := int64(binary.LittleEndian.Uint32(h[4:]))
	if length < minFramePayload || length > maxFramePayload {
		return 0, 0, 0, fmt.Errorf("bad frame length %d", length)
	}
	if rest < frameHeaderSize+length {
		return 0, 0, 0, fmt.Errorf("incomplete frame: length %d but %d bytes left", length, rest-frameHeaderSize)
	}
	payload := data[off+frameHeaderSize : off+frameHeaderSize+length]
	if got, want := frameCRC(h, payload), binary.LittleEndian.Uint32(h[24:]); got != want {
		return 0, 0, 0, fmt.Errorf("frame checksum mismatch (stored %#08x, computed %#08x)", want, got)
	}
	return frameHeaderSize + length, LSN(binary.LittleEndian.Uint64(h[8:])), LSN(binary.LittleEndian.Uint64(h[16:])), nil
}

func frameCRC(header, payload []byte) uint32 {
	c := crc32.Update(0, castagnoli, header[frameCRCStart:frameCRCEnd])
	return crc32.Update(c, castagnoli, payload)
}

// tornBatchStart decides whether the valid frames from offset v on, after
// a bad frame at badOff that should have held LSN next, are the rest of one
// torn batch: they all carry the same batch, which began at or before next
// in this segment. If so it returns where the batch begins (the cut) and
// how many frame offsets of offs stay.
func tornBatchStart(data []byte, v, badOff int64, next LSN, offs []int64, first LSN) (cut int64, keep int, ok bool) {
	_, _, batch, err := parseFrameBatch(data, v)
	if err != nil || batch > next || batch < first {
		return 0, 0, false
	}
	for at := v; at >= 0; at = findValidFrame(data, at+1) {
		if _, _, b, err := parseFrameBatch(data, at); err != nil || b != batch {
			return 0, 0, false
		}
	}
	keep = int(batch - first)
	if batch == next {
		return badOff, keep, true
	}
	return offs[keep], keep, true
}

// findValidFrame returns the offset of the first valid frame at or after
// from, or -1. It scans byte by byte for the magic, so it finds frames that
// follow a frame whose length field is damaged.
func findValidFrame(data []byte, from int64) int64 {
	var magic [4]byte
	binary.LittleEndian.PutUint32(magic[:], frameMagic)
	for from < int64(len(data)) {
		i := bytes.Index(data[from:], magic[:])
		if i < 0 {
			return -1
		}
		at := from + int64(i)
		if _, _, err := parseFrame(data, at); err == nil {
			return at
		}
		from = at + 1
	}
	return -1
}

// appendFrame appends the frame of r, written in the batch whose first
// record has LSN batch, to buf.
func appendFrame(buf []byte, r *Record, batch LSN) ([]byte, error) {
	start := len(buf)
	buf = append(buf, make([]byte, frameHeaderSize)...)
	buf = r.appendEncoded(buf, nil)
	length := len(buf) - start - frameHeaderSize
	if length > MaxRecordSize {
		return buf[:start], fmt.Errorf("%w: lsn %d encodes to %d bytes, the limit is %d", ErrRecordTooLarge, r.LSN, length, MaxRecordSize)
	}
	h := buf[start : start+frameHeaderSize]
	binary.LittleEndian.PutUint32(h[0:], frameMagic)
	binary.LittleEndian.PutUint32(h[4:], uint32(length))
	binary.LittleEndian.PutUint64(h[8:], uint64(r.LSN))
	binary.LittleEndian.PutUint64(h[16:], uint64(batch))
	binary.LittleEndian.PutUint32(h[24:], frameCRC(h, buf[start+frameHeaderSize:]))
	return buf, nil
}

// project returns the named project, creating its in-memory entry if create
// is set. It returns nil for a project that does not exist.
func (s *DirStore) project(name string, create bool) *dirProject {
	s.projMu.RLock()
	p := s.projects[name]
	s.projMu.RUnlock()
	if p != nil || !create {
		return p
	}
	s.projMu.Lock()
	defer s.projMu.Unlock()
	if p = s.projects[name]; p == nil {
		p = &dirProject{name: name, dir: filepath.Join(s.dir, name)}
		s.projects[name] = p
	}
	return p
}

// Append implements Store. The records are durable when it returns (see
// DirOptions.NoSync): all their frames are written with one write and synced
// with one fdatasync. A crash during Append leaves a prefix of recs, which
// the next OpenDir keeps; none of recs is acknowledged unless Append returns
// len(recs).
//
// Besides the checks of every store (consecutive LSNs, ErrLSNTaken when
// recs[0].LSN is at most the tail, ErrGap when it is beyond tail+1,
// ErrRecordTooLarge, well-formed records), a record's time must not be
// before the time of the tail record (ErrInvalidRecord). Nothing is written
// when a check fails.
//
// When a write or sync fails, Append returns 0 and an error, after trying to
// cut the file back to where it was. If that is impossible, or the sync
// itself failed, the outcome is in doubt: every later Append to the project
// fails until the store is reopened, and OpenDir then finds what is on disk.
func (s *DirStore) Append(ctx context.Context, project string, recs []Record) (int, error) {
	if err := ValidateProjectName(project); err != nil {
		return 0, err
	}
	if err := checkBatch(recs); err != nil {
		return 0, err
	}
	size := 0
	for i := range recs {
		size += frameHeaderSize + recs[i].size()
	}
	buf := make([]byte, 0, size)
	ends := make([]int64, len(recs)) // end of each frame within buf
	for i := range recs {
		var err error
		if buf, err = appendFrame(buf, &recs[i], recs[0].LSN); err != nil {
			return 0, err
		}
		ends[i] = int64(len(buf))
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	p := s.project(project, true)
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	if p.failed != nil {
		return 0, fmt.Errorf("wal: project %q: an earlier write failed, reopen the store: %w", project, p.failed)
	}
	tail, first := p.tail, recs[0].LSN
	switch {
	case first <= tail:
		return 0, fmt.Errorf("%w: project %q lsn %d (tail %d)", ErrLSNTaken, project, first, tail)
	case first > tail+1:
		return 0, fmt.Errorf("%w: project %q lsn %d after tail %d", ErrGap, project, first, tail)
	case tail > 0 && recs[0].Time.UnixMilli() < p.tailTime.UnixMilli():
		return 0, fmt.Errorf("%w: project %q lsn %d: time %s is before the time %s of lsn %d",
			ErrInvalidRecord, project, first, recs[0].Time.UTC().Format(time.RFC3339Nano),
			p.tailTime.Format(time.RFC3339Nano), tail)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	seg, err := s.activeSegment(p, int64(len(buf)))
	if err != nil {
		return 0, fmt.Errorf("wal: project %q: %w", project, err)
	}
	off := seg.size
	if _, err := seg.f.WriteAt(buf, off); err != nil {
		werr := fmt.Errorf("wal: project %q: write %s: %w", project, seg.path, err)
		if terr := seg.f.Truncate(off); terr != nil {
			p.failed = werr
			return 0, fmt.Errorf("%w; the records may be partly written, and cutting them off failed: %v", werr, terr)
		}
		return 0, werr
	}
	if !s.opts.NoSync {
		if err := syncData(seg.f); err != nil {
			// After a failed fsync the kernel may have dropped the dirty
			// pages: what is on disk is unknown until the log is reread.
			p.failed = err
			_ = seg.f.Truncate(off)
			return 0, fmt.Errorf("wal: project %q: %w", project, err)
		}
	}

	p.mu.Lock()
	for i := range recs {
		start := off
		if i > 0 {
			start += ends[i-1]
		}
		seg.offs = append(seg.offs, start)
	}
	seg.size = off + int64(len(buf))
	last := &recs[len(recs)-1]
	p.tail = last.LSN
	p.tailTime = time.UnixMilli(last.Time.UnixMilli()).UTC()
	p.mu.Unlock()
	return len(recs), nil
}

// activeSegment returns the segment the next batch of size n goes to,
// creating the project directory and a new segment when needed. The caller
// holds p.appendMu.
func (s *DirStore) activeSegment(p *dirProject, n int64) (*dirSegment, error) {
	if !p.dirExists {
		if err := os.Mkdir(p.dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if !s.opts.NoSync {
			if err := syncDir(s.dir); err != nil {
				return nil, err
			}
		}
		p.dirExists = true
	}
	if k := len(p.segs); k > 0 {
		cur := p.segs[k-1]
		if !cur.sealed && (len(cur.offs) == 0 || cur.size+n <= s.opts.SegmentSize) {
			return cur, nil
		}
	}
	first := p.tail + 1
	path := filepath.Join(p.dir, segmentName(first))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	_, err = f.WriteAt(segmentHeader(first), 0)
	if err == nil && !s.opts.NoSync {
		err = syncData(f)
		if err == nil {
			err = syncDir(p.dir)
		}
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create segment %s: %w", path, err)
	}
	seg := &dirSegment{first: first, path: path, f: f, size: segmentHeaderSize}
	p.mu.Lock()
	p.segs = append(p.segs, seg)
	p.mu.Unlock()
	return seg, nil
}

// Tail implements Store. It answers from memory.
func (s *DirStore) Tail(ctx context.Context, project string) (LSN, time.Time, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, time.Time{}, ErrClosed
	}
	p := s.project(project, false)
	if p == nil {
		return 0, time.Time{}, nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.tail, p.tailTime, nil
}

// readChunk is a run of consecutive frames in one segment.
type readChunk struct {
	seg        *dirSegment
	first      LSN
	n          int
	start, end int64
}

// Read implements Store. It seeks to from with the in-memory index, reads
// each segment's part with one read, and checks every frame's CRC and LSN:
// damage is reported as an error wrapping ErrCorrupt, with the records
// before it.
func (s *DirStore) Read(ctx context.Context, project string, from LSN, limit int) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if from == 0 {
		from = 1
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	p := s.project(project, false)
	if p == nil || limit <= 0 {
		return []Record{}, nil
	}

	p.mu.RLock()
	if from > p.tail {
		p.mu.RUnlock()
		return []Record{}, nil
	}
	total := uint64(p.tail - from + 1)
	if uint64(limit) < total {
		total = uint64(limit)
	}
	var chunks []readChunk
	left := int(total)
	i := sort.Search(len(p.segs), func(i int) bool { return p.segs[i].first > from }) - 1
	for lsn := from; left > 0 && i >= 0 && i < len(p.segs); i++ {
		seg := p.segs[i]
		idx := int(lsn - seg.first)
		n := min(left, len(seg.offs)-idx)
		if n <= 0 {
			continue
		}
		end := seg.size
		if idx+n < len(seg.offs) {
			end = seg.offs[idx+n]
		}
		chunks = append(chunks, readChunk{seg: seg, first: lsn, n: n, start: seg.offs[idx], end: end})
		lsn += LSN(n)
		left -= n
	}
	p.mu.RUnlock()

	// The indexed bytes never change, so they are read without p.mu; s.mu
	// (held shared) keeps the files open.
	out := make([]Record, 0, int(total))
	for _, c := range chunks {
		var err error
		if out, err = c.read(out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// read appends the chunk's records to out.
func (c readChunk) read(out []Record) ([]Record, error) {
	buf := make([]byte, c.end-c.start)
	if _, err := c.seg.f.ReadAt(buf, c.start); err != nil {
		if errors.Is(err, io.EOF) {
			return out, corruptf(c.seg.path, c.start, "file is shorter than its index (%d bytes expected)", c.end)
		}
		return out, fmt.Errorf("wal: read %s: %w", c.seg.path, err)
	}
	var pos int64
	for j := 0; j < c.n; j++ {
		off := c.start + pos
		n, lsn, err := parseFrame(buf, pos)
		if err != nil {
			return out, corruptf(c.seg.path, off, "%v", err)
		}
		want := c.first + LSN(j)
		if lsn != want {
			return out, corruptf(c.seg.path, off, "frame has lsn %d, expected %d", lsn, want)
		}
		r, err := DecodeRecord(buf[pos+frameHeaderSize : pos+n])
		if err != nil {
			return out, fmt.Errorf("%s offset %d: %w", c.seg.path, off, err)
		}
		if r.LSN != want {
			return out, corruptf(c.seg.path, off, "frame of lsn %d holds a record of lsn %d", want, r.LSN)
		}
		out = append(out, r)
		pos += n
	}
	return out, nil
}

// Projects implements Store.
func (s *DirStore) Projects(ctx context.Context) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	s.projMu.RLock()
	defer s.projMu.RUnlock()
	out := make([]string, 0, len(s.projects))
	for name, p := range s.projects {
		p.mu.RLock()
		if p.tail > 0 {
			out = append(out, name)
		}
		p.mu.RUnlock()
	}
	slices.Sort(out)
	return out, nil
}

// Close implements Store. It waits for in-flight operations, closes every
// file and releases the directory lock; later calls return ErrClosed.
// Closing a closed store returns nil.
func (s *DirStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.closeFiles()
	return errors.Join(err, unlockDir(s.lock))
}

// closeFiles closes every segment file.
func (s *DirStore) closeFiles() error {
	var errs []error
	for _, p := range s.projects {
		errs = append(errs, p.closeFiles())
	}
	return errors.Join(errs...)
}

func (p *dirProject) closeFiles() error {
	var errs []error
	for _, seg := range p.segs {
		if err := seg.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("wal: close %s: %w", seg.path, err))
		}
	}
	return errors.Join(errs...)
}

// Dir returns the directory the store was opened on.
func (s *DirStore) Dir() string { return s.dir }

var _ Store = (*DirStore)(nil)
