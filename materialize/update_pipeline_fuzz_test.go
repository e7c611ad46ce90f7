package materialize

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// FuzzCompileUpdatePipeline feeds arbitrary bytes to the pipeline-update
// and let parsers and applies whatever compiles to a few documents:
// nothing may panic, errors are *Error, results are valid documents. The
// pipeline is the array field "p" of the first input; the second is let.
func FuzzCompileUpdatePipeline(f *testing.F) {
	seeds := []struct{ pipe, let string }{
		{`{"p":[{"$set":{"a":1,"b.c":"$a"}}]}`, `{}`},
		{`{"p":[{"$addFields":{"e":{"f":{"$add":["$a",1]}}}},{"$unset":["b","e.f"]}]}`, `{"x":1}`},
		{`{"p":[{"$project":{"a":1,"z":"$$x"}},{"$replaceWith":{"$setField":{"field":"$k","input":"$$ROOT","value":"$$x"}}}]}`, `{"x":{"$literal":"$y"}}`},
		{`{"p":[{"$replaceRoot":{"newRoot":"$b"}}]}`, `{"CURRENT":{"q":1}}`},
		{`{"p":[{"$set":{"a":{"$getField":{"field":"a.b","input":{"$literal":{"a.b":1}}}}}},{"$match":{}}]}`, `{"Bad":1}`},
		{`{"p":[{"$set":{"e.g":{"$cond":[{"$gt":["$a",0]},"$$REMOVE",[1,2]]}}}]}`, `{"v":"$a"}`},
	}
	for _, s := range seeds {
		f.Add([]byte(updEJ(f, s.pipe)), []byte(updEJ(f, s.let)))
		f.Add([]byte(s.pipe), []byte(s.let))
	}
	docs := make([]bson.Raw, len(updFuzzDocs))
	for i, s := range updFuzzDocs {
		docs[i] = updEJ(f, s)
	}
	f.Fuzz(func(t *testing.T, wrapped, let []byte) { pipeFuzzOne(t, docs, wrapped, let) })
}

func pipeFuzzOne(t *testing.T, docs []bson.Raw, wrapped, let []byte) {
	wrapped, let = updFuzzInput(wrapped), updFuzzInput(let)
	if dnValidateDoc(wrapped, 0) != nil {
		return
	}
	p, ok := bson.Raw(wrapped).Lookup("p").ArrayOK()
	if !ok {
		return
	}
	if dnValidateDoc(let, 0) != nil {
		let = nil
	}
	if _, err := ParseVariables(let); err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("let error is %T, not *Error", err)
		}
	}
	u, err := CompileUpdatePipeline(bson.Raw(p), UpdateOptions{Let: let})
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("error is %T, not *Error", err)
		}
		return
	}
	for _, doc := range docs {
		for _, ctx := range []ApplyContext{{PositionalIndex: -1}, {PositionalIndex: -1, IsUpsertInsert: true}} {
			out, _, err := u.Apply(doc, ctx)
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("error is %T, not *Error", err)
				}
				continue
			}
			updFuzzCheckDoc(t, out)
		}
	}
}
