package materialize

import (
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// This file holds the field operators of the expression language,
// $getField, $setField and $unsetField, which read and write fields whose
// names contain '.' or start with '$', where field paths cannot reach. As
// in MongoDB 7.2 and later, $getField's field may be any expression that
// evaluates to a string; $setField's and $unsetField's must be a constant
// string ({$literal: "$a"} for a name starting with '$').

// parseExprGetField parses {$getField: {field: <expr>, input: <expr>}} or
// the short form {$getField: <expr>} (input $$CURRENT).
func parseExprGetField(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	var field, input exprNode
	var err error
	if doc, ok := arg.DocumentOK(); ok && arg.Type == bsontype.EmbeddedDocument {
		elems, _ := docElements(doc)
		for _, el := range elems {
			switch {
			case field == nil && input == nil && strings.HasPrefix(el.key, "$"):
				// The argument is itself an expression: {$getField: {$literal: "$a"}}.
				field, err = ps.parseOperand(arg)
			case el.key == "field":
				field, err = ps.parseOperand(el.val)
			case el.key == "input":
				input, err = ps.parseOperand(el.val)
			default:
				return nil, errLocation(3041701, "%s found an unknown argument: %s", name, el.key)
			}
			if err != nil {
				return nil, err
			}
			if strings.HasPrefix(el.key, "$") {
				break
			}
		}
	} else if field, err = ps.parseOperand(arg); err != nil {
		return nil, err
	}
	if field == nil {
		return nil, errLocation(3041702, "%s requires 'field' to be specified", name)
	}
	if input == nil {
		if input, err = ps.parseFieldPath("$$CURRENT"); err != nil {
			return nil, err
		}
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		f, err := field.eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		s, ok := f.StringValueOK()
		if !ok {
			return bson.RawValue{}, errLocation(3041704, "%s requires 'field' to evaluate to type String, but got %s", name, exprTypeName(f))
		}
		in, err := input.eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		if nullish(in) {
			return valNull(), nil
		}
		doc, ok := in.DocumentOK()
		if !ok || in.Type != bsontype.EmbeddedDocument {
			return bson.RawValue{}, errLocation(3041705, "%s requires 'input' to evaluate to type Object", name)
		}
		v, _ := lookupField(doc, s)
		return v, nil
	}), nil
}

// parseExprSetField parses {$setField: {field, input, value}} and
// {$unsetField: {field, input}} ($setField with value $$REMOVE).
func parseExprSetField(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	doc, ok := arg.DocumentOK()
	if !ok || arg.Type != bsontype.EmbeddedDocument {
		return nil, errLocation(4161100, "%s only supports an object as its argument", name)
	}
	unset := name == "$unsetField"
	var fieldArg *bson.RawValue
	var input, value exprNode
	elems, _ := docElements(doc)
	for _, el := range elems {
		var err error
		switch {
		case el.key == "field":
			v := el.val
			fieldArg = &v
		case el.key == "input":
			input, err = ps.parseOperand(el.val)
		case el.key == "value" && !unset:
			value, err = ps.parseOperand(el.val)
		default:
			return nil, errLocation(4161101, "%s found an unknown argument: %s", name, el.key)
		}
		if err != nil {
			return nil, err
		}
	}
	if fieldArg == nil {
		return nil, errLocation(4161102, "%s requires 'field' to be specified", name)
	}
	if value == nil && !unset {
		return nil, errLocation(4161103, "%s requires 'value' to be specified", name)
	}
	if input == nil {
		return nil, errLocation(4161109, "%s requires 'input' to be specified", name)
	}
	if s, ok := fieldArg.StringValueOK(); ok && strings.HasPrefix(s, "$") {
		return nil, errLocation(4161108, "A field path reference which is not allowed in this context. Did you mean {$literal: '%s'}?", s)
	}
	fn, err := ps.parseOperand(*fieldArg)
	if err != nil {
		return nil, err
	}
	cf, ok := fn.(*constExpr)
	if !ok {
		return nil, errLocation(4161106, "%s requires 'field' to evaluate to a constant, but got a non-constant argument", name)
	}
	field, ok := cf.v.StringValueOK()
	if !ok {
		return nil, errLocation(4161107, "%s requires 'field' to evaluate to type String, but got %s", name, exprTypeName(cf.v))
	}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		in, err := input.eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		if nullish(in) {
			return valNull(), nil
		}
		doc, ok := in.DocumentOK()
		if !ok || in.Type != bsontype.EmbeddedDocument {
			return bson.RawValue{}, errLocation(4161105, "%s requires 'input' to evaluate to type Object", name)
		}
		var v bson.RawValue // missing: the field is removed
		if !unset {
			if v, err = value.eval(c); err != nil {
				return bson.RawValue{}, err
			}
		}
		return setDocumentField(doc, field, v), nil
	}), nil
}

// setDocumentField returns doc with field name set to v in place (appended
// when absent), or removed when v is missing, as MutableDocument::setField
// followed by serialization does.
func setDocumentField(doc []byte, name string, v bson.RawValue) bson.RawValue {
	idx, out := bsoncore.AppendDocumentStart(nil)
	done := false
	iterElements(doc, func(key string, e bson.RawValue) bool {
		if key == name && !done { // the first of duplicate names, as getField finds it
			done = true
			e = v
		}
		if e.Type != 0 {
			out = bsoncore.AppendValueElement(out, key, bsoncore.Value{Type: e.Type, Data: e.Value})
		}
		return true
	})
	if !done && v.Type != 0 {
		out = bsoncore.AppendValueElement(out, name, bsoncore.Value{Type: v.Type, Data: v.Value})
	}
	out, _ = bsoncore.AppendDocumentEnd(out, idx)
	return bson.RawValue{Type: bsontype.EmbeddedDocument, Value: out}
}
