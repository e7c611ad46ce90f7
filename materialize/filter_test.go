package materialize

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Helpers shared by the query-engine tests. They are prefixed "qt" so they
// cannot collide with the update/projection tests of the same package.

// qtDoc parses relaxed extended JSON into a document.
func qtDoc(t testing.TB, s string) bson.Raw {
	t.Helper()
	var r bson.Raw
	require.NoError(t, bson.UnmarshalExtJSON([]byte(s), false, &r), "bad test JSON: %s", s)
	return r
}

// qtVal parses relaxed extended JSON into a single value.
func qtVal(t testing.TB, s string) bson.RawValue {
	t.Helper()
	return qtDoc(t, `{"v": `+s+`}`).Lookup("v")
}

// qtCase is one filter/document pair and the expected match result.
type qtCase struct {
	filter string
	doc    string
	want   bool
}

func qtRunMatch(t *testing.T, cases []qtCase) {
	t.Helper()
	for i, c := range cases {
		t.Run(fmt.Sprintf("%03d %s on %s", i, c.filter, c.doc), func(t *testing.T) {
			f, err := CompileFilter(qtDoc(t, c.filter))
			require.NoError(t, err)
			got, err := f.Match(qtDoc(t, c.doc))
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

// qtErrCase is a filter that must fail to compile with the server's code
// and message.
type qtErrCase struct {
	filter string
	code   int32
	msg    string
}

func qtRunErr(t *testing.T, cases []qtErrCase) {
	t.Helper()
	for i, c := range cases {
		t.Run(fmt.Sprintf("%03d %s", i, c.filter), func(t *testing.T) {
			_, err := CompileFilter(qtDoc(t, c.filter))
			qtAssertErr(t, err, c.code, c.msg)
		})
	}
}

func qtAssertErr(t *testing.T, err error, code int32, msg string) {
	t.Helper()
	require.Error(t, err)
	var e *Error
	require.True(t, errors.As(err, &e), "not an *Error: %T %v", err, err)
	assert.Equal(t, code, e.Code, "code for %q", e.Message)
	assert.Equal(t, codeName(code), e.Name)
	if msg != "" {
		assert.Equal(t, msg, e.Message)
	}
}

func TestFilter_Match_EmptyFilter(t *testing.T) {
	for _, f := range []bson.Raw{nil, qtDoc(t, `{}`)} {
		cf, err := CompileFilter(f)
		require.NoError(t, err)
		ok, err := cf.Match(qtDoc(t, `{"a": 1}`))
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Empty(t, cf.EqualityFields())
	}
}

func TestFilter_Match_NilFilterMatchesAll(t *testing.T) {
	var f *Filter
	ok, err := f.Match(qtDoc(t, `{"a": 1}`))
	require.NoError(t, err)
	assert.True(t, ok)
	ok, pos, err := f.MatchPositional(qtDoc(t, `{"a": 1}`))
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, -1, pos)
	assert.Empty(t, f.EqualityFields())
	var s *Sort
	assert.Equal(t, 0, s.Compare(qtDoc(t, `{"a": 1}`), qtDoc(t, `{"a": 2}`)))
	assert.Equal(t, 0, s.Len())
}

func TestFilter_Match_ImplicitAnd(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"a": 1, "b": 2}`, `{"a": 1, "b": 2}`, true},
		{`{"a": 1, "b": 2}`, `{"a": 1, "b": 3}`, false},
		{`{"a": 1, "b": 2}`, `{"b": 2}`, false},
		{`{"a": 1, "a": 2}`, `{"a": [1, 2]}`, true},
		{`{"a": 1, "a": 2}`, `{"a": 1}`, false},
		{`{"a.b": 1, "a.c": 2}`, `{"a": [{"b": 1}, {"c": 2}]}`, true},
		{`{"a": {"$gt": 1}, "b": {"$lt": 1}}`, `{"a": 2, "b": 0}`, true},
	})
}

func TestFilter_Match_EmbeddedDocumentEquality(t *testing.T) {
	qtRunMatch(t, []qtCase{
		// Whole-document equality is exact: field order and types count.
		{`{"a": {"b": 1, "c": 2}}`, `{"a": {"b": 1, "c": 2}}`, true},
		{`{"a": {"b": 1, "c": 2}}`, `{"a": {"c": 2, "b": 1}}`, false},
		{`{"a": {"b": 1}}`, `{"a": {"b": 1, "c": 2}}`, false},
		{`{"a": {"b": 1}}`, `{"a": {"b": 1.0}}`, true},
		{`{"a": {"b": 1}}`, `{"a": [{"b": 1}]}`, true},
		{`{"a": {}}`, `{"a": {}}`, true},
		{`{"a": {}}`, `{"a": []}`, false},
		// A document whose first key is not an operator is a literal.
		{`{"a": {"b": {"$gt": 1}}}`, `{"a": {"b": {"$gt": 1}}}`, true},
		{`{"a": {"b": {"$gt": 1}}}`, `{"a": {"b": 2}}`, false},
		// DBRef-shaped documents are literals too.
		{`{"a": {"$ref": "c", "$id": 1}}`, `{"a": {"$ref": "c", "$id": 1}}`, true},
		{`{"a": {"$ref": "c", "$id": 1}}`, `{"a": {"$ref": "c", "$id": 2}}`, false},
	})
}

func TestFilter_Match_DBRefFields(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"$id": 1}`, `{"$id": 1}`, true},
		{`{"$ref": "x"}`, `{"$ref": "y"}`, false},
		{`{"a.$id": 1}`, `{"a": {"$ref": "c", "$id": 1}}`, true},
	})
}

func TestFilter_Match_Comment(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"$comment": "why", "a": 1}`, `{"a": 1}`, true},
		{`{"$comment": "why"}`, `{"a": 1}`, true},
		{`{"$comment": {"x": 1}, "a": 2}`, `{"a": 1}`, false},
	})
}

func TestFilter_Match_AlwaysTrueFalse(t *testing.T) {
	qtRunMatch(t, []qtCase{
		{`{"$alwaysTrue": 1}`, `{"a": 1}`, true},
		{`{"$alwaysFalse": 1}`, `{"a": 1}`, false},
		{`{"$alwaysTrue": 1.0, "a": 2}`, `{"a": 1}`, false},
	})
	qtRunErr(t, []qtErrCase{
		{`{"$alwaysTrue": 0}`, codeFailedToParse, "$alwaysTrue must be an integer value of 1"},
		{`{"$alwaysFalse": "x"}`, codeFailedToParse, `Expected a number in: $alwaysFalse: "x"`},
	})
}

func TestFilter_Compile_TopLevelErrors(t *testing.T) {
	qtRunErr(t, []qtErrCase{
		{`{"$foo": 1}`, 2, "unknown top level operator: $foo. If you have a field name that starts with a '$' symbol, consider using $getField or $setField."},
		{`{"$not": {"a": 1}}`, 2, "unknown top level operator: $not. If you are trying to negate an entire expression, use $nor."},
		{`{"$eq": 1}`, 2, "unknown top level operator: $eq. If you have a field name that starts with a '$' symbol, consider using $getField or $setField."},
		{`{"$size": 2}`, 2, "unknown top level operator: $size. If you have a field name that starts with a '$' symbol, consider using $getField or $setField."},
		{`{"a": {"$foo": 1}}`, 2, "unknown operator: $foo"},
		{`{"a": {"$gt": 1, "b": 1}}`, 2, "unknown operator: b"},
		{`{"a": {"$where": "1"}}`, 2, "$where cannot be applied to a field"},
		{`{"a": {"$": 1}}`, 2, "unknown operator: $"},
		{`{"$where": "this.a == 1"}`, codeNotImplemented, ""},
		{`{"$text": {"$search": "x"}}`, codeNotImplemented, ""},
		{`{"a": {"$near": [0, 0]}}`, codeNotImplemented, ""},
		{`{"a": {"$geoWithin": {"$center": [[0, 0], 1]}}}`, codeNotImplemented, ""},
		{`{"a": {"$maxDistance": 1}}`, 2, "unknown operator: $maxDistance"},
		{`{"$sampleRate": 2}`, 2, "numeric argument to $sampleRate must be in [0, 1]"},
		{`{"$sampleRate": "x"}`, 2, "argument to $sampleRate must be a numeric type"},
		{`{"a": {"$elemMatch": {"b": {"$where": "1"}}}}`, 2, "$where cannot be applied to a field"},
		{`{"a": {"$elemMatch": {"$where": "1"}}}`, 2, "$where can only be applied to the top-level document"},
		{`{"a": {"$elemMatch": {"$text": {"$search": "x"}}}}`, 2, "$text can only be applied to the top-level document"},
	})
}

func TestFilter_Compile_WhereAndTextNameTheFeature(t *testing.T) {
	for _, f := range []string{`{"$where": "this.a == 1"}`, `{"$text": {"$search": "coffee"}}`} {
		_, err := CompileFilter(qtDoc(t, f))
		require.Error(t, err)
		assert.Contains(t, err.Error(), f[2:7])
		assert.Contains(t, err.Error(), "not supported")
	}
}

func TestFilter_Compile_MalformedBSON(t *testing.T) {
	good := qtDoc(t, `{"a": {"b": 1}}`)
	for _, bad := range [][]byte{
		{1, 2, 3},
		{5, 0, 0, 0, 1},
		good[:len(good)-1],
		append(append([]byte{}, good[:len(good)-1]...), 1),
		{0xff, 0xff, 0xff, 0x7f, 0},
	} {
		_, err := CompileFilter(bad)
		qtAssertErr(t, err, codeInvalidBSON, "")
	}
}

func TestFilter_Match_MalformedDocumentDoesNotPanic(t *testing.T) {
	f, err := CompileFilter(qtDoc(t, `{"a.b": 1, "c": {"$exists": true}}`))
	require.NoError(t, err)
	good := qtDoc(t, `{"a": {"b": 1}, "c": [1]}`)
	for i := 0; i < len(good); i++ {
		for _, doc := range [][]byte{good[:i], append(append([]byte{}, good[:i]...), 0xff, 0xff)} {
			assert.NotPanics(t, func() { _, _ = f.Match(doc) })
		}
	}
}

func TestFilter_Compile_DepthLimit(t *testing.T) {
	nest := func(n int) bson.Raw {
		doc := bsoncore.Document(qtDoc(t, `{"a": 1}`))
		for i := 0; i < n; i++ {
			arr := bsoncore.BuildArray(nil, bsoncore.Value{Type: bsontype.EmbeddedDocument, Data: doc})
			doc = bsoncore.BuildDocument(nil, bsoncore.AppendArrayElement(nil, "$and", arr))
		}
		return bson.Raw(doc)
	}
	_, err := CompileFilter(nest(300))
	qtAssertErr(t, err, codeBadValue, "")
	f, err := CompileFilter(nest(50))
	require.NoError(t, err)
	ok, err := f.Match(qtDoc(t, `{"a": 1}`))
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestFilter_MatchPositional_ArrayIndex(t *testing.T) {
	cases := []struct {
		filter, doc string
		match       bool
		pos         int
	}{
		{`{"a": 2}`, `{"a": [1, 2, 3]}`, true, 1},
		{`{"a": 2}`, `{"a": 2}`, true, -1},
		{`{"a": [1, 2]}`, `{"a": [1, 2]}`, true, -1},
		{`{"a": [1, 2]}`, `{"a": [0, [1, 2]]}`, true, 1},
		{`{"a.b": 5}`, `{"a": [{"b": 1}, {"b": 5}]}`, true, 1},
		// The outermost array's position wins.
		{`{"a.b": 5}`, `{"a": [{"b": [1]}, {"b": [4, 5]}]}`, true, 1},
		{`{"a": {"$gt": 2}}`, `{"a": [1, 5, 7]}`, true, 1},
		{`{"a": {"$elemMatch": {"$gt": 2}}}`, `{"a": [1, 5, 7]}`, true, 1},
		{`{"a": {"$elemMatch": {"b": 2}}}`, `{"a": [{"b": 1}, {"b": 2}]}`, true, 1},
		{`{"x.a": {"$elemMatch": {"b": 2}}}`, `{"x": [{"a": [{"b": 2}]}, {"a": [{"b": 1}]}]}`, true, 0},
		{`{"x.a": {"$elemMatch": {"b": 2}}}`, `{"x": {"a": [{"b": 1}, {"b": 2}]}}`, true, 1},
		// In an implicit $and the last recorded position wins, as in mongod.
		{`{"a.b": 1, "a.c": 2}`, `{"a": [{"b": 1, "c": 0}, {"b": 0, "c": 2}]}`, true, 1},
		{`{"a": 5, "b": 1}`, `{"a": [4, 5], "b": 1}`, true, 1},
		// $or, $nor and $not do not record positions.
		{`{"$or": [{"a": 5}]}`, `{"a": [4, 5]}`, true, -1},
		{`{"a": {"$not": {"$gt": 5}}}`, `{"a": [4, 5]}`, true, -1},
		{`{"a": {"$in": [3, 9]}}`, `{"a": [1, 9, 3]}`, true, 1},
		{`{"a": 5}`, `{"a": [4, 6]}`, false, -1},
		// An explicit index is not an implicit traversal.
		{`{"a.1": 5}`, `{"a": [4, 5]}`, true, -1},
		{`{"a.1.b": 5}`, `{"a": [4, {"b": [0, 5]}]}`, true, 1},
		{`{"a": {"$all": [4, 5]}}`, `{"a": [5, 4]}`, true, 0},
		{`{"a": {"$size": 2}}`, `{"a": [4, 5]}`, true, -1},
		{`{"a.b": {"$size": 1}}`, `{"a": [{"b": [1, 2]}, {"b": [3]}]}`, true, 1},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%02d %s", i, c.filter), func(t *testing.T) {
			f, err := CompileFilter(qtDoc(t, c.filter))
			require.NoError(t, err)
			ok, pos, err := f.MatchPositional(qtDoc(t, c.doc))
			require.NoError(t, err)
			assert.Equal(t, c.match, ok)
			assert.Equal(t, c.pos, pos)
		})
	}
}

func TestFilter_EqualityFields_Extraction(t *testing.T) {
	cases := []struct {
		filter string
		want   string
	}{
		{`{"_id": 5}`, `{"_id": 5}`},
		{`{"a": {"$eq": 1}}`, `{"a": 1}`},
		{`{"a": {"$eq": 1, "$gt": 0}}`, `{"a": 1}`},
		{`{"a": {"$gt": 1}}`, `{}`},
		{`{"a": null}`, `{"a": null}`},
		{`{"a": [1, 2], "b.c": "x"}`, `{"a": [1, 2], "b.c": "x"}`},
		{`{"a": {"b": 1}}`, `{"a": {"b": 1}}`},
		{`{"$and": [{"a": 1}, {"$and": [{"b": 2}]}], "c": 3}`, `{"a": 1, "b": 2, "c": 3}`},
		{`{"$or": [{"a": 1}]}`, `{}`},
		{`{"a": {"$in": [1]}}`, `{}`},
		{`{"a": {"$eq": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`},
		{`{"a": 1, "$and": [{"a": 2}]}`, `{"a": 1}`},
		{`{"$comment": "x", "a": {"$ref": "c", "$id": 1}}`, `{"a": {"$ref": "c", "$id": 1}}`},
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			f, err := CompileFilter(qtDoc(t, c.filter))
			require.NoError(t, err)
			got := f.EqualityFields()
			want := map[string]bson.RawValue{}
			elems, _ := qtDoc(t, c.want).Elements()
			for _, e := range elems {
				want[e.Key()] = e.Value()
			}
			require.Equal(t, len(want), len(got), "%v", got)
			for k, v := range want {
				assert.True(t, ValuesEqual(v, got[k]), "%s: %v vs %v", k, v, got[k])
			}
		})
	}
	f, err := CompileFilter(qtDoc(t, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`))
	require.NoError(t, err)
	assert.Empty(t, f.EqualityFields())
}

func TestFilter_EqualityFields_ReturnsCopy(t *testing.T) {
	f, err := CompileFilter(qtDoc(t, `{"a": 1}`))
	require.NoError(t, err)
	m := f.EqualityFields()
	delete(m, "a")
	assert.Len(t, f.EqualityFields(), 1)
}

func TestFilter_Match_ConcurrentUse(t *testing.T) {
	f, err := CompileFilter(qtDoc(t, `{"a": {"$regex": "^x"}, "b": {"$in": [1, 2, 3]}}`))
	require.NoError(t, err)
	doc := qtDoc(t, `{"a": "xy", "b": [5, 3]}`)
	done := make(chan bool)
	for i := 0; i < 8; i++ {
		go func() {
			ok := true
			for j := 0; j < 200; j++ {
				m, err := f.Match(doc)
				ok = ok && m && err == nil
			}
			done <- ok
		}()
	}
	for i := 0; i < 8; i++ {
		assert.True(t, <-done)
	}
}

func TestError_Error_MessageOnly(t *testing.T) {
	e := errBadValue("unknown operator: %s", "$x")
	assert.Equal(t, "unknown operator: $x", e.Error())
	assert.Equal(t, int32(2), e.Code)
	assert.Equal(t, "BadValue", e.Name)
	assert.Equal(t, "Location51108", errLocation(51108, "x").Name)
	assert.Equal(t, "FailedToParse", errFailedToParse("x").Name)
	assert.Equal(t, "TypeMismatch", errTypeMismatch("x").Name)
	assert.Equal(t, "InvalidPipelineOperator", errInvalidPipelineOperator("x").Name)
}

func BenchmarkFilter_Match(b *testing.B) {
	f, err := CompileFilter(qtDoc(b, `{"status": "A", "qty": {"$gte": 10, "$lt": 100}, "tags.name": {"$in": ["red", "blue"]}}`))
	require.NoError(b, err)
	doc := qtDoc(b, `{"_id": 1, "item": "journal", "status": "A", "qty": 25, "size": {"h": 14, "w": 21}, "tags": [{"name": "green"}, {"name": "blue"}]}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ok, _ := f.Match(doc); !ok {
			b.Fatal("no match")
		}
	}
}

func BenchmarkCompareDocuments(b *testing.B) {
	x := qtDoc(b, `{"a": 1, "b": "str", "c": {"d": [1, 2, 3]}, "e": 2.5}`)
	y := qtDoc(b, `{"a": 1, "b": "str", "c": {"d": [1, 2, 3]}, "e": 2.5}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if CompareDocuments(x, y) != 0 {
			b.Fatal("not equal")
		}
	}
}

func ExampleCompileFilter() {
	filter, _ := bson.Marshal(bson.D{
		{Key: "tags", Value: "red"},
		{Key: "qty", Value: bson.D{{Key: "$gte", Value: 10}}},
	})
	f, err := CompileFilter(filter)
	if err != nil {
		fmt.Println(err)
		return
	}
	doc, _ := bson.Marshal(bson.D{
		{Key: "tags", Value: bson.A{"blue", "red"}},
		{Key: "qty", Value: 12.5},
	})
	ok, pos, _ := f.MatchPositional(doc)
	fmt.Println(ok, pos)

	_, err = CompileFilter(bson.Raw(qtMarshal(bson.D{{Key: "qty", Value: bson.D{{Key: "$foo", Value: 1}}}})))
	fmt.Println(err, err.(*Error).Code)
	// Output:
	// true 1
	// unknown operator: $foo 2
}

func qtMarshal(v any) []byte {
	b, err := bson.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
