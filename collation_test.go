package argon

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

var (
	collS2      = &options.Collation{Locale: "en_US", Strength: 2}
	collNumeric = &options.Collation{Locale: "en", NumericOrdering: true}
)

// collIDs returns the _id of each document as an int.
func collIDs(t *testing.T, cur *Cursor) []int {
	t.Helper()
	var docs []struct {
		ID int `bson:"_id"`
	}
	require.NoError(t, cur.All(context.Background(), &docs))
	out := []int{}
	for _, d := range docs {
		out = append(out, d.ID)
	}
	return out
}

func collSeed(t *testing.T) *Collection {
	t.Helper()
	coll := crudColl(t)
	crudSeed(t, coll,
		bson.D{{Key: "_id", Value: 1}, {Key: "x", Value: "ping"}, {Key: "n", Value: "10"}},
		bson.D{{Key: "_id", Value: 2}, {Key: "x", Value: "PING"}, {Key: "n", Value: "9"}},
		bson.D{{Key: "_id", Value: 3}, {Key: "x", Value: "pong"}, {Key: "n", Value: "100"}},
		bson.D{{Key: "_id", Value: 4}, {Key: "x", Value: "Péng"}, {Key: "n", Value: "1"}},
	)
	return coll
}

func TestCollection_Collation_Reads(t *testing.T) {
	ctx := context.Background()
	coll := collSeed(t)

	cur, err := coll.Find(ctx, bson.D{{Key: "x", Value: "PING"}}, options.Find().SetCollation(collS2))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2}, collIDs(t, cur))

	cur, err = coll.Find(ctx, bson.D{{Key: "x", Value: "PING"}})
	require.NoError(t, err)
	assert.Equal(t, []int{2}, collIDs(t, cur), "no collation: binary equality")

	cur, err = coll.Find(ctx, bson.D{{Key: "x", Value: "peng"}}, options.Find().SetCollation(&options.Collation{Locale: "en", Strength: 1}))
	require.NoError(t, err)
	assert.Equal(t, []int{4}, collIDs(t, cur), "strength 1 ignores accents and case")

	cur, err = coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "n", Value: 1}}).SetCollation(collNumeric))
	require.NoError(t, err)
	assert.Equal(t, []int{4, 2, 1, 3}, collIDs(t, cur))
	cur, err = coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "n", Value: 1}}))
	require.NoError(t, err)
	assert.Equal(t, []int{4, 1, 3, 2}, collIDs(t, cur))

	n, err := coll.CountDocuments(ctx, bson.D{{Key: "x", Value: "Ping"}}, options.Count().SetCollation(collS2))
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)

	vals, err := coll.Distinct(ctx, "x", bson.D{}, options.Distinct().SetCollation(collS2))
	require.NoError(t, err)
	assert.Equal(t, []interface{}{"Péng", "ping", "pong"}, vals)

	cur, err = coll.Aggregate(ctx, bson.A{
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$x"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
		bson.D{{Key: "$sort", Value: bson.D{{Key: "_id", Value: 1}}}},
	}, options.Aggregate().SetCollation(collS2))
	require.NoError(t, err)
	var groups []bson.M
	require.NoError(t, cur.All(ctx, &groups))
	assert.Equal(t, []bson.M{{"_id": "Péng", "n": int32(1)}, {"_id": "ping", "n": int32(2)}, {"_id": "pong", "n": int32(1)}}, groups)
}

func TestCollection_Collation_Writes(t *testing.T) {
	ctx := context.Background()
	coll := collSeed(t)

	res, err := coll.UpdateMany(ctx, bson.D{{Key: "x", Value: "ping"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "hit", Value: true}}}},
		options.Update().SetCollation(collS2))
	require.NoError(t, err)
	assert.Equal(t, int64(2), res.MatchedCount)

	var got bson.M
	require.NoError(t, coll.FindOneAndUpdate(ctx, bson.D{{Key: "x", Value: "PONG"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "y", Value: 1}}}},
		options.FindOneAndUpdate().SetCollation(collS2).SetReturnDocument(options.After)).Decode(&got))
	assert.Equal(t, int32(3), got["_id"])

	// Per-model collations in one bulk write.
	bres, err := coll.BulkWrite(ctx, []WriteModel{
		NewDeleteOneModel().SetFilter(bson.D{{Key: "x", Value: "PING"}}).SetCollation(collS2),
		NewDeleteManyModel().SetFilter(bson.D{{Key: "x", Value: "PONG"}}),
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), bres.DeletedCount)

	// $addToSet and $pull honour the statement's collation.
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 4}}, bson.D{{Key: "$set", Value: bson.D{{Key: "tags", Value: bson.A{"red"}}}}})
	require.NoError(t, err)
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 4}}, bson.D{{Key: "$addToSet", Value: bson.D{{Key: "tags", Value: "RED"}}}},
		options.Update().SetCollation(collS2))
	require.NoError(t, err)
	require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: 4}}).Decode(&got))
	assert.Equal(t, bson.A{"red"}, got["tags"])
}

func TestCollection_Collation_Errors(t *testing.T) {
	ctx := context.Background()
	coll := collSeed(t)
	tests := []struct {
		c    *options.Collation
		code int32
	}{
		{&options.Collation{}, 4},
		{&options.Collation{Locale: "xx"}, 2},
		{&options.Collation{Locale: "en", Strength: 6}, 9},
		{&options.Collation{Locale: "en", CaseFirst: "sideways"}, 9},
		{&options.Collation{Locale: "en", Strength: 1, Backwards: true}, 2},
		{&options.Collation{Locale: "simple", Strength: 2}, 9},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", *tc.c), func(t *testing.T) {
			var ce CommandError
			_, err := coll.Find(ctx, bson.D{}, options.Find().SetCollation(tc.c))
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.code, ce.Code)
			_, err = coll.CountDocuments(ctx, bson.D{}, options.Count().SetCollation(tc.c))
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.code, ce.Code)
			_, err = coll.Distinct(ctx, "x", bson.D{}, options.Distinct().SetCollation(tc.c))
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.code, ce.Code)
			_, err = coll.Aggregate(ctx, bson.A{}, options.Aggregate().SetCollation(tc.c))
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.code, ce.Code)
			// A write statement with a bad collation fails alone; nothing is written.
			_, err = coll.DeleteMany(ctx, bson.D{}, options.Delete().SetCollation(tc.c))
			var we WriteException
			require.ErrorAs(t, err, &we)
			require.Len(t, we.WriteErrors, 1)
			assert.Equal(t, int(tc.code), we.WriteErrors[0].Code)
			n, err := coll.CountDocuments(ctx, bson.D{})
			require.NoError(t, err)
			assert.Equal(t, int64(4), n)
		})
	}
	_, err := coll.Find(ctx, bson.D{}, options.Find().SetCollation(&options.Collation{Locale: "en", Alternate: "shifted", MaxVariable: "space"}))
	assert.ErrorIs(t, err, ErrNotSupported)
	// {locale: "simple"} is the binary collation.
	cur, err := coll.Find(ctx, bson.D{{Key: "x", Value: "PING"}}, options.Find().SetCollation(&options.Collation{Locale: "simple"}))
	require.NoError(t, err)
	assert.Equal(t, []int{2}, collIDs(t, cur))
}

func TestIndexView_Collation(t *testing.T) {
	ctx := context.Background()
	coll := collSeed(t)
	_, err := coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: 2}})
	require.NoError(t, err)
	iv := coll.Indexes()
	name, err := iv.CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "x", Value: 1}},
		Options: options.Index().SetUnique(true).SetCollation(collS2)})
	require.NoError(t, err)
	assert.Equal(t, "x_1", name)

	// Listed with the full collation, as the server stores it.
	cur, err := iv.List(ctx)
	require.NoError(t, err)
	var specs []bson.M
	require.NoError(t, cur.All(ctx, &specs))
	require.Len(t, specs, 2)
	assert.Equal(t, bson.M{"locale": "en_US", "caseLevel": false, "caseFirst": "off", "strength": int32(2),
		"numericOrdering": false, "alternate": "non-ignorable", "maxVariable": "punct", "normalization": false,
		"backwards": false, "version": "57.1"}, specs[1]["collation"])

	// The unique constraint compares with the index's collation.
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 9}, {Key: "x", Value: "PING"}})
	assert.True(t, IsDuplicateKeyError(err), "got %v", err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 9}, {Key: "x", Value: "pang"}})
	require.NoError(t, err)

	// The same key pattern with another collation is another index; a
	// simple collation is not stored.
	_, err = iv.CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "x", Value: 1}},
		Options: options.Index().SetName("x_simple").SetCollation(&options.Collation{Locale: "simple"})})
	require.NoError(t, err)
	cur, err = iv.List(ctx)
	require.NoError(t, err)
	specs = nil
	require.NoError(t, cur.All(ctx, &specs))
	require.Len(t, specs, 3)
	assert.NotContains(t, specs[2], "collation")

	// Queries give the same results whichever index (or none) they can use.
	for _, c := range []*options.Collation{nil, collS2, {Locale: "en", Strength: 1}} {
		o := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})
		if c != nil {
			o.SetCollation(c)
		}
		cur, err := coll.Find(ctx, bson.D{{Key: "x", Value: bson.D{{Key: "$in", Value: bson.A{"PING", "peng"}}}}}, o)
		require.NoError(t, err)
		want := map[*options.Collation][]int{nil: {}, collS2: {1}}[c]
		if c != nil && c.Strength == 1 {
			want = []int{1, 4}
		}
		assert.Equal(t, want, collIDs(t, cur), "collation %+v", c)
	}

	var ce CommandError
	_, err = iv.CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "y", Value: 1}}, Options: options.Index().SetCollation(&options.Collation{Locale: "nope"})})
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(2), ce.Code)
}

func TestCollection_Collation_Concurrent(t *testing.T) {
	ctx := context.Background()
	coll := collSeed(t)
	_, err := coll.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "x", Value: 1}}, Options: options.Index().SetCollation(collS2)})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				n, err := coll.CountDocuments(ctx, bson.D{{Key: "x", Value: "PiNg"}}, options.Count().SetCollation(collS2))
				if !assert.NoError(t, err) || !assert.Equal(t, int64(2), n) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestDatabase_CreateCollection_Collation(t *testing.T) {
	ctx := context.Background()
	db := crudClient(t).Database("db")
	var ce CommandError
	err := db.CreateCollection(ctx, "b", options.CreateCollection().SetCollation(&options.Collation{Locale: "zz"}))
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(2), ce.Code)
	require.NoError(t, db.CreateCollection(ctx, "c", options.CreateCollection().SetCollation(&options.Collation{Locale: "simple"})))
	specs, err := db.ListCollectionSpecifications(ctx, bson.D{{Key: "name", Value: "c"}})
	require.NoError(t, err)
	require.Len(t, specs, 1)
	assert.Nil(t, specs[0].Options.Lookup("collation").Value, "{locale: simple} is no default collation")
}

func TestCollection_Collation_Projection(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: bson.A{"x", "PING", "ping"}}})
	var got bson.M
	require.NoError(t, coll.FindOne(ctx, bson.D{}, options.FindOne().SetCollation(collS2).
		SetProjection(bson.D{{Key: "a", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "$eq", Value: "ping"}}}}}})).Decode(&got))
	assert.Equal(t, bson.A{"PING"}, got["a"])
}
