package materialize

import (
	"bytes"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// pipeCase is one pipeline-style update applied to one document.
type pipeCase struct {
	name    string
	doc     string
	pipe    string // a JSON array of stages
	let     string // "" for none
	filters []string
	insert  bool
	want    string // expected document; "" means unchanged
	code    int32  // expected error code (compile or apply)
	msg     string
}

// pipeArray turns a JSON array into the raw BSON array CompileUpdatePipeline
// takes.
func pipeArray(t *testing.T, s string) bson.Raw {
	t.Helper()
	return bson.Raw(updEJ(t, `{"p": `+s+`}`).Lookup("p").Value)
}

func runPipeCases(t *testing.T, cases []pipeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var let bson.Raw
			if tc.let != "" {
				let = updEJ(t, tc.let)
			}
			doc := updEJ(t, tc.doc)
			u, err := CompileUpdatePipeline(pipeArray(t, tc.pipe), UpdateOptions{Let: let, ArrayFilters: updEJList(t, tc.filters)})
			var out bson.Raw
			var changed bool
			if err == nil {
				if u.UsesPositional() || u.IsReplacement() {
					t.Fatalf("a pipeline is neither positional nor a replacement")
				}
				out, changed, err = u.Apply(doc, ApplyContext{PositionalIndex: -1, IsUpsertInsert: tc.insert, Now: updTestNow})
			}
			if tc.code != 0 {
				updCheckErr(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.want == "" {
				if changed || !bytes.Equal(out, doc) {
					t.Fatalf("want unchanged, got changed=%v %s", changed, updCanon(out))
				}
				return
			}
			want := updEJ(t, tc.want)
			if !bytes.Equal(out, want) {
				t.Fatalf("got  %s\nwant %s", updCanon(out), updCanon(want))
			}
			if !changed {
				t.Fatalf("changed = false")
			}
		})
	}
}

func TestUpdatePipeline_Apply_Set(t *testing.T) {
	runPipeCases(t, []pipeCase{
		{name: "Constant", doc: `{"_id":1,"x":20}`, pipe: `[{"$set":{"x":21}}]`, want: `{"_id":1,"x":21}`},
		{name: "AddFieldsAlias", doc: `{"_id":1}`, pipe: `[{"$addFields":{"foo":1}}]`, want: `{"_id":1,"foo":1}`},
		{name: "FieldPath", doc: `{"_id":1,"a":2}`, pipe: `[{"$set":{"b":"$a"}}]`, want: `{"_id":1,"a":2,"b":2}`},
		{name: "Expression", doc: `{"_id":1,"a":2,"b":3}`, pipe: `[{"$set":{"c":{"$add":["$a","$b"]}}}]`, want: `{"_id":1,"a":2,"b":3,"c":5}`},
		{name: "ReplacesInPlace", doc: `{"_id":1,"a":1,"b":2}`, pipe: `[{"$set":{"a":"x"}}]`, want: `{"_id":1,"a":"x","b":2}`},
		{name: "EveryExpressionSeesTheInput", doc: `{"_id":1,"a":1}`, pipe: `[{"$set":{"a":2,"b":"$a"}}]`, want: `{"_id":1,"a":2,"b":1}`},
		{name: "StagesRunInOrder", doc: `{"_id":1,"a":1}`, pipe: `[{"$set":{"a":2}},{"$set":{"b":"$a"}}]`, want: `{"_id":1,"a":2,"b":2}`},
		{name: "DottedPathCreates", doc: `{"_id":1}`, pipe: `[{"$set":{"a.b":1}}]`, want: `{"_id":1,"a":{"b":1}}`},
		{name: "SubObjectMerges", doc: `{"_id":1,"a":{"c":1}}`, pipe: `[{"$set":{"a":{"b":2}}}]`, want: `{"_id":1,"a":{"c":1,"b":2}}`},
		{name: "EmptySubObjectIsLiteral", doc: `{"_id":1,"a":{"c":1}}`, pipe: `[{"$set":{"a":{}}}]`, want: `{"_id":1,"a":{}}`},
		{name: "ThroughArrays", doc: `{"_id":1,"a":[{"c":1},2,[{"c":3}]]}`, pipe: `[{"$set":{"a.b":1}}]`, want: `{"_id":1,"a":[{"c":1,"b":1},{"b":1},[{"c":3,"b":1}]]}`},
		{name: "ScalarBecomesDocument", doc: `{"_id":1,"a":5}`, pipe: `[{"$set":{"a.b":1}}]`, want: `{"_id":1,"a":{"b":1}}`},
		{name: "RemoveVariable", doc: `{"_id":1,"a":1,"b":2}`, pipe: `[{"$set":{"a":"$$REMOVE"}}]`, want: `{"_id":1,"b":2}`},
		{name: "MissingPathRemoves", doc: `{"_id":1,"a":1}`, pipe: `[{"$set":{"a":"$nope"}}]`, want: `{"_id":1}`},
		{name: "Literal", doc: `{"_id":1}`, pipe: `[{"$set":{"a":{"$literal":"$x"}}}]`, want: `{"_id":1,"a":"$x"}`},
		{name: "SameValueIsNoop", doc: `{"_id":1,"a":1}`, pipe: `[{"$set":{"a":1}}]`},
		{name: "EmptySpecIsNoop", doc: `{"_id":1,"a":1}`, pipe: `[{"$set":{}}]`},
		{name: "EmptyPipelineIsNoop", doc: `{"_id":1,"a":1}`, pipe: `[]`},
		{name: "SetFieldDollar", doc: `{"_id":1,"foo":{}}`, pipe: `[{"$set":{"foo":{"$setField":{"field":{"$literal":"$a"},"value":1,"input":"$foo"}}}}]`, want: `{"_id":1,"foo":{"$a":1}}`},
		{name: "SetFieldDotted", doc: `{"_id":1,"foo":{}}`, pipe: `[{"$set":{"foo":{"$setField":{"field":"a.b","value":1,"input":"$foo"}}}}]`, want: `{"_id":1,"foo":{"a.b":1}}`},
		{name: "GetField", doc: `{"_id":1,"a.b":5}`, pipe: `[{"$set":{"c":{"$getField":"a.b"}}}]`, want: `{"_id":1,"a.b":5,"c":5}`},
		{name: "ImmutableID", doc: `{"_id":1}`, pipe: `[{"$set":{"_id":2}}]`, code: 66, msg: "After applying the update, the (immutable) field '_id' was found to have been altered to _id: 2"},
		{name: "RuntimeError", doc: `{"_id":1,"a":"x"}`, pipe: `[{"$set":{"b":{"$add":["$a",1]}}}]`, code: 14, msg: "$add only supports numeric or date types, not string"},
	})
}

func TestUpdatePipeline_Apply_ProjectUnsetReplace(t *testing.T) {
	runPipeCases(t, []pipeCase{
		{name: "ProjectInclusion", doc: `{"_id":1,"x":1,"y":2}`, pipe: `[{"$project":{"x":1}},{"$addFields":{"foo":1}}]`, want: `{"_id":1,"x":1,"foo":1}`},
		{name: "ProjectExclusion", doc: `{"_id":1,"x":1,"y":2}`, pipe: `[{"$project":{"y":0}}]`, want: `{"_id":1,"x":1}`},
		{name: "ProjectWithoutIDKeepsID", doc: `{"_id":1,"x":1,"y":2}`, pipe: `[{"$project":{"_id":0,"x":1}}]`, want: `{"_id":1,"x":1}`},
		{name: "ProjectComputed", doc: `{"_id":1,"x":1}`, pipe: `[{"$project":{"z":{"$add":["$x",1]}}}]`, want: `{"_id":1,"z":2}`},
		{name: "UnsetString", doc: `{"_id":1,"a":1,"b":2}`, pipe: `[{"$unset":"a"}]`, want: `{"_id":1,"b":2}`},
		{name: "UnsetArray", doc: `{"_id":1,"a":1,"b":{"c":1,"d":2}}`, pipe: `[{"$unset":["a","b.c"]}]`, want: `{"_id":1,"b":{"d":2}}`},
		{name: "UnsetMissingIsNoop", doc: `{"_id":1,"a":1}`, pipe: `[{"$unset":"z"}]`},
		{name: "ReplaceRootKeepsID", doc: `{"_id":1,"t":{"u":{"v":1}}}`, pipe: `[{"$replaceRoot":{"newRoot":"$t"}},{"$addFields":{"foo":1}}]`, want: `{"_id":1,"u":{"v":1},"foo":1}`},
		{name: "ReplaceWith", doc: `{"_id":1,"a":1}`, pipe: `[{"$replaceWith":{"b":"$a"}}]`, want: `{"_id":1,"b":1}`},
		{name: "ReplaceWithTopLevelDollar", doc: `{"_id":1,"foo":{}}`, pipe: `[{"$replaceWith":{"$setField":{"field":{"$literal":"$a"},"value":1,"input":"$$ROOT"}}}]`, want: `{"_id":1,"foo":{},"$a":1}`},
		{name: "ReplaceWithTopLevelDotted", doc: `{"_id":1,"foo":{}}`, pipe: `[{"$replaceWith":{"$setField":{"field":{"$literal":"a.b"},"value":1,"input":"$$ROOT"}}}]`, want: `{"_id":1,"foo":{},"a.b":1}`},
		{name: "ReplaceWithSameID", doc: `{"_id":1,"a":1}`, pipe: `[{"$replaceWith":{"_id":1,"b":2}}]`, want: `{"_id":1,"b":2}`},
		{name: "ReplaceWithOtherID", doc: `{"_id":1,"a":1}`, pipe: `[{"$replaceWith":{"_id":2}}]`, code: 66},
		{name: "ReplaceRootNotDocument", doc: `{"_id":1,"a":{"b":10}}`, pipe: `[{"$replaceRoot":{"newRoot":"$a.b"}}]`, code: 40228,
			msg: "'newRoot' expression must evaluate to an object, but resulting value was: 10. Type of resulting value: 'int'. Input document: {_id: 1, a: {b: 10}}"},
		{name: "ReplaceWithMissing", doc: `{"_id":1}`, pipe: `[{"$replaceWith":"$nope"}]`, code: 40228,
			msg: "'replacement document' must evaluate to an object, but resulting value was: MISSING. Type of resulting value: 'missing'. Input document: {_id: 1}"},
		{name: "ArrayID", doc: `{"_id":1}`, pipe: `[{"$replaceWith":{"_id":[1]}}]`, code: 53},
		{name: "Upsert", doc: `{"_id":7}`, pipe: `[{"$set":{"a":"$_id"}}]`, insert: true, want: `{"_id":7,"a":7}`},
	})
}

func TestUpdatePipeline_Apply_Let(t *testing.T) {
	runPipeCases(t, []pipeCase{
		{name: "Variables", doc: `{"_id":2,"name":"name"}`, pipe: `[{"$set":{"x":"$$x","y":"$$y"}}]`, let: `{"x":"foo","y":{"$literal":"bar"}}`,
			want: `{"_id":2,"name":"name","x":"foo","y":"bar"}`},
		{name: "InExpression", doc: `{"_id":1,"a":2}`, pipe: `[{"$set":{"a":{"$multiply":["$a","$$k"]}}}]`, let: `{"k":10}`, want: `{"_id":1,"a":20}`},
		{name: "InReplaceWith", doc: `{"_id":1}`, pipe: `[{"$replaceWith":"$$d"}]`, let: `{"d":{"v":1}}`, want: `{"_id":1,"v":1}`},
		{name: "Undefined", doc: `{"_id":1}`, pipe: `[{"$set":{"a":"$$zz"}}]`, code: 17276, msg: "Invalid $set :: caused by :: Use of undefined variable: zz"},
		{name: "BadName", doc: `{"_id":1}`, pipe: `[{"$set":{"a":1}}]`, let: `{"Bad":1}`, code: 9,
			msg: "Invalid 'let' parameter :: caused by :: 'Bad' starts with an invalid character for a user variable name"},
	})
}

func TestUpdatePipeline_Compile_Errors(t *testing.T) {
	runPipeCases(t, []pipeCase{
		{name: "NotAllowedStage", doc: `{}`, pipe: `[{"$match":{"a":1}}]`, code: 72, msg: "$match is not allowed to be used within an update"},
		{name: "NotAllowedAfterAllowed", doc: `{}`, pipe: `[{"$set":{"a":1}},{"$sort":{"a":1}}]`, code: 72, msg: "$sort is not allowed to be used within an update"},
		{name: "UnknownStage", doc: `{}`, pipe: `[{"$foo":{}}]`, code: 40324, msg: "Unrecognized pipeline stage name: '$foo'"},
		{name: "UnknownAfterNotAllowed", doc: `{}`, pipe: `[{"$group":{}},{"$foo":{}}]`, code: 40324},
		{name: "FillNotSupported", doc: `{}`, pipe: `[{"$fill":{"output":{"a":{"value":0}}}}]`, code: 238},
		{name: "TwoFields", doc: `{}`, pipe: `[{"$set":{"a":1},"$unset":"b"}]`, code: 40323, msg: "A pipeline stage specification object must contain exactly one field."},
		{name: "NotAnObject", doc: `{}`, pipe: `[1]`, code: 14, msg: "Each element of the 'pipeline' array must be an object"},
		{name: "ArrayFilters", doc: `{}`, pipe: `[{"$set":{"a":1}}]`, filters: []string{`{"x":1}`}, code: 9, msg: "arrayFilters may not be specified for pipeline-style updates"},
		{name: "SetNotObject", doc: `{}`, pipe: `[{"$set":"a"}]`, code: 40272, msg: "$set specification stage must be an object, got string"},
		{name: "SetDollarField", doc: `{}`, pipe: `[{"$set":{"$foo":"v"}}]`, code: 16410,
			msg: "Invalid $set :: caused by :: FieldPath field names may not start with '$'. Consider using $getField or $setField."},
		{name: "SetConflict", doc: `{}`, pipe: `[{"$addFields":{"a":1,"a.b":2}}]`, code: 40176, msg: "~Invalid $addFields :: caused by :: specification contains two conflicting paths. Cannot specify both 'a.b' and 'a'"},
		{name: "SetTwoFieldExpression", doc: `{}`, pipe: `[{"$set":{"a":{"$add":[1],"b":1}}}]`, code: 40181},
		{name: "SetDottedInSubObject", doc: `{}`, pipe: `[{"$set":{"a":{"b.c":1}}}]`, code: 40183},
		{name: "SetUnknownExpression", doc: `{}`, pipe: `[{"$set":{"a":{"$nope":1}}}]`, code: 168, msg: "Invalid $set :: caused by :: Unrecognized expression '$nope'"},
		{name: "ProjectEmpty", doc: `{}`, pipe: `[{"$project":{}}]`, code: 51272, msg: "Invalid $project :: caused by :: projection specification must have at least one field"},
		{name: "ProjectMixed", doc: `{}`, pipe: `[{"$project":{"a":1,"b":0}}]`, code: 31254, msg: "Invalid $project :: caused by :: Cannot do exclusion on field b in inclusion projection"},
		{name: "ProjectPositional", doc: `{}`, pipe: `[{"$project":{"a.$":1}}]`, code: 31324, msg: "Invalid $project :: caused by :: Cannot use positional projection in aggregation projection"},
		{name: "ProjectElemMatch", doc: `{}`, pipe: `[{"$project":{"a":{"$elemMatch":{"b":1}}}}]`, code: 168, msg: "Invalid $project :: caused by :: Cannot use $elemMatch in this context"},
		{name: "ProjectNotObject", doc: `{}`, pipe: `[{"$project":1}]`, code: 15969},
		{name: "UnsetNumber", doc: `{}`, pipe: `[{"$unset":1}]`, code: 31002},
		{name: "UnsetEmpty", doc: `{}`, pipe: `[{"$unset":[]}]`, code: 31119},
		{name: "UnsetNonString", doc: `{}`, pipe: `[{"$unset":["a",1]}]`, code: 31120},
		{name: "ReplaceRootNoNewRoot", doc: `{}`, pipe: `[{"$replaceRoot":{}}]`, code: 40414},
		{name: "ReplaceRootUnknownField", doc: `{}`, pipe: `[{"$replaceRoot":{"newRoot":"$a","x":1}}]`, code: 40415},
		{name: "ReplaceRootNotObject", doc: `{}`, pipe: `[{"$replaceRoot":"$a"}]`, code: 40229},
		{name: "SetFieldNoValue", doc: `{}`, pipe: `[{"$set":{"a":{"$setField":{"field":"x","input":"$$ROOT"}}}}]`, code: 4161103, msg: "Invalid $set :: caused by :: $setField requires 'value' to be specified"},
	})
}
