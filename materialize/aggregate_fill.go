package materialize

import (
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file is $fill: it replaces null and missing values of the output
// fields by an expression's value, by the last non-null value before them
// in sortBy order (locf), or by linear interpolation between the non-null
// numbers around them along one numeric or date sortBy field (linear),
// within each partition (partitionBy or partitionByFields). With a method
// the output comes in (partition, sortBy) order, as the server's rewrite
// to $setWindowFields; with values only, in input order.

type fillOutput struct {
	field  string
	value  Expression // nil with a method
	method string     // "locf", "linear" or ""
}

type fillStage struct {
	partitionBy     Expression
	partitionFields [][]string
	sort            *Sort
	outputs         []fillOutput
	methods         bool
}

func compileFill(arg bson.RawValue, vars *Variables) (aggStage, error) {
	spec, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return nil, errTypeMismatch("the $fill stage specification must be an object, found %s", typeName(arg.Type))
	}
	s := &fillStage{}
	var output []byte
	var perr error
	iterElements(spec, func(key string, v bson.RawValue) bool {
		switch key {
		case "partitionBy":
			s.partitionBy, perr = compileExpression(v, vars)
		case "partitionByFields":
			if v.Type != bsontype.Array {
				perr = errTypeMismatch("BSON field '$fill.partitionByFields' is the wrong type '%s', expected type 'array'", typeName(v.Type))
				return false
			}
			for _, e := range arrayValues(v) {
				f, ok := e.StringValueOK()
				if !ok {
					perr = errTypeMismatch("BSON field '$fill.partitionByFields' must be an array of strings")
					return false
				}
				parts, err := aggFieldPath(f)
				if err != nil {
					perr = err
					return false
				}
				s.partitionFields = append(s.partitionFields, parts)
			}
		case "sortBy":
			d, ok := v.DocumentOK()
			if !ok || v.Type != bsontype.EmbeddedDocument {
				perr = errTypeMismatch("BSON field '$fill.sortBy' is the wrong type '%s', expected type 'object'", typeName(v.Type))
				return false
			}
			s.sort, perr = CompileSort(bson.Raw(d))
		case "output":
			d, ok := v.DocumentOK()
			if !ok || v.Type != bsontype.EmbeddedDocument {
				perr = errTypeMismatch("BSON field '$fill.output' is the wrong type '%s', expected type 'object'", typeName(v.Type))
				return false
			}
			output = d
		default:
			perr = errLocation(40415, "BSON field '$fill.%s' is an unknown field.", key)
		}
		return perr == nil
	})
	if perr != nil {
		return nil, perr
	}
	if output == nil {
		return nil, errLocation(40414, "BSON field '$fill.output' is missing but a required field")
	}
	if s.partitionBy != nil && s.partitionFields != nil {
		return nil, errLocation(6050204, "Maximum one of 'partitionBy' and 'partitionByFields can be specified in '$fill'")
	}
	elems, _ := docElements(output)
	for _, el := range elems {
		if _, err := aggFieldPath(el.key); err != nil {
			return nil, err
		}
		d, ok := el.val.DocumentOK()
		if !ok || el.val.Type != bsontype.EmbeddedDocument {
			return nil, errLocation(6050201, "Each fill output specification must be an object")
		}
		fe, _ := docElements(d)
		if len(fe) != 1 || (fe[0].key != "value" && fe[0].key != "method") {
			return nil, errLocation(6050202, "Exactly one of 'value' or 'method' must be specified per field in '$fill'")
		}
		o := fillOutput{field: el.key}
		if fe[0].key == "value" {
			e, err := compileExpression(fe[0].val, vars)
			if err != nil {
				return nil, err
			}
			o.value = e
		} else {
			m, _ := fe[0].val.StringValueOK()
			if m != "locf" && m != "linear" {
				return nil, errLocation(6050203, "Method must be either 'locf' or 'linear', found %s", aggValueString(fe[0].val))
			}
			if s.sort == nil {
				return nil, errLocation(6050204, "'sortBy' is required with a fill method")
			}
			if m == "linear" && s.sort.Len() != 1 {
				return nil, errLocation(605001, "$linearFill requires a sortBy on exactly one field")
			}
			o.method, s.methods = m, true
		}
		s.outputs = append(s.outputs, o)
	}
	return s, nil
}

// partition returns the partition value of d.
func (s *fillStage) partition(d bson.Raw) (bson.RawValue, error) {
	switch {
	case s.partitionBy != nil:
		v, err := s.partitionBy.Eval(d)
		if err != nil || v.Type == 0 {
			return valNull(), err
		}
		return v, nil
	case s.partitionFields != nil:
		vals := make([]bson.RawValue, len(s.partitionFields))
		for i, p := range s.partitionFields {
			vals[i] = evaluateFieldPath(d, p)
			if vals[i].Type == 0 {
				vals[i] = valNull()
			}
		}
		return makeArray(vals), nil
	}
	return valNull(), nil
}

func (s *fillStage) run(in DocSeq, _ *aggEnv) DocSeq {
	if s.methods {
		return runPartitioned(in, s.sort, s.partition, s.fillPartition)
	}
	return func(yield func(bson.Raw, error) bool) {
		for d, err := range in {
			if err == nil {
				d, err = s.fillValues(d, nil)
			}
			if !yield(d, err) || err != nil {
				return
			}
		}
	}
}

// fillValues sets the value outputs of d (and the method results in
// filled, by output index) where d's field is null or missing.
func (s *fillStage) fillValues(d bson.Raw, filled map[int]bson.RawValue) (bson.Raw, error) {
	md, err := NewMutableDocument(d)
	if err != nil {
		return nil, err
	}
	for i, o := range s.outputs {
		cur := evaluateFieldPath(d, strings.Split(o.field, "."))
		if !nullish(cur) {
			continue
		}
		var v bson.RawValue
		if o.value != nil {
			if v, err = o.value.Eval(d); err != nil {
				return nil, err
			}
		} else if fv, ok := filled[i]; ok {
			v = fv
		} else {
			continue
		}
		if v.Type == 0 {
			v = valNull()
		}
		if err := md.Set(o.field, v); err != nil {
			return nil, err
		}
	}
	return md.Raw(), nil
}

func (s *fillStage) fillPartition(p []partitionDoc) ([]bson.Raw, error) {
	filled := make([]map[int]bson.RawValue, len(p))
	for i := range filled {
		filled[i] = map[int]bson.RawValue{}
	}
	for oi, o := range s.outputs {
		if o.method == "" {
			continue
		}
		parts := strings.Split(o.field, ".")
		vals := make([]bson.RawValue, len(p))
		for i, pd := range p {
			vals[i] = evaluateFieldPath(pd.doc, parts)
		}
		var out []bson.RawValue
		if o.method == "locf" {
			out = locfValues(vals)
		} else {
			var err error
			if out, err = linearFillValues(vals, p); err != nil {
				return nil, err
			}
		}
		for i, v := range out {
			if nullish(vals[i]) && !nullish(v) {
				filled[i][oi] = v
			}
		}
	}
	out := make([]bson.Raw, len(p))
	for i, pd := range p {
		d, err := s.fillValues(pd.doc, filled[i])
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// locfValues is $locf over a partition's values in sort order: each null
// or missing value becomes the last non-null one before it (null if none).
func locfValues(vals []bson.RawValue) []bson.RawValue {
	out := make([]bson.RawValue, len(vals))
	last := valNull()
	for i, v := range vals {
		if !nullish(v) {
			last = v
		}
		out[i] = last
	}
	return out
}

// linearFillValues is $linearFill over a partition's values in the order
// of its single sort key: a null or missing value between two numbers a
// and b becomes va + (vb-va) * (xi-xa)/(xb-xa), x the sort key; those
// before the first number or after the last stay null.
func linearFillValues(vals []bson.RawValue, p []partitionDoc) ([]bson.RawValue, error) {
	out := make([]bson.RawValue, len(vals))
	for i := range out {
		out[i] = valNull()
	}
	prev := -1
	for i, v := range vals {
		if nullish(v) {
			continue
		}
		if !isNumeric(v.Type) {
			return nil, errLocation(6050106, "Value to be filled must be numeric, found %s", exprTypeName(v))
		}
		out[i] = v
		if prev >= 0 && i-prev > 1 {
			xa, err := fillX(p[prev].keys[0])
			if err != nil {
				return nil, err
			}
			xb, err := fillX(p[i].keys[0])
			if err != nil {
				return nil, err
			}
			va, vb := numberAsFloat(vals[prev]), numberAsFloat(v)
			for j := prev + 1; j < i; j++ {
				xj, err := fillX(p[j].keys[0])
				if err != nil {
					return nil, err
				}
				if xb == xa {
					out[j] = vals[prev]
					continue
				}
				out[j] = valDouble(va + (vb-va)*(xj-xa)/(xb-xa))
			}
		}
		prev = i
	}
	return out, nil
}

// fillX is a sort key as a number for linear interpolation: a number or a
// date (milliseconds).
func fillX(v bson.RawValue) (float64, error) {
	switch {
	case isNumeric(v.Type):
		return numberAsFloat(v), nil
	case v.Type == bsontype.DateTime:
		return float64(v.DateTime()), nil
	}
	return 0, errLocation(6050105, "$linearFill requires the sortBy field to be numeric or a date, found %s", exprTypeName(v))
}
