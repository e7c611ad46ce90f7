package materialize

import (
	"bytes"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file compiles update documents the way mongod's UpdateDriver does:
// operator updates become a prefix tree of paths (UpdateObjectNode /
// UpdateArrayNode with modifier leaves), which is what detects conflicting
// paths and fixes the order in which fields are updated (children are
// visited in field-name order, numeric names in numeric order), so new fields
// appear in the same order as on a real server.

// UpdateOptions are the options of an update statement that change how the
// update document is compiled. It is a plain value: CompileUpdate only reads
// it, so one UpdateOptions may be shared by concurrent compilations.
type UpdateOptions struct {
	// ArrayFilters are the filters the $[<identifier>] path components refer
	// to, one document per identifier (nil: none).
	ArrayFilters []bson.Raw
	// Collation is the command's collation (nil: simple): array filters
	// and the comparisons of $addToSet, $pull, $pullAll, $push's $sort,
	// $min and $max use it.
	Collation *Collation
	// Let is the command's let document: the variables the stages of a
	// pipeline-style update read as $$name (see CompileUpdatePipeline and
	// ParseVariables). Operator and replacement updates ignore it.
	Let bson.Raw
}

// ApplyContext is what an update needs from the statement applying it. It is
// a plain value, passed by copy and never retained.
type ApplyContext struct {
	// PositionalIndex is the array index the query matched (from
	// (*Filter).MatchPositional), used by the positional operator "$"; -1
	// when the query matched no array element.
	PositionalIndex int
	// IsUpsertInsert is true when the update builds the document an upsert
	// inserts: $setOnInsert applies only then.
	IsUpsertInsert bool
	// Now is the time $currentDate (and zero timestamps in replacement
	// documents) use, so results are deterministic.
	Now time.Time
}

// Update is a compiled update: either a replacement document or a tree of
// update operators. It is immutable once CompileUpdate returns it and safe
// for concurrent use.
type Update struct {
	replacement bson.Raw
	root        *updNode
	positional  bool
	filters     map[string]*Filter
	pipeline    *updPipeline // a pipeline-style update (update_pipeline.go)
	coll        *Collation   // the operators' comparisons use it (nil: simple)
}

// IsReplacement reports whether the update is a replacement document (its
// first field does not start with '$') rather than operators.
func (u *Update) IsReplacement() bool { return u.replacement != nil }

// UsesPositional reports whether a path uses the positional operator "$", so
// the caller must run the query with (*Filter).MatchPositional.
func (u *Update) UsesPositional() bool { return u.positional }

// updOp identifies an update operator.
type updOp int

const (
	opSet updOp = iota
	opSetOnInsert
	opUnset
	opInc
	opMul
	opMin
	opMax
	opCurrentDate
	opRename
	opRenameSource // the conflict placeholder at a $rename's source path
	opPush
	opAddToSet
	opPop
	opPull
	opPullAll
	opBit
)

// updModifiers is mongod's modifier table. $pushAll was removed in 3.6.
var updModifiers = map[string]updOp{
	"$set":         opSet,
	"$setOnInsert": opSetOnInsert,
	"$unset":       opUnset,
	"$inc":         opInc,
	"$mul":         opMul,
	"$min":         opMin,
	"$max":         opMax,
	"$currentDate": opCurrentDate,
	"$rename":      opRename,
	"$push":        opPush,
	"$addToSet":    opAddToSet,
	"$pop":         opPop,
	"$pull":        opPull,
	"$pullAll":     opPullAll,
	"$bit":         opBit,
}

// updNode is a node of the update tree.
type updNode struct {
	kind       int                 // updKindObject, updKindArray or updKindLeaf
	kids       map[string]*updNode // object: by field name; array: by identifier ("" for $[])
	order      []string            // keys of kids in application order
	positional *updNode            // object nodes: the "$" child
	leaf       *updLeaf
}

const (
	updKindObject = iota
	updKindArray
	updKindLeaf
)

func newUpdInternal(kind int) *updNode {
	return &updNode{kind: kind, kids: map[string]*updNode{}}
}

func (n *updNode) getChild(name string) *updNode {
	if n.kind == updKindObject && name == "$" {
		return n.positional
	}
	return n.kids[name]
}

func (n *updNode) setChild(name string, c *updNode) {
	if n.kind == updKindObject && name == "$" {
		n.positional = c
		return
	}
	n.kids[name] = c
	i := sort.Search(len(n.order), func(i int) bool { return !updFieldLess(n.order[i], name) })
	n.order = append(n.order, "")
	copy(n.order[i+1:], n.order[i:])
	n.order[i] = name
}

// updFieldLess is pathsupport::cmpPathsAndArrayIndexes, the order in which
// the server applies sibling updates (and so appends new fields): names that
// look like numbers (a digit first, no leading zero) compare by magnitude,
// everything else bytewise.
func updFieldLess(a, b string) bool {
	isNum := func(s string) bool {
		return len(s) > 0 && s[0] >= '0' && s[0] <= '9' && !(s[0] == '0' && len(s) > 1)
	}
	if !isNum(a) || !isNum(b) {
		return a < b
	}
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca < '0' || ca > '9' || cb < '0' || cb > '9' {
			return a < b
		}
		if ca != cb {
			return ca < cb
		}
	}
	return a < b
}

// CompileUpdate compiles an update document. A document whose first field
// starts with '$' is an operator update; any other non-empty document is a
// replacement. Errors are *Error values with the server's codes and
// messages; they are the errors the server reports when it parses the
// update, before it looks at any document.
func CompileUpdate(update bson.Raw, opts UpdateOptions) (*Update, error) {
	if err := dnValidateDoc(update, 0); err != nil {
		return nil, errFailedToParse("update document is not valid BSON")
	}
	kids := dnFromValue(bsontype.EmbeddedDocument, update)
	kids.expand()
	if len(kids.kids) == 0 {
		// The server reads {} as a replacement by an empty document; the
		// driver never sends one for an update (it requires an operator),
		// so an empty update is rejected here and replacements go through
		// ApplyReplacement.
		return nil, errFailedToParse("update document must have at least one element")
	}
	filters, err := updParseArrayFilters(opts.ArrayFilters, opts.Collation)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(kids.kids[0].name, "$") {
		return &Update{replacement: update, filters: filters, coll: opts.Collation}, nil
	}

	u := &Update{root: newUpdInternal(updKindObject), filters: filters, coll: opts.Collation}
	found := map[string]bool{}
	for _, mod := range kids.kids {
		op, ok := updModifiers[mod.name]
		if !ok {
			return nil, errFailedToParse("Unknown modifier: %s. Expected a valid update modifier or pipeline-style update specified as an array", mod.name)
		}
		if mod.n.t != bsontype.EmbeddedDocument {
			return nil, errFailedToParse("Modifiers operate on fields but we found type %s instead. For example: {$mod: {<field>: ...}} not {%s}",
				dnTypeName(mod.n.t), dnFormatElem(mod.name, mod.n))
		}
		mod.n.expand()
		for _, f := range mod.n.kids {
			if err := u.parseAndMerge(op, f.name, f.n.value(), found); err != nil {
				return nil, err
			}
		}
	}
	ids := make([]string, 0, len(filters))
	for id := range filters {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if !found[id] {
			return nil, errFailedToParse("The array filter for identifier '%s' was not used in the update %s", id, dnFormatDoc(update))
		}
	}
	return u, nil
}

// updPlaceholderRE is ExpressionWithPlaceholder's rule for identifiers.
var updPlaceholderRE = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// updParseArrayFilters compiles the arrayFilters option: each filter must
// name exactly one identifier (its top-level field, or the first component
// of its dotted paths), and identifiers must be unique.
func updParseArrayFilters(raw []bson.Raw, coll *Collation) (map[string]*Filter, error) {
	out := map[string]*Filter{}
	for _, af := range raw {
		if err := dnValidateDoc(af, 0); err != nil {
			return nil, docErr(codeTypeMismatch, "arrayFilters must be an array of objects")
		}
		f, err := compileFilter(af, withCollation(nil, coll))
		if err != nil {
			if e, ok := err.(*Error); ok {
				return nil, &Error{Code: e.Code, Name: e.Name, Message: "Error parsing array filter :: caused by :: " + e.Message}
			}
			return nil, err
		}
		id, err := updPlaceholder(af)
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, errFailedToParse("Cannot use an expression without a top-level field name in arrayFilters")
		}
		if !updPlaceholderRE.MatchString(id) {
			return nil, errBadValue("Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '%s'", id)
		}
		if _, dup := out[id]; dup {
			return nil, errFailedToParse("Found multiple array filters with the same top-level field name %s", id)
		}
		out[id] = f
	}
	return out, nil
}

// updPlaceholder finds the single top-level field an array filter is over
// (parseTopLevelFieldName): the first path component of each condition, looking
// through $and, $or and $nor. Other $-keys ($expr, $where, ...) name none.
func updPlaceholder(filter []byte) (string, error) {
	d := dnFromValue(bsontype.EmbeddedDocument, filter)
	d.expand()
	id := ""
	for _, k := range d.kids {
		var cur string
		switch {
		case k.name == "$and" || k.name == "$or" || k.name == "$nor":
			if k.n.t != bsontype.Array {
				continue
			}
			k.n.expand()
			for _, sub := range k.n.kids {
				if sub.n.t != bsontype.EmbeddedDocument {
					continue
				}
				s, err := updPlaceholder(sub.n.data)
				if err != nil {
					return "", err
				}
				if s == "" {
					continue
				}
				if cur != "" && s != cur {
					return "", errFailedToParse("Error parsing array filter :: caused by :: Expected a single top-level field name, found '%s' and '%s'", cur, s)
				}
				cur = s
			}
		case strings.HasPrefix(k.name, "$"):
			continue
		default:
			cur = k.name
			if i := strings.IndexByte(cur, '.'); i >= 0 {
				cur = cur[:i]
			}
		}
		if cur == "" {
			continue
		}
		if id != "" && cur != id {
			return "", errFailedToParse("Error parsing array filter :: caused by :: Expected a single top-level field name, found '%s' and '%s'", id, cur)
		}
		id = cur
	}
	return id, nil
}

// updIsIdentifier reports whether a path component is $[] or $[<id>].
func updIsIdentifier(s string) bool {
	return len(s) >= 3 && s[0] == '$' && s[1] == '[' && s[len(s)-1] == ']'
}

// parseAndMerge is UpdateObjectNode::parseAndMerge: it checks one path of
// one operator and adds its leaf to the tree.
func (u *Update) parseAndMerge(op updOp, name string, val bson.RawValue, found map[string]bool) error {
	path := name
	if op == opRename {
		// $rename puts a placeholder at the source path (so other operators
		// on it conflict) and the operator itself at the destination.
		if err := u.parseAndMerge(opRenameSource, name, val, found); err != nil {
			return err
		}
		if val.Type != bsontype.String {
			return errBadValue("The 'to' field for $rename must be a string: %s", dnFormatRawElem(name, val))
		}
		path = updStringValue(val.Value)
	}
	parts, err := dnSplitPath(path)
	if err != nil {
		return err
	}
	posCount, posIndex := 0, -1
	for i, p := range parts {
		if p == "$" {
			if posCount == 0 {
				posIndex = i
			}
			posCount++
		}
	}
	if posCount > 1 {
		return errBadValue("Too many positional (i.e. '$') elements found in path '%s'", path)
	}
	if posCount == 1 && posIndex == 0 {
		return errBadValue("Cannot have positional (i.e. '$') element in the first position in path '%s'", path)
	}
	leaf, err := updInitLeaf(op, name, val, u.coll)
	if err != nil {
		return err
	}
	leaf.path = path
	leaf.parts = parts

	childName := func(i int) (string, error) {
		p := parts[i]
		if !updIsIdentifier(p) {
			return p, nil
		}
		if i == 0 {
			return "", errBadValue("Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '%s'", path)
		}
		id := p[2 : len(p)-1]
		if id != "" {
			if _, ok := u.filters[id]; !ok {
				return "", errBadValue("No array filter found for identifier '%s' in path '%s'", id, path)
			}
			found[id] = true
		}
		return id, nil
	}
	cur := u.root
	for i := 0; i < len(parts)-1; i++ {
		cn, err := childName(i)
		if err != nil {
			return err
		}
		wantArray := updIsIdentifier(parts[i+1])
		child := cur.getChild(cn)
		if child != nil {
			if (wantArray && child.kind != updKindArray) || (!wantArray && child.kind != updKindObject) {
				return docErr(codeConflictingUpdateOperators, "Updating the path '%s' would create a conflict at '%s'",
					path, strings.Join(parts[:i+1], "."))
			}
		} else {
			if wantArray {
				child = newUpdInternal(updKindArray)
			} else {
				child = newUpdInternal(updKindObject)
			}
			cur.setChild(cn, child)
		}
		cur = child
	}
	cn, err := childName(len(parts) - 1)
	if err != nil {
		return err
	}
	if cur.getChild(cn) != nil {
		return docErr(codeConflictingUpdateOperators, "Updating the path '%s' would create a conflict at '%s'", path, path)
	}
	cur.setChild(cn, &updNode{kind: updKindLeaf, leaf: leaf})
	if posCount > 0 {
		u.positional = true
	}
	return nil
}

// updStringValue reads a validated BSON string value.
func updStringValue(b []byte) string {
	if len(b) < 5 {
		return ""
	}
	return string(b[4 : len(b)-1])
}

// updMerge is UpdateNode::createUpdateNodeByMerging: when the positional
// operator or several array filters select the same element, their subtrees
// are merged; two operators on the same path conflict.
func updMerge(a, b *updNode, path []string) (*updNode, error) {
	if a.kind != b.kind || a.kind == updKindLeaf {
		return nil, docErr(codeConflictingUpdateOperators, "Update created a conflict at '%s'", strings.Join(path, "."))
	}
	m := newUpdInternal(a.kind)
	names := map[string]bool{}
	for _, k := range a.order {
		names[k] = true
	}
	for _, k := range b.order {
		names[k] = true
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return updFieldLess(keys[i], keys[j]) })
	for _, k := range keys {
		ca, cb := a.kids[k], b.kids[k]
		switch {
		case ca != nil && cb != nil:
			label := k
			if a.kind == updKindArray {
				label = "$[" + k + "]"
			}
			c, err := updMerge(ca, cb, append(append([]string(nil), path...), label))
			if err != nil {
				return nil, err
			}
			m.kids[k] = c
		case ca != nil:
			m.kids[k] = ca
		default:
			m.kids[k] = cb
		}
	}
	m.order = keys
	switch {
	case a.positional != nil && b.positional != nil:
		c, err := updMerge(a.positional, b.positional, append(append([]string(nil), path...), "$"))
		if err != nil {
			return nil, err
		}
		m.positional = c
	case a.positional != nil:
		m.positional = a.positional
	default:
		m.positional = b.positional
	}
	return m, nil
}

// ---------------------------------------------------------------------------
// Applying

// Apply applies the update to doc and returns the new document and whether
// it differs from doc. When nothing changes, the returned document is doc
// itself. Errors are *Error values shaped like the server's (for example code
// 66 ImmutableField when _id would change, 14 TypeMismatch for $inc on a
// string). Apply never modifies doc.
//
// When ctx.IsUpsertInsert is set, doc is the seed built by UpsertSeed (or an
// empty document) and the result has _id first if it has one; a missing _id
// is left for the caller to generate.
func (u *Update) Apply(doc bson.Raw, ctx ApplyContext) (bson.Raw, bool, error) {
	if len(doc) == 0 {
		doc = bson.Raw{5, 0, 0, 0, 0}
	}
	if u.replacement != nil {
		return u.applyReplacementUpdate(doc, ctx)
	}
	if u.pipeline != nil {
		return u.applyPipeline(doc, ctx)
	}
	root, err := dnParseDoc(doc)
	if err != nil {
		return nil, false, err
	}
	a := &updApplier{u: u, ctx: ctx, root: root}
	if ctx.PositionalIndex >= 0 && !ctx.IsUpsertInsert {
		a.matched = strconv.Itoa(ctx.PositionalIndex)
	}
	if err := a.apply(u.root, updPos{chain: []*dnode{root}}); err != nil {
		return nil, false, err
	}
	if !root.expanded {
		return doc, false, nil
	}
	if ctx.IsUpsertInsert {
		if err := updFinishInsert(root); err != nil {
			return nil, false, err
		}
	}
	out := root.appendValue(nil)
	if len(out) > dnMaxUserDocSize {
		if ctx.IsUpsertInsert {
			return nil, false, docErr(17420, "Document to upsert is larger than %d", dnMaxUserDocSize)
		}
		return nil, false, docErr(17419, "Resulting document after update is larger than %d", dnMaxUserDocSize)
	}
	if bytes.Equal(out, doc) {
		return doc, false, nil
	}
	return bson.Raw(out), true, nil
}

// updFinishInsert does what the server does to a document an upsert built:
// _id first, and an _id that is valid for storage and not an array.
func updFinishInsert(root *dnode) error {
	root.expand()
	for i, k := range root.kids {
		if k.name != "_id" {
			continue
		}
		if err := updCheckIDForStorage(k.n); err != nil {
			return err
		}
		if i > 0 {
			copy(root.kids[1:i+1], root.kids[:i])
			root.kids[0] = k
		}
		return nil
	}
	return nil
}

// updCheckIDForStorage is storageValidIdField.
func updCheckIDForStorage(id *dnode) error {
	switch id.t {
	case bsontype.Regex, bsontype.Array, bsontype.Undefined:
		return docErr(codeInvalidIdField, "The '_id' value cannot be of type %s", dnTypeName(id.t))
	case bsontype.EmbeddedDocument:
		if name, full, ok := updFindDollarField(id, "_id"); ok {
			return docErr(codeDollarPrefixedFieldName,
				"_id fields may not contain '$'-prefixed fields: The dollar ($) prefixed field '%s' in '%s' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.", name, full)
		}
	}
	return nil
}

// updFindDollarField finds a '$'-prefixed field name anywhere inside n (DBRef
// fields $ref, $id and $db excepted).
func updFindDollarField(n *dnode, prefix string) (string, string, bool) {
	if !n.isContainer() {
		return "", "", false
	}
	n.expand()
	for _, k := range n.kids {
		full := prefix + "." + k.name
		if n.t == bsontype.EmbeddedDocument && strings.HasPrefix(k.name, "$") &&
			k.name != "$ref" && k.name != "$id" && k.name != "$db" {
			return k.name, full, true
		}
		if name, f, ok := updFindDollarField(k.n, full); ok {
			return name, f, true
		}
	}
	return "", "", false
}

// updCheckTopLevelDollar is validateDollarPrefixElement for a top-level field:
// '$'-prefixed names are not storable, except the fields of a DBRef in their
// proper order.
func updCheckTopLevelDollar(root *dnode, idx int) error {
	kids := root.kids
	name := kids[idx].name
	if !strings.HasPrefix(name, "$") {
		return nil
	}
	i := idx
	cur := name
	if cur == "$db" {
		if kids[i].n.t != bsontype.String {
			return docErr(55, "The DBRef $db field must be a String, not a %s", dnTypeName(kids[i].n.t))
		}
		if i == 0 || kids[i-1].name != "$id" {
			return docErr(55, "Found $db field without a $id before it, which is invalid.")
		}
		i--
		cur = kids[i].name
	}
	if cur == "$id" {
		if i == 0 || kids[i-1].name != "$ref" {
			return docErr(55, "Found $id field without a $ref before it, which is invalid.")
		}
		i--
		cur = kids[i].name
	}
	if cur == "$ref" {
		if kids[i].n.t != bsontype.String {
			return docErr(55, "The DBRef $ref field must be a String, not a %s", dnTypeName(kids[i].n.t))
		}
		if i+1 >= len(kids) || kids[i+1].name != "$id" {
			return docErr(55, "The DBRef $ref field must be followed by a $id field")
		}
		return nil
	}
	return docErr(codeDollarPrefixedFieldName,
		"The dollar ($) prefixed field '%s' in '%s' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.", name, name)
}

// ApplyReplacement replaces old by repl the way a replacement update does:
// old's _id is kept (first) when repl has none, repl's fields follow in
// order, and _id moves first. It fails with code 66 ImmutableField when repl
// changes _id ("After applying the update, the (immutable) field '_id' was
// found to have been altered to _id: 2"), with code 52 for top-level
// '$'-prefixed fields and with code 53 for an _id that cannot be stored.
//
// Zero timestamps in repl are kept as they are; Update.Apply of a compiled
// replacement fills them from ApplyContext.Now as the server does. The server
// counts a replacement as a modification unless repl is byte-for-byte equal
// to old, even when the result equals old.
func ApplyReplacement(old bson.Raw, repl bson.Raw) (bson.Raw, error) {
	if len(old) == 0 {
		old = bson.Raw{5, 0, 0, 0, 0}
	}
	root, err := dnParseDoc(old)
	if err != nil {
		return nil, err
	}
	r, err := dnParseDoc(repl)
	if err != nil {
		return nil, err
	}
	return updReplace(root, r, old, repl)
}

func updReplace(root, r *dnode, old, repl []byte) (bson.Raw, error) {
	return updReplaceDoc(root, r, old, repl, false)
}

// updReplaceDoc is ObjectReplaceExecutor::applyReplacementUpdate; a
// pipeline-style update allows top-level '$'-prefixed fields.
func updReplaceDoc(root, r *dnode, old, repl []byte, allowTopLevelDollar bool) (bson.Raw, error) {
	if bytes.Equal(old, repl) {
		return bson.Raw(old), nil
	}
	root.expand()
	r.expand()
	var oldID *dnode
	for _, k := range root.kids {
		if k.name == "_id" {
			oldID = k.n
			break
		}
	}
	replHasID := false
	for _, k := range r.kids {
		if k.name == "_id" {
			replHasID = true
			break
		}
	}
	out := dnEmpty(bsontype.EmbeddedDocument)
	if !replHasID && oldID != nil {
		out.kids = append(out.kids, dnKid{name: "_id", n: oldID})
	}
	out.kids = append(out.kids, r.kids...)

	// Storage validation (top-level '$' fields, a storable _id) comes before
	// the immutability check, as in ObjectReplaceExecutor.
	for i, k := range out.kids {
		if k.name == "_id" {
			if err := updCheckIDForStorage(k.n); err != nil {
				return nil, err
			}
		}
		if allowTopLevelDollar {
			continue
		}
		if err := updCheckTopLevelDollar(out, i); err != nil {
			return nil, err
		}
	}
	var newID *dnode
	for _, k := range out.kids {
		if k.name == "_id" {
			newID = k.n
			break
		}
	}
	if oldID != nil && newID != nil && CompareValues(newID.value(), oldID.value()) != 0 {
		return nil, docErr(codeImmutableField, "After applying the update, the (immutable) field '_id' was found to have been altered to %s", dnFormatElem("_id", newID))
	}
	if err := updFinishInsert(out); err != nil {
		return nil, err
	}
	b := out.appendValue(nil)
	if len(b) > dnMaxUserDocSize {
		return nil, docErr(17419, "Resulting document after update is larger than %d", dnMaxUserDocSize)
	}
	return bson.Raw(b), nil
}

func (u *Update) applyReplacementUpdate(doc bson.Raw, ctx ApplyContext) (bson.Raw, bool, error) {
	root, err := dnParseDoc(doc)
	if err != nil {
		return nil, false, err
	}
	repl := updFillZeroTimestamps(u.replacement, ctx.Now)
	r := dnFromValue(bsontype.EmbeddedDocument, repl)
	out, err := updReplace(root, r, doc, repl)
	if err != nil {
		if ctx.IsUpsertInsert {
			if e, ok := err.(*Error); ok && e.Code == 17419 {
				return nil, false, docErr(17420, "Document to upsert is larger than %d", dnMaxUserDocSize)
			}
		}
		return nil, false, err
	}
	// ObjectReplaceExecutor's no-op test compares the original with the
	// replacement as given, not with the result.
	if bytes.Equal(doc, repl) {
		return doc, false, nil
	}
	return out, true, nil
}

// updFillZeroTimestamps replaces top-level Timestamp(0, 0) values (other than
// _id) with the current time, as the server does for replacements and
// inserts.
func updFillZeroTimestamps(repl bson.Raw, now time.Time) bson.Raw {
	r := dnFromValue(bsontype.EmbeddedDocument, repl)
	r.expand()
	changed := false
	var inc uint32
	for _, k := range r.kids {
		if k.name == "_id" || k.n.t != bsontype.Timestamp || !bytes.Equal(k.n.data, make([]byte, 8)) {
			continue
		}
		inc++
		k.n.set(updTimestamp(now, inc))
		changed = true
	}
	if !changed {
		return repl
	}
	return bson.Raw(r.appendValue(nil))
}

// UpsertSeed builds the document an upsert starts from: the equality
// conditions of its query (from (*Filter).EqualityFields), set at their
// dotted paths in path order, with _id first. Conditions on a path and on a
// prefix of it ({a: 1, "a.b": 2}) fail with code 54 NotSingleValueField as
// on the server. For replacement-style upserts use ReplacementUpsertSeed.
func UpsertSeed(equality map[string]bson.RawValue) (bson.Raw, error) {
	paths := make([]string, 0, len(equality))
	for p := range equality {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	// A path conflicts with any other path that is a component-wise prefix.
	for _, p := range paths {
		parts := strings.Split(p, ".")
		for i := len(parts) - 1; i >= 1; i-- {
			prefix := strings.Join(parts[:i], ".")
			if _, ok := equality[prefix]; ok {
				return nil, docErr(codeNotSingleValueField, "cannot infer query fields to set, both paths '%s' and '%s' are matched", p, prefix)
			}
		}
	}
	doc := &MutableDocument{root: dnEmpty(bsontype.EmbeddedDocument)}
	for _, p := range paths {
		if err := doc.Set(p, equality[p]); err != nil {
			return nil, err
		}
	}
	if err := updFinishInsert(doc.root); err != nil {
		return nil, err
	}
	return doc.Raw(), nil
}

// ReplacementUpsertSeed is UpsertSeed for replacement-style upserts, which
// take only _id from the query. A condition on a sub-field of _id ("_id.x")
// cannot give the whole _id and fails with code 111 NotExactValueField.
func ReplacementUpsertSeed(equality map[string]bson.RawValue) (bson.Raw, error) {
	only := map[string]bson.RawValue{}
	for p, v := range equality {
		switch {
		case p == "_id":
			only[p] = v
		case strings.HasPrefix(p, "_id."):
			return nil, docErr(codeNotExactValueField, "field at '_id' must be exactly specified, field at sub-path '%s'found", p)
		}
	}
	return UpsertSeed(only)
}
