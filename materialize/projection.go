package materialize

import (
	"math"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file implements find() projections with the semantics of MongoDB 4.4
// and later (projection_ast parsing, projection_executor application):
// inclusion and exclusion through embedded documents and arrays, _id rules,
// the find-only operators $slice, $elemMatch and the positional "a.$", and
// computed fields (literals and aggregation expressions) through
// CompileExpression.

// Projection is a compiled find() projection. It is immutable once
// CompileProjection returns it and safe for concurrent use.
type Projection struct {
	identity  bool // an empty projection returns documents unchanged
	inclusion bool
	root      *projNode
	post      []projPost // $slice and positional, applied to the result in order
	posMatch  string     // first component of the positional path (for CheckQuery)
	posName   string     // the positional field as written ("a.$")
}

// projNode is one level of the projection tree.
type projNode struct {
	fields []*projField
	byName map[string]*projField
}

type projField struct {
	name     string
	kind     int
	child    *projNode
	expr     Expression
	elem     *Filter // $elemMatch: {name: {$elemMatch: ...}}
	computed bool    // this field or its subtree computes values
}

const (
	projInclude = iota
	projExclude
	projChild
	projExpr
	projElemMatch
)

// projPost is a $slice or positional operation on a path of the result.
type projPost struct {
	path       []string
	positional bool
	hasSkip    bool
	skip       int
	limit      int
}

func newProjNode() *projNode { return &projNode{byName: map[string]*projField{}} }

// projParse tracks the inclusion/exclusion decision while parsing.
type projParse struct {
	typ                    int // 0 unknown, 1 inclusion, 2 exclusion
	idSpecified            bool
	idIncluded, idExcluded bool
	hasPositional          bool
	hasElemMatch           bool
	hasFindSlice           bool
	posMatch               string
	posName                string
	root                   *projNode
	fieldPosts             map[*projField]projPost
	opts                   projOptions
}

const (
	projTypeInclusion = 1
	projTypeExclusion = 2
)

// CompileProjection parses a find() projection. Errors are *Error values with
// the server's codes and messages (31254 "Cannot do exclusion on field a in
// inclusion projection", 31253, 31249/31250 path collisions, ...). $meta is
// not supported.
func CompileProjection(proj bson.Raw) (*Projection, error) {
	return compileProjection(proj, projOptions{})
}

// CompileProjectionWithVars is CompileProjection for a find with a let
// option: computed fields may read its variables as $$name (see
// ParseVariables, whose errors come first).
func CompileProjectionWithVars(proj bson.Raw, let bson.Raw) (*Projection, error) {
	vars, err := ParseVariables(let)
	if err != nil {
		return nil, err
	}
	return compileProjection(proj, projOptions{vars: vars})
}

// projOptions select the flavour of projection compileProjection parses.
type projOptions struct {
	// agg: an aggregation $project (as in pipeline-style updates), which
	// must name a field and has no find-only operators (positional, find
	// $slice, $elemMatch).
	agg bool
	// vars: the let variables computed fields may read.
	vars *Variables
}

func compileProjection(proj bson.Raw, opts projOptions) (*Projection, error) {
	if len(proj) == 0 && !opts.agg {
		return &Projection{identity: true}, nil
	}
	if err := dnValidateDoc(proj, 0); err != nil {
		return nil, errFailedToParse("projection is not valid BSON")
	}
	spec := dnFromValue(bsontype.EmbeddedDocument, proj)
	spec.expand()
	if len(spec.kids) == 0 {
		if opts.agg {
			return nil, errLocation(51272, "projection specification must have at least one field")
		}
		return &Projection{identity: true}, nil
	}
	ps := &projParse{root: newProjNode(), opts: opts}
	for _, k := range spec.kids {
		if k.name == "_id" || strings.HasPrefix(k.name, "_id.") {
			ps.idSpecified = true
		}
		if err := ps.parseElement(k.name, k.n, nil, ps.root); err != nil {
			return nil, err
		}
	}
	if ps.typ == 0 {
		switch {
		case ps.hasFindSlice:
			ps.typ = projTypeExclusion
			if ps.idIncluded {
				ps.typ = projTypeInclusion
			}
		case ps.hasElemMatch:
			ps.typ = projTypeInclusion
		case ps.idIncluded:
			ps.typ = projTypeInclusion
		default:
			ps.typ = projTypeExclusion
		}
	}
	p := &Projection{inclusion: ps.typ == projTypeInclusion, root: ps.root, posMatch: ps.posMatch, posName: ps.posName}
	if p.inclusion && !ps.idSpecified {
		ps.root.add(&projField{name: "_id", kind: projInclude})
	}
	if !p.inclusion && ps.idIncluded {
		// {_id: 1} in an exclusion projection is legal and means nothing.
		ps.root.remove("_id")
	}
	// Gather $slice and positional operations in tree order; in an
	// inclusion projection their paths are included too.
	var walk func(n *projNode, prefix []string)
	walk = func(n *projNode, prefix []string) {
		for _, f := range n.fields {
			path := append(append([]string(nil), prefix...), f.name)
			if post, ok := ps.fieldPosts[f]; ok {
				post.path = path
				p.post = append(p.post, post)
				if p.inclusion {
					f.kind = projInclude
				} else {
					n.remove(f.name)
				}
				continue
			}
			if f.kind == projChild {
				walk(f.child, path)
			}
		}
	}
	walk(ps.root, nil)
	if !p.inclusion {
		// Exclusion projections ignore inclusions (_id: 1) and empty
		// branches left behind.
		projPruneExclusion(ps.root)
	} else {
		projPruneInclusion(ps.root)
	}
	projMarkComputed(ps.root)
	return p, nil
}

func (n *projNode) add(f *projField) {
	n.fields = append(n.fields, f)
	n.byName[f.name] = f
}

func (n *projNode) remove(name string) {
	delete(n.byName, name)
	for i, f := range n.fields {
		if f.name == name {
			n.fields = append(n.fields[:i:i], n.fields[i+1:]...)
			return
		}
	}
}

// projPruneInclusion drops exclusions (only _id: 0 can be one) from an
// inclusion tree.
func projPruneInclusion(n *projNode) {
	for _, f := range append([]*projField(nil), n.fields...) {
		switch f.kind {
		case projExclude:
			n.remove(f.name)
		case projChild:
			projPruneInclusion(f.child)
		}
	}
}

func projPruneExclusion(n *projNode) {
	for _, f := range append([]*projField(nil), n.fields...) {
		switch f.kind {
		case projInclude:
			n.remove(f.name)
		case projChild:
			projPruneExclusion(f.child)
		}
	}
}

func projMarkComputed(n *projNode) bool {
	any := false
	for _, f := range n.fields {
		switch f.kind {
		case projExpr, projElemMatch:
			f.computed = true
		case projChild:
			f.computed = projMarkComputed(f.child)
		}
		any = any || f.computed
	}
	return any
}

// projCheckFieldPath is FieldPath's validation of a projection path.
func projCheckFieldPath(path string) ([]string, error) {
	if path == "" {
		return nil, docErr(40352, "FieldPath cannot be constructed with empty string")
	}
	parts := strings.Split(path, ".")
	for _, p := range parts {
		if p == "" {
			return nil, docErr(15998, "FieldPath field names may not be empty strings.")
		}
		if p[0] == '$' && p != "$id" && p != "$ref" && p != "$db" {
			return nil, docErr(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.")
		}
		if strings.IndexByte(p, 0) >= 0 {
			return nil, docErr(16411, "FieldPath field names may not contain '\\0'.")
		}
	}
	return parts, nil
}

// addAtPath is addNodeAtPath: it places f at path under parent, creating
// intermediate levels, and reports the server's path collisions.
func (ps *projParse) addAtPath(parent *projNode, parts []string, f *projField) error {
	full := strings.Join(parts, ".")
	cur := parent
	for i, p := range parts {
		existing := cur.byName[p]
		if i == len(parts)-1 {
			if existing != nil {
				return docErr(31250, "Path collision at %s", full)
			}
			f.name = p
			cur.add(f)
			return nil
		}
		if existing == nil {
			existing = &projField{name: p, kind: projChild, child: newProjNode()}
			cur.add(existing)
		} else if existing.kind != projChild {
			return docErr(31249, "Path collision at %s remaining portion %s", full, strings.Join(parts[i+1:], "."))
		}
		cur = existing.child
	}
	return nil
}

// projFirstPositional finds the first positional operator in a field name
// (".$." inside, ".$" at the end, or the whole name "$").
func projFirstPositional(s string) (int, int, bool) {
	if i := strings.Index(s, ".$."); i >= 0 {
		return i, i + 3, true
	}
	if strings.HasSuffix(s, ".$") {
		return len(s) - 2, len(s), true
	}
	if s == "$" {
		return 0, 1, true
	}
	return 0, 0, false
}

func (ps *projParse) parseElement(name string, v *dnode, fullPathToParent []string, parent *projNode) error {
	posBegin, posEnd, positional := projFirstPositional(name)
	if positional && ps.opts.agg {
		return errLocation(31324, "Cannot use positional projection in aggregation projection")
	}
	switch {
	case v.t == bsontype.EmbeddedDocument:
		if positional {
			return docErr(31271, "positional projection cannot be used with an expression or sub object")
		}
		return ps.parseSubObject(name, v, fullPathToParent, parent)
	case v.t == bsontype.Boolean || v.t == bsontype.Int32 || v.t == bsontype.Int64 || v.t == bsontype.Double || v.t == bsontype.Decimal128:
		if projTrue(v) {
			return ps.parseInclusion(name, fullPathToParent, parent, positional, posBegin, posEnd)
		}
		return ps.parseExclusion(name, parent)
	default:
		if positional {
			return docErr(31308, "positional projection cannot be used with a literal")
		}
		return ps.parseLiteral(name, v, parent)
	}
}

// projTrue is BSONElement::trueValue for the inclusion/exclusion types.
func projTrue(v *dnode) bool {
	if v.t == bsontype.Boolean {
		return len(v.data) > 0 && v.data[0] != 0
	}
	n, _ := updNumFromValue(v.t, v.data)
	switch n.t {
	case bsontype.Int32:
		return n.i32 != 0
	case bsontype.Int64:
		return n.i64 != 0
	case bsontype.Double:
		return n.f64 != 0
	}
	return !(n.d.kind == udecFinite && n.d.coef.Sign() == 0)
}

func (ps *projParse) parseInclusion(name string, fullPathToParent []string, parent *projNode, positional bool, posBegin, posEnd int) error {
	isTopID := name == "_id" && parent == ps.root
	if !positional {
		parts, err := projCheckFieldPath(name)
		if err != nil {
			return err
		}
		if err := ps.addAtPath(parent, parts, &projField{kind: projInclude}); err != nil {
			return err
		}
		if isTopID {
			ps.idIncluded = true
		}
	} else {
		if ps.hasPositional {
			return docErr(31276, "Cannot specify more than one positional projection per query.")
		}
		if ps.hasElemMatch {
			return docErr(31256, "Cannot specify positional operator and $elemMatch.")
		}
		if strings.HasSuffix(name, ".$.") {
			return docErr(31270, "Path cannot end with '.$.'")
		}
		rest := name[posEnd:]
		if _, _, again := projFirstPositional(rest); again || rest == "$" {
			return docErr(31287, "Cannot use positional operator twice: %s", name)
		}
		parts, err := projCheckFieldPath(name[:posBegin])
		if err != nil {
			return err
		}
		f := &projField{kind: projInclude}
		if err := ps.addAtPath(parent, parts, f); err != nil {
			return err
		}
		ps.addPost(f, projPost{positional: true})
		ps.hasPositional = true
		ps.posName = name
		if len(fullPathToParent) > 0 {
			ps.posMatch = fullPathToParent[0]
		} else {
			ps.posMatch = parts[0]
		}
	}
	if !isTopID {
		if ps.typ == projTypeExclusion {
			return docErr(31253, "Cannot do inclusion on field %s in exclusion projection", name)
		}
		ps.typ = projTypeInclusion
	}
	return nil
}

func (ps *projParse) addPost(f *projField, post projPost) {
	if ps.fieldPosts == nil {
		ps.fieldPosts = map[*projField]projPost{}
	}
	ps.fieldPosts[f] = post
}

func (ps *projParse) parseExclusion(name string, parent *projNode) error {
	parts, err := projCheckFieldPath(name)
	if err != nil {
		return err
	}
	if err := ps.addAtPath(parent, parts, &projField{kind: projExclude}); err != nil {
		return err
	}
	if name == "_id" && parent == ps.root {
		ps.idExcluded = true
		return nil
	}
	if ps.typ == projTypeInclusion {
		return docErr(31254, "Cannot do exclusion on field %s in inclusion projection", name)
	}
	ps.typ = projTypeExclusion
	return nil
}

func (ps *projParse) parseLiteral(name string, v *dnode, parent *projNode) error {
	expr, err := compileExpression(v.value(), ps.opts.vars)
	if err != nil {
		return err
	}
	parts, err := projCheckFieldPath(name)
	if err != nil {
		return err
	}
	if err := ps.addAtPath(parent, parts, &projField{kind: projExpr, expr: expr}); err != nil {
		return err
	}
	if ps.typ == projTypeExclusion {
		return docErr(31310, "Cannot use an expression %s in an exclusion projection", dnFormatElem(name, v))
	}
	ps.typ = projTypeInclusion
	return nil
}

func (ps *projParse) parseSubObject(name string, obj *dnode, fullPathToParent []string, parent *projNode) error {
	obj.expand()
	parts, err := projCheckFieldPath(name)
	if err != nil {
		return err
	}
	if len(obj.kids) == 1 && strings.HasPrefix(obj.kids[0].name, "$") {
		handled, err := ps.parseSubObjectAsExpression(name, parts, obj, parent)
		if err != nil || handled {
			return err
		}
	}
	if len(obj.kids) == 0 {
		return docErr(51270, "An empty sub-projection is not a valid value. Found empty object at path %s", strings.Join(append(append([]string(nil), fullPathToParent...), parts...), "."))
	}
	// A sub-projection: {a: {b: 1}} is {"a.b": 1}.
	holder := &projField{kind: projChild, child: newProjNode()}
	if existing := ps.fieldAt(parent, parts); existing != nil && existing.kind == projChild {
		holder = existing
	} else if err := ps.addAtPath(parent, parts, holder); err != nil {
		return err
	}
	full := append(append([]string(nil), fullPathToParent...), parts...)
	for _, k := range obj.kids {
		if err := ps.parseElement(k.name, k.n, full, holder.child); err != nil {
			return err
		}
	}
	return nil
}

func (ps *projParse) fieldAt(parent *projNode, parts []string) *projField {
	cur := parent
	for i, p := range parts {
		f := cur.byName[p]
		if f == nil {
			return nil
		}
		if i == len(parts)-1 {
			return f
		}
		if f.kind != projChild {
			return nil
		}
		cur = f.child
	}
	return nil
}

// parseSubObjectAsExpression handles {field: {$op: ...}}: the find-only
// $slice and $elemMatch, $meta, and aggregation expressions.
func (ps *projParse) parseSubObjectAsExpression(name string, parts []string, obj *dnode, parent *projNode) (bool, error) {
	op := obj.kids[0].name
	arg := obj.kids[0].n
	findOp := op
	if ps.opts.agg {
		switch op {
		case "$elemMatch":
			return true, newError(codeInvalidPipelineOperator, "Cannot use $elemMatch in this context")
		case "$slice":
			findOp = "" // the aggregation $slice expression, not find's
		}
	}
	switch findOp {
	case "$slice":
		f, findErr := ps.parseFindSlice(arg)
		if findErr == nil {
			if err := ps.addAtPath(parent, parts, f); err != nil {
				return true, err
			}
			ps.hasFindSlice = true
			return true, nil
		}
		// Not the find() form: maybe the aggregation $slice expression.
		if _, exprErr := compileExpression(obj.value(), ps.opts.vars); exprErr != nil {
			code := int32(codeFailedToParse)
			reason := exprErr.Error()
			var e *Error
			if errAs(exprErr, &e) {
				code = e.Code
			}
			fe := findErr.(*Error)
			return true, docErr(code, "Invalid $slice syntax. The given syntax %s did not match the find() syntax because :: %s: %s :: The given syntax did not match the expression $slice syntax. :: caused by :: %s",
				dnFormatDoc(obj.value().Value), fe.Name, fe.Message, reason)
		}
	case "$elemMatch":
		if arg.t != bsontype.EmbeddedDocument {
			return true, docErr(31274, "elemMatch: Invalid argument, object required, but got %s", dnTypeName(arg.t))
		}
		if ps.hasPositional {
			return true, docErr(31255, "Cannot specify positional operator and $elemMatch.")
		}
		if len(parts) != 1 || parent != ps.root {
			return true, docErr(31275, "Cannot use $elemMatch projection on a nested field.")
		}
		for _, k := range func() []dnKid { arg.expand(); return arg.kids }() {
			switch k.name {
			case "$where", "$text", "$expr":
				return true, docErr(codeQueryFeatureNotAllowed, "%s is not allowed in this context", k.name)
			}
		}
		f, err := compileFilter(updWrap(name, obj), withCollation(nil, ps.opts.vars.collation()))
		if err != nil {
			return true, err
		}
		if err := ps.addAtPath(parent, parts, &projField{kind: projElemMatch, elem: f}); err != nil {
			return true, err
		}
		ps.hasElemMatch = true
		return true, nil
	case "$meta":
		return true, errNotSupported("the $meta projection")
	}
	// An aggregation expression makes the projection an inclusion.
	expr, err := compileExpression(obj.value(), ps.opts.vars)
	if err != nil {
		var e *Error
		if errAs(err, &e) && e.Code == codeInvalidPipelineOperator {
			return true, docErr(31325, "Unknown expression %s", op)
		}
		return true, err
	}
	if ps.typ == projTypeExclusion {
		return true, docErr(31252, "Cannot use expression other than $meta in exclusion projection")
	}
	ps.typ = projTypeInclusion
	if err := ps.addAtPath(parent, parts, &projField{kind: projExpr, expr: expr}); err != nil {
		return true, err
	}
	return true, nil
}

// parseFindSlice parses {$slice: n} or {$slice: [skip, limit]}.
func (ps *projParse) parseFindSlice(arg *dnode) (*projField, error) {
	f := &projField{kind: projInclude}
	post := projPost{}
	switch {
	case projIsNumber(arg.t):
		post.limit = projNumberInt(arg)
	case arg.t == bsontype.Array:
		arg.expand()
		if len(arg.kids) != 2 {
			return nil, docErr(31272, "$slice array argument should be of form [skip, limit]")
		}
		skip, limit := arg.kids[0].n, arg.kids[1].n
		if !projIsNumber(skip.t) {
			return nil, docErr(31257, "$slice expects the skip argument to be a number, got %s", dnTypeName(skip.t))
		}
		if !projIsNumber(limit.t) {
			return nil, docErr(31258, "$slice expects the limit argument to be a number, got %s", dnTypeName(limit.t))
		}
		if l := projNumberInt(limit); l <= 0 {
			return nil, docErr(31259, "$slice limit must be positive, got %d", l)
		}
		post.hasSkip = true
		post.skip = projNumberInt(skip)
		post.limit = projNumberInt(limit)
	default:
		return nil, docErr(31273, "$slice only supports numbers and [skip, limit] arrays")
	}
	ps.addPost(f, post)
	return f, nil
}

func projIsNumber(t bsontype.Type) bool {
	return t == bsontype.Int32 || t == bsontype.Int64 || t == bsontype.Double || t == bsontype.Decimal128
}

// projNumberInt is BSONElement::numberInt: doubles truncate (out-of-range
// values become the minimum int, as on x86), int64 wraps, decimals round.
func projNumberInt(v *dnode) int {
	n, _ := updNumFromValue(v.t, v.data)
	switch n.t {
	case bsontype.Int32:
		return int(n.i32)
	case bsontype.Int64:
		return int(int32(n.i64))
	case bsontype.Double:
		f := math.Trunc(n.f64)
		if math.IsNaN(f) || f > math.MaxInt32 || f < math.MinInt32 {
			return math.MinInt32
		}
		return int(f)
	}
	f := math.RoundToEven(udecToFloat(n.d))
	if math.IsNaN(f) || f > math.MaxInt32 || f < math.MinInt32 {
		return math.MinInt32
	}
	return int(f)
}

func errAs(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

// UsesPositional reports whether the projection has a positional path
// ("a.$"), whose array index comes from the query.
func (p *Projection) UsesPositional() bool { return p.posMatch != "" }

// CheckQuery checks that a positional projection refers to a field of the
// query, as the server does when it parses a find: "Positional projection
// 'a.$' does not match the query document." (code 31277).
func (p *Projection) CheckQuery(filter bson.Raw) error {
	if p.posMatch == "" {
		return nil
	}
	if len(filter) > 0 {
		if err := dnValidateDoc(filter, 0); err != nil {
			return err
		}
		if projQueryHasField(filter, p.posMatch) {
			return nil
		}
	}
	return docErr(31277, "Positional projection '%s' does not match the query document.", p.posName)
}

// projQueryHasField is hasPositionalOperatorMatch: a condition, possibly
// under $and/$or/$nor, whose path starts with field.
func projQueryHasField(filter []byte, field string) bool {
	d := dnFromValue(bsontype.EmbeddedDocument, filter)
	d.expand()
	for _, k := range d.kids {
		switch {
		case k.name == "$and" || k.name == "$or" || k.name == "$nor":
			if k.n.t != bsontype.Array {
				continue
			}
			k.n.expand()
			for _, sub := range k.n.kids {
				if sub.n.t == bsontype.EmbeddedDocument && projQueryHasField(sub.n.data, field) {
					return true
				}
			}
		case strings.HasPrefix(k.name, "$"):
		default:
			first := k.name
			if i := strings.IndexByte(first, '.'); i >= 0 {
				first = first[:i]
			}
			if first == field {
				return true
			}
		}
	}
	return false
}
