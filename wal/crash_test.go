package wal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

// crashChildEnv names the directory TestDirStore_CrashChild appends to; it is
// set only in the child processes of TestDirStore_Crash_SIGKILL.
const crashChildEnv = "ARGON_WAL_CRASH_CHILD_DIR"

// crashNoSyncEnv, when set, makes the child append without fsync: its
// appends are then much faster, so more kills land in the middle of a write.
// A process crash loses nothing the page cache holds, so acknowledged
// records must survive either way.
const crashNoSyncEnv = "ARGON_WAL_CRASH_CHILD_NOSYNC"

// crashSegmentSize is small, so kills also land while a segment is being
// created.
const crashSegmentSize = 1 << 20

const crashProject = "crash"

// crashRecord is the record of lsn: its content, size and time are derived
// from lsn alone, so the parent can check what the child wrote. Sizes vary
// from a few bytes to 128 KiB, so frames cross page boundaries and a kill
// can land in the middle of a write.
func crashRecord(lsn LSN) Record {
	size := int(lsn*7919) % 6000
	if lsn%7 == 0 {
		size = 128 << 10
	}
	var seed [9]byte // a pattern of 9 bytes, so it does not align with frames
	binary.LittleEndian.PutUint64(seed[:], uint64(lsn)*0x9E3779B97F4A7C15)
	seed[8] = byte(lsn)
	pad := bytes.Repeat(seed[:], size/len(seed)+1)[:size]
	doc, err := bson.Marshal(bson.D{{Key: "_id", Value: int64(lsn)}, {Key: "pad", Value: pad}})
	if err != nil {
		panic(err)
	}
	return Record{
		LSN:  lsn,
		Time: dirTestTime.Add(time.Duration(lsn) * time.Millisecond),
		Ops:  []Op{{Kind: OpInsert, DB: "db", Coll: "crash", ID: bson.Raw(doc).Lookup("_id"), Doc: doc}},
	}
}

// crashBatch is the batch that starts at lsn: 1 to 4 records.
func crashBatch(lsn LSN) []Record {
	n := 1 + int(lsn*13)%4
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = crashRecord(lsn + LSN(i))
	}
	return recs
}

// TestDirStore_Crash_SIGKILL runs a child process that appends to a DirStore
// and prints every acknowledged LSN, kills it with SIGKILL at a random
// moment, and checks after each kill that the directory opens, that every
// acknowledged record is there and intact, that LSNs are dense from 1, and
// that appending continues.
func TestDirStore_Crash_SIGKILL(t *testing.T) {
	// Rounds of killsPerRound kills, each round in a new directory, so the
	// log (which every reopen reads whole) stays small.
	const killsPerRound = 10
	rounds := 6
	if testing.Short() {
		rounds = 1
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(20260101, 7))
	var kills, torn, midAppend, records int
	for range rounds {
		dir := t.TempDir()
		var acked, verified LSN // highest LSN acknowledged to the child, checked by the parent
		for i := range killsPerRound {
			kills++
			// Most kills wait until the child has opened the store and
			// started appending; some land during start-up and recovery.
			// Half the children append without fsync: faster appends, so
			// more kills land in the middle of a write.
			waitReady := i%4 != 3
			noSync := i%2 == 1
			delay := time.Duration(3+rng.IntN(98)) * time.Millisecond
			got, sawAck := runCrashChild(t, dir, waitReady, noSync, delay)
			if got > 0 {
				require.GreaterOrEqual(t, got, acked, "acknowledgements went backwards")
				acked = got
			}
			if sawAck {
				midAppend++
			}

			what := fmt.Sprintf("kill %d", kills)
			before := crashSegmentSizes(t, dir)
			s, err := OpenDir(ctx, dir, &DirOptions{SegmentSize: crashSegmentSize})
			require.NoError(t, err, "%s: reopen", what)
			if after := crashSegmentSizes(t, dir); after != before {
				torn++
			}
			tail, _, err := s.Tail(ctx, crashProject)
			require.NoError(t, err)
			require.GreaterOrEqual(t, tail, acked, "%s: acknowledged records lost", what)
			require.GreaterOrEqual(t, tail, verified, "%s: records lost since the last reopen", what)
			// Check the records written since the last check (and a few
			// before them; the whole log at the end of the round): dense,
			// intact, with the content of their LSN.
			checkCrashLog(t, s, max(verified, 20)-19, tail, what)
			// Appending continues where the log ends.
			n, err := s.Append(ctx, crashProject, crashBatch(tail+1))
			require.NoError(t, err, "%s: append after recovery", what)
			verified = tail + LSN(n)
			acked = max(acked, verified)
			require.NoError(t, s.Close())
		}
		s, err := OpenDir(ctx, dir, nil)
		require.NoError(t, err)
		checkCrashLog(t, s, 1, verified, "at the end of the round")
		require.NoError(t, s.Close())
		records += int(verified)
	}
	t.Logf("%d kills, %d while appending, %d torn tails repaired, %d records checked", kills, midAppend, torn, records)
	require.Greater(t, midAppend, kills/2, "too few kills landed while the child was appending")
}

// checkCrashLog checks that the records from..to are there with the content
// crashRecord gives them and that the log ends at to.
func checkCrashLog(t *testing.T, s Store, from, to LSN, what string) {
	t.Helper()
	ctx := context.Background()
	for from <= to {
		recs, err := s.Read(ctx, crashProject, from, 500)
		require.NoError(t, err, what)
		require.NotEmpty(t, recs, "%s: the log ends before lsn %d", what, to)
		for _, r := range recs {
			require.Equal(t, from, r.LSN, "%s: LSNs are not dense", what)
			want := crashRecord(from)
			require.True(t, bytes.Equal(want.Encode(), r.Encode()), "%s: lsn %d has the wrong content", what, from)
			from++
		}
	}
	tail, _, err := s.Tail(ctx, crashProject)
	require.NoError(t, err)
	require.Equal(t, to, tail, what)
}

// crashSegmentSizes describes the sizes of the crash project's segments.
func crashSegmentSizes(t *testing.T, dir string) string {
	var b strings.Builder
	for _, f := range dirSegmentFiles(t, dir, crashProject) {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		fmt.Fprintf(&b, "%s=%d ", f, fi.Size())
	}
	return b.String()
}

// runCrashChild starts the child, kills it after delay (counted from its
// first acknowledgement if waitReady) and returns the highest LSN it
// acknowledged (0 if none) and whether it had acknowledged any before the
// kill.
func runCrashChild(t *testing.T, dir string, waitReady, noSync bool, delay time.Duration) (LSN, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDirStore_CrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	if noSync {
		cmd.Env = append(cmd.Env, crashNoSyncEnv+"=1")
	}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var last LSN
	handle := func(line string) {
		if v, ok := strings.CutPrefix(line, "ack "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			require.NoError(t, err, line)
			require.Greater(t, LSN(n), last)
			last = LSN(n)
		}
	}
	exited := false
	if waitReady {
		// Wait for the first acknowledgement (or the child's death).
		for line := range lines {
			handle(line)
			if last > 0 {
				break
			}
		}
	}
	sawAck := last > 0
	timer := time.NewTimer(delay)
wait:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				exited = true
				break wait
			}
			handle(line)
		case <-timer.C:
			break wait
		}
	}
	if !exited {
		sawAck = last > 0
		require.NoError(t, cmd.Process.Kill())
	}
	for line := range lines {
		handle(line)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if exited || !errors.As(err, &ee) || ee.Exited() {
		t.Fatalf("the child ended on its own (%v): %s", err, stderr.String())
	}
	return last, sawAck
}

// TestDirStore_CrashChild is the child process of TestDirStore_Crash_SIGKILL:
// it appends batches until it is killed, printing each acknowledged LSN.
func TestDirStore_CrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("runs only as a child process")
	}
	ctx := context.Background()
	opts := &DirOptions{SegmentSize: crashSegmentSize, NoSync: os.Getenv(crashNoSyncEnv) != ""}
	s, err := OpenDir(ctx, dir, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	tail, _, err := s.Tail(ctx, crashProject)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tail:", err)
		os.Exit(3)
	}
	for {
		batch := crashBatch(tail + 1)
		n, err := s.Append(ctx, crashProject, batch)
		if err != nil || n != len(batch) {
			fmt.Fprintln(os.Stderr, "append:", n, err)
			os.Exit(3)
		}
		tail += LSN(n)
		// Unbuffered: one write per acknowledgement, so the parent sees
		// everything the child acknowledged before it died.
		if _, err := fmt.Fprintf(os.Stdout, "ack %d\n", tail); err != nil {
			os.Exit(3)
		}
	}
}
