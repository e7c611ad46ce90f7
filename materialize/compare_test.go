package materialize

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

func qtDec(t testing.TB, s string) bson.RawValue {
	t.Helper()
	d, err := primitive.ParseDecimal128(s)
	if err != nil {
		t.Fatalf("bad decimal %q: %v", s, err)
	}
	return valDecimal(d)
}

// TestCompareValues_TypeOrder checks MongoDB's cross-type order: each value
// is strictly less than every later one.
func TestCompareValues_TypeOrder(t *testing.T) {
	ordered := []string{
		`{"$minKey": 1}`,
		`{"$undefined": true}`,
		`null`,
		`{"$numberDouble": "NaN"}`,
		`{"$numberDouble": "-Infinity"}`,
		`-5`,
		`0`,
		`1.5`,
		`{"$numberLong": "9007199254740993"}`,
		`{"$numberDouble": "Infinity"}`,
		`""`,
		`"a"`,
		`"ab"`,
		`"b"`,
		`{}`,
		`{"a": 1}`,
		`{"a": 1, "b": 1}`,
		`{"b": 0}`,
		`{"a": "x"}`,
		`[]`,
		`[1]`,
		`[1, 2]`,
		`[2]`,
		`{"$binary": {"base64": "AQ==", "subType": "80"}}`,
		`{"$binary": {"base64": "AQI=", "subType": "00"}}`,
		`{"$binary": {"base64": "AQM=", "subType": "00"}}`,
		`{"$oid": "000000000000000000000000"}`,
		`{"$oid": "ffffffffffffffffffffffff"}`,
		`false`,
		`true`,
		`{"$date": {"$numberLong": "-1"}}`,
		`{"$date": {"$numberLong": "0"}}`,
		`{"$timestamp": {"t": 1, "i": 5}}`,
		`{"$timestamp": {"t": 2, "i": 0}}`,
		`{"$timestamp": {"t": 4294967295, "i": 0}}`,
		`{"$regularExpression": {"pattern": "a", "options": "i"}}`,
		`{"$regularExpression": {"pattern": "a", "options": "m"}}`,
		`{"$regularExpression": {"pattern": "b", "options": ""}}`,
		`{"$dbPointer": {"$ref": "a", "$id": {"$oid": "000000000000000000000000"}}}`,
		`{"$code": "a"}`,
		`{"$code": "b"}`,
		`{"$code": "a", "$scope": {}}`,
		`{"$maxKey": 1}`,
	}
	vals := make([]bson.RawValue, len(ordered))
	for i, s := range ordered {
		vals[i] = qtVal(t, s)
	}
	for i := range vals {
		for j := range vals {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			assert.Equal(t, want, CompareValues(vals[i], vals[j]), "%s vs %s", ordered[i], ordered[j])
		}
	}
}

func TestCompareValues_Numbers(t *testing.T) {
	i32 := func(i int32) bson.RawValue { return valInt32(i) }
	i64 := func(i int64) bson.RawValue { return valInt64(i) }
	f64 := func(f float64) bson.RawValue { return valDouble(f) }
	dec := func(s string) bson.RawValue { return qtDec(t, s) }
	cases := []struct {
		a, b bson.RawValue
		want int
	}{
		{i32(1), i64(1), 0},
		{i32(1), f64(1), 0},
		{i64(1), f64(1.0), 0},
		{i32(1), dec("1"), 0},
		{i32(1), dec("1.000"), 0},
		{dec("1E+2"), i32(100), 0},
		{f64(0.5), dec("0.5"), 0},
		{f64(-0.0), i32(0), 0},
		{f64(-0.0), dec("-0"), 0},
		{dec("0E-10"), dec("-0E+5"), 0},
		{i32(1), f64(1.5), -1},
		{f64(2.5), i64(2), 1},
		{i32(-3), f64(-2.5), -1},
		// Decimal and double compare exactly: 0.1 as a double is not 0.1.
		{f64(0.1), dec("0.1"), 1},
		{f64(0.1), dec("0.1000000000000000055511151231257827"), 1},
		{f64(0.1), dec("0.1000000000000000055511151231257828"), -1},
		{dec("0.3"), f64(0.3), 1},
		// int64 values beyond 2^53 stay exact against doubles.
		{i64(9007199254740993), f64(9007199254740992), 1},
		{i64(9007199254740992), f64(9007199254740992), 0},
		{i64(math.MaxInt64), f64(9223372036854775807), -1},
		{i64(math.MinInt64), f64(-9223372036854775808), 0},
		{i64(math.MinInt64), f64(-9.3e18), 1},
		{i64(math.MaxInt64), dec("9223372036854775807"), 0},
		{i64(math.MaxInt64), dec("9223372036854775806.5"), 1},
		{dec("1E+6000"), f64(math.MaxFloat64), 1},
		{dec("1E-6000"), f64(5e-324), -1},
		{dec("-1E-6000"), i32(0), -1},
		{dec("123456789012345678901234567890123.4"), dec("123456789012345678901234567890123.5"), -1},
		// NaN is equal to NaN and below every other number.
		{f64(math.NaN()), f64(math.NaN()), 0},
		{f64(math.NaN()), dec("NaN"), 0},
		{f64(math.NaN()), f64(math.Inf(-1)), -1},
		{dec("NaN"), i64(math.MinInt64), -1},
		{dec("-Infinity"), f64(math.Inf(-1)), 0},
		{dec("Infinity"), f64(math.Inf(1)), 0},
		{dec("Infinity"), dec("9.999999999999999999999999999999999E+6144"), 1},
		{f64(math.Inf(1)), i64(math.MaxInt64), 1},
		{f64(math.Inf(-1)), i32(math.MinInt32), -1},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			assert.Equal(t, c.want, CompareValues(c.a, c.b), "%v vs %v", c.a, c.b)
			assert.Equal(t, -c.want, CompareValues(c.b, c.a), "reversed")
			assert.Equal(t, c.want == 0, ValuesEqual(c.a, c.b))
		})
	}
}

func TestCompareValues_Strings(t *testing.T) {
	assert.Equal(t, -1, CompareValues(qtVal(t, `"B"`), qtVal(t, `"a"`)), "bytewise, no collation")
	assert.Equal(t, -1, CompareValues(qtVal(t, `"a"`), qtVal(t, `"a\u0000"`)))
	assert.Equal(t, 1, CompareValues(qtVal(t, `"é"`), qtVal(t, `"z"`)))
	// A symbol compares like a string.
	sym := qtVal(t, `{"$symbol": "abc"}`)
	assert.Equal(t, 0, CompareValues(sym, qtVal(t, `"abc"`)))
	assert.True(t, ValuesEqual(qtVal(t, `"abc"`), sym))
	assert.Equal(t, -1, CompareValues(sym, qtVal(t, `"abd"`)))
}

func TestCompareValues_DocumentsAndArrays(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{`{"a": 1}`, `{"a": 1.0}`, 0},
		{`{"a": 1}`, `{"b": 1}`, -1},
		{`{"a": 2}`, `{"b": 1}`, -1},
		// Canonical type of the field is compared before its name.
		{`{"b": 1}`, `{"a": "x"}`, -1},
		{`{"a": null}`, `{"a": 0}`, -1},
		{`{"a": {"b": 1}}`, `{"a": {"b": 1, "c": 0}}`, -1},
		{`{}`, `{"a": {"$minKey": 1}}`, -1},
		{`[1, 2, 3]`, `[1, 2]`, 1},
		{`[1, [2]]`, `[1, 2]`, 1},
		{`[[1]]`, `[{"a": 1}]`, 1},
		{`[null]`, `[]`, 1},
		{`[1, 2]`, `[1.0, {"$numberLong": "2"}]`, 0},
	}
	for _, c := range cases {
		t.Run(c.a+" vs "+c.b, func(t *testing.T) {
			assert.Equal(t, c.want, CompareValues(qtVal(t, c.a), qtVal(t, c.b)))
			assert.Equal(t, -c.want, CompareValues(qtVal(t, c.b), qtVal(t, c.a)))
		})
	}
}

func TestCompareDocuments_FieldByField(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{`{}`, `{}`, 0},
		{`{}`, `{"a": 1}`, -1},
		{`{"a": 1, "b": 2}`, `{"a": 1, "b": 2}`, 0},
		{`{"a": 1, "b": 2}`, `{"b": 2, "a": 1}`, -1},
		{`{"_id": 1}`, `{"_id": {"$numberLong": "1"}}`, 0},
		{`{"a": 1}`, `{"a": 1, "b": null}`, -1},
		{`{"a": "x"}`, `{"a": 5}`, 1},
		{`{"z": 1}`, `{"a": "x"}`, -1},
	}
	for _, c := range cases {
		t.Run(c.a+" vs "+c.b, func(t *testing.T) {
			assert.Equal(t, c.want, CompareDocuments(qtDoc(t, c.a), qtDoc(t, c.b)))
			assert.Equal(t, -c.want, CompareDocuments(qtDoc(t, c.b), qtDoc(t, c.a)))
		})
	}
}

func TestCompareValues_MissingSortsWithUndefined(t *testing.T) {
	missing := bson.RawValue{}
	assert.Equal(t, 0, CompareValues(missing, qtVal(t, `{"$undefined": true}`)))
	assert.Equal(t, -1, CompareValues(missing, qtVal(t, `null`)))
	assert.Equal(t, 1, CompareValues(missing, qtVal(t, `{"$minKey": 1}`)))
}

func TestCompareValues_BinaryLengthFirst(t *testing.T) {
	bin := func(st byte, data ...byte) bson.RawValue {
		return bson.RawValue{Type: bsontype.Binary, Value: bsoncore.AppendBinary(nil, st, data)}
	}
	assert.Equal(t, -1, CompareValues(bin(0x80, 9), bin(0, 1, 1)), "shorter first")
	assert.Equal(t, -1, CompareValues(bin(0, 9), bin(1, 1)), "then subtype")
	assert.Equal(t, -1, CompareValues(bin(4, 1, 2), bin(4, 1, 3)), "then bytes")
	assert.Equal(t, 0, CompareValues(bin(4, 1, 2), bin(4, 1, 2)))
}

func TestCompareValues_MalformedDoesNotPanic(t *testing.T) {
	bad := []bson.RawValue{
		{Type: bsontype.Double, Value: []byte{1}},
		{Type: bsontype.Int32},
		{Type: bsontype.String, Value: []byte{0xff, 0xff, 0xff, 0xff}},
		{Type: bsontype.EmbeddedDocument, Value: []byte{3, 0, 0, 0}},
		{Type: bsontype.Array, Value: []byte{200, 0, 0, 0, 0}},
		{Type: bsontype.Decimal128, Value: []byte{1, 2}},
		{Type: bsontype.Binary, Value: []byte{5, 0}},
		{Type: bsontype.Regex, Value: []byte{'a'}},
		{Type: bsontype.ObjectID, Value: []byte{1}},
		{Type: bsontype.Boolean},
		{Type: bsontype.Timestamp, Value: []byte{1}},
		{Type: bsontype.CodeWithScope, Value: []byte{1, 2, 3}},
		{Type: bsontype.Type(0x42), Value: []byte{1}},
	}
	good := []bson.RawValue{qtVal(t, `1`), qtVal(t, `"a"`), qtVal(t, `{"a": 1}`), qtVal(t, `[1]`), {}}
	for _, a := range bad {
		for _, b := range append(append([]bson.RawValue{}, bad...), good...) {
			assert.NotPanics(t, func() {
				x, y := CompareValues(a, b), CompareValues(b, a)
				assert.Equal(t, x, -y, "antisymmetric for %v vs %v", a, b)
			})
		}
	}
	assert.NotPanics(t, func() { CompareDocuments(bson.Raw{1, 2}, qtDoc(t, `{"a": 1}`)) })
}

func TestValuesEqual_NumericTypes(t *testing.T) {
	vals := []bson.RawValue{valInt32(7), valInt64(7), valDouble(7), qtDec(t, "7"), qtDec(t, "7.00"), qtDec(t, "0.07E+2")}
	for _, a := range vals {
		for _, b := range vals {
			assert.True(t, ValuesEqual(a, b), "%v == %v", a, b)
		}
	}
	assert.False(t, ValuesEqual(valInt32(7), qtVal(t, `"7"`)))
	assert.False(t, ValuesEqual(qtVal(t, `null`), bson.RawValue{}))
	assert.False(t, ValuesEqual(qtVal(t, `false`), valInt32(0)))
}
