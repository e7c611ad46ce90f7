package materialize

import (
	"slices"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file is $setWindowFields: the documents are partitioned by
// partitionBy and sorted by sortBy (the output comes in that order), and
// each output field is a window function evaluated for every document over
// its partition or a window of it.
//
// Window functions: the accumulators $sum $avg $min $max $count $push
// $addToSet $first $last $stdDevPop $stdDevSamp (over the whole partition,
// a documents window [lower, upper] of positions, or a range window of
// sortBy values for one ascending numeric sort key), and $rank,
// $denseRank, $documentNumber and $shift. Others ($expMovingAvg,
// $derivative, $integral, $covariance*, $locf, $linearFill, $topN, ...),
// time units on range windows and descending range windows return errors
// wrapping NotImplemented.

// windowBound is one end of a window: unbounded, current, or an offset.
type windowBound struct {
	unbounded bool
	offset    float64 // documents: a whole number of positions; range: of the sort value
}

type windowOutput struct {
	name string
	op   string // an accumulator's name, "$rank", "$denseRank", "$documentNumber", "$shift", "$locf" or "$linearFill"
	acc  groupField
	// window (nil: the whole partition)
	window     *[2]windowBound
	rangeBased bool
	// $shift
	shiftBy      int64
	shiftOutput  Expression
	shiftDefault bson.RawValue
	// $locf, $linearFill, $expMovingAvg
	fillInput Expression
	// $covariancePop, $covarianceSamp: the two inputs
	covX, covY Expression
	// $expMovingAvg: the weight of each new value
	alpha float64
}

type windowStage struct {
	partitionBy Expression
	sort        *Sort
	sortKeys    int
	outputs     []windowOutput
}

// windowAccumulators are the accumulators a window can run.
var windowAccumulators = map[string]bool{
	"$sum": true, "$avg": true, "$min": true, "$max": true, "$count": true, "$push": true,
	"$addToSet": true, "$first": true, "$last": true, "$stdDevPop": true, "$stdDevSamp": true,
}

// knownWindowFunctions are the server's other window functions.
var knownWindowFunctions = map[string]bool{
	"$derivative": true, "$integral": true, "$topN": true, "$top": true,
	"$bottomN": true, "$bottom": true, "$firstN": true, "$lastN": true, "$maxN": true, "$minN": true,
	"$median": true, "$percentile": true, "$mergeObjects": true,
}

func compileSetWindowFields(arg bson.RawValue, vars *Variables) (aggStage, error) {
	spec, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(ErrCodeFailedToParse, "the $setWindowFields stage specification must be an object, found %s", typeName(arg.Type))
	}
	s := &windowStage{}
	var output []byte
	haveOutput := false
	var perr error
	iterElements(spec, func(key string, v bson.RawValue) bool {
		switch key {
		case "partitionBy":
			s.partitionBy, perr = compileExpression(v, vars)
		case "sortBy":
			d, ok := v.DocumentOK()
			if !ok || v.Type != bsontype.EmbeddedDocument {
				perr = errTypeMismatch("BSON field '$setWindowFields.sortBy' is the wrong type '%s', expected type 'object'", typeName(v.Type))
				return false
			}
			s.sort, perr = CompileSort(bson.Raw(d))
			if perr == nil {
				s.sortKeys = s.sort.Len()
			}
		case "output":
			d, ok := v.DocumentOK()
			if !ok || v.Type != bsontype.EmbeddedDocument {
				perr = errTypeMismatch("BSON field '$setWindowFields.output' is the wrong type '%s', expected type 'object'", typeName(v.Type))
				return false
			}
			output, haveOutput = d, true
		default:
			perr = errLocation(40415, "BSON field '$setWindowFields.%s' is an unknown field.", key)
		}
		return perr == nil
	})
	if perr != nil {
		return nil, perr
	}
	if !haveOutput {
		return nil, errLocation(40414, "BSON field '$setWindowFields.output' is missing but a required field")
	}
	elems, _ := docElements(output)
	for _, el := range elems {
		o, err := s.compileOutput(el.key, el.val, vars)
		if err != nil {
			return nil, err
		}
		s.outputs = append(s.outputs, o)
	}
	return s, nil
}

func (s *windowStage) compileOutput(name string, v bson.RawValue, vars *Variables) (windowOutput, error) {
	if _, err := aggFieldPath(name); err != nil {
		return windowOutput{}, err
	}
	d, ok := v.DocumentOK()
	if !ok || v.Type != bsontype.EmbeddedDocument {
		return windowOutput{}, errLocation(ErrCodeFailedToParse, "The field '%s' must be an object", name)
	}
	o := windowOutput{name: name}
	var fnArg, windowSpec bson.RawValue
	haveWindow := false
	var perr error
	iterElements(d, func(key string, ev bson.RawValue) bool {
		switch {
		case key == "window":
			windowSpec, haveWindow = ev, true
		case o.op != "":
			perr = errLocation(ErrCodeFailedToParse, "Window function found an unknown argument: %s", key)
		case windowAccumulators[key] || key == "$rank" || key == "$denseRank" || key == "$documentNumber" || key == "$shift" ||
			key == "$locf" || key == "$linearFill" || key == "$covariancePop" || key == "$covarianceSamp" || key == "$expMovingAvg":
			o.op, fnArg = key, ev
		case knownWindowFunctions[key]:
			perr = errNotSupported("the " + key + " window function")
		default:
			perr = errLocation(ErrCodeFailedToParse, "Unrecognized window function, %s", key)
		}
		return perr == nil
	})
	if perr != nil {
		return windowOutput{}, perr
	}
	if o.op == "" {
		return windowOutput{}, errLocation(ErrCodeFailedToParse, "Expected a $-prefixed window function, %s", name)
	}
	switch o.op {
	case "$rank", "$denseRank", "$documentNumber":
		ad, ok := fnArg.DocumentOK()
		if !ok || fnArg.Type != bsontype.EmbeddedDocument || len(ad) != 5 {
			return windowOutput{}, errLocation(5371603, "%s must be specified with '{}' as the value", o.op)
		}
		if haveWindow {
			return windowOutput{}, errLocation(5371601, "Rank style window functions take no other arguments")
		}
		if s.sort == nil || (o.op != "$documentNumber" && s.sortKeys != 1) {
			return windowOutput{}, errLocation(5371602, "%s must be specified with a top level sortBy expression with exactly one element", o.op)
		}
		return o, nil
	case "$shift":
		return s.compileShift(o, fnArg, haveWindow, vars)
	case "$locf", "$linearFill":
		if haveWindow {
			return windowOutput{}, errLocation(ErrCodeFailedToParse, "%s does not accept a 'window' field", o.op)
		}
		if o.op == "$linearFill" && (s.sort == nil || s.sortKeys != 1) {
			return windowOutput{}, errLocation(605001, "$linearFill requires a sortBy on exactly one field")
		}
		var err error
		o.fillInput, err = compileExpression(fnArg, vars)
		return o, err
	case "$covariancePop", "$covarianceSamp":
		arr, ok := fnArg.ArrayOK()
		vals, _ := arr.Values()
		if !ok || fnArg.Type != bsontype.Array || len(vals) != 2 {
			return windowOutput{}, errLocation(ErrCodeFailedToParse, "%s requires an array of two expressions", o.op)
		}
		var err error
		if o.covX, err = compileExpression(vals[0], vars); err != nil {
			return windowOutput{}, err
		}
		if o.covY, err = compileExpression(vals[1], vars); err != nil {
			return windowOutput{}, err
		}
		if haveWindow {
			if err := s.compileWindow(&o, windowSpec); err != nil {
				return windowOutput{}, err
			}
		}
		return o, nil
	case "$expMovingAvg":
		return s.compileExpMovingAvg(o, fnArg, haveWindow, vars)
	}
	acc, err := compileAccumulator(name, bson.RawValue{Type: bsontype.EmbeddedDocument, Value: buildDoc([]string{o.op}, []bson.RawValue{fnArg})}, vars)
	if err != nil {
		return windowOutput{}, err
	}
	o.acc = acc
	if haveWindow {
		if err := s.compileWindow(&o, windowSpec); err != nil {
			return windowOutput{}, err
		}
	}
	return o, nil
}

// compileExpMovingAvg parses {input, N} or {input, alpha}: the weight of
// each new value is alpha, or 2/(N+1).
func (s *windowStage) compileExpMovingAvg(o windowOutput, arg bson.RawValue, haveWindow bool, vars *Variables) (windowOutput, error) {
	d, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return o, errLocation(ErrCodeFailedToParse, "$expMovingAvg must have exactly one argument that is an object")
	}
	if haveWindow {
		return o, errLocation(ErrCodeFailedToParse, "$expMovingAvg does not accept a 'window' field")
	}
	if s.sort == nil {
		return o, errLocation(ErrCodeFailedToParse, "$expMovingAvg requires an explicit 'sortBy'")
	}
	haveN, haveAlpha := false, false
	var perr error
	iterElements(d, func(key string, v bson.RawValue) bool {
		switch key {
		case "input":
			o.fillInput, perr = compileExpression(v, vars)
		case "N":
			n, ok := wholeNumber(v)
			if !ok || n <= 0 {
				perr = errLocation(ErrCodeFailedToParse, "'N' field must be an integer greater than zero, but found %s", aggValueString(v))
				return false
			}
			o.alpha, haveN = 2/(float64(n)+1), true
		case "alpha":
			a := numberAsFloat(v)
			if !isNumeric(v.Type) || a <= 0 || a >= 1 {
				perr = errLocation(ErrCodeFailedToParse, "'alpha' must be a number between 0 and 1 exclusive, but found %s", aggValueString(v))
				return false
			}
			o.alpha, haveAlpha = a, true
		default:
			perr = errLocation(ErrCodeFailedToParse, "Got unrecognized field in $expMovingAvg, $expMovingAvg only accepts 'input' and either 'N' or 'alpha'")
		}
		return perr == nil
	})
	if perr != nil {
		return o, perr
	}
	if o.fillInput == nil || haveN == haveAlpha {
		return o, errLocation(ErrCodeFailedToParse, "$expMovingAvg requires an 'input' and exactly one of 'N' and 'alpha'")
	}
	return o, nil
}

func (s *windowStage) compileShift(o windowOutput, arg bson.RawValue, haveWindow bool, vars *Variables) (windowOutput, error) {
	d, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return o, errLocation(ErrCodeFailedToParse, "Argument to $shift must be an object")
	}
	if haveWindow {
		return o, errLocation(ErrCodeFailedToParse, "$shift does not accept a 'window' field")
	}
	if s.sort == nil {
		return o, errLocation(ErrCodeFailedToParse, "$shift requires a sortBy")
	}
	haveBy := false
	o.shiftDefault = valNull()
	var perr error
	iterElements(d, func(key string, v bson.RawValue) bool {
		switch key {
		case "output":
			o.shiftOutput, perr = compileExpression(v, vars)
		case "by":
			r, ok := exactRat(v)
			if !isNumeric(v.Type) || !ok || !r.IsInt() || !r.Num().IsInt64() {
				perr = errLocation(ErrCodeFailedToParse, "'$shift:by' field must be an integer, but found %s", aggValueString(v))
				return false
			}
			o.shiftBy, haveBy = r.Num().Int64(), true
		case "default":
			e, err := compileExpression(v, vars)
			if err != nil {
				perr = err
				return false
			}
			c, err := e.Eval(emptyDocBytes)
			if err != nil {
				perr = err
				return false
			}
			if c.Type == 0 {
				c = valNull()
			}
			o.shiftDefault = c
		default:
			perr = errLocation(ErrCodeFailedToParse, "Unknown argument in $shift")
		}
		return perr == nil
	})
	if perr != nil {
		return o, perr
	}
	if o.shiftOutput == nil || !haveBy {
		return o, errLocation(ErrCodeFailedToParse, "$shift requires an 'output' and a 'by' field")
	}
	return o, nil
}

// compileWindow parses {documents: [lower, upper]} or {range: [lower,
// upper]}.
func (s *windowStage) compileWindow(o *windowOutput, spec bson.RawValue) error {
	d, ok := spec.DocumentOK()
	if !ok || spec.Type != bsontype.EmbeddedDocument {
		return errLocation(ErrCodeFailedToParse, "'window' field must be an object")
	}
	var bounds bson.RawValue
	kinds := 0
	var perr error
	iterElements(d, func(key string, v bson.RawValue) bool {
		switch key {
		case "documents":
			bounds, kinds = v, kinds+1
		case "range":
			bounds, kinds, o.rangeBased = v, kinds+1, true
		case "unit":
			perr = errNotSupported("time units on range windows")
		default:
			perr = errLocation(ErrCodeFailedToParse, "'window' field that is not 'documents', 'range' or 'unit': %s", key)
		}
		return perr == nil
	})
	if perr != nil {
		return perr
	}
	if kinds != 1 {
		return errLocation(ErrCodeFailedToParse, "'window' field must specify exactly one of 'documents' or 'range'")
	}
	kind := "documents"
	if o.rangeBased {
		kind = "range"
	}
	arr, ok := bounds.ArrayOK()
	vals := []bson.RawValue{}
	if ok && bounds.Type == bsontype.Array {
		iterElements(arr, func(_ string, e bson.RawValue) bool {
			vals = append(vals, e)
			return true
		})
	}
	if len(vals) != 2 {
		return errLocation(ErrCodeFailedToParse, "Window bounds must be a 2-element array: %s: %s", kind, aggValueString(bounds))
	}
	var w [2]windowBound
	for i, v := range vals {
		switch {
		case v.Type == bsontype.String && v.StringValue() == "unbounded":
			w[i].unbounded = true
		case v.Type == bsontype.String && v.StringValue() == "current":
		case isNumeric(v.Type) && o.rangeBased:
			w[i].offset = numberAsFloat(v)
		case isNumeric(v.Type):
			r, ok := exactRat(v)
			if !ok || !r.IsInt() || !r.Num().IsInt64() {
				return errLocation(ErrCodeFailedToParse, "Numeric document-based bounds must be an integer: %s", aggValueString(v))
			}
			// Clamped far beyond any partition, so positions cannot overflow.
			w[i].offset = float64(max(-1<<50, min(r.Num().Int64(), 1<<50)))
		default:
			return errLocation(ErrCodeFailedToParse, "Window bounds must be 'unbounded', 'current', or a number: %s", aggValueString(v))
		}
	}
	if !w[0].unbounded && !w[1].unbounded && w[0].offset > w[1].offset {
		return errLocation(5339900, "Lower bound must not exceed upper bound: %s", aggValueString(bounds))
	}
	if !w[0].unbounded || !w[1].unbounded {
		o.window = &w // ["unbounded", "unbounded"] is the whole partition
	}
	if s.sort == nil && o.window != nil {
		return errLocation(5339901, "Document-based bounds require a sortBy")
	}
	if o.rangeBased {
		if s.sortKeys != 1 {
			return errLocation(5339902, "Range-based bounds require sortBy a single field")
		}
		if s.sort.keys[0].desc {
			return errNotSupported("range windows over a descending sortBy")
		}
	}
	return nil
}

// partitionDoc is a document with its partition value and sort keys.
type partitionDoc struct {
	doc  bson.Raw
	part bson.RawValue
	keys []bson.RawValue
}

func (s *windowStage) run(in DocSeq, _ *aggEnv) DocSeq {
	return runPartitioned(in, s.sort, func(d bson.Raw) (bson.RawValue, error) {
		if s.partitionBy == nil {
			return valNull(), nil
		}
		v, err := s.partitionBy.Eval(d)
		if err != nil || v.Type == 0 {
			return valNull(), err
		}
		return v, nil
	}, s.partition)
}

// runPartitioned groups in by partition value (part) and sorts each group
// by sort, then yields what each group gives: $setWindowFields and $fill.
func runPartitioned(in DocSeq, sort *Sort, part func(bson.Raw) (bson.RawValue, error),
	each func([]partitionDoc) ([]bson.Raw, error)) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		var docs []partitionDoc
		for d, err := range in {
			var pv bson.RawValue
			if err == nil {
				pv, err = part(d)
			}
			if err != nil {
				yield(nil, err)
				return
			}
			docs = append(docs, partitionDoc{doc: d, part: pv, keys: sort.Keys(d)})
		}
		slices.SortStableFunc(docs, func(a, b partitionDoc) int {
			if c := CompareValues(a.part, b.part); c != 0 {
				return c
			}
			return sort.CompareKeys(a.keys, b.keys)
		})
		for start := 0; start < len(docs); {
			end := start + 1
			for end < len(docs) && CompareValues(docs[end].part, docs[start].part) == 0 {
				end++
			}
			out, err := each(docs[start:end])
			if err != nil {
				yield(nil, err)
				return
			}
			for _, d := range out {
				if !yield(d, nil) {
					return
				}
			}
			start = end
		}
	}
}

// partition computes the outputs for one sorted partition.
func (s *windowStage) partition(p []partitionDoc) ([]bson.Raw, error) {
	results := make([][]bson.RawValue, len(s.outputs))
	for oi, o := range s.outputs {
		vals, err := s.evalOutput(o, p)
		if err != nil {
			return nil, err
		}
		results[oi] = vals
	}
	out := make([]bson.Raw, len(p))
	for i, pd := range p {
		md, err := NewMutableDocument(pd.doc)
		if err != nil {
			return nil, err
		}
		for oi, o := range s.outputs {
			v := results[oi][i]
			if v.Type == 0 {
				v = valNull()
			}
			if err := md.Set(o.name, v); err != nil {
				return nil, err
			}
		}
		out[i] = md.Raw()
	}
	return out, nil
}

// evalOutput returns one output's value for each document of p.
func (s *windowStage) evalOutput(o windowOutput, p []partitionDoc) ([]bson.RawValue, error) {
	vals := make([]bson.RawValue, len(p))
	switch o.op {
	case "$documentNumber":
		for i := range p {
			vals[i] = intOrLong(int64(i + 1))
		}
		return vals, nil
	case "$rank", "$denseRank":
		rank, dense := 0, 0
		for i := range p {
			if i == 0 || s.sort.CompareKeys(p[i].keys, p[i-1].keys) != 0 {
				rank, dense = i+1, dense+1
			}
			if o.op == "$rank" {
				vals[i] = intOrLong(int64(rank))
			} else {
				vals[i] = intOrLong(int64(dense))
			}
		}
		return vals, nil
	case "$locf", "$linearFill":
		for i, pd := range p {
			v, err := o.fillInput.Eval(pd.doc)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		if o.op == "$locf" {
			return locfValues(vals), nil
		}
		return linearFillValues(vals, p)
	case "$expMovingAvg":
		avg := valNull()
		var cur float64
		for i, pd := range p {
			v, err := o.fillInput.Eval(pd.doc)
			if err != nil {
				return nil, err
			}
			if isNumeric(v.Type) {
				if v.Type == bsontype.Decimal128 {
					return nil, errNotSupported("$expMovingAvg over decimal values")
				}
				if avg.Type == bsontype.Null {
					cur = numberAsFloat(v)
				} else {
					cur = numberAsFloat(v)*o.alpha + cur*(1-o.alpha)
				}
				avg = valDouble(cur)
			}
			vals[i] = avg
		}
		return vals, nil
	case "$shift":
		for i := range p {
			j := int64(i) + o.shiftBy
			if j < 0 || j >= int64(len(p)) {
				vals[i] = o.shiftDefault
				continue
			}
			v, err := o.shiftOutput.Eval(p[j].doc)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		return vals, nil
	}
	agg := func(docs []partitionDoc) (bson.RawValue, error) { return accumulate(o.acc, docs) }
	if o.covX != nil {
		agg = func(docs []partitionDoc) (bson.RawValue, error) { return covariance(o, docs) }
	}
	if o.window == nil {
		v, err := agg(p)
		if err != nil {
			return nil, err
		}
		for i := range vals {
			vals[i] = v
		}
		return vals, nil
	}
	var sortVals []float64
	if o.rangeBased {
		sortVals = make([]float64, len(p))
		for i, pd := range p {
			k := pd.keys[0]
			if !isNumeric(k.Type) {
				return nil, errLocation(5429414, "Invalid range: Expected the sortBy field to be a number, but it was %s", exprTypeName(k))
			}
			sortVals[i] = numberAsFloat(k)
		}
	}
	for i := range p {
		lo, hi := 0, len(p) // [lo, hi)
		if o.rangeBased {
			v := sortVals[i]
			if !o.window[0].unbounded {
				for lo < len(p) && sortVals[lo] < v+o.window[0].offset {
					lo++
				}
			}
			if !o.window[1].unbounded {
				hi = lo
				for hi < len(p) && sortVals[hi] <= v+o.window[1].offset {
					hi++
				}
			}
		} else {
			if !o.window[0].unbounded {
				lo = max(0, i+int(o.window[0].offset))
			}
			if !o.window[1].unbounded {
				hi = min(len(p), i+int(o.window[1].offset)+1)
			}
		}
		hi = max(0, min(hi, len(p)))
		lo = max(0, min(lo, hi))
		v, err := agg(p[lo:hi])
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

// covariance is $covariancePop or $covarianceSamp over docs: documents
// where either input is not a number do not count; null when too few do.
func covariance(o windowOutput, docs []partitionDoc) (bson.RawValue, error) {
	var xs, ys []float64
	for _, pd := range docs {
		x, err := o.covX.Eval(pd.doc)
		if err != nil {
			return bson.RawValue{}, err
		}
		y, err := o.covY.Eval(pd.doc)
		if err != nil {
			return bson.RawValue{}, err
		}
		if !isNumeric(x.Type) || !isNumeric(y.Type) {
			continue
		}
		xs, ys = append(xs, numberAsFloat(x)), append(ys, numberAsFloat(y))
	}
	n := float64(len(xs))
	if n == 0 || (o.op == "$covarianceSamp" && n == 1) {
		return valNull(), nil
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/n, my/n
	var c float64
	for i := range xs {
		c += (xs[i] - mx) * (ys[i] - my)
	}
	if o.op == "$covarianceSamp" {
		return valDouble(c / (n - 1)), nil
	}
	return valDouble(c / n), nil
}

// accumulate runs an accumulator over documents.
func accumulate(f groupField, docs []partitionDoc) (bson.RawValue, error) {
	a := &accState{op: f.op}
	for _, pd := range docs {
		v, err := f.expr.Eval(pd.doc)
		if err != nil {
			return bson.RawValue{}, err
		}
		if err := a.add(v); err != nil {
			return bson.RawValue{}, err
		}
	}
	return a.result()
}
