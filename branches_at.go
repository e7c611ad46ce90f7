package argon

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"github.com/tidwall/btree"
)

// catVersion is the live names (name → id) of a catalog and the LSN from
// which it is in force: it includes the record at from. It keeps no
// branch state, so the states garbage collection frees stay freed; what
// else a listing shows never changes for an id (parent, fork point,
// creation) or is found on the branch's current state (its records).
type catVersion struct {
	from  wal.LSN
	names *btree.Map[string, string]
}

// branchesAt returns the branches that were live at the point the
// read-only view v names, sorted by name, each with its head as of that
// point. Catalogs are immutable, so the engine keeps the names of every
// one it folded; a point older than the checkpoint the engine started from
// is answered by reading the log up to it.
func (e *engine) branchesAt(ctx context.Context, v view) ([]BranchInfo, error) {
	tail, err := e.sync(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.RLock()
	at, err := e.pointLocked(v)
	if err == nil && at > tail {
		err = fmt.Errorf("%w: lsn %d is beyond the head of the log (%d)", ErrInvalidPoint, at, tail)
	}
	if err != nil {
		e.mu.RUnlock()
		return nil, err
	}
	i := sort.Search(len(e.catHist), func(i int) bool { return e.catHist[i].from > at }) - 1
	if i < 0 {
		e.mu.RUnlock()
		return e.branchesReplayed(ctx, at)
	}
	names := e.catHist[i].names
	out := make([]BranchInfo, 0, names.Len())
	var missing string
	names.Scan(func(name, id string) bool {
		// Garbage collection purges only branches deleted before the
		// horizon, and at is not below it: b exists.
		b := e.cat.get(id)
		if b == nil {
			missing = id
			return false
		}
		info := b.info()
		info.Name, info.Deleted, info.HeadLSN = name, false, b.created
		if n := sort.Search(len(b.lsns), func(i int) bool { return b.lsns[i] > at }); n > 0 {
			info.HeadLSN = b.lsns[n-1]
		}
		out = append(out, info)
		return true
	})
	e.mu.RUnlock()
	if missing != "" {
		return nil, fmt.Errorf("%w: branch id %q, live at lsn %d, was purged", ErrBeforeRetention, missing, at)
	}
	sortBranchInfos(out)
	return out, nil
}

// branchesReplayed is branchesAt for a point the engine has no catalog
// of: it folds the catalog records of the log up to at.
func (e *engine) branchesReplayed(ctx context.Context, at wal.LSN) ([]BranchInfo, error) {
	cat := newCatalog()
	heads := map[string]wal.LSN{}
	noData := func(string, wal.LSN) (*materialize.State, error) { return materialize.NewState(), nil }
	for from := wal.LSN(1); from <= at; {
		recs, err := e.store.Read(ctx, e.project, from, int(min(at-from+1, maxLogReadBatch)))
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return nil, fmt.Errorf("%w: the log ends before lsn %d", ErrInvalidPoint, at)
		}
		for i := range recs {
			r := &recs[i]
			switch {
			case r.Tombstone:
				// A branch's record garbage collection removed: it still
				// counts as the branch's, as in the engine (gc.go).
				if r.Branch != "" {
					heads[r.Branch] = r.LSN
				}
			case r.Branch == "" && isProjectRecord(r):
			case r.Branch == "":
				if cat, err = cat.apply(r, noData); err != nil {
					return nil, err
				}
			default:
				heads[r.Branch] = r.LSN
			}
		}
		from = recs[len(recs)-1].LSN + 1
	}
	out := make([]BranchInfo, 0, cat.byName.Len())
	cat.byName.Scan(func(_, id string) bool {
		info := cat.get(id).info()
		if h, ok := heads[id]; ok {
			info.HeadLSN = h
		}
		out = append(out, info)
		return true
	})
	sortBranchInfos(out)
	return out, nil
}

func sortBranchInfos(bs []BranchInfo) {
	slices.SortFunc(bs, func(a, b BranchInfo) int { return strings.Compare(a.Name, b.Name) })
}
