package materialize

import (
	"strconv"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Array query operators: $all, $elemMatch, $size. $elemMatch and $size look
// at the array at the end of the path itself (they do not traverse it
// element by element the way comparisons do).

// elemMatchObjectPred is {$elemMatch: {<field conditions>}}: some element
// that is a document (or an array, read as a document with keys "0", "1",
// ...) matches the whole sub-filter.
type elemMatchObjectPred struct{ sub node }

func (p *elemMatchObjectPred) matchValue(e bson.RawValue, d *matchDetails) bool {
	if e.Type != bsontype.Array {
		return false
	}
	arr, ok := e.ArrayOK()
	if !ok {
		return false
	}
	matched := false
	i := 0
	iterElements(arr, func(_ string, inner bson.RawValue) bool {
		idx := i
		i++
		var doc []byte
		switch inner.Type {
		case bsontype.EmbeddedDocument:
			doc, _ = inner.DocumentOK()
		case bsontype.Array:
			doc, _ = inner.ArrayOK()
		default:
			return true
		}
		// $expr and $where are rejected inside $elemMatch, so no error here.
		if ok, _ := p.sub.matchDoc(doc, nil); ok {
			d.setOffset(idx)
			matched = true
			return false
		}
		return true
	})
	return matched
}

// elemMatchValuePred is {$elemMatch: {$gt: 1, $lt: 5}}: some single element
// satisfies every condition at once.
type elemMatchValuePred struct{ children []node }

func (p *elemMatchValuePred) matchValue(e bson.RawValue, d *matchDetails) bool {
	if e.Type != bsontype.Array {
		return false
	}
	arr, ok := e.ArrayOK()
	if !ok {
		return false
	}
	matched := false
	i := 0
	iterElements(arr, func(_ string, inner bson.RawValue) bool {
		idx := i
		i++
		for _, c := range p.children {
			if !c.matchValue(inner, nil) {
				return true
			}
		}
		d.setOffset(idx)
		matched = true
		return false
	})
	return matched
}

// isPathlessOperator reports whether name is a top-level operator ($and,
// $or, $expr, ...); an $elemMatch starting with one is the object form.
func isPathlessOperator(name string) bool {
	switch name {
	case "$and", "$or", "$nor", "$expr", "$where", "$text", "$comment", "$jsonSchema",
		"$alwaysTrue", "$alwaysFalse", "$sampleRate", "$id", "$ref", "$db":
		return true
	}
	return internalPathlessOperators[name]
}

// parseElemMatch parses {field: {$elemMatch: ...}}.
func (p *parser) parseElemMatch(name string, e bson.RawValue) (node, error) {
	if e.Type != bsontype.EmbeddedDocument {
		return nil, errBadValue("$elemMatch needs an Object")
	}
	obj, _ := e.DocumentOK()
	isValue := false
	if isExpressionDocument(e, true) {
		first, _ := firstElement(obj)
		isValue = !isPathlessOperator(first.key)
	}
	if isValue {
		children, err := p.parseSub("", obj, levelUserSubDocument)
		if err != nil {
			return nil, err
		}
		return newPathNode(name, leafNoTraverse, &elemMatchValuePred{children: children}), nil
	}
	sub, err := p.parseDoc(obj, levelUserSubDocument)
	if err != nil {
		return nil, err
	}
	return newPathNode(name, leafNoTraverse, &elemMatchObjectPred{sub: sub}), nil
}

// parseAll parses {field: {$all: [...]}}: an $and of equalities (or regex
// matches), or of $elemMatch conditions.
func (p *parser) parseAll(name string, e bson.RawValue) (node, error) {
	if e.Type != bsontype.Array {
		return nil, errBadValue("$all needs an array")
	}
	arr, _ := e.ArrayOK()
	elems, _ := docElements(arr)
	and := &andNode{}
	if len(elems) > 0 && elems[0].val.Type == bsontype.EmbeddedDocument {
		if d, ok := elems[0].val.DocumentOK(); ok {
			if first, ok := firstElement(d); ok && first.key == "$elemMatch" {
				for _, el := range elems {
					if el.val.Type != bsontype.EmbeddedDocument {
						return nil, errBadValue("$all/$elemMatch has to be consistent")
					}
					sub, _ := el.val.DocumentOK()
					f, ok := firstElement(sub)
					if !ok || f.key != "$elemMatch" {
						return nil, errBadValue("$all/$elemMatch has to be consistent")
					}
					n, err := p.parseElemMatch(name, f.val)
					if err != nil {
						return nil, err
					}
					and.children = append(and.children, n)
				}
				return and, nil
			}
		}
	}
	for _, el := range elems {
		switch {
		case el.val.Type == bsontype.Regex:
			pred, err := newRegexPredFromValue(el.val)
			if err != nil {
				return nil, err
			}
			and.children = append(and.children, newPathNode(name, leafTraverse, pred))
		case el.val.Type == bsontype.EmbeddedDocument && startsWithFieldOperator(el.val):
			return nil, errBadValue("no $ expressions in $all")
		default:
			pred, err := newComparison(name, opEQ, el.val, p.coll())
			if err != nil {
				return nil, err
			}
			and.children = append(and.children, newPathNode(name, leafTraverse, pred))
		}
	}
	if len(and.children) == 0 {
		// {$all: []} matches nothing.
		return &alwaysNode{result: false}, nil
	}
	return and, nil
}

// startsWithFieldOperator reports whether a document's first key is a
// field-level query operator such as $gt.
func startsWithFieldOperator(v bson.RawValue) bool {
	d, ok := v.DocumentOK()
	if !ok {
		return false
	}
	first, ok := firstElement(d)
	return ok && fieldOperator(first.key) != opKindUnknown
}

// sizePred matches arrays with exactly n elements.
type sizePred struct{ n int }

func (p *sizePred) matchValue(e bson.RawValue, _ *matchDetails) bool {
	if e.Type != bsontype.Array {
		return false
	}
	arr, ok := e.ArrayOK()
	if !ok {
		return false
	}
	count := 0
	iterElements(arr, func(string, bson.RawValue) bool {
		count++
		return true
	})
	return count == p.n
}

// parseSize parses {$size: n}; n must be a non-negative whole number.
func parseSize(name string, e bson.RawValue) (node, error) {
	n, err := parseIntegerElementToNonNegativeInt("$size", e)
	if err != nil {
		return nil, errBadValue("Failed to parse $size. %s", err.Message)
	}
	return newPathNode(name, leafNoTraverse, &sizePred{n: int(n)}), nil
}

// ---- integer argument parsing shared by several operators -------------------

// parseIntegerElementToLong is the server's
// BSONElement::parseIntegerElementToLong: the value must be a number holding
// an exact 64-bit integer. key names the element in messages.
func parseIntegerElementToLong(key string, e bson.RawValue) (int64, *Error) {
	if !isNumeric(e.Type) {
		return 0, errFailedToParse("Expected a number in: %s", elemString(key, e))
	}
	switch e.Type {
	case bsontype.Int32:
		i, _ := e.Int32OK()
		return int64(i), nil
	case bsontype.Int64:
		i, _ := e.Int64OK()
		return i, nil
	case bsontype.Double:
		f, _ := e.DoubleOK()
		if f != f {
			return 0, errFailedToParse("Expected an integer, but found NaN in: %s", elemString(key, e))
		}
		if f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
			return 0, errFailedToParse("Cannot represent as a 64-bit integer: %s", elemString(key, e))
		}
		if f != float64(int64(f)) {
			return 0, errFailedToParse("Expected an integer: %s", elemString(key, e))
		}
		return int64(f), nil
	}
	// Decimal: must be exactly an int64.
	i, ok := decimalExactInt64(e)
	if !ok {
		return 0, errFailedToParse("Cannot represent as a 64-bit integer: %s", elemString(key, e))
	}
	return i, nil
}

// decimalExactInt64 converts a decimal that holds an exact int64 value.
func decimalExactInt64(e bson.RawValue) (int64, bool) {
	t, ok := decimalTruncToInt64(e)
	if !ok {
		return 0, false
	}
	// Exact only if truncation lost nothing.
	back := bson.RawValue{Type: bsontype.Int64, Value: appendInt64(nil, t)}
	return t, CompareValues(back, e) == 0
}

// parseIntegerElementToInt additionally requires the value to fit an int32.
func parseIntegerElementToInt(key string, e bson.RawValue) (int64, *Error) {
	n, err := parseIntegerElementToLong(key, e)
	if err != nil {
		return 0, err
	}
	if n < -1<<31 || n > 1<<31-1 {
		return 0, errFailedToParse("Cannot represent %s in an int", elemString(key, e))
	}
	return n, nil
}

// parseIntegerElementToNonNegativeInt additionally rejects negative values.
func parseIntegerElementToNonNegativeInt(key string, e bson.RawValue) (int64, *Error) {
	n, err := parseIntegerElementToInt(key, e)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errFailedToParse("Expected a non-negative number in: %s", elemString(key, e))
	}
	return n, nil
}

// parseIntegerElementToNonNegativeLong is parseIntegerElementToLong that
// rejects negative values.
func parseIntegerElementToNonNegativeLong(key string, e bson.RawValue) (int64, *Error) {
	n, err := parseIntegerElementToLong(key, e)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errFailedToParse("Expected a non-negative number in: %s", elemString(key, e))
	}
	return n, nil
}

// indexKey is the key of the i-th array element.
func indexKey(i int) string { return strconv.Itoa(i) }
