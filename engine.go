package argon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
)

// checkpointEvery is how many records of a branch separate two in-memory
// checkpoints: a read at a past LSN replays at most this many of the
// branch's records.
const checkpointEvery = 64

// mainBranchID is the id of the main branch, which every project has from
// LSN 0 and which cannot be deleted.
const mainBranchID = "main"

// engine joins the log and the materialized state of one project: it
// follows the log (every record, from any process, is folded into the state
// of its branch, in LSN order), keeps the branch catalog, and runs writes as
// plans validated against the state they commit on.
//
// An engine is safe for concurrent use.
type engine struct {
	log     *wal.Log
	store   wal.Store
	project string

	mu  sync.RWMutex
	cat *catalog
	// catHist holds the live branch names of every catalog this engine
	// folded, oldest first, each with the LSN from which it is in force
	// (branches_at.go); the first is the one it started from (the empty
	// catalog, or a checkpoint's).
	catHist  []catVersion
	deleted  bool    // the project was deleted (soft)
	times    []int64 // commit time (Unix ms) of every LSN, index LSN-1
	applyErr error   // sticky: the log could not be folded

	gc gcState // garbage collection bookkeeping (gc.go)

	ckpt *checkpoints // persisted checkpoints (checkpoint.go)

	// folded, when not nil, is closed by the next record the engine folds,
	// so that change streams of this process wake at once on a commit
	// (change_stream.go).
	folded chan struct{}
	// streams numbers the change streams opened on the engine.
	streams atomic.Int64

	// scratch caches the state a commit round builds on (committed state
	// plus the round's pending records) so that each build in a round
	// applies only the records added since the previous one. Only the
	// committer touches it, under the log's per-project lock.
	scratch scratchState
}

type scratchState struct {
	base    *materialize.State
	branch  string
	applied int // how many pending records st includes
	st      *materialize.State
}

func newEngine(ctx context.Context, log *wal.Log, store wal.Store, project string, cfg checkpointConfig) (*engine, error) {
	e := &engine{log: log, store: store, project: project, cat: newCatalog(), ckpt: newCheckpoints(store, cfg)}
	var after wal.LSN
	var at time.Time
	if !cfg.ignore {
		after, at = e.loadCheckpoint(ctx)
	}
	e.catHist = []catVersion{{from: after, names: e.cat.byName}}
	if err := log.FollowFrom(project, after, at, e.apply); err != nil {
		return nil, err
	}
	return e, nil
}

// apply is the log's follower: it runs once per record, in LSN order.
func (e *engine) apply(rec wal.Record) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.folded != nil {
		close(e.folded)
		e.folded = nil
	}
	e.times = append(e.times, rec.Time.UnixMilli())
	e.ckptTick(rec.LSN)
	if e.applyErr != nil {
		return
	}
	if rec.Tombstone {
		e.applyTombstone(&rec) // gc.go
		return
	}
	if rec.Branch == "" {
		if isProjectRecord(&rec) {
			e.applyProject(&rec)
			return
		}
		next, err := e.cat.apply(&rec, e.stateAtLocked)
		if err != nil {
			e.applyErr = err
			return
		}
		e.noteGC(&rec, e.cat) // gc.go: what the record removes
		e.cat = next
		e.catHist = append(e.catHist, catVersion{from: rec.LSN, names: next.byName})
		return
	}
	b := e.cat.get(rec.Branch)
	if b == nil {
		e.applyErr = fmt.Errorf("%w: lsn %d writes to unknown branch id %q", materialize.ErrReplay, rec.LSN, rec.Branch)
		return
	}
	if b.gone > 0 {
		// Its state is lost to garbage collection (gc.go): only count.
		b.lsns = append(b.lsns, rec.LSN)
		return
	}
	next, err := b.head.Apply(&rec)
	if err != nil {
		e.applyErr = err
		return
	}
	b.head = next
	b.lsns = append(b.lsns, rec.LSN)
	if len(b.lsns)%checkpointEvery == 0 {
		b.ckpts = append(b.ckpts, checkpoint{lsn: rec.LSN, st: next})
	}
}

// view names what a Client reads and writes: a branch (by name, resolved at
// each operation, so a reset is seen at once) at its head, or a read-only
// point of its history.
type view struct {
	branch string
	hasAt  bool
	at     wal.LSN   // with hasAt: read at this LSN
	atTime time.Time // if not zero: read at the LSN in force at this time
}

func (v view) readOnly() bool { return v.hasAt || !v.atTime.IsZero() }

func (v view) String() string {
	switch {
	case v.hasAt:
		return fmt.Sprintf("branch %q at lsn %d", v.branch, v.at)
	case !v.atTime.IsZero():
		return fmt.Sprintf("branch %q at %s", v.branch, v.atTime.Format(time.RFC3339Nano))
	}
	return fmt.Sprintf("branch %q", v.branch)
}

// sync catches up with the log: afterwards the engine has folded every
// record acknowledged before the call, by any process.
func (e *engine) sync(ctx context.Context) (wal.LSN, error) {
	lsn, err := e.log.Sync(ctx, e.project)
	if err != nil {
		return 0, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.applyErr == nil && e.deleted {
		return lsn, fmt.Errorf("%w: %q was deleted", ErrProjectNotFound, e.project)
	}
	return lsn, e.applyErr
}

// snapshot catches up with the log and returns the state v sees; for an
// operation of a session's transaction, the transaction's (session.go).
func (e *engine) snapshot(ctx context.Context, v view) (*materialize.State, error) {
	if s := sessionOf(ctx); s != nil {
		return s.snapshot(ctx, e, v)
	}
	return e.viewState(ctx, v)
}

// viewState catches up with the log and returns the state v sees.
func (e *engine) viewState(ctx context.Context, v view) (*materialize.State, error) {
	tail, err := e.sync(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.RLock()
	b, err := e.cat.resolve(v.branch)
	if err != nil {
		e.mu.RUnlock()
		return nil, err
	}
	if !v.readOnly() {
		defer e.mu.RUnlock()
		if b.gone > 0 { // gc.go: never for a live branch, unless the log is damaged
			return nil, fmt.Errorf("%w: branch %q lost records to garbage collection", ErrBeforeRetention, v.branch)
		}
		return b.head, nil
	}
	at, err := e.pointLocked(v)
	if err != nil {
		e.mu.RUnlock()
		return nil, err
	}
	id := b.id
	e.mu.RUnlock()
	if at > tail {
		return nil, fmt.Errorf("%w: lsn %d is beyond the head of the log (%d)", ErrInvalidPoint, at, tail)
	}
	return e.stateAt(ctx, id, at)
}

// pointLocked returns the LSN a read-only view reads at (its LSN, or the
// newest at its time), checked against the retention horizon. The caller
// holds e.mu.
func (e *engine) pointLocked(v view) (wal.LSN, error) {
	at := v.at
	if !v.hasAt {
		if len(e.times) == 0 || v.atTime.UnixMilli() < e.times[0] {
			return 0, fmt.Errorf("%w: %s is before the project's first record", ErrInvalidPoint, v.atTime.Format(time.RFC3339Nano))
		}
		at = e.lsnAtLocked(v.atTime)
	}
	return at, e.cat.retained(at)
}

// lsnAtLocked returns the newest LSN whose time is at or before t (0 if
// none). Record times never decrease, so it is a binary search.
func (e *engine) lsnAtLocked(t time.Time) wal.LSN {
	ms := t.UnixMilli()
	return wal.LSN(sort.Search(len(e.times), func(i int) bool { return e.times[i] > ms }))
}

// stateAt returns branch id's state at LSN at: its own records up to at,
// over what its parent saw at min(at, base), recursively.
func (e *engine) stateAt(ctx context.Context, id string, at wal.LSN) (*materialize.State, error) {
	e.mu.RLock()
	st, replay, err := e.stateAtPlanLocked(id, at)
	e.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	st, kept, err := e.replay(ctx, st, replay)
	if kept != nil {
		e.mu.Lock()
		e.keepLocked(kept)
		e.mu.Unlock()
	}
	return st, err
}

// stateAtLocked is stateAt for callers holding e.mu: the catalog uses it
// when a branch forks. The follower runs inside the log's commit or sync;
// reading the store from there is allowed (it takes no log lock).
func (e *engine) stateAtLocked(id string, at wal.LSN) (*materialize.State, error) {
	st, replay, err := e.stateAtPlanLocked(id, at)
	if err != nil {
		return nil, err
	}
	st, kept, err := e.replay(context.Background(), st, replay)
	e.keepLocked(kept)
	return st, err
}

// replay applies the records with the given LSNs, read from the store, to
// st. A replay longer than checkpointEvery (from a branch's fork, after a
// persisted checkpoint was loaded) also returns a state every
// checkpointEvery records, for the branch's in-memory checkpoints.
func (e *engine) replay(ctx context.Context, st *materialize.State, lsns []wal.LSN) (*materialize.State, *keptStates, error) {
	var kept *keptStates
	i := 0
	err := e.readRecords(ctx, lsns, func(rec *wal.Record) (err error) {
		if rec.Tombstone {
			// A garbage collection this engine has not followed yet.
			return fmt.Errorf("%w: lsn %d was removed by garbage collection", ErrBeforeRetention, rec.LSN)
		}
		st, err = st.Apply(rec)
		i++
		if err == nil && len(lsns) > checkpointEvery && i%checkpointEvery == 0 {
			if kept == nil {
				kept = &keptStates{branch: rec.Branch}
			}
			kept.ckpts = append(kept.ckpts, checkpoint{lsn: rec.LSN, st: st})
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return st, kept, nil
}

// readRecords calls fn with the records at lsns (ascending), reading each
// run of consecutive LSNs with as few store calls as its length allows and
// skipping the records of other branches in between.
func (e *engine) readRecords(ctx context.Context, lsns []wal.LSN, fn func(*wal.Record) error) error {
	for len(lsns) > 0 {
		n := 1
		for n < len(lsns) && n < maxLogReadBatch && lsns[n] == lsns[n-1]+1 {
			n++
		}
		recs, err := e.store.Read(ctx, e.project, lsns[0], n)
		if err != nil {
			return err
		}
		if len(recs) != n || recs[0].LSN != lsns[0] {
			return fmt.Errorf("%w: lsns %d..%d are missing from the store", wal.ErrCorrupt, lsns[0], lsns[n-1])
		}
		for i := range recs {
			if err := fn(&recs[i]); err != nil {
				return err
			}
		}
		lsns = lsns[n:]
	}
	return nil
}

// stateAtPlanLocked finds the newest in-memory state of id at or before at
// and the LSNs of id's records to replay on top of it.
func (e *engine) stateAtPlanLocked(id string, at wal.LSN) (*materialize.State, []wal.LSN, error) {
	for {
		b := e.cat.get(id)
		if b == nil {
			return nil, nil, fmt.Errorf("%w: id %q", ErrBranchNotFound, id)
		}
		if at < b.created {
			switch {
			case b.pred != "":
				// Before a reset, the name meant its predecessor.
				id = b.pred
			case b.parent != "":
				id, at = b.parent, min(at, b.base)
			default:
				return materialize.NewState(), nil, nil
			}
			continue
		}
		if b.gone > 0 && at >= b.gone {
			return nil, nil, fmt.Errorf("%w: lsn %d of branch id %q needs records garbage collection removed", ErrBeforeRetention, at, id)
		}
		// Records of b with LSN <= at.
		n := sort.Search(len(b.lsns), func(i int) bool { return b.lsns[i] > at })
		if n == len(b.lsns) {
			return b.head, nil, nil
		}
		st, from := b.checkpointBefore(n)
		return st, slices.Clone(b.lsns[from:n]), nil
	}
}

// stateFor returns the state a record built at this point of a commit round
// applies to: the branch's committed state plus the round's pending records
// on that branch.
func (e *engine) stateFor(id string, pending []wal.Record) (*materialize.State, error) {
	e.mu.RLock()
	if e.applyErr != nil {
		e.mu.RUnlock()
		return nil, e.applyErr
	}
	b := e.cat.get(id)
	e.mu.RUnlock()
	if b == nil {
		return nil, fmt.Errorf("%w: id %q", ErrBranchNotFound, id)
	}
	if b.gone > 0 { // gc.go
		return nil, fmt.Errorf("%w: branch id %q lost records to garbage collection", ErrBeforeRetention, id)
	}
	base := b.head
	sc := &e.scratch
	if sc.base != base || sc.branch != id || sc.applied > len(pending) {
		*sc = scratchState{base: base, branch: id, st: base}
	}
	for ; sc.applied < len(pending); sc.applied++ {
		rec := &pending[sc.applied]
		if rec.Branch != id {
			continue
		}
		next, err := sc.st.Apply(rec)
		if err != nil {
			return nil, err
		}
		sc.st = next
	}
	return sc.st, nil
}

// catalogFor returns the catalog a record built at this point of a commit
// round sees: the committed one plus the round's pending catalog records.
func (e *engine) catalogFor(pending []wal.Record) (*catalog, error) {
	e.mu.RLock()
	cat, err, deleted := e.cat, e.applyErr, e.deleted
	e.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if deleted {
		return nil, fmt.Errorf("%w: %q was deleted", ErrProjectNotFound, e.project)
	}
	for i := range pending {
		if pending[i].Branch != "" {
			continue
		}
		// Forks of pending branches only need the catalog entries here,
		// not their data: pass a state function that never replays.
		next, err := cat.apply(&pending[i], func(string, wal.LSN) (*materialize.State, error) {
			return materialize.NewState(), nil
		})
		if err != nil {
			return nil, err
		}
		cat = next
	}
	return cat, nil
}

// errNoWrite is what a plan returns when the write changes nothing (an
// update that matches no document): the outcome is final, nothing is logged.
var errNoWrite = errors.New("argon: nothing to write")

// plan computes the operations of one write against st. It may run several
// times (when another writer commits first); it must derive everything,
// including its results, from st alone.
type plan func(st *materialize.State) ([]wal.Op, error)

// write commits the operations p plans on v's branch. It returns the
// record (zero when the plan wrote nothing) and the plan's error.
//
// A plan's verdict that depends on the state (no match, duplicate key) is
// only trusted once the state it saw is the newest: otherwise write catches
// up and plans again, so a write never fails or no-ops on stale data.
//
// An operation of a session's transaction is buffered by the transaction
// instead (session.go).
func (e *engine) write(ctx context.Context, v view, p plan) (wal.Record, error) {
	if s := sessionOf(ctx); s != nil {
		return s.write(ctx, e, v, p)
	}
	return e.writeNow(ctx, v, p)
}

// writeNow is write outside transactions.
func (e *engine) writeNow(ctx context.Context, v view, p plan) (wal.Record, error) {
	if v.readOnly() {
		return wal.Record{}, fmt.Errorf("%w: %s", ErrReadOnly, v)
	}
	return e.commit(ctx, func(lsn wal.LSN, pending []wal.Record) (string, []wal.Op, error) {
		cat, err := e.catalogFor(pending)
		if err != nil {
			return "", nil, err
		}
		b, err := cat.resolve(v.branch)
		if err != nil {
			// Another process may have created the branch: a verdict on
			// the state, checked again once caught up.
			return "", nil, stateErr(err)
		}
		st, err := e.stateFor(b.id, pending)
		if err != nil {
			return "", nil, err
		}
		ops, err := p(st)
		return b.id, ops, err
	})
}

// commit appends the record build returns, with write's rules for plan
// verdicts.
func (e *engine) commit(ctx context.Context, build wal.BuildFunc) (wal.Record, error) {
	for {
		var sawLSN wal.LSN
		rec, err := e.log.AppendFunc(ctx, e.project, func(lsn wal.LSN, pending []wal.Record) (string, []wal.Op, error) {
			sawLSN = lsn - 1
			branch, ops, err := build(lsn, pending)
			if err == nil && len(ops) == 0 {
				err = errNoWrite
			}
			return branch, ops, err
		})
		if err == nil {
			return rec, nil
		}
		var pe *planError
		if !errors.Is(err, errNoWrite) && !errors.As(err, &pe) {
			return wal.Record{}, err
		}
		tail, serr := e.sync(ctx)
		if serr != nil {
			return wal.Record{}, serr
		}
		if tail <= sawLSN {
			if errors.Is(err, errNoWrite) {
				return wal.Record{}, nil
			}
			return wal.Record{}, pe.err
		}
	}
}

// planError marks a plan's error as a verdict on the state (a duplicate
// key, a failed document validation) rather than on the request itself.
type planError struct{ err error }

func (e *planError) Error() string { return e.err.Error() }
func (e *planError) Unwrap() error { return e.err }

func stateErr(err error) error { return &planError{err} }

func (e *engine) String() string { return fmt.Sprintf("argon engine for project %q", e.project) }
