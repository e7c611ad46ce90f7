package wal

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// dirBenchRecord returns a record of lsn whose encoding is about 1 KiB.
func dirBenchRecord(lsn LSN) Record {
	// 930 bytes of padding plus the record's own fields: about 1 KiB.
	doc, _ := bson.Marshal(bson.D{{Key: "_id", Value: int64(lsn)}, {Key: "pad", Value: strings.Repeat("x", 930)}})
	return Record{
		LSN:  lsn,
		Time: dirTestTime.Add(time.Duration(lsn) * time.Millisecond),
		Ops:  []Op{{Kind: OpInsert, DB: "db", Coll: "c", ID: bson.Raw(doc).Lookup("_id"), Doc: doc}},
	}
}

func dirBenchRecordSize() int {
	r := dirBenchRecord(1)
	return len(r.Encode())
}

// BenchmarkDirStore_Append appends batches of 1 KiB records, one Append
// per op, with and without fdatasync. MB/s counts record payload bytes.
//
//	go test -run '^$' -bench 'DirStore_(Append|Read)' ./wal/
func BenchmarkDirStore_Append(b *testing.B) {
	size := dirBenchRecordSize()
	for _, sync := range []bool{true, false} {
		for _, batch := range []int{1, 16} {
			b.Run(fmt.Sprintf("sync=%t/batch=%d", sync, batch), func(b *testing.B) {
				s, err := OpenDir(context.Background(), b.TempDir(), &DirOptions{NoSync: !sync})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				recs := make([]Record, batch)
				for i := range recs {
					recs[i] = dirBenchRecord(LSN(i + 1))
				}
				b.SetBytes(int64(size * batch))
				b.ResetTimer()
				next := LSN(1)
				for range b.N {
					for i := range recs {
						recs[i].LSN = next + LSN(i)
						recs[i].Time = dirTestTime.Add(time.Duration(recs[i].LSN) * time.Millisecond)
					}
					if _, err := s.Append(context.Background(), "bench", recs); err != nil {
						b.Fatal(err)
					}
					next += LSN(batch)
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// BenchmarkDirStore_Read reads a log of 20,000 1 KiB records: one record
// at a random LSN per op, or 100 records from a random LSN per op.
func BenchmarkDirStore_Read(b *testing.B) {
	const n = 20000
	ctx := context.Background()
	s, err := OpenDir(ctx, b.TempDir(), &DirOptions{NoSync: true, SegmentSize: 4 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	recs := make([]Record, 0, 1000)
	for lsn := LSN(1); lsn <= n; lsn++ {
		recs = append(recs, dirBenchRecord(lsn))
		if len(recs) == cap(recs) {
			if _, err := s.Append(ctx, "bench", recs); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	size := dirBenchRecordSize()
	for _, limit := range []int{1, 100} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			b.SetBytes(int64(size * limit))
			for range b.N {
				from := LSN(1 + rng.IntN(n-limit))
				got, err := s.Read(ctx, "bench", from, limit)
				if err != nil || len(got) != limit {
					b.Fatal(len(got), err)
				}
			}
			b.ReportMetric(float64(b.N*limit)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
