package materialize_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/argon-lab/argon/materialize"
)

func ExampleCompileUpdate() {
	doc, _ := bson.Marshal(bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: int32(2147483647)}, {Key: "tags", Value: bson.A{"a"}}})
	upd, _ := bson.Marshal(bson.D{
		{Key: "$inc", Value: bson.D{{Key: "n", Value: int32(1)}}},
		{Key: "$push", Value: bson.D{{Key: "tags", Value: "b"}}},
		{Key: "$set", Value: bson.D{{Key: "z", Value: true}, {Key: "m.x", Value: 1.5}}},
	})
	u, err := materialize.CompileUpdate(upd, materialize.UpdateOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, changed, err := u.Apply(doc, materialize.ApplyContext{PositionalIndex: -1, Now: time.Unix(0, 0)})
	fmt.Println(bson.Raw(out).String(), changed, err)
	// Output: {"_id": {"$numberInt":"1"},"n": {"$numberLong":"2147483648"},"tags": ["a","b"],"m": {"x": {"$numberDouble":"1.5"}},"z": true} true <nil>
}

func ExampleCompileProjection() {
	doc, _ := bson.Marshal(bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: bson.A{1, 2, 3}}, {Key: "b", Value: bson.D{{Key: "c", Value: 1}, {Key: "d", Value: 2}}}})
	proj, _ := bson.Marshal(bson.D{{Key: "a", Value: bson.D{{Key: "$slice", Value: -1}}}, {Key: "b.d", Value: 1}})
	p, err := materialize.CompileProjection(proj)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := p.Apply(doc, -1)
	fmt.Println(bson.Raw(out).String(), err)
	// Output: {"_id": {"$numberInt":"1"},"a": [{"$numberInt":"3"}],"b": {"d": {"$numberInt":"2"}}} <nil>
}

func ExampleUpsertSeed() {
	f, _ := materialize.CompileFilter(bson.Raw(mustMarshal(bson.D{{Key: "name", Value: "x"}, {Key: "_id", Value: 7}, {Key: "n", Value: bson.D{{Key: "$gt", Value: 1}}}})))
	seed, err := materialize.UpsertSeed(f.EqualityFields())
	fmt.Println(seed.String(), err)
	// Output: {"_id": {"$numberInt":"7"},"name": "x"} <nil>
}

func mustMarshal(v any) []byte {
	b, err := bson.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Compiled updates and projections are shared by concurrent statements.
func TestUpdate_Apply_Concurrent(t *testing.T) {
	u, err := materialize.CompileUpdate(mustMarshal(bson.D{
		{Key: "$inc", Value: bson.D{{Key: "a.$[x].n", Value: 1}}},
		{Key: "$push", Value: bson.D{{Key: "log", Value: bson.D{{Key: "$each", Value: bson.A{1, 2}}, {Key: "$sort", Value: -1}}}}},
	}), materialize.UpdateOptions{ArrayFilters: []bson.Raw{mustMarshal(bson.D{{Key: "x.n", Value: bson.D{{Key: "$gt", Value: 0}}}})}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := materialize.CompileProjection(mustMarshal(bson.D{{Key: "a.n", Value: 1}, {Key: "log", Value: bson.D{{Key: "$slice", Value: 1}}}}))
	if err != nil {
		t.Fatal(err)
	}
	doc := mustMarshal(bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: bson.A{bson.D{{Key: "n", Value: 1}}, bson.D{{Key: "n", Value: 0}}}}})
	var wg sync.WaitGroup
	results := make([]string, 8)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, _, err := u.Apply(doc, materialize.ApplyContext{PositionalIndex: -1})
			if err != nil {
				results[i] = err.Error()
				return
			}
			pr, err := p.Apply(out, -1)
			if err != nil {
				results[i] = err.Error()
				return
			}
			results[i] = bson.Raw(pr).String()
		}(i)
	}
	wg.Wait()
	for _, r := range results[1:] {
		if r != results[0] {
			t.Fatalf("results differ: %s vs %s", r, results[0])
		}
	}
	if want := `{"_id": {"$numberInt":"1"},"a": [{"n": {"$numberInt":"2"}},{"n": {"$numberInt":"0"}}],"log": [{"$numberInt":"2"}]}`; results[0] != want {
		t.Fatalf("got %s", results[0])
	}
}
