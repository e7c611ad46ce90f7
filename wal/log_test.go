package wal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func insertOp(id int) []Op {
	return []Op{{Kind: OpInsert, DB: "db", Coll: "c", ID: idValue(id), Doc: testDoc(id, "x")}}
}

// appendConcurrently runs writers×each appends through log and returns the
// acknowledged records.
func appendConcurrently(t *testing.T, log *Log, project string, writers, each int) []Record {
	t.Helper()
	var mu sync.Mutex
	var acked []Record
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				rec, err := log.Append(context.Background(), project, fmt.Sprintf("w%d", w), insertOp(w*each+i))
				if !assertNoError(t, err) {
					return
				}
				mu.Lock()
				acked = append(acked, rec)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	return acked
}

func assertNoError(t *testing.T, err error) bool {
	if err != nil {
		t.Errorf("append: %v", err)
		return false
	}
	return true
}

// checkDense asserts the project's log holds exactly LSNs 1..n with
// non-decreasing times, and every acknowledged record is there unchanged.
func checkDense(t *testing.T, s Store, project string, acked []Record) {
	t.Helper()
	got := readAll(t, s, project)
	require.Len(t, got, len(acked))
	for i, r := range got {
		require.Equal(t, LSN(i+1), r.LSN)
		if i > 0 {
			require.False(t, r.Time.Before(got[i-1].Time), "time goes backwards at %d", r.LSN)
		}
	}
	seen := map[LSN]bool{}
	for _, a := range acked {
		require.False(t, seen[a.LSN], "lsn %d acknowledged twice", a.LSN)
		seen[a.LSN] = true
		requireSameRecord(t, a, got[a.LSN-1])
	}
}

func TestLog_Append_GroupCommit(t *testing.T) {
	s := NewMemoryStore()
	log := NewLog(s, nil)
	defer log.Close()
	acked := appendConcurrently(t, log, "p", 16, 100)
	checkDense(t, s, "p", acked)
	st := log.Stats()
	require.Equal(t, uint64(1600), st.Records)
	require.LessOrEqual(t, st.Rounds, st.Records)
}

func TestLog_Append_SeveralLogsOneStore(t *testing.T) {
	// Two Logs on one store stand for two processes: LSN races must be
	// resolved by catching up and retrying, and each follower must see
	// every record once, in order.
	s := NewMemoryStore()
	var seen [2][]LSN
	logs := make([]*Log, 2)
	for i := range logs {
		logs[i] = NewLog(s, nil)
		defer logs[i].Close()
		i := i
		require.NoError(t, logs[i].Follow("p", 0, func(r Record) { seen[i] = append(seen[i], r.LSN) }))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked []Record
	for i := range logs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			recs := appendConcurrently(t, logs[i], "p", 4, 50)
			mu.Lock()
			acked = append(acked, recs...)
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	checkDense(t, s, "p", acked)
	for i := range logs {
		_, err := logs[i].Sync(context.Background(), "p")
		require.NoError(t, err)
		require.Len(t, seen[i], 400)
		for j, l := range seen[i] {
			require.Equal(t, LSN(j+1), l)
		}
	}
}

func TestLog_AppendFunc_PendingAndErrors(t *testing.T) {
	s := NewMemoryStore()
	log := NewLog(s, nil)
	defer log.Close()
	ctx := context.Background()
	first, err := log.Append(ctx, "p", "main", insertOp(1))
	require.NoError(t, err)

	// A failing build fails only its own append.
	_, err = log.AppendFunc(ctx, "p", func(LSN, []Record) (string, []Op, error) { return "", nil, errors.New("boom") })
	require.EqualError(t, err, "boom")
	// A panicking build is an error, not a crash.
	_, err = log.AppendFunc(ctx, "p", func(LSN, []Record) (string, []Op, error) { panic("bad") })
	require.ErrorContains(t, err, "panicked")
	// Invalid records never reach the store.
	_, err = log.Append(ctx, "p", "main", []Op{{Kind: OpInsert, DB: "a.b", Coll: "c", ID: idValue(1), Doc: testDoc(1, "")}})
	require.ErrorIs(t, err, ErrInvalidName)
	_, err = log.Append(ctx, "bad name", "main", insertOp(1))
	require.ErrorIs(t, err, ErrInvalidName)

	// The build sees the LSN it gets and the records ahead of it in its round.
	var calls atomic.Int32
	rec, err := log.AppendFunc(ctx, "p", func(lsn LSN, pending []Record) (string, []Op, error) {
		calls.Add(1)
		require.Equal(t, LSN(2)+LSN(len(pending)), lsn)
		return "main", insertOp(2), nil
	})
	require.NoError(t, err)
	require.Equal(t, LSN(2), rec.LSN)
	require.Equal(t, int32(1), calls.Load())
	checkDense(t, s, "p", []Record{first, rec})
}

func TestLog_Append_TimeNeverDecreases(t *testing.T) {
	s := NewMemoryStore()
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var tick atomic.Int64
	// A clock that jumps back by a second every other call.
	clock := func() time.Time {
		n := tick.Add(1)
		return base.Add(time.Duration(n%2) * -time.Second).Add(time.Duration(n) * time.Millisecond)
	}
	log := NewLog(s, &LogOptions{Clock: clock})
	defer log.Close()
	acked := appendConcurrently(t, log, "p", 4, 25)
	checkDense(t, s, "p", acked)
}

func TestLog_AppendFunc_ContextCanceledWhileQueued(t *testing.T) {
	s := NewMemoryStore()
	log := NewLog(s, nil)
	defer log.Close()
	ctx := context.Background()
	// Hold the round open with a build that blocks, then queue a second
	// append whose context ends: it must be withdrawn, never committed.
	release := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_, _ = log.AppendFunc(ctx, "p", func(LSN, []Record) (string, []Op, error) {
			close(started)
			<-release
			return "main", insertOp(1), nil
		})
	}()
	<-started
	cctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := log.Append(cctx, "p", "main", insertOp(2))
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	close(release)
	lsn, err := log.Sync(ctx, "p")
	require.NoError(t, err)
	require.Equal(t, LSN(1), lsn)
}

func TestLog_Close_FailsLaterAppends(t *testing.T) {
	log := NewLog(NewMemoryStore(), nil)
	require.NoError(t, log.Close())
	_, err := log.Append(context.Background(), "p", "main", insertOp(1))
	require.ErrorIs(t, err, ErrClosed)
	require.NoError(t, log.Close())
}

func TestLog_Follow_Rules(t *testing.T) {
	s := NewMemoryStore()
	ctx := context.Background()
	w := NewLog(s, nil)
	defer w.Close()
	for i := 1; i <= 5; i++ {
		_, err := w.Append(ctx, "p", "main", insertOp(i))
		require.NoError(t, err)
	}
	// A follower that starts from a checkpoint at LSN 3 gets 4 and 5.
	r := NewLog(s, nil)
	defer r.Close()
	var got []LSN
	require.NoError(t, r.Follow("p", 3, func(rec Record) { got = append(got, rec.LSN) }))
	require.Error(t, r.Follow("p", 0, func(Record) {}), "one follower per project")
	lsn, err := r.Sync(ctx, "p")
	require.NoError(t, err)
	require.Equal(t, LSN(5), lsn)
	require.Equal(t, []LSN{4, 5}, got)
	// Without a follower, Sync only learns the tail.
	lsn, err = w.Sync(ctx, "p")
	require.NoError(t, err)
	require.Equal(t, LSN(5), lsn)
}

// slowTailStore counts Tail calls and makes each one slow, so concurrent
// Syncs overlap.
type slowTailStore struct {
	Store
	tails atomic.Int64
}

func (s *slowTailStore) Tail(ctx context.Context, project string) (LSN, time.Time, error) {
	s.tails.Add(1)
	time.Sleep(5 * time.Millisecond)
	return s.Store.Tail(ctx, project)
}

// TestLog_Sync_Coalesces checks that concurrent Syncs share catch-ups (fewer
// store round trips than callers) and that each still sees every append
// another Log acknowledged before the Sync was called.
func TestLog_Sync_Coalesces(t *testing.T) {
	mem := NewMemoryStore()
	reader := &slowTailStore{Store: mem}
	rl := NewLog(reader, nil)
	defer rl.Close()
	wl := NewLog(mem, nil)
	defer wl.Close()
	ctx := context.Background()
	const readers, rounds = 16, 5
	for round := 0; round < rounds; round++ {
		rec, err := wl.Append(ctx, "p", "main", insertOp(round))
		require.NoError(t, err)
		var wg sync.WaitGroup
		for i := 0; i < readers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lsn, err := rl.Sync(ctx, "p")
				assert.NoError(t, err)
				assert.GreaterOrEqual(t, lsn, rec.LSN, "a Sync missed an acknowledged append")
			}()
		}
		wg.Wait()
	}
	require.Less(t, reader.tails.Load(), int64(readers*rounds), "concurrent Syncs did not share catch-ups")
	t.Logf("%d Syncs, %d store Tails", readers*rounds, reader.tails.Load())
}
