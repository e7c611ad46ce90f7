package argon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// csOpts returns stream options with a short MaxAwaitTime, so that TryNext
// on a quiet log returns quickly.
func csOpts() *options.ChangeStreamOptions {
	return options.ChangeStream().SetMaxAwaitTime(30 * time.Millisecond)
}

// csNext returns the next event, failing the test if none comes within 5s.
func csNext(t *testing.T, cs *ChangeStream) bson.Raw {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.True(t, cs.Next(ctx), "no event: %v", cs.Err())
	return cs.Current
}

// csQuiet checks that no further event is available.
func csQuiet(t *testing.T, cs *ChangeStream) {
	t.Helper()
	if cs.TryNext(context.Background()) {
		t.Fatalf("unexpected event %s", cs.Current)
	}
	require.NoError(t, cs.Err())
}

func opType(ev bson.Raw) string { return ev.Lookup("operationType").StringValue() }

func TestChangeStream_Next_EventTypes(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("coll")
	cs, err := coll.Watch(ctx, Pipeline{}, csOpts())
	require.NoError(t, err)
	defer cs.Close(ctx)
	assert.NotZero(t, cs.ID())

	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: 1}, {Key: "arr", Value: bson.A{1, 2, 3}}, {Key: "sub", Value: bson.D{{Key: "x", Value: 1}, {Key: "y", Value: 2}}}})
	require.NoError(t, err)
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "a", Value: 2}, {Key: "sub.x", Value: 5}, {Key: "n", Value: "new"}}},
		{Key: "$unset", Value: bson.D{{Key: "sub.y", Value: ""}}},
		{Key: "$pop", Value: bson.D{{Key: "arr", Value: 1}}}})
	require.NoError(t, err)
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$push", Value: bson.D{{Key: "arr", Value: 9}}}})
	require.NoError(t, err)
	_, err = coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "b", Value: 1}})
	require.NoError(t, err)
	_, err = coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	_, err = c.Database("db").Collection("other").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	require.NoError(t, coll.Drop(ctx))

	tests := []struct {
		typ   string
		check func(t *testing.T, ev bson.Raw)
	}{
		{"insert", func(t *testing.T, ev bson.Raw) {
			assert.Equal(t, int32(1), ev.Lookup("fullDocument", "a").Int32())
			assert.Equal(t, `{"_id": {"$numberInt":"1"}}`, ev.Lookup("documentKey").Document().String())
			assert.Equal(t, "db", ev.Lookup("ns", "db").StringValue())
			assert.Equal(t, "coll", ev.Lookup("ns", "coll").StringValue())
			_, _, ok := ev.Lookup("clusterTime").TimestampOK()
			assert.True(t, ok)
			_, ok = ev.Lookup("wallTime").DateTimeOK()
			assert.True(t, ok)
		}},
		{"update", func(t *testing.T, ev bson.Raw) {
			ud := ev.Lookup("updateDescription").Document()
			assert.Equal(t, `{"a": {"$numberInt":"2"},"sub.x": {"$numberInt":"5"},"n": "new"}`, ud.Lookup("updatedFields").Document().String())
			assert.Equal(t, `["sub.y"]`, ud.Lookup("removedFields").String())
			assert.Equal(t, `[{"field": "arr","newSize": {"$numberInt":"2"}}]`, ud.Lookup("truncatedArrays").String())
			_, err := ev.LookupErr("fullDocument")
			assert.Error(t, err, "no fullDocument for updates by default")
		}},
		{"update", func(t *testing.T, ev bson.Raw) {
			ud := ev.Lookup("updateDescription").Document()
			assert.Equal(t, `{"arr.2": {"$numberInt":"9"}}`, ud.Lookup("updatedFields").Document().String())
		}},
		{"replace", func(t *testing.T, ev bson.Raw) {
			assert.Equal(t, `{"_id": {"$numberInt":"1"},"b": {"$numberInt":"1"}}`, ev.Lookup("fullDocument").Document().String())
		}},
		{"delete", func(t *testing.T, ev bson.Raw) {
			_, err := ev.LookupErr("fullDocument")
			assert.Error(t, err)
			_, err = ev.LookupErr("fullDocumentBeforeChange")
			assert.Error(t, err)
		}},
		{"drop", func(t *testing.T, ev bson.Raw) {
			assert.Equal(t, "coll", ev.Lookup("ns", "coll").StringValue())
		}},
		{"invalidate", func(t *testing.T, ev bson.Raw) {
			_, err := ev.LookupErr("ns")
			assert.Error(t, err)
		}},
	}
	var last bson.Raw
	for i, tc := range tests {
		ev := csNext(t, cs)
		require.Equal(t, tc.typ, opType(ev), "event %d: %s", i, ev)
		tc.check(t, ev)
		tok := ev.Lookup("_id").Document()
		if last != nil {
			assert.Less(t, last.Lookup("_data").StringValue(), tok.Lookup("_data").StringValue(), "tokens sort as events")
		}
		last = tok
	}
	assert.False(t, cs.Next(ctx), "the stream ends after invalidate")
	assert.NoError(t, cs.Err())
	assert.Zero(t, cs.ID())
}

func TestChangeStream_Watch_Scopes(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	_, err := c.Database("a").Collection("x").InsertOne(ctx, bson.D{{Key: "_id", Value: 0}})
	require.NoError(t, err)
	_, err = c.Database("a").Collection("y").InsertOne(ctx, bson.D{{Key: "_id", Value: 0}})
	require.NoError(t, err)
	all, err := c.Watch(ctx, Pipeline{}, csOpts())
	require.NoError(t, err)
	dbA, err := c.Database("a").Watch(ctx, Pipeline{}, csOpts())
	require.NoError(t, err)
	collX, err := c.Database("a").Collection("x").Watch(ctx, Pipeline{}, csOpts())
	require.NoError(t, err)
	for _, cs := range []*ChangeStream{all, dbA, collX} {
		defer cs.Close(ctx)
	}
	_, err = c.Database("b").Collection("z").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	_, err = c.Database("a").Collection("y").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	_, err = c.Database("a").Collection("x").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	require.NoError(t, c.Database("a").Drop(ctx))
	_, err = c.Database("b").Collection("z").InsertOne(ctx, bson.D{{Key: "_id", Value: 2}})
	require.NoError(t, err)

	describe := func(ev bson.Raw) string {
		s := opType(ev)
		if db, ok := ev.Lookup("ns", "db").StringValueOK(); ok {
			s += " " + db
		}
		if coll, ok := ev.Lookup("ns", "coll").StringValueOK(); ok {
			s += "." + coll
		}
		return s
	}
	tests := []struct {
		name string
		cs   *ChangeStream
		want []string
	}{
		{"client", all, []string{"insert b.z", "insert a.y", "insert a.x", "drop a.x", "drop a.y", "dropDatabase a", "insert b.z"}},
		{"database", dbA, []string{"insert a.y", "insert a.x", "drop a.x", "drop a.y", "dropDatabase a", "invalidate"}},
		{"collection", collX, []string{"insert a.x", "drop a.x", "invalidate"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for range tc.want {
				got = append(got, describe(csNext(t, tc.cs)))
			}
			assert.Equal(t, tc.want, got)
			csQuiet(t, tc.cs)
		})
	}
}

func TestChangeStream_Watch_FullDocumentOptions(t *testing.T) {
	tests := []struct {
		fullDoc, before string
		wantFull        string // fullDocument of the first update event; "-" absent
		wantBefore      string // fullDocumentBeforeChange of the update; "-" absent
	}{
		{"", "", "-", "-"},
		{"default", "off", "-", "-"},
		{"updateLookup", "", "null", "-"}, // the document when read: deleted by then
		{"whenAvailable", "whenAvailable", `{"_id": {"$numberInt":"1"},"v": {"$numberInt":"2"}}`, `{"_id": {"$numberInt":"1"},"v": {"$numberInt":"1"}}`},
		{"required", "required", `{"_id": {"$numberInt":"1"},"v": {"$numberInt":"2"}}`, `{"_id": {"$numberInt":"1"},"v": {"$numberInt":"1"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.fullDoc+"/"+tc.before, func(t *testing.T) {
			ctx := context.Background()
			coll := crudColl(t)
			o := csOpts()
			if tc.fullDoc != "" {
				o.SetFullDocument(options.FullDocument(tc.fullDoc))
			}
			if tc.before != "" {
				o.SetFullDocumentBeforeChange(options.FullDocument(tc.before))
			}
			cs, err := coll.Watch(ctx, Pipeline{}, o)
			require.NoError(t, err)
			defer cs.Close(ctx)
			_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: 1}})
			require.NoError(t, err)
			for v := 2; v <= 3; v++ {
				_, err = coll.UpdateOne(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: v}}}})
				require.NoError(t, err)
			}
			_, err = coll.DeleteOne(ctx, bson.D{})
			require.NoError(t, err)
			ins := csNext(t, cs)
			_, err = ins.LookupErr("fullDocumentBeforeChange")
			assert.Error(t, err, "an insert has no before-image")
			upd := csNext(t, cs)
			require.Equal(t, "update", opType(upd))
			for field, want := range map[string]string{"fullDocument": tc.wantFull, "fullDocumentBeforeChange": tc.wantBefore} {
				v, err := upd.LookupErr(field)
				if want == "-" {
					assert.Error(t, err, field)
					continue
				}
				require.NoError(t, err, field)
				if want == "null" {
					assert.Equal(t, bson.TypeNull, v.Type, field)
					continue
				}
				assert.Equal(t, want, v.Document().String(), field)
			}
			csNext(t, cs)
			del := csNext(t, cs)
			require.Equal(t, "delete", opType(del))
			_, err = del.LookupErr("fullDocumentBeforeChange")
			assert.Equal(t, tc.wantBefore != "-", err == nil)
		})
	}
}

func TestChangeStream_Watch_UpdateLookup(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	cs, err := coll.Watch(ctx, Pipeline{}, csOpts().SetFullDocument(options.UpdateLookup))
	require.NoError(t, err)
	defer cs.Close(ctx)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	_, err = coll.UpdateOne(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 1}}}})
	require.NoError(t, err)
	csNext(t, cs)
	upd := csNext(t, cs)
	assert.Equal(t, `{"_id": {"$numberInt":"1"},"v": {"$numberInt":"1"}}`, upd.Lookup("fullDocument").Document().String())
	_, err = coll.UpdateOne(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 2}}}})
	require.NoError(t, err)
	_, err = coll.DeleteOne(ctx, bson.D{})
	require.NoError(t, err)
	upd = csNext(t, cs)
	assert.Equal(t, bson.TypeNull, upd.Lookup("fullDocument").Type)
}

func TestChangeStream_Watch_Pipelines(t *testing.T) {
	tests := []struct {
		name     string
		pipeline interface{}
		want     []string // the events as extended JSON, without _id
	}{
		{"match operationType", Pipeline{{{Key: "$match", Value: bson.D{{Key: "operationType", Value: "delete"}}}},
			{{Key: "$project", Value: bson.D{{Key: "documentKey", Value: 1}}}}},
			[]string{`{"documentKey": {"_id": {"$numberInt":"2"}}}`}},
		{"match fullDocument", bson.A{bson.D{{Key: "$match", Value: bson.D{{Key: "fullDocument.v", Value: bson.D{{Key: "$gte", Value: 2}}}}}},
			bson.D{{Key: "$project", Value: bson.D{{Key: "operationType", Value: 1}, {Key: "fullDocument.v", Value: 1}}}}},
			[]string{`{"operationType": "insert","fullDocument": {"v": {"$numberInt":"2"}}}`}},
		{"addFields set unset", Pipeline{
			{{Key: "$match", Value: bson.D{{Key: "operationType", Value: "insert"}}}},
			{{Key: "$addFields", Value: bson.D{{Key: "k", Value: "$documentKey._id"}}}},
			{{Key: "$set", Value: bson.D{{Key: "two", Value: bson.D{{Key: "$multiply", Value: bson.A{"$k", 2}}}}}}},
			{{Key: "$unset", Value: bson.A{"fullDocument", "ns", "documentKey", "clusterTime", "wallTime", "operationType"}}}},
			[]string{`{"k": {"$numberInt":"1"},"two": {"$numberInt":"2"}}`, `{"k": {"$numberInt":"2"},"two": {"$numberInt":"4"}}`}},
		{"replaceRoot keeping _id", Pipeline{
			{{Key: "$match", Value: bson.D{{Key: "operationType", Value: "insert"}}}},
			{{Key: "$replaceRoot", Value: bson.D{{Key: "newRoot", Value: bson.D{{Key: "_id", Value: "$_id"}, {Key: "d", Value: "$fullDocument"}}}}}}},
			[]string{`{"d": {"_id": {"$numberInt":"1"},"v": {"$numberInt":"1"}}}`, `{"d": {"_id": {"$numberInt":"2"},"v": {"$numberInt":"2"}}}`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			coll := crudColl(t)
			cs, err := coll.Watch(ctx, tc.pipeline, csOpts())
			require.NoError(t, err)
			defer cs.Close(ctx)
			_, err = coll.InsertMany(ctx, []interface{}{bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: 1}}, bson.D{{Key: "_id", Value: 2}, {Key: "v", Value: 2}}})
			require.NoError(t, err)
			_, err = coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: 2}})
			require.NoError(t, err)
			var got []string
			for range tc.want {
				ev := csNext(t, cs)
				_, err := ev.Lookup("_id").DocumentOK()
				require.True(t, err, "the _id (resume token) is kept")
				d := bson.D{}
				require.NoError(t, bson.Unmarshal(ev, &d))
				out, _ := bson.Marshal(d[1:])
				got = append(got, bson.Raw(out).String())
			}
			assert.Equal(t, tc.want, got)
			csQuiet(t, cs)
		})
	}
}

func TestChangeStream_Watch_BadInput(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("coll")
	foreign, _ := bson.Marshal(bson.D{{Key: "_data", Value: "8263A0B1C2000000012B022C0100296E5A1004"}})
	noData, _ := bson.Marshal(bson.D{{Key: "x", Value: 1}})
	notHex, _ := bson.Marshal(bson.D{{Key: "_data", Value: "zz"}})
	tok := streamToken{pos: streamPos{lsn: 1}, branch: "main"}.raw()
	inv := streamToken{pos: streamPos{lsn: 1}, invalidate: true, branch: "main"}.raw()
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	tests := []struct {
		name     string
		pipeline interface{}
		opts     *options.ChangeStreamOptions
		code     int32
	}{
		{"unknown stage", Pipeline{{{Key: "$foo", Value: 1}}}, nil, 40324},
		{"stage not allowed", Pipeline{{{Key: "$group", Value: bson.D{{Key: "_id", Value: nil}}}}}, nil, 20},
		{"limit not allowed", Pipeline{{{Key: "$limit", Value: 1}}}, nil, 20},
		{"changeStream stage", Pipeline{{{Key: "$changeStream", Value: bson.D{}}}}, nil, 40602},
		{"bad match", Pipeline{{{Key: "$match", Value: 1}}}, nil, 15959},
		{"bad operator", Pipeline{{{Key: "$match", Value: bson.D{{Key: "a", Value: bson.D{{Key: "$bogus", Value: 1}}}}}}}, nil, 2},
		{"fullDocument", nil, options.ChangeStream().SetFullDocument("sometimes"), 2},
		{"fullDocumentBeforeChange", nil, options.ChangeStream().SetFullDocumentBeforeChange("default"), 2},
		{"batch size", nil, options.ChangeStream().SetBatchSize(-1), 2},
		{"token without _data", nil, options.ChangeStream().SetResumeAfter(noData), 40647},
		{"token not hex", nil, options.ChangeStream().SetResumeAfter(notHex), 9},
		{"token of a server", nil, options.ChangeStream().SetResumeAfter(foreign), 9},
		{"token of no event", nil, options.ChangeStream().SetResumeAfter(streamToken{pos: streamPos{lsn: 1, op: 5}, branch: "main"}.raw()), 280},
		{"token beyond the log", nil, options.ChangeStream().SetResumeAfter(streamToken{pos: streamPos{lsn: 99}, branch: "main"}.raw()), 280},
		{"token of another branch", nil, options.ChangeStream().SetResumeAfter(streamToken{pos: streamPos{lsn: 1}, branch: "b7"}.raw()), 280},
		{"resumeAfter invalidate", nil, options.ChangeStream().SetResumeAfter(inv), 260},
		{"resumeAfter and startAfter", nil, options.ChangeStream().SetResumeAfter(tok).SetStartAfter(tok), 50865},
		{"token and operation time", nil, options.ChangeStream().SetResumeAfter(tok).SetStartAtOperationTime(&primitive.Timestamp{T: 1}), 40674},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.pipeline
			if p == nil {
				p = Pipeline{}
			}
			o := tc.opts
			if o == nil {
				o = options.ChangeStream()
			}
			cs, err := coll.Watch(ctx, p, o.SetMaxAwaitTime(20*time.Millisecond))
			if err == nil {
				// Some checks happen at the first read, as on the server.
				assert.False(t, cs.TryNext(ctx))
				err = cs.Err()
			}
			var ce CommandError
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.Equal(t, tc.code, ce.Code, ce.Message)
			assert.NotEmpty(t, ce.Name)
		})
	}
	// The driver's own argument checks.
	_, err = coll.Watch(ctx, bson.D{{Key: "$match", Value: bson.D{}}})
	assert.EqualError(t, err, "primitive.D is not an allowed pipeline type as it represents a single document. Use bson.A or mongo.Pipeline instead")
	_, err = coll.Watch(ctx, 42)
	assert.Error(t, err)
	_, err = coll.Watch(ctx, bsoncore.Array{4, 0, 0, 0})
	assert.Error(t, err, "a malformed array is an error, not a panic")
	_, err = coll.Aggregate(ctx, bsoncore.Array{4, 0, 0, 0})
	assert.Error(t, err)
	_, err = c.Database("").Watch(ctx, Pipeline{})
	assert.Error(t, err)
	_, err = c.Database("db").Collection("").Watch(ctx, Pipeline{})
	assert.Error(t, err)
	_, err = coll.Watch(ctx, Pipeline{}, options.ChangeStream().SetCollation(options.Collation{Locale: "fr"}))
	assert.ErrorIs(t, err, ErrNotSupported)
}

func TestChangeStream_ProjectRemovingID_Fails(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	cs, err := coll.Watch(ctx, Pipeline{{{Key: "$project", Value: bson.D{{Key: "_id", Value: 0}}}}}, csOpts())
	require.NoError(t, err)
	defer cs.Close(ctx)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	assert.False(t, cs.Next(ctx))
	var ce CommandError
	require.ErrorAs(t, cs.Err(), &ce)
	assert.Equal(t, int32(280), ce.Code)
}

func TestChangeStream_Watch_Resume(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("coll")
	cs, err := coll.Watch(ctx, Pipeline{}, csOpts())
	require.NoError(t, err)
	defer cs.Close(ctx)
	start := cs.ResumeToken()
	require.NotNil(t, start, "a stream has a token before its first event")
	_, err = coll.InsertMany(ctx, []interface{}{bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "_id", Value: 3}}})
	require.NoError(t, err)
	_, err = c.Database("db").Collection("elsewhere").InsertOne(ctx, bson.D{{Key: "_id", Value: 9}})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 4}})
	require.NoError(t, err)
	var tokens []bson.Raw
	for i := 1; i <= 4; i++ {
		ev := csNext(t, cs)
		require.Equal(t, int32(i), ev.Lookup("documentKey", "_id").Int32())
		tokens = append(tokens, ev.Lookup("_id").Document())
	}
	ids := func(o *options.ChangeStreamOptions) []int32 {
		t.Helper()
		s, err := coll.Watch(ctx, Pipeline{}, o.SetMaxAwaitTime(20*time.Millisecond))
		require.NoError(t, err)
		defer s.Close(ctx)
		var out []int32
		for s.TryNext(ctx) {
			out = append(out, s.Current.Lookup("documentKey", "_id").Int32())
		}
		require.NoError(t, s.Err())
		return out
	}
	assert.Equal(t, []int32{1, 2, 3, 4}, ids(options.ChangeStream().SetResumeAfter(start)))
	assert.Equal(t, []int32{2, 3, 4}, ids(options.ChangeStream().SetResumeAfter(tokens[0])), "in the middle of a record")
	assert.Equal(t, []int32{4}, ids(options.ChangeStream().SetStartAfter(tokens[2])))
	assert.Empty(t, ids(options.ChangeStream().SetResumeAfter(tokens[3])))
	assert.Empty(t, ids(options.ChangeStream().SetResumeAfter(cs.ResumeToken())))
	// StartAtOperationTime: the clusterTime of the record with _id 4.
	s, err := coll.Watch(ctx, Pipeline{}, csOpts().SetResumeAfter(tokens[2]))
	require.NoError(t, err)
	require.True(t, s.TryNext(ctx))
	tsT, tsI := s.Current.Lookup("clusterTime").Timestamp()
	require.NoError(t, s.Close(ctx))
	assert.Equal(t, []int32{4}, ids(options.ChangeStream().SetStartAtOperationTime(&primitive.Timestamp{T: tsT, I: tsI})))
	assert.Equal(t, []int32{1, 2, 3, 4}, ids(options.ChangeStream().SetStartAtOperationTime(&primitive.Timestamp{T: tsT - 1})))
	assert.Empty(t, ids(options.ChangeStream().SetStartAtOperationTime(&primitive.Timestamp{T: tsT + 1})))
}

func TestChangeStream_Watch_StartAfterInvalidate(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	cs, err := coll.Watch(ctx, Pipeline{}, csOpts())
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	require.NoError(t, coll.Drop(ctx))
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}})
	require.NoError(t, err)
	for _, want := range []string{"insert", "drop", "invalidate"} {
		require.Equal(t, want, opType(csNext(t, cs)))
	}
	inv := cs.ResumeToken()
	assert.False(t, cs.Next(ctx))
	_, err = coll.Watch(ctx, Pipeline{}, options.ChangeStream().SetResumeAfter(inv))
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(260), ce.Code)
	s2, err := coll.Watch(ctx, Pipeline{}, csOpts().SetStartAfter(inv))
	require.NoError(t, err)
	defer s2.Close(ctx)
	ev := csNext(t, s2)
	assert.Equal(t, int32(2), ev.Lookup("documentKey", "_id").Int32())
}

func TestChangeStream_Batches(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	cs, err := coll.Watch(ctx, Pipeline{}, csOpts().SetBatchSize(3))
	require.NoError(t, err)
	defer cs.Close(ctx)
	docs := make([]interface{}, 7)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: i}}
	}
	_, err = coll.InsertMany(ctx, docs)
	require.NoError(t, err)
	_, err = coll.Database().Collection("other").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	var remaining []int
	var last bson.Raw
	for i := 0; i < 7; i++ {
		if i == 6 {
			cs.SetBatchSize(0)
		}
		ev := csNext(t, cs)
		remaining = append(remaining, cs.RemainingBatchLength())
		last = ev.Lookup("_id").Document()
		if cs.RemainingBatchLength() > 0 {
			assert.Equal(t, last, cs.ResumeToken(), "inside a batch the token is the event's")
		}
	}
	assert.Equal(t, []int{2, 1, 0, 2, 1, 0, 0}, remaining)
	// After the last batch the token also covers the other collection's
	// record that came after.
	assert.Greater(t, cs.ResumeToken().Lookup("_data").StringValue(), last.Lookup("_data").StringValue())
	csQuiet(t, cs)
}

func TestChangeStream_Branches(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	_, err := c.Database("db").Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: 0}})
	require.NoError(t, err)
	base, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	_, err = c.CreateBranch(ctx, "dev")
	require.NoError(t, err)
	dev := c.WithBranch("dev")
	devColl := dev.Database("db").Collection("c")
	cs, err := dev.Watch(ctx, Pipeline{}, csOpts())
	require.NoError(t, err)
	defer cs.Close(ctx)
	mainStream, err := c.Watch(ctx, Pipeline{}, csOpts())
	require.NoError(t, err)
	defer mainStream.Close(ctx)

	_, err = c.Database("db").Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: "main"}})
	require.NoError(t, err)
	_, err = devColl.InsertOne(ctx, bson.D{{Key: "_id", Value: "dev1"}})
	require.NoError(t, err)
	require.NoError(t, c.RenameBranch(ctx, "dev", "dev2"))
	dev = c.WithBranch("dev2")
	devColl = dev.Database("db").Collection("c")
	_, err = devColl.InsertOne(ctx, bson.D{{Key: "_id", Value: "dev2"}})
	require.NoError(t, err)
	_, err = c.ResetBranch(ctx, "dev2", Branch().SetLSN(base))
	require.NoError(t, err)
	_, err = devColl.InsertOne(ctx, bson.D{{Key: "_id", Value: "after reset"}})
	require.NoError(t, err)

	assert.Equal(t, "main", csNext(t, mainStream).Lookup("documentKey", "_id").StringValue())
	csQuiet(t, mainStream)
	ev1 := csNext(t, cs)
	assert.Equal(t, "dev1", ev1.Lookup("documentKey", "_id").StringValue())
	dev1T, dev1I := ev1.Lookup("clusterTime").Timestamp()
	assert.Equal(t, "dev2", csNext(t, cs).Lookup("documentKey", "_id").StringValue(), "a rename does not affect the stream")
	devTok := cs.ResumeToken()
	assert.Equal(t, "invalidate", opType(csNext(t, cs)), "a reset invalidates")
	inv := cs.ResumeToken()
	assert.False(t, cs.Next(ctx))

	// startAfter the reset follows the new branch.
	s2, err := dev.Watch(ctx, Pipeline{}, csOpts().SetStartAfter(inv))
	require.NoError(t, err)
	defer s2.Close(ctx)
	assert.Equal(t, "after reset", csNext(t, s2).Lookup("documentKey", "_id").StringValue())
	csQuiet(t, s2)
	// resumeAfter a token from before the reset replays up to it.
	s3, err := dev.Watch(ctx, Pipeline{}, csOpts().SetResumeAfter(devTok))
	require.NoError(t, err)
	defer s3.Close(ctx)
	assert.Equal(t, "invalidate", opType(csNext(t, s3)))
	// A start before the reset follows the branch the name meant then.
	s6, err := dev.Watch(ctx, Pipeline{}, csOpts().SetStartAtOperationTime(&primitive.Timestamp{T: dev1T, I: dev1I}))
	require.NoError(t, err)
	defer s6.Close(ctx)
	for _, want := range []string{"insert", "insert", "invalidate"} {
		assert.Equal(t, want, opType(csNext(t, s6)))
	}
	// A token of the dev branch is not one of main.
	_, err = c.Watch(ctx, Pipeline{}, options.ChangeStream().SetResumeAfter(devTok))
	var ce CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(280), ce.Code)
	// A view of the past starts at its point.
	past := c.AtLSN(base)
	s4, err := past.Watch(ctx, Pipeline{}, csOpts())
	require.NoError(t, err)
	defer s4.Close(ctx)
	assert.Equal(t, "main", csNext(t, s4).Lookup("documentKey", "_id").StringValue())
	csQuiet(t, s4)
	// Deleting the branch invalidates its streams.
	s5, err := dev.Watch(ctx, Pipeline{}, csOpts())
	require.NoError(t, err)
	defer s5.Close(ctx)
	require.NoError(t, c.DeleteBranch(ctx, "dev2"))
	assert.Equal(t, "invalidate", opType(csNext(t, s5)))
	_, err = dev.Watch(ctx, Pipeline{})
	assert.ErrorIs(t, err, ErrBranchNotFound)
}

func TestChangeStream_ExpandedEvents(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	db := c.Database("db")
	cs, err := db.Watch(ctx, Pipeline{}, csOpts().SetShowExpandedEvents(true))
	require.NoError(t, err)
	defer cs.Close(ctx)
	require.NoError(t, db.CreateCollection(ctx, "c"))
	_, err = db.Collection("c").Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "a", Value: 1}}})
	require.NoError(t, err)
	_, err = db.Collection("c").Indexes().DropOne(ctx, "a_1")
	require.NoError(t, err)
	assert.Equal(t, "create", opType(csNext(t, cs)))
	ev := csNext(t, cs)
	assert.Equal(t, "createIndexes", opType(ev))
	assert.Equal(t, "a_1", ev.Lookup("operationDescription", "indexes", "0", "name").StringValue())
	ev = csNext(t, cs)
	assert.Equal(t, "dropIndexes", opType(ev))
	assert.Equal(t, int32(1), ev.Lookup("operationDescription", "indexes", "0", "key", "a").Int32())
	csQuiet(t, cs)
}

func TestChangeStream_Close_UnblocksNext(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	cs, err := coll.Watch(ctx, Pipeline{})
	require.NoError(t, err)
	done := make(chan bool)
	go func() { done <- cs.Next(ctx) }()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, cs.Close(ctx))
	select {
	case ok := <-done:
		assert.False(t, ok)
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return after Close")
	}
	assert.Zero(t, cs.ID())
	assert.ErrorIs(t, cs.Decode(&bson.D{}), mongo.ErrNilCursor)
	assert.NoError(t, cs.Err())

	cs2, err := coll.Watch(ctx, Pipeline{})
	require.NoError(t, err)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	assert.False(t, cs2.Next(cctx))
	assert.ErrorIs(t, cs2.Err(), context.DeadlineExceeded)
}

func TestChangeStream_Decode(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	cs, err := coll.Watch(ctx, Pipeline{}, csOpts())
	require.NoError(t, err)
	defer cs.Close(ctx)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 7}, {Key: "name", Value: "x"}})
	require.NoError(t, err)
	csNext(t, cs)
	var ev struct {
		ID            bson.Raw            `bson:"_id"`
		OperationType string              `bson:"operationType"`
		ClusterTime   primitive.Timestamp `bson:"clusterTime"`
		NS            struct{ DB, Coll string }
		FullDocument  struct {
			ID   int `bson:"_id"`
			Name string
		} `bson:"fullDocument"`
	}
	require.NoError(t, cs.Decode(&ev))
	assert.Equal(t, "insert", ev.OperationType)
	assert.Equal(t, "x", ev.FullDocument.Name)
	assert.Equal(t, 7, ev.FullDocument.ID)
	assert.Equal(t, "coll", ev.NS.Coll)
	assert.NotZero(t, ev.ClusterTime.T)
}

// TestChangeStream_ConcurrentWriters_ExactlyOnce: several goroutines write
// while a stream reads; every write is seen once, in LSN order.
func TestChangeStream_ConcurrentWriters_ExactlyOnce(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("c")
	cs, err := coll.Watch(ctx, Pipeline{})
	require.NoError(t, err)
	defer cs.Close(ctx)
	const writers, each = 4, 25
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("%d-%d", w, i)}})
				assert.NoError(t, err)
			}
		}(w)
	}
	seen := map[string]bool{}
	var last string
	for len(seen) < writers*each {
		ev := csNext(t, cs)
		id := ev.Lookup("documentKey", "_id").StringValue()
		require.False(t, seen[id], "duplicate %s", id)
		seen[id] = true
		tok := ev.Lookup("_id", "_data").StringValue()
		require.Less(t, last, tok)
		last = tok
	}
	wg.Wait()
	cs2, err := coll.Watch(ctx, Pipeline{}, csOpts())
	require.NoError(t, err)
	defer cs2.Close(ctx)
	csQuiet(t, cs2)
}

// TestChangeStream_SharedStore_OtherClient: a stream sees the commits of
// another client on the same store (another process, as far as the stream
// can tell) by polling.
func TestChangeStream_SharedStore_OtherClient(t *testing.T) {
	ctx := context.Background()
	store := wal.NewMemoryStore()
	a, err := NewClient(ctx, store)
	require.NoError(t, err)
	b, err := NewClient(ctx, nopCloseStore{store})
	require.NoError(t, err)
	defer b.Disconnect(ctx)
	defer a.Disconnect(ctx)
	cs, err := a.Database("db").Collection("c").Watch(ctx, Pipeline{}, options.ChangeStream().SetMaxAwaitTime(50*time.Millisecond))
	require.NoError(t, err)
	defer cs.Close(ctx)
	for i := 0; i < 3; i++ {
		_, err := b.Database("db").Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: i}})
		require.NoError(t, err)
	}
	for i := 0; i < 3; i++ {
		assert.Equal(t, int32(i), csNext(t, cs).Lookup("documentKey", "_id").Int32())
	}
}

// nopCloseStore shares a store between two clients: only one closes it.
type nopCloseStore struct{ wal.Store }

func (nopCloseStore) Close() error { return nil }

func TestChangeStream_Token_RoundTrip(t *testing.T) {
	tests := []streamToken{
		{pos: streamPos{lsn: 1}, branch: "main"},
		{pos: streamPos{lsn: 1 << 40, op: 7, sub: 3}, invalidate: true, branch: "b12"},
		{pos: highWater(5), branch: "main"},
		{pos: highWater(0), branch: "main"},
	}
	for _, tc := range tests {
		got, err := parseStreamToken(tc.raw())
		require.NoError(t, err)
		assert.Equal(t, tc, got)
	}
	a := streamToken{pos: streamPos{lsn: 2, op: 1}, branch: "main"}.raw().Lookup("_data").StringValue()
	b := streamToken{pos: streamPos{lsn: 10}, branch: "main"}.raw().Lookup("_data").StringValue()
	assert.Less(t, a, b)
}

func FuzzChangeStream_ParseToken(f *testing.F) {
	f.Add(streamToken{pos: streamPos{lsn: 3}, branch: "main"}.raw().Lookup("_data").StringValue())
	f.Add("")
	f.Add("01")
	f.Fuzz(func(t *testing.T, data string) {
		doc, _ := bson.Marshal(bson.D{{Key: "_data", Value: data}})
		if tok, err := parseStreamToken(doc); err == nil {
			again, err := parseStreamToken(tok.raw())
			require.NoError(t, err)
			require.Equal(t, tok, again)
		}
	})
}

// gcStore hides the records below from, as garbage collection would.
type gcStore struct {
	wal.Store
	from wal.LSN
}

func (s gcStore) Read(ctx context.Context, project string, from wal.LSN, limit int) ([]wal.Record, error) {
	return s.Store.Read(ctx, project, max(from, s.from), limit)
}

func TestChangeStream_Resume_HistoryLost(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("coll")
	cs, err := coll.Watch(ctx, Pipeline{}, csOpts())
	require.NoError(t, err)
	defer cs.Close(ctx)
	for i := 0; i < 5; i++ {
		_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}})
		require.NoError(t, err)
	}
	first := csNext(t, cs).Lookup("_id").Document()
	for _, hideBelow := range []wal.LSN{3, 100} {
		s, err := coll.Watch(ctx, Pipeline{}, csOpts().SetResumeAfter(first))
		require.NoError(t, err)
		s.store = gcStore{Store: s.store, from: hideBelow}
		assert.False(t, s.TryNext(ctx))
		var ce CommandError
		require.ErrorAs(t, s.Err(), &ce)
		assert.Equal(t, int32(286), ce.Code)
		assert.Equal(t, "ChangeStreamHistoryLost", ce.Name)
		require.NoError(t, s.Close(ctx))
	}
}

// BenchmarkChangeStream_CommitToEvent measures one insert and the Next that
// returns its event: a commit of this process wakes the waiting stream at
// once, without waiting for the next poll.
func BenchmarkChangeStream_CommitToEvent(b *testing.B) {
	ctx := context.Background()
	c, err := OpenMemory(ctx)
	require.NoError(b, err)
	defer c.Disconnect(ctx)
	coll := c.Database("db").Collection("c")
	cs, err := coll.Watch(ctx, Pipeline{})
	require.NoError(b, err)
	defer cs.Close(ctx)
	got := make(chan struct{})
	go func() {
		for cs.Next(ctx) {
			got <- struct{}{}
		}
		close(got)
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			b.Fatal(err)
		}
		<-got
	}
}

func TestChangeStream_Next_AfterDisconnect(t *testing.T) {
	ctx := context.Background()
	c, err := OpenMemory(ctx)
	require.NoError(t, err)
	cs, err := c.Database("db").Collection("c").Watch(ctx, Pipeline{})
	require.NoError(t, err)
	done := make(chan bool)
	go func() { done <- cs.Next(ctx) }()
	require.NoError(t, c.Disconnect(ctx))
	select {
	case ok := <-done:
		assert.False(t, ok)
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return after Disconnect")
	}
	assert.ErrorIs(t, cs.Err(), mongo.ErrClientDisconnected)
	_, err = c.Watch(ctx, Pipeline{})
	assert.ErrorIs(t, err, mongo.ErrClientDisconnected)
}

// TestChangeStream_Methods_Concurrent calls the accessors from several
// goroutines while one reads events and others write (run with -race).
func TestChangeStream_Methods_Concurrent(t *testing.T) {
	ctx := context.Background()
	coll := crudColl(t)
	cs, err := coll.Watch(ctx, Pipeline{}, csOpts().SetBatchSize(2))
	require.NoError(t, err)
	const n = 40
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = cs.ResumeToken()
				_ = cs.RemainingBatchLength()
				_ = cs.ID()
				_ = cs.Err()
				cs.SetBatchSize(3)
			}
		}()
	}
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < n/2; i++ {
				_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: w*1000 + i}})
				assert.NoError(t, err)
			}
		}(w)
	}
	for i := 0; i < n; i++ {
		csNext(t, cs)
	}
	close(stop)
	wg.Wait()
	require.NoError(t, cs.Close(ctx))
}

// BenchmarkChangeStream_ReadHistory reads 10,000 insert events from the
// start of the log, without and with a $match that keeps one in ten.
func BenchmarkChangeStream_ReadHistory(b *testing.B) {
	ctx := context.Background()
	c, err := OpenMemory(ctx)
	require.NoError(b, err)
	defer c.Disconnect(ctx)
	coll := c.Database("db").Collection("c")
	const n = 10000
	for i := 0; i < n; i += 1000 {
		docs := make([]interface{}, 1000)
		for j := range docs {
			docs[j] = bson.D{{Key: "_id", Value: i + j}, {Key: "k", Value: (i + j) % 10}}
		}
		_, err := coll.InsertMany(ctx, docs)
		require.NoError(b, err)
	}
	for _, bc := range []struct {
		name     string
		pipeline Pipeline
		want     int
	}{
		{"all", Pipeline{}, n},
		{"match", Pipeline{{{Key: "$match", Value: bson.D{{Key: "fullDocument.k", Value: 0}}}}}, n / 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				cs, err := coll.Watch(ctx, bc.pipeline, options.ChangeStream().SetStartAtOperationTime(&primitive.Timestamp{}))
				require.NoError(b, err)
				for got := 0; got < bc.want; got++ {
					if !cs.Next(ctx) {
						b.Fatal(cs.Err())
					}
				}
				require.NoError(b, cs.Close(ctx))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/logged-op")
		})
	}
}

// TestChangeStream_EventsOf_Rename builds the events of a rename record
// directly: nothing in the API writes one yet, but the log format has it.
func TestChangeStream_EventsOf_Rename(t *testing.T) {
	desc, _ := bson.Marshal(bson.D{{Key: "to", Value: "db.new"}, {Key: "dropTarget", Value: true}})
	rec := &wal.Record{LSN: 7, Time: time.Unix(100, 0), Branch: "main",
		Ops: []wal.Op{{Kind: wal.OpRenameCollection, DB: "db", Coll: "old", Doc: desc}}}
	tests := []struct {
		scope    streamScope
		expanded bool
		want     []string
	}{
		{streamScope{}, false, []string{`{"db": "db","coll": "old"}`}},
		{streamScope{db: "db"}, true, []string{`{"db": "db","coll": "old"}`}},
		{streamScope{db: "db", coll: "old"}, false, []string{`{"db": "db","coll": "old"}`, "invalidate"}},
		{streamScope{db: "db", coll: "other"}, false, nil},
		{streamScope{db: "other"}, false, nil},
	}
	for _, tc := range tests {
		cs := &ChangeStream{scope: tc.scope, follow: "main", expanded: tc.expanded}
		evs, err := cs.eventsOf(context.Background(), rec)
		require.NoError(t, err)
		var got []string
		for _, ev := range evs {
			doc := bson.Raw(ev.doc)
			if opType(doc) == "invalidate" {
				got = append(got, "invalidate")
				continue
			}
			require.Equal(t, "rename", opType(doc))
			assert.Equal(t, `{"db": "db","coll": "new"}`, doc.Lookup("to").Document().String())
			_, err := doc.LookupErr("operationDescription", "dropTarget")
			assert.Equal(t, tc.expanded, err == nil)
			got = append(got, doc.Lookup("ns").Document().String())
			ts, i := doc.Lookup("clusterTime").Timestamp()
			assert.Equal(t, []uint32{100, 7}, []uint32{ts, i})
		}
		assert.Equal(t, tc.want, got, "%+v", tc.scope)
	}
}

func FuzzChangeStream_Pipeline(f *testing.F) {
	seed := func(p Pipeline) []byte {
		raw, err := codec{}.pipelineArray(p)
		require.NoError(f, err)
		return raw
	}
	f.Add(seed(Pipeline{{{Key: "$match", Value: bson.D{{Key: "operationType", Value: "insert"}}}}}))
	f.Add(seed(Pipeline{{{Key: "$project", Value: bson.D{{Key: "fullDocument", Value: 0}}}}, {{Key: "$set", Value: bson.D{{Key: "x", Value: "$ns.db"}}}}}))
	f.Add(seed(Pipeline{{{Key: "$group", Value: bson.D{{Key: "_id", Value: nil}}}}}))
	f.Add([]byte{5, 0, 0, 0, 0})
	event, _ := bson.Marshal(bson.D{{Key: "_id", Value: bson.D{{Key: "_data", Value: "01"}}}, {Key: "operationType", Value: "insert"},
		{Key: "fullDocument", Value: bson.D{{Key: "_id", Value: 1}}}, {Key: "ns", Value: bson.D{{Key: "db", Value: "d"}, {Key: "coll", Value: "c"}}}})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _, err := compileStreamPipeline(codec{}, bsoncore.Array(data))
		if err != nil {
			return
		}
		_, _ = p.RunSlice([]bson.Raw{event})
	})
}
