package materialize

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

// qtSorted sorts the documents (extended JSON) stably by spec and returns
// their "_id" values in order.
func qtSorted(t *testing.T, spec string, docs []string) []string {
	t.Helper()
	s, err := CompileSort(qtDoc(t, spec))
	require.NoError(t, err)
	raws := make([]bson.Raw, len(docs))
	for i, d := range docs {
		raws[i] = qtDoc(t, d)
	}
	sort.SliceStable(raws, func(i, j int) bool { return s.Compare(raws[i], raws[j]) < 0 })
	// Keys/CompareKeys must agree with Compare.
	keyed := make([]bson.Raw, len(docs))
	for i, d := range docs {
		keyed[i] = qtDoc(t, d)
	}
	keys := map[int][]bson.RawValue{}
	idx := make([]int, len(docs))
	for i := range keyed {
		idx[i] = i
		keys[i] = s.Keys(keyed[i])
	}
	sort.SliceStable(idx, func(i, j int) bool { return s.CompareKeys(keys[idx[i]], keys[idx[j]]) < 0 })
	out := make([]string, len(raws))
	for i, r := range raws {
		out[i] = r.Lookup("_id").StringValue()
		assert.Equal(t, out[i], keyed[idx[i]].Lookup("_id").StringValue(), "Keys order differs")
	}
	return out
}

func TestSort_Compare_Basic(t *testing.T) {
	docs := []string{
		`{"_id": "b2", "a": 2}`,
		`{"_id": "s", "a": "x"}`,
		`{"_id": "n", "a": null}`,
		`{"_id": "m"}`,
		`{"_id": "b1", "a": 1.5}`,
		`{"_id": "l", "a": {"$numberLong": "-3"}}`,
		`{"_id": "d", "a": {"$numberDecimal": "1.6"}}`,
		`{"_id": "o", "a": {"x": 1}}`,
		`{"_id": "t", "a": true}`,
	}
	// Missing and null tie, so insertion order decides between them.
	assert.Equal(t, []string{"n", "m", "l", "b1", "d", "b2", "s", "o", "t"}, qtSorted(t, `{"a": 1}`, docs))
	assert.Equal(t, []string{"t", "o", "s", "b2", "d", "b1", "l", "n", "m"}, qtSorted(t, `{"a": -1}`, docs))
}

func TestSort_Compare_Arrays(t *testing.T) {
	// From DOCS-2760: ascending uses the smallest element, descending the
	// largest; an empty array sorts below null and missing.
	docs := []string{
		`{"_id": "missing"}`,
		`{"_id": "one", "a": 1}`,
		`{"_id": "empty", "a": []}`,
		`{"_id": "[1]", "a": [1]}`,
		`{"_id": "[0,1]", "a": [0, 1]}`,
	}
	assert.Equal(t, []string{"empty", "missing", "[0,1]", "one", "[1]"}, qtSorted(t, `{"a": 1}`, docs))
	assert.Equal(t, []string{"one", "[1]", "[0,1]", "missing", "empty"}, qtSorted(t, `{"a": -1}`, docs))

	docs = []string{
		`{"_id": "a", "a": [5, 1, 9]}`,
		`{"_id": "b", "a": [3, 4]}`,
		`{"_id": "c", "a": 2}`,
		`{"_id": "d", "a": [[0], 6]}`,
		`{"_id": "e", "a": ["s", 7]}`,
	}
	assert.Equal(t, []string{"a", "c", "b", "d", "e"}, qtSorted(t, `{"a": 1}`, docs))
	// Descending: [[0], 6] has max [0] (arrays sort above strings and numbers).
	assert.Equal(t, []string{"d", "e", "a", "b", "c"}, qtSorted(t, `{"a": -1}`, docs))
}

func TestSort_Compare_DottedPaths(t *testing.T) {
	docs := []string{
		`{"_id": "x", "a": [{"b": 5}, {"b": 1}]}`,
		`{"_id": "y", "a": {"b": 3}}`,
		`{"_id": "z", "a": [{"c": 1}, {"b": 2}]}`,
		`{"_id": "w", "a": [1, 2]}`,
		`{"_id": "v", "a": 7}`,
	}
	// z has a null key (one element lacks b); w and v have null keys.
	assert.Equal(t, []string{"z", "w", "v", "x", "y"}, qtSorted(t, `{"a.b": 1}`, docs))
	assert.Equal(t, []string{"x", "y", "z", "w", "v"}, qtSorted(t, `{"a.b": -1}`, docs))
	pos := []string{
		`{"_id": "p", "a": [3, 1]}`,
		`{"_id": "q", "a": [2, 9]}`,
		`{"_id": "r", "a": [[0, 5], 1]}`,
		`{"_id": "s", "a": []}`,
	}
	assert.Equal(t, []string{"s", "r", "q", "p"}, qtSorted(t, `{"a.0": 1}`, pos))
	assert.Equal(t, []string{"q", "p", "r"}, qtSorted(t, `{"a.1": -1, "_id": 1}`, pos[:3]))
}

func TestSort_Compare_Compound(t *testing.T) {
	docs := []string{
		`{"_id": "1", "a": 1, "b": 2}`,
		`{"_id": "2", "a": 1, "b": 1}`,
		`{"_id": "3", "a": 0, "b": 9}`,
		`{"_id": "4", "a": 1.0, "b": {"$numberLong": "2"}}`,
	}
	assert.Equal(t, []string{"3", "2", "1", "4"}, qtSorted(t, `{"a": 1, "b": 1}`, docs))
	assert.Equal(t, []string{"1", "4", "2", "3"}, qtSorted(t, `{"a": -1, "b": -1}`, docs))
	assert.Equal(t, []string{"4", "3", "2", "1"}, qtSorted(t, `{"_id": -1}`, docs))
	assert.Equal(t, []string{"1", "2", "3", "4"}, qtSorted(t, `{}`, docs))
}

func TestSort_Compare_DirectionTypes(t *testing.T) {
	for _, spec := range []string{`{"a": 1.0}`, `{"a": {"$numberLong": "1"}}`, `{"a": {"$numberDecimal": "1"}}`, `{"a": 1.5}`} {
		s, err := CompileSort(qtDoc(t, spec))
		require.NoError(t, err, spec)
		assert.Equal(t, -1, s.Compare(qtDoc(t, `{"a": 1}`), qtDoc(t, `{"a": 2}`)), spec)
	}
	s, err := CompileSort(qtDoc(t, `{"a": -1.0}`))
	require.NoError(t, err)
	assert.Equal(t, 1, s.Compare(qtDoc(t, `{"a": 1}`), qtDoc(t, `{"a": 2}`)))
	assert.Equal(t, 1, s.Len())
	empty, err := CompileSort(nil)
	require.NoError(t, err)
	assert.Equal(t, 0, empty.Compare(qtDoc(t, `{"a": 1}`), qtDoc(t, `{"a": 2}`)))
}

func TestSort_Compile_Errors(t *testing.T) {
	cases := []struct {
		spec string
		code int32
		msg  string
	}{
		{`{"a": 0}`, 15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)"},
		{`{"a": 2}`, 15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)"},
		{`{"a": 42.12}`, 15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)"},
		{`{"a": "asc"}`, 15974, `Illegal key in $sort specification: a: "asc"`},
		{`{"a": true}`, 15974, "Illegal key in $sort specification: a: true"},
		{`{"a": null}`, 15974, "Illegal key in $sort specification: a: null"},
		{`{"a": {"$meta": "textScore"}}`, codeNotImplemented, ""},
		{`{"a": {"x": 1}}`, 17312, "$meta is the only expression supported by $sort right now"},
		{`{"$a": 1}`, 16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField."},
		{`{"a.$b": 1}`, 16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField."},
		{`{"": 1}`, 40352, "FieldPath cannot be constructed with empty string"},
		{`{"a.": 1}`, 40353, "FieldPath must not end with a '.'."},
		{`{"a..b": 1}`, 15998, "FieldPath field names may not be empty strings."},
	}
	for _, c := range cases {
		t.Run(c.spec, func(t *testing.T) {
			_, err := CompileSort(qtDoc(t, c.spec))
			qtAssertErr(t, err, c.code, c.msg)
		})
	}
	_, err := CompileSort(bson.Raw{1, 2, 3})
	qtAssertErr(t, err, codeInvalidBSON, "")
	_, err = CompileSort(qtDoc(t, `{"a": {"$meta": "textScore"}}`))
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "$meta"), err.Error())
}

func TestSort_Compare_MalformedDocuments(t *testing.T) {
	s, err := CompileSort(qtDoc(t, `{"a.b": 1, "c": -1}`))
	require.NoError(t, err)
	good := qtDoc(t, `{"a": [{"b": 1}], "c": 2}`)
	for i := 0; i < len(good); i++ {
		assert.NotPanics(t, func() { s.Compare(good[:i], good) })
	}
}

func ExampleCompileSort() {
	s, _ := CompileSort(qtMarshal(bson.D{{Key: "score", Value: -1}}))
	a := qtMarshal(bson.D{{Key: "score", Value: bson.A{1, 9}}})
	b := qtMarshal(bson.D{{Key: "score", Value: 5}})
	// Descending sorts arrays by their largest element: 9 comes before 5.
	fmt.Println(s.Compare(a, b))
	// Output: -1
}
