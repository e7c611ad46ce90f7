package argon

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func newTestClient(t *testing.T, store wal.Store) *Client {
	t.Helper()
	if store == nil {
		store = wal.NewMemoryStore()
	}
	c, err := NewClient(context.Background(), store)
	require.NoError(t, err)
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	return c
}

// names returns the sorted "name" fields of app.items as the client sees it.
func names(t *testing.T, c *Client) []string {
	t.Helper()
	cur, err := c.Database("app").Collection("items").Find(context.Background(), bson.D{},
		options.Find().SetSort(bson.D{{Key: "name", Value: 1}}))
	require.NoError(t, err)
	var docs []struct{ Name string }
	require.NoError(t, cur.All(context.Background(), &docs))
	out := []string{}
	for _, d := range docs {
		out = append(out, d.Name)
	}
	return out
}

func insert(t *testing.T, c *Client, name string) wal.LSN {
	t.Helper()
	_, err := c.Database("app").Collection("items").InsertOne(context.Background(), bson.D{{Key: "name", Value: name}})
	require.NoError(t, err)
	lsn, err := c.HeadLSN(context.Background())
	require.NoError(t, err)
	return lsn
}

func TestClient_CreateBranch_Isolation(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t, nil)
	insert(t, c, "a")
	_, err := c.CreateBranch(ctx, "x")
	require.NoError(t, err)
	_, err = c.CreateBranch(ctx, "y")
	require.NoError(t, err)
	x, y := c.WithBranch("x"), c.WithBranch("y")
	insert(t, x, "x1")
	insert(t, y, "y1")
	insert(t, c, "m1")

	require.Equal(t, []string{"a", "m1"}, names(t, c), "the parent never sees a child's writes")
	require.Equal(t, []string{"a", "x1"}, names(t, x), "no sibling writes, no parent writes after the fork")
	require.Equal(t, []string{"a", "y1"}, names(t, y))

	// A grandchild forked from x at a past point sees x's history there.
	info, err := c.CreateBranch(ctx, "x/old", Branch().SetFrom("x").SetLSN(2))
	require.NoError(t, err)
	require.Equal(t, wal.LSN(2), info.BaseLSN)
	require.Equal(t, []string{"a"}, names(t, c.WithBranch("x/old")))
	insert(t, x, "x2")
	require.Equal(t, []string{"a"}, names(t, c.WithBranch("x/old")))
	require.Equal(t, []string{"a", "x1", "x2"}, names(t, x))
}

func TestClient_CreateBranch_SeenByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	store := wal.NewMemoryStore()
	a := newTestClient(t, store)
	b := newTestClient(t, store)
	insert(t, a, "a")
	_, err := a.CreateBranch(ctx, "feature")
	require.NoError(t, err)
	// b has never heard of the branch: its next call sees it.
	insert(t, b.WithBranch("feature"), "f1")
	require.Equal(t, []string{"a", "f1"}, names(t, a.WithBranch("feature")))
	require.Equal(t, []string{"a"}, names(t, a))
}

func TestClient_CreateBranch_NameRace(t *testing.T) {
	// Two processes create the same name at once: exactly one wins.
	ctx := context.Background()
	store := wal.NewMemoryStore()
	clients := []*Client{newTestClient(t, store), newTestClient(t, store), newTestClient(t, store)}
	var wg sync.WaitGroup
	errs := make([]error, len(clients))
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.CreateBranch(ctx, "dup")
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else {
			require.ErrorIs(t, err, ErrBranchExists)
		}
	}
	require.Equal(t, 1, wins)
	list, err := clients[0].ListBranches(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
}

func TestClient_ResetBranch_NotUndoneByWrites(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t, nil)
	good := insert(t, c, "good")
	insert(t, c, "mistake")
	before, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	info, err := c.ResetBranch(ctx, "main", Branch().SetLSN(good))
	require.NoError(t, err)
	require.Equal(t, "main", info.Name)
	require.Equal(t, []string{"good"}, names(t, c))
	insert(t, c, "after")
	require.Equal(t, []string{"after", "good"}, names(t, c), "later writes build on the reset state")
	// The old state stays reachable: main as it was just before the reset.
	require.Equal(t, []string{"good", "mistake"}, names(t, c.AtLSN(before)))
	// Another client sees the reset too.
	other, err := NewClient(ctx, c.store)
	require.NoError(t, err)
	require.Equal(t, []string{"after", "good"}, names(t, other))
}

func TestClient_AtTime_Boundaries(t *testing.T) {
	ctx := context.Background()
	var now time.Time
	clock := func() time.Time { return now }
	c, err := NewClient(ctx, wal.NewMemoryStore(), &Options{Log: &wal.LogOptions{Clock: clock}})
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	now = t0
	insert(t, c, "a")
	now = t0.Add(time.Second)
	insert(t, c, "b")
	now = t0.Add(2 * time.Second)
	insert(t, c, "c")

	require.Equal(t, []string{"a", "b"}, names(t, c.AtTime(t0.Add(time.Second))), "a write at the requested time is included")
	require.Equal(t, []string{"a"}, names(t, c.AtTime(t0.Add(time.Second-time.Millisecond))), "one after it is not")
	_, err = c.Database("app").Collection("items").CountDocuments(ctx, bson.D{}) // head still fine
	require.NoError(t, err)
	// Restore to a time as a new branch.
	info, err := c.CreateBranch(ctx, "restored", Branch().SetTime(t0.Add(time.Second)))
	require.NoError(t, err)
	require.Equal(t, wal.LSN(2), info.BaseLSN)
	require.Equal(t, []string{"a", "b"}, names(t, c.WithBranch("restored")))
	lsn, err := c.LSNAt(ctx, t0.Add(1500*time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, wal.LSN(2), lsn)
}

func TestClient_AtLSN_ReplaysPastCheckpoints(t *testing.T) {
	// More records than a checkpoint interval, on two interleaved
	// branches: every past point must match a model.
	ctx := context.Background()
	c := newTestClient(t, nil)
	_, err := c.CreateBranch(ctx, "side")
	require.NoError(t, err)
	side := c.WithBranch("side")
	model := map[wal.LSN][]string{}
	var cur []string
	for i := 0; i < 3*checkpointEvery+5; i++ {
		name := fmt.Sprintf("n%03d", i)
		lsn := insert(t, c, name)
		cur = append(cur, name)
		model[lsn] = append([]string(nil), cur...)
		if i%3 == 0 {
			insert(t, side, fmt.Sprintf("s%03d", i))
		}
	}
	for lsn, want := range model {
		require.Equal(t, want, names(t, c.AtLSN(lsn)), "main at lsn %d", lsn)
	}
}

func TestClient_Branches_BadInput(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t, nil)
	insert(t, c, "a")
	head, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	coll := c.Database("app").Collection("items")

	_, err = c.CreateBranch(ctx, "x", Branch().SetFrom("nope"))
	require.ErrorIs(t, err, ErrBranchNotFound)
	_, err = c.CreateBranch(ctx, "main")
	require.ErrorIs(t, err, ErrBranchExists)
	_, err = c.CreateBranch(ctx, "bad..name")
	require.ErrorIs(t, err, wal.ErrInvalidName)
	require.ErrorIs(t, c.DeleteBranch(ctx, "main"), ErrMainBranch)
	require.ErrorIs(t, c.DeleteBranch(ctx, "nope"), ErrBranchNotFound)
	_, err = c.CreateBranch(ctx, "future", Branch().SetLSN(head+10))
	require.ErrorIs(t, err, ErrInvalidPoint)
	_, err = c.CreateBranch(ctx, "early", Branch().SetTime(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)))
	require.ErrorIs(t, err, ErrInvalidPoint)
	_, err = c.AtLSN(head+10).Database("app").Collection("items").CountDocuments(ctx, bson.D{})
	require.ErrorIs(t, err, ErrInvalidPoint)
	_, err = c.AtTime(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).Database("app").Collection("items").CountDocuments(ctx, bson.D{})
	require.ErrorIs(t, err, ErrInvalidPoint)
	_, err = c.AtLSN(head).Database("app").Collection("items").InsertOne(ctx, bson.D{{Key: "name", Value: "z"}})
	require.ErrorIs(t, err, ErrReadOnly)
	_, err = c.WithBranch("nope").Database("app").Collection("items").InsertOne(ctx, bson.D{{Key: "name", Value: "z"}})
	require.ErrorIs(t, err, ErrBranchNotFound)

	// Nothing of the above changed anything.
	n, err := coll.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	after, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	require.Equal(t, head, after)
	list, err := c.ListBranches(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func TestClient_DeleteBranch_ChildrenUnaffected(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t, nil)
	insert(t, c, "a")
	_, err := c.CreateBranch(ctx, "p")
	require.NoError(t, err)
	insert(t, c.WithBranch("p"), "p1")
	_, err = c.CreateBranch(ctx, "child", Branch().SetFrom("p"))
	require.NoError(t, err)
	require.NoError(t, c.DeleteBranch(ctx, "p"))
	_, err = c.WithBranch("p").Database("app").Collection("items").CountDocuments(ctx, bson.D{})
	require.ErrorIs(t, err, ErrBranchNotFound)
	require.Equal(t, []string{"a", "p1"}, names(t, c.WithBranch("child")))
	// The name is free again.
	_, err = c.CreateBranch(ctx, "p")
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, names(t, c.WithBranch("p")))
	require.NoError(t, c.RenameBranch(ctx, "p", "q"))
	require.Equal(t, []string{"a"}, names(t, c.WithBranch("q")))
	require.ErrorIs(t, c.RenameBranch(ctx, "main", "z"), ErrMainBranch)
}

func TestClient_CreateBranch_FromViewForksAtItsPoint(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t, nil)
	first := insert(t, c, "a")
	insert(t, c, "b")
	info, err := c.AtLSN(first).CreateBranch(ctx, "restored")
	require.NoError(t, err)
	require.Equal(t, first, info.BaseLSN)
	require.Equal(t, []string{"a"}, names(t, c.WithBranch("restored")))
}
