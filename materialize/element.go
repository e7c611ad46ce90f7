package materialize

import (
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Element query operators: $exists and $type.

// existsPred matches any value that is present.
type existsPred struct{}

func (existsPred) matchValue(e bson.RawValue, _ *matchDetails) bool { return e.Type != 0 }

// parseExists parses {$exists: <bool>}; any value is accepted and read by
// its truthiness, so {$exists: 0} means "does not exist".
func parseExists(name string, e bson.RawValue) (node, error) {
	n := newPathNode(name, leafTraverse, existsPred{})
	if trueValue(e) {
		return n, nil
	}
	return &notNode{child: n}, nil
}

// trueValue is the server's BSONElement::trueValue: false for false, zero
// numbers, null, undefined and missing; true for everything else.
func trueValue(v bson.RawValue) bool {
	switch v.Type {
	case 0, bsontype.Null, bsontype.Undefined:
		return false
	case bsontype.Boolean:
		b, _ := v.BooleanOK()
		return b
	case bsontype.Int32:
		i, _ := v.Int32OK()
		return i != 0
	case bsontype.Int64:
		i, _ := v.Int64OK()
		return i != 0
	case bsontype.Double:
		f, _ := v.DoubleOK()
		return f != 0 // NaN is true, like the server's double != 0
	case bsontype.Decimal128:
		d, ok := v.Decimal128OK()
		if !ok {
			return false
		}
		return !isDecimalZero(d.String())
	}
	return true
}

func isDecimalZero(s string) bool {
	for _, c := range s {
		switch {
		case c >= '1' && c <= '9':
			return false
		case c == 'E' || c == 'e':
			return true
		case c == 'N' || c == 'I': // NaN, Infinity
			return false
		}
	}
	return true
}

// typeAliases maps $type names to BSON type codes; "number" is handled
// separately because it stands for four types.
var typeAliases = map[string]bsontype.Type{
	"double":              bsontype.Double,
	"string":              bsontype.String,
	"object":              bsontype.EmbeddedDocument,
	"array":               bsontype.Array,
	"binData":             bsontype.Binary,
	"undefined":           bsontype.Undefined,
	"objectId":            bsontype.ObjectID,
	"bool":                bsontype.Boolean,
	"date":                bsontype.DateTime,
	"null":                bsontype.Null,
	"regex":               bsontype.Regex,
	"dbPointer":           bsontype.DBPointer,
	"javascript":          bsontype.JavaScript,
	"symbol":              bsontype.Symbol,
	"javascriptWithScope": bsontype.CodeWithScope,
	"int":                 bsontype.Int32,
	"timestamp":           bsontype.Timestamp,
	"long":                bsontype.Int64,
	"decimal":             bsontype.Decimal128,
	"minKey":              bsontype.MinKey,
	"maxKey":              bsontype.MaxKey,
}

// TypeName is the server's name of a BSON type ("int", "objectId", ...),
// as its error messages print it; "missing" for type 0.
func TypeName(t bsontype.Type) string { return typeName(t) }

// typeName is the server's typeName(BSONType), the inverse of typeAliases:
// the name $type (aggregation) returns. Other files of the package use it
// in messages too.
func typeName(t bsontype.Type) string {
	switch t {
	case bsontype.Double:
		return "double"
	case bsontype.String:
		return "string"
	case bsontype.EmbeddedDocument:
		return "object"
	case bsontype.Array:
		return "array"
	case bsontype.Binary:
		return "binData"
	case bsontype.Undefined:
		return "undefined"
	case bsontype.ObjectID:
		return "objectId"
	case bsontype.Boolean:
		return "bool"
	case bsontype.DateTime:
		return "date"
	case bsontype.Null:
		return "null"
	case bsontype.Regex:
		return "regex"
	case bsontype.DBPointer:
		return "dbPointer"
	case bsontype.JavaScript:
		return "javascript"
	case bsontype.Symbol:
		return "symbol"
	case bsontype.CodeWithScope:
		return "javascriptWithScope"
	case bsontype.Int32:
		return "int"
	case bsontype.Timestamp:
		return "timestamp"
	case bsontype.Int64:
		return "long"
	case bsontype.Decimal128:
		return "decimal"
	case bsontype.MinKey:
		return "minKey"
	case bsontype.MaxKey:
		return "maxKey"
	}
	return "missing"
}

// typeSet is a parsed $type argument.
type typeSet struct {
	allNumbers bool
	types      map[bsontype.Type]bool
}

func (s *typeSet) has(t bsontype.Type) bool {
	if s.allNumbers && isNumeric(t) {
		return true
	}
	return s.types[t]
}

func (s *typeSet) empty() bool { return !s.allNumbers && len(s.types) == 0 }

// parseTypeSet parses a $type argument: a type name, a numeric type code, or
// an array of them.
func parseTypeSet(e bson.RawValue) (*typeSet, error) {
	s := &typeSet{types: map[bsontype.Type]bool{}}
	if e.Type != bsontype.Array {
		return s, s.addSingle(e)
	}
	arr, _ := e.ArrayOK()
	var perr error
	iterElements(arr, func(_ string, t bson.RawValue) bool {
		perr = s.addSingle(t)
		return perr == nil
	})
	return s, perr
}

func (s *typeSet) addSingle(e bson.RawValue) error {
	if e.Type == bsontype.String {
		name, _ := e.StringValueOK()
		if name == "number" {
			s.allNumbers = true
			return nil
		}
		if name == "missing" {
			return errBadValue("'missing' is not a legal type name. To query for non-existence of a field, use {$exists:false}.")
		}
		t, ok := typeAliases[name]
		if !ok {
			return errBadValue("Unknown type name alias: %s", name)
		}
		s.types[t] = true
		return nil
	}
	if !isNumeric(e.Type) {
		return errTypeMismatch("type must be represented as a number or a string")
	}
	code, ok := integralInt32(e)
	if !ok {
		return errBadValue("Invalid numerical type code: %s", numberString(e))
	}
	if code == 0 {
		return errBadValue("Invalid numerical type code: %s. Instead use {$exists:false}.", numberString(e))
	}
	if !(code == -1 || code == 127 || (code >= 1 && code <= 19)) {
		return errBadValue("Invalid numerical type code: %s", numberString(e))
	}
	s.types[bsontype.Type(byte(int8(code)))] = true
	return nil
}

// integralInt32 converts a number that holds an exact int32 value.
func integralInt32(e bson.RawValue) (int32, bool) {
	n, err := parseIntegerElementToLong("", e)
	if err != nil || n < -1<<31 || n > 1<<31-1 {
		return 0, false
	}
	return int32(n), true
}

// typePred matches values whose BSON type is in the set.
type typePred struct{ set *typeSet }

func (p *typePred) matchValue(e bson.RawValue, _ *matchDetails) bool {
	return e.Type != 0 && p.set.has(e.Type)
}

// parseType parses {$type: ...}.
func parseType(name string, e bson.RawValue) (node, error) {
	set, err := parseTypeSet(e)
	if err != nil {
		return nil, err
	}
	if set.empty() {
		return nil, errFailedToParse("%s must match at least one type", name)
	}
	return newPathNode(name, leafTraverse, &typePred{set: set}), nil
}
