package walbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
)

// appender is what both stores offer.
type appender interface {
	Append(ctx context.Context, project string, recs []wal.Record) (int, error)
	Read(ctx context.Context, project string, from wal.LSN, limit int) ([]wal.Record, error)
	Close() error
}

var t0 = time.UnixMilli(1_700_000_000_000).UTC()

// record1K returns a record of lsn whose encoding is about 1 KiB.
func record1K(lsn wal.LSN) wal.Record {
	doc, _ := bson.Marshal(bson.D{{Key: "_id", Value: int64(lsn)}, {Key: "pad", Value: strings.Repeat("x", 930)}})
	return wal.Record{
		LSN:  lsn,
		Time: t0.Add(time.Duration(lsn) * time.Millisecond),
		Ops:  []wal.Op{{Kind: wal.OpInsert, DB: "db", Coll: "c", ID: bson.Raw(doc).Lookup("_id"), Doc: doc}},
	}
}

func recordSize() int {
	r := record1K(1)
	return len(r.Encode())
}

var stores = []struct {
	name string
	open func(b *testing.B, noSync bool) appender
}{
	{"dir", func(b *testing.B, noSync bool) appender {
		s, err := wal.OpenDir(context.Background(), b.TempDir(), &wal.DirOptions{NoSync: noSync})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
	{"bbolt", func(b *testing.B, noSync bool) appender {
		s, err := OpenBolt(filepath.Join(b.TempDir(), "log.db"), noSync)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
}

// BenchmarkAppend appends batches of 1 KiB records, one Append (one commit,
// fsync'ed) per op. MB/s counts record bytes.
func BenchmarkAppend(b *testing.B) {
	size := recordSize()
	for _, st := range stores {
		for _, batch := range []int{1, 16} {
			b.Run(fmt.Sprintf("store=%s/batch=%d", st.name, batch), func(b *testing.B) {
				s := st.open(b, false)
				defer s.Close()
				recs := make([]wal.Record, batch)
				for i := range recs {
					recs[i] = record1K(wal.LSN(i + 1))
				}
				b.SetBytes(int64(size * batch))
				b.ResetTimer()
				next := wal.LSN(1)
				for range b.N {
					for i := range recs {
						recs[i].LSN = next + wal.LSN(i)
						recs[i].Time = t0.Add(time.Duration(recs[i].LSN) * time.Millisecond)
					}
					if _, err := s.Append(context.Background(), "bench", recs); err != nil {
						b.Fatal(err)
					}
					next += wal.LSN(batch)
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// BenchmarkRead reads 100 records from a random LSN of a 20,000-record log.
func BenchmarkRead(b *testing.B) {
	const n, limit = 20000, 100
	size := recordSize()
	for _, st := range stores {
		b.Run("store="+st.name, func(b *testing.B) {
			s := st.open(b, true)
			defer s.Close()
			batch := make([]wal.Record, 0, 1000)
			for lsn := wal.LSN(1); lsn <= n; lsn++ {
				batch = append(batch, record1K(lsn))
				if len(batch) == cap(batch) {
					if _, err := s.Append(context.Background(), "bench", batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			b.SetBytes(int64(size * limit))
			b.ResetTimer()
			for range b.N {
				from := wal.LSN(1 + rng.IntN(n-limit))
				got, err := s.Read(context.Background(), "bench", from, limit)
				if err != nil || len(got) != limit {
					b.Fatal(len(got), err)
				}
			}
			b.ReportMetric(float64(b.N*limit)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
