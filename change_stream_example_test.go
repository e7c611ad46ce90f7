package argon_test

import (
	"context"
	"fmt"
	"log"

	mongo "github.com/argon-lab/argon"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// A change stream with a $match pipeline and the after-image of updates;
// its resume token starts a second stream right after the first event.
func ExampleCollection_Watch() {
	ctx := context.Background()
	client, err := mongo.OpenMemory(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	orders := client.Database("shop").Collection("orders")

	pipeline := mongo.Pipeline{{{Key: "$match", Value: bson.D{{Key: "operationType", Value: bson.D{{Key: "$in", Value: bson.A{"insert", "update"}}}}}}}}
	stream, err := orders.Watch(ctx, pipeline, options.ChangeStream().SetFullDocument(options.WhenAvailable))
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = stream.Close(ctx) }()

	if _, err := orders.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "status", Value: "new"}}); err != nil {
		log.Fatal(err)
	}
	if _, err := orders.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "paid"}}}}); err != nil {
		log.Fatal(err)
	}
	if _, err := orders.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		log.Fatal(err)
	}

	var token bson.Raw
	for i := 0; i < 2 && stream.Next(ctx); i++ {
		var ev struct {
			OperationType     string `bson:"operationType"`
			UpdateDescription struct {
				UpdatedFields bson.M `bson:"updatedFields"`
			} `bson:"updateDescription"`
			FullDocument bson.M `bson:"fullDocument"`
		}
		if err := stream.Decode(&ev); err != nil {
			log.Fatal(err)
		}
		fmt.Println(ev.OperationType, ev.UpdateDescription.UpdatedFields, ev.FullDocument["status"])
		if token == nil {
			token = stream.ResumeToken()
		}
	}

	again, err := orders.Watch(ctx, pipeline, options.ChangeStream().SetResumeAfter(token))
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = again.Close(ctx) }()
	if again.Next(ctx) {
		fmt.Println("resumed at", again.Current.Lookup("operationType").StringValue())
	}
	// Output:
	// insert map[] new
	// update map[status:paid] paid
	// resumed at update
}
