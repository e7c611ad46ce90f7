package materialize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestEvaluation_Match_Regex(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": {"$regex": "^ab"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regex": "^ab"}}`, `{"a": "cab"}`, false},
		{`{"a": {"$regex": "b"}}`, `{"a": "cab"}`, true},
		{`{"a": {"$regex": "^AB", "$options": "i"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$options": "i", "$regex": "^AB"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regex": {"$regularExpression": {"pattern": "^AB", "options": "i"}}}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regex": {"$regularExpression": {"pattern": "^AB", "options": ""}}, "$options": "i"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regularExpression": {"pattern": "^AB", "options": "i"}}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regex": "^b"}}`, `{"a": "a\nb"}`, false},
		{`{"a": {"$regex": "^b", "$options": "m"}}`, `{"a": "a\nb"}`, true},
		{`{"a": {"$regex": "a$"}}`, `{"a": "a\nb"}`, false},
		{`{"a": {"$regex": "a$", "$options": "m"}}`, `{"a": "a\nb"}`, true},
		// PCRE's $ also matches before a final newline.
		{`{"a": {"$regex": "b$"}}`, `{"a": "ab\n"}`, true},
		{`{"a": {"$regex": "b$"}}`, `{"a": "ab\n\n"}`, false},
		{`{"a": {"$regex": "b\\Z"}}`, `{"a": "ab\n"}`, true},
		{`{"a": {"$regex": "b\\z"}}`, `{"a": "ab\n"}`, false},
		{`{"a": {"$regex": "a.b"}}`, `{"a": "a\nb"}`, false},
		{`{"a": {"$regex": "a.b", "$options": "s"}}`, `{"a": "a\nb"}`, true},
		// x: whitespace and comments are ignored, except escaped or in classes.
		{`{"a": {"$regex": "a b c # comment\n d", "$options": "x"}}`, `{"a": "abcd"}`, true},
		{`{"a": {"$regex": "a\\ b", "$options": "x"}}`, `{"a": "a b"}`, true},
		{`{"a": {"$regex": "a[ ]b", "$options": "x"}}`, `{"a": "a b"}`, true},
		{`{"a": {"$regex": "a b", "$options": "x"}}`, `{"a": "a b"}`, false},
		{`{"a": {"$regex": "A B", "$options": "ix"}}`, `{"a": "xaby"}`, true},
		{`{"a": {"$regex": "é", "$options": "i"}}`, `{"a": "É"}`, true},
		{`{"a": {"$regex": "^\\d+$"}}`, `{"a": "123"}`, true},
		{`{"a": {"$regex": "^[]a]+$"}}`, `{"a": "]a]"}`, true},
		{`{"a": {"$regex": "\\h"}}`, `{"a": "a b"}`, true},
		{`{"a": {"$regex": "(?<word>ab)c"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regex": "x", "$options": "u"}}`, `{"a": "x"}`, true},
		// Regexes match strings and symbols, and equal regexes; nothing else.
		{`{"a": {"$regex": "1"}}`, `{"a": 1}`, false},
		{`{"a": {"$regex": "x"}}`, `{"a": {"$symbol": "x"}}`, true},
		{`{"a": {"$regex": "x"}}`, `{"a": ["y", "yx"]}`, true},
		{`{"a": {"$regex": "x"}}`, `{"a": [["x"]]}`, false},
		{`{"a": {"$regex": "x"}}`, `{}`, false},
		{`{"a": {"$regex": "x"}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, true},
		{`{"a": {"$regex": "x", "$options": "i"}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, false},
		{`{"a": {"$regex": ""}}`, `{"a": ""}`, true},
		{`{"a.b": {"$regex": "^z"}}`, `{"a": [{"b": "q"}, {"b": "zz"}]}`, true},
		{`{"a": {"$regex": "^a", "$ne": "abc"}}`, `{"a": "abc"}`, false},
	})
}

func TestEvaluation_Compile_RegexErrors(t *testing.T) {
	qtRunErr(t, []qtErrCase{
		{`{"a": {"$regex": 1}}`, 2, "$regex has to be a string"},
		{`{"a": {"$regex": null}}`, 2, "$regex has to be a string"},
		{`{"a": {"$regex": "x", "$options": 1}}`, 2, "$options has to be a string"},
		{`{"a": {"$options": "i"}}`, 2, "$options needs a $regex"},
		{`{"a": {"$regex": "x", "$options": "g"}}`, 51108, " invalid flag in regex options: g"},
		{`{"a": {"$regularExpression": {"pattern": "x", "options": "z"}}}`, 51108, " invalid flag in regex options: z"},
		{`{"a": {"$options": "i", "$regex": {"$regularExpression": {"pattern": "x", "options": "m"}}}}`, 51074, "options set in both $regex and $options"},
		{`{"a": {"$regex": {"$regularExpression": {"pattern": "x", "options": "m"}}, "$options": "i"}}`, 51075, "options set in both $regex and $options"},
		{`{"a": {"$regex": "("}}`, 51091, ""},
		{`{"a": {"$regex": "(?=x)"}}`, 51091, ""},
		{`{"a": {"$regex": "(a)\\1"}}`, 51091, ""},
		{`{"a": {"$regex": "a\u0000b"}}`, 2, "Regular expression cannot contain an embedded null byte"},
		{`{"a": {"$not": {"$regularExpression": {"pattern": "x", "options": "q"}}}}`, 51108, " invalid flag in regex options: q"},
	})
}

func TestEvaluation_Match_Mod(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": {"$mod": [4, 1]}}`, `{"a": 5}`, true},
		{`{"a": {"$mod": [4, 1]}}`, `{"a": 6}`, false},
		{`{"a": {"$mod": [4, 0]}}`, `{"a": 0}`, true},
		{`{"a": {"$mod": [4, -1]}}`, `{"a": -5}`, true},
		{`{"a": {"$mod": [4, 1]}}`, `{"a": -5}`, false},
		{`{"a": {"$mod": [-4, 1]}}`, `{"a": 5}`, true},
		{`{"a": {"$mod": [4, 1]}}`, `{"a": 5.9}`, true},
		{`{"a": {"$mod": [4, -1]}}`, `{"a": -5.9}`, true},
		{`{"a": {"$mod": [4, 1]}}`, `{"a": {"$numberLong": "9000000000000000001"}}`, true},
		{`{"a": {"$mod": [4, 1]}}`, `{"a": {"$numberDecimal": "5.99"}}`, true},
		{`{"a": {"$mod": [4, 1]}}`, `{"a": {"$numberDecimal": "1E+30"}}`, false},
		{`{"a": {"$mod": [4, 0]}}`, `{"a": {"$numberDouble": "NaN"}}`, false},
		{`{"a": {"$mod": [4, 0]}}`, `{"a": {"$numberDouble": "Infinity"}}`, false},
		{`{"a": {"$mod": [4, 0]}}`, `{"a": 1e30}`, false},
		{`{"a": {"$mod": [4, 1]}}`, `{"a": "5"}`, false},
		{`{"a": {"$mod": [4, 1]}}`, `{"a": [2, 9]}`, true},
		{`{"a": {"$mod": [4, 1]}}`, `{}`, false},
		// The divisor and remainder are truncated toward zero.
		{`{"a": {"$mod": [4.9, 1.9]}}`, `{"a": 5}`, true},
		{`{"a": {"$mod": [{"$numberDecimal": "4.5"}, 1]}}`, `{"a": 5}`, true},
		{`{"a": {"$mod": [-1, 0]}}`, `{"a": {"$numberLong": "-9223372036854775808"}}`, true},
	})
}

func TestEvaluation_Compile_ModErrors(t *testing.T) {
	qtRunErr(t, []qtErrCase{
		{`{"a": {"$mod": 4}}`, 2, "malformed mod, needs to be an array"},
		{`{"a": {"$mod": []}}`, 2, "malformed mod, not enough elements"},
		{`{"a": {"$mod": [4]}}`, 2, "malformed mod, not enough elements"},
		{`{"a": {"$mod": ["4", 1]}}`, 2, "malformed mod, divisor not a number"},
		{`{"a": {"$mod": [null]}}`, 2, "malformed mod, divisor not a number"},
		{`{"a": {"$mod": [4, "1"]}}`, 2, "malformed mod, remainder not a number"},
		{`{"a": {"$mod": [4, 1, 2]}}`, 2, "malformed mod, too many elements"},
		{`{"a": {"$mod": [0, 1]}}`, 2, "divisor cannot be 0"},
		{`{"a": {"$mod": [0.5, 1]}}`, 2, "divisor cannot be 0"},
		{`{"a": {"$mod": [{"$numberDouble": "NaN"}, 1]}}`, 2, "malformed mod, divisor value is invalid :: caused by :: Unable to coerce NaN/Inf to integral type"},
		{`{"a": {"$mod": [1, {"$numberDouble": "-Infinity"}]}}`, 2, "malformed mod, remainder value is invalid :: caused by :: Unable to coerce NaN/Inf to integral type"},
		{`{"a": {"$mod": [1e20, 1]}}`, 2, "malformed mod, divisor value is invalid :: caused by :: Out of bounds coercing to integral value"},
		{`{"a": {"$mod": [{"$numberDecimal": "1E+30"}, 1]}}`, 2, "malformed mod, divisor value is invalid :: caused by :: Out of bounds coercing to integral value"},
		{`{"a": {"$mod": [{"$numberDecimal": "Infinity"}, 1]}}`, 2, "malformed mod, divisor value is invalid :: caused by :: Unable to coerce NaN/Inf to integral type"},
	})
}

func TestEvaluation_Match_Expr(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"$expr": {"$gt": ["$a", "$b"]}}`, `{"a": 5, "b": 3}`, true},
		{`{"$expr": {"$gt": ["$a", "$b"]}}`, `{"a": 1, "b": 3}`, false},
		{`{"$expr": {"$eq": ["$a", "$b"]}}`, `{"a": 1, "b": 1.0}`, true},
		{`{"$expr": {"$eq": ["$a", null]}}`, `{}`, false},
		{`{"$expr": {"$lt": ["$a", null]}}`, `{}`, true},
		{`{"$expr": true}`, `{}`, true},
		{`{"$expr": 0}`, `{}`, false},
		{`{"$expr": "$a"}`, `{"a": 0}`, false},
		{`{"$expr": "$a"}`, `{"a": "x"}`, true},
		{`{"$expr": "$a"}`, `{}`, false},
		{`{"$expr": {"$and": ["$a", "$b"]}}`, `{"a": 1, "b": []}`, true},
		{`{"$expr": {"$in": ["$a", [1, 2]]}}`, `{"a": 2}`, true},
		{`{"$expr": {"$eq": [{"$size": "$a"}, 2]}}`, `{"a": [1, 2]}`, true},
		{`{"$expr": {"$gt": ["$a", 1]}, "b": 2}`, `{"a": 2, "b": 2}`, true},
		{`{"$or": [{"$expr": {"$eq": ["$a", 1]}}, {"b": 1}]}`, `{"a": 1}`, true},
		// Arrays are compared whole in expressions, not element-wise.
		{`{"$expr": {"$eq": ["$a", 1]}}`, `{"a": [1]}`, false},
	})
}

func TestEvaluation_Match_ExprRuntimeError(t *testing.T) {
	f, err := CompileFilter(qtDoc(t, `{"$expr": {"$divide": ["$a", "$b"]}}`))
	require.NoError(t, err)
	ok, err := f.Match(qtDoc(t, `{"a": 1, "b": 2}`))
	require.NoError(t, err)
	assert.True(t, ok)
	_, err = f.Match(qtDoc(t, `{"a": 1, "b": 0}`))
	qtAssertErr(t, err, 2, "can't $divide by zero")
	_, _, err = f.MatchPositional(qtDoc(t, `{"a": 1, "b": 0}`))
	qtAssertErr(t, err, 2, "can't $divide by zero")

	f, err = CompileFilter(qtDoc(t, `{"$nor": [{"$expr": {"$add": ["$a", 1]}}]}`))
	require.NoError(t, err)
	_, err = f.Match(qtDoc(t, `{"a": "x"}`))
	qtAssertErr(t, err, 14, "$add only supports numeric or date types, not string")
}

func TestEvaluation_Compile_ExprErrors(t *testing.T) {
	qtRunErr(t, []qtErrCase{
		{`{"$expr": {"$foo": 1}}`, 168, "Unrecognized expression '$foo'"},
		{`{"$expr": {"$eq": [1]}}`, 16020, "Expression $eq takes exactly 2 arguments. 1 were passed in."},
		{`{"a": {"$elemMatch": {"$expr": {"$eq": [1, 1]}}}}`, 2, "$expr can only be applied to the top-level document"},
		{`{"$expr": "$$foo"}`, 17276, "Use of undefined variable: foo"},
	})
}

func TestEvaluation_Match_JSONSchema(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"$jsonSchema": {}}`, `{"a": 1}`, true},
		{`{"$jsonSchema": {"required": ["a"]}}`, `{"a": 1}`, true},
		{`{"$jsonSchema": {"required": ["a", "b"]}}`, `{"a": 1}`, false},
		{`{"$jsonSchema": {"required": ["a"]}}`, `{"a": null}`, true},
		{`{"$jsonSchema": {"bsonType": "object"}}`, `{"a": 1}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"bsonType": "int"}}}}`, `{"a": 1}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"bsonType": "int"}}}}`, `{"a": "x"}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"bsonType": "int"}}}}`, `{}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"bsonType": ["int", "string"]}}}}`, `{"a": "x"}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"bsonType": "number"}}}}`, `{"a": 1.5}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"type": "number"}}}}`, `{"a": {"$numberLong": "1"}}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"type": "string"}}}}`, `{"a": 1}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"type": ["string", "null"]}}}}`, `{"a": null}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"type": "boolean"}}}}`, `{"a": false}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"type": "array"}}}}`, `{"a": [1]}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"minimum": 5}}}}`, `{"a": 5}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"minimum": 5, "exclusiveMinimum": true}}}}`, `{"a": 5}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"maximum": 5}}}}`, `{"a": 5.5}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"maximum": 5, "exclusiveMaximum": true}}}}`, `{"a": 4}`, true},
		// Keywords only constrain values of their type.
		{`{"$jsonSchema": {"properties": {"a": {"minimum": 5}}}}`, `{"a": "x"}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"minLength": 2}}}}`, `{"a": 1}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"minLength": 2, "maxLength": 3}}}}`, `{"a": "éé"}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"maxLength": 3}}}}`, `{"a": "abcd"}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"pattern": "^x"}}}}`, `{"a": "xy"}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"pattern": "^x"}}}}`, `{"a": "yx"}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"enum": [1, "x"]}}}}`, `{"a": "x"}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"enum": [1, "x"]}}}}`, `{"a": 2}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"enum": [1, "x"]}}}}`, `{"a": 1.0}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"enum": [{"b": 1, "c": 2}]}}}}`, `{"a": {"c": 2, "b": 1}}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"enum": [[1, 2]]}}}}`, `{"a": [2, 1]}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"uniqueItems": true}}}}`, `{"a": [{"x": 1, "y": 2}, {"y": 2, "x": 1}]}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"bsonType": "int"}}}}`, `{"a": [1]}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"multipleOf": 3}}}}`, `{"a": 9}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"multipleOf": 0.5}}}}`, `{"a": 1.25}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"properties": {"b": {"bsonType": "string"}}, "required": ["b"]}}}}`, `{"a": {"b": "x"}}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"properties": {"b": {"bsonType": "string"}}, "required": ["b"]}}}}`, `{"a": {}}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"items": {"bsonType": "int"}}}}}`, `{"a": [1, 2]}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"items": {"bsonType": "int"}}}}}`, `{"a": [1, "x"]}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"items": [{"bsonType": "int"}, {"bsonType": "string"}], "additionalItems": false}}}}`, `{"a": [1, "x"]}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"items": [{"bsonType": "int"}], "additionalItems": false}}}}`, `{"a": [1, "x"]}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"minItems": 2, "maxItems": 3, "uniqueItems": true}}}}`, `{"a": [1, 2]}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"uniqueItems": true}}}}`, `{"a": [1, 1.0]}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"minItems": 2}}}}`, `{"a": [1]}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"bsonType": "int"}}, "additionalProperties": false}}`, `{"a": 1}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"bsonType": "int"}}, "additionalProperties": false}}`, `{"a": 1, "b": 2}`, false},
		{`{"$jsonSchema": {"additionalProperties": {"bsonType": "int"}}}`, `{"a": 1, "b": 2}`, true},
		{`{"$jsonSchema": {"patternProperties": {"^x": {"bsonType": "int"}}, "additionalProperties": false}}`, `{"x1": 1, "x2": 2}`, true},
		{`{"$jsonSchema": {"patternProperties": {"^x": {"bsonType": "int"}}, "additionalProperties": false}}`, `{"x1": 1, "y": 2}`, false},
		{`{"$jsonSchema": {"minProperties": 2}}`, `{"a": 1}`, false},
		{`{"$jsonSchema": {"maxProperties": 1}}`, `{"a": 1}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"anyOf": [{"bsonType": "int"}, {"bsonType": "string"}]}}}}`, `{"a": true}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"allOf": [{"minimum": 1}, {"maximum": 3}]}}}}`, `{"a": 2}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"oneOf": [{"minimum": 1}, {"maximum": 3}]}}}}`, `{"a": 2}`, false},
		{`{"$jsonSchema": {"properties": {"a": {"oneOf": [{"minimum": 1}, {"maximum": 3}]}}}}`, `{"a": 5}`, true},
		{`{"$jsonSchema": {"properties": {"a": {"not": {"bsonType": "string"}}}}}`, `{"a": 5}`, true},
		{`{"$jsonSchema": {"title": "t", "description": "d", "bsonType": "object"}}`, `{}`, true},
		{`{"a": {"$elemMatch": {"$jsonSchema": {"required": ["b"]}}}}`, `{"a": [{"c": 1}, {"b": 1}]}`, true},
		{`{"$jsonSchema": {"required": ["a"]}, "a": 2}`, `{"a": 1}`, false},
	})
}

func TestEvaluation_Compile_JSONSchemaErrors(t *testing.T) {
	qtRunErr(t, []qtErrCase{
		{`{"$jsonSchema": 1}`, 14, "$jsonSchema must be an object"},
		{`{"$jsonSchema": {"foo": 1}}`, 9, "Unknown $jsonSchema keyword: foo"},
		{`{"$jsonSchema": {"format": "x"}}`, 9, "$jsonSchema keyword 'format' is not currently supported"},
		{`{"$jsonSchema": {"type": "integer"}}`, 9, "$jsonSchema type 'integer' is not currently supported."},
		{`{"$jsonSchema": {"type": "object", "bsonType": "object"}}`, 9, "Cannot specify both $jsonSchema keywords 'type' and 'bsonType'"},
		{`{"$jsonSchema": {"bsonType": "foo"}}`, 2, "Unknown type name alias: foo"},
		{`{"$jsonSchema": {"required": []}}`, 9, "$jsonSchema keyword 'required' cannot be an empty array"},
		{`{"$jsonSchema": {"required": ["a", "a"]}}`, 9, "$jsonSchema keyword 'required' array cannot contain duplicate values"},
		{`{"$jsonSchema": {"minimum": "x"}}`, 14, "$jsonSchema keyword 'minimum' must be a number"},
		{`{"$jsonSchema": {"enum": []}}`, 9, "$jsonSchema keyword 'enum' cannot be an empty array"},
		{`{"$jsonSchema": {"dependencies": {}}}`, codeNotImplemented, ""},
		{`{"$jsonSchema": {"properties": {"a": 1}}}`, 14, "Nested schema for $jsonSchema property 'a' must be an object"},
	})
}

func TestEvaluation_CompileRegex_Translation(t *testing.T) {
	cases := []struct {
		pattern, flags, subject string
		want                    bool
	}{
		{"a # c\n b", "x", "ab", true},
		{"[#] a", "x", "#a", true},
		{`\#a`, "x", "#a", true},
		{"^a$", "", "a\n", true},
		{"^a$", "", "a\nb", false},
		{"^a$", "m", "b\na\nc", true},
		{`a\Z`, "m", "a\n", true},
		{`[$]`, "", "$", true},
		{`\$`, "", "a$", true},
	}
	for _, c := range cases {
		re, err := compileRegex(c.pattern, c.flags)
		require.NoError(t, err, c.pattern)
		assert.Equal(t, c.want, re.matchString(c.subject), "%q /%s on %q", c.pattern, c.flags, c.subject)
	}
	_, err := compileRegex("x", "imsxu")
	assert.NoError(t, err)
}

func TestEvaluation_Match_RegexOnSymbolAndBSONRegexBuiltByDriver(t *testing.T) {
	filter, err := bson.Marshal(bson.D{{Key: "a", Value: primitive.Regex{Pattern: "^A", Options: "i"}}})
	require.NoError(t, err)
	f, err := CompileFilter(filter)
	require.NoError(t, err)
	doc, err := bson.Marshal(bson.D{{Key: "a", Value: primitive.Symbol("abc")}})
	require.NoError(t, err)
	ok, err := f.Match(doc)
	require.NoError(t, err)
	assert.True(t, ok)
}
