package wal

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/argon-lab/argon/internal/testenv"
	"github.com/stretchr/testify/require"
)

// Child-process mode of TestMongoStore_MultiProcess, selected by env.
const (
	mpEnvDB      = "ARGON_WAL_MP_DB"
	mpEnvProc    = "ARGON_WAL_MP_PROC"
	mpGoroutines = 8
	mpAppends    = 200
	mpProcesses  = 4
)

// TestMongoStore_MultiProcess runs 4 OS processes × 8 goroutines × 200
// appends against one MongoDB store. Every acknowledged append must be in the
// log, LSNs must be unique and dense, and times must never decrease.
func TestMongoStore_MultiProcess(t *testing.T) {
	if db := os.Getenv(mpEnvDB); db != "" {
		mpChild(t, db, os.Getenv(mpEnvProc))
		return
	}
	uri := testenv.MongoURI(t)
	client := testenv.MongoClient(t)
	db := testenv.UniqueDBName(t, "walmp")
	procs := mpProcesses
	appends := mpAppends
	if testing.Short() {
		appends = 20
	}

	type ack struct {
		lsn    LSN
		branch string
		id     int
	}
	var mu sync.Mutex
	var acks []ack
	var wg sync.WaitGroup
	errs := make([]error, procs)
	for p := 0; p < procs; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMongoStore_MultiProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), mpEnvDB+"="+db, mpEnvProc+"="+strconv.Itoa(p),
			testenv.URIEnv+"="+uri, "ARGON_WAL_MP_APPENDS="+strconv.Itoa(appends))
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				var a ack
				if _, err := fmt.Sscanf(sc.Text(), "ack %d %s %d", &a.lsn, &a.branch, &a.id); err == nil {
					mu.Lock()
					acks = append(acks, a)
					mu.Unlock()
				}
			}
			if err := cmd.Wait(); err != nil {
				errs[p] = fmt.Errorf("process %d: %v\n%s", p, err, stderr.String())
				return
			}
			t.Log(strings.TrimSpace(stderr.String()))
		}(p)
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	total := procs * mpGoroutines * appends
	require.Len(t, acks, total, "every append must be acknowledged")

	s, err := OpenMongo(context.Background(), client, &MongoOptions{Database: db})
	require.NoError(t, err)
	defer s.Close()
	got := readAllBy(t, s, "mp", 1000)
	require.Len(t, got, total, "the log must hold exactly the acknowledged records")
	for i, r := range got {
		require.Equal(t, LSN(i+1), r.LSN, "dense")
		if i > 0 {
			require.False(t, r.Time.Before(got[i-1].Time), "time goes backwards at lsn %d", r.LSN)
		}
	}
	seen := make(map[LSN]bool, total)
	for _, a := range acks {
		require.False(t, seen[a.lsn], "lsn %d acknowledged twice", a.lsn)
		seen[a.lsn] = true
		r := got[a.lsn-1]
		require.Equal(t, a.branch, r.Branch, "lsn %d holds another writer's record", a.lsn)
		require.Equal(t, idValue(a.id).Value, r.Ops[0].ID.Value)
	}
}

func mpChild(t *testing.T, db, proc string) {
	appends, _ := strconv.Atoi(os.Getenv("ARGON_WAL_MP_APPENDS"))
	s, err := ConnectMongo(context.Background(), testenv.MongoURI(t), &MongoOptions{Database: db})
	require.NoError(t, err)
	defer s.Close()
	log := NewLog(s, nil)
	defer log.Close()
	p, _ := strconv.Atoi(proc)
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := 0; g < mpGoroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			branch := fmt.Sprintf("p%dg%d", p, g)
			for i := 0; i < appends; i++ {
				id := (p*mpGoroutines+g)*appends + i
				rec, err := log.Append(context.Background(), "mp", branch, insertOp(id))
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
				mu.Lock()
				fmt.Fprintf(w, "ack %d %s %d\n", rec.LSN, branch, id)
				w.Flush()
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	st := log.Stats()
	fmt.Fprintf(os.Stderr, "process %d: %d records in %d rounds, %d conflicts\n", p, st.Records, st.Rounds, st.Conflicts)
}
