package argon_test

import (
	"context"
	"fmt"
	"log"

	mongo "github.com/argon-lab/argon"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// An in-memory client, for tests: the same API as the driver's client.
func ExampleOpenMemory() {
	ctx := context.Background()
	client, err := mongo.OpenMemory(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()

	coll := client.Database("shop").Collection("orders")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "item", Value: "tea"}}); err != nil {
		log.Fatal(err)
	}
	n, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n)
	// Output: 1
}

func ExampleCollection_InsertOne() {
	ctx := context.Background()
	client, err := mongo.OpenMemory(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	coll := client.Database("shop").Collection("users")

	res, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "ada"}, {Key: "age", Value: 36}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.InsertedID)

	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "ada"}})
	fmt.Println(mongo.IsDuplicateKeyError(err))
	fmt.Println(err)
	// Output:
	// ada
	// true
	// write exception: write errors: [E11000 duplicate key error collection: shop.users index: _id_ dup key: { _id: "ada" }]
}

func ExampleCollection_Find() {
	ctx := context.Background()
	client, err := mongo.OpenMemory(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	coll := client.Database("shop").Collection("users")
	_, err = coll.InsertMany(ctx, []interface{}{
		bson.D{{Key: "name", Value: "ada"}, {Key: "age", Value: 36}},
		bson.D{{Key: "name", Value: "alan"}, {Key: "age", Value: 41}},
		bson.D{{Key: "name", Value: "grace"}, {Key: "age", Value: 85}},
	})
	if err != nil {
		log.Fatal(err)
	}

	cur, err := coll.Find(ctx,
		bson.D{{Key: "age", Value: bson.D{{Key: "$gt", Value: 40}}}},
		options.Find().SetSort(bson.D{{Key: "age", Value: -1}}).SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "name", Value: 1}}))
	if err != nil {
		log.Fatal(err)
	}
	var people []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &people); err != nil {
		log.Fatal(err)
	}
	for _, p := range people {
		fmt.Println(p.Name)
	}
	// Output:
	// grace
	// alan
}

func ExampleCollection_UpdateOne() {
	ctx := context.Background()
	client, err := mongo.OpenMemory(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	coll := client.Database("shop").Collection("stock")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "tea"}, {Key: "qty", Value: 10}}); err != nil {
		log.Fatal(err)
	}

	res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "tea"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "qty", Value: -3}}}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.MatchedCount, res.ModifiedCount)

	res, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "coffee"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "qty", Value: 5}}}},
		options.Update().SetUpsert(true))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.MatchedCount, res.UpsertedCount, res.UpsertedID)

	var tea struct {
		Qty int32 `bson:"qty"`
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "tea"}}).Decode(&tea); err != nil {
		log.Fatal(err)
	}
	fmt.Println(tea.Qty)
	// Output:
	// 1 1
	// 0 1 coffee
	// 7
}

func ExampleIndexView_CreateOne() {
	ctx := context.Background()
	client, err := mongo.OpenMemory(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	coll := client.Database("shop").Collection("users")

	name, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "email", Value: 1}},
		Options: options.Index().SetUnique(true),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(name)
	_, _ = coll.InsertOne(ctx, bson.D{{Key: "email", Value: "ada@example.com"}})
	_, err = coll.InsertOne(ctx, bson.D{{Key: "email", Value: "ada@example.com"}})
	fmt.Println(mongo.IsDuplicateKeyError(err))
	// Output:
	// email_1
	// true
}
