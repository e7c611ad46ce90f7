package materialize

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file holds the mutable document used by updates: a tree of dnode
// values that keeps field order and exact BSON types, converts from and to
// bson.Raw, and implements the server's dotted-path rules (pathsupport in
// mongod): intermediate documents are created as needed, a numeric component
// under an array pads it with nulls, and a path that would have to change the
// type of an existing value fails with PathNotViable.
//
// Sub-documents are expanded lazily: an untouched sub-document keeps pointing
// at the input bytes and is copied verbatim on output, so updating one field
// of a large document does not decode the rest of it.

// Error codes and names used by the document and update code. errors.go holds
// the shared ones; these are the ones only updates raise.
const (
	codePathNotViable              int32 = 28
	codeCannotBackfillArray        int32 = 34
	codeConflictingUpdateOperators int32 = 40
	codeDollarPrefixedFieldName    int32 = 52
	codeInvalidIdField             int32 = 53
	codeNotSingleValueField        int32 = 54
	codeEmptyFieldName             int32 = 56
	codeImmutableField             int32 = 66
	codeNotExactValueField         int32 = 111
	codeQueryFeatureNotAllowed     int32 = 224
)

var docErrorNames = map[int32]string{
	codePathNotViable:              "PathNotViable",
	codeCannotBackfillArray:        "CannotBackfillArray",
	codeConflictingUpdateOperators: "ConflictingUpdateOperators",
	codeDollarPrefixedFieldName:    "DollarPrefixedFieldName",
	codeInvalidIdField:             "InvalidIdField",
	codeNotSingleValueField:        "NotSingleValueField",
	codeEmptyFieldName:             "EmptyFieldName",
	codeImmutableField:             "ImmutableField",
	codeNotExactValueField:         "NotExactValueField",
	codeQueryFeatureNotAllowed:     "QueryFeatureNotAllowed",
	55:                             "InvalidDBRef",
}

// docErr builds a server-shaped error. The names of the codes above are the
// server's (error_codes.yml); other codes are named by codeName in errors.go.
func docErr(code int32, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	name, ok := docErrorNames[code]
	if !ok {
		name = codeName(code)
	}
	return &Error{Code: code, Name: name, Message: msg}
}

// Limits the server applies to documents built by updates.
const (
	// dnMaxPadding is pathsupport's kMaxPaddingAllowed: an update may add at
	// most this many nulls to reach an array index.
	dnMaxPadding = 1500000
	// dnMaxUserDocSize is BSONObjMaxUserSize; the server allows an extra
	// 16 KiB internally but a user document must fit in 16 MiB.
	dnMaxUserDocSize = 16 * 1024 * 1024
	// dnMaxDepth bounds recursion on untrusted input (the server's BSON depth
	// limit is 200; we accept a little more than any stored document can have).
	dnMaxDepth = 250
)

// dnode is one value of a mutable document. Scalars keep their encoded value
// bytes in data. Documents and arrays keep their encoded bytes in data until
// expanded; after expand, kids is authoritative and data is ignored.
//
// A dnode is not safe for concurrent use.
type dnode struct {
	t        bsontype.Type
	expanded bool
	data     []byte
	kids     []dnKid
}

// dnKid is a field of a document (name is the field name) or an element of an
// array (name is ignored: arrays are re-keyed 0, 1, ... on output).
type dnKid struct {
	name string
	n    *dnode
}

func (n *dnode) isContainer() bool {
	return n.t == bsontype.EmbeddedDocument || n.t == bsontype.Array
}

// dnFromValue wraps an already validated value. The bytes are shared, never
// written to.
func dnFromValue(t bsontype.Type, data []byte) *dnode {
	return &dnode{t: t, data: data}
}

// dnFromRaw wraps a validated bson.RawValue.
func dnFromRaw(v bson.RawValue) *dnode { return dnFromValue(v.Type, v.Value) }

// dnNull returns a new null value.
func dnNull() *dnode { return &dnode{t: bsontype.Null} }

// dnEmpty returns a new, expanded, empty document or array.
func dnEmpty(t bsontype.Type) *dnode { return &dnode{t: t, expanded: true} }

// expand decodes a container's elements into kids. The bytes were validated
// when the tree was built, so decoding cannot fail; it still checks bounds so
// that a bug can never turn into a panic.
func (n *dnode) expand() {
	if n.expanded || !n.isContainer() {
		return
	}
	n.expanded = true
	n.kids = nil
	b := n.data
	if len(b) < 5 {
		return
	}
	b = b[4 : len(b)-1]
	for len(b) > 0 {
		t := bsontype.Type(b[0])
		end := indexByte(b[1:], 0)
		if end < 0 {
			return
		}
		name := string(b[1 : 1+end])
		rest := b[2+end:]
		size, ok := dnValueSize(t, rest)
		if !ok {
			return
		}
		n.kids = append(n.kids, dnKid{name: name, n: dnFromValue(t, rest[:size])})
		b = rest[size:]
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// set replaces n's value with v's (n keeps its identity, so parents and paths
// that point at n stay valid).
func (n *dnode) set(v *dnode) { *n = *v }

// clone returns an independent copy of n. Unexpanded containers and scalars
// share their (immutable) bytes.
func (n *dnode) clone() *dnode {
	c := &dnode{t: n.t, expanded: n.expanded, data: n.data}
	if n.expanded {
		c.kids = make([]dnKid, len(n.kids))
		for i, k := range n.kids {
			c.kids[i] = dnKid{name: k.name, n: k.n.clone()}
		}
	}
	return c
}

// appendValue appends n's encoded value (without type byte or name).
func (n *dnode) appendValue(dst []byte) []byte {
	if !n.expanded {
		return append(dst, n.data...)
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	for i, k := range n.kids {
		dst = append(dst, byte(k.n.t))
		if n.t == bsontype.Array {
			dst = strconv.AppendInt(dst, int64(i), 10)
		} else {
			dst = append(dst, k.name...)
		}
		dst = append(dst, 0)
		dst = k.n.appendValue(dst)
	}
	dst = append(dst, 0)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst
}

// value returns n as a bson.RawValue (encoding it if it was modified).
func (n *dnode) value() bson.RawValue {
	if !n.expanded {
		return bson.RawValue{Type: n.t, Value: n.data}
	}
	return bson.RawValue{Type: n.t, Value: n.appendValue(nil)}
}

// child returns the child named field: a field of a document (the first one
// with that name, as mongod's findFirstChildNamed) or, for an array, the
// element at the index field spells (parseUnsignedBase10Integer rules).
func (n *dnode) child(field string) (*dnode, int) {
	switch n.t {
	case bsontype.EmbeddedDocument:
		n.expand()
		for i, k := range n.kids {
			if k.name == field {
				return k.n, i
			}
		}
	case bsontype.Array:
		idx, ok := dnArrayIndex(field)
		if !ok {
			return nil, -1
		}
		n.expand()
		if idx < len(n.kids) {
			return n.kids[idx].n, idx
		}
	}
	return nil, -1
}

// removeKid deletes the i-th child of an expanded container.
func (n *dnode) removeKid(i int) {
	n.kids = append(n.kids[:i:i], n.kids[i+1:]...)
}

// indexOf returns the position of c among n's kids, or -1.
func (n *dnode) indexOf(c *dnode) int {
	for i, k := range n.kids {
		if k.n == c {
			return i
		}
	}
	return -1
}

// dnArrayIndex parses an array index the way mongod's
// parseUnsignedBase10Integer does: decimal digits only (leading zeros are
// fine), no sign, and it must fit in 32 bits.
func dnArrayIndex(s string) (int, bool) {
	if s == "" || len(s) > 10 {
		if len(s) > 10 && dnAllDigits(s) {
			// Leading zeros can make a long string of a small number.
			t := strings.TrimLeft(s, "0")
			if t == "" {
				return 0, true
			}
			if len(t) <= 10 {
				return dnArrayIndex(t)
			}
		}
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if v > 0xFFFFFFFF {
		return 0, false
	}
	return int(v), true
}

func dnAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Validation

// dnValueSize returns the encoded size of a value of type t at the start of
// b, checking bounds. It does not descend into documents.
func dnValueSize(t bsontype.Type, b []byte) (int, bool) {
	need := func(n int) (int, bool) {
		if n < 0 || n > len(b) {
			return 0, false
		}
		return n, true
	}
	i32 := func() (int, bool) {
		if len(b) < 4 {
			return 0, false
		}
		return int(int32(binary.LittleEndian.Uint32(b))), true
	}
	switch t {
	case bsontype.Double, bsontype.DateTime, bsontype.Timestamp, bsontype.Int64:
		return need(8)
	case bsontype.Int32:
		return need(4)
	case bsontype.Decimal128:
		return need(16)
	case bsontype.ObjectID:
		return need(12)
	case bsontype.Boolean:
		if len(b) < 1 || b[0] > 1 {
			return 0, false
		}
		return 1, true
	case bsontype.Null, bsontype.Undefined, bsontype.MinKey, bsontype.MaxKey:
		return 0, true
	case bsontype.String, bsontype.JavaScript, bsontype.Symbol:
		l, ok := i32()
		if !ok || l < 1 || 4+l > len(b) || b[4+l-1] != 0 {
			return 0, false
		}
		return 4 + l, true
	case bsontype.EmbeddedDocument, bsontype.Array:
		l, ok := i32()
		if !ok || l < 5 || l > len(b) || b[l-1] != 0 {
			return 0, false
		}
		return l, true
	case bsontype.Binary:
		l, ok := i32()
		if !ok || l < 0 || 5+l > len(b) {
			return 0, false
		}
		if b[4] == 2 { // old binary: an inner length that must agree
			if l < 4 || int(int32(binary.LittleEndian.Uint32(b[5:]))) != l-4 {
				return 0, false
			}
		}
		return 5 + l, true
	case bsontype.Regex:
		p := indexByte(b, 0)
		if p < 0 {
			return 0, false
		}
		q := indexByte(b[p+1:], 0)
		if q < 0 {
			return 0, false
		}
		return p + 1 + q + 1, true
	case bsontype.DBPointer:
		l, ok := i32()
		if !ok || l < 1 || 4+l+12 > len(b) || b[4+l-1] != 0 {
			return 0, false
		}
		return 4 + l + 12, true
	case bsontype.CodeWithScope:
		l, ok := i32()
		if !ok || l < 14 || l > len(b) {
			return 0, false
		}
		return l, true
	}
	return 0, false
}

// dnValidateValue checks one value completely (recursing into documents).
func dnValidateValue(t bsontype.Type, b []byte, depth int) error {
	size, ok := dnValueSize(t, b)
	if !ok || size != len(b) {
		return dnInvalidBSON()
	}
	switch t {
	case bsontype.EmbeddedDocument, bsontype.Array:
		return dnValidateDoc(b, depth+1)
	case bsontype.CodeWithScope:
		rest := b[4:]
		l := int(int32(binary.LittleEndian.Uint32(rest)))
		if l < 1 || 4+l > len(rest) || rest[4+l-1] != 0 {
			return dnInvalidBSON()
		}
		return dnValidateDoc(rest[4+l:], depth+1)
	}
	return nil
}

// dnValidateDoc checks that b is exactly one well-formed BSON document.
func dnValidateDoc(b []byte, depth int) error {
	if depth > dnMaxDepth {
		return dnInvalidBSON()
	}
	if len(b) < 5 {
		return dnInvalidBSON()
	}
	l := int(int32(binary.LittleEndian.Uint32(b)))
	if l != len(b) || b[l-1] != 0 {
		return dnInvalidBSON()
	}
	rest := b[4 : l-1]
	for len(rest) > 0 {
		t := bsontype.Type(rest[0])
		end := indexByte(rest[1:], 0)
		if end < 0 {
			return dnInvalidBSON()
		}
		v := rest[2+end:]
		size, ok := dnValueSize(t, v)
		if !ok {
			return dnInvalidBSON()
		}
		if err := dnValidateValue(t, v[:size], depth); err != nil {
			return err
		}
		rest = v[size:]
	}
	return nil
}

func dnInvalidBSON() *Error { return errBadValue("invalid BSON document") }

// dnParseDoc validates doc and wraps it as the root of a mutable tree.
func dnParseDoc(doc []byte) (*dnode, error) {
	if err := dnValidateDoc(doc, 0); err != nil {
		return nil, err
	}
	return dnFromValue(bsontype.EmbeddedDocument, doc), nil
}

// dnCheckValue validates a single value supplied by a caller.
func dnCheckValue(v bson.RawValue) error {
	if v.Type == 0 {
		return errBadValue("cannot store a missing (EOO) value")
	}
	return dnValidateValue(v.Type, v.Value, 0)
}

// ---------------------------------------------------------------------------
// Paths

// dnSplitPath splits a dotted path; it returns an EmptyFieldName error for an
// empty path or an empty component, with the update system's messages.
func dnSplitPath(path string) ([]string, error) {
	if path == "" {
		return nil, docErr(codeEmptyFieldName, "An empty update path is not valid.")
	}
	parts := strings.Split(path, ".")
	for _, p := range parts {
		if p == "" {
			return nil, docErr(codeEmptyFieldName,
				"The update path '%s' contains an empty field name, which is not allowed.", path)
		}
	}
	return parts, nil
}

// dnCreatePath creates the components parts under base (the deepest element
// that exists, whose own name is baseName) and attaches leaf at the end. It is
// mongod's pathsupport::createPathAt: base must be a document or an array, a
// component under an array must be numeric, and an array is padded with nulls
// up to the index. It returns the first created node.
func dnCreatePath(base *dnode, baseName string, parts []string, leaf *dnode) (*dnode, error) {
	if !base.isContainer() {
		return nil, docErr(codePathNotViable, "Cannot create field '%s' in element {%s}",
			parts[0], dnFormatElem(baseName, base))
	}
	base.expand()
	i := 0
	if base.t == bsontype.Array {
		idx, ok := dnPadIndex(parts[0])
		if !ok {
			return nil, docErr(codePathNotViable, "Cannot create field '%s' in element {%s}",
				parts[0], dnFormatElem(baseName, base))
		}
		if idx > len(base.kids) {
			if idx-len(base.kids) > dnMaxPadding {
				return nil, docErr(codeCannotBackfillArray, "can't backfill more than %d elements", dnMaxPadding)
			}
			pad := make([]dnode, idx-len(base.kids))
			for j := range pad {
				pad[j].t = bsontype.Null
				base.kids = append(base.kids, dnKid{n: &pad[j]})
			}
		}
		i = 1
		if len(parts) == 1 {
			base.kids = append(base.kids, dnKid{name: parts[0], n: leaf})
			return leaf, nil
		}
		// The array element is a new document holding the rest of the path.
		first := dnEmpty(bsontype.EmbeddedDocument)
		base.kids = append(base.kids, dnKid{name: parts[0], n: first})
		cur := first
		for ; i < len(parts)-1; i++ {
			next := dnEmpty(bsontype.EmbeddedDocument)
			cur.kids = append(cur.kids, dnKid{name: parts[i], n: next})
			cur = next
		}
		cur.kids = append(cur.kids, dnKid{name: parts[len(parts)-1], n: leaf})
		return first, nil
	}
	var first *dnode
	cur := base
	for ; i < len(parts)-1; i++ {
		next := dnEmpty(bsontype.EmbeddedDocument)
		cur.kids = append(cur.kids, dnKid{name: parts[i], n: next})
		if first == nil {
			first = next
		}
		cur = next
	}
	cur.kids = append(cur.kids, dnKid{name: parts[len(parts)-1], n: leaf})
	if first == nil {
		first = leaf
	}
	return first, nil
}

// dnPadIndex is pathsupport's isNumeric: digits only. Values too large to
// count are reported as huge so the padding limit rejects them.
func dnPadIndex(s string) (int, bool) {
	if !dnAllDigits(s) {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
		if v > 1<<40 {
			return 1 << 40, true
		}
	}
	return v, true
}

// dnWalk follows parts from root as far as they exist. It returns the chain
// of existing nodes (chain[0] is root) and how many parts were consumed.
func dnWalk(root *dnode, parts []string) ([]*dnode, int) {
	chain := []*dnode{root}
	cur := root
	for i, p := range parts {
		next, _ := cur.child(p)
		if next == nil {
			return chain, i
		}
		chain = append(chain, next)
		cur = next
	}
	return chain, len(parts)
}

// ---------------------------------------------------------------------------
// MutableDocument

// MutableDocument is an ordered BSON document that can be changed by dotted
// path, with the server's path rules. It keeps field order and exact BSON
// types; untouched sub-documents are copied verbatim.
//
// A MutableDocument is not safe for concurrent use. It never modifies the
// bytes it was created from.
type MutableDocument struct {
	root *dnode
}

// NewMutableDocument validates doc and wraps it. The bytes are shared, not
// copied, and are never written to.
func NewMutableDocument(doc bson.Raw) (*MutableDocument, error) {
	root, err := dnParseDoc(doc)
	if err != nil {
		return nil, err
	}
	return &MutableDocument{root: root}, nil
}

// Raw encodes the document.
func (d *MutableDocument) Raw() bson.Raw {
	if !d.root.expanded {
		return bson.Raw(d.root.data)
	}
	return bson.Raw(d.root.appendValue(nil))
}

// Lookup returns the value at a dotted path. Array elements are addressed by
// index ("a.0.b"); there is no implicit traversal of arrays.
func (d *MutableDocument) Lookup(path string) (bson.RawValue, bool) {
	parts := strings.Split(path, ".")
	chain, n := dnWalk(d.root, parts)
	if n != len(parts) {
		return bson.RawValue{}, false
	}
	return chain[len(chain)-1].value(), true
}

// Set stores v at a dotted path with $set's rules: an existing value is
// replaced in place, a missing field is appended (creating intermediate
// documents), an index past the end of an array pads it with nulls, and a
// path through a scalar or through an array by name fails with code 28
// PathNotViable ("Cannot create field 'b' in element {a: 1}").
func (d *MutableDocument) Set(path string, v bson.RawValue) error {
	parts, err := dnSplitPath(path)
	if err != nil {
		return err
	}
	if err := dnCheckValue(v); err != nil {
		return err
	}
	chain, n := dnWalk(d.root, parts)
	leaf := dnFromRaw(v)
	if n == len(parts) {
		chain[len(chain)-1].set(leaf)
		return nil
	}
	baseName := ""
	if n > 0 {
		baseName = parts[n-1]
	}
	_, err = dnCreatePath(chain[len(chain)-1], baseName, parts[n:], leaf)
	return err
}

// Unset removes the value at a dotted path with $unset's rules: a field is
// removed, an array element is set to null (arrays keep their length), and a
// path that does not exist is not an error. It reports whether the document
// changed.
func (d *MutableDocument) Unset(path string) (bool, error) {
	parts, err := dnSplitPath(path)
	if err != nil {
		return false, err
	}
	chain, n := dnWalk(d.root, parts)
	if n != len(parts) {
		return false, nil
	}
	parent, target := chain[len(chain)-2], chain[len(chain)-1]
	if parent.t == bsontype.Array {
		if target.t == bsontype.Null {
			return false, nil
		}
		target.set(dnNull())
		return true, nil
	}
	parent.removeKid(parent.indexOf(target))
	return true, nil
}
