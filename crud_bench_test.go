package argon

// CRUD benchmarks (issue: driver API): the same operations, in the same run
// and against the same MongoDB-wire server, on three targets:
//
//	target=driver      the plain mongo-driver, an ordinary collection on the
//	                   server ARGON_TEST_MONGODB_URI names
//	target=mongostore  argon on its MongoDB store (ConnectWithOptions, the log
//	                   in a fresh LogDatabase on that server)
//	target=embedded    argon on its embedded store (Open on a temporary
//	                   directory)
//
// Run them with the test server as scripts/build-testserver builds it (see
// internal/testenv and testserver/):
//
//	ARGON_TEST_MONGODB_URI=mongodb://127.0.0.1:PORT/ go test -run '^$' \
//	  -bench '^Benchmark(FindOneByID|FindSelective|InsertOne|UpdateOne)$' \
//	  -benchtime 2s -count 3 -timeout 30m .
//	go test -run '^$' -bench '^BenchmarkStateMemory$' -benchtime 1x -count 3 .
//
// A time -benchtime (not a count) because the targets differ by up to five
// orders of magnitude: the test server takes seconds per scan of 100,000
// documents, and those sub-benchmarks then run once per -count.
//
// Without ARGON_TEST_MONGODB_URI the driver and mongostore sub-benchmarks
// are skipped (never failed); -short also skips docs=100000 on the driver,
// whose scans are slow on the test server.
//
// Each (target, size) is opened and seeded once per top-level benchmark
// (InsertMany in batches of 10,000, then an index on "ix" created through
// the target's Indexes().CreateOne), outside the timer, kept for all the
// b.N rounds and -count repetitions of its sub-benchmarks, and closed (data
// dropped) by the top-level benchmark's cleanup. The driver's collection
// uses the write concern the MongoDB store appends with (majority), so
// writes are compared at the same acknowledgement.

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/argon-lab/argon/internal/testenv"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
)

const (
	// cbSeedBatch is the InsertMany batch size of the seeds.
	cbSeedBatch = 10_000
	// cbMatches is how many documents a selective filter matches.
	cbMatches = 10
	// cbStride spreads the documents a benchmark touches over the
	// collection (it is prime, so consecutive rounds hit different ones).
	cbStride = 7919
)

// cbTargetNames are the targets, in report order.
var cbTargetNames = []string{"driver", "mongostore", "embedded"}

// cbID is the _id of document i: an ObjectID, as applications use. (The
// test server answers an ObjectID or string _id equality from its _id
// index, but scans the collection for a numeric one, which would make the
// driver's point operations look like scans.)
func cbID(i int) primitive.ObjectID {
	var id primitive.ObjectID
	copy(id[:4], "argn")
	binary.BigEndian.PutUint64(id[4:], uint64(i))
	return id
}

// cbDoc is document i of an n-document seed: about 100 bytes of BSON.
// ix and nx both hold i % (n/cbMatches), so an equality on either matches
// cbMatches documents; the seed indexes ix and not nx.
func cbDoc(i, n int) bson.D {
	g := int32(i % (n / cbMatches))
	return bson.D{
		{Key: "_id", Value: cbID(i)},
		{Key: "ix", Value: g},
		{Key: "nx", Value: g},
		{Key: "name", Value: fmt.Sprintf("user-name-%07d", i)},
		{Key: "email", Value: fmt.Sprintf("user%07d@example.com", i)},
		{Key: "v", Value: int32(i)},
	}
}

// cbCollection is the part of the API the benchmarks call, which
// *mongo.Collection and *argon.Collection share (argon's result and cursor
// types are the driver's).
type cbCollection interface {
	FindOne(ctx context.Context, filter interface{}, opts ...*options.FindOneOptions) *mongo.SingleResult
	Find(ctx context.Context, filter interface{}, opts ...*options.FindOptions) (*mongo.Cursor, error)
	InsertOne(ctx context.Context, document interface{}, opts ...*options.InsertOneOptions) (*mongo.InsertOneResult, error)
	InsertMany(ctx context.Context, documents []interface{}, opts ...*options.InsertManyOptions) (*mongo.InsertManyResult, error)
	UpdateOne(ctx context.Context, filter interface{}, update interface{}, opts ...*options.UpdateOptions) (*mongo.UpdateResult, error)
}

// cbTarget is one seeded collection of one target.
type cbTarget struct {
	coll    cbCollection
	docs    int // seed size
	inserts int // documents InsertOne added so far
	updates int // UpdateOne calls so far
}

// cbSet opens and seeds targets on first use and keeps them until the
// top-level benchmark that made it ends.
type cbSet struct {
	uri     string // "" without a server
	dir     string // parent of the embedded stores' directories
	drv     *mongo.Client
	targets map[string]*cbTarget
	closers []func() // run in reverse order
}

// newCBSet returns an empty set that tb (the top-level benchmark) closes
// when it ends, after all its sub-benchmarks and their repetitions.
func newCBSet(tb testing.TB) *cbSet {
	s := &cbSet{uri: os.Getenv(testenv.URIEnv), dir: tb.TempDir(), targets: make(map[string]*cbTarget)}
	tb.Cleanup(s.close) // runs before TempDir's removal (cleanups are LIFO)
	return s
}

func (s *cbSet) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
	s.targets = nil
}

// cbName returns a database name no other run uses.
func cbName(kind string) string {
	return fmt.Sprintf("argon_crud_%s_%d_%016x", kind, os.Getpid(), rand.Uint64())
}

// driver returns the set's plain driver client, connecting on first use.
func (s *cbSet) driver(b *testing.B) *mongo.Client {
	b.Helper()
	if s.drv != nil {
		return s.drv
	}
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Timeout)
	defer cancel()
	mc, err := mongo.Connect(ctx, options.Client().ApplyURI(s.uri).SetServerSelectionTimeout(testenv.Timeout))
	if err != nil {
		b.Fatalf("connecting to %s: %v", testenv.URIEnv, err)
	}
	if err := mc.Ping(ctx, nil); err != nil {
		_ = mc.Disconnect(context.Background())
		b.Fatalf("pinging %s: %v", testenv.URIEnv, err)
	}
	s.drv = mc
	s.closers = append(s.closers, func() { _ = mc.Disconnect(context.Background()) })
	return mc
}

// dropLater registers the drop of database name with the set's driver
// client, which outlives every other closer.
func (s *cbSet) dropLater(b *testing.B, name string) {
	mc := s.driver(b)
	s.closers = append(s.closers, func() { _ = mc.Database(name).Drop(context.Background()) })
}

// get returns target (one of cbTargetNames) seeded with docs documents,
// opening and seeding it on first use. It skips b for a server-based target
// without ARGON_TEST_MONGODB_URI, and for the driver at 100,000 documents
// in -short mode.
func (s *cbSet) get(b *testing.B, target string, docs int) *cbTarget {
	b.Helper()
	key := fmt.Sprintf("%s/%d", target, docs)
	if t := s.targets[key]; t != nil {
		return t
	}
	if target != "embedded" && s.uri == "" {
		b.Skip(testenv.URIEnv + " is not set: no MongoDB-wire server to compare with")
	}
	if target == "driver" && docs >= 100_000 && testing.Short() {
		b.Skip("-short: the test server scans 100,000 documents slowly")
	}
	ctx := context.Background()
	coll := fmt.Sprintf("items%d", docs)
	var c cbCollection
	var createIndex func(IndexModel) error
	switch target {
	case "driver":
		db := cbName("drv")
		s.dropLater(b, db)
		dc := s.driver(b).Database(db).Collection(coll, options.Collection().SetWriteConcern(writeconcern.Majority()))
		c = dc
		createIndex = func(m IndexModel) error { _, err := dc.Indexes().CreateOne(context.Background(), m); return err }
	case "mongostore":
		db := cbName("log")
		s.dropLater(b, db) // registered first: runs after the Disconnect below
		ac, err := ConnectWithOptions(ctx, &Options{LogDatabase: db}, options.Client().ApplyURI(s.uri))
		if err != nil {
			b.Fatal(err)
		}
		s.closers = append(s.closers, func() { _ = ac.Disconnect(context.Background()) })
		c, createIndex = cbArgonColl(ac, coll)
	case "embedded":
		ac, err := Open(ctx, filepath.Join(s.dir, fmt.Sprint(docs)))
		if err != nil {
			b.Fatal(err)
		}
		s.closers = append(s.closers, func() { _ = ac.Disconnect(context.Background()) })
		c, createIndex = cbArgonColl(ac, coll)
	default:
		b.Fatalf("unknown target %q", target)
	}
	cbSeed(b, c, docs)
	if err := createIndex(IndexModel{Keys: bson.D{{Key: "ix", Value: 1}}}); err != nil {
		b.Fatalf("creating the index on ix: %v", err)
	}
	t := &cbTarget{coll: c, docs: docs}
	s.targets[key] = t
	return t
}

// cbArgonColl returns collection name of database "bench" of c, and the
// function that creates an index on it.
func cbArgonColl(c *Client, name string) (cbCollection, func(IndexModel) error) {
	coll := c.Database("bench").Collection(name)
	return coll, func(m IndexModel) error { _, err := coll.Indexes().CreateOne(context.Background(), m); return err }
}

// cbSeed inserts documents 0 to n-1 into c in InsertMany batches of
// cbSeedBatch.
func cbSeed(tb testing.TB, c cbCollection, n int) {
	tb.Helper()
	ctx := context.Background()
	for lo := 0; lo < n; lo += cbSeedBatch {
		batch := make([]interface{}, 0, cbSeedBatch)
		for i := lo; i < min(lo+cbSeedBatch, n); i++ {
			batch = append(batch, cbDoc(i, n))
		}
		if _, err := c.InsertMany(ctx, batch); err != nil {
			tb.Fatalf("seeding documents %d-%d: %v", lo, lo+len(batch)-1, err)
		}
	}
}

// BenchmarkFindOneByID is FindOne({_id: id}) on a 10,000-document
// collection, decoding the result to bson.Raw.
func BenchmarkFindOneByID(b *testing.B) {
	s := newCBSet(b)
	ctx := context.Background()
	const docs = 10_000
	for _, target := range cbTargetNames {
		b.Run(fmt.Sprintf("docs=%d/target=%s", docs, target), func(b *testing.B) {
			t := s.get(b, target, docs)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				id := cbID(i * cbStride % docs)
				raw, err := t.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
				if err != nil {
					b.Fatalf("FindOne _id %s: %v", id.Hex(), err)
				}
				if got, ok := raw.Lookup("_id").ObjectIDOK(); !ok || got != id {
					b.Fatalf("FindOne _id %s returned %s", id.Hex(), raw)
				}
			}
		})
	}
}

// BenchmarkFindSelective is Find({field: value}) matching 10 documents of
// 10,000 and of 100,000, read to the end with Cursor.All, on the indexed
// field ix (index=yes) and on nx, which has no index (index=no).
func BenchmarkFindSelective(b *testing.B) {
	s := newCBSet(b)
	ctx := context.Background()
	for _, docs := range []int{10_000, 100_000} {
		for _, index := range []string{"yes", "no"} {
			field := "nx"
			if index == "yes" {
				field = "ix"
			}
			for _, target := range cbTargetNames {
				b.Run(fmt.Sprintf("docs=%d/index=%s/target=%s", docs, index, target), func(b *testing.B) {
					t := s.get(b, target, docs)
					groups := docs / cbMatches
					b.ReportAllocs()
					b.ResetTimer()
					for i := range b.N {
						val := int32(i * cbStride % groups)
						cur, err := t.coll.Find(ctx, bson.D{{Key: field, Value: val}})
						if err != nil {
							b.Fatal(err)
						}
						var got []bson.Raw
						if err := cur.All(ctx, &got); err != nil {
							b.Fatal(err)
						}
						if len(got) != cbMatches {
							b.Fatalf("Find {%s: %d}: %d documents, want %d", field, val, len(got), cbMatches)
						}
					}
				})
			}
		}
	}
}

// BenchmarkInsertOne is one acknowledged InsertOne of a new document (the
// same shape as the seed's) into the 10,000-document collection.
func BenchmarkInsertOne(b *testing.B) {
	s := newCBSet(b)
	ctx := context.Background()
	const docs = 10_000
	for _, target := range cbTargetNames {
		b.Run(fmt.Sprintf("docs=%d/target=%s", docs, target), func(b *testing.B) {
			t := s.get(b, target, docs)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				t.inserts++
				if _, err := t.coll.InsertOne(ctx, cbDoc(t.docs+t.inserts, t.docs)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUpdateOne is one acknowledged UpdateOne({_id: id}, {$set: {v:
// x}}) on the 10,000-document collection; x is new every time, so every
// call modifies its document.
func BenchmarkUpdateOne(b *testing.B) {
	s := newCBSet(b)
	ctx := context.Background()
	const docs = 10_000
	for _, target := range cbTargetNames {
		b.Run(fmt.Sprintf("docs=%d/target=%s", docs, target), func(b *testing.B) {
			t := s.get(b, target, docs)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				t.updates++
				id := cbID(t.updates * cbStride % t.docs)
				res, err := t.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: int32(-t.updates)}}}})
				if err != nil {
					b.Fatal(err)
				}
				if res.MatchedCount != 1 || res.ModifiedCount != 1 {
					b.Fatalf("UpdateOne _id %s: matched %d, modified %d", id.Hex(), res.MatchedCount, res.ModifiedCount)
				}
			}
		})
	}
}

// cbLiveHeap returns the live heap after full collections.
func cbLiveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// cbLogBytes is the size of the encoded records a memory store holds for
// project.
func cbLogBytes(tb testing.TB, store *wal.MemoryStore, project string) int {
	tb.Helper()
	total := 0
	for from := wal.LSN(1); ; {
		recs, err := store.Read(context.Background(), project, from, 64)
		if err != nil {
			tb.Fatal(err)
		}
		if len(recs) == 0 {
			return total
		}
		for _, r := range recs {
			total += len(r.Encode())
		}
		from = recs[len(recs)-1].LSN + 1
	}
}

// BenchmarkStateMemory reports the live heap a memory client (OpenMemory)
// holds for 100,000 seeded documents: heap after seeding minus heap before
// the client, each read after runtime.GC. heap-B/doc is that per document
// and x-bson that as a multiple of the documents' total BSON size
// (bson-B/doc). The memory store keeps the log's encoded records in the
// heap as well (log-B/doc); state-x-bson leaves them out, so it is the
// materialized state alone: documents, indexes, catalog. indexes=_id has
// only the _id index; indexes=_id+ix adds the seed's index on ix (an
// int32). ns/op is the time of the whole scenario: run it with -benchtime
// 1x.
func BenchmarkStateMemory(b *testing.B) {
	const docs = 100_000
	ctx := context.Background()
	bsonBytes := 0
	for i := range docs {
		raw, err := bson.Marshal(cbDoc(i, docs))
		if err != nil {
			b.Fatal(err)
		}
		bsonBytes += len(raw)
	}
	for _, withIx := range []bool{false, true} {
		name := "indexes=_id"
		if withIx {
			name = "indexes=_id+ix"
		}
		b.Run(name, func(b *testing.B) {
			var heapB, logB float64
			for range b.N {
				before := cbLiveHeap()
				store := wal.NewMemoryStore()
				c, err := NewClient(ctx, store) // what OpenMemory does, keeping the store at hand
				if err != nil {
					b.Fatal(err)
				}
				coll := c.Database("bench").Collection("items")
				cbSeed(b, coll, docs)
				if withIx {
					if _, err := coll.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "ix", Value: 1}}}); err != nil {
						b.Fatal(err)
					}
				}
				// One small same-size write: the commit path keeps the
				// previous round's records (the last seed batch) until the
				// next round.
				if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: cbID(0)}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: int32(-1)}}}}); err != nil {
					b.Fatal(err)
				}
				after := cbLiveHeap()
				heapB = float64(after) - float64(before)
				logB = float64(cbLogBytes(b, store, DefaultProject))
				runtime.KeepAlive(c)
				if err := c.Disconnect(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(heapB/docs, "heap-B/doc")
			b.ReportMetric(float64(bsonBytes)/docs, "bson-B/doc")
			b.ReportMetric(heapB/float64(bsonBytes), "x-bson")
			b.ReportMetric(logB/docs, "log-B/doc")
			b.ReportMetric((heapB-logB)/float64(bsonBytes), "state-x-bson")
		})
	}
}
