package wal

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDirStore_Contract(t *testing.T) {
	// A small segment size so the suite also crosses segment boundaries.
	opts := &DirOptions{SegmentSize: 4096}
	testStoreContract(t, storeHarness{
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
}
