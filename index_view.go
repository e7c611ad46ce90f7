package argon

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// maxIndexes is the server's limit of indexes per collection, _id included.
const maxIndexes = 64

// IndexView manages the indexes of a collection, the twin of
// mongo.IndexView: it has every method of mongo.IndexView with the same
// signature. An IndexView is a small value, safe for concurrent use by
// multiple goroutines.
//
// Unique indexes (compound, sparse, partial) are enforced on every write;
// an equality on the first field of an index is answered from it. TTL
// indexes (expireAfterSeconds) are stored and listed, but Argon does not
// expire documents yet. An index with a collation compares its keys (and
// enforces uniqueness) with it, and answers only queries with the same
// collation. Text, 2d, 2dsphere, hashed and wildcard indexes return errors
// wrapping ErrNotSupported.
type IndexView struct {
	coll *Collection
}

// List returns a cursor over the index specifications of the collection,
// as listIndexes returns them: the _id index first, then the others in
// creation order, each {v: 2, key, name, options...}. A collection that
// does not exist has no indexes (an empty cursor), as with the driver.
func (iv IndexView) List(ctx context.Context, opts ...*options.ListIndexesOptions) (*Cursor, error) {
	specs, err := iv.specs(ctx)
	if err != nil {
		return nil, err
	}
	return newCursor(specs, iv.coll.codec.registry())
}

func (iv IndexView) specs(ctx context.Context) ([]bson.Raw, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := noSnapshot(ctx, "listIndexes"); err != nil {
		return nil, err
	}
	ctx, cancel := iv.coll.client.opContext(ctx)
	defer cancel()
	c, err := iv.coll.readState(ctx)
	if err != nil || c == nil {
		return nil, err
	}
	out := []bson.Raw{c.IDIndexSpec()}
	for _, ix := range c.Indexes() {
		out = append(out, ix.Spec)
	}
	return out, nil
}

// ListSpecifications describes the collection's indexes; see List.
func (iv IndexView) ListSpecifications(ctx context.Context, opts ...*options.ListIndexesOptions) ([]*IndexSpecification, error) {
	specs, err := iv.specs(ctx)
	if err != nil {
		return nil, err
	}
	ns := iv.coll.db.name + "." + iv.coll.name
	var out []*IndexSpecification
	for _, s := range specs {
		var spec IndexSpecification
		if err := spec.UnmarshalBSON(s); err != nil {
			return nil, err
		}
		spec.Namespace = ns
		out = append(out, &spec)
	}
	return out, nil
}

// CreateOne creates one index and returns its name; see CreateMany. The
// index is durable, per the store, when CreateOne returns.
func (iv IndexView) CreateOne(ctx context.Context, model IndexModel, opts ...*options.CreateIndexesOptions) (string, error) {
	names, err := iv.CreateMany(ctx, []IndexModel{model}, opts...)
	if err != nil {
		return "", err
	}
	return names[0], nil
}

// CreateMany creates indexes and returns their names: the name given in
// the options, or the driver's default ("a_1_b_-1"). Creating an index
// that exists with the same name and options is a no-op; the same name
// with another key fails with code 86 IndexKeySpecsConflict, the same key
// with other options or another name with code 85 IndexOptionsConflict. A
// unique index over documents that break it fails with code 11000 and
// nothing is created. The indexes are durable, per the store, when
// CreateMany returns; they are created together or not at all.
func (iv IndexView) CreateMany(ctx context.Context, models []IndexModel, opts ...*options.CreateIndexesOptions) ([]string, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	coll := iv.coll
	names := make([]string, 0, len(models))
	defs := make([]*materialize.IndexDef, 0, len(models))
	inherit := make([]bool, 0, len(models))
	for _, model := range models {
		if model.Keys == nil {
			return nil, fmt.Errorf("index model keys cannot be nil")
		}
		if isUnorderedMap(model.Keys) {
			return nil, ErrMapForOrderedArgument{ParamName: "keys"}
		}
		keys, err := coll.codec.marshal(model.Keys)
		if err != nil {
			return nil, err
		}
		name, err := indexName(keys, model)
		if err != nil {
			return nil, err
		}
		names = append(names, name)
		if model.Options == nil {
			model.Options = options.Index()
		}
		model.Options.SetName(name) // the driver records the name in the caller's options too
		inherit = append(inherit, model.Options.Collation == nil)
		spec, err := iv.specDoc(keys, name, model.Options)
		if err != nil {
			return nil, err
		}
		def, err := materialize.ParseIndexSpec(spec)
		if err != nil {
			return nil, commandError(err)
		}
		defs = append(defs, def)
	}
	if _, _, err := iv.createDefs(ctx, defs, inherit); err != nil {
		return nil, err
	}
	return names, nil
}

// createDefs creates the parsed indexes defs in one record and returns how
// many indexes (_id_ included, 0 for a missing collection) the collection
// had before and has after. An index whose inherit is true was given no
// collation and takes the collection's default one, as on the server.
func (iv IndexView) createDefs(ctx context.Context, defs []*materialize.IndexDef, inherit []bool) (before, after int, err error) {
	coll := iv.coll
	if err := coll.client.live(); err != nil {
		return 0, 0, err
	}
	if len(defs) == 0 {
		return 0, 0, serverError(codeBadValue, "Must specify at least one index to create")
	}
	if err := namespaceError(coll.db.name, coll.name, true); err != nil {
		return 0, 0, err
	}
	if err := noTransaction(ctx, "createIndexes"); err != nil {
		return 0, 0, err
	}
	ctx, cancel := coll.client.opContext(ctx)
	defer cancel()
	_, err = coll.client.eng.write(ctx, coll.client.branch, func(st *materialize.State) ([]wal.Op, error) {
		if err := viewWriteError(st, coll.ns()); err != nil {
			return nil, stateErr(err)
		}
		w := &working{st: st, ns: coll.ns()}
		before, after = 0, 0
		if c := w.coll(); c != nil {
			before = len(c.Indexes()) + 1
		}
		after = max(before, 1)
		for i, def := range defs {
			c := w.coll()
			if d := c.DefaultCollation(); d != nil && inherit[i] {
				var err error
				if def, err = withCollation(def, d); err != nil {
					return nil, stateErr(err)
				}
			}
			exists, err := c.CheckNewIndex(w.ns, def)
			if err != nil {
				return nil, stateErr(err)
			}
			if exists {
				continue
			}
			if c != nil && len(c.Indexes())+1 >= maxIndexes {
				return nil, stateErr(&materialize.Error{Code: codeTooManyIndexes, Name: "CannotCreateIndex",
					Message: fmt.Sprintf("add index fails, too many indexes for %s key:%s", w.ns, docText(def.Key))})
			}
			if err := w.apply(wal.Op{Kind: wal.OpCreateIndex, Name: def.Name, Doc: def.Spec}); err != nil {
				return nil, err
			}
			after++
		}
		return w.finish()
	})
	if err != nil {
		return 0, 0, commandError(err)
	}
	return before, after, nil
}

// withCollation returns def with collation d added to its specification.
func withCollation(def *materialize.IndexDef, d *materialize.Collation) (*materialize.IndexDef, error) {
	idx, doc := bsoncore.AppendDocumentStart(nil)
	elems, err := def.Spec.Elements()
	if err != nil {
		return nil, err
	}
	for _, e := range elems {
		doc = append(doc, e...)
	}
	doc = bsoncore.AppendDocumentElement(doc, "collation", bsoncore.Document(d.Spec()))
	doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
	return materialize.ParseIndexSpec(doc)
}

// indexName is the driver's getOrGenerateIndexName.
func indexName(keys bson.Raw, model IndexModel) (string, error) {
	if model.Options != nil && model.Options.Name != nil {
		return *model.Options.Name, nil
	}
	var name bytes.Buffer
	elems, err := bsoncore.Document(keys).Elements()
	if err != nil {
		return "", err
	}
	for i, e := range elems {
		if i > 0 {
			name.WriteByte('_')
		}
		name.WriteString(e.Key())
		name.WriteByte('_')
		v := e.Value()
		switch v.Type {
		case bsontype.Int32:
			name.WriteString(strconv.FormatInt(int64(v.Int32()), 10))
		case bsontype.Int64:
			name.WriteString(strconv.FormatInt(v.Int64(), 10))
		case bsontype.String:
			name.WriteString(v.StringValue())
		default:
			return "", ErrInvalidIndexValue
		}
	}
	return name.String(), nil
}

// specDoc builds the stored specification {v: 2, key, name, options...}
// from the options, in the order the driver sends them.
func (iv IndexView) specDoc(keys bson.Raw, name string, o *options.IndexOptions) (bson.Raw, error) {
	idx, d := bsoncore.AppendDocumentStart(nil)
	d = bsoncore.AppendInt32Element(d, "v", 2)
	d = bsoncore.AppendDocumentElement(d, "key", keys)
	d = bsoncore.AppendStringElement(d, "name", name)
	c := iv.coll.codec
	if o.Background != nil {
		d = bsoncore.AppendBooleanElement(d, "background", *o.Background)
	}
	if o.ExpireAfterSeconds != nil {
		d = bsoncore.AppendInt32Element(d, "expireAfterSeconds", *o.ExpireAfterSeconds)
	}
	if o.Sparse != nil {
		d = bsoncore.AppendBooleanElement(d, "sparse", *o.Sparse)
	}
	if o.StorageEngine != nil {
		se, err := c.marshal(o.StorageEngine)
		if err != nil {
			return nil, err
		}
		d = bsoncore.AppendDocumentElement(d, "storageEngine", se)
	}
	if o.Unique != nil {
		d = bsoncore.AppendBooleanElement(d, "unique", *o.Unique)
	}
	if o.DefaultLanguage != nil {
		d = bsoncore.AppendStringElement(d, "default_language", *o.DefaultLanguage)
	}
	if o.LanguageOverride != nil {
		d = bsoncore.AppendStringElement(d, "language_override", *o.LanguageOverride)
	}
	if o.TextVersion != nil {
		d = bsoncore.AppendInt32Element(d, "textIndexVersion", *o.TextVersion)
	}
	if o.Weights != nil {
		w, err := c.marshal(o.Weights)
		if err != nil {
			return nil, err
		}
		d = bsoncore.AppendDocumentElement(d, "weights", w)
	}
	if o.SphereVersion != nil {
		d = bsoncore.AppendInt32Element(d, "2dsphereIndexVersion", *o.SphereVersion)
	}
	if o.Bits != nil {
		d = bsoncore.AppendInt32Element(d, "bits", *o.Bits)
	}
	if o.Max != nil {
		d = bsoncore.AppendDoubleElement(d, "max", *o.Max)
	}
	if o.Min != nil {
		d = bsoncore.AppendDoubleElement(d, "min", *o.Min)
	}
	if o.BucketSize != nil {
		d = bsoncore.AppendInt32Element(d, "bucketSize", *o.BucketSize)
	}
	if o.PartialFilterExpression != nil {
		pf, err := c.marshal(o.PartialFilterExpression)
		if err != nil {
			return nil, err
		}
		d = bsoncore.AppendDocumentElement(d, "partialFilterExpression", pf)
	}
	if o.Collation != nil {
		// The server stores (and lists) the full collation, every field
		// resolved, and drops a simple one.
		coll, err := collationArg(o.Collation)
		if err != nil {
			return nil, commandError(err)
		}
		if coll != nil {
			d = bsoncore.AppendDocumentElement(d, "collation", bsoncore.Document(coll.Spec()))
		}
	}
	if o.WildcardProjection != nil {
		wp, err := c.marshal(o.WildcardProjection)
		if err != nil {
			return nil, err
		}
		d = bsoncore.AppendDocumentElement(d, "wildcardProjection", wp)
	}
	if o.Hidden != nil {
		d = bsoncore.AppendBooleanElement(d, "hidden", *o.Hidden)
	}
	d, err := bsoncore.AppendDocumentEnd(d, idx)
	if err != nil {
		return nil, err
	}
	return bson.Raw(d), nil
}

// DropOne drops the index named name and returns {nIndexesWas: n}. "*" is
// ErrMultipleIndexDrop (use DropAll); "_id_" cannot be dropped (code 72
// InvalidOptions); an unknown name is code 27 IndexNotFound and a missing
// collection code 26 NamespaceNotFound. The drop is durable, per the
// store, when DropOne returns.
func (iv IndexView) DropOne(ctx context.Context, name string, opts ...*options.DropIndexesOptions) (bson.Raw, error) {
	if name == "*" {
		return nil, ErrMultipleIndexDrop
	}
	return iv.drop(ctx, func(c *materialize.Collection) ([]string, error) {
		if name == materialize.IDIndexName {
			return nil, serverError(codeInvalidOptions, "cannot drop _id index")
		}
		for _, ix := range c.Indexes() {
			if ix.Name == name {
				return []string{name}, nil
			}
		}
		return nil, serverError(codeIndexNotFound, "index not found with name [%s]", name)
	})
}

// DropOneWithKey drops the index whose key pattern is keySpecDocument; see
// DropOne. The drop is durable, per the store, when it returns.
func (iv IndexView) DropOneWithKey(ctx context.Context, keySpecDocument interface{}, opts ...*options.DropIndexesOptions) (bson.Raw, error) {
	key, err := iv.coll.codec.marshal(keySpecDocument)
	if err != nil {
		return nil, err
	}
	return iv.drop(ctx, func(c *materialize.Collection) ([]string, error) {
		if materialize.CompareDocuments(key, bsonD("_id", int32(1))) == 0 {
			return nil, serverError(codeInvalidOptions, "cannot drop _id index")
		}
		var found []string
		for _, d := range c.IndexDefs() {
			if materialize.CompareDocuments(key, d.Key) == 0 {
				found = append(found, d.Name)
			}
		}
		switch len(found) {
		case 0:
			return nil, serverError(codeIndexNotFound, "can't find index with key: %s", docText(key))
		case 1:
			return found, nil
		}
		return nil, serverError(codeBadValue, "%d indexes found for key: %s, identify by name instead. Conflicting indexes: %v", len(found), docText(key), found)
	})
}

// DropAll drops every index but _id_ and returns {nIndexesWas: n}. The
// drop is durable, per the store, when DropAll returns.
func (iv IndexView) DropAll(ctx context.Context, opts ...*options.DropIndexesOptions) (bson.Raw, error) {
	return iv.drop(ctx, func(c *materialize.Collection) ([]string, error) {
		var names []string
		for _, ix := range c.Indexes() {
			names = append(names, ix.Name)
		}
		return names, nil
	})
}

// drop runs a dropIndexes: pick chooses the indexes from the collection's
// newest state.
func (iv IndexView) drop(ctx context.Context, pick func(c *materialize.Collection) ([]string, error)) (bson.Raw, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	coll := iv.coll
	if err := coll.client.live(); err != nil {
		return nil, err
	}
	if err := namespaceError(coll.db.name, coll.name, true); err != nil {
		return nil, err
	}
	if err := noTransaction(ctx, "dropIndexes"); err != nil {
		return nil, err
	}
	ctx, cancel := coll.client.opContext(ctx)
	defer cancel()
	ns := coll.ns()
	var was int32
	_, err := coll.client.eng.write(ctx, coll.client.branch, func(st *materialize.State) ([]wal.Op, error) {
		if err := viewWriteError(st, ns); err != nil {
			return nil, stateErr(err)
		}
		c := st.Collection(ns)
		if c == nil {
			return nil, stateErr(serverError(codeNamespaceNotFound, "ns not found %s", ns))
		}
		was = int32(len(c.Indexes()) + 1)
		names, err := pick(c)
		if err != nil {
			return nil, stateErr(err)
		}
		ops := make([]wal.Op, 0, len(names))
		for _, n := range names {
			ops = append(ops, wal.Op{Kind: wal.OpDropIndex, DB: ns.DB, Coll: ns.Coll, Name: n})
		}
		return ops, nil
	})
	if err != nil {
		return nil, err
	}
	return bson.Raw(bsonD("nIndexesWas", was)), nil
}

// docText renders a document the way server messages do: { a: 1 }.
func docText(d bson.Raw) string { return materialize.FormatDocument(d) }

// SearchIndexView is the twin of mongo.SearchIndexView; it is safe for
// concurrent use. Atlas Search indexes are not supported: every method
// returns an error wrapping ErrNotSupported.
type SearchIndexView struct {
	coll *Collection
}

func errSearchIndexes(method string) error {
	return notSupported("Atlas Search indexes (SearchIndexView." + method + ")")
}

// List is not supported: it returns an error wrapping ErrNotSupported.
func (siv SearchIndexView) List(ctx context.Context, searchIdxOpts *options.SearchIndexesOptions, opts ...*options.ListSearchIndexesOptions) (*Cursor, error) {
	return nil, errSearchIndexes("List")
}

// CreateOne is not supported: it returns an error wrapping ErrNotSupported.
func (siv SearchIndexView) CreateOne(ctx context.Context, model SearchIndexModel, opts ...*options.CreateSearchIndexesOptions) (string, error) {
	return "", errSearchIndexes("CreateOne")
}

// CreateMany is not supported: it returns an error wrapping ErrNotSupported.
func (siv SearchIndexView) CreateMany(ctx context.Context, models []SearchIndexModel, opts ...*options.CreateSearchIndexesOptions) ([]string, error) {
	return nil, errSearchIndexes("CreateMany")
}

// DropOne is not supported: it returns an error wrapping ErrNotSupported.
func (siv SearchIndexView) DropOne(ctx context.Context, name string, opts ...*options.DropSearchIndexOptions) error {
	return errSearchIndexes("DropOne")
}

// UpdateOne is not supported: it returns an error wrapping ErrNotSupported.
func (siv SearchIndexView) UpdateOne(ctx context.Context, name string, definition interface{}, opts ...*options.UpdateSearchIndexOptions) error {
	return errSearchIndexes("UpdateOne")
}
