package materialize

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func ixDoc(t testing.TB, d bson.D) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(d)
	require.NoError(t, err)
	return b
}

func ixSpec(t testing.TB, name string, key bson.D, opts ...bson.E) bson.Raw {
	d := bson.D{{Key: "v", Value: 2}, {Key: "key", Value: key}, {Key: "name", Value: name}}
	return ixDoc(t, append(d, opts...))
}

// ixState applies ops to the empty state, one record each.
func ixState(t testing.TB, ops ...wal.Op) *State {
	t.Helper()
	st := NewState()
	for i, op := range ops {
		op.DB, op.Coll = "db", "c"
		next, err := st.Apply(&wal.Record{LSN: wal.LSN(i + 1), Ops: []wal.Op{op}})
		require.NoError(t, err)
		st = next
	}
	return st
}

func ixInsert(doc bson.Raw) wal.Op {
	return wal.Op{Kind: wal.OpInsert, ID: doc.Lookup("_id"), Doc: doc}
}

func keyStrings(keys [][]bson.RawValue) []string {
	var out []string
	for _, k := range keys {
		s := ""
		for i, v := range k {
			if i > 0 {
				s += ","
			}
			s += valueString(v)
		}
		out = append(out, s)
	}
	return out
}

func TestIndexDef_Keys_Table(t *testing.T) {
	tests := []struct {
		name    string
		key     bson.D
		opts    []bson.E
		doc     bson.D
		want    []string
		skipped bool
		code    int32
	}{
		{"scalar", bson.D{{Key: "a", Value: 1}}, nil, bson.D{{Key: "a", Value: 5}}, []string{"5"}, false, 0},
		{"missing is null", bson.D{{Key: "a", Value: 1}}, nil, bson.D{{Key: "b", Value: 5}}, []string{"null"}, false, 0},
		{"array elements, deduped", bson.D{{Key: "a", Value: 1}}, nil, bson.D{{Key: "a", Value: bson.A{2, 1, 2.0}}}, []string{"1", "2"}, false, 0},
		{"empty array is undefined", bson.D{{Key: "a", Value: 1}}, nil, bson.D{{Key: "a", Value: bson.A{}}}, []string{"undefined"}, false, 0},
		{"nested array kept whole", bson.D{{Key: "a", Value: 1}}, nil, bson.D{{Key: "a", Value: bson.A{bson.A{1}}}}, []string{"[ 1 ]"}, false, 0},
		{"dotted through array", bson.D{{Key: "a.b", Value: 1}}, nil, bson.D{{Key: "a", Value: bson.A{bson.D{{Key: "b", Value: 1}}, bson.D{{Key: "c", Value: 1}}, 7}}}, []string{"null", "1"}, false, 0},
		{"positional component", bson.D{{Key: "a.1", Value: 1}}, nil, bson.D{{Key: "a", Value: bson.A{5, 6}}}, []string{"6"}, false, 0},
		{"compound with one array", bson.D{{Key: "a", Value: 1}, {Key: "b", Value: -1}}, nil, bson.D{{Key: "a", Value: bson.A{1, 2}}, {Key: "b", Value: "x"}}, []string{`1,"x"`, `2,"x"`}, false, 0},
		{"parallel arrays", bson.D{{Key: "a", Value: 1}, {Key: "b", Value: 1}}, nil, bson.D{{Key: "a", Value: bson.A{1}}, {Key: "b", Value: bson.A{2}}}, nil, false, 171},
		{"sparse skips missing", bson.D{{Key: "a", Value: 1}}, []bson.E{{Key: "sparse", Value: true}}, bson.D{{Key: "b", Value: 1}}, nil, true, 0},
		{"sparse keeps null", bson.D{{Key: "a", Value: 1}}, []bson.E{{Key: "sparse", Value: true}}, bson.D{{Key: "a", Value: nil}}, []string{"null"}, false, 0},
		{"sparse compound keeps partial", bson.D{{Key: "a", Value: 1}, {Key: "b", Value: 1}}, []bson.E{{Key: "sparse", Value: true}}, bson.D{{Key: "b", Value: 1}}, []string{"null,1"}, false, 0},
		{"partial skips", bson.D{{Key: "a", Value: 1}}, []bson.E{{Key: "partialFilterExpression", Value: bson.D{{Key: "a", Value: bson.D{{Key: "$gt", Value: 5}}}}}}, bson.D{{Key: "a", Value: 1}}, nil, true, 0},
		{"partial keeps", bson.D{{Key: "a", Value: 1}}, []bson.E{{Key: "partialFilterExpression", Value: bson.D{{Key: "a", Value: bson.D{{Key: "$gt", Value: 5}}}}}}, bson.D{{Key: "a", Value: 6}}, []string{"6"}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			def, err := ParseIndexSpec(ixSpec(t, "ix", tc.key, tc.opts...))
			require.NoError(t, err)
			keys, indexed, err := def.Keys(ixDoc(t, tc.doc))
			if tc.code != 0 {
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tc.code, e.Code)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, !tc.skipped, indexed)
			assert.Equal(t, tc.want, keyStrings(keys))
		})
	}
}

func TestParseIndexSpec_Errors(t *testing.T) {
	tests := []struct {
		name string
		spec bson.D
		code int32
	}{
		{"no key", bson.D{{Key: "name", Value: "x"}}, 9},
		{"no name", bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: 1}}}}, 9},
		{"empty key", bson.D{{Key: "key", Value: bson.D{}}, {Key: "name", Value: "x"}}, 67},
		{"zero direction", bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: 0}}}, {Key: "name", Value: "x"}}, 67},
		{"bool direction", bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: true}}}, {Key: "name", Value: "x"}}, 67},
		{"unknown plugin", bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: "nope"}}}, {Key: "name", Value: "x"}}, 67},
		{"text", bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: "text"}}}, {Key: "name", Value: "x"}}, 238},
		{"dollar field", bson.D{{Key: "key", Value: bson.D{{Key: "$a", Value: 1}}}, {Key: "name", Value: "x"}}, 67},
		{"unknown option", bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: 1}}}, {Key: "name", Value: "x"}, {Key: "bogus", Value: 1}}, 197},
		{"sparse and partial", bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: 1}}}, {Key: "name", Value: "x"}, {Key: "sparse", Value: true}, {Key: "partialFilterExpression", Value: bson.D{{Key: "a", Value: 1}}}}, 67},
		{"compound TTL", bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: 1}, {Key: "b", Value: 1}}}, {Key: "name", Value: "x"}, {Key: "expireAfterSeconds", Value: 5}}, 67},
		{"star name", bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: 1}}}, {Key: "name", Value: "*"}}, 2},
		{"unique _id_", bson.D{{Key: "key", Value: bson.D{{Key: "_id", Value: 1}}}, {Key: "name", Value: "_id_"}, {Key: "unique", Value: true}}, 197},
		{"bad partial filter", bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: 1}}}, {Key: "name", Value: "x"}, {Key: "partialFilterExpression", Value: bson.D{{Key: "a", Value: bson.D{{Key: "$foo", Value: 1}}}}}}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseIndexSpec(ixDoc(t, tc.spec))
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.code, e.Code, e.Message)
		})
	}
}

func TestCollection_CheckDocument_Unique(t *testing.T) {
	ns := Namespace{DB: "db", Coll: "c"}
	st := ixState(t,
		wal.Op{Kind: wal.OpCreateIndex, Name: "a_1", Doc: ixSpec(t, "a_1", bson.D{{Key: "a", Value: 1}}, bson.E{Key: "unique", Value: true})},
		ixInsert(ixDoc(t, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: "x"}})),
	)
	c := st.Collection(ns)
	err := c.CheckDocument(ns, ixDoc(t, bson.D{{Key: "_id", Value: 2}, {Key: "a", Value: "x"}}))
	var dk *DuplicateKey
	require.ErrorAs(t, err, &dk)
	assert.Equal(t, `{"a": {"$numberInt":"1"}}`, dk.KeyPattern.String())
	assert.Equal(t, `{"a": "x"}`, dk.KeyValue.String())
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, int32(11000), e.Code)
	assert.Equal(t, "DuplicateKey", e.Name)
	assert.Equal(t, `E11000 duplicate key error collection: db.c index: a_1 dup key: { a: "x" }`, e.Message)
	assert.NoError(t, c.CheckDocument(ns, ixDoc(t, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: "x"}, {Key: "b", Value: 1}})), "a document's own key")
	assert.NoError(t, c.CheckDocument(ns, ixDoc(t, bson.D{{Key: "_id", Value: 2}, {Key: "a", Value: "y"}})))
	var nilColl *Collection
	assert.NoError(t, nilColl.CheckDocument(ns, ixDoc(t, bson.D{{Key: "_id", Value: 2}})))

	assert.Equal(t, "E11000 duplicate key error collection: db.c index: _id_ dup key: { _id: ObjectId('000000000000000000000000') }",
		DuplicateIDError(ns, bson.RawValue{Type: bson.TypeObjectID, Value: make([]byte, 12)}).Error())
}

func TestCollection_IndexTrees_FollowWrites(t *testing.T) {
	ns := Namespace{DB: "db", Coll: "c"}
	d1 := ixDoc(t, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: 1}})
	d1b := ixDoc(t, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: 2}})
	st := ixState(t,
		ixInsert(d1),
		wal.Op{Kind: wal.OpCreateIndex, Name: "a_1", Doc: ixSpec(t, "a_1", bson.D{{Key: "a", Value: 1}}, bson.E{Key: "unique", Value: true})},
	)
	before := st
	next, err := st.Apply(&wal.Record{LSN: 9, Ops: []wal.Op{{Kind: wal.OpUpdate, DB: "db", Coll: "c", ID: d1.Lookup("_id"), Before: d1, Doc: d1b}}})
	require.NoError(t, err)
	probe := ixDoc(t, bson.D{{Key: "_id", Value: 5}, {Key: "a", Value: 1}})
	assert.Error(t, before.Collection(ns).CheckDocument(ns, probe), "the old snapshot still has key 1")
	assert.NoError(t, next.Collection(ns).CheckDocument(ns, probe), "the update freed key 1")
	assert.Error(t, next.Collection(ns).CheckDocument(ns, ixDoc(t, bson.D{{Key: "_id", Value: 5}, {Key: "a", Value: 2}})))

	dropped, err := next.Apply(&wal.Record{LSN: 10, Ops: []wal.Op{{Kind: wal.OpDropIndex, DB: "db", Coll: "c", Name: "a_1"}}})
	require.NoError(t, err)
	assert.NoError(t, dropped.Collection(ns).CheckDocument(ns, ixDoc(t, bson.D{{Key: "_id", Value: 5}, {Key: "a", Value: 2}})))
	assert.Empty(t, dropped.Collection(ns).IndexDefs())

	deleted, err := next.Apply(&wal.Record{LSN: 11, Ops: []wal.Op{{Kind: wal.OpDelete, DB: "db", Coll: "c", ID: d1.Lookup("_id"), Before: d1b}}})
	require.NoError(t, err)
	assert.NoError(t, deleted.Collection(ns).CheckDocument(ns, ixDoc(t, bson.D{{Key: "_id", Value: 5}, {Key: "a", Value: 2}})))
}

func TestCollection_CheckNewIndex_Conflicts(t *testing.T) {
	ns := Namespace{DB: "db", Coll: "c"}
	st := ixState(t,
		ixInsert(ixDoc(t, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: 1}})),
		ixInsert(ixDoc(t, bson.D{{Key: "_id", Value: 2}, {Key: "a", Value: 1}})),
		wal.Op{Kind: wal.OpCreateIndex, Name: "a_1", Doc: ixSpec(t, "a_1", bson.D{{Key: "a", Value: 1}})},
	)
	c := st.Collection(ns)
	parse := func(spec bson.Raw) *IndexDef {
		d, err := ParseIndexSpec(spec)
		require.NoError(t, err)
		return d
	}
	exists, err := c.CheckNewIndex(ns, parse(ixSpec(t, "a_1", bson.D{{Key: "a", Value: 1}})))
	assert.NoError(t, err)
	assert.True(t, exists)
	exists, err = c.CheckNewIndex(ns, parse(ixSpec(t, "_id_", bson.D{{Key: "_id", Value: 1}})))
	assert.NoError(t, err)
	assert.True(t, exists)

	codeOf := func(err error) int32 {
		var e *Error
		require.ErrorAs(t, err, &e)
		return e.Code
	}
	_, err = c.CheckNewIndex(ns, parse(ixSpec(t, "a_1", bson.D{{Key: "b", Value: 1}})))
	assert.Equal(t, int32(86), codeOf(err))
	_, err = c.CheckNewIndex(ns, parse(ixSpec(t, "a_1", bson.D{{Key: "a", Value: 1}}, bson.E{Key: "sparse", Value: true})))
	assert.Equal(t, int32(85), codeOf(err))
	_, err = c.CheckNewIndex(ns, parse(ixSpec(t, "x", bson.D{{Key: "a", Value: 1}})))
	assert.Equal(t, int32(85), codeOf(err))
	_, err = c.CheckNewIndex(ns, parse(ixSpec(t, "u", bson.D{{Key: "a", Value: -1}}, bson.E{Key: "unique", Value: true})))
	assert.Equal(t, int32(11000), codeOf(err))
	exists, err = c.CheckNewIndex(ns, parse(ixSpec(t, "p", bson.D{{Key: "a", Value: 1}}, bson.E{Key: "partialFilterExpression", Value: bson.D{{Key: "z", Value: 1}}})))
	assert.NoError(t, err, "another partial filter is another index")
	assert.False(t, exists)
}

// TestCollection_Candidates_AgreeWithScan checks, on random documents and
// filters with a deterministic seed, that index lookups return exactly the
// documents a scan returns, in the same order.
func TestCollection_Candidates_AgreeWithScan(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	values := []interface{}{1, int64(1), 1.0, 2, "x", "y", nil, bson.A{1, 2}, bson.A{}, bson.A{bson.A{1}}, bson.D{{Key: "b", Value: 1}},
		bson.A{bson.D{{Key: "b", Value: 1}}, bson.D{{Key: "b", Value: "x"}}}, bson.D{{Key: "b", Value: bson.A{2, "y"}}}}
	ops := []wal.Op{
		{Kind: wal.OpCreateIndex, Name: "a_1", Doc: ixSpec(t, "a_1", bson.D{{Key: "a", Value: 1}})},
		{Kind: wal.OpCreateIndex, Name: "a.b_1_c_1", Doc: ixSpec(t, "a.b_1_c_1", bson.D{{Key: "a.b", Value: 1}, {Key: "c", Value: 1}})},
	}
	for i := 0; i < 300; i++ {
		d := bson.D{{Key: "_id", Value: i}}
		if rng.Intn(5) > 0 {
			d = append(d, bson.E{Key: "a", Value: values[rng.Intn(len(values))]})
		}
		d = append(d, bson.E{Key: "c", Value: rng.Intn(3)})
		ops = append(ops, ixInsert(ixDoc(t, d)))
	}
	st := ixState(t, ops...)
	c := st.Collection(Namespace{DB: "db", Coll: "c"})
	used := 0
	for _, field := range []string{"a", "a.b", "_id"} {
		for _, v := range append(values, 7, 150, 1.5) {
			for _, form := range []string{"plain", "eq", "and"} {
				var filter bson.D
				switch form {
				case "plain":
					filter = bson.D{{Key: field, Value: v}}
				case "eq":
					filter = bson.D{{Key: field, Value: bson.D{{Key: "$eq", Value: v}}}}
				case "and":
					filter = bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: field, Value: v}}, bson.D{{Key: "c", Value: bson.D{{Key: "$gte", Value: 1}}}}}}}
				}
				f, err := CompileFilter(ixDoc(t, filter))
				require.NoError(t, err)
				var want []bson.Raw
				c.Scan(func(doc bson.Raw) bool {
					ok, err := f.Match(doc)
					require.NoError(t, err)
					if ok {
						want = append(want, doc)
					}
					return true
				})
				cands, ok := c.Candidates(f)
				if !ok {
					continue
				}
				used++
				var got []bson.Raw
				for _, doc := range cands {
					if m, _ := f.Match(doc); m {
						got = append(got, doc)
					}
				}
				assert.Equal(t, want, got, fmt.Sprintf("filter %v", filter))
			}
		}
	}
	assert.Greater(t, used, 50, "the indexes answered most equality filters")
}

func TestDistinctValues_Table(t *testing.T) {
	doc := ixDoc(t, bson.D{{Key: "a", Value: bson.A{1, bson.A{2}, bson.D{{Key: "b", Value: bson.A{3, 4}}}}}, {Key: "s", Value: "x"}})
	vals := func(path string) []string {
		var out []string
		for _, v := range DistinctValues(doc, path) {
			out = append(out, valueString(v))
		}
		return out
	}
	assert.Equal(t, []string{"1", "[ 2 ]", "{ b: [ 3, 4 ] }"}, vals("a"))
	assert.Equal(t, []string{"3", "4"}, vals("a.b"))
	assert.Equal(t, []string{`"x"`}, vals("s"))
	assert.Empty(t, vals("nope"))
}

// TestIxEntry_OrderMatchesCompareKeys checks that the compact index
// entries order one- and multi-field keys as CompareKeys does, that a
// prefix probe sorts before (-1) or after (1) every key it prefixes, and
// that equal keys are ordered by _id.
func TestIxEntry_OrderMatchesCompareKeys(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	pool := []interface{}{nil, 1, int64(2), 2.5, "a", "ab", "", bson.D{{Key: "x", Value: 1}}, bson.A{1}, true, false, primitive.Binary{Data: []byte{1}}}
	val := func() bson.RawValue {
		raw := ixDoc(t, bson.D{{Key: "v", Value: pool[rng.Intn(len(pool))]}})
		return raw.Lookup("v")
	}
	for _, fields := range []int{1, 2, 3} {
		for i := 0; i < 2000; i++ {
			a, b := make([]bson.RawValue, fields), make([]bson.RawValue, fields)
			for j := range a {
				a[j], b[j] = val(), val()
			}
			ida, idb := &Doc{ID: val()}, &Doc{ID: val()}
			ea, eb := newEntry(a, ida, 0), newEntry(b, idb, 0)
			want := CompareKeys(a, b)
			if want == 0 {
				want = CompareValues(ida.ID, idb.ID)
			}
			require.Equal(t, want < 0, lessEntry(ea, eb), "keys %v %v", keyStrings([][]bson.RawValue{a}), keyStrings([][]bson.RawValue{b}))
			require.Equal(t, want > 0, lessEntry(eb, ea))
			for n := 1; n <= fields; n++ {
				lo, hi := newEntry(a[:n], nil, -1), newEntry(a[:n], nil, 1)
				require.True(t, lessEntry(lo, ea))
				require.False(t, lessEntry(ea, lo))
				require.True(t, lessEntry(ea, hi))
				require.False(t, lessEntry(hi, ea))
			}
		}
	}
}
