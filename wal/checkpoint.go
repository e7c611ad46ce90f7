package wal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"time"
)

// Checkpointer is implemented by stores that also keep checkpoints: opaque
// snapshots of a project's materialized state as of an LSN, written by the
// layer above the log, so that a new process loads the newest one and
// replays only the records after it. It is optional: callers find it with a
// type assertion on a Store, and a store without it only costs full
// replays. MemoryStore, DirStore and MongoStore implement it.
//
// The store frames a checkpoint's content in blocks, each with a CRC-32C
// that also covers the checkpoint's LSN and the block's position (see
// doc.go), so a reader never returns bytes other than those written: a
// damaged, truncated or half-written checkpoint fails with an error
// wrapping ErrCorrupt, and the caller falls back to an older checkpoint or
// to a full replay. A checkpoint is never part of the log: losing every
// checkpoint loses no data.
//
// Implementations are safe for concurrent use, including several writers
// of checkpoints of one project (in one process or, for MongoStore, many).
type Checkpointer interface {
	// PutCheckpoint stores a checkpoint of project as of lsn, an LSN already
	// durable in the log. write produces the content; it may write any
	// amount, which the store streams out in blocks rather than buffering
	// it. The checkpoint becomes visible, all at once, only if write returns
	// nil and the store has made the content durable; otherwise nothing is
	// visible. A checkpoint already stored at the same lsn stays or is
	// replaced by an equivalent one. Afterwards the store keeps the newest
	// KeepCheckpoints checkpoints of project and removes older ones.
	PutCheckpoint(ctx context.Context, project string, lsn LSN, write func(w io.Writer) error) error

	// Checkpoints lists the LSNs of project's checkpoints, newest first.
	Checkpoints(ctx context.Context, project string) ([]LSN, error)

	// OpenCheckpoint returns the content of the checkpoint of project at
	// lsn. It fails with an error wrapping ErrCheckpointNotFound if there is
	// none (it may have been pruned since Checkpoints listed it). The
	// reader's Read fails with an error wrapping ErrCorrupt as soon as it
	// meets damaged or missing data, before returning any of it. Close the
	// reader when done.
	OpenCheckpoint(ctx context.Context, project string, lsn LSN) (io.ReadCloser, error)
}

// KeepCheckpoints is how many checkpoints per project a store keeps: the
// newest one and one to fall back to should the newest be damaged.
const KeepCheckpoints = 2

// ErrCheckpointNotFound means a checkpoint does not exist (or no longer).
var ErrCheckpointNotFound = errors.New("wal: checkpoint not found")

// Checkpoint framing, shared by every store. Part of the format.
//
//	header (16 bytes)
//	+-------------+-------------+-----------------+
//	| magic   u32 | version u32 | lsn         u64 |
//	| "ACKP"      | 1           |                 |
//	+-------------+-------------+-----------------+
//	blocks, back to back:
//	+------------+------------+-------------------+
//	| length u32 | crc    u32 | data (length)     |
//	+------------+------------+-------------------+
//	crc = CRC-32C over lsn u64, block index u32, length u32, data.
//	The last block has length 0 and 8 bytes of data instead: the total
//	content length u64. Nothing may follow it.
const (
	ckptMagic      uint32 = 0x504B4341 // "ACKP" as the first 4 bytes
	ckptVersion    uint32 = 1
	ckptHeaderSize        = 16
	ckptBlockHead         = 8
	ckptBlockSize         = 256 << 10 // data bytes per block the writer emits
	ckptMaxBlock          = 4 << 20   // the reader refuses longer blocks
)

func ckptHeader(lsn LSN) []byte {
	h := make([]byte, ckptHeaderSize)
	binary.LittleEndian.PutUint32(h[0:], ckptMagic)
	binary.LittleEndian.PutUint32(h[4:], ckptVersion)
	binary.LittleEndian.PutUint64(h[8:], uint64(lsn))
	return h
}

func ckptBlockCRC(lsn LSN, index uint32, length uint32, data []byte) uint32 {
	var pre [16]byte
	binary.LittleEndian.PutUint64(pre[0:], uint64(lsn))
	binary.LittleEndian.PutUint32(pre[8:], index)
	binary.LittleEndian.PutUint32(pre[12:], length)
	c := crc32.Update(0, castagnoli, pre[:])
	return crc32.Update(c, castagnoli, data)
}

// ckptWriter frames content written to it into blocks on w.
type ckptWriter struct {
	w     io.Writer
	lsn   LSN
	buf   []byte
	index uint32
	total uint64
	err   error
}

func newCkptWriter(w io.Writer, lsn LSN) (*ckptWriter, error) {
	if _, err := w.Write(ckptHeader(lsn)); err != nil {
		return nil, err
	}
	return &ckptWriter{w: w, lsn: lsn, buf: make([]byte, 0, ckptBlockSize)}, nil
}

func (cw *ckptWriter) Write(p []byte) (int, error) {
	if cw.err != nil {
		return 0, cw.err
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), ckptBlockSize-len(cw.buf))
		cw.buf = append(cw.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(cw.buf) == ckptBlockSize {
			if err := cw.flushBlock(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func (cw *ckptWriter) flushBlock() error {
	if len(cw.buf) == 0 {
		return nil
	}
	h := make([]byte, ckptBlockHead)
	binary.LittleEndian.PutUint32(h[0:], uint32(len(cw.buf)))
	binary.LittleEndian.PutUint32(h[4:], ckptBlockCRC(cw.lsn, cw.index, uint32(len(cw.buf)), cw.buf))
	if _, err := cw.w.Write(h); err != nil {
		cw.err = err
		return err
	}
	if _, err := cw.w.Write(cw.buf); err != nil {
		cw.err = err
		return err
	}
	cw.index++
	cw.total += uint64(len(cw.buf))
	cw.buf = cw.buf[:0]
	return nil
}

// finish writes the pending block and the end block.
func (cw *ckptWriter) finish() error {
	if err := cw.flushBlock(); err != nil {
		return err
	}
	if cw.err != nil {
		return cw.err
	}
	end := make([]byte, ckptBlockHead+8)
	binary.LittleEndian.PutUint64(end[ckptBlockHead:], cw.total)
	binary.LittleEndian.PutUint32(end[4:], ckptBlockCRC(cw.lsn, cw.index, 0, end[ckptBlockHead:]))
	_, err := cw.w.Write(end)
	return err
}

// writeCheckpoint frames the content write produces onto w.
func writeCheckpoint(w io.Writer, lsn LSN, write func(io.Writer) error) error {
	cw, err := newCkptWriter(w, lsn)
	if err != nil {
		return err
	}
	if err := write(cw); err != nil {
		return err
	}
	if cw.err != nil {
		return cw.err
	}
	return cw.finish()
}

// ckptReader checks the framing of a checkpoint and returns its content.
type ckptReader struct {
	r     *bufio.Reader
	c     io.Closer
	lsn   LSN
	name  string // for errors
	index uint32
	total uint64
	data  []byte // unread content of the current block
	begun bool   // the header was checked
	done  bool
	err   error
}

// newCkptReader reads a framed checkpoint from r; name describes it in
// errors, c (if not nil) is closed by Close.
func newCkptReader(r io.Reader, c io.Closer, lsn LSN, name string) *ckptReader {
	return &ckptReader{r: bufio.NewReaderSize(r, 64<<10), c: c, lsn: lsn, name: name}
}

func (cr *ckptReader) corrupt(format string, args ...any) error {
	cr.err = fmt.Errorf("%w: checkpoint %s: %s", ErrCorrupt, cr.name, fmt.Sprintf(format, args...))
	return cr.err
}

func (cr *ckptReader) readFull(p []byte, what string) error {
	if _, err := io.ReadFull(cr.r, p); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return cr.corrupt("truncated in %s", what)
		}
		cr.err = err
		return err
	}
	return nil
}

func (cr *ckptReader) Read(p []byte) (int, error) {
	for len(cr.data) == 0 {
		if cr.err != nil {
			return 0, cr.err
		}
		if cr.done {
			return 0, io.EOF
		}
		if err := cr.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, cr.data)
	cr.data = cr.data[n:]
	return n, nil
}

// next reads and checks the next block (the header first).
func (cr *ckptReader) next() error {
	if !cr.begun {
		h := make([]byte, ckptHeaderSize)
		if err := cr.readFull(h, "header"); err != nil {
			return err
		}
		switch {
		case binary.LittleEndian.Uint32(h[0:]) != ckptMagic:
			return cr.corrupt("bad magic")
		case binary.LittleEndian.Uint32(h[4:]) != ckptVersion:
			return cr.corrupt("unsupported version %d", binary.LittleEndian.Uint32(h[4:]))
		case LSN(binary.LittleEndian.Uint64(h[8:])) != cr.lsn:
			return cr.corrupt("header says lsn %d", binary.LittleEndian.Uint64(h[8:]))
		}
		cr.begun = true
	}
	var h [ckptBlockHead]byte
	if err := cr.readFull(h[:], fmt.Sprintf("block %d", cr.index)); err != nil {
		return err
	}
	length := binary.LittleEndian.Uint32(h[0:])
	crc := binary.LittleEndian.Uint32(h[4:])
	if length == 0 {
		var tb [8]byte
		if err := cr.readFull(tb[:], "end block"); err != nil {
			return err
		}
		if ckptBlockCRC(cr.lsn, cr.index, 0, tb[:]) != crc {
			return cr.corrupt("end block checksum mismatch")
		}
		if total := binary.LittleEndian.Uint64(tb[:]); total != cr.total {
			return cr.corrupt("end block says %d bytes, read %d", total, cr.total)
		}
		if _, err := cr.r.ReadByte(); err == nil {
			return cr.corrupt("data after the end block")
		} else if !errors.Is(err, io.EOF) {
			cr.err = err
			return err
		}
		cr.done = true
		return nil
	}
	if length > ckptMaxBlock {
		return cr.corrupt("block %d length %d", cr.index, length)
	}
	data := make([]byte, length)
	if err := cr.readFull(data, fmt.Sprintf("block %d", cr.index)); err != nil {
		return err
	}
	if ckptBlockCRC(cr.lsn, cr.index, length, data) != crc {
		return cr.corrupt("block %d checksum mismatch", cr.index)
	}
	cr.index++
	cr.total += uint64(length)
	cr.data = data
	return nil
}

func (cr *ckptReader) Close() error {
	if cr.c != nil {
		return cr.c.Close()
	}
	return nil
}

// FollowFrom is Follow for a follower that already holds the project's
// state up to LSN after (loaded from a checkpoint), whose record has time
// at: appends never get a time before at.
func (l *Log) FollowFrom(project string, after LSN, at time.Time, fn func(Record)) error {
	pl, err := l.project(project)
	if err != nil {
		return err
	}
	pl.sem <- struct{}{}
	defer func() { <-pl.sem }()
	if pl.follower != nil {
		return fmt.Errorf("wal: project %q already has a follower", project)
	}
	// The next round or sync catches up from after, delivering everything
	// past it, even if this Log appended to the project before.
	pl.follower = fn
	pl.known, pl.knownTime = after, at
	pl.initialized = false
	pl.caughtUp = 0 // known went back: the next Sync must catch up itself
	return nil
}

// memCheckpoint is one checkpoint of a MemoryStore: the framed bytes.
type memCheckpoint struct {
	lsn  LSN
	data []byte
}

// PutCheckpoint implements Checkpointer. The content is buffered in memory.
func (s *MemoryStore) PutCheckpoint(ctx context.Context, project string, lsn LSN, write func(io.Writer) error) error {
	if err := ValidateProjectName(project); err != nil {
		return err
	}
	if tail, _, err := s.Tail(ctx, project); err != nil {
		return err
	} else if lsn == 0 || lsn > tail {
		return fmt.Errorf("wal: checkpoint of project %q at lsn %d: the log's tail is %d", project, lsn, tail)
	}
	var buf bytes.Buffer
	if err := writeCheckpoint(&buf, lsn, write); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.ckpts == nil {
		s.ckpts = make(map[string][]memCheckpoint)
	}
	list := slices.DeleteFunc(slices.Clone(s.ckpts[project]), func(c memCheckpoint) bool { return c.lsn == lsn })
	list = append(list, memCheckpoint{lsn: lsn, data: buf.Bytes()})
	slices.SortFunc(list, func(a, b memCheckpoint) int { return -cmpLSN(a.lsn, b.lsn) })
	s.ckpts[project] = list[:min(len(list), KeepCheckpoints)]
	return nil
}

func cmpLSN(a, b LSN) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Checkpoints implements Checkpointer.
func (s *MemoryStore) Checkpoints(ctx context.Context, project string) ([]LSN, error) {
	if err := ValidateProjectName(project); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	var out []LSN
	for _, c := range s.ckpts[project] {
		out = append(out, c.lsn)
	}
	return out, nil
}

// OpenCheckpoint implements Checkpointer.
func (s *MemoryStore) OpenCheckpoint(ctx context.Context, project string, lsn LSN) (io.ReadCloser, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	for _, c := range s.ckpts[project] {
		if c.lsn == lsn {
			return newCkptReader(bytes.NewReader(c.data), nil, lsn, fmt.Sprintf("%s@%d", project, lsn)), nil
		}
	}
	return nil, fmt.Errorf("%w: project %q lsn %d", ErrCheckpointNotFound, project, lsn)
}
