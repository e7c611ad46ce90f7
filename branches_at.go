package argon

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
)

// catVersion is a catalog and the LSN from which it is in force: it
// includes the record at from.
type catVersion struct {
	from wal.LSN
	cat  *catalog
}

// branchesAt returns the branches that were live at the point the
// read-only view v names, sorted by name, each with its head as of that
// point. Catalogs are immutable, so the engine keeps every one it folded;
// a point older than the checkpoint the engine started from is answered by
// reading the log up to it.
func (e *engine) branchesAt(ctx context.Context, v view) ([]BranchInfo, error) {
	tail, err := e.sync(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.RLock()
	at := v.at
	if !v.hasAt {
		if len(e.times) == 0 || v.atTime.UnixMilli() < e.times[0] {
			e.mu.RUnlock()
			return nil, fmt.Errorf("%w: %s is before the project's first record", ErrInvalidPoint, v.atTime.Format(time.RFC3339Nano))
		}
		at = e.lsnAtLocked(v.atTime)
	}
	if at > tail {
		e.mu.RUnlock()
		return nil, fmt.Errorf("%w: lsn %d is beyond the head of the log (%d)", ErrInvalidPoint, at, tail)
	}
	if err := e.cat.retained(at); err != nil {
		e.mu.RUnlock()
		return nil, err
	}
	i := sort.Search(len(e.catHist), func(i int) bool { return e.catHist[i].from > at }) - 1
	if i < 0 {
		e.mu.RUnlock()
		return e.branchesReplayed(ctx, at)
	}
	ver := e.catHist[i].cat
	out := make([]BranchInfo, 0, ver.byName.Len())
	ver.byName.Scan(func(_, id string) bool {
		b := ver.get(id)
		// The branch's records are on its newest state (data records
		// extend it in place; catalog records copy it).
		lsns := b.lsns
		if cur := e.cat.get(id); cur != nil {
			lsns = cur.lsns
		}
		info := b.info()
		info.Deleted = false
		info.HeadLSN = b.created
		if n := sort.Search(len(lsns), func(i int) bool { return lsns[i] > at }); n > 0 {
			info.HeadLSN = lsns[n-1]
		}
		out = append(out, info)
		return true
	})
	e.mu.RUnlock()
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
				return nil, fmt.Errorf("%w: lsn %d, before lsn %d, was removed by garbage collection", ErrBeforeRetention, r.LSN, at)
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
