package argon

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/x/mongo/driver"
)

// crudClient returns an in-memory client, disconnected when the test ends.
func crudClient(t testing.TB) *Client {
	t.Helper()
	c, err := OpenMemory(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// crudColl returns collection "db.coll" of a fresh in-memory client.
func crudColl(t testing.TB) *Collection {
	return crudClient(t).Database("db").Collection("coll")
}

// crudSeed inserts docs into coll.
func crudSeed(t testing.TB, coll *Collection, docs ...interface{}) {
	t.Helper()
	_, err := coll.InsertMany(context.Background(), docs)
	require.NoError(t, err)
}

// crudAll returns every document of coll matching filter, in the order
// Find returns them, as bson.D.
func crudAll(t testing.TB, coll *Collection, filter interface{}, opts ...*options.FindOptions) []bson.D {
	t.Helper()
	cur, err := coll.Find(context.Background(), filter, opts...)
	require.NoError(t, err)
	require.NotNil(t, cur)
	var out []bson.D
	require.NoError(t, cur.All(context.Background(), &out))
	return out
}

// crudIDs returns the _id of each document.
func crudIDs(docs []bson.D) []interface{} {
	out := make([]interface{}, 0, len(docs))
	for _, d := range docs {
		for _, e := range d {
			if e.Key == "_id" {
				out = append(out, e.Value)
			}
		}
	}
	return out
}

// writeErrorCode returns the code of the first write error of a
// WriteException or BulkWriteException.
func writeErrorCode(t testing.TB, err error) (int, string) {
	t.Helper()
	var we WriteException
	if errors.As(err, &we) {
		require.NotEmpty(t, we.WriteErrors)
		return we.WriteErrors[0].Code, we.WriteErrors[0].Message
	}
	var bwe BulkWriteException
	if errors.As(err, &bwe) {
		require.NotEmpty(t, bwe.WriteErrors)
		return bwe.WriteErrors[0].Code, bwe.WriteErrors[0].Message
	}
	var ce CommandError
	if errors.As(err, &ce) {
		return int(ce.Code), ce.Message
	}
	t.Fatalf("not a server error: %T %v", err, err)
	return 0, ""
}

func TestCollection_InsertOne_AddsObjectIDFirst(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	res, err := coll.InsertOne(ctx, bson.D{{Key: "a", Value: 1}})
	require.NoError(t, err)
	oid, ok := res.InsertedID.(primitive.ObjectID)
	require.True(t, ok, "InsertedID is %T", res.InsertedID)
	raw, err := coll.FindOne(ctx, bson.D{}).Raw()
	require.NoError(t, err)
	elems, err := raw.Elements()
	require.NoError(t, err)
	assert.Equal(t, "_id", elems[0].Key())
	assert.Equal(t, oid, elems[0].Value().ObjectID())
}

func TestCollection_InsertOne_AcceptedDocumentTypes(t *testing.T) {
	type person struct {
		ID   int    `bson:"_id"`
		Name string `bson:"name"`
	}
	raw, _ := bson.Marshal(bson.D{{Key: "_id", Value: 4}, {Key: "name", Value: "raw"}})
	tests := []struct {
		name   string
		doc    interface{}
		wantID interface{}
	}{
		{"bson.D", bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: "d"}}, int32(1)},
		{"bson.M", bson.M{"_id": "m", "name": "m"}, "m"},
		{"struct", person{ID: 3, Name: "s"}, int32(3)},
		{"pointer to struct", &person{ID: 5, Name: "p"}, int32(5)},
		{"bson.Raw", bson.Raw(raw), int32(4)},
		{"[]byte", []byte(raw), int32(4)},
		{"map", map[string]interface{}{"_id": int64(7)}, int64(7)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			coll := crudColl(t)
			res, err := coll.InsertOne(context.Background(), tc.doc)
			require.NoError(t, err)
			assert.Equal(t, tc.wantID, res.InsertedID)
			n, err := coll.CountDocuments(context.Background(), bson.D{{Key: "_id", Value: tc.wantID}})
			require.NoError(t, err)
			assert.Equal(t, int64(1), n)
		})
	}
}

func TestCollection_InsertOne_ClientErrors(t *testing.T) {
	coll := crudColl(t)
	ctx := context.Background()
	_, err := coll.InsertOne(ctx, nil)
	assert.ErrorIs(t, err, ErrNilDocument)
	_, err = coll.InsertOne(ctx, 42)
	var me MarshalError
	assert.ErrorAs(t, err, &me)
	big := bsoncore.BuildDocumentFromElements(nil, bsoncore.AppendBinaryElement(nil, "big", 0, make([]byte, maxInsertSize)))
	_, err = coll.InsertOne(ctx, bson.Raw(big))
	assert.ErrorIs(t, err, driver.ErrDocumentTooLarge)
	n, err := coll.EstimatedDocumentCount(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestCollection_InsertOne_DuplicateKey(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	res, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1.0}, {Key: "x", Value: 1}})
	assert.Nil(t, res)
	require.Error(t, err)
	assert.True(t, IsDuplicateKeyError(err))
	var we WriteException
	require.ErrorAs(t, err, &we)
	require.Len(t, we.WriteErrors, 1)
	assert.Equal(t, 11000, we.WriteErrors[0].Code)
	assert.Equal(t, 0, we.WriteErrors[0].Index)
	assert.Equal(t, "E11000 duplicate key error collection: db.coll index: _id_ dup key: { _id: 1.0 }", we.WriteErrors[0].Message)
}

func TestCollection_InsertOne_ServerValidation(t *testing.T) {
	tests := []struct {
		name     string
		doc      bson.D
		wantCode int
		wantMsg  string
	}{
		{"array _id", bson.D{{Key: "_id", Value: bson.A{1}}}, 2, "can't use an array for _id"},
		{"regex _id", bson.D{{Key: "_id", Value: primitive.Regex{Pattern: "a"}}}, 2, "can't use a regex for _id"},
		{"undefined _id", bson.D{{Key: "_id", Value: primitive.Undefined{}}}, 2, "can't use a undefined for _id"},
		{"two _id", bson.D{{Key: "_id", Value: 1}, {Key: "_id", Value: 2}}, 2, "can't have multiple _id fields in one document"},
		{"dollar in _id", bson.D{{Key: "_id", Value: bson.D{{Key: "$a", Value: 1}}}}, 53, "_id fields may not contain '$'-prefixed fields: $a is not valid for storage."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := crudColl(t).InsertOne(context.Background(), tc.doc)
			code, msg := writeErrorCode(t, err)
			assert.Equal(t, tc.wantCode, code)
			assert.Equal(t, tc.wantMsg, msg)
		})
	}
}

func TestCollection_InsertOne_MovesIDFirst(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	_, err := coll.InsertOne(ctx, bson.D{{Key: "a", Value: 1}, {Key: "_id", Value: "x"}})
	require.NoError(t, err)
	raw, err := coll.FindOne(ctx, bson.D{}).Raw()
	require.NoError(t, err)
	assert.Equal(t, `{"_id": "x","a": {"$numberInt":"1"}}`, raw.String())
}

func TestCollection_InsertOne_InvalidNamespace(t *testing.T) {
	c := crudClient(t)
	tests := []struct {
		db, coll, msg string
	}{
		{"db", "a$b", "Invalid namespace specified 'db.a$b'"},
		{"db", "", "Invalid namespace specified 'db.'"},
		{"db", "system.x", "Invalid system namespace: db.system.x"},
		{"a.b", "c", "Invalid database name: 'a.b'"},
		{"", "c", "Invalid database name: ''"},
	}
	for _, tc := range tests {
		t.Run(tc.db+"."+tc.coll, func(t *testing.T) {
			_, err := c.Database(tc.db).Collection(tc.coll).InsertOne(context.Background(), bson.D{})
			var ce CommandError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, int32(73), ce.Code)
			assert.Equal(t, "InvalidNamespace", ce.Name)
			assert.Equal(t, tc.msg, ce.Message)
		})
	}
}

func TestCollection_InsertMany_OrderedStopsAtFirstError(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	res, err := coll.InsertMany(ctx, []interface{}{
		bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 3}},
	})
	require.Error(t, err)
	var bwe BulkWriteException
	require.ErrorAs(t, err, &bwe)
	require.Len(t, bwe.WriteErrors, 1)
	assert.Equal(t, 2, bwe.WriteErrors[0].Index)
	assert.Equal(t, 11000, bwe.WriteErrors[0].Code)
	assert.True(t, IsDuplicateKeyError(err))
	require.NotNil(t, res)
	assert.Equal(t, []interface{}{int32(1), int32(2)}, res.InsertedIDs)
	assert.Equal(t, []interface{}{int32(1), int32(2)}, crudIDs(crudAll(t, coll, bson.D{})))
}

func TestCollection_InsertMany_UnorderedContinues(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	res, err := coll.InsertMany(ctx, []interface{}{
		bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "_id", Value: 3}},
	}, options.InsertMany().SetOrdered(false))
	var bwe BulkWriteException
	require.ErrorAs(t, err, &bwe)
	require.Len(t, bwe.WriteErrors, 2)
	assert.Equal(t, 1, bwe.WriteErrors[0].Index)
	assert.Equal(t, 3, bwe.WriteErrors[1].Index)
	assert.Equal(t, []interface{}{int32(1), int32(2), int32(3)}, res.InsertedIDs)
	assert.Equal(t, []interface{}{int32(1), int32(2), int32(3)}, crudIDs(crudAll(t, coll, bson.D{})))
}

func TestCollection_InsertMany_ClientErrors(t *testing.T) {
	coll := crudColl(t)
	ctx := context.Background()
	_, err := coll.InsertMany(ctx, nil)
	assert.ErrorIs(t, err, ErrEmptySlice)
	_, err = coll.InsertMany(ctx, []interface{}{bson.D{}, nil})
	assert.ErrorIs(t, err, ErrNilDocument)
	n, err := coll.EstimatedDocumentCount(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "a client-side error writes nothing")
}

func TestCollection_InsertMany_GeneratesIDs(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	res, err := coll.InsertMany(ctx, []interface{}{bson.D{{Key: "a", Value: 1}}, bson.D{{Key: "_id", Value: "k"}}})
	require.NoError(t, err)
	require.Len(t, res.InsertedIDs, 2)
	assert.IsType(t, primitive.ObjectID{}, res.InsertedIDs[0])
	assert.Equal(t, "k", res.InsertedIDs[1])
	assert.Equal(t, res.InsertedIDs, crudIDs(crudAll(t, coll, bson.D{})))
}

func findSeed(t *testing.T) *Collection {
	coll := crudColl(t)
	crudSeed(t, coll,
		bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 5}, {Key: "tags", Value: bson.A{"a", "b"}}, {Key: "sub", Value: bson.D{{Key: "x", Value: 1}}}},
		bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: 3}, {Key: "tags", Value: bson.A{"b"}}},
		bson.D{{Key: "_id", Value: 3}, {Key: "n", Value: 9}},
		bson.D{{Key: "_id", Value: 4}, {Key: "n", Value: 3}, {Key: "sub", Value: bson.D{{Key: "x", Value: 2}}}},
		bson.D{{Key: "_id", Value: 5}},
	)
	return coll
}

func TestCollection_Find_Options(t *testing.T) {
	coll := findSeed(t)
	ids := func(v ...int32) []interface{} {
		out := make([]interface{}, len(v))
		for i, x := range v {
			out[i] = x
		}
		return out
	}
	tests := []struct {
		name   string
		filter interface{}
		opts   *options.FindOptions
		want   []interface{}
	}{
		{"empty filter, natural order", bson.D{}, nil, ids(1, 2, 3, 4, 5)},
		{"equality", bson.D{{Key: "n", Value: 3}}, nil, ids(2, 4)},
		{"_id equality", bson.M{"_id": 4}, nil, ids(4)},
		{"_id equality numeric mix", bson.M{"_id": 4.0}, nil, ids(4)},
		{"array element", bson.D{{Key: "tags", Value: "b"}}, nil, ids(1, 2)},
		{"dotted", bson.D{{Key: "sub.x", Value: bson.D{{Key: "$gte", Value: 1}}}}, nil, ids(1, 4)},
		{"null matches missing", bson.D{{Key: "n", Value: nil}}, nil, ids(5)},
		{"sort asc", bson.D{}, options.Find().SetSort(bson.D{{Key: "n", Value: 1}}), ids(5, 2, 4, 1, 3)},
		{"sort desc stable", bson.D{}, options.Find().SetSort(bson.D{{Key: "n", Value: -1}}), ids(3, 1, 2, 4, 5)},
		{"compound sort", bson.D{}, options.Find().SetSort(bson.D{{Key: "n", Value: 1}, {Key: "_id", Value: -1}}), ids(5, 4, 2, 1, 3)},
		{"skip", bson.D{}, options.Find().SetSkip(3), ids(4, 5)},
		{"limit", bson.D{}, options.Find().SetLimit(2), ids(1, 2)},
		{"negative limit", bson.D{}, options.Find().SetLimit(-2), ids(1, 2)},
		{"skip and limit", bson.D{}, options.Find().SetSkip(1).SetLimit(2), ids(2, 3)},
		{"sort skip limit", bson.D{}, options.Find().SetSort(bson.D{{Key: "n", Value: -1}}).SetSkip(1).SetLimit(2), ids(1, 2)},
		{"skip past end", bson.D{}, options.Find().SetSkip(10), ids()},
		{"natural reverse", bson.D{}, options.Find().SetSort(bson.D{{Key: "$natural", Value: -1}}), ids(5, 4, 3, 2, 1)},
		{"batch size accepted", bson.D{}, options.Find().SetBatchSize(1), ids(1, 2, 3, 4, 5)},
		{"no match", bson.D{{Key: "n", Value: 100}}, nil, ids()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []*options.FindOptions
			if tc.opts != nil {
				opts = append(opts, tc.opts)
			}
			got := crudIDs(crudAll(t, coll, tc.filter, opts...))
			if len(tc.want) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestCollection_Find_Projection(t *testing.T) {
	coll := findSeed(t)
	got := crudAll(t, coll, bson.D{{Key: "_id", Value: 1}}, options.Find().SetProjection(bson.D{{Key: "n", Value: 1}}))
	assert.Equal(t, []bson.D{{{Key: "_id", Value: int32(1)}, {Key: "n", Value: int32(5)}}}, got)
	got = crudAll(t, coll, bson.D{{Key: "_id", Value: 1}}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "tags", Value: 0}, {Key: "sub", Value: 0}}))
	assert.Equal(t, []bson.D{{{Key: "n", Value: int32(5)}}}, got)
	got = crudAll(t, coll, bson.D{{Key: "tags", Value: "b"}}, options.Find().SetProjection(bson.D{{Key: "tags.$", Value: 1}}))
	assert.Equal(t, []bson.D{
		{{Key: "_id", Value: int32(1)}, {Key: "tags", Value: bson.A{"b"}}},
		{{Key: "_id", Value: int32(2)}, {Key: "tags", Value: bson.A{"b"}}},
	}, got)
	_, err := coll.Find(context.Background(), bson.D{}, options.Find().SetProjection(bson.D{{Key: "a", Value: 1}, {Key: "b", Value: 0}}))
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(31254), ce.Code)
}

func TestCollection_Find_NeverNilCursor(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	for _, coll := range []*Collection{c.Database("db").Collection("missing"), findSeed(t)} {
		cur, err := coll.Find(ctx, bson.D{{Key: "nothing", Value: 1}})
		require.NoError(t, err)
		require.NotNil(t, cur)
		assert.False(t, cur.Next(ctx))
		assert.NoError(t, cur.Err())
		assert.NoError(t, cur.Close(ctx))
	}
}

func TestCollection_Find_Errors(t *testing.T) {
	ctx := context.Background()
	coll := findSeed(t)
	_, err := coll.Find(ctx, nil)
	assert.ErrorIs(t, err, ErrNilDocument, "a nil filter is an error, as with the driver")

	_, err = coll.Find(ctx, bson.D{{Key: "a", Value: bson.D{{Key: "$foo", Value: 1}}}})
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(2), ce.Code)
	assert.Equal(t, "unknown operator: $foo", ce.Message)

	_, err = coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.M{"a": 1, "b": 1}))
	var me ErrMapForOrderedArgument
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "sort", me.ParamName)

	_, err = coll.Find(ctx, bson.D{}, options.Find().SetSkip(-1))
	require.ErrorAs(t, err, &ce)

	_, err = coll.Find(ctx, bson.D{}, options.Find().SetCollation(&options.Collation{Locale: "fr", Strength: 9}))
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(9), ce.Code)
	assert.Equal(t, "Field 'strength' must be an integer 1 through 5. Got: 9", ce.Message)

	_, err = coll.Find(ctx, bson.D{}, options.Find().SetHint("nope"))
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "hint provided does not correspond to an existing index", ce.Message)
	_, err = coll.Find(ctx, bson.D{}, options.Find().SetHint("_id_"))
	assert.NoError(t, err)
}

func TestCollection_FindOne_Results(t *testing.T) {
	ctx := context.Background()
	coll := findSeed(t)
	var doc struct {
		ID int `bson:"_id"`
		N  int `bson:"n"`
	}
	require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "n", Value: 3}}).Decode(&doc))
	assert.Equal(t, 2, doc.ID)
	require.NoError(t, coll.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "n", Value: -1}}).SetSkip(1)).Decode(&doc))
	assert.Equal(t, 1, doc.ID)

	sr := coll.FindOne(ctx, bson.D{{Key: "n", Value: 42}})
	assert.ErrorIs(t, sr.Err(), ErrNoDocuments)
	assert.ErrorIs(t, sr.Decode(&doc), ErrNoDocuments)
	raw, err := sr.Raw()
	assert.Nil(t, raw)
	assert.ErrorIs(t, err, ErrNoDocuments)

	assert.ErrorIs(t, coll.FindOne(ctx, nil).Err(), ErrNilDocument)
}

func TestCollection_CountDocuments_SkipLimit(t *testing.T) {
	ctx := context.Background()
	coll := findSeed(t)
	tests := []struct {
		name   string
		filter bson.D
		opts   *options.CountOptions
		want   int64
	}{
		{"all", bson.D{}, nil, 5},
		{"filtered", bson.D{{Key: "n", Value: 3}}, nil, 2},
		{"skip", bson.D{}, options.Count().SetSkip(2), 3},
		{"skip past end", bson.D{}, options.Count().SetSkip(9), 0},
		{"limit", bson.D{}, options.Count().SetLimit(4), 4},
		{"skip and limit", bson.D{}, options.Count().SetSkip(3).SetLimit(4), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []*options.CountOptions
			if tc.opts != nil {
				opts = append(opts, tc.opts)
			}
			n, err := coll.CountDocuments(ctx, tc.filter, opts...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, n)
		})
	}
	n, err := coll.EstimatedDocumentCount(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(5), n)
	n, err = coll.Database().Collection("missing").EstimatedDocumentCount(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestCollection_Distinct_Values(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll,
		bson.D{{Key: "a", Value: 3}, {Key: "b", Value: bson.A{bson.D{{Key: "c", Value: "x"}}, bson.D{{Key: "c", Value: bson.A{"y", "x"}}}}}},
		bson.D{{Key: "a", Value: 1.0}, {Key: "b", Value: bson.D{{Key: "c", Value: "z"}}}},
		bson.D{{Key: "a", Value: bson.A{1, 2, bson.A{7}}}},
		bson.D{{Key: "a", Value: "s"}},
		bson.D{{Key: "other", Value: 1}},
	)
	got, err := coll.Distinct(ctx, "a", bson.D{})
	require.NoError(t, err)
	assert.Equal(t, []interface{}{1.0, int32(2), int32(3), "s", bson.A{int32(7)}}, got, "unique by BSON equality, sorted in BSON order")
	got, err = coll.Distinct(ctx, "b.c", bson.D{})
	require.NoError(t, err)
	assert.Equal(t, []interface{}{"x", "y", "z"}, got)
	got, err = coll.Distinct(ctx, "a", bson.D{{Key: "a", Value: bson.D{{Key: "$type", Value: "string"}}}})
	require.NoError(t, err)
	assert.Equal(t, []interface{}{"s"}, got)
	got, err = coll.Distinct(ctx, "nothing", bson.D{})
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestCollection_UpdateOne_MatchedVersusModified(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: 1}}, bson.D{{Key: "_id", Value: 2}, {Key: "a", Value: 1}})
	tests := []struct {
		name                    string
		filter, update          bson.D
		matched, modified, upsd int64
	}{
		{"changes", bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 2}}}}, 1, 1, 0},
		{"no-op", bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 2}}}}, 1, 0, 0},
		{"no match", bson.D{{Key: "_id", Value: 9}}, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 2}}}}, 0, 0, 0},
		{"one of many", bson.D{}, bson.D{{Key: "$inc", Value: bson.D{{Key: "a", Value: 1}}}}, 1, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := coll.UpdateOne(ctx, tc.filter, tc.update)
			require.NoError(t, err)
			assert.Equal(t, &UpdateResult{MatchedCount: tc.matched, ModifiedCount: tc.modified}, res)
		})
	}
	// "one of many" updated the first document in natural order.
	assert.Equal(t, []bson.D{{{Key: "_id", Value: int32(1)}, {Key: "a", Value: int32(3)}}, {{Key: "_id", Value: int32(2)}, {Key: "a", Value: int32(1)}}}, crudAll(t, coll, bson.D{}))
}

func TestCollection_UpdateOne_IncKeepsInt32(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "i", Value: int32(1)}, {Key: "l", Value: int64(1)}, {Key: "d", Value: 1.5}})
	_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "i", Value: 1}, {Key: "l", Value: 1}, {Key: "d", Value: 1}, {Key: "new", Value: int32(5)}}}})
	require.NoError(t, err)
	raw, err := coll.FindOne(ctx, bson.D{}).Raw()
	require.NoError(t, err)
	assert.Equal(t, bson.TypeInt32, raw.Lookup("i").Type)
	assert.Equal(t, int32(2), raw.Lookup("i").Int32())
	assert.Equal(t, bson.TypeInt64, raw.Lookup("l").Type)
	assert.Equal(t, bson.TypeDouble, raw.Lookup("d").Type)
	assert.Equal(t, bson.TypeInt32, raw.Lookup("new").Type)
}

func TestCollection_UpdateOne_Upsert(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 7}, {Key: "k", Value: "v"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}, {Key: "$setOnInsert", Value: bson.D{{Key: "created", Value: true}}}}, options.Update().SetUpsert(true))
	require.NoError(t, err)
	assert.Equal(t, &UpdateResult{UpsertedCount: 1, UpsertedID: int32(7)}, res)
	assert.Equal(t, []bson.D{{{Key: "_id", Value: int32(7)}, {Key: "k", Value: "v"}, {Key: "created", Value: true}, {Key: "x", Value: int32(1)}}}, crudAll(t, coll, bson.D{}))

	// A second upsert matches: no insert, $setOnInsert ignored.
	res, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 7}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 2}}}, {Key: "$setOnInsert", Value: bson.D{{Key: "created", Value: false}}}}, options.Update().SetUpsert(true))
	require.NoError(t, err)
	assert.Equal(t, &UpdateResult{MatchedCount: 1, ModifiedCount: 1}, res)

	// Without _id in the filter, an ObjectID is generated.
	res, err = coll.UpdateOne(ctx, bson.D{{Key: "k", Value: "w"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}, options.Update().SetUpsert(true))
	require.NoError(t, err)
	require.Equal(t, int64(1), res.UpsertedCount)
	oid, ok := res.UpsertedID.(primitive.ObjectID)
	require.True(t, ok, "%T", res.UpsertedID)
	var got bson.D
	require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}).Decode(&got))
	assert.Equal(t, bson.D{{Key: "_id", Value: oid}, {Key: "k", Value: "w"}, {Key: "n", Value: int32(1)}}, got)
}

func TestCollection_UpdateOne_ArrayFiltersAndPositional(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "grades", Value: bson.A{80, 95, 100}}})
	_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "grades.$[g]", Value: 0}}}},
		options.Update().SetArrayFilters(options.ArrayFilters{Filters: []interface{}{bson.D{{Key: "g", Value: bson.D{{Key: "$gte", Value: 95}}}}}}))
	require.NoError(t, err)
	res, err := coll.UpdateOne(ctx, bson.D{{Key: "grades", Value: 80}}, bson.D{{Key: "$set", Value: bson.D{{Key: "grades.$", Value: 81}}}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.ModifiedCount)
	assert.Equal(t, []bson.D{{{Key: "_id", Value: int32(1)}, {Key: "grades", Value: bson.A{int32(81), int32(0), int32(0)}}}}, crudAll(t, coll, bson.D{}))
}

func TestCollection_UpdateOne_Errors(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "s", Value: "str"}})
	_, err := coll.UpdateOne(ctx, bson.D{}, bson.D{{Key: "a", Value: 1}})
	assert.EqualError(t, err, "update document must contain key beginning with '$'")
	_, err = coll.UpdateOne(ctx, bson.D{}, bson.D{})
	assert.EqualError(t, err, "update document must have at least one element")
	_, err = coll.UpdateOne(ctx, bson.D{}, nil)
	assert.ErrorIs(t, err, ErrNilDocument)
	_, err = coll.UpdateOne(ctx, bson.D{}, bson.A{bson.D{{Key: "a", Value: 1}}})
	assert.EqualError(t, err, "update document must contain key beginning with '$'", "each stage is checked like an update document")

	tests := []struct {
		name   string
		update bson.D
		code   int
	}{
		{"unknown operator", bson.D{{Key: "$foo", Value: bson.D{{Key: "a", Value: 1}}}}, 9},
		{"immutable _id", bson.D{{Key: "$set", Value: bson.D{{Key: "_id", Value: 2}}}}, 66},
		{"inc on string", bson.D{{Key: "$inc", Value: bson.D{{Key: "s", Value: 1}}}}, 14},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, tc.update)
			assert.Nil(t, res)
			var we WriteException
			require.ErrorAs(t, err, &we)
			assert.Equal(t, tc.code, we.WriteErrors[0].Code)
		})
	}
}

func TestCollection_UpdateMany_Counts(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "g", Value: 1}, {Key: "v", Value: 1}}, bson.D{{Key: "g", Value: 1}, {Key: "v", Value: 2}}, bson.D{{Key: "g", Value: 1}, {Key: "v", Value: 2}}, bson.D{{Key: "g", Value: 2}})
	res, err := coll.UpdateMany(ctx, bson.D{{Key: "g", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 2}}}})
	require.NoError(t, err)
	assert.Equal(t, &UpdateResult{MatchedCount: 3, ModifiedCount: 1}, res)
	res, err = coll.UpdateMany(ctx, bson.D{{Key: "g", Value: 3}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 2}}}}, options.Update().SetUpsert(true))
	require.NoError(t, err)
	assert.Equal(t, int64(0), res.MatchedCount)
	assert.Equal(t, int64(1), res.UpsertedCount)
	n, err := coll.CountDocuments(ctx, bson.D{{Key: "v", Value: 2}})
	require.NoError(t, err)
	assert.Equal(t, int64(4), n)
}

func TestCollection_UpdateByID_Table(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: 1}})
	res, err := coll.UpdateByID(ctx, "a", bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.ModifiedCount)
	_, err = coll.UpdateByID(ctx, nil, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
	assert.ErrorIs(t, err, ErrNilValue)
}

func TestCollection_ReplaceOne_Table(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: 1}, {Key: "b", Value: 1}})

	res, err := coll.ReplaceOne(ctx, bson.D{{Key: "a", Value: 1}}, bson.D{{Key: "c", Value: 3}})
	require.NoError(t, err)
	assert.Equal(t, &UpdateResult{MatchedCount: 1, ModifiedCount: 1}, res)
	assert.Equal(t, []bson.D{{{Key: "_id", Value: int32(1)}, {Key: "c", Value: int32(3)}}}, crudAll(t, coll, bson.D{}))

	_, err = coll.ReplaceOne(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}})
	assert.EqualError(t, err, "replacement document cannot contain keys beginning with '$'")

	_, err = coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}})
	code, _ := writeErrorCode(t, err)
	assert.Equal(t, 66, code)

	res, err = coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 5}, {Key: "x", Value: 1}}, bson.D{{Key: "y", Value: 2}}, options.Replace().SetUpsert(true))
	require.NoError(t, err)
	assert.Equal(t, &UpdateResult{UpsertedCount: 1, UpsertedID: int32(5)}, res)
	var got bson.D
	require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: 5}}).Decode(&got))
	assert.Equal(t, bson.D{{Key: "_id", Value: int32(5)}, {Key: "y", Value: int32(2)}}, got)

	res, err = coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 5}}, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.ModifiedCount)
	require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: 5}}).Decode(&got))
	assert.Equal(t, bson.D{{Key: "_id", Value: int32(5)}}, got)
}

func TestCollection_DeleteOne_DeleteMany(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "g", Value: 1}}, bson.D{{Key: "_id", Value: 2}, {Key: "g", Value: 1}}, bson.D{{Key: "_id", Value: 3}, {Key: "g", Value: 2}})
	res, err := coll.DeleteOne(ctx, bson.D{{Key: "g", Value: 1}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.DeletedCount)
	assert.Equal(t, []interface{}{int32(2), int32(3)}, crudIDs(crudAll(t, coll, bson.D{})))
	res, err = coll.DeleteOne(ctx, bson.D{{Key: "g", Value: 9}})
	require.NoError(t, err)
	assert.Equal(t, int64(0), res.DeletedCount)
	res, err = coll.DeleteMany(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), res.DeletedCount)
	_, err = coll.DeleteMany(ctx, nil)
	assert.ErrorIs(t, err, ErrNilDocument)
	// The collection still exists, empty.
	names, err := coll.Database().ListCollectionNames(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, []string{"coll"}, names)
}

func TestCollection_FindOneAndUpdate_Table(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 5}}, bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: 1}})
	inc := bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 10}}}}

	var got bson.D
	require.NoError(t, coll.FindOneAndUpdate(ctx, bson.D{}, inc, options.FindOneAndUpdate().SetSort(bson.D{{Key: "n", Value: 1}})).Decode(&got))
	assert.Equal(t, bson.D{{Key: "_id", Value: int32(2)}, {Key: "n", Value: int32(1)}}, got, "before, sorted")

	require.NoError(t, coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 1}}, inc,
		options.FindOneAndUpdate().SetReturnDocument(options.After).SetProjection(bson.D{{Key: "_id", Value: 0}})).Decode(&got))
	assert.Equal(t, bson.D{{Key: "n", Value: int32(15)}}, got, "after, projected")

	sr := coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 9}}, inc)
	assert.ErrorIs(t, sr.Err(), ErrNoDocuments)

	require.NoError(t, coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 9}}, inc,
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&got))
	assert.Equal(t, bson.D{{Key: "_id", Value: int32(9)}, {Key: "n", Value: int32(10)}}, got)

	sr = coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 10}}, inc, options.FindOneAndUpdate().SetUpsert(true))
	assert.ErrorIs(t, sr.Err(), ErrNoDocuments, "an upsert returning the document before has none")
	n, err := coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: 10}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)

	sr = coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "_id", Value: 3}}}})
	var ce CommandError
	require.ErrorAs(t, sr.Err(), &ce)
	assert.Equal(t, int32(66), ce.Code)

	assert.EqualError(t, coll.FindOneAndUpdate(ctx, bson.D{}, bson.D{{Key: "n", Value: 1}}).Err(), "update document must contain key beginning with '$'")
}

func TestCollection_FindOneAndReplace_Table(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 5}})
	var got bson.D
	require.NoError(t, coll.FindOneAndReplace(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "m", Value: 1}}).Decode(&got))
	assert.Equal(t, bson.D{{Key: "_id", Value: int32(1)}, {Key: "n", Value: int32(5)}}, got)
	require.NoError(t, coll.FindOneAndReplace(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "m", Value: 2}}, options.FindOneAndReplace().SetReturnDocument(options.After)).Decode(&got))
	assert.Equal(t, bson.D{{Key: "_id", Value: int32(1)}, {Key: "m", Value: int32(2)}}, got)
	assert.EqualError(t, coll.FindOneAndReplace(ctx, bson.D{}, bson.D{{Key: "$set", Value: 1}}).Err(), "replacement document cannot contain keys beginning with '$'")
}

func TestCollection_FindOneAndDelete_Table(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 5}}, bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: 7}})
	var got bson.D
	require.NoError(t, coll.FindOneAndDelete(ctx, bson.D{}, options.FindOneAndDelete().SetSort(bson.D{{Key: "n", Value: -1}})).Decode(&got))
	assert.Equal(t, bson.D{{Key: "_id", Value: int32(2)}, {Key: "n", Value: int32(7)}}, got)
	assert.Equal(t, []interface{}{int32(1)}, crudIDs(crudAll(t, coll, bson.D{})))
	assert.ErrorIs(t, coll.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: 2}}).Err(), ErrNoDocuments)
}

func TestCollection_Drop_Table(t *testing.T) {
	ctx := context.Background()
	coll := findSeed(t)
	_, err := coll.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "n", Value: 1}}})
	require.NoError(t, err)
	require.NoError(t, coll.Drop(ctx))
	require.NoError(t, coll.Drop(ctx), "dropping a missing collection is not an error")
	assert.Empty(t, crudAll(t, coll, bson.D{}))
	specs, err := coll.Indexes().ListSpecifications(ctx)
	require.NoError(t, err)
	assert.Empty(t, specs)
}

func TestCollection_Unsupported_NamesFeature(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	_, err := coll.Aggregate(ctx, Pipeline{}) // supported since aggregate.go
	assert.NoError(t, err)
	cs, err := coll.Watch(ctx, Pipeline{}) // supported since change_stream.go
	assert.NoError(t, err)
	assert.NoError(t, cs.Close(ctx))
	_, err = coll.SearchIndexes().List(ctx, nil)
	assert.ErrorIs(t, err, ErrNotSupported)
	_, err = coll.Aggregate(ctx, bson.D{{Key: "$match", Value: 1}})
	assert.EqualError(t, err, "primitive.D is not an allowed pipeline type as it represents a single document. Use bson.A or mongo.Pipeline instead")
}

func TestCollection_Clone_KeepsTarget(t *testing.T) {
	ctx := context.Background()
	coll := findSeed(t)
	c2, err := coll.Clone(options.Collection().SetWriteConcern(writeconcern.Majority()))
	require.NoError(t, err)
	assert.Equal(t, "coll", c2.Name())
	assert.Equal(t, "db", c2.Database().Name())
	n, err := c2.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(5), n)
}

func TestCollection_InsertOne_UnacknowledgedWrite(t *testing.T) {
	ctx := context.Background()
	coll := crudClient(t).Database("db").Collection("c", options.Collection().SetWriteConcern(writeconcern.Unacknowledged()))
	res, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	assert.ErrorIs(t, err, ErrUnacknowledgedWrite)
	require.NotNil(t, res)
	n, err := coll.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the write is done")
}

func TestCollection_Disconnected_Errors(t *testing.T) {
	ctx := context.Background()
	c, err := OpenMemory(ctx)
	require.NoError(t, err)
	coll := c.Database("db").Collection("c")
	require.NoError(t, c.Disconnect(ctx))
	_, err = coll.InsertOne(ctx, bson.D{})
	assert.ErrorIs(t, err, ErrClientDisconnected)
	_, err = coll.Find(ctx, bson.D{})
	assert.ErrorIs(t, err, ErrClientDisconnected)
	assert.ErrorIs(t, coll.FindOne(ctx, bson.D{}).Err(), ErrClientDisconnected)
}

func TestCollection_ReadsOwnWrites_Concurrent(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	const writers, perWriter = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter*3)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				id := fmt.Sprintf("%d-%d", w, i)
				if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "w", Value: w}, {Key: "n", Value: 0}}); err != nil {
					errs <- err
					return
				}
				// A read right after the write sees it.
				if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Err(); err != nil {
					errs <- fmt.Errorf("read own insert %s: %w", id, err)
				}
				res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
				if err != nil {
					errs <- err
				} else if res.MatchedCount != 1 || res.ModifiedCount != 1 {
					errs <- fmt.Errorf("update %s: %+v", id, res)
				}
				if _, err := coll.UpdateMany(ctx, bson.D{{Key: "w", Value: w}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "total", Value: 1}}}}); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, err := coll.CountDocuments(ctx, bson.D{{Key: "n", Value: 1}})
	require.NoError(t, err)
	assert.Equal(t, int64(writers*perWriter), n)
	// Document i of a writer saw perWriter-i UpdateMany increments.
	var doc struct {
		Total int32 `bson:"total"`
	}
	require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: "0-0"}}).Decode(&doc))
	assert.Equal(t, int32(perWriter), doc.Total)
}

func TestCollection_InsertOne_TwoClientsOneStore(t *testing.T) {
	ctx := context.Background()
	store := wal.NewMemoryStore()
	a, err := NewClient(ctx, store)
	require.NoError(t, err)
	b, err := NewClient(ctx, wal.Store(nonClosingStore{store}))
	require.NoError(t, err)
	defer func() { _ = b.Disconnect(ctx) }()
	defer func() { _ = a.Disconnect(ctx) }()

	const ids = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := map[int]int{}
	for _, c := range []*Client{a, b} {
		wg.Add(1)
		go func(coll *Collection) {
			defer wg.Done()
			for i := 0; i < ids; i++ {
				_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}})
				switch {
				case err == nil:
					mu.Lock()
					wins[i]++
					mu.Unlock()
				case IsDuplicateKeyError(err):
				default:
					t.Error(err)
				}
			}
		}(c.Database("db").Collection("c"))
	}
	wg.Wait()
	for i := 0; i < ids; i++ {
		assert.Equal(t, 1, wins[i], "_id %d inserted by exactly one client", i)
	}
	for _, c := range []*Client{a, b} {
		n, err := c.Database("db").Collection("c").CountDocuments(ctx, bson.D{})
		require.NoError(t, err)
		assert.Equal(t, int64(ids), n)
	}
}

// nonClosingStore lets two clients share one store: only the first closes
// it.
type nonClosingStore struct{ wal.Store }

func (nonClosingStore) Close() error { return nil }

func TestCollection_Open_ReopenSeesEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := Open(ctx, dir)
	require.NoError(t, err)
	coll := c.Database("db").Collection("c")
	_, err = coll.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	_, err = coll.InsertMany(ctx, []interface{}{bson.D{{Key: "_id", Value: 1}, {Key: "email", Value: "a"}}, bson.D{{Key: "_id", Value: 2}, {Key: "email", Value: "b"}}})
	require.NoError(t, err)
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "email", Value: "c"}}}})
	require.NoError(t, err)
	_, err = coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	require.NoError(t, c.Disconnect(ctx))

	c, err = Open(ctx, dir)
	require.NoError(t, err)
	defer func() { _ = c.Disconnect(ctx) }()
	coll = c.Database("db").Collection("c")
	assert.Equal(t, []bson.D{{{Key: "_id", Value: int32(2)}, {Key: "email", Value: "c"}}}, crudAll(t, coll, bson.D{}))
	_, err = coll.InsertOne(ctx, bson.D{{Key: "email", Value: "c"}})
	assert.True(t, IsDuplicateKeyError(err), "the unique index is rebuilt on reopen: %v", err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "email", Value: "a"}})
	assert.NoError(t, err, "the deleted document's key is free")
}

func TestCollection_UpdateOne_TwoClientsSerializable(t *testing.T) {
	ctx := context.Background()
	store := wal.NewMemoryStore()
	a, err := NewClient(ctx, store)
	require.NoError(t, err)
	b, err := NewClient(ctx, wal.Store(nonClosingStore{store}))
	require.NoError(t, err)
	defer func() { _ = b.Disconnect(ctx) }()
	defer func() { _ = a.Disconnect(ctx) }()

	const perClient = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	upserts := 0
	for _, c := range []*Client{a, b} {
		wg.Add(1)
		go func(coll *Collection) {
			defer wg.Done()
			for i := 0; i < perClient; i++ {
				// Every plan is re-run on the newest state when another
				// writer commits first: counts stay exact.
				res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "counter"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}, options.Update().SetUpsert(true))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				upserts += int(res.UpsertedCount)
				mu.Unlock()
				if res.UpsertedCount+res.ModifiedCount != 1 || res.MatchedCount != res.ModifiedCount {
					t.Errorf("result %+v", res)
				}
			}
		}(c.Database("db").Collection("c"))
	}
	wg.Wait()
	assert.Equal(t, 1, upserts, "exactly one upsert")
	var doc struct {
		N int32 `bson:"n"`
	}
	require.NoError(t, b.Database("db").Collection("c").FindOne(ctx, bson.D{}).Decode(&doc))
	assert.Equal(t, int32(2*perClient), doc.N)
}

func TestCollection_InsertOne_ZeroTimestamps(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	zero := primitive.Timestamp{}
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "ts", Value: zero}, {Key: "sub", Value: bson.D{{Key: "ts", Value: zero}}}})
	require.NoError(t, err)
	bypass := true
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}, {Key: "ts", Value: zero}}, &options.InsertOneOptions{BypassEmptyTsReplacement: &bypass})
	require.NoError(t, err)
	var docs []struct {
		TS  primitive.Timestamp `bson:"ts"`
		Sub struct {
			TS primitive.Timestamp `bson:"ts"`
		} `bson:"sub"`
	}
	cur, err := coll.Find(ctx, bson.D{})
	require.NoError(t, err)
	require.NoError(t, cur.All(ctx, &docs))
	require.Len(t, docs, 2)
	assert.NotZero(t, docs[0].TS.T, "a top-level Timestamp(0, 0) becomes the current time, as on the server")
	assert.True(t, docs[0].Sub.TS.IsZero(), "nested ones are kept")
	assert.True(t, docs[1].TS.IsZero(), "BypassEmptyTsReplacement keeps it")
}

func TestCollection_Find_IndexedEqualityAgreesWithScan(t *testing.T) {
	ctx := context.Background()
	plain := crudColl(t)
	indexed := crudColl(t)
	_, err := indexed.Indexes().CreateMany(ctx, []IndexModel{{Keys: bson.D{{Key: "a", Value: 1}}}, {Keys: bson.D{{Key: "b.c", Value: -1}, {Key: "a", Value: 1}}}})
	require.NoError(t, err)
	docs := []interface{}{
		bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: 1}},
		bson.D{{Key: "_id", Value: 2}, {Key: "a", Value: bson.A{1, 2}}, {Key: "b", Value: bson.D{{Key: "c", Value: "x"}}}},
		bson.D{{Key: "_id", Value: 3}, {Key: "a", Value: 1.0}, {Key: "b", Value: bson.A{bson.D{{Key: "c", Value: "x"}}, bson.D{{Key: "c", Value: "y"}}}}},
		bson.D{{Key: "_id", Value: 4}, {Key: "a", Value: int64(2)}},
		bson.D{{Key: "_id", Value: 5}},
	}
	crudSeed(t, plain, docs...)
	crudSeed(t, indexed, docs...)
	for _, f := range []bson.D{
		{{Key: "a", Value: 1}},
		{{Key: "a", Value: 2}},
		{{Key: "a", Value: bson.D{{Key: "$eq", Value: 1}}}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: 1}}}},
		{{Key: "b.c", Value: "x"}},
		{{Key: "b.c", Value: "y"}, {Key: "a", Value: 1}},
		{{Key: "a", Value: nil}},
		{{Key: "_id", Value: 3}},
	} {
		assert.Equal(t, crudAll(t, plain, f), crudAll(t, indexed, f), "filter %v", f)
	}
}

func TestCollection_UnsupportedQueryFeature_WrapsErrNotSupported(t *testing.T) {
	ctx := context.Background()
	coll := findSeed(t)
	near := bson.D{{Key: "loc", Value: bson.D{{Key: "$near", Value: bson.A{0, 0}}}}}
	_, err := coll.Find(ctx, near)
	assert.ErrorIs(t, err, ErrNotSupported)
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(238), ce.Code)
	_, err = coll.UpdateMany(ctx, near, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}})
	assert.ErrorIs(t, err, ErrNotSupported)
	_, err = coll.DeleteMany(ctx, near)
	assert.ErrorIs(t, err, ErrNotSupported)
	_, err = coll.BulkWrite(ctx, []WriteModel{NewDeleteOneModel().SetFilter(near)})
	assert.ErrorIs(t, err, ErrNotSupported)
	n, err := coll.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(5), n, "nothing was written")
}

func TestCollection_MalformedBSON_NoPanic(t *testing.T) {
	ctx := context.Background()
	coll := findSeed(t)
	good, _ := bson.Marshal(bson.D{{Key: "_id", Value: 9}, {Key: "a", Value: bson.D{{Key: "b", Value: 1}}}})
	inputs := [][]byte{nil, {}, {5, 0, 0, 0}, {5, 0, 0, 0, 1}, {200, 0, 0, 0, 0}, {6, 0, 0, 0, 3, 0}}
	for i := 4; i < len(good); i++ {
		b := append([]byte(nil), good...)
		b[i] ^= 0xff
		inputs = append(inputs, b, good[:i])
	}
	for _, in := range inputs {
		raw := bson.Raw(in)
		assert.NotPanics(t, func() {
			_, _ = coll.InsertOne(ctx, raw)
			_, _ = coll.Find(ctx, raw)
			_, _ = coll.UpdateOne(ctx, raw, raw)
			_, _ = coll.ReplaceOne(ctx, bson.D{}, raw)
			_, _ = coll.DeleteMany(ctx, raw)
			_ = coll.FindOneAndUpdate(ctx, raw, raw).Err()
			_, _ = coll.Find(ctx, bson.D{}, options.Find().SetSort(raw).SetProjection(raw))
			_, _ = coll.Indexes().CreateOne(ctx, IndexModel{Keys: raw})
			_, _ = coll.Distinct(ctx, "a", raw)
		}, "input %x", in)
	}
	// The collection is still readable (some flipped inputs are valid
	// documents and did write).
	_, err := coll.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
}

func TestCollection_Find_IndexedRangeAgreesWithScan(t *testing.T) {
	ctx := context.Background()
	plain := crudColl(t)
	indexed := crudColl(t)
	_, err := indexed.Indexes().CreateMany(ctx, []IndexModel{{Keys: bson.D{{Key: "a", Value: 1}}}, {Keys: bson.D{{Key: "b.c", Value: -1}, {Key: "z", Value: 1}}}})
	require.NoError(t, err)
	r := rand.New(rand.NewSource(7))
	val := func() interface{} {
		switch r.Intn(7) {
		case 0:
			return r.Intn(10)
		case 1:
			return float64(r.Intn(10)) / 2
		case 2:
			return []string{"a", "b", "c"}[r.Intn(3)]
		case 3:
			return bson.A{r.Intn(10), r.Intn(10)}
		case 4:
			return nil
		case 5:
			return primitive.NewDateTimeFromTime(time.Unix(int64(r.Intn(5)), 0))
		}
		return math.NaN()
	}
	var docs []interface{}
	for i := 0; i < 200; i++ {
		d := bson.D{{Key: "_id", Value: i}}
		if r.Intn(5) > 0 {
			d = append(d, bson.E{Key: "a", Value: val()})
		}
		if r.Intn(3) > 0 {
			d = append(d, bson.E{Key: "b", Value: bson.A{bson.D{{Key: "c", Value: val()}}, bson.D{{Key: "c", Value: val()}}}})
		}
		docs = append(docs, d)
	}
	crudSeed(t, plain, docs...)
	crudSeed(t, indexed, docs...)
	for i := 0; i < 300; i++ {
		path := []string{"a", "b.c", "_id"}[r.Intn(3)]
		op := []string{"$gt", "$gte", "$lt", "$lte", "$in"}[r.Intn(5)]
		var arg interface{} = val()
		if op == "$in" {
			arg = bson.A{val(), val()}
		}
		f := bson.D{{Key: path, Value: bson.D{{Key: op, Value: arg}}}}
		want, werr := plain.Find(ctx, f)
		got, gerr := indexed.Find(ctx, f)
		require.Equal(t, werr == nil, gerr == nil, "filter %v", f)
		if werr != nil {
			continue
		}
		var w, g []bson.Raw // bytes: NaN is not equal to itself in Go
		require.NoError(t, want.All(ctx, &w))
		require.NoError(t, got.All(ctx, &g))
		require.Equal(t, w, g, "filter %v", f)
		nw, err := plain.CountDocuments(ctx, f)
		require.NoError(t, err)
		ng, err := indexed.CountDocuments(ctx, f)
		require.NoError(t, err)
		require.Equal(t, nw, ng, "filter %v", f)
	}
}
