package argon

import (
	"context"
	"errors"
	"time"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"github.com/tidwall/btree"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/mongo/driver"
)

// The driver's write models, aliased so BulkWrite takes the same values.
// Models are plain values built by the caller; like the driver's they are
// not safe for concurrent modification.
type (
	// WriteModel is one operation of a BulkWrite.
	WriteModel = mongo.WriteModel
	// InsertOneModel inserts one document.
	InsertOneModel = mongo.InsertOneModel
	// DeleteOneModel deletes at most one document.
	DeleteOneModel = mongo.DeleteOneModel
	// DeleteManyModel deletes every matching document.
	DeleteManyModel = mongo.DeleteManyModel
	// ReplaceOneModel replaces at most one document.
	ReplaceOneModel = mongo.ReplaceOneModel
	// UpdateOneModel updates at most one document.
	UpdateOneModel = mongo.UpdateOneModel
	// UpdateManyModel updates every matching document.
	UpdateManyModel = mongo.UpdateManyModel
)

// NewInsertOneModel returns an empty InsertOneModel, as mongo.NewInsertOneModel.
func NewInsertOneModel() *InsertOneModel { return mongo.NewInsertOneModel() }

// NewDeleteOneModel returns an empty DeleteOneModel, as mongo.NewDeleteOneModel.
func NewDeleteOneModel() *DeleteOneModel { return mongo.NewDeleteOneModel() }

// NewDeleteManyModel returns an empty DeleteManyModel, as mongo.NewDeleteManyModel.
func NewDeleteManyModel() *DeleteManyModel { return mongo.NewDeleteManyModel() }

// NewReplaceOneModel returns an empty ReplaceOneModel, as mongo.NewReplaceOneModel.
func NewReplaceOneModel() *ReplaceOneModel { return mongo.NewReplaceOneModel() }

// NewUpdateOneModel returns an empty UpdateOneModel, as mongo.NewUpdateOneModel.
func NewUpdateOneModel() *UpdateOneModel { return mongo.NewUpdateOneModel() }

// NewUpdateManyModel returns an empty UpdateManyModel, as mongo.NewUpdateManyModel.
func NewUpdateManyModel() *UpdateManyModel { return mongo.NewUpdateManyModel() }

// ---------------------------------------------------------------------------
// Statements: what the insert, update and delete commands run.

type stmtKind int

const (
	stmtInsert stmtKind = iota
	stmtUpdate
	stmtReplace
	stmtDelete
)

// stmt is one statement of a write command, parsed and compiled before the
// write starts: everything in it is independent of the data.
type stmt struct {
	kind   stmtKind
	index  int // position in the caller's slice, for errors and upserted ids
	doc    bson.Raw
	filter *materialize.Filter
	update *materialize.Update // stmtUpdate, or stmtReplace with a non-empty replacement
	repl   bson.Raw            // stmtReplace
	multi  bool
	upsert bool
	// hint is the index the statement names, checked against the
	// collection when the statement runs (Type 0: none).
	hint bson.RawValue
	// err is a failure found while parsing (a bad filter or update): the
	// statement fails with it when its turn comes.
	err error
	// bypass skips schema validation (BypassDocumentValidation).
	bypass bool
	// underDefault builds the statement again under a collection's
	// default collation; nil when the statement names a collation (or is
	// an insert).
	underDefault func(*options.Collation) stmt
}

// failingInStmt adapts a statement builder for stmt.underDefault: an error
// building the statement becomes the statement's failure.
func failingInStmt(build func(*options.Collation) (stmt, error)) func(*options.Collation) stmt {
	return func(d *options.Collation) stmt {
		r, err := build(d)
		if err != nil && r.err == nil {
			r.err = err
		}
		return r
	}
}

// forColl returns the statement to run on collection c: s itself, or s
// compiled again under c's default collation when s names no collation.
func (s *stmt) forColl(c *materialize.Collection) *stmt {
	if s.underDefault == nil || s.err != nil {
		return s
	}
	d := defaultCollation(c)
	if d == nil {
		return s
	}
	r := s.underDefault(d)
	r.index, r.bypass = s.index, s.bypass
	return &r
}

// stmtResult is the outcome of one statement.
type stmtResult struct {
	n, modified int64
	upserted    bson.RawValue // the upserted _id, Type 0 if none
	err         error         // the statement's failure, a *materialize.Error
}

// working is the state a write's statements run on: the branch's state plus
// the operations of the statements before, so each statement sees the ones
// before it (an update of a document inserted earlier in the same bulk).
//
// Consecutive inserts are not applied one by one (each application copies
// the paths it touches of every tree, so a snapshot per insert would make
// a large InsertMany quadratic in practice): they wait in pending, checked
// against the state and against each other (_id and unique keys), and are
// applied together, in one step, before any other statement runs.
type working struct {
	st  *materialize.State
	ns  materialize.Namespace
	ops []wal.Op
	now time.Time
	// bypass skips schema validation for the statement running now.
	bypass bool

	err         error    // a failure to apply pending inserts, reported by finish
	queued      []wal.Op // other operations not applied yet (apply)
	pending     []wal.Op
	pendingIDs  *btree.BTreeG[bson.RawValue]
	pendingKeys map[string]*btree.BTreeG[[]bson.RawValue]
}

// coll returns the collection with every statement so far applied.
func (w *working) coll() *materialize.Collection {
	if err := w.flush(); err != nil {
		w.err = err
	}
	return w.st.Collection(w.ns)
}

// hintError checks a statement's hint, if it has one.
func (w *working) hintError(hint bson.RawValue) error {
	if hint.Type == 0 {
		return nil
	}
	return hintError(w.coll(), hint)
}

// apply adds op after the pending inserts. It is applied when a later
// statement reads the state (coll); after the last one, never (finish).
func (w *working) apply(op wal.Op) error {
	if err := w.flush(); err != nil {
		return err
	}
	op.DB, op.Coll = w.ns.DB, w.ns.Coll
	w.queued = append(w.queued, op)
	return nil
}

func (w *working) applyNow(ops []wal.Op) error {
	for i := range ops {
		ops[i].DB, ops[i].Coll = w.ns.DB, w.ns.Coll
	}
	rec := wal.Record{LSN: w.st.LSN(), Ops: ops}
	next, err := w.st.Apply(&rec)
	if err != nil {
		return err
	}
	w.st = next
	w.ops = append(w.ops, ops...)
	return nil
}

// flush applies the queued operations and the pending inserts (at most one
// of the two is non-empty: each flushes the other first).
func (w *working) flush() error {
	if len(w.queued) > 0 {
		ops := w.queued
		w.queued = nil
		if err := w.applyNow(ops); err != nil {
			return err
		}
	}
	if len(w.pending) == 0 {
		return nil
	}
	ops := w.pending
	w.pending, w.pendingIDs, w.pendingKeys = nil, nil, nil
	return w.applyNow(ops)
}

// finish returns every operation, in order. What is queued or pending is
// not applied: no statement reads the state after the last one, and
// applying it would copy the paths it touches of every tree only to throw
// the copy away (the record is applied to the branch once committed).
func (w *working) finish() ([]wal.Op, error) {
	if w.err != nil {
		return nil, w.err
	}
	for i := range w.pending {
		w.pending[i].DB, w.pending[i].Coll = w.ns.DB, w.ns.Coll
	}
	ops := append(append(w.ops, w.queued...), w.pending...)
	w.ops, w.queued, w.pending, w.pendingIDs, w.pendingKeys = ops, nil, nil, nil, nil
	return ops, nil
}

// matched is a document a filter matched, with the array position the
// positional operator refers to.
type matched struct {
	doc bson.Raw
	pos int
}

// matchDocs returns the documents of c matching f, in natural order, at
// most limit of them (0: all). An index answers equality filters on _id or
// on the first field of a secondary index (see materialize/index.go).
func matchDocs(c *materialize.Collection, f *materialize.Filter, positional bool, limit int) ([]matched, error) {
	if c == nil {
		return nil, nil
	}
	var out []matched
	var merr error
	visit := func(doc bson.Raw) bool {
		var ok bool
		pos := -1
		var err error
		if positional {
			ok, pos, err = f.MatchPositional(doc)
		} else {
			ok, err = f.Match(doc)
		}
		if err != nil {
			merr = err
			return false
		}
		if ok {
			out = append(out, matched{doc: doc, pos: pos})
			if limit > 0 && len(out) >= limit {
				return false
			}
		}
		return true
	}
	if cands, ok := c.Candidates(f); ok {
		for _, d := range cands {
			if !visit(d) {
				break
			}
		}
	} else {
		c.Scan(visit)
	}
	return out, merr
}

// runStmts runs stmts on w. Each statement either succeeds or fails with a
// server-shaped error recorded in its result; an ordered run stops at the
// first failure. The returned error is a failure of the machinery itself
// (the state refused an operation), which fails the whole write.
func runStmts(w *working, stmts []stmt, ordered bool) ([]stmtResult, error) {
	results := make([]stmtResult, 0, len(stmts))
	for i := range stmts {
		// The default collation is the collection's, which the pending
		// inserts cannot change: no flush (that would apply each insert
		// of an InsertMany on its own).
		s := stmts[i].forColl(w.st.Collection(w.ns))
		var r stmtResult
		var err error
		if s.err != nil {
			err = s.err
		} else if herr := w.hintError(s.hint); herr != nil {
			err = herr
		} else {
			w.bypass = s.bypass
			switch s.kind {
			case stmtInsert:
				r, err = w.insert(s.doc)
			case stmtDelete:
				r, err = w.delete(s)
			default:
				r, err = w.update(s)
			}
		}
		if err != nil {
			if _, ok := asWriteError(s.index, err); !ok {
				return nil, err
			}
			r = stmtResult{err: err}
		}
		results = append(results, r)
		if r.err != nil && ordered {
			break
		}
	}
	return results, nil
}

// insert inserts a prepared document (see prepareInsert): its _id and its
// unique keys must be free in the state and among the pending inserts.
func (w *working) insert(doc bson.Raw) (stmtResult, error) {
	if len(w.queued) > 0 { // then nothing is pending: flush applies only the queue
		if err := w.flush(); err != nil {
			return stmtResult{}, err
		}
	}
	id := doc.Lookup("_id")
	c := w.st.Collection(w.ns) // the pending inserts are checked below
	if c != nil {
		if _, dup := c.Get(id); dup {
			return stmtResult{}, materialize.DuplicateIDError(w.ns, id)
		}
		if err := c.CheckDocument(w.ns, doc); err != nil {
			return stmtResult{}, err
		}
		if err := validateNewImage(c, nil, doc, w.bypass); err != nil {
			return stmtResult{}, err
		}
	}
	if w.pendingIDs == nil {
		w.pendingIDs = btree.NewBTreeG(func(a, b bson.RawValue) bool { return materialize.CompareValues(a, b) < 0 })
		w.pendingKeys = map[string]*btree.BTreeG[[]bson.RawValue]{}
	}
	if _, dup := w.pendingIDs.Get(id); dup {
		return stmtResult{}, materialize.DuplicateIDError(w.ns, id)
	}
	type newKeys struct {
		tree *btree.BTreeG[[]bson.RawValue]
		keys [][]bson.RawValue
	}
	var add []newKeys
	if c != nil {
		for _, def := range c.IndexDefs() {
			if !def.Unique {
				continue
			}
			keys, indexed, err := def.Keys(doc)
			if err != nil {
				return stmtResult{}, err
			}
			if !indexed {
				continue
			}
			tree := w.pendingKeys[def.Name]
			if tree == nil {
				tree = btree.NewBTreeG(func(a, b []bson.RawValue) bool { return materialize.CompareKeys(a, b) < 0 })
				w.pendingKeys[def.Name] = tree
			}
			for _, k := range keys {
				if _, dup := tree.Get(k); dup {
					return stmtResult{}, def.DuplicateKeyError(w.ns, k)
				}
			}
			add = append(add, newKeys{tree, keys})
		}
	}
	for _, a := range add {
		for _, k := range a.keys {
			a.tree.Set(k)
		}
	}
	w.pendingIDs.Set(id)
	w.pending = append(w.pending, wal.Op{Kind: wal.OpInsert, DB: w.ns.DB, Coll: w.ns.Coll, ID: id, Doc: doc})
	return stmtResult{n: 1}, nil
}

func (w *working) delete(s *stmt) (stmtResult, error) {
	limit := 1
	if s.multi {
		limit = 0
	}
	docs, err := matchDocs(w.coll(), s.filter, false, limit)
	if err != nil {
		return stmtResult{}, err
	}
	var r stmtResult
	for _, m := range docs {
		if err := w.apply(wal.Op{Kind: wal.OpDelete, ID: m.doc.Lookup("_id"), Before: m.doc}); err != nil {
			return stmtResult{}, err
		}
		r.n++
	}
	return r, nil
}

// applyTo computes the new image of doc (pos: the positional index).
func (s *stmt) applyTo(doc bson.Raw, pos int, now time.Time, upsertInsert bool) (bson.Raw, bool, error) {
	if s.update != nil {
		return s.update.Apply(doc, materialize.ApplyContext{PositionalIndex: pos, IsUpsertInsert: upsertInsert, Now: now})
	}
	out, err := materialize.ApplyReplacement(doc, s.repl)
	if err != nil {
		return nil, false, err
	}
	return out, !bytesEqual(doc, s.repl), nil
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

func (w *working) update(s *stmt) (stmtResult, error) {
	limit := 1
	if s.multi {
		limit = 0
	}
	positional := s.update != nil && s.update.UsesPositional()
	docs, err := matchDocs(w.coll(), s.filter, positional, limit)
	if err != nil {
		return stmtResult{}, err
	}
	if len(docs) == 0 {
		if !s.upsert {
			return stmtResult{}, nil
		}
		id, err := w.upsert(s)
		if err != nil {
			return stmtResult{}, err
		}
		return stmtResult{n: 1, upserted: id}, nil
	}
	var r stmtResult
	kind := wal.OpUpdate
	if s.kind == stmtReplace {
		kind = wal.OpReplace
	}
	for _, m := range docs {
		next, changed, err := s.applyTo(m.doc, m.pos, w.now, false)
		if err != nil {
			return stmtResult{}, err
		}
		r.n++
		if !changed {
			continue
		}
		if err := w.coll().CheckDocument(w.ns, next); err != nil {
			return stmtResult{}, err
		}
		if err := validateNewImage(w.coll(), m.doc, next, w.bypass); err != nil {
			return stmtResult{}, err
		}
		if err := w.apply(wal.Op{Kind: kind, ID: m.doc.Lookup("_id"), Before: m.doc, Doc: next}); err != nil {
			return stmtResult{}, err
		}
		r.modified++
	}
	return r, nil
}

// upsert inserts the document an update with upsert builds when nothing
// matched: the filter's equality conditions (only _id for a replacement),
// the update applied as an insert, an ObjectID _id if it has none.
func (w *working) upsert(s *stmt) (bson.RawValue, error) {
	doc, err := upsertDocument(s, w.now)
	if err != nil {
		return bson.RawValue{}, err
	}
	if _, err := w.insert(doc); err != nil {
		return bson.RawValue{}, err
	}
	return doc.Lookup("_id"), nil
}

func upsertDocument(s *stmt, now time.Time) (bson.Raw, error) {
	eq := s.filter.EqualityFields()
	var seed bson.Raw
	var err error
	if s.kind == stmtReplace {
		seed, err = materialize.ReplacementUpsertSeed(eq)
	} else {
		seed, err = materialize.UpsertSeed(eq)
	}
	if err != nil {
		return nil, err
	}
	doc, _, err := s.applyTo(seed, -1, now, true)
	if err != nil {
		return nil, err
	}
	if _, err := doc.LookupErr("_id"); err != nil {
		doc, _, err = codec{}.ensureID(doc)
		if err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// ---------------------------------------------------------------------------
// Running statements as one write.

// errUnacknowledgedHint is the driver's client-side error for a hint with
// an unacknowledged write concern (x/mongo/driver/operation).
var errUnacknowledgedHint = errors.New("the 'hint' command parameter cannot be used with unacknowledged writes")

// errStatementsFailed marks a write whose statements all failed: nothing
// was written, and the engine re-checks the verdict on the newest state.
var errStatementsFailed = errors.New("argon: every statement failed")

// maxStmtBytes bounds the documents one record carries; larger inserts
// are split into several records, as the driver splits batches.
const maxStmtBytes = 32 * 1024 * 1024

// execStmts runs stmts on the collection's branch and returns one result
// per statement run (an ordered run stops after the first failure). The
// data is durable, per the store, when it returns. err is only for
// failures of the whole call (the store, the context).
func (coll *Collection) execStmts(ctx context.Context, stmts []stmt, ordered bool) ([]stmtResult, error) {
	var all []stmtResult
	for len(stmts) > 0 {
		n, size := 0, 0
		for n < len(stmts) && (n == 0 || size+len(stmts[n].doc) <= maxStmtBytes) {
			size += len(stmts[n].doc)
			n++
		}
		chunk := stmts[:n]
		stmts = stmts[n:]
		var res []stmtResult
		_, err := coll.client.eng.write(ctx, coll.client.branch, func(st *materialize.State) ([]wal.Op, error) {
			if err := viewWriteError(st, coll.ns()); err != nil {
				return nil, stateErr(err)
			}
			w := &working{st: st, ns: coll.ns(), now: time.Now()}
			r, err := runStmts(w, chunk, ordered)
			if err != nil {
				return nil, err
			}
			res = r
			ops, err := w.finish()
			if err != nil {
				return nil, err
			}
			if len(ops) == 0 {
				for _, x := range r {
					if x.err != nil {
						return nil, stateErr(errStatementsFailed)
					}
				}
			}
			return ops, nil
		})
		if err != nil && !errors.Is(err, errStatementsFailed) {
			return nil, commandError(err)
		}
		all = append(all, res...)
		for _, r := range res {
			if r.err != nil {
				failTransaction(ctx, r.err) // a failed statement aborts a transaction
				break
			}
		}
		if ordered && len(res) > 0 && res[len(res)-1].err != nil {
			break
		}
	}
	return all, nil
}

// writeErrors collects the failures of results as WriteErrors.
func writeErrors(results []stmtResult, stmts []stmt) WriteErrors {
	var out WriteErrors
	for i, r := range results {
		if r.err == nil {
			continue
		}
		if we, ok := asWriteError(stmts[i].index, r.err); ok {
			out = append(out, we)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// BulkWrite

// bulkBatch is a run of models of one command kind, as the driver groups
// them.
type bulkBatch struct {
	kind    int // bulkInsert ... bulkDeleteMany
	models  []WriteModel
	indexes []int
}

const (
	bulkInsert = iota
	bulkUpdateOne
	bulkUpdateMany
	bulkDeleteOne
	bulkDeleteMany
)

func bulkKind(m WriteModel) int {
	switch m.(type) {
	case *InsertOneModel:
		return bulkInsert
	case *DeleteOneModel:
		return bulkDeleteOne
	case *DeleteManyModel:
		return bulkDeleteMany
	case *UpdateManyModel:
		return bulkUpdateMany
	}
	return bulkUpdateOne
}

// bulkBatches groups models the way the driver's createBatches does:
// ordered, consecutive models of one kind; unordered, all models of a kind
// together, inserts first, then updateOne/replaceOne, updateMany,
// deleteOne, deleteMany.
func bulkBatches(models []WriteModel, ordered bool) []bulkBatch {
	if !ordered {
		batches := make([]bulkBatch, 5)
		for i, m := range models {
			k := bulkKind(m)
			batches[k].kind = k
			batches[k].models = append(batches[k].models, m)
			batches[k].indexes = append(batches[k].indexes, i)
		}
		return batches
	}
	var batches []bulkBatch
	for i, m := range models {
		k := bulkKind(m)
		if len(batches) == 0 || batches[len(batches)-1].kind != k {
			batches = append(batches, bulkBatch{kind: k})
		}
		b := &batches[len(batches)-1]
		b.models = append(b.models, m)
		b.indexes = append(b.indexes, i)
	}
	return batches
}

// BulkWrite runs models (inserts, updates, replaces, deletes) in order
// (Ordered, the default: stop at the first failure) or unordered (every
// model runs; the driver's grouping by kind is kept), with exact counts.
// Failed models are reported in a BulkWriteException, with the result of
// what was written. The data is durable, per the store, when BulkWrite
// returns.
func (coll *Collection) BulkWrite(ctx context.Context, models []WriteModel, opts ...*options.BulkWriteOptions) (*BulkWriteResult, error) {
	if len(models) == 0 {
		return nil, ErrEmptySlice
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := coll.client.live(); err != nil {
		return nil, err
	}
	for _, m := range models {
		if m == nil {
			return nil, ErrNilDocument
		}
	}
	bwo := options.MergeBulkWriteOptions(opts...)
	let := coll.letOption(bwo.Let)
	ordered := bwo.Ordered == nil || *bwo.Ordered
	bypassTs := bwo.BypassEmptyTsReplacement != nil && *bwo.BypassEmptyTsReplacement
	if err := namespaceError(coll.db.name, coll.name, true); err != nil {
		return nil, err
	}
	ctx, cancel := coll.client.opContext(ctx)
	defer cancel()

	result := &BulkWriteResult{UpsertedIDs: map[int64]interface{}{}}
	bwErr := BulkWriteException{WriteErrors: []BulkWriteError{}}
	var lastErr error
	for _, b := range bulkBatches(models, ordered) {
		if len(b.models) == 0 {
			continue
		}
		stmts, err := coll.bulkStmts(b, bypassTs, let)
		if err != nil {
			if ordered {
				return result, err
			}
			lastErr = err
			continue
		}
		if bwo.BypassDocumentValidation != nil && *bwo.BypassDocumentValidation {
			for i := range stmts {
				stmts[i].bypass = true
			}
		}
		res, err := coll.execStmts(ctx, stmts, ordered)
		if err != nil {
			if ordered {
				return result, err
			}
			lastErr = err
			continue
		}
		failed := false
		for i, r := range res {
			s := &stmts[i]
			if r.err != nil {
				we, _ := asWriteError(s.index, r.err)
				bwErr.WriteErrors = append(bwErr.WriteErrors, BulkWriteError{WriteError: we, Request: models[s.index]})
				failed = true
				continue
			}
			switch b.kind {
			case bulkInsert:
				result.InsertedCount += r.n
			case bulkDeleteOne, bulkDeleteMany:
				result.DeletedCount += r.n
			default:
				result.MatchedCount += r.n
				result.ModifiedCount += r.modified
				if r.upserted.Type != 0 {
					result.UpsertedCount++
					id, err := rawValueInterface(r.upserted)
					if err != nil {
						return result, err
					}
					result.UpsertedIDs[int64(s.index)] = id
				}
			}
		}
		if failed && ordered {
			// As the driver: an ordered bulk that stops early reports
			// MatchedCount with the upserts still counted in.
			return result, bwErr
		}
	}
	result.MatchedCount -= result.UpsertedCount
	if lastErr != nil {
		return result, lastErr
	}
	if len(bwErr.WriteErrors) > 0 {
		return result, bwErr
	}
	if !coll.acknowledged() {
		return result, ErrUnacknowledgedWrite
	}
	return result, nil
}

// bulkStmts turns a batch of models into statements, with the driver's
// client-side checks: a model that cannot be marshaled fails the batch
// before anything in it runs.
func (coll *Collection) bulkStmts(b bulkBatch, bypassTs bool, let letOpt) ([]stmt, error) {
	stmts := make([]stmt, 0, len(b.models))
	now := time.Now()
	hasHint := false
	for i, m := range b.models {
		idx := b.indexes[i]
		var s stmt
		var err error
		switch t := m.(type) {
		case *InsertOneModel:
			s, err = coll.insertStmt(t.Document, now, bypassTs)
		case *DeleteOneModel:
			s, err = coll.deleteStmt(t.Filter, t.Collation, t.Hint, false, let)
		case *DeleteManyModel:
			s, err = coll.deleteStmt(t.Filter, t.Collation, t.Hint, true, let)
		case *ReplaceOneModel:
			s, err = coll.updateStmt(t.Filter, t.Replacement, false, true, nil, t.Collation, t.Hint, t.Upsert, let)
		case *UpdateOneModel:
			s, err = coll.updateStmt(t.Filter, t.Update, false, false, t.ArrayFilters, t.Collation, t.Hint, t.Upsert, let)
		case *UpdateManyModel:
			s, err = coll.updateStmt(t.Filter, t.Update, true, false, t.ArrayFilters, t.Collation, t.Hint, t.Upsert, let)
		}
		if err != nil {
			return nil, err
		}
		hasHint = hasHint || s.hint.Type != 0
		s.index = idx
		stmts = append(stmts, s)
	}
	// As the driver: every model of the batch is marshaled first, then the
	// command refuses a hint with an unacknowledged write concern, before
	// anything of the batch is sent.
	if hasHint && !coll.acknowledged() {
		return nil, errUnacknowledgedHint
	}
	return stmts, nil
}

// insertStmt marshals a document to insert, adding an _id as the driver
// does; see insertStmtRaw.
func (coll *Collection) insertStmt(document interface{}, now time.Time, bypassTs bool) (stmt, error) {
	doc, err := coll.codec.marshal(document)
	if err != nil {
		return stmt{}, err
	}
	doc, _, err = coll.codec.ensureID(doc)
	if err != nil {
		return stmt{}, err
	}
	return insertStmtRaw(doc, now, bypassTs)
}

// insertStmtRaw checks a marshaled document that has an _id as the driver
// (size) and the server (prepareInsert) do. Server-side rejections become
// the statement's error; the driver's are returned.
func insertStmtRaw(doc bson.Raw, now time.Time, bypassTs bool) (stmt, error) {
	if len(doc) > maxInsertSize {
		return stmt{}, driver.ErrDocumentTooLarge
	}
	s := stmt{kind: stmtInsert, doc: doc}
	prepared, _, err := prepareInsert(doc, now, bypassTs)
	if err != nil {
		s.err = err
		return s, nil
	}
	s.doc = prepared
	return s, nil
}

// deleteStmt builds a delete statement.
func (coll *Collection) deleteStmt(filter interface{}, collation *options.Collation, hint interface{}, multi bool, let letOpt) (stmt, error) {
	f, err := coll.codec.marshalFilter(filter)
	if err != nil {
		return stmt{}, err
	}
	h, err := coll.hintArg(hint)
	if err != nil {
		return stmt{}, err
	}
	if let.err != nil {
		return stmt{}, let.err
	}
	s := stmt{kind: stmtDelete, multi: multi, hint: h}
	if collation == nil {
		s.underDefault = failingInStmt(func(d *options.Collation) (stmt, error) {
			return coll.deleteStmt(filter, d, hint, multi, let)
		})
	}
	var c *materialize.Collation
	if c, s.err = collationArg(collation); s.err != nil {
		return s, unsupportedStmt(s.err)
	}
	s.filter, s.err = materialize.CompileFilterWithOptions(f, materialize.FilterOptions{Let: let.raw, Collation: c})
	return s, unsupportedStmt(s.err)
}

// updateStmt builds an update or replacement statement with the driver's
// client-side checks (createUpdateDoc).
func (coll *Collection) updateStmt(filter, update interface{}, multi, replace bool, af *options.ArrayFilters,
	collation *options.Collation, hint interface{}, upsert *bool, let letOpt) (stmt, error) {
	f, err := coll.codec.marshalFilter(filter)
	if err != nil {
		return stmt{}, err
	}
	u, isPipeline, err := coll.codec.marshalUpdate(update, !replace)
	if err != nil {
		return stmt{}, err
	}
	if replace && isPipeline {
		// The driver marshals a replacement as a document, which a slice
		// is not.
		if _, err := coll.codec.marshal(update); err != nil {
			return stmt{}, err
		}
		return stmt{}, errors.New("argon: a replacement must be a document, not an array")
	}
	var filters []bson.Raw
	if af != nil {
		c := coll.codec
		if af.Registry != nil {
			c.reg = af.Registry
		}
		v, err := c.marshalValue(af.Filters)
		if err != nil {
			return stmt{}, err
		}
		arr, ok := v.ArrayOK()
		if !ok {
			return stmt{}, errors.New("arrayFilters must be an array")
		}
		vals, err := arr.Values()
		if err != nil {
			return stmt{}, err
		}
		for _, x := range vals {
			d, ok := x.DocumentOK()
			if !ok {
				return stmt{}, commandError(&materialize.Error{Code: 14, Name: "TypeMismatch", Message: "Each array filter must be an object"})
			}
			filters = append(filters, bson.Raw(d))
		}
	}
	h, err := coll.hintArg(hint)
	if err != nil {
		return stmt{}, err
	}
	if let.err != nil {
		return stmt{}, let.err
	}
	s := stmt{kind: stmtUpdate, multi: multi, upsert: upsert != nil && *upsert, hint: h}
	if replace {
		s.kind = stmtReplace
		s.repl = u
	}
	if collation == nil {
		s.underDefault = failingInStmt(func(d *options.Collation) (stmt, error) {
			return coll.updateStmt(filter, update, multi, replace, af, d, hint, upsert, let)
		})
	}
	var c *materialize.Collation
	if c, s.err = collationArg(collation); s.err != nil {
		return s, unsupportedStmt(s.err)
	}
	s.filter, s.err = materialize.CompileFilterWithOptions(f, materialize.FilterOptions{Let: let.raw, Collation: c})
	if s.err != nil {
		return s, unsupportedStmt(s.err)
	}
	if replace {
		if len(u) > 5 {
			s.update, s.err = materialize.CompileUpdate(u, materialize.UpdateOptions{Collation: c})
		}
		return s, unsupportedStmt(s.err)
	}
	if isPipeline {
		s.update, s.err = materialize.CompileUpdatePipeline(u, materialize.UpdateOptions{ArrayFilters: filters, Let: let.raw, Collation: c})
		return s, unsupportedStmt(s.err)
	}
	s.update, s.err = materialize.CompileUpdate(u, materialize.UpdateOptions{ArrayFilters: filters, Collation: c})
	return s, unsupportedStmt(s.err)
}

// unsupportedStmt turns a statement's NotImplemented error (a query or
// update feature Argon lacks) into an error of the whole call, wrapping
// ErrNotSupported, so nothing is written; other parse errors stay the
// statement's, reported as write errors like the server's.
func unsupportedStmt(err error) error {
	var me *materialize.Error
	if errors.As(err, &me) && me.Code == codeNotImplemented {
		return commandError(me)
	}
	return nil
}

// letArg marshals a let option as the driver does (nil: none).
func (coll *Collection) letArg(let interface{}) (bson.Raw, error) {
	if let == nil {
		return nil, nil
	}
	return coll.codec.marshal(let)
}

// letOpt is a let option marshaled once; its error is reported where the
// driver reports it, after a statement's other client-side checks (and
// not at all for inserts, which take no let).
type letOpt struct {
	raw bson.Raw
	err error
}

func (coll *Collection) letOption(let interface{}) letOpt {
	raw, err := coll.letArg(let)
	return letOpt{raw: raw, err: err}
}

// hintArg applies the driver's client-side checks to a hint and returns
// it as a BSON value (Type 0 for none).
func (coll *Collection) hintArg(hint interface{}) (bson.RawValue, error) {
	if hint == nil {
		return bson.RawValue{}, nil
	}
	if isUnorderedMap(hint) {
		return bson.RawValue{}, ErrMapForOrderedArgument{ParamName: "hint"}
	}
	return coll.codec.marshalValue(hint)
}
