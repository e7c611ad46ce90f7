package wal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Checkpoints of the MongoDB store (framing in checkpoint.go). Part of the
// format.
//
// The framed content is cut into chunk documents {_id: "<set>/<6 digits>",
// d: <binary>} in the collection Collection+"_ckpt_chunks", written first;
// then one head document {_id: "<project>/<lsn as 20 digits>", p, lsn, set,
// n} in Collection+"_ckpt" commits the checkpoint. The set id
// "<project>/<lsn as 20 digits>/<random>" is unique to one put, so
// processes writing checkpoints at once never mix their chunks, and the
// head's unique _id makes one of two puts at the same LSN win (the other
// drops its chunks). Pruning deletes a head before its chunks, so a reader
// never follows a head to chunks of another checkpoint; a reader that
// loses a race with pruning finds chunks missing and reports ErrCorrupt.
const (
	mongoCkptSuffix      = "_ckpt"
	mongoCkptChunkSuffix = "_ckpt_chunks"
	mongoCkptChunkSize   = 4 << 20
	mcSet                = "set"
	mcN                  = "n"
	mcLSN                = "lsn"
	mcData               = "d"
)

func (s *MongoStore) ckptColls() (heads, chunks *mongo.Collection) {
	db := s.records.Database()
	return db.Collection(s.records.Name() + mongoCkptSuffix), db.Collection(s.records.Name() + mongoCkptChunkSuffix)
}

// chunkWriter cuts what is written into chunk documents.
type chunkWriter struct {
	ctx     context.Context
	chunks  *mongo.Collection
	set     string
	timeout time.Duration
	buf     []byte
	n       int
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), mongoCkptChunkSize-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(w.buf) == mongoCkptChunkSize {
			if err := w.flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(w.ctx, w.timeout)
	defer cancel()
	_, err := w.chunks.InsertOne(ctx, bson.D{
		{Key: "_id", Value: fmt.Sprintf("%s/%06d", w.set, w.n)},
		{Key: mcData, Value: w.buf},
	})
	if err != nil {
		return fmt.Errorf("wal: mongodb store: writing a checkpoint chunk: %w", err)
	}
	w.n++
	w.buf = w.buf[:0]
	return nil
}

// PutCheckpoint implements Checkpointer. The content streams out in chunks
// of 4 MiB; the checkpoint is durable per the write concern when
// PutCheckpoint returns. The LSN is not checked against the log (that
// would cost a Tail): callers pass LSNs they have read.
func (s *MongoStore) PutCheckpoint(ctx context.Context, project string, lsn LSN, write func(io.Writer) error) error {
	if err := ValidateProjectName(project); err != nil {
		return err
	}
	if lsn == 0 {
		return fmt.Errorf("wal: checkpoint of project %q at lsn 0", project)
	}
	// Writing may take long: the store's timeout bounds each call, not the
	// whole put.
	select {
	case <-s.closed:
		return ErrClosed
	default:
	}
	heads, chunks := s.ckptColls()
	headID := mongoRecordID(project, lsn)
	set := fmt.Sprintf("%s/%016x", headID, rand.Uint64())
	cw := &chunkWriter{chunks: chunks, set: set, timeout: s.timeout, buf: make([]byte, 0, mongoCkptChunkSize)}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		_, _ = chunks.DeleteMany(dctx, chunkRange(set))
		cancel()
	}
	err := func() error {
		octx, cancel := context.WithCancel(ctx)
		defer cancel()
		cw.ctx = octx
		if err := writeCheckpoint(cw, lsn, write); err != nil {
			return err
		}
		return cw.flush()
	}()
	if err != nil {
		drop()
		return err
	}
	octx, cancel, err := s.opCtx(ctx)
	if err != nil {
		drop()
		return err
	}
	defer cancel()
	_, err = heads.InsertOne(octx, bson.D{
		{Key: "_id", Value: headID}, {Key: mfProject, Value: project},
		{Key: mcLSN, Value: int64(lsn)}, {Key: mcSet, Value: set}, {Key: mcN, Value: int32(cw.n)},
	})
	if mongo.IsDuplicateKeyError(err) {
		// Another put committed a checkpoint at this LSN: it stands.
		drop()
		return nil
	}
	if err != nil {
		// The outcome may be unknown (a lost reply): keep the chunks, which
		// a committed head may need; pruning removes them otherwise.
		return fmt.Errorf("wal: mongodb store: committing a checkpoint: %w", err)
	}
	s.pruneCheckpoints(octx, project)
	return nil
}

type mongoCkptHead struct {
	ID  string `bson:"_id"`
	LSN int64  `bson:"lsn"`
	Set string `bson:"set"`
	N   int32  `bson:"n"`
}

// heads returns project's checkpoint heads, newest first.
func (s *MongoStore) ckptHeads(ctx context.Context, project string) ([]mongoCkptHead, error) {
	heads, _ := s.ckptColls()
	cur, err := heads.Find(ctx, projectRange(project, 0), options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}))
	if err != nil {
		return nil, fmt.Errorf("wal: mongodb store: listing checkpoints: %w", err)
	}
	var out []mongoCkptHead
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("wal: mongodb store: listing checkpoints: %w", err)
	}
	return out, nil
}

// pruneCheckpoints keeps the newest KeepCheckpoints heads and removes the
// others, each head before its chunks, then chunks older than every kept
// head that no head names (left by puts that failed). Best effort.
func (s *MongoStore) pruneCheckpoints(ctx context.Context, project string) {
	list, err := s.ckptHeads(ctx, project)
	if err != nil || len(list) <= KeepCheckpoints {
		return
	}
	headColl, chunks := s.ckptColls()
	for _, h := range list[KeepCheckpoints:] {
		if _, err := headColl.DeleteOne(ctx, bson.D{{Key: "_id", Value: h.ID}}); err != nil {
			return
		}
		if _, err := chunks.DeleteMany(ctx, chunkRange(h.Set)); err != nil {
			return
		}
	}
	oldest := list[KeepCheckpoints-1].ID
	_, _ = chunks.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{
		{Key: "$gte", Value: project + "/"}, {Key: "$lt", Value: oldest}}}})
}

// Checkpoints implements Checkpointer.
func (s *MongoStore) Checkpoints(ctx context.Context, project string) ([]LSN, error) {
	if err := ValidateProjectName(project); err != nil {
		return nil, err
	}
	ctx, cancel, err := s.opCtx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	list, err := s.ckptHeads(ctx, project)
	if err != nil {
		return nil, err
	}
	out := make([]LSN, len(list))
	for i, h := range list {
		out[i] = LSN(h.LSN)
	}
	return out, nil
}

// OpenCheckpoint implements Checkpointer. The reader fetches one chunk at
// a time, by _id, while ctx lasts.
func (s *MongoStore) OpenCheckpoint(ctx context.Context, project string, lsn LSN) (io.ReadCloser, error) {
	if err := ValidateProjectName(project); err != nil {
		return nil, err
	}
	octx, cancel, err := s.opCtx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	heads, chunks := s.ckptColls()
	var h mongoCkptHead
	err = heads.FindOne(octx, bson.D{{Key: "_id", Value: mongoRecordID(project, lsn)}}).Decode(&h)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("%w: project %q lsn %d", ErrCheckpointNotFound, project, lsn)
	}
	if err != nil {
		return nil, fmt.Errorf("wal: mongodb store: reading a checkpoint: %w", err)
	}
	name := fmt.Sprintf("%s lsn %d", project, lsn)
	cr := &chunkReader{s: s, ctx: ctx, chunks: chunks, set: h.Set, n: int(h.N), name: name}
	return newCkptReader(cr, nil, lsn, name), nil
}

// chunkReader reads the chunks of one set in order.
type chunkReader struct {
	s      *MongoStore
	ctx    context.Context
	chunks *mongo.Collection
	set    string
	n, i   int
	name   string
	data   []byte
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.data) == 0 {
		if r.i == r.n {
			return 0, io.EOF
		}
		ctx, cancel, err := r.s.opCtx(r.ctx)
		if err != nil {
			return 0, err
		}
		var doc bson.Raw
		id := fmt.Sprintf("%s/%06d", r.set, r.i)
		err = r.chunks.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc)
		cancel()
		if errors.Is(err, mongo.ErrNoDocuments) {
			return 0, fmt.Errorf("%w: checkpoint %s: chunk %d of %d is missing", ErrCorrupt, r.name, r.i, r.n)
		}
		if err != nil {
			return 0, fmt.Errorf("wal: mongodb store: reading a checkpoint chunk: %w", err)
		}
		_, data, ok := doc.Lookup(mcData).BinaryOK()
		if !ok || len(data) == 0 {
			return 0, fmt.Errorf("%w: checkpoint %s: chunk %d has no data", ErrCorrupt, r.name, r.i)
		}
		r.data = data
		r.i++
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}
