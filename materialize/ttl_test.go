package materialize

import (
	"testing"
	"time"

	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/assert"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestCollection_ExpiredDocuments_Table(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) primitive.DateTime { return primitive.NewDateTimeFromTime(now.Add(-d)) }
	ttl := func(name string, key bson.D, secs int32, opts ...bson.E) wal.Op {
		return wal.Op{Kind: wal.OpCreateIndex, Name: name, Doc: ixSpec(t, name, key, append([]bson.E{{Key: "expireAfterSeconds", Value: secs}}, opts...)...)}
	}
	docs := []bson.D{
		{{Key: "_id", Value: 1}, {Key: "at", Value: ago(2 * time.Hour)}},                 // expired
		{{Key: "_id", Value: 2}, {Key: "at", Value: ago(time.Minute)}},                   // not yet
		{{Key: "_id", Value: 3}, {Key: "at", Value: ago(time.Hour)}},                     // exactly at the cutoff: expired
		{{Key: "_id", Value: 4}, {Key: "at", Value: bson.A{ago(0), ago(3 * time.Hour)}}}, // the earliest date counts
		{{Key: "_id", Value: 5}, {Key: "at", Value: "2000-01-01"}},                       // not a date
		{{Key: "_id", Value: 6}, {Key: "at", Value: primitive.Timestamp{T: 1}}},          // a timestamp is not a date
		{{Key: "_id", Value: 7}},                               // no field
		{{Key: "_id", Value: 8}, {Key: "at", Value: int64(0)}}, // a number
		{{Key: "_id", Value: 9}, {Key: "at", Value: primitive.DateTime(-62135596800000)}, {Key: "keep", Value: true}}, // year 1, partial filter below
	}
	tests := []struct {
		name  string
		index []wal.Op
		limit int
		want  []interface{}
	}{
		{"NoTTLIndex", []wal.Op{{Kind: wal.OpCreateIndex, Name: "at_1", Doc: ixSpec(t, "at_1", bson.D{{Key: "at", Value: 1}})}}, 0, nil},
		{"OneHour", []wal.Op{ttl("at_1", bson.D{{Key: "at", Value: 1}}, 3600)}, 0, []interface{}{int32(1), int32(3), int32(4), int32(9)}},
		{"Descending", []wal.Op{ttl("at_-1", bson.D{{Key: "at", Value: -1}}, 3600)}, 0, []interface{}{int32(1), int32(3), int32(4), int32(9)}},
		{"Zero", []wal.Op{ttl("at_1", bson.D{{Key: "at", Value: 1}}, 0)}, 0, []interface{}{int32(1), int32(2), int32(3), int32(4), int32(9)}},
		{"Limit", []wal.Op{ttl("at_1", bson.D{{Key: "at", Value: 1}}, 3600)}, 2, []interface{}{int32(1), int32(3)}},
		{"Partial", []wal.Op{ttl("at_1", bson.D{{Key: "at", Value: 1}}, 3600,
			bson.E{Key: "partialFilterExpression", Value: bson.D{{Key: "keep", Value: bson.D{{Key: "$exists", Value: false}}}}})}, 0,
			[]interface{}{int32(1), int32(3), int32(4)}},
		{"Sparse", []wal.Op{ttl("at_1", bson.D{{Key: "at", Value: 1}}, 3600, bson.E{Key: "sparse", Value: true})}, 0,
			[]interface{}{int32(1), int32(3), int32(4), int32(9)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ops []wal.Op
			for _, d := range docs {
				ops = append(ops, ixInsert(ixDoc(t, d)))
			}
			c := ixState(t, append(ops, tc.index...)...).Collection(Namespace{"db", "c"})
			assert.Equal(t, tc.name != "NoTTLIndex", c.HasTTLIndex())
			var got []interface{}
			for _, d := range c.ExpiredDocuments(now, tc.limit) {
				got = append(got, d.Lookup("_id").Int32())
			}
			assert.Equal(t, tc.want, got)
		})
	}
	var nilColl *Collection
	assert.False(t, nilColl.HasTTLIndex())
	assert.Empty(t, nilColl.ExpiredDocuments(now, 0))
}
