package wal

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/argon-lab/argon/internal/testenv"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/event"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func mongoHarness(t *testing.T) storeHarness {
	client := testenv.MongoClient(t)
	db := testenv.UniqueDBName(t, "wal")
	open := func(t *testing.T) Store {
		s, err := OpenMongo(context.Background(), client, &MongoOptions{Database: db})
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	return storeHarness{
		open: open,
		reopen: func(t *testing.T, s Store) Store {
			require.NoError(t, s.Close())
			return open(t)
		},
		// Subtests share one database: names keep their projects apart.
		project: func(t *testing.T, suffix string) string {
			return fmt.Sprintf("%s-%d", suffix, len(t.Name()))
		},
	}
}

func TestMongoStore_Contract(t *testing.T) {
	testStoreContract(t, mongoHarness(t))
}

func TestMongoStore_Log_SeveralLogs(t *testing.T) {
	// Two Logs with their own clients stand for two processes.
	h := mongoHarness(t)
	logs := []*Log{NewLog(h.open(t), nil), NewLog(h.open(t), nil)}
	done := make(chan []Record, len(logs))
	for _, l := range logs {
		defer l.Close()
		go func(l *Log) { done <- appendConcurrently(t, l, "multi", 4, 25) }(l)
	}
	var acked []Record
	for range logs {
		acked = append(acked, <-done...)
	}
	checkDense(t, logs[0].Store(), "multi", acked)
}

// mongoCounting opens a store in db on a client that counts the commands
// it sends, by "<command> <collection>".
func mongoCounting(t *testing.T, db string) (*MongoStore, func() map[string]int) {
	var mu sync.Mutex
	counts := map[string]int{}
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.DatabaseName != db {
			return
		}
		coll, _ := e.Command.Lookup(e.CommandName).StringValueOK()
		mu.Lock()
		counts[e.CommandName+" "+coll]++
		mu.Unlock()
	}}
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(testenv.MongoURI(t)).SetMonitor(mon))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	s, err := OpenMongo(context.Background(), client, &MongoOptions{Database: db})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := maps.Clone(counts)
		clear(counts)
		return out
	}
}

// TestMongoStore_RoundTrips pins the store's cost in commands: an append is
// one insert into the records collection, an up-to-date Tail one point
// lookup there, and a store that knows nothing finds the tail of n records
// in about 2·log2(n) lookups. Another store sees every acknowledged append.
func TestMongoStore_RoundTrips(t *testing.T) {
	ctx := context.Background()
	db := testenv.UniqueDBName(t, "walrt")
	a, aCmds := mongoCounting(t, db)
	b, bCmds := mongoCounting(t, db)
	t0 := time.UnixMilli(1_700_000_000_000).UTC()
	const p = "proj"

	tailIs := func(s Store, want LSN) {
		t.Helper()
		got, _, err := s.Tail(ctx, p)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := a.Append(ctx, p, testRecords(1, 3, t0))
	require.NoError(t, err)
	require.Equal(t, map[string]int{"update wal_projects": 1, "insert wal": 1}, aCmds(),
		"the first append registers its project, then inserts")
	tailIs(b, 3) // another process sees the acknowledged appends
	for i := LSN(4); i < 100; i++ {
		_, err = a.Append(ctx, p, testRecords(i, 1, t0.Add(time.Duration(i)*time.Second)))
		require.NoError(t, err)
	}
	require.Equal(t, map[string]int{"insert wal": 96}, aCmds(), "an append is one insert")
	bCmds()
	tailIs(b, 99)
	lookups := bCmds()["find wal"]
	require.LessOrEqual(t, lookups, 16, "catching up on 96 records")

	// Steady state: one point lookup (of the LSN after the newest known).
	for i := 0; i < 5; i++ {
		tailIs(a, 99)
		tailIs(b, 99)
	}
	require.Equal(t, map[string]int{"find wal": 5}, aCmds())
	require.Equal(t, map[string]int{"find wal": 5}, bCmds())

	// A store that knows nothing gallops and bisects. A head field left in
	// the project document by an earlier version is not trusted.
	_, err = a.projects.UpdateOne(ctx, bson.D{{Key: "_id", Value: p}}, bson.D{{Key: "$set", Value: bson.D{{Key: "h", Value: int64(50)}}}})
	require.NoError(t, err)
	c, cCmds := mongoCounting(t, db)
	tailIs(c, 99)
	require.LessOrEqual(t, cCmds()["find wal"], 2*7+1)
	recs, err := c.Read(ctx, p, 1, 200)
	require.NoError(t, err)
	require.Len(t, recs, 99)
	projects, err := c.Projects(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{p}, projects)
}
