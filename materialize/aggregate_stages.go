package materialize

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file holds the stages $bucketAuto, $graphLookup and $redact, and
// the $sampleRate query operator. ($setWindowFields is in
// aggregate_window.go.)

// ---- $sampleRate (a top-level query operator) ---------------------------------

// sampleRateNode is {$sampleRate: rate}: each document matches with
// probability rate, as the server's rewrite to {$expr: {$lt: [{$rand: {}},
// rate]}}. Like $rand it draws anew on every evaluation.
type sampleRateNode struct{ rate float64 }

func (n *sampleRateNode) matchDoc([]byte, *matchDetails) (bool, error) {
	return rand.Float64() < n.rate, nil
}

func (n *sampleRateNode) matchValue(bson.RawValue, *matchDetails) bool {
	return rand.Float64() < n.rate
}

// ---- $redact -------------------------------------------------------------------

// redactStage is $redact: the expression decides for the document and, on
// $$DESCEND, for each embedded document (also inside arrays) whether it is
// kept whole ($$KEEP), removed ($$PRUNE) or examined field by field.
type redactStage struct {
	n      exprNode
	consts map[string]bson.RawValue
}

// The values of $$DESCEND, $$PRUNE and $$KEEP, as the server binds them.
var (
	redactDescend = valString("descend")
	redactPrune   = valString("prune")
	redactKeep    = valString("keep")
)

func compileRedact(arg bson.RawValue, vars *Variables) (aggStage, error) {
	ps := newExprParser(vars)
	for _, v := range []string{"DESCEND", "PRUNE", "KEEP"} {
		ps.vars[v] = true
	}
	n, err := ps.parseOperand(arg)
	if err != nil {
		return nil, err
	}
	return &redactStage{n: n, consts: vars.values()}, nil
}

func (s *redactStage) run(in DocSeq, _ *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			out, keep, err := s.redact(d, d)
			if err != nil {
				yield(nil, err)
				return
			}
			if keep && !yield(out, nil) {
				return
			}
		}
	}
}

// decide evaluates the expression with $$CURRENT bound to cur.
func (s *redactStage) decide(root, cur bson.Raw) (bson.RawValue, error) {
	c := &exprContext{vars: make(map[string]bson.RawValue, 5+len(s.consts))}
	c.vars["ROOT"] = bson.RawValue{Type: bsontype.EmbeddedDocument, Value: root}
	c.vars["CURRENT"] = bson.RawValue{Type: bsontype.EmbeddedDocument, Value: cur}
	c.vars["DESCEND"], c.vars["PRUNE"], c.vars["KEEP"] = redactDescend, redactPrune, redactKeep
	for name, v := range s.consts {
		c.vars[name] = v
	}
	return s.n.eval(c)
}

// redact applies the expression to cur (an embedded document of root).
func (s *redactStage) redact(root, cur bson.Raw) (bson.Raw, bool, error) {
	v, err := s.decide(root, cur)
	if err != nil {
		return nil, false, err
	}
	switch {
	case v.Type == bsontype.String && v.StringValue() == "keep":
		return cur, true, nil
	case v.Type == bsontype.String && v.StringValue() == "prune":
		return nil, false, nil
	case v.Type != bsontype.String || v.StringValue() != "descend":
		return nil, false, errLocation(17053, "$redact's expression should not return anything aside from the variables $$KEEP, $$DESCEND, and $$PRUNE, but returned %s", aggValueString(v))
	}
	var keys []string
	var vals []bson.RawValue
	var perr error
	iterElements(cur, func(key string, ev bson.RawValue) bool {
		switch ev.Type {
		case bsontype.EmbeddedDocument:
			sub, keep, err := s.redact(root, bson.Raw(ev.Value))
			if err != nil {
				perr = err
				return false
			}
			if !keep {
				return true
			}
			ev = bson.RawValue{Type: bsontype.EmbeddedDocument, Value: sub}
		case bsontype.Array:
			arr, err := s.redactArray(root, ev.Value)
			if err != nil {
				perr = err
				return false
			}
			ev = arr
		}
		keys = append(keys, key)
		vals = append(vals, ev)
		return true
	})
	if perr != nil {
		return nil, false, perr
	}
	return buildDoc(keys, vals), true, nil
}

// redactArray redacts the documents of an array (and of nested arrays);
// other elements stay.
func (s *redactStage) redactArray(root bson.Raw, arr []byte) (bson.RawValue, error) {
	var out []bson.RawValue
	var perr error
	iterElements(arr, func(_ string, e bson.RawValue) bool {
		switch e.Type {
		case bsontype.EmbeddedDocument:
			sub, keep, err := s.redact(root, bson.Raw(e.Value))
			if err != nil {
				perr = err
				return false
			}
			if keep {
				out = append(out, bson.RawValue{Type: bsontype.EmbeddedDocument, Value: sub})
			}
		case bsontype.Array:
			sub, err := s.redactArray(root, e.Value)
			if err != nil {
				perr = err
				return false
			}
			out = append(out, sub)
		default:
			out = append(out, e)
		}
		return true
	})
	if perr != nil {
		return bson.RawValue{}, perr
	}
	return makeArray(out), nil
}

// ---- $bucketAuto ---------------------------------------------------------------

type bucketAutoStage struct {
	groupBy Expression
	buckets int
	fields  []groupField
}

func compileBucketAuto(arg bson.RawValue, vars *Variables) (aggStage, error) {
	spec, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(40240, "The argument to $bucketAuto must be an object, but found type: %s.", typeName(arg.Type))
	}
	b := &bucketAutoStage{}
	haveBuckets := false
	var perr error
	iterElements(spec, func(key string, v bson.RawValue) bool {
		switch key {
		case "groupBy":
			if !isGroupByExpr(v) {
				perr = errLocation(40239, "The $bucketAuto 'groupBy' field must be defined as a $-prefixed path or an expression object, but found: %s.", aggValueString(v))
				return false
			}
			b.groupBy, perr = compileExpression(v, vars)
		case "buckets":
			r, ok := exactRat(v)
			if !isNumeric(v.Type) || !ok || !r.IsInt() || !r.Num().IsInt64() || r.Num().Int64() > math.MaxInt32 {
				perr = errLocation(40241, "The $bucketAuto 'buckets' field must be a numeric value, but found type: %s.", typeName(v.Type))
				return false
			}
			if r.Sign() <= 0 {
				perr = errLocation(40243, "The $bucketAuto 'buckets' field must be greater than 0, but found: %s.", aggValueString(v))
				return false
			}
			b.buckets, haveBuckets = int(r.Num().Int64()), true
		case "output":
			d, ok := v.DocumentOK()
			if !ok || v.Type != bsontype.EmbeddedDocument {
				perr = errLocation(40244, "The $bucketAuto 'output' field must be an object, but found type: %s.", typeName(v.Type))
				return false
			}
			b.fields, perr = compileOutputFields(d, vars)
		case "granularity":
			perr = errNotSupported("$bucketAuto with granularity")
		default:
			perr = errLocation(40245, "Unrecognized option to $bucketAuto: %s.", key)
		}
		return perr == nil
	})
	if perr != nil {
		return nil, perr
	}
	if b.groupBy == nil || !haveBuckets {
		return nil, errLocation(40246, "$bucketAuto requires 'groupBy' and 'buckets' to be specified")
	}
	if len(b.fields) == 0 {
		b.fields = []groupField{{name: "count", op: "$sum", expr: &compiledExpression{n: &constExpr{v: valInt32(1)}}}}
	}
	return b, nil
}

type keyedDoc struct {
	key bson.RawValue
	doc bson.Raw
}

// run sorts the documents by groupBy and cuts them into buckets of about
// n/buckets documents, never splitting equal values, as the server does: a
// bucket's max is the next bucket's min (the last bucket's is its largest
// value).
func (s *bucketAutoStage) run(in DocSeq, _ *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		var all []keyedDoc
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			v, err := s.groupBy.Eval(d)
			if err != nil {
				yield(nil, err)
				return
			}
			if v.Type == 0 {
				v = valNull()
			}
			all = append(all, keyedDoc{v, d})
		}
		slices.SortStableFunc(all, func(a, b keyedDoc) int { return CompareValues(a.key, b.key) })
		size := int(math.Round(float64(len(all)) / float64(s.buckets)))
		size = max(size, 1)
		keys := []string{"_id"}
		for _, f := range s.fields {
			keys = append(keys, f.name)
		}
		i := 0
		for b := 0; b < s.buckets && i < len(all); b++ {
			start := i
			if b == s.buckets-1 {
				i = len(all)
			} else {
				i = min(i+size, len(all))
				for i < len(all) && CompareValues(all[i].key, all[i-1].key) == 0 {
					i++
				}
			}
			maxV := all[i-1].key
			if i < len(all) {
				maxV = all[i].key
			}
			accs := make([]*accState, len(s.fields))
			for j, f := range s.fields {
				accs[j] = &accState{op: f.op}
			}
			for _, kd := range all[start:i] {
				for j, f := range s.fields {
					fv, err := f.expr.Eval(kd.doc)
					if err == nil {
						err = accs[j].add(fv)
					}
					if err != nil {
						yield(nil, err)
						return
					}
				}
			}
			id := buildDoc([]string{"min", "max"}, []bson.RawValue{all[start].key, maxV})
			doc, err := groupDoc(keys, bson.RawValue{Type: bsontype.EmbeddedDocument, Value: id}, accs)
			if !yield(doc, err) || err != nil {
				return
			}
		}
	}
}

// ---- $graphLookup --------------------------------------------------------------

type graphLookupStage struct {
	from, as               string
	connectFrom, connectTo string
	startWith              Expression
	maxDepth               int64 // -1: unbounded
	depthField             string
	restrict               *Filter
}

func compileGraphLookup(arg bson.RawValue, vars *Variables) (aggStage, error) {
	spec, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(40327, "the $graphLookup stage specification must be an object, but found %s", typeName(arg.Type))
	}
	s := &graphLookupStage{maxDepth: -1}
	var perr error
	iterElements(spec, func(key string, v bson.RawValue) bool {
		switch key {
		case "from", "as", "connectFromField", "connectToField", "depthField":
			str, ok := v.StringValueOK()
			if !ok {
				perr = errLocation(40103, "expected string as argument for %s, found: %s", key, aggValueString(v))
				return false
			}
			if key != "from" {
				if _, err := aggFieldPath(str); err != nil {
					perr = err
					return false
				}
			}
			switch key {
			case "from":
				s.from = str
			case "as":
				s.as = str
			case "connectFromField":
				s.connectFrom = str
			case "connectToField":
				s.connectTo = str
			default:
				s.depthField = str
			}
		case "startWith":
			s.startWith, perr = compileExpression(v, vars)
		case "maxDepth":
			r, ok := exactRat(v)
			if !isNumeric(v.Type) || !ok || !r.IsInt() || !r.Num().IsInt64() {
				perr = errLocation(40100, "maxdepth requires a nonnegative argument, found: %s", aggValueString(v))
				return false
			}
			if r.Sign() < 0 {
				perr = errLocation(40101, "maxDepth requires a nonnegative argument, found: %s", aggValueString(v))
				return false
			}
			s.maxDepth = r.Num().Int64()
		case "restrictSearchWithMatch":
			d, ok := v.DocumentOK()
			if !ok || v.Type != bsontype.EmbeddedDocument {
				perr = errLocation(40185, "restrictSearchWithMatch must be an object, found %s", typeName(v.Type))
				return false
			}
			s.restrict, perr = compileFilter(bson.Raw(d), vars)
		default:
			perr = errLocation(40104, "Unknown argument to $graphLookup: %s", key)
		}
		return perr == nil
	})
	if perr != nil {
		return nil, perr
	}
	if s.from == "" || s.as == "" || s.connectFrom == "" || s.connectTo == "" || s.startWith == nil {
		return nil, errLocation(40105, "from, as, connectFromField, connectToField and startWith must all be specified.")
	}
	return s, nil
}

// graphValues returns the values to search for: an array's elements or
// the value itself (missing: none).
func graphValues(v bson.RawValue) []bson.RawValue {
	switch v.Type {
	case 0:
		return nil
	case bsontype.Array:
		var out []bson.RawValue
		arr, _ := v.ArrayOK()
		iterElements(arr, func(_ string, e bson.RawValue) bool {
			out = append(out, e)
			return true
		})
		return out
	}
	return []bson.RawValue{v}
}

// run searches breadth first: depth 0 holds the foreign documents whose
// connectToField matches startWith, depth d+1 those matching the
// connectFromField values of depth d; each document is reported once (by
// _id), at the depth it was first reached.
func (s *graphLookupStage) run(in DocSeq, env *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		var foreign []bson.Raw
		var hash *lookupHash
		loaded := false
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			if !loaded {
				if foreign, err = resolveColl(env, s.from); err != nil {
					yield(nil, err)
					return
				}
				if s.restrict != nil {
					kept := foreign[:0:0]
					for _, fd := range foreign {
						ok, err := s.restrict.Match(fd)
						if err != nil {
							yield(nil, err)
							return
						}
						if ok {
							kept = append(kept, fd)
						}
					}
					foreign = kept
				}
				hash = newLookupHash(foreign, s.connectTo)
				loaded = true
			}
			out, err := s.search(d, foreign, hash)
			if err != nil {
				yield(nil, err)
				return
			}
			md, err := NewMutableDocument(d)
			if err == nil {
				err = md.Set(s.as, docsArray(out))
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

func (s *graphLookupStage) search(d bson.Raw, foreign []bson.Raw, hash *lookupHash) ([]bson.Raw, error) {
	start, err := s.startWith.Eval(d)
	if err != nil {
		return nil, err
	}
	frontier := graphValues(start)
	seenVals := map[string]bool{}
	visited := map[string]bool{}
	var out []bson.Raw
	fromParts := strings.Split(s.connectFrom, ".")
	for depth := int64(0); len(frontier) > 0 && (s.maxDepth < 0 || depth <= s.maxDepth); depth++ {
		var vals []bson.RawValue
		for _, v := range frontier {
			if k := valueKey(v); !seenVals[k] {
				seenVals[k] = true
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			break
		}
		in := makeArray(vals)
		filter := buildDoc([]string{s.connectTo}, []bson.RawValue{
			{Type: bsontype.EmbeddedDocument, Value: buildDoc([]string{"$in"}, []bson.RawValue{in})}})
		f, err := CompileFilter(filter)
		if err != nil {
			return nil, err
		}
		cands, ok := hash.candidates(vals)
		if !ok {
			cands = make([]int, len(foreign))
			for i := range cands {
				cands[i] = i
			}
		}
		frontier = nil
		for _, i := range cands {
			fd := foreign[i]
			idKey := valueKey(fd.Lookup("_id"))
			if visited[idKey] {
				continue
			}
			ok, err := f.Match(fd)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			visited[idKey] = true
			next := evaluateFieldPath(fd, fromParts)
			frontier = append(frontier, graphValues(next)...)
			if s.depthField != "" {
				md, err := NewMutableDocument(fd)
				if err == nil {
					err = md.Set(s.depthField, valInt64(depth))
				}
				if err != nil {
					return nil, err
				}
				fd = md.Raw()
			}
			out = append(out, fd)
		}
	}
	return out, nil
}
