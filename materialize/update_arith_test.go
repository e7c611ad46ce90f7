package materialize

import (
	"math"
	"testing"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func updTestDec(t *testing.T, s string) udec {
	t.Helper()
	d, err := primitive.ParseDecimal128(s)
	if err != nil {
		t.Fatalf("bad decimal %q: %v", s, err)
	}
	hi, lo := d.GetBytes()
	return udecFromBits(hi, lo)
}

func updDecString(d udec) string {
	hi, lo := d.bits()
	return primitive.NewDecimal128(hi, lo).String()
}

// Expected values follow IEEE 754-2008 decimal128 arithmetic with round half
// to even, as computed by the Intel library mongod uses.
func TestUdec_Add(t *testing.T) {
	cases := []struct{ a, b, want string }{
		{"1.1", "1", "2.1"},
		{"1.0", "1.00", "2.00"},
		{"9999999999999999999999999999999999", "1", "1.000000000000000000000000000000000E+34"},
		{"1234567890123456789012345678901234", "0.5", "1234567890123456789012345678901234"},
		{"1234567890123456789012345678901235", "0.5", "1234567890123456789012345678901236"},
		{"1234567890123456789012345678901234", "0.51", "1234567890123456789012345678901235"},
		{"-0", "0", "0"},
		{"-0", "-0", "-0"},
		{"-0.00", "0E+3", "0.00"},
		{"5", "-5", "0"},
		{"Infinity", "-Infinity", "NaN"},
		{"Infinity", "1", "Infinity"},
		{"-Infinity", "-1E+100", "-Infinity"},
		{"NaN", "1", "NaN"},
		{"1", "NaN", "NaN"},
		{"1E+6111", "1E+6111", "2E+6111"},
		{"9.999999999999999999999999999999999E+6144", "1E+6111", "Infinity"},
		{"1E-6176", "1E-6176", "2E-6176"},
		{"1E+100", "1E-100", "1.000000000000000000000000000000000E+100"},
		{"-1.5", "0.25", "-1.25"},
	}
	for _, c := range cases {
		if got := updDecString(udecAdd(updTestDec(t, c.a), updTestDec(t, c.b))); got != c.want {
			t.Errorf("%s + %s = %s, want %s", c.a, c.b, got, c.want)
		}
	}
}

func TestUdec_Mul(t *testing.T) {
	cases := []struct{ a, b, want string }{
		{"1.5", "2", "3.0"},
		{"-1.5", "0", "-0.0"},
		{"1.5", "-0", "-0.0"},
		{"Infinity", "0", "NaN"},
		{"-Infinity", "2", "-Infinity"},
		{"1E+6111", "10", "1.0E+6112"},
		{"1E+6144", "10", "Infinity"},
		{"1E-6176", "0.1", "0E-6176"},
		{"1E-6176", "0.5", "0E-6176"},
		{"3E-6176", "0.5", "2E-6176"},
		{"1111111111111111111111111111111111", "3", "3333333333333333333333333333333333"},
		{"1111111111111111111111111111111111", "9", "9999999999999999999999999999999999"},
		{"1111111111111111111111111111111111", "10", "1.111111111111111111111111111111111E+34"},
		{"3333333333333333333333333333333333", "3", "9999999999999999999999999999999999"},
		{"3333333333333333333333333333333334", "3", "1.000000000000000000000000000000000E+34"},
	}
	for _, c := range cases {
		if got := updDecString(udecMul(updTestDec(t, c.a), updTestDec(t, c.b))); got != c.want {
			t.Errorf("%s * %s = %s, want %s", c.a, c.b, got, c.want)
		}
	}
}

func TestUdec_FromDouble(t *testing.T) {
	cases := []struct {
		f    float64
		want string
	}{
		{0.1, "0.100000000000000"},
		{1, "1.00000000000000"},
		{-2.5, "-2.50000000000000"},
		{123.456, "123.456000000000"},
		{1e20, "1.00000000000000E+20"},
		{1.0 / 3, "0.333333333333333"},
		{2.0 / 3, "0.666666666666667"},
		{9.999999999999999, "10.0000000000000"},
		{0, "0"},
		{math.Copysign(0, -1), "-0"},
		{5e-324, "4.94065645841247E-324"},
		{math.MaxFloat64, "1.79769313486232E+308"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
		{math.NaN(), "NaN"},
		{1234567890123456789, "1.23456789012346E+18"},
	}
	for _, c := range cases {
		if got := updDecString(udecFromDouble(c.f)); got != c.want {
			t.Errorf("Decimal128(%v) = %s, want %s", c.f, got, c.want)
		}
	}
}

func TestUdec_Equal(t *testing.T) {
	eq := [][2]string{{"1.0", "1.00"}, {"0", "-0E+5"}, {"Infinity", "Infinity"}, {"100", "1E+2"}}
	ne := [][2]string{{"NaN", "NaN"}, {"1", "-1"}, {"Infinity", "-Infinity"}, {"1", "1.000000000000000000000000000000001"}}
	for _, p := range eq {
		if !udecEqual(updTestDec(t, p[0]), updTestDec(t, p[1])) {
			t.Errorf("%s != %s", p[0], p[1])
		}
	}
	for _, p := range ne {
		if udecEqual(updTestDec(t, p[0]), updTestDec(t, p[1])) {
			t.Errorf("%s == %s", p[0], p[1])
		}
	}
}

func TestUpdNum_Add(t *testing.T) {
	i32 := func(v int32) updNum { return updNum{t: bsontype.Int32, i32: v} }
	i64 := func(v int64) updNum { return updNum{t: bsontype.Int64, i64: v} }
	f64 := func(v float64) updNum { return updNum{t: bsontype.Double, f64: v} }
	cases := []struct {
		a, b updNum
		want updNum
		ok   bool
	}{
		{i32(1), i32(2), i32(3), true},
		{i32(math.MaxInt32), i32(1), i64(math.MaxInt32 + 1), true},
		{i32(math.MinInt32), i32(-1), i64(math.MinInt32 - 1), true},
		{i32(1), i64(2), i64(3), true},
		{i64(math.MaxInt64), i32(1), updNum{}, false},
		{i64(math.MinInt64), i64(-1), updNum{}, false},
		{i64(math.MaxInt64), i64(-1), i64(math.MaxInt64 - 1), true},
		{i32(1), f64(0.5), f64(1.5), true},
		{i64(1 << 60), f64(1), f64(float64(1<<60) + 1), true},
	}
	for i, c := range cases {
		got, ok := updNumAdd(c.a, c.b)
		if ok != c.ok || (ok && !updNumIdentical(got, c.want)) {
			t.Errorf("case %d: got %+v %v, want %+v %v", i, got, ok, c.want, c.ok)
		}
	}
	if _, ok := updNumMul(i64(math.MinInt64), i32(-1)); ok {
		t.Error("MinInt64 * -1 must overflow")
	}
	if got, ok := updNumMul(i64(math.MinInt64), i32(1)); !ok || got.i64 != math.MinInt64 {
		t.Error("MinInt64 * 1")
	}
	if got, ok := updNumMul(i32(-65536), i32(65536)); !ok || got.t != bsontype.Int64 || got.i64 != -4294967296 {
		t.Errorf("int32 product overflow: %+v", got)
	}
}
