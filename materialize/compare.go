package materialize

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// This file implements MongoDB's BSON total order (bsonobj/bsonelement
// woCompare and mongo/base/compare_numbers.h). Everything here is a pure
// function, safe for concurrent use, and never panics on malformed BSON:
// malformed values compare by their raw bytes so the order stays total.

// canonicalType is the server's canonicalizeBSONType: types in the same
// bracket compare by value, different brackets compare by rank alone.
func canonicalType(t bsontype.Type) int {
	switch t {
	case bsontype.MinKey:
		return -1
	case 0, bsontype.Undefined: // 0 is EOO: a missing value
		return 0
	case bsontype.Null:
		return 5
	case bsontype.Double, bsontype.Int32, bsontype.Int64, bsontype.Decimal128:
		return 10
	case bsontype.String, bsontype.Symbol:
		return 15
	case bsontype.EmbeddedDocument:
		return 20
	case bsontype.Array:
		return 25
	case bsontype.Binary:
		return 30
	case bsontype.ObjectID:
		return 35
	case bsontype.Boolean:
		return 40
	case bsontype.DateTime:
		return 45
	case bsontype.Timestamp:
		return 47
	case bsontype.Regex:
		return 50
	case bsontype.DBPointer:
		return 55
	case bsontype.JavaScript:
		return 60
	case bsontype.CodeWithScope:
		return 65
	case bsontype.MaxKey:
		return 127
	}
	// Not a BSON type: order after MaxKey by type byte so the order stays total.
	return 200 + int(t)
}

// isNumeric reports whether t is one of the four numeric BSON types.
func isNumeric(t bsontype.Type) bool {
	return t == bsontype.Double || t == bsontype.Int32 || t == bsontype.Int64 || t == bsontype.Decimal128
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

// CompareValues compares two BSON values in MongoDB's total order and returns
// -1, 0 or 1. Numbers compare by numeric value across int32, int64, double and
// decimal128 (NaN is below every other number and equal to itself); strings
// compare bytewise (no collation). A zero RawValue (missing) orders with
// undefined, below null. It is safe for concurrent use.
func CompareValues(a, b bson.RawValue) int {
	ca, cb := canonicalType(a.Type), canonicalType(b.Type)
	if ca != cb {
		if ca < cb {
			return -1
		}
		return 1
	}
	return compareSameCanonical(a, b)
}

// ValuesEqual reports whether a and b are equal in MongoDB's order, so
// int32(1), int64(1), 1.0 and decimal 1 are all equal, and NaN equals NaN.
func ValuesEqual(a, b bson.RawValue) bool {
	return CompareValues(a, b) == 0
}

// CompareDocuments compares two documents the way the server's
// BSONObj::woCompare does: element by element, each by canonical type, then
// field name, then value; a document that is a prefix of the other is smaller.
func CompareDocuments(a, b bson.Raw) int {
	return compareDocBytes(a, b, true)
}

func compareDocBytes(a, b []byte, considerNames bool) int {
	return compareDocBytesColl(a, b, considerNames, nil)
}

// compareDocBytesColl is compareDocBytes with strings compared under coll
// (nil: bytewise).
func compareDocBytesColl(a, b []byte, considerNames bool, coll *Collation) int {
	ca, okA := newElemCursor(a)
	cb, okB := newElemCursor(b)
	if !okA || !okB {
		// Malformed input: fall back to bytes so the result is still total.
		return sign(bytes.Compare(a, b))
	}
	for {
		xk, x, okX := ca.next()
		yk, y, okY := cb.next()
		switch {
		case !okX && !okY:
			return 0
		case !okX:
			return -1
		case !okY:
			return 1
		}
		if x.Type != y.Type {
			if c := sign(canonicalType(x.Type) - canonicalType(y.Type)); c != 0 {
				return c
			}
		}
		if considerNames {
			if c := bytes.Compare(xk, yk); c != 0 {
				return c
			}
		}
		if c := compareSameCanonicalColl(x, y, coll); c != 0 {
			return c
		}
	}
}

// compareCString compares like strcmp: bytewise.
func compareCString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// element is one decoded element of a document or array.
type element struct {
	key string
	val bson.RawValue
}

// docElements decodes the elements of a document or array. It reports false
// when the bytes are not a well-formed document at the top level (nested
// values are checked lazily by whoever reads them).
func docElements(doc []byte) ([]element, bool) {
	var out []element
	ok := iterElements(doc, func(key string, v bson.RawValue) bool {
		out = append(out, element{key, v})
		return true
	})
	return out, ok
}

// iterElements calls fn for every element of the document or array doc until
// fn returns false. It returns false if doc is malformed; elements before the
// malformation have already been passed to fn.
func iterElements(doc []byte, fn func(key string, v bson.RawValue) bool) bool {
	length, _, ok := bsoncore.ReadLength(doc)
	if !ok || length < 5 || int(length) > len(doc) || doc[length-1] != 0 {
		return false
	}
	rem := doc[4 : length-1]
	for len(rem) > 0 {
		elem, next, ok := bsoncore.ReadElement(rem)
		if !ok {
			return false
		}
		idx := bytes.IndexByte(elem[1:], 0)
		if idx < 0 {
			return false
		}
		key := string(elem[1 : idx+1])
		v := bson.RawValue{Type: bsontype.Type(elem[0]), Value: elem[idx+2:]}
		if !fn(key, v) {
			return true
		}
		rem = next
	}
	return true
}

// maxValidateDepth bounds validateDocument's recursion; real documents are
// limited to 100 levels by the server, so this only stops hostile input.
const maxValidateDepth = 1000

// validateDocument checks that doc is well-formed BSON all the way down.
// (The driver's bson.Raw.Validate panics on some malformed input, such as a
// zero length prefix, so it cannot be used on untrusted bytes.)
func validateDocument(doc []byte) error {
	return validateDocumentDepth(doc, 0)
}

func validateDocumentDepth(doc []byte, depth int) error {
	if depth > maxValidateDepth {
		return errBadValue("document nested deeper than %d levels", maxValidateDepth)
	}
	length, _, ok := bsoncore.ReadLength(doc)
	if !ok || length < 5 || int(length) != len(doc) {
		return errBadValue("invalid document length")
	}
	var verr error
	ok = iterElements(doc, func(key string, v bson.RawValue) bool {
		verr = validateValue(v, depth)
		return verr == nil
	})
	if verr != nil {
		return verr
	}
	if !ok {
		return errBadValue("malformed element")
	}
	return nil
}

func validateValue(v bson.RawValue, depth int) error {
	bad := func() error { return errBadValue("malformed value of type %#x", byte(v.Type)) }
	switch v.Type {
	case bsontype.EmbeddedDocument, bsontype.Array:
		return validateDocumentDepth(v.Value, depth+1)
	case bsontype.Double, bsontype.DateTime, bsontype.Int64, bsontype.Timestamp:
		if len(v.Value) != 8 {
			return bad()
		}
	case bsontype.Int32:
		if len(v.Value) != 4 {
			return bad()
		}
	case bsontype.Decimal128:
		if len(v.Value) != 16 {
			return bad()
		}
	case bsontype.ObjectID:
		if len(v.Value) != 12 {
			return bad()
		}
	case bsontype.Boolean:
		if len(v.Value) != 1 || v.Value[0] > 1 {
			return bad()
		}
	case bsontype.Null, bsontype.Undefined, bsontype.MinKey, bsontype.MaxKey:
		if len(v.Value) != 0 {
			return bad()
		}
	case bsontype.String, bsontype.Symbol, bsontype.JavaScript:
		l, rest, ok := bsoncore.ReadLength(v.Value)
		if !ok || l < 1 || int(l) != len(rest) || rest[l-1] != 0 {
			return bad()
		}
	case bsontype.Binary:
		if _, _, ok := v.BinaryOK(); !ok {
			return bad()
		}
	case bsontype.Regex:
		if _, _, ok := v.RegexOK(); !ok {
			return bad()
		}
	case bsontype.DBPointer:
		if _, _, ok := v.DBPointerOK(); !ok {
			return bad()
		}
	case bsontype.CodeWithScope:
		_, scope, ok := v.CodeWithScopeOK()
		if !ok {
			return bad()
		}
		return validateDocumentDepth(scope, depth+1)
	default:
		return bad()
	}
	return nil
}

// lookupField returns the value of the first top-level field called name
// in doc (like BSONObj::getField). It is on the hot path of every match, so
// it walks the bytes without allocating.
func lookupField(doc []byte, name string) (bson.RawValue, bool) {
	c, ok := newElemCursor(doc)
	if !ok {
		return bson.RawValue{}, false
	}
	for {
		key, v, ok := c.next()
		if !ok {
			return bson.RawValue{}, false
		}
		if string(key) == name {
			return v, true
		}
	}
}

// elemCursor walks the elements of a document or array without allocating.
type elemCursor struct{ rem []byte }

func newElemCursor(doc []byte) (elemCursor, bool) {
	length, _, ok := bsoncore.ReadLength(doc)
	if !ok || length < 5 || int(length) > len(doc) || doc[length-1] != 0 {
		return elemCursor{}, false
	}
	return elemCursor{rem: doc[4 : length-1]}, true
}

// next returns the next element; ok is false at the end or on malformed
// bytes.
func (c *elemCursor) next() (key []byte, v bson.RawValue, ok bool) {
	if len(c.rem) == 0 {
		return nil, bson.RawValue{}, false
	}
	elem, rest, ok := bsoncore.ReadElement(c.rem)
	if !ok {
		c.rem = nil
		return nil, bson.RawValue{}, false
	}
	idx := bytes.IndexByte(elem[1:], 0)
	if idx < 0 {
		c.rem = nil
		return nil, bson.RawValue{}, false
	}
	c.rem = rest
	return elem[1 : idx+1], bson.RawValue{Type: bsontype.Type(elem[0]), Value: elem[idx+2:]}, true
}

// compareSameCanonical compares two values whose canonical types are equal.
func compareSameCanonical(a, b bson.RawValue) int {
	return compareSameCanonicalColl(a, b, nil)
}

// compareSameCanonicalColl is compareSameCanonical with strings and symbols
// compared under coll (nil: bytewise).
func compareSameCanonicalColl(a, b bson.RawValue, coll *Collation) int {
	switch canonicalType(a.Type) {
	case -1, 0, 5, 127:
		return 0
	case 10:
		return compareNumbers(a, b)
	case 15:
		sa, okA := stringBytes(a)
		sb, okB := stringBytes(b)
		if okA && okB {
			return compareCollated(coll, sa, sb)
		}
	case 20:
		da, okA := a.DocumentOK()
		db, okB := b.DocumentOK()
		if okA && okB {
			return compareDocBytesColl(da, db, true, coll)
		}
	case 25:
		// Array keys are positions, so comparing by value alone is the same
		// as the server's field-name-aware compare for well-formed arrays.
		da, okA := a.ArrayOK()
		db, okB := b.ArrayOK()
		if okA && okB {
			return compareDocBytesColl(da, db, false, coll)
		}
	case 30:
		sta, xa, okA := a.BinaryOK()
		stb, xb, okB := b.BinaryOK()
		if okA && okB {
			// Server: length first, then subtype, then bytes.
			if len(xa) != len(xb) {
				return sign(len(xa) - len(xb))
			}
			if sta != stb {
				return sign(int(sta) - int(stb))
			}
			return sign(bytes.Compare(xa, xb))
		}
	case 35:
		if len(a.Value) >= 12 && len(b.Value) >= 12 {
			return sign(bytes.Compare(a.Value[:12], b.Value[:12]))
		}
	case 40:
		if len(a.Value) >= 1 && len(b.Value) >= 1 {
			ba, bb := a.Value[0] != 0, b.Value[0] != 0
			switch {
			case ba == bb:
				return 0
			case bb:
				return -1
			default:
				return 1
			}
		}
	case 45:
		if len(a.Value) >= 8 && len(b.Value) >= 8 {
			x := int64(binary.LittleEndian.Uint64(a.Value))
			y := int64(binary.LittleEndian.Uint64(b.Value))
			return cmpOrdered(x, y)
		}
	case 47:
		// Timestamps compare as unsigned 64-bit (seconds high, increment low).
		if len(a.Value) >= 8 && len(b.Value) >= 8 {
			return cmpOrdered(binary.LittleEndian.Uint64(a.Value), binary.LittleEndian.Uint64(b.Value))
		}
	case 50:
		pa, oa, okA := a.RegexOK()
		pb, ob, okB := b.RegexOK()
		if okA && okB {
			if c := compareCString(pa, pb); c != 0 {
				return c
			}
			return compareCString(oa, ob)
		}
	case 55:
		// DBPointer: value size, then raw bytes.
		if len(a.Value) != len(b.Value) {
			return sign(len(a.Value) - len(b.Value))
		}
		return sign(bytes.Compare(a.Value, b.Value))
	case 60:
		ca, okA := a.JavaScriptOK()
		cb, okB := b.JavaScriptOK()
		if okA && okB {
			return compareCString(ca, cb)
		}
	case 65:
		ca, sa, okA := a.CodeWithScopeOK()
		cb, sb, okB := b.CodeWithScopeOK()
		if okA && okB {
			if c := compareCString(ca, cb); c != 0 {
				return c
			}
			return compareDocBytes(sa, sb, true)
		}
	}
	// Malformed values, or unknown types: raw bytes keep the order total.
	if a.Type != b.Type {
		return cmpOrdered(a.Type, b.Type)
	}
	return sign(bytes.Compare(a.Value, b.Value))
}

func cmpOrdered[T int64 | uint64 | float64 | bsontype.Type | int](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// stringBytes returns the bytes of a string or symbol without copying.
func stringBytes(v bson.RawValue) ([]byte, bool) {
	if v.Type != bsontype.String && v.Type != bsontype.Symbol {
		return nil, false
	}
	l, rest, ok := bsoncore.ReadLength(v.Value)
	if !ok || l < 1 || int(l) > len(rest) {
		return nil, false
	}
	return rest[:l-1], true
}

// stringLike returns the text of a string or symbol.
func stringLike(v bson.RawValue) (string, bool) {
	switch v.Type {
	case bsontype.String:
		return v.StringValueOK()
	case bsontype.Symbol:
		return v.SymbolOK()
	}
	return "", false
}

// numClass orders the non-finite numbers: NaN < -Inf < finite < +Inf.
const (
	numNaN = iota
	numNegInf
	numFinite
	numPosInf
	numBad // malformed numeric bytes
)

// num is a decoded BSON number.
type num struct {
	t   bsontype.Type
	i   int64   // int32, int64
	f   float64 // double
	d   primitive.Decimal128
	cls int
}

func decodeNum(v bson.RawValue) num {
	n := num{t: v.Type, cls: numFinite}
	switch v.Type {
	case bsontype.Int32:
		x, ok := v.Int32OK()
		if !ok {
			n.cls = numBad
		}
		n.i = int64(x)
	case bsontype.Int64:
		x, ok := v.Int64OK()
		if !ok {
			n.cls = numBad
		}
		n.i = x
	case bsontype.Double:
		x, ok := v.DoubleOK()
		if !ok {
			n.cls = numBad
		}
		n.f = x
		switch {
		case math.IsNaN(x):
			n.cls = numNaN
		case math.IsInf(x, 1):
			n.cls = numPosInf
		case math.IsInf(x, -1):
			n.cls = numNegInf
		}
	case bsontype.Decimal128:
		x, ok := v.Decimal128OK()
		if !ok {
			n.cls = numBad
		}
		n.d = x
		switch {
		case x.IsNaN():
			n.cls = numNaN
		case x.IsInf() > 0:
			n.cls = numPosInf
		case x.IsInf() < 0:
			n.cls = numNegInf
		}
	default:
		n.cls = numBad
	}
	return n
}

// compareNumbers compares two numeric values exactly, as compare_numbers.h
// does: no value is ever rounded through float64 unless that is exact.
func compareNumbers(a, b bson.RawValue) int {
	x, y := decodeNum(a), decodeNum(b)
	return compareNum(x, y)
}

func compareNum(x, y num) int {
	if x.cls == numBad || y.cls == numBad {
		if x.cls == y.cls {
			return 0
		}
		if x.cls == numBad {
			return 1
		}
		return -1
	}
	if x.cls != y.cls {
		return cmpOrdered(x.cls, y.cls)
	}
	if x.cls != numFinite {
		return 0 // both NaN, or both the same infinity
	}
	xInt := x.t == bsontype.Int32 || x.t == bsontype.Int64
	yInt := y.t == bsontype.Int32 || y.t == bsontype.Int64
	switch {
	case xInt && yInt:
		return cmpOrdered(x.i, y.i)
	case x.t == bsontype.Double && y.t == bsontype.Double:
		return cmpOrdered(x.f, y.f) // -0 == 0, no NaN here
	case xInt && y.t == bsontype.Double:
		return compareLongToDouble(x.i, y.f)
	case x.t == bsontype.Double && yInt:
		return -compareLongToDouble(y.i, x.f)
	}
	// At least one decimal: compare exact decimal expansions.
	xc, xe := exactDecimal(x)
	yc, ye := exactDecimal(y)
	return compareDecimalParts(xc, xe, yc, ye)
}

// compareLongToDouble is the server's exact long/double comparison for
// finite doubles.
func compareLongToDouble(l int64, d float64) int {
	const precise = 1 << 53
	if l <= precise && l >= -precise {
		return cmpOrdered(float64(l), d)
	}
	const bound = 9223372036854775808.0 // 2^63
	if d >= bound {
		return -1
	}
	if d < -bound {
		return 1
	}
	// |l| > 2^53 so a double this close has no fractional part worth
	// comparing: truncation keeps the order.
	return cmpOrdered(l, int64(d))
}

// exactDecimal returns the finite number n as coefficient * 10^exponent,
// exactly (every finite double is a finite decimal).
func exactDecimal(n num) (*big.Int, int) {
	switch n.t {
	case bsontype.Int32, bsontype.Int64:
		return big.NewInt(n.i), 0
	case bsontype.Double:
		mant, exp := math.Frexp(n.f) // n.f = mant * 2^exp, 0.5 <= |mant| < 1
		m := int64(mant * (1 << 53))
		exp -= 53
		c := big.NewInt(m)
		if exp >= 0 {
			return c.Lsh(c, uint(exp)), 0
		}
		// m * 2^exp = m * 5^-exp * 10^exp
		five := new(big.Int).Exp(big.NewInt(5), big.NewInt(int64(-exp)), nil)
		return c.Mul(c, five), exp
	default:
		c, e, err := n.d.BigInt()
		if err != nil {
			return new(big.Int), 0
		}
		return c, e
	}
}

var bigTen = big.NewInt(10)

// compareDecimalParts compares c1*10^e1 with c2*10^e2.
func compareDecimalParts(c1 *big.Int, e1 int, c2 *big.Int, e2 int) int {
	s1, s2 := c1.Sign(), c2.Sign()
	if s1 != s2 || s1 == 0 {
		return cmpOrdered(s1, s2)
	}
	// Same sign, both non-zero: compare magnitudes by adjusted exponent
	// first, so we never build a 10^6000 integer for far-apart values.
	a1 := len(new(big.Int).Abs(c1).String()) + e1
	a2 := len(new(big.Int).Abs(c2).String()) + e2
	if a1 != a2 {
		if a1 > a2 {
			return s1
		}
		return -s1
	}
	x, y := new(big.Int).Set(c1), new(big.Int).Set(c2)
	if e1 > e2 {
		x.Mul(x, new(big.Int).Exp(bigTen, big.NewInt(int64(e1-e2)), nil))
	} else if e2 > e1 {
		y.Mul(y, new(big.Int).Exp(bigTen, big.NewInt(int64(e2-e1)), nil))
	}
	return x.Cmp(y)
}
