package materialize

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// This file holds the update operators: how each one checks its argument
// when the update is compiled (the leaf's init in mongod) and what it does to
// an existing value or to a path that does not exist yet.

// updLeaf is one operator applied at one path.
type updLeaf struct {
	op    updOp
	name  string // the field name as written in the update (the source for $rename)
	path  string // the path the leaf sits at
	parts []string
	val   bson.RawValue
	num   updNum

	isDate     bool            // $currentDate
	renameFrom []string        // $rename
	push       *updPushSpec    // $push
	addVals    []bson.RawValue // $addToSet, deduplicated
	popFront   bool            // $pop
	pull       *updPullSpec    // $pull
	pullAll    []bson.RawValue // $pullAll
	bits       []updBitOp      // $bit
	coll       *Collation      // comparisons of $min, $max, $addToSet, $pull, $pullAll (nil: simple)
}

type updBitOp struct {
	op      byte // 'a', 'o' or 'x'
	operand updNum
}

// updInitLeaf validates an operator's argument (mongod's UpdateLeafNode::init).
func updInitLeaf(op updOp, name string, val bson.RawValue, coll *Collation) (*updLeaf, error) {
	l := &updLeaf{op: op, name: name, val: val, coll: coll}
	switch op {
	case opInc, opMul:
		n, ok := updNumFromValue(val.Type, val.Value)
		if !ok {
			verb := "increment"
			if op == opMul {
				verb = "multiply"
			}
			return nil, errTypeMismatch("Cannot %s with non-numeric argument: {%s}", verb, dnFormatRawElem(name, val))
		}
		l.num = n
	case opCurrentDate:
		if err := l.initCurrentDate(); err != nil {
			return nil, err
		}
	case opRename:
		if err := l.initRename(); err != nil {
			return nil, err
		}
	case opPush:
		spec, err := updParsePush(val)
		if err != nil {
			return nil, err
		}
		if spec.sort != nil {
			spec.sort.coll = coll
		}
		l.push = spec
	case opAddToSet:
		vals, err := updParseAddToSet(val, coll)
		if err != nil {
			return nil, err
		}
		l.addVals = vals
	case opPop:
		v, err := updParseInteger(name, val)
		if err != nil {
			return nil, err
		}
		if v != 1 && v != -1 {
			return nil, errFailedToParse("$pop expects 1 or -1, found: %d", v)
		}
		l.popFront = v == -1
	case opPull:
		spec, err := updParsePull(val, coll)
		if err != nil {
			return nil, err
		}
		l.pull = spec
	case opPullAll:
		if val.Type != bsontype.Array {
			return nil, errBadValue("$pullAll requires an array argument but was given a %s", dnTypeName(val.Type))
		}
		l.pullAll = updArrayValues(val)
	case opBit:
		if err := l.initBit(); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (l *updLeaf) initCurrentDate() error {
	switch l.val.Type {
	case bsontype.Boolean:
		// Both true and false mean "set a date".
		l.isDate = true
		return nil
	case bsontype.EmbeddedDocument:
		d := dnFromRaw(l.val)
		d.expand()
		found := false
		for _, k := range d.kids {
			if k.name != "$type" {
				return errBadValue("Unrecognized $currentDate option: %s", k.name)
			}
			if k.n.t == bsontype.String {
				switch updStringValue(k.n.data) {
				case "date":
					l.isDate, found = true, true
				case "timestamp":
					l.isDate, found = false, true
				}
			}
		}
		if !found {
			return errBadValue("The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}")
		}
		return nil
	}
	return errBadValue("%s is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).", dnTypeName(l.val.Type))
}

func (l *updLeaf) initRename() error {
	to := updStringValue(l.val.Value)
	if strings.IndexByte(to, 0) >= 0 {
		return errBadValue("The 'to' field for $rename cannot contain an embedded null byte")
	}
	from := strings.Split(l.name, ".")
	toParts := strings.Split(to, ".")
	expr := dnFormatRawElem(l.name, l.val)
	if l.name == to {
		return errBadValue("The source and target field for $rename must differ: %s", expr)
	}
	if updIsPrefix(from, toParts) || updIsPrefix(toParts, from) {
		return errBadValue("The source and target field for $rename must not be on the same path: %s", expr)
	}
	dynamic := func(parts []string) bool {
		for _, p := range parts {
			if p == "$" || updIsIdentifier(p) {
				return true
			}
		}
		return false
	}
	if dynamic(from) {
		return errBadValue("The source field for $rename may not be dynamic: %s", l.name)
	}
	if dynamic(toParts) {
		return errBadValue("The destination field for $rename may not be dynamic: %s", to)
	}
	l.renameFrom = from
	return nil
}

// updIsPrefix reports whether a is a strict, component-wise prefix of b.
func updIsPrefix(a, b []string) bool {
	if len(a) >= len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (l *updLeaf) initBit() error {
	if l.val.Type != bsontype.EmbeddedDocument {
		return errBadValue("The $bit modifier is not compatible with a %s. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}", dnTypeName(l.val.Type))
	}
	d := dnFromRaw(l.val)
	d.expand()
	for _, k := range d.kids {
		var op byte
		switch k.name {
		case "and":
			op = 'a'
		case "or":
			op = 'o'
		case "xor":
			op = 'x'
		default:
			return errBadValue("The $bit modifier only supports 'and', 'or', and 'xor', not '%s' which is an unknown operator: {%s}", k.name, dnFormatElem(k.name, k.n))
		}
		if k.n.t != bsontype.Int32 && k.n.t != bsontype.Int64 {
			return errBadValue("The $bit modifier field must be an Integer(32/64 bit); a '%s' is not supported here: {%s}", dnTypeName(k.n.t), dnFormatElem(k.name, k.n))
		}
		n, _ := updNumFromValue(k.n.t, k.n.data)
		l.bits = append(l.bits, updBitOp{op: op, operand: n})
	}
	if len(l.bits) == 0 {
		return errBadValue("You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}")
	}
	return nil
}

// updParseInteger is parseIntegerElementToLong: an integral number of any
// numeric type that fits in 64 bits.
func updParseInteger(name string, v bson.RawValue) (int64, error) {
	elem := dnFormatRawElem(name, v)
	n, ok := updNumFromValue(v.Type, v.Value)
	if !ok {
		return 0, errFailedToParse("Expected a number in: %s", elem)
	}
	switch n.t {
	case bsontype.Int32:
		return int64(n.i32), nil
	case bsontype.Int64:
		return n.i64, nil
	case bsontype.Double:
		f := n.f64
		if math.IsNaN(f) {
			return 0, errFailedToParse("Expected an integer, but found NaN in: %s", elem)
		}
		if f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
			return 0, errFailedToParse("Cannot represent as a 64-bit integer: %s", elem)
		}
		if f != math.Trunc(f) {
			return 0, errFailedToParse("Expected an integer: %s", elem)
		}
		return int64(f), nil
	}
	// Decimal: toLongExact fails on NaN, infinities, fractions and overflow.
	d := n.d
	if d.kind != udecFinite {
		return 0, errFailedToParse("Cannot represent as a 64-bit integer: %s", elem)
	}
	c := new(big.Int).Set(d.coef)
	if d.exp > 0 {
		if d.exp > 40 && c.Sign() != 0 {
			return 0, errFailedToParse("Cannot represent as a 64-bit integer: %s", elem)
		}
		c.Mul(c, udecPow10(d.exp))
	} else if d.exp < 0 {
		q, r := new(big.Int).QuoRem(c, udecPow10(-d.exp), new(big.Int))
		if r.Sign() != 0 {
			return 0, errFailedToParse("Cannot represent as a 64-bit integer: %s", elem)
		}
		c = q
	}
	if d.neg {
		c.Neg(c)
	}
	if !c.IsInt64() {
		return 0, errFailedToParse("Cannot represent as a 64-bit integer: %s", elem)
	}
	return c.Int64(), nil
}

// updArrayValues returns the elements of an array value.
func updArrayValues(v bson.RawValue) []bson.RawValue {
	n := dnFromRaw(v)
	n.expand()
	out := make([]bson.RawValue, len(n.kids))
	for i, k := range n.kids {
		out[i] = k.n.value()
	}
	return out
}

// allowCreation reports whether the operator creates a missing path.
func (l *updLeaf) allowCreation() bool {
	switch l.op {
	case opUnset, opPop, opPull, opPullAll, opRenameSource:
		return false
	}
	return true
}

// newValue is the value an operator gives a path that did not exist.
func (a *updApplier) newValue(l *updLeaf) (*dnode, error) {
	switch l.op {
	case opInc:
		return l.num.node(), nil
	case opMul:
		// The product with 0 keeps the operand's type (and a decimal's
		// exponent, and a double's sign).
		z, _ := updNumMul(l.num, updNum{t: bsontype.Int32})
		return z.node(), nil
	case opCurrentDate:
		return a.now(l), nil
	case opPush:
		arr := dnEmpty(bsontype.Array)
		l.push.perform(arr)
		return arr, nil
	case opAddToSet:
		arr := dnEmpty(bsontype.Array)
		for _, v := range l.addVals {
			arr.kids = append(arr.kids, dnKid{n: dnFromRaw(v)})
		}
		return arr, nil
	case opBit:
		v := updNum{t: bsontype.Int32}
		for _, b := range l.bits {
			v = updNumBit(b.op, v, b.operand)
		}
		return v.node(), nil
	}
	return dnFromRaw(l.val), nil
}

// updateExisting applies the operator to the existing element at pos and
// reports whether it changed it.
func (a *updApplier) updateExisting(l *updLeaf, pos updPos) (bool, error) {
	el := pos.element()
	switch l.op {
	case opSet, opSetOnInsert:
		cur := el.value()
		if cur.Type == l.val.Type && bytes.Equal(cur.Value, l.val.Value) {
			return false, nil
		}
		el.set(dnFromRaw(l.val))
		return true, nil
	case opUnset:
		parent := pos.parent()
		if parent.t == bsontype.Array {
			// $unset of an array element sets it to null; arrays keep their
			// length.
			el.set(dnNull())
		} else {
			parent.removeKid(parent.indexOf(el))
		}
		return true, nil
	case opInc, opMul:
		cur, ok := updNumFromValue(el.t, el.data)
		if !ok {
			opName := "$inc"
			if l.op == opMul {
				opName = "$mul"
			}
			return false, errTypeMismatch("Cannot apply %s to a value of non-numeric type. {%s} has the field '%s' of non-numeric type %s",
				opName, a.idString(), pos.name(), dnTypeName(el.t))
		}
		var res updNum
		if l.op == opInc {
			res, ok = updNumAdd(l.num, cur)
		} else {
			res, ok = updNumMul(l.num, cur)
		}
		if !ok {
			// Only int64 results overflow (int32 ones widen to int64).
			opName := "$inc"
			if l.op == opMul {
				opName = "$mul"
			}
			return false, errBadValue("Failed to apply %s operations to current value (%s) for document {%s}",
				opName, updNumDebugString(cur), a.idString())
		}
		if updNumIdentical(res, cur) {
			return false, nil
		}
		el.set(res.node())
		return true, nil
	case opMin, opMax:
		c := l.coll.CompareValues(el.value(), l.val)
		if c == 0 || (l.op == opMax && c > 0) || (l.op == opMin && c < 0) {
			return false, nil
		}
		el.set(dnFromRaw(l.val))
		return true, nil
	case opCurrentDate:
		el.set(a.now(l))
		return true, nil
	case opPush:
		if el.t != bsontype.Array {
			return false, errBadValue("The field '%s' must be an array but is of type %s in document {%s}",
				pos.takenPath(), dnTypeName(el.t), a.idString())
		}
		return l.push.perform(el), nil
	case opAddToSet:
		if el.t != bsontype.Array {
			return false, errBadValue("Cannot apply $addToSet to non-array field. Field named '%s' has non-array type %s",
				pos.name(), dnTypeName(el.t))
		}
		el.expand()
		var add []bson.RawValue
		for _, v := range l.addVals {
			present := false
			for _, k := range el.kids {
				if l.coll.CompareValues(k.n.value(), v) == 0 {
					present = true
					break
				}
			}
			if !present {
				add = append(add, v)
			}
		}
		for _, v := range add {
			el.kids = append(el.kids, dnKid{n: dnFromRaw(v)})
		}
		return len(add) > 0, nil
	case opPop:
		if el.t != bsontype.Array {
			return false, errTypeMismatch("Path '%s' contains an element of non-array type '%s'", pos.takenPath(), dnTypeName(el.t))
		}
		el.expand()
		if len(el.kids) == 0 {
			return false, nil
		}
		if l.popFront {
			el.kids = el.kids[1:]
		} else {
			el.kids = el.kids[:len(el.kids)-1]
		}
		return true, nil
	case opPull, opPullAll:
		if el.t != bsontype.Array {
			return false, errBadValue("Cannot apply $pull to a non-array value")
		}
		el.expand()
		kept := el.kids[:0:0]
		for _, k := range el.kids {
			var hit bool
			if l.op == opPull {
				var err error
				if hit, err = l.pull.match(k.n); err != nil {
					return false, err
				}
			} else {
				v := k.n.value()
				for _, x := range l.pullAll {
					if l.coll.CompareValues(v, x) == 0 {
						hit = true
						break
					}
				}
			}
			if !hit {
				kept = append(kept, k)
			}
		}
		if len(kept) == len(el.kids) {
			return false, nil
		}
		el.kids = kept
		return true, nil
	case opBit:
		cur, ok := updNumFromValue(el.t, el.data)
		if !ok || (el.t != bsontype.Int32 && el.t != bsontype.Int64) {
			return false, errBadValue("Cannot apply $bit to a value of non-integral type.%s has the field %s of non-integer type %s",
				a.idString(), pos.name(), dnTypeName(el.t))
		}
		res := cur
		for _, b := range l.bits {
			res = updNumBit(b.op, res, b.operand)
		}
		if updNumIdentical(res, cur) {
			return false, nil
		}
		el.set(res.node())
		return true, nil
	}
	return false, nil
}

// updNumDebugString is SafeNum::debugString.
func updNumDebugString(n updNum) string {
	switch n.t {
	case bsontype.Int32:
		return "(NumberInt)" + strconv.FormatInt(int64(n.i32), 10)
	case bsontype.Int64:
		return "(NumberLong)" + strconv.FormatInt(n.i64, 10)
	case bsontype.Double:
		return "(NumberDouble)" + strconv.FormatFloat(n.f64, 'g', 6, 64)
	}
	hi, lo := n.d.bits()
	return "(NumberDecimal)" + primitive.NewDecimal128(hi, lo).String()
}

// now is the value $currentDate stores: a date in milliseconds, or a
// timestamp whose increment counts the timestamps issued by this update.
func (a *updApplier) now(l *updLeaf) *dnode {
	if l.isDate {
		return dnFromValue(bsontype.DateTime, binary.LittleEndian.AppendUint64(nil, uint64(a.ctx.Now.UnixMilli())))
	}
	a.tsInc++
	return updTimestamp(a.ctx.Now, a.tsInc)
}

func updTimestamp(now time.Time, inc uint32) *dnode {
	b := binary.LittleEndian.AppendUint32(nil, inc)
	b = binary.LittleEndian.AppendUint32(b, uint32(now.Unix()))
	return dnFromValue(bsontype.Timestamp, b)
}
