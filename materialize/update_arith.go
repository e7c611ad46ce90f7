package materialize

import (
	"encoding/binary"
	"math"
	"math/big"

	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file is mongod's SafeNum: the arithmetic behind $inc, $mul and $bit.
// Types are preserved the way the server preserves them: int32 op int32 stays
// int32 unless the result does not fit, then it becomes int64; int64 overflow
// is an error, not a silent switch to double; any double makes a double; any
// decimal128 makes a decimal128 (doubles are first rounded to 15 significant
// digits, as Decimal128(double, kRoundTo15Digits) does).

// updNum is a number of one of the four numeric BSON types.
type updNum struct {
	t   bsontype.Type
	i32 int32
	i64 int64
	f64 float64
	d   udec
}

// updNumFromValue reads a numeric value; ok is false for other types.
func updNumFromValue(t bsontype.Type, b []byte) (updNum, bool) {
	switch t {
	case bsontype.Int32:
		if len(b) >= 4 {
			return updNum{t: t, i32: int32(binary.LittleEndian.Uint32(b))}, true
		}
	case bsontype.Int64:
		if len(b) >= 8 {
			return updNum{t: t, i64: int64(binary.LittleEndian.Uint64(b))}, true
		}
	case bsontype.Double:
		if len(b) >= 8 {
			return updNum{t: t, f64: math.Float64frombits(binary.LittleEndian.Uint64(b))}, true
		}
	case bsontype.Decimal128:
		if len(b) >= 16 {
			return updNum{t: t, d: udecFromBits(binary.LittleEndian.Uint64(b[8:]), binary.LittleEndian.Uint64(b))}, true
		}
	}
	return updNum{}, false
}

// node encodes the number as a new value.
func (n updNum) node() *dnode {
	var b []byte
	switch n.t {
	case bsontype.Int32:
		b = binary.LittleEndian.AppendUint32(nil, uint32(n.i32))
	case bsontype.Int64:
		b = binary.LittleEndian.AppendUint64(nil, uint64(n.i64))
	case bsontype.Double:
		b = binary.LittleEndian.AppendUint64(nil, math.Float64bits(n.f64))
	case bsontype.Decimal128:
		hi, lo := n.d.bits()
		b = binary.LittleEndian.AppendUint64(nil, lo)
		b = binary.LittleEndian.AppendUint64(b, hi)
	}
	return dnFromValue(n.t, b)
}

func (n updNum) asInt64() int64 {
	if n.t == bsontype.Int32 {
		return int64(n.i32)
	}
	return n.i64
}

func (n updNum) asDouble() float64 {
	switch n.t {
	case bsontype.Int32:
		return float64(n.i32)
	case bsontype.Int64:
		return float64(n.i64)
	}
	return n.f64
}

func (n updNum) asDecimal() udec {
	switch n.t {
	case bsontype.Int32:
		return udecFromInt(int64(n.i32))
	case bsontype.Int64:
		return udecFromInt(n.i64)
	case bsontype.Double:
		return udecFromDouble(n.f64)
	}
	return n.d
}

func updInt32OrInt64(v int64) updNum {
	if v >= math.MinInt32 && v <= math.MaxInt32 {
		return updNum{t: bsontype.Int32, i32: int32(v)}
	}
	return updNum{t: bsontype.Int64, i64: v}
}

// updNumAdd is SafeNum addition; ok is false when an int64 result overflows
// (the server then fails the update).
func updNumAdd(a, b updNum) (updNum, bool) {
	switch {
	case a.t == bsontype.Int32 && b.t == bsontype.Int32:
		return updInt32OrInt64(int64(a.i32) + int64(b.i32)), true
	case (a.t == bsontype.Int32 || a.t == bsontype.Int64) && (b.t == bsontype.Int32 || b.t == bsontype.Int64):
		x, y := a.asInt64(), b.asInt64()
		s := x + y
		if (y > 0 && s < x) || (y < 0 && s > x) {
			return updNum{}, false
		}
		return updNum{t: bsontype.Int64, i64: s}, true
	case a.t == bsontype.Decimal128 || b.t == bsontype.Decimal128:
		return updNum{t: bsontype.Decimal128, d: udecAdd(a.asDecimal(), b.asDecimal())}, true
	}
	return updNum{t: bsontype.Double, f64: a.asDouble() + b.asDouble()}, true
}

// updNumMul is SafeNum multiplication.
func updNumMul(a, b updNum) (updNum, bool) {
	switch {
	case a.t == bsontype.Int32 && b.t == bsontype.Int32:
		return updInt32OrInt64(int64(a.i32) * int64(b.i32)), true
	case (a.t == bsontype.Int32 || a.t == bsontype.Int64) && (b.t == bsontype.Int32 || b.t == bsontype.Int64):
		x, y := a.asInt64(), b.asInt64()
		if x == 0 || y == 0 {
			return updNum{t: bsontype.Int64}, true
		}
		p := x * y
		if p/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
			return updNum{}, false
		}
		return updNum{t: bsontype.Int64, i64: p}, true
	case a.t == bsontype.Decimal128 || b.t == bsontype.Decimal128:
		return updNum{t: bsontype.Decimal128, d: udecMul(a.asDecimal(), b.asDecimal())}, true
	}
	return updNum{t: bsontype.Double, f64: a.asDouble() * b.asDouble()}, true
}

// updNumBit applies a bitwise operator ('a'nd, 'o'r, 'x'or) to two integers:
// int32 with int32 stays int32, anything with an int64 is int64.
func updNumBit(op byte, a, b updNum) updNum {
	if a.t == bsontype.Int32 && b.t == bsontype.Int32 {
		var r int32
		switch op {
		case 'a':
			r = a.i32 & b.i32
		case 'o':
			r = a.i32 | b.i32
		default:
			r = a.i32 ^ b.i32
		}
		return updNum{t: bsontype.Int32, i32: r}
	}
	x, y := a.asInt64(), b.asInt64()
	var r int64
	switch op {
	case 'a':
		r = x & y
	case 'o':
		r = x | y
	default:
		r = x ^ y
	}
	return updNum{t: bsontype.Int64, i64: r}
}

// updNumIdentical is SafeNum::isIdentical: same type and equal value (for
// doubles ==, so NaN is never identical; for decimals numeric equality).
func updNumIdentical(a, b updNum) bool {
	if a.t != b.t {
		return false
	}
	switch a.t {
	case bsontype.Int32:
		return a.i32 == b.i32
	case bsontype.Int64:
		return a.i64 == b.i64
	case bsontype.Double:
		return a.f64 == b.f64
	case bsontype.Decimal128:
		return udecEqual(a.d, b.d)
	}
	return false
}

// ---------------------------------------------------------------------------
// Decimal128 (IEEE 754-2008 decimal, BID encoding), round half to even, as
// the Intel library the server links does by default.

const (
	udecFinite = iota
	udecInf
	udecNaN

	udecDigits  = 34
	udecExpMin  = -6176 // smallest quantum exponent (Etiny)
	udecExpMax  = 6111  // largest quantum exponent
	udecExpBias = 6176
)

var (
	udecTen        = big.NewInt(10)
	udecMaxCoef    = new(big.Int).Sub(new(big.Int).Exp(udecTen, big.NewInt(udecDigits), nil), big.NewInt(1))
	udecDefaultNaN = udec{kind: udecNaN, nanHi: 0x7C00000000000000}
)

// udec is a decoded decimal128. Finite values are (-1)^neg * coef * 10^exp.
type udec struct {
	kind         int
	neg          bool
	coef         *big.Int
	exp          int
	nanHi, nanLo uint64
}

func udecFromBits(hi, lo uint64) udec {
	neg := hi>>63 == 1
	switch (hi >> 58) & 0x1F {
	case 0x1F:
		return udec{kind: udecNaN, nanHi: hi &^ (1 << 57), nanLo: lo} // quiet it
	case 0x1E:
		return udec{kind: udecInf, neg: neg}
	}
	var exp int
	coef := new(big.Int)
	if (hi>>61)&3 == 3 {
		// The "large coefficient" form cannot hold a valid decimal128
		// coefficient; such encodings are non-canonical zeros.
		exp = int((hi >> 47) & 0x3FFF)
	} else {
		exp = int((hi >> 49) & 0x3FFF)
		coef.SetUint64(hi & (1<<49 - 1))
		coef.Lsh(coef, 64)
		coef.Or(coef, new(big.Int).SetUint64(lo))
		if coef.Cmp(udecMaxCoef) > 0 {
			coef.SetInt64(0)
		}
	}
	return udec{kind: udecFinite, neg: neg, coef: coef, exp: exp - udecExpBias}
}

func (d udec) bits() (hi, lo uint64) {
	switch d.kind {
	case udecNaN:
		return d.nanHi, d.nanLo
	case udecInf:
		hi = 0x7800000000000000
		if d.neg {
			hi |= 1 << 63
		}
		return hi, 0
	}
	c0 := new(big.Int).And(d.coef, new(big.Int).SetUint64(math.MaxUint64)).Uint64()
	c1 := new(big.Int).Rsh(d.coef, 64).Uint64()
	hi = uint64(d.exp+udecExpBias)<<49 | c1
	if d.neg {
		hi |= 1 << 63
	}
	return hi, c0
}

func udecFromInt(v int64) udec {
	neg := v < 0
	c := new(big.Int).SetInt64(v)
	c.Abs(c)
	return udec{kind: udecFinite, neg: neg, coef: c, exp: 0}
}

// udecFromDouble is Decimal128(double, kRoundTo15Digits): the double is first
// converted to the nearest 34-digit decimal (binary64_to_bid128), then
// quantized to exactly 15 significant digits. Zero, infinities and NaN are
// converted without quantizing.
func udecFromDouble(f float64) udec {
	switch {
	case math.IsNaN(f):
		hi := uint64(0x7C00000000000000)
		if math.Signbit(f) {
			hi |= 1 << 63
		}
		return udec{kind: udecNaN, nanHi: hi}
	case math.IsInf(f, 0):
		return udec{kind: udecInf, neg: f < 0}
	case f == 0:
		return udec{kind: udecFinite, neg: math.Signbit(f), coef: new(big.Int), exp: 0}
	}
	bits := math.Float64bits(f)
	neg := bits>>63 == 1
	e2 := int((bits >> 52) & 0x7FF)
	m := bits & (1<<52 - 1)
	if e2 == 0 {
		e2 = 1
	} else {
		m |= 1 << 52
	}
	e2 -= 1075
	c := new(big.Int).SetUint64(m)
	e10 := 0
	if e2 >= 0 {
		c.Lsh(c, uint(e2))
	} else {
		// m * 2^e2 == m * 5^-e2 * 10^e2
		c.Mul(c, new(big.Int).Exp(big.NewInt(5), big.NewInt(int64(-e2)), nil))
		e10 = e2
	}
	// binary64_to_bid128: round to 34 digits.
	if nd := udecNumDigits(c); nd > udecDigits {
		c = udecRoundDrop(c, nd-udecDigits)
		e10 += nd - udecDigits
		if udecNumDigits(c) > udecDigits {
			c.Quo(c, udecTen)
			e10++
		}
	}
	// Quantize to 15 significant digits.
	nd := udecNumDigits(c)
	target := nd - 1 + e10 - 14
	switch {
	case target > e10:
		c = udecRoundDrop(c, target-e10)
		e10 = target
		if udecNumDigits(c) > 15 {
			c.Quo(c, udecTen)
			e10++
		}
	case target < e10:
		c.Mul(c, udecPow10(e10-target))
		e10 = target
	}
	return udec{kind: udecFinite, neg: neg, coef: c, exp: e10}
}

func udecPow10(n int) *big.Int {
	return new(big.Int).Exp(udecTen, big.NewInt(int64(n)), nil)
}

func udecNumDigits(c *big.Int) int {
	if c.Sign() == 0 {
		return 1
	}
	// BitLen gives a close estimate; correct it with one comparison.
	n := int(float64(c.BitLen()-1)*math.Log10(2)) + 1
	if n < 1 {
		n = 1
	}
	p := udecPow10(n)
	for c.CmpAbs(p) >= 0 {
		n++
		p.Mul(p, udecTen)
	}
	for n > 1 && c.CmpAbs(udecPow10(n-1)) < 0 {
		n--
	}
	return n
}

// udecRoundDrop divides c by 10^drop, rounding half to even.
func udecRoundDrop(c *big.Int, drop int) *big.Int {
	if drop <= 0 {
		return new(big.Int).Set(c)
	}
	if drop > udecNumDigits(c)+1 {
		return new(big.Int) // far below one half of the last unit
	}
	div := udecPow10(drop)
	q, r := new(big.Int).QuoRem(c, div, new(big.Int))
	r2 := new(big.Int).Lsh(r, 1)
	switch r2.Cmp(div) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// udecFinish rounds an exact result to 34 digits and the exponent range.
func udecFinish(neg bool, c *big.Int, e int) udec {
	if c.Sign() == 0 {
		if e < udecExpMin {
			e = udecExpMin
		}
		if e > udecExpMax {
			e = udecExpMax
		}
		return udec{kind: udecFinite, neg: neg, coef: c, exp: e}
	}
	nd := udecNumDigits(c)
	drop := nd - udecDigits
	if d2 := udecExpMin - e; d2 > drop {
		drop = d2
	}
	if drop > 0 {
		c = udecRoundDrop(c, drop)
		e += drop
		if udecNumDigits(c) > udecDigits {
			c.Quo(c, udecTen)
			e++
		}
	}
	if e > udecExpMax {
		if c.Sign() == 0 {
			e = udecExpMax
		} else if udecNumDigits(c)+(e-udecExpMax) <= udecDigits {
			c.Mul(c, udecPow10(e-udecExpMax))
			e = udecExpMax
		} else {
			return udec{kind: udecInf, neg: neg}
		}
	}
	return udec{kind: udecFinite, neg: neg, coef: c, exp: e}
}

func udecAdd(a, b udec) udec {
	if a.kind == udecNaN {
		return a
	}
	if b.kind == udecNaN {
		return b
	}
	if a.kind == udecInf || b.kind == udecInf {
		if a.kind == udecInf && b.kind == udecInf && a.neg != b.neg {
			return udecDefaultNaN
		}
		if a.kind == udecInf {
			return a
		}
		return b
	}
	e := min(a.exp, b.exp)
	x := new(big.Int).Mul(a.coef, udecPow10(a.exp-e))
	y := new(big.Int).Mul(b.coef, udecPow10(b.exp-e))
	if a.neg {
		x.Neg(x)
	}
	if b.neg {
		y.Neg(y)
	}
	s := x.Add(x, y)
	neg := s.Sign() < 0
	if s.Sign() == 0 {
		neg = a.neg && b.neg
	}
	return udecFinish(neg, s.Abs(s), e)
}

func udecMul(a, b udec) udec {
	if a.kind == udecNaN {
		return a
	}
	if b.kind == udecNaN {
		return b
	}
	neg := a.neg != b.neg
	if a.kind == udecInf || b.kind == udecInf {
		if (a.kind == udecFinite && a.coef.Sign() == 0) || (b.kind == udecFinite && b.coef.Sign() == 0) {
			return udecDefaultNaN
		}
		return udec{kind: udecInf, neg: neg}
	}
	return udecFinish(neg, new(big.Int).Mul(a.coef, b.coef), a.exp+b.exp)
}

// udecEqual is Decimal128::isEqual: numeric equality, NaN unequal to all.
func udecEqual(a, b udec) bool {
	if a.kind == udecNaN || b.kind == udecNaN {
		return false
	}
	if a.kind == udecInf || b.kind == udecInf {
		return a.kind == b.kind && a.neg == b.neg
	}
	if a.coef.Sign() == 0 && b.coef.Sign() == 0 {
		return true
	}
	if a.neg != b.neg {
		return false
	}
	e := min(a.exp, b.exp)
	x := new(big.Int).Mul(a.coef, udecPow10(a.exp-e))
	y := new(big.Int).Mul(b.coef, udecPow10(b.exp-e))
	return x.Cmp(y) == 0
}
