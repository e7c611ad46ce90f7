package argon

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// TestCollection_Find_IndexedSortAgreesWithScan runs the same finds (sort,
// skip, limit, projection, filters the planner uses) on two collections
// holding the same documents, one with indexes and one without: the
// results must be identical, ties included.
func TestCollection_Find_IndexedSortAgreesWithScan(t *testing.T) {
	ctx := context.Background()
	client := crudClient(t)
	plain := client.Database("db").Collection("plain")
	indexed := client.Database("db").Collection("indexed")
	r := rand.New(rand.NewPCG(1, 2))
	var docs []interface{}
	for i := 0; i < 300; i++ {
		d := bson.D{{Key: "_id", Value: i}, {Key: "g", Value: int32(r.IntN(5))}}
		switch r.IntN(6) {
		case 0: // n missing
		case 1:
			d = append(d, bson.E{Key: "n", Value: fmt.Sprint("s", r.IntN(20))})
		case 2:
			d = append(d, bson.E{Key: "n", Value: nil})
		default:
			d = append(d, bson.E{Key: "n", Value: r.IntN(50)})
		}
		docs = append(docs, d)
	}
	for _, c := range []*Collection{plain, indexed} {
		_, err := c.InsertMany(ctx, docs)
		require.NoError(t, err)
	}
	_, err := indexed.Indexes().CreateMany(ctx, []IndexModel{
		{Keys: bson.D{{Key: "n", Value: 1}}},
		{Keys: bson.D{{Key: "g", Value: 1}, {Key: "n", Value: -1}}},
	})
	require.NoError(t, err)
	filters := []bson.D{
		{},
		{{Key: "g", Value: 2}},
		{{Key: "n", Value: bson.D{{Key: "$gte", Value: 10}, {Key: "$lt", Value: 30}}}},
		{{Key: "n", Value: bson.D{{Key: "$gt", Value: "s1"}}}},
		{{Key: "$or", Value: bson.A{bson.D{{Key: "n", Value: 7}}, bson.D{{Key: "g", Value: 1}, {Key: "n", Value: bson.D{{Key: "$lt", Value: 20}}}}}}},
	}
	sorts := []bson.D{{{Key: "n", Value: 1}}, {{Key: "n", Value: -1}}, {{Key: "g", Value: 1}, {Key: "n", Value: 1}}, {{Key: "_id", Value: -1}}}
	for _, f := range filters {
		for _, s := range sorts {
			for _, lim := range []int64{1, 4, 25} {
				opts := options.Find().SetSort(s).SetLimit(lim).SetSkip(int64(r.IntN(3))).SetProjection(bson.D{{Key: "g", Value: 0}})
				var want, got []bson.Raw
				cur, err := plain.Find(ctx, f, opts)
				require.NoError(t, err)
				require.NoError(t, cur.All(ctx, &want))
				cur, err = indexed.Find(ctx, f, opts)
				require.NoError(t, err)
				require.NoError(t, cur.All(ctx, &got))
				require.Equal(t, want, got, "filter %v sort %v limit %d", f, s, lim)
				n1, err := plain.CountDocuments(ctx, f)
				require.NoError(t, err)
				n2, err := indexed.CountDocuments(ctx, f)
				require.NoError(t, err)
				require.Equal(t, n1, n2)
			}
		}
	}
}

// BenchmarkFindSortLimit is Find(filter, sort, limit 10) on 100,000
// documents of an in-memory client: sorted by ix (indexed) or nx (the same
// values, no index), with no filter, with a range on the sort field, and
// with a two-sided range and an $or the index answers without sorting.
func BenchmarkFindSortLimit(b *testing.B) {
	const docs = 100_000
	ctx := context.Background()
	c, err := OpenMemory(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Disconnect(ctx)
	coll := c.Database("bench").Collection("items")
	cbSeed(b, coll, docs)
	if _, err := coll.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "ix", Value: 1}}}); err != nil {
		b.Fatal(err)
	}
	for _, field := range []string{"ix", "nx"} {
		index := map[string]string{"ix": "yes", "nx": "no"}[field]
		cases := []struct {
			name   string
			filter bson.D
			sort   bson.D
		}{
			{"sort", bson.D{}, bson.D{{Key: field, Value: -1}}},
			{"range+sort", bson.D{{Key: field, Value: bson.D{{Key: "$gte", Value: 5000}}}}, bson.D{{Key: field, Value: 1}}},
			{"two-sided", bson.D{{Key: field, Value: bson.D{{Key: "$gt", Value: 5000}, {Key: "$lte", Value: 5002}}}}, nil},
			{"or", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: field, Value: 17}}, bson.D{{Key: field, Value: 9000}}}}}, nil},
		}
		for _, tc := range cases {
			b.Run(fmt.Sprintf("%s/index=%s", tc.name, index), func(b *testing.B) {
				opts := options.Find().SetLimit(10)
				if tc.sort != nil {
					opts.SetSort(tc.sort)
				}
				b.ReportAllocs()
				for range b.N {
					cur, err := coll.Find(ctx, tc.filter, opts)
					if err != nil {
						b.Fatal(err)
					}
					if cur.RemainingBatchLength() == 0 {
						b.Fatal("no results")
					}
					_ = cur.Close(ctx)
				}
			})
		}
	}
}
