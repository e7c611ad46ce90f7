package materialize

import (
	"math"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file is $densify: for each partition (partitionByFields), it adds a
// document {field: v, partition fields...} for every value v = lower +
// k·step in the range that no document has, numbers without a unit and
// dates with one (millisecond ... week, and month, quarter, year on the
// UTC calendar). The output comes sorted by partition and field, with the
// documents whose field is null or missing first in their partition.

// maxDensifyDocs bounds the documents one $densify may generate, as the
// server's internalQueryMaxAllowedDensifyDocs.
const maxDensifyDocs = 500000

type densifyStage struct {
	field      string
	parts      []string
	partitions []string
	bounds     string        // "full", "partition" or "" (explicit lo, hi)
	lo, hi     bson.RawValue // explicit bounds
	step       float64
	unit       string
}

func compileDensify(arg bson.RawValue) (aggStage, error) {
	spec, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return nil, errTypeMismatch("the $densify stage specification must be an object, found %s", typeName(arg.Type))
	}
	s := &densifyStage{}
	var rangeSpec []byte
	var perr error
	iterElements(spec, func(key string, v bson.RawValue) bool {
		switch key {
		case "field":
			f, ok := v.StringValueOK()
			if !ok {
				perr = errTypeMismatch("BSON field '$densify.field' is the wrong type '%s', expected type 'string'", typeName(v.Type))
				return false
			}
			s.field = f
		case "partitionByFields":
			if v.Type != bsontype.Array {
				perr = errTypeMismatch("BSON field '$densify.partitionByFields' is the wrong type '%s', expected type 'array'", typeName(v.Type))
				return false
			}
			for _, e := range arrayValues(v) {
				f, ok := e.StringValueOK()
				if !ok {
					perr = errTypeMismatch("BSON field '$densify.partitionByFields' must be an array of strings")
					return false
				}
				s.partitions = append(s.partitions, f)
			}
		case "range":
			d, ok := v.DocumentOK()
			if !ok || v.Type != bsontype.EmbeddedDocument {
				perr = errTypeMismatch("BSON field '$densify.range' is the wrong type '%s', expected type 'object'", typeName(v.Type))
				return false
			}
			rangeSpec = d
		default:
			perr = errLocation(40415, "BSON field '$densify.%s' is an unknown field.", key)
		}
		return perr == nil
	})
	if perr != nil {
		return nil, perr
	}
	if s.field == "" {
		return nil, errLocation(40414, "BSON field '$densify.field' is missing but a required field")
	}
	if rangeSpec == nil {
		return nil, errLocation(40414, "BSON field '$densify.range' is missing but a required field")
	}
	var err error
	if s.parts, err = aggFieldPath(s.field); err != nil {
		return nil, err
	}
	for _, p := range s.partitions {
		if _, err := aggFieldPath(p); err != nil {
			return nil, err
		}
		if p == s.field || strings.HasPrefix(s.field, p+".") || strings.HasPrefix(p, s.field+".") {
			return nil, errLocation(8993000, "Cannot densify field '%s' when it is a partition field", s.field)
		}
	}
	haveStep, haveBounds := false, false
	var stepV bson.RawValue
	iterElements(rangeSpec, func(key string, v bson.RawValue) bool {
		switch key {
		case "step":
			if !isNumeric(v.Type) {
				perr = errTypeMismatch("BSON field '$densify.range.step' must be numeric")
				return false
			}
			stepV, haveStep = v, true
		case "unit":
			u, _ := v.StringValueOK()
			switch u {
			case "millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year":
				s.unit = u
			default:
				perr = errBadValue("unknown time unit value: %s", aggValueString(v))
			}
		case "bounds":
			haveBounds = true
			if b, ok := v.StringValueOK(); ok && (b == "full" || b == "partition") {
				s.bounds = b
				return true
			}
			if v.Type == bsontype.Array {
				if b := arrayValues(v); len(b) == 2 {
					s.lo, s.hi = b[0], b[1]
					return true
				}
			}
			perr = errLocation(5946802, "Bounds must be 'full', 'partition', or an array of two values of the same type")
		default:
			perr = errLocation(40415, "BSON field '$densify.range.%s' is an unknown field.", key)
		}
		return perr == nil
	})
	if perr != nil {
		return nil, perr
	}
	if !haveStep || !haveBounds {
		return nil, errLocation(40414, "BSON field '$densify.range.%s' is missing but a required field", map[bool]string{true: "bounds", false: "step"}[haveStep])
	}
	s.step = numberAsFloat(stepV)
	if !(s.step > 0) || math.IsInf(s.step, 0) {
		return nil, errLocation(5733401, "the step parameter in a range statement must be a strictly positive numeric value")
	}
	if s.unit != "" && s.step != math.Trunc(s.step) {
		return nil, errLocation(5733402, "the step parameter must be an integer when a unit is given")
	}
	if s.bounds == "" {
		wantDate := s.unit != ""
		for _, b := range []bson.RawValue{s.lo, s.hi} {
			if (b.Type == bsontype.DateTime) != wantDate || (!wantDate && !isNumeric(b.Type)) {
				if wantDate {
					return nil, errLocation(5733406, "a bounding array must contain dates when a unit is given")
				}
				return nil, errLocation(5733403, "a bounding array must contain numbers when no unit is given")
			}
		}
		if CompareValues(s.lo, s.hi) > 0 {
			return nil, errLocation(5733402, "the lower bound must not be greater than the upper bound")
		}
	}
	if s.bounds == "partition" && len(s.partitions) == 0 {
		return nil, errLocation(5733408, "one may not specify the bounds as 'partition' without specifying a non-empty array of partitionByFields")
	}
	return s, nil
}

// densifyDoc is a document with its partition key and field value.
type densifyDoc struct {
	doc  bson.Raw
	part bson.RawValue
	val  bson.RawValue
}

// estimate is about how many values lie in [lo, hi) (never more, for
// calendar units).
func (s *densifyStage) estimate(lo, hi bson.RawValue) float64 {
	if s.unit == "" {
		return (numberAsFloat(hi) - numberAsFloat(lo)) / s.step
	}
	unitMs := map[string]float64{"millisecond": 1, "second": 1e3, "minute": 6e4, "hour": 36e5, "day": 864e5, "week": 6048e5,
		"month": 31 * 864e5, "quarter": 92 * 864e5, "year": 366 * 864e5}[s.unit]
	return float64(hi.DateTime()-lo.DateTime()) / (s.step * unitMs)
}

// at returns base advanced by k steps: whole numbers stay int or long
// while the step is whole, as the server's arithmetic.
func (s *densifyStage) at(base bson.RawValue, k int64) bson.RawValue {
	if s.unit == "" {
		if (base.Type == bsontype.Int32 || base.Type == bsontype.Int64) && s.step == math.Trunc(s.step) && s.step < 1<<40 {
			n := integerOf(base) + k*int64(s.step)
			if base.Type == bsontype.Int64 {
				return valInt64(n)
			}
			return intOrLong(n)
		}
		return valDouble(numberAsFloat(base) + float64(k)*s.step)
	}
	t := time.UnixMilli(base.DateTime()).UTC()
	n := int(k * int64(s.step))
	switch s.unit {
	case "millisecond":
		t = t.Add(time.Duration(n) * time.Millisecond)
	case "second":
		t = t.Add(time.Duration(n) * time.Second)
	case "minute":
		t = t.Add(time.Duration(n) * time.Minute)
	case "hour":
		t = t.Add(time.Duration(n) * time.Hour)
	case "day":
		t = t.AddDate(0, 0, n)
	case "week":
		t = t.AddDate(0, 0, 7*n)
	case "month":
		t = t.AddDate(0, n, 0)
	case "quarter":
		t = t.AddDate(0, 3*n, 0)
	default: // year
		t = t.AddDate(n, 0, 0)
	}
	return bson.RawValue{Type: bsontype.DateTime, Value: appendInt64(nil, t.UnixMilli())}
}

func (s *densifyStage) run(in DocSeq, _ *aggEnv) DocSeq {
	return func(yield func(bson.Raw, error) bool) {
		var docs []densifyDoc
		var gmin, gmax bson.RawValue
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			dd := densifyDoc{doc: d, val: evaluateFieldPath(d, s.parts)}
			vals := make([]bson.RawValue, len(s.partitions))
			for i, p := range s.partitions {
				vals[i] = evaluateFieldPath(d, strings.Split(p, "."))
				if vals[i].Type == 0 {
					vals[i] = valNull()
				}
			}
			dd.part = makeArray(vals)
			if !nullish(dd.val) {
				if (s.unit == "") != isNumeric(dd.val.Type) || (s.unit != "" && dd.val.Type != bsontype.DateTime) {
					if s.unit == "" {
						yield(nil, errLocation(5733201, "Densify field type must be numeric when no unit is given, found %s", exprTypeName(dd.val)))
					} else {
						yield(nil, errLocation(5733200, "Densify field type must be a date when a unit is given, found %s", exprTypeName(dd.val)))
					}
					return
				}
				if gmin.Type == 0 || CompareValues(dd.val, gmin) < 0 {
					gmin = dd.val
				}
				if gmax.Type == 0 || CompareValues(dd.val, gmax) > 0 {
					gmax = dd.val
				}
			} else {
				dd.val = valNull()
			}
			docs = append(docs, dd)
		}
		slices.SortStableFunc(docs, func(a, b densifyDoc) int {
			if c := CompareValues(a.part, b.part); c != 0 {
				return c
			}
			return CompareValues(a.val, b.val)
		})
		generated := 0
		emit := func(d bson.Raw) bool { return yield(d, nil) }
		for start := 0; start < len(docs); {
			end := start + 1
			for end < len(docs) && CompareValues(docs[end].part, docs[start].part) == 0 {
				end++
			}
			p := docs[start:end]
			start = end
			lo, hi := s.lo, s.hi
			switch s.bounds {
			case "full":
				lo, hi = gmin, gmax
			case "partition":
				lo, hi = bson.RawValue{}, bson.RawValue{}
				for _, d := range p {
					if d.val.Type == bsontype.Null {
						continue
					}
					if lo.Type == 0 {
						lo = d.val
					}
					hi = d.val
				}
			}
			var gen []bson.RawValue
			if lo.Type != 0 && hi.Type != 0 && s.estimate(lo, hi) > float64(maxDensifyDocs-generated) {
				yield(nil, errLocation(5897900, "Generated over %d documents in $densify, which is over the limit of %d", maxDensifyDocs, maxDensifyDocs))
				return
			}
			if lo.Type != 0 && hi.Type != 0 {
				for k := int64(0); ; k++ {
					g := s.at(lo, k)
					if CompareValues(g, hi) >= 0 {
						break
					}
					gen = append(gen, g)
					if generated+len(gen) > maxDensifyDocs {
						yield(nil, errLocation(5897900, "Generated %d documents in $densify, which is over the limit of %d", generated+len(gen), maxDensifyDocs))
						return
					}
				}
			}
			generated += len(gen)
			gi := 0
			for _, d := range p {
				for d.val.Type != bsontype.Null && gi < len(gen) && CompareValues(gen[gi], d.val) <= 0 {
					if CompareValues(gen[gi], d.val) < 0 {
						nd, err := s.newDoc(d.doc, gen[gi])
						if err != nil {
							yield(nil, err)
							return
						}
						if !emit(nd) {
							return
						}
					}
					gi++
				}
				if !emit(d.doc) {
					return
				}
			}
			for ; gi < len(gen); gi++ {
				nd, err := s.newDoc(p[0].doc, gen[gi])
				if err != nil {
					yield(nil, err)
					return
				}
				if !emit(nd) {
					return
				}
			}
		}
	}
}

// newDoc builds a generated document: the partition fields of a document
// of its partition, and the field set to v.
func (s *densifyStage) newDoc(like bson.Raw, v bson.RawValue) (bson.Raw, error) {
	md, err := NewMutableDocument(emptyDocBytes)
	if err != nil {
		return nil, err
	}
	for _, p := range s.partitions {
		pv := evaluateFieldPath(like, strings.Split(p, "."))
		if pv.Type == 0 {
			continue
		}
		if err := md.Set(p, pv); err != nil {
			return nil, err
		}
	}
	if err := md.Set(s.field, v); err != nil {
		return nil, err
	}
	return md.Raw(), nil
}
