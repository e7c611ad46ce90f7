package argon

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// caseless is the default collation of the collections below: English,
// comparing letters without their case.
var caseless = &options.Collation{Locale: "en", Strength: 2}

// TestDefaultCollation checks a collection created with a collation: every
// operation that names none compares strings with it, the _id index and
// indexes created without a collation use it, and operations that name a
// collation (simple included) keep theirs.
func TestDefaultCollation(t *testing.T) {
	ctx := context.Background()
	client := crudClient(t)
	db := client.Database("db")
	require.NoError(t, db.CreateCollection(ctx, "c", options.CreateCollection().SetCollation(caseless)))
	coll := db.Collection("c")
	simple := &options.Collation{Locale: "simple"}

	// Listed as the server lists it: the whole collation, on the
	// collection and on its _id index.
	specs, err := db.ListCollectionSpecifications(ctx, bson.D{{Key: "name", Value: "c"}})
	require.NoError(t, err)
	require.Len(t, specs, 1)
	full, ok := specs[0].Options.Lookup("collation").DocumentOK()
	require.True(t, ok, "options: %s", specs[0].Options)
	assert.Equal(t, "en", full.Lookup("locale").StringValue())
	assert.Equal(t, int32(2), full.Lookup("strength").Int32())
	assert.Equal(t, "off", full.Lookup("caseFirst").StringValue())
	ixs, err := coll.Indexes().ListSpecifications(ctx)
	require.NoError(t, err)
	require.Len(t, ixs, 1)
	assert.Equal(t, "_id_", ixs[0].Name)
	cur, err := coll.Indexes().List(ctx)
	require.NoError(t, err)
	var listed []bson.M
	require.NoError(t, cur.All(ctx, &listed))
	require.Len(t, listed, 1)
	assert.Equal(t, "en", listed[0]["collation"].(bson.M)["locale"])

	// _id values equal under the collation conflict.
	_, err = coll.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: "a"}, {Key: "x", Value: "ping"}},
		bson.D{{Key: "_id", Value: "b"}, {Key: "x", Value: "Ping"}},
		bson.D{{Key: "_id", Value: "c"}, {Key: "x", Value: "pong"}},
	})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "A"}})
	assert.True(t, IsDuplicateKeyError(err), "%v", err)
	_, err = coll.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: "d"}}, bson.D{{Key: "_id", Value: "D"}}})
	assert.True(t, IsDuplicateKeyError(err), "%v", err)
	n, err := coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: "D"}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the ordered insert stopped after d")

	// Reads without a collation use the default; with one, theirs.
	var got bson.M
	require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: "A"}}).Decode(&got))
	assert.Equal(t, "a", got["_id"])
	n, err = coll.CountDocuments(ctx, bson.D{{Key: "x", Value: "PING"}})
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	n, err = coll.CountDocuments(ctx, bson.D{{Key: "x", Value: "PING"}}, options.Count().SetCollation(simple))
	require.NoError(t, err)
	assert.Equal(t, int64(0), n)
	vals, err := coll.Distinct(ctx, "x", bson.D{})
	require.NoError(t, err)
	assert.Len(t, vals, 2, "ping and Ping are one value: %v", vals)
	cur, err = coll.Find(ctx, bson.D{{Key: "x", Value: bson.D{{Key: "$gte", Value: "PING"}}}}, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}))
	require.NoError(t, err)
	var docs []bson.M
	require.NoError(t, cur.All(ctx, &docs))
	require.Len(t, docs, 3)
	assert.Equal(t, []any{"c", "b", "a"}, []any{docs[0]["_id"], docs[1]["_id"], docs[2]["_id"]})
	cur, err = coll.Aggregate(ctx, Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "x", Value: bson.D{{Key: "$exists", Value: true}}}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$x"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
		{{Key: "$sort", Value: bson.D{{Key: "n", Value: -1}}}},
	})
	require.NoError(t, err)
	docs = nil
	require.NoError(t, cur.All(ctx, &docs))
	require.Len(t, docs, 2, "%v", docs)
	assert.EqualValues(t, 2, docs[0]["n"])

	// Writes without a collation use the default.
	ur, err := coll.UpdateMany(ctx, bson.D{{Key: "x", Value: "PING"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "seen", Value: true}}}})
	require.NoError(t, err)
	assert.Equal(t, int64(2), ur.ModifiedCount)
	ur, err = coll.UpdateMany(ctx, bson.D{{Key: "x", Value: "PING"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "seen", Value: false}}}},
		options.Update().SetCollation(simple))
	require.NoError(t, err)
	assert.Equal(t, int64(0), ur.MatchedCount)
	bw, err := coll.BulkWrite(ctx, []WriteModel{
		NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: "C"}}).SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "bulk", Value: 1}}}}),
		NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: "C"}}).SetCollation(simple),
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), bw.ModifiedCount)
	assert.Equal(t, int64(0), bw.DeletedCount)
	require.NoError(t, coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "B"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "fam", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&got))
	assert.Equal(t, "b", got["_id"])
	assert.EqualValues(t, 1, got["fam"])
	dr, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: "D"}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), dr.DeletedCount)

	// Indexes created without a collation take the default one; with
	// {locale: "simple"}, none.
	_, err = coll.Indexes().CreateMany(ctx, []IndexModel{
		{Keys: bson.D{{Key: "u", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true)},
		{Keys: bson.D{{Key: "v", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true).SetCollation(simple)},
	})
	require.NoError(t, err)
	cur, err = coll.Indexes().List(ctx)
	require.NoError(t, err)
	listed = nil
	require.NoError(t, cur.All(ctx, &listed))
	require.Len(t, listed, 3)
	assert.Equal(t, "u_1", listed[1]["name"])
	assert.NotNil(t, listed[1]["collation"])
	assert.Equal(t, "v_1", listed[2]["name"])
	assert.Nil(t, listed[2]["collation"])
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "e"}, {Key: "u", Value: "Key"}, {Key: "v", Value: "Key"}})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "f"}, {Key: "u", Value: "KEY"}})
	assert.True(t, IsDuplicateKeyError(err), "u_1 has the default collation: %v", err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "g"}, {Key: "v", Value: "KEY"}})
	assert.NoError(t, err, "v_1 is simple")

	// Another collection keeps the simple collation.
	other := db.Collection("plain")
	_, err = other.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: "a"}}, bson.D{{Key: "_id", Value: "A"}}})
	require.NoError(t, err)
	n, err = other.CountDocuments(ctx, bson.D{{Key: "_id", Value: "a"}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)

	// RunCommand create takes the collation too.
	require.NoError(t, db.RunCommand(ctx, bson.D{{Key: "create", Value: "rc"}, {Key: "collation", Value: bson.D{{Key: "locale", Value: "fr"}, {Key: "strength", Value: 1}}}}).Err())
	_, err = db.Collection("rc").InsertOne(ctx, bson.D{{Key: "_id", Value: "été"}})
	require.NoError(t, err)
	n, err = db.Collection("rc").CountDocuments(ctx, bson.D{{Key: "_id", Value: "ETE"}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)

	var reply bson.M
	require.NoError(t, db.RunCommand(ctx, bson.D{{Key: "count", Value: "c"}, {Key: "query", Value: bson.D{{Key: "x", Value: "PING"}}}}).Decode(&reply))
	assert.EqualValues(t, 2, reply["n"], "RunCommand's count")

	// A validator compares with the default collation too.
	require.NoError(t, db.CreateCollection(ctx, "v", options.CreateCollection().SetCollation(caseless).
		SetValidator(bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{"open", "closed"}}}}})))
	_, err = db.Collection("v").InsertOne(ctx, bson.D{{Key: "status", Value: "OPEN"}})
	assert.NoError(t, err)
	_, err = db.Collection("v").InsertOne(ctx, bson.D{{Key: "status", Value: "pending"}})
	var we WriteException
	require.ErrorAs(t, err, &we)
	assert.Equal(t, 121, we.WriteErrors[0].Code)
}

// TestDefaultCollation_Reopen checks that the default collation, which
// lives in the collection's options in the log, comes back with a new
// client: by replay and from a checkpoint.
func TestDefaultCollation_Reopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	check := func(c *Client) {
		t.Helper()
		coll := c.Database("db").Collection("c")
		n, err := coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: "ABC"}})
		require.NoError(t, err)
		assert.Equal(t, int64(1), n)
		_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "aBc"}})
		assert.True(t, IsDuplicateKeyError(err), "%v", err)
	}
	c, err := Open(ctx, dir)
	require.NoError(t, err)
	require.NoError(t, c.Database("db").CreateCollection(ctx, "c", options.CreateCollection().SetCollation(caseless)))
	_, err = c.Database("db").Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: "abc"}})
	require.NoError(t, err)
	check(c)
	require.NoError(t, c.Disconnect(ctx))

	c, err = Open(ctx, dir, &Options{IgnoreCheckpoints: true})
	require.NoError(t, err)
	check(c)
	_, err = c.Checkpoint(ctx)
	require.NoError(t, err)
	require.NoError(t, c.Disconnect(ctx))

	c, err = Open(ctx, dir)
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	check(c)
}
