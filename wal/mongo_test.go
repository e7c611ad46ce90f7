package wal

import (
	"context"
	"fmt"
	"sync/atomic"
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

// mongoCounting opens a store in db on a client that counts the find
// commands sent to the records collection ("wal").
func mongoCounting(t *testing.T, db string) (*MongoStore, *atomic.Int64) {
	var finds atomic.Int64
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "find" {
			if coll, _ := e.Command.Lookup("find").StringValueOK(); coll == "wal" {
				finds.Add(1)
			}
		}
	}}
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(testenv.MongoURI(t)).SetMonitor(mon))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	s, err := OpenMongo(context.Background(), client, &MongoOptions{Database: db})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, &finds
}

// TestMongoStore_Tail_Head checks that Tail answers from the project's head
// without reading the records collection when nothing new was appended,
// that another store sees every acknowledged append, and that a log without
// a head (written before it existed) or with a head above its records (an
// append that raised it and then failed) still gives the true tail.
func TestMongoStore_Tail_Head(t *testing.T) {
	ctx := context.Background()
	db := testenv.UniqueDBName(t, "walhead")
	a, aFinds := mongoCounting(t, db)
	b, bFinds := mongoCounting(t, db)
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
	tailIs(b, 3) // another process sees the acknowledged appends
	_, err = a.Append(ctx, p, testRecords(4, 2, t0.Add(time.Second)))
	require.NoError(t, err)
	tailIs(b, 5)

	// Steady state: no new records, no lookup in the records collection.
	aFinds.Store(0)
	bFinds.Store(0)
	for i := 0; i < 5; i++ {
		tailIs(a, 5)
		tailIs(b, 5)
	}
	require.Zero(t, aFinds.Load(), "Tail of the appending store read the records collection")
	require.Zero(t, bFinds.Load(), "Tail of an up-to-date store read the records collection")

	projects := a.projects
	// A head above the records: Tail bisects down to the true tail.
	_, err = projects.UpdateOne(ctx, bson.D{{Key: "_id", Value: p}}, bson.D{{Key: "$set", Value: bson.D{{Key: mfHead, Value: int64(9)}}}})
	require.NoError(t, err)
	c, _ := mongoCounting(t, db)
	tailIs(c, 5)
	tailIs(a, 5)

	// A log without a head: Tail probes the records.
	_, err = projects.UpdateOne(ctx, bson.D{{Key: "_id", Value: p}}, bson.D{{Key: "$unset", Value: bson.D{{Key: mfHead, Value: ""}}}})
	require.NoError(t, err)
	d, _ := mongoCounting(t, db)
	tailIs(d, 5)
	// The next append restores the head; a fresh store then trusts it.
	n, err := d.Append(ctx, p, testRecords(6, 1, t0.Add(2*time.Second)))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	e, eFinds := mongoCounting(t, db)
	tailIs(e, 6)
	eFinds.Store(0)
	tailIs(e, 6)
	require.Zero(t, eFinds.Load())
	recs, err := e.Read(ctx, p, 1, 10)
	require.NoError(t, err)
	require.Len(t, recs, 6)
}
