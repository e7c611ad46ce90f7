package argon

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/mongo/driver/session"
)

// TestSession_Snapshot follows the driver's snapshot-sessions tests: each
// snapshot session reads every collection at the point its first read saw,
// whatever is written since (by others or through the session's client);
// writes, transactions and the listing commands are refused.
func TestSession_Snapshot(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("c")
	other := c.Database("db").Collection("other")
	_, err := coll.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}, {Key: "x", Value: 11}}, bson.D{{Key: "_id", Value: 2}, {Key: "x", Value: 11}}})
	require.NoError(t, err)
	_, err = other.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	s0, err := c.StartSession(options.Session().SetSnapshot(true))
	require.NoError(t, err)
	defer s0.EndSession(ctx)
	s1, err := c.StartSession(options.Session().SetSnapshot(true))
	require.NoError(t, err)
	defer s1.EndSession(ctx)
	in := func(s Session) context.Context { return NewSessionContext(ctx, s) }
	x := func(ctx context.Context) int32 {
		t.Helper()
		var d bson.M
		require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&d))
		return d["x"].(int32)
	}
	inc := func() {
		t.Helper()
		_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "x", Value: 1}}}})
		require.NoError(t, err)
	}

	assert.Equal(t, int32(11), x(in(s0)))
	inc()
	assert.Equal(t, int32(12), x(in(s1)))
	inc()
	assert.Equal(t, int32(13), x(ctx))
	assert.Equal(t, int32(11), x(in(s0)))
	assert.Equal(t, int32(12), x(in(s1)))

	// Every read kind, and every collection, at the session's point.
	_, err = other.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}})
	require.NoError(t, err)
	n, err := other.CountDocuments(in(s0), bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	vals, err := coll.Distinct(in(s0), "x", bson.D{})
	require.NoError(t, err)
	assert.Equal(t, []any{int32(11)}, vals)
	cur, err := coll.Aggregate(in(s0), Pipeline{{{Key: "$match", Value: bson.D{{Key: "_id", Value: 1}}}}})
	require.NoError(t, err)
	var docs []bson.M
	require.NoError(t, cur.All(ctx, &docs))
	require.Len(t, docs, 1)
	assert.Equal(t, int32(11), docs[0]["x"])
	var reply bson.M
	require.NoError(t, c.Database("db").RunCommand(in(s1), bson.D{{Key: "find", Value: "c"}, {Key: "filter", Value: bson.D{{Key: "_id", Value: 1}}}}).Decode(&reply))
	first := reply["cursor"].(bson.M)["firstBatch"].(bson.A)
	assert.Equal(t, int32(12), first[0].(bson.M)["x"])

	// Concurrent readers of one session see the same point.
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				var d bson.M
				if assert.NoError(t, coll.FindOne(in(s0), bson.D{{Key: "_id", Value: 1}}).Decode(&d)) {
					assert.Equal(t, int32(11), d["x"])
				}
			}
		}()
		inc()
	}
	wg.Wait()

	// Refused: writes, transactions, listings, change streams.
	var ce CommandError
	_, err = coll.InsertOne(in(s0), bson.D{{Key: "_id", Value: 22}})
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(72), ce.Code)
	_, err = coll.UpdateOne(in(s0), bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "x", Value: 1}}}})
	require.ErrorAs(t, err, &ce)
	err = coll.FindOneAndUpdate(in(s0), bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "x", Value: 1}}}}).Err()
	require.ErrorAs(t, err, &ce)
	_, err = coll.DeleteOne(in(s0), bson.D{{Key: "_id", Value: 1}})
	require.ErrorAs(t, err, &ce)
	_, err = c.ListDatabases(in(s0), bson.D{})
	require.ErrorAs(t, err, &ce)
	_, err = c.Database("db").ListCollectionNames(in(s0), bson.D{})
	require.ErrorAs(t, err, &ce)
	_, err = coll.Indexes().List(in(s0))
	require.ErrorAs(t, err, &ce)
	err = c.Database("db").RunCommand(in(s0), bson.D{{Key: "listCollections", Value: 1}}).Err()
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(72), ce.Code)
	_, err = coll.Watch(in(s0), Pipeline{})
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, s0.StartTransaction(), session.ErrSnapshotTransaction)
	assert.Equal(t, int32(11), x(in(s0)), "nothing refused was written")
	assert.Equal(t, int32(17), x(ctx))
}
