package materialize

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// rqValue returns a random value of the kinds that stress range and $in
// matching: every numeric type (NaN and infinities included), strings,
// dates, timestamps, ObjectIDs, booleans, null, documents and arrays
// (nested ones too).
func rqValue(r *rand.Rand, depth int) interface{} {
	oids := []primitive.ObjectID{{1}, {2}, {3}}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	switch n := r.Intn(18); {
	case n < 3:
		return int32(r.Intn(11) - 5)
	case n < 5:
		return int64(r.Intn(11) - 5)
	case n < 7:
		return []float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.0, 2.5, -1.5, 3}[r.Intn(7)]
	case n == 7:
		d, _ := primitive.ParseDecimal128([]string{"1", "2.50", "-3", "NaN", "Infinity"}[r.Intn(5)])
		return d
	case n < 10:
		return []string{"", "a", "b", "ab", "B", "z"}[r.Intn(6)]
	case n == 10:
		return primitive.NewDateTimeFromTime(base.Add(time.Duration(r.Intn(5)) * time.Hour))
	case n == 11:
		return primitive.Timestamp{T: uint32(r.Intn(3)), I: 1}
	case n == 12:
		return oids[r.Intn(3)]
	case n == 13:
		return r.Intn(2) == 0
	case n == 14:
		return nil
	case n == 15 && depth < 2:
		return bson.D{{Key: "b", Value: rqValue(r, depth+1)}}
	case depth < 2:
		arr := bson.A{}
		for i := r.Intn(4); i > 0; i-- {
			arr = append(arr, rqValue(r, depth+1))
		}
		return arr
	}
	return int32(r.Intn(11) - 5)
}

// rqDoc returns a document with random values in the indexed paths.
func rqDoc(r *rand.Rand, id int) bson.D {
	d := bson.D{{Key: "_id", Value: id}}
	if r.Intn(10) == 0 {
		d[0].Value = []interface{}{"s" + fmt.Sprint(id), float64(id) + 0.5, int64(id)}[r.Intn(3)]
	}
	for _, f := range []string{"a", "x", "c"} {
		if r.Intn(6) == 0 {
			continue // missing
		}
		v := rqValue(r, 0)
		if f == "x" && r.Intn(2) == 0 {
			// Documents and arrays of documents for the "x.b" index.
			if r.Intn(2) == 0 {
				v = bson.D{{Key: "b", Value: rqValue(r, 1)}}
			} else {
				v = bson.A{bson.D{{Key: "b", Value: rqValue(r, 1)}}, rqValue(r, 1), bson.D{{Key: "b", Value: rqValue(r, 1)}}}
			}
		}
		d = append(d, bson.E{Key: f, Value: v})
	}
	return d
}

// rqFilter returns a random filter of conditions an index may answer,
// sometimes mixed with others it may not.
func rqFilter(r *rand.Rand) bson.D {
	paths := []string{"a", "x.b", "c", "_id", "x"}
	ops := []string{"$gt", "$gte", "$lt", "$lte", "$in", "$eq"}
	cond := func() bson.E {
		path, op := paths[r.Intn(len(paths))], ops[r.Intn(len(ops))]
		var arg interface{} = rqValue(r, 1)
		if op == "$in" {
			vals := bson.A{}
			for i := r.Intn(4); i > 0; i-- {
				vals = append(vals, rqValue(r, 1))
			}
			arg = vals
		}
		if r.Intn(5) == 0 { // a two-sided range
			return bson.E{Key: path, Value: bson.D{{Key: "$gt", Value: arg}, {Key: "$lt", Value: rqValue(r, 1)}}}
		}
		return bson.E{Key: path, Value: bson.D{{Key: op, Value: arg}}}
	}
	f := bson.D{cond()}
	switch r.Intn(4) {
	case 0:
		f = append(f, cond())
	case 1:
		f = bson.D{{Key: "$and", Value: bson.A{bson.D{cond()}, bson.D{cond()}}}}
	case 2:
		f = append(f, bson.E{Key: "$or", Value: bson.A{bson.D{cond()}, bson.D{cond()}}})
	}
	return f
}

func TestCollection_Candidates_RangeAndInAgreeWithScan(t *testing.T) {
	r := rand.New(rand.NewSource(20240501))
	ops := []wal.Op{
		{Kind: wal.OpCreateIndex, Name: "a_1", Doc: ixSpec(t, "a_1", bson.D{{Key: "a", Value: 1}})},
		{Kind: wal.OpCreateIndex, Name: "x.b_-1", Doc: ixSpec(t, "x.b_-1", bson.D{{Key: "x.b", Value: -1}})},
		{Kind: wal.OpCreateIndex, Name: "c_1_a_1", Doc: ixSpec(t, "c_1_a_1", bson.D{{Key: "c", Value: 1}, {Key: "a", Value: 1}})},
	}
	// Some documents exist before the indexes, some are inserted, updated
	// and deleted after, so the trees are built both ways.
	next := 0
	for ; next < 150; next++ {
		ops = append(ops, ixInsert(ixDoc(t, rqDoc(r, next))))
	}
	st := ixState(t, ops...)
	apply := func(op wal.Op) {
		op.DB, op.Coll = "db", "c"
		n, err := st.Apply(&wal.Record{LSN: st.LSN() + 1, Ops: []wal.Op{op}})
		require.NoError(t, err)
		st = n
	}
	for i := 0; i < 150; i++ {
		c := st.Collection(Namespace{"db", "c"})
		var victim bson.Raw
		c.Scan(func(d bson.Raw) bool {
			if r.Intn(20) == 0 {
				victim = d
				return false
			}
			return true
		})
		switch {
		case victim != nil && r.Intn(2) == 0:
			apply(wal.Op{Kind: wal.OpDelete, ID: victim.Lookup("_id"), Before: victim})
		case victim != nil:
			d := rqDoc(r, 0)
			d[0].Value = victim.Lookup("_id")
			apply(wal.Op{Kind: wal.OpUpdate, ID: victim.Lookup("_id"), Before: victim, Doc: ixDoc(t, d)})
		default:
			d := ixDoc(t, rqDoc(r, next))
			if _, dup := c.Get(d.Lookup("_id")); !dup {
				apply(ixInsert(d))
			}
			next++
		}
	}
	c := st.Collection(Namespace{"db", "c"})
	used, nonEmpty := 0, 0
	for i := 0; i < 3000; i++ {
		fd := rqFilter(r)
		f, err := CompileFilter(ixDoc(t, fd))
		if err != nil {
			continue // an operand the server refuses ($in with a regex, ...)
		}
		var scan []bson.Raw
		c.Scan(func(d bson.Raw) bool {
			ok, err := f.Match(d)
			require.NoError(t, err)
			if ok {
				scan = append(scan, d)
			}
			return true
		})
		cands, ok := c.Candidates(f)
		if !ok {
			continue
		}
		used++
		var viaIndex []bson.Raw
		for _, d := range cands {
			ok, err := f.Match(d)
			require.NoError(t, err)
			if ok {
				viaIndex = append(viaIndex, d)
			}
		}
		if len(scan) > 0 {
			nonEmpty++
		}
		if !assert.Equal(t, scan, viaIndex, "filter %v", fd) {
			return
		}
	}
	assert.Greater(t, used, 1500, "most filters go through an index")
	assert.Greater(t, nonEmpty, 500, "and many of them match something")
}

func TestCollection_Candidates_Table(t *testing.T) {
	docs := []bson.D{
		{{Key: "_id", Value: 1}, {Key: "a", Value: 5}},
		{{Key: "_id", Value: 2}, {Key: "a", Value: bson.A{0, 20}}},
		{{Key: "_id", Value: 3}, {Key: "a", Value: "x"}},
		{{Key: "_id", Value: 4}, {Key: "a", Value: 7.5}},
		{{Key: "_id", Value: "s"}, {Key: "a", Value: nil}},
		{{Key: "_id", Value: 6}},
	}
	ops := []wal.Op{{Kind: wal.OpCreateIndex, Name: "a_1", Doc: ixSpec(t, "a_1", bson.D{{Key: "a", Value: 1}})}}
	for _, d := range docs {
		ops = append(ops, ixInsert(ixDoc(t, d)))
	}
	c := ixState(t, ops...).Collection(Namespace{"db", "c"})
	tests := []struct {
		name   string
		filter bson.D
		ok     bool
		cands  []interface{} // _ids of the candidates, in natural order
	}{
		{"Gt", bson.D{{Key: "a", Value: bson.D{{Key: "$gt", Value: 5}}}}, true, []interface{}{2, 4}},
		{"Lte", bson.D{{Key: "a", Value: bson.D{{Key: "$lte", Value: 5}}}}, true, []interface{}{1, 2}},
		{"StringRange", bson.D{{Key: "a", Value: bson.D{{Key: "$gte", Value: ""}}}}, true, []interface{}{3}},
		{"TwoSidedMultikeyUsesOneBound", bson.D{{Key: "a", Value: bson.D{{Key: "$gt", Value: 5}, {Key: "$lt", Value: 10}}}}, true, []interface{}{2, 4}},
		{"In", bson.D{{Key: "a", Value: bson.D{{Key: "$in", Value: bson.A{20, "x"}}}}}, true, []interface{}{2, 3}},
		{"InWithNull", bson.D{{Key: "a", Value: bson.D{{Key: "$in", Value: bson.A{5, nil}}}}}, false, nil},
		{"InAnd", bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "a", Value: bson.D{{Key: "$in", Value: bson.A{7.5}}}}}}}}, true, []interface{}{4}},
		{"InsideOr", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "a", Value: bson.D{{Key: "$gt", Value: 5}}}}}}}, true, []interface{}{2, 4}},
		{"OrUnion", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "a", Value: "x"}}, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "a", Value: 20}}}}}, true, []interface{}{1, 2, 3}},
		{"OrBranchNotIndexed", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "a", Value: "x"}}, bson.D{{Key: "b", Value: 1}}}}}, false, nil},
		{"IDTwoSided", bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: 1}, {Key: "$lte", Value: 4}}}}, true, []interface{}{2, 3, 4}},
		{"IDCrossTypeBounds", bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: 1}, {Key: "$lt", Value: "z"}}}}, true, []interface{}{2, 3, 4, 6}},
		{"RangeOnNull", bson.D{{Key: "a", Value: bson.D{{Key: "$gte", Value: nil}}}}, false, nil},
		{"RangeOnMinKey", bson.D{{Key: "a", Value: bson.D{{Key: "$gt", Value: primitive.MinKey{}}}}}, false, nil},
		{"IDRange", bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: 3}}}}, true, []interface{}{3, 4, 6}},
		{"IDIn", bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{6, "s", 9}}}}}, true, []interface{}{"s", 6}},
		{"NotIndexed", bson.D{{Key: "b", Value: bson.D{{Key: "$gt", Value: 5}}}}, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := CompileFilter(ixDoc(t, tc.filter))
			require.NoError(t, err)
			cands, ok := c.Candidates(f)
			assert.Equal(t, tc.ok, ok)
			var ids []interface{}
			for _, d := range cands {
				v := d.Lookup("_id")
				if s, isStr := v.StringValueOK(); isStr {
					ids = append(ids, s)
				} else {
					ids = append(ids, int(v.Int32()))
				}
			}
			assert.Equal(t, tc.cands, ids)
		})
	}
}
