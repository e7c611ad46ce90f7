package materialize

import (
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// aggCase is one pipeline run over docs.
type aggCase struct {
	name string
	docs []string // input documents (extended JSON)
	pipe string   // JSON array of stages
	let  string
	want []string // output documents; compared as relaxed extended JSON
	code int32    // expected error code, compile or run
	msg  string   // expected message ("~" prefix: substring)
}

func aggEJ(t testing.TB, s string) bson.Raw {
	t.Helper()
	var r bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(s), false, &r); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return r
}

func aggArray(t testing.TB, s string) bson.Raw {
	t.Helper()
	return bson.Raw(aggEJ(t, `{"p": `+s+`}`).Lookup("p").Value)
}

func aggRelaxed(t testing.TB, r bson.Raw) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(r, false, false)
	if err != nil {
		t.Fatalf("invalid output %x: %v", []byte(r), err)
	}
	return string(b)
}

// aggOtherColls are the collections the test resolver knows.
var aggOtherColls = map[string][]string{
	"inventory": {
		`{"_id": 1, "sku": "almonds", "qty": 120}`,
		`{"_id": 2, "sku": "bread", "qty": 80}`,
		`{"_id": 3, "sku": "cashews", "qty": 60}`,
		`{"_id": 4, "sku": null}`,
		`{"_id": 5}`,
	},
	"more": {`{"_id": 10, "x": 1}`, `{"_id": 11, "x": 2}`},
}

func aggTestResolver(t testing.TB) Resolver {
	return func(coll string) (DocSeq, error) {
		var docs []bson.Raw
		for _, s := range aggOtherColls[coll] {
			docs = append(docs, aggEJ(t, s))
		}
		return SliceSeq(docs), nil
	}
}

func runAggCases(t *testing.T, cases []aggCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var let bson.Raw
			if tc.let != "" {
				let = aggEJ(t, tc.let)
			}
			var docs []bson.Raw
			for _, s := range tc.docs {
				docs = append(docs, aggEJ(t, s))
			}
			p, err := CompileAggregate(aggArray(t, tc.pipe), AggregateOptions{Let: let, Resolve: aggTestResolver(t), Seed: 1})
			var out []bson.Raw
			if err == nil {
				out, err = p.RunSlice(docs)
			}
			if tc.code != 0 {
				aggCheckErr(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			var got, want []string
			for _, d := range out {
				got = append(got, aggRelaxed(t, d))
			}
			for _, s := range tc.want {
				want = append(want, aggRelaxed(t, aggEJ(t, s)))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

func aggCheckErr(t *testing.T, err error, code int32, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %d %q, got none", code, msg)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %T: %v", err, err)
	}
	if e.Code != code {
		t.Errorf("code = %d, want %d; message %q", e.Code, code, e.Message)
	}
	if msg == "" {
		return
	}
	if strings.HasPrefix(msg, "~") {
		if !strings.Contains(e.Message, msg[1:]) {
			t.Errorf("message %q does not contain %q", e.Message, msg[1:])
		}
	} else if e.Message != msg {
		t.Errorf("message %q, want %q", e.Message, msg)
	}
}

var aggDocs = []string{
	`{"_id": 1, "item": "a", "price": 10, "qty": 2, "tags": ["x", "y"]}`,
	`{"_id": 2, "item": "b", "price": 20, "qty": 1, "tags": []}`,
	`{"_id": 3, "item": "a", "price": 5, "qty": 10, "tags": "z"}`,
	`{"_id": 4, "item": "c", "price": 15.5, "qty": 4}`,
}

func TestPipeline_Run_Basic(t *testing.T) {
	runAggCases(t, []aggCase{
		{name: "empty pipeline", docs: aggDocs[:2], pipe: `[]`, want: aggDocs[:2]},
		{name: "match", docs: aggDocs, pipe: `[{"$match": {"item": "a"}}, {"$project": {"_id": 1}}]`,
			want: []string{`{"_id": 1}`, `{"_id": 3}`}},
		{name: "match expr let", docs: aggDocs, let: `{"p": 12}`,
			pipe: `[{"$match": {"$expr": {"$gt": ["$price", "$$p"]}}}, {"$project": {"_id": 1}}]`,
			want: []string{`{"_id": 2}`, `{"_id": 4}`}},
		{name: "project computed", docs: aggDocs[:1], pipe: `[{"$project": {"_id": 0, "total": {"$multiply": ["$price", "$qty"]}}}]`,
			want: []string{`{"total": 20}`}},
		{name: "addFields set unset", docs: aggDocs[:1], pipe: `[{"$addFields": {"t": 1}}, {"$set": {"u": "$t"}}, {"$unset": ["tags", "price", "qty", "item"]}]`,
			want: []string{`{"_id": 1, "t": 1, "u": 1}`}},
		{name: "replaceRoot", docs: []string{`{"_id": 1, "a": {"b": 2}}`}, pipe: `[{"$replaceRoot": {"newRoot": "$a"}}]`,
			want: []string{`{"b": 2}`}},
		{name: "replaceWith", docs: []string{`{"_id": 1, "a": {"b": 2}}`}, pipe: `[{"$replaceWith": {"x": "$a.b"}}]`,
			want: []string{`{"x": 2}`}},
		{name: "replaceRoot not object", docs: []string{`{"_id": 1}`}, pipe: `[{"$replaceRoot": {"newRoot": "$a"}}]`, code: 40228},
		{name: "sort limit skip", docs: aggDocs, pipe: `[{"$sort": {"price": -1}}, {"$skip": 1}, {"$limit": 2}, {"$project": {"_id": 1}}]`,
			want: []string{`{"_id": 4}`, `{"_id": 1}`}},
		{name: "sort stable", docs: aggDocs, pipe: `[{"$sort": {"item": 1}}, {"$project": {"_id": 1}}]`,
			want: []string{`{"_id": 1}`, `{"_id": 3}`, `{"_id": 2}`, `{"_id": 4}`}},
		{name: "sort limit top-k stable", docs: []string{`{"_id": 1, "k": 2}`, `{"_id": 2, "k": 1}`, `{"_id": 3, "k": 2}`, `{"_id": 4, "k": 1}`, `{"_id": 5, "k": 0}`},
			pipe: `[{"$sort": {"k": 1}}, {"$limit": 4}]`,
			want: []string{`{"_id": 5, "k": 0}`, `{"_id": 2, "k": 1}`, `{"_id": 4, "k": 1}`, `{"_id": 1, "k": 2}`}},
		{name: "sort limit top-k desc", docs: aggDocs, pipe: `[{"$sort": {"price": -1}}, {"$limit": 1}, {"$project": {"_id": 1}}]`,
			want: []string{`{"_id": 2}`}},
		{name: "count", docs: aggDocs, pipe: `[{"$match": {"item": "a"}}, {"$count": "n"}]`, want: []string{`{"n": 2}`}},
		{name: "count none", docs: aggDocs, pipe: `[{"$match": {"item": "q"}}, {"$count": "n"}]`},
		{name: "sample all", docs: aggDocs, pipe: `[{"$sample": {"size": 10}}, {"$count": "n"}]`, want: []string{`{"n": 4}`}},
		{name: "sample some", docs: aggDocs, pipe: `[{"$sample": {"size": 2}}, {"$count": "n"}]`, want: []string{`{"n": 2}`}},
		{name: "documents", pipe: `[{"$documents": [{"a": 1}, {"a": 2}]}, {"$match": {"a": 2}}]`, want: []string{`{"a": 2}`}},
	})
}

func TestPipeline_Run_Errors(t *testing.T) {
	runAggCases(t, []aggCase{
		{name: "unknown stage", pipe: `[{"$foo": {}}]`, code: 40324, msg: "Unrecognized pipeline stage name: '$foo'"},
		{name: "two fields", pipe: `[{"$match": {}, "$limit": 1}]`, code: 40323, msg: "A pipeline stage specification object must contain exactly one field."},
		{name: "not object", pipe: `[1]`, code: 14},
		{name: "limit zero", pipe: `[{"$limit": 0}]`, code: 15958, msg: "the limit must be positive"},
		{name: "limit string", pipe: `[{"$limit": "a"}]`, code: 15957, msg: "the limit must be specified as a number"},
		{name: "limit fraction", pipe: `[{"$limit": 1.5}]`, code: 5107201, msg: "invalid argument to $limit stage: Expected an integer: $limit: 1.5"},
		{name: "limit negative", pipe: `[{"$limit": -1}]`, code: 5107201, msg: "invalid argument to $limit stage: Expected a non-negative number in: $limit: -1"},
		{name: "skip negative", pipe: `[{"$skip": -1}]`, code: 5107200, msg: "invalid argument to $skip stage: Expected a non-negative number in: $skip: -1"},
		{name: "skip string", pipe: `[{"$skip": "a"}]`, code: 5107200, msg: "invalid argument to $skip stage: Expected a number in: $skip: \"a\""},
		{name: "match not object", pipe: `[{"$match": 1}]`, code: 15959},
		{name: "sort empty", pipe: `[{"$sort": {}}]`, code: 15976},
		{name: "count empty", pipe: `[{"$count": ""}]`, code: 40157},
		{name: "count dollar", pipe: `[{"$count": "$a"}]`, code: 40158},
		{name: "count dot", pipe: `[{"$count": "a.b"}]`, code: 40160},
		{name: "group no id", pipe: `[{"$group": {"n": {"$sum": 1}}}]`, code: 15955, msg: "a group specification must include an _id"},
		{name: "group bad acc", pipe: `[{"$group": {"_id": null, "n": {"$foo": 1}}}]`, code: 15952, msg: "unknown group operator '$foo'"},
		{name: "group not acc", pipe: `[{"$group": {"_id": null, "n": 1}}]`, code: 40234},
		{name: "group two acc", pipe: `[{"$group": {"_id": null, "n": {"$sum": 1, "$avg": 1}}}]`, code: 40238},
		{name: "group dotted", pipe: `[{"$group": {"_id": null, "a.b": {"$sum": 1}}}]`, code: 40235},
		{name: "unwind no dollar", pipe: `[{"$unwind": "a"}]`, code: 28818},
		{name: "unwind bad option", pipe: `[{"$unwind": {"path": "$a", "x": 1}}]`, code: 28811},
		{name: "unwind number", pipe: `[{"$unwind": 1}]`, code: 15981},
		{name: "facet empty", pipe: `[{"$facet": {}}]`, code: 40169},
		{name: "facet nested", pipe: `[{"$facet": {"a": [{"$facet": {"b": [{"$limit": 1}]}}]}}]`, code: 40600},
		{name: "lookup no as", pipe: `[{"$lookup": {"from": "x", "localField": "a", "foreignField": "b"}}]`, code: 9},
		{name: "bucket unsorted", pipe: `[{"$bucket": {"groupBy": "$a", "boundaries": [2, 1]}}]`, code: 40194},
		{name: "bucket no default", docs: []string{`{"a": 5}`}, pipe: `[{"$bucket": {"groupBy": "$a", "boundaries": [0, 1]}}]`, code: 40066},
		{name: "out not last", pipe: `[{"$out": "x"}, {"$limit": 1}]`, code: 40601},
		{name: "out bad", pipe: `[{"$out": 1}]`, code: 16990},
		{name: "merge no into", pipe: `[{"$merge": {"on": "_id"}}]`, code: 40414},
		{name: "bad expression", pipe: `[{"$addFields": {"a": {"$foo": 1}}}]`, code: 168},
		{name: "sortByCount literal", pipe: `[{"$sortByCount": "a"}]`, code: 40148},
		{name: "sortByCount object", pipe: `[{"$sortByCount": {"a": 1}}]`, code: 40147},
		{name: "sortByCount number", pipe: `[{"$sortByCount": 1}]`, code: 40149},
	})
}

func TestPipeline_Run_Group(t *testing.T) {
	runAggCases(t, []aggCase{
		{name: "accumulators", docs: aggDocs,
			pipe: `[{"$group": {"_id": "$item", "sum": {"$sum": "$qty"}, "avg": {"$avg": "$price"}, "min": {"$min": "$price"}, "max": {"$max": "$price"},
				"first": {"$first": "$_id"}, "last": {"$last": "$_id"}, "push": {"$push": "$qty"}, "set": {"$addToSet": "$item"}, "n": {"$count": {}}}},
				{"$sort": {"_id": 1}}]`,
			want: []string{
				`{"_id": "a", "sum": 12, "avg": 7.5, "min": 5, "max": 10, "first": 1, "last": 3, "push": [2, 10], "set": ["a"], "n": 2}`,
				`{"_id": "b", "sum": 1, "avg": 20.0, "min": 20, "max": 20, "first": 2, "last": 2, "push": [1], "set": ["b"], "n": 1}`,
				`{"_id": "c", "sum": 4, "avg": 15.5, "min": 15.5, "max": 15.5, "first": 4, "last": 4, "push": [4], "set": ["c"], "n": 1}`,
			}},
		{name: "null id", docs: aggDocs, pipe: `[{"$group": {"_id": null, "total": {"$sum": {"$multiply": ["$price", "$qty"]}}}}]`,
			want: []string{`{"_id": null, "total": 152.0}`}},
		{name: "numeric ids merge", docs: []string{`{"a": 1}`, `{"a": 1.0}`, `{"a": {"$numberLong": "1"}}`, `{"a": 2}`},
			pipe: `[{"$group": {"_id": "$a", "n": {"$sum": 1}}}]`, want: []string{`{"_id": 1, "n": 3}`, `{"_id": 2, "n": 1}`}},
		{name: "missing and null group", docs: []string{`{"a": null}`, `{}`},
			pipe: `[{"$group": {"_id": "$a", "n": {"$sum": 1}}}]`, want: []string{`{"_id": null, "n": 2}`}},
		{name: "compound id", docs: aggDocs, pipe: `[{"$group": {"_id": {"i": "$item", "big": {"$gt": ["$price", 9]}}}}, {"$sort": {"_id.i": 1, "_id.big": 1}}]`,
			want: []string{`{"_id": {"i": "a", "big": false}}`, `{"_id": {"i": "a", "big": true}}`, `{"_id": {"i": "b", "big": true}}`, `{"_id": {"i": "c", "big": true}}`}},
		{name: "sum ignores non numbers", docs: []string{`{"a": "x"}`, `{"a": 2}`, `{}`}, pipe: `[{"$group": {"_id": 0, "s": {"$sum": "$a"}, "v": {"$avg": "$b"}}}]`,
			want: []string{`{"_id": 0, "s": 2, "v": null}`}},
		{name: "stdDevPop", docs: []string{`{"a": 2}`, `{"a": 4}`, `{"a": 4}`, `{"a": 4}`, `{"a": 5}`, `{"a": 5}`, `{"a": 7}`, `{"a": 9}`},
			pipe: `[{"$group": {"_id": null, "sd": {"$stdDevPop": "$a"}}}]`, want: []string{`{"_id": null, "sd": 2.0}`}},
		{name: "addToSet dedup", docs: []string{`{"a": 1}`, `{"a": 1.0}`, `{"a": [1]}`, `{"a": [1]}`}, pipe: `[{"$group": {"_id": null, "s": {"$addToSet": "$a"}}}]`,
			want: []string{`{"_id": null, "s": [1, [1]]}`}},
		{name: "sortByCount", docs: aggDocs, pipe: `[{"$sortByCount": "$item"}]`,
			want: []string{`{"_id": "a", "count": 2}`, `{"_id": "b", "count": 1}`, `{"_id": "c", "count": 1}`}},
		{name: "bucket", docs: aggDocs, pipe: `[{"$bucket": {"groupBy": "$price", "boundaries": [0, 10, 20], "default": "other", "output": {"n": {"$sum": 1}, "ids": {"$push": "$_id"}}}}]`,
			want: []string{`{"_id": 0, "n": 1, "ids": [3]}`, `{"_id": 10, "n": 2, "ids": [1, 4]}`, `{"_id": "other", "n": 1, "ids": [2]}`}},
		{name: "bucket default count", docs: aggDocs, pipe: `[{"$bucket": {"groupBy": "$qty", "boundaries": [0, 5, 100]}}]`,
			want: []string{`{"_id": 0, "count": 3}`, `{"_id": 5, "count": 1}`}},
	})
}

func TestPipeline_Run_Unwind(t *testing.T) {
	docs := []string{
		`{"_id": 1, "a": [1, 2]}`, `{"_id": 2, "a": []}`, `{"_id": 3, "a": null}`, `{"_id": 4}`, `{"_id": 5, "a": "s"}`,
	}
	runAggCases(t, []aggCase{
		{name: "string", docs: docs, pipe: `[{"$unwind": "$a"}]`,
			want: []string{`{"_id": 1, "a": 1}`, `{"_id": 1, "a": 2}`, `{"_id": 5, "a": "s"}`}},
		{name: "preserve and index", docs: docs, pipe: `[{"$unwind": {"path": "$a", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": true}}]`,
			want: []string{`{"_id": 1, "a": 1, "i": 0}`, `{"_id": 1, "a": 2, "i": 1}`, `{"_id": 2, "i": null}`, `{"_id": 3, "a": null, "i": null}`,
				`{"_id": 4, "i": null}`, `{"_id": 5, "a": "s", "i": null}`}},
		{name: "nested", docs: []string{`{"_id": 1, "b": {"c": [{"d": 1}, {"d": 2}]}}`}, pipe: `[{"$unwind": "$b.c"}]`,
			want: []string{`{"_id": 1, "b": {"c": {"d": 1}}}`, `{"_id": 1, "b": {"c": {"d": 2}}}`}},
		{name: "limit stops", docs: docs, pipe: `[{"$unwind": "$a"}, {"$limit": 1}]`, want: []string{`{"_id": 1, "a": 1}`}},
	})
}

func TestPipeline_Run_Facet(t *testing.T) {
	runAggCases(t, []aggCase{
		{name: "two facets", docs: aggDocs, pipe: `[{"$facet": {"n": [{"$count": "c"}], "items": [{"$group": {"_id": "$item"}}, {"$sort": {"_id": -1}}, {"$limit": 1}]}}]`,
			want: []string{`{"n": [{"c": 4}], "items": [{"_id": "c"}]}`}},
		{name: "empty input", pipe: `[{"$facet": {"n": [{"$count": "c"}]}}]`, want: []string{`{"n": []}`}},
	})
}

func TestPipeline_Run_Lookup(t *testing.T) {
	orders := []string{`{"_id": 1, "item": "almonds"}`, `{"_id": 2, "item": ["bread", "cashews"]}`, `{"_id": 3}`}
	runAggCases(t, []aggCase{
		{name: "equality", docs: orders, pipe: `[{"$lookup": {"from": "inventory", "localField": "item", "foreignField": "sku", "as": "inv"}}, {"$project": {"ids": "$inv._id"}}]`,
			want: []string{`{"_id": 1, "ids": [1]}`, `{"_id": 2, "ids": [2, 3]}`, `{"_id": 3, "ids": [4, 5]}`}},
		{name: "pipeline let", docs: orders[:1],
			pipe: `[{"$lookup": {"from": "inventory", "let": {"it": "$item"}, "pipeline": [{"$match": {"$expr": {"$eq": ["$sku", "$$it"]}}}, {"$project": {"qty": 1, "_id": 0}}], "as": "inv"}}]`,
			want: []string{`{"_id": 1, "item": "almonds", "inv": [{"qty": 120}]}`}},
		{name: "missing collection", docs: orders[:1], pipe: `[{"$lookup": {"from": "nope", "localField": "item", "foreignField": "sku", "as": "inv"}}]`,
			want: []string{`{"_id": 1, "item": "almonds", "inv": []}`}},
		{name: "unionWith string", docs: orders[:1], pipe: `[{"$unionWith": "more"}]`,
			want: []string{orders[0], `{"_id": 10, "x": 1}`, `{"_id": 11, "x": 2}`}},
		{name: "unionWith pipeline", docs: orders[:1], pipe: `[{"$unionWith": {"coll": "more", "pipeline": [{"$match": {"x": 2}}]}}]`,
			want: []string{orders[0], `{"_id": 11, "x": 2}`}},
		{name: "lookup out", pipe: `[{"$lookup": {"from": "more", "pipeline": [{"$out": "x"}], "as": "a"}}]`, code: 51047},
		{name: "unionWith merge", pipe: `[{"$unionWith": {"coll": "more", "pipeline": [{"$merge": "x"}]}}]`, code: 31441},
		{name: "unionWith bad field", pipe: `[{"$unionWith": {"coll": "more", "x": 1}}]`, code: 40415},
	})
}

func TestPipeline_Run_SampleDeterministic(t *testing.T) {
	var docs []bson.Raw
	for i := 0; i < 50; i++ {
		docs = append(docs, aggEJ(t, `{"i": `+strings.Repeat("1", i%5+1)+`}`))
	}
	run := func(seed int64) string {
		p, err := CompileAggregate(aggArray(t, `[{"$sample": {"size": 5}}]`), AggregateOptions{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.RunSlice(docs)
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		for _, d := range out {
			sb.WriteString(aggRelaxed(t, d))
		}
		return sb.String()
	}
	if run(7) != run(7) {
		t.Fatal("same seed, different samples")
	}
}

func TestPipeline_Output_Specs(t *testing.T) {
	tests := []struct {
		pipe string
		want *OutSpec
	}{
		{`[{"$match": {}}]`, nil},
		{`[{"$out": "x"}]`, &OutSpec{Stage: "$out", Coll: "x"}},
		{`[{"$out": {"db": "d", "coll": "x"}}]`, &OutSpec{Stage: "$out", DB: "d", Coll: "x"}},
		{`[{"$merge": "x"}]`, &OutSpec{Stage: "$merge", Coll: "x", On: []string{"_id"}, WhenMatched: "merge", WhenNotMatched: "insert"}},
		{`[{"$merge": {"into": {"db": "d", "coll": "x"}, "on": ["a", "b"], "whenMatched": "replace", "whenNotMatched": "discard"}}]`,
			&OutSpec{Stage: "$merge", DB: "d", Coll: "x", On: []string{"a", "b"}, WhenMatched: "replace", WhenNotMatched: "discard"}},
	}
	for _, tc := range tests {
		p, err := CompileAggregate(aggArray(t, tc.pipe), AggregateOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.pipe, err)
		}
		got := p.Output()
		if (got == nil) != (tc.want == nil) || got != nil && (got.Stage != tc.want.Stage || got.DB != tc.want.DB || got.Coll != tc.want.Coll ||
			strings.Join(got.On, ",") != strings.Join(tc.want.On, ",") || got.WhenMatched != tc.want.WhenMatched || got.WhenNotMatched != tc.want.WhenNotMatched) {
			t.Errorf("%s: Output() = %+v, want %+v", tc.pipe, got, tc.want)
		}
	}
	runAggCases(t, []aggCase{
		{name: "merge bad whenMatched", pipe: `[{"$merge": {"into": "x", "whenMatched": "nope"}}]`, code: 2},
		{name: "merge pipeline whenMatched", pipe: `[{"$merge": {"into": "x", "whenMatched": []}}]`, code: codeNotImplemented},
		{name: "merge unknown field", pipe: `[{"$merge": {"into": "x", "y": 1}}]`, code: 40415},
		{name: "out unknown field", pipe: `[{"$out": {"coll": "x", "y": 1}}]`, code: 40415},
		{name: "out passes documents through", docs: aggDocs[:1], pipe: `[{"$project": {"_id": 1}}, {"$out": "x"}]`, want: []string{`{"_id": 1}`}},
	})
}
