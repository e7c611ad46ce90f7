package materialize

import (
	"math"
	"math/big"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Evaluation query operators: $regex (with $options), $mod, $expr,
// $jsonSchema. $where and $text are rejected with errors naming them (see
// logical.go).

// ---- $regex ----------------------------------------------------------------

// regexPred matches strings and symbols against a regular expression, and
// regex values that are identical to it (same pattern and flags), as the
// server does.
//
// The server uses PCRE; argon uses Go's RE2 engine. Patterns are translated
// where the dialects differ in ways that matter: the x flag (RE2 has none)
// strips whitespace and comments, and a '$' or '\Z' (which in PCRE also
// matches before a final newline) is honoured by retrying without that
// newline. PCRE-only constructs (backreferences, lookaround, atomic groups)
// are reported as invalid regular expressions.
type regexPred struct {
	pattern string
	flags   string
	re      *regexp.Regexp
	// endBeforeNewline: the pattern has a PCRE '$' / '\Z' and no m flag, so
	// it may match a string whose final newline follows the match.
	endBeforeNewline bool
}

// findAll returns up to n (-1: all) matches of p in s, as
// regexp.FindAllStringSubmatchIndex does. A pattern that may match before a
// final newline ('$' or '\Z' without m) that finds nothing in s is tried
// on s without that newline, as matchString does.
func (p *regexPred) findAll(s string, n int) [][]int {
	m := p.re.FindAllStringSubmatchIndex(s, n)
	if len(m) == 0 && p.endBeforeNewline && strings.HasSuffix(s, "\n") {
		m = p.re.FindAllStringSubmatchIndex(s[:len(s)-1], n)
	}
	return m
}

func (p *regexPred) matchValue(e bson.RawValue, _ *matchDetails) bool {
	switch e.Type {
	case bsontype.String, bsontype.Symbol:
		b, ok := stringBytes(e)
		if !ok {
			return false
		}
		if p.re.Match(b) {
			return true
		}
		return p.endBeforeNewline && len(b) > 0 && b[len(b)-1] == '\n' && p.re.Match(b[:len(b)-1])
	case bsontype.Regex:
		pat, flags, ok := e.RegexOK()
		return ok && pat == p.pattern && flags == p.flags
	}
	return false
}

func (p *regexPred) matchString(s string) bool {
	if p.re.MatchString(s) {
		return true
	}
	if p.endBeforeNewline && strings.HasSuffix(s, "\n") {
		return p.re.MatchString(s[:len(s)-1])
	}
	return false
}

// newRegexPredFromValue compiles a BSON regular expression value.
func newRegexPredFromValue(e bson.RawValue) (*regexPred, error) {
	pat, flags, ok := e.RegexOK()
	if !ok {
		return nil, errBadValue("not a regex")
	}
	return compileRegex(pat, flags)
}

// compileRegex compiles a MongoDB regular expression with its flags.
func compileRegex(pattern, flags string) (*regexPred, error) {
	if strings.IndexByte(pattern, 0) >= 0 {
		return nil, errBadValue("Regular expression cannot contain an embedded null byte")
	}
	var goFlags strings.Builder
	extended, multiline := false, false
	for _, c := range flags {
		switch c {
		case 'i', 's':
			if !strings.ContainsRune(goFlags.String(), c) {
				goFlags.WriteRune(c)
			}
		case 'm':
			multiline = true
			if !strings.ContainsRune(goFlags.String(), c) {
				goFlags.WriteRune(c)
			}
		case 'x':
			extended = true
		case 'u':
			// UTF-8 mode: always on in Go.
		default:
			// The leading space is the server's (an empty operator name).
			return nil, errLocation(51108, " invalid flag in regex options: %c", c)
		}
	}
	src := pattern
	if extended {
		src = stripExtendedPattern(src)
	}
	src, dollar, bigZ := translatePCRE(src)
	if goFlags.Len() > 0 {
		src = "(?" + goFlags.String() + ")" + src
	}
	re, err := regexp.Compile(src)
	if err != nil {
		msg := err.Error()
		if se, ok := err.(interface{ Unwrap() error }); ok && se.Unwrap() != nil {
			msg = se.Unwrap().Error()
		}
		return nil, errLocation(51091, "Regular expression is invalid: %s (argon uses Go RE2 syntax: no backreferences or lookaround)", msg)
	}
	return &regexPred{
		pattern:          pattern,
		flags:            flags,
		re:               re,
		endBeforeNewline: bigZ || (dollar && !multiline),
	}, nil
}

// translatePCRE rewrites the PCRE constructs RE2 lacks but can express:
// \Z becomes \z (with the final-newline retry), \h a class of horizontal
// space. It reports whether the pattern has a '$' or a '\Z': PCRE lets
// both match before a final newline ('$' only without the m flag).
func translatePCRE(p string) (out string, dollar, bigZ bool) {
	var sb strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			i++
			switch {
			case n == 'Z' && !inClass:
				sb.WriteString(`\z`)
				bigZ = true
			case n == 'h':
				if inClass {
					sb.WriteString(`\t \x{a0}`)
				} else {
					sb.WriteString(`[\t \x{a0}]`)
				}
			default:
				sb.WriteByte('\\')
				sb.WriteByte(n)
			}
		case c == '[' && !inClass:
			inClass = true
			sb.WriteByte(c)
			// A ']' right after '[' or '[^' is a literal in both dialects.
			if i+1 < len(p) && p[i+1] == '^' {
				sb.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				sb.WriteString(`\]`)
				i++
			}
		case c == ']' && inClass:
			inClass = false
			sb.WriteByte(c)
		case c == '$' && !inClass:
			dollar = true
			sb.WriteByte(c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String(), dollar, bigZ
}

// stripExtendedPattern implements PCRE's x flag: unescaped whitespace and
// #-comments outside character classes are ignored.
func stripExtendedPattern(p string) string {
	var sb strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			sb.WriteByte(c)
			sb.WriteByte(p[i+1])
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
			sb.WriteByte(c)
		case c == '[':
			inClass = true
			sb.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				sb.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				sb.WriteByte(']')
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
		case c == '#':
			for i < len(p) && p[i] != '\n' {
				i++
			}
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// parseRegexDocument parses {$regex: ..., $options: ...} from the whole
// operator document ctx, as the server's parseRegexDocument does.
func parseRegexDocument(name string, ctx []byte) (node, error) {
	var pattern, options string
	var perr error
	iterElements(ctx, func(key string, e bson.RawValue) bool {
		switch key {
		case "$regex":
			switch e.Type {
			case bsontype.String:
				pattern, _ = e.StringValueOK()
			case bsontype.Regex:
				p, f, _ := e.RegexOK()
				pattern = p
				if f != "" {
					if options != "" {
						perr = errLocation(51074, "options set in both $regex and $options")
						return false
					}
					options = f
				}
			default:
				perr = errBadValue("$regex has to be a string")
				return false
			}
		case "$options":
			if e.Type != bsontype.String {
				perr = errBadValue("$options has to be a string")
				return false
			}
			if options != "" {
				perr = errLocation(51075, "options set in both $regex and $options")
				return false
			}
			options, _ = e.StringValueOK()
		}
		return true
	})
	if perr != nil {
		return nil, perr
	}
	pred, err := compileRegex(pattern, options)
	if err != nil {
		return nil, err
	}
	return newPathNode(name, leafTraverse, pred), nil
}

// ---- $mod ------------------------------------------------------------------

// modPred matches numbers whose (truncated) value has the given remainder.
type modPred struct {
	divisor, remainder int64
}

func (p *modPred) matchValue(e bson.RawValue, _ *matchDetails) bool {
	var dividend int64
	switch e.Type {
	case bsontype.Int32:
		i, _ := e.Int32OK()
		dividend = int64(i)
	case bsontype.Int64:
		dividend, _ = e.Int64OK()
	case bsontype.Double:
		f, ok := e.DoubleOK()
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
		t := math.Trunc(f)
		if t >= 9223372036854775808.0 || t < -9223372036854775808.0 {
			return false
		}
		dividend = int64(t)
	case bsontype.Decimal128:
		i, ok := decimalTruncToInt64(e)
		if !ok {
			return false
		}
		dividend = i
	default:
		return false
	}
	// Go defines MinInt64 % -1 as 0, as the server's overflow::safeMod does.
	return dividend%p.divisor == p.remainder
}

// decimalTruncToInt64 rounds a finite decimal toward zero and converts it
// if it fits in an int64.
func decimalTruncToInt64(e bson.RawValue) (int64, bool) {
	d, ok := e.Decimal128OK()
	if !ok || d.IsNaN() || d.IsInf() != 0 {
		return 0, false
	}
	c, exp, err := d.BigInt()
	if err != nil {
		return 0, false
	}
	if exp > 0 {
		if exp > 40 {
			if c.Sign() == 0 {
				return 0, true
			}
			return 0, false
		}
		c.Mul(c, new(big.Int).Exp(bigTen, big.NewInt(int64(exp)), nil))
	} else if exp < 0 {
		if -exp > 40 {
			return 0, true // |value| < 1 since the coefficient has at most 34 digits
		}
		c.Quo(c, new(big.Int).Exp(bigTen, big.NewInt(int64(-exp)), nil))
	}
	if !c.IsInt64() {
		return 0, false
	}
	return c.Int64(), true
}

// parseMod parses {$mod: [divisor, remainder]}.
func parseMod(name string, e bson.RawValue) (node, error) {
	if e.Type != bsontype.Array {
		return nil, errBadValue("malformed mod, needs to be an array")
	}
	arr, _ := e.ArrayOK()
	elems, _ := docElements(arr)
	if len(elems) < 1 {
		return nil, errBadValue("malformed mod, not enough elements")
	}
	if !isNumeric(elems[0].val.Type) {
		return nil, errBadValue("malformed mod, divisor not a number")
	}
	if len(elems) < 2 {
		return nil, errBadValue("malformed mod, not enough elements")
	}
	if !isNumeric(elems[1].val.Type) {
		return nil, errBadValue("malformed mod, remainder not a number")
	}
	if len(elems) > 2 {
		return nil, errBadValue("malformed mod, too many elements")
	}
	divisor, err := coerceToInt64(elems[0].val)
	if err != nil {
		return nil, errBadValue("malformed mod, divisor value is invalid :: caused by :: %s", err.Message)
	}
	remainder, err := coerceToInt64(elems[1].val)
	if err != nil {
		return nil, errBadValue("malformed mod, remainder value is invalid :: caused by :: %s", err.Message)
	}
	if divisor == 0 {
		return nil, errBadValue("divisor cannot be 0")
	}
	return newPathNode(name, leafTraverse, &modPred{divisor: divisor, remainder: remainder}), nil
}

// coerceToInt64 is the server's BSONElement::tryCoerce<long long>: doubles
// and decimals are truncated toward zero and must be finite and in range.
func coerceToInt64(v bson.RawValue) (int64, *Error) {
	switch v.Type {
	case bsontype.Int32:
		i, _ := v.Int32OK()
		return int64(i), nil
	case bsontype.Int64:
		i, _ := v.Int64OK()
		return i, nil
	case bsontype.Double:
		f, _ := v.DoubleOK()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, errBadValue("Unable to coerce NaN/Inf to integral type")
		}
		if f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
			return 0, errBadValue("Out of bounds coercing to integral value")
		}
		return int64(f), nil
	case bsontype.Decimal128:
		d, _ := v.Decimal128OK()
		if d.IsNaN() || d.IsInf() != 0 {
			return 0, errBadValue("Unable to coerce NaN/Inf to integral type")
		}
		i, ok := decimalTruncToInt64(v)
		if !ok {
			return 0, errBadValue("Out of bounds coercing to integral value")
		}
		return i, nil
	}
	return 0, errBadValue("not a number")
}

// ---- $expr -----------------------------------------------------------------

// exprMatchNode is {$expr: <aggregation expression>}: the document matches
// when the expression's value is truthy.
type exprMatchNode struct{ expr Expression }

func (n *exprMatchNode) matchDoc(doc []byte, _ *matchDetails) (bool, error) {
	v, err := n.expr.Eval(doc)
	if err != nil {
		return false, err
	}
	return coerceToBool(v), nil
}

func (n *exprMatchNode) matchValue(bson.RawValue, *matchDetails) bool { return false }

func parseExprMatch(e bson.RawValue, vars *Variables) (node, error) {
	expr, err := compileExpression(e, vars)
	if err != nil {
		return nil, err
	}
	return &exprMatchNode{expr: expr}, nil
}

// ---- $jsonSchema -------------------------------------------------------------

// schemaNode is one compiled $jsonSchema (sub)schema. As in MongoDB, most
// keywords only constrain values of the type they are about: {minimum: 5}
// accepts strings, {required: [...]} accepts non-objects.
type schemaNode struct {
	types         *typeSet
	required      []string
	propNames     []string
	props         map[string]*schemaNode
	patternProps  []schemaPattern
	addlAllowed   *bool
	addlSchema    *schemaNode
	minimum       *bson.RawValue
	maximum       *bson.RawValue
	exclMin       bool
	exclMax       bool
	multipleOf    *bson.RawValue
	enum          []bson.RawValue
	minLength     int64
	maxLength     int64
	pattern       *regexPred
	items         *schemaNode
	itemsList     []*schemaNode
	addlItemsOK   *bool
	addlItems     *schemaNode
	minItems      int64
	maxItems      int64
	uniqueItems   bool
	minProperties int64
	maxProperties int64
	allOf         []*schemaNode
	anyOf         []*schemaNode
	oneOf         []*schemaNode
	not           *schemaNode
}

type schemaPattern struct {
	re     *regexPred
	schema *schemaNode
}

// jsonSchemaMatchNode matches documents (or values) against a schema.
type jsonSchemaMatchNode struct{ schema *schemaNode }

func (n *jsonSchemaMatchNode) matchDoc(doc []byte, _ *matchDetails) (bool, error) {
	return n.schema.validate(bson.RawValue{Type: bsontype.EmbeddedDocument, Value: doc}), nil
}

func (n *jsonSchemaMatchNode) matchValue(v bson.RawValue, _ *matchDetails) bool {
	return n.schema.validate(v)
}

func (p *parser) parseJSONSchema(schema []byte) (node, error) {
	s, err := p.parseSchema(schema)
	if err != nil {
		return nil, err
	}
	return &jsonSchemaMatchNode{schema: s}, nil
}

// schemaKeywordUnsupported lists keywords the server rejects as unsupported.
var schemaKeywordUnsupported = map[string]bool{
	"$ref": true, "$schema": true, "default": true, "definitions": true, "format": true, "id": true,
}

func (p *parser) parseSchema(schema []byte) (*schemaNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	s := &schemaNode{minLength: -1, maxLength: -1, minItems: -1, maxItems: -1, minProperties: -1, maxProperties: -1}
	elems, _ := docElements(schema)
	var typeElem, bsonTypeElem *element
	for i := range elems {
		el := &elems[i]
		key, v := el.key, el.val
		if schemaKeywordUnsupported[key] {
			return nil, errFailedToParse("$jsonSchema keyword '%s' is not currently supported", key)
		}
		var err error
		switch key {
		case "type":
			typeElem = el
		case "bsonType":
			bsonTypeElem = el
		case "title", "description":
			if v.Type != bsontype.String {
				return nil, errTypeMismatch("$jsonSchema keyword '%s' must be a string", key)
			}
		case "required":
			s.required, err = schemaRequired(v)
		case "properties":
			err = p.schemaProperties(s, v)
		case "patternProperties":
			err = p.schemaPatternProperties(s, v)
		case "additionalProperties":
			switch v.Type {
			case bsontype.Boolean:
				b, _ := v.BooleanOK()
				s.addlAllowed = &b
			case bsontype.EmbeddedDocument:
				d, _ := v.DocumentOK()
				s.addlSchema, err = p.parseSchema(d)
			default:
				err = errTypeMismatch("$jsonSchema keyword 'additionalProperties' must be either an object or a boolean, but got a %s", exprTypeName(v))
			}
		case "minimum", "maximum", "multipleOf":
			if !isNumeric(v.Type) {
				return nil, errTypeMismatch("$jsonSchema keyword '%s' must be a number", key)
			}
			vv := v
			switch key {
			case "minimum":
				s.minimum = &vv
			case "maximum":
				s.maximum = &vv
			default:
				if !(numberAsFloat(v) > 0) {
					return nil, errFailedToParse("$jsonSchema keyword 'multipleOf' must have a positive value")
				}
				s.multipleOf = &vv
			}
		case "exclusiveMinimum", "exclusiveMaximum":
			if v.Type != bsontype.Boolean {
				return nil, errTypeMismatch("$jsonSchema keyword '%s' must be a boolean", key)
			}
			b, _ := v.BooleanOK()
			if key == "exclusiveMinimum" {
				s.exclMin = b
			} else {
				s.exclMax = b
			}
		case "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties":
			n, perr := parseIntegerElementToNonNegativeLong(key, v)
			if perr != nil {
				return nil, errFailedToParse("$jsonSchema keyword '%s' must be a non-negative integer: %s", key, perr.Message)
			}
			switch key {
			case "minLength":
				s.minLength = n
			case "maxLength":
				s.maxLength = n
			case "minItems":
				s.minItems = n
			case "maxItems":
				s.maxItems = n
			case "minProperties":
				s.minProperties = n
			default:
				s.maxProperties = n
			}
		case "pattern":
			if v.Type != bsontype.String {
				return nil, errTypeMismatch("$jsonSchema keyword 'pattern' must be a string")
			}
			pat, _ := v.StringValueOK()
			s.pattern, err = compileRegex(pat, "")
		case "enum":
			if v.Type != bsontype.Array {
				return nil, errTypeMismatch("$jsonSchema keyword 'enum' must be an array")
			}
			arr, _ := v.ArrayOK()
			vals, _ := docElements(arr)
			if len(vals) == 0 {
				return nil, errFailedToParse("$jsonSchema keyword 'enum' cannot be an empty array")
			}
			for _, x := range vals {
				s.enum = append(s.enum, x.val)
			}
		case "items":
			switch v.Type {
			case bsontype.EmbeddedDocument:
				d, _ := v.DocumentOK()
				s.items, err = p.parseSchema(d)
			case bsontype.Array:
				s.itemsList, err = p.schemaList(key, v)
			default:
				err = errTypeMismatch("$jsonSchema keyword 'items' must be an array or an object, not %s", exprTypeName(v))
			}
		case "additionalItems":
			switch v.Type {
			case bsontype.Boolean:
				b, _ := v.BooleanOK()
				s.addlItemsOK = &b
			case bsontype.EmbeddedDocument:
				d, _ := v.DocumentOK()
				s.addlItems, err = p.parseSchema(d)
			default:
				err = errTypeMismatch("$jsonSchema keyword 'additionalItems' must be either an object or a boolean, but got a %s", exprTypeName(v))
			}
		case "uniqueItems":
			if v.Type != bsontype.Boolean {
				return nil, errTypeMismatch("$jsonSchema keyword 'uniqueItems' must be a boolean")
			}
			s.uniqueItems, _ = v.BooleanOK()
		case "allOf":
			s.allOf, err = p.schemaList(key, v)
		case "anyOf":
			s.anyOf, err = p.schemaList(key, v)
		case "oneOf":
			s.oneOf, err = p.schemaList(key, v)
		case "not":
			if v.Type != bsontype.EmbeddedDocument {
				return nil, errTypeMismatch("$jsonSchema keyword 'not' must be an object")
			}
			d, _ := v.DocumentOK()
			s.not, err = p.parseSchema(d)
		case "dependencies", "encrypt", "encryptMetadata":
			return nil, errNotSupported("$jsonSchema keyword '" + key + "'")
		default:
			return nil, errFailedToParse("Unknown $jsonSchema keyword: %s", key)
		}
		if err != nil {
			return nil, err
		}
	}
	if typeElem != nil && bsonTypeElem != nil {
		return nil, errFailedToParse("Cannot specify both $jsonSchema keywords 'type' and 'bsonType'")
	}
	if typeElem != nil {
		ts, err := schemaJSONTypes(typeElem.val)
		if err != nil {
			return nil, err
		}
		s.types = ts
	}
	if bsonTypeElem != nil {
		ts, err := parseTypeSet(bsonTypeElem.val)
		if err != nil {
			return nil, err
		}
		s.types = ts
	}
	return s, nil
}

// schemaJSONTypes parses the JSON Schema "type" keyword.
func schemaJSONTypes(v bson.RawValue) (*typeSet, error) {
	ts := &typeSet{types: map[bsontype.Type]bool{}}
	add := func(t bson.RawValue) error {
		name, ok := t.StringValueOK()
		if !ok {
			return errTypeMismatch("$jsonSchema keyword 'type' must be either a string or an array of strings")
		}
		switch name {
		case "object":
			ts.types[bsontype.EmbeddedDocument] = true
		case "array":
			ts.types[bsontype.Array] = true
		case "number":
			ts.allNumbers = true
		case "boolean":
			ts.types[bsontype.Boolean] = true
		case "string":
			ts.types[bsontype.String] = true
		case "null":
			ts.types[bsontype.Null] = true
		case "integer":
			return errFailedToParse("$jsonSchema type 'integer' is not currently supported.")
		default:
			return errFailedToParse("Unknown type name alias: %s", name)
		}
		return nil
	}
	if v.Type == bsontype.Array {
		arr, _ := v.ArrayOK()
		elems, _ := docElements(arr)
		for _, el := range elems {
			if err := add(el.val); err != nil {
				return nil, err
			}
		}
		return ts, nil
	}
	return ts, add(v)
}

func schemaRequired(v bson.RawValue) ([]string, error) {
	if v.Type != bsontype.Array {
		return nil, errTypeMismatch("$jsonSchema keyword 'required' must be an array, but found an element of type %s", exprTypeName(v))
	}
	arr, _ := v.ArrayOK()
	elems, _ := docElements(arr)
	if len(elems) == 0 {
		return nil, errFailedToParse("$jsonSchema keyword 'required' cannot be an empty array")
	}
	seen := map[string]bool{}
	var out []string
	for _, el := range elems {
		s, ok := el.val.StringValueOK()
		if !ok {
			return nil, errTypeMismatch("$jsonSchema keyword 'required' must contain only strings, but found an element of type %s", exprTypeName(el.val))
		}
		if seen[s] {
			return nil, errFailedToParse("$jsonSchema keyword 'required' array cannot contain duplicate values")
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, nil
}

func (p *parser) schemaProperties(s *schemaNode, v bson.RawValue) error {
	if v.Type != bsontype.EmbeddedDocument {
		return errTypeMismatch("$jsonSchema keyword 'properties' must be an object")
	}
	d, _ := v.DocumentOK()
	elems, _ := docElements(d)
	s.props = map[string]*schemaNode{}
	for _, el := range elems {
		sub, ok := el.val.DocumentOK()
		if !ok || el.val.Type != bsontype.EmbeddedDocument {
			return errTypeMismatch("Nested schema for $jsonSchema property '%s' must be an object", el.key)
		}
		n, err := p.parseSchema(sub)
		if err != nil {
			return err
		}
		if _, dup := s.props[el.key]; !dup {
			s.propNames = append(s.propNames, el.key)
		}
		s.props[el.key] = n
	}
	return nil
}

func (p *parser) schemaPatternProperties(s *schemaNode, v bson.RawValue) error {
	if v.Type != bsontype.EmbeddedDocument {
		return errTypeMismatch("$jsonSchema keyword 'patternProperties' must be an object")
	}
	d, _ := v.DocumentOK()
	elems, _ := docElements(d)
	for _, el := range elems {
		if el.val.Type != bsontype.EmbeddedDocument {
			return errTypeMismatch("$jsonSchema keyword 'patternProperties' has property '%s' which is not an object", el.key)
		}
		re, err := compileRegex(el.key, "")
		if err != nil {
			return err
		}
		sub, _ := el.val.DocumentOK()
		n, err := p.parseSchema(sub)
		if err != nil {
			return err
		}
		s.patternProps = append(s.patternProps, schemaPattern{re: re, schema: n})
	}
	return nil
}

func (p *parser) schemaList(key string, v bson.RawValue) ([]*schemaNode, error) {
	if v.Type != bsontype.Array {
		return nil, errTypeMismatch("$jsonSchema keyword '%s' must be an array", key)
	}
	arr, _ := v.ArrayOK()
	elems, _ := docElements(arr)
	if len(elems) == 0 && key != "items" {
		return nil, errFailedToParse("$jsonSchema keyword '%s' must be a non-empty array", key)
	}
	var out []*schemaNode
	for _, el := range elems {
		if el.val.Type != bsontype.EmbeddedDocument {
			return nil, errTypeMismatch("$jsonSchema keyword '%s' must be an array of objects, but found an element of type %s", key, exprTypeName(el.val))
		}
		d, _ := el.val.DocumentOK()
		n, err := p.parseSchema(d)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// validate reports whether v satisfies the schema.
func (s *schemaNode) validate(v bson.RawValue) bool {
	if s.types != nil && (v.Type == 0 || !s.types.has(v.Type)) {
		return false
	}
	if len(s.enum) > 0 {
		found := false
		for _, e := range s.enum {
			if valuesEqualUnordered(e, v) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	switch {
	case isNumeric(v.Type):
		if !s.validateNumber(v) {
			return false
		}
	case v.Type == bsontype.String:
		str, _ := v.StringValueOK()
		n := int64(utf8RuneCount(str))
		if (s.minLength >= 0 && n < s.minLength) || (s.maxLength >= 0 && n > s.maxLength) {
			return false
		}
		if s.pattern != nil && !s.pattern.matchString(str) {
			return false
		}
	case v.Type == bsontype.EmbeddedDocument:
		d, _ := v.DocumentOK()
		if !s.validateObject(d) {
			return false
		}
	case v.Type == bsontype.Array:
		arr, _ := v.ArrayOK()
		if !s.validateArray(arr) {
			return false
		}
	}
	for _, sub := range s.allOf {
		if !sub.validate(v) {
			return false
		}
	}
	if len(s.anyOf) > 0 {
		ok := false
		for _, sub := range s.anyOf {
			if sub.validate(v) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(s.oneOf) > 0 {
		count := 0
		for _, sub := range s.oneOf {
			if sub.validate(v) {
				count++
			}
		}
		if count != 1 {
			return false
		}
	}
	if s.not != nil && s.not.validate(v) {
		return false
	}
	return true
}

func (s *schemaNode) validateNumber(v bson.RawValue) bool {
	if s.minimum != nil {
		c := CompareValues(v, *s.minimum)
		if isNaNValue(v) || c < 0 || (s.exclMin && c == 0) {
			return false
		}
	}
	if s.maximum != nil {
		c := CompareValues(v, *s.maximum)
		if isNaNValue(v) || c > 0 || (s.exclMax && c == 0) {
			return false
		}
	}
	if s.multipleOf != nil {
		a, okA := exactRat(v)
		b, okB := exactRat(*s.multipleOf)
		if !okA || !okB {
			return false
		}
		q := new(big.Rat).Quo(a, b)
		if !q.IsInt() {
			return false
		}
	}
	return true
}

func (s *schemaNode) validateObject(d []byte) bool {
	elems, _ := docElements(d)
	if (s.minProperties >= 0 && int64(len(elems)) < s.minProperties) ||
		(s.maxProperties >= 0 && int64(len(elems)) > s.maxProperties) {
		return false
	}
	for _, r := range s.required {
		if _, ok := lookupField(d, r); !ok {
			return false
		}
	}
	for _, el := range elems {
		matchedAny := false
		if sub, ok := s.props[el.key]; ok {
			matchedAny = true
			if !sub.validate(el.val) {
				return false
			}
		}
		for _, pp := range s.patternProps {
			if pp.re.matchString(el.key) {
				matchedAny = true
				if !pp.schema.validate(el.val) {
					return false
				}
			}
		}
		if !matchedAny {
			if s.addlAllowed != nil && !*s.addlAllowed {
				return false
			}
			if s.addlSchema != nil && !s.addlSchema.validate(el.val) {
				return false
			}
		}
	}
	return true
}

func (s *schemaNode) validateArray(arr []byte) bool {
	elems, _ := docElements(arr)
	n := int64(len(elems))
	if (s.minItems >= 0 && n < s.minItems) || (s.maxItems >= 0 && n > s.maxItems) {
		return false
	}
	if s.items != nil {
		for _, el := range elems {
			if !s.items.validate(el.val) {
				return false
			}
		}
	}
	if s.itemsList != nil {
		for i, el := range elems {
			if i < len(s.itemsList) {
				if !s.itemsList[i].validate(el.val) {
					return false
				}
				continue
			}
			if s.addlItemsOK != nil && !*s.addlItemsOK {
				return false
			}
			if s.addlItems != nil && !s.addlItems.validate(el.val) {
				return false
			}
		}
	}
	if s.uniqueItems {
		for i := range elems {
			for j := i + 1; j < len(elems); j++ {
				if valuesEqualUnordered(elems[i].val, elems[j].val) {
					return false
				}
			}
		}
	}
	return true
}

// valuesEqualUnordered is the server's UnorderedFieldsBSONElementComparator
// equality, used by enum and uniqueItems: documents are equal when they have
// the same fields with equal values in any order; numbers compare by value.
func valuesEqualUnordered(a, b bson.RawValue) bool {
	switch {
	case a.Type == bsontype.EmbeddedDocument && b.Type == bsontype.EmbeddedDocument:
		da, _ := a.DocumentOK()
		db, _ := b.DocumentOK()
		ea, _ := docElements(da)
		eb, _ := docElements(db)
		if len(ea) != len(eb) {
			return false
		}
		for _, x := range ea {
			y, ok := lookupField(db, x.key)
			if !ok || !valuesEqualUnordered(x.val, y) {
				return false
			}
		}
		return true
	case a.Type == bsontype.Array && b.Type == bsontype.Array:
		da, _ := a.ArrayOK()
		db, _ := b.ArrayOK()
		ea, _ := docElements(da)
		eb, _ := docElements(db)
		if len(ea) != len(eb) {
			return false
		}
		for i := range ea {
			if !valuesEqualUnordered(ea[i].val, eb[i].val) {
				return false
			}
		}
		return true
	}
	return CompareValues(a, b) == 0
}

func utf8RuneCount(s string) int {
	n := 0
	for range s {
		n++
	}
	return n
}
