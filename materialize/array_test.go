package materialize

import "testing"

func TestArray_Match_ElemMatchValue(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": {"$elemMatch": {"$gt": 1, "$lt": 5}}}`, `{"a": [0, 3]}`, true},
		// One element must satisfy every condition.
		{`{"a": {"$elemMatch": {"$gt": 1, "$lt": 5}}}`, `{"a": [0, 10]}`, false},
		{`{"a": {"$elemMatch": {"$gt": 1}}}`, `{"a": 5}`, false},
		{`{"a": {"$elemMatch": {"$gt": 1}}}`, `{}`, false},
		{`{"a": {"$elemMatch": {"$gt": 1}}}`, `{"a": []}`, false},
		// Nested arrays are elements, they are not traversed.
		{`{"a": {"$elemMatch": {"$gt": 1}}}`, `{"a": [[5]]}`, false},
		{`{"a": {"$elemMatch": {"$eq": [5]}}}`, `{"a": [[5]]}`, true},
		{`{"a": {"$elemMatch": {"$eq": null}}}`, `{"a": [1, null]}`, true},
		{`{"a": {"$elemMatch": {"$eq": null}}}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$elemMatch": {"$ne": null}}}`, `{"a": [null, null]}`, false},
		{`{"a": {"$elemMatch": {"$ne": null}}}`, `{"a": [null, 1]}`, true},
		{`{"a": {"$elemMatch": {"$ne": null}}}`, `{"a": [[]]}`, true},
		{`{"a": {"$elemMatch": {"$in": [1, 2]}}}`, `{"a": [3, 2]}`, true},
		{`{"a": {"$elemMatch": {"$nin": [1, 2]}}}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$elemMatch": {"$regex": "^x"}}}`, `{"a": ["y", "xz"]}`, true},
		{`{"a": {"$elemMatch": {"$type": "string"}}}`, `{"a": [1, "s"]}`, true},
		{`{"a": {"$elemMatch": {"$exists": true}}}`, `{"a": [1]}`, true},
		{`{"a": {"$elemMatch": {"$not": {"$gt": 5}}}}`, `{"a": [7, 3]}`, true},
		{`{"a": {"$elemMatch": {"$not": {"$gt": 5}}}}`, `{"a": [7, 8]}`, false},
		{`{"a": {"$elemMatch": {"$size": 2}}}`, `{"a": [[1], [1, 2]]}`, true},
		{`{"a": {"$elemMatch": {"$elemMatch": {"$gt": 4}}}}`, `{"a": [[1], [1, 5]]}`, true},
		{`{"a": {"$elemMatch": {"$all": [1, 2]}}}`, `{"a": [[1, 2]]}`, false},
		{`{"a": {"$elemMatch": {"$mod": [2, 0]}}}`, `{"a": [1, 3, 4]}`, true},
		{`{"a": {"$elemMatch": {"$bitsAllSet": 1}}}`, `{"a": [2, 3]}`, true},
		{`{"a.b": {"$elemMatch": {"$gt": 1}}}`, `{"a": [{"b": [0]}, {"b": [5]}]}`, true},
		{`{"a.b": {"$elemMatch": {"$eq": null}}}`, `{"a": {"b": 4}}`, false},
	})
}

func TestArray_Match_ElemMatchObject(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": {"$elemMatch": {"b": 1, "c": 2}}}`, `{"a": [{"b": 1, "c": 2}]}`, true},
		// Both conditions on the same element.
		{`{"a": {"$elemMatch": {"b": 1, "c": 2}}}`, `{"a": [{"b": 1}, {"c": 2}]}`, false},
		{`{"a": {"$elemMatch": {"b": {"$gt": 1}}}}`, `{"a": [{"b": 0}, {"b": 5}]}`, true},
		{`{"a": {"$elemMatch": {"b": 1}}}`, `{"a": {"b": 1}}`, false},
		{`{"a": {"$elemMatch": {"b": 1}}}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$elemMatch": {}}}`, `{"a": [{}]}`, true},
		{`{"a": {"$elemMatch": {}}}`, `{"a": [1]}`, false},
		{`{"a": {"$elemMatch": {}}}`, `{"a": [[1]]}`, true},
		// Arrays in the array are read as documents with keys "0", "1", ...
		{`{"a": {"$elemMatch": {"0": 1}}}`, `{"a": [[1, 2]]}`, true},
		{`{"a": {"$elemMatch": {"b.c": 1}}}`, `{"a": [{"b": [{"c": 1}]}]}`, true},
		{`{"a": {"$elemMatch": {"b": {"$elemMatch": {"c": 1}}}}}`, `{"a": [{"b": [{"c": 1}]}]}`, true},
		{`{"a": {"$elemMatch": {"$or": [{"b": 1}, {"c": 1}]}}}`, `{"a": [{"c": 1}]}`, true},
		{`{"a": {"$elemMatch": {"$and": [{"b": 1}, {"c": 1}]}}}`, `{"a": [{"b": 1}, {"c": 1}]}`, false},
		{`{"a": {"$elemMatch": {"$nor": [{"b": 1}]}}}`, `{"a": [{"b": 1}, {"b": 2}]}`, true},
		{`{"a": {"$elemMatch": {"b": null}}}`, `{"a": [{"c": 1}]}`, true},
		{`{"a": {"$elemMatch": {"b": {"$exists": false}}}}`, `{"a": [{"b": 1}]}`, false},
		{`{"a": {"$elemMatch": {"$ref": "x", "$id": 1}}}`, `{"a": [{"$ref": "x", "$id": 1}]}`, true},
		{`{"a": {"$elemMatch": {"$id": 1}}}`, `{"a": [{"$id": 1}]}`, true},
		{`{"a": {"$elemMatch": {"$comment": "x", "b": 1}}}`, `{"a": [{"b": 1}]}`, true},
		{`{"a": {"$elemMatch": {"$alwaysFalse": 1}}}`, `{"a": [{"b": 1}]}`, false},
		{`{"x.a": {"$elemMatch": {"b": 1}}}`, `{"x": [{"a": [{"b": 0}]}, {"a": [{"b": 1}]}]}`, true},
	})
}

func TestArray_Match_All(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": {"$all": [1, 2]}}`, `{"a": [2, 3, 1]}`, true},
		{`{"a": {"$all": [1, 2]}}`, `{"a": [1, 3]}`, false},
		{`{"a": {"$all": [1]}}`, `{"a": 1}`, true},
		{`{"a": {"$all": [1, 1.0]}}`, `{"a": [1]}`, true},
		{`{"a": {"$all": []}}`, `{"a": []}`, false},
		{`{"a": {"$all": []}}`, `{"a": [1]}`, false},
		{`{"a": {"$all": [[1, 2]]}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$all": [[1, 2]]}}`, `{"a": [[1, 2], 3]}`, true},
		{`{"a": {"$all": [[1]]}}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$all": [null]}}`, `{}`, true},
		{`{"a": {"$all": [{"b": 1}]}}`, `{"a": [{"b": 1}]}`, true},
		{`{"a": {"$all": [{"$regularExpression": {"pattern": "^x", "options": ""}}, "y"]}}`, `{"a": ["xa", "y"]}`, true},
		{`{"a": {"$all": [{"$regularExpression": {"pattern": "^x", "options": ""}}]}}`, `{"a": ["a"]}`, false},
		{`{"a.b": {"$all": [1, 2]}}`, `{"a": [{"b": 1}, {"b": [2]}]}`, true},
		// $all with $elemMatch: every $elemMatch must be satisfied.
		{`{"a": {"$all": [{"$elemMatch": {"b": 1}}, {"$elemMatch": {"c": 2}}]}}`, `{"a": [{"b": 1}, {"c": 2}]}`, true},
		{`{"a": {"$all": [{"$elemMatch": {"b": 1}}, {"$elemMatch": {"c": 2}}]}}`, `{"a": [{"b": 1}]}`, false},
		{`{"a": {"$all": [{"$elemMatch": {"$gt": 1, "$lt": 3}}]}}`, `{"a": [0, 2]}`, true},
		{`{"a": {"$all": [{"$elemMatch": {"$gt": 1, "$lt": 3}}]}}`, `{"a": [0, 4]}`, false},
	})
}

func TestArray_Match_Size(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": {"$size": 2}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$size": 2}}`, `{"a": [1]}`, false},
		{`{"a": {"$size": 0}}`, `{"a": []}`, true},
		{`{"a": {"$size": 0}}`, `{}`, false},
		{`{"a": {"$size": 1}}`, `{"a": 1}`, false},
		{`{"a": {"$size": 1}}`, `{"a": [[1, 2]]}`, true},
		{`{"a": {"$size": 2}}`, `{"a": [[1, 2]]}`, false},
		{`{"a": {"$size": 2.0}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$size": {"$numberLong": "2"}}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$size": {"$numberDecimal": "2"}}}`, `{"a": [1, 2]}`, true},
		{`{"a.b": {"$size": 1}}`, `{"a": [{"b": [1, 2]}, {"b": [3]}]}`, true},
		{`{"a": {"$size": 1, "$all": [3]}}`, `{"a": [3]}`, true},
	})
}

func TestArray_Compile_Errors(t *testing.T) {
	qtRunErr(t, []qtErrCase{
		{`{"a": {"$elemMatch": 1}}`, 2, "$elemMatch needs an Object"},
		{`{"a": {"$elemMatch": [1]}}`, 2, "$elemMatch needs an Object"},
		{`{"a": {"$elemMatch": {"$gt": 1, "b": 1}}}`, 2, "unknown operator: b"},
		{`{"a": {"$elemMatch": {"b": 1, "$gt": 1}}}`, 2, "unknown top level operator: $gt. If you have a field name that starts with a '$' symbol, consider using $getField or $setField."},
		{`{"a": {"$elemMatch": {"$foo": 1}}}`, 2, "unknown operator: $foo"},
		{`{"a": {"$all": 1}}`, 2, "$all needs an array"},
		{`{"a": {"$all": [{"$gt": 1}]}}`, 2, "no $ expressions in $all"},
		{`{"a": {"$all": [1, {"$in": [1]}]}}`, 2, "no $ expressions in $all"},
		{`{"a": {"$all": [{"$elemMatch": {"b": 1}}, 5]}}`, 2, "$all/$elemMatch has to be consistent"},
		{`{"a": {"$all": [{"$elemMatch": {"b": 1}}, {"b": 1}]}}`, 2, "$all/$elemMatch has to be consistent"},
		{`{"a": {"$all": [{"$elemMatch": 5}]}}`, 2, "$elemMatch needs an Object"},
		{`{"a": {"$all": [{"$undefined": true}]}}`, 2, "cannot compare to undefined"},
		{`{"a": {"$size": -1}}`, 2, "Failed to parse $size. Expected a non-negative number in: $size: -1"},
		{`{"a": {"$size": 1.5}}`, 2, "Failed to parse $size. Expected an integer: $size: 1.5"},
		{`{"a": {"$size": "2"}}`, 2, `Failed to parse $size. Expected a number in: $size: "2"`},
		{`{"a": {"$size": null}}`, 2, "Failed to parse $size. Expected a number in: $size: null"},
		{`{"a": {"$size": {"$numberDouble": "NaN"}}}`, 2, "Failed to parse $size. Expected an integer, but found NaN in: $size: nan.0"},
		{`{"a": {"$size": 3000000000}}`, 2, "Failed to parse $size. Cannot represent $size: 3000000000 in an int"},
		{`{"a": {"$size": 1e30}}`, 2, "Failed to parse $size. Cannot represent as a 64-bit integer: $size: 1e+30.0"},
	})
}
