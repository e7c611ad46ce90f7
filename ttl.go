package argon

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
)

// This file is the TTL monitor, the twin of mongod's TTLMonitor: every
// Options.TTLInterval (default 60 s) it deletes the documents that TTL
// indexes (expireAfterSeconds on a single field) expire, on every live
// branch of every project the client's connection works with. A document
// expires when the indexed field holds a date at or before now minus
// expireAfterSeconds (in an array, the earliest date counts); see
// materialize.(*Collection).ExpiredDocuments.
//
// Expiry is history: the monitor writes ordinary delete records to the log
// through the engine, so a replay (another process, a reopened store, a
// time-travel read) sees the deletions at the LSNs they were committed, and
// never re-evaluates a clock. Only a process whose monitor runs (or that
// calls RunTTLPass) writes them. Several processes may run monitors on one
// store: each delete is planned against the newest state, like any write,
// so a document another process already deleted is simply not deleted
// again.

// defaultTTLInterval is mongod's ttlMonitorSleepSecs.
const defaultTTLInterval = 60 * time.Second

// ttlBatch bounds the deletes one record carries; a pass writes as many
// records as it needs.
const ttlBatch = 1000

// monitor runs a task on an interval in the background until stopped: the
// TTL monitor and the garbage-collection monitor.
type monitor struct {
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// startMonitor calls task every interval until stop; task gets a context
// that stop cancels.
func startMonitor(interval time.Duration, task func(ctx context.Context)) *monitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &monitor{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				task(ctx)
			}
		}
	}()
	return m
}

// stop ends the monitor and waits for a task in flight. It is safe on a
// nil monitor and idempotent.
func (m *monitor) stop() {
	if m == nil {
		return
	}
	m.once.Do(func() {
		m.cancel()
		<-m.done
	})
}

// startTTLMonitor starts the TTL monitor of conn, every interval (0: the
// default); a negative interval disables it and returns nil.
func startTTLMonitor(conn *clientConn, interval time.Duration) *monitor {
	if interval < 0 {
		return nil
	}
	if interval == 0 {
		interval = defaultTTLInterval
	}
	return startMonitor(interval, func(ctx context.Context) {
		// A failed pass (a store that does not answer) is retried at the
		// next tick, as mongod's monitor does.
		_, _ = conn.ttlPass(ctx, time.Now())
	})
}

// RunTTLPass runs one pass of the TTL monitor now, whatever
// Options.TTLInterval says: on every live branch of every project this
// client's connection works with, it deletes the documents TTL indexes
// expire at the current time, and returns how many it deleted. The
// deletions are ordinary delete records, durable (per the store) when it
// returns. It is safe to call concurrently with the monitor and with other
// processes doing the same.
func (c *Client) RunTTLPass(ctx context.Context) (int64, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := c.live(); err != nil {
		return 0, err
	}
	return c.conn.ttlPass(ctx, time.Now())
}

// ttlPass expires documents at now in every project of the connection.
func (conn *clientConn) ttlPass(ctx context.Context, now time.Time) (int64, error) {
	conn.mu.Lock()
	engines := make([]*engine, 0, len(conn.engines))
	for _, e := range conn.engines {
		engines = append(engines, e)
	}
	conn.mu.Unlock()
	slices.SortFunc(engines, func(a, b *engine) int { return strings.Compare(a.project, b.project) })
	var total int64
	for _, e := range engines {
		n, err := e.expire(ctx, now)
		total += n
		if err != nil && !errors.Is(err, ErrProjectNotFound) {
			return total, err
		}
	}
	return total, nil
}

// expire deletes, on every live branch of the project, the documents TTL
// indexes expire at now.
func (e *engine) expire(ctx context.Context, now time.Time) (int64, error) {
	if _, err := e.sync(ctx); err != nil {
		return 0, err
	}
	type target struct {
		branch string
		ns     materialize.Namespace
	}
	var targets []target
	e.mu.RLock()
	e.cat.byName.Scan(func(name, id string) bool {
		st := e.cat.get(id).head
		for _, ns := range st.Namespaces() {
			if st.Collection(ns).HasTTLIndex() {
				targets = append(targets, target{name, ns})
			}
		}
		return true
	})
	e.mu.RUnlock()
	slices.SortFunc(targets, func(a, b target) int {
		if c := strings.Compare(a.branch, b.branch); c != 0 {
			return c
		}
		return a.ns.Compare(b.ns)
	})
	var total int64
	for _, t := range targets {
		for {
			n := 0
			_, err := e.write(ctx, view{branch: t.branch}, func(st *materialize.State) ([]wal.Op, error) {
				docs := st.Collection(t.ns).ExpiredDocuments(now, ttlBatch)
				n = len(docs)
				ops := make([]wal.Op, len(docs))
				for i, d := range docs {
					ops[i] = wal.Op{Kind: wal.OpDelete, DB: t.ns.DB, Coll: t.ns.Coll, ID: d.Lookup("_id"), Before: d}
				}
				return ops, nil
			})
			if errors.Is(err, ErrBranchNotFound) {
				break // deleted or renamed since: its successor is a target of the next pass
			}
			if err != nil {
				return total, err
			}
			total += int64(n)
			if n < ttlBatch {
				break
			}
		}
	}
	return total, nil
}
