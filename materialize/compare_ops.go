package materialize

import (
	"math"
	"sort"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Comparison query operators: $eq $ne $gt $gte $lt $lte $in $nin.
//
// Semantics follow the server (exec/matcher/matcher.cpp): comparisons only
// match values of the same canonical type ("type bracketing": {$gt: 1} never
// matches a string), null matches null and missing but not undefined
// (MongoDB 8.0), NaN equals NaN but is neither greater nor less than
// anything, and MinKey/MaxKey bound every type.

// cmpOp is a comparison operator.
type cmpOp int

const (
	opEQ cmpOp = iota
	opLT
	opLTE
	opGT
	opGTE
)

func cmpOpFor(k opKind) cmpOp {
	switch k {
	case opKindLt:
		return opLT
	case opKindLte:
		return opLTE
	case opKindGt:
		return opGT
	case opKindGte:
		return opGTE
	}
	return opEQ
}

// cmpPred compares a value with a constant.
type cmpPred struct {
	op   cmpOp
	rhs  bson.RawValue // under a collation: its collation key (KeyValue)
	coll *Collation    // nil: simple
}

// newComparison validates the argument of a comparison operator on path
// name, as the server's ComparisonMatchExpression constructor and
// parseComparison do.
func newComparison(name string, op cmpOp, rhs bson.RawValue, coll *Collation) (*cmpPred, error) {
	if rhs.Type == bsontype.Undefined {
		return nil, errBadValue("cannot compare to undefined")
	}
	if op != opEQ && rhs.Type == bsontype.Regex {
		return nil, errBadValue("Can't have RegEx as arg to predicate over field '%s'.", name)
	}
	// Comparing collation keys is comparing under the collation; the
	// operand's key is computed once.
	return &cmpPred{op: op, rhs: coll.KeyValue(rhs), coll: coll}, nil
}

func (p *cmpPred) matchValue(e bson.RawValue, _ *matchDetails) bool {
	return compareMatches(p.op, p.coll.KeyValue(e), p.rhs, nil)
}

// compareMatches is the server's evaluateComparisonExpressionSingleElement,
// with strings compared under coll (nil: simple).
func compareMatches(op cmpOp, e, rhs bson.RawValue, coll *Collation) bool {
	if e.Type != rhs.Type {
		ect, rct := canonicalType(e.Type), canonicalType(rhs.Type)
		if ect != rct {
			// Null on the right, missing or undefined on the left: only a
			// missing value is treated as null.
			if ect+rct == 5 {
				return e.Type == 0 && (op == opEQ || op == opLTE || op == opGTE)
			}
			switch rhs.Type {
			case bsontype.MaxKey:
				return op == opLT || op == opLTE
			case bsontype.MinKey:
				return op == opGT || op == opGTE
			}
			return false
		}
	}
	if op != opEQ {
		lnan, rnan := isNaNValue(e), isNaNValue(rhs)
		if lnan || rnan {
			both := lnan && rnan
			return (op == opLTE || op == opGTE) && both
		}
	}
	x := coll.CompareValues(e, rhs)
	switch op {
	case opLT:
		return x < 0
	case opLTE:
		return x <= 0
	case opGT:
		return x > 0
	case opGTE:
		return x >= 0
	}
	return x == 0
}

// isNaNValue reports whether v is a double or decimal NaN.
func isNaNValue(v bson.RawValue) bool {
	switch v.Type {
	case bsontype.Double:
		f, ok := v.DoubleOK()
		return ok && math.IsNaN(f)
	case bsontype.Decimal128:
		d, ok := v.Decimal128OK()
		return ok && d.IsNaN()
	}
	return false
}

// parseNe parses {$ne: v}: the negation of equality over the whole path.
func parseNe(name string, e bson.RawValue, coll *Collation) (node, error) {
	if e.Type == bsontype.Regex {
		return nil, errBadValue("Can't have regex as arg to $ne.")
	}
	pred, err := newComparison(name, opEQ, e, coll)
	if err != nil {
		return nil, err
	}
	return &notNode{child: newPathNode(name, leafTraverse, pred)}, nil
}

// inPred is $in: equality with any of a set of values, or a regex match.
type inPred struct {
	values  []bson.RawValue // collation keys (KeyValue), sorted for binary search
	regexes []*regexPred
	hasNull bool
	coll    *Collation // nil: simple
}

func (p *inPred) matchValue(e bson.RawValue, d *matchDetails) bool {
	// A null in $in makes it match missing values, like {$eq: null}.
	if p.hasNull && e.Type == 0 {
		return true
	}
	if p.contains(e) {
		return true
	}
	for _, re := range p.regexes {
		if re.matchValue(e, d) {
			return true
		}
	}
	return false
}

func (p *inPred) contains(e bson.RawValue) bool {
	if e.Type == 0 {
		return false
	}
	e = p.coll.KeyValue(e)
	i := sort.Search(len(p.values), func(i int) bool {
		return CompareValues(p.values[i], e) >= 0
	})
	return i < len(p.values) && CompareValues(p.values[i], e) == 0
}

// newInPred validates the array argument of $in/$nin.
func newInPred(arr []byte, coll *Collation) (*inPred, error) {
	p := &inPred{coll: coll}
	var perr error
	hasUndefined := false
	iterElements(arr, func(_ string, e bson.RawValue) bool {
		// DBRefs are allowed, other operator documents are not.
		if isExpressionDocument(e, false) {
			perr = errBadValue("cannot nest $ under $in")
			return false
		}
		switch e.Type {
		case bsontype.Regex:
			re, err := newRegexPredFromValue(e)
			if err != nil {
				perr = err
				return false
			}
			p.regexes = append(p.regexes, re)
		case bsontype.Undefined:
			hasUndefined = true
		default:
			if e.Type == bsontype.Null {
				p.hasNull = true
			}
			p.values = append(p.values, coll.KeyValue(e))
		}
		return true
	})
	if perr != nil {
		return nil, perr
	}
	if hasUndefined {
		return nil, errBadValue("InMatchExpression equality cannot be undefined")
	}
	sort.SliceStable(p.values, func(i, j int) bool {
		return CompareValues(p.values[i], p.values[j]) < 0
	})
	return p, nil
}

// parseIn parses $in, or $nin (the negation of $in over the whole path).
func parseIn(name string, e bson.RawValue, negate bool, coll *Collation) (node, error) {
	if e.Type != bsontype.Array {
		if negate {
			return nil, errBadValue("$nin needs an array")
		}
		return nil, errBadValue("$in needs an array")
	}
	arr, _ := e.ArrayOK()
	pred, err := newInPred(arr, coll)
	if err != nil {
		return nil, err
	}
	n := newPathNode(name, leafTraverse, pred)
	if negate {
		return &notNode{child: n}, nil
	}
	return n, nil
}
