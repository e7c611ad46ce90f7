package argon

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
)

// engine joins the log and the materialized state of one project: it
// follows the log (every record, from any process, is folded into the state
// of its branch, in LSN order) and runs writes as plans validated against
// the state they commit on.
//
// An engine is safe for concurrent use.
type engine struct {
	log     *wal.Log
	store   wal.Store
	project string

	mu       sync.RWMutex
	heads    map[string]*materialize.State // branch id → state at the applied LSN
	applyErr error                         // sticky: the log could not be folded

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

func newEngine(log *wal.Log, store wal.Store, project string) (*engine, error) {
	e := &engine{log: log, store: store, project: project, heads: map[string]*materialize.State{}}
	if err := log.Follow(project, 0, e.apply); err != nil {
		return nil, err
	}
	return e, nil
}

// apply is the log's follower: it runs once per record, in LSN order.
func (e *engine) apply(rec wal.Record) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.applyErr != nil || rec.Branch == "" {
		return
	}
	st := e.heads[rec.Branch]
	if st == nil {
		st = materialize.NewState()
	}
	next, err := st.Apply(&rec)
	if err != nil {
		e.applyErr = err
		return
	}
	e.heads[rec.Branch] = next
}

func (e *engine) head(branch string) (*materialize.State, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.applyErr != nil {
		return nil, e.applyErr
	}
	if st := e.heads[branch]; st != nil {
		return st, nil
	}
	return materialize.NewState(), nil
}

// snapshot catches up with the log and returns the branch's state: a read
// sees every write acknowledged before it, by any process.
func (e *engine) snapshot(ctx context.Context, branch string) (*materialize.State, error) {
	if _, err := e.log.Sync(ctx, e.project); err != nil {
		return nil, err
	}
	return e.head(branch)
}

// stateFor returns the state a record built at this point of a commit round
// applies to: the branch's committed state plus the round's pending records
// on that branch.
func (e *engine) stateFor(branch string, pending []wal.Record) (*materialize.State, error) {
	base, err := e.head(branch)
	if err != nil {
		return nil, err
	}
	sc := &e.scratch
	if sc.base != base || sc.branch != branch || sc.applied > len(pending) {
		*sc = scratchState{base: base, branch: branch, st: base}
	}
	for ; sc.applied < len(pending); sc.applied++ {
		rec := &pending[sc.applied]
		if rec.Branch != branch {
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

// errNoWrite is what a plan returns when the write changes nothing (an
// update that matches no document): the outcome is final, nothing is logged.
var errNoWrite = errors.New("argon: nothing to write")

// plan computes the operations of one write against st. It may run several
// times (when another writer commits first); it must derive everything,
// including its results, from st alone.
type plan func(st *materialize.State) ([]wal.Op, error)

// write commits the operations p plans on branch. It returns the record
// (zero when the plan wrote nothing) and the plan's error.
//
// A plan's verdict that depends on the state (no match, duplicate key) is
// only trusted once the state it saw is the newest: otherwise write catches
// up and plans again, so a write never fails or no-ops on stale data.
func (e *engine) write(ctx context.Context, branch string, p plan) (wal.Record, error) {
	for {
		var sawLSN wal.LSN
		rec, err := e.log.AppendFunc(ctx, e.project, func(lsn wal.LSN, pending []wal.Record) (string, []wal.Op, error) {
			sawLSN = lsn - 1
			st, err := e.stateFor(branch, pending)
			if err != nil {
				return "", nil, err
			}
			ops, err := p(st)
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
		tail, serr := e.log.Sync(ctx, e.project)
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
