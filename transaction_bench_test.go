package argon

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// BenchmarkSession_WithTransaction measures a transaction of two inserts
// into two collections (one record) against the same two inserts without
// a transaction (two records), in memory.
func BenchmarkSession_WithTransaction(b *testing.B) {
	ctx := context.Background()
	for _, mode := range []string{"transaction", "plain"} {
		b.Run(mode, func(b *testing.B) {
			c := crudClient(b)
			orders := c.Database("app").Collection("orders")
			lines := c.Database("app").Collection("lines")
			sess, err := c.StartSession()
			if err != nil {
				b.Fatal(err)
			}
			defer sess.EndSession(ctx)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				run := func(ctx context.Context) error {
					if _, err := orders.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
						return err
					}
					_, err := lines.InsertOne(ctx, bson.D{{Key: "order", Value: i}})
					return err
				}
				if mode == "plain" {
					err = run(ctx)
				} else {
					_, err = sess.WithTransaction(ctx, func(sc SessionContext) (interface{}, error) { return nil, run(sc) })
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
