package materialize

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/argon-lab/argon/wal"
	"github.com/tidwall/btree"
	"go.mongodb.org/mongo-driver/bson"
)

// Namespace names a collection.
type Namespace struct {
	DB   string
	Coll string
}

func (ns Namespace) String() string { return ns.DB + "." + ns.Coll }

// Compare orders namespaces by database, then collection.
func (ns Namespace) Compare(o Namespace) int {
	if c := strings.Compare(ns.DB, o.DB); c != 0 {
		return c
	}
	return strings.Compare(ns.Coll, o.Coll)
}

// Doc is one stored document. Docs are immutable once in a State.
type Doc struct {
	ID  bson.RawValue
	Raw bson.Raw
	// seq orders documents by insertion (natural order); an update keeps it.
	seq uint64
}

// IndexSpec is a secondary index definition as stored in the log.
type IndexSpec struct {
	Name string
	Spec bson.Raw // the full index document: key, name, unique, ...
}

// Collection is the state of one collection at one point of the log: its
// documents in _id order and in natural order, and its index definitions.
//
// A Collection reachable from a published State is immutable, so it is
// safe for concurrent use by any number of readers.
type Collection struct {
	byID    *btree.BTreeG[*Doc]
	bySeq   *btree.BTreeG[*Doc]
	nextSeq uint64
	indexes []IndexSpec
	options bson.Raw
	sec     []*secIndex // lead: secondary index trees (index.go)
}

func lessID(a, b *Doc) bool  { return CompareValues(a.ID, b.ID) < 0 }
func lessSeq(a, b *Doc) bool { return a.seq < b.seq }

func newCollection(options bson.Raw) *Collection {
	return &Collection{
		byID:    btree.NewBTreeG(lessID),
		bySeq:   btree.NewBTreeG(lessSeq),
		nextSeq: 1,
		options: options,
	}
}

// clone returns a copy that shares structure with c; writes to the copy
// copy nodes lazily and leave c untouched.
func (c *Collection) clone() *Collection {
	return &Collection{
		byID:    c.byID.Copy(),
		bySeq:   c.bySeq.Copy(),
		nextSeq: c.nextSeq,
		indexes: c.indexes,
		options: c.options,
		sec:     copyIndexes(c.sec), // lead: index trees are copy-on-write too
	}
}

// Len returns the number of documents.
func (c *Collection) Len() int { return c.byID.Len() }

// Get returns the document whose _id equals id (by BSON comparison, so 1
// and 1.0 are the same _id, as in MongoDB).
func (c *Collection) Get(id bson.RawValue) (bson.Raw, bool) {
	d, ok := c.byID.Get(&Doc{ID: id})
	if !ok {
		return nil, false
	}
	return d.Raw, true
}

// Scan calls fn for each document in natural (insertion) order until fn
// returns false.
func (c *Collection) Scan(fn func(doc bson.Raw) bool) {
	c.bySeq.Scan(func(d *Doc) bool { return fn(d.Raw) })
}

// Indexes returns the secondary index definitions, in creation order.
func (c *Collection) Indexes() []IndexSpec { return slices.Clone(c.indexes) }

// Options returns the options the collection was created with, if any.
func (c *Collection) Options() bson.Raw { return c.options }

// State is the materialized content of one branch at one LSN: every
// collection of every database. A State is immutable: Apply returns a new
// State that shares unchanged structure with the old one, so keeping a
// snapshot costs nothing and readers need no locks.
type State struct {
	lsn   wal.LSN
	colls map[Namespace]*Collection
}

// NewState returns the empty state (LSN 0).
func NewState() *State { return &State{colls: map[Namespace]*Collection{}} }

// LSN returns the LSN of the last record applied.
func (s *State) LSN() wal.LSN { return s.lsn }

// Collection returns the collection ns, or nil if it does not exist.
func (s *State) Collection(ns Namespace) *Collection { return s.colls[ns] }

// Namespaces returns every collection, sorted.
func (s *State) Namespaces() []Namespace {
	out := make([]Namespace, 0, len(s.colls))
	for ns := range s.colls {
		out = append(out, ns)
	}
	slices.SortFunc(out, Namespace.Compare)
	return out
}

// Databases returns the names of databases with at least one collection,
// sorted.
func (s *State) Databases() []string {
	var out []string
	for _, ns := range s.Namespaces() {
		if len(out) == 0 || out[len(out)-1] != ns.DB {
			out = append(out, ns.DB)
		}
	}
	return out
}

// ErrReplay wraps failures to apply a record: a log that contradicts
// itself (an insert of an existing _id, an update of a missing document).
// Writes are validated before they are logged, so it means a damaged log.
var ErrReplay = fmt.Errorf("materialize: record does not apply")

// Apply folds one record's operations into s and returns the new state.
// Catalog operations on projects and branches are ignored here: they belong
// to the branch catalog, not to a branch's data.
func (s *State) Apply(rec *wal.Record) (*State, error) {
	next := &State{lsn: rec.LSN, colls: s.colls}
	copied := false
	touched := map[Namespace]*Collection{}
	mut := func(ns Namespace, create bool) *Collection {
		if c := touched[ns]; c != nil {
			return c
		}
		if !copied {
			next.colls = make(map[Namespace]*Collection, len(s.colls)+1)
			for k, v := range s.colls {
				next.colls[k] = v
			}
			copied = true
		}
		c := next.colls[ns]
		switch {
		case c != nil:
			c = c.clone()
		case create:
			c = newCollection(nil)
		default:
			return nil
		}
		next.colls[ns] = c
		touched[ns] = c
		return c
	}
	for i := range rec.Ops {
		op := &rec.Ops[i]
		ns := Namespace{op.DB, op.Coll}
		fail := func(format string, args ...any) (*State, error) {
			return nil, fmt.Errorf("%w: lsn %d op %d (%s %s): %s", ErrReplay, rec.LSN, i, op.Kind, ns, fmt.Sprintf(format, args...))
		}
		switch op.Kind {
		case wal.OpInsert:
			c := mut(ns, true)
			d := &Doc{ID: op.ID, Raw: op.Doc, seq: c.nextSeq}
			if _, dup := c.byID.Get(d); dup {
				return fail("_id %s already exists", op.ID)
			}
			c.nextSeq++
			c.byID.Set(d)
			c.bySeq.Set(d)
			c.indexInsert(d) // lead: keep index trees in step
		case wal.OpUpdate, wal.OpReplace:
			c := mut(ns, false)
			if c == nil {
				return fail("no such collection")
			}
			old, ok := c.byID.Get(&Doc{ID: op.ID})
			if !ok {
				return fail("_id %s does not exist", op.ID)
			}
			if !bytes.Equal(old.Raw, op.Before) {
				return fail("before-image of _id %s differs from the state", op.ID)
			}
			d := &Doc{ID: old.ID, Raw: op.Doc, seq: old.seq}
			c.byID.Set(d)
			c.bySeq.Set(d)
			c.indexDelete(old) // lead: keep index trees in step
			c.indexInsert(d)
		case wal.OpDelete:
			c := mut(ns, false)
			if c == nil {
				return fail("no such collection")
			}
			old, ok := c.byID.Delete(&Doc{ID: op.ID})
			if !ok {
				return fail("_id %s does not exist", op.ID)
			}
			c.bySeq.Delete(old)
			c.indexDelete(old) // lead: keep index trees in step
		case wal.OpCreateCollection:
			if next.colls[ns] != nil {
				return fail("collection exists")
			}
			c := mut(ns, true)
			c.options = op.Doc
			c.addCollatedID()
		case wal.OpDropCollection:
			if next.colls[ns] == nil {
				return fail("no such collection")
			}
			mut(ns, false)
			delete(next.colls, ns)
			delete(touched, ns)
		case wal.OpRenameCollection:
			c := next.colls[ns]
			if c == nil {
				return fail("no such collection")
			}
			to, err := renameTarget(op.Doc)
			if err != nil {
				return fail("%v", err)
			}
			mut(ns, false)
			delete(next.colls, ns)
			delete(touched, ns)
			next.colls[to] = c
		case wal.OpCreateIndex:
			c := mut(ns, true)
			if slices.ContainsFunc(c.indexes, func(ix IndexSpec) bool { return ix.Name == op.Name }) {
				return fail("index %q exists", op.Name)
			}
			c.indexes = append(slices.Clip(c.indexes), IndexSpec{Name: op.Name, Spec: op.Doc})
			c.indexCreate(op.Doc) // lead: build the index tree
		case wal.OpDropIndex:
			c := mut(ns, false)
			if c == nil {
				return fail("no such collection")
			}
			n := len(c.indexes)
			c.indexes = slices.DeleteFunc(slices.Clone(c.indexes), func(ix IndexSpec) bool { return ix.Name == op.Name })
			if len(c.indexes) == n {
				return fail("no index %q", op.Name)
			}
			c.indexDrop(op.Name) // lead: drop the index tree
		case wal.OpModifyCollection:
			c := mut(ns, false)
			if c == nil {
				return fail("no such collection")
			}
			c.options = op.Doc
		case wal.OpDropDatabase:
			for ns2 := range next.colls {
				if ns2.DB == op.DB {
					mut(ns2, false)
					delete(next.colls, ns2)
					delete(touched, ns2)
				}
			}
		}
	}
	return next, nil
}

// renameTarget reads the {to: "db.coll"} description of a rename.
func renameTarget(d bson.Raw) (Namespace, error) {
	to, ok := d.Lookup("to").StringValueOK()
	if !ok {
		return Namespace{}, fmt.Errorf("rename without a target")
	}
	i := bytes.IndexByte([]byte(to), '.')
	if i <= 0 {
		return Namespace{}, fmt.Errorf("bad rename target %q", to)
	}
	return Namespace{to[:i], to[i+1:]}, nil
}

// DocIter walks a collection's documents in _id order, pulling one at a
// time. It is not safe for concurrent use; Release it when done.
type DocIter struct {
	it btree.IterG[*Doc]
	ok bool
}

// IterByID returns an iterator over the documents in _id order, positioned
// on the first one. It walks a private copy of the collection's tree, so a
// slow consumer holds no lock that writers wait for.
func (c *Collection) IterByID() *DocIter {
	it := c.byID.Copy().Iter()
	return &DocIter{it: it, ok: it.First()}
}

// Valid reports whether the iterator is on a document.
func (d *DocIter) Valid() bool { return d.ok }

// Doc returns the current document; only while Valid.
func (d *DocIter) Doc() *Doc { return d.it.Item() }

// Next moves to the next document.
func (d *DocIter) Next() { d.ok = d.it.Next() }

// Release ends the iteration.
func (d *DocIter) Release() {
	d.it.Release()
	d.ok = false
}

// EmptyCollection returns a collection with no documents, for comparisons
// with a collection that does not exist.
func EmptyCollection() *Collection { return newCollection(nil) }
