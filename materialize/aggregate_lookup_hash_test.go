package materialize

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// lookupTestValue draws a value from a small pool of values that are
// equal across types (1, 1.0, NumberLong(1)) or only look alike ("1",
// [1], {x: 1}, null, missing).
func lookupTestValue(r *rand.Rand, depth int) interface{} {
	switch r.Intn(16) {
	case 0:
		return int32(r.Intn(3))
	case 1:
		return int64(r.Intn(3))
	case 2:
		return float64(r.Intn(3))
	case 3:
		return 1.5
	case 4:
		return []string{"0", "1", "2"}[r.Intn(3)]
	case 5:
		return nil
	case 6:
		d, _ := primitive.ParseDecimal128("1")
		return d
	case 7:
		return bson.A{}
	case 8:
		if depth > 1 {
			return int32(1)
		}
		return bson.A{lookupTestValue(r, depth+1), lookupTestValue(r, depth+1)}
	case 9:
		if depth > 1 {
			return int32(2)
		}
		return bson.D{{Key: "x", Value: lookupTestValue(r, depth+1)}}
	case 10:
		return true
	case 11:
		return int64(1<<60 + r.Intn(2))
	case 12:
		return primitive.Timestamp{T: 1}
	case 13:
		return primitive.NewDateTimeFromTime(primitive.DateTime(r.Intn(2)).Time())
	case 14:
		return primitive.ObjectID{byte(r.Intn(2))}
	}
	return primitive.MinKey{}
}

// lookupTestDoc builds a document with field f (sometimes missing) and a
// nested a.b (through an array of documents sometimes).
func lookupTestDoc(r *rand.Rand, i int) bson.Raw {
	d := bson.D{{Key: "_id", Value: i}}
	if r.Intn(5) > 0 {
		d = append(d, bson.E{Key: "f", Value: lookupTestValue(r, 0)})
	}
	switch r.Intn(3) {
	case 0:
		d = append(d, bson.E{Key: "a", Value: bson.D{{Key: "b", Value: lookupTestValue(r, 0)}}})
	case 1:
		d = append(d, bson.E{Key: "a", Value: bson.A{bson.D{{Key: "b", Value: lookupTestValue(r, 0)}}, bson.D{{Key: "b", Value: lookupTestValue(r, 0)}}, int32(1)}})
	}
	raw, err := bson.Marshal(d)
	if err != nil {
		panic(err)
	}
	return raw
}

// TestLookupHash_SameAsScan checks that the hash join returns exactly the
// documents (and order) of a scan with the $in filter, on values chosen
// to collide across types.
func TestLookupHash_SameAsScan(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var foreign, local []bson.Raw
	for i := 0; i < 300; i++ {
		foreign = append(foreign, lookupTestDoc(r, i))
		local = append(local, lookupTestDoc(r, i))
	}
	for _, fields := range [][2]string{{"f", "f"}, {"f", "a.b"}, {"a.b", "f"}, {"a.b", "a.b"}, {"f", "a.0.b"}} {
		spec, _ := bson.Marshal(bson.D{{Key: "$lookup", Value: bson.D{{Key: "from", Value: "x"}, {Key: "localField", Value: fields[0]},
			{Key: "foreignField", Value: fields[1]}, {Key: "as", Value: "m"}}}})
		st, err := compileStage("$lookup", bson.Raw(spec).Lookup("$lookup"), nil, 0)
		require.NoError(t, err)
		ls := st.(*lookupStage)
		hash := newLookupHash(foreign, ls.foreignField)
		hashed := 0
		for _, d := range local {
			want, err := ls.equalityMatches(d, foreign, nil, map[string][]bson.Raw{})
			require.NoError(t, err)
			got, err := ls.equalityMatches(d, foreign, hash, map[string][]bson.Raw{})
			require.NoError(t, err)
			require.Equal(t, want, got, "local %s, fields %v", d, fields)
			if _, ok := hash.candidates([]bson.RawValue{d.Lookup("f")}); ok {
				hashed++
			}
		}
		if fields[1] != "a.0.b" {
			require.Greater(t, hashed, 50, "the hash must serve most lookups (%v)", fields)
		}
	}
}
