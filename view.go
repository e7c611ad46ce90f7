package argon

import (
	"context"
	"time"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Views, as on the server: a view is a collection entry whose options are
// {viewOn, pipeline}, created by one catalog record like any collection.
// Reading a view runs its pipeline over its source (itself possibly a
// view) from the same snapshot, then the read's own filter, sort, skip,
// limit and projection; writes and index operations on a view fail with
// code 166 CommandNotSupportedOnView.

const (
	codeGraphContainsCycle        = 5
	codeViewDepthLimitExceeded    = 149
	codeCommandNotSupportedOnView = 166
	codeOptionNotSupportedOnView  = 167

	// maxViewDepth is the server's limit on views defined on views.
	maxViewDepth = 20
)

// viewDef returns the source collection and pipeline of c if it is a view.
func viewDef(c *materialize.Collection) (viewOn string, pipeline bson.Raw, ok bool) {
	if c == nil {
		return "", nil, false
	}
	return viewOptions(c.Options())
}

// viewOptions reads a view's definition from collection options.
func viewOptions(opts bson.Raw) (viewOn string, pipeline bson.Raw, ok bool) {
	on, isStr := opts.Lookup("viewOn").StringValueOK()
	if !isStr {
		return "", nil, false
	}
	pipeline, _ = opts.Lookup("pipeline").ArrayOK()
	if pipeline == nil {
		pipeline = bson.Raw{5, 0, 0, 0, 0}
	}
	return on, pipeline, true
}

// viewWriteError is the server's refusal of a write or index operation
// on a view; nil if ns is not one.
func viewWriteError(st *materialize.State, ns materialize.Namespace) error {
	if _, _, ok := viewDef(st.Collection(ns)); ok {
		return serverError(codeCommandNotSupportedOnView, "Namespace %s is a view, not a collection", ns)
	}
	return nil
}

// nsSeq streams the documents of db.name in st: a collection's in natural
// order (none if it does not exist), a view's as its pipeline produces
// them over its source.
func nsSeq(st *materialize.State, db, name string) (materialize.DocSeq, error) {
	return nsSeqDepth(st, db, name, 0)
}

func nsSeqDepth(st *materialize.State, db, name string, depth int) (materialize.DocSeq, error) {
	c := st.Collection(materialize.Namespace{DB: db, Coll: name})
	on, pipeline, ok := viewDef(c)
	if !ok {
		return collectionSeq(c), nil
	}
	if depth >= maxViewDepth {
		return nil, serverError(codeViewDepthLimitExceeded, "View depth too deep or view cycle detected. Maximum depth is %d", maxViewDepth)
	}
	src, err := nsSeqDepth(st, db, on, depth+1)
	if err != nil {
		return nil, err
	}
	p, err := materialize.CompileAggregate(pipeline, materialize.AggregateOptions{Seed: time.Now().UnixNano()})
	if err != nil {
		return nil, commandError(err)
	}
	p = p.WithResolver(func(coll string) (materialize.DocSeq, error) {
		return nsSeqDepth(st, db, coll, depth+1)
	})
	return p.Run(src), nil
}

// readSource catches up with the log and returns what a read of the
// collection scans: the collection itself (nil if it does not exist), or,
// for a view, the documents the view produces.
func (coll *Collection) readSource(ctx context.Context) (c *materialize.Collection, view []bson.Raw, isView bool, err error) {
	st, err := coll.readSnapshot(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	c = st.Collection(coll.ns())
	if _, _, ok := viewDef(c); !ok {
		return c, nil, false, nil
	}
	seq, err := nsSeq(st, coll.db.name, coll.name)
	if err != nil {
		return nil, nil, false, err
	}
	view, err = materialize.CollectSeq(seq)
	if err != nil {
		return nil, nil, false, commandError(err)
	}
	return nil, view, true, nil
}

// matchSlice is matchDocs over a view's documents.
func matchSlice(docs []bson.Raw, f *materialize.Filter, positional bool, limit int) ([]matched, error) {
	var out []matched
	for _, doc := range docs {
		var ok bool
		pos := -1
		var err error
		if positional {
			ok, pos, err = f.MatchPositional(doc)
		} else {
			ok, err = f.Match(doc)
		}
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, matched{doc: doc, pos: pos})
			if limit > 0 && len(out) >= limit {
				break
			}
		}
	}
	return out, nil
}

// CreateView creates the view viewName on viewOn (a collection or view of
// the same database, which need not exist yet) with the aggregation
// pipeline pipeline, which must not write ($out, $merge). A view is
// read-only: Find, FindOne, CountDocuments, EstimatedDocumentCount,
// Distinct and Aggregate run its pipeline, from the same snapshot, before
// their own stages; writes and index operations fail with code 166
// CommandNotSupportedOnView. Views on views are resolved up to 20 deep; a
// view that would close a cycle is refused (code 5 GraphContainsCycle).
// CreateViewOptions.Collation returns an error wrapping ErrNotSupported.
// The view is durable, per the store, when CreateView returns.
func (db *Database) CreateView(ctx context.Context, viewName, viewOn string, pipeline interface{}, opts ...*options.CreateViewOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	raw, err := db.codec.pipelineArray(pipeline)
	if err != nil {
		return err
	}
	if err := db.client.live(); err != nil {
		return err
	}
	for _, o := range opts {
		if o != nil && o.Collation != nil {
			return notSupported("collation")
		}
	}
	if err := namespaceError(db.name, viewName, true); err != nil {
		return err
	}
	if viewOn == "" {
		return serverError(codeBadValue, "'viewOn' must be a non-empty string")
	}
	if err := namespaceError(db.name, viewOn, false); err != nil {
		return err
	}
	p, err := materialize.CompileAggregate(raw, materialize.AggregateOptions{})
	if err != nil {
		return commandError(err)
	}
	if out := p.Output(); out != nil {
		return serverError(codeOptionNotSupportedOnView, "%s cannot be used in a view definition", out.Stage)
	}
	idx, doc := bsoncore.AppendDocumentStart(nil)
	doc = bsoncore.AppendStringElement(doc, "viewOn", viewOn)
	doc = bsoncore.AppendArrayElement(doc, "pipeline", raw)
	doc, _ = bsoncore.AppendDocumentEnd(doc, idx)

	ctx, cancel := db.client.opContext(ctx)
	defer cancel()
	ns := materialize.Namespace{DB: db.name, Coll: viewName}
	_, err = db.client.eng.write(ctx, db.client.branch, func(st *materialize.State) ([]wal.Op, error) {
		if st.Collection(ns) != nil {
			return nil, stateErr(serverError(codeNamespaceExists, "Namespace already exists: %s", ns))
		}
		if err := viewCycleError(st, db.name, viewName, viewOn); err != nil {
			return nil, stateErr(err)
		}
		return []wal.Op{{Kind: wal.OpCreateCollection, DB: ns.DB, Coll: ns.Coll, Doc: bson.Raw(doc)}}, nil
	})
	return err
}

// viewCycleError checks that a view name on viewOn would neither close a
// cycle nor exceed the depth limit.
func viewCycleError(st *materialize.State, db, name, viewOn string) error {
	chain := []string{db + "." + name}
	for on, depth := viewOn, 1; ; depth++ {
		chain = append(chain, db+"."+on)
		if on == name {
			return serverError(codeGraphContainsCycle, "View cycle detected: %v", chain)
		}
		if depth > maxViewDepth {
			return serverError(codeViewDepthLimitExceeded, "View depth too deep or view cycle detected. Maximum depth is %d", maxViewDepth)
		}
		next, _, ok := viewDef(st.Collection(materialize.Namespace{DB: db, Coll: on}))
		if !ok {
			return nil
		}
		on = next
	}
}

// viewInfo is the listCollections document of a view.
func viewInfo(name string, opts bson.Raw, nameOnly bool) bson.D {
	d := bson.D{{Key: "name", Value: name}, {Key: "type", Value: "view"}}
	if nameOnly {
		return d
	}
	return append(d, bson.E{Key: "options", Value: opts}, bson.E{Key: "info", Value: bson.D{{Key: "readOnly", Value: true}}})
}
