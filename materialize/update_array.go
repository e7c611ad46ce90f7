package materialize

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// This file holds the array operators' arguments: $push with its $each,
// $position, $sort and $slice clauses, $addToSet with $each, and $pull's
// three kinds of conditions.

// updPushSpec is a parsed $push argument.
type updPushSpec struct {
	values   []bson.RawValue
	position int64 // where to insert; math.MaxInt64 appends
	slice    int64 // math.MaxInt64 keeps everything
	sort     *updPushSort
}

// updPushSort is a $sort clause: the whole element (wholeDesc) or fields.
type updPushSort struct {
	whole     bool
	wholeDesc bool
	fields    [][]string
	desc      []bool
	coll      *Collation // nil: simple
}

func updParsePush(val bson.RawValue) (*updPushSpec, error) {
	spec := &updPushSpec{position: math.MaxInt64, slice: math.MaxInt64}
	if val.Type != bsontype.EmbeddedDocument {
		spec.values = []bson.RawValue{val}
		return spec, nil
	}
	d := dnFromRaw(val)
	d.expand()
	hasEach := false
	for _, k := range d.kids {
		if k.name == "$each" {
			hasEach = true
		}
	}
	if !hasEach {
		// An object without $each is the value to push.
		spec.values = []bson.RawValue{val}
		return spec, nil
	}
	clauses := map[string]*dnode{}
	for _, k := range d.kids {
		switch k.name {
		case "$each", "$slice", "$sort", "$position":
		default:
			return nil, errBadValue("Unrecognized clause in $push: %s", k.name)
		}
		if _, dup := clauses[k.name]; dup {
			return nil, errBadValue("Only one %s is supported.", k.name)
		}
		clauses[k.name] = k.n
	}
	each := clauses["$each"]
	if each.t != bsontype.Array {
		return nil, errBadValue("The argument to $each in $push must be an array but it was of type: %s", dnTypeName(each.t))
	}
	spec.values = updArrayValues(each.value())
	if s, ok := clauses["$slice"]; ok {
		v, err := updParseInteger("$slice", s.value())
		if err != nil {
			return nil, errBadValue("The value for $slice must be an integer value but was given type: %s", dnTypeName(s.t))
		}
		spec.slice = v
	}
	if s, ok := clauses["$sort"]; ok {
		srt, err := updParsePushSort(s)
		if err != nil {
			return nil, err
		}
		spec.sort = srt
	}
	if p, ok := clauses["$position"]; ok {
		v, err := updParseInteger("$position", p.value())
		if err != nil {
			return nil, errBadValue("The value for $position must be an integer value, not of type: %s", dnTypeName(p.t))
		}
		spec.position = v
	}
	return spec, nil
}

// updNumber returns a numeric value as a double (BSONElement::Number).
func updNumber(n *dnode) (float64, bool) {
	num, ok := updNumFromValue(n.t, n.data)
	if !ok {
		return 0, false
	}
	if num.t == bsontype.Decimal128 {
		return udecToFloat(num.d), true
	}
	return num.asDouble(), true
}

// udecToFloat converts a decimal to the nearest double.
func udecToFloat(d udec) float64 {
	switch d.kind {
	case udecNaN:
		return math.NaN()
	case udecInf:
		if d.neg {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	hi, lo := d.bits()
	f, err := strconv.ParseFloat(primitive.NewDecimal128(hi, lo).String(), 64)
	if err != nil {
		return 0
	}
	return f
}

func updParsePushSort(s *dnode) (*updPushSort, error) {
	switch {
	case s.t == bsontype.EmbeddedDocument:
		s.expand()
		if len(s.kids) == 0 {
			return nil, errBadValue("The $sort pattern is empty when it should be a set of fields.")
		}
		srt := &updPushSort{}
		for _, k := range s.kids {
			v, _ := updNumber(k.n)
			if v != 1 && v != -1 {
				return nil, errBadValue("The $sort element value must be either 1 or -1")
			}
			parts := strings.Split(k.name, ".")
			if k.name == "" {
				return nil, errBadValue("The $sort field cannot be empty")
			}
			for _, p := range parts {
				if p == "" {
					return nil, errBadValue("The $sort field is a dotted field but has an empty part: %s", k.name)
				}
			}
			srt.fields = append(srt.fields, parts)
			srt.desc = append(srt.desc, v < 0)
		}
		return srt, nil
	case s.t == bsontype.Int32 || s.t == bsontype.Int64 || s.t == bsontype.Double || s.t == bsontype.Decimal128:
		v, _ := updNumber(s)
		if v != 1 && v != -1 {
			return nil, errBadValue("The $sort element value must be either 1 or -1")
		}
		return &updPushSort{whole: true, wholeDesc: v < 0}, nil
	}
	return nil, errBadValue("The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields")
}

// perform is PushNode::performPush on an array; it reports whether the array
// changed.
func (p *updPushSpec) perform(arr *dnode) bool {
	arr.expand()
	changed := false
	if len(p.values) > 0 {
		changed = true
		ins := make([]dnKid, len(p.values))
		for i, v := range p.values {
			ins[i] = dnKid{n: dnFromRaw(v)}
		}
		size := int64(len(arr.kids))
		var at int64
		switch {
		case size == 0 || p.position > size:
			at = size
		case p.position > 0:
			at = p.position
		case p.position < 0 && -p.position < size:
			at = size + p.position
		default:
			at = 0
		}
		kids := make([]dnKid, 0, len(arr.kids)+len(ins))
		kids = append(kids, arr.kids[:at]...)
		kids = append(kids, ins...)
		kids = append(kids, arr.kids[at:]...)
		arr.kids = kids
	}
	if p.sort != nil {
		changed = true
		p.sort.apply(arr.kids)
	}
	limit := uint64(p.slice)
	if p.slice < 0 {
		limit = uint64(-(p.slice + 1)) + 1
	}
	if uint64(len(arr.kids)) > limit {
		changed = true
		if p.slice >= 0 {
			arr.kids = arr.kids[:limit]
		} else {
			arr.kids = arr.kids[uint64(len(arr.kids))-limit:]
		}
	}
	return changed
}

// apply sorts elements as PatternElementCmp orders them. The server's sort is
// not stable; a stable sort gives one of the orders it may produce.
func (s *updPushSort) apply(kids []dnKid) {
	if s.whole {
		sort.SliceStable(kids, func(i, j int) bool {
			c := s.coll.CompareValues(kids[i].n.value(), kids[j].n.value())
			if s.wholeDesc {
				return c > 0
			}
			return c < 0
		})
		return
	}
	keys := make([][]bson.RawValue, len(kids))
	for i, k := range kids {
		keys[i] = s.key(k.n)
	}
	idx := make([]int, len(kids))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool {
		a, b := keys[idx[x]], keys[idx[y]]
		for f := range s.fields {
			c := s.coll.CompareValues(a[f], b[f])
			if s.desc[f] {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	sorted := make([]dnKid, len(kids))
	for i, j := range idx {
		sorted[i] = kids[j]
	}
	copy(kids, sorted)
}

// key extracts the sort fields of an element (extractElementsBasedOnTemplate
// with nulls for missing fields; non-documents have no fields).
func (s *updPushSort) key(n *dnode) []bson.RawValue {
	out := make([]bson.RawValue, len(s.fields))
	for f, parts := range s.fields {
		out[f] = bson.RawValue{Type: bsontype.Null}
		if n.t != bsontype.EmbeddedDocument {
			continue
		}
		cur := n
		ok := true
		for _, p := range parts {
			next, _ := cur.child(p)
			if next == nil {
				ok = false
				break
			}
			cur = next
		}
		if ok {
			out[f] = cur.value()
		}
	}
	return out
}

// updParseAddToSet reads $addToSet's argument: {$each: [...]} (only when
// $each is the first field) or a single value; duplicates are dropped.
func updParseAddToSet(val bson.RawValue, coll *Collation) ([]bson.RawValue, error) {
	var vals []bson.RawValue
	isEach := false
	if val.Type == bsontype.EmbeddedDocument {
		d := dnFromRaw(val)
		d.expand()
		if len(d.kids) > 0 && d.kids[0].name == "$each" {
			isEach = true
			first := d.kids[0].n
			if first.t != bsontype.Array {
				return nil, errTypeMismatch("The argument to $each in $addToSet must be an array but it was of type %s", dnTypeName(first.t))
			}
			if len(d.kids) > 1 {
				return nil, errBadValue("Found unexpected fields after $each in $addToSet: %s", dnFormatDoc(val.Value))
			}
			vals = updArrayValues(first.value())
		}
	}
	if !isEach {
		vals = []bson.RawValue{val}
	}
	var out []bson.RawValue
	for _, v := range vals {
		dup := false
		for _, o := range out {
			if coll.CompareValues(o, v) == 0 {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out, nil
}

// updPullSpec is a $pull condition.
type updPullSpec struct {
	kind   int // updPullObject, updPullWrapped or updPullEqual
	filter *Filter
	val    bson.RawValue
	coll   *Collation // nil: simple
}

const (
	updPullObject  = iota // {field: cond, ...}: matched against document elements
	updPullWrapped        // {$op: ...} or a regex: matched against any element
	updPullEqual          // any other value: equality
)

// updPullWrapName is the field name conditions are wrapped under (the server
// uses ""); any name works since both sides use it.
const updPullWrapName = "v"

// updPathOperators are the match operators that apply to a path
// (parsePathAcceptingKeyword). A $pull condition starting with one of them
// is a condition on the element itself.
var updPathOperators = map[string]bool{
	"$eq": true, "$ne": true, "$gt": true, "$gte": true, "$lt": true, "$lte": true,
	"$in": true, "$nin": true, "$all": true, "$exists": true, "$mod": true, "$type": true,
	"$regex": true, "$options": true, "$elemMatch": true, "$size": true, "$not": true,
	"$within": true, "$geoWithin": true, "$near": true, "$nearSphere": true, "$geoNear": true,
	"$geoIntersects": true, "$bitsAllSet": true, "$bitsAllClear": true, "$bitsAnySet": true,
	"$bitsAnyClear": true, "$maxDistance": true, "$minDistance": true,
}

func updParsePull(val bson.RawValue, coll *Collation) (*updPullSpec, error) {
	vars := withCollation(nil, coll)
	if val.Type == bsontype.EmbeddedDocument {
		d := dnFromRaw(val)
		d.expand()
		if len(d.kids) == 0 || !updPathOperators[d.kids[0].name] {
			for _, k := range d.kids {
				switch k.name {
				case "$where", "$text", "$expr":
					return nil, docErr(codeQueryFeatureNotAllowed, "%s is not allowed in this context", k.name)
				}
			}
			f, err := compileFilter(bson.Raw(val.Value), vars)
			if err != nil {
				return nil, err
			}
			return &updPullSpec{kind: updPullObject, filter: f}, nil
		}
	}
	if val.Type == bsontype.EmbeddedDocument || val.Type == bsontype.Regex {
		f, err := compileFilter(updWrap(updPullWrapName, dnFromRaw(val)), vars)
		if err != nil {
			return nil, err
		}
		return &updPullSpec{kind: updPullWrapped, filter: f}, nil
	}
	return &updPullSpec{kind: updPullEqual, val: val, coll: coll}, nil
}

func (p *updPullSpec) match(n *dnode) (bool, error) {
	switch p.kind {
	case updPullObject:
		if n.t != bsontype.EmbeddedDocument {
			return false, nil
		}
		return p.filter.Match(n.value().Value)
	case updPullWrapped:
		return p.filter.Match(updWrap(updPullWrapName, n))
	}
	return p.coll.CompareValues(n.value(), p.val) == 0, nil
}
