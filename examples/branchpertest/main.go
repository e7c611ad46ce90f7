// Command branchpertest is a small inventory service whose tests each run on
// their own Argon branch of one seeded store: see main_test.go and
// README.md. Run the tests with
//
//	go test ./examples/branchpertest            # 128 parallel tests on branches of a 10,000-document seed
//	go test ./examples/branchpertest -embedded  # the same on the embedded store, in a temporary directory
//
// Run as a program, it seeds a store and shows one test's life cycle, step
// by step, with measured times:
//
//	go run ./examples/branchpertest
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/argon-lab/argon"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Product is one document of shop.products.
type Product struct {
	ID       int    `bson:"_id"`
	SKU      string `bson:"sku"`
	Category string `bson:"category"`
	Stock    int    `bson:"stock"`
	Price    int    `bson:"price"` // cents
}

// Categories of the seed, in the order SeedProduct assigns them.
var Categories = []string{"books", "games", "garden", "kitchen", "music", "office", "sports", "toys"}

// SeedProducts is how many products Seed inserts.
const SeedProducts = 10_000

// SeedProduct returns the seed's product id: deterministic, so tests can
// compute what they expect.
func SeedProduct(id int) Product {
	return Product{
		ID:       id,
		SKU:      fmt.Sprintf("sku-%05d", id),
		Category: Categories[id%len(Categories)],
		Stock:    10 + id%40,
		Price:    100 + (id*37)%1000,
	}
}

// Products returns the shop.products collection of c's branch.
func Products(c *argon.Client) *argon.Collection {
	return c.Database("shop").Collection("products")
}

// Seed inserts products 0 to n-1 into shop.products of c's branch, in
// batches of 1,000.
func Seed(ctx context.Context, c *argon.Client, n int) error {
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		docs := make([]interface{}, 0, batch)
		for id := lo; id < min(lo+batch, n); id++ {
			docs = append(docs, SeedProduct(id))
		}
		if _, err := Products(c).InsertMany(ctx, docs); err != nil {
			return fmt.Errorf("seeding products %d-%d: %w", lo, lo+len(docs)-1, err)
		}
	}
	return nil
}

// ErrOutOfStock is returned by Sell when the product has fewer units than
// asked for (or does not exist).
var ErrOutOfStock = errors.New("out of stock")

// Sell takes qty units of product id out of stock, if there are enough.
// The check and the decrement are one atomic update.
func Sell(ctx context.Context, products *argon.Collection, id, qty int) error {
	res, err := products.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "stock", Value: bson.D{{Key: "$gte", Value: qty}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "stock", Value: -qty}}}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("selling %d of product %d: %w", qty, id, ErrOutOfStock)
	}
	return nil
}

// Restock adds qty units to each of the products ids and returns how many
// it changed.
func Restock(ctx context.Context, products *argon.Collection, ids []int, qty int) (int64, error) {
	res, err := products.UpdateMany(ctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "stock", Value: qty}}}})
	if err != nil {
		return 0, err
	}
	return res.ModifiedCount, nil
}

// Discontinue removes the products ids and returns how many there were.
func Discontinue(ctx context.Context, products *argon.Collection, ids []int) (int64, error) {
	res, err := products.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}

// AddProducts inserts new products; a taken id fails with a duplicate key
// error (mongo.IsDuplicateKeyError).
func AddProducts(ctx context.Context, products *argon.Collection, ps []Product) error {
	docs := make([]interface{}, len(ps))
	for i, p := range ps {
		docs[i] = p
	}
	_, err := products.InsertMany(ctx, docs)
	return err
}

// LowStock returns the products of category with fewer than below units,
// by stock then id.
func LowStock(ctx context.Context, products *argon.Collection, category string, below int) ([]Product, error) {
	cur, err := products.Find(ctx,
		bson.D{{Key: "category", Value: category}, {Key: "stock", Value: bson.D{{Key: "$lt", Value: below}}}},
		options.Find().SetSort(bson.D{{Key: "stock", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var out []Product
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "branchpertest:", err)
		os.Exit(1)
	}
}

// run walks through what argontest.Branch does for one test, timing each
// step.
func run(ctx context.Context) error {
	c, err := argon.OpenMemory(ctx)
	if err != nil {
		return err
	}
	defer c.Disconnect(ctx)

	start := time.Now()
	if err := Seed(ctx, c, SeedProducts); err != nil {
		return err
	}
	fmt.Printf("seeded main with %d products in %v (once per test binary)\n", SeedProducts, since(start))

	start = time.Now()
	info, err := c.CreateBranch(ctx, "argontest/TestSell-0001")
	if err != nil {
		return err
	}
	fmt.Printf("created branch %q (forked at LSN %d) in %v\n", info.Name, info.BaseLSN, since(start))

	branch := Products(c.WithBranch(info.Name))
	start = time.Now()
	if err := Sell(ctx, branch, 7, 3); err != nil {
		return err
	}
	if _, err := Discontinue(ctx, branch, []int{1, 2, 3}); err != nil {
		return err
	}
	fmt.Printf("the test sold 3 units of product 7 and discontinued 3 products on its branch in %v\n", since(start))

	for _, x := range []struct {
		name string
		coll *argon.Collection
	}{{"branch", branch}, {"main", Products(c)}} {
		n, err := x.coll.CountDocuments(ctx, bson.D{})
		if err != nil {
			return err
		}
		var p Product
		if err := x.coll.FindOne(ctx, bson.D{{Key: "_id", Value: 7}}).Decode(&p); err != nil {
			return err
		}
		fmt.Printf("  %-6s: %5d products, product 7 has %d in stock\n", x.name, n, p.Stock)
	}

	start = time.Now()
	if err := c.DeleteBranch(ctx, info.Name); err != nil {
		return err
	}
	fmt.Printf("deleted the branch in %v; main is the seed again for the next test\n", since(start))
	return nil
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Microsecond) }
