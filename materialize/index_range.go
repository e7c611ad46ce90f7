package materialize

import (
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// rangeIndexable reports whether a range on v can be answered from an
// index: v's canonical type must be one whose range matching is plain
// comparison within the type (not null, MinKey or MaxKey, which match
// across types, and not documents, arrays or regexes). A range matches only
// values of the operand's canonical type (numbers with numbers, strings
// with strings, ...), so an index scan starts at the operand and stops at
// the first key of another type (index_plan.go).
func rangeIndexable(v bson.RawValue) bool {
	switch v.Type {
	case bsontype.Double, bsontype.Int32, bsontype.Int64, bsontype.Decimal128,
		bsontype.String, bsontype.Symbol, bsontype.Binary, bsontype.ObjectID,
		bsontype.Boolean, bsontype.DateTime, bsontype.Timestamp:
		return true
	}
	return false
}
