package materialize

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// Expected results and messages in these tables are those of a real mongod
// (7.0/8.0); see the comments on individual cases for the server code paths
// that produce them.

var updTestNow = time.Date(2024, 1, 2, 3, 4, 5, 6000000, time.UTC)

// ej parses relaxed extended JSON: 1 is an int32, 2147483648 an int64, 1.0 a
// double, {"$numberLong": "1"} an int64, {"$numberDecimal": "1.5"} a decimal.
func updEJ(t testing.TB, s string) bson.Raw {
	t.Helper()
	var r bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(s), false, &r); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return r
}

func updEJList(t testing.TB, ss []string) []bson.Raw {
	var out []bson.Raw
	for _, s := range ss {
		out = append(out, updEJ(t, s))
	}
	return out
}

// canon renders a document as canonical extended JSON (exact types).
func updCanon(r bson.Raw) string {
	if r == nil {
		return "<nil>"
	}
	b, err := bson.MarshalExtJSON(r, true, false)
	if err != nil {
		return "<invalid: " + err.Error() + ">"
	}
	return string(b)
}

// checkErr compares err with the expected code (-1: any) and message. A
// message starting with "~" only has to be contained in the actual message.
func updCheckErr(t *testing.T, err error, code int32, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %d %q, got none", code, msg)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %T: %v", err, err)
	}
	if code >= 0 && e.Code != code {
		t.Errorf("code = %d (%s), want %d; message %q", e.Code, e.Name, code, e.Message)
	}
	if strings.HasPrefix(msg, "~") {
		if !strings.Contains(e.Message, msg[1:]) {
			t.Errorf("message = %q, want it to contain %q", e.Message, msg[1:])
		}
	} else if msg != "" && e.Message != msg {
		t.Errorf("message = %q\n             want %q", e.Message, msg)
	}
	if e.Name == "" || strings.HasPrefix(e.Name, "Location") && e.Code < 1000 {
		t.Errorf("code %d has no proper name: %q", e.Code, e.Name)
	}
}

type updCase struct {
	name    string
	doc     string
	upd     string
	filters []string
	pos     int // positional index + 1 (0: none)
	insert  bool
	want    string // expected document; "" means unchanged (changed == false)
	code    int32  // expected error code
	msg     string
}

func runUpdCases(t *testing.T, cases []updCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := updEJ(t, tc.doc)
			u, err := CompileUpdate(updEJ(t, tc.upd), UpdateOptions{ArrayFilters: updEJList(t, tc.filters)})
			var out bson.Raw
			var changed bool
			if err == nil {
				out, changed, err = u.Apply(doc, ApplyContext{PositionalIndex: tc.pos - 1, IsUpsertInsert: tc.insert, Now: updTestNow})
			}
			if tc.code != 0 {
				updCheckErr(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.want == "" {
				if changed {
					t.Fatalf("changed = true, want unchanged; got %s", updCanon(out))
				}
				if !bytes.Equal(out, doc) {
					t.Fatalf("unchanged result differs: %s", updCanon(out))
				}
				return
			}
			want := updEJ(t, tc.want)
			if !bytes.Equal(out, want) {
				t.Fatalf("got  %s\nwant %s", updCanon(out), updCanon(want))
			}
			if changed != !bytes.Equal(want, doc) {
				t.Fatalf("changed = %v", changed)
			}
		})
	}
}

func TestUpdate_Apply_Set(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "ReplaceInPlace", doc: `{"_id":1,"a":1,"b":2}`, upd: `{"$set":{"a":5}}`, want: `{"_id":1,"a":5,"b":2}`},
		{name: "AppendNew", doc: `{"_id":1,"a":1}`, upd: `{"$set":{"c":1}}`, want: `{"_id":1,"a":1,"c":1}`},
		{name: "NewFieldsSorted", doc: `{"_id":1}`, upd: `{"$set":{"z":1,"b":1,"a":2}}`, want: `{"_id":1,"a":2,"b":1,"z":1}`},
		{name: "NumericNamesNumericOrder", doc: `{"_id":1}`, upd: `{"$set":{"10":1,"9":1,"a":1}}`, want: `{"_id":1,"9":1,"10":1,"a":1}`},
		{name: "LeadingZeroIsString", doc: `{"_id":1}`, upd: `{"$set":{"10":1,"02":1}}`, want: `{"_id":1,"02":1,"10":1}`},
		{name: "DottedCreates", doc: `{"_id":1}`, upd: `{"$set":{"a.b.c":1}}`, want: `{"_id":1,"a":{"b":{"c":1}}}`},
		{name: "DottedSiblingsShareParent", doc: `{"_id":1}`, upd: `{"$set":{"a.c":1,"a.b":2}}`, want: `{"_id":1,"a":{"b":2,"c":1}}`},
		{name: "DottedIntoExisting", doc: `{"_id":1,"a":{"x":1},"b":1}`, upd: `{"$set":{"a.y":1}}`, want: `{"_id":1,"a":{"x":1,"y":1},"b":1}`},
		{name: "DottedOrderAcrossLevels", doc: `{"_id":1}`, upd: `{"$set":{"b":1,"a.z":1,"a.b":1}}`, want: `{"_id":1,"a":{"b":1,"z":1},"b":1}`},
		{name: "ThroughScalar", doc: `{"_id":1,"a":1}`, upd: `{"$set":{"a.b":1}}`, code: 28, msg: "Cannot create field 'b' in element {a: 1}"},
		{name: "ThroughScalarDeep", doc: `{"_id":1,"a":{"b":"x"}}`, upd: `{"$set":{"a.b.c.d":1}}`, code: 28, msg: `Cannot create field 'c' in element {b: "x"}`},
		{name: "ThroughArrayByName", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$set":{"a.b":1}}`, code: 28, msg: "Cannot create field 'b' in element {a: [ 1, 2 ]}"},
		{name: "ArrayOfDocsByName", doc: `{"_id":1,"a":[{"b":1}]}`, upd: `{"$set":{"a.b":1}}`, code: 28, msg: "Cannot create field 'b' in element {a: [ { b: 1 } ]}"},
		{name: "ArrayIndex", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$set":{"a.1":9}}`, want: `{"_id":1,"a":[1,9,3]}`},
		{name: "ArrayIndexLeadingZero", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$set":{"a.01":9}}`, want: `{"_id":1,"a":[1,9,3]}`},
		{name: "ArrayPad", doc: `{"_id":1,"a":[1]}`, upd: `{"$set":{"a.3":9}}`, want: `{"_id":1,"a":[1,null,null,9]}`},
		{name: "ArrayPadAppendOne", doc: `{"_id":1,"a":[1]}`, upd: `{"$set":{"a.1":9}}`, want: `{"_id":1,"a":[1,9]}`},
		{name: "ArrayPadSubPath", doc: `{"_id":1,"a":[]}`, upd: `{"$set":{"a.2.b":1}}`, want: `{"_id":1,"a":[null,null,{"b":1}]}`},
		{name: "ArrayPadTooFar", doc: `{"_id":1,"a":[]}`, upd: `{"$set":{"a.1500001":1}}`, code: 34, msg: "can't backfill more than 1500000 elements"},
		{name: "ArrayElemField", doc: `{"_id":1,"a":[{"b":1},{"b":2}]}`, upd: `{"$set":{"a.1.b":5}}`, want: `{"_id":1,"a":[{"b":1},{"b":5}]}`},
		{name: "ArrayElemScalarField", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$set":{"a.1.b":5}}`, code: 28, msg: "Cannot create field 'b' in element {1: 2}"},
		{name: "NumericNameInDoc", doc: `{"_id":1,"a":{"0":1}}`, upd: `{"$set":{"a.0":2}}`, want: `{"_id":1,"a":{"0":2}}`},
		{name: "CreatesObjectNotArray", doc: `{"_id":1}`, upd: `{"$set":{"a.0":2}}`, want: `{"_id":1,"a":{"0":2}}`},
		{name: "SameValueNoop", doc: `{"_id":1,"a":1}`, upd: `{"$set":{"a":1}}`},
		{name: "SameDocNoop", doc: `{"_id":1,"a":{"b":[1,2]}}`, upd: `{"$set":{"a":{"b":[1,2]}}}`},
		{name: "DoubleOverIntChanges", doc: `{"_id":1,"a":1}`, upd: `{"$set":{"a":1.0}}`, want: `{"_id":1,"a":1.0}`},
		{name: "ReplaceDocValue", doc: `{"_id":1,"a":{"b":1,"c":2}}`, upd: `{"$set":{"a":{"d":1}}}`, want: `{"_id":1,"a":{"d":1}}`},
		{name: "IdSameValue", doc: `{"_id":1,"a":1}`, upd: `{"$set":{"_id":1}}`},
		{name: "IdChange", doc: `{"_id":1}`, upd: `{"$set":{"_id":2}}`, code: 66, msg: "Performing an update on the path '_id' would modify the immutable field '_id'"},
		{name: "IdTypeChange", doc: `{"_id":1}`, upd: `{"$set":{"_id":1.0}}`, code: 66, msg: "Performing an update on the path '_id' would modify the immutable field '_id'"},
		{name: "IdSubfieldChange", doc: `{"_id":{"a":1}}`, upd: `{"$set":{"_id.a":2}}`, code: 66, msg: "Performing an update on the path '_id.a' would modify the immutable field '_id'"},
		{name: "IdSubfieldCreate", doc: `{"_id":{"a":1}}`, upd: `{"$set":{"_id.x":1}}`, code: 66, msg: "Updating the path '_id' to _id: { a: 1, x: 1 } would modify the immutable field '_id'"},
		{name: "IdSubfieldSame", doc: `{"_id":{"a":1}}`, upd: `{"$set":{"_id.a":1}}`},
		{name: "DollarTopLevel", doc: `{"_id":1}`, upd: `{"$set":{"$a":1}}`, code: 52, msg: "The dollar ($) prefixed field '$a' in '$a' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith."},
		{name: "DollarNested", doc: `{"_id":1}`, upd: `{"$set":{"a.$b":1}}`, want: `{"_id":1,"a":{"$b":1}}`},
		{name: "DollarInValue", doc: `{"_id":1}`, upd: `{"$set":{"a":{"$b":1}}}`, want: `{"_id":1,"a":{"$b":1}}`},
		{name: "EmptyOperand", doc: `{"_id":1}`, upd: `{"$set":{}}`},
		{name: "EmptyPath", doc: `{"_id":1}`, upd: `{"$set":{"":1}}`, code: 56, msg: "An empty update path is not valid."},
		{name: "EmptyComponent", doc: `{"_id":1}`, upd: `{"$set":{"a..b":1}}`, code: 56, msg: "The update path 'a..b' contains an empty field name, which is not allowed."},
		{name: "TrailingDot", doc: `{"_id":1}`, upd: `{"$set":{"a.":1}}`, code: 56, msg: "The update path 'a.' contains an empty field name, which is not allowed."},
		{name: "SetOnInsertIgnored", doc: `{"_id":1}`, upd: `{"$setOnInsert":{"a":1}}`},
		{name: "SetOnInsertOnInsert", doc: `{"_id":1}`, upd: `{"$setOnInsert":{"a":1},"$set":{"b":1}}`, insert: true, want: `{"_id":1,"a":1,"b":1}`},
	})
}

func TestUpdate_Compile_Errors(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "Mixture", doc: `{}`, upd: `{"$set":{"a":1},"b":2}`, code: 9, msg: "Unknown modifier: b. Expected a valid update modifier or pipeline-style update specified as an array"},
		{name: "UnknownOperator", doc: `{}`, upd: `{"$foo":{"a":1}}`, code: 9, msg: "Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array"},
		{name: "PushAllRemoved", doc: `{}`, upd: `{"$pushAll":{"a":[1]}}`, code: 9, msg: "~Unknown modifier: $pushAll"},
		{name: "OperandNotObject", doc: `{}`, upd: `{"$set":1}`, code: 9, msg: "Modifiers operate on fields but we found type int instead. For example: {$mod: {<field>: ...}} not {$set: 1}"},
		{name: "OperandString", doc: `{}`, upd: `{"$inc":"x"}`, code: 9, msg: `Modifiers operate on fields but we found type string instead. For example: {$mod: {<field>: ...}} not {$inc: "x"}`},
		{name: "OperandArray", doc: `{}`, upd: `{"$unset":["a"]}`, code: 9, msg: "Modifiers operate on fields but we found type array instead. For example: {$mod: {<field>: ...}} not {$unset: [ \"a\" ]}"},
		{name: "Empty", doc: `{}`, upd: `{}`, code: 9},
		{name: "ConflictSamePath", doc: `{}`, upd: `{"$set":{"a":1},"$inc":{"a":1}}`, code: 40, msg: "Updating the path 'a' would create a conflict at 'a'"},
		{name: "ConflictChildAfterParent", doc: `{}`, upd: `{"$set":{"a":1,"a.b":1}}`, code: 40, msg: "Updating the path 'a.b' would create a conflict at 'a'"},
		{name: "ConflictParentAfterChild", doc: `{}`, upd: `{"$set":{"a.b":1},"$unset":{"a":1}}`, code: 40, msg: "Updating the path 'a' would create a conflict at 'a'"},
		{name: "ConflictDeep", doc: `{}`, upd: `{"$set":{"a.b":1,"a.b.c.d":1}}`, code: 40, msg: "Updating the path 'a.b.c.d' would create a conflict at 'a.b'"},
		{name: "NoConflictSiblings", doc: `{"_id":1}`, upd: `{"$set":{"a.b":1},"$unset":{"a.c":1}}`, want: `{"_id":1,"a":{"b":1}}`},
		{name: "NoConflictPrefixName", doc: `{"_id":1}`, upd: `{"$set":{"a":1,"ab":2}}`, want: `{"_id":1,"a":1,"ab":2}`},
		{name: "ConflictArrayVsObject", doc: `{}`, upd: `{"$set":{"a.$[]":1,"a.b":1}}`, code: 40, msg: "Updating the path 'a.b' would create a conflict at 'a'"},
		{name: "ConflictIdentifierLeaf", doc: `{}`, upd: `{"$set":{"a.$[]":1,"a.$[].b":1}}`, code: 40, msg: "Updating the path 'a.$[].b' would create a conflict at 'a.$[]'"},
		{name: "TooManyPositional", doc: `{}`, upd: `{"$set":{"a.$.b.$":1}}`, code: 2, msg: "Too many positional (i.e. '$') elements found in path 'a.$.b.$'"},
		{name: "PositionalFirst", doc: `{}`, upd: `{"$set":{"$":1}}`, code: 2, msg: "Cannot have positional (i.e. '$') element in the first position in path '$'"},
		{name: "PositionalFirstDotted", doc: `{}`, upd: `{"$set":{"$.a":1}}`, code: 2, msg: "Cannot have positional (i.e. '$') element in the first position in path '$.a'"},
		{name: "IncNonNumericArg", doc: `{}`, upd: `{"$inc":{"a":"x"}}`, code: 14, msg: `Cannot increment with non-numeric argument: {a: "x"}`},
		{name: "MulNonNumericArg", doc: `{}`, upd: `{"$mul":{"a":null}}`, code: 14, msg: `Cannot multiply with non-numeric argument: {a: null}`},
		{name: "ErrorBeforeMatching", doc: `{}`, upd: `{"$set":{"a":1},"$bogus":{}}`, code: 9},
	})
}

func TestUpdate_Compile_Replacement(t *testing.T) {
	u, err := CompileUpdate(updEJ(t, `{"a":1,"$b":2}`), UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !u.IsReplacement() {
		t.Fatal("want replacement")
	}
	u, err = CompileUpdate(updEJ(t, `{"$set":{"a":1}}`), UpdateOptions{})
	if err != nil || u.IsReplacement() || u.UsesPositional() {
		t.Fatalf("operator update: %v %v", err, u)
	}
	u, err = CompileUpdate(updEJ(t, `{"$set":{"a.$":1}}`), UpdateOptions{})
	if err != nil || !u.UsesPositional() {
		t.Fatalf("positional: %v", err)
	}
	for _, bad := range []bson.Raw{nil, {1, 2, 3}, {5, 0, 0, 0, 1}, {0, 0, 0, 0, 0}} {
		if _, err := CompileUpdate(bad, UpdateOptions{}); err == nil {
			t.Errorf("CompileUpdate(%v) succeeded", []byte(bad))
		}
	}
}

func TestUpdate_Apply_Unset(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "Remove", doc: `{"_id":1,"a":1,"b":2}`, upd: `{"$unset":{"a":""}}`, want: `{"_id":1,"b":2}`},
		{name: "Missing", doc: `{"_id":1}`, upd: `{"$unset":{"a":1}}`},
		{name: "MissingNested", doc: `{"_id":1,"a":{}}`, upd: `{"$unset":{"a.b.c":1}}`},
		{name: "Nested", doc: `{"_id":1,"a":{"b":1,"c":2}}`, upd: `{"$unset":{"a.b":1}}`, want: `{"_id":1,"a":{"c":2}}`},
		{name: "ArrayElementBecomesNull", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$unset":{"a.1":1}}`, want: `{"_id":1,"a":[1,null,3]}`},
		{name: "ArrayOutOfRange", doc: `{"_id":1,"a":[1]}`, upd: `{"$unset":{"a.5":1}}`},
		{name: "NonViableIsNoop", doc: `{"_id":1,"a":1}`, upd: `{"$unset":{"a.b":1}}`},
		{name: "ArrayByNameIsNoop", doc: `{"_id":1,"a":[{"b":1}]}`, upd: `{"$unset":{"a.b":1}}`},
		{name: "Id", doc: `{"_id":1}`, upd: `{"$unset":{"_id":1}}`, code: 66, msg: "Performing an update on the path '_id' would modify the immutable field '_id'"},
		{name: "IdSub", doc: `{"_id":{"a":1}}`, upd: `{"$unset":{"_id.a":1}}`, code: 66, msg: "Performing an update on the path '_id.a' would modify the immutable field '_id'"},
		{name: "Several", doc: `{"_id":1,"a":1,"b":2,"c":3}`, upd: `{"$unset":{"c":1,"a":1}}`, want: `{"_id":1,"b":2}`},
	})
}

func TestUpdate_Apply_Inc(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "Int32", doc: `{"_id":1,"a":1}`, upd: `{"$inc":{"a":2}}`, want: `{"_id":1,"a":3}`},
		{name: "Int32Negative", doc: `{"_id":1,"a":1}`, upd: `{"$inc":{"a":-3}}`, want: `{"_id":1,"a":-2}`},
		{name: "Int32OverflowToInt64", doc: `{"_id":1,"a":2147483647}`, upd: `{"$inc":{"a":1}}`, want: `{"_id":1,"a":{"$numberLong":"2147483648"}}`},
		{name: "Int32UnderflowToInt64", doc: `{"_id":1,"a":-2147483648}`, upd: `{"$inc":{"a":-1}}`, want: `{"_id":1,"a":{"$numberLong":"-2147483649"}}`},
		{name: "Int32PlusInt64", doc: `{"_id":1,"a":1}`, upd: `{"$inc":{"a":{"$numberLong":"1"}}}`, want: `{"_id":1,"a":{"$numberLong":"2"}}`},
		{name: "Int64StaysInt64", doc: `{"_id":1,"a":{"$numberLong":"5"}}`, upd: `{"$inc":{"a":1}}`, want: `{"_id":1,"a":{"$numberLong":"6"}}`},
		{name: "Int64Overflow", doc: `{"_id":1,"a":{"$numberLong":"9223372036854775807"}}`, upd: `{"$inc":{"a":1}}`, code: 2, msg: "Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) for document {_id: 1}"},
		{name: "Int64Underflow", doc: `{"_id":1,"a":{"$numberLong":"-9223372036854775808"}}`, upd: `{"$inc":{"a":-1}}`, code: 2, msg: "Failed to apply $inc operations to current value ((NumberLong)-9223372036854775808) for document {_id: 1}"},
		{name: "Int32PlusHugeInt64", doc: `{"_id":"int32","a":42}`, upd: `{"$inc":{"a":{"$numberLong":"9223372036854775807"}}}`, code: 2, msg: `Failed to apply $inc operations to current value ((NumberInt)42) for document {_id: "int32"}`},
		{name: "IntPlusDouble", doc: `{"_id":1,"a":1}`, upd: `{"$inc":{"a":0.5}}`, want: `{"_id":1,"a":1.5}`},
		{name: "DoublePlusInt", doc: `{"_id":1,"a":1.5}`, upd: `{"$inc":{"a":1}}`, want: `{"_id":1,"a":2.5}`},
		{name: "Int64PlusDouble", doc: `{"_id":1,"a":{"$numberLong":"2"}}`, upd: `{"$inc":{"a":1.0}}`, want: `{"_id":1,"a":3.0}`},
		{name: "Decimal", doc: `{"_id":1,"a":{"$numberDecimal":"1.1"}}`, upd: `{"$inc":{"a":1}}`, want: `{"_id":1,"a":{"$numberDecimal":"2.1"}}`},
		{name: "IntPlusDecimal", doc: `{"_id":1,"a":1}`, upd: `{"$inc":{"a":{"$numberDecimal":"2.50"}}}`, want: `{"_id":1,"a":{"$numberDecimal":"3.50"}}`},
		{name: "DecimalPlusDouble", doc: `{"_id":1,"a":{"$numberDecimal":"1"}}`, upd: `{"$inc":{"a":0.1}}`, want: `{"_id":1,"a":{"$numberDecimal":"1.100000000000000"}}`},
		{name: "DoublePlusDecimal", doc: `{"_id":1,"a":0.1}`, upd: `{"$inc":{"a":{"$numberDecimal":"0.2"}}}`, want: `{"_id":1,"a":{"$numberDecimal":"0.300000000000000"}}`},
		{name: "Missing", doc: `{"_id":1}`, upd: `{"$inc":{"a":{"$numberLong":"5"}}}`, want: `{"_id":1,"a":{"$numberLong":"5"}}`},
		{name: "MissingDouble", doc: `{"_id":1}`, upd: `{"$inc":{"a":-2.5}}`, want: `{"_id":1,"a":-2.5}`},
		{name: "MissingNested", doc: `{"_id":1}`, upd: `{"$inc":{"a.b":1}}`, want: `{"_id":1,"a":{"b":1}}`},
		{name: "ZeroNoop", doc: `{"_id":1,"a":1}`, upd: `{"$inc":{"a":0}}`},
		{name: "ZeroInt64Changes", doc: `{"_id":1,"a":1}`, upd: `{"$inc":{"a":{"$numberLong":"0"}}}`, want: `{"_id":1,"a":{"$numberLong":"1"}}`},
		{name: "DecimalZeroScaleNoop", doc: `{"_id":1,"a":{"$numberDecimal":"1.0"}}`, upd: `{"$inc":{"a":{"$numberDecimal":"0.00"}}}`},
		{name: "String", doc: `{"_id":1,"a":"x"}`, upd: `{"$inc":{"a":1}}`, code: 14, msg: "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string"},
		{name: "NullField", doc: `{"_id":"k","a":{"b":null}}`, upd: `{"$inc":{"a.b":1}}`, code: 14, msg: `Cannot apply $inc to a value of non-numeric type. {_id: "k"} has the field 'b' of non-numeric type null`},
		{name: "ObjectIdInMessage", doc: `{"_id":{"$oid":"5f0000000000000000000001"},"a":[1]}`, upd: `{"$inc":{"a":1}}`, code: 14, msg: "Cannot apply $inc to a value of non-numeric type. {_id: ObjectId('5f0000000000000000000001')} has the field 'a' of non-numeric type array"},
		{name: "NoId", doc: `{"a":true}`, upd: `{"$inc":{"a":1}}`, code: 14, msg: "Cannot apply $inc to a value of non-numeric type. {no id} has the field 'a' of non-numeric type bool"},
		{name: "Id", doc: `{"_id":1}`, upd: `{"$inc":{"_id":1}}`, code: 66, msg: "Performing an update on the path '_id' would modify the immutable field '_id'"},
		{name: "IdByZero", doc: `{"_id":1}`, upd: `{"$inc":{"_id":0}}`},
		{name: "ArrayElement", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$inc":{"a.1":10}}`, want: `{"_id":1,"a":[1,12]}`},
		{name: "Several", doc: `{"_id":1,"a":1,"b":{"$numberLong":"1"}}`, upd: `{"$inc":{"b":1,"a":1,"c":1}}`, want: `{"_id":1,"a":2,"b":{"$numberLong":"2"},"c":1}`},
	})
}

func TestUpdate_Apply_Mul(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "Int32", doc: `{"_id":1,"a":3}`, upd: `{"$mul":{"a":4}}`, want: `{"_id":1,"a":12}`},
		{name: "Int32ToInt64", doc: `{"_id":1,"a":65536}`, upd: `{"$mul":{"a":65536}}`, want: `{"_id":1,"a":{"$numberLong":"4294967296"}}`},
		{name: "Int64Overflow", doc: `{"_id":1,"a":{"$numberLong":"4611686018427387904"}}`, upd: `{"$mul":{"a":4}}`, code: 2, msg: "Failed to apply $mul operations to current value ((NumberLong)4611686018427387904) for document {_id: 1}"},
		{name: "Int64MinTimesMinusOne", doc: `{"_id":1,"a":{"$numberLong":"-9223372036854775808"}}`, upd: `{"$mul":{"a":-1}}`, code: 2},
		{name: "Double", doc: `{"_id":1,"a":3}`, upd: `{"$mul":{"a":0.5}}`, want: `{"_id":1,"a":1.5}`},
		{name: "OneNoop", doc: `{"_id":1,"a":3}`, upd: `{"$mul":{"a":1}}`},
		{name: "OneDoubleChangesType", doc: `{"_id":1,"a":3}`, upd: `{"$mul":{"a":1.0}}`, want: `{"_id":1,"a":3.0}`},
		{name: "MissingInt32", doc: `{"_id":1}`, upd: `{"$mul":{"a":3}}`, want: `{"_id":1,"a":0}`},
		{name: "MissingInt64", doc: `{"_id":1}`, upd: `{"$mul":{"a":{"$numberLong":"3"}}}`, want: `{"_id":1,"a":{"$numberLong":"0"}}`},
		{name: "MissingDouble", doc: `{"_id":1}`, upd: `{"$mul":{"a":2.5}}`, want: `{"_id":1,"a":0.0}`},
		{name: "MissingNegativeDouble", doc: `{"_id":1}`, upd: `{"$mul":{"a":-2.5}}`, want: `{"_id":1,"a":-0.0}`},
		{name: "MissingDecimal", doc: `{"_id":1}`, upd: `{"$mul":{"a":{"$numberDecimal":"1.5"}}}`, want: `{"_id":1,"a":{"$numberDecimal":"0.0"}}`},
		{name: "Decimal", doc: `{"_id":1,"a":{"$numberDecimal":"1.5"}}`, upd: `{"$mul":{"a":2}}`, want: `{"_id":1,"a":{"$numberDecimal":"3.0"}}`},
		{name: "String", doc: `{"_id":1,"a":"x"}`, upd: `{"$mul":{"a":2}}`, code: 14, msg: "Cannot apply $mul to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string"},
	})
}

func TestUpdate_Apply_MinMax(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "MaxGreater", doc: `{"_id":1,"a":5}`, upd: `{"$max":{"a":10}}`, want: `{"_id":1,"a":10}`},
		{name: "MaxSmaller", doc: `{"_id":1,"a":5}`, upd: `{"$max":{"a":1}}`},
		{name: "MaxEqualOtherType", doc: `{"_id":1,"a":5}`, upd: `{"$max":{"a":5.0}}`},
		{name: "MinSmaller", doc: `{"_id":1,"a":5}`, upd: `{"$min":{"a":1}}`, want: `{"_id":1,"a":1}`},
		{name: "MinGreater", doc: `{"_id":1,"a":5}`, upd: `{"$min":{"a":6}}`},
		{name: "MinMissing", doc: `{"_id":1}`, upd: `{"$min":{"a":6}}`, want: `{"_id":1,"a":6}`},
		{name: "MaxAcrossTypes", doc: `{"_id":1,"a":"x"}`, upd: `{"$max":{"a":1}}`},
		{name: "MinAcrossTypes", doc: `{"_id":1,"a":"x"}`, upd: `{"$min":{"a":1}}`, want: `{"_id":1,"a":1}`},
		{name: "MinNullBelowNumbers", doc: `{"_id":1,"a":1}`, upd: `{"$min":{"a":null}}`, want: `{"_id":1,"a":null}`},
		{name: "MaxDate", doc: `{"_id":1,"a":{"$date":"2020-01-01T00:00:00Z"}}`, upd: `{"$max":{"a":{"$date":"2021-01-01T00:00:00Z"}}}`, want: `{"_id":1,"a":{"$date":"2021-01-01T00:00:00Z"}}`},
		{name: "MaxDecimalVsDouble", doc: `{"_id":1,"a":{"$numberDecimal":"1.5"}}`, upd: `{"$max":{"a":1.25}}`},
		{name: "IdMaxNoop", doc: `{"_id":5}`, upd: `{"$max":{"_id":1}}`},
		{name: "IdMaxChanges", doc: `{"_id":5}`, upd: `{"$max":{"_id":9}}`, code: 66},
	})
}

func TestUpdate_Apply_CurrentDate(t *testing.T) {
	ms := strconv.FormatInt(updTestNow.UnixMilli(), 10)
	secs := strconv.FormatInt(updTestNow.Unix(), 10)
	runUpdCases(t, []updCase{
		{name: "True", doc: `{"_id":1}`, upd: `{"$currentDate":{"a":true}}`, want: `{"_id":1,"a":{"$date":{"$numberLong":"` + ms + `"}}}`},
		{name: "FalseIsDateToo", doc: `{"_id":1,"a":1}`, upd: `{"$currentDate":{"a":false}}`, want: `{"_id":1,"a":{"$date":{"$numberLong":"` + ms + `"}}}`},
		{name: "TypeDate", doc: `{"_id":1}`, upd: `{"$currentDate":{"a":{"$type":"date"}}}`, want: `{"_id":1,"a":{"$date":{"$numberLong":"` + ms + `"}}}`},
		{name: "TypeTimestamp", doc: `{"_id":1}`, upd: `{"$currentDate":{"a":{"$type":"timestamp"}}}`, want: `{"_id":1,"a":{"$timestamp":{"t":` + secs + `,"i":1}}}`},
		{name: "TwoTimestamps", doc: `{"_id":1}`, upd: `{"$currentDate":{"b":{"$type":"timestamp"},"a":{"$type":"timestamp"}}}`, want: `{"_id":1,"a":{"$timestamp":{"t":` + secs + `,"i":1}},"b":{"$timestamp":{"t":` + secs + `,"i":2}}}`},
		{name: "BadType", doc: `{"_id":1}`, upd: `{"$currentDate":{"a":1}}`, code: 2, msg: "int is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'})."},
		{name: "BadTypeString", doc: `{"_id":1}`, upd: `{"$currentDate":{"a":{"$type":"x"}}}`, code: 2, msg: "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}"},
		{name: "EmptyObject", doc: `{"_id":1}`, upd: `{"$currentDate":{"a":{}}}`, code: 2, msg: "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}"},
		{name: "UnknownOption", doc: `{"_id":1}`, upd: `{"$currentDate":{"a":{"foo":1}}}`, code: 2, msg: "Unrecognized $currentDate option: foo"},
	})
}

func TestUpdate_Apply_Rename(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "Simple", doc: `{"_id":1,"a":1,"b":2}`, upd: `{"$rename":{"a":"c"}}`, want: `{"_id":1,"b":2,"c":1}`},
		{name: "OverwriteKeepsPosition", doc: `{"_id":1,"b":2,"a":1}`, upd: `{"$rename":{"a":"b"}}`, want: `{"_id":1,"b":1}`},
		{name: "MissingSource", doc: `{"_id":1,"b":2}`, upd: `{"$rename":{"a":"c"}}`},
		{name: "NestedSource", doc: `{"_id":1,"a":{"b":1,"c":2}}`, upd: `{"$rename":{"a.b":"d"}}`, want: `{"_id":1,"a":{"c":2},"d":1}`},
		{name: "NestedDestination", doc: `{"_id":1,"a":1,"b":2}`, upd: `{"$rename":{"a":"x.y"}}`, want: `{"_id":1,"b":2,"x":{"y":1}}`},
		{name: "ValueIsDocument", doc: `{"_id":1,"a":{"p":[1,{"q":2}]}}`, upd: `{"$rename":{"a":"z"}}`, want: `{"_id":1,"z":{"p":[1,{"q":2}]}}`},
		{name: "SourceArrayElement", doc: `{"_id":1,"a":[{"b":1}]}`, upd: `{"$rename":{"a.0.b":"c"}}`, code: 2, msg: "The source field cannot be an array element, 'a.0.b' in doc with _id: 1 has an array field called 'a'"},
		{name: "SourceThroughArrayByName", doc: `{"_id":1,"a":[{"b":1}]}`, upd: `{"$rename":{"a.b":"c"}}`, code: 28, msg: "cannot use the part (a of a.b) to traverse the element ({a: [ { b: 1 } ]})"},
		{name: "SourceThroughScalar", doc: `{"_id":1,"a":1}`, upd: `{"$rename":{"a.b":"c"}}`, code: 28, msg: "cannot use the part (a of a.b) to traverse the element ({a: 1})"},
		{name: "DestinationInArray", doc: `{"_id":1,"a":1,"b":[1]}`, upd: `{"$rename":{"a":"b.1"}}`, code: 2, msg: "The destination field cannot be an array element, 'b.1' in doc with _id: 1 has an array field called 'b'"},
		{name: "DestinationExistingArrayElement", doc: `{"_id":1,"a":1,"b":[1]}`, upd: `{"$rename":{"a":"b.0"}}`, code: 2, msg: "The destination field cannot be an array element, 'b.0' in doc with _id: 1 has an array field called 'b'"},
		{name: "DestinationThroughScalar", doc: `{"_id":1,"a":1,"b":2}`, upd: `{"$rename":{"a":"b.c"}}`, code: 28, msg: "Cannot create field 'c' in element {b: 2}"},
		{name: "Same", doc: `{}`, upd: `{"$rename":{"a":"a"}}`, code: 2, msg: `The source and target field for $rename must differ: a: "a"`},
		{name: "SamePath", doc: `{}`, upd: `{"$rename":{"a":"a.b"}}`, code: 2, msg: `The source and target field for $rename must not be on the same path: a: "a.b"`},
		{name: "SamePathReverse", doc: `{}`, upd: `{"$rename":{"a.b":"a"}}`, code: 2, msg: `The source and target field for $rename must not be on the same path: a.b: "a"`},
		{name: "NotString", doc: `{}`, upd: `{"$rename":{"a":1}}`, code: 2, msg: "The 'to' field for $rename must be a string: a: 1"},
		{name: "DynamicSource", doc: `{}`, upd: `{"$rename":{"a.$":"b"}}`, code: 2, msg: "The source field for $rename may not be dynamic: a.$"},
		{name: "DynamicDestination", doc: `{}`, upd: `{"$rename":{"a":"b.$[]"}}`, code: 2, msg: "The destination field for $rename may not be dynamic: b.$[]"},
		{name: "EmptyDestination", doc: `{}`, upd: `{"$rename":{"a":""}}`, code: 56, msg: "An empty update path is not valid."},
		{name: "ConflictDestination", doc: `{}`, upd: `{"$rename":{"a":"b"},"$set":{"b":1}}`, code: 40, msg: "Updating the path 'b' would create a conflict at 'b'"},
		{name: "ConflictSource", doc: `{}`, upd: `{"$rename":{"a":"b"},"$set":{"a":1}}`, code: 40, msg: "Updating the path 'a' would create a conflict at 'a'"},
		{name: "Id", doc: `{"_id":1}`, upd: `{"$rename":{"_id":"x"}}`, code: 66, msg: "Performing an update on the path '_id' would modify the immutable field '_id'"},
		{name: "ToId", doc: `{"_id":1,"a":1}`, upd: `{"$rename":{"a":"_id"}}`, code: 66, msg: "Performing an update on the path '_id' would modify the immutable field '_id'"},
		{name: "OrderByDestination", doc: `{"_id":1,"a":1}`, upd: `{"$rename":{"a":"z"},"$set":{"b":1}}`, want: `{"_id":1,"b":1,"z":1}`},
		{name: "Swap", doc: `{"_id":1,"a":1,"b":2}`, upd: `{"$rename":{"a":"c","b":"a"}}`, code: 40, msg: "Updating the path 'a' would create a conflict at 'a'"},
	})
}

// Cases whose messages were recorded from a real server by other projects'
// compatibility suites (FerretDB's integration tests run against MongoDB).
func TestUpdate_Apply_ServerRecorded(t *testing.T) {
	nested := `{"_id":"array-documents-nested","v":[{"foo":[{"bar":"hello"},{"bar":"world"}]}]}`
	runUpdCases(t, []updCase{
		{name: "RenameThroughArray", doc: nested, upd: `{"$rename":{"v.foo":"foo"}}`, code: 28, msg: `cannot use the part (v of v.foo) to traverse the element ({v: [ { foo: [ { bar: "hello" }, { bar: "world" } ] } ]})`},
		{name: "RenameNegativeIndex", doc: nested, upd: `{"$rename":{"v.-1":"f"}}`, code: 28, msg: `cannot use the part (v of v.-1) to traverse the element ({v: [ { foo: [ { bar: "hello" }, { bar: "world" } ] } ]})`},
		{name: "RenameThroughString", doc: nested, upd: `{"$rename":{"v.0.foo.0.bar.z":"f"}}`, code: 28, msg: `cannot use the part (bar of v.0.foo.0.bar.z) to traverse the element ({bar: "hello"})`},
		{name: "RenameEmptySource", doc: nested, upd: `{"$rename":{"":"v"}}`, code: 56, msg: "An empty update path is not valid."},
		{name: "RenameTrailingDot", doc: nested, upd: `{"$rename":{"v.":"v"}}`, code: 56, msg: "The update path 'v.' contains an empty field name, which is not allowed."},
		{name: "SetId", doc: nested, upd: `{"$set":{"_id":"another-id"}}`, code: 66, msg: "Performing an update on the path '_id' would modify the immutable field '_id'"},
		{name: "IncArgument", doc: nested, upd: `{"$inc":{"v":"string"}}`, code: 14, msg: `Cannot increment with non-numeric argument: {v: "string"}`},
		{name: "IncThroughArray", doc: nested, upd: `{"$inc":{"v.foo":1}}`, code: 28, msg: `Cannot create field 'foo' in element {v: [ { foo: [ { bar: "hello" }, { bar: "world" } ] } ]}`},
		{name: "IncString", doc: nested, upd: `{"$inc":{"v.0.foo.0.bar":1}}`, code: 14, msg: `Cannot apply $inc to a value of non-numeric type. {_id: "array-documents-nested"} has the field 'bar' of non-numeric type string`},
		{name: "IncInt64Max", doc: `{"_id":"int64-max","v":{"$numberLong":"9223372036854775807"}}`, upd: `{"$inc":{"v":{"$numberLong":"9223372036854775807"}}}`, code: 2, msg: `Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) for document {_id: "int64-max"}`},
		{name: "MaxThroughArray", doc: nested, upd: `{"$max":{"v.foo":1}}`, code: 28, msg: `Cannot create field 'foo' in element {v: [ { foo: [ { bar: "hello" }, { bar: "world" } ] } ]}`},
		{name: "MinThroughArray", doc: nested, upd: `{"$min":{"v.foo":1}}`, code: 28, msg: `Cannot create field 'foo' in element {v: [ { foo: [ { bar: "hello" }, { bar: "world" } ] } ]}`},
		{name: "MulArgumentMissingField", doc: nested, upd: `{"$mul":{"non-existent":"string"}}`, code: 14, msg: `Cannot multiply with non-numeric argument: {non-existent: "string"}`},
		{name: "MulString", doc: nested, upd: `{"$mul":{"v.0.foo.0.bar":1}}`, code: 14, msg: `Cannot apply $mul to a value of non-numeric type. {_id: "array-documents-nested"} has the field 'bar' of non-numeric type string`},
		{name: "MulInt32Overflow", doc: `{"_id":"int32","v":42}`, upd: `{"$mul":{"v":{"$numberLong":"9223372036854775807"}}}`, code: 2, msg: `Failed to apply $mul operations to current value ((NumberInt)42) for document {_id: "int32"}`},
		{name: "MulTrailingDot", doc: nested, upd: `{"$mul":{"v.":"v"}}`, code: 56, msg: "The update path 'v.' contains an empty field name, which is not allowed."},
		{name: "PushDouble", doc: `{"_id":{"$oid":"62821b15dcbc92924d9dc49a"},"project":1.0}`, upd: `{"$push":{"project":1}}`, code: 2, msg: "The field 'project' must be an array but is of type double in document {_id: ObjectId('62821b15dcbc92924d9dc49a')}"},
		{name: "SetSameInt", doc: `{"_id":"int32","v":42}`, upd: `{"$set":{"v":42}}`},
		{name: "SetArrayNil", doc: `{"_id":"string","v":"foo"}`, upd: `{"$set":{"v":[null]}}`, want: `{"_id":"string","v":[null]}`},
	})
}

func TestUpdate_Apply_More(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "DuplicatePathInOperand", doc: `{}`, upd: `{"$set":{"a":1,"a":2}}`, code: 40, msg: "Updating the path 'a' would create a conflict at 'a'"},
		{name: "RepeatedOperator", doc: `{"_id":1}`, upd: `{"$set":{"b":1},"$set":{"a":1}}`, want: `{"_id":1,"a":1,"b":1}`},
		{name: "ManyOperatorsOrder", doc: `{"_id":1,"m":5}`, upd: `{"$inc":{"z":1},"$set":{"c":1},"$max":{"m":9},"$push":{"b":1}}`, want: `{"_id":1,"m":9,"b":[1],"c":1,"z":1}`},
		{name: "NestedExistingAndNew", doc: `{"_id":1,"a":{"z":1}}`, upd: `{"$set":{"a.y":1,"a.z":2,"a.x":3}}`, want: `{"_id":1,"a":{"z":2,"x":3,"y":1}}`},
		{name: "SetNullOverMissing", doc: `{"_id":1}`, upd: `{"$set":{"a":null}}`, want: `{"_id":1,"a":null}`},
		{name: "SetThroughNull", doc: `{"_id":1,"a":null}`, upd: `{"$set":{"a.b":1}}`, code: 28, msg: "Cannot create field 'b' in element {a: null}"},
		{name: "IncDocument", doc: `{"_id":1,"a":{"b":1}}`, upd: `{"$inc":{"a":1}}`, code: 14, msg: "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type object"},
		{name: "IncArrayElementField", doc: `{"_id":1,"a":[{"n":1},{"n":2}]}`, upd: `{"$inc":{"a.1.n":1,"a.0.n":1}}`, want: `{"_id":1,"a":[{"n":2},{"n":3}]}`},
		{name: "PadThenSibling", doc: `{"_id":1,"a":[]}`, upd: `{"$set":{"a.1":1,"a.0":0}}`, want: `{"_id":1,"a":[0,1]}`},
		{name: "CreateUnderNewArrayIndexes", doc: `{"_id":1,"a":[]}`, upd: `{"$set":{"a.0.x":1,"a.0.y":2}}`, want: `{"_id":1,"a":[{"x":1,"y":2}]}`},
		{name: "UnsetAndSetSiblings", doc: `{"_id":1,"a":{"b":1,"c":2}}`, upd: `{"$unset":{"a.b":1},"$set":{"a.d":3}}`, want: `{"_id":1,"a":{"c":2,"d":3}}`},
		{name: "DecimalInc", doc: `{"_id":1,"a":{"$numberDecimal":"9999999999999999999999999999999999"}}`, upd: `{"$inc":{"a":1}}`, want: `{"_id":1,"a":{"$numberDecimal":"1.000000000000000000000000000000000E+34"}}`},
		{name: "DecimalMulDouble", doc: `{"_id":1,"a":{"$numberDecimal":"2"}}`, upd: `{"$mul":{"a":0.5}}`, want: `{"_id":1,"a":{"$numberDecimal":"1.000000000000000"}}`},
		{name: "DoubleNaNInc", doc: `{"_id":1,"a":{"$numberDouble":"NaN"}}`, upd: `{"$inc":{"a":1}}`, want: `{"_id":1,"a":{"$numberDouble":"NaN"}}`},
		{name: "MaxNestedCreates", doc: `{"_id":1}`, upd: `{"$max":{"a.b":1}}`, want: `{"_id":1,"a":{"b":1}}`},
		{name: "PullFromNested", doc: `{"_id":1,"a":{"b":[1,2,3]}}`, upd: `{"$pull":{"a.b":{"$in":[1,3]}}}`, want: `{"_id":1,"a":{"b":[2]}}`},
		{name: "PushToArrayElement", doc: `{"_id":1,"a":[[1],[2]]}`, upd: `{"$push":{"a.1":3}}`, want: `{"_id":1,"a":[[1],[2,3]]}`},
		{name: "AddToSetWithFilter", doc: `{"_id":1,"a":[{"t":[1]},{"t":[2]}]}`, upd: `{"$addToSet":{"a.$[e].t":9}}`, filters: []string{`{"e.t":2}`}, want: `{"_id":1,"a":[{"t":[1]},{"t":[2,9]}]}`},
		{name: "UnsetAllElements", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$unset":{"a.$[]":1}}`, want: `{"_id":1,"a":[null,null]}`},
		{name: "RenameKeepsOtherOrder", doc: `{"_id":1,"x":1,"a":2,"y":3}`, upd: `{"$rename":{"a":"b"}}`, want: `{"_id":1,"x":1,"y":3,"b":2}`},
		{name: "RenameIntoNewNested", doc: `{"_id":1,"a":1,"n":{}}`, upd: `{"$rename":{"a":"n.a"}}`, want: `{"_id":1,"n":{"a":1}}`},
		{name: "RenameFromNested", doc: `{"_id":1,"n":{"a":1,"b":2}}`, upd: `{"$rename":{"n.a":"n.c"}}`, want: `{"_id":1,"n":{"b":2,"c":1}}`},
		{name: "CurrentDateOnExisting", doc: `{"_id":1,"a":"old","b":1}`, upd: `{"$currentDate":{"a":true}}`, want: `{"_id":1,"a":{"$date":{"$numberLong":"` + strconv.FormatInt(updTestNow.UnixMilli(), 10) + `"}},"b":1}`},
		{name: "SetOnInsertNestedPaths", doc: `{"_id":1}`, upd: `{"$setOnInsert":{"a.b":1,"a.c":2}}`, insert: true, want: `{"_id":1,"a":{"b":1,"c":2}}`},
		{name: "DollarDBRefTopLevelAlone", doc: `{"_id":1}`, upd: `{"$set":{"$ref":"c"}}`, code: 55, msg: "The DBRef $ref field must be followed by a $id field"},
		{name: "DollarNestedThroughExisting", doc: `{"_id":1,"a":{}}`, upd: `{"$set":{"a.$x":1}}`, want: `{"_id":1,"a":{"$x":1}}`},
	})
}
