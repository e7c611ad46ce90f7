package materialize

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file makes the equality form of $lookup a hash join: the foreign
// documents are bucketed once per run by the values at foreignField, so
// each local document costs the size of its matches instead of a scan of
// the foreign collection.
//
// The buckets only narrow the candidates: every candidate is still checked
// with the same {foreignField: {$in: [local values]}} filter as a scan, so
// the result is exactly the scan's. Values whose equality is not plain
// byte equality of a normalized key (null, documents, nested arrays,
// decimals, huge numbers, regexes, ...) are not hashed: a local value of
// that kind falls back to the scan, and a foreign document that holds one
// is a candidate for every local value.

// lookupHashKey returns the bucket key of a value, and false when the
// value is not hashable. Values that compare equal get the same key: the
// numbers 1, 1.0 and NumberLong(1) share one.
func lookupHashKey(v bson.RawValue) (string, bool) {
	var b [9]byte
	switch v.Type {
	case bsontype.String:
		s, ok := v.StringValueOK()
		return "s" + s, ok
	case bsontype.ObjectID:
		return "o" + string(v.Value), len(v.Value) == 12
	case bsontype.Boolean:
		return "b" + string(v.Value), len(v.Value) == 1
	case bsontype.DateTime:
		return "d" + string(v.Value), len(v.Value) == 8
	case bsontype.Int32:
		i, ok := v.Int32OK()
		return intHashKey(b[:], int64(i)), ok
	case bsontype.Int64:
		i, ok := v.Int64OK()
		if !ok || i > 1<<53 || i < -(1<<53) {
			return "", false
		}
		return intHashKey(b[:], i), true
	case bsontype.Double:
		f, ok := v.DoubleOK()
		if !ok || math.IsNaN(f) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return "", false
		}
		return intHashKey(b[:], int64(f)), true
	}
	return "", false
}

func intHashKey(b []byte, i int64) string {
	b[0] = 'n'
	binary.LittleEndian.PutUint64(b[1:], uint64(i))
	return string(b)
}

// lookupHash is the foreign side of one $lookup run.
type lookupHash struct {
	buckets map[string][]int // key → positions in foreign, ascending
	always  []int            // documents with values that are not hashed
}

// newLookupHash buckets foreign by the values at path (a dotted field
// path; arrays along it are traversed as a filter does). It returns nil
// when path has a numeric component (an array position), which the
// buckets do not model.
func newLookupHash(foreign []bson.Raw, path string) *lookupHash {
	parts := strings.Split(path, ".")
	for _, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			return nil
		}
	}
	h := &lookupHash{buckets: map[string][]int{}}
	for i, d := range foreign {
		unhashed := false
		var keys []string
		lookupPathValues(d, parts, func(v bson.RawValue, inArray bool) {
			if v.Type == bsontype.Array && !inArray {
				// A whole array is compared too, and its elements.
				arr, _ := v.ArrayOK()
				iterElements(arr, func(_ string, e bson.RawValue) bool {
					if k, ok := lookupHashKey(e); ok {
						keys = append(keys, k)
					} else {
						unhashed = true
					}
					return true
				})
				if len(arr) <= 5 { // an empty array equals []
					unhashed = true
				}
				return
			}
			if k, ok := lookupHashKey(v); ok {
				keys = append(keys, k)
			} else {
				unhashed = true
			}
		})
		if unhashed {
			h.always = append(h.always, i)
			continue
		}
		for _, k := range keys {
			b := h.buckets[k]
			if len(b) == 0 || b[len(b)-1] != i {
				h.buckets[k] = append(b, i)
			}
		}
	}
	return h
}

// lookupPathValues calls fn with each value reachable at parts from doc,
// descending into the documents inside arrays along the way. inArray
// says the value is an element of an array met on the path.
func lookupPathValues(doc []byte, parts []string, fn func(v bson.RawValue, inArray bool)) {
	v, ok := lookupField(doc, parts[0])
	if !ok {
		return
	}
	if len(parts) == 1 {
		fn(v, false)
		return
	}
	switch v.Type {
	case bsontype.EmbeddedDocument:
		d, _ := v.DocumentOK()
		lookupPathValues(d, parts[1:], fn)
	case bsontype.Array:
		arr, _ := v.ArrayOK()
		iterElements(arr, func(_ string, e bson.RawValue) bool {
			if e.Type == bsontype.EmbeddedDocument {
				d, _ := e.DocumentOK()
				lookupPathValues(d, parts[1:], fn)
			}
			return true
		})
	}
}

// candidates returns the positions of the foreign documents that may
// equal one of vals, ascending, and false when a value is not hashable
// (the caller then scans).
func (h *lookupHash) candidates(vals []bson.RawValue) ([]int, bool) {
	if h == nil {
		return nil, false
	}
	var out []int
	for _, v := range vals {
		k, ok := lookupHashKey(v)
		if !ok {
			return nil, false
		}
		out = append(out, h.buckets[k]...)
	}
	out = append(out, h.always...)
	slices.Sort(out)
	return slices.Compact(out), true
}
