// Command timetravel walks through Argon's time travel in five steps:
// write, make a mistake, read the past, restore, and diff.
//
//	go run ./examples/timetravel
package main

import (
	"context"
	"fmt"
	"os"

	mongo "github.com/argon-lab/argon"
	"go.mongodb.org/mongo-driver/bson"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "timetravel:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "argon-timetravel-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	client, err := mongo.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer client.Disconnect(ctx)
	accounts := client.Database("bank").Collection("accounts")

	// 1. Write.
	if _, err := accounts.InsertMany(ctx, []interface{}{
		bson.D{{Key: "_id", Value: "alice"}, {Key: "balance", Value: 100}},
		bson.D{{Key: "_id", Value: "bob"}, {Key: "balance", Value: 50}},
	}); err != nil {
		return err
	}
	good, err := client.HeadLSN(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("1. two accounts written; the log is at lsn %d\n", good)

	// 2. Make a mistake: an update without a filter zeroes every balance.
	res, err := accounts.UpdateMany(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "balance", Value: 0}}}})
	if err != nil {
		return err
	}
	fmt.Printf("2. oops: %d balances set to 0\n", res.ModifiedCount)

	// 3. Read the past: a read-only view of main before the mistake.
	var alice bson.M
	if err := client.AtLSN(good).Database("bank").Collection("accounts").
		FindOne(ctx, bson.D{{Key: "_id", Value: "alice"}}).Decode(&alice); err != nil {
		return err
	}
	fmt.Printf("3. at lsn %d alice had %v\n", good, alice["balance"])

	// 4. Restore: a new branch at that point (main keeps its history), or
	// reset main itself. Here: a branch to inspect, then the reset.
	restored, err := client.CreateBranch(ctx, "restored", mongo.Branch().SetLSN(good))
	if err != nil {
		return err
	}
	fmt.Printf("4. branch %q restored at lsn %d\n", restored.Name, restored.BaseLSN)

	// 5. Diff: what the mistake changed, document by document.
	diff, err := client.WithBranch("restored").Diff(ctx, client)
	if err != nil {
		return err
	}
	defer diff.Close(ctx)
	fmt.Println("5. restored -> main:")
	for diff.Next(ctx) {
		ch := diff.Change()
		var before, after struct{ Balance int }
		_ = bson.Unmarshal(ch.Before, &before)
		_ = bson.Unmarshal(ch.After, &after)
		fmt.Printf("   %s %s %s: balance %d -> %d\n", ch.Kind, ch.Collection, ch.ID.StringValue(), before.Balance, after.Balance)
	}
	if err := diff.Err(); err != nil {
		return err
	}

	if _, err := client.ResetBranch(ctx, "main", mongo.Branch().SetLSN(good)); err != nil {
		return err
	}
	n, err := accounts.CountDocuments(ctx, bson.D{{Key: "balance", Value: bson.D{{Key: "$gt", Value: 0}}}})
	if err != nil {
		return err
	}
	fmt.Printf("   main reset to lsn %d: %d accounts with money again\n", good, n)
	return nil
}
