package argon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/argon-lab/argon/wal"
	"github.com/tidwall/btree"
	"go.mongodb.org/mongo-driver/bson"
)

// This file is garbage collection: it frees the log records no reader can
// need any more.
//
// # Retention
//
// The retention window (Options.Retention, default 7 days) is measured on
// record times. A collection at time now has a horizon H: the LSN in force
// at now minus the window. What it keeps:
//
//   - every live branch, at its head and at every point from H on, and the
//     point it forked at, recursively through parents and (for a reset
//     branch, whose name meant its predecessor before the reset) through
//     predecessors: a child forked at base B needs its parent's records up
//     to B, and nothing after;
//   - a branch deleted less than the window ago, as if it were live.
//
// Everything else is removed: the records of branches deleted more than the
// window ago that no live branch (or descendant) needs, and the records of
// deleted branches or reset predecessors beyond the last point anyone
// needs. A branch nobody needs at all is purged from the catalog. The
// history of live branches is kept whole.
//
// After a collection, reading any branch at an LSN (or time) below H, or
// forking or resetting to a point below H, fails with ErrBeforeRetention,
// even where the records happen to survive: the window, not the accident
// of what was removed, says what can be read.
//
// # Protocol
//
// A collection first appends a catalog record (one OpCollectGarbage
// operation: the horizon, the branches purged, and the branches trimmed
// with the last LSN kept), planned against the newest catalog inside the
// commit round, like any catalog write. Every process folds it in LSN order
// and drops the removed states from memory. Only then does the collection
// replace the removed records with tombstones (wal.Tombstoner), in batches.
// A process reading a record that became a tombstone before it folded the
// collection's record gets ErrBeforeRetention, never a wrong state. A
// collection interrupted half way leaves records to remove that the next
// collection (in any process that has folded the record) removes.

// DefaultRetention is the retention window when Options.Retention is not
// set.
const DefaultRetention = 7 * 24 * time.Hour

// defaultGCBatch is how many records one store call tombstones.
const defaultGCBatch = 256

// Fields of an OpCollectGarbage description (Op.Doc). Part of the format.
const (
	gcfHorizon = "horizon" // int64: reads below it are refused
	gcfPurge   = "purge"   // array of branch ids dropped from the catalog
	gcfTrim    = "trim"    // array of {id, keep}: records after keep removed
	gcfKeep    = "keep"
)

// ErrBeforeRetention means a read, fork or reset asked for a point that
// garbage collection has put out of reach: below the retention horizon, or
// needing records it removed. It wraps ErrInvalidPoint.
var ErrBeforeRetention = fmt.Errorf("%w: before retention", ErrInvalidPoint)

// GCOptions tune one garbage collection. Nil means the defaults. Build them
// with GC().
type GCOptions struct {
	// DryRun computes and reports what would be removed, and changes
	// nothing.
	DryRun *bool
	// Retention overrides the client's retention window (Options.Retention)
	// for this collection.
	Retention *time.Duration
	// BatchSize is how many records one store call removes. Default 256.
	BatchSize *int
	// Progress, if set, is called after each batch with the records
	// removed so far and the total to remove. It runs on the collecting
	// goroutine.
	Progress func(done, total int)
}

// GC returns empty GCOptions.
func GC() *GCOptions { return &GCOptions{} }

// SetDryRun sets DryRun.
func (o *GCOptions) SetDryRun(b bool) *GCOptions { o.DryRun = &b; return o }

// SetRetention sets Retention.
func (o *GCOptions) SetRetention(d time.Duration) *GCOptions { o.Retention = &d; return o }

// SetBatchSize sets BatchSize.
func (o *GCOptions) SetBatchSize(n int) *GCOptions { o.BatchSize = &n; return o }

// SetProgress sets Progress.
func (o *GCOptions) SetProgress(fn func(done, total int)) *GCOptions { o.Progress = fn; return o }

// GCReport says what one garbage collection removed (or, in a dry run,
// would remove).
type GCReport struct {
	Project string
	DryRun  bool
	// Horizon is the retention horizon: reads below this LSN are refused
	// after the collection. HorizonTime is its record's time (zero when
	// Horizon is 0).
	Horizon     wal.LSN
	HorizonTime time.Time
	// CollectLSN is the LSN of the collection's catalog record; 0 when
	// nothing new was to be removed (or in a dry run).
	CollectLSN wal.LSN
	// BranchesPurged are the ids of the branches dropped from the catalog;
	// BranchesTrimmed the ids of those that keep only a prefix of their
	// records.
	BranchesPurged  []string
	BranchesTrimmed []string
	// Records is how many records were replaced by tombstones (including
	// any a previous, interrupted collection had left); Bytes the storage
	// that freed. In a dry run, what would be.
	Records int
	Bytes   int64
}

func mergeGCOptions(opts []*GCOptions) GCOptions {
	var o GCOptions
	for _, x := range opts {
		if x == nil {
			continue
		}
		if x.DryRun != nil {
			o.DryRun = x.DryRun
		}
		if x.Retention != nil {
			o.Retention = x.Retention
		}
		if x.BatchSize != nil {
			o.BatchSize = x.BatchSize
		}
		if x.Progress != nil {
			o.Progress = x.Progress
		}
	}
	return o
}

// gcConfig is what a connection's collections share.
type gcConfig struct {
	retention time.Duration
	clock     func() time.Time
}

func newGCConfig(o Options) gcConfig {
	c := gcConfig{retention: o.Retention, clock: time.Now}
	if c.retention <= 0 {
		c.retention = DefaultRetention
	}
	if o.Log != nil && o.Log.Clock != nil {
		c.clock = o.Log.Clock // record times and retention use one clock
	}
	return c
}

// GarbageCollect removes the records of the client's project that the
// retention window and the live branches no longer need (see the rules in
// this file's documentation) and reports what it removed. The collection's
// catalog record is durable before any record is removed; removed records
// are durable tombstones, per the store, when it returns. It is safe to
// call while this and other processes read and write; collections of one
// project in one process run one at a time.
//
// The store must implement wal.Tombstoner (all of Argon's stores do).
func (c *Client) GarbageCollect(ctx context.Context, opts ...*GCOptions) (GCReport, error) {
	if err := c.live(); err != nil {
		return GCReport{}, err
	}
	o := mergeGCOptions(opts)
	cfg := c.conn.gcConfig()
	if o.Retention != nil {
		if *o.Retention < 0 {
			return GCReport{}, fmt.Errorf("argon: retention must not be negative, got %s", *o.Retention)
		}
		cfg.retention = *o.Retention
	}
	batch := defaultGCBatch
	if o.BatchSize != nil {
		if *o.BatchSize <= 0 {
			return GCReport{}, fmt.Errorf("argon: gc batch size must be positive, got %d", *o.BatchSize)
		}
		batch = *o.BatchSize
	}
	return c.eng.collect(ctx, c.store, cfg, o.DryRun != nil && *o.DryRun, batch, o.Progress)
}

func (conn *clientConn) gcConfig() gcConfig {
	conn.mu.Lock()
	defer conn.mu.Unlock()
	return conn.gc
}

// gcState is an engine's garbage collection bookkeeping, guarded by e.mu
// (except run, which serializes collections).
type gcState struct {
	run sync.Mutex
	// todo holds LSNs declared removed by a folded collection record but
	// not known to be tombstones yet.
	todo btree.Set[wal.LSN]
	// early holds LSNs seen as tombstones before their collection record
	// was folded (while catching up): they need no second removal.
	early btree.Set[wal.LSN]
}

// gcPlan is what one collection removes.
type gcPlan struct {
	horizon wal.LSN
	purge   []string
	trim    []gcTrim
	lsns    int // records newly declared removed
}

type gcTrim struct {
	id   string
	keep wal.LSN
}

func (p *gcPlan) empty() bool { return len(p.purge) == 0 && len(p.trim) == 0 }

// plan decides what the catalog cat no longer needs with horizon h, when
// branches deleted at or before cutoff are past retention.
func (cat *catalog) plan(h wal.LSN, cutoff time.Time) gcPlan {
	type span struct{ lo, hi wal.LSN }
	const inf = wal.LSN(math.MaxUint64)
	need := map[string]span{}
	var visit func(id string, lo, hi wal.LSN)
	visit = func(id string, lo, hi wal.LSN) {
		b := cat.get(id)
		if b == nil {
			return
		}
		if s, ok := need[id]; ok {
			if lo >= s.lo && hi <= s.hi {
				return
			}
			lo, hi = min(lo, s.lo), max(hi, s.hi)
		}
		need[id] = span{lo, hi}
		// At points from its creation on, a branch sees its own records
		// over its parent's (or predecessor's) state at the fork point.
		if hi >= b.created && b.parent != "" {
			visit(b.parent, b.base, b.base)
		}
		// Before its creation, the name meant its predecessor (reset) or,
		// for a fork, its parent at min(point, base).
		if lo < b.created {
			top := min(hi, b.created-1)
			switch {
			case b.pred != "":
				visit(b.pred, lo, top)
			case b.parent != "":
				visit(b.parent, min(lo, b.base), min(top, b.base))
			}
		}
	}
	cat.byName.Scan(func(_, id string) bool {
		visit(id, h, inf)
		return true
	})
	cat.byID.Scan(func(id string, b *branchState) bool {
		if b.deleted && b.deletedAt.After(cutoff) {
			visit(id, h, inf) // deleted within the window: kept whole
		}
		return true
	})
	p := gcPlan{horizon: h}
	cat.byID.Scan(func(id string, b *branchState) bool {
		end := len(b.lsns) // records from b.gone on are removed already
		if b.gone > 0 {
			end, _ = slices.BinarySearch(b.lsns, b.gone)
		}
		s, needed := need[id]
		if !needed {
			p.purge = append(p.purge, id)
			p.lsns += end
			return true
		}
		first, _ := slices.BinarySearch(b.lsns[:end], s.hi+1)
		if s.hi == inf || first == end {
			return true
		}
		p.trim = append(p.trim, gcTrim{id, s.hi})
		p.lsns += end - first
		return true
	})
	return p
}

func (p *gcPlan) op() (wal.Op, error) {
	trim := bson.A{}
	for _, t := range p.trim {
		trim = append(trim, bson.D{{Key: bfID, Value: t.id}, {Key: gcfKeep, Value: int64(t.keep)}})
	}
	purge := bson.A{}
	for _, id := range p.purge {
		purge = append(purge, id)
	}
	doc, err := bson.Marshal(bson.D{{Key: gcfHorizon, Value: int64(p.horizon)}, {Key: gcfPurge, Value: purge}, {Key: gcfTrim, Value: trim}})
	return wal.Op{Kind: wal.OpCollectGarbage, Doc: doc}, err
}

// parseGCOp reads an OpCollectGarbage description.
func parseGCOp(op *wal.Op) (gcPlan, error) {
	var p gcPlan
	h, ok := op.Doc.Lookup(gcfHorizon).Int64OK()
	if !ok || h < 0 {
		return p, fmt.Errorf("bad horizon in %s", op.Doc)
	}
	p.horizon = wal.LSN(h)
	purge, ok := op.Doc.Lookup(gcfPurge).ArrayOK()
	if !ok {
		return p, fmt.Errorf("bad purge list in %s", op.Doc)
	}
	vals, err := purge.Values()
	if err != nil {
		return p, err
	}
	for _, v := range vals {
		id, ok := v.StringValueOK()
		if !ok {
			return p, fmt.Errorf("bad purged id %s", v)
		}
		p.purge = append(p.purge, id)
	}
	trim, ok := op.Doc.Lookup(gcfTrim).ArrayOK()
	if !ok {
		return p, fmt.Errorf("bad trim list in %s", op.Doc)
	}
	if vals, err = trim.Values(); err != nil {
		return p, err
	}
	for _, v := range vals {
		d, ok := v.DocumentOK()
		if !ok {
			return p, fmt.Errorf("bad trim entry %s", v)
		}
		id, ok1 := d.Lookup(bfID).StringValueOK()
		keep, ok2 := d.Lookup(gcfKeep).Int64OK()
		if !ok1 || !ok2 || keep < 0 {
			return p, fmt.Errorf("bad trim entry %s", d)
		}
		p.trim = append(p.trim, gcTrim{id, wal.LSN(keep)})
	}
	return p, nil
}

// applyGC folds a collection into the catalog c (a fresh clone): purged
// branches leave it, trimmed ones lose their state from the first removed
// record on, and the horizon moves up.
func (c *catalog) applyGC(op *wal.Op, lsn wal.LSN) error {
	p, err := parseGCOp(op)
	if err != nil {
		return err
	}
	if p.horizon >= lsn {
		return fmt.Errorf("horizon %d is not before the record", p.horizon)
	}
	c.horizon = max(c.horizon, p.horizon)
	for _, id := range p.purge {
		b := c.get(id)
		if b == nil || c.idOf(b.name) == id {
			return fmt.Errorf("cannot purge %q: not in the catalog, or live", id)
		}
		c.byID.Delete(id)
	}
	for _, t := range p.trim {
		b := c.get(t.id)
		if b == nil || c.idOf(b.name) == t.id {
			return fmt.Errorf("cannot trim %q: not in the catalog, or live", t.id)
		}
		i, _ := slices.BinarySearch(b.lsns, t.keep+1)
		if i == len(b.lsns) {
			continue
		}
		nb := *b
		if nb.gone == 0 || b.lsns[i] < nb.gone {
			nb.gone = b.lsns[i]
		}
		// Free the states past the cut: checkpoint k is after lsns[(k+1)K-1].
		nb.head = nil
		nb.ckpts = slices.Clone(b.ckpts[:min(len(b.ckpts), i/checkpointEvery)])
		c.byID.Set(t.id, &nb)
	}
	return nil
}

// retained refuses points below the retention horizon.
func (c *catalog) retained(at wal.LSN) error {
	if at < c.horizon {
		return fmt.Errorf("%w: lsn %d is older than the retention horizon (lsn %d); garbage collection removed what it needs", ErrBeforeRetention, at, c.horizon)
	}
	return nil
}

// noteGC records, for a collection record being folded, the LSNs it
// declares removed, found in prev, the catalog before it. The caller holds
// e.mu.
func (e *engine) noteGC(rec *wal.Record, prev *catalog) {
	for i := range rec.Ops {
		if rec.Ops[i].Kind != wal.OpCollectGarbage {
			continue
		}
		p, err := parseGCOp(&rec.Ops[i])
		if err != nil {
			return // catalog.apply has refused it already
		}
		add := func(lsns []wal.LSN) {
			for _, l := range lsns {
				if e.gc.early.Contains(l) {
					e.gc.early.Delete(l)
				} else {
					e.gc.todo.Insert(l)
				}
			}
		}
		for _, id := range p.purge {
			if b := prev.get(id); b != nil {
				add(b.lsns)
			}
		}
		for _, t := range p.trim {
			if b := prev.get(t.id); b != nil {
				i, _ := slices.BinarySearch(b.lsns, t.keep+1)
				add(b.lsns[i:])
			}
		}
	}
}

// applyTombstone folds a tombstone met while following the log: its
// collection record comes later in the log, so for now the branch's state
// from here on is marked lost (gone), which every reader of the branch's
// state checks. The caller holds e.mu.
func (e *engine) applyTombstone(rec *wal.Record) {
	if e.gc.todo.Contains(rec.LSN) {
		e.gc.todo.Delete(rec.LSN)
	} else {
		e.gc.early.Insert(rec.LSN)
	}
	b := e.cat.get(rec.Branch)
	if b == nil {
		return // purged already
	}
	b.lsns = append(b.lsns, rec.LSN)
	if b.gone == 0 {
		b.gone = rec.LSN // head stays until the collection record frees it
	}
}

// collect runs one garbage collection of the engine's project.
func (e *engine) collect(ctx context.Context, store wal.Store, cfg gcConfig, dryRun bool, batch int, progress func(done, total int)) (GCReport, error) {
	e.gc.run.Lock()
	defer e.gc.run.Unlock()
	rep := GCReport{Project: e.project, DryRun: dryRun}
	ts, ok := storeAs[wal.Tombstoner](store)
	if !ok && !dryRun {
		return rep, notSupported(fmt.Sprintf("garbage collection on a %T store (it does not implement wal.Tombstoner)", store))
	}
	if _, err := e.sync(ctx); err != nil {
		return rep, err
	}
	cutoff := cfg.clock().Add(-cfg.retention)
	horizon := func(cat *catalog) wal.LSN {
		e.mu.RLock()
		defer e.mu.RUnlock()
		return max(cat.horizon, e.lsnAtLocked(cutoff))
	}
	var plan gcPlan
	if dryRun {
		e.mu.RLock()
		cat := e.cat
		e.mu.RUnlock()
		plan = cat.plan(horizon(cat), cutoff)
		e.mu.RLock()
		rep.Records = plan.lsns + e.gc.todo.Len()
		e.mu.RUnlock()
	} else {
		rec, err := e.commit(ctx, func(lsn wal.LSN, pending []wal.Record) (string, []wal.Op, error) {
			cat, err := e.catalogFor(pending)
			if err != nil {
				return "", nil, err
			}
			plan = cat.plan(min(horizon(cat), lsn-1), cutoff)
			if plan.empty() {
				return "", nil, nil // nothing new: commit writes nothing
			}
			op, err := plan.op()
			return "", []wal.Op{op}, err
		})
		if err != nil {
			return rep, err
		}
		rep.CollectLSN = rec.LSN
		if rec.LSN == 0 {
			e.mu.RLock()
			plan = gcPlan{horizon: e.cat.horizon}
			e.mu.RUnlock()
		}
	}
	rep.Horizon = plan.horizon
	e.mu.RLock()
	if h := plan.horizon; h > 0 && int(h) <= len(e.times) {
		rep.HorizonTime = time.UnixMilli(e.times[h-1]).UTC()
	}
	e.mu.RUnlock()
	rep.BranchesPurged = slices.Clone(plan.purge)
	for _, t := range plan.trim {
		rep.BranchesTrimmed = append(rep.BranchesTrimmed, t.id)
	}
	slices.SortFunc(rep.BranchesPurged, compareBranchIDs)
	slices.SortFunc(rep.BranchesTrimmed, compareBranchIDs)
	if dryRun {
		return rep, nil
	}
	return rep, e.tombstone(ctx, ts, batch, progress, &rep)
}

// tombstone removes the records the folded collections declared, in
// batches.
func (e *engine) tombstone(ctx context.Context, ts wal.Tombstoner, batch int, progress func(done, total int), rep *GCReport) error {
	e.mu.RLock()
	total := e.gc.todo.Len()
	e.mu.RUnlock()
	done := 0
	for {
		e.mu.RLock()
		lsns := make([]wal.LSN, 0, batch)
		e.gc.todo.Scan(func(l wal.LSN) bool {
			lsns = append(lsns, l)
			return len(lsns) < batch
		})
		e.mu.RUnlock()
		if len(lsns) == 0 {
			return nil
		}
		n, bytes, err := ts.Tombstone(ctx, e.project, lsns)
		rep.Records += n
		rep.Bytes += bytes
		if err != nil {
			return fmt.Errorf("argon: garbage collection of %q removed %d records, then: %w", e.project, rep.Records, err)
		}
		e.mu.Lock()
		for _, l := range lsns {
			e.gc.todo.Delete(l)
		}
		e.mu.Unlock()
		done += len(lsns)
		if progress != nil {
			progress(min(done, total), total)
		}
	}
}

// compareBranchIDs orders ids "b2", "b10", "main" by creation where it
// can.
func compareBranchIDs(a, b string) int {
	na, oka := branchIDLSN(a)
	nb, okb := branchIDLSN(b)
	if oka && okb {
		return cmp.Compare(na, nb)
	}
	return strings.Compare(a, b)
}

func branchIDLSN(id string) (uint64, bool) {
	var n uint64
	if _, err := fmt.Sscanf(id, "b%d", &n); err != nil {
		return 0, false
	}
	return n, true
}

// startGCMonitor collects every project of conn every interval; a zero or
// negative interval disables it and returns nil.
func startGCMonitor(conn *clientConn, store wal.Store, interval time.Duration) *monitor {
	if interval <= 0 {
		return nil
	}
	return startMonitor(interval, func(ctx context.Context) {
		conn.mu.Lock()
		engines := make([]*engine, 0, len(conn.engines))
		for _, e := range conn.engines {
			engines = append(engines, e)
		}
		cfg := conn.gc
		conn.mu.Unlock()
		for _, e := range engines {
			// A failed collection (a store that does not answer, a
			// deleted project) is tried again at the next tick.
			_, err := e.collect(ctx, store, cfg, false, defaultGCBatch, nil)
			if errors.Is(err, context.Canceled) {
				return
			}
		}
	})
}

// retained refuses points below the retention horizon.
func (e *engine) retained(at wal.LSN) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.cat.retained(at)
}

// GarbageCollectAll collects every project of the store, one after the
// other in name order, and reports each: live projects as GarbageCollect
// does, and projects deleted more than the retention window ago by
// removing all their data records (their catalog records stay, so the log
// still says what the project was). It stops at the first error, with the
// reports so far.
func (c *Client) GarbageCollectAll(ctx context.Context, opts ...*GCOptions) ([]GCReport, error) {
	if err := c.live(); err != nil {
		return nil, err
	}
	projects, err := c.store.Projects(ctx)
	if err != nil {
		return nil, err
	}
	o := mergeGCOptions(opts)
	var out []GCReport
	for _, p := range projects {
		deleted, err := c.projectDeleted(ctx, p)
		if err != nil {
			return out, err
		}
		var rep GCReport
		if deleted {
			rep, err = c.collectDeletedProject(ctx, p, o)
		} else {
			var pc *Client
			if pc, err = c.WithProject(ctx, p); err == nil {
				rep, err = pc.GarbageCollect(ctx, &o)
			}
		}
		if err != nil {
			return out, err
		}
		out = append(out, rep)
	}
	return out, nil
}

// collectDeletedProject removes the data records of a project deleted
// more than the retention window ago. Nothing reads a deleted project, and
// it accepts no records, so no collection record is needed.
func (c *Client) collectDeletedProject(ctx context.Context, project string, o GCOptions) (GCReport, error) {
	dryRun := o.DryRun != nil && *o.DryRun
	rep := GCReport{Project: project, DryRun: dryRun}
	cfg := c.conn.gcConfig()
	if o.Retention != nil {
		cfg.retention = *o.Retention
	}
	batch := defaultGCBatch
	if o.BatchSize != nil && *o.BatchSize > 0 {
		batch = *o.BatchSize
	}
	tail, deletedAt, err := c.store.Tail(ctx, project)
	if err != nil || deletedAt.After(cfg.clock().Add(-cfg.retention)) {
		return rep, err // deleted within the window: kept
	}
	rep.Horizon, rep.HorizonTime = tail, deletedAt
	var lsns []wal.LSN
	for from := wal.LSN(1); from <= tail; {
		recs, err := c.store.Read(ctx, project, from, maxLogReadBatch)
		if err != nil {
			return rep, err
		}
		if len(recs) == 0 {
			break
		}
		for i := range recs {
			if recs[i].Branch != "" && !recs[i].Tombstone {
				lsns = append(lsns, recs[i].LSN)
			}
		}
		from = recs[len(recs)-1].LSN + 1
	}
	if dryRun {
		rep.Records = len(lsns)
		return rep, nil
	}
	ts, ok := storeAs[wal.Tombstoner](c.store)
	if !ok {
		return rep, notSupported(fmt.Sprintf("garbage collection on a %T store (it does not implement wal.Tombstoner)", c.store))
	}
	for i := 0; i < len(lsns); i += batch {
		n, bytes, err := ts.Tombstone(ctx, project, lsns[i:min(i+batch, len(lsns))])
		rep.Records += n
		rep.Bytes += bytes
		if err != nil {
			return rep, fmt.Errorf("argon: garbage collection of deleted project %q removed %d records, then: %w", project, rep.Records, err)
		}
		if o.Progress != nil {
			o.Progress(min(i+batch, len(lsns)), len(lsns))
		}
	}
	return rep, nil
}
