package wal

import (
	"context"
	"time"
)

// Store keeps the records of every project. Implementations: NewMemoryStore
// (tests), OpenDir (the embedded default) and OpenMongo (production).
//
// A Store is safe for concurrent use by multiple goroutines. Most code should
// not call Append directly: a Log adds group commit, catch-up and retries on
// top of it.
type Store interface {
	// Append writes recs, whose LSNs must be consecutive, atomically record by
	// record, in order. The caller must have seen LSN recs[0].LSN-1 (or
	// recs[0].LSN must be 1): the store relies on it to keep the log free of
	// holes. Times must be set and must not decrease.
	//
	// It returns how many records, a prefix of recs, are durable. When an LSN
	// is already taken it returns n < len(recs) and an error wrapping
	// ErrLSNTaken; recs[:n] are committed and the rest are not. On any other
	// error recs[n:] are not committed either: a store resolves ambiguous
	// outcomes (a lost reply) before it returns.
	Append(ctx context.Context, project string, recs []Record) (int, error)

	// Tail returns the newest LSN of project and its time; 0 and the zero
	// time for a project without records.
	Tail(ctx context.Context, project string) (LSN, time.Time, error)

	// Read returns up to limit records of project with LSN >= from, in LSN
	// order. A short (or empty) result means the end of the log was reached.
	Read(ctx context.Context, project string, from LSN, limit int) ([]Record, error)

	// Projects lists the projects that have at least one record, sorted.
	Projects(ctx context.Context) ([]string, error)

	// Close releases the store's resources. Appends after Close fail with
	// ErrClosed.
	Close() error
}
