package argon

// Benchmarks of branches and time travel (design notes sections 1, 4 and 5):
//
//	go test -run '^$' -bench 'CreateBranch|InsertOne_Reference' -benchtime 200x .
//	go test -run '^$' -bench ReadPast -benchtime 200x .
//	go test -run '^$' -bench 'BranchPerTest|DropAndReseed' -benchtime 20x .
//	go test -run '^$' -bench BranchMemory -benchtime 1x .
//
// -short skips the 1,000,000-document parent of BenchmarkCreateBranch.
// BenchmarkDropAndReseed_Driver and the mongo case of BenchmarkBranchPerTest
// need ARGON_TEST_MONGODB_URI (see internal/testenv).
//
// Seeding is done once per sub-benchmark (not per b.N round) and is not
// timed.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/argon-lab/argon/internal/testenv"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// benchSeedBatch is the InsertMany batch size of benchmark seeds.
const benchSeedBatch = 10_000

// benchDoc is document i of a benchmark seed: about 60 bytes of BSON.
func benchDoc(i int) bson.D {
	return bson.D{{Key: "_id", Value: i}, {Key: "g", Value: i % 100}, {Key: "s", Value: fmt.Sprintf("item-%07d", i)}, {Key: "v", Value: i}}
}

func benchItems(c *Client) *Collection { return c.Database("bench").Collection("items") }

// benchStore is an open client of one of the stores the benchmarks compare.
type benchStore struct {
	c       *Client
	cleanup func()
}

// openBenchStore opens kind ("memory", "embedded" or "mongo") and returns it
// with the function that closes it and removes its data. It registers
// nothing with tb, whose cleanups run after each b.N round: callers keep a
// store over several rounds, and close it as soon as they are done to free
// memory.
func openBenchStore(tb testing.TB, kind string) benchStore {
	tb.Helper()
	ctx := context.Background()
	switch kind {
	case "memory":
		c, err := OpenMemory(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		return benchStore{c, func() { _ = c.Disconnect(ctx) }}
	case "embedded":
		dir, err := os.MkdirTemp("", "argon-bench-")
		if err != nil {
			tb.Fatal(err)
		}
		c, err := Open(ctx, dir)
		if err != nil {
			_ = os.RemoveAll(dir)
			tb.Fatal(err)
		}
		return benchStore{c, func() { _ = c.Disconnect(ctx); _ = os.RemoveAll(dir) }}
	case "mongo":
		// Not testenv.UniqueDBName: its cleanup would run at the end of
		// the first b.N round, and the store lives longer.
		uri := testenv.MongoURI(tb)
		db := fmt.Sprintf("argon_bench_%d_%016x", os.Getpid(), rand.Uint64())
		c, err := ConnectWithOptions(ctx, &Options{LogDatabase: db}, options.Client().ApplyURI(uri))
		if err != nil {
			tb.Fatal(err)
		}
		return benchStore{c, func() {
			_ = c.Disconnect(ctx)
			if mc, err := mongo.Connect(ctx, options.Client().ApplyURI(uri)); err == nil {
				_ = mc.Database(db).Drop(ctx)
				_ = mc.Disconnect(ctx)
			}
		}}
	}
	tb.Fatalf("unknown store %q", kind)
	return benchStore{}
}

// seedBench inserts documents 0 to n-1 into bench.items of c's branch in
// InsertMany batches of benchSeedBatch.
func seedBench(tb testing.TB, c *Client, n int) {
	tb.Helper()
	ctx := context.Background()
	for lo := 0; lo < n; lo += benchSeedBatch {
		docs := make([]interface{}, 0, benchSeedBatch)
		for i := lo; i < min(lo+benchSeedBatch, n); i++ {
			docs = append(docs, benchDoc(i))
		}
		if _, err := benchItems(c).InsertMany(ctx, docs); err != nil {
			tb.Fatalf("seeding documents %d-%d: %v", lo, lo+len(docs)-1, err)
		}
	}
}

// lazySeed opens and seeds a store on the first call of get, so that a
// sub-benchmark filtered out by -bench costs nothing, and keeps it for the
// b.N rounds that follow (testing calls a benchmark function once per
// round). close frees it.
type lazySeed struct {
	kind string
	docs int
	s    *benchStore
}

func (l *lazySeed) get(b *testing.B) *Client {
	b.Helper()
	if l.s == nil {
		s := openBenchStore(b, l.kind)
		l.s = &s
		seedBench(b, s.c, l.docs)
	}
	return l.s.c
}

func (l *lazySeed) close() {
	if l.s != nil {
		l.s.cleanup()
		l.s = nil
	}
}

func createBranchSizes() []int {
	if testing.Short() {
		return []int{1_000, 100_000}
	}
	return []int{1_000, 100_000, 1_000_000}
}

// BenchmarkCreateBranch measures CreateBranch off a main of 1k, 100k and
// 1M documents, on the memory and the embedded store: it should not depend
// on the size, and cost at most about two single-document writes
// (BenchmarkInsertOne_Reference).
//
// Every round creates b.N more branches on the same log, so later rounds
// run with more branches in the catalog (deleted or not, they stay there).
func BenchmarkCreateBranch(b *testing.B) {
	ctx := context.Background()
	for _, docs := range createBranchSizes() {
		for _, kind := range []string{"memory", "embedded"} {
			seed := &lazySeed{kind: kind, docs: docs}
			made := 0
			b.Run(fmt.Sprintf("%s/docs=%d", kind, docs), func(b *testing.B) {
				c := seed.get(b)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					made++
					if _, err := c.CreateBranch(ctx, fmt.Sprintf("bench-%d", made)); err != nil {
						b.Fatal(err)
					}
				}
			})
			seed.close()
		}
	}
}

// BenchmarkInsertOne_Reference is one single-document InsertOne on the same
// stores and seeds as BenchmarkCreateBranch: the unit of its target.
func BenchmarkInsertOne_Reference(b *testing.B) {
	ctx := context.Background()
	for _, docs := range []int{1_000, 100_000} {
		for _, kind := range []string{"memory", "embedded"} {
			seed := &lazySeed{kind: kind, docs: docs}
			next := docs
			b.Run(fmt.Sprintf("%s/docs=%d", kind, docs), func(b *testing.B) {
				coll := benchItems(seed.get(b))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, err := coll.InsertOne(ctx, benchDoc(next)); err != nil {
						b.Fatal(err)
					}
					next++
				}
			})
			seed.close()
		}
	}
}

// readPastDocs is the size of the collection BenchmarkReadPast queries: the
// history grows, the collection does not.
const readPastDocs = 1000

// BenchmarkReadPast measures a CountDocuments (a scan of 1,000 documents,
// 10 match) at a random LSN in the middle half of 1k, 10k and 100k records
// of history, against the same query at the head. The history is one
// InsertMany of the 1,000 documents, then single-document updates ($inc) of
// them in turn. Time travel replays at most a checkpoint interval of
// records, so at=past should not grow with the history.
func BenchmarkReadPast(b *testing.B) {
	ctx := context.Background()
	filter := bson.D{{Key: "g", Value: 7}}
	for _, records := range []int{1_000, 10_000, 100_000} {
		var s *benchStore
		var head wal.LSN
		setup := func(b *testing.B) *Client {
			if s != nil {
				return s.c
			}
			st := openBenchStore(b, "memory")
			s = &st
			seedBench(b, s.c, readPastDocs)
			coll := benchItems(s.c)
			var err error
			if head, err = s.c.HeadLSN(ctx); err != nil {
				b.Fatal(err)
			}
			for i := int(head); i < records; i++ {
				if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: i % readPastDocs}},
					bson.D{{Key: "$inc", Value: bson.D{{Key: "v", Value: 1}}}}); err != nil {
					b.Fatal(err)
				}
			}
			if head, err = s.c.HeadLSN(ctx); err != nil {
				b.Fatal(err)
			}
			return s.c
		}
		b.Run(fmt.Sprintf("records=%d/at=past", records), func(b *testing.B) {
			c := setup(b)
			rng := rand.New(rand.NewPCG(1, uint64(records)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				lsn := head/4 + wal.LSN(rng.Int64N(int64(head/2)))
				n, err := benchItems(c.AtLSN(lsn)).CountDocuments(ctx, filter)
				if err != nil || n != readPastDocs/100 {
					b.Fatalf("count at lsn %d: %d, %v", lsn, n, err)
				}
			}
		})
		b.Run(fmt.Sprintf("records=%d/at=head", records), func(b *testing.B) {
			coll := benchItems(setup(b))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				n, err := coll.CountDocuments(ctx, filter)
				if err != nil || n != readPastDocs/100 {
					b.Fatalf("count: %d, %v", n, err)
				}
			}
		})
		if s != nil {
			s.cleanup()
		}
	}
}

// branchPerTestDocs is the size of the seed of the branch-per-test
// benchmarks.
const branchPerTestDocs = 10_000

// BenchmarkBranchPerTest is what one test costs with argontest.Branch: fork
// a branch off a 10,000-document main, write 10 documents (10 InsertOne),
// read them back (one Find), delete the branch. The mongo case needs
// ARGON_TEST_MONGODB_URI; compare it with BenchmarkDropAndReseed_Driver.
func BenchmarkBranchPerTest(b *testing.B) {
	ctx := context.Background()
	for _, kind := range []string{"memory", "embedded", "mongo"} {
		seed := &lazySeed{kind: kind, docs: branchPerTestDocs}
		made := 0
		b.Run(kind, func(b *testing.B) {
			c := seed.get(b)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				made++
				name := fmt.Sprintf("test-%d", made)
				if _, err := c.CreateBranch(ctx, name); err != nil {
					b.Fatal(err)
				}
				coll := benchItems(c.WithBranch(name))
				for k := range 10 {
					if _, err := coll.InsertOne(ctx, benchDoc(branchPerTestDocs+k)); err != nil {
						b.Fatal(err)
					}
				}
				cur, err := coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: branchPerTestDocs}}}})
				if err != nil {
					b.Fatal(err)
				}
				var got []bson.Raw
				if err := cur.All(ctx, &got); err != nil || len(got) != 10 {
					b.Fatalf("read back %d documents: %v", len(got), err)
				}
				if err := c.DeleteBranch(ctx, name); err != nil {
					b.Fatal(err)
				}
			}
		})
		seed.close()
	}
}

// BenchmarkDropAndReseed_Driver is the usual alternative to a branch per
// test, with the plain mongo-driver on the server ARGON_TEST_MONGODB_URI
// names: drop the database, insert the 10,000 documents again (one
// InsertMany; the driver splits it), then the same 10 writes and read as
// BenchmarkBranchPerTest.
func BenchmarkDropAndReseed_Driver(b *testing.B) {
	ctx := context.Background()
	client := testenv.MongoClient(b)
	db := client.Database(testenv.UniqueDBName(b, "argon_bench_reseed"))
	coll := db.Collection("items")
	docs := make([]interface{}, branchPerTestDocs)
	for i := range docs {
		docs[i] = benchDoc(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := db.Drop(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			b.Fatal(err)
		}
		for k := range 10 {
			if _, err := coll.InsertOne(ctx, benchDoc(branchPerTestDocs+k)); err != nil {
				b.Fatal(err)
			}
		}
		cur, err := coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: branchPerTestDocs}}}})
		if err != nil {
			b.Fatal(err)
		}
		var got []bson.Raw
		if err := cur.All(ctx, &got); err != nil || len(got) != 10 {
			b.Fatalf("read back %d documents: %v", len(got), err)
		}
	}
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkBranchMemory reports the live heap of a 100,000-document main
// (main-B), what 100 branches each changing 10 documents add to it
// (branches-B, and overhead-% of main-B), and what is still held once those
// branches are deleted (after-delete-%). ns/op is the time of the whole
// scenario; run it with -benchtime 1x.
func BenchmarkBranchMemory(b *testing.B) {
	const (
		docs     = 100_000
		branches = 100
		changes  = 10
	)
	ctx := context.Background()
	for _, kind := range []string{"memory", "embedded"} {
		b.Run(kind, func(b *testing.B) {
			var mainB, branchB, afterB float64
			for range b.N {
				before := heapInUse()
				s := openBenchStore(b, kind)
				seedBench(b, s.c, docs)
				// One small write on main: the commit path keeps the last
				// round's records (here the last seed batch, about 2 MB)
				// until the next round replaces them, which would count
				// against the branches.
				if _, err := benchItems(s.c).UpdateOne(ctx, bson.D{{Key: "_id", Value: docs - 1}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "w", Value: 1}}}}); err != nil {
					b.Fatal(err)
				}
				withMain := heapInUse()
				for j := range branches {
					name := fmt.Sprintf("mem-%d", j)
					if _, err := s.c.CreateBranch(ctx, name); err != nil {
						b.Fatal(err)
					}
					coll := benchItems(s.c.WithBranch(name))
					for k := range changes {
						id := (j*changes + k) * (docs / (branches * changes))
						if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
							bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: -1}}}}); err != nil {
							b.Fatal(err)
						}
					}
				}
				withBranches := heapInUse()
				for j := range branches {
					if err := s.c.DeleteBranch(ctx, fmt.Sprintf("mem-%d", j)); err != nil {
						b.Fatal(err)
					}
				}
				afterDelete := heapInUse()
				mainB = float64(withMain) - float64(before)
				branchB = float64(withBranches) - float64(withMain)
				afterB = float64(afterDelete) - float64(withMain)
				s.cleanup()
			}
			b.ReportMetric(mainB, "main-B")
			b.ReportMetric(branchB, "branches-B")
			b.ReportMetric(100*branchB/mainB, "overhead-%")
			b.ReportMetric(100*afterB/mainB, "after-delete-%")
		})
	}
}
