package argon

import (
	"context"
	"fmt"
	"time"

	"github.com/argon-lab/argon/wal"
)

// Head returns the newest LSN of the project's log and its commit time,
// after catching up (0 and the zero time for an empty log).
func (c *Client) Head(ctx context.Context) (wal.LSN, time.Time, error) {
	if err := c.live(); err != nil {
		return 0, time.Time{}, err
	}
	lsn, err := c.eng.sync(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	c.eng.mu.RLock()
	defer c.eng.mu.RUnlock()
	if lsn == 0 || int(lsn) > len(c.eng.times) {
		return lsn, time.Time{}, nil
	}
	return lsn, time.UnixMilli(c.eng.times[lsn-1]).UTC(), nil
}

// RetentionHorizon returns the LSN below which garbage collection has put
// the project's history out of reach (0 if it never removed anything):
// reads, forks and resets at older points fail with ErrBeforeRetention.
func (c *Client) RetentionHorizon(ctx context.Context) (wal.LSN, error) {
	if err := c.live(); err != nil {
		return 0, err
	}
	if _, err := c.eng.sync(ctx); err != nil {
		return 0, err
	}
	c.eng.mu.RLock()
	defer c.eng.mu.RUnlock()
	return c.eng.cat.horizon, nil
}

// LogSize returns the bytes the project's log occupies in the store
// (records and tombstones, not checkpoints). shared reports that the store
// can only tell the size of the whole log, every project included (the
// MongoDB store: its records collection). ErrNotSupported for a store
// that cannot tell.
func (c *Client) LogSize(ctx context.Context) (bytes int64, shared bool, err error) {
	if err := c.live(); err != nil {
		return 0, false, err
	}
	sz, ok := storeAs[wal.Sizer](c.store)
	if !ok {
		return 0, false, notSupported(fmt.Sprintf("log size on a %T store", c.store))
	}
	return sz.LogSize(ctx, c.eng.project)
}
