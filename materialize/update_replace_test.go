package materialize

import (
	"bytes"
	"strconv"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

func TestUpdate_Apply_UpsertInsert(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "SeedPlusSet", doc: `{"_id":1,"x":1}`, upd: `{"$set":{"a":1},"$setOnInsert":{"b":2}}`, insert: true, want: `{"_id":1,"x":1,"a":1,"b":2}`},
		{name: "IdMovedFirst", doc: `{"x":1}`, upd: `{"$set":{"_id":5,"a":1}}`, insert: true, want: `{"_id":5,"x":1,"a":1}`},
		{name: "IdFromSetOnInsert", doc: `{}`, upd: `{"$setOnInsert":{"_id":"k"}}`, insert: true, want: `{"_id":"k"}`},
		{name: "IdSeedChange", doc: `{"_id":1}`, upd: `{"$set":{"_id":2}}`, insert: true, code: 66, msg: "Performing an update on the path '_id' would modify the immutable field '_id'"},
		{name: "IdSeedSame", doc: `{"_id":1}`, upd: `{"$setOnInsert":{"_id":1,"a":1}}`, insert: true, want: `{"_id":1,"a":1}`},
		{name: "IdArray", doc: `{}`, upd: `{"$set":{"_id":[1]}}`, insert: true, code: 53, msg: "The '_id' value cannot be of type array"},
		{name: "IdRegex", doc: `{}`, upd: `{"$set":{"_id":{"$regularExpression":{"pattern":"a","options":""}}}}`, insert: true, code: 53, msg: "The '_id' value cannot be of type regex"},
		{name: "IdDollarField", doc: `{}`, upd: `{"$set":{"_id":{"$x":1}}}`, insert: true, code: 52},
		{name: "NoIdLeftToCaller", doc: `{}`, upd: `{"$inc":{"n":1}}`, insert: true, want: `{"n":1}`},
		{name: "NestedSeed", doc: `{"_id":1,"a":{"b":1}}`, upd: `{"$set":{"a.c":2}}`, insert: true, want: `{"_id":1,"a":{"b":1,"c":2}}`},
	})
}

func TestUpdate_Apply_Replacement(t *testing.T) {
	cases := []struct {
		name, doc, repl string
		insert          bool
		want            string
		changed         bool
		code            int32
		msg             string
	}{
		{name: "KeepsId", doc: `{"_id":1,"a":1,"b":2}`, repl: `{"c":3}`, want: `{"_id":1,"c":3}`, changed: true},
		{name: "SameContentWithoutIdStillModified", doc: `{"_id":1,"a":1}`, repl: `{"a":1}`, want: `{"_id":1,"a":1}`, changed: true},
		{name: "IdenticalIsNoop", doc: `{"_id":1,"a":1}`, repl: `{"_id":1,"a":1}`, want: `{"_id":1,"a":1}`},
		{name: "IdMovedFirst", doc: `{"_id":1,"a":1}`, repl: `{"a":2,"_id":1}`, want: `{"_id":1,"a":2}`, changed: true},
		{name: "IdNumericallyEqual", doc: `{"_id":1,"a":1}`, repl: `{"_id":1.0}`, want: `{"_id":1.0}`, changed: true},
		{name: "IdChanged", doc: `{"_id":1,"a":1}`, repl: `{"_id":2}`, code: 66, msg: "After applying the update, the (immutable) field '_id' was found to have been altered to _id: 2"},
		{name: "IdChangedDoc", doc: `{"_id":{"a":1}}`, repl: `{"_id":{"a":2}}`, code: 66, msg: "After applying the update, the (immutable) field '_id' was found to have been altered to _id: { a: 2 }"},
		{name: "DollarField", doc: `{"_id":1}`, repl: `{"a":1,"$b":2}`, code: 52, msg: "The dollar ($) prefixed field '$b' in '$b' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith."},
		{name: "DollarNestedAllowed", doc: `{"_id":1}`, repl: `{"a":{"$b":2}}`, want: `{"_id":1,"a":{"$b":2}}`, changed: true},
		{name: "DBRefAllowed", doc: `{"_id":1}`, repl: `{"a":1,"$ref":"c","$id":1}`, want: `{"_id":1,"a":1,"$ref":"c","$id":1}`, changed: true},
		{name: "DBRefIdAlone", doc: `{"_id":1}`, repl: `{"a":1,"$id":1}`, code: 55, msg: "Found $id field without a $ref before it, which is invalid."},
		{name: "IdArray", doc: `{"_id":1}`, repl: `{"_id":[1]}`, code: 53, msg: "The '_id' value cannot be of type array"},
		{name: "UpsertTakesSeedId", doc: `{"_id":7}`, repl: `{"a":1}`, insert: true, want: `{"_id":7,"a":1}`, changed: true},
		{name: "UpsertNoSeed", doc: `{}`, repl: `{"a":1}`, insert: true, want: `{"a":1}`, changed: true},
		{name: "UpsertSeedConflict", doc: `{"_id":7}`, repl: `{"_id":8}`, insert: true, code: 66},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := CompileUpdate(updEJ(t, tc.repl), UpdateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !u.IsReplacement() {
				t.Fatal("not a replacement")
			}
			doc := updEJ(t, tc.doc)
			out, changed, err := u.Apply(doc, ApplyContext{PositionalIndex: -1, IsUpsertInsert: tc.insert, Now: updTestNow})
			if tc.code != 0 {
				updCheckErr(t, err, tc.code, tc.msg)
				_, err2 := ApplyReplacement(doc, updEJ(t, tc.repl))
				updCheckErr(t, err2, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := updEJ(t, tc.want); !bytes.Equal(out, want) {
				t.Fatalf("got %s want %s", updCanon(out), updCanon(want))
			}
			if changed != tc.changed {
				t.Fatalf("changed = %v", changed)
			}
			out2, err := ApplyReplacement(doc, updEJ(t, tc.repl))
			if err != nil || !bytes.Equal(out2, out) {
				t.Fatalf("ApplyReplacement = %s, %v", updCanon(out2), err)
			}
		})
	}
}

func TestUpdate_Apply_ReplacementZeroTimestamp(t *testing.T) {
	u, err := CompileUpdate(updEJ(t, `{"a":{"$timestamp":{"t":0,"i":0}},"b":{"$timestamp":{"t":5,"i":1}},"c":{"x":{"$timestamp":{"t":0,"i":0}}}}`), UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := u.Apply(updEJ(t, `{"_id":1}`), ApplyContext{PositionalIndex: -1, Now: updTestNow})
	if err != nil {
		t.Fatal(err)
	}
	want := updEJ(t, `{"_id":1,"a":{"$timestamp":{"t":`+strconv.FormatInt(updTestNow.Unix(), 10)+`,"i":1}},"b":{"$timestamp":{"t":5,"i":1}},"c":{"x":{"$timestamp":{"t":0,"i":0}}}}`)
	if !bytes.Equal(out, want) {
		t.Fatalf("got %s want %s", updCanon(out), updCanon(want))
	}
}

func TestUpdate_Apply_Unchanged(t *testing.T) {
	doc := updEJ(t, `{"_id":1,"a":[1,2,3],"b":{"c":1}}`)
	u, err := CompileUpdate(updEJ(t, `{"$set":{"b.c":1},"$addToSet":{"a":2},"$pull":{"z":9},"$unset":{"q":1}}`), UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, changed, err := u.Apply(doc, ApplyContext{PositionalIndex: -1})
	if err != nil || changed || &out[0] != &doc[0] {
		t.Fatalf("want the same document back: %v %v", changed, err)
	}
}

func TestUpdate_Apply_DoesNotModifyInput(t *testing.T) {
	doc := updEJ(t, `{"_id":1,"a":{"b":[1,{"c":2}]},"d":"x"}`)
	before := append(bson.Raw(nil), doc...)
	u, err := CompileUpdate(updEJ(t, `{"$set":{"a.b.1.c":5,"e":1},"$unset":{"d":1},"$push":{"a.b":3}}`), UpdateOptions{})
	if err == nil {
		_, _, err = u.Apply(doc, ApplyContext{PositionalIndex: -1})
	}
	if err == nil {
		t.Fatal("want a conflict between a.b.1.c and a.b")
	}
	u, err = CompileUpdate(updEJ(t, `{"$set":{"a.b.1.c":5,"e":1},"$unset":{"d":1}}`), UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, changed, err := u.Apply(doc, ApplyContext{PositionalIndex: -1})
	if err != nil || !changed {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, before) {
		t.Fatal("input modified")
	}
	if want := updEJ(t, `{"_id":1,"a":{"b":[1,{"c":5}]},"e":1}`); !bytes.Equal(out, want) {
		t.Fatalf("got %s", updCanon(out))
	}
}

func TestUpsertSeed(t *testing.T) {
	cases := []struct {
		name string
		eq   map[string]string
		want string
		code int32
		msg  string
		repl bool
	}{
		{name: "IdFirstPathsSorted", eq: map[string]string{"b": `1`, "a.c": `2`, "_id": `3`}, want: `{"_id":3,"a":{"c":2},"b":1}`},
		{name: "SharedParent", eq: map[string]string{"a.z": `1`, "a.b": `2`}, want: `{"a":{"b":2,"z":1}}`},
		{name: "NumericComponentMakesObject", eq: map[string]string{"a.0": `1`}, want: `{"a":{"0":1}}`},
		{name: "DocumentValue", eq: map[string]string{"a": `{"x":[1,2]}`}, want: `{"a":{"x":[1,2]}}`},
		{name: "Empty", eq: map[string]string{}, want: `{}`},
		{name: "PrefixConflict", eq: map[string]string{"a": `1`, "a.b": `2`}, code: 54, msg: "cannot infer query fields to set, both paths 'a.b' and 'a' are matched"},
		{name: "ReplacementOnlyId", eq: map[string]string{"a": `1`, "_id": `2`}, repl: true, want: `{"_id":2}`},
		{name: "ReplacementIdSubfield", eq: map[string]string{"_id.x": `1`}, repl: true, code: 111, msg: "field at '_id' must be exactly specified, field at sub-path '_id.x'found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eq := map[string]bson.RawValue{}
			for k, v := range tc.eq {
				eq[k] = updEJ(t, `{"v":`+v+`}`).Lookup("v")
			}
			var out bson.Raw
			var err error
			if tc.repl {
				out, err = ReplacementUpsertSeed(eq)
			} else {
				out, err = UpsertSeed(eq)
			}
			if tc.code != 0 {
				updCheckErr(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := updEJ(t, tc.want); !bytes.Equal(out, want) {
				t.Fatalf("got %s want %s", updCanon(out), updCanon(want))
			}
		})
	}
}

func TestUpdate_Apply_UpsertFlow(t *testing.T) {
	// The whole upsert path: filter equalities seed the document, then the
	// update runs in insert mode.
	f, err := CompileFilter(updEJ(t, `{"_id":"k","n":{"$gt":1},"tag":"x","$and":[{"sub.a":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	seed, err := UpsertSeed(f.EqualityFields())
	if err != nil {
		t.Fatal(err)
	}
	u, err := CompileUpdate(updEJ(t, `{"$inc":{"count":1},"$setOnInsert":{"created":true}}`), UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := u.Apply(seed, ApplyContext{PositionalIndex: -1, IsUpsertInsert: true, Now: updTestNow})
	if err != nil {
		t.Fatal(err)
	}
	want := updEJ(t, `{"_id":"k","sub":{"a":1},"tag":"x","count":1,"created":true}`)
	if !bytes.Equal(out, want) {
		t.Fatalf("got %s want %s", updCanon(out), updCanon(want))
	}
}
