package argon

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// letSeed returns a collection with {_id: 1}, {_id: 2, name: "name"},
// {_id: 3, name: "name"}.
func letSeed(t *testing.T) *Collection {
	t.Helper()
	coll := crudColl(t)
	crudSeed(t, coll,
		bson.D{{Key: "_id", Value: 1}},
		bson.D{{Key: "_id", Value: 2}, {Key: "name", Value: "name"}},
		bson.D{{Key: "_id", Value: 3}, {Key: "name", Value: "name"}})
	return coll
}

var (
	exprIDIs   = bson.D{{Key: "$expr", Value: bson.D{{Key: "$eq", Value: bson.A{"$_id", "$$id"}}}}}
	exprNameIs = bson.D{{Key: "$expr", Value: bson.D{{Key: "$eq", Value: bson.A{"$name", "$$name"}}}}}
	letID1     = bson.D{{Key: "id", Value: 1}}
)

func TestCollection_Let_Operations(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, c *Collection)
		want []bson.D // the collection afterwards
	}{
		{"Find", func(t *testing.T, c *Collection) {
			got := crudAll(t, c, exprIDIs, options.Find().SetLet(letID1))
			assert.Equal(t, []interface{}{int32(1)}, crudIDs(got))
			got = crudAll(t, c, bson.D{}, options.Find().SetLet(bson.M{"x": "foo"}).SetProjection(bson.D{{Key: "x", Value: "$$x"}}))
			assert.Equal(t, bson.D{{Key: "_id", Value: int32(1)}, {Key: "x", Value: "foo"}}, got[0], "projections read let too")
		}, nil},
		{"DeleteOne", func(t *testing.T, c *Collection) {
			res, err := c.DeleteOne(ctx, exprIDIs, options.Delete().SetLet(letID1))
			require.NoError(t, err)
			assert.Equal(t, int64(1), res.DeletedCount)
		}, []bson.D{{{Key: "_id", Value: int32(2)}, {Key: "name", Value: "name"}}, {{Key: "_id", Value: int32(3)}, {Key: "name", Value: "name"}}}},
		{"DeleteMany", func(t *testing.T, c *Collection) {
			res, err := c.DeleteMany(ctx, exprNameIs, options.Delete().SetLet(bson.M{"name": "name"}))
			require.NoError(t, err)
			assert.Equal(t, int64(2), res.DeletedCount)
		}, []bson.D{{{Key: "_id", Value: int32(1)}}}},
		{"UpdateMany", func(t *testing.T, c *Collection) {
			res, err := c.UpdateMany(ctx, exprNameIs,
				Pipeline{{{Key: "$set", Value: bson.D{{Key: "x", Value: "$$x"}, {Key: "y", Value: "$$y"}}}}},
				options.Update().SetLet(bson.D{{Key: "name", Value: "name"}, {Key: "x", Value: "foo"}, {Key: "y", Value: bson.D{{Key: "$literal", Value: "bar"}}}}))
			require.NoError(t, err)
			assert.Equal(t, int64(2), res.MatchedCount)
			assert.Equal(t, int64(2), res.ModifiedCount)
		}, []bson.D{
			{{Key: "_id", Value: int32(1)}},
			{{Key: "_id", Value: int32(2)}, {Key: "name", Value: "name"}, {Key: "x", Value: "foo"}, {Key: "y", Value: "bar"}},
			{{Key: "_id", Value: int32(3)}, {Key: "name", Value: "name"}, {Key: "x", Value: "foo"}, {Key: "y", Value: "bar"}},
		}},
		{"UpdateOneOperators", func(t *testing.T, c *Collection) {
			res, err := c.UpdateOne(ctx, exprIDIs, bson.D{{Key: "$set", Value: bson.D{{Key: "z", Value: 1}}}}, options.Update().SetLet(letID1))
			require.NoError(t, err)
			assert.Equal(t, int64(1), res.ModifiedCount)
		}, []bson.D{
			{{Key: "_id", Value: int32(1)}, {Key: "z", Value: int32(1)}},
			{{Key: "_id", Value: int32(2)}, {Key: "name", Value: "name"}},
			{{Key: "_id", Value: int32(3)}, {Key: "name", Value: "name"}},
		}},
		{"ReplaceOne", func(t *testing.T, c *Collection) {
			res, err := c.ReplaceOne(ctx, exprIDIs, bson.D{{Key: "x", Value: "foo"}}, options.Replace().SetLet(letID1))
			require.NoError(t, err)
			assert.Equal(t, int64(1), res.ModifiedCount)
		}, []bson.D{
			{{Key: "_id", Value: int32(1)}, {Key: "x", Value: "foo"}},
			{{Key: "_id", Value: int32(2)}, {Key: "name", Value: "name"}},
			{{Key: "_id", Value: int32(3)}, {Key: "name", Value: "name"}},
		}},
		{"FindOneAndDelete", func(t *testing.T, c *Collection) {
			var d bson.D
			require.NoError(t, c.FindOneAndDelete(ctx, exprIDIs, options.FindOneAndDelete().SetLet(letID1)).Decode(&d))
			assert.Equal(t, bson.D{{Key: "_id", Value: int32(1)}}, d)
		}, []bson.D{{{Key: "_id", Value: int32(2)}, {Key: "name", Value: "name"}}, {{Key: "_id", Value: int32(3)}, {Key: "name", Value: "name"}}}},
		{"FindOneAndReplace", func(t *testing.T, c *Collection) {
			var d bson.D
			require.NoError(t, c.FindOneAndReplace(ctx, exprIDIs, bson.D{{Key: "x", Value: "x"}},
				options.FindOneAndReplace().SetLet(letID1).SetReturnDocument(options.After)).Decode(&d))
			assert.Equal(t, bson.D{{Key: "_id", Value: int32(1)}, {Key: "x", Value: "x"}}, d)
		}, []bson.D{
			{{Key: "_id", Value: int32(1)}, {Key: "x", Value: "x"}},
			{{Key: "_id", Value: int32(2)}, {Key: "name", Value: "name"}},
			{{Key: "_id", Value: int32(3)}, {Key: "name", Value: "name"}},
		}},
		{"FindOneAndUpdate", func(t *testing.T, c *Collection) {
			var d bson.D
			require.NoError(t, c.FindOneAndUpdate(ctx, exprIDIs, Pipeline{{{Key: "$set", Value: bson.D{{Key: "x", Value: "$$x"}}}}},
				options.FindOneAndUpdate().SetLet(bson.D{{Key: "id", Value: 1}, {Key: "x", Value: "foo"}})).Decode(&d))
			assert.Equal(t, bson.D{{Key: "_id", Value: int32(1)}}, d, "the document before")
		}, []bson.D{
			{{Key: "_id", Value: int32(1)}, {Key: "x", Value: "foo"}},
			{{Key: "_id", Value: int32(2)}, {Key: "name", Value: "name"}},
			{{Key: "_id", Value: int32(3)}, {Key: "name", Value: "name"}},
		}},
		{"BulkWrite", func(t *testing.T, c *Collection) {
			res, err := c.BulkWrite(ctx, []WriteModel{
				NewUpdateOneModel().SetFilter(exprIDIs).SetUpdate(Pipeline{{{Key: "$set", Value: bson.D{{Key: "x", Value: "$$x"}}}}}),
				NewDeleteManyModel().SetFilter(exprNameIs),
			}, options.BulkWrite().SetLet(bson.D{{Key: "id", Value: 1}, {Key: "x", Value: 22}, {Key: "name", Value: "name"}}))
			require.NoError(t, err)
			assert.Equal(t, int64(1), res.ModifiedCount)
			assert.Equal(t, int64(2), res.DeletedCount)
		}, []bson.D{{{Key: "_id", Value: int32(1)}, {Key: "x", Value: int32(22)}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			coll := letSeed(t)
			tc.run(t, coll)
			if tc.want != nil {
				assert.Equal(t, tc.want, crudAll(t, coll, bson.D{}))
			}
		})
	}
}

func TestCollection_Let_Errors(t *testing.T) {
	ctx := context.Background()
	coll := letSeed(t)
	badName := bson.D{{Key: "Bad", Value: 1}}
	const badNameMsg = "Invalid 'let' parameter :: caused by :: 'Bad' starts with an invalid character for a user variable name"

	// Without let, $$id is undefined: the server's 17276.
	_, err := coll.Find(ctx, exprIDIs)
	code, msg := writeErrorCode(t, err)
	assert.Equal(t, 17276, code)
	assert.Equal(t, "Use of undefined variable: id", msg)

	// find and findAndModify fail as commands.
	_, err = coll.Find(ctx, exprIDIs, options.Find().SetLet(badName))
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(9), ce.Code)
	assert.Equal(t, badNameMsg, ce.Message)
	err = coll.FindOneAndDelete(ctx, bson.D{}, options.FindOneAndDelete().SetLet(badName)).Err()
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(9), ce.Code)

	// update and delete statements fail with a write error, as on mongod.
	_, err = coll.DeleteOne(ctx, bson.D{}, options.Delete().SetLet(badName))
	var we WriteException
	require.ErrorAs(t, err, &we)
	assert.Equal(t, 9, we.WriteErrors[0].Code)
	assert.Equal(t, badNameMsg, we.WriteErrors[0].Message)
	_, err = coll.UpdateOne(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}},
		options.Update().SetLet(bson.D{{Key: "x", Value: "$a"}}))
	code, _ = writeErrorCode(t, err)
	assert.Equal(t, 4890500, code, "let may not read a field")

	// A let that is not a document fails in the client, as in the driver.
	_, err = coll.DeleteOne(ctx, bson.D{}, options.Delete().SetLet(5))
	require.Error(t, err)
	assert.False(t, errorsAsServer(err))

	n, err := coll.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(3), n, "nothing was written")

	// As the driver: inserts take no let, so a bulk's insert batch runs
	// before the batch that needs the let fails to marshal it.
	_, err = coll.BulkWrite(ctx, []WriteModel{
		NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 9}}),
		NewDeleteOneModel().SetFilter(bson.D{}),
	}, options.BulkWrite().SetLet(5))
	require.Error(t, err)
	assert.False(t, errorsAsServer(err))
	assert.Equal(t, []interface{}{int32(1), int32(2), int32(3), int32(9)}, crudIDs(crudAll(t, coll, bson.D{})))
}

// errorsAsServer reports whether err is a server-shaped error.
func errorsAsServer(err error) bool {
	var ce CommandError
	var we WriteException
	return errors.As(err, &ce) || errors.As(err, &we)
}

func TestCollection_UpdateOne_Pipeline(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll,
		bson.D{{Key: "_id", Value: 1}, {Key: "t", Value: bson.D{{Key: "u", Value: bson.D{{Key: "v", Value: 1}}}}}},
		bson.D{{Key: "_id", Value: 2}, {Key: "x", Value: 2}, {Key: "y", Value: 1}})
	res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, Pipeline{
		{{Key: "$replaceRoot", Value: bson.D{{Key: "newRoot", Value: "$t"}}}},
		{{Key: "$addFields", Value: bson.D{{Key: "foo", Value: 1}}}},
	})
	require.NoError(t, err)
	assert.Equal(t, &UpdateResult{MatchedCount: 1, ModifiedCount: 1}, res)
	res, err = coll.UpdateMany(ctx, bson.D{}, bson.A{bson.D{{Key: "$set", Value: bson.D{{Key: "foo", Value: 1}}}}})
	require.NoError(t, err)
	assert.Equal(t, &UpdateResult{MatchedCount: 2, ModifiedCount: 1}, res, "the first document already has foo: 1")
	assert.Equal(t, []bson.D{
		{{Key: "_id", Value: int32(1)}, {Key: "u", Value: bson.D{{Key: "v", Value: int32(1)}}}, {Key: "foo", Value: int32(1)}},
		{{Key: "_id", Value: int32(2)}, {Key: "x", Value: int32(2)}, {Key: "y", Value: int32(1)}, {Key: "foo", Value: int32(1)}},
	}, crudAll(t, coll, bson.D{}))
}

func TestCollection_UpdateOne_PipelineUpsert(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 7}, {Key: "k", Value: "a"}},
		Pipeline{{{Key: "$set", Value: bson.D{{Key: "n", Value: bson.D{{Key: "$add", Value: bson.A{"$_id", 1}}}}}}}},
		options.Update().SetUpsert(true))
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.UpsertedCount)
	assert.Equal(t, int32(7), res.UpsertedID)
	assert.Equal(t, []bson.D{{{Key: "_id", Value: int32(7)}, {Key: "k", Value: "a"}, {Key: "n", Value: int32(8)}}}, crudAll(t, coll, bson.D{}))
}

func TestCollection_UpdateOne_PipelineErrors(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: "x"}})
	tests := []struct {
		name   string
		update interface{}
		opts   *options.UpdateOptions
		code   int
		msg    string
	}{
		{"NotAllowedStage", Pipeline{{{Key: "$match", Value: bson.D{}}}}, nil, 72, "$match is not allowed to be used within an update"},
		{"UnknownStage", Pipeline{{{Key: "$foo", Value: 1}}}, nil, 40324, "Unrecognized pipeline stage name: '$foo'"},
		{"ArrayFilters", Pipeline{{{Key: "$set", Value: bson.D{{Key: "b", Value: 1}}}}},
			options.Update().SetArrayFilters(options.ArrayFilters{Filters: []interface{}{bson.D{{Key: "i", Value: 1}}}}), 9,
			"arrayFilters may not be specified for pipeline-style updates"},
		{"ImmutableID", Pipeline{{{Key: "$set", Value: bson.D{{Key: "_id", Value: 2}}}}}, nil, 66, ""},
		{"RuntimeError", Pipeline{{{Key: "$set", Value: bson.D{{Key: "b", Value: bson.D{{Key: "$add", Value: bson.A{"$a", 1}}}}}}}}, nil, 14, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := []*options.UpdateOptions{}
			if tc.opts != nil {
				opts = append(opts, tc.opts)
			}
			_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, tc.update, opts...)
			var we WriteException
			require.ErrorAs(t, err, &we)
			assert.Equal(t, tc.code, we.WriteErrors[0].Code)
			if tc.msg != "" {
				assert.Equal(t, tc.msg, we.WriteErrors[0].Message)
			}
		})
	}
	assert.Equal(t, []bson.D{{{Key: "_id", Value: int32(1)}, {Key: "a", Value: "x"}}}, crudAll(t, coll, bson.D{}), "nothing was written")
}

func TestCollection_FindOneAndUpdate_Pipeline(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "foo", Value: bson.D{}}})
	var d bson.D
	err := coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 1}}, Pipeline{{{Key: "$replaceWith", Value: bson.D{{Key: "$setField", Value: bson.D{
		{Key: "field", Value: bson.D{{Key: "$literal", Value: "$a"}}}, {Key: "value", Value: 1}, {Key: "input", Value: "$$ROOT"},
	}}}}}}, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	require.NoError(t, err)
	assert.Equal(t, bson.D{{Key: "_id", Value: int32(1)}, {Key: "foo", Value: bson.D{}}, {Key: "$a", Value: int32(1)}}, d)
}
