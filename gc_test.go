package argon

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/argon-lab/argon/internal/testenv"
	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// newGCClient returns a client over store whose records are timed by clk.
func newGCClient(t *testing.T, store wal.Store, clk *testClock) *Client {
	t.Helper()
	c, err := NewClient(context.Background(), store, &Options{TTLInterval: -1, Log: &wal.LogOptions{Clock: clk.Now}})
	require.NoError(t, err)
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	return c
}

func setV(t *testing.T, c *Client, k, v int32) wal.LSN {
	t.Helper()
	_, err := c.Database("db").Collection("c").UpdateOne(context.Background(), bson.D{{Key: "_id", Value: k}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: v}}}}, options.Update().SetUpsert(true))
	require.NoError(t, err)
	lsn, err := c.HeadLSN(context.Background())
	require.NoError(t, err)
	return lsn
}

func tombstones(t *testing.T, s wal.Store, project string) []wal.LSN {
	t.Helper()
	recs, err := s.Read(context.Background(), project, 1, 1<<20)
	require.NoError(t, err)
	var out []wal.LSN
	for _, r := range recs {
		if r.Tombstone {
			out = append(out, r.LSN)
		}
	}
	return out
}

func TestClient_GarbageCollect_DeletedBranch(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	store := wal.NewMemoryStore()
	c := newGCClient(t, store, clk)
	setV(t, c, 1, 1)
	clk.Advance(time.Minute)
	_, err := c.CreateBranch(ctx, "x")
	require.NoError(t, err)
	x := c.WithBranch("x")
	x1 := setV(t, x, 2, 2)
	x2 := setV(t, x, 3, 3)
	info, err := c.CreateBranch(ctx, "keep", Branch().SetFrom("x"))
	require.NoError(t, err)
	require.NoError(t, c.DeleteBranch(ctx, "x"))
	// x is needed by keep (at its fork point) until keep goes too.
	require.NoError(t, c.DeleteBranch(ctx, "keep"))

	// Within the window nothing goes.
	clk.Advance(6 * 24 * time.Hour)
	rep, err := c.GarbageCollect(ctx)
	require.NoError(t, err)
	require.Zero(t, rep.Records)
	require.Zero(t, rep.CollectLSN)
	require.Empty(t, tombstones(t, store, DefaultProject))

	clk.Advance(2 * 24 * time.Hour)
	m1 := setV(t, c, 1, 10)
	dry, err := c.GarbageCollect(ctx, GC().SetDryRun(true))
	require.NoError(t, err)
	require.True(t, dry.DryRun)
	require.Equal(t, 2, dry.Records)
	require.Equal(t, []string{"b2", info.ID}, dry.BranchesPurged)
	require.Empty(t, tombstones(t, store, DefaultProject), "a dry run changes nothing")

	var progress [][2]int
	rep, err = c.GarbageCollect(ctx, GC().SetBatchSize(1).SetProgress(func(done, total int) {
		progress = append(progress, [2]int{done, total})
	}))
	require.NoError(t, err)
	require.Equal(t, 2, rep.Records)
	require.Positive(t, rep.Bytes)
	require.Equal(t, []string{"b2", info.ID}, rep.BranchesPurged)
	require.Equal(t, m1-1, rep.Horizon, "the newest record older than the window")
	require.Equal(t, m1+1, rep.CollectLSN)
	require.Equal(t, [][2]int{{1, 2}, {2, 2}}, progress)
	require.Equal(t, []wal.LSN{x1, x2}, tombstones(t, store, DefaultProject))
	// The engine dropped the purged branches' states.
	c.eng.mu.RLock()
	require.Nil(t, c.eng.cat.get("b2"))
	require.Nil(t, c.eng.cat.get(info.ID))
	require.Zero(t, c.eng.gc.todo.Len())
	c.eng.mu.RUnlock()

	// main reads the same at head and at the horizon; below it, refused.
	got, err := readState(ctx, c)
	require.NoError(t, err)
	require.Equal(t, map[int32]int32{1: 10}, got)
	got, err = readState(ctx, c.AtLSN(rep.Horizon))
	require.NoError(t, err)
	require.Equal(t, map[int32]int32{1: 1}, got)
	_, err = readState(ctx, c.AtLSN(rep.Horizon-1))
	require.ErrorIs(t, err, ErrBeforeRetention)
	require.ErrorIs(t, err, ErrInvalidPoint)
	require.Contains(t, err.Error(), "retention horizon")
	_, err = readState(ctx, c.AtTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	require.ErrorIs(t, err, ErrBeforeRetention)
	_, err = c.AtLSN(1).History(ctx)
	require.ErrorIs(t, err, ErrBeforeRetention)
	head, _ := c.HeadLSN(ctx)
	_, err = c.CreateBranch(ctx, "old", Branch().SetLSN(1))
	require.ErrorIs(t, err, ErrBeforeRetention)
	_, err = c.ResetBranch(ctx, "main", Branch().SetLSN(1))
	require.ErrorIs(t, err, ErrBeforeRetention)
	after, _ := c.HeadLSN(ctx)
	require.Equal(t, head, after, "refused operations write nothing")

	// Nothing more to remove; a fresh process agrees and reads the same.
	rep, err = c.GarbageCollect(ctx)
	require.NoError(t, err)
	require.Zero(t, rep.Records)
	require.Zero(t, rep.CollectLSN)
	c2 := newGCClient(t, store, clk)
	got, err = readState(ctx, c2)
	require.NoError(t, err)
	require.Equal(t, map[int32]int32{1: 10}, got)
	_, err = readState(ctx, c2.AtLSN(1))
	require.ErrorIs(t, err, ErrBeforeRetention)
	rep, err = c2.GarbageCollect(ctx)
	require.NoError(t, err)
	require.Zero(t, rep.Records)
}

// TestEngine_GarbageCollect_StaleReader checks that a process that has not
// followed a collection yet refuses a replay that meets a removed record
// instead of returning a wrong state.
func TestEngine_GarbageCollect_StaleReader(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	store := wal.NewMemoryStore()
	a, b := newGCClient(t, store, clk), newGCClient(t, store, clk)
	_, err := a.CreateBranch(ctx, "x")
	require.NoError(t, err)
	x1 := setV(t, a.WithBranch("x"), 1, 1)
	setV(t, a.WithBranch("x"), 2, 2)
	require.NoError(t, a.DeleteBranch(ctx, "x"))
	_, err = b.HeadLSN(ctx) // b follows up to here
	require.NoError(t, err)
	clk.Advance(8 * 24 * time.Hour)
	setV(t, a, 1, 1)
	rep, err := a.GarbageCollect(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, rep.Records)
	// b still knows x; its state at x1 is a replay of the removed record.
	_, err = b.eng.stateAt(ctx, "b1", x1)
	require.ErrorIs(t, err, ErrBeforeRetention)
	require.ErrorContains(t, err, "removed by garbage collection")
}

func TestClient_GarbageCollect_ChildKeepsForkPoint(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	store := wal.NewMemoryStore()
	c := newGCClient(t, store, clk)
	setV(t, c, 1, 1)
	_, err := c.CreateBranch(ctx, "x")
	require.NoError(t, err)
	x := c.WithBranch("x")
	setV(t, x, 2, 2)
	_, err = c.CreateBranch(ctx, "y", Branch().SetFrom("x"))
	require.NoError(t, err)
	after := setV(t, x, 3, 3) // after y's fork point: removable
	setV(t, c.WithBranch("y"), 4, 4)
	require.NoError(t, c.DeleteBranch(ctx, "x"))
	clk.Advance(8 * 24 * time.Hour)
	setV(t, c, 9, 9)
	rep, err := c.GarbageCollect(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Records)
	require.Empty(t, rep.BranchesPurged)
	require.Equal(t, []string{"b2"}, rep.BranchesTrimmed)
	require.Equal(t, []wal.LSN{after}, tombstones(t, store, DefaultProject))
	for _, cl := range []*Client{c, newGCClient(t, store, clk)} {
		got, err := readState(ctx, cl.WithBranch("y"))
		require.NoError(t, err)
		require.Equal(t, map[int32]int32{1: 1, 2: 2, 4: 4}, got)
	}
}

func TestClient_GarbageCollect_BadOptions(t *testing.T) {
	ctx := context.Background()
	c := newGCClient(t, wal.NewMemoryStore(), newTestClock())
	_, err := c.GarbageCollect(ctx, GC().SetRetention(-time.Hour))
	require.ErrorContains(t, err, "retention must not be negative")
	_, err = c.GarbageCollect(ctx, GC().SetBatchSize(0))
	require.ErrorContains(t, err, "batch size must be positive")
	require.NoError(t, c.Disconnect(ctx))
	_, err = c.GarbageCollect(ctx)
	require.ErrorIs(t, err, errClientDisconnected)
}

// TestClient_GarbageCollect_Concurrent runs collections in two processes
// (two clients over one store) while both write to live branches and
// create and delete short-lived ones; afterwards every process, and a new
// one, reads the same live data, and only deleted branches lost records.
func TestClient_GarbageCollect_Concurrent(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	store := wal.NewMemoryStore()
	procs := []*Client{newGCClient(t, store, clk), newGCClient(t, store, clk)}
	_, err := procs[0].CreateBranch(ctx, "live")
	require.NoError(t, err)
	const rounds = 30
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for p, c := range procs {
		wg.Add(3)
		go func() { // writer on main and live
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				for _, b := range []string{"main", "live"} {
					k := int32(p*1000 + i)
					_, err := c.WithBranch(b).Database("db").Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: k}, {Key: "v", Value: k}})
					if err != nil {
						errs <- err
						return
					}
				}
			}
		}()
		go func() { // short-lived branches
			defer wg.Done()
			for i := 0; i < rounds/3; i++ {
				name := fmt.Sprintf("tmp%d-%d", p, i)
				if _, err := c.CreateBranch(ctx, name); err != nil {
					errs <- err
					return
				}
				if _, err := c.WithBranch(name).Database("db").Collection("t").InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
					errs <- err
					return
				}
				if err := c.DeleteBranch(ctx, name); err != nil {
					errs <- err
					return
				}
				clk.Advance(2 * 24 * time.Hour)
			}
		}()
		go func() { // collector
			defer wg.Done()
			for i := 0; i < rounds/3; i++ {
				if _, err := c.GarbageCollect(ctx, GC().SetBatchSize(2)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	clk.Advance(30 * 24 * time.Hour)
	setV(t, procs[0], 5000, 1)
	_, err = procs[1].GarbageCollect(ctx)
	require.NoError(t, err)
	_, err = procs[0].GarbageCollect(ctx)
	require.NoError(t, err)

	want := map[string]int{"main": 2*rounds + 1, "live": 2 * rounds}
	for i, c := range append(procs, newGCClient(t, store, clk)) {
		for b, n := range want {
			cnt, err := c.WithBranch(b).Database("db").Collection("c").CountDocuments(ctx, bson.D{})
			require.NoError(t, err, "process %d", i)
			require.Equal(t, int64(n), cnt, "process %d branch %s", i, b)
		}
	}
	recs, err := store.Read(ctx, DefaultProject, 1, 1<<20)
	require.NoError(t, err)
	removed := 0
	for _, r := range recs {
		if r.Tombstone {
			removed++
			require.NotEqual(t, "main", r.Branch)
			require.NotEqual(t, "b1", r.Branch, "the live branch")
		}
	}
	require.Equal(t, 2*(rounds/3), removed, "every short-lived branch's record")
}

// TestClient_GarbageCollect_Interval checks that Options.GCInterval
// collects without being asked.
func TestClient_GarbageCollect_Interval(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	store := wal.NewMemoryStore()
	c, err := NewClient(ctx, store, &Options{TTLInterval: -1, GCInterval: 10 * time.Millisecond, Retention: time.Hour, Log: &wal.LogOptions{Clock: clk.Now}})
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	_, err = c.CreateBranch(ctx, "x")
	require.NoError(t, err)
	x1 := setV(t, c.WithBranch("x"), 1, 1)
	require.NoError(t, c.DeleteBranch(ctx, "x"))
	clk.Advance(2 * time.Hour)
	setV(t, c, 1, 1)
	deadline := time.Now().Add(10 * time.Second)
	for len(tombstones(t, store, DefaultProject)) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	require.Equal(t, []wal.LSN{x1}, tombstones(t, store, DefaultProject))
}

// TestClient_GarbageCollect_MongoStore collects on the MongoDB store while
// a second process writes; every process, and a new one, then reads the
// same and refuses points below the horizon.
func TestClient_GarbageCollect_MongoStore(t *testing.T) {
	ctx := context.Background()
	uri := testenv.MongoURI(t)
	logDB := testenv.UniqueDBName(t, "argongc")
	clk := newTestClock()
	open := func() *Client {
		c, err := ConnectWithOptions(ctx, &Options{LogDatabase: logDB, TTLInterval: -1, Log: &wal.LogOptions{Clock: clk.Now}}, options.Client().ApplyURI(uri))
		require.NoError(t, err)
		t.Cleanup(func() { c.Disconnect(context.Background()) })
		return c
	}
	a, b := open(), open()
	setV(t, a, 1, 1)
	_, err := a.CreateBranch(ctx, "x")
	require.NoError(t, err)
	setV(t, a.WithBranch("x"), 2, 2)
	old := setV(t, a.WithBranch("x"), 3, 3)
	require.NoError(t, a.DeleteBranch(ctx, "x"))
	clk.Advance(8 * 24 * time.Hour)
	setV(t, a, 1, 2)
	// b has followed everything so far; it keeps writing while a collects.
	_, err = b.HeadLSN(ctx)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		for i := int32(10); i < 15; i++ {
			if _, err := b.Database("db").Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	rep, err := a.GarbageCollect(ctx)
	require.NoError(t, err)
	require.NoError(t, <-done)
	require.Equal(t, 2, rep.Records)
	require.Positive(t, rep.Bytes)
	recs, err := a.store.Read(ctx, DefaultProject, old, 1)
	require.NoError(t, err)
	require.True(t, recs[0].Tombstone)

	// A third process replays the log with its tombstones.
	c := open()
	for _, cl := range []*Client{a, b, c} {
		n, err := cl.Database("db").Collection("c").CountDocuments(ctx, bson.D{})
		require.NoError(t, err)
		require.Equal(t, int64(6), n)
		_, err = readState(ctx, cl.AtLSN(1))
		require.ErrorIs(t, err, ErrBeforeRetention)
	}
}

func TestClient_GarbageCollectAll_DeletedProject(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	store := wal.NewMemoryStore()
	c := newGCClient(t, store, clk)
	setV(t, c, 1, 1)
	p, err := c.WithProject(ctx, "gone")
	require.NoError(t, err)
	setV(t, p, 1, 1)
	setV(t, p, 2, 2)
	_, err = p.CreateBranch(ctx, "x")
	require.NoError(t, err)
	setV(t, p.WithBranch("x"), 3, 3)
	require.NoError(t, c.DeleteProject(ctx, "gone"))

	reps, err := c.GarbageCollectAll(ctx)
	require.NoError(t, err)
	require.Len(t, reps, 2)
	for _, r := range reps {
		require.Zero(t, r.Records, "within the window: %s", r.Project)
	}
	clk.Advance(8 * 24 * time.Hour)
	reps, err = c.GarbageCollectAll(ctx, GC().SetDryRun(true))
	require.NoError(t, err)
	require.Equal(t, "gone", reps[1].Project)
	require.Equal(t, 3, reps[1].Records)
	require.Empty(t, tombstones(t, store, "gone"))
	reps, err = c.GarbageCollectAll(ctx, GC().SetBatchSize(2))
	require.NoError(t, err)
	require.Equal(t, 3, reps[1].Records)
	require.Positive(t, reps[1].Bytes)
	require.Len(t, tombstones(t, store, "gone"), 3)
	// The deleted project still reads as deleted in a fresh process, and
	// the live one is untouched.
	c2 := newGCClient(t, store, clk)
	_, err = c2.WithProject(ctx, "gone")
	require.ErrorIs(t, err, ErrProjectNotFound)
	got, err := readState(ctx, c2)
	require.NoError(t, err)
	require.Equal(t, map[int32]int32{1: 1}, got)
	projects, err := c2.ListProjects(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{DefaultProject}, projects)
}

func TestClient_Head(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	c := newGCClient(t, wal.NewMemoryStore(), clk)
	lsn, at, err := c.Head(ctx)
	require.NoError(t, err)
	require.Zero(t, lsn)
	require.True(t, at.IsZero())
	setV(t, c, 1, 1)
	clk.Advance(time.Minute)
	l2 := setV(t, c, 1, 2)
	lsn, at, err = c.Head(ctx)
	require.NoError(t, err)
	require.Equal(t, l2, lsn)
	require.True(t, clk.Now().Equal(at), "%s", at)
	h, err := c.RetentionHorizon(ctx)
	require.NoError(t, err)
	require.Zero(t, h)
}

// TestClient_GarbageCollect_Checkpoint checks that a checkpoint taken after
// a collection carries what the collection changed: the horizon, a trimmed
// branch without a head, and removals still to be done.
func TestClient_GarbageCollect_Checkpoint(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	store := wal.NewMemoryStore()
	c := newGCClient(t, store, clk)
	setV(t, c, 1, 1)
	_, err := c.CreateBranch(ctx, "x")
	require.NoError(t, err)
	x := c.WithBranch("x")
	setV(t, x, 2, 2)
	_, err = c.CreateBranch(ctx, "y", Branch().SetFrom("x"))
	require.NoError(t, err)
	x2 := setV(t, x, 3, 3)
	require.NoError(t, c.DeleteBranch(ctx, "x"))
	clk.Advance(8 * 24 * time.Hour)
	setV(t, c, 1, 10)
	rep, err := c.GarbageCollect(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Records, "x is trimmed to y's fork point")
	require.Equal(t, []wal.LSN{x2}, tombstones(t, store, DefaultProject))

	// A removal some collector declared but has not done yet.
	c.eng.mu.Lock()
	c.eng.gc.todo.Insert(x2)
	c.eng.mu.Unlock()
	lsn, err := c.Checkpoint(ctx)
	require.NoError(t, err)

	c2 := newGCClient(t, store, clk)
	require.Equal(t, lsn, c2.eng.ckpt.loaded, "opened from the checkpoint")
	c2.eng.mu.RLock()
	require.Equal(t, rep.Horizon, c2.eng.cat.horizon)
	require.True(t, c2.eng.gc.todo.Contains(x2))
	var trimmed *branchState
	c2.eng.cat.byID.Scan(func(_ string, b *branchState) bool {
		if b.name == "x" {
			trimmed = b
		}
		return true
	})
	c2.eng.mu.RUnlock()
	require.NotNil(t, trimmed)
	require.Equal(t, x2, trimmed.gone)
	require.Nil(t, trimmed.head)

	for _, cl := range []*Client{c, c2} {
		got, err := readState(ctx, cl.WithBranch("y"))
		require.NoError(t, err)
		require.Equal(t, map[int32]int32{1: 1, 2: 2}, got)
		got, err = readState(ctx, cl)
		require.NoError(t, err)
		require.Equal(t, map[int32]int32{1: 10}, got)
		_, err = readState(ctx, cl.AtLSN(rep.Horizon-1))
		require.ErrorIs(t, err, ErrBeforeRetention)
	}
	// The pending removal is done by the next collection (the store skips
	// records that are tombstones already).
	_, err = c2.GarbageCollect(ctx)
	require.NoError(t, err)
	c2.eng.mu.RLock()
	require.Zero(t, c2.eng.gc.todo.Len())
	c2.eng.mu.RUnlock()
}
