package argon

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readpref"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
)

func TestDatabase_Accessors_Table(t *testing.T) {
	c := crudClient(t)
	db := c.Database("shop", options.Database().SetWriteConcern(writeconcern.Majority()))
	assert.Equal(t, "shop", db.Name())
	assert.Same(t, c, db.Client())
	assert.Equal(t, writeconcern.Majority(), db.WriteConcern())
	assert.Equal(t, readpref.Primary().Mode(), db.ReadPreference().Mode())
	assert.Nil(t, db.ReadConcern())
	coll := db.Collection("orders")
	assert.Same(t, db, coll.Database())
}

func TestDatabase_CreateCollection_Table(t *testing.T) {
	ctx := context.Background()
	db := crudClient(t).Database("db")
	require.NoError(t, db.CreateCollection(ctx, "a"))
	require.NoError(t, db.CreateCollection(ctx, "b", options.CreateCollection().SetStorageEngine(bson.D{{Key: "wiredTiger", Value: bson.D{}}})))

	err := db.CreateCollection(ctx, "a")
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(48), ce.Code)
	assert.Equal(t, "NamespaceExists", ce.Name)
	assert.Equal(t, "Collection db.a already exists.", ce.Message)

	err = db.CreateCollection(ctx, "bad$name")
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(73), ce.Code)

	for name, o := range map[string]*options.CreateCollectionOptions{
		"capped":     options.CreateCollection().SetCapped(true).SetSizeInBytes(1024),
		"timeseries": options.CreateCollection().SetTimeSeriesOptions(options.TimeSeries().SetTimeField("t")),
	} {
		err := db.CreateCollection(ctx, "x", o)
		assert.ErrorIs(t, err, ErrNotSupported, name)
	}

	specs, err := db.ListCollectionSpecifications(ctx, bson.D{})
	require.NoError(t, err)
	require.Len(t, specs, 2)
	assert.Equal(t, "a", specs[0].Name)
	assert.Equal(t, "collection", specs[0].Type)
	require.NotNil(t, specs[0].IDIndex)
	assert.Equal(t, "_id_", specs[0].IDIndex.Name)
	assert.Equal(t, "db.a", specs[0].IDIndex.Namespace)
	assert.Equal(t, `{"storageEngine": {"wiredTiger": {}}}`, specs[1].Options.String())
}

func TestDatabase_ListCollectionNames_Table(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	db := c.Database("db")
	for _, name := range []string{"zeta", "alpha", "mid"} {
		_, err := db.Collection(name).InsertOne(ctx, bson.D{})
		require.NoError(t, err)
	}
	_, err := c.Database("other").Collection("x").InsertOne(ctx, bson.D{})
	require.NoError(t, err)

	tests := []struct {
		name   string
		filter interface{}
		want   []string
	}{
		{"all, sorted", bson.D{}, []string{"alpha", "mid", "zeta"}},
		{"by name", bson.D{{Key: "name", Value: "mid"}}, []string{"mid"}},
		{"regex", bson.D{{Key: "name", Value: bson.D{{Key: "$regex", Value: "^[am]"}}}}, []string{"alpha", "mid"}},
		{"by type", bson.D{{Key: "type", Value: "view"}}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			names, err := db.ListCollectionNames(ctx, tc.filter)
			require.NoError(t, err)
			assert.Equal(t, tc.want, names)
		})
	}
	_, err = db.ListCollectionNames(ctx, nil)
	assert.ErrorIs(t, err, ErrNilDocument)

	cur, err := db.ListCollections(ctx, bson.D{{Key: "name", Value: "alpha"}})
	require.NoError(t, err)
	var docs []bson.M
	require.NoError(t, cur.All(ctx, &docs))
	require.Len(t, docs, 1)
	assert.Equal(t, "alpha", docs[0]["name"])
	assert.Equal(t, bson.M{"readOnly": false}, docs[0]["info"])

	names, err := c.ListDatabaseNames(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, []string{"db", "other"}, names)
}

func TestDatabase_Drop_Table(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	db := c.Database("db")
	require.NoError(t, db.Drop(ctx), "dropping a missing database is not an error")
	_, err := db.Collection("a").InsertOne(ctx, bson.D{})
	require.NoError(t, err)
	_, err = c.Database("keep").Collection("a").InsertOne(ctx, bson.D{})
	require.NoError(t, err)
	require.NoError(t, db.Drop(ctx))
	names, err := db.ListCollectionNames(ctx, bson.D{})
	require.NoError(t, err)
	assert.Empty(t, names)
	names, err = c.ListDatabaseNames(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, []string{"keep"}, names)

	err = c.Database("bad.name").Drop(ctx)
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(73), ce.Code)
}

func TestDatabase_Unsupported_NamesFeature(t *testing.T) {
	ctx := context.Background()
	db := crudClient(t).Database("db")
	_, err := db.Aggregate(ctx, Pipeline{})
	assert.ErrorIs(t, err, ErrNotSupported)
	assert.Contains(t, err.Error(), "aggregation")
	assert.ErrorIs(t, db.RunCommand(ctx, bson.D{{Key: "validate", Value: "x"}}).Err(), ErrNotSupported)
	_, err = db.RunCommandCursor(ctx, bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: "x"}}}})
	assert.ErrorIs(t, err, ErrNotSupported)
	assert.ErrorAs(t, db.RunCommand(ctx, bson.M{"a": 1, "b": 2}).Err(), new(ErrMapForOrderedArgument))
	var cs *ChangeStream
	assert.False(t, cs.Next(ctx), "a nil ChangeStream is safe to use")
	assert.NoError(t, cs.Err())
}
