package wal

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// MemoryStore keeps records in memory, for tests. It behaves like the other
// stores (LSN checks, validation, encoded sizes) but nothing survives the
// process. Several Logs may share one MemoryStore to model several
// processes writing to one log.
//
// A MemoryStore is safe for concurrent use. Appended data is "durable" as
// soon as Append returns, for as long as the store lives.
type MemoryStore struct {
	mu       sync.RWMutex
	projects map[string][][]byte        // encoded records, index = LSN-1
	ckpts    map[string][]memCheckpoint // checkpoint.go; newest first
	closed   bool
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{projects: make(map[string][][]byte)}
}

// Append implements Store.
func (s *MemoryStore) Append(ctx context.Context, project string, recs []Record) (int, error) {
	if err := ValidateProjectName(project); err != nil {
		return 0, err
	}
	if err := checkBatch(recs); err != nil {
		return 0, err
	}
	// Encode outside the lock; storing encoded bytes keeps callers from
	// mutating what was committed.
	enc := make([][]byte, len(recs))
	for i := range recs {
		enc[i] = recs[i].Encode()
		if len(enc[i]) > MaxRecordSize {
			return 0, fmt.Errorf("%w: %d bytes", ErrRecordTooLarge, len(enc[i]))
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	log := s.projects[project]
	tail := LSN(len(log))
	first := recs[0].LSN
	switch {
	case first <= tail:
		return 0, fmt.Errorf("%w: project %q lsn %d (tail %d)", ErrLSNTaken, project, first, tail)
	case first > tail+1:
		return 0, fmt.Errorf("%w: project %q lsn %d after tail %d", ErrGap, project, first, tail)
	}
	s.projects[project] = append(log, enc...)
	return len(recs), nil
}

// Tail implements Store.
func (s *MemoryStore) Tail(ctx context.Context, project string) (LSN, time.Time, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, time.Time{}, ErrClosed
	}
	log := s.projects[project]
	if len(log) == 0 {
		return 0, time.Time{}, nil
	}
	r, err := DecodeRecord(log[len(log)-1])
	if err != nil {
		return 0, time.Time{}, err
	}
	return r.LSN, r.Time, nil
}

// Read implements Store.
func (s *MemoryStore) Read(ctx context.Context, project string, from LSN, limit int) ([]Record, error) {
	if from == 0 {
		from = 1
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	log := s.projects[project]
	var enc [][]byte
	if from <= LSN(len(log)) {
		end := min(LSN(len(log)), from-1+LSN(max(limit, 0)))
		enc = log[from-1 : end]
	}
	s.mu.RUnlock()
	out := make([]Record, 0, len(enc))
	for _, b := range enc {
		r, err := DecodeRecord(b)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Projects implements Store.
func (s *MemoryStore) Projects(ctx context.Context) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	out := make([]string, 0, len(s.projects))
	for p, log := range s.projects {
		if len(log) > 0 {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Close implements Store.
func (s *MemoryStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// checkBatch validates what every store checks before writing anything:
// consecutive LSNs, non-decreasing times, well-formed records.
func checkBatch(recs []Record) error {
	if len(recs) == 0 {
		return fmt.Errorf("%w: empty batch", ErrInvalidRecord)
	}
	for i := range recs {
		r := &recs[i]
		if r.LSN == 0 {
			return fmt.Errorf("%w: lsn 0", ErrInvalidRecord)
		}
		if r.Time.IsZero() {
			return fmt.Errorf("%w: lsn %d has no time", ErrInvalidRecord, r.LSN)
		}
		if i > 0 {
			if r.LSN != recs[i-1].LSN+1 {
				return fmt.Errorf("%w: lsns %d and %d are not consecutive", ErrInvalidRecord, recs[i-1].LSN, r.LSN)
			}
			if r.Time.Before(recs[i-1].Time) {
				return fmt.Errorf("%w: time goes backwards at lsn %d", ErrInvalidRecord, r.LSN)
			}
		}
		if r.validated {
			continue
		}
		if err := r.Validate(); err != nil {
			return fmt.Errorf("lsn %d: %w", r.LSN, err)
		}
	}
	return nil
}
