package argontest_test

import (
	"context"
	"log"
	"testing"

	"github.com/argon-lab/argon"
	"github.com/argon-lab/argon/argontest"
	"go.mongodb.org/mongo-driver/bson"
)

// seeded is the client the tests of a package share; TestMain seeds it.
var seeded *argon.Client

// ExampleBranch shows the branch-per-test pattern: seed once in TestMain,
// then give every test its own branch of the seed. (Examples get no
// *testing.T, so this one is compiled but not run; examples/branchpertest
// is the same pattern as a package that runs.)
func ExampleBranch() {
	// In TestMain(m *testing.M), once per test binary:
	ctx := context.Background()
	c, err := argon.OpenMemory(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Disconnect(ctx) // after m.Run: every test's branch is deleted by then
	docs := make([]interface{}, 10_000)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: i}, {Key: "stock", Value: 10}}
	}
	if _, err := c.Database("shop").Collection("products").InsertMany(ctx, docs); err != nil {
		log.Fatal(err)
	}
	seeded = c
	// os.Exit(m.Run())

	// Each test, parallel or not:
	testSell := func(t *testing.T) {
		t.Parallel()
		c := argontest.Branch(t, seeded) // its own branch: the seed, and only this test's writes
		products := c.Database("shop").Collection("products")
		res, err := products.UpdateOne(ctx, bson.D{{Key: "_id", Value: 7}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "stock", Value: -1}}}})
		if err != nil || res.ModifiedCount != 1 {
			t.Fatalf("sell: %v, %+v", err, res)
		}
		// No other test sees the new stock; the branch is deleted when
		// the test ends.
	}
	_ = testSell
}

// ExampleMemory gives a test a store of its own, disconnected when the test
// ends.
func ExampleMemory() {
	testEmpty := func(t *testing.T) {
		c := argontest.Memory(t)
		n, err := c.Database("shop").Collection("products").CountDocuments(context.Background(), bson.D{})
		if err != nil || n != 0 {
			t.Fatalf("count: %d, %v", n, err)
		}
	}
	_ = testEmpty
}
