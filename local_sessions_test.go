package argon

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

func listLocalSessions(t *testing.T, db *Database, spec interface{}) ([]bson.Raw, error) {
	t.Helper()
	cur, err := db.Aggregate(context.Background(), Pipeline{{{Key: "$listLocalSessions", Value: spec}}})
	if err != nil {
		return nil, err
	}
	var out []bson.Raw
	require.NoError(t, cur.All(context.Background(), &out))
	return out, nil
}

func TestListLocalSessions(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	db := c.Database("db")

	// The aggregate's own (implicit) session is in use.
	docs, err := listLocalSessions(t, db, bson.D{})
	require.NoError(t, err)
	require.Len(t, docs, 1)
	id := docs[0].Lookup("_id", "id")
	sub, data := id.Binary()
	assert.Equal(t, bson.TypeBinaryUUID, sub)
	assert.Len(t, data, 16)
	_, uid := docs[0].Lookup("_id", "uid").Binary()
	assert.Equal(t, unauthenticatedUID[:], uid)
	assert.Equal(t, bson.TypeDateTime, docs[0].Lookup("lastUse").Type)

	sess, err := c.StartSession()
	require.NoError(t, err)
	docs, err = listLocalSessions(t, db, bson.D{{Key: "allUsers", Value: true}})
	require.NoError(t, err)
	require.Len(t, docs, 2)
	var ids []string
	for _, d := range docs {
		ids = append(ids, d.Lookup("_id", "id").String())
	}
	assert.Contains(t, ids, sess.ID().Lookup("id").String())
	sess.EndSession(ctx)
	docs, err = listLocalSessions(t, db, bson.D{})
	require.NoError(t, err)
	assert.Len(t, docs, 1, "an ended session is gone")

	// Later stages run on the session documents.
	cur, err := db.Aggregate(ctx, Pipeline{{{Key: "$listLocalSessions", Value: bson.D{}}}, {{Key: "$count", Value: "n"}}})
	require.NoError(t, err)
	var counted []bson.M
	require.NoError(t, cur.All(ctx, &counted))
	assert.Equal(t, []bson.M{{"n": int32(1)}}, counted)
}

func TestListLocalSessions_BadInput(t *testing.T) {
	db := crudClient(t).Database("db")
	for name, spec := range map[string]interface{}{
		"not a document":    "x",
		"allUsers not bool": bson.D{{Key: "allUsers", Value: 1}},
		"unknown field":     bson.D{{Key: "bogus", Value: 1}},
		"users not array":   bson.D{{Key: "users", Value: "a"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := listLocalSessions(t, db, spec)
			var ce CommandError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, []int32{14, 40415}, ce.Code)
		})
	}
	_, err := listLocalSessions(t, db, bson.D{{Key: "users", Value: bson.A{bson.D{{Key: "user", Value: "a"}, {Key: "db", Value: "b"}}}}})
	assert.ErrorIs(t, err, ErrNotSupported)
}
