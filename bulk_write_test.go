package argon

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func TestCollection_BulkWrite_OrderedMixed(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 1}}, bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: 1}})
	models := []WriteModel{
		NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 3}, {Key: "n", Value: 1}}),
		NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 3}}).SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}),
		NewUpdateManyModel().SetFilter(bson.D{{Key: "n", Value: 1}}).SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 1}}}}),
		NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: 9}}).SetReplacement(bson.D{{Key: "r", Value: true}}).SetUpsert(true),
		NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: "u"}}).SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 0}}}}).SetUpsert(true),
		NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: 1}}),
		NewDeleteManyModel().SetFilter(bson.D{{Key: "n", Value: 1}}),
	}
	res, err := coll.BulkWrite(ctx, models)
	require.NoError(t, err)
	assert.Equal(t, &BulkWriteResult{
		InsertedCount: 1,
		MatchedCount:  3, // updateOne 1, updateMany 2 (documents 1 and 2; 3 has n: 2), no-op: modified 0
		ModifiedCount: 1,
		DeletedCount:  2, // _id 1, then _id 2
		UpsertedCount: 2,
		UpsertedIDs:   map[int64]interface{}{3: int32(9), 4: "u"},
	}, res)
	assert.Equal(t, []interface{}{int32(3), int32(9), "u"}, crudIDs(crudAll(t, coll, bson.D{})))
}

func TestCollection_BulkWrite_OrderedStops(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}})
	models := []WriteModel{
		NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 2}}),
		NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 1}}),
		NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: 2}}),
	}
	res, err := coll.BulkWrite(ctx, models)
	var bwe BulkWriteException
	require.ErrorAs(t, err, &bwe)
	require.Len(t, bwe.WriteErrors, 1)
	assert.Equal(t, 1, bwe.WriteErrors[0].Index)
	assert.Equal(t, 11000, bwe.WriteErrors[0].Code)
	assert.Same(t, models[1], bwe.WriteErrors[0].Request)
	assert.True(t, IsDuplicateKeyError(err))
	require.NotNil(t, res)
	assert.Equal(t, int64(1), res.InsertedCount)
	assert.Equal(t, int64(0), res.DeletedCount)
	assert.Equal(t, []interface{}{int32(1), int32(2)}, crudIDs(crudAll(t, coll, bson.D{})))
}

func TestCollection_BulkWrite_Unordered(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "s", Value: "x"}})
	models := []WriteModel{
		NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: 5}}),                                                                       // runs last: deletes the insert below
		NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 1}}).SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "s", Value: 1}}}}), // fails
		NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 1}}),                                                                     // fails
		NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 5}}),
	}
	res, err := coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	var bwe BulkWriteException
	require.ErrorAs(t, err, &bwe)
	require.Len(t, bwe.WriteErrors, 2)
	// As the driver: inserts run first, then updates, then deletes.
	assert.Equal(t, 2, bwe.WriteErrors[0].Index)
	assert.Equal(t, 11000, bwe.WriteErrors[0].Code)
	assert.Equal(t, 1, bwe.WriteErrors[1].Index)
	assert.Equal(t, 14, bwe.WriteErrors[1].Code)
	assert.Equal(t, int64(1), res.InsertedCount)
	assert.Equal(t, int64(1), res.DeletedCount)
	assert.Equal(t, []interface{}{int32(1)}, crudIDs(crudAll(t, coll, bson.D{})))
}

func TestCollection_BulkWrite_ClientErrors(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	_, err := coll.BulkWrite(ctx, nil)
	assert.ErrorIs(t, err, ErrEmptySlice)
	_, err = coll.BulkWrite(ctx, []WriteModel{NewInsertOneModel().SetDocument(bson.D{}), nil})
	assert.ErrorIs(t, err, ErrNilDocument)

	// A model the driver cannot marshal fails its batch before anything in
	// it runs; earlier batches stay written.
	res, err := coll.BulkWrite(ctx, []WriteModel{
		NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 1}}),
		NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: 1}}),
		NewDeleteOneModel().SetFilter(nil),
	})
	assert.ErrorIs(t, err, ErrNilDocument)
	require.NotNil(t, res)
	assert.Equal(t, int64(1), res.InsertedCount)
	assert.Equal(t, int64(0), res.DeletedCount)

	_, err = coll.BulkWrite(ctx, []WriteModel{NewUpdateOneModel().SetFilter(bson.D{}).SetUpdate(bson.D{{Key: "a", Value: 1}})})
	assert.EqualError(t, err, "update document must contain key beginning with '$'")
}

func TestCollection_BulkWrite_SeesEarlierModels(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	_, err := coll.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "k", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	res, err := coll.BulkWrite(ctx, []WriteModel{
		NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 1}, {Key: "k", Value: "a"}}),
		NewUpdateOneModel().SetFilter(bson.D{{Key: "k", Value: "a"}}).SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "k", Value: "b"}}}}),
		NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 2}, {Key: "k", Value: "a"}}),
		NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 3}, {Key: "k", Value: "b"}}),
	})
	var bwe BulkWriteException
	require.ErrorAs(t, err, &bwe)
	assert.Equal(t, 3, bwe.WriteErrors[0].Index)
	assert.Equal(t, `E11000 duplicate key error collection: db.coll index: k_1 dup key: { k: "b" }`, bwe.WriteErrors[0].Message)
	assert.Equal(t, int64(2), res.InsertedCount)
	assert.Equal(t, int64(1), res.ModifiedCount)
}
