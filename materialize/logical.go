package materialize

import (
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Logical operators ($and, $or, $nor, $not) and the other top-level
// ("pathless") operators. Positional details follow the server: $and passes
// them down, $or, $nor and $not do not record them.

// andNode matches when every child matches; an empty $and matches all.
type andNode struct{ children []node }

func (n *andNode) matchDoc(doc []byte, d *matchDetails) (bool, error) {
	for _, c := range n.children {
		ok, err := c.matchDoc(doc, d)
		if err != nil {
			return false, err
		}
		if !ok {
			d.reset()
			return false, nil
		}
	}
	return true, nil
}

func (n *andNode) matchValue(v bson.RawValue, d *matchDetails) bool {
	for _, c := range n.children {
		if !c.matchValue(v, d) {
			return false
		}
	}
	return true
}

// orNode matches when any child matches.
type orNode struct{ children []node }

func (n *orNode) matchDoc(doc []byte, _ *matchDetails) (bool, error) {
	for _, c := range n.children {
		ok, err := c.matchDoc(doc, nil)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func (n *orNode) matchValue(v bson.RawValue, _ *matchDetails) bool {
	for _, c := range n.children {
		if c.matchValue(v, nil) {
			return true
		}
	}
	return false
}

// norNode matches when no child matches.
type norNode struct{ children []node }

func (n *norNode) matchDoc(doc []byte, _ *matchDetails) (bool, error) {
	for _, c := range n.children {
		ok, err := c.matchDoc(doc, nil)
		if err != nil {
			return false, err
		}
		if ok {
			return false, nil
		}
	}
	return true, nil
}

func (n *norNode) matchValue(v bson.RawValue, _ *matchDetails) bool {
	for _, c := range n.children {
		if c.matchValue(v, nil) {
			return false
		}
	}
	return true
}

// notNode negates its child. $ne, $nin and {$exists: false} are notNodes
// too, which is why {a: {$ne: 1}} does not match {a: [1, 2]}: the negation
// applies to the whole path, not to each element.
type notNode struct{ child node }

func (n *notNode) matchDoc(doc []byte, _ *matchDetails) (bool, error) {
	ok, err := n.child.matchDoc(doc, nil)
	if err != nil {
		return false, err
	}
	return !ok, nil
}

func (n *notNode) matchValue(v bson.RawValue, _ *matchDetails) bool {
	return !n.child.matchValue(v, nil)
}

// parseNot parses {field: {$not: <regex or operator document>}}.
func (p *parser) parseNot(name string, e bson.RawValue, level parseLevel) (node, error) {
	if e.Type == bsontype.Regex {
		pred, err := newRegexPredFromValue(e)
		if err != nil {
			return nil, err
		}
		return &notNode{child: newPathNode(name, leafTraverse, pred)}, nil
	}
	if e.Type != bsontype.EmbeddedDocument {
		return nil, errBadValue("$not needs a regex or a document")
	}
	obj, _ := e.DocumentOK()
	if _, ok := firstElement(obj); !ok {
		return nil, errBadValue("$not cannot be empty")
	}
	children, err := p.parseSub(name, obj, level)
	if err != nil {
		return nil, err
	}
	return &notNode{child: &andNode{children: children}}, nil
}

// parsePathless parses a top-level operator (a key starting with '$' in a
// filter document), the server's pathlessOperatorMap.
func (p *parser) parsePathless(key string, e bson.RawValue, level parseLevel) (node, error) {
	switch key {
	case "$and", "$or", "$nor":
		children, err := p.parseTreeList(key, e, level)
		if err != nil {
			return nil, err
		}
		switch key {
		case "$and":
			return &andNode{children: children}, nil
		case "$or":
			return &orNode{children: children}, nil
		default:
			return &norNode{children: children}, nil
		}
	case "$expr":
		if level == levelUserSubDocument {
			return nil, errBadValue("$expr can only be applied to the top-level document")
		}
		return parseExprMatch(e, p.vars)
	case "$where":
		if level == levelUserSubDocument {
			return nil, errBadValue("$where can only be applied to the top-level document")
		}
		return nil, errNotSupportedWhy("$where", "it runs server-side JavaScript; use $expr instead")
	case "$text":
		if level == levelUserSubDocument {
			return nil, errBadValue("$text can only be applied to the top-level document")
		}
		return nil, errNotSupportedWhy("$text", "full-text search needs a text index; use $regex instead")
	case "$comment":
		return nil, nil
	case "$jsonSchema":
		if e.Type != bsontype.EmbeddedDocument {
			return nil, errTypeMismatch("$jsonSchema must be an object")
		}
		schema, _ := e.DocumentOK()
		return p.parseJSONSchema(schema)
	case "$alwaysTrue", "$alwaysFalse":
		n, err := parseIntegerElementToLong(key, e)
		if err != nil {
			return nil, err
		}
		if n != 1 {
			return nil, errFailedToParse("%s must be an integer value of 1", key)
		}
		return &alwaysNode{result: key == "$alwaysTrue"}, nil
	case "$sampleRate":
		if level == levelUserSubDocument {
			return nil, errBadValue("$sampleRate can only be applied to the top-level document")
		}
		if !isNumeric(e.Type) {
			return nil, errBadValue("argument to $sampleRate must be a numeric type")
		}
		x := numberAsFloat(e)
		if !(x >= 0 && x <= 1) {
			return nil, errBadValue("numeric argument to $sampleRate must be in [0, 1]")
		}
		switch x {
		case 0:
			return &alwaysNode{result: false}, nil
		case 1:
			return &alwaysNode{result: true}, nil
		}
		return &sampleRateNode{rate: x}, nil
	case "$id", "$ref", "$db":
		// Parts of a DBRef: an equality on the field named "$id" etc.
		pred, err := newComparison(key, opEQ, e, p.coll())
		if err != nil {
			return nil, err
		}
		return &pathNode{path: key, parts: []string{key}, mode: leafTraverse, pred: pred}, nil
	}
	if internalPathlessOperators[key] {
		// These exist in the server but only for its own rewrites.
		return nil, errNotSupported(key)
	}
	hint := ". If you have a field name that starts with a '$' symbol, consider using $getField or $setField."
	if key == "$not" {
		hint = ". If you are trying to negate an entire expression, use $nor."
	}
	return nil, errBadValue("unknown top level operator: %s%s", key, hint)
}

// internalPathlessOperators are the server's internal top-level operators.
var internalPathlessOperators = map[string]bool{
	"$_internalBucketGeoWithin":         true,
	"$_internalSchemaAllowedProperties": true,
	"$_internalSchemaCond":              true,
	"$_internalSchemaMaxProperties":     true,
	"$_internalSchemaMinProperties":     true,
	"$_internalSchemaRootDocEq":         true,
	"$_internalSchemaXor":               true,
}

// parseTreeList parses the array argument of $and, $or and $nor.
func (p *parser) parseTreeList(key string, e bson.RawValue, level parseLevel) ([]node, error) {
	if e.Type != bsontype.Array {
		return nil, errBadValue("%s must be an array", key)
	}
	arr, _ := e.ArrayOK()
	var children []node
	var perr error
	iterElements(arr, func(_ string, sub bson.RawValue) bool {
		if sub.Type != bsontype.EmbeddedDocument {
			perr = errBadValue("$or/$and/$nor entries need to be full objects")
			return false
		}
		d, _ := sub.DocumentOK()
		n, err := p.parseDoc(d, level)
		if err != nil {
			perr = err
			return false
		}
		children = append(children, n)
		return true
	})
	if perr != nil {
		return nil, perr
	}
	if len(children) == 0 {
		return nil, errBadValue("$and/$or/$nor must be a nonempty array")
	}
	return children, nil
}
