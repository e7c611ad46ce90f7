package materialize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.mongodb.org/mongo-driver/bson"
)

// qtRender renders LookupPath results compactly: "missing" for a missing
// value, extended JSON otherwise.
func qtRender(vals []bson.RawValue) []string {
	out := []string{}
	for _, v := range vals {
		if v.Type == 0 {
			out = append(out, "missing")
			continue
		}
		out = append(out, valueString(v))
	}
	return out
}

func TestLookupPath_ArrayTraversal(t *testing.T) {
	cases := []struct {
		doc, path string
		want      []string
	}{
		{`{"a": 1}`, "a", []string{"1"}},
		{`{}`, "a", []string{"missing"}},
		{`{"a": null}`, "a", []string{"null"}},
		{`{"a": {"b": 2}}`, "a.b", []string{"2"}},
		{`{"a": {"b": 2}}`, "a.c", []string{"missing"}},
		{`{"a": 5}`, "a.b", []string{"missing"}},
		{`{"a": {"b": {"c": [1]}}}`, "a.b", []string{`{ c: [ 1 ] }`}},
		// A path ending at an array yields the elements, then the array.
		{`{"a": [1, 2]}`, "a", []string{"1", "2", "[ 1, 2 ]"}},
		{`{"a": []}`, "a", []string{"[]"}},
		{`{"a": [[1, 2], 3]}`, "a", []string{"[ 1, 2 ]", "3", "[ [ 1, 2 ], 3 ]"}},
		// Implicit traversal descends into document elements only.
		{`{"a": [{"b": 1}, {"b": 2}]}`, "a.b", []string{"1", "2"}},
		{`{"a": [{"b": 1}, {"c": 2}]}`, "a.b", []string{"1", "missing"}},
		{`{"a": [1, 2]}`, "a.b", []string{}},
		{`{"a": []}`, "a.b", []string{}},
		{`{"a": [[{"b": 1}]]}`, "a.b", []string{}},
		{`{"a": [{"b": [1, 2]}]}`, "a.b", []string{"1", "2", "[ 1, 2 ]"}},
		{`{"a": [{"b": {"c": 1}}, {"b": [{"c": 2}]}]}`, "a.b.c", []string{"1", "2"}},
		// Numeric components index arrays and name fields.
		{`{"a": [10, 20]}`, "a.1", []string{"20"}},
		{`{"a": [10, 20]}`, "a.2", []string{}},
		{`{"a": {"1": "x"}}`, "a.1", []string{`"x"`}},
		{`{"a": [{"0": "field"}, 5]}`, "a.0", []string{`"field"`, `{ 0: "field" }`}},
		// Each document element is also searched for a field named "1",
		// which is missing: the server yields those misses too.
		{`{"a": [{"b": 1}, {"b": 2}]}`, "a.1.b", []string{"missing", "missing", "2"}},
		{`{"a": [[1, 2], [3]]}`, "a.0", []string{"[ 1, 2 ]"}},
		{`{"a": [[{"b": 1}], [{"b": 2}]]}`, "a.1.b", []string{"2"}},
		{`{"a": [[5, 6]]}`, "a.0.1", []string{"6"}},
		{`{"a": [{"b": [7, 8]}]}`, "a.0.b", []string{"missing", "7", "8", "[ 7, 8 ]"}},
		{`{"a": [1]}`, "a.01", []string{}},
		// Odd but legal field names.
		{`{"": 1}`, "", []string{"1"}},
		{`{"a": {"": 2}}`, "a.", []string{"2"}},
		{`{"a.b": 3}`, "a.b", []string{"missing"}},
		// Duplicate names: the first one wins, like BSONObj::getField.
		{`{"a": 1, "a": 2}`, "a", []string{"1"}},
	}
	for _, c := range cases {
		t.Run(c.doc+" "+c.path, func(t *testing.T) {
			assert.Equal(t, c.want, qtRender(LookupPath(qtDoc(t, c.doc), c.path)))
		})
	}
}

func TestWalkPath_Offsets(t *testing.T) {
	doc := qtDoc(t, `{"a": [{"b": [1, 2]}, {"b": 3}]}`)
	var offsets []int
	walkPath(doc, splitPath("a.b"), leafTraverse, func(_ bson.RawValue, off int) bool {
		offsets = append(offsets, off)
		return true
	})
	// The outermost array's index is reported for everything under it.
	assert.Equal(t, []int{0, 0, 0, 1}, offsets)

	offsets = nil
	walkPath(qtDoc(t, `{"a": [4, 5]}`), splitPath("a"), leafTraverse, func(_ bson.RawValue, off int) bool {
		offsets = append(offsets, off)
		return true
	})
	assert.Equal(t, []int{0, 1, -1}, offsets)
}

func TestWalkPath_LeafModes(t *testing.T) {
	doc := qtDoc(t, `{"a": [1, 2]}`)
	count := func(mode leafArrayMode) int {
		n := 0
		walkPath(doc, []string{"a"}, mode, func(bson.RawValue, int) bool { n++; return true })
		return n
	}
	assert.Equal(t, 3, count(leafTraverse))
	assert.Equal(t, 1, count(leafNoTraverse))
	assert.Equal(t, 2, count(leafTraverseOmitArray))
}

func TestWalkPath_StopsEarly(t *testing.T) {
	doc := qtDoc(t, `{"a": [{"b": [1, 2, 3]}, {"b": 4}]}`)
	n := 0
	done := walkPath(doc, splitPath("a.b"), leafTraverse, func(bson.RawValue, int) bool {
		n++
		return n < 2
	})
	assert.False(t, done)
	assert.Equal(t, 2, n)
}

func TestLookupPath_Malformed(t *testing.T) {
	good := qtDoc(t, `{"a": [{"b": 1}, {"b": [2]}]}`)
	for i := 0; i < len(good); i++ {
		assert.NotPanics(t, func() { LookupPath(good[:i], "a.b") })
		assert.NotPanics(t, func() { LookupPath(bson.Raw(append(append([]byte{}, good[:i]...), 3, 0xff)), "a.0.b") })
	}
}
