package argon_test

import (
	"context"
	"fmt"
	"log"
	"time"

	mongo "github.com/argon-lab/argon"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
)

// Garbage collection removes what deleted branches wrote once their
// deletion is older than the retention window. The clock is set by hand
// here so that the example does not wait a week.
func ExampleClient_GarbageCollect() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	client, err := mongo.OpenMemory(ctx, &mongo.Options{Log: &wal.LogOptions{Clock: clock}})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()

	if _, err := client.CreateBranch(ctx, "experiment"); err != nil {
		log.Fatal(err)
	}
	scratch := client.WithBranch("experiment").Database("app").Collection("scratch")
	for i := 0; i < 3; i++ {
		if _, err := scratch.InsertOne(ctx, bson.D{{Key: "n", Value: i}}); err != nil {
			log.Fatal(err)
		}
	}
	if err := client.DeleteBranch(ctx, "experiment"); err != nil {
		log.Fatal(err)
	}

	now = now.Add(8 * 24 * time.Hour) // past the default 7-day window
	dry, err := client.GarbageCollect(ctx, mongo.GC().SetDryRun(true))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("would remove", dry.Records, "records")
	rep, err := client.GarbageCollect(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("removed", rep.Records, "records of", len(rep.BranchesPurged), "branch")
	// Output:
	// would remove 3 records
	// removed 3 records of 1 branch
}
