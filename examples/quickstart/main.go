// Command quickstart shows Argon on its default store, an embedded
// directory: the driver-shaped API writes and queries documents, every
// write lands in the write-ahead log, and after a reopen both the data and
// the log are still there.
//
//	go run ./examples/quickstart            # uses a fresh temporary directory
//	go run ./examples/quickstart -dir data  # keeps the store in ./data
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	mongo "github.com/argon-lab/argon"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func main() {
	dir := flag.String("dir", "", "directory of the embedded store (default: a new temporary directory)")
	flag.Parse()
	if err := run(context.Background(), *dir); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "argon-quickstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}

	// 1. Write and query exactly as with the MongoDB driver.
	client, err := mongo.Open(ctx, dir)
	if err != nil {
		return err
	}
	users := client.Database("app").Collection("users")
	start := time.Now()
	if _, err := users.InsertMany(ctx, []interface{}{
		bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: "ada"}, {Key: "logins", Value: 3}},
		bson.D{{Key: "_id", Value: 2}, {Key: "name", Value: "grace"}, {Key: "logins", Value: 7}},
		bson.D{{Key: "_id", Value: 3}, {Key: "name", Value: "edsger"}, {Key: "logins", Value: 1}},
	}); err != nil {
		return err
	}
	fmt.Printf("inserted 3 users (durable on return) in %v\n", time.Since(start).Round(time.Microsecond))

	res, err := users.UpdateOne(ctx, bson.D{{Key: "name", Value: "ada"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "logins", Value: 1}}}})
	if err != nil {
		return err
	}
	fmt.Printf("updated: matched %d, modified %d\n", res.MatchedCount, res.ModifiedCount)
	if _, err := users.DeleteOne(ctx, bson.D{{Key: "_id", Value: 3}}); err != nil {
		return err
	}
	if err := client.Disconnect(ctx); err != nil {
		return err
	}

	// 2. Reopen: the state is rebuilt from the log.
	client, err = mongo.Open(ctx, dir)
	if err != nil {
		return err
	}
	users = client.Database("app").Collection("users")
	cur, err := users.Find(ctx, bson.D{{Key: "logins", Value: bson.D{{Key: "$gte", Value: 2}}}},
		options.Find().SetSort(bson.D{{Key: "logins", Value: -1}}))
	if err != nil {
		return err
	}
	var found []bson.M
	if err := cur.All(ctx, &found); err != nil {
		return err
	}
	fmt.Println("after reopen, users with logins >= 2, most first:")
	for _, u := range found {
		fmt.Printf("  %v: %v logins\n", u["name"], u["logins"])
	}
	if err := client.Disconnect(ctx); err != nil {
		return err
	}

	// 3. The log underneath: one record per write, physical images only.
	store, err := wal.OpenDir(ctx, dir, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	recs, err := store.Read(ctx, mongo.DefaultProject, 1, 100)
	if err != nil {
		return err
	}
	fmt.Printf("the log of project %q:\n", mongo.DefaultProject)
	for _, r := range recs {
		for _, op := range r.Ops {
			fmt.Printf("  lsn %d %s %-7s %s.%s %s\n", r.LSN, r.Time.Format(time.TimeOnly), op.Kind, op.DB, op.Coll, op.ID)
		}
	}
	return nil
}
