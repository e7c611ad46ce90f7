package argon

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func indexNames(t *testing.T, iv IndexView) []string {
	t.Helper()
	specs, err := iv.ListSpecifications(context.Background())
	require.NoError(t, err)
	var out []string
	for _, s := range specs {
		out = append(out, s.Name)
	}
	return out
}

func TestIndexView_CreateOne_DefaultNames(t *testing.T) {
	ctx := context.Background()
	iv := crudColl(t).Indexes()
	tests := []struct {
		keys interface{}
		want string
	}{
		{bson.D{{Key: "a", Value: 1}}, "a_1"},
		{bson.D{{Key: "a", Value: 1}, {Key: "b", Value: -1}}, "a_1_b_-1"},
		{bson.D{{Key: "x.y", Value: int64(-1)}}, "x.y_-1"},
		{bson.M{"single": 1}, "single_1"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			name, err := iv.CreateOne(ctx, IndexModel{Keys: tc.keys})
			require.NoError(t, err)
			assert.Equal(t, tc.want, name)
		})
	}
	assert.Equal(t, []string{"_id_", "a_1", "a_1_b_-1", "x.y_-1", "single_1"}, indexNames(t, iv))
}

func TestIndexView_CreateOne_ClientErrors(t *testing.T) {
	ctx := context.Background()
	iv := crudColl(t).Indexes()
	_, err := iv.CreateOne(ctx, IndexModel{})
	assert.EqualError(t, err, "index model keys cannot be nil")
	_, err = iv.CreateOne(ctx, IndexModel{Keys: bson.M{"a": 1, "b": 1}})
	assert.ErrorAs(t, err, new(ErrMapForOrderedArgument))
	_, err = iv.CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "a", Value: 1.5}}})
	assert.ErrorIs(t, err, ErrInvalidIndexValue)
	_, err = iv.CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "t", Value: "text"}}})
	assert.ErrorIs(t, err, ErrNotSupported)
	_, err = iv.CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "a", Value: 1}}, Options: options.Index().SetCollation(&options.Collation{Locale: "en", Backwards: true, Strength: 1})})
	var bad CommandError
	require.ErrorAs(t, err, &bad)
	assert.Equal(t, int32(2), bad.Code)
	_, err = iv.CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "a", Value: 0}}, Options: options.Index().SetName("zero")})
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(67), ce.Code)
}

func TestIndexView_List_IDIndexFirst(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	iv := coll.Indexes()
	cur, err := iv.List(ctx)
	require.NoError(t, err)
	require.NotNil(t, cur)
	assert.False(t, cur.Next(ctx), "a missing collection has no indexes")

	_, err = iv.CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "e", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true).SetExpireAfterSeconds(60)})
	require.NoError(t, err)
	cur, err = iv.List(ctx)
	require.NoError(t, err)
	var docs []bson.D
	require.NoError(t, cur.All(ctx, &docs))
	assert.Equal(t, []bson.D{
		{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}},
		{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "e", Value: int32(1)}}}, {Key: "name", Value: "e_1"},
			{Key: "expireAfterSeconds", Value: int32(60)}, {Key: "sparse", Value: true}, {Key: "unique", Value: true}},
	}, docs)

	specs, err := iv.ListSpecifications(ctx)
	require.NoError(t, err)
	require.Len(t, specs, 2)
	assert.Equal(t, "db.coll", specs[1].Namespace)
	assert.Equal(t, int32(2), specs[1].Version)
	require.NotNil(t, specs[1].Unique)
	assert.True(t, *specs[1].Unique)
	require.NotNil(t, specs[1].ExpireAfterSeconds)
	assert.Equal(t, int32(60), *specs[1].ExpireAfterSeconds)
	assert.Nil(t, specs[0].Unique)
}

func TestIndexView_CreateOne_Conflicts(t *testing.T) {
	ctx := context.Background()
	iv := crudColl(t).Indexes()
	_, err := iv.CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "a", Value: 1}}})
	require.NoError(t, err)

	name, err := iv.CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "a", Value: 1}}})
	require.NoError(t, err, "an identical index is a no-op")
	assert.Equal(t, "a_1", name)

	tests := []struct {
		name  string
		model IndexModel
		code  int32
	}{
		{"same name, other key", IndexModel{Keys: bson.D{{Key: "b", Value: 1}}, Options: options.Index().SetName("a_1")}, 86},
		{"same name and key, other options", IndexModel{Keys: bson.D{{Key: "a", Value: 1}}, Options: options.Index().SetUnique(true)}, 85},
		{"same key, other name", IndexModel{Keys: bson.D{{Key: "a", Value: 1}}, Options: options.Index().SetName("other")}, 85},
		{"_id_ name", IndexModel{Keys: bson.D{{Key: "b", Value: 1}}, Options: options.Index().SetName("_id_")}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := iv.CreateOne(ctx, tc.model)
			var ce CommandError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.code, ce.Code, ce.Message)
		})
	}
	assert.Equal(t, []string{"_id_", "a_1"}, indexNames(t, iv))
}

func TestIndexView_CreateOne_UniqueEnforced(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	_, err := coll.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "email", Value: "a@x"}})
	require.NoError(t, err)

	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}, {Key: "email", Value: "a@x"}})
	require.True(t, IsDuplicateKeyError(err))
	code, msg := writeErrorCode(t, err)
	assert.Equal(t, 11000, code)
	assert.Equal(t, `E11000 duplicate key error collection: db.coll index: email_1 dup key: { email: "a@x" }`, msg)

	var we WriteException
	require.ErrorAs(t, err, &we)
	assert.Equal(t, `{"index": {"$numberInt":"0"},"code": {"$numberInt":"11000"},"keyPattern": {"email": {"$numberInt":"1"}},"keyValue": {"email": "a@x"},"errmsg": "E11000 duplicate key error collection: db.coll index: email_1 dup key: { email: \"a@x\" }"}`,
		we.WriteErrors[0].Raw.String(), "the reply carries keyPattern and keyValue, as the server's")

	// findAndModify reports a CommandError with the same details.
	sr := coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "email", Value: "a@x"}}}}, options.FindOneAndUpdate().SetUpsert(true))
	var ce CommandError
	require.ErrorAs(t, sr.Err(), &ce)
	assert.Equal(t, int32(11000), ce.Code)
	assert.Equal(t, "DuplicateKey", ce.Name)
	assert.Equal(t, `{"email": "a@x"}`, ce.Raw.Lookup("keyValue").Document().String())
	assert.True(t, IsDuplicateKeyError(sr.Err()))

	// Missing fields index as null: a second document without email clashes.
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 3}})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 4}})
	_, msg = writeErrorCode(t, err)
	assert.Equal(t, `E11000 duplicate key error collection: db.coll index: email_1 dup key: { email: null }`, msg)

	// Updates are checked too; updating a document to its own key is fine.
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 3}}, bson.D{{Key: "$set", Value: bson.D{{Key: "email", Value: "a@x"}}}})
	assert.True(t, IsDuplicateKeyError(err))
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "email", Value: "a@x"}, {Key: "n", Value: 1}}}})
	assert.NoError(t, err)
	_, err = coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 3}}, bson.D{{Key: "email", Value: "a@x"}})
	assert.True(t, IsDuplicateKeyError(err))

	// Multikey: an array element counts as a key.
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 5}, {Key: "email", Value: bson.A{"b@x", "a@x"}}})
	assert.True(t, IsDuplicateKeyError(err))
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 6}, {Key: "email", Value: bson.A{"c@x", "c@x"}}})
	assert.NoError(t, err, "a document may repeat its own key")

	// Upserts too.
	res, err := coll.UpdateOne(ctx, bson.D{{Key: "email", Value: "c@x"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "z", Value: 1}}}}, options.Update().SetUpsert(true))
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.MatchedCount, "matches document 6")
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "email", Value: "c@x"}, {Key: "_id", Value: 7}}, bson.D{{Key: "$set", Value: bson.D{{Key: "z", Value: 1}}}}, options.Update().SetUpsert(true))
	assert.True(t, IsDuplicateKeyError(err), "inserting {_id: 7, email: c@x} clashes with document 6")
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 8}}, bson.D{{Key: "$set", Value: bson.D{{Key: "email", Value: "c@x"}}}}, options.Update().SetUpsert(true))
	assert.True(t, IsDuplicateKeyError(err))

	// Queries on the indexed field use the index and agree with a scan.
	assert.Equal(t, []interface{}{int32(1)}, crudIDs(crudAll(t, coll, bson.D{{Key: "email", Value: "a@x"}})))
	assert.Equal(t, []interface{}{int32(6)}, crudIDs(crudAll(t, coll, bson.D{{Key: "email", Value: "c@x"}})))
	assert.Equal(t, []interface{}{int32(3)}, crudIDs(crudAll(t, coll, bson.D{{Key: "email", Value: nil}})))
}

func TestIndexView_CreateOne_UniqueVariants(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		model   IndexModel
		docs    []bson.D
		wantDup []bool
	}{
		{
			"compound",
			IndexModel{Keys: bson.D{{Key: "a", Value: 1}, {Key: "b", Value: 1}}, Options: options.Index().SetUnique(true)},
			[]bson.D{{{Key: "a", Value: 1}, {Key: "b", Value: 1}}, {{Key: "a", Value: 1}, {Key: "b", Value: 2}}, {{Key: "a", Value: 1}, {Key: "b", Value: 1.0}}},
			[]bool{false, false, true},
		},
		{
			"sparse",
			IndexModel{Keys: bson.D{{Key: "a", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true)},
			[]bson.D{{{Key: "x", Value: 1}}, {{Key: "x", Value: 2}}, {{Key: "a", Value: nil}}, {{Key: "a", Value: nil}}},
			[]bool{false, false, false, true},
		},
		{
			"partial",
			IndexModel{Keys: bson.D{{Key: "a", Value: 1}}, Options: options.Index().SetUnique(true).SetPartialFilterExpression(bson.D{{Key: "active", Value: true}})},
			[]bson.D{{{Key: "a", Value: 1}, {Key: "active", Value: false}}, {{Key: "a", Value: 1}, {Key: "active", Value: true}}, {{Key: "a", Value: 1}}, {{Key: "a", Value: 1}, {Key: "active", Value: true}}},
			[]bool{false, false, false, true},
		},
		{
			"dotted through arrays",
			IndexModel{Keys: bson.D{{Key: "p.q", Value: 1}}, Options: options.Index().SetUnique(true)},
			[]bson.D{{{Key: "p", Value: bson.A{bson.D{{Key: "q", Value: 1}}, bson.D{{Key: "q", Value: 2}}}}}, {{Key: "p", Value: bson.D{{Key: "q", Value: 2}}}}, {{Key: "p", Value: bson.D{{Key: "q", Value: 3}}}}},
			[]bool{false, true, false},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			coll := crudColl(t)
			_, err := coll.Indexes().CreateOne(ctx, tc.model)
			require.NoError(t, err)
			for i, d := range tc.docs {
				_, err := coll.InsertOne(ctx, d)
				assert.Equal(t, tc.wantDup[i], IsDuplicateKeyError(err), "doc %d: %v", i, err)
				if !tc.wantDup[i] {
					assert.NoError(t, err)
				}
			}
		})
	}
}

func TestIndexView_CreateOne_OverDuplicates(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: 1}}, bson.D{{Key: "_id", Value: 2}, {Key: "a", Value: 1}})
	_, err := coll.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "a", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.True(t, IsDuplicateKeyError(err), "%v", err)
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "E11000 duplicate key error collection: db.coll index: a_1 dup key: { a: 1 }", ce.Message)
	assert.Equal(t, []string{"_id_"}, indexNames(t, coll.Indexes()), "nothing was created")

	_, err = coll.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "a", Value: 1}, {Key: "b", Value: 1}}})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "a", Value: bson.A{1}}, {Key: "b", Value: bson.A{2}}})
	require.ErrorAs(t, err, new(WriteException))
	code, _ := writeErrorCode(t, err)
	assert.Equal(t, 171, code, "cannot index parallel arrays")
}

func TestIndexView_CreateMany_AllOrNothing(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	names, err := coll.Indexes().CreateMany(ctx, []IndexModel{{Keys: bson.D{{Key: "a", Value: 1}}}, {Keys: bson.D{{Key: "b", Value: -1}}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"a_1", "b_-1"}, names)
	_, err = coll.Indexes().CreateMany(ctx, []IndexModel{{Keys: bson.D{{Key: "c", Value: 1}}}, {Keys: bson.D{{Key: "d", Value: 1}}, Options: options.Index().SetName("a_1")}})
	require.Error(t, err)
	assert.Equal(t, []string{"_id_", "a_1", "b_-1"}, indexNames(t, coll.Indexes()))
}

func TestIndexView_DropOne_Table(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	iv := coll.Indexes()
	_, err := iv.DropOne(ctx, "a_1")
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(26), ce.Code, "missing collection")

	_, err = iv.CreateMany(ctx, []IndexModel{{Keys: bson.D{{Key: "a", Value: 1}}}, {Keys: bson.D{{Key: "b", Value: 1}}}, {Keys: bson.D{{Key: "c", Value: 1}}}})
	require.NoError(t, err)

	_, err = iv.DropOne(ctx, "*")
	assert.ErrorIs(t, err, ErrMultipleIndexDrop)
	_, err = iv.DropOne(ctx, "_id_")
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(72), ce.Code)
	_, err = iv.DropOne(ctx, "nope")
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(27), ce.Code)
	assert.Equal(t, "index not found with name [nope]", ce.Message)

	res, err := iv.DropOne(ctx, "a_1")
	require.NoError(t, err)
	assert.Equal(t, int32(4), res.Lookup("nIndexesWas").Int32())
	res, err = iv.DropOneWithKey(ctx, bson.D{{Key: "b", Value: 1}})
	require.NoError(t, err)
	assert.Equal(t, int32(3), res.Lookup("nIndexesWas").Int32())
	_, err = iv.DropOneWithKey(ctx, bson.D{{Key: "b", Value: 1}})
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(27), ce.Code)
	assert.Equal(t, "can't find index with key: { b: 1 }", ce.Message)
	assert.Equal(t, []string{"_id_", "c_1"}, indexNames(t, iv))

	res, err = iv.DropAll(ctx)
	require.NoError(t, err)
	assert.Equal(t, int32(2), res.Lookup("nIndexesWas").Int32())
	assert.Equal(t, []string{"_id_"}, indexNames(t, iv))
}

func TestIndexView_DropOne_FreesUniqueKeys(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	_, err := coll.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "a", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	crudSeed(t, coll, bson.D{{Key: "a", Value: 1}})
	_, err = coll.InsertOne(ctx, bson.D{{Key: "a", Value: 1}})
	require.True(t, IsDuplicateKeyError(err))
	_, err = coll.Indexes().DropOne(ctx, "a_1")
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "a", Value: 1}})
	assert.NoError(t, err)
}

func TestIndexView_CreateOne_TooMany(t *testing.T) {
	ctx := context.Background()
	iv := crudColl(t).Indexes()
	models := make([]IndexModel, 0, maxIndexes-1)
	for i := 0; i < maxIndexes-1; i++ {
		models = append(models, IndexModel{Keys: bson.D{{Key: fmt.Sprintf("f%d", i), Value: 1}}})
	}
	_, err := iv.CreateMany(ctx, models)
	require.NoError(t, err, "64 indexes with _id_")
	_, err = iv.CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "one_more", Value: 1}}})
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(67), ce.Code)
	assert.Equal(t, "add index fails, too many indexes for db.coll key:{ one_more: 1 }", ce.Message)
}
