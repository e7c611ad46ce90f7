package materialize

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

func TestPipeline_Run_BucketAuto(t *testing.T) {
	docs := []string{`{"_id": 1, "p": 5}`, `{"_id": 2, "p": 1}`, `{"_id": 3, "p": 3}`, `{"_id": 4, "p": 3}`, `{"_id": 5, "p": 9}`, `{"_id": 6}`}
	runAggCases(t, []aggCase{
		{name: "two buckets", docs: docs, pipe: `[{"$bucketAuto": {"groupBy": "$p", "buckets": 2}}]`, want: []string{
			`{"_id": {"min": null, "max": 5}, "count": 4}`, // the second 3 joins the bucket its twin is in
			`{"_id": {"min": 5, "max": 9}, "count": 2}`,
		}},
		{name: "three buckets", docs: docs, pipe: `[{"$bucketAuto": {"groupBy": "$p", "buckets": 3}}]`, want: []string{
			`{"_id": {"min": null, "max": 3}, "count": 2}`,
			`{"_id": {"min": 3, "max": 5}, "count": 2}`,
			`{"_id": {"min": 5, "max": 9}, "count": 2}`,
		}},
		{name: "more buckets than values", docs: docs[:2], pipe: `[{"$bucketAuto": {"groupBy": "$p", "buckets": 5, "output": {"ids": {"$push": "$_id"}}}}]`, want: []string{
			`{"_id": {"min": 1, "max": 5}, "ids": [2]}`,
			`{"_id": {"min": 5, "max": 5}, "ids": [1]}`,
		}},
		{name: "no input", pipe: `[{"$bucketAuto": {"groupBy": "$p", "buckets": 2}}]`},
		{name: "not an object", pipe: `[{"$bucketAuto": 1}]`, code: 40240},
		{name: "bad buckets", pipe: `[{"$bucketAuto": {"groupBy": "$p", "buckets": "x"}}]`, code: 40241},
		{name: "zero buckets", pipe: `[{"$bucketAuto": {"groupBy": "$p", "buckets": 0}}]`, code: 40243},
		{name: "bad groupBy", pipe: `[{"$bucketAuto": {"groupBy": "p", "buckets": 2}}]`, code: 40239},
		{name: "missing buckets", pipe: `[{"$bucketAuto": {"groupBy": "$p"}}]`, code: 40246},
		{name: "unknown option", pipe: `[{"$bucketAuto": {"groupBy": "$p", "buckets": 1, "x": 1}}]`, code: 40245},
		{name: "granularity", pipe: `[{"$bucketAuto": {"groupBy": "$p", "buckets": 1, "granularity": "R5"}}]`, code: 238},
	})
}

func TestPipeline_Run_GraphLookup(t *testing.T) {
	aggOtherColls["employees"] = []string{
		`{"_id": 1, "name": "Dev"}`,
		`{"_id": 2, "name": "Eliot", "reportsTo": "Dev"}`,
		`{"_id": 3, "name": "Ron", "reportsTo": "Eliot"}`,
		`{"_id": 4, "name": "Andrew", "reportsTo": "Eliot"}`,
		`{"_id": 5, "name": "Asya", "reportsTo": "Ron"}`,
		`{"_id": 6, "name": "Dan", "reportsTo": "Andrew"}`,
	}
	defer delete(aggOtherColls, "employees")
	in := []string{`{"_id": 9, "name": "Dan", "reportsTo": "Andrew"}`}
	runAggCases(t, []aggCase{
		{name: "chain", docs: in, pipe: `[{"$graphLookup": {"from": "employees", "startWith": "$reportsTo", "connectFromField": "reportsTo", "connectToField": "name", "as": "chain", "depthField": "d"}},
			{"$project": {"names": "$chain.name", "depths": "$chain.d"}}]`,
			want: []string{`{"_id": 9, "names": ["Andrew", "Eliot", "Dev"], "depths": [{"$numberLong": "0"}, {"$numberLong": "1"}, {"$numberLong": "2"}]}`}},
		{name: "maxDepth", docs: in, pipe: `[{"$graphLookup": {"from": "employees", "startWith": "$reportsTo", "connectFromField": "reportsTo", "connectToField": "name", "as": "chain", "maxDepth": 1}},
			{"$project": {"names": "$chain.name"}}]`,
			want: []string{`{"_id": 9, "names": ["Andrew", "Eliot"]}`}},
		{name: "restrict", docs: in, pipe: `[{"$graphLookup": {"from": "employees", "startWith": "$reportsTo", "connectFromField": "reportsTo", "connectToField": "name", "as": "chain", "restrictSearchWithMatch": {"_id": {"$ne": 2}}}},
			{"$project": {"names": "$chain.name"}}]`,
			want: []string{`{"_id": 9, "names": ["Andrew"]}`}},
		{name: "downwards with an array start", docs: []string{`{"_id": 0, "boss": ["Eliot"]}`}, pipe: `[{"$graphLookup": {"from": "employees", "startWith": "$boss", "connectFromField": "name", "connectToField": "reportsTo", "as": "team"}},
			{"$project": {"ids": "$team._id"}}]`,
			want: []string{`{"_id": 0, "ids": [3, 4, 5, 6]}`}},
		{name: "cycle ends", docs: []string{`{"_id": 0, "s": 1}`}, pipe: `[{"$graphLookup": {"from": "more", "startWith": "$s", "connectFromField": "x", "connectToField": "x", "as": "r"}}, {"$project": {"n": {"$size": "$r"}}}]`,
			want: []string{`{"_id": 0, "n": 1}`}},
		{name: "missing start", docs: []string{`{"_id": 0}`}, pipe: `[{"$graphLookup": {"from": "employees", "startWith": "$nope", "connectFromField": "reportsTo", "connectToField": "name", "as": "r"}}]`,
			want: []string{`{"_id": 0, "r": []}`}},
		{name: "missing fields", pipe: `[{"$graphLookup": {"from": "employees", "as": "r"}}]`, code: 40105},
		{name: "bad maxDepth", pipe: `[{"$graphLookup": {"from": "e", "startWith": 1, "connectFromField": "a", "connectToField": "b", "as": "r", "maxDepth": -1}}]`, code: 40101},
		{name: "bad field type", pipe: `[{"$graphLookup": {"from": 1}}]`, code: 40103},
		{name: "unknown", pipe: `[{"$graphLookup": {"foo": 1}}]`, code: 40104},
		{name: "not an object", pipe: `[{"$graphLookup": 1}]`, code: 40327},
	})
}

func TestPipeline_Run_Redact(t *testing.T) {
	doc := `{"_id": 1, "level": 1, "a": {"level": 5, "x": 1}, "b": [{"level": 1, "y": 2}, {"level": 9}, 3, [{"level": 9}]], "c": {"z": 1}}`
	runAggCases(t, []aggCase{
		{name: "descend and prune", docs: []string{doc}, pipe: `[{"$redact": {"$cond": [{"$gt": [{"$ifNull": ["$level", 0]}, 4]}, "$$PRUNE", "$$DESCEND"]}}]`,
			want: []string{`{"_id": 1, "level": 1, "b": [{"level": 1, "y": 2}, 3, []], "c": {"z": 1}}`}},
		{name: "keep", docs: []string{doc}, pipe: `[{"$redact": "$$KEEP"}]`, want: []string{doc}},
		{name: "prune the document", docs: []string{doc}, pipe: `[{"$redact": "$$PRUNE"}]`},
		{name: "root is the document", docs: []string{doc}, pipe: `[{"$redact": {"$cond": [{"$eq": ["$$ROOT._id", 1]}, "$$KEEP", "$$PRUNE"]}}]`, want: []string{doc}},
		{name: "bad result", docs: []string{doc}, pipe: `[{"$redact": 1}]`, code: 17053},
		{name: "unknown variable", pipe: `[{"$redact": "$$NOPE"}]`, code: 17276},
	})
}

func TestPipeline_Run_SampleRate(t *testing.T) {
	var docs []bson.Raw
	for i := 0; i < 2000; i++ {
		docs = append(docs, buildDoc([]string{"_id"}, []bson.RawValue{valInt32(int32(i))}))
	}
	for _, tc := range []struct {
		rate     string
		min, max int
	}{{"0", 0, 0}, {"1", 2000, 2000}, {"0.5", 800, 1200}} {
		p, err := CompileAggregate(aggArray(t, `[{"$match": {"$sampleRate": `+tc.rate+`}}]`), AggregateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.RunSlice(docs)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) < tc.min || len(out) > tc.max {
			t.Errorf("rate %s kept %d of 2000, want %d..%d", tc.rate, len(out), tc.min, tc.max)
		}
	}
	runAggCases(t, []aggCase{
		{name: "too big", pipe: `[{"$match": {"$sampleRate": 1.5}}]`, code: 2},
		{name: "negative", pipe: `[{"$match": {"$sampleRate": -0.1}}]`, code: 2},
		{name: "not a number", pipe: `[{"$match": {"$sampleRate": "x"}}]`, code: 2},
		{name: "inside elemMatch", pipe: `[{"$match": {"a": {"$elemMatch": {"$sampleRate": 0.5}}}}]`, code: 2},
		{name: "not a stage", pipe: `[{"$sampleRate": 0.5}]`, code: 40324},
	})
}

func TestPipeline_Run_SetWindowFields(t *testing.T) {
	docs := []string{
		`{"_id": 1, "s": "A", "t": 1, "v": 10}`,
		`{"_id": 2, "s": "B", "t": 1, "v": 5}`,
		`{"_id": 3, "s": "A", "t": 2, "v": 20}`,
		`{"_id": 4, "s": "A", "t": 2, "v": 30}`,
		`{"_id": 5, "s": "A", "t": 5, "v": 40}`,
		`{"_id": 6, "s": "B", "t": 3}`,
	}
	proj := `{"$project": {"_id": 1, "r": 1}}`
	// Gaps to fill: in partition "a" by t, v is 10, null, missing, 40, null
	// after a leading null.
	gaps := []string{
		`{"_id": 11, "g": "a", "t": 0, "v": null}`,
		`{"_id": 12, "g": "a", "t": 1, "v": 10}`,
		`{"_id": 13, "g": "a", "t": 2, "v": null}`,
		`{"_id": 14, "g": "a", "t": 3}`,
		`{"_id": 15, "g": "a", "t": 4, "v": 40}`,
		`{"_id": 16, "g": "a", "t": 5}`,
		`{"_id": 21, "g": "b", "t": 1, "v": 7}`,
	}
	runAggCases(t, []aggCase{
		{name: "partition sum", docs: docs, pipe: `[{"$setWindowFields": {"partitionBy": "$s", "output": {"r": {"$sum": "$v"}}}}, ` + proj + `]`,
			want: []string{`{"_id": 1, "r": 100}`, `{"_id": 3, "r": 100}`, `{"_id": 4, "r": 100}`, `{"_id": 5, "r": 100}`, `{"_id": 2, "r": 5}`, `{"_id": 6, "r": 5}`}},
		{name: "running total", docs: docs, pipe: `[{"$setWindowFields": {"partitionBy": "$s", "sortBy": {"t": 1}, "output": {"r": {"$sum": "$v", "window": {"documents": ["unbounded", "current"]}}}}}, ` + proj + `]`,
			want: []string{`{"_id": 1, "r": 10}`, `{"_id": 3, "r": 30}`, `{"_id": 4, "r": 60}`, `{"_id": 5, "r": 100}`, `{"_id": 2, "r": 5}`, `{"_id": 6, "r": 5}`}},
		{name: "moving average", docs: docs[:5], pipe: `[{"$match": {"s": "A"}}, {"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$avg": "$v", "window": {"documents": [-1, 1]}}}}}, ` + proj + `]`,
			want: []string{`{"_id": 1, "r": 15.0}`, `{"_id": 3, "r": 20.0}`, `{"_id": 4, "r": 30.0}`, `{"_id": 5, "r": 35.0}`}},
		{name: "empty window", docs: docs[:3], pipe: `[{"$setWindowFields": {"sortBy": {"_id": 1}, "output": {"r": {"$push": "$v", "window": {"documents": [-5, -3]}}}}}, ` + proj + `]`,
			want: []string{`{"_id": 1, "r": []}`, `{"_id": 2, "r": []}`, `{"_id": 3, "r": []}`}},
		{name: "range window", docs: docs[:5], pipe: `[{"$match": {"s": "A"}}, {"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$push": "$_id", "window": {"range": [-1, 0]}}}}}, ` + proj + `]`,
			want: []string{`{"_id": 1, "r": [1]}`, `{"_id": 3, "r": [1, 3, 4]}`, `{"_id": 4, "r": [1, 3, 4]}`, `{"_id": 5, "r": [5]}`}},
		{name: "range current unbounded", docs: docs[:5], pipe: `[{"$match": {"s": "A"}}, {"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$count": {}, "window": {"range": ["current", "unbounded"]}}}}}, ` + proj + `]`,
			want: []string{`{"_id": 1, "r": 4}`, `{"_id": 3, "r": 3}`, `{"_id": 4, "r": 3}`, `{"_id": 5, "r": 1}`}},
		{name: "ranks", docs: docs[:5], pipe: `[{"$match": {"s": "A"}}, {"$setWindowFields": {"sortBy": {"t": 1}, "output": {"rank": {"$rank": {}}, "dense": {"$denseRank": {}}, "n": {"$documentNumber": {}}}}}, {"$project": {"rank": 1, "dense": 1, "n": 1}}]`,
			want: []string{`{"_id": 1, "rank": 1, "dense": 1, "n": 1}`, `{"_id": 3, "rank": 2, "dense": 2, "n": 2}`, `{"_id": 4, "rank": 2, "dense": 2, "n": 3}`, `{"_id": 5, "rank": 4, "dense": 3, "n": 4}`}},
		{name: "shift", docs: docs, pipe: `[{"$setWindowFields": {"partitionBy": "$s", "sortBy": {"_id": 1}, "output": {"r": {"$shift": {"output": "$v", "by": -1, "default": "none"}}}}}, ` + proj + `]`,
			want: []string{`{"_id": 1, "r": "none"}`, `{"_id": 3, "r": 10}`, `{"_id": 4, "r": 20}`, `{"_id": 5, "r": 30}`, `{"_id": 2, "r": "none"}`, `{"_id": 6, "r": 5}`}},
		{name: "first last min max", docs: docs[:5], pipe: `[{"$match": {"s": "A"}}, {"$setWindowFields": {"sortBy": {"t": -1}, "output": {"f": {"$first": "$_id"}, "l": {"$last": "$_id"}, "mn": {"$min": "$v"}, "mx": {"$max": "$v"}}}}, {"$limit": 1}]`,
			want: []string{`{"_id": 5, "s": "A", "t": 5, "v": 40, "f": 5, "l": 1, "mn": 10, "mx": 40}`}},
		{name: "dotted output", docs: docs[:1], pipe: `[{"$setWindowFields": {"output": {"x.y": {"$sum": 1}}}}, {"$project": {"x": 1}}]`,
			want: []string{`{"_id": 1, "x": {"y": 1}}`}},
		{name: "range needs numbers", docs: []string{`{"_id": 1, "t": "x"}`}, pipe: `[{"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$sum": 1, "window": {"range": [-1, 1]}}}}}]`, code: 5429414},
		{name: "missing output", pipe: `[{"$setWindowFields": {"partitionBy": "$s"}}]`, code: 40414},
		{name: "unknown field", pipe: `[{"$setWindowFields": {"output": {}, "x": 1}}]`, code: 40415},
		{name: "unknown function", pipe: `[{"$setWindowFields": {"output": {"r": {"$foo": 1}}}}]`, code: 9},
		{name: "unsupported function", pipe: `[{"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$derivative": {"input": "$v"}}}}}]`, code: 238},
		{name: "rank without sortBy", pipe: `[{"$setWindowFields": {"output": {"r": {"$rank": {}}}}}]`, code: 5371602},
		{name: "rank with window", pipe: `[{"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$rank": {}, "window": {"documents": [0, 0]}}}}}]`, code: 5371601},
		{name: "documents window without sortBy", pipe: `[{"$setWindowFields": {"output": {"r": {"$sum": 1, "window": {"documents": [-1, 0]}}}}}]`, code: 5339901},
		{name: "bounds out of order", pipe: `[{"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$sum": 1, "window": {"documents": [1, -1]}}}}}]`, code: 5339900},
		{name: "bad bounds", pipe: `[{"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$sum": 1, "window": {"documents": [1]}}}}}]`, code: 9},
		{name: "fractional documents bound", pipe: `[{"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$sum": 1, "window": {"documents": [-1.5, 0]}}}}}]`, code: 9},
		{name: "range over two keys", pipe: `[{"$setWindowFields": {"sortBy": {"t": 1, "v": 1}, "output": {"r": {"$sum": 1, "window": {"range": [-1, 0]}}}}}]`, code: 5339902},
		{name: "time unit", pipe: `[{"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$sum": 1, "window": {"range": [-1, 0], "unit": "day"}}}}}]`, code: 238},
		{name: "shift without by", pipe: `[{"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$shift": {"output": "$v"}}}}}]`, code: 9},
		{name: "locf", docs: gaps, pipe: `[{"$setWindowFields": {"partitionBy": "$g", "sortBy": {"t": 1}, "output": {"r": {"$locf": "$v"}}}}, ` + proj + `]`,
			want: []string{`{"_id": 11, "r": null}`, `{"_id": 12, "r": 10}`, `{"_id": 13, "r": 10}`, `{"_id": 14, "r": 10}`, `{"_id": 15, "r": 40}`, `{"_id": 16, "r": 40}`, `{"_id": 21, "r": 7}`}},
		{name: "linearFill", docs: gaps, pipe: `[{"$setWindowFields": {"partitionBy": "$g", "sortBy": {"t": 1}, "output": {"r": {"$linearFill": "$v"}}}}, ` + proj + `]`,
			want: []string{`{"_id": 11, "r": null}`, `{"_id": 12, "r": 10}`, `{"_id": 13, "r": 20.0}`, `{"_id": 14, "r": 30.0}`, `{"_id": 15, "r": 40}`, `{"_id": 16, "r": null}`, `{"_id": 21, "r": 7}`}},
		{name: "expMovingAvg", docs: []string{`{"_id": 1, "t": 1, "v": 10}`, `{"_id": 2, "t": 2, "v": "x"}`, `{"_id": 3, "t": 3, "v": 20}`, `{"_id": 4, "t": 4, "v": 40}`},
			pipe: `[{"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$expMovingAvg": {"input": "$v", "alpha": 0.5}}}}}, ` + proj + `]`,
			want: []string{`{"_id": 1, "r": 10.0}`, `{"_id": 2, "r": 10.0}`, `{"_id": 3, "r": 15.0}`, `{"_id": 4, "r": 27.5}`}},
		{name: "expMovingAvg N", docs: []string{`{"_id": 1, "t": 1, "v": 9}`, `{"_id": 2, "t": 2, "v": 3}`},
			pipe: `[{"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$expMovingAvg": {"input": "$v", "N": 2}}}}}, ` + proj + `]`,
			want: []string{`{"_id": 1, "r": 9.0}`, `{"_id": 2, "r": 5.0}`}},
		{name: "expMovingAvg both", pipe: `[{"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$expMovingAvg": {"input": "$v", "N": 2, "alpha": 0.5}}}}}]`, code: 9},
		{name: "expMovingAvg without sortBy", pipe: `[{"$setWindowFields": {"output": {"r": {"$expMovingAvg": {"input": "$v", "N": 2}}}}}]`, code: 9},
		{name: "covariance", docs: []string{`{"_id": 1, "x": 1, "y": 2}`, `{"_id": 2, "x": 3, "y": 6}`, `{"_id": 3, "x": 5, "y": "n/a"}`},
			pipe: `[{"$setWindowFields": {"sortBy": {"x": 1}, "output": {"p": {"$covariancePop": ["$x", "$y"]}, "s": {"$covarianceSamp": ["$x", "$y"], "window": {"documents": ["unbounded", "current"]}}}}}, {"$project": {"p": 1, "s": 1}}]`,
			want: []string{`{"_id": 1, "p": 2.0, "s": null}`, `{"_id": 2, "p": 2.0, "s": 4.0}`, `{"_id": 3, "p": 2.0, "s": 4.0}`}},
		{name: "covariance one input", pipe: `[{"$setWindowFields": {"output": {"p": {"$covariancePop": "$x"}}}}]`, code: 9},
		{name: "locf with window", pipe: `[{"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$locf": "$v", "window": {"documents": [-1, 0]}}}}}]`, code: 9},
		{name: "linearFill two sort keys", pipe: `[{"$setWindowFields": {"sortBy": {"t": 1, "v": 1}, "output": {"r": {"$linearFill": "$v"}}}}]`, code: 605001},
		{name: "linearFill without sortBy", pipe: `[{"$setWindowFields": {"output": {"r": {"$linearFill": "$v"}}}}]`, code: 605001},
		{name: "linearFill not numeric", docs: []string{`{"_id": 1, "t": 1, "v": "x"}`}, pipe: `[{"$setWindowFields": {"sortBy": {"t": 1}, "output": {"r": {"$linearFill": "$v"}}}}]`, code: 6050106},
	})
}

func TestPipeline_Run_Fill(t *testing.T) {
	docs := []string{
		`{"_id": 1, "g": "a", "t": 1, "v": 10}`,
		`{"_id": 2, "g": "a", "t": 2, "v": null}`,
		`{"_id": 3, "g": "a", "t": 4}`,
		`{"_id": 4, "g": "a", "t": 5, "v": 40}`,
		`{"_id": 5, "g": "b", "t": 1}`,
		`{"_id": 6, "g": "b", "t": 2, "v": 7}`,
	}
	runAggCases(t, []aggCase{
		{name: "value", docs: docs[:3], pipe: `[{"$fill": {"output": {"v": {"value": 0}, "w": {"value": "$t"}}}}]`, want: []string{
			`{"_id": 1, "g": "a", "t": 1, "v": 10, "w": 1}`,
			`{"_id": 2, "g": "a", "t": 2, "v": 0, "w": 2}`,
			`{"_id": 3, "g": "a", "t": 4, "v": 0, "w": 4}`,
		}},
		{name: "locf by partition", docs: docs, pipe: `[{"$fill": {"partitionBy": "$g", "sortBy": {"t": 1}, "output": {"v": {"method": "locf"}}}}, {"$project": {"v": 1}}]`, want: []string{
			`{"_id": 1, "v": 10}`, `{"_id": 2, "v": 10}`, `{"_id": 3, "v": 10}`, `{"_id": 4, "v": 40}`,
			`{"_id": 5}`, `{"_id": 6, "v": 7}`,
		}},
		{name: "linear", docs: docs, pipe: `[{"$fill": {"partitionByFields": ["g"], "sortBy": {"t": 1}, "output": {"v": {"method": "linear"}}}}, {"$project": {"v": 1}}]`, want: []string{
			`{"_id": 1, "v": 10}`, `{"_id": 2, "v": 17.5}`, `{"_id": 3, "v": 32.5}`, `{"_id": 4, "v": 40}`,
			`{"_id": 5}`, `{"_id": 6, "v": 7}`,
		}},
		{name: "linear non-numeric", docs: []string{`{"_id": 1, "t": 1, "v": "x"}`}, pipe: `[{"$fill": {"sortBy": {"t": 1}, "output": {"v": {"method": "linear"}}}}]`, code: 6050106},
		{name: "method without sortBy", pipe: `[{"$fill": {"output": {"v": {"method": "locf"}}}}]`, code: 6050204},
		{name: "bad method", pipe: `[{"$fill": {"sortBy": {"t": 1}, "output": {"v": {"method": "x"}}}}]`, code: 6050203},
		{name: "value and method", pipe: `[{"$fill": {"output": {"v": {"value": 1, "method": "locf"}}}}]`, code: 6050202},
		{name: "missing output", pipe: `[{"$fill": {}}]`, code: 40414},
		{name: "unknown field", pipe: `[{"$fill": {"output": {}, "x": 1}}]`, code: 40415},
		{name: "not an object", pipe: `[{"$fill": 1}]`, code: 14},
	})
}

func TestPipeline_Run_Densify(t *testing.T) {
	docs := []string{
		`{"_id": 1, "g": "a", "x": 1}`,
		`{"_id": 2, "g": "a", "x": 6}`,
		`{"_id": 3, "g": "b", "x": 3}`,
		`{"_id": 4, "g": "b"}`,
	}
	runAggCases(t, []aggCase{
		{name: "full without partitions", docs: docs[:3], pipe: `[{"$densify": {"field": "x", "range": {"step": 2, "bounds": "full"}}}]`, want: []string{
			`{"_id": 1, "g": "a", "x": 1}`, `{"_id": 3, "g": "b", "x": 3}`, `{"x": 5}`, `{"_id": 2, "g": "a", "x": 6}`,
		}},
		{name: "partition bounds", docs: docs, pipe: `[{"$densify": {"field": "x", "partitionByFields": ["g"], "range": {"step": 2, "bounds": "partition"}}}]`, want: []string{
			`{"_id": 1, "g": "a", "x": 1}`, `{"g": "a", "x": 3}`, `{"g": "a", "x": 5}`, `{"_id": 2, "g": "a", "x": 6}`,
			`{"_id": 4, "g": "b"}`, `{"_id": 3, "g": "b", "x": 3}`,
		}},
		{name: "full with partitions", docs: docs[:3], pipe: `[{"$densify": {"field": "x", "partitionByFields": ["g"], "range": {"step": 3, "bounds": "full"}}}]`, want: []string{
			`{"_id": 1, "g": "a", "x": 1}`, `{"g": "a", "x": 4}`, `{"_id": 2, "g": "a", "x": 6}`,
			`{"g": "b", "x": 1}`, `{"_id": 3, "g": "b", "x": 3}`, `{"g": "b", "x": 4}`,
		}},
		{name: "explicit bounds", docs: docs[:1], pipe: `[{"$densify": {"field": "x", "range": {"step": 1.5, "bounds": [0, 4]}}}]`, want: []string{
			`{"x": 0.0}`, `{"_id": 1, "g": "a", "x": 1}`, `{"x": 1.5}`, `{"x": 3.0}`,
		}},
		{name: "dates by day", docs: []string{`{"t": {"$date": "2024-01-01T00:00:00Z"}}`, `{"t": {"$date": "2024-01-03T12:00:00Z"}}`},
			pipe: `[{"$densify": {"field": "t", "range": {"step": 1, "unit": "day", "bounds": "full"}}}]`, want: []string{
				`{"t": {"$date": "2024-01-01T00:00:00Z"}}`, `{"t": {"$date": "2024-01-02T00:00:00Z"}}`, `{"t": {"$date": "2024-01-03T00:00:00Z"}}`, `{"t": {"$date": "2024-01-03T12:00:00Z"}}`,
			}},
		{name: "number with unit", docs: docs[:1], pipe: `[{"$densify": {"field": "x", "range": {"step": 1, "unit": "day", "bounds": "full"}}}]`, code: 5733200},
		{name: "date without unit", docs: []string{`{"t": {"$date": "2024-01-01T00:00:00Z"}}`}, pipe: `[{"$densify": {"field": "t", "range": {"step": 1, "bounds": "full"}}}]`, code: 5733201},
		{name: "too many", docs: docs[:2], pipe: `[{"$densify": {"field": "x", "range": {"step": 0.000001, "bounds": "full"}}}]`, code: 5897900},
		{name: "zero step", pipe: `[{"$densify": {"field": "x", "range": {"step": 0, "bounds": "full"}}}]`, code: 5733401},
		{name: "partition without fields", pipe: `[{"$densify": {"field": "x", "range": {"step": 1, "bounds": "partition"}}}]`, code: 5733408},
		{name: "bad bounds", pipe: `[{"$densify": {"field": "x", "range": {"step": 1, "bounds": [1]}}}]`, code: 5946802},
		{name: "missing range", pipe: `[{"$densify": {"field": "x"}}]`, code: 40414},
		{name: "unknown field", pipe: `[{"$densify": {"field": "x", "range": {"step": 1, "bounds": "full"}, "y": 1}}]`, code: 40415},
		{name: "field is a partition", pipe: `[{"$densify": {"field": "x", "partitionByFields": ["x"], "range": {"step": 1, "bounds": "full"}}}]`, code: 8993000},
	})
}
