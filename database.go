package argon

import (
	"context"
	"fmt"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readconcern"
	"go.mongodb.org/mongo-driver/mongo/readpref"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Database is a handle for one database on the client's branch, the twin
// of mongo.Database: it has every method of *mongo.Database with the same
// signature. A Database is safe for concurrent use by multiple goroutines.
//
// Creating one does no I/O; a database exists while it has a collection.
type Database struct {
	client *Client
	name   string
	codec  codec
	rc     *readconcern.ReadConcern
	wc     *writeconcern.WriteConcern
	rp     *readpref.ReadPref
}

func newDatabase(c *Client, name string, opts ...*options.DatabaseOptions) *Database {
	o := options.MergeDatabaseOptions(opts...)
	db := &Database{client: c, name: name, rp: readpref.Primary()}
	if o.ReadConcern != nil {
		db.rc = o.ReadConcern
	}
	if o.WriteConcern != nil {
		db.wc = o.WriteConcern
	}
	if o.ReadPreference != nil {
		db.rp = o.ReadPreference
	}
	db.codec = codec{reg: o.Registry, opts: o.BSONOptions}
	return db
}

// Client returns the Client the database belongs to.
func (db *Database) Client() *Client { return db.client }

// Name returns the database's name.
func (db *Database) Name() string { return db.name }

// Collection returns a handle for the collection name. Like the driver's,
// it does not check the name: operations do.
func (db *Database) Collection(name string, opts ...*options.CollectionOptions) *Collection {
	return newCollection(db, name, opts...)
}

// ReadConcern returns the database's read concern. Reads always see the
// newest state of the branch, whatever it says.
func (db *Database) ReadConcern() *readconcern.ReadConcern { return db.rc }

// ReadPreference returns the database's read preference (primary by
// default). It has no effect in-process.
func (db *Database) ReadPreference() *readpref.ReadPref { return db.rp }

// WriteConcern returns the database's write concern. Writes are durable,
// per the store, when they return, whatever it says; w: 0 only makes them
// return ErrUnacknowledgedWrite, as the driver does.
func (db *Database) WriteConcern() *writeconcern.WriteConcern { return db.wc }

// Aggregate runs a database-level pipeline, which must start with
// $documents; other database-level pipelines ($currentOp,
// $listLocalSessions, ...) return errors wrapping ErrNotSupported.
func (db *Database) Aggregate(ctx context.Context, pipeline interface{}, opts ...*options.AggregateOptions) (*Cursor, error) {
	return db.aggregate(ctx, pipeline, opts)
}

// runCommandCheck applies the driver's client-side checks to a command.
func (db *Database) runCommandCheck(cmd interface{}) error {
	if isUnorderedMap(cmd) {
		return ErrMapForOrderedArgument{ParamName: "cmd"}
	}
	_, err := db.codec.marshal(cmd)
	return err
}

// RunCommand runs a database command in-process and returns its reply
// (runcommand.go lists the commands: ping, buildInfo, hello/isMaster,
// listCollections, listIndexes, listDatabases on admin, count, distinct,
// find, insert, update, delete, aggregate, create, drop, dropDatabase,
// createIndexes, dropIndexes, dbStats, collStats, getMore, killCursors).
// Other commands fail with code 59 CommandNotFound; those the server has
// also wrap ErrNotSupported. Writes are durable, per the store, when
// RunCommand returns.
func (db *Database) RunCommand(ctx context.Context, runCommand interface{}, opts ...*options.RunCmdOptions) *SingleResult {
	reply, err := db.runCommand(ctx, runCommand)
	return singleResult(reply, err, db.codec.registry())
}

// RunCommandCursor runs a command whose reply holds a cursor (find,
// aggregate, listCollections, listIndexes) and returns a Cursor over all
// of its documents.
func (db *Database) RunCommandCursor(ctx context.Context, runCommand interface{}, opts ...*options.RunCmdOptions) (*Cursor, error) {
	return db.runCommandCursor(ctx, runCommand)
}

// Drop drops the database: every collection in it, with its indexes.
// Dropping a database that does not exist is not an error. The drop is
// durable, per the store, when Drop returns.
func (db *Database) Drop(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := db.client.live(); err != nil {
		return err
	}
	if err := databaseError(db.name); err != nil {
		return err
	}
	if err := noTransaction(ctx, "dropDatabase"); err != nil {
		return err
	}
	ctx, cancel := db.client.opContext(ctx)
	defer cancel()
	_, err := db.client.eng.write(ctx, db.client.branch, func(st *materialize.State) ([]wal.Op, error) {
		for _, ns := range st.Namespaces() {
			if ns.DB == db.name {
				return []wal.Op{{Kind: wal.OpDropDatabase, DB: db.name}}, nil
			}
		}
		return nil, nil
	})
	return err
}

// CreateCollection creates the collection name, which must not exist yet
// (code 48 NamespaceExists). StorageEngine, DefaultIndexOptions and
// ChangeStreamPreAndPostImages are stored and listed. A collation becomes
// the collection's default, as on the server: operations without a
// collation of their own and indexes created without one use it, and its
// _id index compares with it (so _id values equal under it conflict).
// Capped, time-series, clustered and encrypted collections return errors
// wrapping ErrNotSupported. The collection is durable, per the store, when
// CreateCollection returns.
func (db *Database) CreateCollection(ctx context.Context, name string, opts ...*options.CreateCollectionOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := db.client.live(); err != nil {
		return err
	}
	cco := options.MergeCreateCollectionOptions(opts...)
	// {locale: "simple"} is no default collation.
	collation, err := collationArg(cco.Collation)
	if err != nil {
		return commandError(err)
	}
	switch {
	case cco.Capped != nil && *cco.Capped, cco.SizeInBytes != nil, cco.MaxDocuments != nil:
		return notSupported("capped collections")
	case cco.TimeSeriesOptions != nil:
		return notSupported("time-series collections")
	case cco.ClusteredIndex != nil:
		return notSupported("clustered collections")
	case cco.EncryptedFields != nil:
		return notSupported("queryable encryption (encryptedFields)")
	case cco.ExpireAfterSeconds != nil:
		return notSupported("expireAfterSeconds on collections (time-series and clustered collections)")
	}
	idx, doc := bsoncore.AppendDocumentStart(nil)
	if collation != nil {
		// Stored and listed as the server does: every field resolved.
		doc = bsoncore.AppendDocumentElement(doc, "collation", bsoncore.Document(collation.Spec()))
	}
	if cco.ChangeStreamPreAndPostImages != nil {
		d, err := db.codec.marshal(cco.ChangeStreamPreAndPostImages)
		if err != nil {
			return err
		}
		doc = bsoncore.AppendDocumentElement(doc, "changeStreamPreAndPostImages", d)
	}
	if cco.DefaultIndexOptions != nil {
		didx, d := bsoncore.AppendDocumentStart(nil)
		if cco.DefaultIndexOptions.StorageEngine != nil {
			se, err := db.codec.marshal(cco.DefaultIndexOptions.StorageEngine)
			if err != nil {
				return err
			}
			d = bsoncore.AppendDocumentElement(d, "storageEngine", se)
		}
		d, _ = bsoncore.AppendDocumentEnd(d, didx)
		doc = bsoncore.AppendDocumentElement(doc, "indexOptionDefaults", d)
	}
	if cco.StorageEngine != nil {
		se, err := db.codec.marshal(cco.StorageEngine)
		if err != nil {
			return err
		}
		doc = bsoncore.AppendDocumentElement(doc, "storageEngine", se)
	}
	if cco.Validator != nil {
		v, err := db.codec.marshal(cco.Validator)
		if err != nil {
			return err
		}
		doc = bsoncore.AppendDocumentElement(doc, "validator", v)
	}
	if cco.ValidationLevel != nil {
		doc = bsoncore.AppendStringElement(doc, "validationLevel", *cco.ValidationLevel)
	}
	if cco.ValidationAction != nil {
		doc = bsoncore.AppendStringElement(doc, "validationAction", *cco.ValidationAction)
	}
	doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
	if _, err := parseValidator(bson.Raw(doc)); err != nil {
		return err
	}
	if err := namespaceError(db.name, name, true); err != nil {
		return err
	}
	ctx, cancel := db.client.opContext(ctx)
	defer cancel()
	ns := materialize.Namespace{DB: db.name, Coll: name}
	_, err = db.client.eng.write(ctx, db.client.branch, func(st *materialize.State) ([]wal.Op, error) {
		if st.Collection(ns) != nil {
			return nil, stateErr(serverError(codeNamespaceExists, "Collection %s already exists.", ns))
		}
		return []wal.Op{{Kind: wal.OpCreateCollection, DB: ns.DB, Coll: ns.Coll, Doc: bson.Raw(doc)}}, nil
	})
	return err
}

// collectionInfos returns the listCollections documents of the database:
// {name, type: "collection", options, info: {readOnly: false}, idIndex}
// ({name, type} with nameOnly), sorted by name, filtered by filter.
func (db *Database) collectionInfos(ctx context.Context, filter interface{}, opts ...*options.ListCollectionsOptions) ([]bson.Raw, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := db.client.live(); err != nil {
		return nil, err
	}
	f, err := db.codec.compileFilter(filter)
	if err != nil {
		return nil, err
	}
	if err := noSnapshot(ctx, "listCollections"); err != nil {
		return nil, err
	}
	lco := options.MergeListCollectionsOptions(opts...)
	nameOnly := lco.NameOnly != nil && *lco.NameOnly
	if err := databaseError(db.name); err != nil {
		return nil, err
	}
	ctx, cancel := db.client.opContext(ctx)
	defer cancel()
	st, err := db.client.eng.snapshot(ctx, db.client.branch)
	if err != nil {
		return nil, err
	}
	var out []bson.Raw
	for _, ns := range st.Namespaces() {
		if ns.DB != db.name {
			continue
		}
		d := bson.D{{Key: "name", Value: ns.Coll}, {Key: "type", Value: "collection"}}
		if _, _, isView := viewDef(st.Collection(ns)); isView {
			d = viewInfo(ns.Coll, st.Collection(ns).Options(), nameOnly)
		} else if !nameOnly {
			opts := st.Collection(ns).Options()
			if len(opts) == 0 {
				opts = emptyDoc()
			}
			d = append(d,
				bson.E{Key: "options", Value: opts},
				bson.E{Key: "info", Value: bson.D{{Key: "readOnly", Value: false}}},
				bson.E{Key: "idIndex", Value: st.Collection(ns).IDIndexSpec()})
		}
		raw, err := bson.Marshal(d)
		if err != nil {
			return nil, err
		}
		ok, err := f.Match(raw)
		if err != nil {
			return nil, commandError(err)
		}
		if ok {
			out = append(out, raw)
		}
	}
	return out, nil
}

// ListCollections returns a cursor over the listCollections documents of
// the database's collections that match filter (a filter over name, type,
// options, info and idIndex), sorted by name.
func (db *Database) ListCollections(ctx context.Context, filter interface{}, opts ...*options.ListCollectionsOptions) (*Cursor, error) {
	docs, err := db.collectionInfos(ctx, filter, opts...)
	if err != nil {
		return nil, err
	}
	return newCursor(docs, db.codec.registry())
}

// ListCollectionSpecifications describes the database's collections that
// match filter.
func (db *Database) ListCollectionSpecifications(ctx context.Context, filter interface{}, opts ...*options.ListCollectionsOptions) ([]*CollectionSpecification, error) {
	docs, err := db.collectionInfos(ctx, filter, opts...)
	if err != nil {
		return nil, err
	}
	specs := make([]*CollectionSpecification, 0, len(docs))
	for _, d := range docs {
		var s CollectionSpecification
		if err := s.UnmarshalBSON(d); err != nil {
			return nil, err
		}
		if s.IDIndex != nil && s.IDIndex.Namespace == "" {
			s.IDIndex.Namespace = db.name + "." + s.Name
		}
		specs = append(specs, &s)
	}
	return specs, nil
}

// ListCollectionNames returns the names of the database's collections that
// match filter, sorted.
func (db *Database) ListCollectionNames(ctx context.Context, filter interface{}, opts ...*options.ListCollectionsOptions) ([]string, error) {
	opts = append(opts, options.ListCollections().SetNameOnly(true))
	docs, err := db.collectionInfos(ctx, filter, opts...)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(docs))
	for _, d := range docs {
		s, ok := d.Lookup("name").StringValueOK()
		if !ok {
			return nil, fmt.Errorf("incorrect type for 'name'")
		}
		names = append(names, s)
	}
	return names, nil
}
