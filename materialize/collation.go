package materialize

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// This file holds collations: parsing and validating a collation document
// the way the server's CollatorFactoryICU does, and comparing strings with
// the Unicode Collation Algorithm (golang.org/x/text/collate, which carries
// CLDR's root order and the tailorings of most locales MongoDB supports).
//
// A collation changes how strings (and symbols) compare wherever they meet
// in a comparison: inside documents and arrays too, never in field names.
// It applies to filters ($eq, $ne, $lt.., $in, $nin, $all, $elemMatch and
// the comparisons of $expr; not $regex), sorts, distinct, $group keys and
// accumulators, the expressions of a pipeline, the array operators of
// updates ($addToSet, $pull, $pullAll, $push's $sort, $min, $max) and
// indexes created with a collation.
//
// How each MongoDB option maps onto x/text:
//   - strength 1..4: the levels of the sort key (ks-level1..4); 5
//     (identical) is level 4 followed by the NFD form of the string;
//   - numericOrdering: collate.Numeric; backwards: French secondary order
//     (kb); alternate "shifted": variable characters (spaces and
//     punctuation, CLDR's maxVariable "punct") move to the quaternary
//     level (ka-shifted);
//   - caseLevel: x/text has no separate case level (its option compares the
//     whole tertiary level), so argon builds one: the case of each letter,
//     compared after the primary (and secondary) level;
//   - caseFirst "upper": x/text cannot reorder case, so argon compares the
//     tertiary level of the strings with their case swapped (letters whose
//     upper and lower forms map onto each other), which puts uppercase
//     first and leaves every other tertiary difference as it was; "lower"
//     orders like "off", as ICU does apart from rare mixed-case strings;
//   - normalization: x/text always normalizes to NFD, which is what
//     normalization: true asks for, and gives the same order as false on
//     text ICU would not need to normalize;
//   - maxVariable "space" with alternate "shifted" cannot be expressed and
//     is rejected (code 238 NotImplemented), as are locales and variants
//     whose tailoring x/text lacks. Unknown locales fail like the server's
//     (code 2 BadValue "Field 'locale' is invalid in: ...").
//
// Comparisons go through sort keys: a string's key compares bytewise in
// collation order, and equal keys mean equal strings under the collation.
// Indexes with a collation store those keys in place of the strings, as
// the server does.

// collationVersion is the ICU version the server reports in every
// collation specification it returns.
const collationVersion = "57.1"

// codeIncompatibleCollationVersion is the server's error for a version
// field other than collationVersion.
const codeIncompatibleCollationVersion int32 = 174

// Collation is a parsed, validated collation. A nil *Collation is the
// simple (binary) collation. It is immutable and safe for concurrent use.
type Collation struct {
	spec collationSpec
	// multi is true when a key has more than one segment (caseLevel, an
	// identical strength, caseFirst "upper"); see key.
	multi bool
	tag   language.Tag // tag of the full-strength collator
	base  language.Tag // tag of the primary/secondary collator (caseLevel)
	pool  sync.Pool    // of *collatorState
}

// collationSpec is the server's CollationSpec with every field resolved.
type collationSpec struct {
	locale          string
	caseLevel       bool
	caseFirst       string
	strength        int
	numericOrdering bool
	alternate       string
	maxVariable     string
	normalization   bool
	backwards       bool
}

// collatorState is the mutable state one comparison needs: x/text
// collators and buffers are not safe for concurrent use.
type collatorState struct {
	full *collate.Collator
	base *collate.Collator // nil unless caseLevel
	buf  collate.Buffer
}

// collationLocales maps each locale the server accepts to the x/text tag
// with the same collation rules: "und" for locales whose CLDR collation is
// the root order, "" for locales whose tailoring x/text does not carry.
var collationLocales = map[string]string{
	"af": "af", "am": "", "ar": "ar", "as": "as", "az": "az", "be": "be", "bg": "bg", "bn": "bn",
	"bo": "", "bs": "bs", "bs_Cyrl": "bs-Cyrl", "ca": "ca", "chr": "", "cs": "cs", "cy": "cy",
	"da": "da", "de": "de", "de_AT": "de", "dsb": "", "dz": "dz", "ee": "ee", "el": "el", "en": "en",
	"en_US": "en-US", "en_US_POSIX": "en-US-u-va-posix", "eo": "eo", "es": "es", "et": "et",
	"fa": "fa", "fa_AF": "fa-AF", "fi": "fi", "fil": "fil", "fo": "fo", "fr": "fr", "fr_CA": "fr-CA",
	"ga": "und", "gl": "", "gu": "gu", "ha": "ha", "haw": "haw", "he": "he", "hi": "hi", "hr": "hr",
	"hsb": "", "hu": "hu", "hy": "hy", "id": "und", "ig": "ig", "is": "is", "it": "und", "ja": "ja",
	"ka": "", "kk": "kk", "kl": "kl", "km": "km", "kn": "kn", "ko": "ko", "kok": "kok", "ky": "",
	"lb": "", "lkt": "", "ln": "ln", "lo": "", "lt": "lt", "lv": "lv", "mk": "mk", "ml": "ml",
	"mn": "", "mr": "mr", "ms": "und", "mt": "mt", "my": "my", "nb": "nb", "ne": "", "nl": "und",
	"nn": "nn", "om": "om", "or": "or", "pa": "pa", "pl": "pl", "ps": "ps", "pt": "und", "ro": "ro",
	"ru": "ru", "se": "se", "si": "si", "sk": "sk", "sl": "sl", "smn": "", "sq": "sq", "sr": "sr",
	"sr_Latn": "sr-Latn", "sv": "sv", "sw": "und", "ta": "ta", "te": "te", "th": "th", "to": "to",
	"tr": "tr", "ug": "", "uk": "uk", "ur": "ur", "vi": "vi", "wae": "wae", "yi": "", "yo": "yo",
	"zh": "zh", "zh_Hant": "zh-Hant", "zu": "und",
}

// collationVariants maps "locale@collation=variant" identifiers x/text
// implements to their tags.
var collationVariants = map[string]string{
	"de@collation=phonebook": "de-u-co-phonebk",
	"zh@collation=stroke":    "zh-u-co-stroke",
	"ln@collation=phonetic":  "ln-u-co-phonetic",
}

// collationVariantNames are the ICU collation variants MongoDB documents;
// a valid locale with one of them that x/text lacks is NotImplemented
// rather than invalid.
var collationVariantNames = map[string]bool{
	"big5han": true, "compat": true, "dictionary": true, "eor": true, "gb2312han": true,
	"phonebook": true, "phonetic": true, "pinyin": true, "reformed": true, "search": true,
	"stroke": true, "traditional": true, "unihan": true, "zhuyin": true,
}

// collationLocaleDefaults are attributes whose CLDR default differs from
// the root's for a locale.
var collationLocaleDefaults = map[string]func(*collationSpec){
	"fr_CA": func(s *collationSpec) { s.backwards = true },
	"da":    func(s *collationSpec) { s.caseFirst = "upper" },
	"mt":    func(s *collationSpec) { s.caseFirst = "upper" },
}

// ParseCollation parses and validates a collation document such as
// {locale: "en", strength: 2} with the server's rules and error codes:
// a missing locale is code 4 NoSuchKey, a field of the wrong type 14
// TypeMismatch, a bad value or an unknown field 9 FailedToParse, an
// unknown locale or an invalid combination 2 BadValue, another version
// 174 IncompatibleCollationVersion. {locale: "simple"} returns nil, the
// simple collation.
func ParseCollation(doc bson.Raw) (*Collation, error) {
	if err := validateDocument(doc); err != nil {
		return nil, errFailedToParse("invalid collation document: %v", err)
	}
	localeVal, ok := lookupField(doc, "locale")
	if !ok {
		return nil, newError(4, "Missing expected field \"locale\"")
	}
	locale, ok := localeVal.StringValueOK()
	if !ok {
		return nil, collationTypeErr("locale", "string", localeVal)
	}
	if strings.IndexByte(locale, 0) >= 0 {
		return nil, errBadValue("Field 'locale' cannot contain null byte. Collation spec: %s", docString(doc))
	}
	nFields := 0
	iterElements(doc, func(string, bson.RawValue) bool { nFields++; return true })
	if locale == "simple" {
		if nFields > 1 {
			return nil, errFailedToParse("If locale=simple, no other fields should be present in: %s", docString(doc))
		}
		return nil, nil
	}
	if locale == "" {
		return nil, errBadValue("Field 'locale' cannot be the empty string in: %s", docString(doc))
	}
	tag, err := collationLocaleTag(locale, doc)
	if err != nil {
		return nil, err
	}
	s := collationSpec{locale: locale, caseFirst: "off", strength: 3, alternate: "non-ignorable", maxVariable: "punct"}
	if set := collationLocaleDefaults[locale]; set != nil {
		set(&s)
	}
	parsed := 1
	var perr error
	iterElements(doc, func(key string, v bson.RawValue) bool {
		switch key {
		case "locale":
			return true
		case "caseLevel", "numericOrdering", "normalization", "backwards":
			b, ok := v.BooleanOK()
			if !ok {
				perr = collationTypeErr(key, "bool", v)
				return false
			}
			switch key {
			case "caseLevel":
				s.caseLevel = b
			case "numericOrdering":
				s.numericOrdering = b
			case "normalization":
				s.normalization = b
			default:
				s.backwards = b
			}
		case "caseFirst", "alternate", "maxVariable", "version":
			str, ok := v.StringValueOK()
			if !ok {
				perr = collationTypeErr(key, "string", v)
				return false
			}
			switch key {
			case "caseFirst":
				if str != "upper" && str != "lower" && str != "off" {
					perr = errFailedToParse("Field 'caseFirst' must be 'upper', 'lower', or 'off'. Got: %s", str)
					return false
				}
				s.caseFirst = str
			case "alternate":
				if str != "non-ignorable" && str != "shifted" {
					perr = errFailedToParse("Field 'alternate' must be 'non-ignorable' or 'shifted'. Got: %s", str)
					return false
				}
				s.alternate = str
			case "maxVariable":
				if str != "punct" && str != "space" {
					perr = errFailedToParse("Field 'maxVariable' must be 'punct' or 'space'. Got: %s", str)
					return false
				}
				s.maxVariable = str
			default:
				if str != collationVersion {
					perr = newError(codeIncompatibleCollationVersion, "Requested collation version %s but the only available collator version was %s. Requested collation spec: %s", str, collationVersion, docString(doc))
					return false
				}
			}
		case "strength":
			if !isNumeric(v.Type) {
				perr = collationTypeErr(key, "number", v)
				return false
			}
			n, exact := exactInt64(v)
			if !exact {
				perr = errBadValue("Expected field \"strength\" to have a value exactly representable as a 64-bit integer, but found %s", elemString(key, v))
				return false
			}
			if n < 1 || n > 5 {
				perr = errFailedToParse("Field 'strength' must be an integer 1 through 5. Got: %d", n)
				return false
			}
			s.strength = int(n)
		default:
			return true // counted below, like the server's parsedFields check
		}
		parsed++
		return true
	})
	if perr != nil {
		return nil, perr
	}
	if parsed < nFields {
		return nil, errFailedToParse("Collation spec contains unknown field. Collation spec: %s", docString(doc))
	}
	// Like the server's validateCollationSpec, these checks see the
	// resolved spec, locale defaults included: {locale: "fr_CA",
	// strength: 1} fails on fr_CA's default backwards.
	if s.backwards && s.strength == 1 {
		return nil, errBadValue("'backwards' is invalid with 'strength' of 1 in: %s", docString(s.document()))
	}
	if s.caseFirst != "off" && !s.caseLevel && s.strength <= 2 {
		return nil, errBadValue("'caseFirst' is invalid unless 'caseLevel' is on or 'strength' is greater than 2 in: %s", docString(s.document()))
	}
	if s.alternate == "shifted" && s.maxVariable == "space" {
		return nil, errNotSupportedWhy("collation maxVariable 'space' with alternate 'shifted'", "argon's collation tables only make spaces and punctuation together variable")
	}
	return newCollation(s, tag)
}

// collationTypeErr is bsonExtractTypedField's TypeMismatch error.
func collationTypeErr(field, want string, v bson.RawValue) *Error {
	return errTypeMismatch("\"%s\" had the wrong type. Expected %s, found %s", field, want, ixTypeName(v.Type))
}

// exactInt64 returns v as an int64 when it holds an integral value.
func exactInt64(v bson.RawValue) (int64, bool) {
	switch v.Type {
	case bsontype.Int32:
		return int64(v.Int32()), true
	case bsontype.Int64:
		return v.Int64(), true
	}
	f := numberAsFloat(v)
	if f != f || f < -9.2e18 || f > 9.2e18 || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

// collationLocaleTag resolves a MongoDB (ICU) locale identifier to the
// x/text tag of its rules.
func collationLocaleTag(locale string, doc bson.Raw) (string, error) {
	if tag, ok := collationVariants[locale]; ok {
		return tag, nil
	}
	base, variant, hasVariant := strings.Cut(locale, "@collation=")
	tag, known := collationLocales[base]
	if !known || (hasVariant && !collationVariantNames[variant]) {
		msg := "Field 'locale' is invalid in: " + docString(doc)
		if alt := strings.ReplaceAll(locale, "-", "_"); alt != locale {
			if _, err := collationLocaleTag(alt, nil); err == nil || !isInvalidLocale(err) {
				msg += ". Did you mean '" + alt + "'?"
			}
		}
		return "", errBadValue("%s", msg)
	}
	if hasVariant {
		return "", errNotSupportedWhy("collation locale '"+locale+"'", "argon's collation tables (golang.org/x/text) lack this variant")
	}
	if tag == "" {
		return "", errNotSupportedWhy("collation locale '"+locale+"'", "argon's collation tables (golang.org/x/text) lack this locale's tailoring")
	}
	return tag, nil
}

func isInvalidLocale(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Code == codeBadValue
}

// newCollation builds the x/text tags for spec.
func newCollation(s collationSpec, baseTag string) (*Collation, error) {
	ext := func(strength int) string {
		var sb strings.Builder
		sb.WriteString(baseTag)
		if strings.Contains(baseTag, "-u-") {
			sb.WriteString("-ks-level")
		} else {
			sb.WriteString("-u-ks-level")
		}
		sb.WriteByte(byte('0' + min(strength, 4)))
		if s.alternate == "shifted" {
			sb.WriteString("-ka-shifted")
		}
		if s.backwards {
			sb.WriteString("-kb-true")
		}
		return sb.String()
	}
	full, err := language.Parse(ext(s.strength))
	if err != nil {
		return nil, errBadValue("Field 'locale' is invalid: %v", err)
	}
	c := &Collation{spec: s, tag: full}
	c.multi = s.caseLevel || s.strength == 5 || (s.caseFirst == "upper" && s.strength >= 3)
	if s.caseLevel {
		if c.base, err = language.Parse(ext(min(s.strength, 2))); err != nil {
			return nil, errBadValue("Field 'locale' is invalid: %v", err)
		}
	}
	c.pool.New = func() any {
		var opts []collate.Option
		if s.numericOrdering {
			opts = append(opts, collate.Numeric)
		}
		st := &collatorState{full: collate.New(c.tag, opts...)}
		if s.caseLevel {
			st.base = collate.New(c.base, opts...)
		}
		return st
	}
	return c, nil
}

// document is the full specification, as the server lists it.
func (s *collationSpec) document() bson.Raw {
	b := bsoncore.NewDocumentBuilder().
		AppendString("locale", s.locale).
		AppendBoolean("caseLevel", s.caseLevel).
		AppendString("caseFirst", s.caseFirst).
		AppendInt32("strength", int32(s.strength)).
		AppendBoolean("numericOrdering", s.numericOrdering).
		AppendString("alternate", s.alternate).
		AppendString("maxVariable", s.maxVariable).
		AppendBoolean("normalization", s.normalization).
		AppendBoolean("backwards", s.backwards).
		AppendString("version", collationVersion)
	return bson.Raw(b.Build())
}

// Spec returns the full collation specification with every field, as the
// server shows it in listIndexes and listCollections:
// {locale: "en", caseLevel: false, caseFirst: "off", strength: 3, ...,
// version: "57.1"}. The simple collation returns {locale: "simple"}.
func (c *Collation) Spec() bson.Raw {
	if c == nil {
		return bson.Raw(bsoncore.NewDocumentBuilder().AppendString("locale", "simple").Build())
	}
	return c.spec.document()
}

// Equal reports whether c and o order every pair of strings the same way
// because they are the same collation (both simple, or equal specs).
func (c *Collation) Equal(o *Collation) bool {
	if c == nil || o == nil {
		return c == o
	}
	return c.spec == o.spec
}

// key returns the sort key of s: bytes that compare (bytewise) in the
// collation's order, equal exactly when the strings are equal under it.
// With several levels built outside x/text (caseLevel, caseFirst "upper",
// strength 5), the key joins segments with an order-preserving escape
// (0x00 becomes 0x00 0xFF; each segment ends with 0x00 0x00).
func (c *Collation) key(s string) []byte {
	st := c.pool.Get().(*collatorState)
	defer c.pool.Put(st)
	st.buf.Reset()
	if !c.multi {
		return bytes.Clone(st.full.KeyFromString(&st.buf, s))
	}
	var out []byte
	if c.spec.caseLevel {
		out = appendKeySegment(out, st.base.KeyFromString(&st.buf, s))
		out = appendKeySegment(out, c.caseLevelKey(s))
		if c.spec.strength >= 3 {
			out = appendKeySegment(out, st.full.KeyFromString(&st.buf, c.tertiaryInput(s)))
		}
	} else {
		out = appendKeySegment(out, st.full.KeyFromString(&st.buf, c.tertiaryInput(s)))
	}
	if c.spec.strength == 5 {
		out = appendKeySegment(out, []byte(norm.NFD.String(s)))
	}
	return out
}

// tertiaryInput is the string whose tertiary weights give the requested
// case order: s itself, or s with its case swapped for caseFirst "upper".
func (c *Collation) tertiaryInput(s string) string {
	if c.spec.caseFirst != "upper" {
		return s
	}
	return swapCase(s)
}

func appendKeySegment(out, seg []byte) []byte {
	for _, b := range seg {
		out = append(out, b)
		if b == 0 {
			out = append(out, 0xFF)
		}
	}
	return append(out, 0, 0)
}

// swapCase swaps upper and lower case of the letters whose two forms map
// onto each other (so 'ı' and the Kelvin sign, whose round trip differs,
// keep their primary weights).
func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsUpper(r):
			if l := unicode.ToLower(r); unicode.ToUpper(l) == r {
				return l
			}
		case unicode.IsLower(r):
			if u := unicode.ToUpper(r); unicode.ToLower(u) == r {
				return u
			}
		}
		return r
	}, s)
}

// caseLevelKey is argon's case level: the case of each cased letter of the
// NFD form in order, lowercase first unless caseFirst is "upper". It only
// decides between strings whose primary (and secondary) weights are equal,
// which have the same letters in the same order; uncased characters, which
// ICU counts as lowercase, are left out so that digits folded by
// numericOrdering, ignorable punctuation and marks cannot misalign it.
func (c *Collation) caseLevelKey(s string) []byte {
	lower, upper := byte(1), byte(2)
	if c.spec.caseFirst == "upper" {
		lower, upper = 2, 1
	}
	d := norm.NFD.String(s)
	out := make([]byte, 0, len(d))
	for i := 0; i < len(d); {
		r, n := utf8.DecodeRuneInString(d[i:])
		i += n
		switch {
		case unicode.IsUpper(r) || unicode.IsTitle(r):
			out = append(out, upper)
		case unicode.IsLower(r):
			out = append(out, lower)
		}
	}
	return out
}

// CompareStrings compares two strings under the collation (bytewise for
// the simple collation) and returns -1, 0 or 1.
func (c *Collation) CompareStrings(a, b string) int {
	if c == nil {
		return strings.Compare(a, b)
	}
	return bytes.Compare(c.key(a), c.key(b))
}

// CompareValues is CompareValues under the collation: strings and symbols
// compare by the collation wherever they occur (in embedded documents and
// arrays too), field names bytewise.
func (c *Collation) CompareValues(a, b bson.RawValue) int {
	ca, cb := canonicalType(a.Type), canonicalType(b.Type)
	if ca != cb {
		if ca < cb {
			return -1
		}
		return 1
	}
	return compareSameCanonicalColl(a, b, c)
}

// compareCollated compares two string payloads under c (nil: bytewise).
func compareCollated(c *Collation, a, b []byte) int {
	if c == nil {
		return bytes.Compare(a, b)
	}
	return bytes.Compare(c.key(string(a)), c.key(string(b)))
}

// KeyValue returns v with every string and symbol (also inside documents
// and arrays) replaced by a string holding its collation key, so that
// CompareValues on the results orders and equates them as c does, and
// valueKey groups them as c does. The simple collation returns v.
func (c *Collation) KeyValue(v bson.RawValue) bson.RawValue {
	if c == nil || !containsString(v) {
		return v
	}
	switch v.Type {
	case bsontype.String, bsontype.Symbol:
		s, _ := stringBytes(v)
		return bson.RawValue{Type: bsontype.String, Value: bsoncore.AppendString(nil, string(c.key(string(s))))}
	case bsontype.EmbeddedDocument, bsontype.Array:
		idx, out := bsoncore.AppendDocumentStart(nil)
		iterElements(v.Value, func(key string, e bson.RawValue) bool {
			k := c.KeyValue(e)
			out = bsoncore.AppendValueElement(out, key, bsoncore.Value{Type: k.Type, Data: k.Value})
			return true
		})
		out, _ = bsoncore.AppendDocumentEnd(out, idx)
		return bson.RawValue{Type: v.Type, Value: out}
	}
	return v
}

// containsString reports whether v is or holds a string or symbol.
func containsString(v bson.RawValue) bool {
	switch v.Type {
	case bsontype.String, bsontype.Symbol:
		return true
	case bsontype.EmbeddedDocument, bsontype.Array:
		found := false
		iterElements(v.Value, func(_ string, e bson.RawValue) bool {
			found = containsString(e)
			return !found
		})
		return found
	}
	return false
}

// indexCollation parses the collation option of an index specification
// (nil: none, or {locale: "simple"}).
func indexCollation(spec bson.Raw) (*Collation, error) {
	v, ok := lookupField(spec, "collation")
	if !ok {
		return nil, nil
	}
	d, ok := v.DocumentOK()
	if !ok || v.Type != bsontype.EmbeddedDocument {
		return nil, indexErr(codeTypeMismatch, "The field 'collation' must be an object, but got %s", ixTypeName(v.Type))
	}
	return ParseCollation(bson.Raw(d))
}

// indexLookupValue returns the key to look an equality on v up with in an
// index with collation ixColl, for a query with collation qColl; ok is
// false when the index cannot answer it: the collations differ and v holds
// strings (which compare differently under the two).
func indexLookupValue(ixColl, qColl *Collation, v bson.RawValue) (bson.RawValue, bool) {
	if ixColl.Equal(qColl) {
		return ixColl.KeyValue(v), true
	}
	return v, !containsString(v)
}

// WithCollation returns a copy of s that compares strings under c (nil:
// simple), as a sort does in a command with a collation.
func (s *Sort) WithCollation(c *Collation) *Sort {
	if s == nil {
		return nil
	}
	out := &Sort{keys: slices.Clone(s.keys)}
	for i := range out.keys {
		out.keys[i].coll = c
	}
	return out
}

// FilterOptions are the options of CompileFilterWithOptions.
type FilterOptions struct {
	// Let is the command's let document (see CompileFilterWithVars).
	Let bson.Raw
	// Collation is the command's collation (nil: simple). It applies to
	// every comparison of the filter but $regex, and decides which indexes
	// (*Collection).Candidates may use.
	Collation *Collation
}

// CompileFilterWithOptions is CompileFilter with a command's let variables
// and collation.
func CompileFilterWithOptions(filter bson.Raw, opts FilterOptions) (*Filter, error) {
	vars, err := ParseVariables(opts.Let)
	if err != nil {
		return nil, err
	}
	return compileFilter(filter, withCollation(vars, opts.Collation))
}

// Collation returns the collation the filter compares strings with (nil:
// simple).
func (f *Filter) Collation() *Collation {
	if f == nil {
		return nil
	}
	return f.coll
}

// CompileProjectionWithCollation is CompileProjectionWithVars for a find
// with a collation, which the $elemMatch projection matches with (nil:
// simple).
func CompileProjectionWithCollation(proj bson.Raw, let bson.Raw, c *Collation) (*Projection, error) {
	vars, err := ParseVariables(let)
	if err != nil {
		return nil, err
	}
	return compileProjection(proj, projOptions{vars: withCollation(vars, c)})
}

// collationClause is the " collation: {...}" part of a duplicate key
// message for an index with a collation ("" without one).
func collationClause(c *Collation) string {
	if c == nil {
		return ""
	}
	return " collation: " + docString(c.Spec())
}

// writeCollationKeyString writes a string key of an index with a
// collation the way the server's duplicate key message shows it: the
// collation key, hex-encoded as "0x...". It reports whether it wrote.
func writeCollationKeyString(sb *strings.Builder, c *Collation, v bson.RawValue) bool {
	if c == nil || v.Type != bsontype.String {
		return false
	}
	s, ok := stringBytes(v)
	if !ok {
		return false
	}
	sb.WriteString(`"0x`)
	sb.WriteString(hex.EncodeToString(s))
	sb.WriteString(`"`)
	return true
}
