package argon

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

func TestClient_Diff_AddedRemovedChanged(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t, nil)
	items := c.Database("app").Collection("items")
	_, err := items.InsertMany(ctx, []interface{}{
		bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: "a"}},
		bson.D{{Key: "_id", Value: 2}, {Key: "v", Value: "b"}},
		bson.D{{Key: "_id", Value: 3}, {Key: "v", Value: "c"}},
	})
	require.NoError(t, err)
	fork, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	_, err = c.CreateBranch(ctx, "edit")
	require.NoError(t, err)
	e := c.WithBranch("edit").Database("app").Collection("items")
	_, err = e.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	_, err = e.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: "B"}}}})
	require.NoError(t, err)
	_, err = e.InsertOne(ctx, bson.D{{Key: "_id", Value: 4}, {Key: "v", Value: "d"}})
	require.NoError(t, err)
	_, err = c.WithBranch("edit").Database("app").Collection("other").InsertOne(ctx, bson.D{{Key: "_id", Value: "x"}})
	require.NoError(t, err)

	collect := func(a, b *Client, opts ...*DiffOptions) []Change {
		s, err := a.Diff(ctx, b, opts...)
		require.NoError(t, err)
		defer s.Close(ctx)
		var out []Change
		for s.Next(ctx) {
			out = append(out, s.Change())
		}
		require.NoError(t, s.Err())
		return out
	}
	got := collect(c, c.WithBranch("edit"))
	require.Len(t, got, 4)
	require.Equal(t, Removed, got[0].Kind)
	require.Equal(t, int32(1), got[0].ID.Int32())
	require.Nil(t, got[0].After)
	require.Equal(t, Changed, got[1].Kind)
	require.Equal(t, "b", got[1].Before.Lookup("v").StringValue())
	require.Equal(t, "B", got[1].After.Lookup("v").StringValue())
	require.Equal(t, Added, got[2].Kind)
	require.Equal(t, int32(4), got[2].ID.Int32())
	require.Equal(t, "other", got[3].Collection)

	// Narrowed to one collection; and a point against itself is empty.
	require.Len(t, collect(c, c.WithBranch("edit"), NewDiffOptions().SetCollection("other")), 1)
	require.Empty(t, collect(c.AtLSN(fork), c))
	// The reverse direction swaps added and removed.
	rev := collect(c.WithBranch("edit"), c)
	require.Equal(t, Added, rev[0].Kind)
}

func TestClient_History_NewestFirstAcrossFork(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t, nil)
	l1 := insert(t, c, "a")
	l2 := insert(t, c, "b")
	_, err := c.CreateBranch(ctx, "f")
	require.NoError(t, err)
	insert(t, c, "main-only")
	f := c.WithBranch("f")
	l4 := insert(t, f, "f1")
	l5 := insert(t, f, "f2")

	h, err := f.History(ctx)
	require.NoError(t, err)
	var lsns []uint64
	for _, r := range h {
		lsns = append(lsns, uint64(r.LSN))
	}
	require.Equal(t, []uint64{uint64(l5), uint64(l4), uint64(l2), uint64(l1)}, lsns, "own records, then the parent's below the fork")

	page, err := f.History(ctx, NewHistoryOptions().SetLimit(2))
	require.NoError(t, err)
	require.Len(t, page, 2)
	next, err := f.History(ctx, NewHistoryOptions().SetLimit(2).SetBefore(page[1].LSN))
	require.NoError(t, err)
	require.Equal(t, l2, next[0].LSN)
	require.Equal(t, "insert", next[0].Ops[0].Kind.String())
	_, err = f.History(ctx, NewHistoryOptions().SetLimit(0))
	require.Error(t, err)
}
