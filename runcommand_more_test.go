package argon

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// TestRunCommand_RenameCollection renames through the command the driver
// offers for it: within a database, across databases, over an existing
// target with dropTarget, and every refusal with the server's code. The
// collection keeps its documents, indexes and options, and the past still
// reads under the old name.
func TestRunCommand_RenameCollection(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	admin := c.Database("admin")
	rename := func(from, to string, extra ...bson.E) error {
		return admin.RunCommand(ctx, append(bson.D{{Key: "renameCollection", Value: from}, {Key: "to", Value: to}}, extra...)).Err()
	}
	code := func(err error) int32 {
		t.Helper()
		var ce CommandError
		require.ErrorAs(t, err, &ce)
		return ce.Code
	}
	db := c.Database("shop")
	require.NoError(t, db.CreateCollection(ctx, "orders", options.CreateCollection().SetCollation(&options.Collation{Locale: "en", Strength: 2})))
	orders := db.Collection("orders")
	_, err := orders.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}, {Key: "sku", Value: "a"}}, bson.D{{Key: "_id", Value: 2}, {Key: "sku", Value: "b"}}})
	require.NoError(t, err)
	_, err = orders.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "sku", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	before, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	cs, err := c.Watch(ctx, Pipeline{})
	require.NoError(t, err)
	defer cs.Close(ctx)

	require.NoError(t, rename("shop.orders", "shop.orders2"))
	require.True(t, cs.Next(ctx), "%v", cs.Err())
	var ev bson.M
	require.NoError(t, cs.Decode(&ev))
	assert.Equal(t, "rename", ev["operationType"])
	assert.Equal(t, bson.M{"db": "shop", "coll": "orders"}, ev["ns"])
	assert.Equal(t, bson.M{"db": "shop", "coll": "orders2"}, ev["to"])
	names, err := db.ListCollectionNames(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, []string{"orders2"}, names)
	moved := db.Collection("orders2")
	n, err := moved.CountDocuments(ctx, bson.D{{Key: "sku", Value: "A"}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the default collation moved with it")
	_, err = moved.InsertOne(ctx, bson.D{{Key: "_id", Value: 3}, {Key: "sku", Value: "B"}})
	assert.True(t, IsDuplicateKeyError(err), "the unique index moved with it: %v", err)
	n, err = c.AtLSN(before).Database("shop").Collection("orders").CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), n, "the past still has shop.orders")

	// Across databases, then over an existing target.
	require.NoError(t, rename("shop.orders2", "archive.orders"))
	archived := c.Database("archive").Collection("orders")
	n, err = archived.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	_, err = db.Collection("tmp").InsertOne(ctx, bson.D{{Key: "_id", Value: "x"}})
	require.NoError(t, err)
	assert.Equal(t, int32(48), code(rename("shop.tmp", "archive.orders")))
	require.NoError(t, rename("shop.tmp", "archive.orders", bson.E{Key: "dropTarget", Value: true}))
	var got bson.M
	require.NoError(t, archived.FindOne(ctx, bson.D{}).Decode(&got))
	assert.Equal(t, "x", got["_id"])
	specs, err := archived.Indexes().ListSpecifications(ctx)
	require.NoError(t, err)
	assert.Len(t, specs, 1, "the target's indexes went with it")

	// Refusals.
	assert.Equal(t, int32(13), code(db.RunCommand(ctx, bson.D{{Key: "renameCollection", Value: "archive.orders"}, {Key: "to", Value: "archive.x"}}).Err()))
	assert.Equal(t, int32(26), code(rename("shop.nothing", "shop.x")))
	assert.Equal(t, int32(20), code(rename("archive.orders", "archive.orders")))
	assert.Equal(t, int32(73), code(rename("archive.orders", "archive")))
	assert.Equal(t, int32(73), code(rename("archive.orders", "bad$db.x")))
	require.NoError(t, c.Database("archive").CreateView(ctx, "v", "orders", Pipeline{}))
	assert.Equal(t, int32(166), code(rename("archive.v", "archive.w")))
	err = admin.RunCommand(ctx, bson.D{{Key: "renameCollection", Value: "archive.orders"}}).Err()
	assert.Error(t, err, "no target")
	n, err = archived.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "nothing refused changed anything")
}

// TestRunCommand_Collation runs each command that takes a collation with
// one, and with a bad one.
func TestRunCommand_Collation(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	db := c.Database("db")
	_, err := db.Collection("c").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "x", Value: "ping"}},
		bson.D{{Key: "_id", Value: 2}, {Key: "x", Value: "PING"}},
		bson.D{{Key: "_id", Value: 3}, {Key: "x", Value: "pong"}},
	})
	require.NoError(t, err)
	ci := bson.D{{Key: "locale", Value: "en"}, {Key: "strength", Value: 2}}
	run := func(cmd bson.D) bson.M {
		t.Helper()
		var out bson.M
		require.NoError(t, db.RunCommand(ctx, cmd).Decode(&out), "%v", cmd)
		return out
	}
	q := bson.D{{Key: "x", Value: "Ping"}}
	assert.EqualValues(t, 2, run(bson.D{{Key: "count", Value: "c"}, {Key: "query", Value: q}, {Key: "collation", Value: ci}})["n"])
	assert.Len(t, run(bson.D{{Key: "distinct", Value: "c"}, {Key: "key", Value: "x"}, {Key: "collation", Value: ci}})["values"], 2)
	found := run(bson.D{{Key: "find", Value: "c"}, {Key: "filter", Value: q}, {Key: "collation", Value: ci}})
	assert.Len(t, found["cursor"].(bson.M)["firstBatch"], 2)
	agg := run(bson.D{{Key: "aggregate", Value: "c"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$match", Value: q}}}},
		{Key: "cursor", Value: bson.D{}}, {Key: "collation", Value: ci}})
	assert.Len(t, agg["cursor"].(bson.M)["firstBatch"], 2)
	upd := run(bson.D{{Key: "update", Value: "c"}, {Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: q},
		{Key: "u", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "seen", Value: true}}}}}, {Key: "multi", Value: true}, {Key: "collation", Value: ci}}}}})
	assert.EqualValues(t, 2, upd["nModified"])
	del := run(bson.D{{Key: "delete", Value: "c"}, {Key: "deletes", Value: bson.A{bson.D{{Key: "q", Value: q}, {Key: "limit", Value: 0}, {Key: "collation", Value: ci}}}}})
	assert.EqualValues(t, 2, del["n"])
	// Without the collation, only the exact string matched.
	assert.EqualValues(t, 0, run(bson.D{{Key: "count", Value: "c"}, {Key: "query", Value: q}})["n"])

	err = db.RunCommand(ctx, bson.D{{Key: "count", Value: "c"}, {Key: "collation", Value: bson.D{{Key: "locale", Value: "zz"}}}}).Err()
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(2), ce.Code)
	err = db.RunCommand(ctx, bson.D{{Key: "find", Value: "c"}, {Key: "collation", Value: "en"}}).Err()
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(14), ce.Code)
}

// TestRunCommand_FindAndModify checks the findAndModify command's reply
// (value and lastErrorObject) for a remove, an update (before and after), a
// replacement, an upsert and no match, and its argument errors.
func TestRunCommand_FindAndModify(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	db := c.Database("db")
	_, err := db.Collection("c").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "x", Value: 1}, {Key: "tags", Value: bson.A{"a", "b"}}},
		bson.D{{Key: "_id", Value: 2}, {Key: "x", Value: 2}},
		bson.D{{Key: "_id", Value: 3}, {Key: "x", Value: 3}},
	})
	require.NoError(t, err)
	run := func(cmd bson.D) bson.M {
		t.Helper()
		var out bson.M
		require.NoError(t, db.RunCommand(ctx, cmd).Decode(&out), "%v", cmd)
		return out
	}
	fam := func(extra ...bson.E) bson.D { return append(bson.D{{Key: "findAndModify", Value: "c"}}, extra...) }

	r := run(fam(bson.E{Key: "query", Value: bson.D{{Key: "x", Value: bson.D{{Key: "$gte", Value: 2}}}}},
		bson.E{Key: "sort", Value: bson.D{{Key: "x", Value: -1}}}, bson.E{Key: "remove", Value: true}))
	assert.Equal(t, bson.M{"_id": int32(3), "x": int32(3)}, r["value"])
	assert.Equal(t, bson.M{"n": int32(1)}, r["lastErrorObject"])

	r = run(fam(bson.E{Key: "query", Value: bson.D{{Key: "_id", Value: 1}}},
		bson.E{Key: "update", Value: bson.D{{Key: "$inc", Value: bson.D{{Key: "x", Value: 10}}}}},
		bson.E{Key: "fields", Value: bson.D{{Key: "x", Value: 1}}}))
	assert.Equal(t, bson.M{"_id": int32(1), "x": int32(1)}, r["value"], "before, projected")
	assert.Equal(t, bson.M{"n": int32(1), "updatedExisting": true}, r["lastErrorObject"])

	r = run(fam(bson.E{Key: "query", Value: bson.D{{Key: "_id", Value: 1}}},
		bson.E{Key: "update", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "tags.$[t]", Value: "z"}}}}},
		bson.E{Key: "arrayFilters", Value: bson.A{bson.D{{Key: "t", Value: "b"}}}}, bson.E{Key: "new", Value: true}))
	assert.Equal(t, bson.M{"_id": int32(1), "x": int32(11), "tags": bson.A{"a", "z"}}, r["value"], "after")

	r = run(fam(bson.E{Key: "query", Value: bson.D{{Key: "_id", Value: 2}}},
		bson.E{Key: "update", Value: bson.D{{Key: "y", Value: "replaced"}}}, bson.E{Key: "new", Value: true}))
	assert.Equal(t, bson.M{"_id": int32(2), "y": "replaced"}, r["value"])

	r = run(fam(bson.E{Key: "query", Value: bson.D{{Key: "_id", Value: 9}}},
		bson.E{Key: "update", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 9}}}}}, bson.E{Key: "upsert", Value: true}))
	assert.Nil(t, r["value"])
	assert.Equal(t, bson.M{"n": int32(1), "updatedExisting": false, "upserted": int32(9)}, r["lastErrorObject"])

	r = run(fam(bson.E{Key: "query", Value: bson.D{{Key: "_id", Value: 99}}}, bson.E{Key: "remove", Value: true}))
	assert.Nil(t, r["value"])
	assert.Equal(t, bson.M{"n": int32(0)}, r["lastErrorObject"])
	r = run(fam(bson.E{Key: "query", Value: bson.D{{Key: "_id", Value: 99}}}, bson.E{Key: "update", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}}))
	assert.Equal(t, bson.M{"n": int32(0), "updatedExisting": false}, r["lastErrorObject"])

	for _, bad := range []bson.D{
		fam(),
		fam(bson.E{Key: "remove", Value: true}, bson.E{Key: "update", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}}),
		fam(bson.E{Key: "remove", Value: true}, bson.E{Key: "upsert", Value: true}),
		fam(bson.E{Key: "remove", Value: true}, bson.E{Key: "new", Value: true}),
	} {
		var ce CommandError
		require.ErrorAs(t, db.RunCommand(ctx, bad).Err(), &ce, "%v", bad)
		assert.Equal(t, int32(9), ce.Code, "%v", bad)
	}
	n, err := db.Collection("c").CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)
}
