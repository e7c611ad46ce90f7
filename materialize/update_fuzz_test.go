package materialize

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// The fuzz targets feed arbitrary bytes to the update and projection
// compilers and apply whatever compiles to a few documents. They check that
// nothing panics and that every result is a valid BSON document. Inputs are
// used as BSON and, when they are not BSON, read as extended JSON, so that
// mutations of the (JSON) seeds stay meaningful and reach deep code paths.

// updFuzzInput turns fuzz bytes into a document to compile.
func updFuzzInput(b []byte) []byte {
	if dnValidateDoc(b, 0) == nil {
		return b
	}
	var r bson.Raw
	if err := bson.UnmarshalExtJSON(b, false, &r); err == nil {
		return r
	}
	return b
}

var updFuzzDocs = []string{
	`{}`,
	`{"_id":1,"a":1,"b":{"c":[1,2,{"d":3}]},"e":[{"f":1},{"f":2},3],"s":"x"}`,
	`{"_id":{"k":1},"a":[[1,2],[3]],"n":{"$numberLong":"9223372036854775807"},"d":{"$numberDecimal":"1.5"},"x":2.5}`,
	`{"a":null,"arr":[],"t":{"$timestamp":{"t":0,"i":0}},"r":{"$regularExpression":{"pattern":"a","options":""}}}`,
}

func updFuzzCheckDoc(t *testing.T, out bson.Raw) {
	if err := dnValidateDoc(out, 0); err != nil {
		t.Fatalf("invalid output document %x", []byte(out))
	}
}

func FuzzCompileUpdate(f *testing.F) {
	seeds := []string{
		`{"$set":{"a":1,"b.c.1":2}}`,
		`{"$set":{"a.$":1},"$inc":{"n":1}}`,
		`{"$unset":{"a":1,"e.0":1},"$rename":{"s":"z.y"}}`,
		`{"$inc":{"a":2147483647,"x":{"$numberDecimal":"1E+6144"}},"$mul":{"n":2,"q":-1.5}}`,
		`{"$min":{"a":0},"$max":{"b":{"z":1}},"$currentDate":{"t":{"$type":"timestamp"},"u":true}}`,
		`{"$push":{"e":{"$each":[{"f":0},5],"$position":-1,"$sort":{"f":-1},"$slice":-2}}}`,
		`{"$addToSet":{"arr":{"$each":[1,1,2]}},"$pop":{"e":-1},"$pull":{"b.c":{"$gte":2}},"$pullAll":{"a":[1]}}`,
		`{"$bit":{"a":{"and":5,"or":{"$numberLong":"8"}}},"$setOnInsert":{"_id":5}}`,
		`{"$set":{"e.$[x].f":0,"e.$[].g":1}}`,
		`{"$pull":{"e":{"f":1}},"$set":{"b.c.5.z":1}}`,
		`{"a":1,"b":{"$x":1}}`,
		`{"_id":1,"z":{"$timestamp":{"t":0,"i":0}}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(updEJ(f, s)), true)
		f.Add([]byte(s), false)
	}
	docs := make([]bson.Raw, len(updFuzzDocs))
	for i, s := range updFuzzDocs {
		docs[i] = updEJ(f, s)
	}
	filters := []bson.Raw{updEJ(f, `{"x.f":{"$gte":1}}`)}
	f.Fuzz(func(t *testing.T, upd []byte, withFilters bool) {
		upd = updFuzzInput(upd)
		var opts UpdateOptions
		if withFilters {
			opts.ArrayFilters = filters
		}
		u, err := CompileUpdate(upd, opts)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error is %T, not *Error", err)
			}
			return
		}
		for _, doc := range docs {
			for _, ctx := range []ApplyContext{{PositionalIndex: -1}, {PositionalIndex: 1}, {PositionalIndex: -1, IsUpsertInsert: true}} {
				out, _, err := u.Apply(doc, ctx)
				if err != nil {
					if _, ok := err.(*Error); !ok {
						t.Fatalf("error is %T, not *Error", err)
					}
					continue
				}
				updFuzzCheckDoc(t, out)
			}
			if u.IsReplacement() {
				if out, err := ApplyReplacement(doc, upd); err == nil {
					updFuzzCheckDoc(t, out)
				}
			}
		}
		// The same bytes as a document to update and as a replacement.
		if md, err := NewMutableDocument(upd); err == nil {
			_ = md.Set("a.0.b", bson.RawValue{Type: bson.TypeInt32, Value: []byte{1, 0, 0, 0}})
			_, _ = md.Unset("b.c")
			updFuzzCheckDoc(t, md.Raw())
		}
	})
}

func FuzzCompileProjection(f *testing.F) {
	seeds := []string{
		`{"a":1}`, `{"a":0,"_id":0}`, `{"b.c":1,"e.f":1}`, `{"e.f":0}`,
		`{"e":{"$slice":[1,2]}}`, `{"e":{"$slice":-1},"a":1}`, `{"e":{"$elemMatch":{"f":2}}}`,
		`{"e.$":1}`, `{"x":"$a","y":{"$literal":1}}`, `{"b":{"c":1,"z":"lit"}}`,
		`{"a":{"$meta":"textScore"}}`, `{"a":1,"a.b":1}`, `{"a.b.c":{"$slice":1}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(updEJ(f, s)))
		f.Add([]byte(s))
	}
	docs := make([]bson.Raw, len(updFuzzDocs))
	for i, s := range updFuzzDocs {
		docs[i] = updEJ(f, s)
	}
	f.Fuzz(func(t *testing.T, proj []byte) {
		proj = updFuzzInput(proj)
		p, err := CompileProjection(proj)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error is %T, not *Error", err)
			}
			return
		}
		_ = p.CheckQuery(proj)
		for _, doc := range docs {
			for _, pos := range []int{-1, 0, 2} {
				out, err := p.Apply(doc, pos)
				if err != nil {
					continue
				}
				updFuzzCheckDoc(t, out)
			}
		}
	})
}
