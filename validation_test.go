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

var peopleSchema = bson.M{"$jsonSchema": bson.M{
	"required":   bson.A{"name"},
	"properties": bson.M{"age": bson.M{"bsonType": "int", "minimum": 0}},
}}

// validatedColl returns a collection created with peopleSchema and the
// given level and action ("" for the defaults).
func validatedColl(t *testing.T, level, action string) *Collection {
	t.Helper()
	db := crudClient(t).Database("db")
	o := options.CreateCollection().SetValidator(peopleSchema)
	if level != "" {
		o.SetValidationLevel(level)
	}
	if action != "" {
		o.SetValidationAction(action)
	}
	require.NoError(t, db.CreateCollection(context.Background(), "people", o))
	return db.Collection("people")
}

func TestValidation_Inserts(t *testing.T) {
	ctx := context.Background()
	coll := validatedColl(t, "", "")
	_, err := coll.InsertOne(ctx, bson.M{"_id": 1, "name": "ada", "age": int32(36)})
	require.NoError(t, err)

	_, err = coll.InsertOne(ctx, bson.M{"_id": 2, "age": int32(3)})
	var we WriteException
	require.True(t, errors.As(err, &we), "%v", err)
	require.Len(t, we.WriteErrors, 1)
	assert.Equal(t, codeDocumentValidationFailure, we.WriteErrors[0].Code)
	assert.Equal(t, "Document failed validation", we.WriteErrors[0].Message)
	assert.Equal(t, int32(2), we.WriteErrors[0].Details.Lookup("failingDocumentId").Int32())
	assert.Equal(t, "$jsonSchema", we.WriteErrors[0].Details.Lookup("details", "operatorName").StringValue())

	// Unordered: the valid documents go in, the others are reported by index.
	res, err := coll.InsertMany(ctx, []interface{}{
		bson.M{"_id": 3, "name": "x"}, bson.M{"_id": 4, "name": "y", "age": int32(-1)}, bson.M{"_id": 5, "name": "z"},
	}, options.InsertMany().SetOrdered(false))
	var bwe BulkWriteException
	require.True(t, errors.As(err, &bwe), "%v", err)
	require.Len(t, bwe.WriteErrors, 1)
	assert.Equal(t, 1, bwe.WriteErrors[0].Index)
	assert.Equal(t, []interface{}{int32(3), int32(5)}, res.InsertedIDs)

	_, err = coll.InsertOne(ctx, bson.M{"_id": 6}, options.InsertOne().SetBypassDocumentValidation(true))
	require.NoError(t, err)
	assert.Equal(t, []interface{}{int32(1), int32(3), int32(5), int32(6)}, crudIDs(crudAll(t, coll, bson.M{})))
}

func TestValidation_Updates(t *testing.T) {
	ctx := context.Background()
	coll := validatedColl(t, "", "")
	crudSeed(t, coll, bson.M{"_id": 1, "name": "ada", "age": int32(36)})

	_, err := coll.UpdateOne(ctx, bson.M{"_id": 1}, bson.M{"$unset": bson.M{"name": ""}})
	code, _ := writeErrorCode(t, err)
	assert.Equal(t, codeDocumentValidationFailure, code)
	_, err = coll.ReplaceOne(ctx, bson.M{"_id": 1}, bson.M{"age": "old"})
	code, _ = writeErrorCode(t, err)
	assert.Equal(t, codeDocumentValidationFailure, code)
	_, err = coll.UpdateOne(ctx, bson.M{"_id": 9}, bson.M{"$set": bson.M{"age": int32(1)}}, options.Update().SetUpsert(true))
	code, _ = writeErrorCode(t, err)
	assert.Equal(t, codeDocumentValidationFailure, code, "an upsert inserts")

	// findAndModify reports a command error carrying errInfo.
	err = coll.FindOneAndUpdate(ctx, bson.M{"_id": 1}, bson.M{"$set": bson.M{"age": int32(-5)}}).Err()
	var ce CommandError
	require.True(t, errors.As(err, &ce), "%v", err)
	assert.Equal(t, int32(codeDocumentValidationFailure), ce.Code)
	assert.Equal(t, int32(1), ce.Raw.Lookup("errInfo", "failingDocumentId").Int32())

	var got bson.M
	require.NoError(t, coll.FindOne(ctx, bson.M{"_id": 1}).Decode(&got))
	assert.Equal(t, bson.M{"_id": int32(1), "name": "ada", "age": int32(36)}, got, "nothing changed")

	_, err = coll.UpdateOne(ctx, bson.M{"_id": 1}, bson.M{"$unset": bson.M{"name": ""}}, options.Update().SetBypassDocumentValidation(true))
	require.NoError(t, err)
	require.NoError(t, coll.FindOneAndUpdate(ctx, bson.M{"_id": 1}, bson.M{"$set": bson.M{"age": "x"}},
		options.FindOneAndUpdate().SetBypassDocumentValidation(true)).Err())
}

func TestValidation_LevelsAndActions(t *testing.T) {
	ctx := context.Background()
	t.Run("moderate", func(t *testing.T) {
		coll := validatedColl(t, "moderate", "")
		_, err := coll.InsertOne(ctx, bson.M{"_id": 1}, options.InsertOne().SetBypassDocumentValidation(true))
		require.NoError(t, err)
		crudSeed(t, coll, bson.M{"_id": 2, "name": "ok"})
		// A document that already fails may be updated; a valid one may not
		// be made invalid.
		_, err = coll.UpdateOne(ctx, bson.M{"_id": 1}, bson.M{"$set": bson.M{"age": "x"}})
		require.NoError(t, err)
		_, err = coll.UpdateOne(ctx, bson.M{"_id": 2}, bson.M{"$set": bson.M{"age": "x"}})
		code, _ := writeErrorCode(t, err)
		assert.Equal(t, codeDocumentValidationFailure, code)
	})
	t.Run("warn", func(t *testing.T) {
		coll := validatedColl(t, "", "warn")
		_, err := coll.InsertOne(ctx, bson.M{"_id": 1})
		require.NoError(t, err)
	})
	t.Run("off", func(t *testing.T) {
		coll := validatedColl(t, "off", "")
		_, err := coll.InsertOne(ctx, bson.M{"_id": 1})
		require.NoError(t, err)
	})
	t.Run("bad options", func(t *testing.T) {
		db := crudClient(t).Database("db")
		err := db.CreateCollection(ctx, "c", options.CreateCollection().SetValidator(peopleSchema).SetValidationLevel("sometimes"))
		code, _ := writeErrorCode(t, err)
		assert.Equal(t, codeBadValue, code)
		err = db.CreateCollection(ctx, "c", options.CreateCollection().SetValidator(bson.M{"a": bson.M{"$bogus": 1}}))
		code, _ = writeErrorCode(t, err)
		assert.Equal(t, 2, code)
		names, err := db.ListCollectionNames(ctx, bson.M{})
		require.NoError(t, err)
		assert.Empty(t, names, "nothing created")
	})
}

func TestValidation_ModifyCollection(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	client, err := Open(ctx, dir)
	require.NoError(t, err)
	db := client.Database("db")
	crudSeed(t, db.Collection("c"), bson.M{"_id": 1, "x": "a"})
	require.NoError(t, db.modifyCollection(ctx, "c", mustRaw(t, bson.M{"validator": bson.M{"x": bson.M{"$type": "string"}}})))
	_, err = db.Collection("c").InsertOne(ctx, bson.M{"_id": 2, "x": 1})
	code, _ := writeErrorCode(t, err)
	assert.Equal(t, codeDocumentValidationFailure, code)

	code, _ = writeErrorCode(t, db.modifyCollection(ctx, "missing", mustRaw(t, bson.M{"validator": bson.M{}})))
	assert.Equal(t, codeNamespaceNotFound, code)
	code, _ = writeErrorCode(t, db.modifyCollection(ctx, "c", mustRaw(t, bson.M{"validationAction": "shout"})))
	assert.Equal(t, codeBadValue, code)
	assert.ErrorIs(t, db.modifyCollection(ctx, "c", mustRaw(t, bson.M{"index": bson.M{}})), ErrNotSupported)

	// A view's pipeline can change too.
	require.NoError(t, db.CreateView(ctx, "v", "c", bson.A{}))
	require.NoError(t, db.modifyCollection(ctx, "v", mustRaw(t, bson.M{"pipeline": bson.A{bson.M{"$match": bson.M{"_id": 0}}}})))
	assert.Empty(t, crudAll(t, db.Collection("v"), bson.M{}))
	code, _ = writeErrorCode(t, db.modifyCollection(ctx, "c", mustRaw(t, bson.M{"viewOn": "v"})))
	assert.Equal(t, codeInvalidOptions, code)
	require.NoError(t, client.Disconnect(ctx))

	// The options are in the log: a new process enforces them.
	client, err = Open(ctx, dir)
	require.NoError(t, err)
	defer client.Disconnect(ctx)
	_, err = client.Database("db").Collection("c").InsertOne(ctx, bson.M{"_id": 3, "x": 1})
	code, _ = writeErrorCode(t, err)
	assert.Equal(t, codeDocumentValidationFailure, code)
}

func mustRaw(t *testing.T, v interface{}) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(v)
	require.NoError(t, err)
	return b
}
