// Package walbench compares the embedded directory store (wal.DirStore, a
// segmented log) with a log kept in bbolt, to back the choice of format.
// It is a separate module so the main module does not depend on bbolt.
//
//	cd tools/walbench && go test -run '^$' -bench . -benchtime 2s
package walbench

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/argon-lab/argon/wal"
	bolt "go.etcd.io/bbolt"
)

// BoltStore keeps each project's log in a bbolt bucket: key = big-endian
// LSN, value = the record's encoding. One Update transaction (one fsync
// with bbolt's defaults) per Append. It implements what the benchmark needs
// of wal.Store, with the same LSN checks; it is not a production store.
type BoltStore struct {
	db *bolt.DB
}

// OpenBolt opens (creating) a bbolt file. noSync is bbolt's NoSync.
func OpenBolt(path string, noSync bool) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second, NoSync: noSync})
	if err != nil {
		return nil, err
	}
	return &BoltStore{db: db}, nil
}

// Append writes recs in one transaction.
func (s *BoltStore) Append(ctx context.Context, project string, recs []wal.Record) (int, error) {
	if err := wal.ValidateProjectName(project); err != nil {
		return 0, err
	}
	if len(recs) == 0 {
		return 0, fmt.Errorf("%w: empty batch", wal.ErrInvalidRecord)
	}
	enc := make([][]byte, len(recs))
	for i := range recs {
		if err := recs[i].Validate(); err != nil {
			return 0, err
		}
		if i > 0 && recs[i].LSN != recs[i-1].LSN+1 {
			return 0, fmt.Errorf("%w: lsns not consecutive", wal.ErrInvalidRecord)
		}
		enc[i] = recs[i].Encode()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(project))
		if err != nil {
			return err
		}
		b.FillPercent = 1.0 // append-only keys
		var tail wal.LSN
		if k, _ := b.Cursor().Last(); k != nil {
			tail = wal.LSN(binary.BigEndian.Uint64(k))
		}
		switch first := recs[0].LSN; {
		case first <= tail:
			return fmt.Errorf("%w: lsn %d (tail %d)", wal.ErrLSNTaken, first, tail)
		case first > tail+1:
			return fmt.Errorf("%w: lsn %d after tail %d", wal.ErrGap, first, tail)
		}
		var key [8]byte
		for i := range recs {
			binary.BigEndian.PutUint64(key[:], uint64(recs[i].LSN))
			if err := b.Put(key[:], enc[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(recs), nil
}

// Read returns up to limit records from LSN from.
func (s *BoltStore) Read(ctx context.Context, project string, from wal.LSN, limit int) ([]wal.Record, error) {
	var out []wal.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(project))
		if b == nil {
			return nil
		}
		var key [8]byte
		binary.BigEndian.PutUint64(key[:], uint64(from))
		c := b.Cursor()
		for k, v := c.Seek(key[:]); k != nil && len(out) < limit; k, v = c.Next() {
			// v is only valid inside the transaction; DecodeRecord keeps
			// slices of its input, so decode a copy.
			r, err := wal.DecodeRecord(append([]byte(nil), v...))
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// Close closes the database.
func (s *BoltStore) Close() error { return s.db.Close() }
