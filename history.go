package argon

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/argon-lab/argon/wal"
)

// DefaultHistoryLimit is the page size of History when none is set.
const DefaultHistoryLimit = 100

// HistoryOptions page through a branch's history. Nil means the newest
// DefaultHistoryLimit records.
type HistoryOptions struct {
	// Before returns only records with a lower LSN: pass the last LSN of the
	// previous page to get the next one.
	Before *wal.LSN
	// Since returns only records committed at or after this time.
	Since *time.Time
	// Limit is the page size. Default 100.
	Limit *int
}

// NewHistoryOptions returns empty HistoryOptions.
func NewHistoryOptions() *HistoryOptions { return &HistoryOptions{} }

// SetBefore sets the exclusive upper LSN bound.
func (o *HistoryOptions) SetBefore(lsn wal.LSN) *HistoryOptions { o.Before = &lsn; return o }

// SetSince sets the oldest commit time returned.
func (o *HistoryOptions) SetSince(t time.Time) *HistoryOptions { o.Since = &t; return o }

// SetLimit sets the page size.
func (o *HistoryOptions) SetLimit(n int) *HistoryOptions { o.Limit = &n; return o }

// History returns the records that make up what the client's branch (or
// view) sees, newest first: the branch's own records and, below its fork
// point, its parent's, recursively. Each record carries its LSN, time,
// branch id and physical operations.
func (c *Client) History(ctx context.Context, opts ...*HistoryOptions) ([]wal.Record, error) {
	if err := c.live(); err != nil {
		return nil, err
	}
	limit := DefaultHistoryLimit
	var before wal.LSN
	var since *time.Time
	for _, o := range opts {
		if o == nil {
			continue
		}
		if o.Limit != nil {
			limit = *o.Limit
		}
		if o.Before != nil {
			before = *o.Before
		}
		if o.Since != nil {
			since = o.Since
		}
	}
	if limit <= 0 {
		return nil, fmt.Errorf("argon: history limit must be positive, got %d", limit)
	}
	tail, err := c.eng.sync(ctx)
	if err != nil {
		return nil, err
	}
	upto := tail
	if c.branch.readOnly() {
		if c.branch.hasAt {
			upto = c.branch.at
		} else {
			upto, err = c.LSNAt(ctx, c.branch.atTime)
			if err != nil {
				return nil, err
			}
		}
	}
	if c.branch.readOnly() {
		if err := c.eng.retained(upto); err != nil { // gc.go
			return nil, err
		}
	}
	if before > 0 {
		upto = min(upto, before-1)
	}
	lsns, err := c.eng.visibleLSNs(c.branch.branch, upto, limit)
	if err != nil {
		return nil, err
	}
	// lsns are newest first; read them oldest first, in runs.
	slices.Reverse(lsns)
	out := make([]wal.Record, 0, len(lsns))
	err = c.eng.readRecords(ctx, lsns, func(rec *wal.Record) error {
		if since == nil || !rec.Time.Before(*since) {
			out = append(out, *rec)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Reverse(out)
	return out, nil
}

// visibleLSNs returns, newest first, up to limit LSNs of the records the
// branch name sees at or below upto.
func (e *engine) visibleLSNs(name string, upto wal.LSN, limit int) ([]wal.LSN, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	b, err := e.cat.resolve(name)
	if err != nil {
		return nil, err
	}
	var out []wal.LSN
	for b != nil && len(out) < limit {
		for i := len(b.lsns) - 1; i >= 0 && len(out) < limit; i-- {
			if b.lsns[i] <= upto {
				out = append(out, b.lsns[i])
			}
		}
		if b.parent == "" {
			break
		}
		upto = min(upto, b.base)
		b = e.cat.get(b.parent)
	}
	return out, nil
}
