package materialize

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson/bsontype"
)

func TestExprMore_Rand(t *testing.T) {
	seen := map[float64]bool{}
	for i := 0; i < 100; i++ {
		v, err := evalAggOp(t, `{"$rand": {}}`, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		if v.Type != bsontype.Double || v.Double() < 0 || v.Double() >= 1 {
			t.Fatalf("$rand gave %s", v)
		}
		seen[v.Double()] = true
	}
	if len(seen) < 90 {
		t.Errorf("$rand gave only %d distinct values in 100 draws", len(seen))
	}
	runExprAggCases(t, []exprAggCase{
		{name: "arguments", expr: `{"$rand": {"x": 1}}`, code: 3040500},
		{name: "not an object", expr: `{"$rand": 1}`, code: 3040500},
	})
}

func TestExprMore_Arithmetic(t *testing.T) {
	runExprAggCases(t, []exprAggCase{
		{name: "ceil", expr: `{"$ceil": 1.2}`, want: `{"v": 2.0}`},
		{name: "ceil int", expr: `{"$ceil": "$n"}`, want: `{"v": 5}`},
		{name: "floor", expr: `{"$floor": -1.2}`, want: `{"v": -2.0}`},
		{name: "floor null", expr: `{"$floor": null}`, want: `{"v": null}`},
		{name: "floor string", expr: `{"$floor": "x"}`, code: 28765},
		{name: "sqrt", expr: `{"$sqrt": 16}`, want: `{"v": 4.0}`},
		{name: "sqrt negative", expr: `{"$sqrt": -1}`, code: 28714},
		{name: "exp", expr: `{"$exp": 0}`, want: `{"v": 1.0}`},
		{name: "ln", expr: `{"$ln": 1}`, want: `{"v": 0.0}`},
		{name: "ln zero", expr: `{"$ln": 0}`, code: 28766},
		{name: "log10", expr: `{"$log10": 1000}`, want: `{"v": 3.0}`},
		{name: "log10 negative", expr: `{"$log10": -1}`, code: 28761},
		{name: "log", expr: `{"$log": [8, 2]}`, want: `{"v": 3.0}`},
		{name: "log base 1", expr: `{"$log": [8, 1]}`, code: 28759},
		{name: "pow ints", expr: `{"$pow": [2, 10]}`, want: `{"v": 1024}`},
		{name: "pow to long", expr: `{"$pow": [2, 40]}`, want: `{"v": {"$numberLong": "1099511627776"}}`},
		{name: "pow overflow", expr: `{"$pow": [10, 30]}`, want: `{"v": 1e30}`},
		{name: "pow double", expr: `{"$pow": [4, 0.5]}`, want: `{"v": 2.0}`},
		{name: "pow negative exponent", expr: `{"$pow": [2, -1]}`, want: `{"v": 0.5}`},
		{name: "pow zero negative", expr: `{"$pow": [0, -1]}`, code: 28764},
		{name: "pow string", expr: `{"$pow": ["x", 1]}`, code: 28762},
		{name: "pow arity", expr: `{"$pow": [1]}`, code: 16020},
		{name: "round half even", expr: `{"$round": [2.5]}`, want: `{"v": 2.0}`},
		{name: "round places", expr: `{"$round": [1.2345, 2]}`, want: `{"v": 1.23}`},
		{name: "round int negative place", expr: `{"$round": [1234, -2]}`, want: `{"v": 1200}`},
		{name: "round null place", expr: `{"$round": [1.5, null]}`, want: `{"v": null}`},
		{name: "round bad place", expr: `{"$round": [1.5, 1.5]}`, code: 51081},
		{name: "round place range", expr: `{"$round": [1.5, 101]}`, code: 51083},
		{name: "round arity", expr: `{"$round": [1, 2, 3]}`, code: 28667},
		{name: "trunc", expr: `{"$trunc": [-1.79, 1]}`, want: `{"v": -1.7}`},
		{name: "trunc int", expr: `{"$trunc": [1299, -2]}`, want: `{"v": 1200}`},
		{name: "ceil decimal", expr: `{"$ceil": {"$numberDecimal": "1.5"}}`, code: 238},
	})
}

func TestExprMore_TypesObjectsArrays(t *testing.T) {
	runExprAggCases(t, []exprAggCase{
		{name: "isArray", expr: `{"$isArray": ["$a"]}`, want: `{"v": true}`},
		{name: "isArray scalar", expr: `{"$isArray": "$n"}`, want: `{"v": false}`},
		{name: "isNumber", expr: `{"$isNumber": "$n"}`, want: `{"v": true}`},
		{name: "isNumber string", expr: `{"$isNumber": "$s"}`, want: `{"v": false}`},
		{name: "mergeObjects", expr: `{"$mergeObjects": [{"a": 1, "b": 1}, null, {"b": 2}]}`, want: `{"v": {"a": 1, "b": 2}}`},
		{name: "mergeObjects bad", expr: `{"$mergeObjects": [{"a": 1}, 5]}`, code: 40400},
		{name: "objectToArray", expr: `{"$objectToArray": {"a": 1, "b": "x"}}`, want: `{"v": [{"k": "a", "v": 1}, {"k": "b", "v": "x"}]}`},
		{name: "objectToArray null", expr: `{"$objectToArray": null}`, want: `{"v": null}`},
		{name: "objectToArray bad", expr: `{"$objectToArray": 1}`, code: 40390},
		{name: "arrayToObject pairs", expr: `{"$arrayToObject": [[["a", 1], ["b", 2], ["a", 3]]]}`, want: `{"v": {"a": 3, "b": 2}}`},
		{name: "arrayToObject kv", expr: `{"$arrayToObject": [[{"k": "a", "v": 1}]]}`, want: `{"v": {"a": 1}}`},
		{name: "arrayToObject bad pair", expr: `{"$arrayToObject": [[["a"]]]}`, code: 40397},
		{name: "arrayToObject bad key", expr: `{"$arrayToObject": [[[1, 2]]]}`, code: 40395},
		{name: "arrayToObject not array", expr: `{"$arrayToObject": 1}`, code: 40386},
		{name: "indexOfArray", expr: `{"$indexOfArray": ["$a", 2]}`, want: `{"v": 1}`},
		{name: "indexOfArray numeric equality", expr: `{"$indexOfArray": ["$a", 3.0]}`, want: `{"v": 2}`},
		{name: "indexOfArray range", expr: `{"$indexOfArray": ["$a", 1, 1]}`, want: `{"v": -1}`},
		{name: "indexOfArray null", expr: `{"$indexOfArray": [null, 1]}`, want: `{"v": null}`},
		{name: "indexOfArray bad", expr: `{"$indexOfArray": [1, 1]}`, code: 40090},
		{name: "indexOfArray bad start", expr: `{"$indexOfArray": ["$a", 1, -1]}`, code: 40097},
	})
}

func TestExprMore_Sets(t *testing.T) {
	runExprAggCases(t, []exprAggCase{
		{name: "union", expr: `{"$setUnion": [[1, 2, 2], [2.0, 3]]}`, want: `{"v": [1, 2, 3]}`},
		{name: "union null", expr: `{"$setUnion": [[1], null]}`, want: `{"v": null}`},
		{name: "union bad", expr: `{"$setUnion": [[1], 1]}`, code: 17043},
		{name: "intersection", expr: `{"$setIntersection": [[1, 2, 3], [3, 2, 5]]}`, want: `{"v": [2, 3]}`},
		{name: "difference", expr: `{"$setDifference": [[1, 2, 3], [2]]}`, want: `{"v": [1, 3]}`},
		{name: "difference bad", expr: `{"$setDifference": [[1], "x"]}`, code: 17049},
		{name: "equals", expr: `{"$setEquals": [[1, 2, 2], [2, 1]]}`, want: `{"v": true}`},
		{name: "equals not", expr: `{"$setEquals": [[1, 2], [1]]}`, want: `{"v": false}`},
		{name: "equals null", expr: `{"$setEquals": [[1], null]}`, code: 17044},
		{name: "equals arity", expr: `{"$setEquals": [[1]]}`, code: 17045},
		{name: "isSubset", expr: `{"$setIsSubset": [[1], [1, 2]]}`, want: `{"v": true}`},
		{name: "isSubset not", expr: `{"$setIsSubset": [[3], [1, 2]]}`, want: `{"v": false}`},
		{name: "isSubset bad", expr: `{"$setIsSubset": [1, [1, 2]]}`, code: 17046},
		{name: "allElementsTrue", expr: `{"$allElementsTrue": [[1, true, "x"]]}`, want: `{"v": true}`},
		{name: "allElementsTrue false", expr: `{"$allElementsTrue": [[1, 0]]}`, want: `{"v": false}`},
		{name: "anyElementTrue", expr: `{"$anyElementTrue": [[0, null, 2]]}`, want: `{"v": true}`},
		{name: "anyElementTrue empty", expr: `{"$anyElementTrue": [[]]}`, want: `{"v": false}`},
		{name: "anyElementTrue bad", expr: `{"$anyElementTrue": [1]}`, code: 17041},
	})
}

func TestExprMore_Strings(t *testing.T) {
	runExprAggCases(t, []exprAggCase{
		{name: "strcasecmp equal", expr: `{"$strcasecmp": ["ABC", "abc"]}`, want: `{"v": 0}`},
		{name: "strcasecmp less", expr: `{"$strcasecmp": ["a", "B"]}`, want: `{"v": -1}`},
		{name: "strcasecmp null", expr: `{"$strcasecmp": [null, ""]}`, want: `{"v": 0}`},
		{name: "strcasecmp bad", expr: `{"$strcasecmp": [[1], "a"]}`, code: 16007},
		{name: "indexOfBytes", expr: `{"$indexOfBytes": ["héllo", "l"]}`, want: `{"v": 3}`},
		{name: "indexOfCP", expr: `{"$indexOfCP": ["héllo", "l"]}`, want: `{"v": 2}`},
		{name: "indexOfCP start", expr: `{"$indexOfCP": ["héllo", "l", 3]}`, want: `{"v": 3}`},
		{name: "indexOfCP missing", expr: `{"$indexOfCP": ["abc", "z"]}`, want: `{"v": -1}`},
		{name: "indexOfCP null", expr: `{"$indexOfCP": [null, "z"]}`, want: `{"v": null}`},
		{name: "indexOfCP bad", expr: `{"$indexOfCP": [1, "z"]}`, code: 40091},
		{name: "indexOfBytes bad sub", expr: `{"$indexOfBytes": ["a", 1]}`, code: 40092},
		{name: "replaceOne", expr: `{"$replaceOne": {"input": "a-b-c", "find": "-", "replacement": "+"}}`, want: `{"v": "a+b-c"}`},
		{name: "replaceAll", expr: `{"$replaceAll": {"input": "a-b-c", "find": "-", "replacement": "+"}}`, want: `{"v": "a+b+c"}`},
		{name: "replaceAll null", expr: `{"$replaceAll": {"input": null, "find": "-", "replacement": "+"}}`, want: `{"v": null}`},
		{name: "replaceAll bad", expr: `{"$replaceAll": {"input": 1, "find": "-", "replacement": "+"}}`, code: 51746},
		{name: "replaceAll missing", expr: `{"$replaceAll": {"input": "x", "find": "-"}}`, code: 51747},
		{name: "replaceAll unknown", expr: `{"$replaceAll": {"input": "x", "find": "-", "replacement": "", "z": 1}}`, code: 51750},
		{name: "regexMatch", expr: `{"$regexMatch": {"input": "Hello", "regex": "^h", "options": "i"}}`, want: `{"v": true}`},
		{name: "regexMatch regex value", expr: `{"$regexMatch": {"input": "Hello", "regex": {"$regularExpression": {"pattern": "^H", "options": ""}}}}`, want: `{"v": true}`},
		{name: "regexMatch no", expr: `{"$regexMatch": {"input": "Hello", "regex": "^x"}}`, want: `{"v": false}`},
		{name: "regexMatch null input", expr: `{"$regexMatch": {"input": null, "regex": "x"}}`, want: `{"v": false}`},
		{name: "regexMatch bad input", expr: `{"$regexMatch": {"input": 1, "regex": "x"}}`, code: 51104},
		{name: "regexFind", expr: `{"$regexFind": {"input": "First lines\nsecond line", "regex": "line"}}`, want: `{"v": {"match": "line", "idx": 6, "captures": []}}`},
		{name: "regexFind captures", expr: `{"$regexFind": {"input": "xab", "regex": "(a)(x)?(b)"}}`, want: `{"v": {"match": "ab", "idx": 1, "captures": ["a", null, "b"]}}`},
		{name: "regexFind code points", expr: `{"$regexFind": {"input": "café au lait", "regex": "AU", "options": "i"}}`, want: `{"v": {"match": "au", "idx": 5, "captures": []}}`},
		{name: "regexFind none", expr: `{"$regexFind": {"input": "abc", "regex": "x"}}`, want: `{"v": null}`},
		{name: "regexFind null input", expr: `{"$regexFind": {"input": null, "regex": "x"}}`, want: `{"v": null}`},
		{name: "regexFind bad input", expr: `{"$regexFind": {"input": 1, "regex": "x"}}`, code: 51104},
		{name: "regexFindAll", expr: `{"$regexFindAll": {"input": "a1b22c333", "regex": "([0-9])[0-9]*"}}`, want: `{"v": [{"match": "1", "idx": 1, "captures": ["1"]}, {"match": "22", "idx": 3, "captures": ["2"]}, {"match": "333", "idx": 6, "captures": ["3"]}]}`},
		{name: "dateToParts", expr: `{"$dateToParts": {"date": {"$date": "2017-01-01T01:29:09.123Z"}}}`, want: `{"v": {"year": 2017, "month": 1, "day": 1, "hour": 1, "minute": 29, "second": 9, "millisecond": 123}}`},
		{name: "dateToParts iso", expr: `{"$dateToParts": {"date": {"$date": "2017-01-01T01:29:09.123Z"}, "iso8601": true}}`, want: `{"v": {"isoWeekYear": 2016, "isoWeek": 52, "isoDayOfWeek": 7, "hour": 1, "minute": 29, "second": 9, "millisecond": 123}}`},
		{name: "dateToParts timezone", expr: `{"$dateToParts": {"date": {"$date": "2017-01-01T01:29:09.123Z"}, "timezone": "America/New_York"}}`, want: `{"v": {"year": 2016, "month": 12, "day": 31, "hour": 20, "minute": 29, "second": 9, "millisecond": 123}}`},
		{name: "dateToParts null", expr: `{"$dateToParts": {"date": "$missing"}}`, want: `{"v": null}`},
		{name: "dateToParts no date", expr: `{"$dateToParts": {"timezone": "UTC"}}`, code: 40522},
		{name: "dateToParts unknown", expr: `{"$dateToParts": {"date": {"$date": "2017-01-01T00:00:00Z"}, "x": 1}}`, code: 40520},
		{name: "dateToParts iso not bool", expr: `{"$dateToParts": {"date": {"$date": "2017-01-01T00:00:00Z"}, "iso8601": 1}}`, code: 40521},
		{name: "dateFromParts", expr: `{"$dateFromParts": {"year": 2017, "month": 2, "day": 8, "hour": 12}}`, want: `{"v": {"$date": "2017-02-08T12:00:00Z"}}`},
		{name: "dateFromParts iso", expr: `{"$dateFromParts": {"isoWeekYear": 2017, "isoWeek": 6, "isoDayOfWeek": 3, "hour": 12}}`, want: `{"v": {"$date": "2017-02-08T12:00:00Z"}}`},
		{name: "dateFromParts timezone", expr: `{"$dateFromParts": {"year": 2016, "month": 12, "day": 31, "hour": 23, "minute": 46, "second": 12, "timezone": "America/New_York"}}`, want: `{"v": {"$date": "2017-01-01T04:46:12Z"}}`},
		{name: "dateFromParts carries", expr: `{"$dateFromParts": {"year": 2017, "month": 14, "day": 1, "millisecond": 1500}}`, want: `{"v": {"$date": "2018-02-01T00:00:01.5Z"}}`},
		{name: "dateFromParts month 0", expr: `{"$dateFromParts": {"year": 2017, "month": 0}}`, want: `{"v": {"$date": "2016-12-01T00:00:00Z"}}`},
		{name: "dateFromParts null", expr: `{"$dateFromParts": {"year": 2017, "day": null}}`, want: `{"v": null}`},
		{name: "dateFromParts mixed", expr: `{"$dateFromParts": {"year": 2017, "isoWeek": 1}}`, code: 40489},
		{name: "dateFromParts no year", expr: `{"$dateFromParts": {"month": 1}}`, code: 40516},
		{name: "dateFromParts year range", expr: `{"$dateFromParts": {"year": 0}}`, code: 40523},
		{name: "dateFromParts not integer", expr: `{"$dateFromParts": {"year": 2017, "month": 1.5}}`, code: 40515},
		{name: "dateFromParts part range", expr: `{"$dateFromParts": {"year": 2017, "hour": 40000}}`, code: 31034},
		{name: "dateFromString", expr: `{"$dateFromString": {"dateString": "2017-02-08T12:10:40.787"}}`, want: `{"v": {"$date": "2017-02-08T12:10:40.787Z"}}`},
		{name: "dateFromString timezone", expr: `{"$dateFromString": {"dateString": "2017-02-08T12:10:40.787", "timezone": "America/New_York"}}`, want: `{"v": {"$date": "2017-02-08T17:10:40.787Z"}}`},
		{name: "dateFromString offset", expr: `{"$dateFromString": {"dateString": "2017-02-08 12:10:40+05:30"}}`, want: `{"v": {"$date": "2017-02-08T06:40:40Z"}}`},
		{name: "dateFromString date only", expr: `{"$dateFromString": {"dateString": "2017-02-08"}}`, want: `{"v": {"$date": "2017-02-08T00:00:00Z"}}`},
		{name: "dateFromString format", expr: `{"$dateFromString": {"dateString": "06-15-2018", "format": "%m-%d-%Y"}}`, want: `{"v": {"$date": "2018-06-15T00:00:00Z"}}`},
		{name: "dateFromString format time", expr: `{"$dateFromString": {"dateString": "15/06/2018 07:05:09.5 +0200", "format": "%d/%m/%Y %H:%M:%S.%L %z"}}`, want: `{"v": {"$date": "2018-06-15T05:05:09.005Z"}}`},
		{name: "dateFromString month name", expr: `{"$dateFromString": {"dateString": "8 feb 2017", "format": "%d %b %Y"}}`, want: `{"v": {"$date": "2017-02-08T00:00:00Z"}}`},
		{name: "dateFromString iso week", expr: `{"$dateFromString": {"dateString": "2017-W06-3", "format": "%G-W%V-%u"}}`, want: `{"v": {"$date": "2017-02-08T00:00:00Z"}}`},
		{name: "dateFromString both zones", expr: `{"$dateFromString": {"dateString": "2017-02-08T12:10:40Z", "timezone": "Europe/London"}}`, code: 40554},
		{name: "dateFromString invalid", expr: `{"$dateFromString": {"dateString": "2017-02-30"}}`, code: 241},
		{name: "dateFromString garbage", expr: `{"$dateFromString": {"dateString": "yesterday"}}`, code: 241},
		{name: "dateFromString onError", expr: `{"$dateFromString": {"dateString": "yesterday", "onError": "bad"}}`, want: `{"v": "bad"}`},
		{name: "dateFromString not a string", expr: `{"$dateFromString": {"dateString": 5}}`, code: 241},
		{name: "dateFromString onNull", expr: `{"$dateFromString": {"dateString": "$missing", "onNull": 0}}`, want: `{"v": 0}`},
		{name: "dateFromString null", expr: `{"$dateFromString": {"dateString": null}}`, want: `{"v": null}`},
		{name: "dateFromString bad format", expr: `{"$dateFromString": {"dateString": "2017", "format": "%Y-%q"}}`, code: 18536},
		{name: "dateFromString no dateString", expr: `{"$dateFromString": {"format": "%Y"}}`, code: 40542},
		{name: "dateFromString unknown", expr: `{"$dateFromString": {"dateString": "2017-01-01", "x": 1}}`, code: 40541},
		{name: "toUUID", expr: `{"$toUUID": "0e3b9063-8abd-4eb3-9f9f-f4c59fd30a60"}`, want: `{"v": {"$binary": {"base64": "DjuQY4q9TrOfn/TFn9MKYA==", "subType": "04"}}}`},
		{name: "toUUID null", expr: `{"$toUUID": "$missing"}`, want: `{"v": null}`},
		{name: "toUUID bad string", expr: `{"$toUUID": "0e3b9063-8abd-4eb3-9f9f-f4c59fd30a6x"}`, code: 241},
		{name: "toUUID not a string", expr: `{"$toUUID": 1}`, code: 241},
		{name: "tsSecond", expr: `{"$tsSecond": {"$literal": {"$timestamp": {"t": 1700000000, "i": 7}}}}`, want: `{"v": {"$numberLong": "1700000000"}}`},
		{name: "tsIncrement", expr: `{"$tsIncrement": {"$literal": {"$timestamp": {"t": 1700000000, "i": 7}}}}`, want: `{"v": {"$numberLong": "7"}}`},
		{name: "tsSecond null", expr: `{"$tsSecond": null}`, want: `{"v": null}`},
		{name: "tsSecond bad", expr: `{"$tsSecond": 1}`, code: 5687301},
		{name: "bsonSize", expr: `{"$bsonSize": {"$literal": {"a": 1}}}`, want: `{"v": 12}`},
		{name: "bsonSize null", expr: `{"$bsonSize": "$missing"}`, want: `{"v": null}`},
		{name: "bsonSize bad", expr: `{"$bsonSize": "x"}`, code: 31393},
		{name: "binarySize string", expr: `{"$binarySize": "café"}`, want: `{"v": 5}`},
		{name: "binarySize binData", expr: `{"$binarySize": {"$literal": {"$binary": {"base64": "AQID", "subType": "00"}}}}`, want: `{"v": 3}`},
		{name: "binarySize bad", expr: `{"$binarySize": 1}`, code: 51276},
		{name: "regexFindAll none", expr: `{"$regexFindAll": {"input": "abc", "regex": "[0-9]"}}`, want: `{"v": []}`},
		{name: "regexFindAll null input", expr: `{"$regexFindAll": {"input": null, "regex": "x"}}`, want: `{"v": []}`},
		{name: "regexFindAll before final newline", expr: `{"$regexFindAll": {"input": "ab\n", "regex": "b$"}}`, want: `{"v": [{"match": "b", "idx": 1, "captures": []}]}`},
		{name: "regexMatch bad flag", expr: `{"$regexMatch": {"input": "x", "regex": "x", "options": "q"}}`, code: 51108},
	})
}

func TestExprMore_TrigBitsWeeksArrays(t *testing.T) {
	day := `{"d": {"$date": "2024-01-07T10:00:00Z"}}` // a Sunday, in ISO week 1 of 2024
	runExprAggCases(t, []exprAggCase{
		{name: "sin", expr: `{"$sin": 0}`, want: `{"v": 0.0}`},
		{name: "cos", expr: `{"$cos": 0}`, want: `{"v": 1.0}`},
		{name: "acos domain", expr: `{"$acos": 2}`, code: 50989},
		{name: "acosh domain", expr: `{"$acosh": 0}`, code: 50989},
		{name: "sin infinity", expr: `{"$sin": {"$numberDouble": "Infinity"}}`, code: 50989},
		{name: "sin null", expr: `{"$sin": null}`, want: `{"v": null}`},
		{name: "sin string", expr: `{"$sin": "x"}`, code: 28765},
		{name: "atan2", expr: `{"$atan2": [0, 1]}`, want: `{"v": 0.0}`},
		{name: "radiansToDegrees", expr: `{"$radiansToDegrees": 0}`, want: `{"v": 0.0}`},
		{name: "degreesToRadians", expr: `{"$degreesToRadians": 180}`, want: `{"v": 3.141592653589793}`},
		{name: "bitAnd", expr: `{"$bitAnd": [12, 10]}`, want: `{"v": 8}`},
		{name: "bitOr long", expr: `{"$bitOr": [12, {"$numberLong": "1"}]}`, want: `{"v": {"$numberLong": "13"}}`},
		{name: "bitXor", expr: `{"$bitXor": [12, 10]}`, want: `{"v": 6}`},
		{name: "bitNot", expr: `{"$bitNot": 0}`, want: `{"v": -1}`},
		{name: "bitAnd double", expr: `{"$bitAnd": [1.5, 1]}`, code: 14},
		{name: "bitNot double", expr: `{"$bitNot": 12.5}`, code: 14},
		{name: "bitNot arity", expr: `{"$bitNot": [1, 2]}`, code: 16020},
		{name: "pow 3^35 is a long", expr: `{"$pow": [3, 35]}`, want: `{"v": {"$numberLong": "50031545098999707"}}`},
		{name: "pow overflowing a long", expr: `{"$pow": [2, {"$numberLong": "63"}]}`, want: `{"v": 9223372036854775808.0}`},
		{name: "pow -2^63", expr: `{"$pow": [-2, {"$numberLong": "63"}]}`, want: `{"v": {"$numberLong": "-9223372036854775808"}}`},
		{name: "pow 1^-2 long", expr: `{"$pow": [1, {"$numberLong": "-2"}]}`, want: `{"v": {"$numberLong": "1"}}`},
		{name: "pow string exponent", expr: `{"$pow": [5, "x"]}`, code: 28763},
		{name: "log string base", expr: `{"$log": [5, "x"]}`, code: 28757},
		{name: "bitAnd null", expr: `{"$bitAnd": [1, null]}`, want: `{"v": null}`},
		{name: "stdDevPop", expr: `{"$stdDevPop": [[1, 3]]}`, want: `{"v": 1.0}`},
		{name: "stdDevSamp one", expr: `{"$stdDevSamp": [[1]]}`, want: `{"v": null}`},
		{name: "week", expr: `{"$week": "$d"}`, doc: day, want: `{"v": 1}`},
		{name: "isoWeek", expr: `{"$isoWeek": "$d"}`, doc: day, want: `{"v": 1}`},
		{name: "isoWeekYear", expr: `{"$isoWeekYear": "$d"}`, doc: day, want: `{"v": 2024}`},
		{name: "isoDayOfWeek", expr: `{"$isoDayOfWeek": "$d"}`, doc: day, want: `{"v": 7}`},
		{name: "week of Jan 1 (a Monday)", expr: `{"$week": {"date": "$d", "timezone": "-12:00"}}`, doc: `{"d": {"$date": "2024-01-01T12:00:00Z"}}`, want: `{"v": 0}`},
		{name: "firstN", expr: `{"$firstN": {"input": "$a", "n": 2}}`, want: `{"v": [1, 2]}`},
		{name: "lastN", expr: `{"$lastN": {"input": "$a", "n": 5}}`, want: `{"v": [1, 2, 3]}`},
		{name: "maxN", expr: `{"$maxN": {"input": [3, null, 1, 7], "n": 2}}`, want: `{"v": [7, 3]}`},
		{name: "minN", expr: `{"$minN": {"input": [3, null, 1, 7], "n": 2}}`, want: `{"v": [1, 3]}`},
		{name: "firstN bad n", expr: `{"$firstN": {"input": "$a", "n": 0}}`, code: 5787908},
		{name: "firstN not array", expr: `{"$firstN": {"input": 1, "n": 1}}`, code: 5788200},
		{name: "firstN missing n", expr: `{"$firstN": {"input": "$a"}}`, code: 5787907},
		{name: "sortArray", expr: `{"$sortArray": {"input": [3, 1, 2], "sortBy": -1}}`, want: `{"v": [3, 2, 1]}`},
		{name: "sortArray docs", expr: `{"$sortArray": {"input": [{"a": 2}, {"a": 1}], "sortBy": {"a": 1}}}`, want: `{"v": [{"a": 1}, {"a": 2}]}`},
		{name: "sortArray bad", expr: `{"$sortArray": {"input": [1], "sortBy": 2}}`, code: 2942504},
		{name: "zip", expr: `{"$zip": {"inputs": [[1, 2], ["a"]]}}`, want: `{"v": [[1, "a"]]}`},
		{name: "zip longest", expr: `{"$zip": {"inputs": [[1, 2], ["a"]], "useLongestLength": true, "defaults": [0, "z"]}}`, want: `{"v": [[1, "a"], [2, "z"]]}`},
		{name: "zip null", expr: `{"$zip": {"inputs": [[1], null]}}`, want: `{"v": null}`},
		{name: "zip bad", expr: `{"$zip": {"inputs": [[1], 1]}}`, code: 34468},
		{name: "zip defaults without longest", expr: `{"$zip": {"inputs": [[1]], "defaults": [0]}}`, code: 34466},
	})
}

func TestExprMore_DateAdd(t *testing.T) {
	doc := `{"d": {"$date": "2020-12-31T12:10:05Z"}}`
	runExprAggCases(t, []exprAggCase{
		{name: "add days", expr: `{"$dateAdd": {"startDate": "$d", "unit": "day", "amount": 1}}`, doc: doc, want: `{"v": {"$date": "2021-01-01T12:10:05Z"}}`},
		{name: "subtract days", expr: `{"$dateSubtract": {"startDate": "$d", "unit": "day", "amount": 15}}`, doc: doc, want: `{"v": {"$date": "2020-12-16T12:10:05Z"}}`},
		{name: "subtract hours", expr: `{"$dateSubtract": {"startDate": "$d", "unit": "hour", "amount": 48}}`, doc: doc, want: `{"v": {"$date": "2020-12-29T12:10:05Z"}}`},
		{name: "subtract seconds", expr: `{"$dateSubtract": {"startDate": "$d", "unit": "second", "amount": 125}}`, doc: doc, want: `{"v": {"$date": "2020-12-31T12:08:00Z"}}`},
		{name: "month end clamp", expr: `{"$dateSubtract": {"startDate": {"$date": "2021-01-31T03:00:00Z"}, "unit": "month", "amount": 2}}`, want: `{"v": {"$date": "2020-11-30T03:00:00Z"}}`},
		{name: "month end clamp in New York", expr: `{"$dateSubtract": {"startDate": {"$date": "2021-01-31T03:00:00Z"}, "unit": "month", "amount": 2, "timezone": "America/New_York"}}`, want: `{"v": {"$date": "2020-12-01T03:00:00Z"}}`},
		{name: "quarter", expr: `{"$dateAdd": {"startDate": "$d", "unit": "quarter", "amount": -5}}`, doc: doc, want: `{"v": {"$date": "2019-09-30T12:10:05Z"}}`},
		{name: "year from leap day", expr: `{"$dateAdd": {"startDate": {"$date": "2020-02-29T00:00:00Z"}, "unit": "year", "amount": 1}}`, want: `{"v": {"$date": "2021-02-28T00:00:00Z"}}`},
		{name: "null amount", expr: `{"$dateAdd": {"startDate": "$d", "unit": "day", "amount": null}}`, doc: doc, want: `{"v": null}`},
		{name: "missing startDate", expr: `{"$dateAdd": {"unit": "second", "amount": 120}}`, code: 5166402},
		{name: "unknown argument", expr: `{"$dateAdd": {"startDate": "$d", "units": "day", "amount": 1}}`, code: 5166401},
		{name: "string startDate", expr: `{"$dateSubtract": {"startDate": "myBirthDate", "unit": "year", "amount": 10}}`, code: 5166403},
		{name: "unit not a string", expr: `{"$dateAdd": {"startDate": "$d", "unit": 1, "amount": 10}}`, doc: doc, code: 5166404},
		{name: "unknown unit", expr: `{"$dateAdd": {"startDate": "$d", "unit": "epoch", "amount": 10}}`, doc: doc, code: 9},
		{name: "fractional amount", expr: `{"$dateSubtract": {"startDate": "$d", "unit": "year", "amount": 1.001}}`, doc: doc, code: 5166405},
		{name: "unknown timezone", expr: `{"$dateSubtract": {"startDate": "$d", "unit": "year", "amount": 1, "timezone": "Unknown"}}`, doc: doc, code: 40485},
	})
}

func TestExprMore_DateDiff(t *testing.T) {
	d := func(start, end, unit, extra string) string {
		return `{"$dateDiff": {"startDate": {"$date": "` + start + `"}, "endDate": {"$date": "` + end + `"}, "unit": ` + unit + extra + `}}`
	}
	runExprAggCases(t, []exprAggCase{
		{name: "hours", expr: d("2020-11-01T18:23:36Z", "2020-11-02T00:00:00Z", `"hour"`, ""), want: `{"v": {"$numberLong": "6"}}`},
		{name: "hours in New York", expr: d("2020-11-01T18:23:36Z", "2020-11-02T00:00:00Z", `"hour"`, `, "timezone": "America/New_York"`), want: `{"v": {"$numberLong": "6"}}`},
		{name: "week from Monday", expr: d("2021-01-24T18:23:36Z", "2021-01-25T02:23:36Z", `"week"`, `, "timezone": "GMT", "startOfWeek": "MONDAY"`), want: `{"v": {"$numberLong": "1"}}`},
		{name: "week from Sunday", expr: d("2021-01-24T18:23:36Z", "2021-01-25T02:23:36Z", `"week"`, ""), want: `{"v": {"$numberLong": "0"}}`},
		{name: "week backwards in New York", expr: d("2021-01-17T05:00:00Z", "2021-01-17T04:59:00Z", `"week"`, `, "timezone": "America/New_York", "startOfWeek": "sunday"`), want: `{"v": {"$numberLong": "-1"}}`},
		{name: "days across midnight", expr: d("2021-01-01T23:59:00Z", "2021-01-02T00:01:00Z", `"day"`, ""), want: `{"v": {"$numberLong": "1"}}`},
		{name: "months", expr: d("2020-01-31T00:00:00Z", "2021-03-01T00:00:00Z", `"month"`, ""), want: `{"v": {"$numberLong": "14"}}`},
		{name: "quarters", expr: d("2020-03-31T00:00:00Z", "2020-04-01T00:00:00Z", `"quarter"`, ""), want: `{"v": {"$numberLong": "1"}}`},
		{name: "years", expr: d("2020-12-31T00:00:00Z", "2021-01-01T00:00:00Z", `"year"`, ""), want: `{"v": {"$numberLong": "1"}}`},
		{name: "milliseconds", expr: d("2020-12-31T00:00:00Z", "2020-12-30T23:59:59.999Z", `"millisecond"`, ""), want: `{"v": {"$numberLong": "-1"}}`},
		{name: "null unit", expr: d("2020-12-31T00:00:00Z", "2020-12-31T00:00:00Z", `null`, ""), want: `{"v": null}`},
		{name: "missing start wins over bad fields", expr: `{"$dateDiff": {"startDate": "$nope", "endDate": 1, "unit": "century", "timezone": "INVALID"}}`, want: `{"v": null}`},
		{name: "null startOfWeek", expr: d("2020-12-31T00:00:00Z", "2020-12-31T00:00:00Z", `"week"`, `, "startOfWeek": null`), want: `{"v": null}`},
		{name: "startOfWeek ignored for hours", expr: d("2020-12-31T00:00:00Z", "2020-12-31T00:00:00Z", `"hour"`, `, "startOfWeek": 1`), want: `{"v": {"$numberLong": "0"}}`},
		{name: "bad start", expr: `{"$dateDiff": {"startDate": "string", "endDate": {"$date": "2020-12-31T00:00:00Z"}, "unit": "hour"}}`, code: 5166307},
		{name: "bad unit type", expr: d("2020-12-31T00:00:00Z", "2020-12-31T00:00:00Z", `5`, ""), code: 5439013},
		{name: "bad unit", expr: d("2020-12-31T00:00:00Z", "2020-12-31T00:00:00Z", `"decade"`, ""), code: 5439014},
		{name: "bad timezone type", expr: d("2020-12-31T00:00:00Z", "2020-12-31T00:00:00Z", `"hour"`, `, "timezone": 1`), code: 40517},
		{name: "bad timezone", expr: d("2020-12-31T00:00:00Z", "2020-12-31T00:00:00Z", `"hour"`, `, "timezone": "America/Invalid"`), code: 40485},
		{name: "bad startOfWeek type", expr: d("2020-12-31T00:00:00Z", "2020-12-31T00:00:00Z", `"week"`, `, "startOfWeek": 1`), code: 5439015},
		{name: "bad startOfWeek", expr: d("2020-12-31T00:00:00Z", "2020-12-31T00:00:00Z", `"week"`, `, "startOfWeek": "FRIDIE"`), code: 5439016},
		{name: "unknown argument", expr: `{"$dateDiff": {"startDate": 1, "endDate": 1, "unit": "day", "x": 1}}`, code: 5166302},
	})
}

func TestExprMore_DateTrunc(t *testing.T) {
	d := func(date, unit, extra string) string {
		return `{"$dateTrunc": {"date": {"$date": "` + date + `"}, "unit": ` + unit + extra + `}}`
	}
	runExprAggCases(t, []exprAggCase{
		{name: "two hours", expr: d("2020-11-01T18:23:36Z", `"hour"`, `, "binSize": 2`), want: `{"v": {"$date": "2020-11-01T18:00:00Z"}}`},
		{name: "four hours in New York", expr: d("2021-12-01T18:23:36Z", `"hour"`, `, "binSize": 4, "timezone": "America/New_York", "startOfWeek": "IGNORED"`), want: `{"v": {"$date": "2021-12-01T17:00:00Z"}}`},
		{name: "week", expr: d("2021-02-15T18:23:36Z", `"week"`, ""), want: `{"v": {"$date": "2021-02-14T00:00:00Z"}}`},
		{name: "two weeks from Monday in New York", expr: d("2000-01-30T18:00:00Z", `"week"`, `, "binSize": 2, "timezone": "America/New_York", "startOfWeek": "mon"`), want: `{"v": {"$date": "2000-01-17T05:00:00Z"}}`},
		{name: "quarter of minutes", expr: d("2020-01-30T18:59:00Z", `"minute"`, `, "binSize": {"$numberDecimal": "15"}`), want: `{"v": {"$date": "2020-01-30T18:45:00Z"}}`},
		{name: "day", expr: d("2020-01-30T18:59:00Z", `"day"`, `, "binSize": {"$numberLong": "1"}`), want: `{"v": {"$date": "2020-01-30T00:00:00Z"}}`},
		{name: "seconds", expr: d("2020-01-30T18:59:00.003Z", `"millisecond"`, `, "binSize": 1000`), want: `{"v": {"$date": "2020-01-30T18:59:00Z"}}`},
		{name: "year ignores startOfWeek", expr: d("2020-01-30T18:59:00Z", `"year"`, `, "timezone": "GMT", "startOfWeek": 1`), want: `{"v": {"$date": "2020-01-01T00:00:00Z"}}`},
		{name: "quarter", expr: d("2020-08-30T18:59:00Z", `"quarter"`, ""), want: `{"v": {"$date": "2020-07-01T00:00:00Z"}}`},
		{name: "before 2000", expr: d("1999-12-31T23:00:00Z", `"month"`, `, "binSize": 5`), want: `{"v": {"$date": "1999-08-01T00:00:00Z"}}`},
		{name: "timestamp", expr: `{"$dateTrunc": {"date": {"$timestamp": {"t": 1350336377, "i": 0}}, "unit": "second", "binSize": 10}}`, want: `{"v": {"$date": "2012-10-15T21:26:10Z"}}`},
		{name: "null binSize", expr: d("2020-01-30T18:59:00Z", `"hour"`, `, "binSize": null`), want: `{"v": null}`},
		{name: "missing date wins", expr: `{"$dateTrunc": {"date": "$nope", "unit": "H", "binSize": "x", "timezone": 1}}`, want: `{"v": null}`},
		{name: "not an object", expr: `{"$dateTrunc": "A"}`, code: 5439007},
		{name: "unknown parameter", expr: `{"$dateTrunc": {"endDate": 1}}`, code: 5439008},
		{name: "missing date", expr: `{"$dateTrunc": {"unit": "week"}}`, code: 5439009},
		{name: "missing unit", expr: `{"$dateTrunc": {"date": 1}}`, code: 5439010},
		{name: "bad date", expr: `{"$dateTrunc": {"date": "string", "unit": "hour"}}`, code: 5439012},
		{name: "bad unit", expr: d("2020-01-30T18:59:00Z", `"century"`, ""), code: 5439014},
		{name: "bad binSize", expr: d("2020-01-30T18:59:00Z", `"hour"`, `, "binSize": 2.5`), code: 5439017},
		{name: "zero binSize", expr: d("2020-01-30T18:59:00Z", `"hour"`, `, "binSize": 0`), code: 5439018},
		{name: "bad startOfWeek", expr: d("2020-01-30T18:59:00Z", `"week"`, `, "startOfWeek": "FRIDIE"`), code: 5439016},
	})
}
