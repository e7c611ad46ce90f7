package materialize

import (
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file implements dotted-path traversal with the server's array rules
// (mongo/db/matcher/path.cpp, BSONElementIterator). The rules are subtle and
// every query operator depends on them, so they live in one place:
//
//   - "a.b" on {a: [{b: 1}, {b: 2}]} yields 1 and 2: arrays are traversed
//     implicitly, one level at a time, but only object elements are descended
//     into; {a: [[{b: 1}]]} yields nothing for "a.b".
//   - A numeric component ("a.0") both names a field "0" inside object
//     elements and indexes the array itself.
//   - A path ending at an array yields each element, then (for most
//     operators) the array itself, so {a: [1, 2]} matches {a: 1} and
//     {a: [1, 2]}.
//   - A path that stops at a missing field or a scalar yields one "missing"
//     value (Type 0), which is how {a: null} matches documents without a;
//     a path through an array that yields nothing yields nothing at all.

// leafArrayMode says what happens when a path ends at an array.
type leafArrayMode int

const (
	// leafTraverse yields each element, then the array itself (the default
	// for comparisons, $in, $exists, $type, $regex, ...).
	leafTraverse leafArrayMode = iota
	// leafNoTraverse yields the array itself only ($elemMatch, $size).
	leafNoTraverse
	// leafTraverseOmitArray yields the elements only (sort keys).
	leafTraverseOmitArray
)

// noOffset marks a yielded value that was not reached through an implicit
// array traversal.
const noOffset = -1

// splitPath splits a dotted path into components. "" is one empty component,
// like the server's FieldRef.
func splitPath(path string) []string {
	return strings.Split(path, ".")
}

// isAllDigits reports whether s is a non-empty run of ASCII digits: such a
// component may index an array.
func isAllDigits(s string) bool {
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

// pathVisitor receives one value yielded by a path walk, with the index of
// the outermost array element it was reached through (noOffset if none).
// Returning false stops the walk.
type pathVisitor func(v bson.RawValue, offset int) bool

// walkPath yields the values found at parts in doc, in the server's order.
// It returns false if the visitor stopped the walk.
func walkPath(doc []byte, parts []string, mode leafArrayMode, visit pathVisitor) bool {
	v, idx := getFieldDottedOrArray(doc, parts)
	if v.Type != bsontype.Array {
		return visit(v, noOffset)
	}
	return walkArray(v, parts[idx+1:], mode, visit)
}

// getFieldDottedOrArray follows parts through embedded documents and stops at
// the first array, returning it and the index of the component that named it.
// A missing field, or a scalar met before the last component, yields a
// missing value.
func getFieldDottedOrArray(doc []byte, parts []string) (bson.RawValue, int) {
	cur := doc
	var res bson.RawValue
	for i, p := range parts {
		v, ok := lookupField(cur, p)
		if !ok {
			return bson.RawValue{}, i
		}
		res = v
		switch v.Type {
		case bsontype.EmbeddedDocument:
			d, ok := v.DocumentOK()
			if !ok {
				return bson.RawValue{}, i
			}
			cur = d
		case bsontype.Array:
			return v, i
		default:
			if i+1 < len(parts) {
				return bson.RawValue{}, i
			}
			return v, i
		}
	}
	return res, len(parts) - 1
}

// walkArray yields the values reached from the array arr by the remaining
// path rest.
func walkArray(arr bson.RawValue, rest []string, mode leafArrayMode, visit pathVisitor) bool {
	data, ok := arr.ArrayOK()
	if !ok {
		return true // malformed: yields nothing
	}
	c, ok := newElemCursor(data)
	if !ok {
		return true
	}
	if len(rest) == 0 {
		if mode == leafNoTraverse {
			return visit(arr, noOffset)
		}
		for i := 0; ; i++ {
			_, e, ok := c.next()
			if !ok {
				break
			}
			if !visit(e, i) {
				return false
			}
		}
		if mode == leafTraverse {
			return visit(arr, noOffset)
		}
		return true
	}

	next := rest[0]
	nextIsNum := isAllDigits(next)
	for idx := 0; ; idx++ {
		key, e, ok := c.next()
		if !ok {
			return true
		}
		offsetMatch := nextIsNum && string(key) == next
		switch {
		case e.Type == bsontype.EmbeddedDocument:
			sub, ok := e.DocumentOK()
			if !ok {
				continue
			}
			// Implicit traversal: everything found below is reported at this
			// element's position.
			i := idx
			if !walkPath(sub, rest, mode, func(v bson.RawValue, _ int) bool { return visit(v, i) }) {
				return false
			}
			if offsetMatch {
				// Also treat the component as a position into this array.
				if len(rest) == 1 {
					if !visit(e, noOffset) {
						return false
					}
				} else if !walkPath(sub, rest[1:], mode, visit) {
					return false
				}
			}
		case offsetMatch:
			if len(rest) == 1 {
				if !visit(e, noOffset) {
					return false
				}
			} else if e.Type == bsontype.Array {
				// A nested array reached by position is traversed with the
				// rest of the path, as if a field had named it.
				if !walkArray(e, rest[1:], mode, visit) {
					return false
				}
			}
		}
	}
}

// collectPath returns every value walkPath yields. It is a convenience for
// callers that need the whole set (sort keys, equality seeding).
func collectPath(doc []byte, parts []string, mode leafArrayMode) []bson.RawValue {
	var out []bson.RawValue
	walkPath(doc, parts, mode, func(v bson.RawValue, _ int) bool {
		out = append(out, v)
		return true
	})
	return out
}

// LookupPath returns the values MongoDB's query engine sees at the dotted
// path in doc, with implicit array traversal: "a.b" on {a: [{b: 1}, {b: 2}]}
// gives 1 and 2, and a path ending at an array gives its elements followed by
// the array itself. A missing path gives one value with Type 0 (missing),
// except that a path leading through an array that yields nothing gives no
// values. It is safe for concurrent use and never panics on malformed BSON.
func LookupPath(doc bson.Raw, path string) []bson.RawValue {
	return collectPath(doc, splitPath(path), leafTraverse)
}
