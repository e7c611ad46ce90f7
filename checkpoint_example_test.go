package argon_test

import (
	"context"
	"fmt"
	"log"
	"os"

	mongo "github.com/argon-lab/argon"
	"go.mongodb.org/mongo-driver/bson"
)

// A checkpoint lets the next process that opens the directory start from
// it instead of replaying the whole log. Clients also write checkpoints in
// the background, every Options.CheckpointInterval records.
func ExampleClient_Checkpoint() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "argon-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	client, err := mongo.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	coll := client.Database("shop").Collection("orders")
	for i := 0; i < 3; i++ {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "n", Value: i}}); err != nil {
			log.Fatal(err)
		}
	}
	lsn, err := client.Checkpoint(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("checkpoint at lsn", lsn)
	if err := client.Disconnect(ctx); err != nil {
		log.Fatal(err)
	}

	// A new process: it loads the checkpoint, then follows the log.
	client, err = mongo.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	n, err := client.Database("shop").Collection("orders").CountDocuments(ctx, bson.D{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "orders")
	// Output:
	// checkpoint at lsn 3
	// 3 orders
}
