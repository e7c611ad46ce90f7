package argon_test

import (
	"context"
	"fmt"
	"log"
	"time"

	mongo "github.com/argon-lab/argon"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// A pipeline-style update with let variables: the filter's $expr and the
// $set stage read $$limit and $$label.
func ExampleCollection_UpdateMany_pipelineWithLet() {
	ctx := context.Background()
	client, err := mongo.OpenMemory(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	coll := client.Database("shop").Collection("items")
	if _, err := coll.InsertMany(ctx, []interface{}{
		bson.D{{Key: "_id", Value: 1}, {Key: "qty", Value: 3}},
		bson.D{{Key: "_id", Value: 2}, {Key: "qty", Value: 30}},
	}); err != nil {
		log.Fatal(err)
	}
	res, err := coll.UpdateMany(ctx,
		bson.D{{Key: "$expr", Value: bson.D{{Key: "$lt", Value: bson.A{"$qty", "$$limit"}}}}},
		mongo.Pipeline{{{Key: "$set", Value: bson.D{{Key: "status", Value: "$$label"}, {Key: "double", Value: bson.D{{Key: "$multiply", Value: bson.A{"$qty", 2}}}}}}}},
		options.Update().SetLet(bson.D{{Key: "limit", Value: 10}, {Key: "label", Value: "low"}}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.ModifiedCount)
	var doc bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&doc); err != nil {
		log.Fatal(err)
	}
	fmt.Println(doc["status"], doc["double"])
	// Output:
	// 1
	// low 6
}

// Documents in a collection with a TTL index expire; RunTTLPass runs the
// monitor's pass at once, and the deletion is an ordinary record in the log.
func ExampleClient_RunTTLPass() {
	ctx := context.Background()
	client, err := mongo.OpenMemory(ctx, &mongo.Options{TTLInterval: -1}) // no background monitor
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	sessions := client.Database("app").Collection("sessions")
	if _, err := sessions.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "lastSeen", Value: 1}},
		Options: options.Index().SetExpireAfterSeconds(3600),
	}); err != nil {
		log.Fatal(err)
	}
	if _, err := sessions.InsertMany(ctx, []interface{}{
		bson.D{{Key: "user", Value: "old"}, {Key: "lastSeen", Value: time.Now().Add(-2 * time.Hour)}},
		bson.D{{Key: "user", Value: "new"}, {Key: "lastSeen", Value: time.Now()}},
	}); err != nil {
		log.Fatal(err)
	}
	n, err := client.RunTTLPass(ctx)
	if err != nil {
		log.Fatal(err)
	}
	left, err := sessions.CountDocuments(ctx, bson.D{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, left)
	// Output: 1 1
}
