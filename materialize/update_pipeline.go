package materialize

import (
	"bytes"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file implements pipeline-style updates (MongoDB 4.2+): an update
// given as an array of aggregation stages, run on each matched document the
// way the server's PipelineExecutor does. The stages an update may use are
// $addFields (alias $set), $project, $unset (an exclusion $project),
// $replaceRoot and $replaceWith; their expressions are aggregation
// expressions (expr.go) and may read the command's let variables. The
// pipeline's output then replaces the document as a replacement update
// does (ObjectReplaceExecutor): the original _id is kept when the output has
// none, _id may not change, and, unlike a replacement document, top-level
// '$'-prefixed field names are allowed.

// updPipeline is a compiled pipeline-style update.
type updPipeline struct {
	stages []pipeStage
}

// pipeStage is one compiled stage: it transforms one document.
type pipeStage interface {
	apply(doc bson.Raw) (bson.Raw, error)
}

// updatePipelineStages are the stages the server accepts in an update
// (StageConstraints::isAllowedWithinUpdatePipeline).
var updatePipelineStages = map[string]bool{
	"$addFields": true, "$set": true, "$project": true, "$unset": true,
	"$replaceRoot": true, "$replaceWith": true,
}

// aggregationStageNames are the other stages the server knows: they parse,
// then fail with "$x is not allowed to be used within an update" (code 72);
// any other name is "Unrecognized pipeline stage name" (code 40324). $fill,
// which the server also runs in updates, is not supported.
var aggregationStageNames = map[string]bool{
	"$bucket": true, "$bucketAuto": true, "$changeStream": true, "$changeStreamSplitLargeEvent": true,
	"$collStats": true, "$count": true, "$currentOp": true, "$densify": true, "$documents": true,
	"$facet": true, "$fill": true, "$geoNear": true, "$graphLookup": true, "$group": true,
	"$indexStats": true, "$limit": true, "$listClusterCatalog": true, "$listLocalSessions": true,
	"$listSampledQueries": true, "$listSearchIndexes": true, "$listSessions": true, "$lookup": true,
	"$match": true, "$merge": true, "$out": true, "$planCacheStats": true, "$querySettings": true,
	"$queryStats": true, "$redact": true, "$sample": true, "$search": true, "$searchMeta": true,
	"$setWindowFields": true, "$shardedDataDistribution": true, "$skip": true, "$sort": true,
	"$sortByCount": true, "$unionWith": true, "$unwind": true, "$vectorSearch": true,
}

// codeInvalidOptions is error_codes.yml's InvalidOptions.
const codeInvalidOptions int32 = 72

// CompileUpdatePipeline compiles a pipeline-style update: pipeline is the
// BSON array of stages (bson.Raw of an array, as a driver marshals
// mongo.Pipeline). opts.Let supplies the variables the stages read as
// $$name; opts.ArrayFilters must be empty (code 9 "arrayFilters may not be
// specified for pipeline-style updates"). Stage errors are the server's:
// "Invalid $set :: caused by :: ..." for a stage that does not parse, 72
// InvalidOptions "$match is not allowed to be used within an update" for a
// stage an update cannot run, 40324 "Unrecognized pipeline stage name:
// '$foo'" for an unknown one. The returned Update is applied with Apply,
// like an operator update.
func CompileUpdatePipeline(pipeline bson.Raw, opts UpdateOptions) (*Update, error) {
	vars, err := ParseVariables(opts.Let)
	if err != nil {
		return nil, err
	}
	vars = withCollation(vars, opts.Collation)
	if len(opts.ArrayFilters) > 0 {
		return nil, errFailedToParse("arrayFilters may not be specified for pipeline-style updates")
	}
	if err := validateDocument(pipeline); err != nil {
		return nil, errFailedToParse("update pipeline is not valid BSON: %v", err)
	}
	p := &updPipeline{}
	notAllowed := ""
	var perr error
	iterElements(pipeline, func(_ string, v bson.RawValue) bool {
		spec, ok := v.DocumentOK()
		if !ok || v.Type != bsontype.EmbeddedDocument {
			perr = errTypeMismatch("Each element of the 'pipeline' array must be an object")
			return false
		}
		elems, _ := docElements(spec)
		if len(elems) != 1 {
			perr = errLocation(40323, "A pipeline stage specification object must contain exactly one field.")
			return false
		}
		name, arg := elems[0].key, elems[0].val
		switch {
		case updatePipelineStages[name]:
			st, err := parsePipeStage(name, arg, vars)
			if err != nil {
				perr = err
				return false
			}
			p.stages = append(p.stages, st)
		case name == "$fill":
			// The server runs $fill in an update (its constant form).
			perr = errNotSupported("the $fill stage in update pipelines")
			return false
		case aggregationStageNames[name]:
			if notAllowed == "" {
				notAllowed = name
			}
		default:
			perr = errLocation(40324, "Unrecognized pipeline stage name: '%s'", name)
			return false
		}
		return true
	})
	if perr != nil {
		return nil, perr
	}
	if notAllowed != "" {
		return nil, newError(codeInvalidOptions, "%s is not allowed to be used within an update", notAllowed)
	}
	return &Update{pipeline: p}, nil
}

// parsePipeStage compiles one stage an update may run.
func parsePipeStage(name string, arg bson.RawValue, vars *Variables) (pipeStage, error) {
	switch name {
	case "$addFields", "$set":
		if arg.Type != bsontype.EmbeddedDocument {
			return nil, errLocation(40272, "%s specification stage must be an object, got %s", name, typeName(arg.Type))
		}
		spec, _ := arg.DocumentOK()
		st, err := parseAddFields(spec, vars)
		return st, stageParseError(name, err)
	case "$project":
		if arg.Type != bsontype.EmbeddedDocument {
			return nil, errLocation(15969, "$project specification must be an object")
		}
		spec, _ := arg.DocumentOK()
		p, err := compileProjection(bson.Raw(spec), projOptions{agg: true, vars: vars})
		if err != nil {
			return nil, stageParseError(name, err)
		}
		return &projectStage{p: p}, nil
	case "$unset":
		spec, err := unsetProjection(arg)
		if err != nil {
			return nil, err
		}
		p, err := compileProjection(spec, projOptions{agg: true, vars: vars})
		if err != nil {
			return nil, stageParseError(name, err)
		}
		return &projectStage{p: p}, nil
	case "$replaceRoot":
		if arg.Type != bsontype.EmbeddedDocument {
			return nil, errLocation(40229, "expected an object as specification for $replaceRoot stage, got %s", typeName(arg.Type))
		}
		spec, _ := arg.DocumentOK()
		var newRoot *bson.RawValue
		var perr error
		iterElements(spec, func(key string, v bson.RawValue) bool {
			if key != "newRoot" {
				perr = errLocation(40415, "BSON field '$replaceRoot.%s' is an unknown field.", key)
				return false
			}
			vv := v
			newRoot = &vv
			return true
		})
		if perr != nil {
			return nil, perr
		}
		if newRoot == nil {
			return nil, errLocation(40414, "BSON field '$replaceRoot.newRoot' is missing but a required field")
		}
		expr, err := compileExpression(*newRoot, vars)
		if err != nil {
			return nil, err
		}
		return &replaceRootStage{expr: expr, what: "'newRoot' expression "}, nil
	default: // $replaceWith
		expr, err := compileExpression(arg, vars)
		if err != nil {
			return nil, err
		}
		return &replaceRootStage{expr: expr, what: "'replacement document' "}, nil
	}
}

// stageParseError adds the server's context to an error parsing a stage:
// "Invalid $set :: caused by :: <message>", with the code kept.
func stageParseError(stage string, err error) error {
	e, ok := err.(*Error)
	if !ok || e.Code == codeNotImplemented {
		return err
	}
	return &Error{Code: e.Code, Name: e.Name, Message: "Invalid " + stage + " :: caused by :: " + e.Message}
}

// unsetProjection turns a $unset specification ("a" or ["a", "b.c"]) into
// the exclusion projection it stands for.
func unsetProjection(arg bson.RawValue) (bson.Raw, error) {
	var names []string
	switch arg.Type {
	case bsontype.String:
		s, _ := arg.StringValueOK()
		names = []string{s}
	case bsontype.Array:
		arr, _ := arg.ArrayOK()
		var perr error
		iterElements(arr, func(_ string, v bson.RawValue) bool {
			s, ok := v.StringValueOK()
			if !ok {
				perr = errLocation(31120, "$unset specification must be a string or an array containing only string values")
				return false
			}
			names = append(names, s)
			return true
		})
		if perr != nil {
			return nil, perr
		}
		if len(names) == 0 {
			return nil, errLocation(31119, "$unset specification must be a string or an array with at least one field")
		}
	default:
		return nil, errLocation(31002, "$unset specification must be a string or an array")
	}
	d := bson.D{}
	for _, n := range names {
		if strings.IndexByte(n, 0) >= 0 {
			return nil, errLocation(16411, "FieldPath field names may not contain '\\0'.")
		}
		d = append(d, bson.E{Key: n, Value: int32(0)})
	}
	out, err := bson.Marshal(d)
	if err != nil {
		return nil, errFailedToParse("$unset: %v", err)
	}
	return out, nil
}

// ---- $addFields / $set ------------------------------------------------------

// addFieldsStage sets computed fields, keeping every other field: the
// server's AddFieldsProjectionExecutor.
type addFieldsStage struct {
	root *projNode
}

func (s *addFieldsStage) apply(doc bson.Raw) (bson.Raw, error) {
	d, err := dnParseDoc(doc)
	if err != nil {
		return nil, err
	}
	out, err := projExprPass(s.root, doc, d)
	if err != nil {
		return nil, err
	}
	return bson.Raw(out.appendValue(nil)), nil
}

// addFieldsParse builds the tree of an $addFields specification.
type addFieldsParse struct {
	spec []byte
	vars *Variables
	seen []string // full paths, for conflicts
	root *projNode
}

// parseAddFields validates spec as ProjectionSpecValidator does (paths
// that conflict, expression objects with more than one field, dotted names
// in sub-objects), then builds the tree: {a: {b: 1}} sets a.b and keeps
// a's other fields, {a: {$op: ...}} and {a: <value>} set a, {a: {}} sets a
// to an empty document.
func parseAddFields(spec []byte, vars *Variables) (*addFieldsStage, error) {
	ps := &addFieldsParse{spec: spec, vars: vars, root: newProjNode()}
	elems, _ := docElements(spec)
	for _, el := range elems {
		if err := ps.validate(el.key, el.val); err != nil {
			return nil, err
		}
	}
	for _, el := range elems {
		parts, err := aggFieldPath(el.key)
		if err != nil {
			return nil, err
		}
		if err := ps.parseValue(parts, el.val); err != nil {
			return nil, err
		}
	}
	projMarkComputed(ps.root)
	return &addFieldsStage{root: ps.root}, nil
}

// aggFieldPath is the server's FieldPath constructor.
func aggFieldPath(path string) ([]string, error) {
	if path == "" {
		return nil, errLocation(40352, "FieldPath cannot be constructed with empty string")
	}
	return validateFieldPathParts(path, path)
}

func (ps *addFieldsParse) validate(path string, v bson.RawValue) error {
	if _, err := aggFieldPath(path); err != nil {
		return err
	}
	if v.Type != bsontype.EmbeddedDocument {
		return ps.checkConflict(path)
	}
	sub, _ := v.DocumentOK()
	elems, _ := docElements(sub)
	for _, el := range elems {
		if strings.HasPrefix(el.key, "$") {
			if len(elems) != 1 {
				return errLocation(40181, "an expression specification must contain exactly one field, the name of the expression. Found %d fields in %s, while parsing object %s",
					len(elems), docString(sub), docString(ps.spec))
			}
			return ps.checkConflict(path)
		}
		if strings.Contains(el.key, ".") {
			return errLocation(40183, "cannot use dotted field name '%s' in a sub object: %s", el.key, docString(ps.spec))
		}
		if err := ps.validate(path+"."+el.key, el.val); err != nil {
			return err
		}
	}
	return nil
}

// checkConflict fails when path equals, or is a prefix of, or extends, a
// path seen before.
func (ps *addFieldsParse) checkConflict(path string) error {
	for _, s := range ps.seen {
		if s == path || strings.HasPrefix(path, s+".") || strings.HasPrefix(s, path+".") {
			return errLocation(40176, "specification contains two conflicting paths. Cannot specify both '%s' and '%s': %s", path, s, docString(ps.spec))
		}
	}
	ps.seen = append(ps.seen, path)
	return nil
}

// parseValue adds the value v set at parts.
func (ps *addFieldsParse) parseValue(parts []string, v bson.RawValue) error {
	if v.Type == bsontype.EmbeddedDocument {
		sub, _ := v.DocumentOK()
		elems, _ := docElements(sub)
		if len(elems) > 0 && !strings.HasPrefix(elems[0].key, "$") {
			for _, el := range elems {
				if err := validateFieldName(el.key); err != nil {
					return err
				}
				if err := ps.parseValue(append(parts[:len(parts):len(parts)], el.key), el.val); err != nil {
					return err
				}
			}
			return nil
		}
	}
	expr, err := compileExpression(v, ps.vars)
	if err != nil {
		return err
	}
	ps.addExpr(parts, expr)
	return nil
}

// addExpr places expr at parts in the tree, creating the levels above it.
func (ps *addFieldsParse) addExpr(parts []string, expr Expression) {
	n := ps.root
	for _, p := range parts[:len(parts)-1] {
		f := n.byName[p]
		if f == nil || f.kind != projChild {
			f = &projField{name: p, kind: projChild, child: newProjNode()}
			n.add(f)
		}
		n = f.child
	}
	n.add(&projField{name: parts[len(parts)-1], kind: projExpr, expr: expr})
}

// ---- $project / $unset --------------------------------------------------------

// projectStage is an aggregation $project (or $unset).
type projectStage struct {
	p *Projection
}

func (s *projectStage) apply(doc bson.Raw) (bson.Raw, error) { return s.p.Apply(doc, -1) }

// ---- $replaceRoot / $replaceWith --------------------------------------------

// replaceRootStage replaces the document by the value of an expression,
// which must be a document.
type replaceRootStage struct {
	expr Expression
	what string // how the error names the expression
}

func (s *replaceRootStage) apply(doc bson.Raw) (bson.Raw, error) {
	v, err := s.expr.Eval(doc)
	if err != nil {
		return nil, err
	}
	d, ok := v.DocumentOK()
	if !ok || v.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(40228, "%smust evaluate to an object, but resulting value was: %s. Type of resulting value: '%s'. Input document: %s",
			s.what, aggValueString(v), exprTypeName(v), aggValueString(bson.RawValue{Type: bsontype.EmbeddedDocument, Value: doc}))
	}
	return bson.Raw(d), nil
}

// aggValueString renders a value the way the aggregation layer's
// Value::toString does in messages: {a: 1, b: "x"}, [1, 2], MISSING.
func aggValueString(v bson.RawValue) string {
	var sb strings.Builder
	writeAggValue(&sb, v)
	return sb.String()
}

func writeAggValue(sb *strings.Builder, v bson.RawValue) {
	switch v.Type {
	case 0:
		sb.WriteString("MISSING")
	case bsontype.EmbeddedDocument, bsontype.Array:
		open, closing := "{", "}"
		if v.Type == bsontype.Array {
			open, closing = "[", "]"
		}
		sb.WriteString(open)
		first := true
		iterElements(v.Value, func(key string, e bson.RawValue) bool {
			if !first {
				sb.WriteString(", ")
			}
			first = false
			if v.Type == bsontype.EmbeddedDocument {
				sb.WriteString(key)
				sb.WriteString(": ")
			}
			writeAggValue(sb, e)
			return true
		})
		sb.WriteString(closing)
	default:
		writeValueString(sb, v, 0)
	}
}

// ---- applying ----------------------------------------------------------------

// applyPipeline runs the pipeline on doc and stores its output the way
// ObjectReplaceExecutor does with top-level '$' fields allowed. The update
// is a no-op when the output is byte-for-byte the input.
func (u *Update) applyPipeline(doc bson.Raw, ctx ApplyContext) (bson.Raw, bool, error) {
	cur := doc
	for _, st := range u.pipeline.stages {
		next, err := st.apply(cur)
		if err != nil {
			return nil, false, err
		}
		cur = next
	}
	if bytes.Equal(cur, doc) {
		return doc, false, nil
	}
	root, err := dnParseDoc(doc)
	if err != nil {
		return nil, false, err
	}
	out, err := updReplaceDoc(root, dnFromValue(bsontype.EmbeddedDocument, cur), doc, cur, true)
	if err != nil {
		if ctx.IsUpsertInsert {
			if e, ok := err.(*Error); ok && e.Code == 17419 {
				return nil, false, docErr(17420, "Document to upsert is larger than %d", dnMaxUserDocSize)
			}
		}
		return nil, false, err
	}
	return out, true, nil
}
