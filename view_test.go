package argon

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// viewDB returns database "db" of a fresh client with orders seeded and
// the view "big" (orders with qty >= 5, total added).
func viewDB(t *testing.T) *Database {
	t.Helper()
	ctx := context.Background()
	db := crudClient(t).Database("db")
	crudSeed(t, db.Collection("orders"),
		bson.D{{Key: "_id", Value: 1}, {Key: "item", Value: "a"}, {Key: "qty", Value: 2}, {Key: "price", Value: 10}},
		bson.D{{Key: "_id", Value: 2}, {Key: "item", Value: "b"}, {Key: "qty", Value: 5}, {Key: "price", Value: 3}},
		bson.D{{Key: "_id", Value: 3}, {Key: "item", Value: "a"}, {Key: "qty", Value: 7}, {Key: "price", Value: 10}},
		bson.D{{Key: "_id", Value: 4}, {Key: "item", Value: "c"}, {Key: "qty", Value: 9}, {Key: "price", Value: 1}},
	)
	require.NoError(t, db.CreateView(ctx, "big", "orders", mongo.Pipeline{
		{{Key: "$match", Value: bson.M{"qty": bson.M{"$gte": 5}}}},
		{{Key: "$addFields", Value: bson.M{"total": bson.M{"$multiply": bson.A{"$qty", "$price"}}}}},
	}))
	return db
}

func TestView_Reads(t *testing.T) {
	ctx := context.Background()
	db := viewDB(t)
	big := db.Collection("big")

	all := crudAll(t, big, bson.M{})
	assert.Equal(t, []interface{}{int32(2), int32(3), int32(4)}, crudIDs(all))

	got := crudAll(t, big, bson.M{"item": "a"}, options.Find().SetProjection(bson.M{"total": 1}))
	assert.Equal(t, []bson.D{{{Key: "_id", Value: int32(3)}, {Key: "total", Value: int32(70)}}}, got)

	got = crudAll(t, big, bson.M{}, options.Find().SetSort(bson.M{"total": -1}).SetSkip(1).SetLimit(1))
	assert.Equal(t, []interface{}{int32(2)}, crudIDs(got))

	var one bson.M
	require.NoError(t, big.FindOne(ctx, bson.M{"_id": 4}).Decode(&one))
	assert.Equal(t, int32(9), one["total"])

	n, err := big.CountDocuments(ctx, bson.M{"price": bson.M{"$gt": 2}})
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	n, err = big.EstimatedDocumentCount(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)

	items, err := big.Distinct(ctx, "item", bson.M{})
	require.NoError(t, err)
	assert.Equal(t, []interface{}{"a", "b", "c"}, items)

	cur, err := big.Aggregate(ctx, mongo.Pipeline{{{Key: "$group", Value: bson.M{"_id": nil, "sum": bson.M{"$sum": "$total"}}}}})
	require.NoError(t, err)
	var sums []bson.M
	require.NoError(t, cur.All(ctx, &sums))
	assert.Equal(t, []bson.M{{"_id": nil, "sum": int32(94)}}, sums)

	// The view follows its source: a write to orders shows at once.
	_, err = db.Collection("orders").UpdateOne(ctx, bson.M{"_id": 1}, bson.M{"$set": bson.M{"qty": 6}})
	require.NoError(t, err)
	n, err = big.CountDocuments(ctx, bson.M{})
	require.NoError(t, err)
	assert.Equal(t, int64(4), n)
}

func TestView_OnViewAndLookup(t *testing.T) {
	ctx := context.Background()
	db := viewDB(t)
	require.NoError(t, db.CreateView(ctx, "bigA", "big", bson.A{bson.M{"$match": bson.M{"item": "a"}}}))
	assert.Equal(t, []interface{}{int32(3)}, crudIDs(crudAll(t, db.Collection("bigA"), bson.M{})))

	// $lookup from a view runs the view.
	crudSeed(t, db.Collection("items"), bson.M{"_id": "a"}, bson.M{"_id": "b"})
	cur, err := db.Collection("items").Aggregate(ctx, mongo.Pipeline{
		{{Key: "$lookup", Value: bson.M{"from": "big", "localField": "_id", "foreignField": "item", "as": "big"}}},
		{{Key: "$project", Value: bson.M{"n": bson.M{"$size": "$big"}}}},
	})
	require.NoError(t, err)
	var rows []bson.M
	require.NoError(t, cur.All(ctx, &rows))
	assert.Equal(t, []bson.M{{"_id": "a", "n": int32(1)}, {"_id": "b", "n": int32(1)}}, rows)
}

func TestView_ListCollections(t *testing.T) {
	ctx := context.Background()
	db := viewDB(t)
	specs, err := db.ListCollectionSpecifications(ctx, bson.M{"name": "big"})
	require.NoError(t, err)
	require.Len(t, specs, 1)
	assert.Equal(t, "view", specs[0].Type)
	assert.True(t, specs[0].ReadOnly)
	assert.Equal(t, "orders", specs[0].Options.Lookup("viewOn").StringValue())

	names, err := db.ListCollectionNames(ctx, bson.M{"type": "view"})
	require.NoError(t, err)
	assert.Equal(t, []string{"big"}, names)
}

func TestView_WritesRefused(t *testing.T) {
	ctx := context.Background()
	db := viewDB(t)
	big := db.Collection("big")
	checks := map[string]func() error{
		"InsertOne": func() error { _, err := big.InsertOne(ctx, bson.M{"x": 1}); return err },
		"UpdateMany": func() error {
			_, err := big.UpdateMany(ctx, bson.M{}, bson.M{"$set": bson.M{"x": 1}})
			return err
		},
		"DeleteMany":       func() error { _, err := big.DeleteMany(ctx, bson.M{}); return err },
		"FindOneAndDelete": func() error { return big.FindOneAndDelete(ctx, bson.M{}).Err() },
		"CreateIndex": func() error {
			_, err := big.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.M{"x": 1}})
			return err
		},
		"ListIndexes": func() error { _, err := big.Indexes().List(ctx); return err },
		"$out into a view": func() error {
			_, err := db.Collection("orders").Aggregate(ctx, mongo.Pipeline{{{Key: "$out", Value: "big"}}})
			return err
		},
	}
	for name, f := range checks {
		t.Run(name, func(t *testing.T) {
			code, msg := writeErrorCode(t, f())
			assert.Equal(t, codeCommandNotSupportedOnView, code)
			assert.Equal(t, "Namespace db.big is a view, not a collection", msg)
		})
	}
	n, err := db.Collection("orders").CountDocuments(ctx, bson.M{})
	require.NoError(t, err)
	assert.Equal(t, int64(4), n, "nothing written")

	// Dropping a view drops only the view.
	require.NoError(t, big.Drop(ctx))
	names, err := db.ListCollectionNames(ctx, bson.M{})
	require.NoError(t, err)
	assert.Equal(t, []string{"orders"}, names)
}

func TestView_BadDefinitions(t *testing.T) {
	ctx := context.Background()
	db := viewDB(t)
	cases := []struct {
		name     string
		view, on string
		pipeline interface{}
		code     int
	}{
		{"exists", "big", "orders", bson.A{}, codeNamespaceExists},
		{"cycle", "orders2", "orders2", bson.A{}, codeGraphContainsCycle},
		{"writes", "v", "orders", bson.A{bson.M{"$out": "x"}}, codeOptionNotSupportedOnView},
		{"unknown stage", "v", "orders", bson.A{bson.M{"$bogus": 1}}, 40324},
		{"bad name", "a$b", "orders", bson.A{}, codeInvalidNamespace},
		{"empty viewOn", "v", "", bson.A{}, codeBadValue},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _ := writeErrorCode(t, db.CreateView(ctx, tc.view, tc.on, tc.pipeline))
			assert.Equal(t, tc.code, code)
		})
	}
	// A cycle through an existing view.
	require.NoError(t, db.CreateView(ctx, "v1", "v2", bson.A{}))
	code, _ := writeErrorCode(t, db.CreateView(ctx, "v2", "v1", bson.A{}))
	assert.Equal(t, codeGraphContainsCycle, code)
	names, err := db.ListCollectionNames(ctx, bson.M{})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"orders", "big", "v1"}, names)
}
