package materialize

import "testing"

func TestUpdate_Apply_Positional(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "Set", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$set":{"a.$":9}}`, pos: 2, want: `{"_id":1,"a":[1,9,3]}`},
		{name: "IncSubField", doc: `{"_id":1,"a":[{"b":1},{"b":2}]}`, upd: `{"$inc":{"a.$.b":10}}`, pos: 2, want: `{"_id":1,"a":[{"b":1},{"b":12}]}`},
		{name: "CreatesSubField", doc: `{"_id":1,"a":[{"b":1},{"b":2}]}`, upd: `{"$set":{"a.$.c":1}}`, pos: 1, want: `{"_id":1,"a":[{"b":1,"c":1},{"b":2}]}`},
		{name: "NoMatch", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$set":{"a.$":9}}`, code: 2, msg: "The positional operator did not find the match needed from the query."},
		{name: "Upsert", doc: `{}`, upd: `{"$set":{"a.$":9}}`, insert: true, pos: 1, code: 2, msg: "The positional operator did not find the match needed from the query."},
		{name: "ConflictSameIndex", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$set":{"a.$":9,"a.1":8}}`, pos: 2, code: 40, msg: "Update created a conflict at 'a.1'"},
		{name: "OtherIndexFine", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$set":{"a.$":9,"a.1":8}}`, pos: 1, want: `{"_id":1,"a":[9,8,3]}`},
		{name: "MergeSameIndexSubfields", doc: `{"_id":1,"a":[{"b":1},{"b":2}]}`, upd: `{"$set":{"a.$.c":1,"a.1.d":2}}`, pos: 2, want: `{"_id":1,"a":[{"b":1},{"b":2,"c":1,"d":2}]}`},
		{name: "PastEndPads", doc: `{"_id":1,"a":[1]}`, upd: `{"$set":{"a.$":9}}`, pos: 3, want: `{"_id":1,"a":[1,null,9]}`},
		{name: "Nested", doc: `{"_id":1,"x":{"a":[1,2]}}`, upd: `{"$set":{"x.a.$":7}}`, pos: 1, want: `{"_id":1,"x":{"a":[7,2]}}`},
		{name: "Unset", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$unset":{"a.$":1}}`, pos: 1, want: `{"_id":1,"a":[null,2]}`},
	})
}

func TestUpdate_Apply_ArrayFilters(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "AllElements", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$inc":{"a.$[]":1}}`, want: `{"_id":1,"a":[2,3,4]}`},
		{name: "AllSubField", doc: `{"_id":1,"a":[{"b":1},{"b":2}]}`, upd: `{"$set":{"a.$[].c":0}}`, want: `{"_id":1,"a":[{"b":1,"c":0},{"b":2,"c":0}]}`},
		{name: "AllEmptyArray", doc: `{"_id":1,"a":[]}`, upd: `{"$set":{"a.$[]":1}}`},
		{name: "AllMissing", doc: `{"_id":1}`, upd: `{"$set":{"a.$[]":1}}`, code: 2, msg: "The path 'a' must exist in the document in order to apply array updates."},
		{name: "AllMissingNested", doc: `{"_id":1,"x":{}}`, upd: `{"$set":{"x.a.$[].b":1}}`, code: 2, msg: "The path 'x.a' must exist in the document in order to apply array updates."},
		{name: "AllNotArray", doc: `{"_id":1,"a":1}`, upd: `{"$set":{"a.$[]":1}}`, code: 2, msg: "Cannot apply array updates to non-array element a: 1"},
		{name: "AllUpsert", doc: `{}`, upd: `{"$set":{"a.$[]":1}}`, insert: true, code: 2, msg: "The path 'a' must exist in the document in order to apply array updates."},
		{name: "AllScalarElementSubField", doc: `{"_id":1,"a":[1]}`, upd: `{"$set":{"a.$[].b":1}}`, code: 28, msg: "Cannot create field 'b' in element {0: 1}"},
		{name: "Filter", doc: `{"_id":1,"a":[1,5,10]}`, upd: `{"$set":{"a.$[x]":0}}`, filters: []string{`{"x":{"$gte":5}}`}, want: `{"_id":1,"a":[1,0,0]}`},
		{name: "FilterSubField", doc: `{"_id":1,"a":[{"b":1},{"b":5}]}`, upd: `{"$set":{"a.$[e].c":1}}`, filters: []string{`{"e.b":5}`}, want: `{"_id":1,"a":[{"b":1},{"b":5,"c":1}]}`},
		{name: "FilterNoMatch", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$set":{"a.$[x]":0}}`, filters: []string{`{"x":9}`}},
		{name: "TwoFilters", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$set":{"a.$[x]":0,"a.$[y]":9}}`, filters: []string{`{"x":1}`, `{"y":3}`}, want: `{"_id":1,"a":[0,2,9]}`},
		{name: "TwoFiltersSameElement", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$set":{"a.$[x]":0,"a.$[y]":9}}`, filters: []string{`{"x":1}`, `{"y":{"$lt":2}}`}, code: 40, msg: "Update created a conflict at 'a.0'"},
		{name: "AllAndFilterMerge", doc: `{"_id":1,"a":[{"b":1},{"b":2}]}`, upd: `{"$set":{"a.$[].c":1,"a.$[x].d":2}}`, filters: []string{`{"x.b":2}`}, want: `{"_id":1,"a":[{"b":1,"c":1},{"b":2,"c":1,"d":2}]}`},
		{name: "AllAndFilterConflict", doc: `{"_id":1,"a":[{"b":1},{"b":2}]}`, upd: `{"$set":{"a.$[].c":1,"a.$[x].c":2}}`, filters: []string{`{"x.b":2}`}, code: 40, msg: "Update created a conflict at 'a.1.c'"},
		{name: "Nested", doc: `{"_id":1,"a":[{"b":[1,2]},{"b":[3]}]}`, upd: `{"$inc":{"a.$[].b.$[v]":100}}`, filters: []string{`{"v":{"$gt":1}}`}, want: `{"_id":1,"a":[{"b":[1,102]},{"b":[103]}]}`},
		{name: "FilterOr", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$set":{"a.$[x]":0}}`, filters: []string{`{"$or":[{"x":1},{"x":3}]}`}, want: `{"_id":1,"a":[0,2,0]}`},
		{name: "FilterArrayElement", doc: `{"_id":1,"a":[[1,2],[3]]}`, upd: `{"$set":{"a.$[x]":0}}`, filters: []string{`{"x":2}`}, want: `{"_id":1,"a":[0,[3]]}`},
		{name: "Unused", doc: `{}`, upd: `{"$set":{"a.$[x]":0}}`, filters: []string{`{"x":1}`, `{"y":1}`}, code: 9, msg: "The array filter for identifier 'y' was not used in the update { $set: { a.$[x]: 0 } }"},
		{name: "UnusedDouble", doc: `{}`, upd: `{"$set":{"a":5.0}}`, filters: []string{`{"i":0}`}, code: 9, msg: "The array filter for identifier 'i' was not used in the update { $set: { a: 5.0 } }"},
		{name: "Missing", doc: `{}`, upd: `{"$set":{"a.$[y]":0}}`, code: 2, msg: "No array filter found for identifier 'y' in path 'a.$[y]'"},
		{name: "FirstPosition", doc: `{}`, upd: `{"$set":{"$[x]":0}}`, filters: []string{`{"x":1}`}, code: 2, msg: "Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '$[x]'"},
		{name: "BadIdentifier", doc: `{}`, upd: `{"$set":{"a":0}}`, filters: []string{`{"X":1}`}, code: 2, msg: "Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found 'X'"},
		{name: "BadIdentifierChars", doc: `{}`, upd: `{"$set":{"a":0}}`, filters: []string{`{"a_b":1}`}, code: 2, msg: "~found 'a_b'"},
		{name: "Duplicate", doc: `{}`, upd: `{"$set":{"a.$[x]":0}}`, filters: []string{`{"x":1}`, `{"x":2}`}, code: 9, msg: "Found multiple array filters with the same top-level field name x"},
		{name: "TwoNames", doc: `{}`, upd: `{"$set":{"a.$[x]":0}}`, filters: []string{`{"x":1,"y":1}`}, code: 9, msg: "Error parsing array filter :: caused by :: Expected a single top-level field name, found 'x' and 'y'"},
		{name: "TwoNamesInOr", doc: `{}`, upd: `{"$set":{"a.$[x]":0}}`, filters: []string{`{"$or":[{"x":1},{"y":1}]}`}, code: 9, msg: "Error parsing array filter :: caused by :: Expected a single top-level field name, found 'x' and 'y'"},
		{name: "DottedSameName", doc: `{"_id":1,"a":[{"b":1,"c":1},{"b":1,"c":2}]}`, upd: `{"$set":{"a.$[x].d":0}}`, filters: []string{`{"x.b":1,"x.c":2}`}, want: `{"_id":1,"a":[{"b":1,"c":1},{"b":1,"c":2,"d":0}]}`},
		{name: "BadFilter", doc: `{}`, upd: `{"$set":{"a.$[x]":0}}`, filters: []string{`{"x":{"$bogus":1}}`}, code: 2, msg: "~Error parsing array filter :: caused by :: "},
		{name: "WithPositional", doc: `{"_id":1,"a":[{"b":[1,2]},{"b":[3,4]}]}`, upd: `{"$set":{"a.$.b.$[v]":0}}`, pos: 2, filters: []string{`{"v":4}`}, want: `{"_id":1,"a":[{"b":[1,2]},{"b":[3,0]}]}`},
	})
}

func TestUpdate_Apply_Push(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "Append", doc: `{"_id":1,"a":[1]}`, upd: `{"$push":{"a":2}}`, want: `{"_id":1,"a":[1,2]}`},
		{name: "Missing", doc: `{"_id":1}`, upd: `{"$push":{"a":2}}`, want: `{"_id":1,"a":[2]}`},
		{name: "PushArray", doc: `{"_id":1,"a":[]}`, upd: `{"$push":{"a":[1,2]}}`, want: `{"_id":1,"a":[[1,2]]}`},
		{name: "PushObjectWithoutEach", doc: `{"_id":1,"a":[]}`, upd: `{"$push":{"a":{"$slice":1}}}`, want: `{"_id":1,"a":[{"$slice":1}]}`},
		{name: "NotArray", doc: `{"_id":1,"a":1}`, upd: `{"$push":{"a":2}}`, code: 2, msg: "The field 'a' must be an array but is of type int in document {_id: 1}"},
		{name: "NotArrayNested", doc: `{"_id":1,"x":{"a":"s"}}`, upd: `{"$push":{"x.a":2}}`, code: 2, msg: "The field 'x.a' must be an array but is of type string in document {_id: 1}"},
		{name: "Each", doc: `{"_id":1,"a":[1]}`, upd: `{"$push":{"a":{"$each":[2,3]}}}`, want: `{"_id":1,"a":[1,2,3]}`},
		{name: "EachEmptyNoop", doc: `{"_id":1,"a":[1]}`, upd: `{"$push":{"a":{"$each":[]}}}`},
		{name: "EachEmptyMissing", doc: `{"_id":1}`, upd: `{"$push":{"a":{"$each":[]}}}`, want: `{"_id":1,"a":[]}`},
		{name: "PositionZero", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$push":{"a":{"$each":[8,9],"$position":0}}}`, want: `{"_id":1,"a":[8,9,1,2]}`},
		{name: "PositionMiddle", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$push":{"a":{"$each":[9],"$position":1}}}`, want: `{"_id":1,"a":[1,9,2,3]}`},
		{name: "PositionNegative", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$push":{"a":{"$each":[9],"$position":-1}}}`, want: `{"_id":1,"a":[1,2,9,3]}`},
		{name: "PositionVeryNegative", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$push":{"a":{"$each":[9],"$position":-5}}}`, want: `{"_id":1,"a":[9,1,2]}`},
		{name: "PositionPastEnd", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$push":{"a":{"$each":[9],"$position":10}}}`, want: `{"_id":1,"a":[1,2,9]}`},
		{name: "PositionDouble", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$push":{"a":{"$each":[9],"$position":1.0}}}`, want: `{"_id":1,"a":[1,9,2]}`},
		{name: "SlicePositive", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$push":{"a":{"$each":[4],"$slice":2}}}`, want: `{"_id":1,"a":[1,2]}`},
		{name: "SliceNegative", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$push":{"a":{"$each":[4],"$slice":-2}}}`, want: `{"_id":1,"a":[3,4]}`},
		{name: "SliceZero", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$push":{"a":{"$each":[4],"$slice":0}}}`, want: `{"_id":1,"a":[]}`},
		{name: "SliceOnlyTrims", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$push":{"a":{"$each":[],"$slice":1}}}`, want: `{"_id":1,"a":[1]}`},
		{name: "SliceLargerNoop", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$push":{"a":{"$each":[],"$slice":5}}}`},
		{name: "SliceMinInt64", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$push":{"a":{"$each":[4],"$slice":{"$numberLong":"-9223372036854775808"}}}}`, want: `{"_id":1,"a":[1,2,3,4]}`},
		{name: "SortAscending", doc: `{"_id":1,"a":[3,1]}`, upd: `{"$push":{"a":{"$each":[2],"$sort":1}}}`, want: `{"_id":1,"a":[1,2,3]}`},
		{name: "SortDescendingMixedTypes", doc: `{"_id":1,"a":["x",1,null]}`, upd: `{"$push":{"a":{"$each":[2.5],"$sort":-1}}}`, want: `{"_id":1,"a":["x",2.5,1,null]}`},
		{name: "SortByField", doc: `{"_id":1,"a":[{"x":3},{"x":1}]}`, upd: `{"$push":{"a":{"$each":[{"x":2}],"$sort":{"x":-1}}}}`, want: `{"_id":1,"a":[{"x":3},{"x":2},{"x":1}]}`},
		{name: "SortByTwoFields", doc: `{"_id":1,"a":[{"x":1,"y":1},{"x":1,"y":2},{"x":0,"y":3}]}`, upd: `{"$push":{"a":{"$each":[],"$sort":{"x":1,"y":-1}}}}`, want: `{"_id":1,"a":[{"x":0,"y":3},{"x":1,"y":2},{"x":1,"y":1}]}`},
		{name: "SortByDottedField", doc: `{"_id":1,"a":[{"x":{"y":2}},{"x":{"y":1}}]}`, upd: `{"$push":{"a":{"$each":[],"$sort":{"x.y":1}}}}`, want: `{"_id":1,"a":[{"x":{"y":1}},{"x":{"y":2}}]}`},
		{name: "SortFieldMissingIsNull", doc: `{"_id":1,"a":[{"x":1},{"y":1},5]}`, upd: `{"$push":{"a":{"$each":[],"$sort":{"x":1}}}}`, want: `{"_id":1,"a":[{"y":1},5,{"x":1}]}`},
		{name: "SortAlreadySortedNoop", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$push":{"a":{"$each":[],"$sort":1}}}`},
		{name: "SortThenSlice", doc: `{"_id":1,"a":[5,1,4]}`, upd: `{"$push":{"a":{"$each":[3,2],"$sort":1,"$slice":3}}}`, want: `{"_id":1,"a":[1,2,3]}`},
		{name: "MissingWithSortAndSlice", doc: `{"_id":1}`, upd: `{"$push":{"a":{"$each":[3,1,2],"$sort":-1,"$slice":2}}}`, want: `{"_id":1,"a":[3,2]}`},
		{name: "EachNotArray", doc: `{}`, upd: `{"$push":{"a":{"$each":1}}}`, code: 2, msg: "The argument to $each in $push must be an array but it was of type: int"},
		{name: "UnknownClause", doc: `{}`, upd: `{"$push":{"a":{"$each":[1],"$foo":1}}}`, code: 2, msg: "Unrecognized clause in $push: $foo"},
		{name: "EachNotFirst", doc: `{}`, upd: `{"$push":{"a":{"x":1,"$each":[1]}}}`, code: 2, msg: "Unrecognized clause in $push: x"},
		{name: "SliceNotInteger", doc: `{}`, upd: `{"$push":{"a":{"$each":[1],"$slice":1.5}}}`, code: 2, msg: "The value for $slice must be an integer value but was given type: double"},
		{name: "SliceString", doc: `{}`, upd: `{"$push":{"a":{"$each":[1],"$slice":"1"}}}`, code: 2, msg: "The value for $slice must be an integer value but was given type: string"},
		{name: "SortBadNumber", doc: `{}`, upd: `{"$push":{"a":{"$each":[1],"$sort":2}}}`, code: 2, msg: "The $sort element value must be either 1 or -1"},
		{name: "SortEmpty", doc: `{}`, upd: `{"$push":{"a":{"$each":[1],"$sort":{}}}}`, code: 2, msg: "The $sort pattern is empty when it should be a set of fields."},
		{name: "SortBadFieldValue", doc: `{}`, upd: `{"$push":{"a":{"$each":[1],"$sort":{"x":"up"}}}}`, code: 2, msg: "The $sort element value must be either 1 or -1"},
		{name: "SortEmptyPart", doc: `{}`, upd: `{"$push":{"a":{"$each":[1],"$sort":{"x..y":1}}}}`, code: 2, msg: "The $sort field is a dotted field but has an empty part: x..y"},
		{name: "SortString", doc: `{}`, upd: `{"$push":{"a":{"$each":[1],"$sort":"x"}}}`, code: 2, msg: "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields"},
		{name: "PositionString", doc: `{}`, upd: `{"$push":{"a":{"$each":[1],"$position":"x"}}}`, code: 2, msg: "The value for $position must be an integer value, not of type: string"},
		{name: "DuplicateClause", doc: `{}`, upd: `{"$push":{"a":{"$each":[1],"$slice":1,"$slice":2}}}`, code: 2, msg: "Only one $slice is supported."},
	})
}

func TestUpdate_Apply_AddToSet(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "Present", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$addToSet":{"a":2}}`},
		{name: "PresentOtherNumericType", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$addToSet":{"a":2.0}}`},
		{name: "Absent", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$addToSet":{"a":3}}`, want: `{"_id":1,"a":[1,2,3]}`},
		{name: "Missing", doc: `{"_id":1}`, upd: `{"$addToSet":{"a":3}}`, want: `{"_id":1,"a":[3]}`},
		{name: "Each", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$addToSet":{"a":{"$each":[2,3,3,4]}}}`, want: `{"_id":1,"a":[1,2,3,4]}`},
		{name: "EachMissingDedups", doc: `{"_id":1}`, upd: `{"$addToSet":{"a":{"$each":[1,1,2]}}}`, want: `{"_id":1,"a":[1,2]}`},
		{name: "EachEmpty", doc: `{"_id":1}`, upd: `{"$addToSet":{"a":{"$each":[]}}}`, want: `{"_id":1,"a":[]}`},
		{name: "Document", doc: `{"_id":1,"a":[{"x":1,"y":2}]}`, upd: `{"$addToSet":{"a":{"y":2,"x":1}}}`, want: `{"_id":1,"a":[{"x":1,"y":2},{"y":2,"x":1}]}`},
		{name: "DocumentPresent", doc: `{"_id":1,"a":[{"x":1,"y":2}]}`, upd: `{"$addToSet":{"a":{"x":1,"y":2.0}}}`},
		{name: "EachNotFirstIsValue", doc: `{"_id":1,"a":[]}`, upd: `{"$addToSet":{"a":{"x":1,"$each":[1]}}}`, want: `{"_id":1,"a":[{"x":1,"$each":[1]}]}`},
		{name: "NotArray", doc: `{"_id":1,"a":1}`, upd: `{"$addToSet":{"a":1}}`, code: 2, msg: "Cannot apply $addToSet to non-array field. Field named 'a' has non-array type int"},
		{name: "EachNotArray", doc: `{}`, upd: `{"$addToSet":{"a":{"$each":1}}}`, code: 14, msg: "The argument to $each in $addToSet must be an array but it was of type int"},
		{name: "EachExtraFields", doc: `{}`, upd: `{"$addToSet":{"a":{"$each":[1],"x":1}}}`, code: 2, msg: "Found unexpected fields after $each in $addToSet: { $each: [ 1 ], x: 1 }"},
	})
}

func TestUpdate_Apply_Pop(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "Last", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$pop":{"a":1}}`, want: `{"_id":1,"a":[1,2]}`},
		{name: "First", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$pop":{"a":-1}}`, want: `{"_id":1,"a":[2,3]}`},
		{name: "DoubleAndLong", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$pop":{"a":-1.0}}`, want: `{"_id":1,"a":[2,3]}`},
		{name: "Empty", doc: `{"_id":1,"a":[]}`, upd: `{"$pop":{"a":1}}`},
		{name: "Missing", doc: `{"_id":1}`, upd: `{"$pop":{"a":1}}`},
		{name: "MissingUnderArrayIndex", doc: `{"_id":1,"a":[]}`, upd: `{"$pop":{"a.3":1}}`},
		{name: "NonViable", doc: `{"_id":1,"a":1}`, upd: `{"$pop":{"a.b":1}}`, code: 28, msg: "Cannot use the part (b) of (a.b) to traverse the element ({a: 1})"},
		{name: "NonViableArrayByName", doc: `{"_id":1,"a":[]}`, upd: `{"$pop":{"a.b":1}}`, code: 28, msg: "Cannot use the part (b) of (a.b) to traverse the element ({a: []})"},
		{name: "NotArray", doc: `{"_id":1,"a":{"b":1}}`, upd: `{"$pop":{"a.b":1}}`, code: 14, msg: "Path 'a.b' contains an element of non-array type 'int'"},
		{name: "BadValue", doc: `{}`, upd: `{"$pop":{"a":2}}`, code: 9, msg: "$pop expects 1 or -1, found: 2"},
		{name: "Zero", doc: `{}`, upd: `{"$pop":{"a":0}}`, code: 9, msg: "$pop expects 1 or -1, found: 0"},
		{name: "String", doc: `{}`, upd: `{"$pop":{"a":"x"}}`, code: 9, msg: `Expected a number in: a: "x"`},
		{name: "Fraction", doc: `{}`, upd: `{"$pop":{"a":1.5}}`, code: 9, msg: "Expected an integer: a: 1.5"},
		{name: "NaN", doc: `{}`, upd: `{"$pop":{"a":{"$numberDouble":"NaN"}}}`, code: 9, msg: "Expected an integer, but found NaN in: a: nan.0"},
		{name: "Huge", doc: `{}`, upd: `{"$pop":{"a":1e20}}`, code: 9, msg: "Cannot represent as a 64-bit integer: a: 1e+20.0"},
		{name: "DecimalFraction", doc: `{}`, upd: `{"$pop":{"a":{"$numberDecimal":"1.5"}}}`, code: 9, msg: "Cannot represent as a 64-bit integer: a: 1.5"},
		{name: "DecimalOne", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$pop":{"a":{"$numberDecimal":"1.000"}}}`, want: `{"_id":1,"a":[1]}`},
	})
}

func TestUpdate_Apply_Pull(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "Value", doc: `{"_id":1,"a":[1,2,1,3]}`, upd: `{"$pull":{"a":1}}`, want: `{"_id":1,"a":[2,3]}`},
		{name: "ValueOtherNumericType", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$pull":{"a":1.0}}`, want: `{"_id":1,"a":[2]}`},
		{name: "ValueNone", doc: `{"_id":1,"a":[1,2]}`, upd: `{"$pull":{"a":5}}`},
		{name: "Condition", doc: `{"_id":1,"a":[1,2,3,4]}`, upd: `{"$pull":{"a":{"$gte":3}}}`, want: `{"_id":1,"a":[1,2]}`},
		{name: "ConditionIn", doc: `{"_id":1,"a":["x","y","z"]}`, upd: `{"$pull":{"a":{"$in":["x","z"]}}}`, want: `{"_id":1,"a":["y"]}`},
		{name: "Regex", doc: `{"_id":1,"a":["apple","banana","avocado"]}`, upd: `{"$pull":{"a":{"$regex":"^a"}}}`, want: `{"_id":1,"a":["banana"]}`},
		{name: "RegexValue", doc: `{"_id":1,"a":["apple","banana"]}`, upd: `{"$pull":{"a":{"$regularExpression":{"pattern":"an","options":""}}}}`, want: `{"_id":1,"a":["apple"]}`},
		{name: "DocumentCondition", doc: `{"_id":1,"a":[{"b":1,"c":1},{"b":2},5]}`, upd: `{"$pull":{"a":{"b":1}}}`, want: `{"_id":1,"a":[{"b":2},5]}`},
		{name: "DocumentConditionWithOperator", doc: `{"_id":1,"a":[{"b":1},{"b":5}]}`, upd: `{"$pull":{"a":{"b":{"$gt":2}}}}`, want: `{"_id":1,"a":[{"b":1}]}`},
		{name: "EmptyDocumentPullsAllDocuments", doc: `{"_id":1,"a":[1,{"x":1},{}]}`, upd: `{"$pull":{"a":{}}}`, want: `{"_id":1,"a":[1]}`},
		{name: "ArrayValue", doc: `{"_id":1,"a":[[1,2],[3]]}`, upd: `{"$pull":{"a":[1,2]}}`, want: `{"_id":1,"a":[[3]]}`},
		{name: "ElemMatch", doc: `{"_id":1,"a":[[1,2],[3,4]]}`, upd: `{"$pull":{"a":{"$elemMatch":{"$gt":3}}}}`, want: `{"_id":1,"a":[[1,2]]}`},
		{name: "Missing", doc: `{"_id":1}`, upd: `{"$pull":{"a":1}}`},
		{name: "NotArray", doc: `{"_id":1,"a":1}`, upd: `{"$pull":{"a":1}}`, code: 2, msg: "Cannot apply $pull to a non-array value"},
		{name: "NonViable", doc: `{"_id":1,"a":1}`, upd: `{"$pull":{"a.b":1}}`, code: 28, msg: "Cannot use the part (b) of (a.b) to traverse the element ({a: 1})"},
		{name: "BadCondition", doc: `{}`, upd: `{"$pull":{"a":{"$bogus":1}}}`, code: 2},
		{name: "Where", doc: `{}`, upd: `{"$pull":{"a":{"$where":"x"}}}`, code: 224},
		{name: "AllValues", doc: `{"_id":1,"a":[1,2,3,1]}`, upd: `{"$pullAll":{"a":[1,3]}}`, want: `{"_id":1,"a":[2]}`},
		{name: "AllNone", doc: `{"_id":1,"a":[1]}`, upd: `{"$pullAll":{"a":[2]}}`},
		{name: "AllDocuments", doc: `{"_id":1,"a":[{"x":1},{"x":2}]}`, upd: `{"$pullAll":{"a":[{"x":1}]}}`, want: `{"_id":1,"a":[{"x":2}]}`},
		{name: "AllNotArrayArg", doc: `{}`, upd: `{"$pullAll":{"a":1}}`, code: 2, msg: "$pullAll requires an array argument but was given a int"},
		{name: "AllNotArrayField", doc: `{"_id":1,"a":"s"}`, upd: `{"$pullAll":{"a":[1]}}`, code: 2, msg: "Cannot apply $pull to a non-array value"},
	})
}

func TestUpdate_Apply_Bit(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "And", doc: `{"_id":1,"a":13}`, upd: `{"$bit":{"a":{"and":10}}}`, want: `{"_id":1,"a":8}`},
		{name: "Or", doc: `{"_id":1,"a":13}`, upd: `{"$bit":{"a":{"or":2}}}`, want: `{"_id":1,"a":15}`},
		{name: "Xor", doc: `{"_id":1,"a":13}`, upd: `{"$bit":{"a":{"xor":5}}}`, want: `{"_id":1,"a":8}`},
		{name: "Several", doc: `{"_id":1,"a":1}`, upd: `{"$bit":{"a":{"or":6,"and":3}}}`, want: `{"_id":1,"a":3}`},
		{name: "Int64Operand", doc: `{"_id":1,"a":1}`, upd: `{"$bit":{"a":{"or":{"$numberLong":"2"}}}}`, want: `{"_id":1,"a":{"$numberLong":"3"}}`},
		{name: "Int64Field", doc: `{"_id":1,"a":{"$numberLong":"12"}}`, upd: `{"$bit":{"a":{"and":4}}}`, want: `{"_id":1,"a":{"$numberLong":"4"}}`},
		{name: "Noop", doc: `{"_id":1,"a":5}`, upd: `{"$bit":{"a":{"and":-1}}}`},
		{name: "MissingOr", doc: `{"_id":1}`, upd: `{"$bit":{"a":{"or":5}}}`, want: `{"_id":1,"a":5}`},
		{name: "MissingAnd", doc: `{"_id":1}`, upd: `{"$bit":{"a":{"and":5}}}`, want: `{"_id":1,"a":0}`},
		{name: "DoubleField", doc: `{"_id":1,"a":1.0}`, upd: `{"$bit":{"a":{"and":1}}}`, code: 2, msg: "Cannot apply $bit to a value of non-integral type._id: 1 has the field a of non-integer type double"},
		{name: "UnknownOp", doc: `{}`, upd: `{"$bit":{"a":{"nand":1}}}`, code: 2, msg: "The $bit modifier only supports 'and', 'or', and 'xor', not 'nand' which is an unknown operator: {nand: 1}"},
		{name: "DoubleOperand", doc: `{}`, upd: `{"$bit":{"a":{"and":1.5}}}`, code: 2, msg: "The $bit modifier field must be an Integer(32/64 bit); a 'double' is not supported here: {and: 1.5}"},
		{name: "Empty", doc: `{}`, upd: `{"$bit":{"a":{}}}`, code: 2, msg: "You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}"},
		{name: "NotObject", doc: `{}`, upd: `{"$bit":{"a":5}}`, code: 2, msg: "The $bit modifier is not compatible with a int. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}"},
	})
}

func TestUpdate_Apply_PushSortDecimal(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "DecimalDirection", doc: `{"_id":1,"a":[1,3,2]}`, upd: `{"$push":{"a":{"$each":[],"$sort":{"$numberDecimal":"-1"}}}}`, want: `{"_id":1,"a":[3,2,1]}`},
		{name: "DecimalFieldDirection", doc: `{"_id":1,"a":[{"x":1},{"x":3}]}`, upd: `{"$push":{"a":{"$each":[],"$sort":{"x":{"$numberDecimal":"-1.0"}}}}}`, want: `{"_id":1,"a":[{"x":3},{"x":1}]}`},
		{name: "DecimalSlice", doc: `{"_id":1,"a":[1,2,3]}`, upd: `{"$push":{"a":{"$each":[],"$slice":{"$numberDecimal":"2"}}}}`, want: `{"_id":1,"a":[1,2]}`},
	})
}
