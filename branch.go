package argon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"github.com/tidwall/btree"
	"go.mongodb.org/mongo-driver/bson"
)

// Branch errors. Check them with errors.Is.
var (
	// ErrBranchNotFound means no live branch has the name (or id).
	ErrBranchNotFound = errors.New("argon: branch not found")
	// ErrBranchExists means a live branch already has the name.
	ErrBranchExists = errors.New("argon: branch already exists")
	// ErrMainBranch means the operation is not allowed on the main branch.
	ErrMainBranch = errors.New("argon: the main branch cannot be deleted or renamed")
	// ErrReadOnly means a write went to a read-only view of the past.
	ErrReadOnly = errors.New("argon: read-only view")
	// ErrInvalidPoint means an LSN or time outside the log: beyond its head
	// or before the project existed.
	ErrInvalidPoint = errors.New("argon: invalid point in history")
)

// checkpoint is a branch's state after one of its records.
type checkpoint struct {
	lsn wal.LSN
	st  *materialize.State
}

// branchState is one branch: catalog entry and materialized state. The
// catalog fields never change once the entry is in a catalog (catalog.apply
// copies); head, lsns and ckpts are the engine's and change under its lock.
type branchState struct {
	id        string
	name      string
	parent    string  // parent id; "" for main
	base      wal.LSN // the parent's records up to base are visible
	pred      string  // the id this name meant before a reset
	created   wal.LSN // LSN of the create (or reset) record; 0 for main
	createdAt time.Time
	deleted   bool
	deletedAt time.Time
	// gone is the LSN of the first of the branch's records that garbage
	// collection removed (gc.go): its state at or after gone is lost, and
	// head is nil. 0 if none.
	gone wal.LSN

	fork  *materialize.State // state at creation
	head  *materialize.State
	lsns  []wal.LSN // the branch's own records
	ckpts []checkpoint
}

// catalog is the set of branches of a project at one LSN. It is immutable:
// apply returns a new catalog.
type catalog struct {
	byID   *btree.Map[string, *branchState]
	byName *btree.Map[string, string] // live name → id
	// horizon is the retention horizon of the newest garbage collection
	// (gc.go): reads and forks at an LSN below it are refused.
	horizon wal.LSN
}

func newCatalog() *catalog {
	empty := materialize.NewState()
	main := &branchState{id: mainBranchID, name: mainBranchName, fork: empty, head: empty}
	c := &catalog{byID: new(btree.Map[string, *branchState]), byName: new(btree.Map[string, string])}
	c.byID.Set(mainBranchID, main)
	c.byName.Set(mainBranchName, mainBranchID)
	return c
}

func (c *catalog) resolve(name string) (*branchState, error) {
	id, ok := c.byName.Get(name)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrBranchNotFound, name)
	}
	return c.get(id), nil
}

// get returns the branch with the id (live or deleted), or nil.
func (c *catalog) get(id string) *branchState {
	b, _ := c.byID.Get(id)
	return b
}

// idOf returns the id of the live branch name ("" if none).
func (c *catalog) idOf(name string) string {
	id, _ := c.byName.Get(name)
	return id
}

// taken reports whether a live branch has the name.
func (c *catalog) taken(name string) bool {
	_, ok := c.byName.Get(name)
	return ok
}

// clone is O(1): the maps are persistent, and the copy's writes leave the
// original untouched.
func (c *catalog) clone() *catalog {
	return &catalog{byID: c.byID.Copy(), byName: c.byName.Copy(), horizon: c.horizon}
}

// Fields of a branch event's description (Op.Doc). Part of the format.
const (
	bfID     = "id"
	bfParent = "parent"
	bfBase   = "base"
	bfKind   = "kind" // of OpUpdateBranch: "reset" or "rename"
	bfFrom   = "from" // old name, for a rename
)

// apply folds one project-level record into the catalog. stateAt gives the
// state a new branch forks from.
func (c *catalog) apply(rec *wal.Record, stateAt func(id string, at wal.LSN) (*materialize.State, error)) (*catalog, error) {
	next := c.clone()
	for i := range rec.Ops {
		op := &rec.Ops[i]
		fail := func(format string, args ...any) (*catalog, error) {
			return nil, fmt.Errorf("%w: lsn %d: %s %q: %s", materialize.ErrReplay, rec.LSN, op.Kind, op.Name, fmt.Sprintf(format, args...))
		}
		id, _ := op.Doc.Lookup(bfID).StringValueOK()
		switch op.Kind {
		case wal.OpCreateBranch, wal.OpUpdateBranch:
			kind, _ := op.Doc.Lookup(bfKind).StringValueOK()
			if op.Kind == wal.OpUpdateBranch && kind == "rename" {
				from, _ := op.Doc.Lookup(bfFrom).StringValueOK()
				b := next.get(id)
				if b == nil || next.idOf(from) != id {
					return fail("no live branch %q with id %q", from, id)
				}
				if next.taken(op.Name) {
					return fail("name taken")
				}
				nb := *b
				nb.name = op.Name
				next.byID.Set(id, &nb)
				next.byName.Delete(from)
				next.byName.Set(op.Name, id)
				continue
			}
			parent, _ := op.Doc.Lookup(bfParent).StringValueOK()
			base, _ := op.Doc.Lookup(bfBase).Int64OK()
			if id == "" || next.get(id) != nil || next.get(parent) == nil || base < 0 || wal.LSN(base) >= rec.LSN {
				return fail("bad description %s", op.Doc)
			}
			nb := &branchState{id: id, name: op.Name, parent: parent, base: wal.LSN(base), created: rec.LSN, createdAt: rec.Time}
			if op.Kind == wal.OpCreateBranch {
				if next.taken(op.Name) {
					return fail("name taken")
				}
			} else {
				// A reset: the name moves to a new branch whose parent is the
				// old one, which stays reachable.
				if next.idOf(op.Name) != parent {
					return fail("reset of %q does not start from its current id", op.Name)
				}
				nb.pred = parent
			}
			st, err := stateAt(parent, wal.LSN(base))
			if errors.Is(err, ErrBeforeRetention) {
				// Forked from records garbage collection removed since: a
				// collection that removed them purges this branch too.
				st, nb.gone = materialize.NewState(), rec.LSN
			} else if err != nil {
				return nil, err
			}
			nb.fork, nb.head = st, st
			next.byID.Set(id, nb)
			next.byName.Set(op.Name, id)
		case wal.OpDeleteBranch:
			b := next.get(id)
			if b == nil || next.idOf(op.Name) != id || id == mainBranchID {
				return fail("no deletable live branch with id %q", id)
			}
			nb := *b
			nb.deleted, nb.deletedAt = true, rec.Time
			next.byID.Set(id, &nb)
			next.byName.Delete(op.Name)
		case wal.OpCollectGarbage:
			if err := next.applyGC(op, rec.LSN); err != nil {
				return fail("%v", err)
			}
		default:
			return fail("not a branch operation")
		}
	}
	return next, nil
}

// BranchInfo describes a branch.
type BranchInfo struct {
	Name string
	// ID never changes; a reset gives the name a new ID.
	ID string
	// Parent is the ID of the branch this one was forked from ("" for
	// main); BaseLSN is the fork point: the parent's records up to it are
	// visible here.
	Parent  string
	BaseLSN wal.LSN
	// CreatedLSN is the LSN of the record that created the branch;
	// CreatedAt its time.
	CreatedLSN wal.LSN
	CreatedAt  time.Time
	// HeadLSN is the newest record written on the branch, or CreatedLSN if
	// none.
	HeadLSN wal.LSN
	Deleted bool
}

func (b *branchState) info() BranchInfo {
	head := b.created
	if len(b.lsns) > 0 {
		head = b.lsns[len(b.lsns)-1]
	}
	return BranchInfo{Name: b.name, ID: b.id, Parent: b.parent, BaseLSN: b.base, CreatedLSN: b.created,
		CreatedAt: b.createdAt, HeadLSN: head, Deleted: b.deleted}
}

// BranchOptions say where a new branch (or a reset) starts. The zero value
// means the head of the client's branch. Build them with Branch().
type BranchOptions struct {
	From *string    // the parent branch; default the client's branch
	LSN  *wal.LSN   // fork at this LSN; default the head
	Time *time.Time // fork at the LSN in force at this time
}

// Branch returns empty BranchOptions.
func Branch() *BranchOptions { return &BranchOptions{} }

// SetFrom sets the parent branch.
func (o *BranchOptions) SetFrom(name string) *BranchOptions { o.From = &name; return o }

// SetLSN sets the fork point to an LSN.
func (o *BranchOptions) SetLSN(lsn wal.LSN) *BranchOptions { o.LSN = &lsn; return o }

// SetTime sets the fork point to the LSN in force at t: every record
// committed at or before t is included, none after it.
func (o *BranchOptions) SetTime(t time.Time) *BranchOptions { o.Time = &t; return o }

func mergeBranchOptions(opts []*BranchOptions) BranchOptions {
	var o BranchOptions
	for _, x := range opts {
		if x == nil {
			continue
		}
		if x.From != nil {
			o.From = x.From
		}
		if x.LSN != nil {
			o.LSN, o.Time = x.LSN, nil
		}
		if x.Time != nil {
			o.Time, o.LSN = x.Time, nil
		}
	}
	return o
}

// point resolves an LSN or time option against the log as of lsn-1 (the
// record being built). nil options mean the head.
func (e *engine) point(o BranchOptions, head wal.LSN) (wal.LSN, error) {
	switch {
	case o.LSN != nil:
		if *o.LSN > head {
			return 0, fmt.Errorf("%w: lsn %d is beyond the head of the log (%d)", ErrInvalidPoint, *o.LSN, head)
		}
		return *o.LSN, nil
	case o.Time != nil:
		e.mu.RLock()
		defer e.mu.RUnlock()
		if len(e.times) == 0 || o.Time.UnixMilli() < e.times[0] {
			return 0, fmt.Errorf("%w: %s is before the project's first record", ErrInvalidPoint, o.Time.Format(time.RFC3339Nano))
		}
		return min(e.lsnAtLocked(*o.Time), head), nil
	}
	return head, nil
}

// CreateBranch creates the branch name, forked from the client's branch (or
// opts' From) at its head (or at opts' LSN or time; on a read-only view
// from AtLSN or AtTime, at the view's point). Creation costs the same
// whatever the data size: the new branch shares the parent's state. The
// branch is durable when CreateBranch returns, and every process sees it on
// its next call.
func (c *Client) CreateBranch(ctx context.Context, name string, opts ...*BranchOptions) (BranchInfo, error) {
	if err := c.live(); err != nil {
		return BranchInfo{}, err
	}
	if err := wal.ValidateBranchName(name); err != nil {
		return BranchInfo{}, err
	}
	o := mergeBranchOptions(opts)
	from := c.branch.branch
	if o.From != nil {
		from = *o.From
	} else if c.branch.readOnly() && o.LSN == nil && o.Time == nil {
		// A view of the past forks at its own point: this is restore.
		if c.branch.hasAt {
			o.LSN = &c.branch.at
		} else {
			o.Time = &c.branch.atTime
		}
	}
	rec, err := c.commitCatalog(ctx, func(cat *catalog, lsn wal.LSN) (wal.Op, error) {
		if cat.taken(name) {
			return wal.Op{}, stateErr(fmt.Errorf("%w: %q", ErrBranchExists, name))
		}
		parent, err := cat.resolve(from)
		if err != nil {
			return wal.Op{}, stateErr(err)
		}
		base, err := c.eng.point(o, lsn-1)
		if err != nil {
			return wal.Op{}, err
		}
		if err := cat.retained(base); err != nil {
			return wal.Op{}, err
		}
		doc, err := bson.Marshal(bson.D{{Key: bfID, Value: branchID(lsn)}, {Key: bfParent, Value: parent.id}, {Key: bfBase, Value: int64(base)}})
		return wal.Op{Kind: wal.OpCreateBranch, Name: name, Doc: doc}, err
	})
	if err != nil {
		return BranchInfo{}, err
	}
	return c.eng.branchInfo(ctx, branchID(rec.LSN))
}

// commitCatalog commits one catalog operation that build plans against the
// newest catalog (plus the commit round's pending catalog records).
func (c *Client) commitCatalog(ctx context.Context, build func(cat *catalog, lsn wal.LSN) (wal.Op, error)) (wal.Record, error) {
	if _, err := c.eng.sync(ctx); err != nil {
		return wal.Record{}, err
	}
	return c.eng.commit(ctx, func(lsn wal.LSN, pending []wal.Record) (string, []wal.Op, error) {
		cat, err := c.eng.catalogFor(pending)
		if err != nil {
			return "", nil, err
		}
		op, err := build(cat, lsn)
		if err != nil {
			return "", nil, err
		}
		return "", []wal.Op{op}, nil
	})
}

// branchID names the branch created by the record at lsn: unique in the
// project, and known while the record is built.
func branchID(lsn wal.LSN) string { return fmt.Sprintf("b%d", lsn) }

// branchInfo describes a branch the engine has folded: a record this
// process committed has been, when its append returned.
func (e *engine) branchInfo(ctx context.Context, id string) (BranchInfo, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	b := e.cat.get(id)
	if b == nil {
		return BranchInfo{}, fmt.Errorf("%w: id %q", ErrBranchNotFound, id)
	}
	return b.info(), nil
}

// ListBranches returns the live branches, sorted by name. On a read-only
// handle (AtLSN, AtTime) it returns the branches that were live at that
// point, with their names and heads then; points below the retention
// horizon fail with ErrBeforeRetention.
func (c *Client) ListBranches(ctx context.Context) ([]BranchInfo, error) {
	if err := c.live(); err != nil {
		return nil, err
	}
	if c.branch.readOnly() {
		return c.eng.branchesAt(ctx, c.branch)
	}
	if _, err := c.eng.sync(ctx); err != nil {
		return nil, err
	}
	c.eng.mu.RLock()
	defer c.eng.mu.RUnlock()
	out := make([]BranchInfo, 0, c.eng.cat.byName.Len())
	c.eng.cat.byName.Scan(func(_, id string) bool {
		out = append(out, c.eng.cat.get(id).info())
		return true
	})
	sortBranchInfos(out)
	return out, nil
}

// DeleteBranch deletes the branch name. Deletion is soft: the branch's
// records stay in the log (for time travel, and for children forked from
// it, which are not affected) until garbage collection. main cannot be
// deleted.
func (c *Client) DeleteBranch(ctx context.Context, name string) error {
	if err := c.live(); err != nil {
		return err
	}
	if name == mainBranchName {
		return ErrMainBranch
	}
	_, err := c.commitCatalog(ctx, func(cat *catalog, lsn wal.LSN) (wal.Op, error) {
		b, err := cat.resolve(name)
		if err != nil {
			return wal.Op{}, stateErr(err)
		}
		if b.id == mainBranchID {
			return wal.Op{}, ErrMainBranch
		}
		doc, err := bson.Marshal(bson.D{{Key: bfID, Value: b.id}})
		return wal.Op{Kind: wal.OpDeleteBranch, Name: name, Doc: doc}, err
	})
	return err
}

// ResetBranch moves the branch name back to an earlier point of its own
// history (opts' LSN or time; From is not allowed). The name then points
// at a new branch forked from the old one, so the old state stays
// reachable: reading the name at a time before the reset shows what it was
// then. Later writes build on the reset state.
func (c *Client) ResetBranch(ctx context.Context, name string, opts ...*BranchOptions) (BranchInfo, error) {
	if err := c.live(); err != nil {
		return BranchInfo{}, err
	}
	o := mergeBranchOptions(opts)
	if o.From != nil {
		return BranchInfo{}, fmt.Errorf("%w: a reset stays on its own branch; use CreateBranch to fork another", ErrInvalidPoint)
	}
	if o.LSN == nil && o.Time == nil {
		return BranchInfo{}, fmt.Errorf("%w: a reset needs an LSN or a time", ErrInvalidPoint)
	}
	rec, err := c.commitCatalog(ctx, func(cat *catalog, lsn wal.LSN) (wal.Op, error) {
		b, err := cat.resolve(name)
		if err != nil {
			return wal.Op{}, stateErr(err)
		}
		base, err := c.eng.point(o, lsn-1)
		if err != nil {
			return wal.Op{}, err
		}
		if err := cat.retained(base); err != nil {
			return wal.Op{}, err
		}
		doc, err := bson.Marshal(bson.D{{Key: bfID, Value: branchID(lsn)}, {Key: bfParent, Value: b.id},
			{Key: bfBase, Value: int64(base)}, {Key: bfKind, Value: "reset"}})
		return wal.Op{Kind: wal.OpUpdateBranch, Name: name, Doc: doc}, err
	})
	if err != nil {
		return BranchInfo{}, err
	}
	return c.eng.branchInfo(ctx, branchID(rec.LSN))
}

// RenameBranch gives the branch from the name to. main cannot be renamed.
func (c *Client) RenameBranch(ctx context.Context, from, to string) error {
	if err := c.live(); err != nil {
		return err
	}
	if from == mainBranchName {
		return ErrMainBranch
	}
	if err := wal.ValidateBranchName(to); err != nil {
		return err
	}
	_, err := c.commitCatalog(ctx, func(cat *catalog, lsn wal.LSN) (wal.Op, error) {
		b, err := cat.resolve(from)
		if err != nil {
			return wal.Op{}, stateErr(err)
		}
		if cat.taken(to) {
			return wal.Op{}, stateErr(fmt.Errorf("%w: %q", ErrBranchExists, to))
		}
		doc, err := bson.Marshal(bson.D{{Key: bfID, Value: b.id}, {Key: bfKind, Value: "rename"}, {Key: bfFrom, Value: from}})
		return wal.Op{Kind: wal.OpUpdateBranch, Name: to, Doc: doc}, err
	})
	return err
}

// WithBranch returns a handle on the branch name: its Databases and
// Collections work on that branch exactly as the client's do on its own.
// The handle shares the client's log; disconnecting either disconnects
// both. The name is resolved at each operation, so after a reset the
// handle works on the reset branch.
func (c *Client) WithBranch(name string) *Client {
	h := *c
	h.branch = view{branch: name}
	return &h
}

// AtLSN returns a read-only view of the client's branch as it was at lsn:
// Databases and Collections with the normal read methods; writes fail with
// ErrReadOnly.
func (c *Client) AtLSN(lsn wal.LSN) *Client {
	h := *c
	h.branch = view{branch: c.branch.branch, hasAt: true, at: lsn}
	return &h
}

// AtTime returns a read-only view of the client's branch as it was at t:
// every record committed at or before t is visible, none after it.
func (c *Client) AtTime(t time.Time) *Client {
	h := *c
	h.branch = view{branch: c.branch.branch, atTime: t}
	return &h
}

// BranchName returns the name of the branch the client works on.
func (c *Client) BranchName() string { return c.branch.branch }

// HeadLSN returns the newest LSN of the project's log, after catching up.
func (c *Client) HeadLSN(ctx context.Context) (wal.LSN, error) {
	if err := c.live(); err != nil {
		return 0, err
	}
	return c.eng.sync(ctx)
}

// LSNAt returns the LSN in force at t: the newest record committed at or
// before t (0 when t is before the first record).
func (c *Client) LSNAt(ctx context.Context, t time.Time) (wal.LSN, error) {
	if err := c.live(); err != nil {
		return 0, err
	}
	if _, err := c.eng.sync(ctx); err != nil {
		return 0, err
	}
	c.eng.mu.RLock()
	defer c.eng.mu.RUnlock()
	return c.eng.lsnAtLocked(t), nil
}
