package materialize

import (
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// This file is an aggregation-expression evaluator (the server's
// mongo/db/pipeline/expression.cpp), used by $expr and meant to be extended
// by the aggregation engine: add an operator by adding a case to
// exprOperatorParser. Values are bson.RawValue; a zero RawValue (Type 0) is
// "missing", which the aggregation language distinguishes from null.

// Expression is a compiled aggregation expression. Expressions are immutable
// and safe for concurrent use.
type Expression interface {
	// Eval evaluates the expression with $$ROOT and $$CURRENT bound to root.
	// A missing result is a RawValue with Type 0.
	Eval(root bson.Raw) (bson.RawValue, error)
}

// CompileExpression parses an aggregation expression: a field path ("$a.b"),
// a variable ("$$ROOT"), an operator document ({$add: [...]}), an object or
// array of expressions, or a literal. Unknown operators are errors
// ("Unrecognized expression '$foo'", code 168).
func CompileExpression(v bson.RawValue) (Expression, error) {
	return compileExpression(v, nil)
}

// compileExpression is CompileExpression with the let variables vars (nil:
// none) in scope as $$name.
func compileExpression(v bson.RawValue, vars *Variables) (Expression, error) {
	ps := newExprParser(vars)
	n, err := ps.parseOperand(v)
	if err != nil {
		return nil, err
	}
	return &compiledExpression{n: n, consts: vars.values()}, nil
}

// newExprParser returns a parser with the system variables and vars in
// scope.
func newExprParser(vars *Variables) *exprParser {
	ps := &exprParser{vars: map[string]bool{"ROOT": true, "CURRENT": true, "REMOVE": true}, coll: vars.collation()}
	for name := range vars.values() {
		ps.vars[name] = true
		ps.user = append(ps.user, name)
	}
	return ps
}

type compiledExpression struct {
	n      exprNode
	consts map[string]bson.RawValue // let variables, bound on every evaluation
}

func (e *compiledExpression) Eval(root bson.Raw) (bson.RawValue, error) {
	rv := bson.RawValue{Type: bsontype.EmbeddedDocument, Value: root}
	// Constants and paths of the document, the most common expressions
	// ($group keys, accumulator arguments), need no variable bindings.
	switch n := e.n.(type) {
	case *constExpr:
		return n.v, nil
	case *fieldPathExpr:
		if len(e.consts) == 0 && (n.variable == "CURRENT" || n.variable == "ROOT") {
			if len(n.parts) == 0 {
				return rv, nil
			}
			return evaluateFieldPath(root, n.parts), nil
		}
	}
	c := &exprContext{vars: make(map[string]bson.RawValue, 2+len(e.consts))}
	c.vars["ROOT"], c.vars["CURRENT"] = rv, rv
	for name, v := range e.consts {
		c.vars[name] = v // a let variable named CURRENT rebinds "$field" paths, as on the server
	}
	return e.n.eval(c)
}

// exprContext holds variable values during one evaluation.
type exprContext struct {
	vars map[string]bson.RawValue
}

// exprNode is one compiled expression.
type exprNode interface {
	eval(c *exprContext) (bson.RawValue, error)
}

// exprParser carries the variables in scope while parsing.
type exprParser struct {
	vars  map[string]bool
	depth int
	// user lists the let variables in scope; readsDoc records a reference
	// to the document ($field, $$ROOT, $$CURRENT unless let rebinds it),
	// which let expressions may not make.
	user     []string
	readsDoc bool
	// coll is the collation comparisons use (nil: simple).
	coll *Collation
}

// ---- leaves ----------------------------------------------------------------

type constExpr struct{ v bson.RawValue }

func (e *constExpr) eval(*exprContext) (bson.RawValue, error) { return e.v, nil }

// fieldPathExpr is "$a.b" (variable CURRENT) or "$$var.a.b".
type fieldPathExpr struct {
	variable string
	parts    []string
}

func (e *fieldPathExpr) eval(c *exprContext) (bson.RawValue, error) {
	base, ok := c.vars[e.variable]
	if !ok || e.variable == "REMOVE" {
		return bson.RawValue{}, nil
	}
	if len(e.parts) == 0 {
		return base, nil
	}
	doc, ok := base.DocumentOK()
	if !ok {
		return bson.RawValue{}, nil
	}
	return evaluateFieldPath(doc, e.parts), nil
}

// evaluateFieldPath is the aggregation path rule: arrays along the path
// yield an array of the values found in their document elements; other
// elements (scalars, nested arrays) are skipped; numbers are field names.
func evaluateFieldPath(doc []byte, parts []string) bson.RawValue {
	v, ok := lookupField(doc, parts[0])
	if !ok {
		return bson.RawValue{}
	}
	if len(parts) == 1 {
		return v
	}
	switch v.Type {
	case bsontype.EmbeddedDocument:
		d, ok := v.DocumentOK()
		if !ok {
			return bson.RawValue{}
		}
		return evaluateFieldPath(d, parts[1:])
	case bsontype.Array:
		arr, ok := v.ArrayOK()
		if !ok {
			return bson.RawValue{}
		}
		var out []bson.RawValue
		iterElements(arr, func(_ string, el bson.RawValue) bool {
			if d, ok := el.DocumentOK(); ok {
				if r := evaluateFieldPath(d, parts[1:]); r.Type != 0 {
					out = append(out, r)
				}
			}
			return true
		})
		return makeArray(out)
	}
	return bson.RawValue{}
}

type arrayExpr struct{ elems []exprNode }

func (e *arrayExpr) eval(c *exprContext) (bson.RawValue, error) {
	vals := make([]bson.RawValue, 0, len(e.elems))
	for _, el := range e.elems {
		v, err := el.eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		if v.Type == 0 {
			v = valNull() // missing becomes null inside an array literal
		}
		vals = append(vals, v)
	}
	return makeArray(vals), nil
}

type objectExpr struct {
	keys []string
	vals []exprNode
}

func (e *objectExpr) eval(c *exprContext) (bson.RawValue, error) {
	idx, doc := bsoncore.AppendDocumentStart(nil)
	for i, k := range e.keys {
		v, err := e.vals[i].eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		if v.Type == 0 {
			continue // missing fields are left out
		}
		doc = bsoncore.AppendValueElement(doc, k, bsoncore.Value{Type: v.Type, Data: v.Value})
	}
	doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
	return bson.RawValue{Type: bsontype.EmbeddedDocument, Value: doc}, nil
}

// funcExpr is an operator implemented by a closure over its arguments.
type funcExpr func(c *exprContext) (bson.RawValue, error)

func (f funcExpr) eval(c *exprContext) (bson.RawValue, error) { return f(c) }

// ---- parsing ---------------------------------------------------------------

func (ps *exprParser) parseOperand(v bson.RawValue) (exprNode, error) {
	switch v.Type {
	case bsontype.String:
		s, _ := v.StringValueOK()
		if strings.HasPrefix(s, "$") {
			return ps.parseFieldPath(s)
		}
	case bsontype.EmbeddedDocument:
		d, ok := v.DocumentOK()
		if !ok {
			return nil, newError(codeInvalidBSON, "invalid expression document")
		}
		return ps.parseObject(d)
	case bsontype.Array:
		arr, ok := v.ArrayOK()
		if !ok {
			return nil, newError(codeInvalidBSON, "invalid expression array")
		}
		out := &arrayExpr{}
		elems, _ := docElements(arr)
		for _, el := range elems {
			n, err := ps.parseOperand(el.val)
			if err != nil {
				return nil, err
			}
			out.elems = append(out.elems, n)
		}
		return out, nil
	}
	return &constExpr{v: v}, nil
}

// parseFieldPath parses "$a.b", "$$ROOT" or "$$var.a".
func (ps *exprParser) parseFieldPath(s string) (exprNode, error) {
	if strings.HasPrefix(s, "$$") {
		rest := s[2:]
		name, path, _ := strings.Cut(rest, ".")
		if name == "" {
			return nil, errLocation(16869, "empty variable names are not allowed")
		}
		switch name {
		case "NOW", "CLUSTER_TIME", "USER_ROLES", "SEARCH_META":
			return nil, errNotSupported("$$" + name)
		}
		if !ps.vars[name] {
			return nil, errLocation(17276, "Use of undefined variable: %s", name)
		}
		if name == "ROOT" || (name == "CURRENT" && !slices.Contains(ps.user, "CURRENT")) {
			ps.readsDoc = true
		}
		var parts []string
		if strings.Contains(rest, ".") {
			var err error
			if parts, err = validateFieldPathParts(path, s); err != nil {
				return nil, err
			}
		}
		return &fieldPathExpr{variable: name, parts: parts}, nil
	}
	if s == "$" {
		return nil, errLocation(16872, "'$' by itself is not a valid FieldPath")
	}
	parts, err := validateFieldPathParts(s[1:], s)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(ps.user, "CURRENT") {
		ps.readsDoc = true
	}
	return &fieldPathExpr{variable: "CURRENT", parts: parts}, nil
}

func validateFieldPathParts(path, full string) ([]string, error) {
	if strings.HasSuffix(path, ".") {
		return nil, errLocation(40353, "FieldPath must not end with a '.'.")
	}
	parts := strings.Split(path, ".")
	for _, p := range parts {
		if err := validateFieldName(p); err != nil {
			return nil, err
		}
	}
	return parts, nil
}

// validateFieldName is the server's FieldPath::uassertValidFieldName.
func validateFieldName(p string) error {
	switch {
	case p == "":
		return errLocation(15998, "FieldPath field names may not be empty strings.")
	case p[0] == '$':
		return errLocation(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.")
	case strings.IndexByte(p, 0) >= 0:
		return errLocation(16411, "FieldPath field names may not contain '\\0'.")
	}
	return nil
}

func (ps *exprParser) parseObject(doc []byte) (exprNode, error) {
	ps.depth++
	defer func() { ps.depth-- }()
	if ps.depth > maxFilterDepth {
		return nil, errBadValue("expression is nested deeper than argon's limit of %d levels", maxFilterDepth)
	}
	elems, ok := docElements(doc)
	if !ok {
		return nil, newError(codeInvalidBSON, "invalid expression document")
	}
	if len(elems) == 0 {
		return &objectExpr{}, nil
	}
	if strings.HasPrefix(elems[0].key, "$") {
		if len(elems) != 1 {
			return nil, errLocation(15983, "an expression specification must contain exactly one field, the name of the expression. Found %d fields in %s, while parsing object %s",
				len(elems), docString(doc), docString(doc))
		}
		parse := exprOperatorParser(elems[0].key)
		if parse == nil {
			return nil, errInvalidPipelineOperator("Unrecognized expression '%s'", elems[0].key)
		}
		return parse(ps, elems[0].key, elems[0].val)
	}
	out := &objectExpr{}
	for _, el := range elems {
		if strings.Contains(el.key, ".") {
			return nil, errLocation(16412, "FieldPath field names may not contain '.'. Consider using $getField or $setField.")
		}
		if err := validateFieldName(el.key); err != nil {
			return nil, err
		}
		n, err := ps.parseOperand(el.val)
		if err != nil {
			return nil, err
		}
		out.keys = append(out.keys, el.key)
		out.vals = append(out.vals, n)
	}
	return out, nil
}

// parseArgs parses an operator's operand: an array is the argument list, any
// other value is a single argument.
func (ps *exprParser) parseArgs(v bson.RawValue) ([]exprNode, error) {
	if v.Type != bsontype.Array {
		n, err := ps.parseOperand(v)
		if err != nil {
			return nil, err
		}
		return []exprNode{n}, nil
	}
	arr, _ := v.ArrayOK()
	elems, _ := docElements(arr)
	out := make([]exprNode, 0, len(elems))
	for _, el := range elems {
		n, err := ps.parseOperand(el.val)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// parseFixedArgs parses exactly n arguments.
func (ps *exprParser) parseFixedArgs(name string, v bson.RawValue, n int) ([]exprNode, error) {
	args, err := ps.parseArgs(v)
	if err != nil {
		return nil, err
	}
	if len(args) != n {
		return nil, errLocation(16020, "Expression %s takes exactly %d arguments. %d were passed in.", name, n, len(args))
	}
	return args, nil
}

// exprOperatorFn parses one operator's operand.
type exprOperatorFn func(ps *exprParser, name string, arg bson.RawValue) (exprNode, error)

// exprOperatorParser is the operator table of the expression language. It
// is a switch rather than a map so that parsers may recurse into it.
func exprOperatorParser(name string) exprOperatorFn {
	switch name {
	case "$literal":
		return func(_ *exprParser, _ string, arg bson.RawValue) (exprNode, error) {
			return &constExpr{v: arg}, nil
		}
	case "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$cmp":
		return parseExprComparison
	case "$and", "$or":
		return parseExprAndOr
	case "$not":
		return parseExprNot
	case "$add":
		return parseExprAdd
	case "$subtract":
		return parseExprSubtract
	case "$multiply":
		return parseExprMultiply
	case "$divide":
		return parseExprDivide
	case "$mod":
		return parseExprMod
	case "$abs":
		return parseExprAbs
	case "$cond":
		return parseExprCond
	case "$ifNull":
		return parseExprIfNull
	case "$switch":
		return parseExprSwitch
	case "$in":
		return parseExprIn
	case "$size":
		return parseExprSize
	case "$concat":
		return parseExprConcat
	case "$toLower", "$toUpper":
		return parseExprCase
	case "$type":
		return parseExprType
	case "$arrayElemAt":
		return parseExprArrayElemAt
	case "$getField":
		return parseExprGetField
	case "$setField", "$unsetField":
		return parseExprSetField
	}
	return exprAggOperatorParser(name)
}

// ---- operators -------------------------------------------------------------

func parseExprComparison(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	args, err := ps.parseFixedArgs(name, arg, 2)
	if err != nil {
		return nil, err
	}
	coll := ps.coll
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		a, err := args[0].eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		b, err := args[1].eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		// The aggregation order is the plain BSON order: missing sorts
		// below null and NaN below every number.
		x := coll.CompareValues(a, b)
		switch name {
		case "$eq":
			return valBool(x == 0), nil
		case "$ne":
			return valBool(x != 0), nil
		case "$gt":
			return valBool(x > 0), nil
		case "$gte":
			return valBool(x >= 0), nil
		case "$lt":
			return valBool(x < 0), nil
		case "$lte":
			return valBool(x <= 0), nil
		}
		return valInt32(int32(x)), nil
	}), nil
}

func parseExprAndOr(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	args, err := ps.parseArgs(arg)
	if err != nil {
		return nil, err
	}
	isAnd := name == "$and"
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		for _, a := range args {
			v, err := a.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if coerceToBool(v) != isAnd {
				return valBool(!isAnd), nil
			}
		}
		return valBool(isAnd), nil
	}), nil
}

// fixedExpr parses an operator that takes exactly n arguments and
// evaluates fn on their values.
func fixedExpr(ps *exprParser, name string, arg bson.RawValue, n int, fn func(vals []bson.RawValue) (bson.RawValue, error)) (exprNode, error) {
	args, err := ps.parseFixedArgs(name, arg, n)
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		vals, err := evalArgs(c, args)
		if err != nil {
			return bson.RawValue{}, err
		}
		return fn(vals)
	}), nil
}

// rangeExpr is fixedExpr for an operator that takes lo to hi arguments,
// with the server's error (code 28667) for another count.
func rangeExpr(ps *exprParser, name string, arg bson.RawValue, lo, hi int, fn func(vals []bson.RawValue) (bson.RawValue, error)) (exprNode, error) {
	args, err := ps.parseArgs(arg)
	if err != nil {
		return nil, err
	}
	if len(args) < lo || len(args) > hi {
		return nil, errLocation(28667, "Expression %s takes at least %d arguments, and at most %d, but %d were passed in.", name, lo, hi, len(args))
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		vals, err := evalArgs(c, args)
		if err != nil {
			return bson.RawValue{}, err
		}
		return fn(vals)
	}), nil
}

// variadicExpr is an operator taking any number of arguments, evaluated
// before fn runs.
func variadicExpr(ps *exprParser, arg bson.RawValue, fn func(vals []bson.RawValue) (bson.RawValue, error)) (exprNode, error) {
	args, err := ps.parseArgs(arg)
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		vals, err := evalArgs(c, args)
		if err != nil {
			return bson.RawValue{}, err
		}
		return fn(vals)
	}), nil
}

// unaryExpr is fixedExpr for one argument, without the argument slice.
func unaryExpr(ps *exprParser, name string, arg bson.RawValue, fn func(v bson.RawValue) (bson.RawValue, error)) (exprNode, error) {
	args, err := ps.parseFixedArgs(name, arg, 1)
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		v, err := args[0].eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		return fn(v)
	}), nil
}

// nullSafeExpr is unaryExpr for operators whose value is null when their
// argument is null or missing.
func nullSafeExpr(ps *exprParser, name string, arg bson.RawValue, fn func(v bson.RawValue) (bson.RawValue, error)) (exprNode, error) {
	return unaryExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		if nullish(v) {
			return valNull(), nil
		}
		return fn(v)
	})
}

func parseExprNot(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return unaryExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		return valBool(!coerceToBool(v)), nil
	})
}

// evalArgs evaluates every argument.
func evalArgs(c *exprContext, args []exprNode) ([]bson.RawValue, error) {
	out := make([]bson.RawValue, len(args))
	for i, a := range args {
		v, err := a.eval(c)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// nullish reports missing, null or undefined.
func nullish(v bson.RawValue) bool {
	return v.Type == 0 || v.Type == bsontype.Null || v.Type == bsontype.Undefined
}

// numRank orders numeric types by width: int < long < double < decimal.
func numRank(t bsontype.Type) int {
	switch t {
	case bsontype.Int32:
		return 1
	case bsontype.Int64:
		return 2
	case bsontype.Double:
		return 3
	case bsontype.Decimal128:
		return 4
	}
	return 0
}

func parseExprAdd(ps *exprParser, _ string, arg bson.RawValue) (exprNode, error) {
	args, err := ps.parseArgs(arg)
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		vals := make([]bson.RawValue, 0, len(args))
		for _, a := range args {
			v, err := a.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if nullish(v) {
				return valNull(), nil
			}
			vals = append(vals, v)
		}
		return addValues(vals)
	}), nil
}

// addValues implements $add over non-null values: the result has the
// widest numeric type, ints overflow into longs and longs into doubles, and
// one date may be added to numbers (as milliseconds).
func addValues(vals []bson.RawValue) (bson.RawValue, error) {
	widest := bsontype.Int32
	haveDate := false
	var longTotal int64
	longOverflow := false
	for _, v := range vals {
		switch {
		case v.Type == bsontype.DateTime:
			if haveDate {
				return bson.RawValue{}, errLocation(16612, "only one date allowed in an $add expression")
			}
			haveDate = true
		case isNumeric(v.Type):
			if numRank(v.Type) > numRank(widest) {
				widest = v.Type
			}
		default:
			return bson.RawValue{}, errTypeMismatch("$add only supports numeric or date types, not %s", exprTypeName(v))
		}
		if v.Type == bsontype.DateTime || v.Type == bsontype.Int32 || v.Type == bsontype.Int64 {
			i := integerOf(v)
			s := longTotal + i
			if (i > 0 && s < longTotal) || (i < 0 && s > longTotal) {
				longOverflow = true
			}
			longTotal = s
		}
	}
	if widest == bsontype.Decimal128 {
		// Decimal sums are rounded to decimal128 after each addition, as
		// the server's Decimal128::add does.
		acc := decZero()
		for _, v := range vals {
			if v.Type != bsontype.DateTime {
				acc = decArith('+', acc, decOf(v))
			}
		}
		if haveDate {
			ms, _ := exactRat(bson.RawValue{Type: bsontype.Decimal128, Value: valDecimal(acc).Value})
			if ms == nil {
				return bson.RawValue{}, newError(15, "date overflow in $add")
			}
			f, _ := ms.Float64()
			for _, v := range vals {
				if v.Type == bsontype.DateTime {
					f += float64(integerOf(v))
				}
			}
			return dateFromFloat(f)
		}
		return valDecimal(acc), nil
	}
	if widest == bsontype.Double || longOverflow {
		f := exactFloatSum(vals)
		if haveDate {
			return dateFromFloat(f)
		}
		return valDouble(f), nil
	}
	if haveDate {
		return valDate(longTotal), nil
	}
	if widest == bsontype.Int32 {
		return intOrLong(longTotal), nil
	}
	return valInt64(longTotal), nil
}

func dateFromFloat(f float64) (bson.RawValue, error) {
	if !(f >= -9223372036854775808.0 && f < 9223372036854775808.0) {
		return bson.RawValue{}, newError(15, "date overflow in $add")
	}
	return valDate(int64(math.Round(f))), nil
}

// exactFloatSum adds numbers and dates exactly and rounds once, like the
// server's double-double summation.
func exactFloatSum(vals []bson.RawValue) float64 {
	sum := new(big.Float).SetPrec(4096)
	special := 0.0
	for _, v := range vals {
		var f float64
		switch v.Type {
		case bsontype.Double:
			f, _ = v.DoubleOK()
			if math.IsNaN(f) || math.IsInf(f, 0) {
				special += f
				continue
			}
			sum.Add(sum, new(big.Float).SetFloat64(f))
		case bsontype.Decimal128:
			special += numberAsFloat(v)
		default:
			sum.Add(sum, new(big.Float).SetInt64(integerOf(v)))
		}
	}
	if special != 0 || math.IsNaN(special) {
		return special
	}
	f, _ := sum.Float64()
	return f
}

// integerOf returns an int32, int64 or date value as int64.
func integerOf(v bson.RawValue) int64 {
	switch v.Type {
	case bsontype.Int32:
		i, _ := v.Int32OK()
		return int64(i)
	case bsontype.Int64:
		i, _ := v.Int64OK()
		return i
	case bsontype.DateTime:
		i, _ := v.DateTimeOK()
		return i
	case bsontype.Double:
		f, _ := v.DoubleOK()
		if math.IsNaN(f) {
			return 0
		}
		if f >= 9223372036854775807 {
			return math.MaxInt64
		}
		if f <= -9223372036854775808 {
			return math.MinInt64
		}
		return int64(f)
	case bsontype.Decimal128:
		i, _ := decimalTruncToInt64(v)
		return i
	}
	return 0
}

func intOrLong(i int64) bson.RawValue {
	if i >= math.MinInt32 && i <= math.MaxInt32 {
		return valInt32(int32(i))
	}
	return valInt64(i)
}

func parseExprSubtract(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return fixedExpr(ps, name, arg, 2, func(vals []bson.RawValue) (bson.RawValue, error) {
		return subtractValues(vals[0], vals[1])
	})
}

func subtractValues(l, r bson.RawValue) (bson.RawValue, error) {
	if isNumeric(l.Type) && isNumeric(r.Type) {
		switch max(numRank(l.Type), numRank(r.Type)) {
		case 4:
			return valDecimal(decArith('-', decOf(l), decOf(r))), nil
		case 3:
			return valDouble(numberAsFloat(l) - numberAsFloat(r)), nil
		case 2:
			a, b := integerOf(l), integerOf(r)
			d := a - b
			if (b > 0 && d > a) || (b < 0 && d < a) {
				return valDouble(float64(a) - float64(b)), nil
			}
			return valInt64(d), nil
		default:
			return intOrLong(integerOf(l) - integerOf(r)), nil
		}
	}
	if nullish(l) || nullish(r) {
		return valNull(), nil
	}
	if l.Type == bsontype.DateTime {
		switch {
		case r.Type == bsontype.DateTime:
			return valInt64(integerOf(l) - integerOf(r)), nil
		case isNumeric(r.Type):
			return valDate(integerOf(l) - integerOf(r)), nil
		}
		return bson.RawValue{}, errTypeMismatch("can't $subtract %s from Date", exprTypeName(r))
	}
	return bson.RawValue{}, errTypeMismatch("can't $subtract %s from %s", exprTypeName(r), exprTypeName(l))
}

func parseExprMultiply(ps *exprParser, _ string, arg bson.RawValue) (exprNode, error) {
	args, err := ps.parseArgs(arg)
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		// As the server: a double product is always kept, a long product
		// until it overflows, and a decimal one from the first decimal on.
		productType := bsontype.Int32
		var longProduct int64 = 1
		doubleProduct := 1.0
		var decProduct primitive.Decimal128
		for _, a := range args {
			v, err := a.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if nullish(v) {
				return valNull(), nil
			}
			if !isNumeric(v.Type) {
				return bson.RawValue{}, errTypeMismatch("$multiply only supports numeric types, not %s", exprTypeName(v))
			}
			old := productType
			if numRank(v.Type) > numRank(productType) {
				productType = v.Type
			}
			if productType == bsontype.Decimal128 {
				if old != bsontype.Decimal128 {
					if old == bsontype.Double {
						decProduct = decOf(valDouble(doubleProduct))
					} else {
						decProduct = decOf(valInt64(longProduct))
					}
				}
				decProduct = decArith('*', decProduct, decOf(v))
				continue
			}
			doubleProduct *= numberAsFloat(v)
			if productType != bsontype.Double {
				i := integerOf(v)
				p := longProduct * i
				if longProduct != 0 && (p/longProduct != i || (longProduct == -1 && i == math.MinInt64) || (i == -1 && longProduct == math.MinInt64)) {
					productType = bsontype.Double
				} else {
					longProduct = p
				}
			}
		}
		switch productType {
		case bsontype.Int32:
			return intOrLong(longProduct), nil
		case bsontype.Int64:
			return valInt64(longProduct), nil
		case bsontype.Double:
			return valDouble(doubleProduct), nil
		}
		return valDecimal(decProduct), nil
	}), nil
}

func parseExprDivide(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return fixedExpr(ps, name, arg, 2, func(vals []bson.RawValue) (bson.RawValue, error) {
		l, r := vals[0], vals[1]
		if isNumeric(l.Type) && isNumeric(r.Type) {
			if l.Type == bsontype.Decimal128 || r.Type == bsontype.Decimal128 {
				den := decOf(r)
				if decIsZero(den) {
					return bson.RawValue{}, errBadValue("can't $divide by zero")
				}
				return valDecimal(decArith('/', decOf(l), den)), nil
			}
			den := numberAsFloat(r)
			if den == 0 {
				return bson.RawValue{}, errBadValue("can't $divide by zero")
			}
			return valDouble(numberAsFloat(l) / den), nil
		}
		if nullish(l) || nullish(r) {
			return valNull(), nil
		}
		return bson.RawValue{}, errTypeMismatch("$divide only supports numeric types, not %s and %s", exprTypeName(l), exprTypeName(r))
	})
}

func parseExprMod(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return fixedExpr(ps, name, arg, 2, func(vals []bson.RawValue) (bson.RawValue, error) {
		return modValues(vals[0], vals[1])
	})
}

func modValues(l, r bson.RawValue) (bson.RawValue, error) {
	if isNumeric(l.Type) && isNumeric(r.Type) {
		if l.Type == bsontype.Decimal128 || r.Type == bsontype.Decimal128 {
			den := decOf(r)
			if decIsZero(den) {
				return bson.RawValue{}, errLocation(16610, "can't $mod by zero")
			}
			return valDecimal(decArith('%', decOf(l), den)), nil
		}
		right := numberAsFloat(r)
		if right == 0 {
			return bson.RawValue{}, errLocation(16610, "can't $mod by zero")
		}
		if l.Type == bsontype.Double || (r.Type == bsontype.Double && right != math.Trunc(right)) {
			return valDouble(math.Mod(numberAsFloat(l), right)), nil
		}
		if l.Type == bsontype.Int64 || r.Type == bsontype.Int64 {
			return valInt64(integerOf(l) % integerOf(r)), nil
		}
		return valInt32(int32(integerOf(l) % integerOf(r))), nil
	}
	if nullish(l) || nullish(r) {
		return valNull(), nil
	}
	return bson.RawValue{}, errTypeMismatch("$mod only supports numeric types, not %s and %s", exprTypeName(l), exprTypeName(r))
}

func parseExprAbs(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return nullSafeExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		switch v.Type {
		case bsontype.Double:
			f, _ := v.DoubleOK()
			return valDouble(math.Abs(f)), nil
		case bsontype.Decimal128:
			d, _ := v.Decimal128OK()
			h, l := d.GetBytes()
			return valDecimal(primitive.NewDecimal128(h&^(1<<63), l)), nil
		case bsontype.Int32, bsontype.Int64:
			i := integerOf(v)
			if i == math.MinInt64 {
				return bson.RawValue{}, errLocation(28680, "can't take $abs of long long min")
			}
			if i < 0 {
				i = -i
			}
			if v.Type == bsontype.Int32 {
				return intOrLong(i), nil
			}
			return valInt64(i), nil
		}
		return bson.RawValue{}, errLocation(28765, "$abs only supports numeric types, not %s", exprTypeName(v))
	})
}

func parseExprCond(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	var ifE, thenE, elseE exprNode
	if arg.Type == bsontype.EmbeddedDocument {
		d, _ := arg.DocumentOK()
		elems, _ := docElements(d)
		for _, el := range elems {
			n, err := ps.parseOperand(el.val)
			if err != nil {
				return nil, err
			}
			switch el.key {
			case "if":
				ifE = n
			case "then":
				thenE = n
			case "else":
				elseE = n
			default:
				return nil, errLocation(17083, "Unrecognized parameter to $cond: %s", el.key)
			}
		}
		switch {
		case ifE == nil:
			return nil, errLocation(17080, "Missing 'if' parameter to $cond")
		case thenE == nil:
			return nil, errLocation(17081, "Missing 'then' parameter to $cond")
		case elseE == nil:
			return nil, errLocation(17082, "Missing 'else' parameter to $cond")
		}
	} else {
		args, err := ps.parseFixedArgs(name, arg, 3)
		if err != nil {
			return nil, err
		}
		ifE, thenE, elseE = args[0], args[1], args[2]
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		v, err := ifE.eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		if coerceToBool(v) {
			return thenE.eval(c)
		}
		return elseE.eval(c)
	}), nil
}

func parseExprIfNull(ps *exprParser, _ string, arg bson.RawValue) (exprNode, error) {
	args, err := ps.parseArgs(arg)
	if err != nil {
		return nil, err
	}
	if len(args) < 2 {
		return nil, errLocation(1257300, "$ifNull needs at least two arguments, had: %d", len(args))
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		for i, a := range args {
			v, err := a.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if !nullish(v) || i == len(args)-1 {
				return v, nil
			}
		}
		return bson.RawValue{}, nil
	}), nil
}

func parseExprSwitch(ps *exprParser, _ string, arg bson.RawValue) (exprNode, error) {
	if arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(40060, "$switch requires an object as an argument, found: %s", exprTypeName(arg))
	}
	type branch struct{ cond, then exprNode }
	var branches []branch
	var deflt exprNode
	d, _ := arg.DocumentOK()
	elems, _ := docElements(d)
	for _, el := range elems {
		switch el.key {
		case "branches":
			if el.val.Type != bsontype.Array {
				return nil, errLocation(40061, "$switch expected an array for 'branches', found: %s", exprTypeName(el.val))
			}
			arr, _ := el.val.ArrayOK()
			bs, _ := docElements(arr)
			for _, b := range bs {
				if b.val.Type != bsontype.EmbeddedDocument {
					return nil, errLocation(40062, "$switch expected each branch to be an object, found: %s", exprTypeName(b.val))
				}
				bd, _ := b.val.DocumentOK()
				fields, _ := docElements(bd)
				var br branch
				for _, f := range fields {
					n, err := ps.parseOperand(f.val)
					if err != nil {
						return nil, err
					}
					switch f.key {
					case "case":
						br.cond = n
					case "then":
						br.then = n
					default:
						return nil, errLocation(40063, "$switch found an unknown argument to a branch: %s", f.key)
					}
				}
				if br.cond == nil {
					return nil, errLocation(40064, "$switch requires each branch have a 'case' expression")
				}
				if br.then == nil {
					return nil, errLocation(40065, "$switch requires each branch have a 'then' expression.")
				}
				branches = append(branches, br)
			}
		case "default":
			n, err := ps.parseOperand(el.val)
			if err != nil {
				return nil, err
			}
			deflt = n
		default:
			return nil, errLocation(40067, "$switch found an unknown argument: %s", el.key)
		}
	}
	if len(branches) == 0 {
		return nil, errLocation(40068, "$switch requires at least one branch.")
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		for _, b := range branches {
			v, err := b.cond.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if coerceToBool(v) {
				return b.then.eval(c)
			}
		}
		if deflt == nil {
			return bson.RawValue{}, errLocation(40066, "$switch could not find a matching branch for an input, and no default was specified.")
		}
		return deflt.eval(c)
	}), nil
}

func parseExprIn(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	coll := ps.coll
	return fixedExpr(ps, name, arg, 2, func(vals []bson.RawValue) (bson.RawValue, error) {
		arr, ok := vals[1].ArrayOK()
		if !ok {
			return bson.RawValue{}, errLocation(40081, "$in requires an array as a second argument, found: %s", exprTypeName(vals[1]))
		}
		found := false
		iterElements(arr, func(_ string, el bson.RawValue) bool {
			found = coll.CompareValues(vals[0], el) == 0
			return !found
		})
		return valBool(found), nil
	})
}

func parseExprSize(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return unaryExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		arr, ok := v.ArrayOK()
		if !ok {
			return bson.RawValue{}, errLocation(17124, "The argument to $size must be an array, but was of type: %s", exprTypeName(v))
		}
		n := 0
		iterElements(arr, func(string, bson.RawValue) bool { n++; return true })
		return valInt32(int32(n)), nil
	})
}

func parseExprConcat(ps *exprParser, _ string, arg bson.RawValue) (exprNode, error) {
	args, err := ps.parseArgs(arg)
	if err != nil {
		return nil, err
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		var sb strings.Builder
		for _, a := range args {
			v, err := a.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if nullish(v) {
				return valNull(), nil
			}
			s, ok := v.StringValueOK()
			if !ok {
				return bson.RawValue{}, errLocation(16702, "$concat only supports strings, not %s", exprTypeName(v))
			}
			sb.WriteString(s)
		}
		return valString(sb.String()), nil
	}), nil
}

func parseExprCase(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	args, err := ps.parseFixedArgs(name, arg, 1)
	if err != nil {
		return nil, err
	}
	upper := name == "$toUpper"
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		v, err := args[0].eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		s, err := coerceToString(v)
		if err != nil {
			return bson.RawValue{}, err
		}
		// The server changes ASCII letters only.
		b := []byte(s)
		for i, ch := range b {
			switch {
			case upper && ch >= 'a' && ch <= 'z':
				b[i] = ch - 32
			case !upper && ch >= 'A' && ch <= 'Z':
				b[i] = ch + 32
			}
		}
		return valString(string(b)), nil
	}), nil
}

// coerceToString is the server's Value::coerceToString.
func coerceToString(v bson.RawValue) (string, error) {
	switch v.Type {
	case 0, bsontype.Null, bsontype.Undefined:
		return "", nil
	case bsontype.String, bsontype.Symbol:
		s, _ := stringLike(v)
		return s, nil
	case bsontype.JavaScript:
		s, _ := v.JavaScriptOK()
		return s, nil
	case bsontype.Double:
		f, _ := v.DoubleOK()
		return cppDoubleString(f), nil
	case bsontype.Int32, bsontype.Int64:
		return strconv.FormatInt(integerOf(v), 10), nil
	case bsontype.Decimal128:
		d, _ := v.Decimal128OK()
		return d.String(), nil
	case bsontype.DateTime:
		ms, _ := v.DateTimeOK()
		return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"), nil
	case bsontype.Timestamp:
		t, i, _ := v.TimestampOK()
		return "Timestamp(" + strconv.FormatUint(uint64(t), 10) + ", " + strconv.FormatUint(uint64(i), 10) + ")", nil
	}
	return "", errLocation(16007, "can't convert from BSON type %s to String", exprTypeName(v))
}

// cppDoubleString formats a double like a C++ ostream with default
// settings (6 significant digits, %g style).
func cppDoubleString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

func parseExprType(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return unaryExpr(ps, name, arg, func(v bson.RawValue) (bson.RawValue, error) {
		return valString(exprTypeName(v)), nil
	})
}

func parseExprArrayElemAt(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	return fixedExpr(ps, name, arg, 2, func(vals []bson.RawValue) (bson.RawValue, error) {
		arrV, idxV := vals[0], vals[1]
		if nullish(arrV) || nullish(idxV) {
			return valNull(), nil
		}
		arr, ok := arrV.ArrayOK()
		if !ok {
			return bson.RawValue{}, errLocation(28689, "$arrayElemAt's first argument must be an array, but is %s", exprTypeName(arrV))
		}
		if !isNumeric(idxV.Type) {
			return bson.RawValue{}, errLocation(28690, "$arrayElemAt's second argument must be a numeric value, but is %s", exprTypeName(idxV))
		}
		i, ok := integralInt32(idxV)
		if !ok {
			return bson.RawValue{}, errLocation(28691, "$arrayElemAt's second argument must be representable as a 32-bit integer: %s", cppDoubleString(numberAsFloat(idxV)))
		}
		elems, _ := docElements(arr)
		idx := int(i)
		if idx < 0 {
			idx += len(elems)
		}
		if idx < 0 || idx >= len(elems) {
			return bson.RawValue{}, nil
		}
		return elems[idx].val, nil
	})
}

// ---- values ----------------------------------------------------------------

// coerceToBool is the aggregation truth test: false, 0, null, undefined and
// missing are false; everything else (including "" and []) is true.
func coerceToBool(v bson.RawValue) bool { return trueValue(v) }

// exprTypeName is the name $type returns, "missing" for a missing value.
func exprTypeName(v bson.RawValue) string {
	if v.Type == 0 {
		return "missing"
	}
	return typeName(v.Type)
}

func valNull() bson.RawValue { return bson.RawValue{Type: bsontype.Null} }

func valBool(b bool) bson.RawValue {
	return bson.RawValue{Type: bsontype.Boolean, Value: bsoncore.AppendBoolean(nil, b)}
}

func valInt32(i int32) bson.RawValue {
	return bson.RawValue{Type: bsontype.Int32, Value: bsoncore.AppendInt32(nil, i)}
}

func valInt64(i int64) bson.RawValue {
	return bson.RawValue{Type: bsontype.Int64, Value: appendInt64(nil, i)}
}

func appendInt64(dst []byte, i int64) []byte { return bsoncore.AppendInt64(dst, i) }

func valDouble(f float64) bson.RawValue {
	return bson.RawValue{Type: bsontype.Double, Value: bsoncore.AppendDouble(nil, f)}
}

func valDecimal(d primitive.Decimal128) bson.RawValue {
	return bson.RawValue{Type: bsontype.Decimal128, Value: bsoncore.AppendDecimal128(nil, d)}
}

func valString(s string) bson.RawValue {
	return bson.RawValue{Type: bsontype.String, Value: bsoncore.AppendString(nil, s)}
}

func valDate(ms int64) bson.RawValue {
	return bson.RawValue{Type: bsontype.DateTime, Value: bsoncore.AppendDateTime(nil, ms)}
}

// makeArray builds an array value.
func makeArray(vals []bson.RawValue) bson.RawValue {
	idx, arr := bsoncore.AppendArrayStart(nil)
	for i, v := range vals {
		arr = bsoncore.AppendValueElement(arr, strconv.Itoa(i), bsoncore.Value{Type: v.Type, Data: v.Value})
	}
	arr, _ = bsoncore.AppendArrayEnd(arr, idx)
	return bson.RawValue{Type: bsontype.Array, Value: arr}
}

// ---- decimal arithmetic ----------------------------------------------------

// exactRat converts a finite number (or date) to an exact rational.
func exactRat(v bson.RawValue) (*big.Rat, bool) {
	switch v.Type {
	case bsontype.Int32, bsontype.Int64, bsontype.DateTime:
		return new(big.Rat).SetInt64(integerOf(v)), true
	case bsontype.Double:
		f, _ := v.DoubleOK()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		return new(big.Rat).SetFloat64(f), true
	case bsontype.Decimal128:
		d, ok := v.Decimal128OK()
		if !ok {
			return nil, false
		}
		c, e, err := d.BigInt()
		if err != nil {
			return nil, false
		}
		r := new(big.Rat).SetInt(c)
		p := new(big.Int).Exp(bigTen, big.NewInt(int64(absInt(e))), nil)
		if e >= 0 {
			return r.Mul(r, new(big.Rat).SetInt(p)), true
		}
		return r.Quo(r, new(big.Rat).SetInt(p)), true
	}
	return nil, false
}

// decOf converts a number (or date) to decimal128 the way the server's
// Value::coerceToDecimal does: doubles are rounded to 15 significant
// digits, so 0.1 becomes 0.100000000000000.
func decOf(v bson.RawValue) primitive.Decimal128 {
	switch v.Type {
	case bsontype.Decimal128:
		d, _ := v.Decimal128OK()
		return d
	case bsontype.Double:
		f, _ := v.DoubleOK()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return decimalFromFloatExact(f)
		}
		d, err := primitive.ParseDecimal128(strconv.FormatFloat(f, 'e', 14, 64))
		if err != nil {
			return decimalFromFloatExact(f)
		}
		return d
	}
	d, _ := primitive.ParseDecimal128(strconv.FormatInt(integerOf(v), 10))
	return d
}

// decIsZero reports a numeric zero of any exponent and sign. (The driver's
// IsZero only recognises the all-zero bit pattern.)
func decIsZero(d primitive.Decimal128) bool {
	c, _, err := d.BigInt()
	return err == nil && c.Sign() == 0
}

func decZero() primitive.Decimal128 {
	d, _ := primitive.ParseDecimal128("0")
	return d
}

// decClass classifies a decimal: 0 NaN, 1 +Inf, -1 -Inf, 2 finite.
func decClass(d primitive.Decimal128) int {
	switch {
	case d.IsNaN():
		return 0
	case d.IsInf() > 0:
		return 1
	case d.IsInf() < 0:
		return -1
	}
	return 2
}

func decNegative(d primitive.Decimal128) bool {
	h, _ := d.GetBytes()
	return h>>63 == 1
}

func decSpecial(s string) primitive.Decimal128 {
	d, _ := primitive.ParseDecimal128(s)
	return d
}

func decInf(negative bool) primitive.Decimal128 {
	if negative {
		return decSpecial("-Infinity")
	}
	return decSpecial("Infinity")
}

// decArith computes a op b ('+', '-', '*', '/', '%') in decimal128 with
// IEEE 754 rules for NaN and infinities, rounding the exact result to 34
// significant digits. The caller rejects division by zero.
func decArith(op byte, a, b primitive.Decimal128) primitive.Decimal128 {
	if op == '-' {
		h, l := b.GetBytes()
		b = primitive.NewDecimal128(h^(1<<63), l)
		op = '+'
	}
	ca, cb := decClass(a), decClass(b)
	nan := decSpecial("NaN")
	if ca == 0 || cb == 0 {
		return nan
	}
	if ca != 2 || cb != 2 {
		switch op {
		case '+':
			if ca != 2 && cb != 2 && ca != cb {
				return nan
			}
			if ca != 2 {
				return a
			}
			return b
		case '*':
			if (ca == 2 && decIsZero(a)) || (cb == 2 && decIsZero(b)) {
				return nan
			}
			return decInf(decNegative(a) != decNegative(b))
		case '/':
			if ca != 2 && cb != 2 {
				return nan
			}
			if ca != 2 {
				return decInf(decNegative(a) != decNegative(b))
			}
			return decZero()
		default: // '%'
			if ca != 2 {
				return nan
			}
			return a
		}
	}
	x, _ := exactRat(valDecimal(a))
	y, _ := exactRat(valDecimal(b))
	switch op {
	case '+':
		return decimalFromRat(x.Add(x, y))
	case '*':
		return decimalFromRat(x.Mul(x, y))
	case '/':
		if y.Sign() == 0 {
			return decInf(x.Sign() < 0)
		}
		return decimalFromRat(x.Quo(x, y))
	}
	if y.Sign() == 0 {
		return nan
	}
	// Truncated remainder: x - y*trunc(x/y), with the dividend's sign.
	q := new(big.Rat).Quo(x, y)
	t := new(big.Int).Quo(q.Num(), q.Denom())
	return decimalFromRat(x.Sub(x, new(big.Rat).Mul(y, new(big.Rat).SetInt(t))))
}

func absInt(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// decimalFromRat rounds r to the nearest decimal128 (34 significant
// digits, ties to even), dropping trailing zeros the exact result lacks.
func decimalFromRat(r *big.Rat) primitive.Decimal128 {
	if r.Sign() == 0 {
		d, _ := primitive.ParseDecimal128("0")
		return d
	}
	num := new(big.Int).Abs(r.Num())
	den := r.Denom()
	// Estimate the decimal exponent of the leading digit, then scale so the
	// quotient has exactly 34 digits.
	e := len(num.String()) - len(den.String()) - 34
	var coef *big.Int
	var exact bool
	for {
		n, d := new(big.Int).Set(num), new(big.Int).Set(den)
		if e < 0 {
			n.Mul(n, new(big.Int).Exp(bigTen, big.NewInt(int64(-e)), nil))
		} else {
			d.Mul(d, new(big.Int).Exp(bigTen, big.NewInt(int64(e)), nil))
		}
		q, rem := new(big.Int).QuoRem(n, d, new(big.Int))
		digits := len(q.String())
		if digits > 34 {
			e++
			continue
		}
		if digits < 34 {
			e--
			continue
		}
		// Round half to even.
		twice := new(big.Int).Mul(rem, big.NewInt(2))
		switch twice.Cmp(d) {
		case 1:
			q.Add(q, big.NewInt(1))
		case 0:
			if q.Bit(0) == 1 {
				q.Add(q, big.NewInt(1))
			}
		}
		exact = rem.Sign() == 0
		if len(q.String()) > 34 {
			q.Quo(q, bigTen)
			e++
		}
		coef = q
		break
	}
	if exact {
		// Prefer the shortest coefficient for exact results (1/4 = 0.25).
		for e < 0 {
			qq, rr := new(big.Int).QuoRem(coef, bigTen, new(big.Int))
			if rr.Sign() != 0 {
				break
			}
			coef, e = qq, e+1
		}
	}
	if r.Sign() < 0 {
		coef.Neg(coef)
	}
	return packDecimal(coef, e)
}

// packDecimal stores coef*10^e, saturating to infinity or zero when the
// exponent is out of decimal128's range.
func packDecimal(coef *big.Int, e int) primitive.Decimal128 {
	for e < primitive.MinDecimal128Exp && coef.Sign() != 0 {
		coef.Quo(coef, bigTen)
		e++
	}
	if coef.Sign() == 0 && e < primitive.MinDecimal128Exp {
		e = primitive.MinDecimal128Exp
	}
	if d, ok := primitive.ParseDecimal128FromBigInt(coef, e); ok {
		return d
	}
	if coef.Sign() < 0 {
		d, _ := primitive.ParseDecimal128("-Infinity")
		return d
	}
	d, _ := primitive.ParseDecimal128("Infinity")
	return d
}

// decimalFromFloatExact converts a float (possibly NaN or infinite) exactly.
func decimalFromFloatExact(f float64) primitive.Decimal128 {
	switch {
	case math.IsNaN(f):
		d, _ := primitive.ParseDecimal128("NaN")
		return d
	case math.IsInf(f, 1):
		d, _ := primitive.ParseDecimal128("Infinity")
		return d
	case math.IsInf(f, -1):
		d, _ := primitive.ParseDecimal128("-Infinity")
		return d
	}
	return decimalFromRat(new(big.Rat).SetFloat64(f))
}
