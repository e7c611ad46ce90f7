package materialize

import (
	"go.mongodb.org/mongo-driver/bson"
)

// This file holds the let variables of a command (find, update, delete,
// findAndModify and bulk writes take a let document since MongoDB 5.0):
// constants that aggregation expressions ($expr in a filter, the stages of a
// pipeline-style update) read as $$name. They are evaluated once, before any
// document is examined, the way the server's
// Variables::seedVariablesWithLetParameters does.

// Variables are the evaluated let variables of one command. A nil
// *Variables has none. Variables are immutable and safe for concurrent use.
type Variables struct {
	vals map[string]bson.RawValue
	// coll is the command's collation (nil: simple). It travels with the
	// variables because both are the context a command compiles its
	// filters, expressions and stages in (the server's ExpressionContext).
	coll *Collation
}

// collation returns the collation in scope (nil: simple).
func (v *Variables) collation() *Collation {
	if v == nil {
		return nil
	}
	return v.coll
}

// withCollation returns v with the collation c in scope.
func withCollation(v *Variables, c *Collation) *Variables {
	if c == nil {
		return v
	}
	if v == nil {
		return &Variables{coll: c}
	}
	return &Variables{vals: v.vals, coll: c}
}

// values returns the variables by name (nil for none).
func (v *Variables) values() map[string]bson.RawValue {
	if v == nil {
		return nil
	}
	return v.vals
}

// Lookup returns the value of the variable name; ok is false when it is
// not defined. A variable may be defined and missing ({x: "$$REMOVE"}).
func (v *Variables) Lookup(name string) (val bson.RawValue, ok bool) {
	val, ok = v.values()[name]
	return val, ok
}

// systemVariablesWithValidators are the system variables the server lets
// only its own internal clients set through let.
var systemVariablesWithValidators = map[string]bool{
	"NOW": true, "CLUSTER_TIME": true, "JS_SCOPE": true, "IS_MR": true, "USER_ROLES": true,
}

// ParseVariables evaluates a let document. Each field names a variable (a
// lowercase letter or non-ASCII byte first, then letters, digits, '_' or
// non-ASCII bytes; "CURRENT" is also allowed) and holds an aggregation
// expression, evaluated once: it may use the variables defined before it
// but no field of a document. Errors are the server's: code 9 "Invalid
// 'let' parameter :: caused by :: 'X' starts with an invalid character for a
// user variable name", 4738901 for system variables such as NOW, 4890500
// for an expression that reads a field, and the expression's own errors.
// An empty or nil let defines nothing.
func ParseVariables(let bson.Raw) (*Variables, error) {
	if len(let) == 0 {
		return nil, nil
	}
	if err := validateDocument(let); err != nil {
		return nil, newError(codeInvalidBSON, "invalid let document: %v", err)
	}
	vars := &Variables{vals: map[string]bson.RawValue{}}
	var perr error
	iterElements(let, func(name string, e bson.RawValue) bool {
		if err := validateLetName(name); err != nil {
			perr = err
			return false
		}
		ps := newExprParser(vars)
		n, err := ps.parseOperand(e)
		if err != nil {
			perr = err
			return false
		}
		if ps.readsDoc {
			// Sic: the server's message lacks a space after "because".
			perr = errLocation(4890500, "Command let Expression tried to access a field, but this is not allowed because"+
				"Command let Expressions run before the query examines any documents.")
			return false
		}
		expr := &compiledExpression{n: n, consts: vars.vals}
		v, err := expr.Eval(bson.Raw{5, 0, 0, 0, 0})
		if err != nil {
			perr = err
			return false
		}
		next := make(map[string]bson.RawValue, len(vars.vals)+1)
		for k, x := range vars.vals {
			next[k] = x
		}
		next[name] = v
		vars = &Variables{vals: next}
		return true
	})
	if perr != nil {
		return nil, perr
	}
	return vars, nil
}

// validateLetName is variableValidation::isValidNameForUserWrite with the
// context validateVariable adds.
func validateLetName(name string) error {
	if name == "CURRENT" {
		return nil
	}
	reason := ""
	switch {
	case name == "":
		reason = "empty variable names are not allowed"
	case !(name[0] >= 'a' && name[0] <= 'z' || name[0]&0x80 != 0):
		reason = "'" + name + "' starts with an invalid character for a user variable name"
	default:
		for i := 1; i < len(name); i++ {
			ch := name[i]
			if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch&0x80 != 0 {
				continue
			}
			reason = "'" + name + "' contains an invalid character for a variable name: '" + string([]byte{ch}) + "'"
			break
		}
	}
	if reason == "" {
		return nil
	}
	if systemVariablesWithValidators[name] {
		return errLocation(4738901, "Attempt to set internal constant: %s", name)
	}
	return errFailedToParse("Invalid 'let' parameter :: caused by :: %s", reason)
}

// CompileFilterWithVars is CompileFilter for a command with a let option:
// $expr may read the variables let defines as $$name. let is evaluated
// first (see ParseVariables), so its errors come before the filter's, as on
// the server. A nil let is CompileFilter.
func CompileFilterWithVars(filter bson.Raw, let bson.Raw) (*Filter, error) {
	vars, err := ParseVariables(let)
	if err != nil {
		return nil, err
	}
	return compileFilter(filter, vars)
}
