package argon

import (
	"context"
	"errors"
	"fmt"
	"log"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// aggAll returns a function that reads every document of an aggregate
// call's cursor.
func aggAll(t *testing.T) func(cur *Cursor, err error) []bson.M {
	return func(cur *Cursor, err error) []bson.M {
		t.Helper()
		require.NoError(t, err)
		require.NotNil(t, cur)
		var out []bson.M
		require.NoError(t, cur.All(context.Background(), &out))
		return out
	}
}

func TestCollection_Aggregate_Stages(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	db := c.Database("db")
	orders := db.Collection("orders")
	crudSeed(t, orders,
		bson.D{{Key: "_id", Value: 1}, {Key: "item", Value: "a"}, {Key: "qty", Value: 2}},
		bson.D{{Key: "_id", Value: 2}, {Key: "item", Value: "b"}, {Key: "qty", Value: 5}},
		bson.D{{Key: "_id", Value: 3}, {Key: "item", Value: "a"}, {Key: "qty", Value: 1}})
	crudSeed(t, db.Collection("items"),
		bson.D{{Key: "_id", Value: "a"}, {Key: "price", Value: 10}},
		bson.D{{Key: "_id", Value: "b"}, {Key: "price", Value: 3}})

	got := aggAll(t)(orders.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$item"}, {Key: "qty", Value: bson.D{{Key: "$sum", Value: "$qty"}}}}}},
		{{Key: "$sort", Value: bson.D{{Key: "_id", Value: 1}}}},
	}))
	assert.Equal(t, []bson.M{{"_id": "a", "qty": int32(3)}, {"_id": "b", "qty": int32(5)}}, got)

	got = aggAll(t)(orders.Aggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: "_id", Value: 2}}}},
		bson.D{{Key: "$lookup", Value: bson.D{{Key: "from", Value: "items"}, {Key: "localField", Value: "item"}, {Key: "foreignField", Value: "_id"}, {Key: "as", Value: "i"}}}},
		bson.D{{Key: "$unwind", Value: "$i"}},
		bson.D{{Key: "$project", Value: bson.D{{Key: "cost", Value: bson.D{{Key: "$multiply", Value: bson.A{"$qty", "$i.price"}}}}}}},
	}, options.Aggregate().SetAllowDiskUse(true)))
	assert.Equal(t, []bson.M{{"_id": int32(2), "cost": int32(15)}}, got)

	got = aggAll(t)(orders.Aggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: "$expr", Value: bson.D{{Key: "$gt", Value: bson.A{"$qty", "$$min"}}}}}}},
		bson.D{{Key: "$unionWith", Value: "items"}},
		bson.D{{Key: "$count", Value: "n"}},
	}, options.Aggregate().SetLet(bson.D{{Key: "min", Value: 1}})))
	assert.Equal(t, []bson.M{{"n": int32(4)}}, got)

	// A missing collection is empty.
	got = aggAll(t)(db.Collection("nope").Aggregate(ctx, bson.A{}))
	assert.Empty(t, got)
}

func TestCollection_Aggregate_Errors(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}})

	_, err := coll.Aggregate(ctx, bson.A{bson.D{{Key: "$foo", Value: 1}}})
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(40324), ce.Code)
	assert.Equal(t, "Unrecognized pipeline stage name: '$foo'", ce.Message)

	_, err = coll.Aggregate(ctx, bson.A{bson.D{{Key: "$merge", Value: bson.D{{Key: "into", Value: "x"}, {Key: "whenMatched", Value: bson.A{}}}}}})
	assert.True(t, errors.Is(err, ErrNotSupported), "got %v", err)

	_, err = coll.Aggregate(ctx, bson.D{{Key: "$match", Value: bson.D{}}})
	assert.Error(t, err)

	_, err = coll.Aggregate(ctx, bson.A{}, options.Aggregate().SetCollation(&options.Collation{Locale: "xx"}))
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(2), ce.Code)
	assert.Equal(t, `Field 'locale' is invalid in: { locale: "xx" }`, ce.Message)

	_, err = coll.Aggregate(ctx, bson.A{}, options.Aggregate().SetCollation(&options.Collation{Locale: "am"}))
	assert.True(t, errors.Is(err, ErrNotSupported), "got %v", err)
}

func TestDatabase_Aggregate_Documents(t *testing.T) {
	ctx := context.Background()
	db := crudClient(t).Database("db")
	got := aggAll(t)(db.Aggregate(ctx, bson.A{
		bson.D{{Key: "$documents", Value: bson.A{bson.D{{Key: "x", Value: 1}}, bson.D{{Key: "x", Value: 2}}}}},
		bson.D{{Key: "$match", Value: bson.D{{Key: "x", Value: 2}}}},
	}))
	assert.Equal(t, []bson.M{{"x": int32(2)}}, got)

	_, err := db.Aggregate(ctx, bson.A{bson.D{{Key: "$match", Value: bson.D{}}}})
	assert.True(t, errors.Is(err, ErrNotSupported), "got %v", err)
}

func TestCollection_Aggregate_OutMerge(t *testing.T) {
	ctx := context.Background()
	db := crudClient(t).Database("db")
	src := db.Collection("src")
	crudSeed(t, src,
		bson.D{{Key: "_id", Value: 1}, {Key: "x", Value: 1}},
		bson.D{{Key: "_id", Value: 2}, {Key: "x", Value: 2}})
	dst := db.Collection("dst")
	crudSeed(t, dst, bson.D{{Key: "_id", Value: 9}}, bson.D{{Key: "_id", Value: 2}, {Key: "y", Value: "old"}})

	// $merge (default: merge matched, insert others).
	got := aggAll(t)(src.Aggregate(ctx, bson.A{bson.D{{Key: "$merge", Value: "dst"}}}))
	assert.Empty(t, got)
	assert.Equal(t, []bson.D{
		{{Key: "_id", Value: int32(9)}},
		{{Key: "_id", Value: int32(2)}, {Key: "y", Value: "old"}, {Key: "x", Value: int32(2)}},
		{{Key: "_id", Value: int32(1)}, {Key: "x", Value: int32(1)}},
	}, crudAll(t, dst, bson.D{}))

	// whenNotMatched: fail.
	_, err := src.Aggregate(ctx, bson.A{bson.D{{Key: "$merge", Value: bson.D{{Key: "into", Value: "nope"}, {Key: "whenNotMatched", Value: "fail"}}}}})
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(13113), ce.Code)

	// $out replaces the target.
	got = aggAll(t)(src.Aggregate(ctx, bson.A{bson.D{{Key: "$match", Value: bson.D{{Key: "x", Value: 2}}}}, bson.D{{Key: "$out", Value: "dst"}}}))
	assert.Empty(t, got)
	assert.Equal(t, []bson.D{{{Key: "_id", Value: int32(2)}, {Key: "x", Value: int32(2)}}}, crudAll(t, dst, bson.D{}))

	// $out of documents without _id adds one; duplicates fail with 11000.
	_, err = src.Aggregate(ctx, bson.A{bson.D{{Key: "$project", Value: bson.D{{Key: "_id", Value: 0}}}}, bson.D{{Key: "$out", Value: "dst"}}})
	require.NoError(t, err)
	assert.Len(t, crudAll(t, dst, bson.D{}), 2)
	_, err = src.Aggregate(ctx, bson.A{bson.D{{Key: "$set", Value: bson.D{{Key: "_id", Value: 1}}}}, bson.D{{Key: "$out", Value: "dst"}}})
	assert.True(t, mongo.IsDuplicateKeyError(err), "got %v", err)
	assert.Len(t, crudAll(t, dst, bson.D{}), 2, "a failed $out leaves the target unchanged")
}

// Aggregation runs in-process over a snapshot of the branch.
func ExampleCollection_Aggregate() {
	ctx := context.Background()
	client, err := OpenMemory(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()

	coll := client.Database("shop").Collection("orders")
	_, err = coll.InsertMany(ctx, []interface{}{
		bson.D{{Key: "item", Value: "tea"}, {Key: "qty", Value: 2}},
		bson.D{{Key: "item", Value: "coffee"}, {Key: "qty", Value: 1}},
		bson.D{{Key: "item", Value: "tea"}, {Key: "qty", Value: 3}},
	})
	if err != nil {
		log.Fatal(err)
	}
	cur, err := coll.Aggregate(ctx, Pipeline{
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$item"}, {Key: "total", Value: bson.D{{Key: "$sum", Value: "$qty"}}}}}},
		{{Key: "$sort", Value: bson.D{{Key: "total", Value: -1}}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	var rows []struct {
		Item  string `bson:"_id"`
		Total int    `bson:"total"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		log.Fatal(err)
	}
	for _, r := range rows {
		fmt.Println(r.Item, r.Total)
	}
	// Output:
	// tea 5
	// coffee 1
}
