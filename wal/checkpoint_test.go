package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func ckptContent(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func putBytes(ctx context.Context, c Checkpointer, project string, lsn LSN, data []byte) error {
	return c.PutCheckpoint(ctx, project, lsn, func(w io.Writer) error {
		// Odd-sized writes cross block boundaries.
		for len(data) > 0 {
			k := min(len(data), 77_777)
			if _, err := w.Write(data[:k]); err != nil {
				return err
			}
			data = data[k:]
		}
		return nil
	})
}

func readCkpt(ctx context.Context, c Checkpointer, project string, lsn LSN) ([]byte, error) {
	r, err := c.OpenCheckpoint(ctx, project, lsn)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func testCheckpointContract(t *testing.T, h storeHarness, checksTail bool) {
	ctx := context.Background()
	if h.project == nil {
		h.project = func(t *testing.T, suffix string) string { return "p" + suffix }
	}
	setup := func(t *testing.T, suffix string, n int) (Store, Checkpointer, string) {
		s := h.open(t)
		p := h.project(t, suffix)
		_, err := s.Append(ctx, p, testRecords(1, n, contractT0))
		require.NoError(t, err)
		return s, s.(Checkpointer), p
	}

	t.Run("RoundTrip", func(t *testing.T) {
		_, c, p := setup(t, "rt", 5)
		lsns, err := c.Checkpoints(ctx, p)
		require.NoError(t, err)
		require.Empty(t, lsns)
		_, err = c.OpenCheckpoint(ctx, p, 3)
		require.ErrorIs(t, err, ErrCheckpointNotFound)
		for _, tc := range []struct {
			lsn LSN
			n   int
		}{{1, 0}, {2, 10}, {3, 3*ckptBlockSize + 12345}} {
			data := ckptContent(uint64(tc.lsn), tc.n)
			require.NoError(t, putBytes(ctx, c, p, tc.lsn, data))
			got, err := readCkpt(ctx, c, p, tc.lsn)
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, got), "lsn %d: %d bytes back, want %d", tc.lsn, len(got), len(data))
		}
		lsns, err = c.Checkpoints(ctx, p)
		require.NoError(t, err)
		require.Equal(t, []LSN{3, 2}, lsns, "the newest KeepCheckpoints are kept")
		_, err = c.OpenCheckpoint(ctx, p, 1)
		require.ErrorIs(t, err, ErrCheckpointNotFound)
		if h.reopen != nil {
			s := h.reopen(t, c.(Store))
			got, err := readCkpt(ctx, s.(Checkpointer), p, 3)
			require.NoError(t, err)
			require.True(t, bytes.Equal(ckptContent(3, 3*ckptBlockSize+12345), got))
		}
	})

	t.Run("FailedWriteIsInvisible", func(t *testing.T) {
		_, c, p := setup(t, "fail", 3)
		boom := errors.New("boom")
		err := c.PutCheckpoint(ctx, p, 2, func(w io.Writer) error {
			_, _ = w.Write(ckptContent(1, ckptBlockSize+1))
			return boom
		})
		require.ErrorIs(t, err, boom)
		lsns, err := c.Checkpoints(ctx, p)
		require.NoError(t, err)
		require.Empty(t, lsns)
	})

	t.Run("SameLSNTwice", func(t *testing.T) {
		_, c, p := setup(t, "twice", 3)
		require.NoError(t, putBytes(ctx, c, p, 2, []byte("first")))
		require.NoError(t, putBytes(ctx, c, p, 2, []byte("first")))
		lsns, err := c.Checkpoints(ctx, p)
		require.NoError(t, err)
		require.Equal(t, []LSN{2}, lsns)
		got, err := readCkpt(ctx, c, p, 2)
		require.NoError(t, err)
		require.Equal(t, "first", string(got))
	})

	t.Run("BadInput", func(t *testing.T) {
		_, c, p := setup(t, "bad", 3)
		require.ErrorIs(t, putBytes(ctx, c, "bad name!", 1, nil), ErrInvalidName)
		require.Error(t, putBytes(ctx, c, p, 0, nil))
		if checksTail {
			require.Error(t, putBytes(ctx, c, p, 4, nil), "beyond the tail")
		}
		_, err := c.Checkpoints(ctx, "bad name!")
		require.ErrorIs(t, err, ErrInvalidName)
	})

	t.Run("ConcurrentPuts", func(t *testing.T) {
		_, c, p := setup(t, "conc", 20)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 4; i++ {
					lsn := LSN(1 + (g*7+i*3)%20)
					errs <- putBytes(ctx, c, p, lsn, ckptContent(uint64(lsn), 1000+int(lsn)))
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		// Every listed checkpoint reads back whole; the newest put survives
		// (pruning may have raced, but never removes the newest).
		lsns, err := c.Checkpoints(ctx, p)
		require.NoError(t, err)
		require.NotEmpty(t, lsns)
		newest := LSN(0)
		for g := 0; g < 4; g++ {
			for i := 0; i < 4; i++ {
				newest = max(newest, LSN(1+(g*7+i*3)%20))
			}
		}
		require.Equal(t, newest, lsns[0])
		for _, lsn := range lsns {
			got, err := readCkpt(ctx, c, p, lsn)
			require.NoError(t, err)
			require.True(t, bytes.Equal(ckptContent(uint64(lsn), 1000+int(lsn)), got))
		}
	})
}

func TestMemoryStore_Checkpoints(t *testing.T) {
	testCheckpointContract(t, storeHarness{open: func(t *testing.T) Store {
		s := NewMemoryStore()
		t.Cleanup(func() { s.Close() })
		return s
	}}, true)
}

func TestDirStore_Checkpoints(t *testing.T) {
	opts := &DirOptions{SegmentSize: 4096}
	testCheckpointContract(t, storeHarness{
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
	}, true)
}

func TestMongoStore_Checkpoints(t *testing.T) {
	testCheckpointContract(t, mongoHarness(t), false)
}

// Every kind of damage to a stored checkpoint fails the read with
// ErrCorrupt: never different bytes, never a silent success.
func TestCheckpointFraming_Damage(t *testing.T) {
	data := ckptContent(9, 2*ckptBlockSize+100)
	var buf bytes.Buffer
	require.NoError(t, writeCheckpoint(&buf, 42, func(w io.Writer) error { _, err := w.Write(data); return err }))
	good := buf.Bytes()
	read := func(b []byte, lsn LSN) ([]byte, error) {
		return io.ReadAll(newCkptReader(bytes.NewReader(b), nil, lsn, "test"))
	}
	got, err := read(good, 42)
	require.NoError(t, err)
	require.Equal(t, data, got)

	flip := func(off int) []byte { b := bytes.Clone(good); b[off] ^= 0x40; return b }
	blockEnd := ckptHeaderSize + ckptBlockHead + ckptBlockSize
	cases := []struct {
		name string
		b    []byte
		lsn  LSN
	}{
		{"empty", nil, 42},
		{"magic", flip(0), 42},
		{"version", flip(4), 42},
		{"other lsn", good, 43},
		{"block length", flip(ckptHeaderSize), 42},
		{"block crc", flip(ckptHeaderSize + 4), 42},
		{"first data byte", flip(ckptHeaderSize + ckptBlockHead), 42},
		{"second block", flip(blockEnd + ckptBlockHead + 5), 42},
		{"end block total", flip(len(good) - 1), 42},
		{"truncated in header", good[:10], 42},
		{"truncated at block boundary", good[:blockEnd], 42},
		{"truncated in block", good[:blockEnd-1], 42},
		{"no end block", good[:len(good)-16], 42},
		{"trailing garbage", append(bytes.Clone(good), 0), 42},
		{"blocks swapped", swapBlocks(good), 42},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := read(tc.b, tc.lsn)
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
}

// swapBlocks exchanges the first two (equal-sized) blocks.
func swapBlocks(good []byte) []byte {
	b := bytes.Clone(good)
	n := ckptBlockHead + ckptBlockSize
	a := ckptHeaderSize
	tmp := bytes.Clone(b[a : a+n])
	copy(b[a:a+n], b[a+n:a+2*n])
	copy(b[a+n:a+2*n], tmp)
	return b
}

func TestDirStore_Checkpoint_CorruptFileAndLeftovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openDirT(t, dir, nil)
	defer s.Close()
	_, err := s.Append(ctx, "p", testRecords(1, 3, contractT0))
	require.NoError(t, err)
	require.NoError(t, putBytes(ctx, s, "p", 2, ckptContent(1, 5000)))

	// A damaged byte in the file: the read fails.
	path := filepath.Join(dir, "p", dirCkptDir, ckptFileName(2))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[len(b)/2] ^= 1
	require.NoError(t, os.WriteFile(path, b, 0o644))
	_, err = readCkpt(ctx, s, "p", 2)
	require.ErrorIs(t, err, ErrCorrupt)

	// A temporary file left by a crash goes at the next put; an unrelated
	// file stays.
	leftover := filepath.Join(dir, "p", dirCkptDir, ckptFileName(1)+".123"+dirTmpExt)
	other := filepath.Join(dir, "p", dirCkptDir, "README")
	require.NoError(t, os.WriteFile(leftover, []byte("partial"), 0o644))
	require.NoError(t, os.WriteFile(other, []byte("x"), 0o644))
	require.NoError(t, putBytes(ctx, s, "p", 3, []byte("ok")))
	_, err = os.Stat(leftover)
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat(other)
	require.NoError(t, err)
	lsns, err := s.Checkpoints(ctx, "p")
	require.NoError(t, err)
	require.Equal(t, []LSN{3, 2}, lsns)

	// The log itself is untouched by checkpoints.
	s2 := reopenDirT(t, s, dir)
	recs := readAll(t, s2, "p")
	require.Len(t, recs, 3)
}

func reopenDirT(t *testing.T, s *DirStore, dir string) *DirStore {
	require.NoError(t, s.Close())
	s2 := openDirT(t, dir, nil)
	t.Cleanup(func() { s2.Close() })
	return s2
}

func TestMongoStore_Checkpoint_MissingChunk(t *testing.T) {
	ctx := context.Background()
	h := mongoHarness(t)
	s := h.open(t).(*MongoStore)
	p := h.project(t, "chunk")
	_, err := s.Append(ctx, p, testRecords(1, 2, contractT0))
	require.NoError(t, err)
	data := ckptContent(3, mongoCkptChunkSize+1000) // two chunks
	require.NoError(t, putBytes(ctx, s, p, 2, data))
	got, err := readCkpt(ctx, s, p, 2)
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))

	_, chunks := s.ckptColls()
	list, err := s.ckptHeads(ctx, p)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, int32(2), list[0].N)
	_, err = chunks.DeleteOne(ctx, map[string]string{"_id": fmt.Sprintf("%s/%06d", list[0].Set, 1)})
	require.NoError(t, err)
	_, err = readCkpt(ctx, s, p, 2)
	require.ErrorIs(t, err, ErrCorrupt)
}
