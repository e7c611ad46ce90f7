package wal

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// storeHarness lets one contract suite run against every Store.
type storeHarness struct {
	open func(t *testing.T) Store
	// reopen closes s and opens the same data again; nil for stores that do
	// not persist.
	reopen func(t *testing.T, s Store) Store
	// project returns a project name unique to the test, so stores that
	// share a server do not see each other's data.
	project func(t *testing.T, suffix string) string
}

var contractT0 = time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)

func testDoc(id int, payload string) bson.Raw {
	b, err := bson.Marshal(bson.D{{Key: "_id", Value: int32(id)}, {Key: "v", Value: payload}})
	if err != nil {
		panic(err)
	}
	return b
}

func idValue(id int) bson.RawValue {
	return bson.RawValue{Type: bson.TypeInt32, Value: []byte{byte(id), byte(id >> 8), byte(id >> 16), byte(id >> 24)}}
}

// testRecord builds a record whose content is derived from lsn, so readers
// can check it without remembering what was written.
func testRecord(lsn LSN, t time.Time) Record {
	id := int(lsn)
	return Record{
		LSN:    lsn,
		Time:   t,
		Branch: "main",
		Ops: []Op{
			{Kind: OpInsert, DB: "db", Coll: "c", ID: idValue(id), Doc: testDoc(id, fmt.Sprintf("v%d", lsn))},
			{Kind: OpUpdate, DB: "db", Coll: "c", ID: idValue(id), Before: testDoc(id, "old"), Doc: testDoc(id, "new")},
		},
	}
}

func testRecords(from LSN, n int, t time.Time) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = testRecord(from+LSN(i), t.Add(time.Duration(i)*time.Millisecond))
	}
	return recs
}

func requireSameRecord(t *testing.T, want, got Record) {
	t.Helper()
	require.Equal(t, want.LSN, got.LSN)
	require.True(t, want.Time.Truncate(time.Millisecond).Equal(got.Time), "time: want %v got %v", want.Time, got.Time)
	require.Equal(t, want.Branch, got.Branch)
	require.Len(t, got.Ops, len(want.Ops))
	for i := range want.Ops {
		w, g := want.Ops[i], got.Ops[i]
		require.Equal(t, w.Kind, g.Kind)
		require.Equal(t, w.DB, g.DB)
		require.Equal(t, w.Coll, g.Coll)
		require.Equal(t, w.Name, g.Name)
		require.Equal(t, w.ID.Type, g.ID.Type)
		require.True(t, bytes.Equal(w.ID.Value, g.ID.Value), "id")
		require.True(t, bytes.Equal(w.Doc, g.Doc), "doc of op %d", i)
		require.True(t, bytes.Equal(w.Before, g.Before), "before of op %d", i)
	}
}

// readAll reads a project's whole log in small pages, so paging is tested.
func readAll(t *testing.T, s Store, project string) []Record {
	return readAllBy(t, s, project, 7)
}

func readAllBy(t *testing.T, s Store, project string, page int) []Record {
	t.Helper()
	var out []Record
	from := LSN(1)
	for {
		recs, err := s.Read(context.Background(), project, from, page)
		require.NoError(t, err)
		out = append(out, recs...)
		if len(recs) < page {
			return out
		}
		from = recs[len(recs)-1].LSN + 1
	}
}

func testStoreContract(t *testing.T, h storeHarness) {
	ctx := context.Background()
	if h.project == nil {
		h.project = func(t *testing.T, suffix string) string { return "p" + suffix }
	}

	t.Run("Empty", func(t *testing.T) {
		s := h.open(t)
		p := h.project(t, "empty")
		lsn, tm, err := s.Tail(ctx, p)
		require.NoError(t, err)
		require.Zero(t, lsn)
		require.True(t, tm.IsZero())
		recs, err := s.Read(ctx, p, 1, 10)
		require.NoError(t, err)
		require.Empty(t, recs)
	})

	t.Run("LogSize", func(t *testing.T) {
		s := h.open(t)
		sz, ok := s.(Sizer)
		require.True(t, ok, "%T is a Sizer", s)
		p := h.project(t, "size")
		before, shared, err := sz.LogSize(ctx, p)
		require.NoError(t, err)
		if !shared {
			require.Zero(t, before, "an empty log")
		}
		_, err = s.Append(ctx, p, testRecords(1, 10, contractT0))
		require.NoError(t, err)
		after, shared2, err := sz.LogSize(ctx, p)
		require.NoError(t, err)
		require.Equal(t, shared, shared2)
		require.Positive(t, after)
		if !shared {
			require.Greater(t, after, before)
		}
		_, _, err = sz.LogSize(ctx, "bad/name")
		require.Error(t, err)
	})

	t.Run("AppendReadBack", func(t *testing.T) {
		s := h.open(t)
		p := h.project(t, "rb")
		want := testRecords(1, 20, contractT0)
		n, err := s.Append(ctx, p, want[:1])
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = s.Append(ctx, p, want[1:])
		require.NoError(t, err)
		require.Equal(t, 19, n)
		lsn, tm, err := s.Tail(ctx, p)
		require.NoError(t, err)
		require.Equal(t, LSN(20), lsn)
		require.True(t, want[19].Time.Truncate(time.Millisecond).Equal(tm))
		got := readAll(t, s, p)
		require.Len(t, got, 20)
		for i := range want {
			requireSameRecord(t, want[i], got[i])
		}
		// Reads from the middle and past the end.
		mid, err := s.Read(ctx, p, 15, 3)
		require.NoError(t, err)
		require.Len(t, mid, 3)
		require.Equal(t, LSN(15), mid[0].LSN)
		past, err := s.Read(ctx, p, 21, 3)
		require.NoError(t, err)
		require.Empty(t, past)
	})

	t.Run("LSNTaken", func(t *testing.T) {
		s := h.open(t)
		p := h.project(t, "taken")
		_, err := s.Append(ctx, p, testRecords(1, 3, contractT0))
		require.NoError(t, err)
		dup := testRecord(3, contractT0.Add(time.Second))
		dup.Branch = "other"
		n, err := s.Append(ctx, p, []Record{dup})
		require.ErrorIs(t, err, ErrLSNTaken)
		require.Zero(t, n)
		got := readAll(t, s, p)
		require.Len(t, got, 3)
		require.Equal(t, "main", got[2].Branch, "the loser must not overwrite the winner")
	})

	t.Run("Gap", func(t *testing.T) {
		s := h.open(t)
		p := h.project(t, "gap")
		_, err := s.Append(ctx, p, testRecords(2, 1, contractT0))
		if err == nil {
			t.Skip("this store cannot detect gaps: the Log guarantees it never asks for one")
		}
		require.ErrorIs(t, err, ErrGap)
		require.Empty(t, readAll(t, s, p))
	})

	t.Run("RejectsBadBatches", func(t *testing.T) {
		s := h.open(t)
		p := h.project(t, "bad")
		big := make([]byte, MaxDocumentSize)
		bigDoc, err := bson.Marshal(bson.D{{Key: "_id", Value: int32(1)}, {Key: "x", Value: primitive.Binary{Data: big}}})
		require.NoError(t, err)
		cases := map[string]func([]Record){
			"NotConsecutive": func(r []Record) { r[1].LSN = 5 },
			"NoTime":         func(r []Record) { r[0].Time = time.Time{} },
			"TimeBackwards":  func(r []Record) { r[1].Time = r[0].Time.Add(-time.Second) },
			"BadDB":          func(r []Record) { r[1].Ops[0].DB = "a.b" },
			"DollarColl":     func(r []Record) { r[1].Ops[0].Coll = "a$b" },
			"EmptyColl":      func(r []Record) { r[0].Ops[1].Coll = "" },
			"BadBranch":      func(r []Record) { r[0].Branch = "a..b" },
			"NoOps":          func(r []Record) { r[1].Ops = nil },
			"MissingBefore":  func(r []Record) { r[0].Ops[1].Before = nil },
			"IDMismatch":     func(r []Record) { r[0].Ops[0].ID = idValue(99) },
			"UnknownKind":    func(r []Record) { r[0].Ops[0].Kind = 99 },
			"InvalidBSON":    func(r []Record) { r[0].Ops[0].Doc = bson.Raw{1, 2, 3} },
			"TooLargeDoc":    func(r []Record) { r[1].Ops[0].Doc = bigDoc; r[1].Ops[0].ID = idValue(1) },
		}
		for name, mutate := range cases {
			t.Run(name, func(t *testing.T) {
				recs := testRecords(1, 2, contractT0)
				mutate(recs)
				_, err := s.Append(ctx, p, recs)
				require.Error(t, err)
				require.Empty(t, readAll(t, s, p), "nothing may be written")
			})
		}
		_, err = s.Append(ctx, "bad/project", testRecords(1, 1, contractT0))
		require.ErrorIs(t, err, ErrInvalidName)
	})

	t.Run("ProjectsAreSeparate", func(t *testing.T) {
		s := h.open(t)
		a, b := h.project(t, "a"), h.project(t, "b")
		_, err := s.Append(ctx, a, testRecords(1, 2, contractT0))
		require.NoError(t, err)
		_, err = s.Append(ctx, b, testRecords(1, 1, contractT0))
		require.NoError(t, err)
		la, _, err := s.Tail(ctx, a)
		require.NoError(t, err)
		lb, _, err := s.Tail(ctx, b)
		require.NoError(t, err)
		require.Equal(t, LSN(2), la)
		require.Equal(t, LSN(1), lb)
		ps, err := s.Projects(ctx)
		require.NoError(t, err)
		require.Contains(t, ps, a)
		require.Contains(t, ps, b)
		require.IsIncreasing(t, ps)
	})

	t.Run("LargeRecord", func(t *testing.T) {
		// Larger than one MongoDB document: stores must still keep it whole.
		s := h.open(t)
		p := h.project(t, "large")
		payload := strings.Repeat("x", 6*1024*1024)
		rec := Record{LSN: 1, Time: contractT0, Branch: "main"}
		for i := 0; i < 3; i++ {
			rec.Ops = append(rec.Ops, Op{Kind: OpInsert, DB: "db", Coll: "c", ID: idValue(i), Doc: testDoc(i, payload)})
		}
		_, err := s.Append(ctx, p, []Record{rec})
		require.NoError(t, err)
		got := readAll(t, s, p)
		require.Len(t, got, 1)
		requireSameRecord(t, rec, got[0])
	})

	t.Run("RacingAppenders", func(t *testing.T) {
		// Writers race for tail+1 directly on the store: the store alone
		// must make LSNs unique and keep the log dense.
		s := h.open(t)
		p := h.project(t, "race")
		const writers, each = 4, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for done := 0; done < each; {
					tail, tm, err := s.Tail(ctx, p)
					if err != nil {
						errs <- err
						return
					}
					rec := testRecord(tail+1, maxTime(contractT0, tm))
					rec.Branch = fmt.Sprintf("w%d", w)
					_, err = s.Append(ctx, p, []Record{rec})
					switch {
					case err == nil:
						done++
					case errorsIsTaken(err):
					default:
						errs <- err
						return
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		got := readAll(t, s, p)
		require.Len(t, got, writers*each)
		perWriter := map[string]int{}
		for i, r := range got {
			require.Equal(t, LSN(i+1), r.LSN)
			if i > 0 {
				require.False(t, r.Time.Before(got[i-1].Time))
			}
			perWriter[r.Branch]++
		}
		for w := 0; w < writers; w++ {
			require.Equal(t, each, perWriter[fmt.Sprintf("w%d", w)])
		}
	})

	if h.reopen != nil {
		t.Run("Reopen", func(t *testing.T) {
			s := h.open(t)
			p := h.project(t, "reopen")
			want := testRecords(1, 5, contractT0)
			_, err := s.Append(ctx, p, want)
			require.NoError(t, err)
			s = h.reopen(t, s)
			got := readAll(t, s, p)
			require.Len(t, got, 5)
			for i := range want {
				requireSameRecord(t, want[i], got[i])
			}
			_, err = s.Append(ctx, p, testRecords(6, 1, contractT0.Add(time.Second)))
			require.NoError(t, err)
		})
	}

	t.Run("Closed", func(t *testing.T) {
		s := h.open(t)
		p := h.project(t, "closed")
		require.NoError(t, s.Close())
		_, err := s.Append(ctx, p, testRecords(1, 1, contractT0))
		require.ErrorIs(t, err, ErrClosed)
	})
}

func errorsIsTaken(err error) bool {
	return err != nil && bytes.Contains([]byte(err.Error()), []byte(ErrLSNTaken.Error()))
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func TestMemoryStore_Contract(t *testing.T) {
	testStoreContract(t, storeHarness{open: func(t *testing.T) Store {
		s := NewMemoryStore()
		t.Cleanup(func() { s.Close() })
		return s
	}})
}
