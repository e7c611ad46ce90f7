package argon

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// testClock is a settable clock for record times and retention.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// gcModel keeps everything: per branch id, its catalog entry and the state
// after each of its records. It knows nothing of checkpoints, replay or
// garbage collection.
type gcModel struct {
	ids   map[string]*modelBranch // by id
	names map[string]string       // live name → id
}

type modelBranch struct {
	id, parent, pred string
	base, created    wal.LSN
	lsns             []wal.LSN // own writes, ascending
	states           []map[int32]int32
	fork             map[int32]int32
	live             bool
}

func newGCModel() *gcModel {
	main := &modelBranch{id: mainBranchID, fork: map[int32]int32{}, live: true}
	return &gcModel{ids: map[string]*modelBranch{mainBranchID: main}, names: map[string]string{"main": mainBranchID}}
}

// at is what branch id shows at lsn: the design's visibility rule.
func (m *gcModel) at(id string, lsn wal.LSN) map[int32]int32 {
	b := m.ids[id]
	if lsn < b.created {
		switch {
		case b.pred != "":
			return m.at(b.pred, lsn)
		case b.parent != "":
			return m.at(b.parent, min(lsn, b.base))
		}
		return map[int32]int32{}
	}
	n, _ := slices.BinarySearch(b.lsns, lsn+1)
	if n == 0 {
		return b.fork
	}
	return b.states[n-1]
}

func (m *gcModel) head(id string) map[int32]int32 {
	b := m.ids[id]
	if len(b.states) == 0 {
		return b.fork
	}
	return b.states[len(b.states)-1]
}

func (m *gcModel) liveNames() []string {
	return slices.Sorted(maps.Keys(m.names))
}

// readState returns db.c on c's branch or view as a map of _id → v.
func readState(ctx context.Context, c *Client) (map[int32]int32, error) {
	cur, err := c.Database("db").Collection("c").Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID int32 `bson:"_id"`
		V  int32 `bson:"v"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := map[int32]int32{}
	for _, d := range docs {
		out[d.ID] = d.V
	}
	return out, nil
}

func gcSeeds(t *testing.T) []uint64 {
	seeds := []uint64{1, 2, 3, 4, 5, 6}
	if s := os.Getenv("ARGON_GC_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ARGON_GC_SEED")
		return []uint64{n}
	}
	if testing.Short() {
		seeds = seeds[:2]
	}
	return seeds
}

// TestClient_GarbageCollect_Model runs random branch trees (create at the
// head or at a past point, reset, delete, rename), random writes, random
// clock advances and random collections, and after each collection checks
// every live branch at its head and at every retained point against a model
// that keeps everything. It also checks that the collection removed only
// records of branches that are not live, and that a fresh process (a new
// client over the same store) reads the same. Reproduce a failure with
// ARGON_GC_SEED=<seed>.
func TestClient_GarbageCollect_Model(t *testing.T) {
	for _, seed := range gcSeeds(t) {
		for _, kind := range []string{"memory", "dir"} {
			t.Run(fmt.Sprintf("seed=%d/%s", seed, kind), func(t *testing.T) {
				runGCModel(t, seed, kind)
			})
		}
	}
}

func runGCModel(t *testing.T, seed uint64, kind string) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	clk := newTestClock()
	opts := &Options{Retention: 5 * 24 * time.Hour, TTLInterval: -1, Log: &wal.LogOptions{Clock: clk.Now}}
	var store wal.Store
	dir := ""
	if kind == "memory" {
		store = wal.NewMemoryStore()
	} else {
		dir = t.TempDir()
		ds, err := wal.OpenDir(ctx, dir, &wal.DirOptions{NoSync: true, SegmentSize: 4096})
		require.NoError(t, err)
		store = ds
	}
	c, err := NewClient(ctx, store, opts)
	require.NoError(t, err)
	defer func() { c.Disconnect(ctx) }()
	// With the memory store, a second process follows the log as it goes
	// and sometimes collects instead of the first.
	var other *Client
	if kind == "memory" {
		other, err = NewClient(ctx, store, opts)
		require.NoError(t, err)
		defer other.Disconnect(ctx)
	}
	failed := true
	defer func() {
		if failed {
			t.Logf("reproduce with ARGON_GC_SEED=%d", seed)
		}
	}()

	m := newGCModel()
	coll := func(name string) *Client { return c.WithBranch(name) }
	head := func() wal.LSN {
		l, err := c.HeadLSN(ctx)
		require.NoError(t, err)
		return l
	}
	horizon := wal.LSN(0)
	pickName := func() string {
		names := m.liveNames()
		return names[rng.IntN(len(names))]
	}
	pastPoint := func() wal.LSN {
		h := head()
		lo := max(horizon, 1)
		if h < lo {
			return h
		}
		return lo + wal.LSN(rng.Uint64N(uint64(h-lo+1)))
	}
	newName := 0
	removed := 0
	// listings are the live listings taken after each step, with the
	// LSN they were taken at: ListBranches at that LSN must give them
	// back while it is retained.
	type listing struct {
		lsn  wal.LSN
		list []BranchInfo
	}
	var listings []listing
	// checkAll compares every live branch with the model at its head and
	// at retained points, through client cl.
	checkAll := func(cl *Client, what string) {
		h, err := cl.HeadLSN(ctx)
		require.NoError(t, err)
		for _, name := range m.liveNames() {
			id := m.names[name]
			got, err := readState(ctx, cl.WithBranch(name))
			require.NoError(t, err, "%s: %s at head", what, name)
			require.Equal(t, m.head(id), got, "%s: %s at head", what, name)
			points := []wal.LSN{}
			for p := max(horizon, 1); p <= h; p++ {
				points = append(points, p)
			}
			if len(points) > 60 {
				rng.Shuffle(len(points), func(i, j int) { points[i], points[j] = points[j], points[i] })
				points = append(points[:58], max(horizon, 1), h)
			}
			for _, p := range points {
				got, err := readState(ctx, cl.WithBranch(name).AtLSN(p))
				require.NoError(t, err, "%s: %s at lsn %d (horizon %d)", what, name, p, horizon)
				require.Equal(t, m.at(id, p), got, "%s: %s at lsn %d (horizon %d)", what, name, p, horizon)
			}
			if horizon > 1 {
				_, err := readState(ctx, cl.WithBranch(name).AtLSN(horizon-1))
				require.ErrorIs(t, err, ErrBeforeRetention, "%s: %s below the horizon", what, name)
			}
		}
		for i, ls := range listings {
			if len(listings) > 40 && rng.IntN(len(listings)) >= 40 && i != len(listings)-1 {
				continue
			}
			got, err := cl.AtLSN(ls.lsn).ListBranches(ctx)
			if ls.lsn < horizon {
				require.ErrorIs(t, err, ErrBeforeRetention, "%s: branches at lsn %d (horizon %d)", what, ls.lsn, horizon)
				continue
			}
			require.NoError(t, err, "%s: branches at lsn %d (horizon %d)", what, ls.lsn, horizon)
			require.Equal(t, ls.list, got, "%s: branches at lsn %d (horizon %d)", what, ls.lsn, horizon)
		}
	}

	for step := 0; step < 220; step++ {
		if h := head(); h > 0 {
			list, err := c.ListBranches(ctx)
			require.NoError(t, err)
			listings = append(listings, listing{h, list})
		}
		switch r := rng.IntN(100); {
		case r < 50: // a write
			name := pickName()
			k := int32(rng.IntN(8))
			v := int32(step)
			cl := coll(name).Database("db").Collection("c")
			del := rng.IntN(4) == 0
			if del {
				res, err := cl.DeleteOne(ctx, bson.D{{Key: "_id", Value: k}})
				require.NoError(t, err)
				if res.DeletedCount == 0 {
					continue
				}
			} else {
				_, err := cl.UpdateOne(ctx, bson.D{{Key: "_id", Value: k}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: v}}}}, options.Update().SetUpsert(true))
				require.NoError(t, err)
			}
			b := m.ids[m.names[name]]
			next := maps.Clone(m.head(b.id))
			if del {
				delete(next, k)
			} else {
				next[k] = v
			}
			b.lsns = append(b.lsns, head())
			b.states = append(b.states, next)
		case r < 62: // create, at the head or at a past point
			parent := pickName()
			newName++
			name := fmt.Sprintf("n%d", newName)
			o := Branch().SetFrom(parent)
			base := head()
			if rng.IntN(2) == 0 {
				base = pastPoint()
				o.SetLSN(base)
			}
			info, err := c.CreateBranch(ctx, name, o)
			require.NoError(t, err)
			require.Equal(t, base, info.BaseLSN)
			pid := m.names[parent]
			m.ids[info.ID] = &modelBranch{id: info.ID, parent: pid, base: base, created: info.CreatedLSN, fork: m.at(pid, base), live: true}
			m.names[name] = info.ID
		case r < 68: // reset
			name := pickName()
			p := pastPoint()
			info, err := c.ResetBranch(ctx, name, Branch().SetLSN(p))
			require.NoError(t, err)
			old := m.names[name]
			m.ids[old].live = false
			m.ids[info.ID] = &modelBranch{id: info.ID, parent: old, pred: old, base: p, created: info.CreatedLSN, fork: m.at(old, p), live: true}
			m.names[name] = info.ID
		case r < 78: // delete
			name := pickName()
			if name == "main" {
				continue
			}
			require.NoError(t, c.DeleteBranch(ctx, name))
			m.ids[m.names[name]].live = false
			delete(m.names, name)
		case r < 81: // rename
			name := pickName()
			if name == "main" {
				continue
			}
			newName++
			to := fmt.Sprintf("n%d", newName)
			require.NoError(t, c.RenameBranch(ctx, name, to))
			m.names[to] = m.names[name]
			delete(m.names, name)
		case r < 93: // time passes
			clk.Advance(time.Duration(rng.Int64N(int64(36 * time.Hour))))
		default: // a collection
			if rng.IntN(3) == 0 {
				dry, err := c.GarbageCollect(ctx, GC().SetDryRun(true))
				require.NoError(t, err)
				require.True(t, dry.DryRun)
				require.Zero(t, dry.CollectLSN)
			}
			collector := c
			if other != nil && rng.IntN(2) == 0 {
				collector = other
			}
			rep, err := collector.GarbageCollect(ctx, GC().SetBatchSize(1+rng.IntN(5)))
			require.NoError(t, err)
			horizon = max(horizon, rep.Horizon)
			removed += rep.Records
			checkAll(c, fmt.Sprintf("step %d after gc", step))
			if other != nil {
				checkAll(other, fmt.Sprintf("step %d after gc, other process", step))
			}
		}
	}
	rep, err := c.GarbageCollect(ctx)
	require.NoError(t, err)
	horizon = max(horizon, rep.Horizon)
	removed += rep.Records
	checkAll(c, "end")

	// Only records of branches that are not live became tombstones.
	recs, err := store.Read(ctx, DefaultProject, 1, 1<<20)
	require.NoError(t, err)
	tombs := 0
	for _, r := range recs {
		if r.Tombstone {
			tombs++
			b := m.ids[r.Branch]
			require.False(t, b != nil && b.live, "lsn %d of live branch %s was removed", r.LSN, r.Branch)
		}
	}
	require.Equal(t, removed, tombs, "every removal reported once")

	// A fresh process replays the log with its tombstones and collection
	// records and reads the same.
	if kind == "memory" {
		c2, err := NewClient(ctx, store, opts)
		require.NoError(t, err)
		checkAll(c2, "fresh process")
		// Nothing is left to remove, and the second process agrees.
		rep, err := c2.GarbageCollect(ctx)
		require.NoError(t, err)
		require.Zero(t, rep.Records)
		require.NoError(t, c2.Disconnect(ctx))
	} else {
		// From a checkpoint at the head: listings at earlier points are
		// read from the log, tombstones and all.
		_, err := c.Checkpoint(ctx)
		require.NoError(t, err)
		require.NoError(t, c.Disconnect(ctx))
		ds, err := wal.OpenDir(ctx, dir, &wal.DirOptions{NoSync: true, SegmentSize: 4096})
		require.NoError(t, err)
		c, err = NewClient(ctx, ds, opts)
		require.NoError(t, err)
		checkAll(c, "reopened")
	}
	failed = false
	t.Logf("seed %d: %d records, %d removed, horizon %d, %d live branches", seed, len(recs), removed, horizon, len(m.names))
}
