package materialize

import (
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file is the entry point of the query engine: it compiles a filter
// document into a tree of nodes (the server's MatchExpression tree, parsed
// by the same rules as mongo/db/matcher/expression_parser.cpp) and matches
// documents against it. Operator families live in their own files.

// Filter is a compiled MongoDB query filter. A Filter is immutable once
// CompileFilter returns it and is safe for concurrent use.
type Filter struct {
	root  node
	eq    map[string]bson.RawValue
	preds *conjPreds // what an index may answer (index_plan.go)
	coll  *Collation // the collation strings compare with (nil: simple)
}

// maxFilterDepth bounds the nesting of a filter so hostile input cannot
// exhaust the stack. The server rejects BSON nested deeper than this anyway.
const maxFilterDepth = 200

// CompileFilter parses a MongoDB query filter. Errors are *Error values with
// the server's code and message for the same filter: unknown operators are
// errors ("unknown operator: $foo", code 2), never ignored. A nil or empty
// filter matches every document.
func CompileFilter(filter bson.Raw) (*Filter, error) {
	return compileFilter(filter, nil)
}

// compileFilter compiles filter with the let variables vars (nil: none) in
// scope of its $expr.
func compileFilter(filter bson.Raw, vars *Variables) (*Filter, error) {
	if len(filter) == 0 {
		return &Filter{root: &andNode{}, eq: map[string]bson.RawValue{}, preds: &conjPreds{}}, nil
	}
	if err := validateDocument(filter); err != nil {
		return nil, newError(codeInvalidBSON, "invalid filter document: %v", err)
	}
	p := &parser{vars: vars}
	root, err := p.parseDoc(filter, levelPredicateTop)
	if err != nil {
		return nil, err
	}
	f := &Filter{root: root, eq: map[string]bson.RawValue{}, preds: &conjPreds{}, coll: vars.collation()}
	collectEqualities(filter, f.eq)
	collectConj(filter, f.preds)
	return f, nil
}

// Match reports whether doc matches the filter. It returns an error only when
// evaluating an $expr fails (for example division by zero), as the server
// does. It never panics, even on malformed documents.
func (f *Filter) Match(doc bson.Raw) (bool, error) {
	if f == nil || f.root == nil {
		return true, nil // a nil Filter is the empty filter
	}
	return f.root.matchDoc(doc, nil)
}

// MatchPositional is Match that also reports the array position the
// positional operator ($ in updates and projections) refers to: the index,
// in the first array on the matched path, of the element that satisfied the
// query, as the server's MatchDetails elemMatchKey. arrayIndex is -1 when the
// match did not go through an array (or matched through $or/$nor/$not, which
// the server does not record either).
func (f *Filter) MatchPositional(doc bson.Raw) (matched bool, arrayIndex int, err error) {
	if f == nil || f.root == nil {
		return true, noOffset, nil
	}
	d := &matchDetails{offset: noOffset}
	ok, err := f.root.matchDoc(doc, d)
	if err != nil || !ok {
		return false, noOffset, err
	}
	return true, d.offset, nil
}

// EqualityFields returns the top-level equality conditions of the filter,
// such as {_id: 5} or {a: {$eq: 1}}, including those inside a top-level
// $and, keyed by dotted path. They seed the document an upsert inserts and
// let callers pick an index. The first condition wins when a path repeats.
// The returned map is a copy the caller may modify.
func (f *Filter) EqualityFields() map[string]bson.RawValue {
	if f == nil {
		return map[string]bson.RawValue{}
	}
	out := make(map[string]bson.RawValue, len(f.eq))
	for k, v := range f.eq {
		out[k] = v
	}
	return out
}

// collectEqualities gathers equality conditions from a validated filter.
func collectEqualities(filter []byte, out map[string]bson.RawValue) {
	iterElements(filter, func(key string, v bson.RawValue) bool {
		if key == "$and" {
			if arr, ok := v.ArrayOK(); ok {
				iterElements(arr, func(_ string, sub bson.RawValue) bool {
					if d, ok := sub.DocumentOK(); ok {
						collectEqualities(d, out)
					}
					return true
				})
			}
			return true
		}
		if len(key) > 0 && key[0] == '$' {
			return true
		}
		if _, seen := out[key]; seen {
			return true
		}
		switch {
		case isExpressionDocument(v, false):
			d, _ := v.DocumentOK()
			// {$eq: /re/} is an equality with a regex value, unlike {a: /re/}.
			if eq, ok := lookupField(d, "$eq"); ok {
				out[key] = eq
			}
		case v.Type == bsontype.Regex:
			// A regex is a pattern match, not an equality.
		default:
			out[key] = v
		}
		return true
	})
}

// node is one compiled match expression.
type node interface {
	// matchDoc matches a whole document (the server's matches()). d, when
	// not nil, receives the positional array index.
	matchDoc(doc []byte, d *matchDetails) (bool, error)
	// matchValue matches one value (the server's matchesSingleElement),
	// used by $elemMatch on values and by $not inside it.
	matchValue(v bson.RawValue, d *matchDetails) bool
}

// valuePred is a predicate on one value; pathNode applies it along a path.
type valuePred interface {
	matchValue(v bson.RawValue, d *matchDetails) bool
}

// matchDetails records the positional array index (the server's
// MatchDetails elemMatchKey).
type matchDetails struct {
	offset int
}

func (d *matchDetails) setOffset(i int) {
	if d != nil {
		d.offset = i
	}
}

func (d *matchDetails) reset() {
	if d != nil {
		d.offset = noOffset
	}
}

// pathNode applies pred to the values found at a dotted path; it matches if
// any of them matches.
type pathNode struct {
	path  string
	parts []string
	mode  leafArrayMode
	pred  valuePred
}

func newPathNode(path string, mode leafArrayMode, pred valuePred) *pathNode {
	return &pathNode{path: path, parts: splitPath(path), mode: mode, pred: pred}
}

func (n *pathNode) matchDoc(doc []byte, d *matchDetails) (bool, error) {
	matched := false
	walkPath(doc, n.parts, n.mode, func(v bson.RawValue, off int) bool {
		if n.pred.matchValue(v, d) {
			if off != noOffset {
				d.setOffset(off)
			}
			matched = true
			return false
		}
		return true
	})
	return matched, nil
}

func (n *pathNode) matchValue(v bson.RawValue, d *matchDetails) bool {
	return n.pred.matchValue(v, d)
}

// alwaysNode is $alwaysTrue / $alwaysFalse (and an empty $all).
type alwaysNode struct{ result bool }

func (n *alwaysNode) matchDoc([]byte, *matchDetails) (bool, error) { return n.result, nil }
func (n *alwaysNode) matchValue(bson.RawValue, *matchDetails) bool { return n.result }

// parseLevel is the server's DocumentParseLevel: some operators ($expr,
// $where, $text) only apply to the whole document, not inside $elemMatch.
type parseLevel int

const (
	levelPredicateTop parseLevel = iota
	levelUserDocumentTop
	levelUserSubDocument
)

// parser carries state through one compilation.
type parser struct {
	depth int
	vars  *Variables // let variables, read by $expr, and the collation
}

// coll is the collation string comparisons use (nil: simple).
func (p *parser) coll() *Collation { return p.vars.collation() }

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxFilterDepth {
		return errBadValue("filter is nested deeper than argon's limit of %d levels", maxFilterDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// parseDoc is the server's parse(): every element of doc becomes a child of
// an implicit $and.
func (p *parser) parseDoc(doc []byte, level parseLevel) (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	next := level
	if level == levelPredicateTop {
		next = levelUserDocumentTop
	}
	root := &andNode{}
	var perr error
	ok := iterElements(doc, func(key string, e bson.RawValue) bool {
		if len(key) > 0 && key[0] == '$' {
			n, err := p.parsePathless(key, e, level)
			if err != nil {
				perr = err
				return false
			}
			if n != nil {
				root.children = append(root.children, n)
			}
			return true
		}
		if isExpressionDocument(e, false) {
			sub, _ := e.DocumentOK()
			nodes, err := p.parseSub(key, sub, next)
			if err != nil {
				perr = err
				return false
			}
			root.children = append(root.children, nodes...)
			return true
		}
		if e.Type == bsontype.Regex {
			pred, err := newRegexPredFromValue(e)
			if err != nil {
				perr = err
				return false
			}
			root.children = append(root.children, newPathNode(key, leafTraverse, pred))
			return true
		}
		pred, err := newComparison(key, opEQ, e, p.coll())
		if err != nil {
			perr = err
			return false
		}
		root.children = append(root.children, newPathNode(key, leafTraverse, pred))
		return true
	})
	if perr != nil {
		return nil, perr
	}
	if !ok {
		return nil, newError(codeInvalidBSON, "invalid filter document")
	}
	if len(root.children) == 1 {
		return root.children[0], nil
	}
	return root, nil
}

// parseSub parses {name: {$op: arg, ...}}: one node per operator, each
// traversing the path on its own (so {a: {$gt: 1, $lt: 5}} matches
// {a: [0, 10]}, as in the server).
func (p *parser) parseSub(name string, sub []byte, level parseLevel) ([]node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	// $near carries sibling modifiers ($maxDistance) and is parsed as a whole.
	if first, ok := firstElement(sub); ok {
		if k := fieldOperator(first.key); k == opKindGeoNear &&
			(first.val.Type == bsontype.EmbeddedDocument || first.val.Type == bsontype.Array) {
			return nil, errNotSupported(first.key)
		}
	}
	var out []node
	var perr error
	iterElements(sub, func(key string, e bson.RawValue) bool {
		n, err := p.parseSubField(sub, name, key, e, level)
		if err != nil {
			perr = err
			return false
		}
		if n != nil {
			out = append(out, n)
		}
		return true
	})
	if perr != nil {
		return nil, perr
	}
	return out, nil
}

// parseSubField parses one operator of a field expression, e.g. $gt: 5 in
// {x: {$gt: 5, $lt: 8}}. ctx is the whole operator document. It may return
// a nil node (for $options, which $regex consumes).
func (p *parser) parseSubField(ctx []byte, name, key string, e bson.RawValue, level parseLevel) (node, error) {
	if key == "$not" {
		return p.parseNot(name, e, level)
	}
	kind := fieldOperator(key)
	switch kind {
	case opKindUnknown:
		if key == "$where" {
			return nil, errBadValue("$where cannot be applied to a field")
		}
		return nil, errBadValue("unknown operator: %s", key)
	case opKindEq, opKindLt, opKindLte, opKindGt, opKindGte:
		pred, err := newComparison(name, cmpOpFor(kind), e, p.coll())
		if err != nil {
			return nil, err
		}
		return newPathNode(name, leafTraverse, pred), nil
	case opKindNe:
		return parseNe(name, e, p.coll())
	case opKindIn:
		return parseIn(name, e, false, p.coll())
	case opKindNin:
		return parseIn(name, e, true, p.coll())
	case opKindExists:
		return parseExists(name, e)
	case opKindType:
		return parseType(name, e)
	case opKindMod:
		return parseMod(name, e)
	case opKindRegex:
		return parseRegexDocument(name, ctx)
	case opKindOptions:
		// Consumed by $regex, which may come before or after it.
		if hasRegexKeyword(ctx) {
			return nil, nil
		}
		return nil, errBadValue("$options needs a $regex")
	case opKindElemMatch:
		return p.parseElemMatch(name, e)
	case opKindAll:
		return p.parseAll(name, e)
	case opKindSize:
		return parseSize(name, e)
	case opKindBitsAllSet, opKindBitsAllClear, opKindBitsAnySet, opKindBitsAnyClear:
		return parseBitTest(name, kind, e)
	case opKindGeoNear:
		return nil, errBadValue("near must be first in: %s", docString(ctx))
	case opKindGeoWithin, opKindGeoIntersects:
		return nil, errNotSupported(key)
	case opKindInternal:
		return nil, errNotSupported(key)
	}
	return nil, errBadValue("not handled: %s", key)
}

// opKind identifies a field-level (path-accepting) query operator.
type opKind int

const (
	opKindUnknown opKind = iota
	opKindEq
	opKindNe
	opKindLt
	opKindLte
	opKindGt
	opKindGte
	opKindIn
	opKindNin
	opKindExists
	opKindType
	opKindMod
	opKindRegex
	opKindOptions
	opKindElemMatch
	opKindAll
	opKindSize
	opKindBitsAllSet
	opKindBitsAllClear
	opKindBitsAnySet
	opKindBitsAnyClear
	opKindGeoNear
	opKindGeoWithin
	opKindGeoIntersects
	opKindInternal
)

// fieldOperators is the server's queryOperatorMap: the operators that may
// follow a field name.
var fieldOperators = map[string]opKind{
	"$eq":                                   opKindEq,
	"$ne":                                   opKindNe,
	"$lt":                                   opKindLt,
	"$lte":                                  opKindLte,
	"$gt":                                   opKindGt,
	"$gte":                                  opKindGte,
	"$in":                                   opKindIn,
	"$nin":                                  opKindNin,
	"$exists":                               opKindExists,
	"$type":                                 opKindType,
	"$mod":                                  opKindMod,
	"$regex":                                opKindRegex,
	"$options":                              opKindOptions,
	"$elemMatch":                            opKindElemMatch,
	"$all":                                  opKindAll,
	"$size":                                 opKindSize,
	"$bitsAllSet":                           opKindBitsAllSet,
	"$bitsAllClear":                         opKindBitsAllClear,
	"$bitsAnySet":                           opKindBitsAnySet,
	"$bitsAnyClear":                         opKindBitsAnyClear,
	"$near":                                 opKindGeoNear,
	"$nearSphere":                           opKindGeoNear,
	"$geoNear":                              opKindGeoNear,
	"$geoWithin":                            opKindGeoWithin,
	"$within":                               opKindGeoWithin,
	"$geoIntersects":                        opKindGeoIntersects,
	"$_internalExprEq":                      opKindInternal,
	"$_internalExprGt":                      opKindInternal,
	"$_internalExprGte":                     opKindInternal,
	"$_internalExprLt":                      opKindInternal,
	"$_internalExprLte":                     opKindInternal,
	"$_internalSchemaAllElemMatchFromIndex": opKindInternal,
	"$_internalSchemaBinDataEncryptedType":  opKindInternal,
	"$_internalSchemaBinDataSubType":        opKindInternal,
	"$_internalSchemaEq":                    opKindInternal,
	"$_internalSchemaFmod":                  opKindInternal,
	"$_internalSchemaMatchArrayIndex":       opKindInternal,
	"$_internalSchemaMaxItems":              opKindInternal,
	"$_internalSchemaMaxLength":             opKindInternal,
	"$_internalSchemaMinItems":              opKindInternal,
	"$_internalSchemaMinLength":             opKindInternal,
	"$_internalSchemaObjectMatch":           opKindInternal,
	"$_internalSchemaType":                  opKindInternal,
	"$_internalSchemaUniqueItems":           opKindInternal,
}

// fieldOperator looks a field-level operator up by name ("$gt").
func fieldOperator(name string) opKind {
	return fieldOperators[name]
}

// hasRegexKeyword reports whether an operator document contains $regex.
func hasRegexKeyword(ctx []byte) bool {
	_, ok := lookupField(ctx, "$regex")
	return ok
}

// isExpressionDocument is the server's isExpressionDocument: a non-empty
// object whose first field starts with '$' and which is not a DBRef.
func isExpressionDocument(e bson.RawValue, allowIncompleteDBRef bool) bool {
	if e.Type != bsontype.EmbeddedDocument {
		return false
	}
	d, ok := e.DocumentOK()
	if !ok {
		return false
	}
	first, ok := firstElement(d)
	if !ok || len(first.key) == 0 || first.key[0] != '$' {
		return false
	}
	return !isDBRefDocument(d, allowIncompleteDBRef)
}

// isDBRefDocument reports whether obj looks like a DBRef ($ref and $id, or
// any of $ref/$id/$db when incomplete DBRefs are allowed).
func isDBRefDocument(obj []byte, allowIncomplete bool) bool {
	var hasRef, hasID, hasDB bool
	iterElements(obj, func(key string, _ bson.RawValue) bool {
		switch key {
		case "$ref":
			hasRef = true
		case "$id":
			hasID = true
		case "$db":
			hasDB = true
		}
		return !(hasRef && hasID)
	})
	if allowIncomplete {
		return hasRef || hasID || hasDB
	}
	return hasRef && hasID
}

// firstElement returns the first element of a document.
func firstElement(doc []byte) (element, bool) {
	var out element
	found := false
	iterElements(doc, func(key string, v bson.RawValue) bool {
		out, found = element{key, v}, true
		return false
	})
	return out, found
}
