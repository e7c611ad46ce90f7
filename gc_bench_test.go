package argon

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
)

// BenchmarkClient_GarbageCollect measures one collection that removes the
// records of 100 deleted branches of 10 records each (1,000 records, one
// document per record) next to a live main of 1,000 records. Run with
// -benchtime=Nx: each iteration builds its log first, untimed.
func BenchmarkClient_GarbageCollect(b *testing.B) {
	for _, kind := range []string{"memory", "dir"} {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			removed := 0
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				var store wal.Store = wal.NewMemoryStore()
				if kind == "dir" {
					ds, err := wal.OpenDir(ctx, b.TempDir(), nil)
					if err != nil {
						b.Fatal(err)
					}
					store = ds
				}
				clk := newTestClock()
				c, err := NewClient(ctx, store, &Options{TTLInterval: -1, Log: &wal.LogOptions{Clock: clk.Now}})
				if err != nil {
					b.Fatal(err)
				}
				main := c.Database("db").Collection("c")
				for j := 0; j < 1000; j++ {
					if _, err := main.InsertOne(ctx, bson.D{{Key: "_id", Value: j}}); err != nil {
						b.Fatal(err)
					}
				}
				for j := 0; j < 100; j++ {
					name := fmt.Sprintf("t%d", j)
					if _, err := c.CreateBranch(ctx, name); err != nil {
						b.Fatal(err)
					}
					coll := c.WithBranch(name).Database("db").Collection("c")
					for k := 0; k < 10; k++ {
						if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: -k - 1}, {Key: "pad", Value: "0123456789abcdef0123456789abcdef"}}); err != nil {
							b.Fatal(err)
						}
					}
					if err := c.DeleteBranch(ctx, name); err != nil {
						b.Fatal(err)
					}
				}
				clk.Advance(8 * 24 * time.Hour)
				if _, err := main.InsertOne(ctx, bson.D{{Key: "_id", Value: -1}}); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				b.StartTimer()
				rep, err := c.GarbageCollect(ctx)
				b.StopTimer()
				elapsed += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Records != 1000 {
					b.Fatalf("removed %d records, want 1000", rep.Records)
				}
				removed += rep.Records
				c.Disconnect(ctx)
			}
			b.ReportMetric(float64(removed)/elapsed.Seconds(), "records/s")
		})
	}
}
