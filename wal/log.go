package wal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// BuildFunc returns the branch and operations of a record that is about to
// be committed at lsn. pending holds the records ahead of it in the same
// commit round, not yet durable: a caller validating writes checks them
// against its state at lsn-1-len(pending) (what the Log's follower has been
// given) plus pending.
//
// A BuildFunc may run more than once, each time with a higher lsn, when
// another process wins the race for an LSN; it must have no side effects.
// An error fails only its own append.
type BuildFunc func(lsn LSN, pending []Record) (branch string, ops []Op, err error)

// LogOptions tune a Log. The zero value (or nil) means the defaults.
type LogOptions struct {
	// MaxBatchRecords caps the records of one commit round. Default 1024.
	MaxBatchRecords int
	// MaxBatchBytes caps the encoded size of one commit round; a single
	// larger record still goes alone. Default 16 MiB.
	MaxBatchBytes int
	// ReadBatch is how many records a catch-up reads per store call.
	// Default 1024.
	ReadBatch int
	// Clock gives commit times. Default time.Now.
	Clock func() time.Time
}

func (o *LogOptions) withDefaults() LogOptions {
	var r LogOptions
	if o != nil {
		r = *o
	}
	if r.MaxBatchRecords <= 0 {
		r.MaxBatchRecords = 1024
	}
	if r.MaxBatchBytes <= 0 {
		r.MaxBatchBytes = 16 * 1024 * 1024
	}
	if r.ReadBatch <= 0 {
		r.ReadBatch = 1024
	}
	if r.Clock == nil {
		r.Clock = time.Now
	}
	return r
}

// LogStats counts what a Log did since it was created.
type LogStats struct {
	Rounds    uint64 // store appends (round trips) that committed something
	Records   uint64 // records this Log committed
	Conflicts uint64 // rounds that lost an LSN race to another writer
}

// Log is the write path over a Store: it turns concurrent appends into
// group commits (at most one store append in flight per project in this
// process, carrying everything queued behind it), assigns LSNs and times,
// retries after losing an LSN race to another process, and delivers every
// record of a project, in LSN order and exactly once, to that project's
// follower.
//
// A Log is safe for concurrent use by multiple goroutines. Several Logs, in
// one process or many, may write to the same store: the store's LSN check
// arbitrates. Appends are durable, per the store's durability, when they
// return.
type Log struct {
	store Store
	opts  LogOptions

	mu       sync.Mutex
	projects map[string]*projectLog
	closed   bool
	done     chan struct{}
	wg       sync.WaitGroup

	rounds, records, conflicts atomic.Uint64
}

// NewLog returns a Log over store. The Log does not own the store: close the
// Log first, then the store.
func NewLog(store Store, opts *LogOptions) *Log {
	return &Log{
		store:    store,
		opts:     opts.withDefaults(),
		projects: make(map[string]*projectLog),
		done:     make(chan struct{}),
	}
}

// Store returns the store the Log writes to.
func (l *Log) Store() Store { return l.store }

// Stats returns counters of the Log's activity.
func (l *Log) Stats() LogStats {
	return LogStats{Rounds: l.rounds.Load(), Records: l.records.Load(), Conflicts: l.conflicts.Load()}
}

type appendResult struct {
	rec Record
	err error
}

const (
	reqQueued int32 = iota
	reqTaken
	reqCanceled
)

type request struct {
	ctx   context.Context
	build BuildFunc
	state atomic.Int32
	done  chan appendResult
}

func (r *request) finish(rec Record, err error) { r.done <- appendResult{rec, err} }

// projectLog is the per-project state. sem serializes catch-up, delivery
// and commit rounds, so the follower sees records in order, exactly once.
type projectLog struct {
	log  *Log
	name string

	sem         chan struct{}
	initialized bool
	known       LSN // newest LSN delivered (or, without follower, seen)
	knownTime   time.Time
	follower    func(Record)
	// catchUps counts catch-ups begun; caughtUp is the number of the last
	// one that succeeded (guarded by sem). A Sync that finds that a
	// catch-up begun after its call succeeded while it waited for sem
	// needs no round trip of its own.
	catchUps atomic.Uint64
	caughtUp uint64

	qmu   sync.Mutex
	queue []*request
	kick  chan struct{}
}

func (l *Log) project(name string) (*projectLog, error) {
	if err := ValidateProjectName(name); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	pl := l.projects[name]
	if pl == nil {
		pl = &projectLog{log: l, name: name, sem: make(chan struct{}, 1), kick: make(chan struct{}, 1)}
		l.projects[name] = pl
		l.wg.Add(1)
		go pl.run()
	}
	return pl, nil
}

// Append commits one record with ops on branch and returns it with its LSN
// and time. The data is durable, per the store, when Append returns without
// error.
func (l *Log) Append(ctx context.Context, project, branch string, ops []Op) (Record, error) {
	return l.AppendFunc(ctx, project, func(LSN, []Record) (string, []Op, error) { return branch, ops, nil })
}

// AppendFunc commits the record that build returns. See BuildFunc. If ctx
// ends while the append is still queued, it is withdrawn and ctx's error
// returned; once its round has started, AppendFunc waits for the outcome,
// so that an error always means "not committed".
func (l *Log) AppendFunc(ctx context.Context, project string, build BuildFunc) (Record, error) {
	pl, err := l.project(project)
	if err != nil {
		return Record{}, err
	}
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	req := &request{ctx: ctx, build: build, done: make(chan appendResult, 1)}
	pl.qmu.Lock()
	pl.queue = append(pl.queue, req)
	pl.qmu.Unlock()
	select {
	case pl.kick <- struct{}{}:
	default:
	}
	select {
	case r := <-req.done:
		return r.rec, r.err
	case <-ctx.Done():
		if req.state.CompareAndSwap(reqQueued, reqCanceled) {
			return Record{}, ctx.Err()
		}
		r := <-req.done
		return r.rec, r.err
	}
}

// Follow registers fn to receive every record of project after LSN after,
// in order and exactly once, whether this Log committed it or found it in
// the store while catching up. fn runs while the project is locked: it must
// not call back into the Log for the same project. A project has at most
// one follower.
func (l *Log) Follow(project string, after LSN, fn func(Record)) error {
	return l.FollowFrom(project, after, time.Time{}, fn)
}

// Sync catches the project up with the store, delivering new records to the
// follower, and returns the newest LSN. Reads call it first so that they see
// every write acknowledged before them, by any process.
func (l *Log) Sync(ctx context.Context, project string) (LSN, error) {
	pl, err := l.project(project)
	if err != nil {
		return 0, err
	}
	// Concurrent Syncs coalesce: a catch-up that began after this call
	// began saw every append acknowledged before it, so its result will do.
	called := pl.catchUps.Load()
	select {
	case pl.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-pl.sem }()
	if pl.caughtUp > called {
		return pl.known, nil
	}
	if err := pl.catchUp(ctx); err != nil {
		return 0, err
	}
	return pl.known, nil
}

// Close fails queued appends with ErrClosed after the rounds in flight end.
// It does not close the store.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	l.mu.Unlock()
	l.wg.Wait()
	return nil
}

func (pl *projectLog) run() {
	defer pl.log.wg.Done()
	for {
		select {
		case <-pl.kick:
		case <-pl.log.done:
			for _, r := range pl.take(int(^uint(0) >> 1)) {
				r.finish(Record{}, ErrClosed)
			}
			return
		}
		for {
			batch := pl.take(pl.log.opts.MaxBatchRecords)
			if len(batch) == 0 {
				break
			}
			pl.sem <- struct{}{}
			pl.commit(batch)
			<-pl.sem
		}
	}
}

// take removes up to n live requests from the queue.
func (pl *projectLog) take(n int) []*request {
	pl.qmu.Lock()
	defer pl.qmu.Unlock()
	var out []*request
	i := 0
	for ; i < len(pl.queue) && len(out) < n; i++ {
		if r := pl.queue[i]; r.state.CompareAndSwap(reqQueued, reqTaken) {
			out = append(out, r)
		}
	}
	pl.queue = append(pl.queue[:0], pl.queue[i:]...)
	return out
}

// catchUp brings known up to the store's tail. With a follower it reads and
// delivers the new records; without one it only asks for the tail.
func (pl *projectLog) catchUp(ctx context.Context) error {
	n := pl.catchUps.Add(1)
	if err := pl.catchUpOnce(ctx); err != nil {
		return err
	}
	pl.caughtUp = n
	return nil
}

func (pl *projectLog) catchUpOnce(ctx context.Context) error {
	s := pl.log.store
	if pl.follower == nil {
		lsn, t, err := s.Tail(ctx, pl.name)
		if err != nil {
			return err
		}
		if lsn < pl.known {
			return fmt.Errorf("%w: project %q tail %d is behind lsn %d seen before", ErrCorrupt, pl.name, lsn, pl.known)
		}
		pl.known, pl.knownTime, pl.initialized = lsn, t, true
		return nil
	}
	for {
		recs, err := s.Read(ctx, pl.name, pl.known+1, pl.log.opts.ReadBatch)
		if err != nil {
			return err
		}
		if err := pl.deliver(recs); err != nil {
			return err
		}
		if len(recs) < pl.log.opts.ReadBatch {
			pl.initialized = true
			return nil
		}
	}
}

func (pl *projectLog) deliver(recs []Record) error {
	for _, r := range recs {
		if r.LSN != pl.known+1 {
			return fmt.Errorf("%w: project %q: expected lsn %d, store returned %d", ErrCorrupt, pl.name, pl.known+1, r.LSN)
		}
		if r.Time.Before(pl.knownTime) {
			return fmt.Errorf("%w: project %q: time goes backwards at lsn %d", ErrCorrupt, pl.name, r.LSN)
		}
		if pl.follower != nil {
			pl.follower(r)
		}
		pl.known, pl.knownTime = r.LSN, r.Time
	}
	return nil
}

// commit runs rounds until every request in batch is committed or failed.
// The caller holds sem.
func (pl *projectLog) commit(batch []*request) {
	l := pl.log
	// Store calls run to completion even if callers give up, so that an
	// outcome is always known; stores bound them with their own timeouts.
	ctx := context.Background()
	fail := func(reqs []*request, err error) {
		for _, r := range reqs {
			r.finish(Record{}, err)
		}
	}
	if !pl.initialized {
		if err := pl.catchUp(ctx); err != nil {
			fail(batch, err)
			return
		}
	}
	queue := batch
	for len(queue) > 0 {
		recs, owners, rest := pl.build(queue)
		queue = rest
		if len(recs) == 0 {
			continue
		}
		n, err := l.store.Append(ctx, pl.name, recs)
		if n > 0 {
			l.rounds.Add(1)
			l.records.Add(uint64(n))
		}
		if derr := pl.deliver(recs[:n]); derr != nil {
			err = errors.Join(err, derr)
		}
		for i := 0; i < n; i++ {
			rec := recs[i]
			rec.validated = false // the caller's copy is checked again if reused
			owners[i].finish(rec, nil)
		}
		switch {
		case err == nil:
		case errors.Is(err, ErrLSNTaken):
			l.conflicts.Add(1)
			if cerr := pl.catchUp(ctx); cerr != nil {
				fail(owners[n:], cerr)
				fail(queue, cerr)
				return
			}
			queue = append(owners[n:], queue...)
		default:
			fail(owners[n:], err)
		}
	}
}

// build asks each request for its record at the next LSN. It returns the
// records, their owners, and the requests left for a later round.
func (pl *projectLog) build(queue []*request) (recs []Record, owners, rest []*request) {
	opts := &pl.log.opts
	t := opts.Clock().UTC().Truncate(time.Millisecond)
	if t.Before(pl.knownTime) {
		t = pl.knownTime
	}
	bytes := 0
	for i, req := range queue {
		if err := req.ctx.Err(); err != nil {
			req.finish(Record{}, err)
			continue
		}
		lsn := pl.known + 1 + LSN(len(recs))
		branch, ops, err := safeBuild(req.build, lsn, recs)
		if err != nil {
			req.finish(Record{}, err)
			continue
		}
		rec := Record{LSN: lsn, Time: t, Branch: branch, Ops: ops}
		if err := rec.Validate(); err != nil {
			req.finish(Record{}, err)
			continue
		}
		rec.validated = true
		size := rec.size()
		if len(recs) > 0 && bytes+size > opts.MaxBatchBytes {
			return recs, owners, queue[i:]
		}
		bytes += size
		recs = append(recs, rec)
		owners = append(owners, req)
	}
	return recs, owners, nil
}

func safeBuild(build BuildFunc, lsn LSN, pending []Record) (branch string, ops []Op, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("wal: building the record for lsn %d panicked: %v", lsn, p)
		}
	}()
	return build(lsn, pending)
}
