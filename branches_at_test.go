package argon

import (
	"context"
	"testing"

	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

// TestListBranches_AtPoint is differential: after every step of a branch
// history (creates, writes, a rename, a delete, a reset), the live listing
// is kept with the LSN it was taken at; afterwards ListBranches on
// AtLSN(that LSN) must return it again, from the engine's catalog history,
// and in a new client that loaded a checkpoint, by reading the log.
func TestListBranches_AtPoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := Open(ctx, dir)
	require.NoError(t, err)
	type moment struct {
		lsn  wal.LSN
		list []BranchInfo
	}
	var moments []moment
	snap := func() {
		t.Helper()
		lsn, err := c.HeadLSN(ctx)
		require.NoError(t, err)
		list, err := c.ListBranches(ctx)
		require.NoError(t, err)
		moments = append(moments, moment{lsn, list})
	}
	write := func(branch string, n int) {
		t.Helper()
		coll := c.WithBranch(branch).Database("db").Collection("c")
		for i := 0; i < n; i++ {
			_, err := coll.InsertOne(ctx, bson.D{{Key: "v", Value: i}})
			require.NoError(t, err)
		}
	}
	write("main", 2)
	snap()
	_, err = c.CreateBranch(ctx, "a")
	require.NoError(t, err)
	snap()
	write("a", 3)
	snap()
	_, err = c.CreateBranch(ctx, "b", Branch().SetFrom("a"))
	require.NoError(t, err)
	write("main", 1)
	snap()
	require.NoError(t, c.RenameBranch(ctx, "a", "a2"))
	snap()
	write("a2", 1)
	write("b", 2)
	snap()
	require.NoError(t, c.DeleteBranch(ctx, "b"))
	snap()
	_, err = c.ResetBranch(ctx, "main", Branch().SetLSN(moments[0].lsn))
	require.NoError(t, err)
	write("main", 1)
	snap()
	_, err = c.CreateBranch(ctx, "b") // the name again, a new branch
	require.NoError(t, err)
	snap()

	check := func(c *Client) {
		t.Helper()
		for _, m := range moments {
			got, err := c.AtLSN(m.lsn).ListBranches(ctx)
			require.NoError(t, err, "lsn %d", m.lsn)
			assert.Equal(t, m.list, got, "lsn %d", m.lsn)
		}
	}
	check(c)
	tail, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	_, err = c.AtLSN(tail + 5).ListBranches(ctx)
	assert.ErrorIs(t, err, ErrInvalidPoint)

	// The point of a listing can be a time too: the newest LSN then.
	last := moments[len(moments)-1]
	b := last.list[1] // "b", created by the last record
	require.Equal(t, "b", b.Name)
	got, err := c.AtTime(b.CreatedAt).ListBranches(ctx)
	require.NoError(t, err)
	assert.Equal(t, last.list, got)

	_, err = c.Checkpoint(ctx)
	require.NoError(t, err)
	require.NoError(t, c.Disconnect(ctx))
	c, err = Open(ctx, dir)
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	check(c) // points before the checkpoint: from the log
	// A write after the checkpoint: history from the checkpoint on.
	write("a2", 1)
	got, err = c.AtLSN(last.lsn).ListBranches(ctx)
	require.NoError(t, err)
	assert.Equal(t, last.list, got)
}
