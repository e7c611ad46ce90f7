package argon

// Benchmarks and size checks of persisted checkpoints:
//
//	go test -run '^$' -bench OpenProject -benchtime 3x .
//	go test -run '^$' -bench CheckpointBranches -benchtime 1x .

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

// openDirClient opens the embedded store in dir without fsyncs.
func openDirClient(tb testing.TB, dir string, o *Options) *Client {
	tb.Helper()
	ctx := context.Background()
	s, err := wal.OpenDir(ctx, dir, &wal.DirOptions{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	c, err := NewClient(ctx, s, o)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func ckptFileSize(tb testing.TB, dir string, lsn wal.LSN) int64 {
	fi, err := os.Stat(filepath.Join(dir, DefaultProject, "checkpoints", fmt.Sprintf("%020d.ckpt", lsn)))
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// branchFanOut creates n branches off main, each updating k documents of
// bench.items (which holds docs documents).
func branchFanOut(tb testing.TB, c *Client, n, k, docs int) {
	tb.Helper()
	ctx := context.Background()
	for j := range n {
		name := fmt.Sprintf("fan-%d", j)
		if _, err := c.CreateBranch(ctx, name); err != nil {
			tb.Fatal(err)
		}
		coll := benchItems(c.WithBranch(name))
		for i := range k {
			id := (j*k + i) * (docs / (n * k))
			if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: -1}}}}); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// sharedDocs counts the documents of ns that a and b share by pointer.
func sharedDocs(a, b *materialize.State, ns materialize.Namespace) int {
	ia, ib := a.Collection(ns).IterByID(), b.Collection(ns).IterByID()
	defer ia.Release()
	defer ib.Release()
	n := 0
	for ia.Valid() && ib.Valid() {
		da, db := ia.Doc(), ib.Doc()
		switch c := materialize.CompareValues(da.ID, db.ID); {
		case c < 0:
			ia.Next()
		case c > 0:
			ib.Next()
		default:
			if da == db {
				n++
			}
			ia.Next()
			ib.Next()
		}
	}
	return n
}

// Branches that share their parent's documents are written once, and load
// sharing them again.
func TestClient_Checkpoint_SharedBranchesWrittenOnce(t *testing.T) {
	const docs, branches, changes = 20_000, 40, 5
	ctx := context.Background()
	dir := t.TempDir()
	c := openDirClient(t, dir, manualCheckpoints)
	seedBench(t, c, docs)
	mainOnly, err := c.Checkpoint(ctx)
	require.NoError(t, err)
	branchFanOut(t, c, branches, changes, docs)
	all, err := c.Checkpoint(ctx)
	require.NoError(t, err)
	require.NoError(t, c.Disconnect(ctx))
	s1, s2 := ckptFileSize(t, dir, mainOnly), ckptFileSize(t, dir, all)
	require.Less(t, float64(s2), 1.2*float64(s1), "main alone %d bytes, with %d branches %d bytes", s1, branches, s2)

	c2 := openDirClient(t, dir, manualCheckpoints)
	defer c2.Disconnect(ctx)
	require.Equal(t, all, c2.eng.ckpt.loaded)
	ns := materialize.Namespace{DB: "bench", Coll: "items"}
	mainHead := c2.eng.cat.get(mainBranchID).head
	for j := range branches {
		b, err := c2.eng.cat.resolve(fmt.Sprintf("fan-%d", j))
		require.NoError(t, err)
		require.Equal(t, docs-changes, sharedDocs(mainHead, b.head, ns), "branch %d", j)
	}
}

// BenchmarkOpenProject is the time a new client takes to open a project
// whose log holds records single-document inserts: replaying the whole
// log, or loading a checkpoint at its end (ckpt-B is its size). The
// embedded store runs without fsync; OpenDir, which indexes the segment
// files, is part of both, and store-only is its time alone.
func BenchmarkOpenProject(b *testing.B) {
	ctx := context.Background()
	for _, records := range []int{10_000, 100_000} {
		dir := b.TempDir()
		c := openDirClient(b, dir, manualCheckpoints)
		var wg sync.WaitGroup
		const writers = 8
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < records; i += writers {
					if _, err := benchItems(c).InsertOne(ctx, benchDoc(i)); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		lsn, err := c.Checkpoint(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Disconnect(ctx); err != nil {
			b.Fatal(err)
		}
		size := ckptFileSize(b, dir, lsn)
		b.Run(fmt.Sprintf("records=%d/store-only", records), func(b *testing.B) {
			for range b.N {
				s, err := wal.OpenDir(ctx, dir, &wal.DirOptions{NoSync: true})
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
		for _, mode := range []string{"replay", "checkpoint"} {
			b.Run(fmt.Sprintf("records=%d/%s", records, mode), func(b *testing.B) {
				o := &Options{CheckpointInterval: -1, IgnoreCheckpoints: mode == "replay"}
				for range b.N {
					c := openDirClient(b, dir, o)
					if mode == "checkpoint" && c.eng.ckpt.loaded != lsn {
						b.Fatalf("loaded %d, want %d", c.eng.ckpt.loaded, lsn)
					}
					if err := c.Disconnect(ctx); err != nil {
						b.Fatal(err)
					}
				}
				if mode == "checkpoint" {
					b.ReportMetric(float64(size), "ckpt-B")
				}
			})
		}
	}
}

// BenchmarkCheckpointBranches writes and loads the checkpoint of a
// 100,000-document main with 100 branches each changing 10 documents:
// write-ms and load-ms, ckpt-B (main-ckpt-B for main alone), and the live
// heap after opening from the checkpoint (load-heap-B) and by replaying the
// log (replay-heap-B). Run it with -benchtime 1x.
func BenchmarkCheckpointBranches(b *testing.B) {
	const docs, branches, changes = 100_000, 100, 10
	ctx := context.Background()
	dir := b.TempDir()
	c := openDirClient(b, dir, manualCheckpoints)
	seedBench(b, c, docs)
	mainOnly, err := c.Checkpoint(ctx)
	if err != nil {
		b.Fatal(err)
	}
	branchFanOut(b, c, branches, changes, docs)
	if err := c.Disconnect(ctx); err != nil {
		b.Fatal(err)
	}
	heapOf := func(o *Options) (float64, *Client) {
		before := heapInUse()
		c := openDirClient(b, dir, o)
		return float64(heapInUse()) - float64(before), c
	}
	var writeNs, loadNs, loadHeap, replayHeap float64
	var lsn wal.LSN
	for range b.N {
		c := openDirClient(b, dir, manualCheckpoints)
		start := time.Now()
		lsn, err = c.Checkpoint(ctx)
		if err != nil {
			b.Fatal(err)
		}
		writeNs = float64(time.Since(start).Nanoseconds())
		if err := c.Disconnect(ctx); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		c4 := openDirClient(b, dir, manualCheckpoints)
		loadNs = float64(time.Since(start).Nanoseconds())
		c4.Disconnect(ctx)
		h, c2 := heapOf(manualCheckpoints)
		if c2.eng.ckpt.loaded != lsn {
			b.Fatalf("loaded %d, want %d", c2.eng.ckpt.loaded, lsn)
		}
		loadHeap = h
		c2.Disconnect(ctx)
		h, c3 := heapOf(&Options{CheckpointInterval: -1, IgnoreCheckpoints: true})
		replayHeap = h
		c3.Disconnect(ctx)
	}
	b.ReportMetric(writeNs/1e6, "write-ms")
	b.ReportMetric(loadNs/1e6, "load-ms")
	b.ReportMetric(float64(ckptFileSize(b, dir, lsn)), "ckpt-B")
	b.ReportMetric(float64(ckptFileSize(b, dir, mainOnly)), "main-ckpt-B")
	b.ReportMetric(loadHeap, "load-heap-B")
	b.ReportMetric(replayHeap, "replay-heap-B")
}
