package materialize

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// This file holds more expression operators: $rand, arithmetic ($ceil,
// $floor, $sqrt, $exp, $ln, $log, $log10, $pow, $round, $trunc), types
// ($isArray, $isNumber), objects ($mergeObjects, $objectToArray,
// $arrayToObject), arrays ($indexOfArray), sets ($setUnion,
// $setIntersection, $setDifference, $setEquals, $setIsSubset,
// $allElementsTrue, $anyElementTrue) and strings ($strcasecmp,
// $indexOfBytes, $indexOfCP, $replaceOne, $replaceAll, $regexMatch), the
// trigonometric and bitwise operators, $stdDevPop/$stdDevSamp over arrays,
// week parts ($week, $isoWeek, $isoWeekYear, $isoDayOfWeek) and arrays
// ($firstN, $lastN, $maxN, $minN, $sortArray, $zip), and $dateAdd,
// $dateSubtract, $dateDiff and $dateTrunc.
// Decimal128 arguments of the arithmetic operators here return errors
// wrapping NotImplemented.

// exprMoreOperatorParser returns the parser of an operator of this file,
// or nil.
func exprMoreOperatorParser(name string) exprOperatorFn {
	switch name {
	case "$rand":
		return parseExprRand
	case "$ceil", "$floor", "$sqrt", "$exp", "$ln", "$log10":
		return parseExprMath1
	case "$log", "$pow":
		return parseExprMath2
	case "$round", "$trunc":
		return parseExprRound
	case "$isArray", "$isNumber":
		return parseExprIsType
	case "$mergeObjects":
		return parseExprMergeObjects
	case "$objectToArray":
		return parseExprObjectToArray
	case "$arrayToObject":
		return parseExprArrayToObject
	case "$indexOfArray":
		return parseExprIndexOfArray
	case "$setUnion", "$setIntersection", "$setDifference", "$setEquals", "$setIsSubset":
		return parseExprSet
	case "$allElementsTrue", "$anyElementTrue":
		return parseExprAllAny
	case "$strcasecmp":
		return parseExprStrcasecmp
	case "$indexOfBytes", "$indexOfCP":
		return parseExprIndexOfStr
	case "$replaceOne", "$replaceAll":
		return parseExprReplace
	case "$regexMatch", "$regexFind", "$regexFindAll":
		return parseExprRegex
	case "$dateToParts":
		return parseExprDateToParts
	case "$dateFromParts":
		return parseExprDateFromParts
	case "$dateFromString":
		return parseExprDateFromString
	case "$tsSecond", "$tsIncrement":
		return parseExprTsPart
	case "$toUUID":
		return parseExprToUUID
	case "$bsonSize", "$binarySize":
		return parseExprByteSize
	case "$stdDevPop", "$stdDevSamp":
		return parseExprArrayAcc
	case "$sin", "$cos", "$tan", "$asin", "$acos", "$atan", "$sinh", "$cosh", "$tanh",
		"$asinh", "$acosh", "$atanh", "$degreesToRadians", "$radiansToDegrees":
		return parseExprTrig
	case "$atan2":
		return parseExprAtan2
	case "$bitAnd", "$bitOr", "$bitXor", "$bitNot":
		return parseExprBit
	case "$week", "$isoWeek", "$isoWeekYear", "$isoDayOfWeek":
		return parseExprWeekPart
	case "$firstN", "$lastN", "$maxN", "$minN":
		return parseExprArrayN
	case "$sortArray":
		return parseExprSortArray
	case "$zip":
		return parseExprZip
	case "$dateAdd", "$dateSubtract":
		return parseExprDateAdd
	case "$dateDiff":
		return parseExprDateDiff
	case "$dateTrunc":
		return parseExprDateTrunc
	}
	return nil
}

func parseExprRand(_ *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	d, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument || len(d) != 5 {
		return nil, errLocation(3040500, "%s does not currently accept arguments", name)
	}
	return funcExpr(func(*exprContext) (bson.RawValue, error) {
		return valDouble(rand.Float64()), nil
	}), nil
}

// mathArg checks a numeric argument: ok false with a null result for
// null/missing, an error for other types and decimals.
func mathArg(name string, v bson.RawValue, code int32) (float64, bool, error) {
	if nullish(v) {
		return 0, false, nil
	}
	if !isNumeric(v.Type) {
		return 0, false, errLocation(code, "%s only supports numeric types, not %s", name, exprTypeName(v))
	}
	if v.Type == bsontype.Decimal128 {
		return 0, false, errNotSupported(name + " on decimal values")
	}
	return numberAsFloat(v), true, nil
}

func parseExprMath1(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return unaryExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		f, ok, err := mathArg(name, v, 28765)
		if !ok {
			if err == nil {
				return valNull(), nil
			}
			return bson.RawValue{}, err
		}
		switch name {
		case "$ceil", "$floor":
			if v.Type != bsontype.Double {
				return v, nil
			}
			if name == "$ceil" {
				return valDouble(math.Ceil(f)), nil
			}
			return valDouble(math.Floor(f)), nil
		case "$sqrt":
			if f < 0 {
				return bson.RawValue{}, errLocation(28714, "$sqrt's argument must be greater than or equal to 0")
			}
			return valDouble(math.Sqrt(f)), nil
		case "$exp":
			return valDouble(math.Exp(f)), nil
		case "$ln":
			if !(f > 0) {
				return bson.RawValue{}, errLocation(28766, "$ln's argument must be a positive number, but is %s", aggValueString(v))
			}
			return valDouble(math.Log(f)), nil
		default: // $log10
			if !(f > 0) {
				return bson.RawValue{}, errLocation(28761, "$log10's argument must be a positive number, but is %s", aggValueString(v))
			}
			return valDouble(math.Log10(f)), nil
		}
	})
}

func parseExprMath2(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return fixedExpr(ps, name, arg, 2, func(vals []bson.RawValue) (bson.RawValue, error) {
		if nullish(vals[0]) || nullish(vals[1]) {
			return valNull(), nil
		}
		for i, v := range vals {
			if !isNumeric(v.Type) {
				if name == "$log" {
					return bson.RawValue{}, errLocation(28756+int32(i), "$log's %s must be numeric, is %s", []string{"argument", "base"}[i], exprTypeName(v))
				}
				return bson.RawValue{}, errLocation(28762+int32(i), "$pow's %s must be numeric, not %s", []string{"base", "exponent"}[i], exprTypeName(v))
			}
			if v.Type == bsontype.Decimal128 {
				return bson.RawValue{}, errNotSupported(name + " on decimal values")
			}
		}
		a, b := numberAsFloat(vals[0]), numberAsFloat(vals[1])
		if name == "$log" {
			if !(a > 0) {
				return bson.RawValue{}, errLocation(28758, "$log's argument must be a positive number, but is %s", aggValueString(vals[0]))
			}
			if !(b > 0) || b == 1 {
				return bson.RawValue{}, errLocation(28759, "$log's base must be a positive number not equal to 1, but is %s", aggValueString(vals[1]))
			}
			return valDouble(math.Log(a) / math.Log(b)), nil
		}
		if a == 0 && b < 0 {
			return bson.RawValue{}, errLocation(28764, "$pow cannot take a base of 0 and a negative exponent")
		}
		if vals[0].Type == bsontype.Double || vals[1].Type == bsontype.Double {
			return valDouble(math.Pow(a, b)), nil
		}
		// Whole numbers: exact while the result fits, a double beyond.
		base, exp := integerOf(vals[0]), integerOf(vals[1])
		wide := vals[0].Type == bsontype.Int64 || vals[1].Type == bsontype.Int64
		if exp < 0 {
			switch base {
			case 1:
				return narrowInt(1, wide), nil
			case -1:
				if exp%2 == 0 {
					return narrowInt(1, wide), nil
				}
				return narrowInt(-1, wide), nil
			}
			return valDouble(math.Pow(a, b)), nil
		}
		result := int64(1)
		for i := int64(0); i < exp; i++ {
			next := result * base
			if base != 0 && next/base != result {
				return valDouble(math.Pow(a, b)), nil
			}
			result = next
			if result == 0 || result == 1 && base == 1 {
				break
			}
		}
		if !wide && (result > math.MaxInt32 || result < math.MinInt32) {
			return valInt64(result), nil
		}
		return narrowInt(result, wide), nil
	})
}

// narrowInt is an int when wide is false, a long otherwise.
func narrowInt(i int64, wide bool) bson.RawValue {
	if wide {
		return valInt64(i)
	}
	return intOrLong(i)
}

func parseExprRound(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return rangeExpr(ps, name, arg, 1, 2, func(vals []bson.RawValue) (bson.RawValue, error) {
		place := int64(0)
		if len(vals) == 2 {
			if nullish(vals[1]) {
				return valNull(), nil
			}
			r, ok := exactRat(vals[1])
			if !isNumeric(vals[1].Type) || !ok || !r.IsInt() || !r.Num().IsInt64() {
				return bson.RawValue{}, errLocation(51081, "precision argument to  %s must be a integral value", name)
			}
			place = r.Num().Int64()
			if place < -20 || place > 100 {
				return bson.RawValue{}, errLocation(51083, "cannot apply %s with precision value %d value must be in [-20, 100]", name, place)
			}
		}
		v := vals[0]
		f, ok, err := mathArg(name, v, 51080)
		if !ok {
			if err == nil {
				return valNull(), nil
			}
			return bson.RawValue{}, err
		}
		op := math.RoundToEven
		if name == "$trunc" {
			op = math.Trunc
		}
		if v.Type != bsontype.Double {
			if place >= 0 {
				return v, nil
			}
			scale := math.Pow10(int(-place))
			r := op(f/scale) * scale
			if v.Type == bsontype.Int32 && r >= math.MinInt32 && r <= math.MaxInt32 {
				return valInt32(int32(r)), nil
			}
			return valInt64(int64(r)), nil
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return v, nil
		}
		scale := math.Pow10(int(place))
		return valDouble(op(f*scale) / scale), nil
	})
}

func parseExprIsType(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return unaryExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		if name == "$isArray" {
			return valBool(v.Type == bsontype.Array), nil
		}
		return valBool(isNumeric(v.Type)), nil
	})
}

func parseExprMergeObjects(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return variadicExpr(ps, arg, func(vals []bson.RawValue) (bson.RawValue, error) {
		return accumulateValues(&accState{op: "$mergeObjects"}, vals)
	})
}

func parseExprObjectToArray(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return nullSafeExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		d, ok := v.DocumentOK()
		if !ok || v.Type != bsontype.EmbeddedDocument {
			return bson.RawValue{}, errLocation(40390, "$objectToArray requires a document input, found: %s", exprTypeName(v))
		}
		var out []bson.RawValue
		iterElements(d, func(key string, e bson.RawValue) bool {
			out = append(out, bson.RawValue{Type: bsontype.EmbeddedDocument, Value: buildDoc([]string{"k", "v"}, []bson.RawValue{valString(key), e})})
			return true
		})
		return makeArray(out), nil
	})
}

func parseExprArrayToObject(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return nullSafeExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		if v.Type != bsontype.Array {
			return bson.RawValue{}, errLocation(40386, "$arrayToObject requires an array input, found: %s", exprTypeName(v))
		}
		var keys []string
		var vals []bson.RawValue
		index := map[string]int{}
		for _, e := range arrayValues(v) {
			var k, val bson.RawValue
			switch e.Type {
			case bsontype.Array:
				pair := arrayValues(e)
				if len(pair) != 2 {
					return bson.RawValue{}, errLocation(40397, "$arrayToObject requires an array of size 2 arrays,found array of size: %d", len(pair))
				}
				k, val = pair[0], pair[1]
			case bsontype.EmbeddedDocument:
				d := bson.Raw(e.Value)
				elems, _ := docElements(d)
				if len(elems) != 2 {
					return bson.RawValue{}, errLocation(40392, "$arrayToObject requires an object keys of 'k' and 'v'. Found incorrect number of keys:%d", len(elems))
				}
				kv, kok := lookupField(d, "k")
				vv, vok := lookupField(d, "v")
				if !kok || !vok {
					return bson.RawValue{}, errLocation(40393, "$arrayToObject requires an object with keys 'k' and 'v'. Missing either or both keys from: %s", aggValueString(e))
				}
				k, val = kv, vv
			default:
				return bson.RawValue{}, errLocation(40398, "Unrecognised input type format for $arrayToObject: %s", exprTypeName(e))
			}
			ks, ok := k.StringValueOK()
			if !ok {
				return bson.RawValue{}, errLocation(40395, "$arrayToObject requires a string key, found: %s", exprTypeName(k))
			}
			if strings.IndexByte(ks, 0) >= 0 {
				return bson.RawValue{}, errLocation(4940401, "Key field cannot contain an embedded null byte")
			}
			if i, dup := index[ks]; dup {
				vals[i] = val // the last value of a repeated key wins, in the first one's place
				continue
			}
			index[ks] = len(keys)
			keys = append(keys, ks)
			vals = append(vals, val)
		}
		return bson.RawValue{Type: bsontype.EmbeddedDocument, Value: buildDoc(keys, vals)}, nil
	})
}

// indexBounds reads the optional start and end arguments of the $indexOf*
// operators.
func indexBounds(name string, vals []bson.RawValue, n int) (int, int, error) {
	start, end := 0, n
	for i, v := range vals {
		r, ok := exactRat(v)
		if !isNumeric(v.Type) || !ok || !r.IsInt() || !r.Num().IsInt64() {
			return 0, 0, errLocation(40096, "%s requires an integral %s, found a value of type: %s", name, []string{"starting index", "ending index"}[i], exprTypeName(v))
		}
		x := r.Num().Int64()
		if x < 0 {
			return 0, 0, errLocation(40097, "%s requires a nonnegative %s, found: %s", name, []string{"start index", "ending index"}[i], aggValueString(v))
		}
		if i == 0 {
			start = int(min(x, int64(n)+1))
		} else {
			end = int(min(x, int64(n)))
		}
	}
	return start, end, nil
}

func parseExprIndexOfArray(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return rangeExpr(ps, name, arg, 2, 4, func(vals []bson.RawValue) (bson.RawValue, error) {
		if nullish(vals[0]) {
			return valNull(), nil
		}
		if vals[0].Type != bsontype.Array {
			return bson.RawValue{}, errLocation(40090, "$indexOfArray requires an array as a first argument, found: %s", exprTypeName(vals[0]))
		}
		elems := arrayValues(vals[0])
		start, end, err := indexBounds(name, vals[2:], len(elems))
		if err != nil {
			return bson.RawValue{}, err
		}
		for i := start; i < end; i++ {
			if CompareValues(elems[i], vals[1]) == 0 {
				return valInt32(int32(i)), nil
			}
		}
		return valInt32(-1), nil
	})
}

// setOf returns an array's distinct values (by BSON equality), in order.
func setOf(v bson.RawValue) ([]bson.RawValue, map[string]bool) {
	seen := map[string]bool{}
	var out []bson.RawValue
	for _, e := range arrayValues(v) {
		k := valueKey(e)
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out, seen
}

func parseExprSet(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	args, err := ps.parseArgs(arg)
	if err != nil {
		return nil, err
	}
	switch name {
	case "$setDifference", "$setIsSubset":
		if len(args) != 2 {
			return nil, errLocation(16020, "Expression %s takes exactly 2 arguments. %d were passed in.", name, len(args))
		}
	case "$setEquals":
		if len(args) < 2 {
			return nil, errLocation(17045, "$setEquals needs at least two arguments had: %d", len(args))
		}
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		vals, err := evalArgs(c, args)
		if err != nil {
			return bson.RawValue{}, err
		}
		for i, v := range vals {
			if nullish(v) && name != "$setEquals" && !(name == "$setIsSubset") {
				return valNull(), nil
			}
			if v.Type != bsontype.Array {
				switch name {
				case "$setUnion":
					return bson.RawValue{}, errLocation(17043, "All operands of $setUnion must be arrays. One argument is of type: %s", exprTypeName(v))
				case "$setIntersection":
					return bson.RawValue{}, errLocation(17047, "All operands of $setIntersection must be arrays. One argument is of type: %s", exprTypeName(v))
				case "$setDifference":
					return bson.RawValue{}, errLocation(17048+int32(i), "both operands of $setDifference must be arrays. %s argument is of type: %s", []string{"First", "Second"}[i], exprTypeName(v))
				case "$setEquals":
					return bson.RawValue{}, errLocation(17044, "All operands of $setEquals must be arrays. One argument is of type: %s", exprTypeName(v))
				default:
					return bson.RawValue{}, errLocation(17046-4*int32(i), "both operands of $setIsSubset must be arrays. %s argument is of type: %s", []string{"First", "Second"}[i], exprTypeName(v))
				}
			}
		}
		switch name {
		case "$setUnion":
			var all []bson.RawValue
			for _, v := range vals {
				all = append(all, arrayValues(v)...)
			}
			out, _ := setOf(makeArray(all))
			return makeArray(out), nil
		case "$setIntersection":
			if len(vals) == 0 {
				return makeArray(nil), nil
			}
			out, _ := setOf(vals[0])
			for _, v := range vals[1:] {
				_, keys := setOf(v)
				kept := out[:0:0]
				for _, e := range out {
					if keys[valueKey(e)] {
						kept = append(kept, e)
					}
				}
				out = kept
			}
			return makeArray(out), nil
		case "$setDifference":
			first, _ := setOf(vals[0])
			_, second := setOf(vals[1])
			var out []bson.RawValue
			for _, e := range first {
				if !second[valueKey(e)] {
					out = append(out, e)
				}
			}
			return makeArray(out), nil
		case "$setEquals":
			_, want := setOf(vals[0])
			for _, v := range vals[1:] {
				_, got := setOf(v)
				if len(got) != len(want) {
					return valBool(false), nil
				}
				for k := range got {
					if !want[k] {
						return valBool(false), nil
					}
				}
			}
			return valBool(true), nil
		default: // $setIsSubset
			sub, _ := setOf(vals[0])
			_, super := setOf(vals[1])
			for _, e := range sub {
				if !super[valueKey(e)] {
					return valBool(false), nil
				}
			}
			return valBool(true), nil
		}
	}), nil
}

func parseExprAllAny(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return unaryExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		if v.Type != bsontype.Array {
			code := int32(17040)
			if name == "$anyElementTrue" {
				code = 17041
			}
			return bson.RawValue{}, errLocation(code, "%s's argument must be an array, but is %s", name, exprTypeName(v))
		}
		all := name == "$allElementsTrue"
		for _, e := range arrayValues(v) {
			if coerceToBool(e) != all {
				return valBool(!all), nil
			}
		}
		return valBool(all), nil
	})
}

// exprString reads a string argument; null and missing are "" as the
// server's coerceToString does for $strcasecmp.
func exprString(name string, v bson.RawValue) (string, error) {
	if nullish(v) {
		return "", nil
	}
	if s, ok := v.StringValueOK(); ok {
		return s, nil
	}
	if v.Type == bsontype.Symbol {
		s, _ := v.SymbolOK()
		return s, nil
	}
	return "", errLocation(16007, "can't convert from BSON type %s to String", exprTypeName(v))
}

func parseExprStrcasecmp(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return fixedExpr(ps, name, arg, 2, func(vals []bson.RawValue) (bson.RawValue, error) {
		a, err := exprString(name, vals[0])
		if err != nil {
			return bson.RawValue{}, err
		}
		b, err := exprString(name, vals[1])
		if err != nil {
			return bson.RawValue{}, err
		}
		return valInt32(int32(strings.Compare(asciiLower(a), asciiLower(b)))), nil
	})
}

// asciiLower lowercases ASCII letters only, as the server's $strcasecmp.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

func parseExprIndexOfStr(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return rangeExpr(ps, name, arg, 2, 4, func(vals []bson.RawValue) (bson.RawValue, error) {
		if nullish(vals[0]) {
			return valNull(), nil
		}
		s, ok := vals[0].StringValueOK()
		if !ok {
			return bson.RawValue{}, errLocation(40091, "%s requires a string as the first argument, found: %s", name, exprTypeName(vals[0]))
		}
		sub, ok := vals[1].StringValueOK()
		if !ok {
			return bson.RawValue{}, errLocation(40092, "%s requires a string as the second argument, found: %s", name, exprTypeName(vals[1]))
		}
		if name == "$indexOfBytes" {
			start, end, err := indexBounds(name, vals[2:], len(s))
			if err != nil {
				return bson.RawValue{}, err
			}
			if start > end || start > len(s) {
				return valInt32(-1), nil
			}
			if i := strings.Index(s[start:end], sub); i >= 0 {
				return valInt32(int32(start + i)), nil
			}
			return valInt32(-1), nil
		}
		runes := []rune(s)
		if !utf8.ValidString(s) {
			return bson.RawValue{}, errLocation(40096, "%s requires a valid UTF-8 string", name)
		}
		start, end, err := indexBounds(name, vals[2:], len(runes))
		if err != nil {
			return bson.RawValue{}, err
		}
		subRunes := []rune(sub)
		for i := start; i+len(subRunes) <= end; i++ {
			if string(runes[i:i+len(subRunes)]) == sub {
				return valInt32(int32(i)), nil
			}
		}
		return valInt32(-1), nil
	})
}

func parseExprReplace(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	named, err := namedArgs(name, arg, []string{"input", "find", "replacement"}, 51750, 51751)
	if err != nil {
		return nil, err
	}
	var nodes [3]exprNode
	for i, k := range []string{"input", "find", "replacement"} {
		v, ok := named[k]
		if !ok {
			return nil, errLocation(51749-int32(i), "%s requires '%s' to be specified", name, k)
		}
		if nodes[i], err = ps.parseOperand(v); err != nil {
			return nil, err
		}
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		vals, err := evalArgs(c, nodes[:])
		if err != nil {
			return bson.RawValue{}, err
		}
		var strs [3]string
		null := false
		for i, v := range vals {
			if nullish(v) {
				null = true
				continue
			}
			s, ok := v.StringValueOK()
			if !ok {
				return bson.RawValue{}, errLocation(51746-int32(i), "%s requires that '%s' be a string, found: %s", name, []string{"input", "find", "replacement"}[i], aggValueString(v))
			}
			strs[i] = s
		}
		if null {
			return valNull(), nil
		}
		if name == "$replaceOne" {
			return valString(strings.Replace(strs[0], strs[1], strs[2], 1)), nil
		}
		return valString(strings.ReplaceAll(strs[0], strs[1], strs[2])), nil
	}), nil
}

// parseExprRegex parses $regexMatch (a boolean), $regexFind (the first
// match as {match, idx, captures}, or null) and $regexFindAll (every
// match, as an array of those): idx counts code points, and a capture
// group that took no part in the match is null.
func parseExprRegex(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	named, err := namedArgs(name, arg, []string{"input", "regex", "options"}, 31024, 51103)
	if err != nil {
		return nil, err
	}
	keys := []string{"input", "regex", "options"}
	nodes := make([]exprNode, 3)
	for i, k := range keys {
		v, ok := named[k]
		if !ok {
			if k == "options" {
				nodes[i] = &constExpr{}
				continue
			}
			return nil, errLocation(31022+int32(i), "%s requires '%s' parameter", name, k)
		}
		if nodes[i], err = ps.parseOperand(v); err != nil {
			return nil, err
		}
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		vals, err := evalArgs(c, nodes)
		if err != nil {
			return bson.RawValue{}, err
		}
		input, rx, opts := vals[0], vals[1], vals[2]
		none := valBool(false)
		switch name {
		case "$regexFind":
			none = valNull()
		case "$regexFindAll":
			none = makeArray(nil)
		}
		if nullish(input) {
			return none, nil
		}
		s, ok := input.StringValueOK()
		if !ok {
			return bson.RawValue{}, errLocation(51104, "%s needs 'input' to be of type string", name)
		}
		var pattern, flags string
		switch rx.Type {
		case bsontype.String:
			pattern = rx.StringValue()
		case bsontype.Regex:
			pattern, flags = rx.Regex()
		case 0, bsontype.Null, bsontype.Undefined:
			return none, nil
		default:
			return bson.RawValue{}, errLocation(51105, "%s needs 'regex' to be of type string or regex", name)
		}
		if !nullish(opts) {
			o, ok := opts.StringValueOK()
			if !ok {
				return bson.RawValue{}, errLocation(51106, "%s needs 'options' to be of type string", name)
			}
			if flags != "" && o != "" {
				return bson.RawValue{}, errLocation(51107, "%s found regex option(s) specified in both 'regex' and 'option' fields", name)
			}
			flags += o
		}
		re, err := compileRegex(pattern, flags)
		if err != nil {
			return bson.RawValue{}, err
		}
		switch name {
		case "$regexFind":
			if m := re.findAll(s, 1); len(m) > 0 {
				return regexMatchDoc(s, m[0]), nil
			}
			return none, nil
		case "$regexFindAll":
			var out []bson.RawValue
			for _, m := range re.findAll(s, -1) {
				out = append(out, regexMatchDoc(s, m))
			}
			return makeArray(out), nil
		}
		return valBool(re.matchString(s)), nil
	}), nil
}

// parseExprToUUID parses $toUUID: a string in the 8-4-4-4-12 hex form as
// binData subtype 4, like $convert to {type: "binData", subtype: 4} with
// format "uuid".
func parseExprToUUID(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return nullSafeExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		s, ok := v.StringValueOK()
		if !ok {
			return bson.RawValue{}, errLocation(241, "Unsupported conversion from %s to binData in $convert with no onError value", exprTypeName(v))
		}
		b, ok := parseUUID(s)
		if !ok {
			return bson.RawValue{}, errLocation(241, "Failed to parse BinData '%s' in $convert with no onError value: Invalid UUID string: %s", s, s)
		}
		return bson.RawValue{Type: bsontype.Binary, Value: bsoncore.AppendBinary(nil, 4, b)}, nil
	})
}

// parseUUID reads the 36-character 8-4-4-4-12 form of a UUID.
func parseUUID(s string) ([]byte, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, false
	}
	out := make([]byte, 0, 16)
	hex := strings.ReplaceAll(s, "-", "")
	for i := 0; i < len(hex); i += 2 {
		hi, ok1 := hexDigit(hex[i])
		lo, ok2 := hexDigit(hex[i+1])
		if !ok1 || !ok2 {
			return nil, false
		}
		out = append(out, hi<<4|lo)
	}
	return out, len(out) == 16
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseExprTsPart parses $tsSecond and $tsIncrement: a timestamp's
// seconds or increment, as a long.
func parseExprTsPart(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return nullSafeExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		t, i, ok := v.TimestampOK()
		if !ok {
			return bson.RawValue{}, errLocation(5687301, "Argument to %s must be a timestamp, but is %s", name, exprTypeName(v))
		}
		if name == "$tsSecond" {
			return valInt64(int64(t)), nil
		}
		return valInt64(int64(i)), nil
	})
}

// parseExprByteSize parses $bsonSize (a document's encoded size) and
// $binarySize (a string's UTF-8 bytes or a binData's bytes), as ints.
func parseExprByteSize(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return nullSafeExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		if name == "$bsonSize" {
			if v.Type != bsontype.EmbeddedDocument {
				return bson.RawValue{}, errLocation(31393, "$bsonSize requires a document input, found: %s", exprTypeName(v))
			}
			return valInt32(int32(len(v.Value))), nil
		}
		switch v.Type {
		case bsontype.String:
			return valInt32(int32(len(v.StringValue()))), nil
		case bsontype.Binary:
			_, data := v.Binary()
			return valInt32(int32(len(data))), nil
		}
		return bson.RawValue{}, errLocation(51276, "$binarySize requires a string or BinData argument, found: %s", exprTypeName(v))
	})
}

// regexMatchDoc is one match of $regexFind(All): m holds byte offsets as
// regexp.FindStringSubmatchIndex returns them.
func regexMatchDoc(s string, m []int) bson.RawValue {
	captures := make([]bson.RawValue, 0, len(m)/2-1)
	for g := 1; g < len(m)/2; g++ {
		if m[2*g] < 0 {
			captures = append(captures, valNull())
			continue
		}
		captures = append(captures, valString(s[m[2*g]:m[2*g+1]]))
	}
	idx, doc := bsoncore.AppendDocumentStart(nil)
	doc = bsoncore.AppendStringElement(doc, "match", s[m[0]:m[1]])
	doc = bsoncore.AppendInt32Element(doc, "idx", int32(utf8.RuneCountInString(s[:m[0]])))
	caps := makeArray(captures)
	doc = bsoncore.AppendArrayElement(doc, "captures", caps.Value)
	doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
	return bson.RawValue{Type: bsontype.EmbeddedDocument, Value: doc}
}

func parseExprTrig(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return unaryExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		f, ok, err := mathArg(name, v, 28765)
		if !ok {
			if err == nil {
				return valNull(), nil
			}
			return bson.RawValue{}, err
		}
		domain := func(ok bool, bounds string) error {
			if ok {
				return nil
			}
			return errLocation(50989, "cannot apply %s to %s, value must be in %s", name, aggValueString(v), bounds)
		}
		var r float64
		switch name {
		case "$sin", "$cos", "$tan":
			if err := domain(!math.IsInf(f, 0), "(-inf,inf)"); err != nil {
				return bson.RawValue{}, err
			}
			r = map[string]func(float64) float64{"$sin": math.Sin, "$cos": math.Cos, "$tan": math.Tan}[name](f)
		case "$asin", "$acos":
			if err := domain(math.IsNaN(f) || (f >= -1 && f <= 1), "[-1,1]"); err != nil {
				return bson.RawValue{}, err
			}
			r = map[string]func(float64) float64{"$asin": math.Asin, "$acos": math.Acos}[name](f)
		case "$atanh":
			if err := domain(math.IsNaN(f) || (f >= -1 && f <= 1), "[-1,1]"); err != nil {
				return bson.RawValue{}, err
			}
			r = math.Atanh(f)
		case "$acosh":
			if err := domain(math.IsNaN(f) || f >= 1, "[1,inf]"); err != nil {
				return bson.RawValue{}, err
			}
			r = math.Acosh(f)
		case "$atan":
			r = math.Atan(f)
		case "$sinh":
			r = math.Sinh(f)
		case "$cosh":
			r = math.Cosh(f)
		case "$tanh":
			r = math.Tanh(f)
		case "$asinh":
			r = math.Asinh(f)
		case "$degreesToRadians":
			r = f * math.Pi / 180
		default: // $radiansToDegrees
			r = f * 180 / math.Pi
		}
		return valDouble(r), nil
	})
}

func parseExprAtan2(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return fixedExpr(ps, name, arg, 2, func(vals []bson.RawValue) (bson.RawValue, error) {
		y, ok1, err := mathArg(name, vals[0], 51044)
		if err != nil {
			return bson.RawValue{}, err
		}
		x, ok2, err := mathArg(name, vals[1], 51045)
		if err != nil {
			return bson.RawValue{}, err
		}
		if !ok1 || !ok2 {
			return valNull(), nil
		}
		return valDouble(math.Atan2(y, x)), nil
	})
}

func parseExprBit(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	if name == "$bitNot" {
		return unaryExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
			switch v.Type {
			case bsontype.Int32:
				return valInt32(^v.Int32()), nil
			case bsontype.Int64:
				return valInt64(^v.Int64()), nil
			}
			if nullish(v) {
				return valNull(), nil
			}
			return bson.RawValue{}, errTypeMismatch("%s only supports int and long, not: %s.", name, exprTypeName(v))
		})
	}
	args, err := ps.parseArgs(arg)
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		vals, err := evalArgs(c, args)
		if err != nil {
			return bson.RawValue{}, err
		}
		acc := int64(0)
		if name == "$bitAnd" {
			acc = -1
		}
		wide := false
		for _, v := range vals {
			if nullish(v) {
				return valNull(), nil
			}
			var x int64
			switch v.Type {
			case bsontype.Int32:
				x = int64(v.Int32())
			case bsontype.Int64:
				x, wide = v.Int64(), true
			default:
				return bson.RawValue{}, errTypeMismatch("%s only supports int and long operands.", name)
			}
			switch name {
			case "$bitAnd":
				acc &= x
			case "$bitOr":
				acc |= x
			default:
				acc ^= x
			}
		}
		if wide {
			return valInt64(acc), nil
		}
		return valInt32(int32(acc)), nil
	}), nil
}

func parseExprWeekPart(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	date, tz, _, err := ps.parseDateArg(name, arg)
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		t, ok, err := evalDate(c, name, date, tz)
		if err != nil || !ok {
			return valNull(), err
		}
		year, week := t.ISOWeek()
		switch name {
		case "$week": // weeks start on Sunday; days before the first Sunday are week 0
			return valInt32(int32((t.YearDay() - 1 + 7 - int(t.Weekday())) / 7)), nil
		case "$isoWeek":
			return valInt32(int32(week)), nil
		case "$isoWeekYear":
			return intOrLong(int64(year)), nil
		default: // $isoDayOfWeek: Monday 1 ... Sunday 7
			return valInt32(int32((int(t.Weekday())+6)%7 + 1)), nil
		}
	}), nil
}

func parseExprArrayN(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	named, err := namedArgs(name, arg, []string{"input", "n"}, 5787901, 5787900)
	if err != nil {
		return nil, err
	}
	var input, n exprNode
	for _, k := range []string{"input", "n"} {
		v, ok := named[k]
		if !ok {
			return nil, errLocation(5787907, "Missing value for '%s'", k)
		}
		node, err := ps.parseOperand(v)
		if err != nil {
			return nil, err
		}
		if k == "input" {
			input = node
		} else {
			n = node
		}
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		nv, err := n.eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		r, ok := exactRat(nv)
		if !isNumeric(nv.Type) || !ok || !r.IsInt() || !r.Num().IsInt64() || r.Sign() <= 0 {
			return bson.RawValue{}, errLocation(5787908, "'n' must be a positive integer, found: %s", aggValueString(nv))
		}
		count := r.Num().Int64()
		in, err := input.eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		if in.Type != bsontype.Array {
			return bson.RawValue{}, errLocation(5788200, "Input must be an array, found: %s", aggValueString(in))
		}
		vals := arrayValues(in)
		switch name {
		case "$maxN", "$minN":
			kept := vals[:0:0]
			for _, v := range vals {
				if !nullish(v) {
					kept = append(kept, v)
				}
			}
			vals = kept
			slices.SortStableFunc(vals, func(a, b bson.RawValue) int {
				if name == "$maxN" {
					return CompareValues(b, a)
				}
				return CompareValues(a, b)
			})
		case "$lastN":
			vals = vals[max(0, int64(len(vals))-count):]
		}
		if int64(len(vals)) > count {
			vals = vals[:count]
		}
		return makeArray(vals), nil
	}), nil
}

func parseExprSortArray(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	named, err := namedArgs(name, arg, []string{"input", "sortBy"}, 2942500, 2942501)
	if err != nil {
		return nil, err
	}
	inV, ok := named["input"]
	if !ok {
		return nil, errLocation(2942502, "$sortArray requires 'input' to be specified")
	}
	input, err := ps.parseOperand(inV)
	if err != nil {
		return nil, err
	}
	sb, ok := named["sortBy"]
	if !ok {
		return nil, errLocation(2942503, "$sortArray requires 'sortBy' to be specified")
	}
	dir := 0 // a whole-value sort: 1 or -1
	var sortSpec *Sort
	switch {
	case isNumeric(sb.Type) && (numberAsFloat(sb) == 1 || numberAsFloat(sb) == -1):
		dir = int(numberAsFloat(sb))
	case sb.Type == bsontype.EmbeddedDocument:
		if sortSpec, err = CompileSort(bson.Raw(sb.Value)); err != nil {
			return nil, err
		}
	default:
		return nil, errLocation(2942504, "$sortArray requires sortBy to be either 1, -1, or a document of field paths")
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		v, err := input.eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		if nullish(v) {
			return valNull(), nil
		}
		if v.Type != bsontype.Array {
			return bson.RawValue{}, errLocation(2942504, "The input argument to $sortArray must be an array, but was of type: %s", exprTypeName(v))
		}
		vals := arrayValues(v)
		slices.SortStableFunc(vals, func(a, b bson.RawValue) int {
			if dir != 0 {
				return dir * CompareValues(a, b)
			}
			ad, aok := a.DocumentOK()
			bd, bok := b.DocumentOK()
			switch {
			case aok && bok:
				return sortSpec.Compare(bson.Raw(ad), bson.Raw(bd))
			case aok:
				return 1 // documents sort after other values
			case bok:
				return -1
			}
			return 0
		})
		return makeArray(vals), nil
	}), nil
}

func parseExprZip(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	named, err := namedArgs(name, arg, []string{"inputs", "useLongestLength", "defaults"}, 34464, 34460)
	if err != nil {
		return nil, err
	}
	inV, ok := named["inputs"]
	if !ok {
		return nil, errLocation(34465, "$zip requires at least one input array")
	}
	if inV.Type != bsontype.Array {
		return nil, errLocation(34461, "inputs must be an array of expressions, found %s", typeName(inV.Type))
	}
	inputs, err := ps.parseArgs(inV)
	if err != nil {
		return nil, err
	}
	longest := false
	if v, ok := named["useLongestLength"]; ok {
		if v.Type != bsontype.Boolean {
			return nil, errLocation(34463, "useLongestLength must be a bool, found %s", typeName(v.Type))
		}
		longest = v.Boolean()
	}
	var defaults []exprNode
	if v, ok := named["defaults"]; ok {
		if v.Type != bsontype.Array {
			return nil, errLocation(34462, "defaults must be an array of expressions, found %s", typeName(v.Type))
		}
		if defaults, err = ps.parseArgs(v); err != nil {
			return nil, err
		}
		if !longest {
			return nil, errLocation(34466, "cannot specify defaults unless useLongestLength is true")
		}
		if len(defaults) != len(inputs) {
			return nil, errLocation(34467, "defaults and inputs must have the same length")
		}
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		arrays := make([][]bson.RawValue, len(inputs))
		size := -1
		for i, in := range inputs {
			v, err := in.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if nullish(v) {
				return valNull(), nil
			}
			if v.Type != bsontype.Array {
				return bson.RawValue{}, errLocation(34468, "$zip found a non-array expression in input: %s", aggValueString(v))
			}
			arrays[i] = arrayValues(v)
			switch {
			case size < 0, longest && len(arrays[i]) > size, !longest && len(arrays[i]) < size:
				size = len(arrays[i])
			}
		}
		defs := make([]bson.RawValue, len(inputs))
		for i := range defs {
			defs[i] = valNull()
			if defaults != nil {
				d, err := defaults[i].eval(c)
				if err != nil {
					return bson.RawValue{}, err
				}
				defs[i] = d
			}
		}
		out := make([]bson.RawValue, 0, max(size, 0))
		for j := 0; j < size; j++ {
			row := make([]bson.RawValue, len(arrays))
			for i, a := range arrays {
				if j < len(a) {
					row[i] = a[j]
				} else {
					row[i] = defs[i]
				}
			}
			out = append(out, makeArray(row))
		}
		return makeArray(out), nil
	}), nil
}

func parseExprDateAdd(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	if arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(5166400, "%s expects an object as its argument", name)
	}
	nodes, err := ps.parseNamedOperands(arg, []string{"startDate", "unit", "amount", "timezone"}, func(key string) error {
		return errLocation(5166401, "Unrecognized argument to %s: %s. Expected arguments are startDate, unit, amount, and optionally timezone.", name, key)
	})
	if err != nil {
		return nil, err
	}
	for i := 0; i < 3; i++ {
		if nodes[i] == nil {
			return nil, errLocation(5166402, "%s requires startDate, unit, and amount to be present", name)
		}
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		vals := make([]bson.RawValue, 4)
		for i, n := range nodes {
			if n == nil {
				continue
			}
			v, err := n.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if nullish(v) {
				return valNull(), nil
			}
			vals[i] = v
		}
		var start time.Time
		switch v := vals[0]; v.Type {
		case bsontype.DateTime:
			start = time.UnixMilli(v.DateTime()).UTC()
		case bsontype.Timestamp:
			sec, _ := v.Timestamp()
			start = time.Unix(int64(sec), 0).UTC()
		case bsontype.ObjectID:
			start = v.ObjectID().Timestamp().UTC()
		default:
			return bson.RawValue{}, errLocation(5166403, "%s requires startDate to be convertible to a date", name)
		}
		unit, ok := vals[1].StringValueOK()
		if !ok {
			return bson.RawValue{}, errLocation(5166404, "%s expects string defining the time unit", name)
		}
		r, ok := exactRat(vals[2])
		if !isNumeric(vals[2].Type) || !ok || !r.IsInt() || !r.Num().IsInt64() {
			return bson.RawValue{}, errLocation(5166405, "invalid %s 'amount' parameter value: %s", name, aggValueString(vals[2]))
		}
		amount := r.Num().Int64()
		if name == "$dateSubtract" {
			amount = -amount
		}
		loc := time.UTC
		if vals[3].Type != 0 {
			tz, ok := vals[3].StringValueOK()
			if !ok {
				return bson.RawValue{}, errLocation(40517, "timezone must evaluate to a string, found %s", exprTypeName(vals[3]))
			}
			var err error
			if loc, err = parseTimezone(tz); err != nil {
				return bson.RawValue{}, err
			}
		}
		t, err := dateAddUnits(start.In(loc), unit, amount)
		if err != nil {
			return bson.RawValue{}, err
		}
		return bson.RawValue{Type: bsontype.DateTime, Value: appendInt64(nil, t.UnixMilli())}, nil
	}), nil
}

// dateAddUnits adds amount units to t: fixed durations up to hours,
// calendar days and weeks in t's location, and months, quarters and years
// with the day clamped to the end of the target month (Jan 31 + 1 month is
// the last day of February).
func dateAddUnits(t time.Time, unit string, amount int64) (time.Time, error) {
	const maxAmount = 1 << 40 // far beyond any date, small enough not to overflow
	if amount > maxAmount || amount < -maxAmount {
		return time.Time{}, errLocation(5166406, "$dateAdd overflowed")
	}
	n := int(amount)
	switch unit {
	case "millisecond":
		return t.Add(time.Duration(amount) * time.Millisecond), nil
	case "second":
		return t.Add(time.Duration(amount) * time.Second), nil
	case "minute":
		return t.Add(time.Duration(amount) * time.Minute), nil
	case "hour":
		return t.Add(time.Duration(amount) * time.Hour), nil
	case "day":
		return t.AddDate(0, 0, n), nil
	case "week":
		return t.AddDate(0, 0, 7*n), nil
	case "month", "quarter", "year":
		months := n * map[string]int{"month": 1, "quarter": 3, "year": 12}[unit]
		y, m, d := t.Date()
		total := y*12 + int(m) - 1 + months
		ny, nm := total/12, time.Month(total%12+1)
		if total < 0 && total%12 != 0 {
			ny, nm = total/12-1, time.Month(total%12+13)
		}
		last := time.Date(ny, nm+1, 0, 0, 0, 0, 0, t.Location()).Day()
		return time.Date(ny, nm, min(d, last), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location()), nil
	}
	return time.Time{}, errFailedToParse("unknown time unit value: %s", unit)
}

// dateOf converts a date, timestamp or ObjectId to a time.
func dateOf(v bson.RawValue) (time.Time, bool) {
	switch v.Type {
	case bsontype.DateTime:
		return time.UnixMilli(v.DateTime()).UTC(), true
	case bsontype.Timestamp:
		sec, _ := v.Timestamp()
		return time.Unix(int64(sec), 0).UTC(), true
	case bsontype.ObjectID:
		return v.ObjectID().Timestamp().UTC(), true
	}
	return time.Time{}, false
}

// weekdays are the accepted startOfWeek values (full or three-letter
// names, in any case).
var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func parseExprDateDiff(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	if arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(5166301, "$dateDiff only supports an object as its argument")
	}
	keys := []string{"startDate", "endDate", "unit", "timezone", "startOfWeek"}
	nodes, err := ps.parseNamedOperands(arg, keys, func(key string) error {
		return errLocation(5166302, "Unrecognized argument to $dateDiff: %s", key)
	})
	if err != nil {
		return nil, err
	}
	for i, k := range keys[:3] {
		if nodes[i] == nil {
			return nil, errLocation(5166303+int32(i), "Missing '%s' parameter to $dateDiff", k)
		}
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		vals := make([]bson.RawValue, len(keys))
		for i, n := range nodes {
			if n == nil {
				continue
			}
			v, err := n.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			vals[i] = v
		}
		for i := 0; i < 4; i++ {
			if nullish(vals[i]) && (i < 3 || nodes[i] != nil) {
				return valNull(), nil
			}
		}
		start, ok1 := dateOf(vals[0])
		end, ok2 := dateOf(vals[1])
		if !ok1 || !ok2 {
			bad := vals[0]
			if ok1 {
				bad = vals[1]
			}
			return bson.RawValue{}, errLocation(5166307, "$dateDiff requires '%s' to be a date, but got %s",
				map[bool]string{true: "endDate", false: "startDate"}[ok1], exprTypeName(bad))
		}
		unit, ok := vals[2].StringValueOK()
		if !ok {
			return bson.RawValue{}, errLocation(5439013, "$dateDiff requires 'unit' to be a string, but got %s", exprTypeName(vals[2]))
		}
		switch unit {
		case "millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year":
		default:
			return bson.RawValue{}, errLocation(5439014, "$dateDiff parameter 'unit' value parsing failed :: caused by :: unknown time unit value: %s", unit)
		}
		loc, weekStart, null, err := zoneAndWeekStart("$dateDiff", unit, nodes[3] != nil, vals[3], nodes[4] != nil, vals[4])
		if err != nil || null {
			return valNull(), err
		}
		return valInt64(dateDiff(start, end, unit, loc, weekStart)), nil
	}), nil
}

// floorDiv is a / b rounded down.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// dateDiff counts the unit boundaries between start and end: up to hours
// on the absolute time line, days and longer on the calendar of loc.
func dateDiff(start, end time.Time, unit string, loc *time.Location, weekStart time.Weekday) int64 {
	if ms, ok := map[string]int64{"millisecond": 1, "second": 1000, "minute": 60000, "hour": 3600000}[unit]; ok {
		return floorDiv(end.UnixMilli(), ms) - floorDiv(start.UnixMilli(), ms)
	}
	s, e := start.In(loc), end.In(loc)
	civil := func(t time.Time) int64 { // days since 1970-01-01 of t's local date
		y, m, d := t.Date()
		return floorDiv(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix(), 86400)
	}
	switch unit {
	case "day":
		return civil(e) - civil(s)
	case "week":
		// 1970-01-01 was a Thursday; shift so weeks start on weekStart.
		shift := int64((int(time.Thursday) - int(weekStart) + 7) % 7)
		return floorDiv(civil(e)+shift, 7) - floorDiv(civil(s)+shift, 7)
	case "month":
		return int64(e.Year()*12+int(e.Month())) - int64(s.Year()*12+int(s.Month()))
	case "quarter":
		return int64(e.Year()*4+(int(e.Month())-1)/3) - int64(s.Year()*4+(int(s.Month())-1)/3)
	}
	return int64(e.Year() - s.Year())
}

func parseExprDateTrunc(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	if arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(5439007, "$dateTrunc only supports an object as its argument")
	}
	nodes, err := ps.parseNamedOperands(arg, []string{"date", "unit", "binSize", "timezone", "startOfWeek"}, func(key string) error {
		return errLocation(5439008, "Unrecognized argument to $dateTrunc: %s. Expected arguments are date, unit, and optionally, binSize, timezone, startOfWeek", key)
	})
	if err != nil {
		return nil, err
	}
	if nodes[0] == nil {
		return nil, errLocation(5439009, "Missing 'date' parameter to $dateTrunc")
	}
	if nodes[1] == nil {
		return nil, errLocation(5439010, "Missing 'unit' parameter to $dateTrunc")
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		vals := make([]bson.RawValue, len(nodes))
		for i, n := range nodes {
			if n == nil {
				continue
			}
			v, err := n.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if nullish(v) && i < 4 {
				return valNull(), nil
			}
			vals[i] = v
		}
		t, ok := dateOf(vals[0])
		if !ok {
			return bson.RawValue{}, errLocation(5439012, "$dateTrunc requires 'date' to be a date, but got %s", exprTypeName(vals[0]))
		}
		unit, ok := vals[1].StringValueOK()
		if !ok {
			return bson.RawValue{}, errLocation(5439013, "$dateTrunc requires 'unit' to be a string, but got %s", exprTypeName(vals[1]))
		}
		switch unit {
		case "millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year":
		default:
			return bson.RawValue{}, errLocation(5439014, "$dateTrunc parameter 'unit' value parsing failed :: caused by :: unknown time unit value: %s", unit)
		}
		binSize := int64(1)
		if nodes[2] != nil {
			r, ok := exactRat(vals[2])
			if !isNumeric(vals[2].Type) || !ok || !r.IsInt() || !r.Num().IsInt64() {
				return bson.RawValue{}, errLocation(5439017, "$dateTrunc requires 'binSize' to be a 64-bit integer, but got value '%s' of type %s", aggValueString(vals[2]), exprTypeName(vals[2]))
			}
			if binSize = r.Num().Int64(); binSize <= 0 || binSize > 1<<40 {
				return bson.RawValue{}, errLocation(5439018, "$dateTrunc requires 'binSize' to be greater than 0, but got value %d", binSize)
			}
		}
		loc, weekStart, null, err := zoneAndWeekStart("$dateTrunc", unit, nodes[3] != nil, vals[3], nodes[4] != nil, vals[4])
		if err != nil || null {
			return valNull(), err
		}
		out := dateTrunc(t, unit, binSize, loc, weekStart)
		return bson.RawValue{Type: bsontype.DateTime, Value: appendInt64(nil, out.UnixMilli())}, nil
	}), nil
}

// dateTrunc returns the start of t's bin: bins of binSize units counted
// on the wall clock of loc from 2000-01-01T00:00 (for weeks, from the
// first weekStart day of 2000).
func dateTrunc(t time.Time, unit string, binSize int64, loc *time.Location, weekStart time.Weekday) time.Time {
	lt := t.In(loc)
	wall := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), lt.Second(), lt.Nanosecond(), time.UTC)
	ref := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	var out time.Time
	if ms, ok := map[string]int64{"millisecond": 1, "second": 1000, "minute": 60000, "hour": 3600000}[unit]; ok {
		size := ms * binSize
		bin := floorDiv(wall.UnixMilli()-ref.UnixMilli(), size)*size + ref.UnixMilli()
		out = time.UnixMilli(bin).UTC()
	} else {
		switch unit {
		case "day", "week":
			days := floorDiv(wall.Unix()-ref.Unix(), 86400)
			size, start := binSize, int64(0)
			if unit == "week" {
				size *= 7
				start = int64((int(weekStart) - int(time.Saturday) + 7) % 7) // 2000-01-01 was a Saturday
			}
			out = ref.AddDate(0, 0, int(floorDiv(days-start, size)*size+start))
		default:
			size := binSize * map[string]int64{"month": 1, "quarter": 3, "year": 12}[unit]
			months := int64(wall.Year()-2000)*12 + int64(wall.Month()) - 1
			bin := floorDiv(months, size) * size
			out = time.Date(2000+int(floorDiv(bin, 12)), time.Month(bin-floorDiv(bin, 12)*12+1), 1, 0, 0, 0, 0, time.UTC)
		}
	}
	return time.Date(out.Year(), out.Month(), out.Day(), out.Hour(), out.Minute(), out.Second(), out.Nanosecond(), loc)
}

// zoneAndWeekStart reads the timezone and startOfWeek arguments of
// $dateDiff and $dateTrunc (op); null is true when startOfWeek is null or
// missing for a week unit, which makes the result null.
func zoneAndWeekStart(op, unit string, hasTZ bool, tz bson.RawValue, hasWeek bool, week bson.RawValue) (loc *time.Location, weekStart time.Weekday, null bool, err error) {
	loc, weekStart = time.UTC, time.Sunday
	if hasTZ {
		name, ok := tz.StringValueOK()
		if !ok {
			return nil, 0, false, errLocation(40517, "timezone must evaluate to a string, found %s", exprTypeName(tz))
		}
		if loc, err = parseTimezone(name); err != nil {
			return nil, 0, false, err
		}
	}
	if unit != "week" || !hasWeek {
		return loc, weekStart, false, nil
	}
	if nullish(week) {
		return nil, 0, true, nil
	}
	sw, ok := week.StringValueOK()
	if !ok {
		return nil, 0, false, errLocation(5439015, "%s requires 'startOfWeek' to be a string, but got %s", op, exprTypeName(week))
	}
	d, ok := weekdays[strings.ToLower(sw)]
	if !ok {
		return nil, 0, false, errLocation(5439016, "%s parameter 'startOfWeek' value cannot be recognized as a day of a week: %s", op, sw)
	}
	return loc, d, false, nil
}

// parseNamedOperands parses the fields of an operator's object argument
// (arg, a document) as operands, by position in keys (nil for a missing
// one); unknown names the error of a field not in keys.
func (ps *exprParser) parseNamedOperands(arg bson.RawValue, keys []string, unknown func(key string) error) ([]exprNode, error) {
	nodes := make([]exprNode, len(keys))
	err := namedArgFields(arg.Value, keys, unknown, func(i int, v bson.RawValue) (err error) {
		nodes[i], err = ps.parseOperand(v)
		return err
	})
	return nodes, err
}
