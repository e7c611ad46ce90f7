package materialize_test

import (
	"fmt"
	"log"

	"github.com/argon-lab/argon/materialize"
	"go.mongodb.org/mongo-driver/bson"
)

func mustRaw(v interface{}) bson.Raw {
	b, err := bson.Marshal(v)
	if err != nil {
		log.Fatal(err)
	}
	return b
}

// A filter whose $expr reads a let variable.
func ExampleCompileFilterWithVars() {
	f, err := materialize.CompileFilterWithVars(
		mustRaw(bson.D{{Key: "$expr", Value: bson.D{{Key: "$eq", Value: bson.A{"$_id", "$$id"}}}}}),
		mustRaw(bson.D{{Key: "id", Value: 1}}))
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range []int{1, 2} {
		ok, err := f.Match(mustRaw(bson.D{{Key: "_id", Value: id}}))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(id, ok)
	}
	_, err = materialize.CompileFilterWithVars(mustRaw(bson.D{}), mustRaw(bson.D{{Key: "Id", Value: 1}}))
	fmt.Println(err)
	// Output:
	// 1 true
	// 2 false
	// Invalid 'let' parameter :: caused by :: 'Id' starts with an invalid character for a user variable name
}

// A pipeline-style update: the stages run on the document, and the result
// replaces it, keeping its _id.
func ExampleCompileUpdatePipeline() {
	_, pipeline, err := bson.MarshalValue(bson.A{
		bson.D{{Key: "$replaceRoot", Value: bson.D{{Key: "newRoot", Value: "$t"}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: bson.D{{Key: "$add", Value: bson.A{"$n", "$$step"}}}}}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	u, err := materialize.CompileUpdatePipeline(pipeline, materialize.UpdateOptions{Let: mustRaw(bson.D{{Key: "step", Value: 10}})})
	if err != nil {
		log.Fatal(err)
	}
	out, changed, err := u.Apply(mustRaw(bson.D{{Key: "_id", Value: 1}, {Key: "t", Value: bson.D{{Key: "n", Value: 5}}}}), materialize.ApplyContext{PositionalIndex: -1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out, changed)
	// Output: {"_id": {"$numberInt":"1"},"n": {"$numberInt":"15"}} true
}
