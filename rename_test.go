package argon

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// TestRunCommand_RenameCollection renames through the command the driver
// offers for it: within a database, across databases, over an existing
// target with dropTarget, and every refusal with the server's code. The
// collection keeps its documents, indexes and options, and the past still
// reads under the old name.
func TestRunCommand_RenameCollection(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	admin := c.Database("admin")
	rename := func(from, to string, extra ...bson.E) error {
		return admin.RunCommand(ctx, append(bson.D{{Key: "renameCollection", Value: from}, {Key: "to", Value: to}}, extra...)).Err()
	}
	code := func(err error) int32 {
		t.Helper()
		var ce CommandError
		require.ErrorAs(t, err, &ce)
		return ce.Code
	}
	db := c.Database("shop")
	require.NoError(t, db.CreateCollection(ctx, "orders", options.CreateCollection().SetCollation(&options.Collation{Locale: "en", Strength: 2})))
	orders := db.Collection("orders")
	_, err := orders.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}, {Key: "sku", Value: "a"}}, bson.D{{Key: "_id", Value: 2}, {Key: "sku", Value: "b"}}})
	require.NoError(t, err)
	_, err = orders.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "sku", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	before, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	cs, err := c.Watch(ctx, Pipeline{})
	require.NoError(t, err)
	defer cs.Close(ctx)

	require.NoError(t, rename("shop.orders", "shop.orders2"))
	require.True(t, cs.Next(ctx), "%v", cs.Err())
	var ev bson.M
	require.NoError(t, cs.Decode(&ev))
	assert.Equal(t, "rename", ev["operationType"])
	assert.Equal(t, bson.M{"db": "shop", "coll": "orders"}, ev["ns"])
	assert.Equal(t, bson.M{"db": "shop", "coll": "orders2"}, ev["to"])
	names, err := db.ListCollectionNames(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, []string{"orders2"}, names)
	moved := db.Collection("orders2")
	n, err := moved.CountDocuments(ctx, bson.D{{Key: "sku", Value: "A"}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the default collation moved with it")
	_, err = moved.InsertOne(ctx, bson.D{{Key: "_id", Value: 3}, {Key: "sku", Value: "B"}})
	assert.True(t, IsDuplicateKeyError(err), "the unique index moved with it: %v", err)
	n, err = c.AtLSN(before).Database("shop").Collection("orders").CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), n, "the past still has shop.orders")

	// Across databases, then over an existing target.
	require.NoError(t, rename("shop.orders2", "archive.orders"))
	archived := c.Database("archive").Collection("orders")
	n, err = archived.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	_, err = db.Collection("tmp").InsertOne(ctx, bson.D{{Key: "_id", Value: "x"}})
	require.NoError(t, err)
	assert.Equal(t, int32(48), code(rename("shop.tmp", "archive.orders")))
	require.NoError(t, rename("shop.tmp", "archive.orders", bson.E{Key: "dropTarget", Value: true}))
	var got bson.M
	require.NoError(t, archived.FindOne(ctx, bson.D{}).Decode(&got))
	assert.Equal(t, "x", got["_id"])
	specs, err := archived.Indexes().ListSpecifications(ctx)
	require.NoError(t, err)
	assert.Len(t, specs, 1, "the target's indexes went with it")

	// Refusals.
	assert.Equal(t, int32(13), code(db.RunCommand(ctx, bson.D{{Key: "renameCollection", Value: "archive.orders"}, {Key: "to", Value: "archive.x"}}).Err()))
	assert.Equal(t, int32(26), code(rename("shop.nothing", "shop.x")))
	assert.Equal(t, int32(20), code(rename("archive.orders", "archive.orders")))
	assert.Equal(t, int32(73), code(rename("archive.orders", "archive")))
	assert.Equal(t, int32(73), code(rename("archive.orders", "bad$db.x")))
	require.NoError(t, c.Database("archive").CreateView(ctx, "v", "orders", Pipeline{}))
	assert.Equal(t, int32(166), code(rename("archive.v", "archive.w")))
	err = admin.RunCommand(ctx, bson.D{{Key: "renameCollection", Value: "archive.orders"}}).Err()
	assert.Error(t, err, "no target")
	n, err = archived.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "nothing refused changed anything")
}
