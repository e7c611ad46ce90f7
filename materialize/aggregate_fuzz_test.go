package materialize

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// FuzzCompilePipeline feeds arbitrary bytes (BSON or extended JSON) to
// CompileAggregate and runs whatever compiles on a few documents: nothing
// may panic, errors are *Error, outputs are valid documents. The pipeline
// is the array field "p" of the first input; the second is let.
func FuzzCompilePipeline(f *testing.F) {
	seeds := []struct{ pipe, let string }{
		{`{"p":[{"$match":{"a":{"$gt":0}}},{"$project":{"a":1}}]}`, `{}`},
		{`{"p":[{"$group":{"_id":"$a","n":{"$sum":1},"s":{"$addToSet":"$b"},"m":{"$max":"$x"}}},{"$sort":{"n":-1}}]}`, `{}`},
		{`{"p":[{"$unwind":{"path":"$e","includeArrayIndex":"i","preserveNullAndEmptyArrays":true}},{"$count":"c"}]}`, `{}`},
		{`{"p":[{"$facet":{"a":[{"$sortByCount":"$a"}],"b":[{"$bucket":{"groupBy":"$a","boundaries":[0,5],"default":"x"}}]}}]}`, `{}`},
		{`{"p":[{"$lookup":{"from":"c","let":{"v":"$a"},"pipeline":[{"$match":{"$expr":{"$eq":["$a","$$v"]}}}],"as":"j"}},{"$unionWith":"c"}]}`, `{"x":1}`},
		{`{"p":[{"$sample":{"size":2}},{"$skip":1},{"$limit":1},{"$replaceWith":"$$ROOT"},{"$set":{"q":"$$x"}}]}`, `{"x":2}`},
		{`{"p":[{"$documents":[{"a":1}]},{"$unset":"a"}]}`, `{}`},
		{`{"p":[{"$bucketAuto":{"groupBy":"$a","buckets":2,"output":{"n":{"$count":{}}}}},{"$match":{"$sampleRate":0.5}}]}`, `{}`},
		{`{"p":[{"$graphLookup":{"from":"c","startWith":"$a","connectFromField":"b.c","connectToField":"a","as":"g","maxDepth":2,"depthField":"d"}}]}`, `{}`},
		{`{"p":[{"$fill":{"partitionBy":"$s","sortBy":{"x":1},"output":{"a":{"method":"linear"},"n":{"method":"locf"},"q":{"value":1}}}}]}`, `{}`},
		{`{"p":[{"$densify":{"field":"x","partitionByFields":["s"],"range":{"step":1,"bounds":"partition"}}}]}`, `{}`},
		{`{"p":[{"$redact":{"$cond":[{"$eq":["$a",1]},"$$PRUNE","$$DESCEND"]}}]}`, `{}`},
		{`{"p":[{"$setWindowFields":{"partitionBy":"$s","sortBy":{"x":1},"output":{"r":{"$sum":"$a","window":{"documents":[-1,1]}},"k":{"$rank":{}},"h":{"$shift":{"output":"$a","by":1}},"q":{"$push":"$a","window":{"range":[-1,"current"]}}}}}]}`, `{}`},
		{`{"p":[{"$setWindowFields":{"partitionBy":"$s","sortBy":{"x":1},"output":{"l":{"$locf":"$a"},"f":{"$linearFill":"$a"},"e":{"$expMovingAvg":{"input":"$a","N":3}},"c":{"$covarianceSamp":["$a","$x"],"window":{"documents":[-1,1]}}}}}]}`, `{}`},
		{`{"p":[{"$set":{"r":{"$rand":{}},"m":{"$setUnion":["$e",[1]]},"o":{"$objectToArray":"$b"},"p":{"$pow":["$a",3]},"t":{"$round":["$x",1]},"x":{"$regexMatch":{"input":"$s","regex":"x"}},"y":{"$dateAdd":{"startDate":"$t","unit":"month","amount":"$a"}},"w":{"$dateTrunc":{"date":"$t","unit":"week","binSize":"$a"}},"z":{"$dateDiff":{"startDate":"$t","endDate":"$t","unit":"week","startOfWeek":"$s"}}}}]}`, `{}`},
		{`{"p":[{"$project":{"f":{"$regexFindAll":{"input":"$s","regex":"(x)?.","options":"i"}},"g":{"$regexFind":{"input":"$s","regex":"a"}},"p":{"$dateToParts":{"date":"$t","iso8601":true,"timezone":"+01:30"}},"q":{"$dateFromParts":{"year":"$a","month":14,"millisecond":"$x"}},"r":{"$bsonSize":"$$ROOT"},"u":{"$tsSecond":"$t"},"v":{"$dateFromString":{"dateString":"$s","format":"%d/%m/%Y %H:%M %z","onError":null}},"w":{"$dateFromString":{"dateString":"2017-02-08T12:10:40.787+0530"}}}}]}`, `{}`},
	}
	for _, s := range seeds {
		f.Add([]byte(aggEJ(f, s.pipe)), []byte(aggEJ(f, s.let)))
		f.Add([]byte(s.pipe), []byte(s.let))
	}
	docs := []bson.Raw{
		aggEJ(f, `{}`),
		aggEJ(f, `{"_id":1,"a":1,"b":{"c":[1,2,{"d":3}]},"e":[{"f":1},{"f":2},3],"s":"x"}`),
		aggEJ(f, `{"_id":{"k":1},"a":[[1,2],[3]],"n":{"$numberLong":"9223372036854775807"},"d":{"$numberDecimal":"1.5"},"x":2.5}`),
		aggEJ(f, `{"a":null,"e":[],"t":{"$timestamp":{"t":0,"i":0}},"r":{"$regularExpression":{"pattern":"a","options":""}}}`),
	}
	resolve := func(string) (DocSeq, error) { return SliceSeq(docs), nil }
	f.Fuzz(func(t *testing.T, wrapped, let []byte) {
		wrapped, let = aggFuzzInput(wrapped), aggFuzzInput(let)
		if validateDocument(wrapped) != nil {
			return
		}
		v, err := bson.Raw(wrapped).LookupErr("p")
		if err != nil {
			return
		}
		arr, ok := v.ArrayOK()
		if !ok {
			return
		}
		if validateDocument(let) != nil {
			let = nil
		}
		p, err := CompileAggregate(bson.Raw(arr), AggregateOptions{Let: let, Resolve: resolve})
		if err != nil {
			aggFuzzErr(t, err)
			return
		}
		out, err := p.RunSlice(docs)
		if err != nil {
			aggFuzzErr(t, err)
			return
		}
		for _, d := range out {
			if err := validateDocument(d); err != nil {
				t.Fatalf("invalid output document %x", []byte(d))
			}
		}
	})
}

func aggFuzzInput(b []byte) []byte {
	if validateDocument(b) == nil {
		return b
	}
	var r bson.Raw
	if err := bson.UnmarshalExtJSON(b, false, &r); err == nil {
		return r
	}
	return b
}

func aggFuzzErr(t *testing.T, err error) {
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error is %T, not *Error: %v", err, err)
	}
}
