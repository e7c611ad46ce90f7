package wal

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/argon-lab/argon/internal/testenv"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
)

// The append benchmarks report, for each store and writer count, ns/op (one
// acknowledged append), appends/s and records per store round trip.
// BenchmarkMongoDriverInsertOne runs in the same invocation against the same
// server, so the MongoDB store's figures have a baseline next to them:
//
//	scripts/test -run '^$' -bench 'Append|InsertOne' -benchtime 2000x ./wal/

var benchWriters = []int{1, 16}

// benchRun numbers benchmark runs, so repeated runs (-count) get fresh
// collections and projects.
var benchRun atomic.Int64

// benchDoc is a small document, like an application's typical insert.
func benchDoc(i int64) (bson.RawValue, bson.Raw) {
	doc, _ := bson.Marshal(bson.D{
		{Key: "_id", Value: i},
		{Key: "name", Value: "user-name-0123456789"},
		{Key: "email", Value: "someone@example.com"},
		{Key: "n", Value: int32(i)},
	})
	return bson.Raw(doc).Lookup("_id"), doc
}

func benchAppend(b *testing.B, open func(b *testing.B) Store) {
	for _, writers := range benchWriters {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := open(b)
			log := NewLog(s, nil)
			defer log.Close()
			project := fmt.Sprintf("bench%d-%d", writers, benchRun.Add(1))
			var next atomic.Int64
			b.ResetTimer()
			runWriters(b, writers, func() error {
				id, doc := benchDoc(next.Add(1))
				_, err := log.Append(context.Background(), project, "main",
					[]Op{{Kind: OpInsert, DB: "db", Coll: "c", ID: id, Doc: doc}})
				return err
			})
			b.StopTimer()
			st := log.Stats()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			if st.Rounds > 0 {
				b.ReportMetric(float64(st.Records)/float64(st.Rounds), "records/round")
			}
		})
	}
}

// runWriters runs b.N calls of fn spread over exactly writers goroutines.
func runWriters(b *testing.B, writers int, fn func() error) {
	var left atomic.Int64
	left.Store(int64(b.N))
	done := make(chan error, writers)
	for w := 0; w < writers; w++ {
		go func() {
			for left.Add(-1) >= 0 {
				if err := fn(); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for w := 0; w < writers; w++ {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryStore_Append(b *testing.B) {
	benchAppend(b, func(b *testing.B) Store { return NewMemoryStore() })
}

func BenchmarkDirStoreLog_Append(b *testing.B) {
	benchAppend(b, func(b *testing.B) Store {
		s, err := OpenDir(context.Background(), b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

func benchMongoURI(b *testing.B) string {
	if os.Getenv(testenv.URIEnv) == "" {
		b.Skip(testenv.URIEnv + " is not set; run through scripts/test")
	}
	return testenv.MongoURI(b)
}

func BenchmarkMongoStore_Append(b *testing.B) {
	benchMongoURI(b)
	client := testenv.MongoClient(b)
	db := testenv.UniqueDBName(b, "walbench")
	benchAppend(b, func(b *testing.B) Store {
		s, err := OpenMongo(context.Background(), client, &MongoOptions{Database: db, Collection: fmt.Sprintf("wal%d", benchRun.Add(1))})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkMongoDriverInsertOne is the baseline: the plain driver inserting
// the same document into an ordinary collection with the same write concern.
func BenchmarkMongoDriverInsertOne(b *testing.B) {
	benchMongoURI(b)
	client := testenv.MongoClient(b)
	db := client.Database(testenv.UniqueDBName(b, "drvbench"))
	for _, writers := range benchWriters {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			coll := db.Collection(fmt.Sprintf("c%d_%d", writers, benchRun.Add(1)),
				options.Collection().SetWriteConcern(writeconcern.Majority()))
			var next atomic.Int64
			b.ResetTimer()
			runWriters(b, writers, func() error {
				_, doc := benchDoc(next.Add(1))
				_, err := coll.InsertOne(context.Background(), doc)
				return err
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}
