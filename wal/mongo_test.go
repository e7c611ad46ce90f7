package wal

import (
	"context"
	"fmt"
	"testing"

	"github.com/argon-lab/argon/internal/testenv"
	"github.com/stretchr/testify/require"
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
