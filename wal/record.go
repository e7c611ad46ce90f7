package wal

import (
	"bytes"
	"fmt"
	"time"

	"github.com/argon-lab/argon/internal/bsonutil"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// LSN is a log sequence number: the position of a record in its project's
// log. LSNs start at 1 and are dense: LSN n exists only if n-1 does.
type LSN uint64

// OpKind says what an operation does. The numeric values are part of the
// format.
type OpKind int32

// Operation kinds. Part of the format: never renumber.
const (
	OpInsert  OpKind = 1 // Doc: the inserted document
	OpUpdate  OpKind = 2 // Before and Doc: the document before and after
	OpReplace OpKind = 3 // Before and Doc, as for OpUpdate
	OpDelete  OpKind = 4 // Before: the deleted document

	OpCreateCollection OpKind = 10 // Doc: collection options (may be empty)
	OpDropCollection   OpKind = 11
	OpRenameCollection OpKind = 12 // Doc: {to: "db.coll", dropTarget: bool}
	OpCreateIndex      OpKind = 13 // Name: index name; Doc: index spec
	OpDropIndex        OpKind = 14 // Name: index name
	OpDropDatabase     OpKind = 15 // DB only
	OpModifyCollection OpKind = 16 // Doc: the collection's new options (collMod)

	OpCreateProject OpKind = 20 // Doc: project description
	OpDeleteProject OpKind = 21
	OpCreateBranch  OpKind = 22 // Name: branch name; Doc: branch description
	OpDeleteBranch  OpKind = 23 // Name: branch name
	OpUpdateBranch  OpKind = 24 // Name: branch name; Doc: new description (reset, rename)
	// OpCollectGarbage is written by garbage collection before it replaces
	// records with tombstones. Doc: what it removes (see the argon package).
	OpCollectGarbage OpKind = 25
)

// Limits. Part of the format.
const (
	// MaxDocumentSize is the largest document an operation may carry, the
	// same limit as MongoDB's.
	MaxDocumentSize = 16 * 1024 * 1024
	// MaxRecordSize is the largest encoded record. A record larger than one
	// MongoDB document is split by the MongoDB store; this bounds memory.
	MaxRecordSize = 256 * 1024 * 1024
	// recordVersion is written into every record.
	recordVersion = 1
)

// Field names of an encoded record and its operations. Part of the format.
const (
	fVersion = "v"
	fLSN     = "l"
	fTime    = "t"
	fBranch  = "b"
	fOps     = "o"
	// fTombstone (bool true) marks a record whose operations garbage
	// collection removed; its ops array is empty. Absent on every other
	// record, so logs written before tombstones existed read unchanged.
	fTombstone = "g"

	fKind   = "k"
	fDB     = "d"
	fColl   = "c"
	fName   = "n"
	fID     = "i"
	fDoc    = "a"
	fBefore = "f"
)

func (k OpKind) String() string {
	switch k {
	case OpInsert:
		return "insert"
	case OpUpdate:
		return "update"
	case OpReplace:
		return "replace"
	case OpDelete:
		return "delete"
	case OpCreateCollection:
		return "createCollection"
	case OpDropCollection:
		return "dropCollection"
	case OpRenameCollection:
		return "renameCollection"
	case OpCreateIndex:
		return "createIndex"
	case OpDropIndex:
		return "dropIndex"
	case OpDropDatabase:
		return "dropDatabase"
	case OpModifyCollection:
		return "modifyCollection"
	case OpCreateProject:
		return "createProject"
	case OpDeleteProject:
		return "deleteProject"
	case OpCreateBranch:
		return "createBranch"
	case OpDeleteBranch:
		return "deleteBranch"
	case OpUpdateBranch:
		return "updateBranch"
	case OpCollectGarbage:
		return "collectGarbage"
	}
	return fmt.Sprintf("OpKind(%d)", int32(k))
}

// Op is one physical operation. Document operations carry full images, never
// the user's filter or update expression, so replay is a pure fold.
type Op struct {
	Kind OpKind
	DB   string
	Coll string
	// Name is the index name for index operations and the branch name for
	// branch operations.
	Name string
	// ID is the document's _id for document operations.
	ID bson.RawValue
	// Doc is the document after the change (insert, update, replace), or the
	// operation's description for catalog operations.
	Doc bson.Raw
	// Before is the document before the change (update, replace, delete).
	Before bson.Raw
}

// Record is one atomic commit: its operations become visible together at
// its LSN.
type Record struct {
	LSN LSN
	// Time is the commit time in UTC, with millisecond precision. It never
	// decreases as LSNs go up.
	Time time.Time
	// Branch is the id of the branch the operations apply to; empty for
	// project-level records.
	Branch string
	Ops    []Op
	// Tombstone marks a record garbage collection has emptied: it keeps its
	// LSN, time and branch (so the log stays dense and its times ordered)
	// but has no operations. Only a Tombstoner writes tombstones; Append
	// refuses them.
	Tombstone bool

	// validated is set by the Log once it has checked the record, so the
	// store does not walk every image a second time on the append path.
	// Records from anywhere else are always checked.
	validated bool
}

func (k OpKind) isDocument() bool { return k >= OpInsert && k <= OpDelete }

func (k OpKind) known() bool {
	return (k >= OpInsert && k <= OpDelete) || (k >= OpCreateCollection && k <= OpModifyCollection) ||
		(k >= OpCreateProject && k <= OpCollectGarbage)
}

// Validate checks names, images and sizes, so that nothing malformed is
// ever written. It does not look at the LSN or time.
func (r *Record) Validate() error {
	if r.Branch != "" {
		if err := ValidateBranchName(r.Branch); err != nil {
			return err
		}
	}
	if r.Tombstone {
		return fmt.Errorf("%w: tombstones are written by garbage collection only", ErrInvalidRecord)
	}
	if len(r.Ops) == 0 {
		return fmt.Errorf("%w: a record needs at least one operation", ErrInvalidRecord)
	}
	for i := range r.Ops {
		if err := r.Ops[i].validate(); err != nil {
			return fmt.Errorf("operation %d: %w", i, err)
		}
	}
	return nil
}

func (o *Op) validate() error {
	if !o.Kind.known() {
		return fmt.Errorf("%w: unknown operation kind %d", ErrInvalidRecord, int32(o.Kind))
	}
	if err := checkDoc("document", o.Doc); err != nil {
		return err
	}
	if err := checkDoc("before-image", o.Before); err != nil {
		return err
	}
	switch {
	case o.Kind.isDocument():
		if err := ValidateNamespace(o.DB, o.Coll); err != nil {
			return err
		}
		if o.ID.Type == 0 {
			return fmt.Errorf("%w: %s needs the document's _id", ErrInvalidRecord, o.Kind)
		}
		if err := validateValue(o.ID); err != nil {
			return fmt.Errorf("%w: _id: %v", ErrInvalidRecord, err)
		}
		if o.Kind != OpDelete {
			if err := checkImageID("document", o.Doc, o.ID); err != nil {
				return err
			}
		}
		if o.Kind != OpInsert {
			if err := checkImageID("before-image", o.Before, o.ID); err != nil {
				return err
			}
		}
	case o.Kind == OpDropDatabase:
		return ValidateDatabaseName(o.DB)
	case o.Kind >= OpCreateCollection && o.Kind <= OpDropIndex, o.Kind == OpModifyCollection:
		if err := ValidateNamespace(o.DB, o.Coll); err != nil {
			return err
		}
		if (o.Kind == OpCreateIndex || o.Kind == OpDropIndex) && o.Name == "" {
			return fmt.Errorf("%w: %s needs an index name", ErrInvalidRecord, o.Kind)
		}
	case o.Kind == OpCollectGarbage:
		return nil
	case o.Kind >= OpCreateBranch:
		return ValidateBranchName(o.Name)
	}
	return nil
}

func checkDoc(what string, d bson.Raw) error {
	if d == nil {
		return nil
	}
	if len(d) > MaxDocumentSize {
		return fmt.Errorf("%w: %s is %d bytes, the limit is %d", ErrDocumentTooLarge, what, len(d), MaxDocumentSize)
	}
	if err := bsonutil.Validate(d); err != nil {
		return fmt.Errorf("%w: %s is not valid BSON: %v", ErrInvalidRecord, what, err)
	}
	return nil
}

func checkImageID(what string, d bson.Raw, id bson.RawValue) error {
	if d == nil {
		return fmt.Errorf("%w: missing %s", ErrInvalidRecord, what)
	}
	got, err := d.LookupErr("_id")
	if err != nil {
		return fmt.Errorf("%w: %s has no _id", ErrInvalidRecord, what)
	}
	if got.Type != id.Type || !bytes.Equal(got.Value, id.Value) {
		return fmt.Errorf("%w: %s _id differs from the operation's _id", ErrInvalidRecord, what)
	}
	return nil
}

// validateValue checks a single BSON value by wrapping it in a document.
func validateValue(v bson.RawValue) error {
	idx, doc := bsoncore.AppendDocumentStart(nil)
	doc = bsoncore.AppendValueElement(doc, "v", bsoncore.Value{Type: v.Type, Data: v.Value})
	doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
	return bsonutil.Validate(doc)
}

// AppendEncoded appends the record's BSON encoding to dst. extra, if not
// nil, adds store-specific fields at the front of the document.
func (r *Record) appendEncoded(dst []byte, extra func([]byte) []byte) []byte {
	idx, dst := bsoncore.AppendDocumentStart(dst)
	if extra != nil {
		dst = extra(dst)
	}
	dst = bsoncore.AppendInt32Element(dst, fVersion, recordVersion)
	dst = bsoncore.AppendInt64Element(dst, fLSN, int64(r.LSN))
	dst = bsoncore.AppendDateTimeElement(dst, fTime, r.Time.UnixMilli())
	if r.Branch != "" {
		dst = bsoncore.AppendStringElement(dst, fBranch, r.Branch)
	}
	if r.Tombstone {
		dst = bsoncore.AppendBooleanElement(dst, fTombstone, true)
	}
	dst = appendOps(dst, r.Ops)
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

func appendOps(dst []byte, ops []Op) []byte {
	aidx, dst := bsoncore.AppendArrayElementStart(dst, fOps)
	var key []byte
	for i := range ops {
		o := &ops[i]
		key = fmt.Appendf(key[:0], "%d", i)
		oidx, d := bsoncore.AppendDocumentElementStart(dst, string(key))
		d = bsoncore.AppendInt32Element(d, fKind, int32(o.Kind))
		if o.DB != "" {
			d = bsoncore.AppendStringElement(d, fDB, o.DB)
		}
		if o.Coll != "" {
			d = bsoncore.AppendStringElement(d, fColl, o.Coll)
		}
		if o.Name != "" {
			d = bsoncore.AppendStringElement(d, fName, o.Name)
		}
		if o.ID.Type != 0 {
			d = bsoncore.AppendValueElement(d, fID, bsoncore.Value{Type: o.ID.Type, Data: o.ID.Value})
		}
		if o.Doc != nil {
			d = bsoncore.AppendDocumentElement(d, fDoc, o.Doc)
		}
		if o.Before != nil {
			d = bsoncore.AppendDocumentElement(d, fBefore, o.Before)
		}
		dst, _ = bsoncore.AppendDocumentEnd(d, oidx)
	}
	dst, _ = bsoncore.AppendArrayEnd(dst, aidx)
	return dst
}

// Encode returns the record's BSON encoding, the payload both stores keep.
func (r *Record) Encode() []byte { return r.appendEncoded(nil, nil) }

// DecodeRecord parses an encoded record. Errors wrap ErrCorrupt. Unknown
// fields are ignored so that stores may add their own.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	doc := bsoncore.Document(b)
	if err := bsonutil.Validate(b); err != nil {
		return r, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	elems, err := doc.Elements()
	if err != nil {
		return r, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	var sawLSN, sawOps bool
	for _, e := range elems {
		v := e.Value()
		switch e.Key() {
		case fVersion:
			n, ok := v.Int32OK()
			if !ok || n != recordVersion {
				return r, fmt.Errorf("%w: unsupported record version %v", ErrCorrupt, v)
			}
		case fLSN:
			n, ok := v.Int64OK()
			if !ok || n <= 0 {
				return r, fmt.Errorf("%w: bad lsn %v", ErrCorrupt, v)
			}
			r.LSN, sawLSN = LSN(n), true
		case fTime:
			ms, ok := v.DateTimeOK()
			if !ok {
				return r, fmt.Errorf("%w: bad time %v", ErrCorrupt, v)
			}
			r.Time = time.UnixMilli(ms).UTC()
		case fBranch:
			s, ok := v.StringValueOK()
			if !ok {
				return r, fmt.Errorf("%w: bad branch %v", ErrCorrupt, v)
			}
			r.Branch = s
		case fTombstone:
			b, ok := v.BooleanOK()
			if !ok || !b {
				return r, fmt.Errorf("%w: bad tombstone flag %v", ErrCorrupt, v)
			}
			r.Tombstone = true
		case fOps:
			arr, ok := v.ArrayOK()
			if !ok {
				return r, fmt.Errorf("%w: ops is %s, not an array", ErrCorrupt, v.Type)
			}
			if r.Ops, err = decodeOps(arr); err != nil {
				return r, err
			}
			sawOps = true
		}
	}
	if !sawLSN || !sawOps {
		return r, fmt.Errorf("%w: record lacks lsn or ops", ErrCorrupt)
	}
	if r.Tombstone && len(r.Ops) > 0 {
		return r, fmt.Errorf("%w: lsn %d is a tombstone with operations", ErrCorrupt, r.LSN)
	}
	return r, nil
}

func decodeOps(arr bsoncore.Array) ([]Op, error) {
	vals, err := arr.Values()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	ops := make([]Op, 0, len(vals))
	for _, v := range vals {
		od, ok := v.DocumentOK()
		if !ok {
			return nil, fmt.Errorf("%w: op is %s, not a document", ErrCorrupt, v.Type)
		}
		elems, err := od.Elements()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		var o Op
		for _, e := range elems {
			ev := e.Value()
			var ok bool
			switch e.Key() {
			case fKind:
				var k int32
				k, ok = ev.Int32OK()
				o.Kind = OpKind(k)
			case fDB:
				o.DB, ok = ev.StringValueOK()
			case fColl:
				o.Coll, ok = ev.StringValueOK()
			case fName:
				o.Name, ok = ev.StringValueOK()
			case fID:
				o.ID, ok = bson.RawValue{Type: bsontype.Type(ev.Type), Value: ev.Data}, true
			case fDoc:
				var d bsoncore.Document
				d, ok = ev.DocumentOK()
				o.Doc = bson.Raw(d)
			case fBefore:
				var d bsoncore.Document
				d, ok = ev.DocumentOK()
				o.Before = bson.Raw(d)
			default:
				ok = true
			}
			if !ok {
				return nil, fmt.Errorf("%w: op field %q has type %s", ErrCorrupt, e.Key(), ev.Type)
			}
		}
		if !o.Kind.known() {
			return nil, fmt.Errorf("%w: unknown operation kind %d", ErrCorrupt, int32(o.Kind))
		}
		ops = append(ops, o)
	}
	return ops, nil
}

// size is the encoded size of r, computed without encoding.
func (r *Record) size() int {
	n := 4 + 1 + 7 + 4 + 1 + 3 + 8 + 1 + 3 + 8 + 1 + 3 + 4 + 1 + len(r.Branch) + 1 + 1 + 4
	for i := range r.Ops {
		o := &r.Ops[i]
		n += 1 + 8 + 4 + 1 + 3 + 4 + 1
		n += 8 + len(o.DB) + 8 + len(o.Coll) + 8 + len(o.Name)
		n += 3 + len(o.ID.Value) + 3 + len(o.Doc) + 3 + len(o.Before)
	}
	return n
}
