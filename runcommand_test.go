package argon

import (
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/argon-lab/argon/internal/testenv"
)

// rcSeed fills db.c with three documents and an index on a.
func rcSeed(t testing.TB, db *Database) {
	t.Helper()
	ctx := context.Background()
	_, err := db.Collection("c").InsertMany(ctx, []interface{}{
		bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: 1}},
		bson.D{{Key: "_id", Value: 2}, {Key: "a", Value: 2}},
		bson.D{{Key: "_id", Value: 3}, {Key: "a", Value: 2}},
	})
	require.NoError(t, err)
	_, err = db.Collection("c").Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "a", Value: 1}}})
	require.NoError(t, err)
}

// firstBatch returns the documents of a cursor reply.
func firstBatch(t *testing.T, reply bson.Raw) []bson.Raw {
	t.Helper()
	arr, ok := reply.Lookup("cursor", "firstBatch").ArrayOK()
	require.True(t, ok, "reply %s has no cursor.firstBatch", reply)
	vals, err := arr.Values()
	require.NoError(t, err)
	out := make([]bson.Raw, len(vals))
	for i, v := range vals {
		out[i] = v.Document()
	}
	assert.Equal(t, int64(0), reply.Lookup("cursor", "id").Int64())
	return out
}

func ids(docs []bson.Raw) []int32 {
	out := make([]int32, len(docs))
	for i, d := range docs {
		out[i] = d.Lookup("_id").Int32()
	}
	return out
}

func TestDatabase_RunCommand_Commands(t *testing.T) {
	type check func(t *testing.T, db *Database, reply bson.Raw)
	d := func(kv ...interface{}) bson.D {
		out := bson.D{}
		for i := 0; i < len(kv); i += 2 {
			out = append(out, bson.E{Key: kv[i].(string), Value: kv[i+1]})
		}
		return out
	}
	cases := []struct {
		name string
		db   string
		cmd  bson.D
		code int32 // expected error code, 0 for success
		want check
	}{
		{"ping", "db", d("ping", 1), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			assert.Equal(t, 1.0, r.Lookup("ok").Double())
		}},
		{"ping/unknown field", "db", d("ping", 1, "bogus", 1), 40415, nil},
		{"ping/generic fields", "db", d("ping", 1, "$db", "db", "comment", "x", "maxTimeMS", 5), 0, nil},
		{"buildInfo", "db", d("buildInfo", 1), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			assert.Equal(t, "8.0.0", r.Lookup("version").StringValue())
			assert.Equal(t, int32(16*1024*1024), r.Lookup("maxBsonObjectSize").Int32())
		}},
		{"buildinfo alias", "db", d("buildinfo", 1), 0, nil},
		{"hello", "admin", d("hello", 1), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			assert.True(t, r.Lookup("isWritablePrimary").Boolean())
			assert.Equal(t, int32(25), r.Lookup("maxWireVersion").Int32())
			assert.Equal(t, int32(100000), r.Lookup("maxWriteBatchSize").Int32())
			assert.Equal(t, bsontype.DateTime, r.Lookup("localTime").Type)
		}},
		{"isMaster", "admin", d("isMaster", 1, "helloOk", true), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			assert.True(t, r.Lookup("ismaster").Boolean())
			assert.True(t, r.Lookup("helloOk").Boolean())
		}},
		{"name is case-sensitive", "db", d("Ping", 1), 59, nil},
		{"unknown command", "db", d("frobnicate", 1), 59, nil},
		{"listCollections", "db", d("listCollections", 1, "filter", d("name", "c")), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			docs := firstBatch(t, r)
			require.Len(t, docs, 1)
			assert.Equal(t, "c", docs[0].Lookup("name").StringValue())
			assert.Equal(t, "db.$cmd.listCollections", r.Lookup("cursor", "ns").StringValue())
		}},
		{"listCollections/bad filter", "db", d("listCollections", 1, "filter", 3), 14, nil},
		{"listIndexes", "db", d("listIndexes", "c"), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			docs := firstBatch(t, r)
			require.Len(t, docs, 2)
			assert.Equal(t, "a_1", docs[1].Lookup("name").StringValue())
		}},
		{"listIndexes/missing", "db", d("listIndexes", "nope"), 26, nil},
		{"listIndexes/bad name type", "db", d("listIndexes", 1), 73, nil},
		{"listDatabases", "admin", d("listDatabases", 1), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			vals, _ := r.Lookup("databases").Array().Values()
			require.Len(t, vals, 1)
			assert.Equal(t, "db", vals[0].Document().Lookup("name").StringValue())
		}},
		{"listDatabases/not admin", "db", d("listDatabases", 1), 13, nil},
		{"count", "db", d("count", "c", "query", d("a", 2)), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			assert.Equal(t, int32(2), r.Lookup("n").Int32())
		}},
		{"count/limit skip", "db", d("count", "c", "limit", -1, "skip", 1), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			assert.Equal(t, int32(1), r.Lookup("n").Int32())
		}},
		{"count/bad query", "db", d("count", "c", "query", "x"), 14, nil},
		{"count/bad operator", "db", d("count", "c", "query", d("a", d("$bogus", 1))), 2, nil},
		{"distinct", "db", d("distinct", "c", "key", "a"), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			vals, _ := r.Lookup("values").Array().Values()
			require.Len(t, vals, 2)
			assert.Equal(t, int32(1), vals[0].Int32())
		}},
		{"distinct/missing key", "db", d("distinct", "c"), 40414, nil},
		{"distinct/bad key", "db", d("distinct", "c", "key", 1), 14, nil},
		{"find", "db", d("find", "c", "filter", d("a", 2), "sort", d("_id", -1), "projection", d("a", 0)), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			docs := firstBatch(t, r)
			assert.Equal(t, []int32{3, 2}, ids(docs))
			_, err := docs[0].LookupErr("a")
			assert.Error(t, err, "projected out")
			assert.Equal(t, "db.c", r.Lookup("cursor", "ns").StringValue())
		}},
		{"find/skip limit", "db", d("find", "c", "skip", 1, "limit", 1), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			assert.Equal(t, []int32{2}, ids(firstBatch(t, r)))
		}},
		{"find/negative limit", "db", d("find", "c", "limit", -1), 51024, nil},
		{"find/bad filter type", "db", d("find", "c", "filter", bson.A{}), 14, nil},
		{"find/unknown field", "db", d("find", "c", "filtr", d()), 40415, nil},
		{"find/bad hint", "db", d("find", "c", "hint", "nope"), 2, nil},
		{"insert", "db", d("insert", "c", "documents", bson.A{d("_id", 4), d("x", 1)}), 0, func(t *testing.T, db *Database, r bson.Raw) {
			assert.Equal(t, int32(2), r.Lookup("n").Int32())
			n, err := db.Collection("c").CountDocuments(context.Background(), bson.D{})
			require.NoError(t, err)
			assert.Equal(t, int64(5), n)
		}},
		{"insert/missing documents", "db", d("insert", "c"), 40414, nil},
		{"insert/not an array", "db", d("insert", "c", "documents", d()), 14, nil},
		{"insert/element not a document", "db", d("insert", "c", "documents", bson.A{1}), 14, nil},
		{"insert/empty", "db", d("insert", "c", "documents", bson.A{}), 16, nil},
		{"update", "db", d("update", "c", "updates", bson.A{
			d("q", d("a", 2), "u", d("$set", d("b", 1)), "multi", true),
			d("q", d("_id", 9), "u", d("$set", d("b", 2)), "upsert", true),
			d("q", d("_id", 1), "u", d("a", 1)),
		}), 0, func(t *testing.T, db *Database, r bson.Raw) {
			assert.Equal(t, int32(4), r.Lookup("n").Int32(), "2 matched + 1 upserted + 1 replaced")
			assert.Equal(t, int32(3), r.Lookup("nModified").Int32(), "the replacement changes nothing")
			ups, _ := r.Lookup("upserted").Array().Values()
			require.Len(t, ups, 1)
			assert.Equal(t, int32(1), ups[0].Document().Lookup("index").Int32())
			assert.Equal(t, int32(9), ups[0].Document().Lookup("_id").Int32())
		}},
		{"update/pipeline", "db", d("update", "c", "updates", bson.A{
			d("q", d("_id", 1), "u", bson.A{d("$set", d("b", "$a"))}),
		}), 0, func(t *testing.T, db *Database, r bson.Raw) {
			assert.Equal(t, int32(1), r.Lookup("nModified").Int32())
			doc, err := db.Collection("c").FindOne(context.Background(), bson.D{{Key: "_id", Value: 1}}).Raw()
			require.NoError(t, err)
			assert.Equal(t, int32(1), doc.Lookup("b").Int32())
		}},
		{"update/multi replacement", "db", d("update", "c", "updates", bson.A{d("q", d(), "u", d("a", 1), "multi", true)}), 9, nil},
		{"update/missing u", "db", d("update", "c", "updates", bson.A{d("q", d())}), 40414, nil},
		{"update/bad u", "db", d("update", "c", "updates", bson.A{d("q", d(), "u", 1)}), 14, nil},
		{"update/unknown statement field", "db", d("update", "c", "updates", bson.A{d("q", d(), "u", d("$set", d("a", 1)), "x", 1)}), 40415, nil},
		{"delete", "db", d("delete", "c", "deletes", bson.A{d("q", d("a", 2), "limit", 0), d("q", d("_id", 1), "limit", 1)}), 0, func(t *testing.T, db *Database, r bson.Raw) {
			assert.Equal(t, int32(3), r.Lookup("n").Int32())
		}},
		{"delete/limit 2", "db", d("delete", "c", "deletes", bson.A{d("q", d(), "limit", 2)}), 9, nil},
		{"delete/missing limit", "db", d("delete", "c", "deletes", bson.A{d("q", d())}), 40414, nil},
		{"aggregate", "db", d("aggregate", "c", "pipeline", bson.A{d("$group", d("_id", "$a", "n", d("$sum", 1))), d("$sort", d("_id", 1))}, "cursor", d()), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			docs := firstBatch(t, r)
			require.Len(t, docs, 2)
			assert.Equal(t, int32(2), docs[1].Lookup("n").Int32())
		}},
		{"aggregate/database", "db", d("aggregate", 1, "pipeline", bson.A{d("$documents", bson.A{d("x", 1)})}, "cursor", d()), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			assert.Len(t, firstBatch(t, r), 1)
			assert.Equal(t, "db.$cmd.aggregate", r.Lookup("cursor", "ns").StringValue())
		}},
		{"aggregate/no cursor", "db", d("aggregate", "c", "pipeline", bson.A{}), 9, nil},
		{"aggregate/bad pipeline", "db", d("aggregate", "c", "pipeline", d(), "cursor", d()), 14, nil},
		{"aggregate/unknown stage", "db", d("aggregate", "c", "pipeline", bson.A{d("$bogus", 1)}, "cursor", d()), 40324, nil},
		{"aggregate/bad target", "db", d("aggregate", 2, "pipeline", bson.A{}, "cursor", d()), 9, nil},
		{"create", "db", d("create", "new"), 0, func(t *testing.T, db *Database, r bson.Raw) {
			names, err := db.ListCollectionNames(context.Background(), bson.D{})
			require.NoError(t, err)
			assert.Equal(t, []string{"c", "new"}, names)
		}},
		{"create/exists", "db", d("create", "c"), 48, nil},
		{"create/bad capped", "db", d("create", "x", "capped", "yes"), 14, nil},
		{"drop", "db", d("drop", "c"), 0, func(t *testing.T, db *Database, r bson.Raw) {
			assert.Equal(t, int32(2), r.Lookup("nIndexesWas").Int32())
			assert.Equal(t, "db.c", r.Lookup("ns").StringValue())
		}},
		{"drop/missing", "db", d("drop", "nope"), 0, nil},
		{"createIndexes", "db", d("createIndexes", "c", "indexes", bson.A{d("key", d("b", -1), "name", "b_-1", "sparse", true)}), 0, func(t *testing.T, db *Database, r bson.Raw) {
			assert.Equal(t, int32(2), r.Lookup("numIndexesBefore").Int32())
			assert.Equal(t, int32(3), r.Lookup("numIndexesAfter").Int32())
			assert.False(t, r.Lookup("createdCollectionAutomatically").Boolean())
			specs, err := db.Collection("c").Indexes().ListSpecifications(context.Background())
			require.NoError(t, err)
			require.Len(t, specs, 3)
			assert.True(t, *specs[2].Sparse)
		}},
		{"createIndexes/exists", "db", d("createIndexes", "c", "indexes", bson.A{d("key", d("a", 1), "name", "a_1")}), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			assert.Equal(t, "all indexes already exist", r.Lookup("note").StringValue())
		}},
		{"createIndexes/new collection", "db", d("createIndexes", "n", "indexes", bson.A{d("key", d("a", 1), "name", "a_1")}), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			assert.True(t, r.Lookup("createdCollectionAutomatically").Boolean())
			assert.Equal(t, int32(2), r.Lookup("numIndexesAfter").Int32())
		}},
		{"createIndexes/no name", "db", d("createIndexes", "c", "indexes", bson.A{d("key", d("b", 1))}), 9, nil},
		{"createIndexes/conflict", "db", d("createIndexes", "c", "indexes", bson.A{d("key", d("b", 1), "name", "a_1")}), 86, nil},
		{"dropIndexes", "db", d("dropIndexes", "c", "index", "a_1"), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			assert.Equal(t, int32(2), r.Lookup("nIndexesWas").Int32())
		}},
		{"dropIndexes/key", "db", d("dropIndexes", "c", "index", d("a", 1)), 0, nil},
		{"dropIndexes/all", "db", d("dropIndexes", "c", "index", "*"), 0, nil},
		{"dropIndexes/list", "db", d("dropIndexes", "c", "index", bson.A{"a_1"}), 0, nil},
		{"dropIndexes/unknown", "db", d("dropIndexes", "c", "index", "zz"), 27, nil},
		{"dropIndexes/bad type", "db", d("dropIndexes", "c", "index", 1), 14, nil},
		{"dbStats", "db", d("dbStats", 1), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			assert.Equal(t, int64(3), r.Lookup("objects").Int64())
			assert.Equal(t, int64(1), r.Lookup("collections").Int64())
			assert.Equal(t, int64(2), r.Lookup("indexes").Int64())
			assert.Greater(t, r.Lookup("dataSize").Double(), 0.0)
		}},
		{"dbStats/bad scale", "db", d("dbStats", 1, "scale", 0), 2, nil},
		{"collStats", "db", d("collStats", "c"), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			assert.Equal(t, int64(3), r.Lookup("count").Int64())
			assert.Equal(t, int32(2), r.Lookup("nindexes").Int32())
			assert.Equal(t, "db.c", r.Lookup("ns").StringValue())
		}},
		{"collStats/missing", "db", d("collStats", "nope"), 26, nil},
		{"getMore", "db", d("getMore", int64(5), "collection", "c"), 43, nil},
		{"getMore/bad id", "db", d("getMore", 5, "collection", "c"), 14, nil},
		{"killCursors", "db", d("killCursors", "c", "cursors", bson.A{int64(5)}), 0, func(t *testing.T, _ *Database, r bson.Raw) {
			nf, _ := r.Lookup("cursorsNotFound").Array().Values()
			require.Len(t, nf, 1)
		}},
		{"collMod", "db", d("collMod", "c", "validator", bson.D{{Key: "a", Value: bson.D{{Key: "$exists", Value: true}}}}), 0, func(t *testing.T, db *Database, r bson.Raw) {
			_, err := db.Collection("c").InsertOne(context.Background(), bson.D{{Key: "b", Value: 1}})
			code, _ := writeErrorCode(t, err)
			assert.Equal(t, codeDocumentValidationFailure, code)
		}},
		{"collMod/missing", "db", d("collMod", "nope", "validator", bson.D{}), 26, nil},
		{"collMod/bad level", "db", d("collMod", "c", "validationLevel", "sometimes"), 2, nil},
		{"collMod/unknown field", "db", d("collMod", "c", "bogus", 1), 40415, nil},
		{"create/view", "db", d("create", "v", "viewOn", "c", "pipeline", bson.A{bson.D{{Key: "$match", Value: bson.D{}}}}), 0, func(t *testing.T, db *Database, r bson.Raw) {
			n, err := db.Collection("v").CountDocuments(context.Background(), bson.D{})
			require.NoError(t, err)
			assert.Equal(t, int64(3), n)
		}},
		{"create/view with capped", "db", d("create", "v", "viewOn", "c", "capped", true), 72, nil},
		{"create/pipeline without viewOn", "db", d("create", "v", "pipeline", bson.A{}), 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := crudClient(t)
			rcSeed(t, c.Database("db"))
			db := c.Database(tc.db)
			reply, err := db.RunCommand(context.Background(), tc.cmd).Raw()
			if tc.code != 0 {
				var ce CommandError
				require.ErrorAs(t, err, &ce, "%v", err)
				assert.Equal(t, tc.code, ce.Code, "%v", err)
				assert.NotEmpty(t, ce.Name)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 1.0, reply.Lookup("ok").Double())
			if tc.want != nil {
				tc.want(t, c.Database("db"), reply)
			}
		})
	}
}

func TestDatabase_RunCommand_UnknownMessage(t *testing.T) {
	err := crudClient(t).Database("db").RunCommand(context.Background(), bson.D{{Key: "frobnicate", Value: 1}}).Err()
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "CommandNotFound", ce.Name)
	assert.Equal(t, "no such command: 'frobnicate'", ce.Message)
	assert.False(t, errors.Is(err, ErrNotSupported), "an unknown command is not a missing feature")
	err = crudClient(t).Database("db").RunCommand(context.Background(), bson.D{}).Err()
	assert.Error(t, err)
}

func TestDatabase_RunCommandCursor_Find(t *testing.T) {
	ctx := context.Background()
	db := crudClient(t).Database("db")
	rcSeed(t, db)
	cur, err := db.RunCommandCursor(ctx, bson.D{{Key: "find", Value: "c"}, {Key: "filter", Value: bson.D{{Key: "a", Value: 2}}}, {Key: "batchSize", Value: 1}})
	require.NoError(t, err)
	var got []struct {
		ID int `bson:"_id"`
	}
	require.NoError(t, cur.All(ctx, &got))
	assert.Len(t, got, 2)

	cur, err = db.RunCommandCursor(ctx, bson.D{{Key: "aggregate", Value: "c"}, {Key: "pipeline", Value: bson.A{}}, {Key: "cursor", Value: bson.D{}}})
	require.NoError(t, err)
	assert.Equal(t, 3, cur.RemainingBatchLength())

	_, err = db.RunCommandCursor(ctx, bson.D{{Key: "ping", Value: 1}})
	assert.Error(t, err, "a reply without a cursor")
	_, err = db.RunCommandCursor(ctx, bson.D{{Key: "find", Value: "c"}, {Key: "filter", Value: 1}})
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(14), ce.Code)
}

// shape describes a reply: its top-level field names and their types,
// and the same for cursor.firstBatch's first document.
func shape(raw bson.Raw) []string {
	var out []string
	elems, _ := raw.Elements()
	for _, e := range elems {
		t := e.Value().Type
		if t == bsontype.Int64 || t == bsontype.Int32 || t == bsontype.Double {
			t = bsontype.Double // the servers differ in numeric widths
		}
		out = append(out, e.Key()+":"+t.String())
	}
	sort.Strings(out)
	return out
}

// TestDatabase_RunCommand_MatchesServer sends the same commands to Argon
// and to the MongoDB-wire test server and compares the replies' shapes
// (field names and types) and the values that must agree.
func TestDatabase_RunCommand_MatchesServer(t *testing.T) {
	ctx := context.Background()
	mc := testenv.MongoClient(t)
	sdb := mc.Database(testenv.UniqueDBName(t, "rc"))
	adb := crudClient(t).Database("db")
	d := func(kv ...interface{}) bson.D {
		out := bson.D{}
		for i := 0; i < len(kv); i += 2 {
			out = append(out, bson.E{Key: kv[i].(string), Value: kv[i+1]})
		}
		return out
	}
	steps := []struct {
		cmd    bson.D
		values []string // top-level fields whose values must be equal
	}{
		{d("ping", 1), []string{"ok"}},
		{d("insert", "c", "documents", bson.A{d("_id", 1, "a", 1), d("_id", 2, "a", 2), d("_id", 3, "a", 2)}), []string{"n", "ok"}},
		{d("insert", "c", "documents", bson.A{d("_id", 4), d("_id", 1)}), []string{"n", "ok"}},
		{d("count", "c", "query", d("a", 2)), []string{"n", "ok"}},
		{d("distinct", "c", "key", "a"), []string{"values", "ok"}},
		{d("find", "c", "filter", d("a", 2), "sort", d("_id", 1)), []string{"cursor", "ok"}},
		{d("update", "c", "updates", bson.A{d("q", d("a", 2), "u", d("$set", d("b", 1)), "multi", true), d("q", d("_id", 9), "u", d("$set", d("b", 2)), "upsert", true)}), []string{"n", "nModified", "ok"}}, // the test server numbers upserted[].index within its own batches; MongoDB gives the statement's index
		{d("delete", "c", "deletes", bson.A{d("q", d("_id", 9), "limit", 1)}), []string{"n", "ok"}},
		{d("findAndModify", "c", "query", d("_id", 1), "update", d("$set", d("z", 1)), "new", true), []string{"value", "lastErrorObject", "ok"}},
		{d("findAndModify", "c", "query", d("_id", 8), "update", d("$set", d("z", 2)), "upsert", true), []string{"value", "lastErrorObject", "ok"}},
		{d("findAndModify", "c", "query", d("_id", 8), "remove", true), []string{"value", "lastErrorObject", "ok"}},
		{d("findAndModify", "c", "query", d("_id", 8), "remove", true, "update", d("$set", d("z", 1))), nil},
		{d("createIndexes", "c", "indexes", bson.A{d("key", d("a", 1), "name", "a_1")}), []string{"numIndexesBefore", "numIndexesAfter", "ok"}},
		{d("aggregate", "c", "pipeline", bson.A{d("$group", d("_id", "$a", "n", d("$sum", 1))), d("$sort", d("_id", 1))}, "cursor", d()), []string{"cursor", "ok"}},
		{d("dropIndexes", "c", "index", "a_1"), []string{"ok"}},
		{d("frobnicate", 1), nil},
		{d("find", "c", "filter", 1), nil},
	}
	for i, st := range steps {
		sRaw, sErr := sdb.RunCommand(ctx, st.cmd).Raw()
		aRaw, aErr := adb.RunCommand(ctx, st.cmd).Raw()
		var swe, awe mongo.WriteException
		if errors.As(sErr, &swe) {
			require.ErrorAs(t, aErr, &awe, "step %d: server: %v, argon: %v", i, sErr, aErr)
			require.Equal(t, len(swe.WriteErrors), len(awe.WriteErrors), "step %d", i)
			for j := range swe.WriteErrors {
				assert.Equal(t, swe.WriteErrors[j].Index, awe.WriteErrors[j].Index)
				assert.Equal(t, swe.WriteErrors[j].Code, awe.WriteErrors[j].Code)
			}
			sRaw, aRaw = swe.Raw, awe.Raw
			sErr, aErr = nil, nil
		}
		if sErr != nil || aErr != nil {
			var sce, ace mongo.CommandError
			require.ErrorAs(t, sErr, &sce, "step %d: server: %v, argon: %v", i, sErr, aErr)
			require.ErrorAs(t, aErr, &ace, "step %d: server: %v, argon: %v", i, sErr, aErr)
			assert.Equal(t, sce.Code, ace.Code, "step %d: server: %v, argon: %v", i, sErr, aErr)
			continue
		}
		// The test server's cursor replies may carry only the fields it
		// knows; compare the fields both send and check Argon has the
		// server's.
		assert.Subset(t, shape(aRaw), filterShape(shape(sRaw)), "step %d %v:\nserver %s\nargon  %s", i, st.cmd, sRaw, aRaw)
		for _, k := range st.values {
			if k == "cursor" {
				sb, ab := sRaw.Lookup("cursor", "firstBatch"), aRaw.Lookup("cursor", "firstBatch")
				assert.Equal(t, sb.String(), ab.String(), "step %d firstBatch", i)
				continue
			}
			sv, av := sRaw.Lookup(k), aRaw.Lookup(k)
			assert.Equal(t, 0, compareLoose(sv, av), "step %d field %s: server %s, argon %s", i, k, sv, av)
		}
	}
}

// filterShape drops fields of the test server's replies that a MongoDB
// server does not send either ($clusterTime-style metadata).
func filterShape(s []string) []string {
	var out []string
	for _, f := range s {
		switch {
		case len(f) > 0 && f[0] == '$', len(f) > 11 && f[:11] == "operationTi":
			continue
		}
		out = append(out, f)
	}
	return out
}

// compareLoose compares two values, treating numbers of any width alike.
func compareLoose(a, b bson.RawValue) int {
	an, aok := numberValue(a)
	bn, bok := numberValue(b)
	if aok && bok {
		switch {
		case an < bn:
			return -1
		case an > bn:
			return 1
		}
		return 0
	}
	if a.String() == b.String() {
		return 0
	}
	return 1
}

func TestDatabase_RunCommand_WriteErrors(t *testing.T) {
	ctx := context.Background()
	db := crudClient(t).Database("db")
	rcSeed(t, db)
	cases := []struct {
		name    string
		cmd     bson.D
		n       int32
		indexes []int
		codes   []int
	}{
		{"insert ordered", bson.D{{Key: "insert", Value: "c"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: 4}}, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 5}}}}},
			1, []int{1}, []int{11000}},
		{"insert unordered", bson.D{{Key: "insert", Value: "c"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: 6}}, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "_id", Value: 7}}}}, {Key: "ordered", Value: false}},
			2, []int{1, 2}, []int{11000, 11000}},
		{"update", bson.D{{Key: "update", Value: "c"}, {Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: bson.D{{Key: "_id", Value: 1}}}, {Key: "u", Value: bson.D{{Key: "$inc", Value: bson.D{{Key: "a", Value: "x"}}}}}}}}},
			0, []int{0}, []int{14}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := db.RunCommand(ctx, tc.cmd).Err()
			var we WriteException
			require.ErrorAs(t, err, &we)
			require.Len(t, we.WriteErrors, len(tc.indexes))
			for i := range tc.indexes {
				assert.Equal(t, tc.indexes[i], we.WriteErrors[i].Index)
				assert.Equal(t, tc.codes[i], we.WriteErrors[i].Code)
				assert.NotEmpty(t, we.WriteErrors[i].Message)
			}
			assert.Equal(t, tc.n, we.Raw.Lookup("n").Int32())
			assert.Equal(t, 1.0, we.Raw.Lookup("ok").Double())
		})
	}
}
