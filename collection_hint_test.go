package argon

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
)

// unackHintMsg is the driver's errUnacknowledgedHint (x/mongo/driver/operation).
const unackHintMsg = "the 'hint' command parameter cannot be used with unacknowledged writes"

// hintSeed returns a collection with documents {_id: 1..3, x: 11..33} and
// its twin handle with write concern w: 0.
func hintSeed(t *testing.T) (acked, unacked *Collection) {
	t.Helper()
	acked = crudColl(t)
	crudSeed(t, acked,
		bson.D{{Key: "_id", Value: 1}, {Key: "x", Value: 11}},
		bson.D{{Key: "_id", Value: 2}, {Key: "x", Value: 22}},
		bson.D{{Key: "_id", Value: 3}, {Key: "x", Value: 33}})
	_, err := acked.Indexes().CreateOne(context.Background(), IndexModel{Keys: bson.D{{Key: "x", Value: 1}}})
	require.NoError(t, err)
	unacked, err = acked.Clone(options.Collection().SetWriteConcern(writeconcern.Unacknowledged()))
	require.NoError(t, err)
	return acked, unacked
}

func TestCollection_Writes_UnacknowledgedHint(t *testing.T) {
	ctx := context.Background()
	gt := bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: 1}}}}
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 0}}}}
	repl := bson.D{{Key: "x", Value: 0}}
	for _, hint := range []interface{}{"_id_", bson.D{{Key: "x", Value: 1}}} {
		tests := []struct {
			name string
			run  func(c *Collection) error
		}{
			{"DeleteOne", func(c *Collection) error {
				_, err := c.DeleteOne(ctx, gt, options.Delete().SetHint(hint))
				return err
			}},
			{"DeleteMany", func(c *Collection) error {
				_, err := c.DeleteMany(ctx, gt, options.Delete().SetHint(hint))
				return err
			}},
			{"UpdateOne", func(c *Collection) error {
				_, err := c.UpdateOne(ctx, gt, set, options.Update().SetHint(hint))
				return err
			}},
			{"UpdateMany", func(c *Collection) error {
				_, err := c.UpdateMany(ctx, gt, set, options.Update().SetHint(hint))
				return err
			}},
			{"UpdateManyPipeline", func(c *Collection) error {
				_, err := c.UpdateMany(ctx, gt, Pipeline{set}, options.Update().SetHint(hint))
				return err
			}},
			{"ReplaceOne", func(c *Collection) error {
				_, err := c.ReplaceOne(ctx, gt, repl, options.Replace().SetHint(hint))
				return err
			}},
			{"FindOneAndDelete", func(c *Collection) error {
				return c.FindOneAndDelete(ctx, gt, options.FindOneAndDelete().SetHint(hint)).Err()
			}},
			{"FindOneAndReplace", func(c *Collection) error {
				return c.FindOneAndReplace(ctx, gt, repl, options.FindOneAndReplace().SetHint(hint)).Err()
			}},
			{"FindOneAndUpdate", func(c *Collection) error {
				return c.FindOneAndUpdate(ctx, gt, set, options.FindOneAndUpdate().SetHint(hint)).Err()
			}},
			{"BulkWriteDeletes", func(c *Collection) error {
				_, err := c.BulkWrite(ctx, []WriteModel{
					NewDeleteOneModel().SetFilter(gt),
					NewDeleteOneModel().SetFilter(gt).SetHint(hint), // one batch: nothing of it is sent
				})
				return err
			}},
			{"BulkWriteUpdates", func(c *Collection) error {
				_, err := c.BulkWrite(ctx, []WriteModel{
					NewUpdateOneModel().SetFilter(gt).SetUpdate(set).SetHint(hint),
					NewReplaceOneModel().SetFilter(gt).SetReplacement(repl),
				})
				return err
			}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				acked, unacked := hintSeed(t)
				before := crudAll(t, acked, bson.D{})
				err := tc.run(unacked)
				require.Error(t, err)
				assert.EqualError(t, err, unackHintMsg, "a client-side error, before anything is written")
				assert.NotErrorIs(t, err, ErrUnacknowledgedWrite)
				assert.Equal(t, before, crudAll(t, acked, bson.D{}), "nothing was written")
				// The same operation with an acknowledged write concern runs.
				require.NoError(t, tc.run(acked))
			})
		}
	}
}

func TestCollection_Writes_UnacknowledgedWithoutHint(t *testing.T) {
	ctx := context.Background()
	acked, unacked := hintSeed(t)
	_, err := unacked.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}})
	assert.ErrorIs(t, err, ErrUnacknowledgedWrite, "no hint: the write runs and reports w: 0")
	n, err := acked.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
}

func TestCollection_BulkWrite_UnacknowledgedHintAfterEarlierBatch(t *testing.T) {
	ctx := context.Background()
	acked, unacked := hintSeed(t)
	// As the driver: the insert batch is sent before the delete batch is
	// built, so it is written; the hinted delete batch is refused.
	_, err := unacked.BulkWrite(ctx, []WriteModel{
		NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 4}}),
		NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: 1}}).SetHint("_id_"),
	})
	assert.EqualError(t, err, unackHintMsg)
	assert.Equal(t, []interface{}{int32(1), int32(2), int32(3), int32(4)}, crudIDs(crudAll(t, acked, bson.D{})))
}

func TestCollection_BulkWrite_MarshalErrorBeforeUnacknowledgedHint(t *testing.T) {
	ctx := context.Background()
	_, unacked := hintSeed(t)
	// Every model of a batch is marshaled before the command checks the
	// hint, so the second model's bad filter is reported.
	_, err := unacked.BulkWrite(ctx, []WriteModel{
		NewDeleteOneModel().SetFilter(bson.D{}).SetHint("_id_"),
		NewDeleteOneModel().SetFilter(bson.M{"a": 1, "b": 2}).SetHint(bson.M{"x": 1, "y": 1}),
	})
	require.Error(t, err)
	assert.NotEqual(t, unackHintMsg, err.Error())
}

func TestCollection_FindOneAndUpdate_UnacknowledgedHintBeforeServerError(t *testing.T) {
	ctx := context.Background()
	_, unacked := hintSeed(t)
	bad := bson.D{{Key: "$foo", Value: bson.D{{Key: "x", Value: 1}}}} // a server-side error
	err := unacked.FindOneAndUpdate(ctx, bson.D{}, bad, options.FindOneAndUpdate().SetHint("_id_")).Err()
	assert.EqualError(t, err, unackHintMsg)
	_, err = unacked.UpdateOne(ctx, bson.D{}, bad, options.Update().SetHint("_id_"))
	assert.EqualError(t, err, unackHintMsg)
}
