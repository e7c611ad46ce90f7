package materialize

import (
	"bytes"
	"testing"
)

type projCase struct {
	name string
	doc  string
	proj string
	pos  int // positional index + 1 (0: none)
	want string
	code int32
	msg  string
}

func runProjCases(t *testing.T, cases []projCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := CompileProjection(updEJ(t, tc.proj))
			var out []byte
			if err == nil {
				out, err = p.Apply(updEJ(t, tc.doc), tc.pos-1)
			}
			if tc.code != 0 {
				updCheckErr(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if want := updEJ(t, tc.want); !bytes.Equal(out, want) {
				t.Fatalf("got  %s\nwant %s", updCanon(out), updCanon(want))
			}
		})
	}
}

const projDoc = `{"_id":1,"a":1,"b":{"c":2,"d":3},"e":[{"f":1,"g":1},{"g":2},5,[{"f":3,"h":1}]],"z":"s"}`

func TestProjection_Apply_Inclusion(t *testing.T) {
	runProjCases(t, []projCase{
		{name: "Field", doc: projDoc, proj: `{"a":1}`, want: `{"_id":1,"a":1}`},
		{name: "True", doc: projDoc, proj: `{"a":true}`, want: `{"_id":1,"a":1}`},
		{name: "NonZeroNumbers", doc: projDoc, proj: `{"a":-1.5,"z":{"$numberLong":"3"}}`, want: `{"_id":1,"a":1,"z":"s"}`},
		{name: "NoId", doc: projDoc, proj: `{"a":1,"_id":0}`, want: `{"a":1}`},
		{name: "IdOnly", doc: projDoc, proj: `{"_id":1}`, want: `{"_id":1}`},
		{name: "InputOrder", doc: projDoc, proj: `{"z":1,"a":1}`, want: `{"_id":1,"a":1,"z":"s"}`},
		{name: "IdKeepsItsPlace", doc: `{"a":1,"_id":2}`, proj: `{"a":1}`, want: `{"a":1,"_id":2}`},
		{name: "Dotted", doc: projDoc, proj: `{"b.c":1}`, want: `{"_id":1,"b":{"c":2}}`},
		{name: "SubObject", doc: projDoc, proj: `{"b":{"d":1}}`, want: `{"_id":1,"b":{"d":3}}`},
		{name: "MixedSyntax", doc: projDoc, proj: `{"b":{"d":1},"b.c":1}`, want: `{"_id":1,"b":{"c":2,"d":3}}`},
		{name: "ThroughArrays", doc: projDoc, proj: `{"e.f":1}`, want: `{"_id":1,"e":[{"f":1},{},[{"f":3}]]}`},
		{name: "ThroughScalar", doc: projDoc, proj: `{"a.x":1}`, want: `{"_id":1}`},
		{name: "MissingSubField", doc: projDoc, proj: `{"b.x":1}`, want: `{"_id":1,"b":{}}`},
		{name: "Missing", doc: projDoc, proj: `{"nope":1}`, want: `{"_id":1}`},
		{name: "IdSubField", doc: `{"_id":{"x":1,"y":2},"a":1}`, proj: `{"_id.x":1}`, want: `{"_id":{"x":1}}`},
		{name: "IdSubFieldWithOther", doc: `{"_id":{"x":1,"y":2},"a":1}`, proj: `{"a":1,"_id.y":1}`, want: `{"_id":{"y":2},"a":1}`},
		{name: "WholeArray", doc: projDoc, proj: `{"e":1,"_id":0}`, want: `{"e":[{"f":1,"g":1},{"g":2},5,[{"f":3,"h":1}]]}`},
	})
}

func TestProjection_Apply_Exclusion(t *testing.T) {
	runProjCases(t, []projCase{
		{name: "Field", doc: projDoc, proj: `{"a":0}`, want: `{"_id":1,"b":{"c":2,"d":3},"e":[{"f":1,"g":1},{"g":2},5,[{"f":3,"h":1}]],"z":"s"}`},
		{name: "False", doc: projDoc, proj: `{"a":false,"e":0}`, want: `{"_id":1,"b":{"c":2,"d":3},"z":"s"}`},
		{name: "Id", doc: projDoc, proj: `{"_id":0,"e":0}`, want: `{"a":1,"b":{"c":2,"d":3},"z":"s"}`},
		{name: "IdOnly", doc: `{"_id":1,"a":1}`, proj: `{"_id":0}`, want: `{"a":1}`},
		{name: "IdIncludedIgnored", doc: `{"_id":1,"a":1,"b":2}`, proj: `{"a":0,"_id":1}`, want: `{"_id":1,"b":2}`},
		{name: "Dotted", doc: projDoc, proj: `{"b.c":0,"e":0}`, want: `{"_id":1,"a":1,"b":{"d":3},"z":"s"}`},
		{name: "ThroughArrays", doc: projDoc, proj: `{"e.f":0,"b":0}`, want: `{"_id":1,"a":1,"e":[{"g":1},{"g":2},5,[{"h":1}]],"z":"s"}`},
		{name: "ThroughScalar", doc: `{"_id":1,"a":5}`, proj: `{"a.b":0}`, want: `{"_id":1,"a":5}`},
		{name: "DecimalZero", doc: `{"_id":1,"a":5,"b":1}`, proj: `{"a":{"$numberDecimal":"0.0"}}`, want: `{"_id":1,"b":1}`},
	})
}

func TestProjection_Compile_Errors(t *testing.T) {
	runProjCases(t, []projCase{
		{name: "ExclusionInInclusion", doc: `{}`, proj: `{"a":1,"b":0}`, code: 31254, msg: "Cannot do exclusion on field b in inclusion projection"},
		{name: "InclusionInExclusion", doc: `{}`, proj: `{"a":0,"b":1}`, code: 31253, msg: "Cannot do inclusion on field b in exclusion projection"},
		{name: "NestedMix", doc: `{}`, proj: `{"a":{"b":1,"c":0}}`, code: 31254, msg: "Cannot do exclusion on field c in inclusion projection"},
		{name: "CollisionChildAfterParent", doc: `{}`, proj: `{"a":1,"a.b":1}`, code: 31249, msg: "Path collision at a.b remaining portion b"},
		{name: "CollisionParentAfterChild", doc: `{}`, proj: `{"a.b":1,"a":1}`, code: 31250, msg: "Path collision at a"},
		{name: "CollisionDeep", doc: `{}`, proj: `{"a.b":1,"a.b.c.d":1}`, code: 31249, msg: "Path collision at a.b.c.d remaining portion c.d"},
		{name: "DollarField", doc: `{}`, proj: `{"$a":1}`, code: 16410, msg: "FieldPath field names may not start with '$'. Consider using $getField or $setField."},
		{name: "EmptyName", doc: `{}`, proj: `{"":1}`, code: 40352, msg: "FieldPath cannot be constructed with empty string"},
		{name: "EmptyComponent", doc: `{}`, proj: `{"a..b":1}`, code: 15998, msg: "FieldPath field names may not be empty strings."},
		{name: "EmptySubProjection", doc: `{}`, proj: `{"a":{}}`, code: 51270, msg: "An empty sub-projection is not a valid value. Found empty object at path a"},
		{name: "EmptyNestedSubProjection", doc: `{}`, proj: `{"a":{"b":{}}}`, code: 51270, msg: "An empty sub-projection is not a valid value. Found empty object at path a.b"},
		{name: "UnknownExpression", doc: `{}`, proj: `{"a":{"$foo":1}}`, code: 31325, msg: "Unknown expression $foo"},
		{name: "LiteralInExclusion", doc: `{}`, proj: `{"a":0,"b":"x"}`, code: 31310, msg: `Cannot use an expression b: "x" in an exclusion projection`},
		{name: "ExpressionInExclusion", doc: `{}`, proj: `{"a":0,"b":{"$add":[1,2]}}`, code: 31252, msg: "Cannot use expression other than $meta in exclusion projection"},
		{name: "ExclusionAfterExpression", doc: `{}`, proj: `{"b":"x","a":0}`, code: 31254, msg: "Cannot do exclusion on field a in inclusion projection"},
		{name: "Meta", doc: `{}`, proj: `{"s":{"$meta":"textScore"}}`, code: 238, msg: "~$meta"},
		{name: "ElemMatchNotObject", doc: `{}`, proj: `{"a":{"$elemMatch":1}}`, code: 31274, msg: "elemMatch: Invalid argument, object required, but got int"},
		{name: "ElemMatchNested", doc: `{}`, proj: `{"a.b":{"$elemMatch":{"x":1}}}`, code: 31275, msg: "Cannot use $elemMatch projection on a nested field."},
		{name: "ElemMatchInSubObject", doc: `{}`, proj: `{"a":{"b":{"$elemMatch":{"x":1}}}}`, code: 31275, msg: "Cannot use $elemMatch projection on a nested field."},
		{name: "ElemMatchBadFilter", doc: `{}`, proj: `{"a":{"$elemMatch":{"$bogus":1}}}`, code: 2},
		{name: "PositionalThenElemMatch", doc: `{}`, proj: `{"a.$":1,"b":{"$elemMatch":{"x":1}}}`, code: 31255, msg: "Cannot specify positional operator and $elemMatch."},
		{name: "ElemMatchThenPositional", doc: `{}`, proj: `{"b":{"$elemMatch":{"x":1}},"a.$":1}`, code: 31256, msg: "Cannot specify positional operator and $elemMatch."},
		{name: "TwoPositional", doc: `{}`, proj: `{"a.$":1,"b.$":1}`, code: 31276, msg: "Cannot specify more than one positional projection per query."},
		{name: "PositionalTwice", doc: `{}`, proj: `{"a.$.b.$":1}`, code: 31287, msg: "Cannot use positional operator twice: a.$.b.$"},
		{name: "PositionalTrailingDot", doc: `{}`, proj: `{"a.$.":1}`, code: 31270, msg: "Path cannot end with '.$.'"},
		{name: "PositionalSubObject", doc: `{}`, proj: `{"a.$":{"x":1}}`, code: 31271, msg: "positional projection cannot be used with an expression or sub object"},
		{name: "PositionalLiteral", doc: `{}`, proj: `{"a.$":"x"}`, code: 31308, msg: "positional projection cannot be used with a literal"},
		{name: "PositionalExclusion", doc: `{}`, proj: `{"a.$":0}`, code: 16410},
		{name: "PositionalInExclusion", doc: `{}`, proj: `{"b":0,"a.$":1}`, code: 31253, msg: "Cannot do inclusion on field a.$ in exclusion projection"},
		{name: "SliceArrayLength", doc: `{}`, proj: `{"a":{"$slice":[1]}}`, code: -1, msg: "~Invalid $slice syntax. The given syntax { $slice: [ 1 ] } did not match the find() syntax because :: Location31272: $slice array argument should be of form [skip, limit] :: The given syntax did not match the expression $slice syntax. :: caused by :: "},
		{name: "SliceString", doc: `{}`, proj: `{"a":{"$slice":"x"}}`, code: -1, msg: "~Location31273: $slice only supports numbers and [skip, limit] arrays"},
	})
}

func TestProjection_Apply_Computed(t *testing.T) {
	runProjCases(t, []projCase{
		{name: "Literal", doc: `{"_id":1,"a":1}`, proj: `{"a":"x"}`, want: `{"_id":1,"a":"x"}`},
		{name: "LiteralNull", doc: `{"_id":1}`, proj: `{"x":null}`, want: `{"_id":1,"x":null}`},
		{name: "FieldPath", doc: `{"_id":1,"a":5}`, proj: `{"b":"$a"}`, want: `{"_id":1,"b":5}`},
		{name: "MissingFieldPathOmitted", doc: `{"_id":1}`, proj: `{"b":"$a"}`, want: `{"_id":1}`},
		{name: "Operator", doc: `{"_id":1,"a":5}`, proj: `{"c":{"$add":["$a",2]}}`, want: `{"_id":1,"c":7}`},
		{name: "ComputedAfterInclusions", doc: `{"_id":1,"y":0,"x":2}`, proj: `{"y":"lit","x":1}`, want: `{"_id":1,"x":2,"y":"lit"}`},
		{name: "NestedLiteralOnScalar", doc: `{"_id":1,"a":1}`, proj: `{"a.b":{"$literal":1}}`, want: `{"_id":1,"a":{"b":1}}`},
		{name: "NestedLiteralThroughArray", doc: `{"_id":1,"a":[1,{"c":2}]}`, proj: `{"a.b":{"$literal":1}}`, want: `{"_id":1,"a":[{"b":1}]}`},
		{name: "NestedWithInclusion", doc: `{"_id":1,"a":{"c":2,"d":3}}`, proj: `{"a":{"c":1,"b":"$_id"}}`, want: `{"_id":1,"a":{"c":2,"b":1}}`},
		{name: "ArrayLiteral", doc: `{"_id":1,"a":2}`, proj: `{"x":["$a",3]}`, want: `{"_id":1,"x":[2,3]}`},
		{name: "WithIdExcluded", doc: `{"_id":1,"a":2}`, proj: `{"_id":0,"x":"$a"}`, want: `{"x":2}`},
	})
}

func TestProjection_Apply_Slice(t *testing.T) {
	doc := `{"_id":1,"a":[1,2,3],"b":1}`
	runProjCases(t, []projCase{
		{name: "First", doc: doc, proj: `{"a":{"$slice":2}}`, want: `{"_id":1,"a":[1,2],"b":1}`},
		{name: "Last", doc: doc, proj: `{"a":{"$slice":-2}}`, want: `{"_id":1,"a":[2,3],"b":1}`},
		{name: "Zero", doc: doc, proj: `{"a":{"$slice":0}}`, want: `{"_id":1,"a":[],"b":1}`},
		{name: "MoreThanLength", doc: doc, proj: `{"a":{"$slice":10}}`, want: doc},
		{name: "NegativeMoreThanLength", doc: doc, proj: `{"a":{"$slice":-10}}`, want: doc},
		{name: "SkipLimit", doc: doc, proj: `{"a":{"$slice":[1,1]}}`, want: `{"_id":1,"a":[2],"b":1}`},
		{name: "NegativeSkip", doc: doc, proj: `{"a":{"$slice":[-2,5]}}`, want: `{"_id":1,"a":[2,3],"b":1}`},
		{name: "SkipPastEnd", doc: doc, proj: `{"a":{"$slice":[5,1]}}`, want: `{"_id":1,"a":[],"b":1}`},
		{name: "DoubleTruncates", doc: doc, proj: `{"a":{"$slice":1.9}}`, want: `{"_id":1,"a":[1],"b":1}`},
		{name: "WithInclusion", doc: doc, proj: `{"a":{"$slice":1},"b":1}`, want: `{"_id":1,"a":[1],"b":1}`},
		{name: "WithIdIncluded", doc: doc, proj: `{"_id":1,"a":{"$slice":1}}`, want: `{"_id":1,"a":[1]}`},
		{name: "WithIdExcluded", doc: doc, proj: `{"_id":0,"a":{"$slice":1}}`, want: `{"a":[1],"b":1}`},
		{name: "WithExclusion", doc: doc, proj: `{"b":0,"a":{"$slice":1}}`, want: `{"_id":1,"a":[1]}`},
		{name: "NotArray", doc: `{"_id":1,"a":5}`, proj: `{"a":{"$slice":1}}`, want: `{"_id":1,"a":5}`},
		{name: "Missing", doc: `{"_id":1}`, proj: `{"a":{"$slice":1}}`, want: `{"_id":1}`},
		{name: "Nested", doc: `{"_id":1,"a":[{"b":[1,2]},{"b":[3,4]},7],"c":1}`, proj: `{"a.b":{"$slice":1}}`, want: `{"_id":1,"a":[{"b":[1]},{"b":[3]},7],"c":1}`},
		{name: "NestedInclusion", doc: `{"_id":1,"a":{"b":[1,2],"x":1},"c":1}`, proj: `{"a.b":{"$slice":-1},"c":1}`, want: `{"_id":1,"a":{"b":[2]},"c":1}`},
		{name: "TwoSlices", doc: `{"_id":1,"a":[1,2,3],"b":[4,5,6]}`, proj: `{"a":{"$slice":1},"b":{"$slice":-1}}`, want: `{"_id":1,"a":[1],"b":[6]}`},
	})
}

func TestProjection_Apply_ElemMatch(t *testing.T) {
	doc := `{"_id":1,"a":[{"b":1},{"b":2,"c":1},{"b":2}],"z":1}`
	runProjCases(t, []projCase{
		{name: "Match", doc: doc, proj: `{"a":{"$elemMatch":{"b":2}}}`, want: `{"_id":1,"a":[{"b":2,"c":1}]}`},
		{name: "NoMatch", doc: doc, proj: `{"a":{"$elemMatch":{"b":9}}}`, want: `{"_id":1}`},
		{name: "AfterInclusions", doc: doc, proj: `{"a":{"$elemMatch":{"b":1}},"z":1}`, want: `{"_id":1,"z":1,"a":[{"b":1}]}`},
		{name: "Scalars", doc: `{"_id":1,"a":[1,5,9]}`, proj: `{"a":{"$elemMatch":{"$gt":3}}}`, want: `{"_id":1,"a":[5]}`},
		{name: "NotArray", doc: `{"_id":1,"a":{"b":2}}`, proj: `{"a":{"$elemMatch":{"b":2}}}`, want: `{"_id":1}`},
		{name: "IdExcluded", doc: doc, proj: `{"_id":0,"a":{"$elemMatch":{"b":2}}}`, want: `{"a":[{"b":2,"c":1}]}`},
		{name: "InExclusion", doc: doc, proj: `{"z":0,"a":{"$elemMatch":{"b":2}}}`, want: `{"_id":1,"a":[{"b":2,"c":1}]}`},
	})
}

func TestProjection_Apply_Positional(t *testing.T) {
	runProjCases(t, []projCase{
		{name: "Element", doc: `{"_id":1,"a":[1,2,3],"b":1}`, proj: `{"a.$":1}`, pos: 2, want: `{"_id":1,"a":[2]}`},
		{name: "WithOther", doc: `{"_id":1,"a":[1,2,3],"b":1}`, proj: `{"b":1,"a.$":1}`, pos: 3, want: `{"_id":1,"a":[3],"b":1}`},
		{name: "SubPath", doc: `{"_id":1,"a":[{"b":1,"c":1},{"b":2,"c":2}]}`, proj: `{"a.b.$":1}`, pos: 2, want: `{"_id":1,"a":[{"b":2}]}`},
		{name: "NestedArray", doc: `{"_id":1,"x":{"a":[5,6]}}`, proj: `{"x.a.$":1}`, pos: 2, want: `{"_id":1,"x":{"a":[6]}}`},
		{name: "NoIndex", doc: `{"_id":1,"a":[1,2,3]}`, proj: `{"a.$":1}`, code: 51246, msg: "positional operator '.$' couldn't find a matching element in the array"},
		{name: "OutOfRange", doc: `{"_id":1,"a":[1]}`, proj: `{"a.$":1}`, pos: 5, code: 51247, msg: "positional operator '.$' element mismatch"},
		{name: "NotArray", doc: `{"_id":1,"a":5}`, proj: `{"a.$":1}`, want: `{"_id":1,"a":5}`},
		{name: "Missing", doc: `{"_id":1}`, proj: `{"a.$":1}`, pos: 1, want: `{"_id":1}`},
		{name: "InSubObject", doc: `{"_id":1,"a":{"b":[1,2]}}`, proj: `{"a":{"b.$":1}}`, pos: 2, want: `{"_id":1,"a":{"b":[2]}}`},
	})
}

func TestProjection_CheckQuery(t *testing.T) {
	p, err := CompileProjection(updEJ(t, `{"a.$":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if !p.UsesPositional() {
		t.Fatal("UsesPositional")
	}
	for _, ok := range []string{`{"a":2}`, `{"a.b":{"$gt":1}}`, `{"$and":[{"x":1},{"a":1}]}`, `{"$or":[{"a":1}]}`} {
		if err := p.CheckQuery(updEJ(t, ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{`{}`, `{"b":1}`, `{"ab":1}`, `{"$expr":{"$eq":["$a",1]}}`} {
		updCheckErr(t, p.CheckQuery(updEJ(t, bad)), 31277, "Positional projection 'a.$' does not match the query document.")
	}
	q, _ := CompileProjection(updEJ(t, `{"a":1}`))
	if q.UsesPositional() || q.CheckQuery(nil) != nil {
		t.Error("no positional")
	}
}

func TestProjection_Apply_Empty(t *testing.T) {
	doc := updEJ(t, projDoc)
	for _, proj := range [][]byte{nil, updEJ(t, `{}`)} {
		p, err := CompileProjection(proj)
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Apply(doc, -1)
		if err != nil || !bytes.Equal(out, doc) {
			t.Fatalf("empty projection: %v", err)
		}
	}
	p, _ := CompileProjection(updEJ(t, `{"a":1}`))
	if _, err := p.Apply([]byte{1, 2, 3}, -1); err == nil {
		t.Fatal("invalid document accepted")
	}
	if _, err := CompileProjection([]byte{9, 0, 0, 0, 8, 'a', 0, 1}); err == nil {
		t.Fatal("invalid projection accepted")
	}
}

func TestProjection_Apply_SliceNumbers(t *testing.T) {
	doc := `{"_id":1,"a":[1,2,3,4]}`
	runProjCases(t, []projCase{
		{name: "DecimalRoundsHalfEven", doc: doc, proj: `{"a":{"$slice":{"$numberDecimal":"2.5"}}}`, want: `{"_id":1,"a":[1,2]}`},
		{name: "Int64", doc: doc, proj: `{"a":{"$slice":{"$numberLong":"3"}}}`, want: `{"_id":1,"a":[1,2,3]}`},
		{name: "HugeDoubleIsMinInt", doc: doc, proj: `{"a":{"$slice":1e300}}`, want: doc},
		{name: "NegativeDouble", doc: doc, proj: `{"a":{"$slice":-1.5}}`, want: `{"_id":1,"a":[4]}`},
		{name: "SkipDouble", doc: doc, proj: `{"a":{"$slice":[1.9,2.2]}}`, want: `{"_id":1,"a":[2,3]}`},
		// Not the find() form, but a valid aggregation $slice expression: the
		// server evaluates it, and it fails on its first argument.
		{name: "LimitNotPositive", doc: doc, proj: `{"a":{"$slice":[1,-1]}}`, code: -1, msg: "~First argument to $slice must be an array, but is of type: int"},
		{name: "SkipNotNumber", doc: doc, proj: `{"a":{"$slice":["x",1]}}`, code: -1, msg: "~First argument to $slice must be an array, but is of type: string"},
	})
}
