package wal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Tombstoner is implemented by stores that can free the space of records
// garbage collection no longer needs. A record is never deleted: the log's
// LSNs stay dense (readers and the MongoDB store's Tail rely on it), so a
// removed record is replaced by its tombstone, a record with the same LSN,
// time and branch, no operations and Tombstone set.
//
// Tombstone is safe for concurrent use with every other method of the
// store, in this process and, for stores several processes share, in
// others. A reader sees each record either whole or as its tombstone. The
// tombstones are durable, per the store, when Tombstone returns.
type Tombstoner interface {
	// Tombstone replaces the records of project at lsns (each at most the
	// tail) with tombstones and returns how many records it replaced and
	// how many bytes of storage that freed. LSNs that already hold
	// tombstones are skipped (and not counted), so a call may be repeated
	// after a failure. Catalog records (Branch "") are refused: the engine
	// needs them to know its branches.
	Tombstone(ctx context.Context, project string, lsns []LSN) (records int, bytes int64, err error)
}

// tombstoneOf returns the tombstone of r.
func tombstoneOf(r *Record) Record {
	return Record{LSN: r.LSN, Time: r.Time, Branch: r.Branch, Tombstone: true}
}

// checkTombstoneTarget refuses records garbage collection must keep.
func checkTombstoneTarget(project string, r *Record) error {
	if r.Branch == "" {
		return fmt.Errorf("%w: project %q lsn %d is a catalog record and cannot be tombstoned", ErrInvalidRecord, project, r.LSN)
	}
	return nil
}

// sortedLSNs returns lsns sorted, without duplicates, after checking them.
func sortedLSNs(project string, lsns []LSN, tail LSN) ([]LSN, error) {
	out := slices.Clone(lsns)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 0 && (out[0] == 0 || out[len(out)-1] > tail) {
		return nil, fmt.Errorf("%w: project %q: cannot tombstone lsns %d..%d, the tail is %d", ErrInvalidRecord, project, out[0], out[len(out)-1], tail)
	}
	return out, nil
}

// Tombstone implements Tombstoner. Freed bytes are those of the encodings
// the store keeps.
func (s *MemoryStore) Tombstone(ctx context.Context, project string, lsns []LSN) (int, int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, 0, ErrClosed
	}
	log := s.projects[project]
	sorted, err := sortedLSNs(project, lsns, LSN(len(log)))
	if err != nil {
		return 0, 0, err
	}
	// Check everything first, so a refused call changes nothing.
	tombs := make([][]byte, len(sorted))
	for i, lsn := range sorted {
		r, err := DecodeRecord(log[lsn-1])
		if err != nil {
			return 0, 0, err
		}
		if err := checkTombstoneTarget(project, &r); err != nil {
			return 0, 0, err
		}
		if !r.Tombstone {
			t := tombstoneOf(&r)
			tombs[i] = t.Encode()
		}
	}
	// Readers use the slice they saw after unlocking: change a copy.
	log = slices.Clone(log)
	s.projects[project] = log
	var n int
	var freed int64
	for i, lsn := range sorted {
		if tombs[i] != nil {
			n++
			freed += int64(len(log[lsn-1]) - len(tombs[i]))
			log[lsn-1] = tombs[i]
		}
	}
	return n, freed, nil
}

// Tombstone implements Tombstoner. Each segment holding some of lsns is
// rewritten into a new file (frames copied, the chosen ones replaced by
// their tombstones' frames, in the same batches), which is synced and then
// renamed over the old one; the directory is synced last. A crash leaves
// either the old segment or the new one, plus at worst a leftover
// "<segment>.gc" file that the next call overwrites. The last segment is
// sealed first: later appends go to a new segment, so the rewrite never
// races an append. Reads and appends wait only while the files are swapped.
func (s *DirStore) Tombstone(ctx context.Context, project string, lsns []LSN) (int, int64, error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return 0, 0, ErrClosed
	}
	p := s.project(project, false)
	s.mu.RUnlock()
	if p == nil {
		if len(lsns) == 0 {
			return 0, 0, nil
		}
		return 0, 0, fmt.Errorf("%w: project %q has no records", ErrInvalidRecord, project)
	}
	p.gcMu.Lock()
	defer p.gcMu.Unlock()

	rewrites, err := s.prepareTombstones(ctx, p, lsns)
	if err != nil {
		for _, rw := range rewrites {
			os.Remove(rw.tmp)
		}
	}
	if err != nil {
		return 0, 0, err
	}
	return s.swapSegments(p, rewrites)
}

// segmentRewrite is a segment's new content, written and synced to tmp.
type segmentRewrite struct {
	seg   *dirSegment
	tmp   string
	offs  []int64
	size  int64
	n     int // records replaced
	freed int64
}

// prepareTombstones writes the rewritten segments to temporary files. The
// caller holds p.gcMu.
func (s *DirStore) prepareTombstones(ctx context.Context, p *dirProject, lsns []LSN) ([]segmentRewrite, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	p.mu.RLock()
	tail := p.tail
	segs := slices.Clone(p.segs)
	p.mu.RUnlock()
	sorted, err := sortedLSNs(p.name, lsns, tail)
	if err != nil || len(sorted) == 0 {
		return nil, err
	}
	if last := segs[len(segs)-1]; sorted[len(sorted)-1] >= last.first {
		// Seal the last segment: from now on it is as immutable as the
		// others. Appends hold appendMu while they write.
		p.appendMu.Lock()
		last.sealed = true
		p.appendMu.Unlock()
	}
	var out []segmentRewrite
	for i, seg := range segs {
		var end LSN = tail + 1
		if i+1 < len(segs) {
			end = segs[i+1].first
		}
		lo, _ := slices.BinarySearch(sorted, seg.first)
		hi, _ := slices.BinarySearch(sorted, end)
		if lo == hi {
			continue
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		rw, err := s.rewriteSegment(p, seg, sorted[lo:hi])
		if rw.tmp != "" {
			out = append(out, rw)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// rewriteSegment writes seg, which no append changes any more, with the
// records at lsns replaced by tombstones, to seg.path+".gc".
func (s *DirStore) rewriteSegment(p *dirProject, seg *dirSegment, lsns []LSN) (segmentRewrite, error) {
	rw := segmentRewrite{seg: seg}
	p.mu.RLock()
	size, n := seg.size, LSN(len(seg.offs))
	p.mu.RUnlock()
	data := make([]byte, size)
	if _, err := seg.f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return rw, fmt.Errorf("wal: read %s: %w", seg.path, err)
	}
	buf := make([]byte, 0, len(data))
	buf = append(buf, data[:segmentHeaderSize]...)
	off := int64(segmentHeaderSize)
	next := 0
	for lsn := seg.first; lsn < seg.first+n; lsn++ {
		fn, flsn, batch, err := parseFrameBatch(data, off)
		if err != nil {
			return rw, corruptf(seg.path, off, "%v", err)
		}
		if flsn != lsn {
			return rw, corruptf(seg.path, off, "frame has lsn %d, expected %d", flsn, lsn)
		}
		rw.offs = append(rw.offs, int64(len(buf)))
		frame := data[off : off+fn]
		off += fn
		if next >= len(lsns) || lsns[next] != lsn {
			buf = append(buf, frame...)
			continue
		}
		next++
		r, err := DecodeRecord(frame[frameHeaderSize:])
		if err != nil {
			return rw, fmt.Errorf("%s offset %d: %w", seg.path, off-fn, err)
		}
		if err := checkTombstoneTarget(p.name, &r); err != nil {
			return rw, err
		}
		if r.Tombstone {
			buf = append(buf, frame...)
			continue
		}
		t := tombstoneOf(&r)
		before := len(buf)
		if buf, err = appendFrame(buf, &t, batch); err != nil {
			return rw, err
		}
		rw.n++
		rw.freed += fn - int64(len(buf)-before)
	}
	rw.size = int64(len(buf))
	if rw.n == 0 {
		return rw, nil // only tombstones already: nothing to write
	}
	rw.tmp = seg.path + ".gc"
	f, err := os.OpenFile(rw.tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return rw, fmt.Errorf("wal: garbage collection: %w", err)
	}
	_, err = f.Write(buf)
	if err == nil && !s.opts.NoSync {
		err = syncData(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return rw, fmt.Errorf("wal: garbage collection: write %s: %w", rw.tmp, err)
	}
	return rw, nil
}

// swapSegments renames the rewritten segments into place while no reader
// or appender is inside the store, and reopens them. The caller holds
// p.gcMu.
func (s *DirStore) swapSegments(p *dirProject, rewrites []segmentRewrite) (int, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		for _, rw := range rewrites {
			os.Remove(rw.tmp)
		}
		return 0, 0, ErrClosed
	}
	var n int
	var freed int64
	for i, rw := range rewrites {
		seg := rw.seg
		// Closing first lets the rename replace the file on every system.
		if err := seg.f.Close(); err != nil {
			return n, freed, fmt.Errorf("wal: close %s: %w", seg.path, err)
		}
		rerr := os.Rename(rw.tmp, seg.path)
		f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
		if err != nil {
			// The segment is unreadable through this store: stop appends
			// until it is reopened, which finds what is on disk.
			err = errors.Join(rerr, err)
			p.failed = err
			for _, later := range rewrites[i+1:] {
				os.Remove(later.tmp)
			}
			return n, freed, fmt.Errorf("wal: garbage collection: reopen %s: %w", seg.path, err)
		}
		seg.f = f
		if rerr != nil {
			os.Remove(rw.tmp)
			return n, freed, fmt.Errorf("wal: garbage collection: %w", rerr)
		}
		p.mu.Lock()
		seg.offs, seg.size = rw.offs, rw.size
		p.mu.Unlock()
		n += rw.n
		freed += rw.freed
	}
	if !s.opts.NoSync && n > 0 {
		if err := syncDir(p.dir); err != nil {
			return n, freed, fmt.Errorf("wal: garbage collection: %w", err)
		}
	}
	return n, freed, nil
}

// Tombstone implements Tombstoner: each record document is replaced by its
// tombstone's (same _id, project and nonce), then the chunks of a large
// record are deleted. Other processes may append and read meanwhile: the
// set of _ids never changes.
func (s *MongoStore) Tombstone(ctx context.Context, project string, lsns []LSN) (n int, freed int64, err error) {
	tail, _, err := s.Tail(ctx, project)
	if err != nil {
		return 0, 0, err
	}
	sorted, err := sortedLSNs(project, lsns, tail)
	if err != nil || len(sorted) == 0 {
		return 0, 0, err
	}
	ctx, cancel, err := s.opCtx(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer cancel()
	for _, lsn := range sorted {
		id := mongoRecordID(project, lsn)
		var raw bson.Raw
		err := s.records.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&raw)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return n, freed, fmt.Errorf("%w: project %q lsn %d is missing below the tail", ErrCorrupt, project, lsn)
		}
		if err != nil {
			return n, freed, fmt.Errorf("wal: mongodb store: reading %q lsn %d: %w", project, lsn, err)
		}
		head, err := DecodeRecordHead(raw)
		if err != nil {
			return n, freed, err
		}
		if head.LSN != lsn {
			return n, freed, fmt.Errorf("%w: project %q: _id of lsn %d holds lsn %d", ErrCorrupt, project, lsn, head.LSN)
		}
		if tomb, _ := raw.Lookup(fTombstone).BooleanOK(); tomb {
			continue
		}
		if err := checkTombstoneTarget(project, &head); err != nil {
			return n, freed, err
		}
		nonce, _ := raw.Lookup(mfNonce).Int64OK()
		t := tombstoneOf(&head)
		doc := t.appendEncoded(nil, func(dst []byte) []byte {
			dst = bsoncore.AppendStringElement(dst, "_id", id)
			dst = bsoncore.AppendStringElement(dst, mfProject, project)
			return bsoncore.AppendInt64Element(dst, mfNonce, nonce)
		})
		// The filter skips a record another collector tombstoned meanwhile,
		// so each removal is counted once.
		res, err := s.records.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: fTombstone, Value: bson.D{{Key: "$exists", Value: false}}}}, bson.Raw(doc))
		if err != nil {
			return n, freed, fmt.Errorf("wal: mongodb store: tombstoning %q lsn %d: %w", project, lsn, err)
		}
		if res.MatchedCount == 0 {
			continue
		}
		n++
		freed += int64(len(raw) - len(doc))
		if set, chunked := raw.Lookup(mfChunks).StringValueOK(); chunked {
			size, err := s.dropChunkSet(ctx, set)
			freed += size
			if err != nil {
				return n, freed, err
			}
		}
	}
	return n, freed, nil
}

// dropChunkSet deletes the chunks of a tombstoned record and returns their
// size.
func (s *MongoStore) dropChunkSet(ctx context.Context, set string) (int64, error) {
	cur, err := s.chunks.Find(ctx, chunkRange(set))
	if err != nil {
		return 0, fmt.Errorf("wal: mongodb store: reading chunks %s: %w", set, err)
	}
	var n int64
	for cur.Next(ctx) {
		n += int64(len(cur.Current))
	}
	err = cur.Err()
	_ = cur.Close(ctx)
	if err != nil {
		return 0, fmt.Errorf("wal: mongodb store: reading chunks %s: %w", set, err)
	}
	if _, err := s.chunks.DeleteMany(ctx, chunkRange(set)); err != nil {
		return 0, fmt.Errorf("wal: mongodb store: deleting chunks %s: %w", set, err)
	}
	return n, nil
}

var (
	_ Tombstoner = (*MemoryStore)(nil)
	_ Tombstoner = (*DirStore)(nil)
	_ Tombstoner = (*MongoStore)(nil)
)
