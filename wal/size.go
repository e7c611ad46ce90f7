package wal

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
)

// Sizer is implemented by stores that can tell how many bytes a log
// occupies. It is optional: callers check for it with a type assertion.
type Sizer interface {
	// LogSize returns the bytes project's records (tombstones included,
	// checkpoints not) occupy in the store. shared reports that the figure
	// covers every project of the store rather than project alone.
	LogSize(ctx context.Context, project string) (bytes int64, shared bool, err error)
}

// LogSize implements Sizer: the encoded records.
func (s *MemoryStore) LogSize(ctx context.Context, project string) (int64, bool, error) {
	if err := ValidateProjectName(project); err != nil {
		return 0, false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, false, ErrClosed
	}
	var n int64
	for _, rec := range s.projects[project] {
		n += int64(len(rec))
	}
	return n, false, nil
}

// LogSize implements Sizer: the project's segment files.
func (s *DirStore) LogSize(ctx context.Context, project string) (int64, bool, error) {
	if err := ValidateProjectName(project); err != nil {
		return 0, false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, false, ErrClosed
	}
	p := s.project(project, false)
	if p == nil {
		return 0, false, nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	var n int64
	for _, seg := range p.segs {
		n += seg.size
	}
	return n, false, nil
}

// LogSize implements Sizer with the server's collStats of the records
// collection, which every project of the store shares (shared is true);
// records spilled into chunks are not counted.
func (s *MongoStore) LogSize(ctx context.Context, project string) (int64, bool, error) {
	if err := ValidateProjectName(project); err != nil {
		return 0, false, err
	}
	ctx, cancel, err := s.opCtx(ctx)
	if err != nil {
		return 0, false, err
	}
	defer cancel()
	var stats bson.Raw
	err = s.records.Database().RunCommand(ctx, bson.D{{Key: "collStats", Value: s.records.Name()}}).Decode(&stats)
	if err != nil {
		return 0, false, fmt.Errorf("wal: size of the MongoDB log: %w", err)
	}
	v, err := stats.LookupErr("size")
	if err != nil {
		return 0, false, fmt.Errorf("wal: collStats of %s has no size", s.records.Name())
	}
	if n, ok := v.AsInt64OK(); ok {
		return n, true, nil
	}
	return 0, false, fmt.Errorf("wal: collStats of %s: size is a %s", s.records.Name(), v.Type)
}
