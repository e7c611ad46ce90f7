package argon_test

import (
	"context"
	"fmt"
	"log"

	mongo "github.com/argon-lab/argon"
	"go.mongodb.org/mongo-driver/bson"
)

// A transfer between two accounts in two collections: both writes commit
// as one log record, or neither does. WithTransaction retries the callback
// when a concurrent commit conflicts with it.
func ExampleClient_StartSession() {
	ctx := context.Background()
	client, err := mongo.OpenMemory(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	accounts := client.Database("bank").Collection("accounts")
	ledger := client.Database("bank").Collection("ledger")
	if _, err := accounts.InsertMany(ctx, []interface{}{
		bson.D{{Key: "_id", Value: "alice"}, {Key: "balance", Value: 100}},
		bson.D{{Key: "_id", Value: "bob"}, {Key: "balance", Value: 0}},
	}); err != nil {
		log.Fatal(err)
	}

	sess, err := client.StartSession()
	if err != nil {
		log.Fatal(err)
	}
	defer sess.EndSession(ctx)
	_, err = sess.WithTransaction(ctx, func(sc mongo.SessionContext) (interface{}, error) {
		move := func(id string, amount int) error {
			_, err := accounts.UpdateOne(sc, bson.D{{Key: "_id", Value: id}},
				bson.D{{Key: "$inc", Value: bson.D{{Key: "balance", Value: amount}}}})
			return err
		}
		if err := move("alice", -30); err != nil {
			return nil, err
		}
		if err := move("bob", 30); err != nil {
			return nil, err
		}
		return ledger.InsertOne(sc, bson.D{{Key: "from", Value: "alice"}, {Key: "to", Value: "bob"}, {Key: "amount", Value: 30}})
	})
	if err != nil {
		log.Fatal(err)
	}

	cur, err := accounts.Find(ctx, bson.D{})
	if err != nil {
		log.Fatal(err)
	}
	var docs []struct {
		ID      string `bson:"_id"`
		Balance int
	}
	if err := cur.All(ctx, &docs); err != nil {
		log.Fatal(err)
	}
	n, err := ledger.CountDocuments(ctx, bson.D{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(docs, n)
	// Output: [{alice 70} {bob 30}] 1
}
