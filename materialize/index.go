package materialize

import (
	"bytes"
	"math"
	"slices"
	"strings"

	"github.com/tidwall/btree"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// This file holds secondary indexes: parsing and validating index
// specifications the way createIndexes does, generating index keys from
// documents (multikey through arrays, compound, sparse, partial), keeping
// one copy-on-write B-tree per index beside a Collection's documents, and
// using those trees to enforce unique indexes and to answer equality
// lookups.
//
// What uses an index (index_plan.go has the rules):
//   - filters: equalities, $in and ranges on _id, or on the leading fields
//     of a secondary index that is not partial; an $or whose every branch
//     can use one; the cheapest plan when several apply;
//   - sorts on _id, or on an index's fields after equality-bound leading
//     ones, when the index holds every document once (SortedMatches);
//   - unique indexes are checked through their trees on every insert,
//     update, replace and upsert;
//   - TTL indexes find the documents they expire (ttl.go).
// Everything else ($ne, $nin, $exists, regexes, null) scans the collection
// in natural order; results are the same, only slower.

// IDIndexName is the name of the index every collection has on _id.
const IDIndexName = "_id_"

// Error codes of index operations (error_codes.yml).
const (
	codeDuplicateKey              int32 = 11000
	codeCannotCreateIndex         int32 = 67
	codeIndexOptionsConflict      int32 = 85
	codeIndexKeySpecsConflict     int32 = 86
	codeCannotIndexParallelArrays int32 = 171
	codeInvalidIndexSpecOption    int32 = 197
)

func indexErr(code int32, format string, args ...any) *Error {
	e := newError(code, format, args...)
	switch code {
	case codeDuplicateKey:
		e.Name = "DuplicateKey"
	case codeCannotCreateIndex:
		e.Name = "CannotCreateIndex"
	case codeIndexOptionsConflict:
		e.Name = "IndexOptionsConflict"
	case codeIndexKeySpecsConflict:
		e.Name = "IndexKeySpecsConflict"
	case codeCannotIndexParallelArrays:
		e.Name = "CannotIndexParallelArrays"
	case codeInvalidIndexSpecOption:
		e.Name = "InvalidIndexSpecificationOption"
	}
	return e
}

// IndexDef is a parsed index specification. It is immutable and safe for
// concurrent use.
type IndexDef struct {
	// Name is the index name.
	Name string
	// Key is the key pattern, such as {a: 1, b: -1}.
	Key bson.Raw
	// Unique, Sparse: the options of the same names.
	Unique bool
	Sparse bool
	// PartialFilterExpression is the raw partial filter, nil if none.
	PartialFilterExpression bson.Raw
	// ExpireAfterSeconds is the TTL option, nil if none. Documents expire
	// through Collection.ExpiredDocuments, which the client's TTL monitor
	// deletes.
	ExpireAfterSeconds *int64
	// Spec is the whole specification as stored and listed:
	// {v: 2, key: ..., name: ..., options...}.
	Spec bson.Raw
	// Collation is the index's collation (nil: simple): its keys hold
	// strings as collation keys (collation.go), so unique constraints and
	// lookups compare with it.
	Collation *Collation

	fields  []indexField
	partial *Filter
	hidden  bool // hidden from the query planner, still maintained
}

type indexField struct {
	path  string
	parts []string
}

// IsID reports whether the definition is the implicit _id index.
func (d *IndexDef) IsID() bool { return d.Name == IDIndexName }

// IDIndexSpec returns the specification of the _id index as listIndexes
// shows it: {v: 2, key: {_id: 1}, name: "_id_"}.
func IDIndexSpec() bson.Raw {
	b, _ := bson.Marshal(bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: IDIndexName}})
	return b
}

// Options the index parser accepts, stored as given. Options with a
// meaning argon does not implement are rejected by name.
var indexKnownOptions = map[string]bool{
	"v": true, "key": true, "name": true, "unique": true, "sparse": true,
	"partialFilterExpression": true, "expireAfterSeconds": true, "background": true,
	"hidden": true, "storageEngine": true, "ns": true, "collation": true,
}

var indexUnsupportedOptions = map[string]string{
	"weights":               "text indexes",
	"default_language":      "text indexes",
	"language_override":     "text indexes",
	"textIndexVersion":      "text indexes",
	"2dsphereIndexVersion":  "2dsphere indexes",
	"bits":                  "2d indexes",
	"min":                   "2d indexes",
	"max":                   "2d indexes",
	"bucketSize":            "geoHaystack indexes",
	"wildcardProjection":    "wildcard indexes",
	"clustered":             "clustered indexes",
	"prepareUnique":         "prepareUnique indexes",
	"columnstoreProjection": "columnstore indexes",
}

// ParseIndexSpec parses and validates an index specification
// {key: {...}, name: "...", unique: true, ...} with createIndexes' rules
// (code 67 CannotCreateIndex, 197 InvalidIndexSpecificationOption, ...).
// Index kinds argon does not implement (text, 2d, 2dsphere, hashed,
// wildcard) and collations fail with a NotImplemented error naming them.
func ParseIndexSpec(spec bson.Raw) (*IndexDef, error) {
	if err := validateDocument(spec); err != nil {
		return nil, indexErr(codeFailedToParse, "invalid index specification: %v", err)
	}
	d := &IndexDef{Spec: spec}
	coll, err := indexCollation(spec)
	if err != nil {
		return nil, err
	}
	d.Collation = coll
	var perr error
	sawKey, sawName := false, false
	iterElements(spec, func(key string, v bson.RawValue) bool {
		if feature, ok := indexUnsupportedOptions[key]; ok {
			perr = errNotSupported(feature + " (index option '" + key + "')")
			return false
		}
		if !indexKnownOptions[key] {
			perr = indexErr(codeInvalidIndexSpecOption, "The field '%s' is not valid for an index specification. Specification: %s", key, docString(spec))
			return false
		}
		switch key {
		case "key":
			kd, ok := v.DocumentOK()
			if !ok {
				perr = indexErr(codeTypeMismatch, "The field 'key' must be an object, but got %s", ixTypeName(v.Type))
				return false
			}
			d.Key, sawKey = bson.Raw(kd), true
		case "name":
			s, ok := v.StringValueOK()
			if !ok {
				perr = indexErr(codeTypeMismatch, "The field 'name' must be a string, but got %s", ixTypeName(v.Type))
				return false
			}
			d.Name, sawName = s, true
		case "unique":
			d.Unique = truthy(v)
		case "sparse":
			d.Sparse = truthy(v)
		case "hidden":
			d.hidden = truthy(v)
		case "partialFilterExpression":
			pd, ok := v.DocumentOK()
			if !ok {
				perr = indexErr(codeTypeMismatch, "The field 'partialFilterExpression' must be an object, but got %s", ixTypeName(v.Type))
				return false
			}
			f, err := compileFilter(bson.Raw(pd), withCollation(nil, coll))
			if err != nil {
				perr = err
				return false
			}
			d.PartialFilterExpression, d.partial = bson.Raw(pd), f
		case "expireAfterSeconds":
			if !isNumeric(v.Type) {
				perr = indexErr(codeCannotCreateIndex, "TTL index 'expireAfterSeconds' option must be numeric, but received a type of '%s'. Index spec: %s", ixTypeName(v.Type), docString(spec))
				return false
			}
			f := numberAsFloat(v)
			if math.IsNaN(f) || f < 0 || f > math.MaxInt32 {
				perr = indexErr(codeCannotCreateIndex, "TTL index 'expireAfterSeconds' option must be within an acceptable range, try a lower number. Index spec: %s", docString(spec))
				return false
			}
			n := int64(f)
			d.ExpireAfterSeconds = &n
		}
		return true
	})
	if perr != nil {
		return nil, perr
	}
	if !sawKey {
		return nil, indexErr(codeFailedToParse, "The 'key' field is a required property of an index specification")
	}
	if !sawName {
		return nil, indexErr(codeFailedToParse, "The 'name' field is a required property of an index specification")
	}
	if d.Name == "" {
		return nil, indexErr(codeCannotCreateIndex, "index name cannot be empty")
	}
	if d.Name == "*" {
		return nil, indexErr(codeBadValue, "The index name '*' is not valid.")
	}
	if err := d.parseKey(); err != nil {
		return nil, err
	}
	if d.Sparse && d.partial != nil {
		return nil, indexErr(codeCannotCreateIndex, "cannot mix \"partialFilterExpression\" and \"sparse\" options")
	}
	if d.ExpireAfterSeconds != nil && len(d.fields) > 1 {
		return nil, indexErr(codeCannotCreateIndex, "TTL indexes are single-field indexes, compound indexes do not support TTL. Index spec: %s", docString(spec))
	}
	if d.IsID() {
		d.Unique = true // _id values are unique, under the index's collation
	}
	if d.IsID() || d.isIDKey() {
		if d.IsID() && !d.isIDKey() {
			return nil, indexErr(codeBadValue, "The index name '_id_' is reserved for the _id index, which must have key pattern {_id: 1}, found key: %s", docString(d.Key))
		}
		if d.IsID() {
			for _, opt := range []string{"unique", "sparse", "partialFilterExpression", "expireAfterSeconds", "hidden"} {
				if _, err := spec.LookupErr(opt); err == nil {
					return nil, indexErr(codeInvalidIndexSpecOption, "The field '%s' is not valid for an _id index specification. Specification: %s", opt, docString(spec))
				}
			}
		}
	}
	return d, nil
}

// isIDKey reports whether the key pattern is exactly {_id: 1}.
func (d *IndexDef) isIDKey() bool {
	if len(d.fields) != 1 || d.fields[0].path != "_id" {
		return false
	}
	v := d.Key.Lookup("_id")
	return isNumeric(v.Type) && numberAsFloat(v) == 1
}

func truthy(v bson.RawValue) bool {
	switch v.Type {
	case bsontype.Boolean:
		b, _ := v.BooleanOK()
		return b
	case bsontype.Null, bsontype.Undefined, 0:
		return false
	}
	if isNumeric(v.Type) {
		return numberAsFloat(v) != 0
	}
	return true
}

// parseKey validates the key pattern: non-empty, field names without a
// leading '$' or empty components, directions that are non-zero numbers.
func (d *IndexDef) parseKey() error {
	var perr error
	seen := map[string]bool{}
	iterElements(d.Key, func(name string, v bson.RawValue) bool {
		switch {
		case v.Type == bsontype.String:
			s, _ := v.StringValueOK()
			switch s {
			case "text", "2d", "2dsphere", "hashed", "geoHaystack", "columnstore":
				perr = errNotSupported(s + " indexes")
			default:
				perr = indexErr(codeCannotCreateIndex, "Unknown index plugin '%s'", s)
			}
			return false
		case isNumeric(v.Type):
			f := numberAsFloat(v)
			if f == 0 || math.IsNaN(f) {
				perr = indexErr(codeCannotCreateIndex, "Values in the index key pattern can't be 0 or NaN, found %s", elemString(name, v))
				return false
			}
		default:
			perr = indexErr(codeCannotCreateIndex, "Values in v:2 index key pattern cannot be of type %s. Only numbers > 0, numbers < 0, and strings are allowed.", ixTypeName(v.Type))
			return false
		}
		if name == "$**" || strings.HasSuffix(name, ".$**") {
			perr = errNotSupported("wildcard indexes")
			return false
		}
		if name == "" {
			perr = indexErr(codeCannotCreateIndex, "Index keys cannot be an empty field.")
			return false
		}
		parts := strings.Split(name, ".")
		for _, p := range parts {
			if p == "" {
				perr = indexErr(codeCannotCreateIndex, "Index keys cannot contain an empty field.")
				return false
			}
			if strings.HasPrefix(p, "$") {
				perr = indexErr(codeCannotCreateIndex, "Index key contains an illegal field name: field name starts with '$'.")
				return false
			}
		}
		if seen[name] {
			perr = indexErr(codeCannotCreateIndex, "Error in specification %s :: caused by :: duplicate key field: %s", docString(d.Key), name)
			return false
		}
		seen[name] = true
		d.fields = append(d.fields, indexField{path: name, parts: parts})
		return true
	})
	if perr != nil {
		return perr
	}
	if len(d.fields) == 0 {
		return indexErr(codeCannotCreateIndex, "Index keys cannot be empty.")
	}
	if len(d.fields) > 32 {
		return indexErr(codeCannotCreateIndex, "Index key pattern %s has too many fields (%d); the limit is 32", docString(d.Key), len(d.fields))
	}
	return nil
}

// IndexComparison says how a requested index relates to an existing one.
type IndexComparison int

// Results of (*IndexDef).Compare.
const (
	// IndexDifferent: another key pattern or partial filter.
	IndexDifferent IndexComparison = iota
	// IndexEquivalent: same key pattern and partial filter, other options
	// differ (unique, sparse, expireAfterSeconds, hidden).
	IndexEquivalent
	// IndexIdentical: the same index.
	IndexIdentical
)

// Compare compares d with other the way the server's compareIndexOptions
// does (the name is not compared).
func (d *IndexDef) Compare(other *IndexDef) IndexComparison {
	if !bytes.Equal(d.Key, other.Key) || !bytes.Equal(d.PartialFilterExpression, other.PartialFilterExpression) ||
		!d.Collation.Equal(other.Collation) {
		return IndexDifferent
	}
	sameTTL := (d.ExpireAfterSeconds == nil) == (other.ExpireAfterSeconds == nil) &&
		(d.ExpireAfterSeconds == nil || *d.ExpireAfterSeconds == *other.ExpireAfterSeconds)
	hidden := func(x *IndexDef) bool { return truthy(x.Spec.Lookup("hidden")) }
	if d.Unique != other.Unique || d.Sparse != other.Sparse || !sameTTL || hidden(d) != hidden(other) {
		return IndexEquivalent
	}
	return IndexIdentical
}

// CheckNewIndex checks whether def may be created on c (nil means the
// collection does not exist yet): conflicts with existing indexes (code 85
// IndexOptionsConflict, 86 IndexKeySpecsConflict) and, for a unique index,
// duplicates among the existing documents (11000). exists is true when an
// identical index is already there, so creating it is a no-op.
func (c *Collection) CheckNewIndex(ns Namespace, def *IndexDef) (exists bool, err error) {
	idDef, _ := ParseIndexSpec(c.IDIndexSpec())
	existing := []*IndexDef{idDef}
	if c != nil {
		for _, ix := range c.indexes {
			if d, err := ParseIndexSpec(ix.Spec); err == nil {
				existing = append(existing, d)
			}
		}
	}
	for _, e := range existing {
		if e.Name != def.Name {
			continue
		}
		switch def.Compare(e) {
		case IndexDifferent:
			return false, indexErr(codeIndexKeySpecsConflict, "An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: %s, existing index: %s", docString(def.Spec), docString(e.Spec))
		case IndexEquivalent:
			return false, indexErr(codeIndexOptionsConflict, "An equivalent index already exists with the same name but different options. Requested index: %s, existing index: %s", docString(def.Spec), docString(e.Spec))
		}
		return true, nil
	}
	for _, e := range existing {
		switch def.Compare(e) {
		case IndexEquivalent:
			return false, indexErr(codeIndexOptionsConflict, "An equivalent index already exists with a different name and options. Requested index: %s, existing index: %s", docString(def.Spec), docString(e.Spec))
		case IndexIdentical:
			return false, indexErr(codeIndexOptionsConflict, "Index already exists with a different name: %s", e.Name)
		}
	}
	if c == nil {
		return false, nil
	}
	// Build the index over the existing documents: key errors (parallel
	// arrays) and, for unique indexes, duplicates fail the build.
	si := &secIndex{def: def, tree: newIndexTree()}
	var berr error
	c.bySeq.Scan(func(d *Doc) bool {
		keys, indexed, err := def.Keys(d.Raw)
		if err != nil {
			berr = err
			return false
		}
		if !indexed {
			return true
		}
		for _, k := range keys {
			if def.Unique {
				if _, dup := si.find(k, d.ID); dup {
					berr = def.dupKeyError(ns, k)
					return false
				}
			}
			si.tree.Set(newEntry(k, d, 0))
		}
		return true
	})
	return false, berr
}

// ---------------------------------------------------------------------------
// Key generation

var (
	ixNullValue      = bson.RawValue{Type: bsontype.Null}
	ixUndefinedValue = bson.RawValue{Type: bsontype.Undefined}
)

// Keys returns the index keys of doc, one slice of values (one per key
// field) for each key: a multikey index gives one key per array element.
// indexed is false when the index leaves doc out (a sparse index and none
// of the fields present, or a partial index whose filter doc fails). A
// document with arrays in two fields of a compound index fails with code
// 171 CannotIndexParallelArrays, as on the server.
func (d *IndexDef) Keys(doc bson.Raw) (keys [][]bson.RawValue, indexed bool, err error) {
	keys, indexed, _, err = d.keys(doc)
	return keys, indexed, err
}

// keys is Keys that also reports whether a key path of doc went through an
// array (the server's "multikey"), which makes the index's order differ
// from a sort's and forbids combining range bounds (index_plan.go).
func (d *IndexDef) keys(doc bson.Raw) (keys [][]bson.RawValue, indexed, multikey bool, err error) {
	if d.partial != nil {
		ok, err := d.partial.Match(doc)
		if err != nil {
			return nil, false, false, err
		}
		if !ok {
			return nil, false, false, nil
		}
	}
	per := make([][]bson.RawValue, len(d.fields))
	anyFound := false
	arrayField := -1
	for i, f := range d.fields {
		var vals []bson.RawValue
		isArr := false
		found := indexPathValues(doc, f.parts, &vals, &isArr)
		anyFound = anyFound || found
		if isArr {
			if arrayField >= 0 {
				return nil, false, false, indexErr(codeCannotIndexParallelArrays, "cannot index parallel arrays [%s] [%s]", f.parts[0], d.fields[arrayField].parts[0])
			}
			arrayField = i
		}
		for j, v := range vals {
			vals[j] = d.Collation.KeyValue(v)
		}
		per[i] = dedupeValues(vals)
	}
	if d.Sparse && !anyFound {
		return nil, false, false, nil
	}
	keys = [][]bson.RawValue{nil}
	for _, vals := range per {
		next := make([][]bson.RawValue, 0, len(keys)*len(vals))
		for _, k := range keys {
			for _, v := range vals {
				nk := make([]bson.RawValue, len(k), len(k)+1)
				copy(nk, k)
				next = append(next, append(nk, v))
			}
		}
		keys = next
	}
	return keys, true, arrayField >= 0, nil
}

// indexPathValues appends the values a key field takes in doc: the value
// at the path; each element when the path ends at an array (undefined for
// an empty one); the values below each element when an array is met on
// the way (null for elements without the field); null when the path is
// missing. It reports whether a value was found anywhere (for sparse
// indexes) and sets *isArr when an array was traversed.
func indexPathValues(doc []byte, parts []string, out *[]bson.RawValue, isArr *bool) bool {
	v, ok := lookupField(doc, parts[0])
	if !ok {
		*out = append(*out, ixNullValue)
		return false
	}
	if len(parts) == 1 {
		if v.Type == bsontype.Array {
			*isArr = true
			arr, _ := v.ArrayOK()
			n := 0
			iterElements(arr, func(_ string, e bson.RawValue) bool {
				*out = append(*out, e)
				n++
				return true
			})
			if n == 0 {
				*out = append(*out, ixUndefinedValue)
			}
			return true
		}
		*out = append(*out, v)
		return true
	}
	switch v.Type {
	case bsontype.EmbeddedDocument:
		sub, _ := v.DocumentOK()
		return indexPathValues(sub, parts[1:], out, isArr)
	case bsontype.Array:
		if isAllDigits(parts[1]) {
			// A positional component selects one element ("a.0").
			arr, _ := v.ArrayOK()
			if e, ok := lookupField(arr, parts[1]); ok {
				wrapped := bsoncore.BuildDocumentFromElements(nil, bsoncore.AppendValueElement(nil, parts[1], bsoncore.Value{Type: e.Type, Data: e.Value}))
				return indexPathValues(wrapped, parts[1:], out, isArr)
			}
			*out = append(*out, ixNullValue)
			return false
		}
		*isArr = true
		arr, _ := v.ArrayOK()
		found := false
		n := 0
		iterElements(arr, func(_ string, e bson.RawValue) bool {
			n++
			if sub, ok := e.DocumentOK(); ok && e.Type == bsontype.EmbeddedDocument {
				if indexPathValues(sub, parts[1:], out, isArr) {
					found = true
				}
				return true
			}
			*out = append(*out, ixNullValue)
			return true
		})
		if n == 0 {
			*out = append(*out, ixNullValue)
		}
		return found
	}
	*out = append(*out, ixNullValue)
	return false
}

// dedupeValues sorts vals in BSON order and drops equal values.
func dedupeValues(vals []bson.RawValue) []bson.RawValue {
	if len(vals) < 2 {
		return vals
	}
	slices.SortStableFunc(vals, CompareValues)
	out := vals[:1]
	for _, v := range vals[1:] {
		if CompareValues(out[len(out)-1], v) != 0 {
			out = append(out, v)
		}
	}
	return out
}

// DuplicateKey is a duplicate key error (code 11000): Err has the server's
// code, name and message ("E11000 duplicate key error collection: db.c
// index: a_1 dup key: { a: 1 }"); KeyPattern and KeyValue are the fields the
// server adds to its reply ({a: 1} and {a: 1}). It unwraps to Err, so
// errors.As finds the *Error. It is immutable and safe for concurrent use.
type DuplicateKey struct {
	Err        *Error
	KeyPattern bson.Raw
	KeyValue   bson.Raw
}

// Error returns the server's message.
func (d *DuplicateKey) Error() string { return d.Err.Message }

// Unwrap returns the server-shaped *Error.
func (d *DuplicateKey) Unwrap() error { return d.Err }

// dupKeyError is the server's duplicate key error for key in index d.
func (d *IndexDef) dupKeyError(ns Namespace, key []bson.RawValue) *DuplicateKey {
	var sb strings.Builder
	sb.WriteString("{")
	vb := bsoncore.NewDocumentBuilder()
	for i, f := range d.fields {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(" ")
		sb.WriteString(f.path)
		sb.WriteString(": ")
		if !writeCollationKeyString(&sb, d.Collation, key[i]) {
			writeValueString(&sb, key[i], 0)
		}
		vb.AppendValue(f.path, bsoncore.Value{Type: key[i].Type, Data: key[i].Value})
	}
	sb.WriteString(" }")
	return &DuplicateKey{
		Err:        indexErr(codeDuplicateKey, "E11000 duplicate key error collection: %s index: %s%s dup key: %s", ns.String(), d.Name, collationClause(d.Collation), sb.String()),
		KeyPattern: d.Key,
		KeyValue:   bson.Raw(vb.Build()),
	}
}

// DuplicateKeyError is the server's duplicate key error (code 11000) for
// key, one value per field of the index, in collection ns.
func (d *IndexDef) DuplicateKeyError(ns Namespace, key []bson.RawValue) *DuplicateKey {
	return d.dupKeyError(ns, key)
}

// CompareKeys compares two index keys field by field in BSON order.
func CompareKeys(a, b []bson.RawValue) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := CompareValues(a[i], b[i]); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// DuplicateIDError is the duplicate key error for an _id that already
// exists in ns.
func DuplicateIDError(ns Namespace, id bson.RawValue) *DuplicateKey {
	key := bsoncore.NewDocumentBuilder().AppendValue("_id", bsoncore.Value{Type: id.Type, Data: id.Value}).Build()
	return &DuplicateKey{
		Err:        indexErr(codeDuplicateKey, "E11000 duplicate key error collection: %s index: %s dup key: { _id: %s }", ns.String(), IDIndexName, valueString(id)),
		KeyPattern: bson.Raw(bsoncore.NewDocumentBuilder().AppendInt32("_id", 1).Build()),
		KeyValue:   bson.Raw(key),
	}
}

// ---------------------------------------------------------------------------
// Index trees

// ixEntry is one key of one document in an index tree. A tree holds one
// entry per (document, distinct key), so entries are kept small: a
// one-field key is its value's type and bytes, which alias the document's
// own bytes (no copy); a compound key (kt 0) is each value's type byte and
// bytes, concatenated. The document (and so its _id) is doc. probe entries
// are search pivots with no document: -1 sorts before every real entry
// whose key equals or starts with the probe's, 1 after.
type ixEntry struct {
	doc   *Doc
	kv    []byte
	kt    bsontype.Type
	probe int8
}

// newEntry builds the entry of key for document d (nil for a probe).
func newEntry(key []bson.RawValue, d *Doc, probe int8) ixEntry {
	if len(key) == 1 {
		return ixEntry{doc: d, kv: key[0].Value, kt: key[0].Type, probe: probe}
	}
	n := 0
	for _, v := range key {
		n += 1 + len(v.Value)
	}
	b := make([]byte, 0, n)
	for _, v := range key {
		b = append(append(b, byte(v.Type)), v.Value...)
	}
	return ixEntry{doc: d, kv: b, probe: probe}
}

// keyValues appends the values of e's key to buf.
func (e *ixEntry) keyValues(buf []bson.RawValue) []bson.RawValue {
	if e.kt != 0 {
		return append(buf, bson.RawValue{Type: e.kt, Value: e.kv})
	}
	for rest := e.kv; len(rest) > 0; {
		t := bsontype.Type(rest[0])
		v, tail, ok := bsoncore.ReadValue(rest[1:], t)
		if !ok {
			break // not reached: newEntry wrote valid values
		}
		buf = append(buf, bson.RawValue{Type: t, Value: v.Data})
		rest = tail
	}
	return buf
}

// first returns the first value of e's key.
func (e *ixEntry) first() bson.RawValue {
	if e.kt != 0 {
		return bson.RawValue{Type: e.kt, Value: e.kv}
	}
	t := bsontype.Type(e.kv[0])
	v, _, _ := bsoncore.ReadValue(e.kv[1:], t)
	return bson.RawValue{Type: t, Value: v.Data}
}

func (e *ixEntry) id() bson.RawValue {
	if e.doc == nil {
		return bson.RawValue{}
	}
	return e.doc.ID
}

func lessEntry(a, b ixEntry) bool {
	if a.kt != 0 && b.kt != 0 {
		if c := CompareValues(bson.RawValue{Type: a.kt, Value: a.kv}, bson.RawValue{Type: b.kt, Value: b.kv}); c != 0 {
			return c < 0
		}
		return lessTie(&a, &b, 1, 1)
	}
	var abuf, bbuf [4]bson.RawValue
	ak, bk := a.keyValues(abuf[:0]), b.keyValues(bbuf[:0])
	for i := 0; i < len(ak) && i < len(bk); i++ {
		if c := CompareValues(ak[i], bk[i]); c != 0 {
			return c < 0
		}
	}
	return lessTie(&a, &b, len(ak), len(bk))
}

// lessTie orders entries whose keys agree on their common fields.
func lessTie(a, b *ixEntry, na, nb int) bool {
	if na != nb {
		// A shorter key is a prefix probe: it sorts before (probe -1) or
		// after (probe 1) every key it prefixes.
		if na < nb {
			return a.probe < 0
		}
		return b.probe > 0
	}
	if a.probe != b.probe {
		return a.probe < b.probe
	}
	return CompareValues(a.id(), b.id()) < 0
}

func newIndexTree() *btree.BTreeG[ixEntry] { return btree.NewBTreeG(lessEntry) }

// secIndex is one secondary index of a collection. multikey counts the
// indexed documents with an array on a key path.
type secIndex struct {
	def      *IndexDef
	tree     *btree.BTreeG[ixEntry]
	multikey int
}

// add adds d's keys.
func (s *secIndex) add(d *Doc) {
	keys, indexed, multi, err := s.def.keys(d.Raw)
	if err != nil || !indexed {
		return
	}
	if multi {
		s.multikey++
	}
	for _, k := range keys {
		s.tree.Set(newEntry(k, d, 0))
	}
}

// find returns an entry with key k whose document is not id.
func (s *secIndex) find(k []bson.RawValue, id bson.RawValue) (ixEntry, bool) {
	var out ixEntry
	found := false
	hi := newEntry(k, nil, 1)
	s.tree.Ascend(newEntry(k, nil, -1), func(e ixEntry) bool {
		if lessEntry(hi, e) {
			return false
		}
		if CompareValues(e.id(), id) != 0 {
			out, found = e, true
			return false
		}
		return true
	})
	return out, found
}

// prefix calls fn for every entry whose key starts with prefix.
func (s *secIndex) prefix(prefix []bson.RawValue, fn func(e ixEntry) bool) {
	hi := newEntry(prefix, nil, 1)
	s.tree.Ascend(newEntry(prefix, nil, -1), func(e ixEntry) bool {
		if lessEntry(hi, e) {
			return false
		}
		return fn(e)
	})
}

// The hooks below keep a Collection's index trees in step with its
// documents; State.Apply calls them. They never fail: writes are validated
// (CheckDocument, CheckNewIndex) before they are logged, and a document a
// damaged log cannot index is left out of that index.

// copyIndexes returns lazy copy-on-write copies of the trees, for clone.
func copyIndexes(sec []*secIndex) []*secIndex {
	if len(sec) == 0 {
		return nil
	}
	out := make([]*secIndex, len(sec))
	for i, s := range sec {
		out[i] = &secIndex{def: s.def, tree: s.tree.Copy(), multikey: s.multikey}
	}
	return out
}

// indexInsert adds d's keys to every index.
func (c *Collection) indexInsert(d *Doc) {
	for _, s := range c.sec {
		s.add(d)
	}
}

// indexDelete removes d's keys from every index.
func (c *Collection) indexDelete(d *Doc) {
	for _, s := range c.sec {
		keys, indexed, multi, err := s.def.keys(d.Raw)
		if err != nil || !indexed {
			continue
		}
		if multi {
			s.multikey--
		}
		for _, k := range keys {
			s.tree.Delete(newEntry(k, d, 0))
		}
	}
}

// indexCreate builds the index spec describes over the documents.
func (c *Collection) indexCreate(spec bson.Raw) {
	def, err := ParseIndexSpec(spec)
	if err != nil {
		return
	}
	s := &secIndex{def: def, tree: newIndexTree()}
	c.bySeq.Scan(func(d *Doc) bool {
		s.add(d)
		return true
	})
	c.sec = append(slices.Clip(c.sec), s)
}

// addCollatedID gives a collection created with a default collation (its
// options' collation) its _id index under that collation, as MongoDB's _id
// index has the collection's default collation: a unique index on _id
// beside the _id tree, so _id values equal under the collation conflict
// and collated queries on _id can use it. It is not among c.indexes: it
// follows from the options, and listIndexes shows it as the _id index.
func (c *Collection) addCollatedID() {
	v, ok := lookupField(c.options, "collation")
	if !ok {
		return
	}
	coll, ok := v.DocumentOK()
	if !ok {
		return
	}
	spec, err := bson.Marshal(bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}},
		{Key: "name", Value: IDIndexName}, {Key: "collation", Value: bson.Raw(coll)}})
	if err == nil {
		c.indexCreate(spec)
	}
}

// collatedID returns the collated _id index (addCollatedID), nil if the
// collection has no default collation.
func (c *Collection) collatedID() *secIndex {
	for _, s := range c.sec {
		if s.def.IsID() {
			return s
		}
	}
	return nil
}

// DefaultCollation returns the collection's default collation, nil for the
// simple collation.
func (c *Collection) DefaultCollation() *Collation {
	if c == nil {
		return nil
	}
	if s := c.collatedID(); s != nil {
		return s.def.Collation
	}
	return nil
}

// IDIndexSpec returns the specification of c's _id index as listIndexes
// shows it: the package's IDIndexSpec, with the collection's default
// collation if it has one. c may be nil.
func (c *Collection) IDIndexSpec() bson.Raw {
	if c != nil {
		if s := c.collatedID(); s != nil {
			return s.def.Spec
		}
	}
	return IDIndexSpec()
}

// indexDrop removes the index named name.
func (c *Collection) indexDrop(name string) {
	c.sec = slices.DeleteFunc(slices.Clone(c.sec), func(s *secIndex) bool { return s.def.Name == name })
}

// ---------------------------------------------------------------------------
// Using the indexes

// CheckDocument checks that doc may be stored in collection ns (c nil
// means the collection does not exist yet) as the new image of the
// document with doc's _id: no unique index may hold one of its keys for
// another document, and every index must be able to generate its keys.
// It does not check _id uniqueness for inserts: callers look the _id up
// with Get and report DuplicateIDError.
func (c *Collection) CheckDocument(ns Namespace, doc bson.Raw) error {
	if c == nil {
		return nil
	}
	id := doc.Lookup("_id")
	for _, s := range c.sec {
		keys, indexed, err := s.def.Keys(doc)
		if err != nil {
			return err
		}
		if !indexed || !s.def.Unique {
			continue
		}
		for _, k := range keys {
			if _, dup := s.find(k, id); dup {
				return s.def.dupKeyError(ns, k)
			}
		}
	}
	return nil
}

// IndexDefs returns the parsed secondary index definitions, in creation
// order (without the _id index).
func (c *Collection) IndexDefs() []*IndexDef {
	out := make([]*IndexDef, 0, len(c.sec))
	for _, s := range c.sec {
		out = append(out, s.def)
	}
	return out
}

// Candidates returns, in natural order, the documents that can match f when
// an index can narrow the search (index_plan.go). ok is false when no index
// applies and the caller must scan. Every document matching f is among the
// candidates; callers still match each one.
func (c *Collection) Candidates(f *Filter) (docs []bson.Raw, ok bool) {
	return c.CandidatesWith(f, PlanOptions{})
}

// indexableEquality reports whether an equality on v can be answered from
// an index: not an array (which matches arrays as wholes and elements),
// not null or undefined (which match missing fields too), not a value
// whose matching is not plain equality.
func indexableEquality(v bson.RawValue) bool {
	switch v.Type {
	case bsontype.Array, bsontype.Null, bsontype.Undefined, bsontype.Regex, 0:
		return false
	}
	return true
}

// ixTypeName is the server's name of a BSON type, as its messages show it.
func ixTypeName(t bsontype.Type) string {
	if name := typeName(t); name != "missing" || t == 0 {
		return name
	}
	return t.String()
}

// DistinctValues returns the values the distinct command collects from doc
// at the dotted path: arrays on the way are traversed, an array at the end
// contributes its elements (not itself), missing fields contribute nothing.
func DistinctValues(doc bson.Raw, path string) []bson.RawValue {
	var out []bson.RawValue
	walkPath(doc, splitPath(path), leafTraverseOmitArray, func(v bson.RawValue, _ int) bool {
		if v.Type != 0 {
			out = append(out, v)
		}
		return true
	})
	return out
}

// FormatDocument renders a document the way the server's messages show
// one: { a: 1, b: "x" }.
func FormatDocument(d bson.Raw) string { return docString(d) }
