package materialize

import (
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file holds the grouping stages ($group, $sortByCount, $bucket) and
// the accumulators they use.

// accumulatorNames are the $group accumulators argon runs.
var accumulatorNames = map[string]bool{
	"$sum": true, "$avg": true, "$min": true, "$max": true, "$first": true, "$last": true,
	"$push": true, "$addToSet": true, "$count": true, "$stdDevPop": true, "$stdDevSamp": true,
	"$mergeObjects": true,
}

// knownAccumulators are accumulators the server has that argon does not run.
var knownAccumulators = map[string]bool{
	"$accumulator": true, "$bottom": true, "$bottomN": true, "$firstN": true, "$lastN": true,
	"$maxN": true, "$minN": true, "$top": true, "$topN": true, "$median": true, "$percentile": true,
}

type groupField struct {
	name string
	op   string
	expr Expression
	coll *Collation // $min, $max and $addToSet compare with it (nil: simple)
}

type groupStage struct {
	id     Expression
	fields []groupField
	coll   *Collation // groups by it (nil: simple)
}

func compileGroup(arg bson.RawValue, vars *Variables) (aggStage, error) {
	spec, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(15947, "a group's fields must be specified in an object")
	}
	g := &groupStage{coll: vars.collation()}
	haveID := false
	elems, _ := docElements(spec)
	for _, el := range elems {
		if el.key == "_id" {
			if haveID {
				return nil, errLocation(16414, "_id cannot be specified twice in a group specification")
			}
			haveID = true
			e, err := compileExpression(el.val, vars)
			if err != nil {
				return nil, err
			}
			g.id = e
			continue
		}
		if strings.HasPrefix(el.key, "$") {
			return nil, errLocation(40236, "The field name '%s' cannot be an operator name", el.key)
		}
		if strings.Contains(el.key, ".") {
			return nil, errLocation(40235, "The field name '%s' cannot contain '.'", el.key)
		}
		f, err := compileAccumulator(el.key, el.val, vars)
		if err != nil {
			return nil, err
		}
		g.fields = append(g.fields, f)
	}
	if !haveID {
		return nil, errLocation(15955, "a group specification must include an _id")
	}
	return g, nil
}

func compileAccumulator(name string, v bson.RawValue, vars *Variables) (groupField, error) {
	d, ok := v.DocumentOK()
	if !ok || v.Type != bsontype.EmbeddedDocument {
		return groupField{}, errLocation(40234, "The field '%s' must be an accumulator object", name)
	}
	elems, _ := docElements(d)
	if len(elems) != 1 {
		return groupField{}, errLocation(40238, "The field '%s' must specify one accumulator", name)
	}
	op, arg := elems[0].key, elems[0].val
	if !accumulatorNames[op] {
		if knownAccumulators[op] {
			return groupField{}, errNotSupported("the " + op + " accumulator")
		}
		return groupField{}, errLocation(15952, "unknown group operator '%s'", op)
	}
	if op == "$count" {
		ad, ok := arg.DocumentOK()
		if !ok || arg.Type != bsontype.EmbeddedDocument || len(ad) != 5 {
			return groupField{}, errLocation(codeTypeMismatchLoc, "$count takes no arguments, i.e. $count:{}")
		}
		return groupField{name: name, op: "$sum", expr: &compiledExpression{n: &constExpr{v: valInt32(1)}}}, nil
	}
	if arg.Type == bsontype.Array {
		return groupField{}, errLocation(40237, "The %s accumulator is a unary operator", op)
	}
	e, err := compileExpression(arg, vars)
	if err != nil {
		return groupField{}, err
	}
	return groupField{name: name, op: op, expr: e, coll: vars.collation()}, nil
}

// codeTypeMismatchLoc is TypeMismatch, which $count:{…} with arguments returns.
const codeTypeMismatchLoc int32 = 14

// accState accumulates one field of one group.
type accState struct {
	op     string
	vals   []bson.RawValue // $sum/$avg numbers, $push/$addToSet values, $stdDev*
	cur    bson.RawValue   // $min/$max/$first/$last/$mergeObjects
	seen   bool
	setKey map[string]bool
	coll   *Collation // nil: simple
}

func (a *accState) add(v bson.RawValue) error {
	switch a.op {
	case "$sum", "$avg", "$stdDevPop", "$stdDevSamp":
		if isNumeric(v.Type) {
			a.vals = append(a.vals, v)
		}
	case "$min", "$max":
		if v.Type == 0 || v.Type == bsontype.Null || v.Type == bsontype.Undefined {
			return nil
		}
		c := a.coll.CompareValues(v, a.cur)
		if !a.seen || (a.op == "$min" && c < 0) || (a.op == "$max" && c > 0) {
			a.cur, a.seen = v, true
		}
	case "$first":
		if !a.seen {
			a.cur, a.seen = v, true
		}
	case "$last":
		a.cur, a.seen = v, true
	case "$push":
		if v.Type != 0 {
			a.vals = append(a.vals, v)
		}
	case "$addToSet":
		if v.Type == 0 {
			return nil
		}
		k := valueKey(a.coll.KeyValue(v))
		if a.setKey == nil {
			a.setKey = map[string]bool{}
		}
		if !a.setKey[k] {
			a.setKey[k] = true
			a.vals = append(a.vals, v)
		}
	case "$mergeObjects":
		if v.Type == 0 || v.Type == bsontype.Null {
			return nil
		}
		d, ok := v.DocumentOK()
		if !ok || v.Type != bsontype.EmbeddedDocument {
			return errLocation(40400, "$mergeObjects requires object inputs, but input %s is of type %s", aggValueString(v), exprTypeName(v))
		}
		if !a.seen {
			a.cur, a.seen = bson.RawValue{Type: bsontype.EmbeddedDocument, Value: emptyDocBytes}, true
		}
		var perr error
		iterElements(d, func(key string, e bson.RawValue) bool {
			a.cur = setDocumentField(a.cur.Value, key, e)
			return true
		})
		return perr
	}
	return nil
}

func (a *accState) result() (bson.RawValue, error) {
	switch a.op {
	case "$sum":
		if len(a.vals) == 0 {
			return valInt32(0), nil
		}
		return addValues(a.vals)
	case "$avg":
		if len(a.vals) == 0 {
			return valNull(), nil
		}
		sum, err := addValues(a.vals)
		if err != nil {
			return bson.RawValue{}, err
		}
		if sum.Type == bsontype.Decimal128 {
			return valDecimal(decArith('/', decOf(sum), decOf(valInt64(int64(len(a.vals)))))), nil
		}
		return valDouble(numberAsFloat(sum) / float64(len(a.vals))), nil
	case "$stdDevPop", "$stdDevSamp":
		n := len(a.vals)
		if n == 0 || (a.op == "$stdDevSamp" && n == 1) {
			return valNull(), nil
		}
		mean := 0.0
		for _, v := range a.vals {
			mean += numberAsFloat(v)
		}
		mean /= float64(n)
		ss := 0.0
		for _, v := range a.vals {
			d := numberAsFloat(v) - mean
			ss += d * d
		}
		div := float64(n)
		if a.op == "$stdDevSamp" {
			div--
		}
		return valDouble(math.Sqrt(ss / div)), nil
	case "$min", "$max":
		if !a.seen {
			return valNull(), nil
		}
		return a.cur, nil
	case "$first", "$last":
		if a.cur.Type == 0 {
			return valNull(), nil
		}
		return a.cur, nil
	case "$mergeObjects":
		if !a.seen {
			return bson.RawValue{Type: bsontype.EmbeddedDocument, Value: emptyDocBytes}, nil
		}
		return a.cur, nil
	default: // $push, $addToSet
		return makeArray(a.vals), nil
	}
}

// valueKey is a key under which values the server groups together (equal
// by BSON comparison: 1, 1.0 and NumberDecimal("1") are one key; null and
// missing are one key) compare equal.
func valueKey(v bson.RawValue) string {
	var sb strings.Builder
	writeValueKey(&sb, v)
	return sb.String()
}

func writeValueKey(sb *strings.Builder, v bson.RawValue) {
	switch {
	case v.Type == 0 || v.Type == bsontype.Null || v.Type == bsontype.Undefined:
		sb.WriteString("z;")
	case isNumeric(v.Type):
		if r, ok := exactRat(v); ok {
			sb.WriteString("n")
			sb.WriteString(r.RatString())
		} else {
			sb.WriteString("f")
			sb.WriteString(strconv.FormatFloat(numberAsFloat(v), 'g', -1, 64))
		}
		sb.WriteString(";")
	case v.Type == bsontype.String || v.Type == bsontype.Symbol:
		s, _ := stringLike(v)
		sb.WriteString("s")
		sb.WriteString(strconv.Itoa(len(s)))
		sb.WriteString(":")
		sb.WriteString(s)
	case v.Type == bsontype.EmbeddedDocument || v.Type == bsontype.Array:
		if v.Type == bsontype.Array {
			sb.WriteString("[")
		} else {
			sb.WriteString("{")
		}
		iterElements(v.Value, func(key string, e bson.RawValue) bool {
			if v.Type == bsontype.EmbeddedDocument {
				sb.WriteString(strconv.Itoa(len(key)))
				sb.WriteString(":")
				sb.WriteString(key)
			}
			writeValueKey(sb, e)
			return true
		})
		sb.WriteString("}")
	default:
		sb.WriteString("t")
		sb.WriteString(strconv.Itoa(canonicalType(v.Type)))
		sb.WriteString(":")
		sb.WriteString(strconv.Itoa(len(v.Value)))
		sb.WriteString(":")
		sb.Write(v.Value)
	}
}

type group struct {
	id   bson.RawValue
	accs []*accState
}

func (s *groupStage) run(in DocSeq, _ *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		groups := map[string]*group{}
		var order []*group
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			id, err := s.id.Eval(d)
			if err != nil {
				yield(nil, err)
				return
			}
			if id.Type == 0 {
				id = valNull()
			}
			k := valueKey(s.coll.KeyValue(id))
			g := groups[k]
			if g == nil {
				g = &group{id: id}
				for _, f := range s.fields {
					g.accs = append(g.accs, &accState{op: f.op, coll: f.coll})
				}
				groups[k] = g
				order = append(order, g)
			}
			for i, f := range s.fields {
				v, err := f.expr.Eval(d)
				if err != nil {
					yield(nil, err)
					return
				}
				if err := g.accs[i].add(v); err != nil {
					yield(nil, err)
					return
				}
			}
		}
		keys := make([]string, 0, 1+len(s.fields))
		keys = append(keys, "_id")
		for _, f := range s.fields {
			keys = append(keys, f.name)
		}
		for _, g := range order {
			doc, err := groupDoc(keys, g.id, g.accs)
			if !yield(doc, err) || err != nil {
				return
			}
		}
	}
}

// ---- $sortByCount --------------------------------------------------------------

type sortByCountStage struct {
	g *groupStage
}

func compileSortByCount(arg bson.RawValue, vars *Variables) (aggStage, error) {
	switch arg.Type {
	case bsontype.String:
		if s := arg.StringValue(); !strings.HasPrefix(s, "$") {
			return nil, errLocation(40148, "the sortByCount field must be defined as a $-prefixed path or an expression inside an object")
		}
	case bsontype.EmbeddedDocument:
		if first, ok := firstElement(arg.Document()); !ok || !strings.HasPrefix(first.key, "$") {
			return nil, errLocation(40147, "the sortByCount field must be defined as a $-prefixed path or an expression inside an object")
		}
	default:
		return nil, errLocation(40149, "the sortByCount field must be specified as a string or as an object")
	}
	e, err := compileExpression(arg, vars)
	if err != nil {
		return nil, err
	}
	return &sortByCountStage{g: &groupStage{id: e, fields: []groupField{{name: "count", op: "$sum",
		expr: &compiledExpression{n: &constExpr{v: valInt32(1)}}}}}}, nil
}

func (s *sortByCountStage) run(in DocSeq, env *aggEnv) DocSeq {
	sort, _ := CompileSort(buildDoc([]string{"count"}, []bson.RawValue{valInt32(-1)}))
	return (&sortStage{s: sort}).run(s.g.run(in, env), env)
}

// ---- $bucket -------------------------------------------------------------------

type bucketStage struct {
	coll       *Collation // boundaries compare with it (nil: simple)
	groupBy    Expression
	boundaries []bson.RawValue
	def        *bson.RawValue
	fields     []groupField
}

func compileBucket(arg bson.RawValue, vars *Variables) (aggStage, error) {
	spec, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(40201, "Argument to $bucket stage must be an object, but found type: %s.", typeName(arg.Type))
	}
	b := &bucketStage{coll: vars.collation()}
	var haveBounds bool
	var perr error
	iterElements(spec, func(key string, v bson.RawValue) bool {
		switch key {
		case "groupBy":
			if !isGroupByExpr(v) {
				perr = errLocation(40202, "The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression, but found: %s.", aggValueString(v))
				return false
			}
			b.groupBy, perr = compileExpression(v, vars)
		case "boundaries":
			arr, ok := v.ArrayOK()
			if !ok || v.Type != bsontype.Array {
				perr = errLocation(40200, "The $bucket 'boundaries' field must be an array, but found type: %s.", typeName(v.Type))
				return false
			}
			haveBounds = true
			iterElements(arr, func(_ string, e bson.RawValue) bool {
				b.boundaries = append(b.boundaries, e)
				return true
			})
		case "default":
			vv := v
			b.def = &vv
		case "output":
			d, ok := v.DocumentOK()
			if !ok || v.Type != bsontype.EmbeddedDocument {
				perr = errLocation(40196, "The $bucket 'output' field must be an object, but found type: %s.", typeName(v.Type))
				return false
			}
			b.fields, perr = compileOutputFields(d, vars)
		default:
			perr = errLocation(40197, "Unrecognized option to $bucket: %s.", key)
		}
		return perr == nil
	})
	if perr != nil {
		return nil, perr
	}
	if b.groupBy == nil || !haveBounds {
		return nil, errLocation(40198, "$bucket requires 'groupBy' and 'boundaries' to be specified.")
	}
	if len(b.boundaries) < 2 {
		return nil, errLocation(40192, "The $bucket 'boundaries' field must have at least 2 values, but found %d value(s).", len(b.boundaries))
	}
	for i := 1; i < len(b.boundaries); i++ {
		p, c := b.boundaries[i-1], b.boundaries[i]
		if canonicalType(p.Type) != canonicalType(c.Type) {
			return nil, errLocation(40193, "All values in the the 'boundaries' option to $bucket must have the same type. Found conflicting types %s and %s.",
				exprTypeName(p), exprTypeName(c))
		}
		if b.coll.CompareValues(p, c) >= 0 {
			return nil, errLocation(40194, "The 'boundaries' option to $bucket must be sorted in ascending order, but elements %d and %d are not in ascending order (%s is not less than %s).",
				i-1, i, aggValueString(p), aggValueString(c))
		}
	}
	if b.def != nil && b.coll.CompareValues(*b.def, b.boundaries[0]) >= 0 && b.coll.CompareValues(*b.def, b.boundaries[len(b.boundaries)-1]) < 0 &&
		canonicalType(b.def.Type) == canonicalType(b.boundaries[0].Type) {
		return nil, errLocation(40199, "The $bucket 'default' field must be less than the lowest boundary or greater than or equal to the highest boundary.")
	}
	if len(b.fields) == 0 {
		b.fields = []groupField{{name: "count", op: "$sum", expr: &compiledExpression{n: &constExpr{v: valInt32(1)}}}}
	}
	return b, nil
}

func (s *bucketStage) run(in DocSeq, _ *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		n := len(s.boundaries) - 1
		buckets := make([][]*accState, n+1) // last: default
		newAccs := func() []*accState {
			accs := make([]*accState, len(s.fields))
			for i, f := range s.fields {
				accs[i] = &accState{op: f.op, coll: f.coll}
			}
			return accs
		}
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
			idx := -1
			if s.coll.CompareValues(v, s.boundaries[0]) >= 0 && s.coll.CompareValues(v, s.boundaries[n]) < 0 {
				for i := 0; i < n; i++ {
					if s.coll.CompareValues(v, s.boundaries[i+1]) < 0 {
						idx = i
						break
					}
				}
			}
			if idx < 0 {
				if s.def == nil {
					yield(nil, errLocation(40066, "$switch could not find a matching branch for an input, and no default was specified."))
					return
				}
				idx = n
			}
			if buckets[idx] == nil {
				buckets[idx] = newAccs()
			}
			for i, f := range s.fields {
				fv, err := f.expr.Eval(d)
				if err != nil {
					yield(nil, err)
					return
				}
				if err := buckets[idx][i].add(fv); err != nil {
					yield(nil, err)
					return
				}
			}
		}
		keys := []string{"_id"}
		for _, f := range s.fields {
			keys = append(keys, f.name)
		}
		for i, accs := range buckets {
			if accs == nil {
				continue
			}
			id := bson.RawValue{}
			if i == n {
				id = *s.def
			} else {
				id = s.boundaries[i]
			}
			doc, err := groupDoc(keys, id, accs)
			if !yield(doc, err) || err != nil {
				return
			}
		}
	}
}

// groupDoc is the output document of one group ($group, $bucket,
// $bucketAuto): keys[0] (_id) is id, each further key an accumulator's
// result.
func groupDoc(keys []string, id bson.RawValue, accs []*accState) (bson.Raw, error) {
	vals := make([]bson.RawValue, 1, 1+len(accs))
	vals[0] = id
	for _, a := range accs {
		v, err := a.result()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
	}
	return buildDoc(keys, vals), nil
}

// isGroupByExpr reports whether v may be the groupBy of $bucket or
// $bucketAuto: a $-prefixed path or an expression object.
func isGroupByExpr(v bson.RawValue) bool {
	if v.Type == bsontype.EmbeddedDocument {
		return true
	}
	s, ok := v.StringValueOK()
	return ok && strings.HasPrefix(s, "$")
}

// compileOutputFields compiles the accumulators of a $bucket or
// $bucketAuto output document.
func compileOutputFields(d bson.Raw, vars *Variables) ([]groupField, error) {
	elems, _ := docElements(d)
	fields := make([]groupField, 0, len(elems))
	for _, el := range elems {
		f, err := compileAccumulator(el.key, el.val, vars)
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	return fields, nil
}
