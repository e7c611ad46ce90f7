package materialize

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// evalAggOp parses {op: arg} (given as {"e": {op: arg}}) with the operator
// table of expr_agg.go at the top level and evaluates it on doc.
func evalAggOp(t *testing.T, expr, doc string) (bson.RawValue, error) {
	t.Helper()
	e := aggEJ(t, `{"e": `+expr+`}`).Lookup("e")
	els, _ := docElements(e.Value)
	if len(els) != 1 {
		t.Fatalf("bad test expression %s", expr)
	}
	parse := exprAggOperatorParser(els[0].key)
	if parse == nil {
		t.Fatalf("no parser for %s", els[0].key)
	}
	ps := newExprParser(nil)
	n, err := parse(ps, els[0].key, els[0].val)
	if err != nil {
		return bson.RawValue{}, err
	}
	return (&compiledExpression{n: n}).Eval(aggEJ(t, doc))
}

type exprAggCase struct {
	name string
	expr string
	doc  string
	want string // relaxed extended JSON of {"v": result}; "" for missing
	code int32
	msg  string
}

func runExprAggCases(t *testing.T, cases []exprAggCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.doc
			if doc == "" {
				doc = `{"a": [1, 2, 3], "s": "héllo", "n": 5, "d": {"$date": "2024-03-05T07:08:09.123Z"}}`
			}
			v, err := evalAggOp(t, tc.expr, doc)
			if tc.code != 0 {
				aggCheckErr(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			got := ""
			if v.Type != 0 {
				got = aggRelaxed(t, buildDoc([]string{"v"}, []bson.RawValue{v}))
			}
			want := ""
			if tc.want != "" {
				want = aggRelaxed(t, aggEJ(t, tc.want))
			}
			if got != want {
				t.Fatalf("got %s, want %s", got, want)
			}
		})
	}
}

func TestExprAgg_Variables(t *testing.T) {
	runExprAggCases(t, []exprAggCase{
		{name: "let", expr: `{"$let": {"vars": {"x": 2, "y": "$n"}, "in": {"$multiply": ["$$x", "$$y"]}}}`, want: `{"v": 10}`},
		{name: "let missing in", expr: `{"$let": {"vars": {}}}`, code: 16877},
		{name: "let bad name", expr: `{"$let": {"vars": {"X": 1}, "in": 1}}`, code: 9},
		{name: "map", expr: `{"$map": {"input": "$a", "as": "x", "in": {"$add": ["$$x", 1]}}}`, want: `{"v": [2, 3, 4]}`},
		{name: "map this", expr: `{"$map": {"input": "$a", "in": {"$gt": ["$$this", 1]}}}`, want: `{"v": [false, true, true]}`},
		{name: "map null", expr: `{"$map": {"input": "$zz", "in": 1}}`, want: `{"v": null}`},
		{name: "map not array", expr: `{"$map": {"input": "$s", "in": 1}}`, code: 16883, msg: "input to $map must be an array not string"},
		{name: "map unknown", expr: `{"$map": {"input": "$a", "in": 1, "x": 1}}`, code: 16879},
		{name: "filter", expr: `{"$filter": {"input": "$a", "cond": {"$gte": ["$$this", 2]}}}`, want: `{"v": [2, 3]}`},
		{name: "filter limit", expr: `{"$filter": {"input": "$a", "as": "e", "cond": true, "limit": 1}}`, want: `{"v": [1]}`},
		{name: "filter missing cond", expr: `{"$filter": {"input": "$a"}}`, code: 28650},
		{name: "reduce", expr: `{"$reduce": {"input": "$a", "initialValue": 0, "in": {"$add": ["$$value", "$$this"]}}}`, want: `{"v": 6}`},
		{name: "reduce not array", expr: `{"$reduce": {"input": 1, "initialValue": 0, "in": 1}}`, code: 40080},
		{name: "undefined var", expr: `{"$map": {"input": "$a", "in": "$$x"}}`, code: 17276},
	})
}

func TestExprAgg_Strings(t *testing.T) {
	runExprAggCases(t, []exprAggCase{
		{name: "substr", expr: `{"$substr": ["abcdef", 1, 3]}`, want: `{"v": "bcd"}`},
		{name: "substr negative len", expr: `{"$substr": ["abcdef", 2, -1]}`, want: `{"v": "cdef"}`},
		{name: "substrBytes past end", expr: `{"$substrBytes": ["abc", 5, 1]}`, want: `{"v": ""}`},
		{name: "substrCP", expr: `{"$substrCP": ["$s", 1, 2]}`, want: `{"v": "él"}`},
		{name: "substr continuation", expr: `{"$substrBytes": ["$s", 2, 1]}`, code: 28656},
		{name: "strLenCP", expr: `{"$strLenCP": "$s"}`, want: `{"v": 5}`},
		{name: "strLenBytes", expr: `{"$strLenBytes": "$s"}`, want: `{"v": 6}`},
		{name: "strLenCP not string", expr: `{"$strLenCP": 1}`, code: 34471},
		{name: "split", expr: `{"$split": ["a-b-c", "-"]}`, want: `{"v": ["a", "b", "c"]}`},
		{name: "split null", expr: `{"$split": [null, "-"]}`, want: `{"v": null}`},
		{name: "split empty sep", expr: `{"$split": ["a", ""]}`, code: 40087},
		{name: "trim", expr: `{"$trim": {"input": "  x  "}}`, want: `{"v": "x"}`},
		{name: "ltrim chars", expr: `{"$ltrim": {"input": "xxaxx", "chars": "x"}}`, want: `{"v": "axx"}`},
		{name: "rtrim", expr: `{"$rtrim": {"input": " a "}}`, want: `{"v": " a"}`},
		{name: "toString int", expr: `{"$toString": "$n"}`, want: `{"v": "5"}`},
		{name: "toString double", expr: `{"$toString": 2.5}`, want: `{"v": "2.5"}`},
		{name: "toString bool", expr: `{"$toString": true}`, want: `{"v": "true"}`},
		{name: "toString oid", expr: `{"$toString": {"$oid": "5f0000000000000000000001"}}`, want: `{"v": "5f0000000000000000000001"}`},
		{name: "toString date", expr: `{"$toString": "$d"}`, want: `{"v": "2024-03-05T07:08:09.123Z"}`},
		{name: "toString null", expr: `{"$toString": null}`, want: `{"v": null}`},
	})
}

func TestExprAgg_Dates(t *testing.T) {
	runExprAggCases(t, []exprAggCase{
		{name: "year", expr: `{"$year": "$d"}`, want: `{"v": 2024}`},
		{name: "month", expr: `{"$month": "$d"}`, want: `{"v": 3}`},
		{name: "dayOfMonth", expr: `{"$dayOfMonth": "$d"}`, want: `{"v": 5}`},
		{name: "hour", expr: `{"$hour": "$d"}`, want: `{"v": 7}`},
		{name: "hour tz", expr: `{"$hour": {"date": "$d", "timezone": "+05:30"}}`, want: `{"v": 12}`},
		{name: "minute", expr: `{"$minute": "$d"}`, want: `{"v": 8}`},
		{name: "second", expr: `{"$second": "$d"}`, want: `{"v": 9}`},
		{name: "millisecond", expr: `{"$millisecond": "$d"}`, want: `{"v": 123}`},
		{name: "dayOfWeek", expr: `{"$dayOfWeek": "$d"}`, want: `{"v": 3}`},
		{name: "dayOfYear", expr: `{"$dayOfYear": "$d"}`, want: `{"v": 65}`},
		{name: "array form", expr: `{"$year": ["$d"]}`, want: `{"v": 2024}`},
		{name: "null", expr: `{"$year": "$zz"}`, want: `{"v": null}`},
		{name: "not a date", expr: `{"$year": "$s"}`, code: 16006},
		{name: "bad tz", expr: `{"$year": {"date": "$d", "timezone": "Nowhere/X"}}`, code: 40485},
		{name: "dateToString default", expr: `{"$dateToString": {"date": "$d"}}`, want: `{"v": "2024-03-05T07:08:09.123Z"}`},
		{name: "dateToString format", expr: `{"$dateToString": {"format": "%Y/%m/%d %H:%M:%S %j %%", "date": "$d"}}`, want: `{"v": "2024/03/05 07:08:09 065 %"}`},
		{name: "dateToString onNull", expr: `{"$dateToString": {"date": "$zz", "onNull": "none"}}`, want: `{"v": "none"}`},
		{name: "dateToString bad format", expr: `{"$dateToString": {"date": "$d", "format": "%Q"}}`, code: 18536},
		{name: "dateToString missing date", expr: `{"$dateToString": {"format": "%Y"}}`, code: 18628},
	})
}

func TestExprAgg_Convert(t *testing.T) {
	runExprAggCases(t, []exprAggCase{
		{name: "toInt double", expr: `{"$toInt": 2.9}`, want: `{"v": 2}`},
		{name: "toInt string", expr: `{"$toInt": "42"}`, want: `{"v": 42}`},
		{name: "toInt bad string", expr: `{"$toInt": "4x"}`, code: 241},
		{name: "toInt overflow", expr: `{"$toInt": 1e20}`, code: 241},
		{name: "toLong", expr: `{"$toLong": "$d"}`, want: `{"v": {"$numberLong": "1709622489123"}}`},
		{name: "toDouble", expr: `{"$toDouble": "1.5"}`, want: `{"v": 1.5}`},
		{name: "toDecimal", expr: `{"$toDecimal": 5}`, want: `{"v": {"$numberDecimal": "5"}}`},
		{name: "toBool", expr: `{"$toBool": 0}`, want: `{"v": false}`},
		{name: "toBool string", expr: `{"$toBool": ""}`, want: `{"v": true}`},
		{name: "toObjectId", expr: `{"$toObjectId": "5f0000000000000000000001"}`, want: `{"v": {"$oid": "5f0000000000000000000001"}}`},
		{name: "toObjectId bad", expr: `{"$toObjectId": "xyz"}`, code: 241},
		{name: "convert onError", expr: `{"$convert": {"input": "x", "to": "int", "onError": -1}}`, want: `{"v": -1}`},
		{name: "convert onNull", expr: `{"$convert": {"input": "$zz", "to": "int", "onNull": 0}}`, want: `{"v": 0}`},
		{name: "convert numeric to", expr: `{"$convert": {"input": "7", "to": 18}}`, want: `{"v": {"$numberLong": "7"}}`},
		{name: "convert unsupported", expr: `{"$convert": {"input": [1], "to": "int"}}`, code: 241},
		{name: "convert missing to", expr: `{"$convert": {"input": 1}}`, code: 9},
	})
}

func TestExprAgg_Arrays(t *testing.T) {
	runExprAggCases(t, []exprAggCase{
		{name: "concatArrays", expr: `{"$concatArrays": ["$a", [4]]}`, want: `{"v": [1, 2, 3, 4]}`},
		{name: "concatArrays null", expr: `{"$concatArrays": ["$a", null]}`, want: `{"v": null}`},
		{name: "concatArrays bad", expr: `{"$concatArrays": ["$a", 1]}`, code: 28664},
		{name: "slice n", expr: `{"$slice": ["$a", 2]}`, want: `{"v": [1, 2]}`},
		{name: "slice -n", expr: `{"$slice": ["$a", -2]}`, want: `{"v": [2, 3]}`},
		{name: "slice pos n", expr: `{"$slice": ["$a", 1, 5]}`, want: `{"v": [2, 3]}`},
		{name: "slice bad count", expr: `{"$slice": ["$a", 1, 0]}`, code: 28729},
		{name: "reverseArray", expr: `{"$reverseArray": "$a"}`, want: `{"v": [3, 2, 1]}`},
		{name: "range", expr: `{"$range": [0, 10, 3]}`, want: `{"v": [0, 3, 6, 9]}`},
		{name: "range down", expr: `{"$range": [3, 0, -1]}`, want: `{"v": [3, 2, 1]}`},
		{name: "range zero step", expr: `{"$range": [0, 1, 0]}`, code: 34449},
		{name: "first", expr: `{"$first": "$a"}`, want: `{"v": 1}`},
		{name: "last", expr: `{"$last": "$a"}`, want: `{"v": 3}`},
		{name: "first empty", expr: `{"$first": [[]]}`, want: ""},
		{name: "sum array", expr: `{"$sum": "$a"}`, want: `{"v": 6}`},
		{name: "sum args", expr: `{"$sum": [1, 2.5, "x"]}`, want: `{"v": 3.5}`},
		{name: "avg", expr: `{"$avg": "$a"}`, want: `{"v": 2.0}`},
		{name: "min", expr: `{"$min": "$a"}`, want: `{"v": 1}`},
		{name: "max args", expr: `{"$max": [1, 7, null]}`, want: `{"v": 7}`},
		{name: "max empty", expr: `{"$max": [[]]}`, want: `{"v": null}`},
	})
}
