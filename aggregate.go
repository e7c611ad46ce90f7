package argon

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsoncodec"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
)

// This file runs aggregation pipelines in-process (materialize's
// CompileAggregate) over a snapshot of the branch: the collection's
// documents in natural order are the input, and $lookup and $unionWith
// read the other collections of the same database from the same snapshot.

// pipelineArray marshals a pipeline argument (mongo.Pipeline, bson.A,
// []bson.D, a ValueMarshaler of an array, ...) into a BSON array, after the
// driver's checks.
func (c codec) pipelineArray(pipeline interface{}) (bson.Raw, error) {
	if err := c.marshalPipeline(pipeline); err != nil {
		return nil, err
	}
	switch t := pipeline.(type) {
	case bsoncodec.ValueMarshaler:
		_, data, err := t.MarshalBSONValue()
		if err != nil {
			return nil, err
		}
		return bson.Raw(data), nil
	case bsoncore.Array:
		return bson.Raw(t), nil
	case bson.D, bson.Raw, bsoncore.Document:
		return bson.Raw{5, 0, 0, 0, 0}, nil
	}
	val := reflect.ValueOf(pipeline)
	idx, arr := bsoncore.AppendArrayStart(nil)
	for i := 0; i < val.Len(); i++ {
		doc, err := c.marshal(val.Index(i).Interface())
		if err != nil {
			return nil, err
		}
		arr = bsoncore.AppendDocumentElement(arr, fmt.Sprint(i), doc)
	}
	arr, _ = bsoncore.AppendArrayEnd(arr, idx)
	return bson.Raw(arr), nil
}

// codeInvalidOptionsAgg is error_codes.yml's InvalidOptions.
const codeInvalidOptionsAgg int32 = 72

// aggregateSpec is a compiled aggregate command.
type aggregateSpec struct {
	pipeline *materialize.Pipeline
	hint     bson.RawValue
	// underDefault compiles the pipeline again under a collection's
	// default collation; nil when the command names a collation.
	underDefault func(*materialize.Collation) (*materialize.Pipeline, error)
}

// compileAggregate checks the options and compiles the pipeline.
func compileAggregate(c codec, pipeline interface{}, opts []*options.AggregateOptions) (*aggregateSpec, error) {
	raw, err := c.pipelineArray(pipeline)
	if err != nil {
		return nil, err
	}
	ao := options.MergeAggregateOptions(opts...)
	collation, err := collationArg(ao.Collation)
	if err != nil {
		return nil, commandError(err)
	}
	var let bson.Raw
	if ao.Let != nil {
		if let, err = c.marshal(ao.Let); err != nil {
			return nil, err
		}
	}
	spec := &aggregateSpec{}
	if ao.Hint != nil {
		if isUnorderedMap(ao.Hint) {
			return nil, ErrMapForOrderedArgument{ParamName: "hint"}
		}
		if s, ok := ao.Hint.(string); ok {
			spec.hint = bson.RawValue{Type: bsontype.String, Value: bsoncore.AppendString(nil, s)}
		} else if spec.hint, err = c.marshalValue(ao.Hint); err != nil {
			return nil, err
		}
	}
	// AllowDiskUse, BatchSize, BypassDocumentValidation, MaxTime,
	// MaxAwaitTime and Comment have no effect in-process.
	// $sample draws a new random sample on every call, as on the server.
	seed := time.Now().UnixNano()
	spec.pipeline, err = materialize.CompileAggregate(raw, materialize.AggregateOptions{Let: let, Seed: seed, Collation: collation})
	if err != nil {
		return nil, commandError(err)
	}
	if ao.Collation == nil {
		spec.underDefault = func(d *materialize.Collation) (*materialize.Pipeline, error) {
			return materialize.CompileAggregate(raw, materialize.AggregateOptions{Let: let, Seed: seed, Collation: d})
		}
	}
	return spec, nil
}

// run runs the pipeline on the collection coll of database db in st (nil
// coll for a database-level pipeline).
func (spec *aggregateSpec) run(st *materialize.State, db, coll string) ([]bson.Raw, error) {
	resolve := func(name string) (materialize.DocSeq, error) {
		return nsSeq(st, db, name)
	}
	var in materialize.DocSeq = materialize.SliceSeq(nil)
	pipeline := spec.pipeline
	var c *materialize.Collection
	if coll != "" {
		c = st.Collection(materialize.Namespace{DB: db, Coll: coll})
		if d := c.DefaultCollation(); d != nil && spec.underDefault != nil {
			var err error
			if pipeline, err = spec.underDefault(d); err != nil {
				return nil, commandError(err)
			}
		}
	}
	if coll != "" && !pipeline.IsSourcePipeline() {
		if _, _, isView := viewDef(c); isView {
			var err error
			if in, err = nsSeq(st, db, coll); err != nil {
				return nil, err
			}
		} else {
			if err := hintError(c, spec.hint); err != nil {
				return nil, commandError(err)
			}
			in = collectionSeq(c)
		}
	}
	p := pipeline.WithResolver(resolve)
	docs, err := materialize.CollectSeq(p.Run(in))
	if err != nil {
		return nil, commandError(err)
	}
	return docs, nil
}

// collectionSeq streams a collection's documents in natural order (none
// for a collection that does not exist).
func collectionSeq(c *materialize.Collection) materialize.DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		if c == nil {
			return
		}
		c.Scan(func(doc bson.Raw) bool { return yield(doc, nil) })
	}
}

// aggregate is Collection.Aggregate.
func (coll *Collection) aggregate(ctx context.Context, pipeline interface{}, opts []*options.AggregateOptions) (*Cursor, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := coll.client.live(); err != nil {
		return nil, err
	}
	spec, err := compileAggregate(coll.codec, pipeline, opts)
	if err != nil {
		return nil, err
	}
	if err := namespaceError(coll.db.name, coll.name, false); err != nil {
		return nil, err
	}
	if out := spec.pipeline.Output(); out != nil && coll.rc != nil && coll.rc.Level == "linearizable" {
		return nil, serverError(codeInvalidOptionsAgg, "%s cannot be used with a 'linearizable' read concern level", out.Stage)
	}
	ctx, cancel := coll.client.opContext(ctx)
	defer cancel()
	st, err := coll.client.eng.snapshot(ctx, coll.client.branch)
	if err != nil {
		return nil, err
	}
	docs, err := spec.run(st, coll.db.name, coll.name)
	if err != nil {
		return nil, err
	}
	if out := spec.pipeline.Output(); out != nil {
		if err := writeOutput(ctx, coll.client, coll.codec, coll.db.name, out, docs); err != nil {
			return nil, err
		}
		docs = nil
	}
	return newCursor(docs, coll.codec.registry())
}

// aggregate is Database.Aggregate: a pipeline that starts with $documents.
func (db *Database) aggregate(ctx context.Context, pipeline interface{}, opts []*options.AggregateOptions) (*Cursor, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := db.client.live(); err != nil {
		return nil, err
	}
	raw, err := db.codec.pipelineArray(pipeline)
	if err != nil {
		return nil, err
	}
	if raw, err = db.client.rewriteListLocalSessions(ctx, raw); err != nil {
		return nil, err
	}
	spec, err := compileAggregate(db.codec, bsoncore.Array(raw), opts)
	if err != nil {
		return nil, err
	}
	if !spec.pipeline.IsSourcePipeline() {
		return nil, notSupported("database-level aggregation stages other than $documents")
	}
	if err := databaseError(db.name); err != nil {
		return nil, err
	}
	ctx, cancel := db.client.opContext(ctx)
	defer cancel()
	st, err := db.client.eng.snapshot(ctx, db.client.branch)
	if err != nil {
		return nil, err
	}
	docs, err := spec.run(st, db.name, "")
	if err != nil {
		return nil, err
	}
	if out := spec.pipeline.Output(); out != nil {
		if err := writeOutput(ctx, db.client, db.codec, db.name, out, docs); err != nil {
			return nil, err
		}
		docs = nil
	}
	return newCursor(docs, db.codec.registry())
}

// writeOutput writes the documents that reach a final $out or $merge to
// its target, in one atomic record: $out replaces the target's documents
// (keeping its indexes and options, creating it when missing), $merge
// inserts, replaces or merges document by document. Unique-index and _id
// violations fail the whole stage with the server's duplicate-key error.
func writeOutput(ctx context.Context, client *Client, c codec, srcDB string, out *materialize.OutSpec, docs []bson.Raw) error {
	if err := refuseInTransaction(ctx, txnError(codeOperationNotSupportedInTransaction, "OperationNotSupportedInTransaction", out.Stage+" cannot be used in a transaction")); err != nil {
		return err
	}
	dbName := out.DB
	if dbName == "" {
		dbName = srcDB
	}
	if err := namespaceError(dbName, out.Coll, true); err != nil {
		return err
	}
	ns := materialize.Namespace{DB: dbName, Coll: out.Coll}
	withIDs := make([]bson.Raw, len(docs))
	for i, d := range docs {
		raw, _, err := c.ensureID(d)
		if err != nil {
			return err
		}
		withIDs[i] = raw
	}
	_, err := client.eng.write(ctx, client.branch, func(st *materialize.State) ([]wal.Op, error) {
		if err := viewWriteError(st, ns); err != nil {
			return nil, stateErr(err)
		}
		w := &working{st: st, ns: ns, now: time.Now()}
		if st.Collection(ns) == nil {
			if err := w.applyNow([]wal.Op{{Kind: wal.OpCreateCollection, Doc: bson.Raw{5, 0, 0, 0, 0}}}); err != nil {
				return nil, err
			}
		}
		var err error
		if out.Stage == "$out" {
			err = writeOut(w, withIDs)
		} else {
			err = writeMerge(w, out, withIDs)
		}
		if err != nil {
			return nil, err
		}
		return w.finish()
	})
	return commandError(err)
}

// writeOut replaces the target's documents by docs.
func writeOut(w *working, docs []bson.Raw) error {
	var dels []wal.Op
	if c := w.coll(); c != nil {
		c.Scan(func(d bson.Raw) bool {
			dels = append(dels, wal.Op{Kind: wal.OpDelete, ID: d.Lookup("_id"), Before: d})
			return true
		})
	}
	if len(dels) > 0 {
		if err := w.applyNow(dels); err != nil {
			return err
		}
	}
	for _, d := range docs {
		if _, err := w.insert(d); err != nil {
			return err
		}
	}
	return nil
}

// mergeMatch finds the target document whose on fields equal doc's.
func mergeMatch(c *materialize.Collection, on []string, doc bson.Raw) (bson.Raw, bool, error) {
	if c == nil {
		return nil, false, nil
	}
	if len(on) == 1 && on[0] == "_id" {
		d, ok := c.Get(doc.Lookup("_id"))
		return d, ok, nil
	}
	keys := make([]bson.RawValue, len(on))
	for i, f := range on {
		v, err := doc.LookupErr(strings.Split(f, ".")...)
		if err != nil || v.Type == bsontype.Null || v.Type == bsontype.Array || v.Type == bsontype.Undefined {
			return nil, false, &materialize.Error{Code: 51132, Name: "Location51132",
				Message: "$merge write error: 'on' field cannot be missing, null, undefined or an array"}
		}
		keys[i] = v
	}
	var found bson.Raw
	c.Scan(func(d bson.Raw) bool {
		for i, f := range on {
			v, err := d.LookupErr(strings.Split(f, ".")...)
			if err != nil || !materialize.ValuesEqual(v, keys[i]) {
				return true
			}
		}
		found = d
		return false
	})
	return found, found != nil, nil
}

// writeMerge merges docs into the target.
func writeMerge(w *working, out *materialize.OutSpec, docs []bson.Raw) error {
	for _, d := range docs {
		old, matched, err := mergeMatch(w.coll(), out.On, d)
		if err != nil {
			return err
		}
		if !matched {
			switch out.WhenNotMatched {
			case "insert":
				if _, err := w.insert(d); err != nil {
					return err
				}
			case "fail":
				return &materialize.Error{Code: 13113, Name: "MergeStageNoMatchingDocument",
					Message: "$merge could not find a matching document in the target collection for at least one document in the source collection"}
			}
			continue
		}
		id := old.Lookup("_id")
		var next bson.Raw
		switch out.WhenMatched {
		case "keepExisting":
			continue
		case "fail":
			return materialize.DuplicateIDError(w.ns, id)
		case "replace":
			md, err := materialize.NewMutableDocument(d)
			if err == nil {
				err = md.Set("_id", id)
			}
			if err != nil {
				return err
			}
			next = md.Raw()
		default: // merge
			md, err := materialize.NewMutableDocument(old)
			if err != nil {
				return err
			}
			elems, err := d.Elements()
			if err != nil {
				return err
			}
			for _, e := range elems {
				if e.Key() == "_id" {
					continue
				}
				if err := md.Set(e.Key(), e.Value()); err != nil {
					return err
				}
			}
			next = md.Raw()
		}
		if err := w.apply(wal.Op{Kind: wal.OpReplace, ID: id, Before: old, Doc: next}); err != nil {
			return err
		}
	}
	return nil
}
