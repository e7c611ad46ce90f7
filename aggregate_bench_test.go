package argon

// Aggregation benchmarks (issue: aggregation).
//
// BenchmarkAggregateGroup runs the same $group pipeline over the same
// documents on two targets:
//
//	target=driver    the plain mongo-driver against the server
//	                 ARGON_TEST_MONGODB_URI names (skipped without it)
//	target=embedded  argon on its embedded store (Open on a temporary
//	                 directory), evaluated in-process
//
// BenchmarkAggregateLookup runs an equality $lookup in argon alone (the
// test server has no $lookup), growing the foreign collection from 1,000
// to 100,000 documents with 10,000 local ones, and the local one from
// 1,000 to 100,000 with 100,000 foreign ones.
//
//	ARGON_TEST_MONGODB_URI=mongodb://127.0.0.1:PORT/ go test -run '^$' \
//	  -bench '^BenchmarkAggregate(Group|Lookup)$' -benchtime 3x -count 3 -timeout 60m .
//
// Each collection is seeded once per top-level benchmark (InsertMany in
// batches of 10,000, outside the timer) and reused by every round and
// repetition. One op runs the pipeline and reads every result document.

import (
	"context"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// abAggregator is what both targets' collections offer.
type abAggregator interface {
	Aggregate(ctx context.Context, pipeline interface{}, opts ...*options.AggregateOptions) (*mongo.Cursor, error)
	InsertMany(ctx context.Context, documents []interface{}, opts ...*options.InsertManyOptions) (*mongo.InsertManyResult, error)
}

// abSeed inserts n documents made by doc in batches of cbSeedBatch.
func abSeed(b *testing.B, c abAggregator, n int, doc func(i int) bson.D) {
	b.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += cbSeedBatch {
		end := min(start+cbSeedBatch, n)
		batch := make([]interface{}, 0, end-start)
		for i := start; i < end; i++ {
			batch = append(batch, doc(i))
		}
		if _, err := c.InsertMany(ctx, batch); err != nil {
			b.Fatalf("seeding: %v", err)
		}
	}
}

// abRun runs pipeline on c and returns the number of result documents.
func abRun(b *testing.B, c abAggregator, pipeline mongo.Pipeline) int {
	ctx := context.Background()
	cur, err := c.Aggregate(ctx, pipeline)
	if err != nil {
		b.Fatal(err)
	}
	var out []bson.Raw
	if err := cur.All(ctx, &out); err != nil {
		b.Fatal(err)
	}
	return len(out)
}

// abGroupDoc is document i of the $group seed: about 80 bytes, in one of
// 100 groups.
func abGroupDoc(i int) bson.D {
	return bson.D{
		{Key: "_id", Value: cbID(i)},
		{Key: "g", Value: int32(i % 100)},
		{Key: "v", Value: int32(i)},
		{Key: "name", Value: fmt.Sprintf("user-name-%07d", i)},
	}
}

// abGroupPipeline counts and sums per group: the test server implements
// only the $sum and $count accumulators.
var abGroupPipeline = mongo.Pipeline{
	{{Key: "$group", Value: bson.D{
		{Key: "_id", Value: "$g"},
		{Key: "n", Value: bson.D{{Key: "$count", Value: bson.D{}}}},
		{Key: "total", Value: bson.D{{Key: "$sum", Value: "$v"}}},
	}}},
	{{Key: "$sort", Value: bson.D{{Key: "_id", Value: 1}}}},
}

func BenchmarkAggregateGroup(b *testing.B) {
	set := newCBSet(b)
	ctx := context.Background()
	for _, docs := range []int{10_000, 100_000} {
		for _, target := range []string{"driver", "embedded"} {
			var c abAggregator
			b.Run(fmt.Sprintf("target=%s/docs=%d", target, docs), func(b *testing.B) {
				if c == nil {
					switch target {
					case "driver":
						if set.uri == "" {
							b.Skip("ARGON_TEST_MONGODB_URI is not set: no MongoDB-wire server to compare with")
						}
						name := cbName("agg")
						set.dropLater(b, name)
						c = set.driver(b).Database(name).Collection("items")
					default:
						client, err := Open(ctx, b.TempDir())
						if err != nil {
							b.Fatal(err)
						}
						set.closers = append(set.closers, func() { _ = client.Disconnect(context.Background()) })
						c = client.Database("bench").Collection("items")
					}
					abSeed(b, c, docs, abGroupDoc)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if n := abRun(b, c, abGroupPipeline); n != 100 {
						b.Fatalf("got %d groups, want 100", n)
					}
				}
			})
		}
	}
}

func BenchmarkAggregateLookup(b *testing.B) {
	ctx := context.Background()
	client, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	db := client.Database("bench")
	seeded := map[string]bool{}
	// coll returns a seeded collection: each document of "local<n>_<f>"
	// names one of the f customers of "foreign<f>" (spread over it), and
	// "foreign<n>" holds the customers.
	coll := func(b *testing.B, kind string, n, foreign int) *Collection {
		name := fmt.Sprintf("%s%d", kind, n)
		if kind == "local" {
			name = fmt.Sprintf("local%d_%d", n, foreign)
		}
		c := db.Collection(name)
		if !seeded[name] {
			abSeed(b, c, n, func(i int) bson.D {
				if kind == "foreign" {
					return bson.D{{Key: "_id", Value: int32(i)}, {Key: "name", Value: fmt.Sprintf("customer-%07d", i)}, {Key: "tier", Value: int32(i % 3)}}
				}
				return bson.D{{Key: "_id", Value: int32(i)}, {Key: "cust", Value: int32((i * 7919) % foreign)}, {Key: "amount", Value: int32(i % 500)}}
			})
			seeded[name] = true
		}
		return c
	}
	for _, sz := range [][2]int{{10_000, 1_000}, {10_000, 10_000}, {10_000, 100_000}, {1_000, 100_000}, {100_000, 100_000}} {
		local, foreign := sz[0], sz[1]
		b.Run(fmt.Sprintf("local=%d/foreign=%d", local, foreign), func(b *testing.B) {
			lc := coll(b, "local", local, foreign)
			coll(b, "foreign", foreign, 0)
			pipeline := mongo.Pipeline{{{Key: "$lookup", Value: bson.D{
				{Key: "from", Value: fmt.Sprintf("foreign%d", foreign)},
				{Key: "localField", Value: "cust"},
				{Key: "foreignField", Value: "_id"},
				{Key: "as", Value: "customer"},
			}}}}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if n := abRun(b, lc, pipeline); n != local {
					b.Fatalf("got %d documents, want %d", n, local)
				}
			}
		})
	}
}
