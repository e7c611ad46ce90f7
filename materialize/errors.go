package materialize

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Error is a server-shaped error: the code, code name and message a real
// mongod would return for the same input, so callers (and tests written
// against a real server) can rely on them. The Error method returns the
// message alone, as the server's errmsg does.
//
// Error values are immutable and safe for concurrent use.
type Error struct {
	Code    int32
	Name    string
	Message string
}

// Error returns the message, without code or name, like the server's errmsg.
func (e *Error) Error() string { return e.Message }

// Server error codes used by this package (src/mongo/base/error_codes.yml).
// Codes without a name in that file ("location codes" raised by uassert with
// a bare number) are reported by the server with the name "Location<code>".
const (
	codeBadValue                int32 = 2
	codeFailedToParse           int32 = 9
	codeTypeMismatch            int32 = 14
	codeInvalidBSON             int32 = 22
	codeInvalidLength           int32 = 16
	codeIndexNotFound           int32 = 27
	codeInvalidPipelineOperator int32 = 168
	codeConversionFailure       int32 = 241
	codeNotImplemented          int32 = 238
)

var errorCodeNames = map[int32]string{
	codeBadValue:                "BadValue",
	codeFailedToParse:           "FailedToParse",
	codeTypeMismatch:            "TypeMismatch",
	codeInvalidBSON:             "InvalidBSON",
	codeInvalidLength:           "InvalidLength",
	codeIndexNotFound:           "IndexNotFound",
	codeInvalidPipelineOperator: "InvalidPipelineOperator",
	codeConversionFailure:       "ConversionFailure",
	codeNotImplemented:          "NotImplemented",
	4:                           "NoSuchKey",
	17:                          "ProtocolError",
	30:                          "InvalidPath",
	40:                          "ConflictingUpdateOperators",
	52:                          "DollarPrefixedFieldName",
	55:                          "InvalidDBRef",
	56:                          "EmptyFieldName",
	57:                          "DottedFieldName",
	66:                          "ImmutableField",
	72:                          "InvalidOptions",
	11000:                       "DuplicateKey",
}

// codeName returns the server's code name for code, or "Location<code>" for
// codes that only exist as uassert locations.
func codeName(code int32) string {
	if n, ok := errorCodeNames[code]; ok {
		return n
	}
	return fmt.Sprintf("Location%d", code)
}

// newError builds an Error with the given code; the name comes from the code.
func newError(code int32, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, Name: codeName(code), Message: msg}
}

// errBadValue returns a code 2 BadValue error.
func errBadValue(format string, args ...any) *Error {
	return newError(codeBadValue, format, args...)
}

// errFailedToParse returns a code 9 FailedToParse error.
func errFailedToParse(format string, args ...any) *Error {
	return newError(codeFailedToParse, format, args...)
}

// errTypeMismatch returns a code 14 TypeMismatch error.
func errTypeMismatch(format string, args ...any) *Error {
	return newError(codeTypeMismatch, format, args...)
}

// errInvalidLength returns a code 16 InvalidLength error.
func errInvalidLength(format string, args ...any) *Error {
	return newError(codeInvalidLength, format, args...)
}

// errInvalidPipelineOperator returns a code 168 InvalidPipelineOperator error.
func errInvalidPipelineOperator(format string, args ...any) *Error {
	return newError(codeInvalidPipelineOperator, format, args...)
}

// errLocation returns an error carrying a server location code (for example
// 16020 for expression arity), named "Location<code>" like the server does.
func errLocation(code int32, format string, args ...any) *Error {
	return newError(code, format, args...)
}

// errNotSupported reports a MongoDB feature argon does not implement. It
// names the feature so users are never left guessing why a query failed.
func errNotSupported(feature string) *Error {
	return newError(codeNotImplemented, "%s is not supported by argon's in-process query engine", feature)
}

// errNotSupportedWhy is errNotSupported with the reason and the alternative.
func errNotSupportedWhy(feature, why string) *Error {
	return newError(codeNotImplemented, "%s is not supported by argon's in-process query engine: %s", feature, why)
}

// The functions below render values the way the server's
// BSONElement::toString does, because several server messages embed them
// ("Expected a non-negative number in: $size: -1").

// elemString renders "key: value".
func elemString(key string, v bson.RawValue) string {
	var sb strings.Builder
	sb.WriteString(key)
	sb.WriteString(": ")
	writeValueString(&sb, v, 0)
	return sb.String()
}

// valueString renders a value alone.
func valueString(v bson.RawValue) string {
	var sb strings.Builder
	writeValueString(&sb, v, 0)
	return sb.String()
}

// docString renders a document as the server does: { a: 1, b: "x" }.
func docString(doc []byte) string {
	var sb strings.Builder
	writeDocString(&sb, doc, false, 0)
	return sb.String()
}

func writeDocString(sb *strings.Builder, doc []byte, isArray bool, depth int) {
	open, closing := "{", "}"
	if isArray {
		open, closing = "[", "]"
	}
	sb.WriteString(open)
	if depth > 100 {
		sb.WriteString(" ... ")
		sb.WriteString(closing)
		return
	}
	first := true
	iterElements(doc, func(key string, v bson.RawValue) bool {
		if first {
			sb.WriteString(" ")
			first = false
		} else {
			sb.WriteString(", ")
		}
		if !isArray {
			sb.WriteString(key)
			sb.WriteString(": ")
		}
		writeValueString(sb, v, depth+1)
		return true
	})
	if !first {
		sb.WriteString(" ")
	}
	sb.WriteString(closing)
}

func writeValueString(sb *strings.Builder, v bson.RawValue, depth int) {
	switch v.Type {
	case 0:
		sb.WriteString("EOO")
		return
	case bsontype.EmbeddedDocument:
		if d, ok := v.DocumentOK(); ok {
			writeDocString(sb, d, false, depth)
			return
		}
	case bsontype.Array:
		if d, ok := v.ArrayOK(); ok {
			writeDocString(sb, d, true, depth)
			return
		}
	case bsontype.Double:
		if f, ok := v.DoubleOK(); ok {
			sb.WriteString(doubleNice(f))
			return
		}
	case bsontype.Int32:
		if i, ok := v.Int32OK(); ok {
			sb.WriteString(strconv.FormatInt(int64(i), 10))
			return
		}
	case bsontype.Int64:
		if i, ok := v.Int64OK(); ok {
			sb.WriteString(strconv.FormatInt(i, 10))
			return
		}
	case bsontype.Decimal128:
		if d, ok := v.Decimal128OK(); ok {
			sb.WriteString(d.String())
			return
		}
	case bsontype.String, bsontype.Symbol:
		if s, ok := stringLike(v); ok {
			sb.WriteString(`"`)
			sb.WriteString(s)
			sb.WriteString(`"`)
			return
		}
	case bsontype.Boolean:
		if b, ok := v.BooleanOK(); ok {
			sb.WriteString(strconv.FormatBool(b))
			return
		}
	case bsontype.Null:
		sb.WriteString("null")
		return
	case bsontype.Undefined:
		sb.WriteString("undefined")
		return
	case bsontype.MinKey:
		sb.WriteString("MinKey")
		return
	case bsontype.MaxKey:
		sb.WriteString("MaxKey")
		return
	case bsontype.DateTime:
		if ms, ok := v.DateTimeOK(); ok {
			fmt.Fprintf(sb, "new Date(%d)", ms)
			return
		}
	case bsontype.ObjectID:
		if oid, ok := v.ObjectIDOK(); ok {
			fmt.Fprintf(sb, "ObjectId('%s')", oid.Hex())
			return
		}
	case bsontype.Regex:
		if p, o, ok := v.RegexOK(); ok {
			fmt.Fprintf(sb, "/%s/%s", p, o)
			return
		}
	case bsontype.Timestamp:
		if t, i, ok := v.TimestampOK(); ok {
			fmt.Fprintf(sb, "Timestamp(%d, %d)", t, i)
			return
		}
	case bsontype.Binary:
		if st, data, ok := v.BinaryOK(); ok {
			if st == 4 && len(data) == 16 {
				h := hex.EncodeToString(data)
				fmt.Fprintf(sb, "UUID(\"%s-%s-%s-%s-%s\")", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
				return
			}
			fmt.Fprintf(sb, "BinData(%d, %s)", st, strings.ToUpper(hex.EncodeToString(data)))
			return
		}
	case bsontype.JavaScript:
		if c, ok := v.JavaScriptOK(); ok {
			sb.WriteString(c)
			return
		}
	case bsontype.CodeWithScope:
		if c, scope, ok := v.CodeWithScopeOK(); ok {
			fmt.Fprintf(sb, "CodeWScope( %s, ", c)
			writeDocString(sb, scope, false, depth)
			sb.WriteString(")")
			return
		}
	case bsontype.DBPointer:
		if ns, oid, ok := v.DBPointerOK(); ok {
			fmt.Fprintf(sb, "DBRef('%s',%s)", ns, oid.Hex())
			return
		}
	}
	fmt.Fprintf(sb, "?type=%d", int(v.Type))
}

// doubleNice is the server's StringBuilder::appendDoubleNice: %.16g, with
// ".0" added when the result has no '.', 'E' or 'N'.
func doubleNice(f float64) string {
	var s string
	switch {
	case math.IsNaN(f):
		s = "nan"
	case math.IsInf(f, 1):
		s = "inf"
	case math.IsInf(f, -1):
		s = "-inf"
	default:
		s = strconv.FormatFloat(f, 'g', 16, 64)
		// C's %g writes at least two exponent digits.
		if i := strings.IndexAny(s, "e"); i >= 0 && len(s)-i == 3 {
			s = s[:i+2] + "0" + s[i+2:]
		}
	}
	if !strings.ContainsAny(s, ".EN") {
		s += ".0"
	}
	return s
}

// numberString renders a number as the server's BSONElement::number() in a
// stream: a double printed with C++ defaults (6 significant digits).
func numberString(v bson.RawValue) string {
	f := numberAsFloat(v)
	if f == math.Trunc(f) && math.Abs(f) < 1e6 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

// numberAsFloat converts any numeric value to float64 (decimal128 through
// its string form); non-numbers give 0.
func numberAsFloat(v bson.RawValue) float64 {
	switch v.Type {
	case bsontype.Double:
		f, _ := v.DoubleOK()
		return f
	case bsontype.Int32:
		i, _ := v.Int32OK()
		return float64(i)
	case bsontype.Int64:
		i, _ := v.Int64OK()
		return float64(i)
	case bsontype.Decimal128:
		d, ok := v.Decimal128OK()
		if !ok {
			return 0
		}
		f, err := strconv.ParseFloat(d.String(), 64)
		if err != nil {
			switch d.String() {
			case "NaN":
				return math.NaN()
			case "Infinity":
				return math.Inf(1)
			case "-Infinity":
				return math.Inf(-1)
			}
			// ParseFloat reports out-of-range values with a usable ±Inf or 0.
		}
		return f
	}
	return 0
}
