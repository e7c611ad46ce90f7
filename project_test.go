package argon

import (
	"context"
	"testing"

	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

func TestClient_Projects_Lifecycle(t *testing.T) {
	ctx := context.Background()
	store := wal.NewMemoryStore()
	c := newTestClient(t, store)
	insert(t, c, "in-default")

	require.NoError(t, c.CreateProject(ctx, "acme"))
	require.ErrorIs(t, c.CreateProject(ctx, "acme"), ErrProjectExists)
	require.ErrorIs(t, c.CreateProject(ctx, "bad/name"), wal.ErrInvalidName)

	acme, err := c.WithProject(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "acme", acme.ProjectName())
	require.Empty(t, names(t, acme), "projects do not share data")
	insert(t, acme, "in-acme")
	require.Equal(t, []string{"in-acme"}, names(t, acme))
	require.Equal(t, []string{"in-default"}, names(t, c))
	_, err = acme.CreateBranch(ctx, "dev")
	require.NoError(t, err)

	list, err := c.ListProjects(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"acme", DefaultProject}, list)

	// Another process sees the project and its branch.
	other := newTestClient(t, store)
	oa, err := other.WithProject(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, []string{"in-acme"}, names(t, oa.WithBranch("dev")))

	require.NoError(t, c.DeleteProject(ctx, "acme"))
	require.ErrorIs(t, c.DeleteProject(ctx, "acme"), ErrProjectNotFound)
	require.ErrorIs(t, c.DeleteProject(ctx, "never"), ErrProjectNotFound)
	list, err = c.ListProjects(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{DefaultProject}, list)
	_, err = oa.Database("app").Collection("items").InsertOne(ctx, bson.D{{Key: "name", Value: "late"}})
	require.ErrorIs(t, err, ErrProjectNotFound, "a deleted project refuses writes in every process")
	_, err = oa.Database("app").Collection("items").CountDocuments(ctx, bson.D{})
	require.ErrorIs(t, err, ErrProjectNotFound)
	_, err = NewClient(ctx, store, &Options{Project: "acme"})
	require.ErrorIs(t, err, ErrProjectNotFound)
}
