package materialize

import (
	"math"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Bitwise query operators: $bitsAllSet, $bitsAnySet, $bitsAllClear,
// $bitsAnyClear. The argument is an array of bit positions, a non-negative
// integer bitmask, or BinData. Numbers are tested as 64-bit two's complement
// (positions past 63 test the sign bit, i.e. numbers are sign-extended);
// BinData values are tested byte by byte, little-endian, zero-extended.

type bitsOp int

const (
	bitsAllSet bitsOp = iota
	bitsAllClear
	bitsAnySet
	bitsAnyClear
)

// bitsPred is a compiled bit test.
type bitsPred struct {
	op        bitsOp
	positions []uint32
	mask      uint64
}

func newBitsPredPositions(op bitsOp, positions []uint32) *bitsPred {
	p := &bitsPred{op: op, positions: positions}
	for _, pos := range positions {
		// Positions past 63 test the sign bit: numbers are sign-extended.
		if pos > 63 {
			pos = 63
		}
		p.mask |= 1 << pos
	}
	return p
}

func newBitsPredMask(op bitsOp, mask uint64) *bitsPred {
	p := &bitsPred{op: op, mask: mask}
	for i := uint32(0); i < 64; i++ {
		if mask&(1<<i) != 0 {
			p.positions = append(p.positions, i)
		}
	}
	return p
}

func newBitsPredBinary(op bitsOp, data []byte) *bitsPred {
	var positions []uint32
	for byteIdx, b := range data {
		for bit := 0; bit < 8; bit++ {
			if b&(1<<bit) != 0 {
				positions = append(positions, uint32(8*byteIdx+bit))
			}
		}
	}
	return newBitsPredPositions(op, positions)
}

func (p *bitsPred) matchValue(e bson.RawValue, _ *matchDetails) bool {
	switch e.Type {
	case bsontype.Binary:
		_, data, ok := e.BinaryOK()
		if !ok {
			return false
		}
		return p.testBinary(data)
	case bsontype.Int32:
		i, _ := e.Int32OK()
		return p.testInt(int64(i))
	case bsontype.Int64:
		i, _ := e.Int64OK()
		return p.testInt(i)
	case bsontype.Double:
		f, _ := e.DoubleOK()
		if math.IsNaN(f) || f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
			return false
		}
		if f != float64(int64(f)) {
			return false // only integral doubles take part
		}
		return p.testInt(int64(f))
	case bsontype.Decimal128:
		i, ok := decimalExactInt64(e)
		if !ok {
			return false
		}
		return p.testInt(i)
	}
	return false
}

func (p *bitsPred) testInt(v int64) bool {
	u := uint64(v)
	switch p.op {
	case bitsAllSet:
		return u&p.mask == p.mask
	case bitsAllClear:
		return ^u&p.mask == p.mask
	case bitsAnySet:
		return u&p.mask != 0
	default:
		return ^u&p.mask != 0
	}
}

func (p *bitsPred) testBinary(data []byte) bool {
	wantSet := p.op == bitsAllSet || p.op == bitsAnySet
	isAll := p.op == bitsAllSet || p.op == bitsAllClear
	for _, pos := range p.positions {
		set := false
		if int(pos/8) < len(data) {
			set = data[pos/8]&(1<<(pos%8)) != 0
		}
		if set == wantSet {
			if !isAll {
				return true // an _ANY_ test succeeded
			}
		} else if isAll {
			return false // an _ALL_ test failed
		}
	}
	return isAll
}

// parseBitTest parses the argument of a bit test operator on path name.
func parseBitTest(name string, kind opKind, e bson.RawValue) (node, error) {
	var op bitsOp
	var opName string
	switch kind {
	case opKindBitsAllSet:
		op, opName = bitsAllSet, "$bitsAllSet"
	case opKindBitsAllClear:
		op, opName = bitsAllClear, "$bitsAllClear"
	case opKindBitsAnySet:
		op, opName = bitsAnySet, "$bitsAnySet"
	default:
		op, opName = bitsAnyClear, "$bitsAnyClear"
	}
	var pred *bitsPred
	switch {
	case e.Type == bsontype.Array:
		arr, _ := e.ArrayOK()
		var positions []uint32
		var perr error
		iterElements(arr, func(key string, pos bson.RawValue) bool {
			n, err := parseIntegerElementToNonNegativeInt(key, pos)
			if err != nil {
				perr = errBadValue("Failed to parse bit position. %s", err.Message)
				return false
			}
			positions = append(positions, uint32(n))
			return true
		})
		if perr != nil {
			return nil, perr
		}
		pred = newBitsPredPositions(op, positions)
	case isNumeric(e.Type):
		mask, err := parseIntegerElementToNonNegativeLong(opName, e)
		if err != nil {
			return nil, err
		}
		pred = newBitsPredMask(op, uint64(mask))
	case e.Type == bsontype.Binary:
		_, data, _ := e.BinaryOK()
		pred = newBitsPredBinary(op, data)
	default:
		return nil, errBadValue("%s takes an Array, a number, or a BinData but received: %s", name, elemString(opName, e))
	}
	return newPathNode(name, leafTraverse, pred), nil
}
