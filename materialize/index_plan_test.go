package materialize

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

// plScalar is a random scalar for the never-multikey fields n and s.
func plScalar(r *rand.Rand) interface{} {
	switch r.Intn(8) {
	case 0:
		return nil
	case 1:
		return []string{"", "a", "b", "ab"}[r.Intn(4)]
	case 2:
		return float64(r.Intn(9)) - 3.5
	case 3:
		return int64(r.Intn(9) - 4)
	}
	return int32(r.Intn(9) - 4)
}

// plDoc is rqDoc with n (scalar, sometimes missing) and s (0-3).
func plDoc(r *rand.Rand, id int) bson.D {
	d := rqDoc(r, id)
	if r.Intn(8) > 0 {
		d = append(d, bson.E{Key: "n", Value: plScalar(r)})
	}
	return append(d, bson.E{Key: "s", Value: int32(r.Intn(4))})
}

// plConj returns 1 to 3 random conditions an index may answer, sometimes
// with one it may not.
func plConj(r *rand.Rand) bson.D {
	paths := []string{"a", "n", "s", "c", "_id", "x.b"}
	var out bson.D
	for i := r.Intn(3); i >= 0; i-- {
		path := paths[r.Intn(len(paths))]
		val := func() interface{} {
			if path == "n" || path == "s" || r.Intn(2) == 0 {
				return plScalar(r)
			}
			return rqValue(r, 1)
		}
		var cond interface{}
		switch r.Intn(7) {
		case 0:
			cond = val()
		case 1:
			cond = bson.D{{Key: "$in", Value: bson.A{val(), val()}}}
		case 2:
			cond = bson.D{{Key: []string{"$gt", "$gte"}[r.Intn(2)], Value: val()}, {Key: []string{"$lt", "$lte"}[r.Intn(2)], Value: val()}}
		case 3:
			cond = bson.D{{Key: "$exists", Value: r.Intn(2) == 0}}
		default:
			cond = bson.D{{Key: []string{"$gt", "$gte", "$lt", "$lte", "$eq"}[r.Intn(5)], Value: val()}}
		}
		out = append(out, bson.E{Key: path, Value: cond})
	}
	return out
}

// plFilter returns a random filter: a conjunction, possibly with an $or
// (of conjunctions) or inside an $and.
func plFilter(r *rand.Rand) bson.D {
	f := plConj(r)
	switch r.Intn(5) {
	case 0, 1:
		branches := bson.A{}
		for i := r.Intn(3) + 1; i > 0; i-- {
			branches = append(branches, plConj(r))
		}
		if r.Intn(2) == 0 {
			f = bson.D{{Key: "$or", Value: branches}}
		} else {
			f = append(f, bson.E{Key: "$or", Value: branches})
		}
	case 2:
		f = bson.D{{Key: "$and", Value: bson.A{f, plConj(r)}}}
	}
	return f
}

// plState builds a collection of random documents with indexes of every
// shape (multikey, never multikey, compound, sparse), some documents written
// before the indexes and some updated or deleted after.
func plState(t *testing.T, r *rand.Rand, docs int) *Collection {
	var ops []wal.Op
	for i := 0; i < docs/2; i++ {
		ops = append(ops, ixInsert(ixDoc(t, plDoc(r, i))))
	}
	for _, ix := range []struct {
		name string
		key  bson.D
		opt  []bson.E
	}{
		{"a_1", bson.D{{Key: "a", Value: 1}}, nil},
		{"n_1", bson.D{{Key: "n", Value: 1}}, nil},
		{"s_1_n_-1", bson.D{{Key: "s", Value: 1}, {Key: "n", Value: -1}}, nil},
		{"c_1_a_1", bson.D{{Key: "c", Value: 1}, {Key: "a", Value: 1}}, nil},
		{"x.b_1", bson.D{{Key: "x.b", Value: 1}}, []bson.E{{Key: "sparse", Value: true}}},
		{"c_-1", bson.D{{Key: "c", Value: -1}}, []bson.E{{Key: "hidden", Value: true}}},
	} {
		ops = append(ops, wal.Op{Kind: wal.OpCreateIndex, Name: ix.name, Doc: ixSpec(t, ix.name, ix.key, ix.opt...)})
	}
	for i := docs / 2; i < docs; i++ {
		ops = append(ops, ixInsert(ixDoc(t, plDoc(r, i))))
	}
	st := NewState()
	ns := Namespace{"db", "c"}
	apply := func(op wal.Op) error {
		op.DB, op.Coll = ns.DB, ns.Coll
		next, err := st.Apply(&wal.Record{LSN: st.LSN() + 1, Ops: []wal.Op{op}})
		if err == nil {
			st = next
		}
		return err
	}
	for _, op := range ops {
		if op.Kind == wal.OpCreateIndex {
			if _, err := st.Collection(ns).CheckNewIndex(ns, mustParseIndex(t, op.Doc)); err != nil {
				continue // c_1_a_1 may meet parallel arrays
			}
		} else if c := st.Collection(ns); c != nil {
			if _, dup := c.Get(op.ID); dup || c.CheckDocument(ns, op.Doc) != nil {
				continue
			}
		}
		require.NoError(t, apply(op))
	}
	for i := 0; i < docs/4; i++ {
		c := st.Collection(ns)
		id := c.bySeq.Len()
		var victim bson.Raw
		c.Scan(func(d bson.Raw) bool {
			if r.Intn(id/4+1) == 0 {
				victim = d
				return false
			}
			return true
		})
		if victim == nil {
			continue
		}
		if r.Intn(2) == 0 {
			require.NoError(t, apply(wal.Op{Kind: wal.OpDelete, ID: victim.Lookup("_id"), Before: victim}))
			continue
		}
		d := plDoc(r, 0)
		d[0].Value = victim.Lookup("_id")
		doc := ixDoc(t, d)
		if c.CheckDocument(ns, doc) == nil {
			require.NoError(t, apply(wal.Op{Kind: wal.OpUpdate, ID: victim.Lookup("_id"), Before: victim, Doc: doc}))
		}
	}
	return st.Collection(ns)
}

func mustParseIndex(t *testing.T, spec bson.Raw) *IndexDef {
	d, err := ParseIndexSpec(spec)
	require.NoError(t, err)
	return d
}

// plScan returns the documents of c matching f, in natural order.
func plScan(t *testing.T, c *Collection, f *Filter) []bson.Raw {
	var out []bson.Raw
	c.Scan(func(d bson.Raw) bool {
		ok, err := f.Match(d)
		require.NoError(t, err)
		if ok {
			out = append(out, d)
		}
		return true
	})
	return out
}

// TestPlan_AgreesWithScan is a differential test on random documents and
// random filters: whenever the planner uses indexes (two-sided ranges,
// compound prefixes, $or unions, the cheapest of several), matching its
// candidates gives exactly what matching every document gives, in the same
// order.
func TestPlan_AgreesWithScan(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	c := plState(t, r, 400)
	used := map[string]int{}
	for i := 0; i < 4000; i++ {
		fd := plFilter(r)
		f, err := CompileFilter(ixDoc(t, fd))
		if err != nil {
			continue
		}
		want := plScan(t, c, f)
		cands, ok := c.Candidates(f)
		if !ok {
			continue
		}
		switch {
		case len(f.preds.ors) > 0:
			used["or"]++
		default:
			used["and"]++
		}
		var got []bson.Raw
		for _, d := range cands {
			if m, _ := f.Match(d); m {
				got = append(got, d)
			}
		}
		require.Equal(t, want, got, "filter %v", fd)
	}
	t.Logf("plans used: %v", used)
	assert.Greater(t, used["or"], 300)
	assert.Greater(t, used["and"], 1000)
}

// TestPlan_SortAgreesWithScan compares index-ordered results with a scan,
// a stable sort and a limit, for random filters, sorts and limits.
func TestPlan_SortAgreesWithScan(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	c := plState(t, r, 400)
	sorts := []bson.D{
		{{Key: "n", Value: 1}}, {{Key: "n", Value: -1}}, {{Key: "_id", Value: 1}}, {{Key: "_id", Value: -1}},
		{{Key: "s", Value: 1}, {Key: "n", Value: 1}}, {{Key: "s", Value: -1}, {Key: "n", Value: -1}},
		{{Key: "s", Value: 1}, {Key: "n", Value: -1}}, {{Key: "a", Value: 1}}, {{Key: "x.b", Value: 1}},
	}
	used := 0
	for i := 0; i < 3000; i++ {
		fd := plFilter(r)
		if r.Intn(3) == 0 {
			fd = bson.D{{Key: "s", Value: int32(r.Intn(4))}, {Key: "n", Value: bson.D{{Key: "$gte", Value: plScalar(r)}}}}
		}
		f, err := CompileFilter(ixDoc(t, fd))
		if err != nil {
			continue
		}
		sd := sorts[r.Intn(len(sorts))]
		s, err := CompileSort(ixDoc(t, sd))
		require.NoError(t, err)
		limit := r.Intn(15) + 1
		got, _, ok, err := c.sortedMatches(f, s, limit, PlanOptions{})
		require.NoError(t, err)
		if !ok {
			continue
		}
		used++
		want := plScan(t, c, f)
		slices.SortStableFunc(want, s.Compare)
		if len(want) > limit {
			want = want[:limit]
		}
		if len(want) == 0 {
			want = []bson.Raw{}
		}
		require.Equal(t, want, got, "filter %v sort %v limit %d", fd, sd, limit)
	}
	assert.Greater(t, used, 500)
}

// TestPlan_ExaminesFewDocuments counts index entries walked and documents
// examined, so "does not scan the collection" is checked, not timed.
func TestPlan_ExaminesFewDocuments(t *testing.T) {
	const docs = 5000
	ops := []wal.Op{
		{Kind: wal.OpCreateIndex, Name: "n_1", Doc: ixSpec(t, "n_1", bson.D{{Key: "n", Value: 1}})},
		{Kind: wal.OpCreateIndex, Name: "s_1_n_1", Doc: ixSpec(t, "s_1_n_1", bson.D{{Key: "s", Value: 1}, {Key: "n", Value: 1}})},
		{Kind: wal.OpCreateIndex, Name: "a_1", Doc: ixSpec(t, "a_1", bson.D{{Key: "a", Value: 1}})},
	}
	for i := 0; i < docs; i++ {
		ops = append(ops, ixInsert(ixDoc(t, bson.D{{Key: "_id", Value: i}, {Key: "n", Value: i}, {Key: "s", Value: i % 50},
			{Key: "t", Value: fmt.Sprint("s", i)}, {Key: "a", Value: bson.A{i, i + 1}}})))
	}
	st := NewState()
	for i, op := range ops {
		op.DB, op.Coll = "db", "c"
		next, err := st.Apply(&wal.Record{LSN: wal.LSN(i + 1), Ops: []wal.Op{op}})
		require.NoError(t, err)
		st = next
	}
	c := st.Collection(Namespace{"db", "c"})
	filters := []struct {
		name    string
		filter  bson.D
		walked  int // index entries the plan walks
		matches int
	}{
		{"TwoSided", bson.D{{Key: "n", Value: bson.D{{Key: "$gt", Value: 100}, {Key: "$lte", Value: 110}}}}, 10, 10},
		{"TwoSidedDecimalBounds", bson.D{{Key: "n", Value: bson.D{{Key: "$gte", Value: 99.5}, {Key: "$lt", Value: int64(103)}}}}, 3, 3},
		{"CompoundEqualityThenRange", bson.D{{Key: "s", Value: 7}, {Key: "n", Value: bson.D{{Key: "$gte", Value: 1000}, {Key: "$lt", Value: 1500}}}}, 10, 10},
		{"CompoundIn", bson.D{{Key: "s", Value: bson.D{{Key: "$in", Value: bson.A{1, 2}}}}}, 200, 200},
		{"Or", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "n", Value: 5}}, bson.D{{Key: "s", Value: 3}, {Key: "n", Value: 53}}, bson.D{{Key: "_id", Value: 4000}}}}}, 3, 3},
		{"OrOverlapping", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "n", Value: bson.D{{Key: "$lt", Value: 5}}}}, bson.D{{Key: "n", Value: bson.D{{Key: "$lt", Value: 3}}}}}}}, 8, 5},
		{"AndPicksMostSelective", bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "n", Value: bson.D{{Key: "$gte", Value: 0}}}}, bson.D{{Key: "s", Value: 9}}}}}, 100, 100},
		{"IDRange", bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: 10}, {Key: "$lt", Value: 20}}}}, 10, 10},
		{"MultikeyEquality", bson.D{{Key: "a", Value: 77}}, 2, 2},
	}
	for _, tc := range filters {
		t.Run(tc.name, func(t *testing.T) {
			f, err := CompileFilter(ixDoc(t, tc.filter))
			require.NoError(t, err)
			found, walked, ok := c.candidates(f, PlanOptions{})
			require.True(t, ok)
			assert.Equal(t, tc.walked, walked)
			n := 0
			for _, d := range found {
				if m, _ := f.Match(d.Raw); m {
					n++
				}
			}
			assert.Equal(t, tc.matches, n)
			assert.Len(t, plScan(t, c, f), n)
		})
	}
	sorts := []struct {
		name     string
		filter   bson.D
		sort     bson.D
		limit    int
		examined int
		first    int // n of the first result
	}{
		{"Ascending", bson.D{}, bson.D{{Key: "n", Value: 1}}, 5, 5, 0},
		{"Descending", bson.D{}, bson.D{{Key: "n", Value: -1}}, 5, 5, docs - 1},
		{"RangeOnSortField", bson.D{{Key: "n", Value: bson.D{{Key: "$gte", Value: 4000}}}}, bson.D{{Key: "n", Value: 1}}, 5, 5, 4000},
		{"RangeOnSortFieldDescending", bson.D{{Key: "n", Value: bson.D{{Key: "$lt", Value: 4000}}}}, bson.D{{Key: "n", Value: -1}}, 5, 5, 3999},
		{"EqualityPrefix", bson.D{{Key: "s", Value: 7}}, bson.D{{Key: "n", Value: 1}}, 3, 3, 7},
		{"CompoundSort", bson.D{}, bson.D{{Key: "s", Value: -1}, {Key: "n", Value: -1}}, 2, 2, 4999},
		{"ByID", bson.D{}, bson.D{{Key: "_id", Value: -1}}, 2, 2, docs - 1},
		{"OtherFieldFilter", bson.D{{Key: "t", Value: "s4"}}, bson.D{{Key: "n", Value: 1}}, 1, 5, 4},
	}
	for _, tc := range sorts {
		t.Run("Sort"+tc.name, func(t *testing.T) {
			f, err := CompileFilter(ixDoc(t, tc.filter))
			require.NoError(t, err)
			s, err := CompileSort(ixDoc(t, tc.sort))
			require.NoError(t, err)
			got, examined, ok, err := c.sortedMatches(f, s, tc.limit, PlanOptions{})
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, tc.examined, examined)
			require.NotEmpty(t, got)
			assert.Equal(t, int32(tc.first), got[0].Lookup("n").Int32())
		})
	}
	// A hidden index is not used.
	hidden := ixState(t,
		wal.Op{Kind: wal.OpCreateIndex, Name: "h_1", Doc: ixSpec(t, "h_1", bson.D{{Key: "h", Value: 1}}, bson.E{Key: "hidden", Value: true})},
		ixInsert(ixDoc(t, bson.D{{Key: "_id", Value: 1}, {Key: "h", Value: 1}}))).Collection(Namespace{"db", "c"})
	hf, _ := CompileFilter(ixDoc(t, bson.D{{Key: "h", Value: 1}}))
	_, ok := hidden.Candidates(hf)
	assert.False(t, ok, "a hidden index answered a query")
	// A multikey index does not serve sorts.
	s, _ := CompileSort(ixDoc(t, bson.D{{Key: "a", Value: 1}}))
	f, _ := CompileFilter(nil)
	_, _, ok, _ = c.sortedMatches(f, s, 3, PlanOptions{})
	assert.False(t, ok)
}

// TestPlan_CollationHook checks that an index whose collation differs from
// the query's answers no string bound and serves no sort, and still answers
// numeric bounds.
func TestPlan_CollationHook(t *testing.T) {
	ops := []wal.Op{{Kind: wal.OpCreateIndex, Name: "n_1", Doc: ixSpec(t, "n_1", bson.D{{Key: "n", Value: 1}})}}
	for i, v := range []interface{}{"a", "B", 3, "b"} {
		ops = append(ops, ixInsert(ixDoc(t, bson.D{{Key: "_id", Value: i}, {Key: "n", Value: v}})))
	}
	c := ixState(t, ops...).Collection(Namespace{"db", "c"})
	never := PlanOptions{CollationCompatible: func(*IndexDef) bool { return false }}
	for _, tc := range []struct {
		filter bson.D
		ok     bool
	}{
		{bson.D{{Key: "n", Value: "b"}}, false},
		{bson.D{{Key: "n", Value: bson.D{{Key: "$gte", Value: "a"}}}}, false},
		{bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{"x"}}}}}, false},
		{bson.D{{Key: "n", Value: 3}}, true},
		{bson.D{{Key: "_id", Value: 2}}, true},
	} {
		f, err := CompileFilter(ixDoc(t, tc.filter))
		require.NoError(t, err)
		_, ok := c.CandidatesWith(f, never)
		assert.Equal(t, tc.ok, ok, "%v", tc.filter)
		_, ok = c.CandidatesWith(f, PlanOptions{})
		assert.True(t, ok, "%v with the simple collation", tc.filter)
	}
	f, _ := CompileFilter(nil)
	s, _ := CompileSort(ixDoc(t, bson.D{{Key: "n", Value: 1}}))
	_, ok, _ := c.SortedMatches(f, s, 2, never)
	assert.False(t, ok)
	_, ok, _ = c.SortedMatches(f, s, 2, PlanOptions{})
	assert.True(t, ok)
}

// TestPlan_CollatedIndexAgreesWithScan compares index-backed results with a
// scan for random string filters under three collations, on a collection
// with a simple and a case-insensitive index on the same field: a query
// uses an index only through keys of its own collation.
func TestPlan_CollatedIndexAgreesWithScan(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	words := []string{"a", "A", "b", "B", "ab", "Ab", "aB", "é", "E", "e", "ß", "ss", "Zed", "zed", ""}
	word := func() string { return words[r.Intn(len(words))] }
	var ops []wal.Op
	for i := 0; i < 300; i++ {
		var v interface{} = word()
		if r.Intn(6) == 0 {
			v = int32(r.Intn(5))
		}
		ops = append(ops, ixInsert(ixDoc(t, bson.D{{Key: "_id", Value: i}, {Key: "w", Value: v}})))
	}
	ops = append(ops,
		wal.Op{Kind: wal.OpCreateIndex, Name: "w_1", Doc: ixSpec(t, "w_1", bson.D{{Key: "w", Value: 1}})},
		wal.Op{Kind: wal.OpCreateIndex, Name: "w_ci", Doc: ixSpec(t, "w_ci", bson.D{{Key: "w", Value: 1}},
			bson.E{Key: "collation", Value: bson.D{{Key: "locale", Value: "en"}, {Key: "strength", Value: 2}}})})
	c := ixState(t, ops...).Collection(Namespace{DB: "db", Coll: "c"})
	colls := []*Collation{nil, collTest(t, `{"locale": "en", "strength": 2}`), collTest(t, `{"locale": "en", "strength": 1}`)}
	used := 0
	for i := 0; i < 3000; i++ {
		var fd bson.D
		switch r.Intn(4) {
		case 0:
			fd = bson.D{{Key: "w", Value: word()}}
		case 1:
			fd = bson.D{{Key: "w", Value: bson.D{{Key: "$in", Value: bson.A{word(), word(), int32(r.Intn(5))}}}}}
		case 2:
			fd = bson.D{{Key: "w", Value: bson.D{{Key: "$gte", Value: word()}, {Key: "$lt", Value: word()}}}}
		default:
			fd = bson.D{{Key: "w", Value: bson.D{{Key: "$gt", Value: word()}}}}
		}
		coll := colls[r.Intn(len(colls))]
		f, err := CompileFilterWithOptions(ixDoc(t, fd), FilterOptions{Collation: coll})
		require.NoError(t, err)
		want := plScan(t, c, f)
		cands, ok := c.Candidates(f)
		if !ok {
			continue
		}
		used++
		var got []bson.Raw
		for _, d := range cands {
			if m, _ := f.Match(d); m {
				got = append(got, d)
			}
		}
		require.Equal(t, want, got, "filter %v, collation %v", fd, coll)
	}
	assert.Greater(t, used, 1000)
}

// TestPlan_DefaultCollationID checks the _id index of a collection created
// with a default collation: it is unique under the collation, and a
// collated equality on _id is answered from it, not by a scan.
func TestPlan_DefaultCollationID(t *testing.T) {
	coll := ixDoc(t, bson.D{{Key: "locale", Value: "en"}, {Key: "strength", Value: 2}})
	c, err := ParseCollation(coll)
	require.NoError(t, err)
	opts := ixDoc(t, bson.D{{Key: "collation", Value: c.Spec()}})
	ns := Namespace{"db", "c"}
	st := NewState()
	ops := []wal.Op{{Kind: wal.OpCreateCollection, Doc: opts}}
	for i := 0; i < 500; i++ {
		ops = append(ops, ixInsert(ixDoc(t, bson.D{{Key: "_id", Value: fmt.Sprintf("key%03d", i)}})))
	}
	for i := range ops {
		ops[i].DB, ops[i].Coll = ns.DB, ns.Coll
	}
	st, err = st.Apply(&wal.Record{LSN: 1, Ops: ops})
	require.NoError(t, err)
	col := st.Collection(ns)
	require.True(t, col.DefaultCollation().Equal(c))
	assert.Equal(t, "en", col.IDIndexSpec().Lookup("collation", "locale").StringValue())

	dup := ixDoc(t, bson.D{{Key: "_id", Value: "KEY007"}})
	var dk *DuplicateKey
	require.ErrorAs(t, col.CheckDocument(ns, dup), &dk)
	assert.Contains(t, dk.Error(), "index: _id_")
	assert.NoError(t, col.CheckDocument(ns, ixDoc(t, bson.D{{Key: "_id", Value: "key007"}})), "the same document")

	f, err := CompileFilterWithOptions(ixDoc(t, bson.D{{Key: "_id", Value: "KEY042"}}), FilterOptions{Collation: c})
	require.NoError(t, err)
	got, ok := col.CandidatesWith(f, PlanOptions{})
	require.True(t, ok, "a collated _id equality uses the collated _id index")
	require.Len(t, got, 1)
	assert.Equal(t, "key042", got[0].Lookup("_id").StringValue())
	// A simple equality uses the _id tree, and is case-sensitive.
	f, err = CompileFilter(ixDoc(t, bson.D{{Key: "_id", Value: "KEY042"}}))
	require.NoError(t, err)
	got, ok = col.CandidatesWith(f, PlanOptions{})
	require.True(t, ok)
	assert.Empty(t, got)
}
