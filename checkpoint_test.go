package argon

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/argon-lab/argon/internal/testenv"
	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// ckptWorkload runs n random operations through c: writes on several
// branches, branches created at heads and at past points, resets, renames,
// deletes, indexes, collection drops.
func ckptWorkload(t *testing.T, c *Client, r *rand.Rand, n int) {
	t.Helper()
	ctx := context.Background()
	live := func() []string {
		bs, err := c.ListBranches(ctx)
		require.NoError(t, err)
		out := make([]string, len(bs))
		for i, b := range bs {
			out[i] = b.Name
		}
		return out
	}
	for i := 0; i < n; i++ {
		names := live()
		br := names[r.Intn(len(names))]
		h := c.WithBranch(br)
		coll := h.Database("app").Collection([]string{"a", "b"}[r.Intn(2)])
		head, err := c.HeadLSN(ctx)
		require.NoError(t, err)
		switch k := r.Intn(40); {
		case k == 0 && len(names) < 8:
			o := Branch().SetFrom(br)
			if r.Intn(2) == 0 && head > 1 {
				o.SetLSN(wal.LSN(1 + r.Int63n(int64(head))))
			}
			_, err = c.CreateBranch(ctx, fmt.Sprintf("b%d", i), o)
		case k == 1 && br != mainBranchName:
			err = c.DeleteBranch(ctx, br)
		case k == 2 && head > 1:
			_, err = c.ResetBranch(ctx, br, Branch().SetLSN(wal.LSN(1+r.Int63n(int64(head)))))
		case k == 3 && br != mainBranchName:
			err = c.RenameBranch(ctx, br, fmt.Sprintf("r%d", i))
		case k == 4:
			_, err = coll.Indexes().CreateOne(ctx, mongoIndex("x", r.Intn(2) == 0))
			if err != nil {
				err = nil // a conflicting unique index on existing data
			}
		case k == 5:
			err = coll.Drop(ctx)
		case k < 20:
			_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "x", Value: i}, {Key: "br", Value: br}})
		case k < 30:
			_, err = coll.UpdateOne(ctx, bson.D{{Key: "x", Value: bson.D{{Key: "$gte", Value: r.Intn(i + 1)}}}},
				bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
		case k < 35:
			_, err = coll.DeleteOne(ctx, bson.D{{Key: "x", Value: bson.D{{Key: "$gte", Value: r.Intn(i + 1)}}}})
		default:
			_, err = coll.InsertMany(ctx, []any{bson.D{{Key: "y", Value: i}}, bson.D{{Key: "y", Value: -i}}})
		}
		if isDupKey(err) {
			err = nil // a unique index said no: nothing was written
		}
		require.NoError(t, err, "op %d on %q", i, br)
	}
}

func isDupKey(err error) bool { return err != nil && IsDuplicateKeyError(err) }

func bufioWriter(w io.Writer) *bufio.Writer { return bufio.NewWriter(w) }

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

func mongoIndex(field string, unique bool) IndexModel {
	return IndexModel{Keys: bson.D{{Key: field, Value: 1}}, Options: options.Index().SetUnique(unique)}
}

// engineImage is everything an engine knows, for comparing two engines: the
// catalog, the times, and every branch's state at many points.
type engineImage struct {
	tail     wal.LSN
	deleted  bool
	times    []int64
	branches map[string]BranchInfo // by id, deleted ones too
	names    map[string]string
	states   map[string]*materialize.State // "id@lsn"
}

func imageOf(t *testing.T, c *Client, every int) engineImage {
	t.Helper()
	ctx := context.Background()
	e := c.eng
	tail, err := e.sync(ctx)
	require.NoError(t, err)
	img := engineImage{tail: tail, branches: map[string]BranchInfo{}, names: map[string]string{}, states: map[string]*materialize.State{}}
	e.mu.RLock()
	img.deleted, img.times = e.deleted, append([]int64(nil), e.times...)
	var ids []string
	e.cat.byID.Scan(func(id string, b *branchState) bool {
		img.branches[id] = b.info()
		ids = append(ids, id)
		return true
	})
	e.cat.byName.Scan(func(name, id string) bool { img.names[name] = id; return true })
	e.mu.RUnlock()
	for _, id := range ids {
		for l := wal.LSN(0); l <= tail; l++ {
			if int(l)%every != 0 && l+3 < tail {
				continue
			}
			st, err := e.stateAt(ctx, id, l)
			require.NoError(t, err)
			img.states[fmt.Sprintf("%s@%d", id, l)] = st
		}
	}
	return img
}

func requireSameImage(t *testing.T, want, got engineImage) {
	t.Helper()
	require.Equal(t, want.tail, got.tail)
	require.Equal(t, want.deleted, got.deleted)
	require.Equal(t, want.times, got.times)
	require.Equal(t, want.branches, got.branches)
	require.Equal(t, want.names, got.names)
	require.Equal(t, len(want.states), len(got.states))
	for k, st := range want.states {
		require.NotNil(t, got.states[k], k)
		require.True(t, st.Equal(got.states[k]), "state %s differs", k)
	}
}

var manualCheckpoints = &Options{CheckpointInterval: -1}

func TestClient_Checkpoint_NewProcessDirStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := Open(ctx, dir, manualCheckpoints)
	require.NoError(t, err)
	r := rand.New(rand.NewSource(1))
	ckptWorkload(t, c, r, 250)
	lsn, err := c.Checkpoint(ctx)
	require.NoError(t, err)
	head, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	require.Equal(t, head, lsn)
	ckptWorkload(t, c, r, 60) // a tail the next process replays
	before := imageOf(t, c, 3)
	require.NoError(t, c.Disconnect(ctx))

	// A new process starts from the checkpoint...
	c2, err := Open(ctx, dir, manualCheckpoints)
	require.NoError(t, err)
	require.Equal(t, lsn, c2.eng.ckpt.loaded)
	require.Empty(t, c2.eng.ckpt.skipped)
	fromCkpt := imageOf(t, c2, 3)
	// ...and keeps going like the first one did.
	ckptWorkload(t, c2, rand.New(rand.NewSource(2)), 40)
	after := imageOf(t, c2, 5)
	require.NoError(t, c2.Disconnect(ctx))

	// A process that replays the whole log sees the very same.
	c3, err := Open(ctx, dir, &Options{IgnoreCheckpoints: true, CheckpointInterval: -1})
	require.NoError(t, err)
	defer c3.Disconnect(ctx)
	require.Zero(t, c3.eng.ckpt.loaded)
	requireSameImage(t, before, fromCkpt)
	requireSameImage(t, after, imageOf(t, c3, 5))
}

// After a load, reads before the checkpoint replay from the fork once and
// keep states on the way, so the next reads there are bounded again.
func TestClient_Checkpoint_PastReadsRebuildCheckpoints(t *testing.T) {
	ctx := context.Background()
	store := wal.NewMemoryStore()
	c, err := NewClient(ctx, store, manualCheckpoints)
	require.NoError(t, err)
	for i := 0; i < 300; i++ {
		insert(t, c, fmt.Sprintf("n%d", i))
	}
	_, err = c.Checkpoint(ctx)
	require.NoError(t, err)
	c2, err := NewClient(ctx, store, manualCheckpoints)
	require.NoError(t, err)
	main := c2.eng.cat.get(mainBranchID)
	require.Len(t, main.ckpts, 1, "the loaded head")
	require.Equal(t, []string{"n0", "n1", "n10", "n11"}, names(t, c2.AtLSN(100))[:4])
	require.Len(t, names(t, c2.AtLSN(100)), 100)
	c2.eng.mu.RLock()
	n := len(c2.eng.cat.get(mainBranchID).ckpts)
	c2.eng.mu.RUnlock()
	require.Equal(t, 1+100/checkpointEvery, n, "the loaded head and the state after 64 records")
	_, from := c2.eng.cat.get(mainBranchID).checkpointBefore(100)
	require.Equal(t, 64, from, "a read at lsn 100 now replays from the state after 64 records")
	require.NoError(t, c2.Disconnect(ctx))
}

func TestClient_Checkpoint_CorruptFallsBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := Open(ctx, dir, manualCheckpoints)
	require.NoError(t, err)
	r := rand.New(rand.NewSource(3))
	ckptWorkload(t, c, r, 80)
	first, err := c.Checkpoint(ctx)
	require.NoError(t, err)
	ckptWorkload(t, c, r, 80)
	second, err := c.Checkpoint(ctx)
	require.NoError(t, err)
	ckptWorkload(t, c, r, 20)
	want := imageOf(t, c, 4)
	require.NoError(t, c.Disconnect(ctx))

	file := func(lsn wal.LSN) string {
		return filepath.Join(dir, DefaultProject, "checkpoints", fmt.Sprintf("%020d.ckpt", lsn))
	}
	damage := []struct {
		name string
		do   func(path string)
	}{
		{"flipped byte", func(p string) {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			b[len(b)/3] ^= 0x10
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}},
		{"truncated", func(p string) {
			fi, err := os.Stat(p)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(p, fi.Size()-5))
		}},
	}
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			saved, err := os.ReadFile(file(second))
			require.NoError(t, err)
			defer os.WriteFile(file(second), saved, 0o644)
			d.do(file(second))
			c, err := Open(ctx, dir, manualCheckpoints)
			require.NoError(t, err)
			defer c.Disconnect(ctx)
			require.Equal(t, first, c.eng.ckpt.loaded, "the older checkpoint")
			require.Len(t, c.eng.ckpt.skipped, 1)
			require.ErrorIs(t, c.eng.ckpt.skipped[0], wal.ErrCorrupt)
			requireSameImage(t, want, imageOf(t, c, 4))
		})
	}
	t.Run("both damaged", func(t *testing.T) {
		for _, lsn := range []wal.LSN{first, second} {
			b, err := os.ReadFile(file(lsn))
			require.NoError(t, err)
			b[100] ^= 1
			require.NoError(t, os.WriteFile(file(lsn), b, 0o644))
		}
		c, err := Open(ctx, dir, manualCheckpoints)
		require.NoError(t, err)
		defer c.Disconnect(ctx)
		require.Zero(t, c.eng.ckpt.loaded, "a full replay")
		require.Len(t, c.eng.ckpt.skipped, 2)
		requireSameImage(t, want, imageOf(t, c, 4))
	})
	t.Run("checkpoint of another log", func(t *testing.T) {
		// Same project name, same LSN, other history: the record's time
		// gives it away.
		other := t.TempDir()
		oc, err := Open(ctx, other, manualCheckpoints)
		require.NoError(t, err)
		time.Sleep(5 * time.Millisecond)
		for i := wal.LSN(0); i < second; i++ {
			insert(t, oc, "other")
		}
		lsn, err := oc.Checkpoint(ctx)
		require.NoError(t, err)
		require.Equal(t, second, lsn)
		require.NoError(t, oc.Disconnect(ctx))
		b, err := os.ReadFile(filepath.Join(other, DefaultProject, "checkpoints", fmt.Sprintf("%020d.ckpt", lsn)))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(file(second), b, 0o644))
		require.NoError(t, os.Remove(file(first)))
		c, err := Open(ctx, dir, manualCheckpoints)
		require.NoError(t, err)
		defer c.Disconnect(ctx)
		require.Zero(t, c.eng.ckpt.loaded)
		require.Len(t, c.eng.ckpt.skipped, 1)
		require.ErrorIs(t, c.eng.ckpt.skipped[0], errBadCheckpoint)
		requireSameImage(t, want, imageOf(t, c, 4))
	})
}

// Checkpoints written while several goroutines write (explicitly and in
// the background, every 25 records) are each a consistent snapshot: a new
// client starting from the newest sees what a full replay sees.
func TestClient_Checkpoint_ConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	store := wal.NewMemoryStore()
	c, err := NewClient(ctx, store, &Options{CheckpointInterval: 25})
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	_, err = c.CreateBranch(ctx, "side")
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := c.WithBranch([]string{mainBranchName, "side"}[g%2])
			coll := h.Database("app").Collection("items")
			for i := 0; i < 60; i++ {
				if _, err := coll.InsertOne(ctx, bson.D{{Key: "g", Value: g}, {Key: "i", Value: i}}); err != nil {
					errs <- err
					return
				}
				if i%10 == 0 {
					if _, err := coll.UpdateMany(ctx, bson.D{{Key: "g", Value: g}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 5; i++ {
			if _, err := c.Checkpoint(ctx); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	// Wait for a background checkpoint in flight.
	c.eng.ckpt.mu.Lock()
	c.eng.ckpt.mu.Unlock()
	c.eng.ckpt.wg.Wait()
	require.NoError(t, c.eng.ckpt.lastErr)
	lsns, err := store.Checkpoints(ctx, DefaultProject)
	require.NoError(t, err)
	require.NotEmpty(t, lsns)

	c2, err := NewClient(ctx, store, manualCheckpoints)
	require.NoError(t, err)
	require.Equal(t, lsns[0], c2.eng.ckpt.loaded)
	ref, err := NewClient(ctx, store, &Options{IgnoreCheckpoints: true, CheckpointInterval: -1})
	require.NoError(t, err)
	requireSameImage(t, imageOf(t, ref, 7), imageOf(t, c2, 7))
}

func TestClient_Checkpoint_Background(t *testing.T) {
	ctx := context.Background()
	store := wal.NewMemoryStore()
	c, err := NewClient(ctx, store, &Options{CheckpointInterval: 20})
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	for i := 0; i < 50; i++ {
		insert(t, c, fmt.Sprintf("n%d", i))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		lsns, err := store.Checkpoints(ctx, DefaultProject)
		require.NoError(t, err)
		if len(lsns) > 0 && lsns[0] >= 20 {
			break
		}
		require.True(t, time.Now().Before(deadline), "no background checkpoint")
		time.Sleep(10 * time.Millisecond)
	}
	c2, err := NewClient(ctx, store, manualCheckpoints)
	require.NoError(t, err)
	require.GreaterOrEqual(t, c2.eng.ckpt.loaded, wal.LSN(20))
	require.Len(t, names(t, c2), 50)
}

func TestClient_Checkpoint_BadInput(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t, nil)
	lsn, err := c.Checkpoint(ctx)
	require.NoError(t, err)
	require.Zero(t, lsn, "an empty log needs none")

	noCkpt, err := NewClient(ctx, plainStore{wal.NewMemoryStore()})
	require.NoError(t, err)
	defer noCkpt.Disconnect(ctx)
	insert(t, noCkpt, "a")
	_, err = noCkpt.Checkpoint(ctx)
	require.ErrorIs(t, err, ErrNoCheckpoints)

	require.NoError(t, c.Disconnect(ctx))
	_, err = c.Checkpoint(ctx)
	require.Error(t, err)

	// A deleted project can be checkpointed and loads as deleted.
	store := wal.NewMemoryStore()
	d, err := NewClient(ctx, store, manualCheckpoints)
	require.NoError(t, err)
	require.NoError(t, d.CreateProject(ctx, "gone"))
	g, err := d.WithProject(ctx, "gone")
	require.NoError(t, err)
	insert(t, g, "x")
	_, err = g.Checkpoint(ctx)
	require.NoError(t, err)
	require.NoError(t, d.DeleteProject(ctx, "gone"))
	_, err = g.Checkpoint(ctx)
	require.ErrorIs(t, err, ErrProjectNotFound)
	d2, err := NewClient(ctx, store, &Options{Project: "gone", CheckpointInterval: -1})
	if err == nil {
		require.Equal(t, wal.LSN(2), d2.eng.ckpt.loaded)
		_, err = d2.Database("app").Collection("items").CountDocuments(ctx, bson.D{})
	}
	require.ErrorIs(t, err, ErrProjectNotFound)
}

// plainStore hides a store's checkpoints.
type plainStore struct{ wal.Store }

// Damaged checkpoint content is refused, never half-loaded, never a panic.
func TestDecodeCheckpoint_BadInput(t *testing.T) {
	ctx := context.Background()
	store := wal.NewMemoryStore()
	c, err := NewClient(ctx, store, manualCheckpoints)
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	ckptWorkload(t, c, rand.New(rand.NewSource(5)), 60)
	snap, err := c.eng.snapshotForCheckpoint()
	require.NoError(t, err)
	var buf bytes.Buffer
	w := bufioWriter(&buf)
	require.NoError(t, encodeCheckpoint(w, DefaultProject, snap))
	require.NoError(t, w.Flush())
	good := buf.Bytes()
	_, err = decodeCheckpoint(bufioReader(good), DefaultProject, snap.lsn)
	require.NoError(t, err)
	_, err = decodeCheckpoint(bufioReader(good), "other", snap.lsn)
	require.ErrorIs(t, err, errBadCheckpoint)
	_, err = decodeCheckpoint(bufioReader(good), DefaultProject, snap.lsn+1)
	require.ErrorIs(t, err, errBadCheckpoint)
	r := rand.New(rand.NewSource(6))
	for i := 0; i < 1500; i++ {
		b := bytes.Clone(good)
		if i%2 == 0 {
			b = b[:r.Intn(len(b))]
		} else {
			b[r.Intn(len(b))] ^= byte(1 + r.Intn(255))
		}
		if _, err := decodeCheckpoint(bufioReader(b), DefaultProject, snap.lsn); err != nil {
			require.ErrorIs(t, err, errBadCheckpoint)
		}
	}
}

func TestClient_Checkpoint_MongoStore(t *testing.T) {
	uri := testenv.MongoURI(t)
	ctx := context.Background()
	db := testenv.UniqueDBName(t, "ckpt")
	open := func(o Options) *Client {
		o.LogDatabase = db
		c, err := ConnectWithOptions(ctx, &o, options.Client().ApplyURI(uri))
		require.NoError(t, err)
		return c
	}
	c := open(Options{CheckpointInterval: -1})
	defer c.Disconnect(ctx)
	r := rand.New(rand.NewSource(7))
	ckptWorkload(t, c, r, 40)
	lsn, err := c.Checkpoint(ctx)
	require.NoError(t, err)
	ckptWorkload(t, c, r, 10)

	// Two processes checkpoint at once, and a new one starts from it.
	other := open(Options{CheckpointInterval: -1})
	defer other.Disconnect(ctx)
	var wg sync.WaitGroup
	var e1, e2 error
	var l1, l2 wal.LSN
	wg.Add(2)
	go func() { defer wg.Done(); l1, e1 = c.Checkpoint(ctx) }()
	go func() { defer wg.Done(); l2, e2 = other.Checkpoint(ctx) }()
	wg.Wait()
	require.NoError(t, e1)
	require.NoError(t, e2)
	require.Equal(t, l1, l2)
	require.Greater(t, l1, lsn)

	c2 := open(Options{CheckpointInterval: -1})
	defer c2.Disconnect(ctx)
	require.Equal(t, l1, c2.eng.ckpt.loaded)
	ref := open(Options{CheckpointInterval: -1, IgnoreCheckpoints: true})
	defer ref.Disconnect(ctx)
	requireSameImage(t, imageOf(t, ref, 6), imageOf(t, c2, 6))
	lsns, err := checkpointerOf(c.store).Checkpoints(ctx, DefaultProject)
	require.NoError(t, err)
	require.Equal(t, []wal.LSN{l1, lsn}, lsns)
}

// failingCkptStore is a memory store whose checkpoints cannot be written.
type failingCkptStore struct {
	*wal.MemoryStore
	mu    sync.Mutex
	calls int
}

var errCkptDown = errors.New("checkpoint storage down")

func (s *failingCkptStore) PutCheckpoint(ctx context.Context, project string, lsn wal.LSN, write func(io.Writer) error) error {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	return errCkptDown
}

// A store that fails checkpoints is retried once per interval, not at
// every record, and writes go on.
func TestClient_Checkpoint_BackgroundFailureBacksOff(t *testing.T) {
	ctx := context.Background()
	store := &failingCkptStore{MemoryStore: wal.NewMemoryStore()}
	c, err := NewClient(ctx, store, &Options{CheckpointInterval: 10})
	require.NoError(t, err)
	for i := 0; i < 100; i++ {
		insert(t, c, fmt.Sprintf("n%d", i))
	}
	// The attempts run in the background: wait for the first to fail.
	require.Eventually(t, func() bool {
		c.eng.ckpt.mu.Lock()
		defer c.eng.ckpt.mu.Unlock()
		return c.eng.ckpt.lastErr != nil
	}, 10*time.Second, time.Millisecond)
	require.NoError(t, c.Disconnect(ctx))
	require.ErrorIs(t, c.eng.ckpt.lastErr, errCkptDown)
	store.mu.Lock()
	defer store.mu.Unlock()
	require.GreaterOrEqual(t, store.calls, 1)
	require.LessOrEqual(t, store.calls, 10)
	_, err = c.Checkpoint(ctx)
	require.Error(t, err)
}

// Engines of other projects (WithProject) load their checkpoints too, with
// the client's options.
func TestClient_Checkpoint_WithProject(t *testing.T) {
	ctx := context.Background()
	store := wal.NewMemoryStore()
	c, err := NewClient(ctx, store, manualCheckpoints)
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	p, err := c.WithProject(ctx, "other")
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		insert(t, p, fmt.Sprintf("n%d", i))
	}
	lsn, err := p.Checkpoint(ctx)
	require.NoError(t, err)
	require.Equal(t, wal.LSN(5), lsn)
	insert(t, p, "n5")

	c2, err := NewClient(ctx, store, manualCheckpoints)
	require.NoError(t, err)
	defer c2.Disconnect(ctx)
	p2, err := c2.WithProject(ctx, "other")
	require.NoError(t, err)
	require.Equal(t, lsn, p2.eng.ckpt.loaded)
	require.Len(t, names(t, p2), 6)
	require.Zero(t, c2.eng.ckpt.loaded, "the default project has no checkpoint")

	c3, err := NewClient(ctx, store, &Options{IgnoreCheckpoints: true})
	require.NoError(t, err)
	defer c3.Disconnect(ctx)
	p3, err := c3.WithProject(ctx, "other")
	require.NoError(t, err)
	require.Zero(t, p3.eng.ckpt.loaded)
	require.Len(t, names(t, p3), 6)
}

func TestClient_Checkpoints_Lists(t *testing.T) {
	ctx := context.Background()
	c, err := NewClient(ctx, wal.NewMemoryStore(), manualCheckpoints)
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	got, err := c.Checkpoints(ctx)
	require.NoError(t, err)
	require.Empty(t, got)
	insert(t, c, "a")
	first, err := c.Checkpoint(ctx)
	require.NoError(t, err)
	insert(t, c, "b")
	second, err := c.Checkpoint(ctx)
	require.NoError(t, err)
	got, err = c.Checkpoints(ctx)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, []wal.LSN{second, first}, []wal.LSN{got[0].LSN, got[1].LSN})
	_, headTime, err := c.Head(ctx)
	require.NoError(t, err)
	require.Equal(t, headTime, got[0].Time)
	require.False(t, got[1].Time.IsZero())
}

func TestClient_LogSize(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, t.TempDir())
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	before, shared, err := c.LogSize(ctx)
	require.NoError(t, err)
	require.False(t, shared)
	insert(t, c, "a")
	after, _, err := c.LogSize(ctx)
	require.NoError(t, err)
	require.Greater(t, after, before)
}
