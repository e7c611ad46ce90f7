package materialize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.mongodb.org/mongo-driver/bson"
)

func TestElement_Match_Exists(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": {"$exists": true}}`, `{"a": 1}`, true},
		{`{"a": {"$exists": true}}`, `{"a": null}`, true},
		{`{"a": {"$exists": true}}`, `{"a": {"$undefined": true}}`, true},
		{`{"a": {"$exists": true}}`, `{}`, false},
		{`{"a": {"$exists": true}}`, `{"a": []}`, true},
		{`{"a": {"$exists": false}}`, `{}`, true},
		{`{"a": {"$exists": false}}`, `{"a": null}`, false},
		// Any value is read by its truthiness.
		{`{"a": {"$exists": 1}}`, `{"a": 1}`, true},
		{`{"a": {"$exists": 0}}`, `{"a": 1}`, false},
		{`{"a": {"$exists": 0}}`, `{}`, true},
		{`{"a": {"$exists": null}}`, `{}`, true},
		{`{"a": {"$exists": "false"}}`, `{"a": 1}`, true},
		{`{"a": {"$exists": {"$numberDecimal": "0"}}}`, `{}`, true},
		{`{"a": {"$exists": {"$numberDecimal": "0.0E+3"}}}`, `{}`, true},
		{`{"a": {"$exists": {"$numberDecimal": "0.01"}}}`, `{"a": 1}`, true},
		{`{"a": {"$exists": []}}`, `{"a": 1}`, true},
		{`{"a.b": {"$exists": true}}`, `{"a": {"b": null}}`, true},
		{`{"a.b": {"$exists": true}}`, `{"a": [{"c": 1}, {"b": 1}]}`, true},
		{`{"a.b": {"$exists": true}}`, `{"a": [1, 2]}`, false},
		{`{"a.b": {"$exists": false}}`, `{"a": [1, 2]}`, true},
		{`{"a.b": {"$exists": false}}`, `{"a": [{"c": 1}, {"b": 1}]}`, false},
		{`{"a.b": {"$exists": false}}`, `{"a": 5}`, true},
		{`{"a.1": {"$exists": true}}`, `{"a": [5, 6]}`, true},
		{`{"a.2": {"$exists": true}}`, `{"a": [5, 6]}`, false},
	})
}

func TestElement_Match_Type(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": {"$type": "string"}}`, `{"a": "x"}`, true},
		{`{"a": {"$type": 2}}`, `{"a": "x"}`, true},
		{`{"a": {"$type": 2.0}}`, `{"a": "x"}`, true},
		{`{"a": {"$type": {"$numberLong": "2"}}}`, `{"a": "x"}`, true},
		{`{"a": {"$type": {"$numberDecimal": "2"}}}`, `{"a": "x"}`, true},
		{`{"a": {"$type": "string"}}`, `{"a": {"$symbol": "x"}}`, false},
		{`{"a": {"$type": "symbol"}}`, `{"a": {"$symbol": "x"}}`, true},
		{`{"a": {"$type": "double"}}`, `{"a": 1.5}`, true},
		{`{"a": {"$type": "double"}}`, `{"a": 1}`, false},
		{`{"a": {"$type": "int"}}`, `{"a": 1}`, true},
		{`{"a": {"$type": 16}}`, `{"a": 1}`, true},
		{`{"a": {"$type": "long"}}`, `{"a": {"$numberLong": "1"}}`, true},
		{`{"a": {"$type": 18}}`, `{"a": 1}`, false},
		{`{"a": {"$type": "decimal"}}`, `{"a": {"$numberDecimal": "1"}}`, true},
		{`{"a": {"$type": "number"}}`, `{"a": 1}`, true},
		{`{"a": {"$type": "number"}}`, `{"a": {"$numberLong": "1"}}`, true},
		{`{"a": {"$type": "number"}}`, `{"a": 1.5}`, true},
		{`{"a": {"$type": "number"}}`, `{"a": {"$numberDecimal": "1"}}`, true},
		{`{"a": {"$type": "number"}}`, `{"a": "1"}`, false},
		{`{"a": {"$type": "object"}}`, `{"a": {}}`, true},
		{`{"a": {"$type": 3}}`, `{"a": {"b": 1}}`, true},
		{`{"a": {"$type": "array"}}`, `{"a": []}`, true},
		{`{"a": {"$type": "array"}}`, `{"a": [1]}`, true},
		{`{"a": {"$type": 4}}`, `{"a": [[1]]}`, true},
		{`{"a": {"$type": "array"}}`, `{"a": 1}`, false},
		// Elements of arrays are checked too.
		{`{"a": {"$type": "int"}}`, `{"a": ["x", 1]}`, true},
		{`{"a": {"$type": "string"}}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$type": "binData"}}`, `{"a": {"$binary": {"base64": "AQ==", "subType": "00"}}}`, true},
		{`{"a": {"$type": "undefined"}}`, `{"a": {"$undefined": true}}`, true},
		{`{"a": {"$type": 6}}`, `{"a": null}`, false},
		{`{"a": {"$type": "objectId"}}`, `{"a": {"$oid": "5f0000000000000000000001"}}`, true},
		{`{"a": {"$type": "bool"}}`, `{"a": false}`, true},
		{`{"a": {"$type": "date"}}`, `{"a": {"$date": "2020-01-01T00:00:00Z"}}`, true},
		{`{"a": {"$type": "null"}}`, `{"a": null}`, true},
		{`{"a": {"$type": "null"}}`, `{}`, false},
		{`{"a": {"$type": 10}}`, `{"a": null}`, true},
		{`{"a": {"$type": "regex"}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, true},
		{`{"a": {"$type": "dbPointer"}}`, `{"a": {"$dbPointer": {"$ref": "a", "$id": {"$oid": "000000000000000000000000"}}}}`, true},
		{`{"a": {"$type": "javascript"}}`, `{"a": {"$code": "x"}}`, true},
		{`{"a": {"$type": "javascriptWithScope"}}`, `{"a": {"$code": "x", "$scope": {}}}`, true},
		{`{"a": {"$type": "timestamp"}}`, `{"a": {"$timestamp": {"t": 1, "i": 1}}}`, true},
		{`{"a": {"$type": "minKey"}}`, `{"a": {"$minKey": 1}}`, true},
		{`{"a": {"$type": -1}}`, `{"a": {"$minKey": 1}}`, true},
		{`{"a": {"$type": "maxKey"}}`, `{"a": {"$maxKey": 1}}`, true},
		{`{"a": {"$type": 127}}`, `{"a": {"$maxKey": 1}}`, true},
		{`{"a": {"$type": ["string", "int"]}}`, `{"a": 5}`, true},
		{`{"a": {"$type": ["string", 16]}}`, `{"a": true}`, false},
		{`{"a": {"$type": ["number", "null"]}}`, `{"a": null}`, true},
		{`{"a.b": {"$type": "int"}}`, `{"a": [{"b": "x"}, {"b": 3}]}`, true},
		{`{"a": {"$type": "string"}}`, `{}`, false},
	})
}

func TestElement_Compile_TypeErrors(t *testing.T) {
	qtRunErr(t, []qtErrCase{
		{`{"a": {"$type": "foo"}}`, 2, "Unknown type name alias: foo"},
		{`{"a": {"$type": "2"}}`, 2, "Unknown type name alias: 2"},
		{`{"a": {"$type": "missing"}}`, 2, "'missing' is not a legal type name. To query for non-existence of a field, use {$exists:false}."},
		{`{"a": {"$type": 0}}`, 2, "Invalid numerical type code: 0. Instead use {$exists:false}."},
		{`{"a": {"$type": 100}}`, 2, "Invalid numerical type code: 100"},
		{`{"a": {"$type": 20}}`, 2, "Invalid numerical type code: 20"},
		{`{"a": {"$type": 2.5}}`, 2, "Invalid numerical type code: 2.5"},
		{`{"a": {"$type": -2}}`, 2, "Invalid numerical type code: -2"},
		{`{"a": {"$type": true}}`, 14, "type must be represented as a number or a string"},
		{`{"a": {"$type": null}}`, 14, "type must be represented as a number or a string"},
		{`{"a": {"$type": {}}}`, 14, "type must be represented as a number or a string"},
		{`{"a": {"$type": []}}`, 9, "a must match at least one type"},
		{`{"a.b": {"$type": []}}`, 9, "a.b must match at least one type"},
		{`{"a": {"$type": ["int", "foo"]}}`, 2, "Unknown type name alias: foo"},
		{`{"a": {"$type": [[2]]}}`, 14, "type must be represented as a number or a string"},
	})
}

func TestElement_TrueValue(t *testing.T) {
	cases := map[string]bool{
		`true`: true, `false`: false, `0`: false, `1`: true, `0.0`: false, `-0.0`: false,
		`{"$numberDouble": "NaN"}`: true, `{"$numberLong": "0"}`: false, `{"$numberDecimal": "-0.00"}`: false,
		`{"$numberDecimal": "NaN"}`: true, `{"$numberDecimal": "1E-10"}`: true, `null`: false,
		`{"$undefined": true}`: false, `""`: true, `[]`: true, `{}`: true,
	}
	for s, want := range cases {
		assert.Equal(t, want, trueValue(qtVal(t, s)), s)
	}
	assert.False(t, trueValue(bson.RawValue{}))
}
