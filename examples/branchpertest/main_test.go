package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/argon-lab/argon"
	"github.com/argon-lab/argon/argontest"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

var embedded = flag.Bool("embedded", false, "seed the embedded store (in a temporary directory) instead of a memory store")

// seeded is main of one store, seeded once by TestMain with SeedProducts
// products. Tests never write to it: each forks its own branch.
var seeded *argon.Client

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	ctx := context.Background()
	var (
		c   *argon.Client
		err error
	)
	if *embedded {
		dir, derr := os.MkdirTemp("", "branchpertest-")
		if derr != nil {
			fmt.Fprintln(os.Stderr, "TestMain:", derr)
			return 1
		}
		defer os.RemoveAll(dir)
		c, err = argon.Open(ctx, dir)
	} else {
		c, err = argon.OpenMemory(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "TestMain: opening the store:", err)
		return 1
	}
	// Disconnect after m.Run: by then every test's cleanup has deleted its
	// branch.
	defer c.Disconnect(ctx)
	if err := Seed(ctx, c, SeedProducts); err != nil {
		fmt.Fprintln(os.Stderr, "TestMain:", err)
		return 1
	}
	seeded = c

	code := m.Run()
	if err := checkUntouched(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "TestMain: after the tests:", err)
		return 1
	}
	return code
}

// checkUntouched verifies that the tests left main exactly as seeded and
// deleted every branch they made.
func checkUntouched(ctx context.Context, c *argon.Client) error {
	branches, err := c.ListBranches(ctx)
	if err != nil {
		return err
	}
	if len(branches) != 1 || branches[0].Name != "main" {
		return fmt.Errorf("%d branches left, want only main: %v", len(branches), branches)
	}
	cur, err := Products(c).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return err
	}
	var all []Product
	if err := cur.All(ctx, &all); err != nil {
		return err
	}
	if len(all) != SeedProducts {
		return fmt.Errorf("main has %d products, want %d", len(all), SeedProducts)
	}
	for i, p := range all {
		if p != SeedProduct(i) {
			return fmt.Errorf("main's product %d is %+v, want %+v", i, p, SeedProduct(i))
		}
	}
	return nil
}

// find returns the products matching filter on c, by _id.
func find(t *testing.T, products *argon.Collection, filter bson.D) []Product {
	t.Helper()
	cur, err := products.Find(context.Background(), filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	require.NoError(t, err)
	out := []Product{}
	require.NoError(t, cur.All(context.Background(), &out))
	return out
}

func count(t *testing.T, products *argon.Collection, filter bson.D) int64 {
	t.Helper()
	n, err := products.CountDocuments(context.Background(), filter)
	require.NoError(t, err)
	return n
}

func idRange(lo, hi int) bson.D {
	return bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: lo}, {Key: "$lt", Value: hi}}}}
}

const (
	shards    = 128
	shardSize = 50 // shards*shardSize <= SeedProducts
)

// TestInventory runs shards parallel tests. Test i works on the products
// [50i, 50i+50) of the seed and adds products 100000+10i+k, all on its own
// branch: it sells, restocks, discontinues and adds, then checks the whole
// collection as its branch sees it. Were the branches not isolated, a test
// would see the other tests' changes (counts, new products, zero stocks).
func TestInventory(t *testing.T) {
	for i := range shards {
		t.Run(fmt.Sprintf("shard%03d", i), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			products := Products(argontest.Branch(t, seeded))
			base := i * shardSize
			want := make([]Product, shardSize)
			for k := range want {
				want[k] = SeedProduct(base + k)
			}

			// Sell 3 units of each of the first 10 products.
			for k := range 10 {
				require.NoError(t, Sell(ctx, products, base+k, 3))
				want[k].Stock -= 3
			}

			// Selling more than the stock fails and changes nothing;
			// selling exactly the stock empties it.
			p := SeedProduct(base + 10)
			err := Sell(ctx, products, p.ID, p.Stock+1)
			require.ErrorIs(t, err, ErrOutOfStock)
			require.NoError(t, Sell(ctx, products, p.ID, p.Stock))
			want[10].Stock = 0

			// Restock products 20 to 29 with 5 units each.
			var ids []int
			for k := 20; k < 30; k++ {
				ids = append(ids, base+k)
				want[k].Stock += 5
			}
			n, err := Restock(ctx, products, ids, 5)
			require.NoError(t, err)
			require.Equal(t, int64(10), n)

			// Discontinue products 30 to 34 (and one that never existed).
			n, err = Discontinue(ctx, products, []int{base + 30, base + 31, base + 32, base + 33, base + 34, 999_999})
			require.NoError(t, err)
			require.Equal(t, int64(5), n)
			want = slices.Delete(want, 30, 35)

			// Add three products; a taken id is a duplicate key.
			added := make([]Product, 3)
			for k := range added {
				added[k] = Product{ID: 100_000 + 10*i + k, SKU: fmt.Sprintf("new-%03d-%d", i, k), Category: "new", Stock: k + 1, Price: 999}
			}
			require.NoError(t, AddProducts(ctx, products, added))
			err = AddProducts(ctx, products, []Product{SeedProduct(base + 40)})
			require.True(t, mongo.IsDuplicateKeyError(err), "got %v", err)

			// What the branch holds: the seed with this test's changes.
			require.Equal(t, int64(SeedProducts-5+3), count(t, products, bson.D{}))
			require.Equal(t, want, find(t, products, idRange(base, base+shardSize)))
			require.Equal(t, added, find(t, products, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: 100_000}}}}),
				"only this test's new products")
			next := (i + 1) % shards * shardSize
			require.Equal(t, []Product{SeedProduct(next)}, find(t, products, bson.D{{Key: "_id", Value: next}}),
				"the next test's products as seeded")
			low, err := LowStock(ctx, products, p.Category, 1)
			require.NoError(t, err)
			require.Equal(t, []Product{{ID: p.ID, SKU: p.SKU, Category: p.Category, Stock: 0, Price: p.Price}}, low,
				"the only product sold out is this test's")
		})
	}
}

func TestSell_UnknownProduct(t *testing.T) {
	t.Parallel()
	products := Products(argontest.Branch(t, seeded))
	err := Sell(context.Background(), products, -1, 1)
	require.True(t, errors.Is(err, ErrOutOfStock), "got %v", err)
}

func TestLowStock_Seed(t *testing.T) {
	t.Parallel()
	products := Products(argontest.Branch(t, seeded))
	// Stock 10 means id%40 == 0, which is always a "books" product (id%8 == 0).
	low, err := LowStock(context.Background(), products, "books", 11)
	require.NoError(t, err)
	require.Len(t, low, SeedProducts/40)
	for k, p := range low {
		require.Equal(t, SeedProduct(40*k), p)
	}
	none, err := LowStock(context.Background(), products, "games", 11)
	require.NoError(t, err)
	require.Empty(t, none)
}

// TestDiscontinue_Everything deletes the whole catalog: harmless, since it
// happens on the test's branch.
func TestDiscontinue_Everything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	products := Products(argontest.Branch(t, seeded))
	res, err := products.DeleteMany(ctx, bson.D{})
	require.NoError(t, err)
	require.Equal(t, int64(SeedProducts), res.DeletedCount)
	require.Zero(t, count(t, products, bson.D{}))
	require.Equal(t, int64(SeedProducts), count(t, Products(seeded), bson.D{}), "main keeps the seed")
}

// TestRestock_Category restocks a whole category: 1,250 documents changed on
// the branch, none on main.
func TestRestock_Category(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	products := Products(argontest.Branch(t, seeded))
	var ids []int
	for id := 0; id < SeedProducts; id += len(Categories) {
		ids = append(ids, id)
	}
	n, err := Restock(ctx, products, ids, 100)
	require.NoError(t, err)
	require.Equal(t, int64(len(ids)), n)
	require.Equal(t, int64(len(ids)), count(t, products, bson.D{{Key: "category", Value: "books"}, {Key: "stock", Value: bson.D{{Key: "$gte", Value: 110}}}}))
	require.Zero(t, count(t, Products(seeded), bson.D{{Key: "stock", Value: bson.D{{Key: "$gte", Value: 110}}}}))
}

// TestBranch_OfTheTestsBranch forks a test's branch again: a subtest starts
// from its parent test's changes.
func TestBranch_OfTheTestsBranch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	parent := argontest.Branch(t, seeded)
	_, err := Discontinue(ctx, Products(parent), []int{0})
	require.NoError(t, err)
	t.Run("child", func(t *testing.T) {
		child := Products(argontest.Branch(t, parent))
		require.Equal(t, int64(SeedProducts-1), count(t, child, bson.D{}))
		require.NoError(t, AddProducts(ctx, child, []Product{SeedProduct(0)}), "id 0 is free on this branch")
	})
	require.Equal(t, int64(SeedProducts-1), count(t, Products(parent), bson.D{}))
}
