package wal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

// testTombstoner checks a store's Tombstoner: tombstones keep LSN, time and
// branch, other records are untouched, repeats free nothing, catalog
// records and LSNs beyond the tail are refused, tombstones survive a
// reopen, and appends and reads may run while records are tombstoned.
func testTombstoner(t *testing.T, h storeHarness) {
	ctx := context.Background()
	project := "gc"
	if h.project != nil {
		project = h.project(t, "gc")
	}
	s := h.open(t)
	const n = 40
	recs := testRecords(1, n, contractT0)
	catalogDoc, err := bson.Marshal(bson.D{{Key: "id", Value: "b3"}})
	require.NoError(t, err)
	recs[2] = Record{LSN: 3, Time: recs[2].Time, Ops: []Op{{Kind: OpCreateBranch, Name: "x", Doc: catalogDoc}}}
	for i := 0; i < n; i += 10 {
		_, err := s.Append(ctx, project, recs[i:i+10])
		require.NoError(t, err)
	}
	ts := s.(Tombstoner)
	kill := []LSN{1, 2, 5, 17, 18, 40}
	isKilled := func(l LSN) bool {
		for _, k := range kill {
			if k == l {
				return true
			}
		}
		return false
	}
	check := func(s Store) {
		t.Helper()
		got := readAll(t, s, project)
		require.GreaterOrEqual(t, len(got), n)
		for i, g := range got[:n] {
			if isKilled(g.LSN) {
				require.True(t, g.Tombstone, "lsn %d", g.LSN)
				require.Empty(t, g.Ops)
				require.Equal(t, recs[i].Branch, g.Branch)
				require.True(t, recs[i].Time.Truncate(time.Millisecond).Equal(g.Time))
				continue
			}
			require.False(t, g.Tombstone, "lsn %d", g.LSN)
			requireSameRecord(t, recs[i], g)
		}
	}

	_, _, err = ts.Tombstone(ctx, project, []LSN{3})
	require.ErrorIs(t, err, ErrInvalidRecord, "a catalog record")
	_, _, err = ts.Tombstone(ctx, project, []LSN{5, n + 1})
	require.ErrorIs(t, err, ErrInvalidRecord, "beyond the tail")
	require.Len(t, readAll(t, s, project), n)
	for _, r := range readAll(t, s, project) {
		require.False(t, r.Tombstone, "a refused call changed lsn %d", r.LSN)
	}

	count, freed, err := ts.Tombstone(ctx, project, kill)
	require.NoError(t, err)
	require.Equal(t, len(kill), count)
	require.Positive(t, freed)
	check(s)
	count, freed, err = ts.Tombstone(ctx, project, kill)
	require.NoError(t, err)
	require.Zero(t, count, "tombstones are skipped")
	require.Zero(t, freed, "tombstoning tombstones frees nothing")

	// Appends continue after the last segment was rewritten.
	more := testRecords(n+1, 5, contractT0.Add(time.Second))
	_, err = s.Append(ctx, project, more)
	require.NoError(t, err)
	recs = append(recs, more...)
	got := readAll(t, s, project)
	require.Len(t, got, n+5)
	requireSameRecord(t, more[4], got[n+4])

	if h.reopen != nil {
		s = h.reopen(t, s)
		ts = s.(Tombstoner)
		got := readAll(t, s, project)
		require.Len(t, got, n+5)
		check(s)
	}

	// Appenders and readers while records are tombstoned in batches.
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	wg.Add(2)
	go func() {
		defer wg.Done()
		l := NewLog(s, nil)
		defer l.Close()
		for i := 0; i < 20; i++ {
			if _, err := l.Append(ctx, project, "main", testRecord(1, time.Now()).Ops); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			recs, err := s.Read(ctx, project, 1, 1000)
			if err != nil {
				errs <- err
				return
			}
			for j, r := range recs {
				if r.LSN != LSN(j+1) {
					errs <- fmt.Errorf("read lsn %d at %d", r.LSN, j)
					return
				}
			}
		}
	}()
	for l := LSN(20); l <= 30; l += 2 {
		_, _, err := ts.Tombstone(ctx, project, []LSN{l, l + 1})
		require.NoError(t, err)
		kill = append(kill, l, l+1)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got = readAll(t, s, project)
	require.Len(t, got, n+5+20)
	for _, g := range got[:n] {
		require.Equal(t, isKilled(g.LSN), g.Tombstone, "lsn %d", g.LSN)
	}
}

func TestMemoryStore_Tombstone(t *testing.T) {
	testTombstoner(t, storeHarness{open: func(t *testing.T) Store {
		s := NewMemoryStore()
		t.Cleanup(func() { s.Close() })
		return s
	}})
}

func TestDirStore_Tombstone(t *testing.T) {
	for _, size := range []int64{1024, DefaultSegmentSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			opts := &DirOptions{SegmentSize: size}
			testTombstoner(t, storeHarness{
				open: func(t *testing.T) Store {
					s := openDirT(t, t.TempDir(), opts)
					t.Cleanup(func() { s.Close() })
					return s
				},
				reopen: func(t *testing.T, s Store) Store {
					ds := s.(*DirStore)
					require.NoError(t, ds.Close())
					s2 := openDirT(t, ds.Dir(), opts)
					t.Cleanup(func() { s2.Close() })
					return s2
				},
			})
		})
	}
}

func TestMongoStore_Tombstone(t *testing.T) {
	testTombstoner(t, mongoHarness(t))
}

func TestRecord_Tombstone_Format(t *testing.T) {
	r := testRecord(7, contractT0)
	tomb := tombstoneOf(&r)
	require.ErrorIs(t, tomb.Validate(), ErrInvalidRecord, "Append refuses tombstones")
	got, err := DecodeRecord(tomb.Encode())
	require.NoError(t, err)
	require.True(t, got.Tombstone)
	require.Equal(t, LSN(7), got.LSN)
	require.Equal(t, "main", got.Branch)
	require.Empty(t, got.Ops)

	// A tombstone flag that is not true, or a tombstone with operations,
	// is corruption.
	for name, doc := range map[string]bson.D{
		"false flag": {{Key: "v", Value: int32(1)}, {Key: "l", Value: int64(7)}, {Key: "g", Value: false}, {Key: "o", Value: bson.A{}}},
		"string":     {{Key: "v", Value: int32(1)}, {Key: "l", Value: int64(7)}, {Key: "g", Value: "yes"}, {Key: "o", Value: bson.A{}}},
		"with ops": {{Key: "v", Value: int32(1)}, {Key: "l", Value: int64(7)}, {Key: "g", Value: true},
			{Key: "o", Value: bson.A{bson.D{{Key: "k", Value: int32(OpDropDatabase)}, {Key: "d", Value: "x"}}}}},
	} {
		b, err := bson.Marshal(doc)
		require.NoError(t, err)
		_, err = DecodeRecord(b)
		require.ErrorIs(t, err, ErrCorrupt, name)
	}
}

// TestDirStore_Tombstone_LeftoverRewrite checks that the file a crashed
// rewrite leaves behind is ignored at open and overwritten by the next
// collection.
func TestDirStore_Tombstone_LeftoverRewrite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openDirT(t, dir, nil)
	recs := testRecords(1, 5, contractT0)
	_, err := s.Append(ctx, "p", recs)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	leftover := filepath.Join(dir, "p", segmentName(1)+".gc")
	require.NoError(t, os.WriteFile(leftover, []byte("half a rewrite"), 0o644))
	s = openDirT(t, dir, nil)
	defer s.Close()
	got := readAll(t, s, "p")
	require.Len(t, got, 5)
	n, _, err := s.Tombstone(ctx, "p", []LSN{2})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got = readAll(t, s, "p")
	require.True(t, got[1].Tombstone)
	requireSameRecord(t, recs[2], got[2])
	_, err = os.Stat(leftover)
	require.ErrorIs(t, err, os.ErrNotExist, "the rewrite was renamed into place")
}
