package argon

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/argon-lab/argon/materialize"
	"go.mongodb.org/mongo-driver/bson"
)

// ChangeKind says how a document differs between two points.
type ChangeKind int

// Kinds of change.
const (
	Added   ChangeKind = iota + 1 // only in the second point
	Removed                       // only in the first point
	Changed                       // in both, with different content
)

func (k ChangeKind) String() string {
	switch k {
	case Added:
		return "added"
	case Removed:
		return "removed"
	case Changed:
		return "changed"
	}
	return fmt.Sprintf("ChangeKind(%d)", int(k))
}

// Change is one document that differs between two points.
type Change struct {
	Kind       ChangeKind
	Database   string
	Collection string
	ID         bson.RawValue
	// Before is the document in the first point (nil when Added); After in
	// the second (nil when Removed).
	Before bson.Raw
	After  bson.Raw
}

// DiffOptions narrow a diff. Nil means every collection of every database.
type DiffOptions struct {
	Database   *string
	Collection *string
}

// NewDiffOptions returns empty DiffOptions.
func NewDiffOptions() *DiffOptions { return &DiffOptions{} }

// SetDatabase limits the diff to one database.
func (o *DiffOptions) SetDatabase(name string) *DiffOptions { o.Database = &name; return o }

// SetCollection limits the diff to collections with this name.
func (o *DiffOptions) SetCollection(name string) *DiffOptions { o.Collection = &name; return o }

// Diff compares what c sees (its branch's head, or the point of a
// read-only view) with what other sees, document by document: per
// collection in namespace order, documents in _id order. Both sides are
// fixed when Diff returns; the stream then pulls one document at a time, so
// a large diff is never held in memory at once.
func (c *Client) Diff(ctx context.Context, other *Client, opts ...*DiffOptions) (*DiffStream, error) {
	if err := c.live(); err != nil {
		return nil, err
	}
	if other == nil || other.eng != c.eng {
		return nil, fmt.Errorf("argon: Diff needs two views of the same client (WithBranch, AtLSN, AtTime)")
	}
	var o DiffOptions
	for _, x := range opts {
		if x == nil {
			continue
		}
		if x.Database != nil {
			o.Database = x.Database
		}
		if x.Collection != nil {
			o.Collection = x.Collection
		}
	}
	a, err := c.eng.snapshot(ctx, c.branch)
	if err != nil {
		return nil, err
	}
	b, err := c.eng.snapshot(ctx, other.branch)
	if err != nil {
		return nil, err
	}
	seen := map[materialize.Namespace]bool{}
	var nss []materialize.Namespace
	for _, st := range []*materialize.State{a, b} {
		for _, ns := range st.Namespaces() {
			if seen[ns] || (o.Database != nil && ns.DB != *o.Database) || (o.Collection != nil && ns.Coll != *o.Collection) {
				continue
			}
			seen[ns] = true
			nss = append(nss, ns)
		}
	}
	slices.SortFunc(nss, materialize.Namespace.Compare)
	return &DiffStream{a: a, b: b, nss: nss}, nil
}

// DiffStream yields the changes of a Diff one at a time, like a cursor.
// It is not safe for concurrent use; Close it when done.
type DiffStream struct {
	a, b   *materialize.State
	nss    []materialize.Namespace
	ns     int // index of the namespace being walked; -1 before the first
	ia, ib *materialize.DocIter
	cur    Change
	err    error
	closed bool
	begun  bool
}

// Next advances to the next change and reports whether there is one.
func (s *DiffStream) Next(ctx context.Context) bool {
	if s.closed || s.err != nil {
		return false
	}
	if !s.begun {
		s.begun = true
		s.ns = -1
	}
	for {
		if err := ctx.Err(); err != nil {
			s.err = err
			return false
		}
		if s.ia == nil {
			s.ns++
			if s.ns >= len(s.nss) {
				return false
			}
			s.ia, s.ib = iterOf(s.a, s.nss[s.ns]), iterOf(s.b, s.nss[s.ns])
		}
		ns := s.nss[s.ns]
		switch {
		case !s.ia.Valid() && !s.ib.Valid():
			s.ia.Release()
			s.ib.Release()
			s.ia, s.ib = nil, nil
			continue
		case !s.ib.Valid() || (s.ia.Valid() && materialize.CompareValues(s.ia.Doc().ID, s.ib.Doc().ID) < 0):
			d := s.ia.Doc()
			s.ia.Next()
			s.cur = Change{Kind: Removed, Database: ns.DB, Collection: ns.Coll, ID: d.ID, Before: d.Raw}
			return true
		case !s.ia.Valid() || materialize.CompareValues(s.ia.Doc().ID, s.ib.Doc().ID) > 0:
			d := s.ib.Doc()
			s.ib.Next()
			s.cur = Change{Kind: Added, Database: ns.DB, Collection: ns.Coll, ID: d.ID, After: d.Raw}
			return true
		default:
			da, db := s.ia.Doc(), s.ib.Doc()
			s.ia.Next()
			s.ib.Next()
			if bytes.Equal(da.Raw, db.Raw) {
				continue
			}
			s.cur = Change{Kind: Changed, Database: ns.DB, Collection: ns.Coll, ID: da.ID, Before: da.Raw, After: db.Raw}
			return true
		}
	}
}

func iterOf(st *materialize.State, ns materialize.Namespace) *materialize.DocIter {
	c := st.Collection(ns)
	if c == nil {
		c = materialize.EmptyCollection()
	}
	return c.IterByID()
}

// Change returns the current change; valid after Next returned true.
func (s *DiffStream) Change() Change { return s.cur }

// Err returns the error that ended the stream, if any.
func (s *DiffStream) Err() error { return s.err }

// Close releases the stream.
func (s *DiffStream) Close(ctx context.Context) error {
	if s.ia != nil {
		s.ia.Release()
		s.ib.Release()
		s.ia, s.ib = nil, nil
	}
	s.closed = true
	return nil
}
