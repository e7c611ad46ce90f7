// Command quickstart shows Argon's write-ahead log on the embedded store:
// it appends records, closes the log, reopens the directory and reads the
// records back.
//
//	go run ./examples/quickstart            # uses a fresh temporary directory
//	go run ./examples/quickstart -dir data  # keeps the log in ./data
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
)

func main() {
	dir := flag.String("dir", "", "directory of the embedded log (default: a new temporary directory)")
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

	// 1. Append: each Append is one atomic, durable record.
	store, err := wal.OpenDir(ctx, dir, nil)
	if err != nil {
		return err
	}
	log := wal.NewLog(store, nil)
	users := []string{"ada", "grace", "edsger"}
	for i, name := range users {
		doc, err := bson.Marshal(bson.D{{Key: "_id", Value: int32(i + 1)}, {Key: "name", Value: name}})
		if err != nil {
			return err
		}
		start := time.Now()
		rec, err := log.Append(ctx, "demo", "main", []wal.Op{{
			Kind: wal.OpInsert, DB: "app", Coll: "users",
			ID: bson.Raw(doc).Lookup("_id"), Doc: doc,
		}})
		if err != nil {
			return err
		}
		fmt.Printf("appended lsn %d (insert %s) in %v\n", rec.LSN, name, time.Since(start).Round(time.Microsecond))
	}
	if err := log.Close(); err != nil {
		return err
	}
	if err := store.Close(); err != nil {
		return err
	}

	// 2. Reopen: recovery checks every frame; what was acknowledged is there.
	store, err = wal.OpenDir(ctx, dir, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	tail, at, err := store.Tail(ctx, "demo")
	if err != nil {
		return err
	}
	fmt.Printf("reopened %s: project demo has %d records, last at %s\n", dir, tail, at.Format(time.RFC3339Nano))

	// 3. Read back in LSN order.
	recs, err := store.Read(ctx, "demo", 1, 100)
	if err != nil {
		return err
	}
	for _, r := range recs {
		for _, op := range r.Ops {
			fmt.Printf("lsn %d branch %s: %s %s.%s %s\n", r.LSN, r.Branch, op.Kind, op.DB, op.Coll, op.Doc)
		}
	}
	return nil
}
