package materialize

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// fuzzDocs are matched against every filter the fuzzer compiles.
var fuzzDocs = []string{
	`{}`,
	`{"a": 1, "b": "x", "c": null}`,
	`{"a": [1, 2, [3]], "b": {"c": [{"d": 1}, {"d": [2, 3]}]}}`,
	`{"a": {"$numberDecimal": "NaN"}, "b": {"$numberDouble": "-Infinity"}, "c": {"$binary": {"base64": "AQI=", "subType": "00"}}}`,
	`{"a": [{"b": null}, {}, 5], "0": {"1": [true]}, "x": {"$regularExpression": {"pattern": "a", "options": "i"}}}`,
}

// FuzzCompileFilter feeds arbitrary bytes to CompileFilter and matches any
// filter that compiles against a few documents (and mangled copies of
// them). Nothing may panic.
func FuzzCompileFilter(f *testing.F) {
	seeds := []string{
		`{"a": 1}`,
		`{"a": {"$gt": 1, "$lt": [2]}}`,
		`{"$or": [{"a": {"$in": [1, {"$regularExpression": {"pattern": "^x", "options": "i"}}]}}, {"b.c.d": {"$exists": false}}]}`,
		`{"a": {"$elemMatch": {"$gte": 2}}, "b.c": {"$elemMatch": {"d": {"$size": 2}}}}`,
		`{"a": {"$all": [{"$elemMatch": {"$gt": 0}}]}, "c": {"$type": ["null", "number"]}}`,
		`{"$expr": {"$gt": [{"$add": ["$a", 1]}, {"$size": "$a"}]}}`,
		`{"a": {"$not": {"$regex": "^[a-z]+$", "$options": "ix"}}, "b": {"$mod": [3, 1]}}`,
		`{"a": {"$bitsAllSet": [1, 5]}, "c": {"$bitsAnyClear": {"$binary": {"base64": "AQI=", "subType": "00"}}}}`,
		`{"$jsonSchema": {"required": ["a"], "properties": {"a": {"bsonType": "array", "items": {"minimum": 0}}}}}`,
		`{"$nor": [{"a": null}], "0.1": true}`,
	}
	for _, s := range seeds {
		var r bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(s), false, &r); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(r))
	}
	f.Add([]byte{5, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 0}) // once crashed the driver's Validate
	f.Add([]byte{})
	docs := make([]bson.Raw, 0, len(fuzzDocs)*2)
	for _, s := range fuzzDocs {
		var r bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(s), false, &r); err != nil {
			f.Fatal(err)
		}
		docs = append(docs, r, r[:len(r)/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		filter, err := CompileFilter(data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for _, d := range append(docs, data) {
			_, _ = filter.Match(d)
			_, _, _ = filter.MatchPositional(d)
		}
		_ = filter.EqualityFields()
		// The same bytes as a sort spec and as a document must be safe too.
		if s, err := CompileSort(data); err == nil {
			for _, d := range docs {
				s.Compare(d, data)
			}
		}
		_ = CompareDocuments(data, docs[2])
	})
}

// FuzzCompileFilterExtJSON explores structured filters: the input is read as
// extended JSON, so mutations stay mostly well-formed and reach the
// operator parsers and matchers rather than the BSON validator.
func FuzzCompileFilterExtJSON(f *testing.F) {
	for _, s := range []string{
		`{"a": {"$elemMatch": {"b": {"$in": [1, null]}, "c": {"$not": {"$size": 1}}}}}`,
		`{"$and": [{"a.0.b": {"$gte": {"$numberDecimal": "1.5"}}}, {"$expr": {"$cond": ["$x", {"$mod": ["$a", 2]}, {"$arrayElemAt": ["$a", -1]}]}}]}`,
		`{"a": {"$regex": "^(ab|c)*$", "$options": "smx"}, "b": {"$all": [[1], {"x": 1}]}}`,
		`{"a": {"$bitsAnySet": [0, 64]}, "b": {"$mod": [-3, {"$numberLong": "1"}]}, "c": {"$type": [1, "array"]}}`,
		`{"$jsonSchema": {"oneOf": [{"bsonType": "object"}, {"required": ["z"]}], "patternProperties": {"^a": {"maxItems": 1}}}}`,
		`{"$expr": {"$switch": {"branches": [{"case": {"$in": ["$a", [1, 2]]}, "then": {"$concat": ["x", {"$toUpper": "$b"}]}}], "default": {"$divide": ["$a", 0]}}}}`,
	} {
		f.Add(s)
	}
	var docs []bson.Raw
	for _, s := range fuzzDocs {
		var r bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(s), false, &r); err != nil {
			f.Fatal(err)
		}
		docs = append(docs, r)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var filter bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(s), false, &filter); err != nil {
			return
		}
		compiled, err := CompileFilter(filter)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for _, d := range append(docs, filter) {
			_, _ = compiled.Match(d)
			_, _, _ = compiled.MatchPositional(d)
		}
		if e, err := CompileExpression(bson.RawValue{Type: 0x03, Value: filter}); err == nil {
			for _, d := range docs {
				_, _ = e.Eval(d)
			}
		}
	})
}
