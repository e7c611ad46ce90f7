package materialize

import "testing"

func TestCompareOps_Match_Eq(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": 1}`, `{"a": 1}`, true},
		{`{"a": 1}`, `{"a": 2}`, false},
		{`{"a": 1}`, `{"a": 1.0}`, true},
		{`{"a": 1}`, `{"a": {"$numberLong": "1"}}`, true},
		{`{"a": 1}`, `{"a": {"$numberDecimal": "1.00"}}`, true},
		{`{"a": {"$numberDecimal": "0.1"}}`, `{"a": 0.1}`, false},
		{`{"a": 1}`, `{"a": "1"}`, false},
		{`{"a": 1}`, `{"a": true}`, false},
		{`{"a": 0}`, `{"a": false}`, false},
		{`{"a": 0}`, `{"a": -0.0}`, true},
		{`{"a": 1}`, `{}`, false},
		{`{"a": {"$eq": 1}}`, `{"a": 1}`, true},
		{`{"a": {"$eq": 1}}`, `{"a": [3, 1]}`, true},
		{`{"a": 1}`, `{"a": [[1]]}`, false},
		{`{"a": [1]}`, `{"a": [[1]]}`, true},
		{`{"a": [1, 2]}`, `{"a": [1, 2]}`, true},
		{`{"a": [1, 2]}`, `{"a": [2, 1]}`, false},
		{`{"a": [1, 2]}`, `{"a": [1, 2, 3]}`, false},
		{`{"a": [1, 2]}`, `{"a": [[1, 2], 3]}`, true},
		{`{"a": []}`, `{"a": []}`, true},
		{`{"a": []}`, `{"a": [[]]}`, true},
		{`{"a": []}`, `{"a": [1]}`, false},
		{`{"a": "x"}`, `{"a": "x"}`, true},
		{`{"a": "x"}`, `{"a": "X"}`, false},
		{`{"a": "x"}`, `{"a": {"$symbol": "x"}}`, true},
		{`{"a": "x"}`, `{"a": ["y", "x"]}`, true},
		{`{"a": true}`, `{"a": true}`, true},
		{`{"a": true}`, `{"a": 1}`, false},
		{`{"a": {"$date": "2020-01-01T00:00:00Z"}}`, `{"a": {"$date": "2020-01-01T00:00:00Z"}}`, true},
		{`{"a": {"$date": "2020-01-01T00:00:00Z"}}`, `{"a": {"$numberLong": "1577836800000"}}`, false},
		{`{"a": {"$oid": "5f0000000000000000000001"}}`, `{"a": {"$oid": "5f0000000000000000000001"}}`, true},
		{`{"a": {"$timestamp": {"t": 1, "i": 2}}}`, `{"a": {"$timestamp": {"t": 1, "i": 2}}}`, true},
		{`{"a": {"$binary": {"base64": "AQI=", "subType": "00"}}}`, `{"a": {"$binary": {"base64": "AQI=", "subType": "00"}}}`, true},
		{`{"a": {"$binary": {"base64": "AQI=", "subType": "00"}}}`, `{"a": {"$binary": {"base64": "AQI=", "subType": "05"}}}`, false},
		// NaN equals NaN in equality.
		{`{"a": {"$numberDouble": "NaN"}}`, `{"a": {"$numberDouble": "NaN"}}`, true},
		{`{"a": {"$numberDouble": "NaN"}}`, `{"a": {"$numberDecimal": "NaN"}}`, true},
		{`{"a": {"$numberDouble": "NaN"}}`, `{"a": 1}`, false},
		{`{"a": {"$minKey": 1}}`, `{"a": {"$minKey": 1}}`, true},
		{`{"a": {"$maxKey": 1}}`, `{"a": 5}`, false},
		// $eq with a regex compares regexes, it does not pattern-match.
		{`{"a": {"$eq": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, `{"a": "x"}`, false},
		{`{"a": {"$eq": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, true},
		{`{"a": {"$eq": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": "i"}}}`, false},
		// A plain regex value pattern-matches.
		{`{"a": {"$regularExpression": {"pattern": "^x", "options": ""}}}`, `{"a": "xyz"}`, true},
		// $eq with an operator-looking document compares the document.
		{`{"a": {"$eq": {"$gt": 1}}}`, `{"a": {"$gt": 1}}`, true},
		{`{"a": {"$eq": {"$gt": 1}}}`, `{"a": 5}`, false},
		{`{"a": {"$eq": {"b": 1}}}`, `{"a": [{"b": 1}]}`, true},
		// Dotted paths.
		{`{"a.b": 1}`, `{"a": {"b": 1}}`, true},
		{`{"a.b": 1}`, `{"a": [{"b": 2}, {"b": 1}]}`, true},
		{`{"a.b": 1}`, `{"a": [{"b": [0, 1]}]}`, true},
		{`{"a.b": 1}`, `{"a": [[{"b": 1}]]}`, false},
		{`{"a.b.c": 1}`, `{"a": [{"b": [{"c": 1}]}]}`, true},
		{`{"a.0": 1}`, `{"a": [1, 2]}`, true},
		{`{"a.1": 1}`, `{"a": [1, 2]}`, false},
		{`{"a.0": 1}`, `{"a": {"0": 1}}`, true},
		{`{"a.0.b": 1}`, `{"a": [{"b": 1}]}`, true},
		{`{"a.0.b": 1}`, `{"a": [{"b": 2}, {"b": 1}]}`, false},
		{`{"a.0.0": 1}`, `{"a": [[1]]}`, true},
		{`{"a.b.0": 1}`, `{"a": [{"b": [1]}]}`, true},
		{`{"a.b": [1, 2]}`, `{"a": [{"b": [1, 2]}]}`, true},
	})
}

func TestCompareOps_Match_NullAndMissing(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": null}`, `{"a": null}`, true},
		{`{"a": null}`, `{}`, true},
		{`{"a": null}`, `{"a": 0}`, false},
		// MongoDB 8.0: null no longer matches undefined.
		{`{"a": null}`, `{"a": {"$undefined": true}}`, false},
		{`{"a": null}`, `{"a": [1, null]}`, true},
		{`{"a": null}`, `{"a": [1, 2]}`, false},
		{`{"a": null}`, `{"a": []}`, false},
		{`{"a": {"$eq": null}}`, `{"b": 1}`, true},
		{`{"a.b": null}`, `{"a": {}}`, true},
		{`{"a.b": null}`, `{"a": 4}`, true},
		{`{"a.b": null}`, `{"a": null}`, true},
		{`{"a.b": null}`, `{}`, true},
		{`{"a.b": null}`, `{"a": {"b": "hi"}}`, false},
		{`{"a.b": null}`, `{"a": {"b": {"$undefined": true}}}`, false},
		{`{"a.b": null}`, `{"a": [{"b": null}, {"b": 3}]}`, true},
		{`{"a.b": null}`, `{"a": [{"b": 3}, {}]}`, true},
		{`{"a.b": null}`, `{"a": [{"b": 1}, {"b": 3}]}`, false},
		// 8.0: arrays without documents yield nothing for "a.b".
		{`{"a.b": null}`, `{"a": [1, "string", 4]}`, false},
		{`{"a.b": null}`, `{"a": []}`, false},
		{`{"a.b": null}`, `{"a": [null]}`, false},
		{`{"a": {"$ne": null}}`, `{"a": {"$undefined": true}}`, true},
		{`{"a": {"$ne": null}}`, `{}`, false},
		{`{"a": {"$ne": null}}`, `{"a": [1, null]}`, false},
		{`{"a": {"$ne": null}}`, `{"a": []}`, true},
		{`{"a.b": {"$ne": null}}`, `{"a": [{"b": 1}, {"b": 3}]}`, true},
		{`{"a.b": {"$ne": null}}`, `{"a": [{"b": 3}, {}]}`, false},
		{`{"a.b": {"$ne": null}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$gte": null}}`, `{}`, true},
		{`{"a": {"$lte": null}}`, `{"a": null}`, true},
		{`{"a": {"$gt": null}}`, `{"a": null}`, false},
		{`{"a": {"$lt": null}}`, `{}`, false},
		{`{"a": {"$gte": null}}`, `{"a": 1}`, false},
		{`{"a": {"$gte": null}}`, `{"a": {"$undefined": true}}`, false},
		{`{"a": {"$not": {"$gte": null}}}`, `{"a": 4}`, true},
		{`{"a": {"$not": {"$gte": null}}}`, `{"a": null}`, false},
	})
}

func TestCompareOps_Match_Ranges(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": {"$gt": 1}}`, `{"a": 2}`, true},
		{`{"a": {"$gt": 1}}`, `{"a": 1}`, false},
		{`{"a": {"$gte": 1}}`, `{"a": 1}`, true},
		{`{"a": {"$lt": 1}}`, `{"a": 0.5}`, true},
		{`{"a": {"$lte": 1}}`, `{"a": {"$numberDecimal": "1.0"}}`, true},
		{`{"a": {"$gt": 1}}`, `{"a": {"$numberLong": "2"}}`, true},
		{`{"a": {"$gt": 9007199254740992}}`, `{"a": {"$numberLong": "9007199254740993"}}`, true},
		{`{"a": {"$gt": 0.1}}`, `{"a": {"$numberDecimal": "0.1"}}`, false},
		{`{"a": {"$lt": 0.1}}`, `{"a": {"$numberDecimal": "0.1"}}`, true},
		// Type bracketing: numbers never compare with strings.
		{`{"a": {"$gt": 1}}`, `{"a": "2"}`, false},
		{`{"a": {"$lt": "b"}}`, `{"a": 1}`, false},
		{`{"a": {"$lt": "b"}}`, `{"a": "a"}`, true},
		{`{"a": {"$lt": "b"}}`, `{"a": {"$symbol": "a"}}`, true},
		{`{"a": {"$gt": 1}}`, `{"a": true}`, false},
		{`{"a": {"$gt": false}}`, `{"a": true}`, true},
		{`{"a": {"$gt": {"$date": "2020-01-01T00:00:00Z"}}}`, `{"a": {"$date": "2021-01-01T00:00:00Z"}}`, true},
		{`{"a": {"$gt": {"$date": "2020-01-01T00:00:00Z"}}}`, `{"a": {"$timestamp": {"t": 1, "i": 1}}}`, false},
		{`{"a": {"$gt": {"$timestamp": {"t": 1, "i": 1}}}}`, `{"a": {"$timestamp": {"t": 1, "i": 2}}}`, true},
		{`{"a": {"$gt": {"$oid": "000000000000000000000001"}}}`, `{"a": {"$oid": "000000000000000000000002"}}`, true},
		{`{"a": {"$gt": {}}}`, `{"a": {"b": 1}}`, true},
		{`{"a": {"$gt": {"b": 1}}}`, `{"a": {"b": 0}}`, false},
		// Any element of an array may satisfy the comparison.
		{`{"a": {"$gt": 5}}`, `{"a": [1, 6]}`, true},
		{`{"a": {"$gt": 5}}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$gt": 5}}`, `{"a": [[6]]}`, false},
		{`{"a": {"$gt": 1, "$lt": 3}}`, `{"a": [0, 4]}`, true},
		{`{"a": {"$gt": 1, "$lt": 3}}`, `{"a": [0, 1]}`, false},
		{`{"a.b": {"$lte": 2}}`, `{"a": [{"b": 5}, {"b": [9, 2]}]}`, true},
		// An array operand compares with whole arrays (and nested ones).
		{`{"a": {"$gt": [1]}}`, `{"a": [2]}`, true},
		{`{"a": {"$gt": [1]}}`, `{"a": [1]}`, false},
		{`{"a": {"$gt": [1]}}`, `{"a": 2}`, false},
		{`{"a": {"$lt": [2, 0]}}`, `{"a": [1, 5]}`, true},
		{`{"a": {"$gte": []}}`, `{"a": [[]]}`, true},
		// NaN is neither greater nor less than anything, but <= and >= NaN.
		{`{"a": {"$gt": {"$numberDouble": "NaN"}}}`, `{"a": 1}`, false},
		{`{"a": {"$lt": 1}}`, `{"a": {"$numberDouble": "NaN"}}`, false},
		{`{"a": {"$lte": {"$numberDouble": "NaN"}}}`, `{"a": {"$numberDouble": "NaN"}}`, true},
		{`{"a": {"$gte": {"$numberDecimal": "NaN"}}}`, `{"a": {"$numberDouble": "NaN"}}`, true},
		{`{"a": {"$lt": {"$numberDouble": "NaN"}}}`, `{"a": {"$numberDouble": "NaN"}}`, false},
		{`{"a": {"$gt": {"$numberDouble": "-Infinity"}}}`, `{"a": {"$numberDouble": "NaN"}}`, false},
		{`{"a": {"$lt": {"$numberDouble": "Infinity"}}}`, `{"a": {"$numberLong": "9223372036854775807"}}`, true},
		// MinKey and MaxKey bound every type (and missing values).
		{`{"a": {"$lt": {"$maxKey": 1}}}`, `{"a": "x"}`, true},
		{`{"a": {"$lt": {"$maxKey": 1}}}`, `{}`, true},
		{`{"a": {"$lte": {"$maxKey": 1}}}`, `{"a": {"$maxKey": 1}}`, true},
		{`{"a": {"$lt": {"$maxKey": 1}}}`, `{"a": {"$maxKey": 1}}`, false},
		{`{"a": {"$gt": {"$minKey": 1}}}`, `{"a": null}`, true},
		{`{"a": {"$gt": {"$maxKey": 1}}}`, `{"a": 1}`, false},
		{`{"a": {"$gte": {"$minKey": 1}}}`, `{"a": {"$minKey": 1}}`, true},
		{`{"a": {"$lt": {"$minKey": 1}}}`, `{"a": 1}`, false},
	})
}

func TestCompareOps_Match_Ne(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": {"$ne": 1}}`, `{"a": 2}`, true},
		{`{"a": {"$ne": 1}}`, `{"a": 1.0}`, false},
		{`{"a": {"$ne": 1}}`, `{}`, true},
		// $ne is "no element equals", not "some element differs".
		{`{"a": {"$ne": 1}}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$ne": 1}}`, `{"a": [2, 3]}`, true},
		{`{"a": {"$ne": [1, 2]}}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$ne": [1, 2]}}`, `{"a": [[1, 2]]}`, false},
		{`{"a.b": {"$ne": 1}}`, `{"a": [{"b": 2}, {"b": 1}]}`, false},
		{`{"a.b": {"$ne": 1}}`, `{"a": [{"b": 2}, {"c": 1}]}`, true},
		{`{"a": {"$ne": "x"}}`, `{"a": {"$symbol": "x"}}`, false},
		{`{"a": {"$ne": {"$gt": 1}}}`, `{"a": 5}`, true},
	})
}

func TestCompareOps_Match_In(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": {"$in": [1, 2]}}`, `{"a": 2}`, true},
		{`{"a": {"$in": [1, 2]}}`, `{"a": 3}`, false},
		{`{"a": {"$in": [1, 2]}}`, `{"a": 2.0}`, true},
		{`{"a": {"$in": [1, 2]}}`, `{"a": {"$numberDecimal": "2"}}`, true},
		{`{"a": {"$in": [1, "1"]}}`, `{"a": "1"}`, true},
		{`{"a": {"$in": []}}`, `{"a": 1}`, false},
		{`{"a": {"$in": []}}`, `{}`, false},
		{`{"a": {"$in": [1, 2]}}`, `{"a": [5, 2]}`, true},
		{`{"a": {"$in": [1, 2]}}`, `{"a": [[1]]}`, false},
		{`{"a": {"$in": [[1]]}}`, `{"a": [[1]]}`, true},
		{`{"a": {"$in": [[1]]}}`, `{"a": [1]}`, true},
		{`{"a": {"$in": [[]]}}`, `{"a": []}`, true},
		{`{"a": {"$in": [null]}}`, `{}`, true},
		{`{"a": {"$in": [null]}}`, `{"a": null}`, true},
		{`{"a": {"$in": [null]}}`, `{"a": {"$undefined": true}}`, false},
		{`{"a": {"$in": [null, 4]}}`, `{"a": 4}`, true},
		{`{"a.b": {"$in": [null]}}`, `{"a": [{"b": 1}, {}]}`, true},
		{`{"a": {"$in": [{"b": 1}]}}`, `{"a": {"b": 1}}`, true},
		{`{"a": {"$in": [{"$ref": "c", "$id": 1}]}}`, `{"a": {"$ref": "c", "$id": 1}}`, true},
		{`{"a": {"$in": [{"$numberDouble": "NaN"}]}}`, `{"a": {"$numberDouble": "NaN"}}`, true},
		{`{"a": {"$in": [{"$minKey": 1}, {"$maxKey": 1}]}}`, `{"a": {"$maxKey": 1}}`, true},
		// Regular expressions inside $in pattern-match strings.
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "^ab", "options": ""}}, 5]}}`, `{"a": "abc"}`, true},
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "^ab", "options": "i"}}]}}`, `{"a": ["x", "ABc"]}`, true},
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "^ab", "options": ""}}]}}`, `{"a": "xab"}`, false},
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "^ab", "options": ""}}, 5]}}`, `{"a": 5}`, true},
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "1", "options": ""}}]}}`, `{"a": 1}`, false},
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "x", "options": ""}}]}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, true},
		// Large sets use the binary search path.
		{`{"a": {"$in": [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, "z", "y", null, true, [1], {"x": 1}]}}`, `{"a": {"x": 1}}`, true},
		{`{"a": {"$in": [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, "z", "y", null, true, [1], {"x": 1}]}}`, `{"a": false}`, false},
		{`{"a": {"$in": [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, "z", "y", null, true, [1], {"x": 1}]}}`, `{"a": 4.0}`, true},
	})
}

func TestCompareOps_Match_Nin(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": {"$nin": [1, 2]}}`, `{"a": 3}`, true},
		{`{"a": {"$nin": [1, 2]}}`, `{"a": 1}`, false},
		{`{"a": {"$nin": [1, 2]}}`, `{}`, true},
		{`{"a": {"$nin": [1, 2]}}`, `{"a": [3, 1]}`, false},
		{`{"a": {"$nin": [1, 2]}}`, `{"a": [3, 4]}`, true},
		{`{"a": {"$nin": []}}`, `{"a": 1}`, true},
		{`{"a": {"$nin": [null]}}`, `{}`, false},
		{`{"a": {"$nin": [null]}}`, `{"a": {"$undefined": true}}`, true},
		{`{"a": {"$nin": [null, []]}}`, `{"a": []}`, false},
		{`{"a": {"$nin": [null, []]}}`, `{"a": [[]]}`, false},
		{`{"a": {"$nin": [null, []]}}`, `{"a": [1, "x"]}`, true},
		{`{"a": {"$nin": [{"$regularExpression": {"pattern": "^hi", "options": ""}}]}}`, `{"a": "hello"}`, true},
		{`{"a": {"$nin": [{"$regularExpression": {"pattern": "^hi", "options": ""}}]}}`, `{"a": "hi!"}`, false},
		{`{"a.b": {"$nin": [null, 75]}}`, `{"a": [{"b": 1}, {"b": 3}]}`, true},
		{`{"a.b": {"$nin": [null, 75]}}`, `{"a": [{"b": 3}, {}]}`, false},
	})
}

func TestCompareOps_Compile_Errors(t *testing.T) {
	qtRunErr(t, []qtErrCase{
		{`{"a": {"$in": 1}}`, 2, "$in needs an array"},
		{`{"a": {"$in": {"0": 1}}}`, 2, "$in needs an array"},
		{`{"a": {"$nin": "x"}}`, 2, "$nin needs an array"},
		{`{"a": {"$in": [{"$gt": 1}]}}`, 2, "cannot nest $ under $in"},
		{`{"a": {"$nin": [1, {"$exists": true}]}}`, 2, "cannot nest $ under $in"},
		{`{"a": {"$in": [{"$undefined": true}]}}`, 2, "InMatchExpression equality cannot be undefined"},
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "(", "options": ""}}]}}`, 51091, ""},
		{`{"a": {"$gt": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, 2, "Can't have RegEx as arg to predicate over field 'a'."},
		{`{"a.b": {"$lte": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, 2, "Can't have RegEx as arg to predicate over field 'a.b'."},
		{`{"a": {"$ne": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, 2, "Can't have regex as arg to $ne."},
		{`{"a": {"$undefined": true}}`, 2, "cannot compare to undefined"},
		{`{"a": {"$eq": {"$undefined": true}}}`, 2, "cannot compare to undefined"},
		{`{"a": {"$lt": {"$undefined": true}}}`, 2, "cannot compare to undefined"},
		{`{"a": {"$ne": {"$undefined": true}}}`, 2, "cannot compare to undefined"},
	})
}
