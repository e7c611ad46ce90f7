package materialize

import (
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file holds $unwind, $facet and the stages that read other
// collections: $lookup and $unionWith.

// ---- $unwind -------------------------------------------------------------------

type unwindStage struct {
	path     string
	parts    []string
	index    string // includeArrayIndex, "" for none
	preserve bool
}

func compileUnwind(arg bson.RawValue) (aggStage, error) {
	s := &unwindStage{}
	var path string
	switch arg.Type {
	case bsontype.String:
		path, _ = arg.StringValueOK()
	case bsontype.EmbeddedDocument:
		d, _ := arg.DocumentOK()
		havePath := false
		var perr error
		iterElements(d, func(key string, v bson.RawValue) bool {
			switch key {
			case "path":
				p, ok := v.StringValueOK()
				if !ok {
					perr = errLocation(28808, "expected a string as the path for $unwind stage, got %s", typeName(v.Type))
					return false
				}
				path, havePath = p, true
			case "includeArrayIndex":
				p, ok := v.StringValueOK()
				if !ok {
					perr = errLocation(28810, "expected a non-empty string for the includeArrayIndex option to $unwind stage")
					return false
				}
				if p == "" {
					perr = errLocation(28810, "expected a non-empty string for the includeArrayIndex option to $unwind stage")
					return false
				}
				if strings.HasPrefix(p, "$") {
					perr = errLocation(28822, "includeArrayIndex option to $unwind stage should not be prefixed with a '$': %s", p)
					return false
				}
				if _, err := aggFieldPath(p); err != nil {
					perr = err
					return false
				}
				s.index = p
			case "preserveNullAndEmptyArrays":
				if v.Type != bsontype.Boolean {
					perr = errLocation(28809, "expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage, got %s", typeName(v.Type))
					return false
				}
				s.preserve = v.Boolean()
			default:
				perr = errLocation(28811, "unrecognized option to $unwind stage: %s", key)
				return false
			}
			return true
		})
		if perr != nil {
			return nil, perr
		}
		if !havePath {
			return nil, errLocation(28812, "no path specified to $unwind stage")
		}
	default:
		return nil, errLocation(15981, "expected either a string or an object as specification for $unwind stage, got %s", typeName(arg.Type))
	}
	if path == "" {
		return nil, errLocation(40719, "no path specified to $unwind stage")
	}
	if !strings.HasPrefix(path, "$") {
		return nil, errLocation(28818, "path option to $unwind stage should be prefixed with a '$': %s", path)
	}
	parts, err := aggFieldPath(path[1:])
	if err != nil {
		return nil, err
	}
	s.path, s.parts = path[1:], parts
	return s, nil
}

// nestedValue follows parts through embedded documents only (no array
// traversal), as Document::getNestedField does.
func nestedValue(doc []byte, parts []string) bson.RawValue {
	v := bson.RawValue{Type: bsontype.EmbeddedDocument, Value: doc}
	for _, p := range parts {
		d, ok := v.DocumentOK()
		if !ok || v.Type != bsontype.EmbeddedDocument {
			return bson.RawValue{}
		}
		v, ok = lookupField(d, p)
		if !ok {
			return bson.RawValue{}
		}
	}
	return v
}

func (s *unwindStage) run(in DocSeq, _ *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			if !s.unwind(d, yield) {
				return
			}
		}
	}
}

func (s *unwindStage) emit(d bson.Raw, v *bson.RawValue, remove bool, index bson.RawValue, yield func(bson.Raw, error) bool) bool {
	if v == nil && !remove && s.index == "" {
		return yield(d, nil)
	}
	md, err := NewMutableDocument(d)
	if err == nil && v != nil {
		err = md.Set(s.path, *v)
	}
	if err == nil && remove {
		_, err = md.Unset(s.path)
	}
	if err == nil && s.index != "" {
		err = md.Set(s.index, index)
	}
	if err != nil {
		yield(nil, err)
		return false
	}
	return yield(md.Raw(), nil)
}

func (s *unwindStage) unwind(d bson.Raw, yield func(bson.Raw, error) bool) bool {
	v := nestedValue(d, s.parts)
	if v.Type != bsontype.Array {
		if v.Type == 0 || v.Type == bsontype.Null || v.Type == bsontype.Undefined {
			if !s.preserve {
				return true
			}
		}
		return s.emit(d, nil, false, valNull(), yield)
	}
	arr, _ := v.ArrayOK()
	elems, _ := docElements(arr)
	if len(elems) == 0 {
		if !s.preserve {
			return true
		}
		return s.emit(d, nil, true, valNull(), yield)
	}
	for i, el := range elems {
		e := el.val
		if !s.emit(d, &e, false, valInt64(int64(i)), yield) {
			return false
		}
	}
	return true
}

// ---- $facet --------------------------------------------------------------------

type facetStage struct {
	names []string
	pipes [][]aggStage
}

// facetForbidden are stages a $facet sub-pipeline may not contain.
var facetForbidden = map[string]bool{
	"$collStats": true, "$facet": true, "$geoNear": true, "$indexStats": true, "$out": true,
	"$merge": true, "$planCacheStats": true, "$search": true, "$documents": true,
}

func compileFacet(arg bson.RawValue, vars *Variables, depth int) (aggStage, error) {
	spec, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(15947, "the $facet specification must be a non-empty object")
	}
	elems, _ := docElements(spec)
	if len(elems) == 0 {
		return nil, errLocation(40169, "the $facet specification must be a non-empty object")
	}
	f := &facetStage{}
	for _, el := range elems {
		if _, err := aggFieldPath(el.key); err != nil {
			return nil, err
		}
		arr, ok := el.val.ArrayOK()
		if !ok || el.val.Type != bsontype.Array {
			return nil, errLocation(40170, "arguments to $facet must be arrays, %s is type %s", el.key, typeName(el.val.Type))
		}
		stageElems, _ := docElements(arr)
		if len(stageElems) == 0 {
			return nil, errLocation(40171, "sub-pipeline in $facet stage cannot be empty: %s", el.key)
		}
		for _, se := range stageElems {
			if d, ok := se.val.DocumentOK(); ok && se.val.Type == bsontype.EmbeddedDocument {
				if first, ok := firstElement(d); ok && facetForbidden[first.key] {
					return nil, errLocation(40600, "%s is not allowed to be used within a $facet stage", first.key)
				}
			}
		}
		stages, _, err := compileStages(arr, vars, depth+1)
		if err != nil {
			return nil, err
		}
		f.names = append(f.names, el.key)
		f.pipes = append(f.pipes, stages)
	}
	return f, nil
}

func (s *facetStage) run(in DocSeq, env *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		docs, err := CollectSeq(in)
		if err != nil {
			yield(nil, err)
			return
		}
		vals := make([]bson.RawValue, len(s.pipes))
		for i, p := range s.pipes {
			out, err := CollectSeq(runStages(p, SliceSeq(docs), env))
			if err != nil {
				yield(nil, err)
				return
			}
			vals[i] = docsArray(out)
		}
		yield(buildDoc(s.names, vals), nil)
	}
}

// docsArray makes an array value of documents.
func docsArray(docs []bson.Raw) bson.RawValue {
	vals := make([]bson.RawValue, len(docs))
	for i, d := range docs {
		vals[i] = bson.RawValue{Type: bsontype.EmbeddedDocument, Value: d}
	}
	return makeArray(vals)
}

// ---- $lookup -------------------------------------------------------------------

// checkSubPipeline rejects $out and $merge in a $lookup or $unionWith
// sub-pipeline, with the server's codes.
func checkSubPipeline(pipeline []byte, code int32, format string) error {
	for _, el := range mustElements(pipeline) {
		if d, ok := el.val.DocumentOK(); ok && el.val.Type == bsontype.EmbeddedDocument {
			if first, ok := firstElement(d); ok && (first.key == "$out" || first.key == "$merge") {
				return errLocation(code, format, first.key)
			}
		}
	}
	return nil
}

type lookupStage struct {
	from         string
	as           string
	localField   []string
	foreignField string
	letNames     []string
	letExprs     []Expression
	pipeline     []byte // raw sub-pipeline, compiled per document when let is used
	compiled     []aggStage
	vars         *Variables
	depth        int
}

func compileLookup(arg bson.RawValue, vars *Variables, depth int) (aggStage, error) {
	spec, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(40319, "the $lookup stage specification must be an object, but found %s", typeName(arg.Type))
	}
	s := &lookupStage{vars: vars, depth: depth}
	var local, foreign *string
	havePipeline := false
	var letDoc []byte
	var perr error
	iterElements(spec, func(key string, v bson.RawValue) bool {
		if key == "let" {
			d, ok := v.DocumentOK()
			if !ok || v.Type != bsontype.EmbeddedDocument {
				perr = errLocation(ErrCodeFailedToParse, "$lookup argument 'let' must be an object, is type %s", typeName(v.Type))
				return false
			}
			letDoc = d
			return true
		}
		if key == "pipeline" {
			arr, ok := v.ArrayOK()
			if !ok || v.Type != bsontype.Array {
				perr = errLocation(ErrCodeFailedToParse, "$lookup argument 'pipeline' must be an array, is type %s", typeName(v.Type))
				return false
			}
			s.pipeline, havePipeline = arr, true
			return true
		}
		str, ok := v.StringValueOK()
		if !ok {
			perr = errLocation(ErrCodeFailedToParse, "$lookup argument '%s' must be a string, is type %s", elemString(key, v), typeName(v.Type))
			return false
		}
		switch key {
		case "from":
			s.from = str
		case "as":
			s.as = str
		case "localField":
			local = &str
		case "foreignField":
			foreign = &str
		default:
			perr = errLocation(ErrCodeFailedToParse, "unknown argument to $lookup: %s", key)
			return false
		}
		return true
	})
	if perr != nil {
		return nil, perr
	}
	if s.as == "" {
		return nil, errLocation(ErrCodeFailedToParse, "must specify 'as' field for a $lookup")
	}
	if _, err := aggFieldPath(s.as); err != nil {
		return nil, err
	}
	if s.from == "" {
		return nil, errLocation(ErrCodeFailedToParse, "must specify 'from' field for a $lookup")
	}
	if (local == nil) != (foreign == nil) {
		return nil, errLocation(ErrCodeFailedToParse, "$lookup requires both or neither of 'localField' and 'foreignField' to be specified")
	}
	if local == nil && !havePipeline {
		return nil, errLocation(ErrCodeFailedToParse, "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified")
	}
	if local != nil {
		lp, err := aggFieldPath(*local)
		if err != nil {
			return nil, err
		}
		if _, err := aggFieldPath(*foreign); err != nil {
			return nil, err
		}
		s.localField, s.foreignField = lp, *foreign
	}
	if len(letDoc) > 0 {
		elems, _ := docElements(letDoc)
		for _, el := range elems {
			if err := validateLetName(el.key); err != nil {
				return nil, err
			}
			e, err := compileExpression(el.val, vars)
			if err != nil {
				return nil, err
			}
			s.letNames = append(s.letNames, el.key)
			s.letExprs = append(s.letExprs, e)
		}
	}
	if havePipeline {
		if err := checkSubPipeline(s.pipeline, 51047, "%s is not allowed to be used within a $lookup stage"); err != nil {
			return nil, err
		}
		// Compile once with the let variables bound to null, to report
		// errors before any document is read.
		stages, _, err := compileStages(s.pipeline, s.withLet(nil), depth+1)
		if err != nil {
			return nil, err
		}
		s.compiled = stages
	}
	return s, nil
}

// withLet returns the variables of the sub-pipeline: the outer ones plus
// let's, with the values vals (nil: null).
func (s *lookupStage) withLet(vals []bson.RawValue) *Variables {
	if len(s.letNames) == 0 {
		return s.vars
	}
	next := make(map[string]bson.RawValue, len(s.vars.values())+len(s.letNames))
	for k, v := range s.vars.values() {
		next[k] = v
	}
	for i, name := range s.letNames {
		if vals == nil {
			next[name] = valNull()
		} else {
			next[name] = vals[i]
		}
	}
	return &Variables{vals: next, coll: s.vars.collation()}
}

// ErrCodeFailedToParse is the server's FailedToParse code (9).
const ErrCodeFailedToParse int32 = 9

func (s *lookupStage) run(in DocSeq, env *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		var foreign []bson.Raw
		var hash *lookupHash
		loaded := false
		memo := map[string][]bson.Raw{} // equality matches by local values
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			if !loaded {
				foreign, err = resolveColl(env, s.from)
				if err != nil {
					yield(nil, err)
					return
				}
				loaded = true
				// The hash buckets values by their bytes, which is equality
				// only under the simple collation; others scan.
				if s.localField != nil && s.vars.collation() == nil {
					hash = newLookupHash(foreign, s.foreignField)
				}
			}
			matches := foreign
			if s.localField != nil {
				matches, err = s.equalityMatches(d, foreign, hash, memo)
				if err != nil {
					yield(nil, err)
					return
				}
			}
			if s.pipeline != nil {
				stages := s.compiled
				if len(s.letNames) > 0 {
					vals := make([]bson.RawValue, len(s.letExprs))
					for i, e := range s.letExprs {
						v, err := e.Eval(d)
						if err != nil {
							yield(nil, err)
							return
						}
						vals[i] = v
					}
					stages, _, err = compileStages(s.pipeline, s.withLet(vals), s.depth+1)
					if err != nil {
						yield(nil, err)
						return
					}
				}
				matches, err = CollectSeq(runStages(stages, SliceSeq(matches), env))
				if err != nil {
					yield(nil, err)
					return
				}
			}
			md, err := NewMutableDocument(d)
			if err == nil {
				err = md.Set(s.as, docsArray(matches))
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(md.Raw(), nil) {
				return
			}
		}
	}
}

// equalityMatches returns the foreign documents whose foreignField equals
// the local value (or one of its elements, when it is an array), with
// null matching null and missing, as the server's $lookup does.
// hash (nil: none) narrows the documents checked.
func (s *lookupStage) equalityMatches(d bson.Raw, foreign []bson.Raw, hash *lookupHash, memo map[string][]bson.Raw) ([]bson.Raw, error) {
	local := evaluateFieldPath(d, s.localField)
	var vals []bson.RawValue
	switch local.Type {
	case 0:
		vals = []bson.RawValue{valNull()}
	case bsontype.Array:
		arr, _ := local.ArrayOK()
		iterElements(arr, func(_ string, e bson.RawValue) bool {
			vals = append(vals, e)
			return true
		})
		if len(vals) == 0 {
			vals = []bson.RawValue{valNull()}
		}
	default:
		vals = []bson.RawValue{local}
	}
	in := makeArray(vals)
	// The key is the exact bytes of the values: equal keys always have
	// equal matches (1 and 1.0 just get two entries).
	key := string(in.Value)
	if m, ok := memo[key]; ok {
		return m, nil
	}
	filter := buildDoc([]string{s.foreignField}, []bson.RawValue{
		{Type: bsontype.EmbeddedDocument, Value: buildDoc([]string{"$in"}, []bson.RawValue{in})}})
	f, err := compileFilter(filter, withCollation(nil, s.vars.collation()))
	if err != nil {
		return nil, err
	}
	var out []bson.Raw
	check := func(fd bson.Raw) error {
		ok, err := f.Match(fd)
		if ok {
			out = append(out, fd)
		}
		return err
	}
	if cands, ok := hash.candidates(vals); ok {
		for _, i := range cands {
			if err := check(foreign[i]); err != nil {
				return nil, err
			}
		}
	} else {
		for _, fd := range foreign {
			if err := check(fd); err != nil {
				return nil, err
			}
		}
	}
	if len(memo) < maxLookupMemo {
		memo[key] = out
	}
	return out, nil
}

// maxLookupMemo bounds the distinct local values whose matches one
// $lookup remembers.
const maxLookupMemo = 4096

// resolveColl reads another collection through the resolver.
func resolveColl(env *aggEnv, coll string) ([]bson.Raw, error) {
	if env.opts.Resolve == nil {
		return nil, nil
	}
	seq, err := env.opts.Resolve(coll)
	if err != nil {
		return nil, err
	}
	if seq == nil {
		return nil, nil
	}
	return CollectSeq(seq)
}

// ---- $unionWith ----------------------------------------------------------------

type unionWithStage struct {
	coll   string
	stages []aggStage
}

func compileUnionWith(arg bson.RawValue, vars *Variables, depth int) (aggStage, error) {
	s := &unionWithStage{}
	switch arg.Type {
	case bsontype.String:
		s.coll, _ = arg.StringValueOK()
	case bsontype.EmbeddedDocument:
		d, _ := arg.DocumentOK()
		var perr error
		var pipeline []byte
		iterElements(d, func(key string, v bson.RawValue) bool {
			switch key {
			case "coll":
				str, ok := v.StringValueOK()
				if !ok {
					perr = errTypeMismatch("BSON field '$unionWith.coll' is the wrong type '%s', expected type 'string'", typeName(v.Type))
					return false
				}
				s.coll = str
			case "pipeline":
				arr, ok := v.ArrayOK()
				if !ok || v.Type != bsontype.Array {
					perr = errTypeMismatch("BSON field '$unionWith.pipeline' is the wrong type '%s', expected type 'array'", typeName(v.Type))
					return false
				}
				pipeline = arr
			default:
				perr = errLocation(40415, "BSON field '$unionWith.%s' is an unknown field.", key)
				return false
			}
			return true
		})
		if perr != nil {
			return nil, perr
		}
		if s.coll == "" && pipeline == nil {
			return nil, errLocation(40414, "BSON field '$unionWith.coll' is missing but a required field")
		}
		if pipeline != nil {
			if err := checkSubPipeline(pipeline, 31441, "%s is not allowed within a $unionWith's sub-pipeline"); err != nil {
				return nil, err
			}
			stages, _, err := compileStages(pipeline, vars, depth+1)
			if err != nil {
				return nil, err
			}
			s.stages = stages
		}
	default:
		return nil, errLocation(ErrCodeFailedToParse, "the $unionWith stage specification must be an object or string, but found %s", typeName(arg.Type))
	}
	return s, nil
}

func (s *unionWithStage) run(in DocSeq, env *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		for d, err := range in {
			if !yield(d, err) || err != nil {
				return
			}
		}
		var docs []bson.Raw
		if s.coll != "" {
			var err error
			docs, err = resolveColl(env, s.coll)
			if err != nil {
				yield(nil, err)
				return
			}
		}
		for d, err := range runStages(s.stages, SliceSeq(docs), env) {
			if !yield(d, err) || err != nil {
				return
			}
		}
	}
}
