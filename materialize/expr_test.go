package materialize

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// qtEval compiles and evaluates the expression (extended JSON) on doc.
func qtEval(t *testing.T, expr, doc string) (bson.RawValue, error) {
	t.Helper()
	e, err := CompileExpression(qtVal(t, expr))
	if err != nil {
		return bson.RawValue{}, err
	}
	return e.Eval(qtDoc(t, doc))
}

type qtExprCase struct {
	expr, doc string
	want      string // extended JSON value, or "missing"
}

func qtRunExpr(t *testing.T, cases []qtExprCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.expr+" on "+c.doc, func(t *testing.T) {
			got, err := qtEval(t, c.expr, c.doc)
			require.NoError(t, err)
			if c.want == "missing" {
				assert.Equal(t, bsontype.Type(0), got.Type, "got %v", got)
				return
			}
			want := qtVal(t, c.want)
			assert.Equal(t, want.Type, got.Type, "type of %v (want %v)", got, want)
			assert.True(t, ValuesEqual(want, got), "got %v, want %v", got, want)
		})
	}
}

type qtExprErr struct {
	expr, doc string
	code      int32
	msg       string
}

func qtRunExprErr(t *testing.T, cases []qtExprErr) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			_, err := qtEval(t, c.expr, c.doc)
			qtAssertErr(t, err, c.code, c.msg)
		})
	}
}

func TestExpression_Eval_FieldPathsAndVariables(t *testing.T) {
	qtRunExpr(t, []qtExprCase{
		{`"$a"`, `{"a": 1}`, `1`},
		{`"$a"`, `{}`, `missing`},
		{`"$a.b"`, `{"a": {"b": "x"}}`, `"x"`},
		{`"$a.b"`, `{"a": 5}`, `missing`},
		// Arrays along the path collect values from their documents only.
		{`"$a.b"`, `{"a": [{"b": 1}, {"c": 2}, {"b": 3}, 4, [{"b": 5}]]}`, `[1, 3]`},
		{`"$a.b.c"`, `{"a": [{"b": [{"c": 1}, {"c": 2}]}, {"b": {"c": 3}}]}`, `[[1, 2], 3]`},
		{`"$a.0"`, `{"a": [7, 8]}`, `[]`},
		{`"$a.0"`, `{"a": {"0": 7}}`, `7`},
		{`"$$ROOT"`, `{"a": 1}`, `{"a": 1}`},
		{`"$$CURRENT.a"`, `{"a": 2}`, `2`},
		{`"$$ROOT.a.b"`, `{"a": {"b": 3}}`, `3`},
		{`"$$REMOVE"`, `{"a": 1}`, `missing`},
		{`"abc"`, `{}`, `"abc"`},
		{`5`, `{}`, `5`},
		{`null`, `{}`, `null`},
		{`[1, "$a", "$missing"]`, `{"a": 2}`, `[1, 2, null]`},
		{`{"x": "$a", "y": "$missing", "z": {"w": 1}}`, `{"a": 2}`, `{"x": 2, "z": {"w": 1}}`},
		{`{}`, `{}`, `{}`},
		{`{"$literal": "$a"}`, `{"a": 1}`, `"$a"`},
		{`{"$literal": {"$add": [1, 2]}}`, `{}`, `{"$add": [1, 2]}`},
	})
}

func TestExpression_Eval_Comparison(t *testing.T) {
	qtRunExpr(t, []qtExprCase{
		{`{"$eq": [1, 1.0]}`, `{}`, `true`},
		{`{"$eq": ["$a", "$b"]}`, `{"a": [1, 2], "b": [1, 2]}`, `true`},
		{`{"$eq": ["$a", 1]}`, `{"a": [1]}`, `false`},
		{`{"$eq": ["$a", null]}`, `{}`, `false`},
		{`{"$eq": ["$a", "$b"]}`, `{}`, `true`},
		{`{"$ne": [1, "1"]}`, `{}`, `true`},
		{`{"$gt": ["a", 1]}`, `{}`, `true`},
		{`{"$gt": [1, null]}`, `{}`, `true`},
		{`{"$lt": ["$a", null]}`, `{}`, `true`},
		{`{"$lt": [{"$numberDouble": "NaN"}, -1000]}`, `{}`, `true`},
		{`{"$gte": [2, 2]}`, `{}`, `true`},
		{`{"$lte": [3, 2]}`, `{}`, `false`},
		{`{"$cmp": [1, 2]}`, `{}`, `-1`},
		{`{"$cmp": ["b", "a"]}`, `{}`, `1`},
		{`{"$cmp": [{"$numberDecimal": "2"}, 2]}`, `{}`, `0`},
	})
}

func TestExpression_Eval_Boolean(t *testing.T) {
	qtRunExpr(t, []qtExprCase{
		{`{"$and": []}`, `{}`, `true`},
		{`{"$and": [1, "x", []]}`, `{}`, `true`},
		{`{"$and": [1, 0]}`, `{}`, `false`},
		{`{"$and": [true, "$missing"]}`, `{}`, `false`},
		{`{"$or": []}`, `{}`, `false`},
		{`{"$or": [null, 0, false, {"$numberDecimal": "0"}]}`, `{}`, `false`},
		{`{"$or": [null, 0.1]}`, `{}`, `true`},
		{`{"$or": true}`, `{}`, `true`},
		{`{"$not": [true]}`, `{}`, `false`},
		{`{"$not": 0}`, `{}`, `true`},
		{`{"$not": ["$missing"]}`, `{}`, `true`},
		// Short-circuit: the erroring branch is never evaluated.
		{`{"$or": [true, {"$divide": [1, 0]}]}`, `{}`, `true`},
		{`{"$and": [false, {"$divide": [1, 0]}]}`, `{}`, `false`},
	})
}

func TestExpression_Eval_Arithmetic(t *testing.T) {
	qtRunExpr(t, []qtExprCase{
		{`{"$add": [1, 2]}`, `{}`, `3`},
		{`{"$add": []}`, `{}`, `0`},
		{`{"$add": [1, {"$numberLong": "2"}]}`, `{}`, `{"$numberLong": "3"}`},
		{`{"$add": [1, 2.5]}`, `{}`, `3.5`},
		{`{"$add": [2147483647, 1]}`, `{}`, `{"$numberLong": "2147483648"}`},
		{`{"$add": [{"$numberLong": "9223372036854775807"}, 1]}`, `{}`, `9223372036854775808.0`},
		{`{"$add": [0.1, 0.2]}`, `{}`, `0.30000000000000004`},
		{`{"$add": [1e16, 1, 1]}`, `{}`, `10000000000000002.0`},
		{`{"$add": [{"$numberDecimal": "0.1"}, {"$numberDecimal": "0.2"}]}`, `{}`, `{"$numberDecimal": "0.3"}`},
		{`{"$add": [{"$numberDecimal": "0.1"}, 0.1]}`, `{}`, `{"$numberDecimal": "0.2"}`},
		{`{"$add": [{"$numberDecimal": "1"}, 1]}`, `{}`, `{"$numberDecimal": "2"}`},
		{`{"$add": [1, null]}`, `{}`, `null`},
		{`{"$add": [1, "$missing"]}`, `{}`, `null`},
		{`{"$add": [{"$date": "2020-01-01T00:00:00Z"}, 1000]}`, `{}`, `{"$date": "2020-01-01T00:00:01Z"}`},
		{`{"$add": [1000.4, {"$date": "2020-01-01T00:00:00Z"}]}`, `{}`, `{"$date": "2020-01-01T00:00:01Z"}`},
		{`{"$subtract": [5, 3]}`, `{}`, `2`},
		{`{"$subtract": [5, 3.5]}`, `{}`, `1.5`},
		{`{"$subtract": [{"$numberLong": "5"}, 3]}`, `{}`, `{"$numberLong": "2"}`},
		{`{"$subtract": [-2147483648, 1]}`, `{}`, `{"$numberLong": "-2147483649"}`},
		{`{"$subtract": [{"$numberLong": "-9223372036854775808"}, 1]}`, `{}`, `-9223372036854775809.0`},
		{`{"$subtract": [{"$numberDecimal": "1.5"}, 1]}`, `{}`, `{"$numberDecimal": "0.5"}`},
		{`{"$subtract": [{"$date": "2020-01-01T00:00:01Z"}, {"$date": "2020-01-01T00:00:00Z"}]}`, `{}`, `{"$numberLong": "1000"}`},
		{`{"$subtract": [{"$date": "2020-01-01T00:00:01Z"}, 1000]}`, `{}`, `{"$date": "2020-01-01T00:00:00Z"}`},
		{`{"$subtract": [null, "x"]}`, `{}`, `null`},
		{`{"$multiply": [2, 3]}`, `{}`, `6`},
		{`{"$multiply": []}`, `{}`, `1`},
		{`{"$multiply": [2, 1.5]}`, `{}`, `3.0`},
		{`{"$multiply": [65536, 65536]}`, `{}`, `{"$numberLong": "4294967296"}`},
		{`{"$multiply": [{"$numberLong": "4294967296"}, {"$numberLong": "4294967296"}]}`, `{}`, `18446744073709551616.0`},
		{`{"$multiply": [{"$numberDecimal": "1.1"}, 3]}`, `{}`, `{"$numberDecimal": "3.3"}`},
		{`{"$multiply": [2, null, "x"]}`, `{}`, `null`},
		{`{"$divide": [1, 4]}`, `{}`, `0.25`},
		{`{"$divide": [6, 3]}`, `{}`, `2.0`},
		{`{"$divide": [{"$numberDecimal": "1"}, 3]}`, `{}`, `{"$numberDecimal": "0.3333333333333333333333333333333333"}`},
		{`{"$divide": [{"$numberDecimal": "1"}, 4]}`, `{}`, `{"$numberDecimal": "0.25"}`},
		{`{"$divide": [{"$numberDecimal": "2"}, {"$numberDecimal": "3"}]}`, `{}`, `{"$numberDecimal": "0.6666666666666666666666666666666667"}`},
		{`{"$divide": [1, null]}`, `{}`, `null`},
		{`{"$mod": [7, 3]}`, `{}`, `1`},
		{`{"$mod": [-7, 3]}`, `{}`, `-1`},
		{`{"$mod": [7, -3]}`, `{}`, `1`},
		{`{"$mod": [7, {"$numberLong": "3"}]}`, `{}`, `{"$numberLong": "1"}`},
		{`{"$mod": [7.5, 2]}`, `{}`, `1.5`},
		{`{"$mod": [7, 2.5]}`, `{}`, `2.0`},
		{`{"$mod": [7, 2.0]}`, `{}`, `1`},
		{`{"$mod": [{"$numberDecimal": "7.5"}, 2]}`, `{}`, `{"$numberDecimal": "1.5"}`},
		{`{"$mod": [{"$numberDecimal": "-7.5"}, 2]}`, `{}`, `{"$numberDecimal": "-1.5"}`},
		{`{"$mod": [null, 0]}`, `{}`, `null`},
		{`{"$abs": -5}`, `{}`, `5`},
		{`{"$abs": [-5.5]}`, `{}`, `5.5`},
		{`{"$abs": {"$numberLong": "-5"}}`, `{}`, `{"$numberLong": "5"}`},
		{`{"$abs": -2147483648}`, `{}`, `{"$numberLong": "2147483648"}`},
		{`{"$abs": {"$numberDecimal": "-1.5"}}`, `{}`, `{"$numberDecimal": "1.5"}`},
		{`{"$abs": null}`, `{}`, `null`},
		{`{"$abs": "$missing"}`, `{}`, `null`},
		{`{"$add": [{"$multiply": ["$a", 2]}, {"$subtract": ["$b", 1]}]}`, `{"a": 3, "b": 10}`, `15`},
		// Decimal arithmetic: IEEE special values, rounding, overflow.
		{`{"$add": [{"$numberDecimal": "Infinity"}, {"$numberDecimal": "-Infinity"}]}`, `{}`, `{"$numberDecimal": "NaN"}`},
		{`{"$add": [{"$numberDecimal": "1"}, {"$numberDouble": "NaN"}]}`, `{}`, `{"$numberDecimal": "NaN"}`},
		{`{"$add": [{"$numberDecimal": "1"}, {"$numberDouble": "Infinity"}]}`, `{}`, `{"$numberDecimal": "Infinity"}`},
		{`{"$add": [{"$numberDecimal": "9.999999999999999999999999999999999E+6144"}, {"$numberDecimal": "9E+6144"}]}`, `{}`, `{"$numberDecimal": "Infinity"}`},
		{`{"$add": [{"$numberDecimal": "1"}, 0.1]}`, `{}`, `{"$numberDecimal": "1.10000000000000"}`},
		{`{"$add": [{"$numberDecimal": "1E+40"}, 1]}`, `{}`, `{"$numberDecimal": "1.000000000000000000000000000000000E+40"}`},
		{`{"$add": [{"$date": "2020-01-01T00:00:00Z"}, {"$numberDecimal": "1000.4"}, 1]}`, `{}`, `{"$date": "2020-01-01T00:00:01.001Z"}`},
		{`{"$multiply": [{"$numberDecimal": "Infinity"}, 0]}`, `{}`, `{"$numberDecimal": "NaN"}`},
		{`{"$multiply": [{"$numberDecimal": "-Infinity"}, 2]}`, `{}`, `{"$numberDecimal": "-Infinity"}`},
		{`{"$multiply": [{"$numberDecimal": "1E+6000"}, {"$numberDecimal": "1E+6000"}]}`, `{}`, `{"$numberDecimal": "Infinity"}`},
		{`{"$multiply": [2.5, {"$numberDecimal": "2"}]}`, `{}`, `{"$numberDecimal": "5.0"}`},
		{`{"$multiply": [3, 2.5, {"$numberDecimal": "2"}]}`, `{}`, `{"$numberDecimal": "15"}`},
		{`{"$divide": [{"$numberDecimal": "1"}, {"$numberDecimal": "Infinity"}]}`, `{}`, `{"$numberDecimal": "0"}`},
		{`{"$divide": [{"$numberDecimal": "-Infinity"}, 2]}`, `{}`, `{"$numberDecimal": "-Infinity"}`},
		{`{"$mod": [{"$numberDecimal": "Infinity"}, 2]}`, `{}`, `{"$numberDecimal": "NaN"}`},
		{`{"$mod": [{"$numberDecimal": "5"}, {"$numberDecimal": "Infinity"}]}`, `{}`, `{"$numberDecimal": "5"}`},
		{`{"$subtract": [{"$numberDecimal": "Infinity"}, {"$numberDecimal": "Infinity"}]}`, `{}`, `{"$numberDecimal": "NaN"}`},
		{`{"$subtract": [{"$numberDecimal": "0.3"}, 0.1]}`, `{}`, `{"$numberDecimal": "0.2"}`},
	})
}

func TestExpression_Eval_Conditional(t *testing.T) {
	qtRunExpr(t, []qtExprCase{
		{`{"$cond": [true, 1, 2]}`, `{}`, `1`},
		{`{"$cond": [0, 1, 2]}`, `{}`, `2`},
		{`{"$cond": {"if": {"$gt": ["$a", 5]}, "then": "big", "else": "small"}}`, `{"a": 7}`, `"big"`},
		{`{"$cond": {"else": 2, "then": 1, "if": "$missing"}}`, `{}`, `2`},
		{`{"$cond": [true, "$missing", 2]}`, `{}`, `missing`},
		{`{"$ifNull": ["$a", "default"]}`, `{}`, `"default"`},
		{`{"$ifNull": ["$a", "default"]}`, `{"a": null}`, `"default"`},
		{`{"$ifNull": ["$a", "default"]}`, `{"a": {"$undefined": true}}`, `"default"`},
		{`{"$ifNull": ["$a", "default"]}`, `{"a": 0}`, `0`},
		{`{"$ifNull": ["$a", "$b", "c"]}`, `{"b": 2}`, `2`},
		{`{"$ifNull": ["$a", "$b"]}`, `{}`, `missing`},
		{`{"$switch": {"branches": [{"case": {"$eq": ["$a", 1]}, "then": "one"}, {"case": {"$eq": ["$a", 2]}, "then": "two"}], "default": "many"}}`, `{"a": 2}`, `"two"`},
		{`{"$switch": {"branches": [{"case": {"$eq": ["$a", 1]}, "then": "one"}], "default": "many"}}`, `{"a": 9}`, `"many"`},
		{`{"$switch": {"branches": [{"case": true, "then": "$missing"}]}}`, `{}`, `missing`},
	})
}

func TestExpression_Eval_ArraysAndStrings(t *testing.T) {
	qtRunExpr(t, []qtExprCase{
		{`{"$in": [2, [1, 2]]}`, `{}`, `true`},
		{`{"$in": [2.0, [1, 2]]}`, `{}`, `true`},
		{`{"$in": ["$a", "$b"]}`, `{"a": [1], "b": [[1], 2]}`, `true`},
		{`{"$in": [3, []]}`, `{}`, `false`},
		{`{"$in": ["$missing", [null]]}`, `{}`, `false`},
		{`{"$size": [[1, 2, 3]]}`, `{}`, `3`},
		{`{"$size": "$a"}`, `{"a": []}`, `0`},
		{`{"$arrayElemAt": [[1, 2, 3], 0]}`, `{}`, `1`},
		{`{"$arrayElemAt": [[1, 2, 3], -1]}`, `{}`, `3`},
		{`{"$arrayElemAt": [[1, 2, 3], 3]}`, `{}`, `missing`},
		{`{"$arrayElemAt": [[1, 2, 3], -4]}`, `{}`, `missing`},
		{`{"$arrayElemAt": [[1, 2, 3], 1.0]}`, `{}`, `2`},
		{`{"$arrayElemAt": [[1, 2, 3], {"$numberLong": "2"}]}`, `{}`, `3`},
		{`{"$arrayElemAt": ["$a", 0]}`, `{}`, `null`},
		{`{"$arrayElemAt": [[1], null]}`, `{}`, `null`},
		{`{"$concat": ["a", "b", "$c"]}`, `{"c": "c"}`, `"abc"`},
		{`{"$concat": []}`, `{}`, `""`},
		{`{"$concat": ["a", "$missing"]}`, `{}`, `null`},
		{`{"$concat": ["a", null, 1]}`, `{}`, `null`},
		{`{"$toLower": "ABC def"}`, `{}`, `"abc def"`},
		{`{"$toUpper": ["abc"]}`, `{}`, `"ABC"`},
		{`{"$toUpper": "ée"}`, `{}`, `"éE"`},
		{`{"$toLower": null}`, `{}`, `""`},
		{`{"$toLower": "$missing"}`, `{}`, `""`},
		{`{"$toLower": 5}`, `{}`, `"5"`},
		{`{"$toLower": 1.5}`, `{}`, `"1.5"`},
		{`{"$toLower": 123456789.0}`, `{}`, `"1.23457e+08"`},
		{`{"$toLower": {"$numberDecimal": "1.50"}}`, `{}`, `"1.50"`},
		{`{"$toUpper": {"$date": "2020-01-02T03:04:05.678Z"}}`, `{}`, `"2020-01-02T03:04:05.678Z"`},
		{`{"$type": "$a"}`, `{"a": 1}`, `"int"`},
		{`{"$type": "$a"}`, `{"a": 1.5}`, `"double"`},
		{`{"$type": "$a"}`, `{"a": {"$numberLong": "1"}}`, `"long"`},
		{`{"$type": "$a"}`, `{"a": {"$numberDecimal": "1"}}`, `"decimal"`},
		{`{"$type": "$a"}`, `{"a": [1]}`, `"array"`},
		{`{"$type": "$a"}`, `{"a": {}}`, `"object"`},
		{`{"$type": "$a"}`, `{"a": null}`, `"null"`},
		{`{"$type": "$a"}`, `{}`, `"missing"`},
		{`{"$type": "$a"}`, `{"a": {"$oid": "5f0000000000000000000001"}}`, `"objectId"`},
		{`{"$type": "$a"}`, `{"a": {"$binary": {"base64": "AQ==", "subType": "00"}}}`, `"binData"`},
		{`{"$type": "$a"}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, `"regex"`},
		{`{"$type": [["$a"]]}`, `{"a": 1}`, `"array"`},
	})
}

func TestExpression_Compile_Errors(t *testing.T) {
	qtRunExprErr(t, []qtExprErr{
		{`{"$foo": 1}`, `{}`, 168, "Unrecognized expression '$foo'"},
		{`{"a": {"$foo": 1}}`, `{}`, 168, "Unrecognized expression '$foo'"},
		{`[{"$bar": 1}]`, `{}`, 168, "Unrecognized expression '$bar'"},
		{`{"$add": [1], "$sub": 2}`, `{}`, 15983, "an expression specification must contain exactly one field, the name of the expression. Found 2 fields in { $add: [ 1 ], $sub: 2 }, while parsing object { $add: [ 1 ], $sub: 2 }"},
		{`{"a": 1, "$add": [1]}`, `{}`, 16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField."},
		{`{"a.b": 1}`, `{}`, 16412, "FieldPath field names may not contain '.'. Consider using $getField or $setField."},
		{`"$"`, `{}`, 16872, "'$' by itself is not a valid FieldPath"},
		{`"$a..b"`, `{}`, 15998, "FieldPath field names may not be empty strings."},
		{`"$a.$b"`, `{}`, 16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField."},
		{`"$a."`, `{}`, 40353, "FieldPath must not end with a '.'."},
		{`"$$foo"`, `{}`, 17276, "Use of undefined variable: foo"},
		{`"$$"`, `{}`, 16869, "empty variable names are not allowed"},
		{`"$$NOW"`, `{}`, codeNotImplemented, ""},
		{`{"$eq": [1]}`, `{}`, 16020, "Expression $eq takes exactly 2 arguments. 1 were passed in."},
		{`{"$eq": 1}`, `{}`, 16020, "Expression $eq takes exactly 2 arguments. 1 were passed in."},
		{`{"$cmp": [1, 2, 3]}`, `{}`, 16020, "Expression $cmp takes exactly 2 arguments. 3 were passed in."},
		{`{"$not": [1, 2]}`, `{}`, 16020, "Expression $not takes exactly 1 arguments. 2 were passed in."},
		{`{"$subtract": [1]}`, `{}`, 16020, "Expression $subtract takes exactly 2 arguments. 1 were passed in."},
		{`{"$divide": []}`, `{}`, 16020, "Expression $divide takes exactly 2 arguments. 0 were passed in."},
		{`{"$size": [1, 2]}`, `{}`, 16020, "Expression $size takes exactly 1 arguments. 2 were passed in."},
		{`{"$cond": [1, 2]}`, `{}`, 16020, "Expression $cond takes exactly 3 arguments. 2 were passed in."},
		{`{"$cond": {"if": 1, "then": 2}}`, `{}`, 17082, "Missing 'else' parameter to $cond"},
		{`{"$cond": {"then": 2, "else": 3}}`, `{}`, 17080, "Missing 'if' parameter to $cond"},
		{`{"$cond": {"if": 1, "else": 3}}`, `{}`, 17081, "Missing 'then' parameter to $cond"},
		{`{"$cond": {"if": 1, "then": 2, "else": 3, "x": 4}}`, `{}`, 17083, "Unrecognized parameter to $cond: x"},
		{`{"$ifNull": ["$a"]}`, `{}`, 1257300, "$ifNull needs at least two arguments, had: 1"},
		{`{"$switch": 1}`, `{}`, 40060, "$switch requires an object as an argument, found: int"},
		{`{"$switch": {"branches": 1}}`, `{}`, 40061, "$switch expected an array for 'branches', found: int"},
		{`{"$switch": {"branches": [1]}}`, `{}`, 40062, "$switch expected each branch to be an object, found: int"},
		{`{"$switch": {"branches": [{"case": 1, "then": 2, "x": 3}]}}`, `{}`, 40063, "$switch found an unknown argument to a branch: x"},
		{`{"$switch": {"branches": [{"then": 2}]}}`, `{}`, 40064, "$switch requires each branch have a 'case' expression"},
		{`{"$switch": {"branches": [{"case": 2}]}}`, `{}`, 40065, "$switch requires each branch have a 'then' expression."},
		{`{"$switch": {"branches": [], "foo": 1}}`, `{}`, 40067, "$switch found an unknown argument: foo"},
		{`{"$switch": {"branches": []}}`, `{}`, 40068, "$switch requires at least one branch."},
	})
}

func TestExpression_Eval_Errors(t *testing.T) {
	qtRunExprErr(t, []qtExprErr{
		{`{"$add": [1, "a"]}`, `{}`, 14, "$add only supports numeric or date types, not string"},
		{`{"$add": ["$a", 1]}`, `{"a": [1]}`, 14, "$add only supports numeric or date types, not array"},
		{`{"$add": [{"$date": "2020-01-01T00:00:00Z"}, {"$date": "2020-01-01T00:00:00Z"}]}`, `{}`, 16612, "only one date allowed in an $add expression"},
		{`{"$subtract": ["a", 1]}`, `{}`, 14, "can't $subtract int from string"},
		{`{"$subtract": [1, {"$date": "2020-01-01T00:00:00Z"}]}`, `{}`, 14, "can't $subtract date from int"},
		{`{"$subtract": [{"$date": "2020-01-01T00:00:00Z"}, "x"]}`, `{}`, 14, "can't $subtract string from Date"},
		{`{"$multiply": [2, "x"]}`, `{}`, 14, "$multiply only supports numeric types, not string"},
		{`{"$divide": [1, 0]}`, `{}`, 2, "can't $divide by zero"},
		{`{"$divide": [1, 0.0]}`, `{}`, 2, "can't $divide by zero"},
		{`{"$divide": [{"$numberDecimal": "1"}, {"$numberDecimal": "0"}]}`, `{}`, 2, "can't $divide by zero"},
		{`{"$divide": ["a", 1]}`, `{}`, 14, "$divide only supports numeric types, not string and int"},
		{`{"$mod": [1, 0]}`, `{}`, 16610, "can't $mod by zero"},
		{`{"$mod": ["a", 1.5]}`, `{}`, 14, "$mod only supports numeric types, not string and double"},
		{`{"$abs": "x"}`, `{}`, 28765, "$abs only supports numeric types, not string"},
		{`{"$abs": {"$numberLong": "-9223372036854775808"}}`, `{}`, 28680, "can't take $abs of long long min"},
		{`{"$in": [1, "$a"]}`, `{}`, 40081, "$in requires an array as a second argument, found: missing"},
		{`{"$in": [1, 2]}`, `{}`, 40081, "$in requires an array as a second argument, found: int"},
		{`{"$size": "$a"}`, `{"a": "x"}`, 17124, "The argument to $size must be an array, but was of type: string"},
		{`{"$size": "$a"}`, `{}`, 17124, "The argument to $size must be an array, but was of type: missing"},
		{`{"$concat": ["a", 1]}`, `{}`, 16702, "$concat only supports strings, not int"},
		{`{"$toLower": [[1]]}`, `{}`, 16007, "can't convert from BSON type array to String"},
		{`{"$arrayElemAt": ["x", 0]}`, `{}`, 28689, "$arrayElemAt's first argument must be an array, but is string"},
		{`{"$arrayElemAt": [[1], "x"]}`, `{}`, 28690, "$arrayElemAt's second argument must be a numeric value, but is string"},
		{`{"$arrayElemAt": [[1], 1.5]}`, `{}`, 28691, "$arrayElemAt's second argument must be representable as a 32-bit integer: 1.5"},
		{`{"$switch": {"branches": [{"case": false, "then": 1}]}}`, `{}`, 40066, "$switch could not find a matching branch for an input, and no default was specified."},
		{`{"$cond": [{"$divide": [1, 0]}, 1, 2]}`, `{}`, 2, "can't $divide by zero"},
	})
}

func TestExpression_Eval_NeverPanicsOnMalformedRoot(t *testing.T) {
	e, err := CompileExpression(qtVal(t, `{"$add": ["$a.b", {"$size": "$c"}]}`))
	require.NoError(t, err)
	good := qtDoc(t, `{"a": {"b": 1}, "c": [1, 2]}`)
	for i := 0; i < len(good); i++ {
		assert.NotPanics(t, func() { _, _ = e.Eval(good[:i]) })
	}
	v, err := e.Eval(good)
	require.NoError(t, err)
	assert.True(t, ValuesEqual(v, valInt32(3)))
}

func ExampleCompileExpression() {
	e, _ := CompileExpression(bson.RawValue{Type: bsontype.EmbeddedDocument, Value: qtMarshal(bson.D{
		{Key: "$cond", Value: bson.A{bson.D{{Key: "$gt", Value: bson.A{"$qty", 10}}}, "bulk", "retail"}},
	})})
	v, _ := e.Eval(qtMarshal(bson.D{{Key: "qty", Value: 25}}))
	fmt.Println(v.StringValue())
	// Output: bulk
}
