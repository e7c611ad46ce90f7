package materialize

import (
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Sort is a compiled sort specification such as {age: -1, name: 1}. It is
// immutable and safe for concurrent use.
//
// Semantics follow the server's SortKeyGenerator: a missing field sorts as
// null; when the path reaches arrays, the document's key is the smallest
// element for an ascending sort and the largest for a descending one (so a
// reversed sort is not simply the reverse order); an empty array sorts as
// undefined, below null. Ties compare equal: sort stably to keep insertion
// order, as mongod's natural order does.
type Sort struct {
	keys []sortKey
}

type sortKey struct {
	path  string
	parts []string
	desc  bool
	coll  *Collation // nil: simple
}

// CompileSort parses a sort specification. Directions must be 1 or -1 (any
// numeric type); {$meta: ...} sorts are rejected as unsupported. An empty
// specification compares every pair of documents as equal.
func CompileSort(spec bson.Raw) (*Sort, error) {
	s := &Sort{}
	if len(spec) == 0 {
		return s, nil
	}
	if err := validateDocument(spec); err != nil {
		return nil, newError(codeInvalidBSON, "invalid sort document: %v", err)
	}
	var perr error
	iterElements(spec, func(key string, v bson.RawValue) bool {
		if v.Type == bsontype.EmbeddedDocument {
			d, _ := v.DocumentOK()
			first, _ := firstElement(d)
			if first.key != "$meta" {
				perr = errLocation(17312, "$meta is the only expression supported by $sort right now")
				return false
			}
			perr = errNotSupportedWhy("sort by {$meta: "+valueString(first.val)+"}", "text and search scores need the search engine")
			return false
		}
		if !isNumeric(v.Type) {
			perr = errLocation(15974, "Illegal key in $sort specification: %s", elemString(key, v))
			return false
		}
		// The server reads the direction with numberInt(), truncating.
		dir := integerOf(v)
		if dir != 1 && dir != -1 {
			perr = errLocation(15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)")
			return false
		}
		if err := validateSortPath(key); err != nil {
			perr = err
			return false
		}
		s.keys = append(s.keys, sortKey{path: key, parts: splitPath(key), desc: dir == -1})
		return true
	})
	if perr != nil {
		return nil, perr
	}
	return s, nil
}

// validateSortPath applies the server's FieldPath rules to a sort key.
func validateSortPath(path string) error {
	if path == "" {
		return errLocation(40352, "FieldPath cannot be constructed with empty string")
	}
	if path[len(path)-1] == '.' {
		return errLocation(40353, "FieldPath must not end with a '.'.")
	}
	for _, p := range splitPath(path) {
		if err := validateFieldName(p); err != nil {
			return err
		}
	}
	return nil
}

// Len returns the number of sort keys.
func (s *Sort) Len() int {
	if s == nil {
		return 0
	}
	return len(s.keys)
}

// Compare returns -1, 0 or 1 as document a sorts before, with, or after b.
func (s *Sort) Compare(a, b bson.Raw) int {
	if s == nil {
		return 0
	}
	for _, k := range s.keys {
		if c := k.compare(k.key(a), k.key(b)); c != 0 {
			return c
		}
	}
	return 0
}

// Keys extracts the sort key of doc once, so a caller sorting many
// documents can use CompareKeys instead of recomputing keys per comparison.
// Under a collation the values hold collation keys in place of strings
// (see (*Collation).KeyValue), computed once per document.
func (s *Sort) Keys(doc bson.Raw) []bson.RawValue {
	if s == nil {
		return nil
	}
	out := make([]bson.RawValue, len(s.keys))
	for i, k := range s.keys {
		out[i] = k.coll.KeyValue(k.key(doc))
	}
	return out
}

// CompareKeys compares two results of Keys.
func (s *Sort) CompareKeys(a, b []bson.RawValue) int {
	if s == nil {
		return 0
	}
	for i, k := range s.keys {
		if i >= len(a) || i >= len(b) {
			break
		}
		// Keys already hold collation keys: compare them bytewise.
		c := CompareValues(a[i], b[i])
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func (k *sortKey) compare(a, b bson.RawValue) int {
	c := k.coll.CompareValues(a, b)
	if k.desc {
		return -c
	}
	return c
}

// key is the value a document sorts by for this key: the minimum (or, for
// a descending sort, the maximum) of the values found at the path.
func (k *sortKey) key(doc []byte) bson.RawValue {
	var best bson.RawValue
	first := true
	collectSortValues(doc, k.parts, func(v bson.RawValue) {
		if first {
			best, first = v, false
			return
		}
		c := k.coll.CompareValues(v, best)
		if (!k.desc && c < 0) || (k.desc && c > 0) {
			best = v
		}
	})
	if first {
		return valNull()
	}
	return best
}

var undefinedValue = bson.RawValue{Type: bsontype.Undefined}

// collectSortValues yields the index-key values of a path, as the server's
// key generator does: arrays are expanded once, array elements without the
// field give null, an empty array at the end of the path gives undefined,
// and a missing field gives null.
func collectSortValues(doc []byte, parts []string, yield func(bson.RawValue)) {
	v, idx := getFieldDottedOrArray(doc, parts)
	if v.Type != bsontype.Array {
		if v.Type == 0 {
			v = valNull()
		}
		yield(v)
		return
	}
	collectSortArray(v, parts[idx+1:], yield)
}

func collectSortArray(arr bson.RawValue, rest []string, yield func(bson.RawValue)) {
	data, ok := arr.ArrayOK()
	if !ok {
		yield(valNull())
		return
	}
	elems, _ := docElements(data)
	if len(rest) == 0 {
		if len(elems) == 0 {
			yield(undefinedValue)
			return
		}
		for _, el := range elems {
			yield(el.val)
		}
		return
	}
	if isAllDigits(rest[0]) {
		// A positional component picks one element instead of expanding.
		for _, el := range elems {
			if el.key != rest[0] {
				continue
			}
			if len(rest) == 1 {
				if el.val.Type == bsontype.Array {
					collectSortArray(el.val, nil, yield)
				} else {
					yield(el.val)
				}
				return
			}
			switch el.val.Type {
			case bsontype.EmbeddedDocument:
				d, _ := el.val.DocumentOK()
				collectSortValues(d, rest[1:], yield)
			case bsontype.Array:
				collectSortArray(el.val, rest[1:], yield)
			default:
				yield(valNull())
			}
			return
		}
		yield(valNull())
		return
	}
	if len(elems) == 0 {
		yield(valNull())
		return
	}
	for _, el := range elems {
		if d, ok := el.val.DocumentOK(); ok && el.val.Type == bsontype.EmbeddedDocument {
			collectSortValues(d, rest, yield)
		} else {
			yield(valNull())
		}
	}
}
