package materialize

import (
	"slices"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file lets ranges ($gt, $gte, $lt, $lte) and $in use an index (the
// _id tree, or a secondary index whose first field is the condition's
// path). The index only narrows the search: it yields a superset of the
// matching documents, which the caller still matches one by one, so the
// result is the same as a scan's.
//
// Why the supersets are right:
//   - A range matches only values of the operand's canonical type (numbers
//     with numbers, strings with strings, ...), so the scan starts at the
//     operand and stops at the first key of another type. Only one bound of
//     a two-sided range is used: on a multikey index {a: [0, 20]} matches
//     {$gt: 5, $lt: 10} (each bound through another element) while no key
//     lies between 5 and 10.
//   - $in is a union of equalities; it is used only when every value is
//     one an index answers by plain equality (not null, an array or a
//     regex).
//   - Index keys hold a document's values at the path, and each element of
//     an array there, exactly the values a query compares.

// indexCond is a condition that every document matching a filter satisfies
// on one path: {$in: [...]}, or one bound of a range.
type indexCond struct {
	op opKind // opKindIn, opKindGt, opKindGte, opKindLt or opKindLte
	in []bson.RawValue
	v  bson.RawValue
}

// collectIndexConds gathers the top-level (and top-level $and) range and
// $in conditions of a validated filter, by path.
func collectIndexConds(filter []byte, out map[string][]indexCond) {
	iterElements(filter, func(key string, v bson.RawValue) bool {
		if key == "$and" {
			if arr, ok := v.ArrayOK(); ok {
				iterElements(arr, func(_ string, sub bson.RawValue) bool {
					if d, ok := sub.DocumentOK(); ok {
						collectIndexConds(d, out)
					}
					return true
				})
			}
			return true
		}
		if len(key) == 0 || key[0] == '$' || !isExpressionDocument(v, false) {
			return true
		}
		ops, _ := v.DocumentOK()
		iterElements(ops, func(op string, arg bson.RawValue) bool {
			switch k := fieldOperator(op); k {
			case opKindGt, opKindGte, opKindLt, opKindLte:
				if rangeIndexable(arg) {
					out[key] = append(out[key], indexCond{op: k, v: arg})
				}
			case opKindIn:
				arr, ok := arg.ArrayOK()
				if !ok || arg.Type != bsontype.Array {
					return true
				}
				vals := []bson.RawValue{}
				usable := true
				iterElements(arr, func(_ string, e bson.RawValue) bool {
					usable = indexableEquality(e)
					vals = append(vals, e)
					return usable
				})
				if usable {
					out[key] = append(out[key], indexCond{op: k, in: vals})
				}
			}
			return true
		})
		return true
	})
}

// rangeIndexable reports whether a range on v can be answered from an
// index: v's canonical type must be one whose range matching is plain
// comparison within the type (not null, MinKey or MaxKey, which match
// across types, and not documents, arrays or regexes).
func rangeIndexable(v bson.RawValue) bool {
	switch v.Type {
	case bsontype.Double, bsontype.Int32, bsontype.Int64, bsontype.Decimal128,
		bsontype.String, bsontype.Symbol, bsontype.Binary, bsontype.ObjectID,
		bsontype.Boolean, bsontype.DateTime, bsontype.Timestamp:
		return true
	}
	return false
}

// pickCond chooses the condition an index scan uses: $in first (the
// narrowest), then a lower bound, then an upper bound.
func pickCond(conds []indexCond) (indexCond, bool) {
	for _, rank := range []func(k opKind) bool{
		func(k opKind) bool { return k == opKindIn },
		func(k opKind) bool { return k == opKindGt || k == opKindGte },
		func(k opKind) bool { return k == opKindLt || k == opKindLte },
	} {
		for _, c := range conds {
			if rank(c.op) {
				return c, true
			}
		}
	}
	return indexCond{}, false
}

// idCandidates answers cond from the _id tree.
func (c *Collection) idCandidates(cond indexCond) []*Doc {
	var found []*Doc
	class := canonicalType(cond.v.Type)
	switch cond.op {
	case opKindIn:
		for _, v := range cond.in {
			if d, ok := c.byID.Get(&Doc{ID: v}); ok {
				found = append(found, d)
			}
		}
	case opKindGt, opKindGte:
		c.byID.Ascend(&Doc{ID: cond.v}, func(d *Doc) bool {
			if canonicalType(d.ID.Type) != class {
				return false
			}
			found = append(found, d)
			return true
		})
	default:
		c.byID.Descend(&Doc{ID: cond.v}, func(d *Doc) bool {
			if canonicalType(d.ID.Type) != class {
				return false
			}
			found = append(found, d)
			return true
		})
	}
	return found
}

// condCandidates answers cond from a secondary index on its first field.
func (s *secIndex) condCandidates(cond indexCond) []*Doc {
	var found []*Doc
	add := func(e ixEntry) bool {
		found = append(found, e.doc)
		return true
	}
	class := canonicalType(cond.v.Type)
	switch cond.op {
	case opKindIn:
		for _, v := range cond.in {
			s.prefix([]bson.RawValue{v}, add)
		}
	case opKindGt, opKindGte:
		s.tree.Ascend(newEntry([]bson.RawValue{cond.v}, nil, -1), func(e ixEntry) bool {
			return canonicalType(e.first().Type) == class && add(e)
		})
	default:
		s.tree.Descend(newEntry([]bson.RawValue{cond.v}, nil, 1), func(e ixEntry) bool {
			return canonicalType(e.first().Type) == class && add(e)
		})
	}
	return found
}

// naturalOrder drops duplicates (a multikey index yields a document once
// per matching key) and returns the documents in natural order.
func naturalOrder(found []*Doc) []bson.Raw {
	slices.SortFunc(found, func(a, b *Doc) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	found = slices.Compact(found)
	docs := make([]bson.Raw, len(found))
	for i, d := range found {
		docs[i] = d.Raw
	}
	return docs
}
