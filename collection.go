package argon

import (
	"context"
	"slices"
	"time"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readconcern"
	"go.mongodb.org/mongo-driver/mongo/readpref"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
)

// Collection is a handle for one collection of one database on the
// client's branch, the twin of mongo.Collection: it has every method of
// *mongo.Collection with the same signature. A Collection is safe for
// concurrent use by multiple goroutines.
//
// Creating one does no I/O; a collection that does not exist reads as
// empty and is created by its first write. Reads catch up with the log
// first, so they see every write acknowledged before them, by this process
// or any other writing the same store; they are evaluated in-process on
// one immutable snapshot. Writes are validated against the newest state and
// appended to the log; they are durable, per the store, when the method
// returns.
type Collection struct {
	client *Client
	db     *Database
	name   string
	codec  codec
	rc     *readconcern.ReadConcern
	wc     *writeconcern.WriteConcern
	rp     *readpref.ReadPref
}

func newCollection(db *Database, name string, opts ...*options.CollectionOptions) *Collection {
	o := options.MergeCollectionOptions(opts...)
	c := &Collection{client: db.client, db: db, name: name, codec: db.codec, rc: db.rc, wc: db.wc, rp: db.rp}
	c.applyOptions(o)
	return c
}

func (coll *Collection) applyOptions(o *options.CollectionOptions) {
	if o.ReadConcern != nil {
		coll.rc = o.ReadConcern
	}
	if o.WriteConcern != nil {
		coll.wc = o.WriteConcern
	}
	if o.ReadPreference != nil {
		coll.rp = o.ReadPreference
	}
	if o.Registry != nil {
		coll.codec.reg = o.Registry
	}
	if o.BSONOptions != nil {
		coll.codec.opts = o.BSONOptions
	}
}

func (coll *Collection) ns() materialize.Namespace {
	return materialize.Namespace{DB: coll.db.name, Coll: coll.name}
}

// acknowledged reports whether the write concern asks for acknowledgement;
// with w: 0 writes still complete (durable when they return) and return
// ErrUnacknowledgedWrite, as the driver does.
func (coll *Collection) acknowledged() bool { return writeconcern.AckWrite(coll.wc) }

// opContext applies the client-wide timeout (ClientOptions.Timeout) to a
// context that has no deadline.
func (c *Client) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	if sessionOf(ctx) == nil {
		c.conn.localSessions.used(nil) // the implicit session (local_sessions.go)
	}
	if c.timeout != nil && *c.timeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			return context.WithTimeout(ctx, *c.timeout)
		}
	}
	return ctx, func() {}
}

// Clone returns a copy of the collection handle with opts merged over its
// own, like mongo.Collection.Clone. It never fails.
func (coll *Collection) Clone(opts ...*options.CollectionOptions) (*Collection, error) {
	c := *coll
	c.applyOptions(options.MergeCollectionOptions(opts...))
	return &c, nil
}

// Name returns the collection's name.
func (coll *Collection) Name() string { return coll.name }

// Database returns the Database the collection belongs to.
func (coll *Collection) Database() *Database { return coll.db }

// Indexes returns the collection's IndexView.
func (coll *Collection) Indexes() IndexView { return IndexView{coll: coll} }

// SearchIndexes returns the collection's SearchIndexView. Atlas Search is
// not supported: its methods return errors wrapping ErrNotSupported.
func (coll *Collection) SearchIndexes() SearchIndexView { return SearchIndexView{coll: coll} }

// ---------------------------------------------------------------------------
// Inserts

// InsertOne inserts document (any value the driver accepts: bson.D,
// bson.M, a struct, bson.Raw, ...). A document without _id gets a new
// ObjectID as its first field, returned in the result, as the driver does.
// A duplicate _id or unique key fails with a WriteException of code 11000.
// The document is durable, per the store, when InsertOne returns.
func (coll *Collection) InsertOne(ctx context.Context, document interface{}, opts ...*options.InsertOneOptions) (*InsertOneResult, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	o := options.MergeInsertOneOptions(opts...)
	imo := options.InsertMany()
	imo.BypassEmptyTsReplacement = o.BypassEmptyTsReplacement
	imo.BypassDocumentValidation = o.BypassDocumentValidation
	ids, we, err := coll.insert(ctx, []interface{}{document}, imo)
	if err != nil {
		return nil, err
	}
	if len(we) > 0 {
		return nil, WriteException{WriteErrors: we}
	}
	res := &InsertOneResult{InsertedID: ids[0]}
	if !coll.acknowledged() {
		return res, ErrUnacknowledgedWrite
	}
	return res, nil
}

// InsertMany inserts documents, in order. Ordered (the default) stops at
// the first failure; unordered inserts every document it can. Failures are
// reported in a BulkWriteException, with the _ids of the documents that
// were inserted in the result, as the driver does. The documents are
// durable, per the store, when InsertMany returns.
func (coll *Collection) InsertMany(ctx context.Context, documents []interface{}, opts ...*options.InsertManyOptions) (*InsertManyResult, error) {
	if len(documents) == 0 {
		return nil, ErrEmptySlice
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ids, we, err := coll.insert(ctx, documents, opts...)
	if err != nil {
		return nil, err
	}
	res := &InsertManyResult{InsertedIDs: ids}
	if len(we) > 0 {
		bwe := BulkWriteException{WriteErrors: make([]BulkWriteError, 0, len(we))}
		for _, e := range we {
			bwe.WriteErrors = append(bwe.WriteErrors, BulkWriteError{WriteError: e})
		}
		return res, bwe
	}
	if !coll.acknowledged() {
		return res, ErrUnacknowledgedWrite
	}
	return res, nil
}

// insert runs an insert command and returns the _ids of the inserted
// documents (the driver's result, with failed ones removed), the write
// errors and the error of the whole command.
func (coll *Collection) insert(ctx context.Context, documents []interface{}, opts ...*options.InsertManyOptions) ([]interface{}, WriteErrors, error) {
	if err := coll.client.live(); err != nil {
		return nil, nil, err
	}
	imo := options.MergeInsertManyOptions(opts...)
	ordered := imo.Ordered == nil || *imo.Ordered
	bypassTs := imo.BypassEmptyTsReplacement != nil && *imo.BypassEmptyTsReplacement
	now := time.Now()
	ids := make([]interface{}, len(documents))
	stmts := make([]stmt, len(documents))
	for i, d := range documents {
		raw, err := coll.codec.marshal(d)
		if err != nil {
			return nil, nil, err
		}
		raw, id, err := coll.codec.ensureID(raw)
		if err != nil {
			return nil, nil, err
		}
		ids[i] = id
		s, err := insertStmtRaw(raw, now, bypassTs)
		if err != nil {
			return nil, nil, err
		}
		s.index = i
		s.bypass = imo.BypassDocumentValidation != nil && *imo.BypassDocumentValidation
		stmts[i] = s
	}
	if err := namespaceError(coll.db.name, coll.name, true); err != nil {
		return nil, nil, err
	}
	ctx, cancel := coll.client.opContext(ctx)
	defer cancel()
	res, err := coll.execStmts(ctx, stmts, ordered)
	if err != nil {
		return nil, nil, err
	}
	we := writeErrors(res, stmts)
	// As the driver: drop the _ids of documents that were not inserted.
	if len(we) > 0 {
		if ordered {
			ids = ids[:we[0].Index]
		} else {
			kept := ids[:0]
			bad := map[int]bool{}
			for _, e := range we {
				bad[e.Index] = true
			}
			for i, id := range ids {
				if !bad[i] {
					kept = append(kept, id)
				}
			}
			ids = kept
		}
	}
	return ids, we, nil
}

// ---------------------------------------------------------------------------
// Deletes

// DeleteOne deletes the first document (in natural order) that matches
// filter. The deletion is durable, per the store, when DeleteOne returns.
func (coll *Collection) DeleteOne(ctx context.Context, filter interface{}, opts ...*options.DeleteOptions) (*DeleteResult, error) {
	return coll.delete(ctx, filter, false, opts...)
}

// DeleteMany deletes every document that matches filter (bson.D{} for
// all). The deletion is durable, per the store, when DeleteMany returns.
func (coll *Collection) DeleteMany(ctx context.Context, filter interface{}, opts ...*options.DeleteOptions) (*DeleteResult, error) {
	return coll.delete(ctx, filter, true, opts...)
}

func (coll *Collection) delete(ctx context.Context, filter interface{}, multi bool, opts ...*options.DeleteOptions) (*DeleteResult, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := coll.client.live(); err != nil {
		return nil, err
	}
	do := options.MergeDeleteOptions(opts...)
	s, err := coll.deleteStmt(filter, do.Collation, do.Hint, multi, coll.letOption(do.Let))
	if err != nil {
		return nil, err
	}
	if s.hint.Type != 0 && !coll.acknowledged() {
		return nil, errUnacknowledgedHint
	}
	res, we, err := coll.runOne(ctx, s)
	if err != nil {
		return nil, err
	}
	if we != nil {
		if !multi {
			return nil, WriteException{WriteErrors: we}
		}
		return &DeleteResult{}, WriteException{WriteErrors: we}
	}
	out := &DeleteResult{DeletedCount: res.n}
	if !coll.acknowledged() {
		return out, ErrUnacknowledgedWrite
	}
	return out, nil
}

// runOne runs a single statement.
func (coll *Collection) runOne(ctx context.Context, s stmt) (stmtResult, WriteErrors, error) {
	if err := namespaceError(coll.db.name, coll.name, true); err != nil {
		return stmtResult{}, nil, err
	}
	ctx, cancel := coll.client.opContext(ctx)
	defer cancel()
	stmts := []stmt{s}
	res, err := coll.execStmts(ctx, stmts, true)
	if err != nil {
		return stmtResult{}, nil, err
	}
	if len(res) == 0 {
		return stmtResult{}, nil, nil
	}
	if we := writeErrors(res, stmts); len(we) > 0 {
		return stmtResult{}, we, nil
	}
	return res[0], nil, nil
}

// ---------------------------------------------------------------------------
// Updates

// UpdateOne applies update (a document of update operators, or a pipeline
// of $set/$addFields, $unset, $project, $replaceRoot and $replaceWith
// stages given as a slice such as mongo.Pipeline) to the first document (in
// natural order) that matches filter. With Upsert and no match it inserts
// the document built from the filter's equalities and the update.
// MatchedCount and ModifiedCount are exact: a match the update leaves
// unchanged is matched but not modified. Options.Let defines variables the
// filter's $expr and the pipeline read as $$name. With a Hint and an
// unacknowledged write concern it fails before writing, as the driver does.
// The change is durable, per the store, when UpdateOne returns.
func (coll *Collection) UpdateOne(ctx context.Context, filter interface{}, update interface{}, opts ...*options.UpdateOptions) (*UpdateResult, error) {
	return coll.updateOrReplace(ctx, filter, update, false, false, opts...)
}

// UpdateMany applies update to every document that matches filter; see
// UpdateOne. The changes are durable, per the store, when UpdateMany
// returns.
func (coll *Collection) UpdateMany(ctx context.Context, filter interface{}, update interface{}, opts ...*options.UpdateOptions) (*UpdateResult, error) {
	return coll.updateOrReplace(ctx, filter, update, true, false, opts...)
}

// UpdateByID is UpdateOne with the filter {_id: id}. The change is
// durable, per the store, when UpdateByID returns.
func (coll *Collection) UpdateByID(ctx context.Context, id interface{}, update interface{}, opts ...*options.UpdateOptions) (*UpdateResult, error) {
	if id == nil {
		return nil, ErrNilValue
	}
	return coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update, opts...)
}

// ReplaceOne replaces the first document that matches filter by
// replacement (which may not contain update operators, and keeps the
// original _id). With Upsert and no match it inserts replacement, with the
// filter's _id if it has one. The change is durable, per the store, when
// ReplaceOne returns.
func (coll *Collection) ReplaceOne(ctx context.Context, filter interface{}, replacement interface{}, opts ...*options.ReplaceOptions) (*UpdateResult, error) {
	uopts := make([]*options.UpdateOptions, 0, len(opts))
	for _, o := range opts {
		if o == nil {
			continue
		}
		u := options.Update()
		u.BypassDocumentValidation = o.BypassDocumentValidation
		u.Collation = o.Collation
		u.Upsert = o.Upsert
		u.Hint = o.Hint
		u.Let = o.Let
		u.Comment = o.Comment
		u.BypassEmptyTsReplacement = o.BypassEmptyTsReplacement
		uopts = append(uopts, u)
	}
	return coll.updateOrReplace(ctx, filter, replacement, false, true, uopts...)
}

func (coll *Collection) updateOrReplace(ctx context.Context, filter, update interface{}, multi, replace bool, opts ...*options.UpdateOptions) (*UpdateResult, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := coll.client.live(); err != nil {
		return nil, err
	}
	uo := options.MergeUpdateOptions(opts...)
	if replace && update == nil {
		return nil, ErrNilDocument
	}
	s, err := coll.updateStmt(filter, update, multi, replace, uo.ArrayFilters, uo.Collation, uo.Hint, uo.Upsert, coll.letOption(uo.Let))
	if err != nil {
		return nil, err
	}
	s.bypass = uo.BypassDocumentValidation != nil && *uo.BypassDocumentValidation
	if s.hint.Type != 0 && !coll.acknowledged() {
		return nil, errUnacknowledgedHint
	}
	res, we, err := coll.runOne(ctx, s)
	if err != nil {
		return nil, err
	}
	if we != nil {
		if !multi {
			return nil, WriteException{WriteErrors: we}
		}
		return &UpdateResult{}, WriteException{WriteErrors: we}
	}
	out := &UpdateResult{MatchedCount: res.n, ModifiedCount: res.modified}
	if res.upserted.Type != 0 {
		id, err := rawValueInterface(res.upserted)
		if err != nil {
			return nil, err
		}
		out.UpsertedCount, out.UpsertedID = 1, id
		out.MatchedCount--
	}
	if !coll.acknowledged() {
		return out, ErrUnacknowledgedWrite
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Reads

// findSpec is a parsed find.
type findSpec struct {
	filter  *materialize.Filter
	sort    *materialize.Sort
	natural int // sort {$natural: 1} or -1; 0 for none
	proj    *materialize.Projection
	skip    int64
	limit   int64 // 0: no limit
	hint    bson.RawValue
}

// readState catches up with the log and returns the collection (nil if it
// does not exist) on the client's branch; a view is an error (see
// readSource for the reads that accept views).
func (coll *Collection) readState(ctx context.Context) (*materialize.Collection, error) {
	st, err := coll.readSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	if err := viewWriteError(st, coll.ns()); err != nil {
		return nil, err
	}
	return st.Collection(coll.ns()), nil
}

// readSnapshot catches up with the log and returns the client's view of
// the branch.
func (coll *Collection) readSnapshot(ctx context.Context) (*materialize.State, error) {
	if err := coll.client.live(); err != nil {
		return nil, err
	}
	if err := namespaceError(coll.db.name, coll.name, false); err != nil {
		return nil, err
	}
	return coll.client.eng.snapshot(ctx, coll.client.branch)
}

// parseSort compiles a sort specification ({$natural: ±1} included).
func (coll *Collection) parseSort(sort interface{}) (*materialize.Sort, int, error) {
	if sort == nil {
		return nil, 0, nil
	}
	if isUnorderedMap(sort) {
		return nil, 0, ErrMapForOrderedArgument{ParamName: "sort"}
	}
	raw, err := coll.codec.marshal(sort)
	if err != nil {
		return nil, 0, err
	}
	if elems, err := raw.Elements(); err == nil && len(elems) == 1 && elems[0].Key() == "$natural" {
		v := elems[0].Value()
		if n, ok := v.AsInt64OK(); ok && (n == 1 || n == -1) {
			return nil, int(n), nil
		}
		if f, ok := v.DoubleOK(); ok && (f == 1 || f == -1) {
			return nil, int(f), nil
		}
		return nil, 0, serverError(codeBadValue, "$natural sort cannot be set to a value other than -1 or 1")
	}
	s, err := materialize.CompileSort(raw)
	if err != nil {
		return nil, 0, commandError(err)
	}
	return s, 0, nil
}

// parseProjection compiles a projection and checks a positional one
// against the filter.
func (coll *Collection) parseProjection(proj interface{}, filter, let bson.Raw, collation *materialize.Collation) (*materialize.Projection, error) {
	if proj == nil {
		return nil, nil
	}
	raw, err := coll.codec.marshal(proj)
	if err != nil {
		return nil, err
	}
	p, err := materialize.CompileProjectionWithCollation(raw, let, collation)
	if err != nil {
		return nil, commandError(err)
	}
	if err := p.CheckQuery(filter); err != nil {
		return nil, commandError(err)
	}
	return p, nil
}

// compileFind builds a findSpec from a filter and FindOptions, with the
// driver's client-side checks and the server's validation.
func (coll *Collection) compileFind(filter interface{}, fo *options.FindOptions) (*findSpec, error) {
	raw, err := coll.codec.marshalFilter(filter)
	if err != nil {
		return nil, err
	}
	spec := &findSpec{}
	collation, err := collationArg(fo.Collation)
	if err != nil {
		return nil, commandError(err)
	}
	let, err := coll.letArg(fo.Let)
	if err != nil {
		return nil, err
	}
	if fo.Min != nil || fo.Max != nil {
		return nil, notSupported("index bounds (FindOptions.Min and Max)")
	}
	if fo.ReturnKey != nil && *fo.ReturnKey {
		return nil, notSupported("FindOptions.ReturnKey")
	}
	if fo.ShowRecordID != nil && *fo.ShowRecordID {
		return nil, notSupported("FindOptions.ShowRecordID")
	}
	if fo.CursorType != nil && *fo.CursorType != options.NonTailable {
		return nil, notSupported("tailable cursors")
	}
	if spec.hint, err = coll.hintArg(fo.Hint); err != nil {
		return nil, err
	}
	if spec.sort, spec.natural, err = coll.parseSort(fo.Sort); err != nil {
		return nil, err
	}
	spec.sort = spec.sort.WithCollation(collation)
	if fo.Limit != nil {
		spec.limit = *fo.Limit
		if spec.limit < 0 {
			spec.limit = -spec.limit
		}
	}
	if fo.Skip != nil {
		if *fo.Skip < 0 {
			return nil, serverError(51024, "BadValue: skip value must be non-negative, but received: %d", *fo.Skip)
		}
		spec.skip = *fo.Skip
	}
	if fo.BatchSize != nil && *fo.BatchSize < 0 {
		return nil, serverError(51024, "BatchSize value must be non-negative, but received: %d", *fo.BatchSize)
	}
	f, err := materialize.CompileFilterWithOptions(raw, materialize.FilterOptions{Let: let, Collation: collation})
	if err != nil {
		return nil, commandError(err)
	}
	spec.filter = f
	if spec.proj, err = coll.parseProjection(fo.Projection, raw, let, collation); err != nil {
		return nil, err
	}
	return spec, nil
}

// run evaluates a find on c.
func (spec *findSpec) run(c *materialize.Collection) ([]bson.Raw, error) {
	if c == nil {
		return nil, nil
	}
	if err := hintError(c, spec.hint); err != nil {
		return nil, commandError(err)
	}
	positional := spec.proj != nil && spec.proj.UsesPositional()
	var docs []matched
	sorted := false
	if spec.sort != nil && spec.limit > 0 && !positional {
		// An index in the sort's order yields the first skip+limit
		// documents without sorting the collection.
		first, ok, err := c.SortedMatches(spec.filter, spec.sort, int(spec.skip+spec.limit), materialize.PlanOptions{})
		if err != nil {
			return nil, commandError(err)
		}
		if ok {
			sorted = true
			docs = make([]matched, len(first))
			for i, d := range first {
				docs[i] = matched{doc: d, pos: -1}
			}
		}
	}
	if !sorted {
		var err error
		if docs, err = matchDocs(c, spec.filter, positional, spec.stop()); err != nil {
			return nil, commandError(err)
		}
	}
	return spec.finish(docs, sorted)
}

// runView evaluates a find on the documents a view produces; hints are
// ignored (a view has no indexes of its own).
func (spec *findSpec) runView(view []bson.Raw) ([]bson.Raw, error) {
	docs, err := matchSlice(view, spec.filter, spec.proj != nil && spec.proj.UsesPositional(), spec.stop())
	if err != nil {
		return nil, commandError(err)
	}
	return spec.finish(docs, false)
}

// stop is how many matches a find needs at most (0: all): it can stop
// early only without a sort.
func (spec *findSpec) stop() int {
	if spec.sort == nil && spec.natural >= 0 && spec.limit > 0 {
		return int(spec.skip + spec.limit)
	}
	return 0
}

// finish sorts (unless an index returned docs in order already), skips,
// limits and projects the matches of a find.
func (spec *findSpec) finish(docs []matched, sorted bool) ([]bson.Raw, error) {
	if spec.natural < 0 {
		slices.Reverse(docs)
	}
	if spec.sort != nil && !sorted && len(docs) > 1 {
		keys := make([][]bson.RawValue, len(docs))
		order := make([]int, len(docs))
		for i, d := range docs {
			keys[i] = spec.sort.Keys(d.doc)
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return spec.sort.CompareKeys(keys[a], keys[b]) })
		inOrder := make([]matched, len(docs))
		for i, j := range order {
			inOrder[i] = docs[j]
		}
		docs = inOrder
	}
	if spec.skip >= int64(len(docs)) {
		return nil, nil
	}
	docs = docs[spec.skip:]
	if spec.limit > 0 && int64(len(docs)) > spec.limit {
		docs = docs[:spec.limit]
	}
	out := make([]bson.Raw, len(docs))
	for i, d := range docs {
		if spec.proj == nil {
			out[i] = d.doc
			continue
		}
		p, err := spec.proj.Apply(d.doc, d.pos)
		if err != nil {
			return nil, commandError(err)
		}
		out[i] = p
	}
	return out, nil
}

// hintError checks that a hint names an index of c (by name or key
// pattern), as the server does: code 2 "hint provided does not correspond
// to an existing index". A missing collection accepts any hint.
func hintError(c *materialize.Collection, hint bson.RawValue) error {
	if hint.Type == 0 || c == nil {
		return nil
	}
	switch hint.Type {
	case bsontype.String:
		name := hint.StringValue()
		if name == materialize.IDIndexName {
			return nil
		}
		for _, ix := range c.Indexes() {
			if ix.Name == name {
				return nil
			}
		}
	case bsontype.EmbeddedDocument:
		key := hint.Document()
		if elems, err := key.Elements(); err == nil && len(elems) == 1 && elems[0].Key() == "$natural" {
			return nil
		}
		if materialize.CompareDocuments(key, bson.Raw(bsonD("_id", int32(1)))) == 0 {
			return nil
		}
		for _, d := range c.IndexDefs() {
			if materialize.CompareDocuments(key, d.Key) == 0 {
				return nil
			}
		}
	default:
		return &materialize.Error{Code: codeFailedToParseError, Name: "FailedToParse", Message: "hint must be a string or an object"}
	}
	return &materialize.Error{Code: codeBadValue, Name: "BadValue", Message: "hint provided does not correspond to an existing index"}
}

// bsonD marshals a one-field document.
func bsonD(key string, val interface{}) []byte {
	b, _ := bson.Marshal(bson.D{{Key: key, Value: val}})
	return b
}

// Find returns a cursor over the documents that match filter (bson.D{}
// for all), with the options' sort, skip, limit (a negative limit is a
// limit, as the driver sends it) and projection. Without a sort, documents
// come in natural (insertion) order. The cursor is never nil when err is
// nil; an empty result is an empty cursor. Let defines variables $expr
// and computed projections read as $$name. BatchSize, Comment, MaxTime,
// NoCursorTimeout and AllowDiskUse are accepted and have no effect
// in-process. Collation applies to the filter, the sort and the
// projection's $elemMatch (see materialize.ParseCollation for what argon's
// collations cover). Min/Max, ReturnKey, ShowRecordID and tailable cursors
// return errors wrapping ErrNotSupported.
func (coll *Collection) Find(ctx context.Context, filter interface{}, opts ...*options.FindOptions) (*Cursor, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	fo := options.MergeFindOptions(opts...)
	docs, err := coll.find(ctx, filter, fo)
	if err != nil {
		return nil, err
	}
	return newCursor(docs, coll.codec.registry())
}

func (coll *Collection) find(ctx context.Context, filter interface{}, fo *options.FindOptions) ([]bson.Raw, error) {
	if err := coll.client.live(); err != nil {
		return nil, err
	}
	spec, err := coll.compileFind(filter, fo)
	if err != nil {
		return nil, err
	}
	ctx, cancel := coll.client.opContext(ctx)
	defer cancel()
	c, view, isView, err := coll.readSource(ctx)
	if err != nil {
		return nil, err
	}
	if isView {
		return spec.runView(view)
	}
	if d := defaultCollation(c); d != nil && fo.Collation == nil {
		under := *fo
		under.Collation = d
		if spec, err = coll.compileFind(filter, &under); err != nil {
			return nil, err
		}
	}
	return spec.run(c)
}

// FindOne returns the first document that matches filter (after the
// options' sort and skip), or a SingleResult whose Err is ErrNoDocuments.
func (coll *Collection) FindOne(ctx context.Context, filter interface{}, opts ...*options.FindOneOptions) *SingleResult {
	if ctx == nil {
		ctx = context.Background()
	}
	fo := options.Find()
	for _, o := range opts {
		if o == nil {
			continue
		}
		fo = options.MergeFindOptions(fo, &options.FindOptions{
			AllowPartialResults: o.AllowPartialResults,
			BatchSize:           o.BatchSize,
			Collation:           o.Collation,
			Comment:             o.Comment,
			CursorType:          o.CursorType,
			Hint:                o.Hint,
			Max:                 o.Max,
			MaxAwaitTime:        o.MaxAwaitTime,
			MaxTime:             o.MaxTime,
			Min:                 o.Min,
			NoCursorTimeout:     o.NoCursorTimeout,
			OplogReplay:         o.OplogReplay,
			Projection:          o.Projection,
			ReturnKey:           o.ReturnKey,
			ShowRecordID:        o.ShowRecordID,
			Skip:                o.Skip,
			Snapshot:            o.Snapshot,
			Sort:                o.Sort,
		})
	}
	fo.SetLimit(-1)
	docs, err := coll.find(ctx, filter, fo)
	if err != nil {
		return singleResult(nil, err, coll.codec.registry())
	}
	if len(docs) == 0 {
		return singleResult(nil, nil, coll.codec.registry())
	}
	return singleResult(docs[0], nil, coll.codec.registry())
}

// CountDocuments counts the documents that match filter, after the
// options' Skip and Limit.
func (coll *Collection) CountDocuments(ctx context.Context, filter interface{}, opts ...*options.CountOptions) (int64, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	co := options.MergeCountOptions(opts...)
	raw, err := coll.codec.marshalFilter(filter)
	if err != nil {
		return 0, err
	}
	collation, err := collationArg(co.Collation)
	if err != nil {
		return 0, commandError(err)
	}
	hint, err := coll.hintArg(co.Hint)
	if err != nil {
		return 0, err
	}
	if co.Skip != nil && *co.Skip < 0 {
		return 0, serverError(15956, "Argument to $skip cannot be negative")
	}
	if co.Limit != nil && *co.Limit <= 0 {
		return 0, serverError(15958, "the limit must be positive")
	}
	f, err := materialize.CompileFilterWithOptions(raw, materialize.FilterOptions{Collation: collation})
	if err != nil {
		return 0, commandError(err)
	}
	ctx, cancel := coll.client.opContext(ctx)
	defer cancel()
	c, view, isView, err := coll.readSource(ctx)
	if err != nil {
		return 0, err
	}
	if err := hintError(c, hint); err != nil {
		return 0, commandError(err)
	}
	if d := c.DefaultCollation(); d != nil && co.Collation == nil {
		if f, err = materialize.CompileFilterWithOptions(raw, materialize.FilterOptions{Collation: d}); err != nil {
			return 0, commandError(err)
		}
	}
	var docs []matched
	if isView {
		docs, err = matchSlice(view, f, false, 0)
	} else {
		docs, err = matchDocs(c, f, false, 0)
	}
	if err != nil {
		return 0, commandError(err)
	}
	n := int64(len(docs))
	if co.Skip != nil {
		n = max(0, n-*co.Skip)
	}
	if co.Limit != nil {
		n = min(n, *co.Limit)
	}
	return n, nil
}

// EstimatedDocumentCount returns the number of documents in the
// collection: exact, from the materialized state.
func (coll *Collection) EstimatedDocumentCount(ctx context.Context, opts ...*options.EstimatedDocumentCountOptions) (int64, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := noSnapshot(ctx, "count"); err != nil {
		return 0, err
	}
	ctx, cancel := coll.client.opContext(ctx)
	defer cancel()
	c, view, isView, err := coll.readSource(ctx)
	if err != nil || isView {
		return int64(len(view)), err
	}
	if c == nil {
		return 0, nil
	}
	return int64(c.Len()), nil
}

// Distinct returns the distinct values of fieldName (a dotted path, which
// goes through arrays; array values contribute their elements) among the
// documents that match filter. Values are unique by BSON comparison (1 and
// 1.0 are one value) and sorted in BSON order, as the server returns them.
func (coll *Collection) Distinct(ctx context.Context, fieldName string, filter interface{}, opts ...*options.DistinctOptions) ([]interface{}, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	raw, err := coll.codec.marshalFilter(filter)
	if err != nil {
		return nil, err
	}
	do := options.MergeDistinctOptions(opts...)
	collation, err := collationArg(do.Collation)
	if err != nil {
		return nil, commandError(err)
	}
	if fieldName == "" {
		return nil, serverError(40352, "FieldPath cannot be constructed with empty string")
	}
	f, err := materialize.CompileFilterWithOptions(raw, materialize.FilterOptions{Collation: collation})
	if err != nil {
		return nil, commandError(err)
	}
	ctx, cancel := coll.client.opContext(ctx)
	defer cancel()
	c, view, isView, err := coll.readSource(ctx)
	if err != nil {
		return nil, err
	}
	if d := c.DefaultCollation(); d != nil && do.Collation == nil {
		collation = d
		if f, err = materialize.CompileFilterWithOptions(raw, materialize.FilterOptions{Collation: d}); err != nil {
			return nil, commandError(err)
		}
	}
	var docs []matched
	if isView {
		docs, err = matchSlice(view, f, false, 0)
	} else {
		docs, err = matchDocs(c, f, false, 0)
	}
	if err != nil {
		return nil, commandError(err)
	}
	var vals []bson.RawValue
	for _, d := range docs {
		vals = append(vals, materialize.DistinctValues(d.doc, fieldName)...)
	}
	slices.SortStableFunc(vals, collation.CompareValues)
	out := make([]interface{}, 0, len(vals))
	for i, v := range vals {
		if i > 0 && collation.CompareValues(vals[i-1], v) == 0 {
			continue
		}
		x, err := rawValueInterface(v)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// findAndModify

// famSpec is a parsed findAndModify.
type famSpec struct {
	find      *findSpec // filter, sort, projection
	remove    bool
	st        stmt // the update or replacement, and upsert
	returnNew bool
	// findUnder compiles find again under a collection's default
	// collation; nil when the command names a collation.
	findUnder func(*options.Collation) (*findSpec, error)
}

// famFind sets up fam.find (and fam.findUnder when the command names no
// collation) from the command's filter and find options.
func (coll *Collection) famFind(fam *famSpec, filter interface{}, fo options.FindOptions) (*famSpec, error) {
	spec, err := coll.compileFind(filter, &fo)
	if err != nil {
		return nil, err
	}
	fam.find = spec
	if fo.Collation == nil {
		fam.findUnder = func(d *options.Collation) (*findSpec, error) {
			under := fo
			under.Collation = d
			return coll.compileFind(filter, &under)
		}
	}
	return fam, nil
}

// forColl returns the command to run on collection c: fam itself, or fam
// compiled again under c's default collation when it names no collation.
func (fam *famSpec) forColl(c *materialize.Collection) (*famSpec, error) {
	d := defaultCollation(c)
	if fam.findUnder == nil || d == nil {
		return fam, nil
	}
	find, err := fam.findUnder(d)
	if err != nil {
		return nil, err
	}
	out := *fam
	out.find = find
	if !fam.remove {
		s := fam.st.forColl(c)
		if s.err != nil {
			return nil, s.err
		}
		out.st = *s
	}
	return &out, nil
}

// FindOneAndDelete deletes the first document that matches filter (after
// the options' sort) and returns it (projected), or ErrNoDocuments. The
// deletion is durable, per the store, when it returns.
func (coll *Collection) FindOneAndDelete(ctx context.Context, filter interface{}, opts ...*options.FindOneAndDeleteOptions) *SingleResult {
	o := options.MergeFindOneAndDeleteOptions(opts...)
	fam, err := coll.famFind(&famSpec{remove: true}, filter, options.FindOptions{Sort: o.Sort, Projection: o.Projection, Collation: o.Collation, Hint: o.Hint, Let: o.Let})
	if err != nil {
		return singleResult(nil, err, coll.codec.registry())
	}
	return coll.findAndModify(ctx, fam)
}

// FindOneAndReplace replaces the first document that matches filter (after
// the options' sort) and returns it as it was before (or, with
// ReturnDocument After, after), projected; ErrNoDocuments when nothing
// matched and nothing was upserted. The change is durable, per the store,
// when it returns.
func (coll *Collection) FindOneAndReplace(ctx context.Context, filter interface{}, replacement interface{}, opts ...*options.FindOneAndReplaceOptions) *SingleResult {
	o := options.MergeFindOneAndReplaceOptions(opts...)
	reg := coll.codec.registry()
	if _, err := coll.codec.marshalFilter(filter); err != nil {
		return singleResult(nil, err, reg)
	}
	if replacement == nil {
		return singleResult(nil, ErrNilDocument, reg)
	}
	s, err := coll.updateStmt(filter, replacement, false, true, nil, o.Collation, o.Hint, o.Upsert, coll.letOption(o.Let))
	if err != nil {
		return singleResult(nil, err, reg)
	}
	s.bypass = o.BypassDocumentValidation != nil && *o.BypassDocumentValidation
	fam, err := coll.famFind(&famSpec{st: s, returnNew: o.ReturnDocument != nil && *o.ReturnDocument == options.After},
		filter, options.FindOptions{Sort: o.Sort, Projection: o.Projection, Collation: o.Collation, Hint: o.Hint, Let: o.Let})
	if err != nil {
		return singleResult(nil, err, reg)
	}
	return coll.findAndModify(ctx, fam)
}

// FindOneAndUpdate applies update to the first document that matches
// filter (after the options' sort) and returns it as it was before (or,
// with ReturnDocument After, after), projected; ErrNoDocuments when
// nothing matched and nothing was upserted. The change is durable, per the
// store, when it returns.
func (coll *Collection) FindOneAndUpdate(ctx context.Context, filter interface{}, update interface{}, opts ...*options.FindOneAndUpdateOptions) *SingleResult {
	o := options.MergeFindOneAndUpdateOptions(opts...)
	reg := coll.codec.registry()
	if _, err := coll.codec.marshalFilter(filter); err != nil {
		return singleResult(nil, err, reg)
	}
	s, err := coll.updateStmt(filter, update, false, false, o.ArrayFilters, o.Collation, o.Hint, o.Upsert, coll.letOption(o.Let))
	if err != nil {
		return singleResult(nil, err, reg)
	}
	s.bypass = o.BypassDocumentValidation != nil && *o.BypassDocumentValidation
	fam, err := coll.famFind(&famSpec{st: s, returnNew: o.ReturnDocument != nil && *o.ReturnDocument == options.After},
		filter, options.FindOptions{Sort: o.Sort, Projection: o.Projection, Collation: o.Collation, Hint: o.Hint, Let: o.Let})
	if err != nil {
		return singleResult(nil, err, reg)
	}
	return coll.findAndModify(ctx, fam)
}

// famOutcome is what a findAndModify did, as its command's lastErrorObject
// reports it.
type famOutcome struct {
	n               int32
	updatedExisting bool
	upserted        bson.RawValue // Type 0 if none
}

func (coll *Collection) findAndModify(ctx context.Context, fam *famSpec) *SingleResult {
	out, _, err := coll.findAndModifyRun(ctx, fam)
	return singleResult(out, err, coll.codec.registry())
}

// findAndModifyRun runs fam and returns the document it reports (nil for
// none) and what it did.
func (coll *Collection) findAndModifyRun(ctx context.Context, fam *famSpec) (bson.Raw, famOutcome, error) {
	var oc famOutcome
	if ctx == nil {
		ctx = context.Background()
	}
	if err := coll.client.live(); err != nil {
		return nil, oc, err
	}
	// The driver refuses a hint with an unacknowledged write concern before
	// sending anything, so this comes before the server's verdicts.
	if fam.find.hint.Type != 0 && !coll.acknowledged() {
		return nil, oc, errUnacknowledgedHint
	}
	if !fam.remove && fam.st.err != nil {
		return nil, oc, commandError(fam.st.err)
	}
	if err := namespaceError(coll.db.name, coll.name, true); err != nil {
		return nil, oc, err
	}
	ctx, cancel := coll.client.opContext(ctx)
	defer cancel()
	var out bson.Raw
	var outPos int
	given := fam
	_, err := coll.client.eng.write(ctx, coll.client.branch, func(st *materialize.State) ([]wal.Op, error) {
		out, outPos, oc = nil, -1, famOutcome{}
		if err := viewWriteError(st, coll.ns()); err != nil {
			return nil, stateErr(err)
		}
		var err error
		if fam, err = given.forColl(st.Collection(coll.ns())); err != nil {
			return nil, stateErr(err)
		}
		w := &working{st: st, ns: coll.ns(), now: time.Now(), bypass: fam.st.bypass}
		doc, pos, err := fam.pick(w.coll())
		if err != nil {
			return nil, stateErr(err)
		}
		switch {
		case doc == nil && fam.remove:
		case doc == nil && fam.st.upsert:
			ins, err := upsertDocument(&fam.st, w.now)
			if err == nil {
				_, err = w.insert(ins)
			}
			if err != nil {
				return nil, stateErr(err)
			}
			oc = famOutcome{n: 1, upserted: ins.Lookup("_id")}
			if fam.returnNew {
				out = ins
			}
		case doc == nil:
		case fam.remove:
			if err := w.apply(wal.Op{Kind: wal.OpDelete, ID: doc.Lookup("_id"), Before: doc}); err != nil {
				return nil, err
			}
			oc.n = 1
			out, outPos = doc, pos
		default:
			next, changed, err := fam.st.applyTo(doc, pos, w.now, false)
			if err != nil {
				return nil, stateErr(err)
			}
			if changed {
				if err := w.coll().CheckDocument(w.ns, next); err != nil {
					return nil, stateErr(err)
				}
				if err := validateNewImage(w.coll(), doc, next, w.bypass); err != nil {
					return nil, stateErr(err)
				}
				kind := wal.OpUpdate
				if fam.st.kind == stmtReplace {
					kind = wal.OpReplace
				}
				if err := w.apply(wal.Op{Kind: kind, ID: doc.Lookup("_id"), Before: doc, Doc: next}); err != nil {
					return nil, err
				}
			}
			oc = famOutcome{n: 1, updatedExisting: true}
			out, outPos = doc, pos
			if fam.returnNew {
				out = next
			}
		}
		return w.finish()
	})
	if err != nil {
		return nil, oc, commandError(err)
	}
	if out == nil {
		return nil, oc, nil
	}
	if fam.find.proj != nil {
		p, err := fam.find.proj.Apply(out, outPos)
		if err != nil {
			return nil, oc, commandError(err)
		}
		out = p
	}
	return out, oc, nil
}

// pick finds the document a findAndModify works on: the first match after
// the sort.
func (fam *famSpec) pick(c *materialize.Collection) (bson.Raw, int, error) {
	if c == nil {
		return nil, -1, nil
	}
	if err := hintError(c, fam.find.hint); err != nil {
		return nil, -1, err
	}
	positional := (fam.find.proj != nil && fam.find.proj.UsesPositional()) ||
		(fam.st.update != nil && fam.st.update.UsesPositional())
	limit := 1
	if fam.find.sort != nil || fam.find.natural < 0 {
		limit = 0
	}
	docs, err := matchDocs(c, fam.find.filter, positional, limit)
	if err != nil || len(docs) == 0 {
		return nil, -1, err
	}
	if fam.find.natural < 0 {
		return docs[len(docs)-1].doc, docs[len(docs)-1].pos, nil
	}
	best := 0
	if s := fam.find.sort; s != nil {
		bestKey := s.Keys(docs[0].doc)
		for i := 1; i < len(docs); i++ {
			k := s.Keys(docs[i].doc)
			if s.CompareKeys(k, bestKey) < 0 {
				best, bestKey = i, k
			}
		}
	}
	return docs[best].doc, docs[best].pos, nil
}

// ---------------------------------------------------------------------------
// Not supported yet, and Drop

// Aggregate runs an aggregation pipeline in-process over the collection as
// the client's branch (or view) sees it, with $lookup and $unionWith
// reading the same snapshot. $out and $merge write their result as one
// record on the branch, durable when Aggregate returns. Unsupported stages
// and operators return errors that name them (see README.md).
func (coll *Collection) Aggregate(ctx context.Context, pipeline interface{}, opts ...*options.AggregateOptions) (*Cursor, error) {
	return coll.aggregate(ctx, pipeline, opts)
}

// Drop drops the collection and its indexes. Dropping a collection that
// does not exist is not an error, as with the driver. The drop is durable,
// per the store, when Drop returns.
func (coll *Collection) Drop(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := coll.client.live(); err != nil {
		return err
	}
	if err := namespaceError(coll.db.name, coll.name, true); err != nil {
		return err
	}
	if err := noTransaction(ctx, "drop"); err != nil {
		return err
	}
	ctx, cancel := coll.client.opContext(ctx)
	defer cancel()
	ns := coll.ns()
	_, err := coll.client.eng.write(ctx, coll.client.branch, func(st *materialize.State) ([]wal.Op, error) {
		if st.Collection(ns) == nil {
			return nil, nil
		}
		return []wal.Op{{Kind: wal.OpDropCollection, DB: ns.DB, Coll: ns.Coll}}, nil
	})
	return err
}
