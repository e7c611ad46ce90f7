package materialize

import "testing"

func TestLogical_Match_And(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"$and": [{"a": 1}, {"b": 2}]}`, `{"a": 1, "b": 2}`, true},
		{`{"$and": [{"a": 1}, {"b": 2}]}`, `{"a": 1, "b": 3}`, false},
		{`{"$and": [{"a": 1}]}`, `{"a": 1}`, true},
		{`{"$and": [{}]}`, `{"a": 1}`, true},
		{`{"$and": [{"a": {"$gt": 1}}, {"a": {"$lt": 3}}]}`, `{"a": [0, 5]}`, true},
		{`{"$and": [{"$and": [{"a": 1}]}, {"$or": [{"b": 1}, {"c": 1}]}]}`, `{"a": 1, "c": 1}`, true},
		{`{"$and": [{"a": 1}], "b": 2}`, `{"a": 1}`, false},
	})
}

func TestLogical_Match_Or(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"$or": [{"a": 1}, {"b": 2}]}`, `{"b": 2}`, true},
		{`{"$or": [{"a": 1}, {"b": 2}]}`, `{"a": 2, "b": 1}`, false},
		{`{"$or": [{"a": null}, {"a": 4}]}`, `{}`, true},
		{`{"$or": [{"a": {"$exists": false}}]}`, `{"a": 1}`, false},
		{`{"$or": [{}]}`, `{"a": 1}`, true},
		{`{"$or": [{"a": 1}, {"a": {"$gt": 5}}], "b": 1}`, `{"a": 9, "b": 1}`, true},
		{`{"$or": [{"a": 1}, {"a": {"$gt": 5}}], "b": 1}`, `{"a": 9, "b": 2}`, false},
	})
}

func TestLogical_Match_Nor(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"$nor": [{"a": 1}, {"b": 2}]}`, `{"a": 2, "b": 1}`, true},
		{`{"$nor": [{"a": 1}, {"b": 2}]}`, `{"b": 2}`, false},
		{`{"$nor": [{"a": 1}]}`, `{}`, true},
		{`{"$nor": [{"a": 1}]}`, `{"a": [2, 1]}`, false},
		{`{"$nor": [{"a": {"$exists": true}}]}`, `{"b": 1}`, true},
	})
}

func TestLogical_Match_Not(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": {"$not": {"$gt": 5}}}`, `{"a": 3}`, true},
		{`{"a": {"$not": {"$gt": 5}}}`, `{"a": 7}`, false},
		// $not matches documents without the field too.
		{`{"a": {"$not": {"$gt": 5}}}`, `{}`, true},
		{`{"a": {"$not": {"$gt": 5}}}`, `{"a": "x"}`, true},
		// Negation of "some element matches".
		{`{"a": {"$not": {"$gt": 5}}}`, `{"a": [1, 7]}`, false},
		{`{"a": {"$not": {"$gt": 5}}}`, `{"a": [1, 2]}`, true},
		// Several operators: negation of their conjunction, each traversing.
		{`{"a": {"$not": {"$gt": 1, "$lt": 5}}}`, `{"a": 3}`, false},
		{`{"a": {"$not": {"$gt": 1, "$lt": 5}}}`, `{"a": 7}`, true},
		{`{"a": {"$not": {"$gt": 1, "$lt": 5}}}`, `{"a": [0, 7]}`, false},
		{`{"a": {"$not": {"$regularExpression": {"pattern": "^x", "options": ""}}}}`, `{"a": "xy"}`, false},
		{`{"a": {"$not": {"$regularExpression": {"pattern": "^x", "options": ""}}}}`, `{"a": "yx"}`, true},
		{`{"a": {"$not": {"$regularExpression": {"pattern": "^x", "options": ""}}}}`, `{}`, true},
		{`{"a": {"$not": {"$regex": "^X", "$options": "i"}}}`, `{"a": "xy"}`, false},
		{`{"a": {"$not": {"$in": [1, 2]}}}`, `{"a": 3}`, true},
		{`{"a": {"$not": {"$not": {"$eq": 1}}}}`, `{"a": 1}`, true},
		{`{"a": {"$not": {"$elemMatch": {"$gt": 1}}}}`, `{"a": [0, 1]}`, true},
		{`{"a": {"$not": {"$size": 2}}}`, `{"a": [0, 1]}`, false},
		{`{"a": {"$not": {"$exists": true}}}`, `{}`, true},
		{`{"a": {"$not": {"$eq": null}}}`, `{}`, false},
		{`{"a": {"$not": {"$type": "string"}}}`, `{"a": 1}`, true},
		{`{"a": {"$gt": 1, "$not": {"$gt": 5}}}`, `{"a": 3}`, true},
		{`{"a": {"$gt": 1, "$not": {"$gt": 5}}}`, `{"a": 6}`, false},
	})
}

func TestLogical_Compile_Errors(t *testing.T) {
	qtRunErr(t, []qtErrCase{
		{`{"$and": []}`, 2, "$and/$or/$nor must be a nonempty array"},
		{`{"$or": []}`, 2, "$and/$or/$nor must be a nonempty array"},
		{`{"$nor": []}`, 2, "$and/$or/$nor must be a nonempty array"},
		{`{"$and": {"a": 1}}`, 2, "$and must be an array"},
		{`{"$or": 1}`, 2, "$or must be an array"},
		{`{"$nor": "x"}`, 2, "$nor must be an array"},
		{`{"$and": [1]}`, 2, "$or/$and/$nor entries need to be full objects"},
		{`{"$or": [{"a": 1}, []]}`, 2, "$or/$and/$nor entries need to be full objects"},
		{`{"$and": [{"$foo": 1}]}`, 2, "unknown top level operator: $foo. If you have a field name that starts with a '$' symbol, consider using $getField or $setField."},
		{`{"$or": [{"a": {"$bad": 1}}]}`, 2, "unknown operator: $bad"},
		{`{"a": {"$not": 5}}`, 2, "$not needs a regex or a document"},
		{`{"a": {"$not": [1]}}`, 2, "$not needs a regex or a document"},
		{`{"a": {"$not": {}}}`, 2, "$not cannot be empty"},
		{`{"a": {"$not": {"b": 1}}}`, 2, "unknown operator: b"},
		{`{"a": {"$not": {"$foo": 1}}}`, 2, "unknown operator: $foo"},
		{`{"$not": {"a": 1}}`, 2, "unknown top level operator: $not. If you are trying to negate an entire expression, use $nor."},
		{`{"$_internalSchemaXor": []}`, codeNotImplemented, ""},
		{`{"$_foo": 1}`, 2, "unknown top level operator: $_foo. If you have a field name that starts with a '$' symbol, consider using $getField or $setField."},
		{`{"a": {"$_internalExprEq": 1}}`, codeNotImplemented, ""},
	})
}
