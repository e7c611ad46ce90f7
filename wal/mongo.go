package wal

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/argon-lab/argon/internal/bsonutil"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readconcern"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
	"golang.org/x/sync/errgroup"
)

// Layout of the MongoDB store. Part of the format.
const (
	// A record is one document in the records collection. Its _id is
	// "<project>/<lsn as 20 digits>", so the _id index alone arbitrates LSN
	// races (a duplicate key means the LSN is taken) and serves every read
	// as a range scan in LSN order.
	mongoIDDigits = 20
	// Fields the store adds in front of the record's own encoding.
	mfProject = "p" // project name
	mfNonce   = "w" // random per append call: tells our own insert from another writer's
	mfChunks  = "x" // chunk set id, when the ops live in the chunks collection
	mfNChunks = "n" // number of chunks
	// The project's document in the projects collection: {_id: project,
	// c: time of the first append}.
	mfCreated = "c"
	// Records whose encoding exceeds mongoInlineLimit are split into
	// chunks of mongoChunkSize bytes in the chunks collection, written before
	// the record document; the record document is the commit point, so a
	// large record is never half written.
	mongoInlineLimit = 16*1024*1024 - 64*1024
	mongoChunkSize   = 8 * 1024 * 1024
	// Reads of up to mongoPointReadMax records use point lookups by _id.
	mongoPointReadMax = 32
)

// MongoOptions configure a MongoStore. Nil means the defaults.
type MongoOptions struct {
	// Database holds the store's collections. Default "argon".
	Database string
	// Collection holds the records. Default "wal"; chunks of large records
	// go to Collection+"_chunks", project names to Collection+"_projects".
	Collection string
	// WriteConcern for appends. Default majority, which on a replica set
	// survives the loss of the primary and on a standalone server is
	// journaled.
	WriteConcern *writeconcern.WriteConcern
	// ReadConcern for reads. Default majority, so a record that could be
	// rolled back is never seen. Servers without read concern support may
	// need readconcern.Local().
	ReadConcern *readconcern.ReadConcern
	// OpTimeout bounds each store operation. Default 60 s.
	OpTimeout time.Duration
}

// MongoStore keeps the log in a MongoDB deployment: a standalone server, a
// replica set or a sharded cluster. It needs neither transactions nor change
// streams. Any number of processes may append to one MongoStore at once.
//
// A MongoStore is safe for concurrent use. An append is durable per the
// write concern (majority by default) when Append returns.
type MongoStore struct {
	client   *mongo.Client
	owned    bool
	records  *mongo.Collection
	chunks   *mongo.Collection
	projects *mongo.Collection
	timeout  time.Duration
	closed   chan struct{}

	// hints caches, per project, an LSN known to exist, so Tail probes
	// forward from it instead of searching the whole log.
	hintMu sync.Mutex
	hints  map[string]mongoHint
}

// OpenMongo opens the store in the deployment client is connected to. The
// store does not disconnect client on Close.
func OpenMongo(ctx context.Context, client *mongo.Client, opts *MongoOptions) (*MongoStore, error) {
	var o MongoOptions
	if opts != nil {
		o = *opts
	}
	if o.Database == "" {
		o.Database = "argon"
	}
	if o.Collection == "" {
		o.Collection = "wal"
	}
	if err := ValidateNamespace(o.Database, o.Collection+"_projects"); err != nil {
		return nil, err
	}
	if o.WriteConcern == nil {
		o.WriteConcern = writeconcern.Majority()
	}
	if o.ReadConcern == nil {
		o.ReadConcern = readconcern.Majority()
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = 60 * time.Second
	}
	db := client.Database(o.Database, options.Database().
		SetWriteConcern(o.WriteConcern).SetReadConcern(o.ReadConcern))
	s := &MongoStore{
		client:   client,
		records:  db.Collection(o.Collection),
		chunks:   db.Collection(o.Collection + "_chunks"),
		projects: db.Collection(o.Collection + "_projects"),
		timeout:  o.OpTimeout,
		closed:   make(chan struct{}),
		hints:    make(map[string]mongoHint),
	}
	// A round trip now turns a wrong address into an error at open, not at
	// the first write.
	ctx, cancel := context.WithTimeout(ctx, o.OpTimeout)
	defer cancel()
	if err := client.Ping(ctx, nil); err != nil {
		return nil, fmt.Errorf("wal: mongodb store: %w", err)
	}
	return s, nil
}

// ConnectMongo connects to uri and opens the store there; Close disconnects.
func ConnectMongo(ctx context.Context, uri string, opts *MongoOptions) (*MongoStore, error) {
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		return nil, fmt.Errorf("wal: mongodb store: %w", err)
	}
	s, err := OpenMongo(ctx, client, opts)
	if err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	s.owned = true
	return s, nil
}

func mongoRecordID(project string, lsn LSN) string {
	return fmt.Sprintf("%s/%0*d", project, mongoIDDigits, uint64(lsn))
}

// projectRange is the _id range holding project's records: '0' is the
// byte after '/'.
func projectRange(project string, from LSN) bson.D {
	return bson.D{{Key: "_id", Value: bson.D{
		{Key: "$gte", Value: mongoRecordID(project, from)},
		{Key: "$lt", Value: project + "0"},
	}}}
}

// chunkRange selects the chunks of one chunk set ("<set>/<n>").
func chunkRange(set string) bson.D {
	return bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: set + "/"}, {Key: "$lt", Value: set + "0"}}}}
}

func (s *MongoStore) opCtx(ctx context.Context) (context.Context, context.CancelFunc, error) {
	select {
	case <-s.closed:
		return nil, nil, ErrClosed
	default:
	}
	c, cancel := context.WithTimeout(ctx, s.timeout)
	return c, cancel, nil
}

// Append implements Store. An append is one ordered insert into the
// records collection (plus the chunks of records too large for one
// document, and the project's registration before its first record).
func (s *MongoStore) Append(ctx context.Context, project string, recs []Record) (int, error) {
	if err := ValidateProjectName(project); err != nil {
		return 0, err
	}
	if err := checkBatch(recs); err != nil {
		return 0, err
	}
	ctx, cancel, err := s.opCtx(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	nonce := rand.Int64()
	docs := make([]any, len(recs))
	ids := make([]string, len(recs))
	var chunkSets []string
	for i := range recs {
		r := &recs[i]
		ids[i] = mongoRecordID(project, r.LSN)
		enc := r.Encode()
		if len(enc) > MaxRecordSize {
			return 0, fmt.Errorf("%w: lsn %d is %d bytes", ErrRecordTooLarge, r.LSN, len(enc))
		}
		prefix := func(dst []byte) []byte {
			dst = bsoncore.AppendStringElement(dst, "_id", ids[i])
			dst = bsoncore.AppendStringElement(dst, mfProject, project)
			return bsoncore.AppendInt64Element(dst, mfNonce, nonce)
		}
		if len(enc) <= mongoInlineLimit {
			// The store's fields, then the record's (enc without its
			// length and terminator): the record is encoded only once.
			idx, doc := bsoncore.AppendDocumentStart(make([]byte, 0, len(enc)+len(ids[i])+len(project)+48))
			doc = append(prefix(doc), enc[4:len(enc)-1]...)
			doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
			docs[i] = bson.Raw(doc)
			continue
		}
		set := fmt.Sprintf("%s/%016x/%d", ids[i], uint64(nonce), i)
		n, err := s.writeChunks(ctx, set, enc)
		if err != nil {
			s.dropChunks(chunkSets)
			return 0, err
		}
		chunkSets = append(chunkSets, set)
		head := Record{LSN: r.LSN, Time: r.Time, Branch: r.Branch}
		docs[i] = bson.Raw(head.appendHead(prefix, set, n))
	}
	last := recs[len(recs)-1].LSN
	if recs[0].LSN == 1 {
		// Register the project before its first record, so Projects never
		// misses a project that has records.
		if err := s.register(ctx, project, recs[0].Time); err != nil {
			s.dropChunks(chunkSets)
			return 0, fmt.Errorf("wal: mongodb store: registering project %q: %w", project, err)
		}
	}
	_, insErr := s.records.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	if insErr == nil {
		s.hint(project, last, recs[len(recs)-1].Time)
		return len(recs), nil
	}
	// An ordered insert that failed on its first document with a duplicate
	// key inserted nothing: the LSN is another writer's.
	var bwe mongo.BulkWriteException
	if errors.As(insErr, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) > 0 &&
		bwe.WriteErrors[0].Index == 0 && mongo.IsDuplicateKeyError(bwe.WriteErrors[0]) {
		s.dropChunks(chunkSets)
		s.hint(project, recs[0].LSN, time.Time{})
		return 0, fmt.Errorf("%w: project %q lsn %d", ErrLSNTaken, project, recs[0].LSN)
	}
	// Whatever the error says, what is in the collection decides: a reply may
	// be lost after a commit, and servers differ in how they report partial
	// inserts.
	n, taken, err := s.resolve(project, ids, nonce)
	if err != nil {
		return 0, fmt.Errorf("wal: mongodb store: append failed (%v) and its outcome is unknown: %w", insErr, err)
	}
	s.dropChunks(chunkSets[min(n, len(chunkSets)):])
	if n > 0 {
		s.hint(project, recs[n-1].LSN, recs[n-1].Time)
	}
	switch {
	case n == len(recs):
		return n, nil
	case taken:
		return n, fmt.Errorf("%w: project %q lsn %d", ErrLSNTaken, project, recs[n].LSN)
	default:
		return n, fmt.Errorf("wal: mongodb store: append: %w", insErr)
	}
}

// register creates project's document if it does not exist yet.
func (s *MongoStore) register(ctx context.Context, project string, t time.Time) error {
	_, err := s.projects.UpdateOne(ctx, bson.D{{Key: "_id", Value: project}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: mfCreated, Value: t}}}},
		options.Update().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// Two first upserts raced; the document exists now.
		err = nil
	}
	return err
}

// resolve reads back the records an append tried to insert and returns how
// many leading ones are ours, and whether the next one belongs to another
// writer.
func (s *MongoStore) resolve(project string, ids []string, nonce int64) (int, bool, error) {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		owner, err := s.owners(ctx, ids)
		cancel()
		if err != nil {
			lastErr = err
			continue
		}
		for i, id := range ids {
			w, ok := owner[id]
			if !ok {
				return i, false, nil
			}
			if w != nonce {
				return i, true, nil
			}
		}
		return len(ids), false, nil
	}
	return 0, false, lastErr
}

func (s *MongoStore) owners(ctx context.Context, ids []string) (map[string]int64, error) {
	cur, err := s.records.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: mfNonce, Value: 1}}))
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	out := make(map[string]int64, len(ids))
	for cur.Next(ctx) {
		id, _ := cur.Current.Lookup("_id").StringValueOK()
		w, _ := cur.Current.Lookup(mfNonce).Int64OK()
		out[id] = w
	}
	return out, cur.Err()
}

func (s *MongoStore) writeChunks(ctx context.Context, set string, enc []byte) (int, error) {
	var docs []any
	for i := 0; len(enc) > 0; i++ {
		n := min(len(enc), mongoChunkSize)
		docs = append(docs, bson.D{
			{Key: "_id", Value: fmt.Sprintf("%s/%06d", set, i)},
			{Key: "d", Value: enc[:n]},
		})
		enc = enc[n:]
	}
	// One chunk per call keeps each request under the server's message size.
	for _, d := range docs {
		if _, err := s.chunks.InsertOne(ctx, d); err != nil {
			return 0, fmt.Errorf("wal: mongodb store: writing a chunk of a large record: %w", err)
		}
	}
	return len(docs), nil
}

// dropChunks removes chunks of records that were not committed. It is best
// effort: leftovers are unreachable and only take space.
func (s *MongoStore) dropChunks(sets []string) {
	for _, set := range sets {
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		_, _ = s.chunks.DeleteMany(ctx, chunkRange(set))
		cancel()
	}
}

func (r *Record) appendHead(prefix func([]byte) []byte, set string, n int) []byte {
	idx, dst := bsoncore.AppendDocumentStart(nil)
	dst = prefix(dst)
	dst = bsoncore.AppendInt32Element(dst, fVersion, recordVersion)
	dst = bsoncore.AppendInt64Element(dst, fLSN, int64(r.LSN))
	dst = bsoncore.AppendDateTimeElement(dst, fTime, r.Time.UnixMilli())
	if r.Branch != "" {
		dst = bsoncore.AppendStringElement(dst, fBranch, r.Branch)
	}
	dst = bsoncore.AppendStringElement(dst, mfChunks, set)
	dst = bsoncore.AppendInt32Element(dst, mfNChunks, int32(n))
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

// mongoHint is an LSN known to exist and, if known, its time.
type mongoHint struct {
	lsn LSN
	t   time.Time
}

func (s *MongoStore) hint(project string, lsn LSN, t time.Time) {
	s.hintMu.Lock()
	if h := s.hints[project]; lsn > h.lsn || (lsn == h.lsn && h.t.IsZero()) {
		s.hints[project] = mongoHint{lsn, t}
	}
	s.hintMu.Unlock()
}

// probe reports whether lsn exists, and its time. It is a point lookup by
// _id, which MongoDB answers from the _id index.
func (s *MongoStore) probe(ctx context.Context, project string, lsn LSN) (bool, time.Time, error) {
	var doc bson.Raw
	err := s.records.FindOne(ctx, bson.D{{Key: "_id", Value: mongoRecordID(project, lsn)}},
		options.FindOne().SetProjection(bson.D{{Key: fTime, Value: 1}})).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, fmt.Errorf("wal: mongodb store: reading %q lsn %d: %w", project, lsn, err)
	}
	ms, ok := doc.Lookup(fTime).DateTimeOK()
	if !ok {
		return false, time.Time{}, fmt.Errorf("%w: project %q lsn %d has no time", ErrCorrupt, project, lsn)
	}
	return true, time.UnixMilli(ms).UTC(), nil
}

// Tail implements Store. Because the log is dense, "lsn n exists" is true
// exactly for n <= tail, so Tail gallops forward from the newest LSN this
// store knows to exist and then bisects, with point lookups by _id only
// (servers that serve no range from an index, such as FerretDB, still
// serve those). The usual
// Tail, with the newest LSN and its time known, is the single lookup of
// the LSN after it.
func (s *MongoStore) Tail(ctx context.Context, project string) (LSN, time.Time, error) {
	ctx, cancel, err := s.opCtx(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer cancel()
	s.hintMu.Lock()
	h := s.hints[project]
	s.hintMu.Unlock()
	// Records are never removed, so a hinted LSN exists.
	lo, loTime := h.lsn, h.t
	if lo > 0 && loTime.IsZero() {
		ok, t, err := s.probe(ctx, project, lo)
		if err != nil {
			return 0, time.Time{}, err
		}
		if !ok {
			return 0, time.Time{}, fmt.Errorf("%w: project %q lsn %d was seen before and is gone", ErrCorrupt, project, lo)
		}
		loTime = t
	}
	// Invariant: lo exists (or is 0); hi does not.
	step := LSN(1)
	hi := lo + step
	for {
		ok, t, err := s.probe(ctx, project, hi)
		if err != nil {
			return 0, time.Time{}, err
		}
		if !ok {
			break
		}
		lo, loTime = hi, t
		step *= 2
		hi = lo + step
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, t, err := s.probe(ctx, project, mid)
		if err != nil {
			return 0, time.Time{}, err
		}
		if ok {
			lo, loTime = mid, t
		} else {
			hi = mid
		}
	}
	s.hint(project, lo, loTime)
	return lo, loTime, nil
}

// Read implements Store.
func (s *MongoStore) Read(ctx context.Context, project string, from LSN, limit int) ([]Record, error) {
	if limit <= 0 {
		return nil, nil
	}
	if from == 0 {
		from = 1
	}
	tail, _, err := s.Tail(ctx, project)
	if err != nil {
		return nil, err
	}
	if from > tail {
		return nil, nil
	}
	limit = int(min(LSN(limit), tail-from+1))
	ctx, cancel, err := s.opCtx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	if limit <= mongoPointReadMax {
		return s.readPoints(ctx, project, from, limit)
	}
	cur, err := s.records.Find(ctx, projectRange(project, from), options.Find().
		SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)).SetBatchSize(int32(min(limit, 1000))))
	if err != nil {
		return nil, fmt.Errorf("wal: mongodb store: reading %q: %w", project, err)
	}
	defer cur.Close(ctx)
	var out []Record
	for cur.Next(ctx) {
		raw := slices.Clone([]byte(cur.Current))
		rec, err := s.decode(ctx, raw)
		if err != nil {
			return out, fmt.Errorf("project %q: %w", project, err)
		}
		if want := from + LSN(len(out)); rec.LSN != want {
			return out, fmt.Errorf("%w: project %q: expected lsn %d, found %d", ErrCorrupt, project, want, rec.LSN)
		}
		out = append(out, rec)
	}
	if err := cur.Err(); err != nil {
		return out, fmt.Errorf("wal: mongodb store: reading %q: %w", project, err)
	}
	return out, nil
}

// readPoints reads a few records by _id, concurrently. Servers without
// range pushdown (FerretDB) answer these from an index where a range query
// scans the collection.
func (s *MongoStore) readPoints(ctx context.Context, project string, from LSN, n int) ([]Record, error) {
	out := make([]Record, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := 0; i < n; i++ {
		g.Go(func() error {
			lsn := from + LSN(i)
			var raw bson.Raw
			err := s.records.FindOne(gctx, bson.D{{Key: "_id", Value: mongoRecordID(project, lsn)}}).Decode(&raw)
			if errors.Is(err, mongo.ErrNoDocuments) {
				return fmt.Errorf("%w: project %q lsn %d is missing below the tail", ErrCorrupt, project, lsn)
			}
			if err != nil {
				return fmt.Errorf("wal: mongodb store: reading %q lsn %d: %w", project, lsn, err)
			}
			rec, err := s.decode(gctx, raw)
			if err != nil {
				return fmt.Errorf("project %q: %w", project, err)
			}
			if rec.LSN != lsn {
				return fmt.Errorf("%w: project %q: _id of lsn %d holds lsn %d", ErrCorrupt, project, lsn, rec.LSN)
			}
			out[i] = rec
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *MongoStore) decode(ctx context.Context, raw []byte) (Record, error) {
	doc := bson.Raw(raw)
	set, chunked := doc.Lookup(mfChunks).StringValueOK()
	if !chunked {
		return DecodeRecord(raw)
	}
	n, _ := doc.Lookup(mfNChunks).Int32OK()
	head, err := DecodeRecordHead(raw)
	if err != nil {
		return head, err
	}
	cur, err := s.chunks.Find(ctx, chunkRange(set), options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(1))
	if err != nil {
		return head, fmt.Errorf("wal: mongodb store: reading chunks of lsn %d: %w", head.LSN, err)
	}
	defer cur.Close(ctx)
	var enc []byte
	got := int32(0)
	for cur.Next(ctx) {
		_, data := cur.Current.Lookup("d").Binary()
		enc = append(enc, data...)
		got++
	}
	if err := cur.Err(); err != nil {
		return head, fmt.Errorf("wal: mongodb store: reading chunks of lsn %d: %w", head.LSN, err)
	}
	if got != n {
		return head, fmt.Errorf("%w: lsn %d has %d of its %d chunks", ErrCorrupt, head.LSN, got, n)
	}
	rec, err := DecodeRecord(enc)
	if err != nil {
		return head, err
	}
	if rec.LSN != head.LSN || !rec.Time.Equal(head.Time) || rec.Branch != head.Branch {
		return head, fmt.Errorf("%w: lsn %d: chunks belong to another record", ErrCorrupt, head.LSN)
	}
	return rec, nil
}

// DecodeRecordHead decodes a record's LSN, time and branch, ignoring its
// operations.
func DecodeRecordHead(b []byte) (Record, error) {
	var r Record
	doc := bson.Raw(b)
	if err := bsonutil.Validate(b); err != nil {
		return r, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	lsn, ok1 := doc.Lookup(fLSN).Int64OK()
	ms, ok2 := doc.Lookup(fTime).DateTimeOK()
	if !ok1 || !ok2 || lsn <= 0 {
		return r, fmt.Errorf("%w: record head lacks lsn or time", ErrCorrupt)
	}
	r.LSN, r.Time = LSN(lsn), time.UnixMilli(ms).UTC()
	r.Branch, _ = doc.Lookup(fBranch).StringValueOK()
	return r, nil
}

// Projects implements Store.
func (s *MongoStore) Projects(ctx context.Context) ([]string, error) {
	octx, cancel, err := s.opCtx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	cur, err := s.projects.Find(octx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("wal: mongodb store: listing projects: %w", err)
	}
	var names []string
	for cur.Next(octx) {
		if p, ok := cur.Current.Lookup("_id").StringValueOK(); ok {
			names = append(names, p)
		}
	}
	if err := cur.Err(); err != nil {
		return nil, err
	}
	_ = cur.Close(octx)
	// A project is registered just before its first record; drop any whose
	// first append did not commit.
	out := names[:0]
	for _, p := range names {
		lsn, _, err := s.Tail(ctx, p)
		if err != nil {
			return nil, err
		}
		if lsn > 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

// Close implements Store. It disconnects the client only if the store
// created it (ConnectMongo).
func (s *MongoStore) Close() error {
	select {
	case <-s.closed:
		return nil
	default:
	}
	close(s.closed)
	if s.owned {
		return s.client.Disconnect(context.Background())
	}
	return nil
}
