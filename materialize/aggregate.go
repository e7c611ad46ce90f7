package materialize

import (
	"iter"
	"math/rand"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// This file is the in-process aggregation pipeline: a compiler from the
// BSON array of stages to a chain of stages, and an executor over
// iterators of documents. Stages that look at one document at a time
// ($match, $project, $addFields/$set, $unset, $replaceRoot/$replaceWith,
// $unwind, $limit, $skip, $lookup, $unionWith) stream; the others ($sort,
// $group, $count, $sortByCount, $facet, $bucket, $sample) consume their
// input first. Stages that read other collections ($lookup, $unionWith)
// get them from AggregateOptions.Resolve.

// DocSeq is a stream of documents; a non-nil error ends it.
type DocSeq = iter.Seq2[bson.Raw, error]

// SliceSeq returns a DocSeq over docs.
func SliceSeq(docs []bson.Raw) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		for _, d := range docs {
			if !yield(d, nil) {
				return
			}
		}
	}
}

// CollectSeq drains seq into a slice.
func CollectSeq(seq DocSeq) ([]bson.Raw, error) {
	var out []bson.Raw
	for d, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// errSeq is a stream that fails at once.
func errSeq(err error) DocSeq {
	return func(yield func(bson.Raw, error) bool) { yield(nil, err) }
}

// Resolver returns the documents of another collection of the same
// database (in natural order), for $lookup and $unionWith. A collection
// that does not exist has no documents.
type Resolver func(coll string) (DocSeq, error)

// AggregateOptions configure CompileAggregate. The zero value has no let
// variables, no other collections and a fixed $sample seed.
type AggregateOptions struct {
	// Let is the command's let document (see ParseVariables).
	Let bson.Raw
	// Resolve reads other collections; nil: $lookup and $unionWith see
	// empty collections.
	Resolve Resolver
	// Seed seeds $sample's random choice (default 0: a fixed seed, so
	// runs are reproducible).
	Seed int64
	// Collation is the command's collation (nil: simple): every stage
	// compares strings with it ($match, $sort, $group keys and
	// accumulators, $bucket, $lookup, expressions).
	Collation *Collation
}

// Pipeline is a compiled aggregation pipeline. It is immutable and safe for
// concurrent use; each Run has its own state.
type Pipeline struct {
	stages []aggStage
	source bool // the first stage ($documents) ignores the input
	opts   AggregateOptions
}

// aggEnv is the state of one run.
type aggEnv struct {
	opts AggregateOptions
	rnd  *rand.Rand
}

// aggStage is one compiled stage.
type aggStage interface {
	run(in DocSeq, env *aggEnv) DocSeq
}

// CompileAggregate compiles the pipeline (a BSON array of stage documents,
// as a driver marshals mongo.Pipeline). Errors are the server's: 40324
// "Unrecognized pipeline stage name: '$foo'", 40323 for a stage document
// with other than one field, 14 for a stage that is not a document, and the
// stages' own parse errors.
func CompileAggregate(pipeline bson.Raw, opts AggregateOptions) (*Pipeline, error) {
	vars, err := ParseVariables(opts.Let)
	if err != nil {
		return nil, err
	}
	vars = withCollation(vars, opts.Collation)
	if err := validateDocument(pipeline); err != nil {
		return nil, errFailedToParse("pipeline is not valid BSON: %v", err)
	}
	stages, source, err := compileStages(pipeline, vars, 0)
	if err != nil {
		return nil, err
	}
	return &Pipeline{stages: stages, source: source, opts: opts}, nil
}

// IsSourcePipeline reports whether the pipeline starts with a stage that
// makes its own documents ($documents), so that it needs no collection.
func (p *Pipeline) IsSourcePipeline() bool { return p.source }

// WithResolver returns a copy of p that reads other collections through r.
func (p *Pipeline) WithResolver(r Resolver) *Pipeline {
	q := *p
	q.opts.Resolve = r
	return &q
}

// Run runs the pipeline over in.
func (p *Pipeline) Run(in DocSeq) DocSeq {
	env := &aggEnv{opts: p.opts, rnd: rand.New(rand.NewSource(p.opts.Seed))}
	return runStages(p.stages, in, env)
}

// RunSlice runs the pipeline over docs and collects its output.
func (p *Pipeline) RunSlice(docs []bson.Raw) ([]bson.Raw, error) {
	return CollectSeq(p.Run(SliceSeq(docs)))
}

func runStages(stages []aggStage, in DocSeq, env *aggEnv) DocSeq {
	for _, st := range stages {
		in = st.run(in, env)
	}
	return in
}

// maxPipelineDepth bounds nested pipelines ($facet, $lookup, $unionWith).
const maxPipelineDepth = 20

// compileStages compiles an array of stages at nesting depth.
func compileStages(pipeline []byte, vars *Variables, depth int) ([]aggStage, bool, error) {
	if depth > maxPipelineDepth {
		return nil, false, errBadValue("pipelines are nested deeper than argon's limit of %d levels", maxPipelineDepth)
	}
	var stages []aggStage
	source := false
	elems, ok := docElements(pipeline)
	if !ok {
		return nil, false, errFailedToParse("invalid pipeline")
	}
	for i, el := range elems {
		spec, ok := el.val.DocumentOK()
		if !ok || el.val.Type != bsontype.EmbeddedDocument {
			return nil, false, errTypeMismatch("Each element of the 'pipeline' array must be an object")
		}
		sel, _ := docElements(spec)
		if len(sel) != 1 {
			return nil, false, errLocation(40323, "A pipeline stage specification object must contain exactly one field.")
		}
		name, arg := sel[0].key, sel[0].val
		if name == "$documents" {
			if i != 0 {
				return nil, false, errLocation(40602, "$documents is only valid as the first stage in a pipeline")
			}
			source = true
		}
		st, err := compileStage(name, arg, vars, depth)
		if err != nil {
			return nil, false, err
		}
		stages = append(stages, st)
	}
	for i := 0; i+1 < len(stages); i++ {
		if so, ok := stages[i].(*sortStage); ok {
			if l, ok := stages[i+1].(*limitStage); ok {
				stages[i] = &sortStage{s: so.s, limit: l.n}
			}
		}
	}
	for i, st := range stages {
		if _, ok := st.(*outStage); ok && i != len(stages)-1 {
			return nil, false, errLocation(40601, "%s can only be the final stage in the pipeline", st.(*outStage).name)
		}
	}
	return stages, source, nil
}

// compileStage compiles one stage.
func compileStage(name string, arg bson.RawValue, vars *Variables, depth int) (aggStage, error) {
	switch name {
	case "$addFields", "$set", "$project", "$unset", "$replaceRoot", "$replaceWith":
		st, err := parsePipeStage(name, arg, vars)
		if err != nil {
			return nil, err
		}
		return &mapStage{st: st}, nil
	case "$match":
		if arg.Type != bsontype.EmbeddedDocument {
			return nil, errLocation(15959, "the match filter must be an expression in an object")
		}
		spec, _ := arg.DocumentOK()
		f, err := compileFilter(bson.Raw(spec), vars)
		if err != nil {
			return nil, err
		}
		return &matchStage{f: f}, nil
	case "$limit":
		if !isNumeric(arg.Type) {
			return nil, errLocation(15957, "the limit must be specified as a number")
		}
		n, err := stageInt(name, arg, 5107201)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errLocation(15958, "the limit must be positive")
		}
		return &limitStage{n: n}, nil
	case "$skip":
		n, err := stageInt(name, arg, 5107200)
		if err != nil {
			return nil, err
		}
		return &skipStage{n: n}, nil
	case "$sort":
		if arg.Type != bsontype.EmbeddedDocument {
			return nil, errLocation(15973, "the $sort key specification must be an object")
		}
		spec, _ := arg.DocumentOK()
		if len(spec) <= 5 {
			return nil, errLocation(15976, "$sort stage must have at least one sort key")
		}
		s, err := CompileSort(bson.Raw(spec))
		if err != nil {
			return nil, err
		}
		return &sortStage{s: s.WithCollation(vars.collation())}, nil
	case "$count":
		return compileCount(arg)
	case "$unwind":
		return compileUnwind(arg)
	case "$group":
		return compileGroup(arg, vars)
	case "$sortByCount":
		return compileSortByCount(arg, vars)
	case "$bucket":
		return compileBucket(arg, vars)
	case "$facet":
		return compileFacet(arg, vars, depth)
	case "$sample":
		return compileSample(arg)
	case "$lookup":
		return compileLookup(arg, vars, depth)
	case "$unionWith":
		return compileUnionWith(arg, vars, depth)
	case "$documents":
		expr, err := compileExpression(arg, vars)
		if err != nil {
			return nil, err
		}
		return &documentsStage{expr: expr}, nil
	case "$bucketAuto":
		return compileBucketAuto(arg, vars)
	case "$graphLookup":
		return compileGraphLookup(arg, vars)
	case "$redact":
		return compileRedact(arg, vars)
	case "$setWindowFields":
		return compileSetWindowFields(arg, vars)
	case "$fill":
		return compileFill(arg, vars)
	case "$densify":
		return compileDensify(arg)
	case "$out":
		return compileOut(arg)
	case "$merge":
		return compileMerge(arg)
	}
	if aggregationStageNames[name] {
		return nil, errNotSupported("the " + name + " aggregation stage")
	}
	return nil, errLocation(40324, "Unrecognized pipeline stage name: '%s'", name)
}

// stageInt reads the non-negative whole-number argument of $limit or
// $skip, as BSONElement::parseIntegerElementToNonNegativeLong does.
func stageInt(name string, arg bson.RawValue, code int32) (int64, error) {
	reason := ""
	switch {
	case !isNumeric(arg.Type):
		reason = "Expected a number in: " + elemString(name, arg)
	default:
		r, ok := exactRat(arg)
		switch {
		case !ok || !r.IsInt() || !r.Num().IsInt64():
			reason = "Expected an integer: " + elemString(name, arg)
		case r.Sign() < 0:
			reason = "Expected a non-negative number in: " + elemString(name, arg)
		default:
			return r.Num().Int64(), nil
		}
	}
	return 0, errLocation(code, "invalid argument to %s stage: %s", name, reason)
}

// ---- streaming stages ----------------------------------------------------------

// mapStage runs an update-pipeline stage (update_pipeline.go) on each document.
type mapStage struct{ st pipeStage }

func (s *mapStage) run(in DocSeq, _ *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		for d, err := range in {
			if err == nil {
				d, err = s.st.apply(d)
			}
			if !yield(d, err) || err != nil {
				return
			}
		}
	}
}

type matchStage struct{ f *Filter }

func (s *matchStage) run(in DocSeq, _ *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			ok, err := s.f.Match(d)
			if err != nil {
				yield(nil, err)
				return
			}
			if ok && !yield(d, nil) {
				return
			}
		}
	}
}

type limitStage struct{ n int64 }

func (s *limitStage) run(in DocSeq, _ *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		var i int64
		for d, err := range in {
			if !yield(d, err) || err != nil {
				return
			}
			if i++; i >= s.n {
				return
			}
		}
	}
}

type skipStage struct{ n int64 }

func (s *skipStage) run(in DocSeq, _ *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		var i int64
		for d, err := range in {
			if err == nil && i < s.n {
				i++
				continue
			}
			if !yield(d, err) || err != nil {
				return
			}
		}
	}
}

// documentsStage is $documents: an expression that yields an array of
// documents.
type documentsStage struct{ expr Expression }

func (s *documentsStage) run(_ DocSeq, _ *aggEnv) DocSeq {
	v, err := s.expr.Eval(emptyDocBytes)
	if err != nil {
		return errSeq(err)
	}
	arr, ok := v.ArrayOK()
	if !ok || v.Type != bsontype.Array {
		return errSeq(errLocation(5858203, "an array is expected"))
	}
	var docs []bson.Raw
	var perr error
	iterElements(arr, func(_ string, e bson.RawValue) bool {
		d, ok := e.DocumentOK()
		if !ok || e.Type != bsontype.EmbeddedDocument {
			perr = errLocation(40228, "'newRoot' expression must evaluate to an object, but resulting value was: %s. Type of resulting value: '%s'.",
				aggValueString(e), exprTypeName(e))
			return false
		}
		docs = append(docs, bson.Raw(d))
		return true
	})
	if perr != nil {
		return errSeq(perr)
	}
	return SliceSeq(docs)
}

var emptyDocBytes = bson.Raw{5, 0, 0, 0, 0}

// OutSpec is a pipeline's final $out or $merge stage. The pipeline's Run
// yields the documents the stage receives; writing them to the target is
// the caller's job.
type OutSpec struct {
	Stage string // "$out" or "$merge"
	DB    string // target database; "" for the aggregated collection's
	Coll  string // target collection
	// $merge only: the fields that identify a target document (default
	// ["_id"]), and what to do when one matches ("replace",
	// "keepExisting", "merge", "fail") or does not ("insert", "discard",
	// "fail").
	On             []string
	WhenMatched    string
	WhenNotMatched string
}

// outStage is $out or $merge: it passes its input through; see OutSpec.
type outStage struct {
	name string
	spec OutSpec
}

func (s *outStage) run(in DocSeq, _ *aggEnv) DocSeq { return in }

// Output returns the pipeline's final $out or $merge stage, or nil.
func (p *Pipeline) Output() *OutSpec {
	if len(p.stages) == 0 {
		return nil
	}
	if o, ok := p.stages[len(p.stages)-1].(*outStage); ok {
		spec := o.spec
		return &spec
	}
	return nil
}

// compileOut parses $out: "coll" or {db, coll}.
func compileOut(arg bson.RawValue) (aggStage, error) {
	s := &outStage{name: "$out", spec: OutSpec{Stage: "$out"}}
	switch arg.Type {
	case bsontype.String:
		s.spec.Coll = arg.StringValue()
	case bsontype.EmbeddedDocument:
		var perr error
		iterElements(arg.Document(), func(key string, v bson.RawValue) bool {
			str, ok := v.StringValueOK()
			switch {
			case key == "timeseries":
				perr = errNotSupported("$out to a time-series collection")
			case key != "db" && key != "coll":
				perr = errLocation(40415, "BSON field '$out.%s' is an unknown field.", key)
			case !ok:
				perr = errTypeMismatch("BSON field '$out.%s' is the wrong type '%s', expected type 'string'", key, typeName(v.Type))
			case key == "db":
				s.spec.DB = str
			default:
				s.spec.Coll = str
			}
			return perr == nil
		})
		if perr != nil {
			return nil, perr
		}
		if s.spec.Coll == "" {
			return nil, errLocation(40414, "BSON field '$out.coll' is missing but a required field")
		}
	default:
		return nil, errLocation(16990, "$out only supports a string or object argument, but found %s", typeName(arg.Type))
	}
	if s.spec.Coll == "" {
		return nil, newError(73, "Invalid $out target namespace: empty collection name")
	}
	return s, nil
}

// compileMerge parses $merge: "coll" or {into, on, whenMatched,
// whenNotMatched}; let and pipeline-style whenMatched are not supported.
func compileMerge(arg bson.RawValue) (aggStage, error) {
	s := &outStage{name: "$merge", spec: OutSpec{Stage: "$merge", On: []string{"_id"}, WhenMatched: "merge", WhenNotMatched: "insert"}}
	switch arg.Type {
	case bsontype.String:
		s.spec.Coll = arg.StringValue()
	case bsontype.EmbeddedDocument:
		haveInto := false
		var perr error
		iterElements(arg.Document(), func(key string, v bson.RawValue) bool {
			switch key {
			case "into":
				haveInto = true
				if str, ok := v.StringValueOK(); ok {
					s.spec.Coll = str
				} else if d, ok := v.DocumentOK(); ok && v.Type == bsontype.EmbeddedDocument {
					db, _ := bson.Raw(d).Lookup("db").StringValueOK()
					coll, _ := bson.Raw(d).Lookup("coll").StringValueOK()
					s.spec.DB, s.spec.Coll = db, coll
				} else {
					perr = errLocation(51178, "$merge 'into' field  must be either a string or an object, but found %s", typeName(v.Type))
				}
			case "on":
				s.spec.On = nil
				if str, ok := v.StringValueOK(); ok {
					s.spec.On = []string{str}
				} else if a, ok := v.ArrayOK(); ok && v.Type == bsontype.Array {
					iterElements(a, func(_ string, e bson.RawValue) bool {
						str, ok := e.StringValueOK()
						if !ok {
							perr = errLocation(51134, "$merge 'on' array elements must be strings, but found %s", typeName(e.Type))
							return false
						}
						s.spec.On = append(s.spec.On, str)
						return true
					})
					if perr == nil && len(s.spec.On) == 0 {
						perr = errLocation(51187, "If explicitly specifying $merge 'on', must include at least one field")
					}
				} else {
					perr = errLocation(51186, "$merge 'on' field  must be either a string or an array of strings, but found %s", typeName(v.Type))
				}
			case "whenMatched":
				str, ok := v.StringValueOK()
				switch {
				case v.Type == bsontype.Array:
					perr = errNotSupported("$merge with a pipeline in whenMatched")
				case !ok || (str != "replace" && str != "keepExisting" && str != "merge" && str != "fail"):
					perr = errBadValue("Enumeration value '%s' for field '$merge.whenMatched' is not a valid value.", aggValueString(v))
				default:
					s.spec.WhenMatched = str
				}
			case "whenNotMatched":
				str, ok := v.StringValueOK()
				if !ok || (str != "insert" && str != "discard" && str != "fail") {
					perr = errBadValue("Enumeration value '%s' for field '$merge.whenNotMatched' is not a valid value.", aggValueString(v))
				} else {
					s.spec.WhenNotMatched = str
				}
			case "let":
				perr = errNotSupported("$merge with let")
			default:
				perr = errLocation(40415, "BSON field '$merge.%s' is an unknown field.", key)
			}
			return perr == nil
		})
		if perr != nil {
			return nil, perr
		}
		if !haveInto {
			return nil, errLocation(40414, "BSON field '$merge.into' is missing but a required field")
		}
	default:
		return nil, errLocation(51182, "$merge only supports a string or object argument, but found %s", typeName(arg.Type))
	}
	if s.spec.Coll == "" {
		return nil, newError(73, "Invalid $merge target namespace: empty collection name")
	}
	return s, nil
}

// ---- $sort ---------------------------------------------------------------------

// sortStage is $sort. A $limit right after it is coalesced into it
// (limit > 0): the stage then keeps only the first limit documents while
// it reads, as the server's top-k sort does.
type sortStage struct {
	s     *Sort
	limit int64
}

type sortKeyed struct {
	doc  bson.Raw
	keys []bson.RawValue
}

func (s *sortStage) run(in DocSeq, _ *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		cmp := func(a, b sortKeyed) int { return s.s.CompareKeys(a.keys, b.keys) }
		var ks []sortKeyed
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			k := sortKeyed{d, s.s.Keys(d)}
			if s.limit <= 0 {
				ks = append(ks, k)
				continue
			}
			if int64(len(ks)) == s.limit && cmp(k, ks[len(ks)-1]) >= 0 {
				continue
			}
			// Insert after the elements that sort equal, to stay stable.
			i, _ := slices.BinarySearchFunc(ks, k, func(e, t sortKeyed) int {
				if c := cmp(e, t); c != 0 {
					return c
				}
				return -1
			})
			ks = slices.Insert(ks, i, k)
			if int64(len(ks)) > s.limit {
				ks = ks[:s.limit]
			}
		}
		if s.limit <= 0 {
			slices.SortStableFunc(ks, cmp)
		}
		for _, k := range ks {
			if !yield(k.doc, nil) {
				return
			}
		}
	}
}

// ---- $count --------------------------------------------------------------------

type countStage struct{ field string }

func compileCount(arg bson.RawValue) (aggStage, error) {
	s, ok := arg.StringValueOK()
	if !ok {
		return nil, errLocation(40156, "the count field must be a non-empty string")
	}
	switch {
	case s == "":
		return nil, errLocation(40157, "the count field must be a non-empty string")
	case s[0] == '$':
		return nil, errLocation(40158, "the count field cannot be a $-prefixed path")
	case strings.Contains(s, "."):
		return nil, errLocation(40160, "the count field cannot contain '.'")
	case strings.IndexByte(s, 0) >= 0:
		return nil, errLocation(40159, "the count field cannot contain a null byte")
	}
	return &countStage{field: s}, nil
}

func (s *countStage) run(in DocSeq, _ *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		var n int64
		for _, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			n++
		}
		if n == 0 {
			return
		}
		yield(buildDoc([]string{s.field}, []bson.RawValue{intOrLong(n)}), nil)
	}
}

// buildDoc makes a document of keys and values (missing values left out).
func buildDoc(keys []string, vals []bson.RawValue) bson.Raw {
	idx, doc := bsoncore.AppendDocumentStart(nil)
	for i, k := range keys {
		if vals[i].Type == 0 {
			continue
		}
		doc = bsoncore.AppendValueElement(doc, k, bsoncore.Value{Type: vals[i].Type, Data: vals[i].Value})
	}
	doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
	return bson.Raw(doc)
}

// ---- $sample -------------------------------------------------------------------

type sampleStage struct{ size int64 }

func compileSample(arg bson.RawValue) (aggStage, error) {
	spec, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(28745, "the $sample stage specification must be an object")
	}
	var size *int64
	var perr error
	iterElements(spec, func(key string, v bson.RawValue) bool {
		if key != "size" {
			perr = errLocation(28748, "unrecognized option to $sample: %s", key)
			return false
		}
		if !isNumeric(v.Type) {
			perr = errLocation(28746, "size argument to $sample must be a number")
			return false
		}
		n := int64(numberAsFloat(v))
		if n < 0 {
			perr = errLocation(28747, "size argument to $sample must not be negative")
			return false
		}
		size = &n
		return true
	})
	if perr != nil {
		return nil, perr
	}
	if size == nil {
		return nil, errLocation(28749, "$sample stage must specify a size")
	}
	return &sampleStage{size: *size}, nil
}

func (s *sampleStage) run(in DocSeq, env *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		docs, err := CollectSeq(in)
		if err != nil {
			yield(nil, err)
			return
		}
		env.rnd.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
		for i, d := range docs {
			if int64(i) >= s.size || !yield(d, nil) {
				return
			}
		}
	}
}
