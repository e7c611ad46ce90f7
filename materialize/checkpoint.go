package materialize

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// This file writes a State as its difference from another State, and
// reads it back on top of that State, for persisted checkpoints. Reading
// shares everything the difference leaves alone with the base (copy-on-write
// trees, documents), so a checkpoint of many branches that mostly share
// their data loads into about the memory the branches took when they were
// built by replay.
//
// Format (part of the checkpoint format; integers are unsigned varints,
// strings and byte strings are a varint length and the bytes):
//
//	state   = lsn, entry*, 0
//	entry   = 1 db coll                         the collection is dropped
//	        | 2 db coll collection              the collection differs
//	collection = options (length+1, 0 for none), nextSeq,
//	             nIndexes (name spec)*, item*, 0
//	item    = 1 idType idValue                  a document is removed
//	        | 2 seq document                    a document is added or replaced
//
// A collection's items apply to the base's collection of the same name (or
// to an empty one); index definitions and options are given in full.

// ErrBadCheckpoint wraps every failure to read an encoded State: the bytes
// do not describe a State that differs from the base.
var ErrBadCheckpoint = errors.New("materialize: bad checkpoint data")

const (
	ckEnd    = 0
	ckDrop   = 1
	ckColl   = 2
	ckRemove = 1
	ckPut    = 2

	maxCkptBytes = 1 << 26 // longest byte string a reader accepts
)

type ckWriter struct {
	w   *bufio.Writer
	tmp []byte
}

func (w *ckWriter) uvarint(v uint64) {
	w.tmp = binary.AppendUvarint(w.tmp[:0], v)
	w.w.Write(w.tmp)
}

func (w *ckWriter) bytes(b []byte) {
	w.uvarint(uint64(len(b)))
	w.w.Write(b)
}

func (w *ckWriter) byte(b byte) { w.w.WriteByte(b) }

// EncodeState writes st to w as its difference from base (NewState() for
// all of st). It reads only immutable structure, so it may run while other
// goroutines use both states. Errors are w's.
func EncodeState(w *bufio.Writer, st, base *State) error {
	cw := &ckWriter{w: w}
	cw.uvarint(uint64(st.lsn))
	for _, ns := range base.Namespaces() {
		if st.colls[ns] == nil {
			cw.byte(ckDrop)
			cw.bytes([]byte(ns.DB))
			cw.bytes([]byte(ns.Coll))
		}
	}
	for _, ns := range st.Namespaces() {
		c, c0 := st.colls[ns], base.colls[ns]
		if c == c0 {
			continue
		}
		cw.byte(ckColl)
		cw.bytes([]byte(ns.DB))
		cw.bytes([]byte(ns.Coll))
		if c.options == nil {
			cw.uvarint(0)
		} else {
			cw.uvarint(uint64(len(c.options)) + 1)
			cw.w.Write(c.options)
		}
		cw.uvarint(c.nextSeq)
		cw.uvarint(uint64(len(c.indexes)))
		for _, ix := range c.indexes {
			cw.bytes([]byte(ix.Name))
			cw.bytes(ix.Spec)
		}
		put := func(d *Doc) {
			cw.byte(ckPut)
			cw.uvarint(d.seq)
			cw.bytes(d.Raw)
		}
		if c0 == nil {
			c.bySeq.Copy().Scan(func(d *Doc) bool { put(d); return true })
		} else {
			diffDocs(c0, c, func(d *Doc) {
				cw.byte(ckRemove)
				cw.byte(byte(d.ID.Type))
				cw.bytes(d.ID.Value)
			}, put)
		}
		cw.byte(ckEnd)
		if _, err := w.Write(nil); err != nil {
			return err
		}
	}
	cw.byte(ckEnd)
	_, err := w.Write(nil) // bufio keeps the first write error
	return err
}

// diffDocs walks a's and b's documents in _id order and reports documents
// of a that b lacks (removed) and documents of b that a lacks or holds in
// another version (put). Documents shared by pointer cost one comparison.
func diffDocs(a, b *Collection, removed, put func(*Doc)) {
	ia, ib := a.byID.Copy().Iter(), b.byID.Copy().Iter()
	defer ia.Release()
	defer ib.Release()
	oka, okb := ia.First(), ib.First()
	for oka || okb {
		switch {
		case !okb:
			removed(ia.Item())
			oka = ia.Next()
		case !oka:
			put(ib.Item())
			okb = ib.Next()
		default:
			da, db := ia.Item(), ib.Item()
			if da == db {
				oka, okb = ia.Next(), ib.Next()
				continue
			}
			switch c := CompareValues(da.ID, db.ID); {
			case c < 0:
				removed(da)
				oka = ia.Next()
			case c > 0:
				put(db)
				okb = ib.Next()
			default:
				if da.seq != db.seq || !bytes.Equal(da.Raw, db.Raw) {
					put(db)
				}
				oka, okb = ia.Next(), ib.Next()
			}
		}
	}
}

type ckReader struct {
	r *bufio.Reader
}

func badCkpt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadCheckpoint, fmt.Sprintf(format, args...))
}

func (r *ckReader) uvarint() (uint64, error) {
	v, err := binary.ReadUvarint(r.r)
	if err != nil {
		return 0, r.fail(err)
	}
	return v, nil
}

func (r *ckReader) fail(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return badCkpt("truncated")
	}
	if errors.Is(err, ErrBadCheckpoint) {
		return err
	}
	// A varint overflow is bad data; anything else (a store's checksum
	// error) is the reader's, wrapped so both tests work.
	return fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
}

func (r *ckReader) bytesN(n uint64) ([]byte, error) {
	if n > maxCkptBytes {
		return nil, badCkpt("byte string of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.r, b); err != nil {
		return nil, r.fail(err)
	}
	return b, nil
}

func (r *ckReader) bytes() ([]byte, error) {
	n, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	return r.bytesN(n)
}

func (r *ckReader) string() (string, error) {
	b, err := r.bytes()
	return string(b), err
}

func (r *ckReader) byte() (byte, error) {
	b, err := r.r.ReadByte()
	if err != nil {
		return 0, r.fail(err)
	}
	return b, nil
}

// DecodeState reads a State written by EncodeState against base (the same
// content as the base it was written against) and returns it, sharing all
// unchanged structure with base. Bad input fails with an error wrapping
// ErrBadCheckpoint (and any error of r); it never panics.
func DecodeState(r *bufio.Reader, base *State) (*State, error) {
	cr := &ckReader{r: r}
	lsn, err := cr.uvarint()
	if err != nil {
		return nil, err
	}
	next := &State{lsn: wal.LSN(lsn), colls: make(map[Namespace]*Collection, len(base.colls))}
	for k, v := range base.colls {
		next.colls[k] = v
	}
	seen := map[Namespace]bool{}
	for {
		tag, err := cr.byte()
		if err != nil {
			return nil, err
		}
		if tag == ckEnd {
			return next, nil
		}
		if tag != ckDrop && tag != ckColl {
			return nil, badCkpt("entry tag %d", tag)
		}
		var ns Namespace
		if ns.DB, err = cr.string(); err != nil {
			return nil, err
		}
		if ns.Coll, err = cr.string(); err != nil {
			return nil, err
		}
		if seen[ns] {
			return nil, badCkpt("collection %s twice", ns)
		}
		seen[ns] = true
		if tag == ckDrop {
			if next.colls[ns] == nil {
				return nil, badCkpt("drop of missing collection %s", ns)
			}
			delete(next.colls, ns)
			continue
		}
		c, err := cr.collection(base.colls[ns])
		if err != nil {
			return nil, fmt.Errorf("collection %s: %w", ns, err)
		}
		next.colls[ns] = c
	}
}

// collection reads one collection's difference from c0 (nil: empty).
func (cr *ckReader) collection(c0 *Collection) (*Collection, error) {
	optLen, err := cr.uvarint()
	if err != nil {
		return nil, err
	}
	var options bson.Raw
	if optLen > 0 {
		if options, err = cr.bytesN(optLen - 1); err != nil {
			return nil, err
		}
		if err := validateDocument(options); err != nil {
			return nil, badCkpt("options: %v", err)
		}
	}
	nextSeq, err := cr.uvarint()
	if err != nil {
		return nil, err
	}
	nIdx, err := cr.uvarint()
	if err != nil {
		return nil, err
	}
	if nIdx > 1<<16 {
		return nil, badCkpt("%d indexes", nIdx)
	}
	specs := make([]IndexSpec, 0, nIdx)
	for i := uint64(0); i < nIdx; i++ {
		name, err := cr.string()
		if err != nil {
			return nil, err
		}
		spec, err := cr.bytes()
		if err != nil {
			return nil, err
		}
		if err := validateDocument(spec); err != nil {
			return nil, badCkpt("index %q: %v", name, err)
		}
		specs = append(specs, IndexSpec{Name: name, Spec: spec})
	}
	full := c0 == nil
	var c *Collection
	if full {
		c = newCollection(options)
	} else {
		c = c0.clone()
		c.options = options
	}
	sameIdx := !full && slices.EqualFunc(c0.indexes, specs, func(a, b IndexSpec) bool {
		return a.Name == b.Name && bytes.Equal(a.Spec, b.Spec)
	})
	if !sameIdx {
		// Rebuilt below, once the documents are in.
		c.sec = nil
	}
	c.indexes = specs
	// New documents go in once every item is read: a collection dropped
	// and created again numbers its documents from 1 again, so a new
	// document's seq may be held by an old one removed later in the stream.
	var puts []*Doc
	for {
		tag, err := cr.byte()
		if err != nil {
			return nil, err
		}
		switch tag {
		case ckEnd:
			for _, d := range puts {
				if _, dup := c.bySeq.Get(d); dup {
					return nil, badCkpt("two documents with seq %d", d.seq)
				}
				if full {
					c.byID.Load(d)
					c.bySeq.Load(d)
				} else {
					c.byID.Set(d)
					c.bySeq.Set(d)
				}
				c.indexInsert(d)
			}
			if c.byID.Len() != c.bySeq.Len() {
				return nil, badCkpt("documents and natural order disagree")
			}
			if last, ok := c.bySeq.Max(); ok && last.seq >= nextSeq {
				return nil, badCkpt("document seq %d not below next seq %d", last.seq, nextSeq)
			}
			c.nextSeq = nextSeq
			if !sameIdx {
				c.addCollatedID()
				for _, ix := range specs {
					c.indexCreate(ix.Spec)
				}
			}
			return c, nil
		case ckRemove:
			t, err := cr.byte()
			if err != nil {
				return nil, err
			}
			v, err := cr.bytes()
			if err != nil {
				return nil, err
			}
			id := bson.RawValue{Type: bsontype.Type(t), Value: v}
			if err := validateDocument(bsoncore.BuildDocumentFromElements(nil, bsoncore.AppendValueElement(nil, "_id", bsoncore.Value{Type: id.Type, Data: id.Value}))); err != nil {
				return nil, badCkpt("removed _id: %v", err)
			}
			old, ok := c.byID.Delete(&Doc{ID: id})
			if !ok {
				return nil, badCkpt("removal of missing _id %s", id)
			}
			c.bySeq.Delete(old)
			c.indexDelete(old)
		case ckPut:
			seq, err := cr.uvarint()
			if err != nil {
				return nil, err
			}
			raw, err := cr.bytes()
			if err != nil {
				return nil, err
			}
			if err := validateDocument(raw); err != nil {
				return nil, badCkpt("document: %v", err)
			}
			idv, err := bson.Raw(raw).LookupErr("_id")
			if err != nil {
				return nil, badCkpt("document without _id")
			}
			d := &Doc{ID: idv, Raw: raw, seq: seq}
			if old, ok := c.byID.Delete(d); ok {
				c.bySeq.Delete(old)
				c.indexDelete(old)
			}
			puts = append(puts, d)
		default:
			return nil, badCkpt("item tag %d", tag)
		}
	}
}

// Equal reports whether s and o hold the same content: the same
// collections with the same options, index definitions, next insertion
// number and documents (same _id, bytes and natural order). For tests and
// checks of checkpoints; it walks every document.
func (s *State) Equal(o *State) bool {
	if len(s.colls) != len(o.colls) {
		return false
	}
	for ns, c := range s.colls {
		d := o.colls[ns]
		if d == nil {
			return false
		}
		if c == d {
			continue
		}
		if c.nextSeq != d.nextSeq || !bytes.Equal(c.options, d.options) || (c.options == nil) != (d.options == nil) ||
			c.byID.Len() != d.byID.Len() || len(c.sec) != len(d.sec) {
			return false
		}
		if !slices.EqualFunc(c.indexes, d.indexes, func(a, b IndexSpec) bool {
			return a.Name == b.Name && bytes.Equal(a.Spec, b.Spec)
		}) {
			return false
		}
		for i := range c.sec {
			if c.sec[i].def.Name != d.sec[i].def.Name || c.sec[i].tree.Len() != d.sec[i].tree.Len() {
				return false
			}
		}
		same := true
		diffDocs(c, d, func(*Doc) { same = false }, func(*Doc) { same = false })
		if !same {
			return false
		}
	}
	return true
}
