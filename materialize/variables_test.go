package materialize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

func TestVariables_Parse_Values(t *testing.T) {
	cases := []struct {
		name, let, varName string
		want               string // extended JSON value, or "missing"
	}{
		{"Constant", `{"id": 1}`, "id", `1`},
		{"String", `{"x": "foo"}`, "x", `"foo"`},
		{"Literal", `{"y": {"$literal": "$bar"}}`, "y", `"$bar"`},
		{"Expression", `{"z": {"$add": [1, 2]}}`, "z", `3`},
		{"EarlierVariable", `{"a": 2, "b": {"$multiply": ["$$a", 10]}}`, "b", `20`},
		{"Remove", `{"r": "$$REMOVE"}`, "r", `missing`},
		{"NonASCII", `{"été": 1}`, "été", `1`},
		{"DigitsAndUnderscore", `{"a_1B": 1}`, "a_1B", `1`},
		{"Current", `{"CURRENT": {"a": 5}}`, "CURRENT", `{"a": 5}`},
		{"Document", `{"d": {"k": "$$REMOVE", "v": 1}}`, "d", `{"v": 1}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vars, err := ParseVariables(qtDoc(t, c.let))
			require.NoError(t, err)
			got, ok := vars.Lookup(c.varName)
			require.True(t, ok, "variable %s is defined", c.varName)
			if c.want == "missing" {
				assert.Equal(t, bsontype.Type(0), got.Type)
				return
			}
			want := qtVal(t, c.want)
			assert.Equal(t, want.Type, got.Type)
			assert.True(t, ValuesEqual(want, got), "got %v, want %v", got, want)
		})
	}
}

func TestVariables_Parse_Empty(t *testing.T) {
	for _, let := range []bson.Raw{nil, qtDoc(t, `{}`)} {
		vars, err := ParseVariables(let)
		require.NoError(t, err)
		_, ok := vars.Lookup("x")
		assert.False(t, ok)
	}
}

func TestVariables_Parse_Errors(t *testing.T) {
	cases := []struct {
		name, let string
		code      int32
		msg       string
	}{
		{"Uppercase", `{"Bad": 1}`, 9, "Invalid 'let' parameter :: caused by :: 'Bad' starts with an invalid character for a user variable name"},
		{"Digit", `{"1a": 1}`, 9, "Invalid 'let' parameter :: caused by :: '1a' starts with an invalid character for a user variable name"},
		{"Underscore", `{"_a": 1}`, 9, "Invalid 'let' parameter :: caused by :: '_a' starts with an invalid character for a user variable name"},
		{"Dash", `{"a-b": 1}`, 9, "Invalid 'let' parameter :: caused by :: 'a-b' contains an invalid character for a variable name: '-'"},
		{"Dot", `{"a.b": 1}`, 9, "Invalid 'let' parameter :: caused by :: 'a.b' contains an invalid character for a variable name: '.'"},
		{"Empty", `{"": 1}`, 9, "Invalid 'let' parameter :: caused by :: empty variable names are not allowed"},
		{"Root", `{"ROOT": 1}`, 9, "Invalid 'let' parameter :: caused by :: 'ROOT' starts with an invalid character for a user variable name"},
		{"Now", `{"NOW": {"$date": "2020-01-01T00:00:00Z"}}`, 4738901, "Attempt to set internal constant: NOW"},
		{"ClusterTime", `{"CLUSTER_TIME": 1}`, 4738901, "Attempt to set internal constant: CLUSTER_TIME"},
		{"ReadsField", `{"x": "$a"}`, 4890500, "Command let Expression tried to access a field, but this is not allowed becauseCommand let Expressions run before the query examines any documents."},
		{"ReadsRoot", `{"x": "$$ROOT"}`, 4890500, ""},
		{"ReadsFieldInside", `{"x": {"$add": ["$a", 1]}}`, 4890500, ""},
		{"Undefined", `{"x": "$$y"}`, 17276, "Use of undefined variable: y"},
		{"LaterVariable", `{"x": "$$y", "y": 1}`, 17276, "Use of undefined variable: y"},
		{"UnknownOperator", `{"x": {"$nope": 1}}`, 168, "Unrecognized expression '$nope'"},
		{"EvaluationError", `{"x": {"$divide": [1, 0]}}`, -1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseVariables(qtDoc(t, c.let))
			if c.code < 0 {
				require.Error(t, err)
				return
			}
			qtAssertErr(t, err, c.code, c.msg)
		})
	}
}

func TestFilter_CompileWithVars_Match(t *testing.T) {
	cases := []struct {
		name, filter, let, doc string
		want                   bool
	}{
		{"EqualID", `{"$expr": {"$eq": ["$_id", "$$id"]}}`, `{"id": 1}`, `{"_id": 1}`, true},
		{"OtherID", `{"$expr": {"$eq": ["$_id", "$$id"]}}`, `{"id": 1}`, `{"_id": 2}`, false},
		{"String", `{"$expr": {"$eq": ["$name", "$$name"]}}`, `{"name": "name"}`, `{"_id": 2, "name": "name"}`, true},
		{"WithOtherConditions", `{"a": {"$gt": 0}, "$expr": {"$lt": ["$a", "$$max"]}}`, `{"max": 5}`, `{"a": 3}`, true},
		{"InsideOr", `{"$or": [{"a": 9}, {"$expr": {"$eq": ["$a", "$$v"]}}]}`, `{"v": 4}`, `{"a": 4}`, true},
		{"CurrentRebound", `{"$expr": {"$eq": ["$a", 5]}}`, `{"CURRENT": {"a": 5}}`, `{"a": 1}`, true},
		{"UnusedLet", `{"a": 1}`, `{"x": 1}`, `{"a": 1}`, true},
		{"NilLet", `{"a": 1}`, ``, `{"a": 1}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var let bson.Raw
			if c.let != "" {
				let = qtDoc(t, c.let)
			}
			f, err := CompileFilterWithVars(qtDoc(t, c.filter), let)
			require.NoError(t, err)
			got, err := f.Match(qtDoc(t, c.doc))
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestFilter_CompileWithVars_Errors(t *testing.T) {
	cases := []struct {
		name, filter, let string
		code              int32
		msg               string
	}{
		{"UndefinedWithoutLet", `{"$expr": {"$eq": ["$_id", "$$id"]}}`, `{}`, 17276, "Use of undefined variable: id"},
		{"UndefinedOtherName", `{"$expr": {"$eq": ["$_id", "$$id"]}}`, `{"x": 1}`, 17276, "Use of undefined variable: id"},
		{"LetBeforeFilter", `{"$nope": 1}`, `{"Bad": 1}`, 9, "Invalid 'let' parameter :: caused by :: 'Bad' starts with an invalid character for a user variable name"},
		{"LetCheckedForEmptyFilter", `{}`, `{"Bad": 1}`, 9, ""},
		{"FilterError", `{"$nope": 1}`, `{"x": 1}`, 2, "unknown top level operator: $nope. If you have a field name that starts with a '$' symbol, consider using $getField or $setField."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := CompileFilterWithVars(qtDoc(t, c.filter), qtDoc(t, c.let))
			qtAssertErr(t, err, c.code, c.msg)
		})
	}
}

func TestProjection_CompileWithVars_Computed(t *testing.T) {
	p, err := CompileProjectionWithVars(qtDoc(t, `{"a": 1, "b": "$$x"}`), qtDoc(t, `{"x": "foo"}`))
	require.NoError(t, err)
	out, err := p.Apply(qtDoc(t, `{"_id": 1, "a": 2, "c": 3}`), -1)
	require.NoError(t, err)
	assert.Equal(t, `{"_id": {"$numberInt":"1"},"a": {"$numberInt":"2"},"b": "foo"}`, out.String())
	_, err = CompileProjectionWithVars(qtDoc(t, `{"b": "$$y"}`), qtDoc(t, `{"x": 1}`))
	qtAssertErr(t, err, 17276, "Use of undefined variable: y")
}

func TestExpression_Eval_FieldOperators(t *testing.T) {
	qtRunExpr(t, []qtExprCase{
		{`{"$getField": "a"}`, `{"a": 1}`, `1`},
		{`{"$getField": "a.b"}`, `{"a.b": 2, "a": {"b": 3}}`, `2`},
		{`{"$getField": {"$literal": "$x"}}`, `{"$x": 4}`, `4`},
		{`{"$getField": {"field": "b", "input": "$a"}}`, `{"a": {"b": 5}}`, `5`},
		{`{"$getField": {"field": "$name", "input": "$a"}}`, `{"name": "b", "a": {"b": 6}}`, `6`},
		{`{"$getField": {"field": "b", "input": "$nope"}}`, `{}`, `null`},
		{`{"$getField": "nope"}`, `{"a": 1}`, `missing`},
		{`{"$setField": {"field": "b", "input": {"a": 1}, "value": 2}}`, `{}`, `{"a": 1, "b": 2}`},
		{`{"$setField": {"field": "a", "input": {"a": 1, "c": 3}, "value": 2}}`, `{}`, `{"a": 2, "c": 3}`},
		{`{"$setField": {"field": "a", "input": {"a": 1, "c": 3}, "value": "$$REMOVE"}}`, `{}`, `{"c": 3}`},
		{`{"$setField": {"field": {"$literal": "$a"}, "input": "$$ROOT", "value": 1}}`, `{"_id": 1}`, `{"_id": 1, "$a": 1}`},
		{`{"$setField": {"field": "x", "input": null, "value": 1}}`, `{}`, `null`},
		{`{"$unsetField": {"field": "a.b", "input": "$$ROOT"}}`, `{"a.b": 1, "c": 2}`, `{"c": 2}`},
	})
	qtRunExprErr(t, []qtExprErr{
		{`{"$setField": 1}`, `{}`, 4161100, "$setField only supports an object as its argument"},
		{`{"$setField": {"field": "a", "value": 1}}`, `{}`, 4161109, "$setField requires 'input' to be specified"},
		{`{"$setField": {"input": {}, "value": 1}}`, `{}`, 4161102, "$setField requires 'field' to be specified"},
		{`{"$setField": {"field": "a", "input": {}}}`, `{}`, 4161103, "$setField requires 'value' to be specified"},
		{`{"$setField": {"field": "a", "input": {}, "value": 1, "x": 1}}`, `{}`, 4161101, "$setField found an unknown argument: x"},
		{`{"$setField": {"field": "$a", "input": {}, "value": 1}}`, `{}`, 4161108, "A field path reference which is not allowed in this context. Did you mean {$literal: '$a'}?"},
		{`{"$setField": {"field": {"$concat": ["a", "b"]}, "input": {}, "value": 1}}`, `{}`, 4161106, "$setField requires 'field' to evaluate to a constant, but got a non-constant argument"},
		{`{"$setField": {"field": 1, "input": {}, "value": 1}}`, `{}`, 4161107, "$setField requires 'field' to evaluate to type String, but got int"},
		{`{"$setField": {"field": "a", "input": "x", "value": 1}}`, `{}`, 4161105, "$setField requires 'input' to evaluate to type Object"},
		{`{"$unsetField": {"field": "a", "input": {}, "value": 1}}`, `{}`, 4161101, "$unsetField found an unknown argument: value"},
		{`{"$getField": {"input": {}}}`, `{}`, 3041702, "$getField requires 'field' to be specified"},
		{`{"$getField": {"field": "a", "x": 1}}`, `{}`, 3041701, "$getField found an unknown argument: x"},
		{`{"$getField": {"field": 1}}`, `{}`, 3041704, "$getField requires 'field' to evaluate to type String, but got int"},
		{`{"$getField": {"field": "a", "input": 5}}`, `{}`, 3041705, "$getField requires 'input' to evaluate to type Object"},
	})
}
