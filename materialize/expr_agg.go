package materialize

import (
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// This file holds expression operators pipelines use that expr.go lacks:
// variables ($let), array iteration ($map, $filter, $reduce), strings
// ($substr*, $toString, $split, $strLen*, $trim), date parts and
// $dateToString (UTC and fixed offsets), type conversion ($to*, $convert)
// and arrays ($concatArrays, $slice, $reverseArray, $range, $first, $last,
// $sum/$avg/$min/$max over arrays).
//
// exprAggOperatorParser is the table; expr.go's exprOperatorParser falls
// back to it for names it does not know (one line there:
// `return exprAggOperatorParser(name)` in place of its final `return nil`).

// exprAggOperatorParser returns the parser of an operator of this file, or nil.
func exprAggOperatorParser(name string) exprOperatorFn {
	switch name {
	case "$let":
		return parseExprLet
	case "$map":
		return parseExprMap
	case "$filter":
		return parseExprFilter
	case "$reduce":
		return parseExprReduce
	case "$substr", "$substrBytes", "$substrCP":
		return parseExprSubstr
	case "$toString", "$toInt", "$toLong", "$toDouble", "$toDecimal", "$toBool", "$toObjectId", "$toDate":
		return parseExprTo
	case "$convert":
		return parseExprConvert
	case "$split":
		return parseExprSplit
	case "$strLenCP", "$strLenBytes":
		return parseExprStrLen
	case "$trim", "$ltrim", "$rtrim":
		return parseExprTrim
	case "$year", "$month", "$dayOfMonth", "$hour", "$minute", "$second", "$millisecond", "$dayOfWeek", "$dayOfYear":
		return parseExprDatePart
	case "$dateToString":
		return parseExprDateToString
	case "$concatArrays":
		return parseExprConcatArrays
	case "$slice":
		return parseExprSlice
	case "$reverseArray":
		return parseExprReverseArray
	case "$range":
		return parseExprRange
	case "$first", "$last":
		return parseExprFirstLast
	case "$sum", "$avg", "$min", "$max":
		return parseExprArrayAcc
	}
	return exprMoreOperatorParser(name)
}

// namedArgs parses an operator's object of named arguments.
func namedArgs(name string, arg bson.RawValue, allowed []string, unknownCode, objCode int32) (map[string]bson.RawValue, error) {
	d, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(objCode, "%s only supports an object as its argument", name)
	}
	out := map[string]bson.RawValue{}
	err := namedArgFields(d, allowed, func(key string) error {
		return errLocation(unknownCode, "Unrecognized parameter to %s: %s", name, key)
	}, func(i int, v bson.RawValue) error {
		out[allowed[i]] = v
		return nil
	})
	return out, err
}

// parsePresent parses the named arguments keys of a (namedArgs), in
// order; an absent one is a nil node.
func (ps *exprParser) parsePresent(a map[string]bson.RawValue, keys ...string) ([]exprNode, error) {
	nodes := make([]exprNode, len(keys))
	for i, k := range keys {
		if a[k].Type == 0 {
			continue
		}
		var err error
		if nodes[i], err = ps.parseOperand(a[k]); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}

// namedArgFields calls fn with each field of an operator's object argument
// d and its position in allowed; a field not in allowed fails with
// unknown(key).
func namedArgFields(d bson.Raw, allowed []string, unknown func(key string) error, fn func(i int, v bson.RawValue) error) error {
	var perr error
	iterElements(d, func(key string, v bson.RawValue) bool {
		i := slices.Index(allowed, key)
		if i < 0 {
			perr = unknown(key)
			return false
		}
		perr = fn(i, v)
		return perr == nil
	})
	return perr
}

// withVar parses fn with variable name in scope.
func (ps *exprParser) withVar(names []string, fn func() (exprNode, error)) (exprNode, error) {
	old := make([]bool, len(names))
	for i, n := range names {
		old[i] = ps.vars[n]
		ps.vars[n] = true
	}
	defer func() {
		for i, n := range names {
			if !old[i] {
				delete(ps.vars, n)
			}
		}
	}()
	return fn()
}

// bindVars evaluates fn with the variables set, then restores them.
func (c *exprContext) bind(names []string, vals []bson.RawValue, fn func() (bson.RawValue, error)) (bson.RawValue, error) {
	type saved struct {
		v  bson.RawValue
		ok bool
	}
	old := make([]saved, len(names))
	for i, n := range names {
		v, ok := c.vars[n]
		old[i] = saved{v, ok}
		c.vars[n] = vals[i]
	}
	defer func() {
		for i, n := range names {
			if old[i].ok {
				c.vars[n] = old[i].v
			} else {
				delete(c.vars, n)
			}
		}
	}()
	return fn()
}

func varName(v bson.RawValue, def string) (string, error) {
	if v.Type == 0 {
		return def, nil
	}
	s, ok := v.StringValueOK()
	if !ok {
		return "", errFailedToParse("variable name must be a string")
	}
	if err := validateLetName(s); err != nil || s == "CURRENT" {
		return "", errFailedToParse("'%s' is not a valid variable name", s)
	}
	return s, nil
}

func parseExprLet(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	a, err := namedArgs(name, arg, []string{"vars", "in"}, 16875, 16874)
	if err != nil {
		return nil, err
	}
	if a["vars"].Type == 0 {
		return nil, errLocation(16876, "Missing 'vars' parameter to $let")
	}
	if a["in"].Type == 0 {
		return nil, errLocation(16877, "Missing 'in' parameter to $let")
	}
	vd, ok := a["vars"].DocumentOK()
	if !ok || a["vars"].Type != bsontype.EmbeddedDocument {
		return nil, errLocation(10065, "invalid parameter: expected an object (vars)")
	}
	var names []string
	var exprs []exprNode
	for _, el := range mustElements(vd) {
		if err := validateLetName(el.key); err != nil {
			return nil, err
		}
		n, err := ps.parseOperand(el.val)
		if err != nil {
			return nil, err
		}
		names = append(names, el.key)
		exprs = append(exprs, n)
	}
	in, err := ps.withVar(names, func() (exprNode, error) { return ps.parseOperand(a["in"]) })
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		vals, err := evalArgs(c, exprs)
		if err != nil {
			return bson.RawValue{}, err
		}
		return c.bind(names, vals, func() (bson.RawValue, error) { return in.eval(c) })
	}), nil
}

func mustElements(d []byte) []element {
	els, _ := docElements(d)
	return els
}

// arrayValues returns the elements of an array value.
func arrayValues(v bson.RawValue) []bson.RawValue {
	arr, _ := v.ArrayOK()
	var out []bson.RawValue
	iterElements(arr, func(_ string, e bson.RawValue) bool {
		out = append(out, e)
		return true
	})
	return out
}

func parseExprMap(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	a, err := namedArgs(name, arg, []string{"input", "as", "in"}, 16879, 16878)
	if err != nil {
		return nil, err
	}
	if a["input"].Type == 0 {
		return nil, errLocation(16880, "Missing 'input' parameter to $map")
	}
	if a["in"].Type == 0 {
		return nil, errLocation(16882, "Missing 'in' parameter to $map")
	}
	as, err := varName(a["as"], "this")
	if err != nil {
		return nil, err
	}
	input, err := ps.parseOperand(a["input"])
	if err != nil {
		return nil, err
	}
	in, err := ps.withVar([]string{as}, func() (exprNode, error) { return ps.parseOperand(a["in"]) })
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		v, err := input.eval(c)
		if err != nil || nullish(v) {
			return valNull(), err
		}
		if v.Type != bsontype.Array {
			return bson.RawValue{}, errLocation(16883, "input to $map must be an array not %s", exprTypeName(v))
		}
		var out []bson.RawValue
		for _, e := range arrayValues(v) {
			r, err := c.bind([]string{as}, []bson.RawValue{e}, func() (bson.RawValue, error) { return in.eval(c) })
			if err != nil {
				return bson.RawValue{}, err
			}
			if r.Type == 0 {
				r = valNull()
			}
			out = append(out, r)
		}
		return makeArray(out), nil
	}), nil
}

func parseExprFilter(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	a, err := namedArgs(name, arg, []string{"input", "as", "cond", "limit"}, 28647, 28646)
	if err != nil {
		return nil, err
	}
	if a["input"].Type == 0 {
		return nil, errLocation(28648, "Missing 'input' parameter to $filter")
	}
	if a["cond"].Type == 0 {
		return nil, errLocation(28650, "Missing 'cond' parameter to $filter")
	}
	as, err := varName(a["as"], "this")
	if err != nil {
		return nil, err
	}
	input, err := ps.parseOperand(a["input"])
	if err != nil {
		return nil, err
	}
	var limit exprNode
	if a["limit"].Type != 0 {
		if limit, err = ps.parseOperand(a["limit"]); err != nil {
			return nil, err
		}
	}
	cond, err := ps.withVar([]string{as}, func() (exprNode, error) { return ps.parseOperand(a["cond"]) })
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		v, err := input.eval(c)
		if err != nil || nullish(v) {
			return valNull(), err
		}
		if v.Type != bsontype.Array {
			return bson.RawValue{}, errLocation(28651, "input to $filter must be an array not %s", exprTypeName(v))
		}
		max := int64(math.MaxInt64)
		if limit != nil {
			lv, err := limit.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if !nullish(lv) {
				n, ok := wholeNumber(lv)
				if !ok {
					return bson.RawValue{}, errLocation(327391, "$filter: limit must be represented as a 32-bit integral value: %s", aggValueString(lv))
				}
				if n < 1 {
					return bson.RawValue{}, errLocation(327392, "$filter: limit must be greater than 0: %d", n)
				}
				max = n
			}
		}
		var out []bson.RawValue
		for _, e := range arrayValues(v) {
			if int64(len(out)) >= max {
				break
			}
			r, err := c.bind([]string{as}, []bson.RawValue{e}, func() (bson.RawValue, error) { return cond.eval(c) })
			if err != nil {
				return bson.RawValue{}, err
			}
			if trueValue(r) {
				out = append(out, e)
			}
		}
		return makeArray(out), nil
	}), nil
}

func parseExprReduce(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	a, err := namedArgs(name, arg, []string{"input", "initialValue", "in"}, 40076, 40075)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		k    string
		code int32
	}{{"input", 40077}, {"initialValue", 40078}, {"in", 40079}} {
		if a[f.k].Type == 0 {
			return nil, errLocation(f.code, "$reduce requires '%s' to be specified", f.k)
		}
	}
	input, err := ps.parseOperand(a["input"])
	if err != nil {
		return nil, err
	}
	init, err := ps.parseOperand(a["initialValue"])
	if err != nil {
		return nil, err
	}
	in, err := ps.withVar([]string{"this", "value"}, func() (exprNode, error) { return ps.parseOperand(a["in"]) })
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		v, err := input.eval(c)
		if err != nil || nullish(v) {
			return valNull(), err
		}
		if v.Type != bsontype.Array {
			return bson.RawValue{}, errLocation(40080, "$reduce requires an array as the 'input' field, but found %s", exprTypeName(v))
		}
		acc, err := init.eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		for _, e := range arrayValues(v) {
			acc, err = c.bind([]string{"this", "value"}, []bson.RawValue{e, acc}, func() (bson.RawValue, error) { return in.eval(c) })
			if err != nil {
				return bson.RawValue{}, err
			}
		}
		return acc, nil
	}), nil
}

// wholeNumber returns v as an int64 when it is a number with an integral value.
func wholeNumber(v bson.RawValue) (int64, bool) {
	if !isNumeric(v.Type) {
		return 0, false
	}
	r, ok := exactRat(v)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// ---- strings -------------------------------------------------------------------

func parseExprSubstr(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	args, err := ps.parseFixedArgs(name, arg, 3)
	if err != nil {
		return nil, err
	}
	cp := name == "$substrCP"
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		vals, err := evalArgs(c, args)
		if err != nil {
			return bson.RawValue{}, err
		}
		s, err := coerceToString(vals[0])
		if err != nil {
			return bson.RawValue{}, err
		}
		if !isNumeric(vals[1].Type) {
			return bson.RawValue{}, errLocation(16034, "%s:  starting index must be a numeric type (is BSON type %s)", name, exprTypeName(vals[1]))
		}
		if !isNumeric(vals[2].Type) {
			return bson.RawValue{}, errLocation(16035, "%s:  length must be a numeric type (is BSON type %s)", name, exprTypeName(vals[2]))
		}
		start, length := int64(numberAsFloat(vals[1])), int64(numberAsFloat(vals[2]))
		if cp {
			runes := []rune(s)
			if start < 0 {
				return bson.RawValue{}, errLocation(34455, "$substrCP: the starting index must be nonnegative integer.")
			}
			if length < 0 {
				return bson.RawValue{}, errLocation(34456, "$substrCP: length must be a nonnegative integer.")
			}
			if start >= int64(len(runes)) {
				return valString(""), nil
			}
			end := min(int64(len(runes)), start+length)
			return valString(string(runes[start:end])), nil
		}
		if start < 0 || start >= int64(len(s)) {
			return valString(""), nil
		}
		end := int64(len(s))
		if length >= 0 && start+length < end {
			end = start + length
		}
		if !utf8.ValidString(s[start:end]) && (start > 0 && !utf8.RuneStart(s[start]) || end < int64(len(s)) && !utf8.RuneStart(s[end])) {
			return bson.RawValue{}, errLocation(28656, "%s:  Invalid range, starting index is a UTF-8 continuation byte.", name)
		}
		return valString(s[start:end]), nil
	}), nil
}

func parseExprSplit(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return fixedExpr(ps, name, arg, 2, func(vals []bson.RawValue) (bson.RawValue, error) {
		if nullish(vals[0]) {
			return valNull(), nil
		}
		s, ok := vals[0].StringValueOK()
		if !ok {
			return bson.RawValue{}, errLocation(40085, "$split requires an expression that evaluates to a string as a first argument, found: %s", exprTypeName(vals[0]))
		}
		sep, ok := vals[1].StringValueOK()
		if !ok {
			return bson.RawValue{}, errLocation(40086, "$split requires an expression that evaluates to a string as a second argument, found: %s", exprTypeName(vals[1]))
		}
		if sep == "" {
			return bson.RawValue{}, errLocation(40087, "$split requires a non-empty separator")
		}
		var out []bson.RawValue
		for _, p := range strings.Split(s, sep) {
			out = append(out, valString(p))
		}
		return makeArray(out), nil
	})
}

func parseExprStrLen(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return unaryExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		s, ok := v.StringValueOK()
		if !ok {
			if name == "$strLenCP" {
				return bson.RawValue{}, errLocation(34471, "$strLenCP requires a string argument, found: %s", exprTypeName(v))
			}
			return bson.RawValue{}, errLocation(34473, "$strLenBytes requires a string argument, found: %s", exprTypeName(v))
		}
		if name == "$strLenCP" {
			return valInt32(int32(utf8.RuneCountInString(s))), nil
		}
		return valInt32(int32(len(s))), nil
	})
}

func parseExprTrim(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	a, err := namedArgs(name, arg, []string{"input", "chars"}, 50694, 50696)
	if err != nil {
		return nil, err
	}
	if a["input"].Type == 0 {
		return nil, errLocation(50695, "%s requires an 'input' parameter", name)
	}
	input, err := ps.parseOperand(a["input"])
	if err != nil {
		return nil, err
	}
	var chars exprNode
	if a["chars"].Type != 0 {
		if chars, err = ps.parseOperand(a["chars"]); err != nil {
			return nil, err
		}
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		v, err := input.eval(c)
		if err != nil || nullish(v) {
			return valNull(), err
		}
		s, ok := v.StringValueOK()
		if !ok {
			return bson.RawValue{}, errLocation(50699, "%s requires its input to be a string, got %s (of type %s) instead.", name, aggValueString(v), exprTypeName(v))
		}
		cut := " \t\n\v\f\r\u0000\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
		if chars != nil {
			cv, err := chars.eval(c)
			if err != nil || nullish(cv) {
				return valNull(), err
			}
			cs, ok := cv.StringValueOK()
			if !ok {
				return bson.RawValue{}, errLocation(50700, "%s requires 'chars' to be a string, got %s (of type %s) instead.", name, aggValueString(cv), exprTypeName(cv))
			}
			cut = cs
		}
		switch name {
		case "$ltrim":
			s = strings.TrimLeft(s, cut)
		case "$rtrim":
			s = strings.TrimRight(s, cut)
		default:
			s = strings.Trim(s, cut)
		}
		return valString(s), nil
	}), nil
}

// ---- dates ---------------------------------------------------------------------

// parseDateArg parses a date operator's operand: an expression, or
// {date, timezone}.
func (ps *exprParser) parseDateArg(name string, arg bson.RawValue, extra ...string) (date, tz exprNode, rest map[string]bson.RawValue, err error) {
	if d, ok := arg.DocumentOK(); ok && arg.Type == bsontype.EmbeddedDocument {
		if els := mustElements(d); len(els) > 0 && !strings.HasPrefix(els[0].key, "$") {
			a, err := namedArgs(name, arg, append([]string{"date", "timezone"}, extra...), 40535, 40539)
			if err != nil {
				return nil, nil, nil, err
			}
			if a["date"].Type == 0 {
				return nil, nil, nil, errLocation(40539, "missing 'date' argument to %s, provided: %s", name, aggValueString(arg))
			}
			if date, err = ps.parseOperand(a["date"]); err != nil {
				return nil, nil, nil, err
			}
			if a["timezone"].Type != 0 {
				if tz, err = ps.parseOperand(a["timezone"]); err != nil {
					return nil, nil, nil, err
				}
			}
			return date, tz, a, nil
		}
	}
	if arg.Type == bsontype.Array {
		args, err := ps.parseFixedArgs(name, arg, 1)
		if err != nil {
			return nil, nil, nil, err
		}
		return args[0], nil, nil, nil
	}
	date, err = ps.parseOperand(arg)
	return date, nil, nil, err
}

// evalDate evaluates a date and its timezone; ok is false for null/missing.
func evalDate(c *exprContext, name string, date, tz exprNode) (time.Time, bool, error) {
	v, err := date.eval(c)
	if err != nil {
		return time.Time{}, false, err
	}
	if nullish(v) {
		return time.Time{}, false, nil
	}
	var ms int64
	switch v.Type {
	case bsontype.DateTime:
		ms = v.DateTime()
	case bsontype.Timestamp:
		t, _ := v.Timestamp()
		ms = int64(t) * 1000
	case bsontype.ObjectID:
		ms = v.ObjectID().Timestamp().UnixMilli()
	default:
		return time.Time{}, false, errLocation(16006, "can't convert from BSON type %s to Date", exprTypeName(v))
	}
	loc := time.UTC
	if tz != nil {
		tv, err := tz.eval(c)
		if err != nil {
			return time.Time{}, false, err
		}
		if nullish(tv) {
			return time.Time{}, false, nil
		}
		s, ok := tv.StringValueOK()
		if !ok {
			return time.Time{}, false, errLocation(40533, "%s requires a string for the timezone argument, but was given a %s (%s)", name, exprTypeName(tv), aggValueString(tv))
		}
		if loc, err = parseTimezone(s); err != nil {
			return time.Time{}, false, err
		}
	}
	return time.UnixMilli(ms).In(loc), true, nil
}

// parseTimezone accepts "UTC", "Z", "GMT", "+hh", "+hhmm", "+hh:mm" and
// IANA names the Go runtime knows.
func parseTimezone(s string) (*time.Location, error) {
	switch s {
	case "UTC", "Z", "GMT", "Etc/UTC", "Etc/GMT":
		return time.UTC, nil
	}
	if len(s) >= 3 && (s[0] == '+' || s[0] == '-') {
		digits := strings.ReplaceAll(s[1:], ":", "")
		if len(digits) == 2 || len(digits) == 4 {
			h, err1 := strconv.Atoi(digits[:2])
			m := 0
			var err2 error
			if len(digits) == 4 {
				m, err2 = strconv.Atoi(digits[2:])
			}
			if err1 == nil && err2 == nil {
				off := h*3600 + m*60
				if s[0] == '-' {
					off = -off
				}
				return time.FixedZone(s, off), nil
			}
		}
	}
	if loc, err := time.LoadLocation(s); err == nil && s != "" && s != "Local" {
		return loc, nil
	}
	return nil, errLocation(40485, "unrecognized time zone identifier: \"%s\"", s)
}

func parseExprDatePart(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	date, tz, _, err := ps.parseDateArg(name, arg)
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		t, ok, err := evalDate(c, name, date, tz)
		if err != nil || !ok {
			return valNull(), err
		}
		var n int
		switch name {
		case "$year":
			n = t.Year()
		case "$month":
			n = int(t.Month())
		case "$dayOfMonth":
			n = t.Day()
		case "$hour":
			n = t.Hour()
		case "$minute":
			n = t.Minute()
		case "$second":
			n = t.Second()
		case "$millisecond":
			n = t.Nanosecond() / 1e6
		case "$dayOfWeek":
			n = int(t.Weekday()) + 1
		case "$dayOfYear":
			n = t.YearDay()
		}
		return valInt32(int32(n)), nil
	}), nil
}

func parseExprDateToString(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	if arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(18629, "$dateToString only supports an object as its argument")
	}
	a, err := namedArgs(name, arg, []string{"date", "format", "timezone", "onNull"}, 18534, 18629)
	if err != nil {
		return nil, err
	}
	if a["date"].Type == 0 {
		return nil, errLocation(18628, "Missing 'date' parameter to $dateToString")
	}
	nodes, err := ps.parsePresent(a, "date", "format", "timezone", "onNull")
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		format := "%Y-%m-%dT%H:%M:%S.%LZ"
		if nodes[1] != nil {
			fv, err := nodes[1].eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if nullish(fv) {
				return valNull(), nil
			}
			s, ok := fv.StringValueOK()
			if !ok {
				return bson.RawValue{}, errLocation(18533, "$dateToString requires that 'format' be a string, found: %s with value %s", exprTypeName(fv), aggValueString(fv))
			}
			format = s
		}
		t, ok, err := evalDate(c, name, nodes[0], nodes[2])
		if err != nil {
			return bson.RawValue{}, err
		}
		if !ok {
			if nodes[3] != nil {
				return nodes[3].eval(c)
			}
			return valNull(), nil
		}
		s, err := formatDate(format, t)
		if err != nil {
			return bson.RawValue{}, err
		}
		return valString(s), nil
	}), nil
}

// formatDate is the server's TimeZone::formatDate.
func formatDate(format string, t time.Time) (string, error) {
	var sb strings.Builder
	pad := func(n, w int) {
		s := strconv.Itoa(n)
		for i := len(s); i < w; i++ {
			sb.WriteByte('0')
		}
		sb.WriteString(s)
	}
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			sb.WriteByte(format[i])
			continue
		}
		if i+1 >= len(format) {
			return "", errLocation(18535, "Unmatched '%%' at end of format string")
		}
		i++
		switch format[i] {
		case 'Y':
			pad(t.Year(), 4)
		case 'm':
			pad(int(t.Month()), 2)
		case 'd':
			pad(t.Day(), 2)
		case 'H':
			pad(t.Hour(), 2)
		case 'M':
			pad(t.Minute(), 2)
		case 'S':
			pad(t.Second(), 2)
		case 'L':
			pad(t.Nanosecond()/1e6, 3)
		case 'j':
			pad(t.YearDay(), 3)
		case 'w':
			pad(int(t.Weekday())+1, 1)
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			pad(wd, 1)
		case 'U':
			pad((t.YearDay()+6-int(t.Weekday()))/7, 2)
		case 'G':
			y, _ := t.ISOWeek()
			pad(y, 4)
		case 'V':
			_, w := t.ISOWeek()
			pad(w, 2)
		case 'z':
			_, off := t.Zone()
			sign := '+'
			if off < 0 {
				sign, off = '-', -off
			}
			sb.WriteRune(sign)
			pad(off/3600, 2)
			pad(off%3600/60, 2)
		case 'Z':
			_, off := t.Zone()
			sb.WriteString(strconv.Itoa(off / 60))
		case 'b':
			sb.WriteString(t.Month().String()[:3])
		case 'B':
			sb.WriteString(t.Month().String())
		case '%':
			sb.WriteByte('%')
		default:
			return "", errLocation(18536, "Invalid format character '%%%c' in format string", format[i])
		}
	}
	return sb.String(), nil
}

// ---- conversion ----------------------------------------------------------------

var convertTypeNames = map[string]bsontype.Type{
	"double": bsontype.Double, "string": bsontype.String, "objectId": bsontype.ObjectID, "bool": bsontype.Boolean,
	"date": bsontype.DateTime, "int": bsontype.Int32, "long": bsontype.Int64, "decimal": bsontype.Decimal128,
}

func parseExprTo(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	args, err := ps.parseFixedArgs(name, arg, 1)
	if err != nil {
		return nil, err
	}
	to := map[string]bsontype.Type{
		"$toString": bsontype.String, "$toInt": bsontype.Int32, "$toLong": bsontype.Int64, "$toDouble": bsontype.Double,
		"$toDecimal": bsontype.Decimal128, "$toBool": bsontype.Boolean, "$toObjectId": bsontype.ObjectID, "$toDate": bsontype.DateTime,
	}[name]
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		v, err := args[0].eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		if nullish(v) {
			return valNull(), nil
		}
		return convertValue(v, to)
	}), nil
}

func parseExprConvert(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	a, err := namedArgs(name, arg, []string{"input", "to", "onError", "onNull", "format", "base", "byteOrder"}, ErrCodeFailedToParse, ErrCodeFailedToParse)
	if err != nil {
		return nil, err
	}
	if a["input"].Type == 0 {
		return nil, errFailedToParse("Missing 'input' parameter to $convert")
	}
	if a["to"].Type == 0 {
		return nil, errFailedToParse("Missing 'to' parameter to $convert")
	}
	nodes, err := ps.parsePresent(a, "input", "to", "onError", "onNull")
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		tv, err := nodes[1].eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		if nullish(tv) {
			return valNull(), nil
		}
		var to bsontype.Type
		if s, ok := tv.StringValueOK(); ok {
			t, known := convertTypeNames[s]
			if !known {
				return bson.RawValue{}, errBadValue("Unknown type name: %s", s)
			}
			to = t
		} else if n, ok := wholeNumber(tv); ok {
			to = bsontype.Type(n)
			if _, known := map[bsontype.Type]bool{bsontype.Double: true, bsontype.String: true, bsontype.ObjectID: true, bsontype.Boolean: true,
				bsontype.DateTime: true, bsontype.Int32: true, bsontype.Int64: true, bsontype.Decimal128: true}[to]; !known {
				return bson.RawValue{}, errBadValue("Invalid 'to' argument to $convert: %s", aggValueString(tv))
			}
		} else {
			return bson.RawValue{}, errBadValue("$convert's 'to' argument must be a string or number, but is %s", exprTypeName(tv))
		}
		v, err := nodes[0].eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		if nullish(v) {
			if nodes[3] != nil {
				return nodes[3].eval(c)
			}
			return valNull(), nil
		}
		r, err := convertValue(v, to)
		if err != nil && nodes[2] != nil {
			if e, ok := err.(*Error); ok && e.Code == codeConversionFailure {
				return nodes[2].eval(c)
			}
		}
		return r, err
	}), nil
}

func convFail(format string, args ...any) error {
	return newError(codeConversionFailure, format, args...)
}

// convertValue is $convert without onError and onNull.
func convertValue(v bson.RawValue, to bsontype.Type) (bson.RawValue, error) {
	unsupported := func() (bson.RawValue, error) {
		return bson.RawValue{}, convFail("Unsupported conversion from %s to %s in $convert with no onError value", exprTypeName(v), typeName(to))
	}
	switch to {
	case bsontype.String:
		switch v.Type {
		case bsontype.ObjectID:
			return valString(v.ObjectID().Hex()), nil
		case bsontype.Boolean:
			return valString(strconv.FormatBool(v.Boolean())), nil
		case bsontype.Double:
			f := v.Double()
			return valString(strconv.FormatFloat(f, 'g', -1, 64)), nil
		case bsontype.String, bsontype.Int32, bsontype.Int64, bsontype.Decimal128, bsontype.DateTime:
			s, err := coerceToString(v)
			if err != nil {
				return bson.RawValue{}, err
			}
			return valString(s), nil
		}
		return unsupported()
	case bsontype.Boolean:
		switch v.Type {
		case bsontype.Boolean, bsontype.Int32, bsontype.Int64, bsontype.Double, bsontype.Decimal128, bsontype.String,
			bsontype.ObjectID, bsontype.DateTime, bsontype.EmbeddedDocument, bsontype.Array, bsontype.Binary, bsontype.Regex, bsontype.Timestamp:
			return valBool(trueValue(v)), nil
		}
		return unsupported()
	case bsontype.ObjectID:
		switch v.Type {
		case bsontype.ObjectID:
			return v, nil
		case bsontype.String:
			s := v.StringValue()
			oid, err := primitive.ObjectIDFromHex(s)
			if err != nil || len(s) != 24 {
				return bson.RawValue{}, convFail("Failed to parse objectId '%s' in $convert with no onError value: Invalid string length for parsing to OID, expected 24 but found %d", s, len(s))
			}
			return bson.RawValue{Type: bsontype.ObjectID, Value: oid[:]}, nil
		}
		return unsupported()
	case bsontype.DateTime:
		switch v.Type {
		case bsontype.DateTime:
			return v, nil
		case bsontype.Int64:
			return valDate(v.Int64()), nil
		case bsontype.Double, bsontype.Decimal128:
			f := numberAsFloat(v)
			if math.IsNaN(f) || math.IsInf(f, 0) || f >= 9.2e18 || f <= -9.2e18 {
				return bson.RawValue{}, convFail("Conversion would overflow target type in $convert with no onError value: %s", aggValueString(v))
			}
			return valDate(int64(f)), nil
		case bsontype.ObjectID:
			return valDate(v.ObjectID().Timestamp().UnixMilli()), nil
		case bsontype.Timestamp:
			t, _ := v.Timestamp()
			return valDate(int64(t) * 1000), nil
		case bsontype.String:
			s := v.StringValue()
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
				if t, err := time.Parse(layout, s); err == nil {
					return valDate(t.UnixMilli()), nil
				}
			}
			return bson.RawValue{}, convFail("Error parsing date string '%s'", s)
		}
		return unsupported()
	case bsontype.Int32, bsontype.Int64, bsontype.Double, bsontype.Decimal128:
		return convertNumber(v, to, unsupported)
	}
	return unsupported()
}

func convertNumber(v bson.RawValue, to bsontype.Type, unsupported func() (bson.RawValue, error)) (bson.RawValue, error) {
	var r *big.Rat
	special := ""
	switch v.Type {
	case bsontype.Boolean:
		if v.Boolean() {
			r = big.NewRat(1, 1)
		} else {
			r = new(big.Rat)
		}
	case bsontype.Int32, bsontype.Int64, bsontype.DateTime, bsontype.Double, bsontype.Decimal128:
		if v.Type == bsontype.DateTime && (to == bsontype.Int32) {
			return unsupported()
		}
		var ok bool
		if r, ok = exactRat(v); !ok {
			f := numberAsFloat(v)
			switch {
			case math.IsNaN(f):
				special = "NaN"
			case f > 0:
				special = "Infinity"
			default:
				special = "-Infinity"
			}
		}
	case bsontype.String:
		s := v.StringValue()
		switch to {
		case bsontype.Int32, bsontype.Int64:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return bson.RawValue{}, convFail("Failed to parse number '%s' in $convert with no onError value: Did not consume whole string.", s)
			}
			r = new(big.Rat).SetInt64(n)
		case bsontype.Double:
			f, err := strconv.ParseFloat(s, 64)
			if err != nil && !strings.Contains(err.Error(), "range") {
				return bson.RawValue{}, convFail("Failed to parse number '%s' in $convert with no onError value: Did not consume whole string.", s)
			}
			return valDouble(f), nil
		default:
			d, err := primitive.ParseDecimal128(s)
			if err != nil {
				return bson.RawValue{}, convFail("Failed to parse number '%s' in $convert with no onError value: Failed to parse string to decimal", s)
			}
			return valDecimal(d), nil
		}
	default:
		return unsupported()
	}
	overflow := func() (bson.RawValue, error) {
		return bson.RawValue{}, convFail("Conversion would overflow target type in $convert with no onError value: %s", aggValueString(v))
	}
	switch to {
	case bsontype.Double:
		if special != "" {
			return valDouble(numberAsFloat(v)), nil
		}
		f, _ := r.Float64()
		return valDouble(f), nil
	case bsontype.Decimal128:
		if special != "" {
			return valDecimal(decSpecial(special)), nil
		}
		if v.Type == bsontype.Double {
			return valDecimal(decimalFromFloatExact(v.Double())), nil
		}
		return valDecimal(decimalFromRat(r)), nil
	}
	if special != "" {
		return bson.RawValue{}, convFail("Attempt to convert %s value to integer type in $convert with no onError value", special)
	}
	// Truncate toward zero.
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if !q.IsInt64() {
		return overflow()
	}
	n := q.Int64()
	if to == bsontype.Int32 {
		if n < math.MinInt32 || n > math.MaxInt32 {
			return overflow()
		}
		return valInt32(int32(n)), nil
	}
	return valInt64(n), nil
}

// ---- arrays --------------------------------------------------------------------

func parseExprConcatArrays(ps *exprParser, _ string, arg bson.RawValue) (exprNode, error) {
	return variadicExpr(ps, arg, func(vals []bson.RawValue) (bson.RawValue, error) {
		var out []bson.RawValue
		for _, v := range vals {
			if nullish(v) {
				return valNull(), nil
			}
			if v.Type != bsontype.Array {
				return bson.RawValue{}, errLocation(28664, "$concatArrays only supports arrays, not %s", exprTypeName(v))
			}
			out = append(out, arrayValues(v)...)
		}
		return makeArray(out), nil
	})
}

func parseExprSlice(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return rangeExpr(ps, name, arg, 2, 3, func(vals []bson.RawValue) (bson.RawValue, error) {
		for _, v := range vals {
			if nullish(v) {
				return valNull(), nil
			}
		}
		if vals[0].Type != bsontype.Array {
			return bson.RawValue{}, errLocation(28724, "First argument to $slice must be an array, but is of type: %s", exprTypeName(vals[0]))
		}
		arr := arrayValues(vals[0])
		n := int64(len(arr))
		a, ok := wholeNumber(vals[1])
		if !ok {
			return bson.RawValue{}, errLocation(28725, "Second argument to $slice must be a numeric value, but is of type: %s", exprTypeName(vals[1]))
		}
		var start, end int64
		if len(vals) == 2 {
			if a >= 0 {
				start, end = 0, min(a, n)
			} else {
				start, end = max(0, n+a), n
			}
		} else {
			cnt, ok := wholeNumber(vals[2])
			if !ok {
				return bson.RawValue{}, errLocation(28727, "Third argument to $slice must be numeric, but is of type: %s", exprTypeName(vals[2]))
			}
			if cnt <= 0 {
				return bson.RawValue{}, errLocation(28729, "Third argument to $slice must be positive: %s", aggValueString(vals[2]))
			}
			if a >= 0 {
				start = min(a, n)
			} else {
				start = max(0, n+a)
			}
			end = min(n, start+cnt)
		}
		return makeArray(arr[start:end]), nil
	})
}

func parseExprReverseArray(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	args, err := ps.parseFixedArgs(name, arg, 1)
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		v, err := args[0].eval(c)
		if err != nil || nullish(v) {
			return valNull(), err
		}
		if v.Type != bsontype.Array {
			return bson.RawValue{}, errLocation(34435, "The argument to $reverseArray must be an array, but was of type: %s", exprTypeName(v))
		}
		arr := arrayValues(v)
		for i, j := 0, len(arr)-1; i < j; i, j = i+1, j-1 {
			arr[i], arr[j] = arr[j], arr[i]
		}
		return makeArray(arr), nil
	}), nil
}

// maxRangeElements bounds $range's output (the server's limit is memory).
const maxRangeElements = 1 << 20

func parseExprRange(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return rangeExpr(ps, name, arg, 2, 3, func(vals []bson.RawValue) (bson.RawValue, error) {
		what := []string{"starting value", "ending value", "step value"}
		codes := []int32{34443, 34445, 34447}
		nums := []int64{0, 0, 1}
		for i, v := range vals {
			if !isNumeric(v.Type) {
				return bson.RawValue{}, errLocation(codes[i]-1, "$range requires a numeric %s, found value of type: %s", what[i], exprTypeName(v))
			}
			n, ok := wholeNumber(v)
			if !ok || n < math.MinInt32 || n > math.MaxInt32 {
				return bson.RawValue{}, errLocation(codes[i], "$range requires a %s that can be represented as a 32-bit integer, found value: %s", what[i], aggValueString(v))
			}
			nums[i] = n
		}
		if nums[2] == 0 {
			return bson.RawValue{}, errLocation(34449, "$range requires a non-zero step value")
		}
		var out []bson.RawValue
		for i := nums[0]; (nums[2] > 0 && i < nums[1]) || (nums[2] < 0 && i > nums[1]); i += nums[2] {
			if len(out) >= maxRangeElements {
				return bson.RawValue{}, errBadValue("$range would produce more than argon's limit of %d elements", maxRangeElements)
			}
			out = append(out, valInt32(int32(i)))
		}
		return makeArray(out), nil
	})
}

func parseExprFirstLast(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	args, err := ps.parseFixedArgs(name, arg, 1)
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		v, err := args[0].eval(c)
		if err != nil || nullish(v) {
			return valNull(), err
		}
		if v.Type != bsontype.Array {
			return bson.RawValue{}, errLocation(28689, "%s's argument must be an array, but is %s", name, exprTypeName(v))
		}
		arr := arrayValues(v)
		if len(arr) == 0 {
			return bson.RawValue{}, nil
		}
		if name == "$first" {
			return arr[0], nil
		}
		return arr[len(arr)-1], nil
	}), nil
}

// parseExprArrayAcc is $sum, $avg, $min and $max as expressions: over the
// elements of one array argument, or over several arguments.
func parseExprArrayAcc(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	coll := ps.coll
	return variadicExpr(ps, arg, func(vals []bson.RawValue) (bson.RawValue, error) {
		if len(vals) == 1 && vals[0].Type == bsontype.Array {
			vals = arrayValues(vals[0])
		}
		return accumulateValues(&accState{op: name, coll: coll}, vals)
	})
}

// accumulateValues runs acc over vals and returns its result.
func accumulateValues(acc *accState, vals []bson.RawValue) (bson.RawValue, error) {
	for _, v := range vals {
		if err := acc.add(v); err != nil {
			return bson.RawValue{}, err
		}
	}
	return acc.result()
}
