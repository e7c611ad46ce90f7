package materialize

import (
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file walks the update tree over a document, following mongod's
// UpdateObjectNode/UpdateArrayNode/ModifierNode apply logic: it tracks the
// part of each path that exists (pathTaken) and the part that would have to
// be created (pathToCreate), so that errors and creation rules match the
// server's exactly.

// updApplier holds the state of one Apply call.
type updApplier struct {
	u       *Update
	ctx     ApplyContext
	root    *dnode
	matched string // the positional operator's array index, "" if none
	tsInc   uint32 // $currentDate timestamps issued so far
}

// updPos is a position in the document: chain[len-1] is the deepest existing
// element on the path (chain[0] is the root), taken names the existing
// components and create the ones that do not exist yet.
type updPos struct {
	chain  []*dnode
	taken  []string
	create []string
}

func (p updPos) element() *dnode { return p.chain[len(p.chain)-1] }

// parent returns the parent of the element (nil for the root).
func (p updPos) parent() *dnode {
	if len(p.chain) < 2 {
		return nil
	}
	return p.chain[len(p.chain)-2]
}

// name is the element's own field name ("" for the root).
func (p updPos) name() string {
	if len(p.taken) == 0 {
		return ""
	}
	return p.taken[len(p.taken)-1]
}

func (p updPos) takenPath() string { return strings.Join(p.taken, ".") }

func (p updPos) fullPath() string {
	all := append(append([]string(nil), p.taken...), p.create...)
	return strings.Join(all, ".")
}

func (p updPos) descend(field string, child *dnode) updPos {
	return updPos{
		chain:  append(p.chain[:len(p.chain):len(p.chain)], child),
		taken:  append(p.taken[:len(p.taken):len(p.taken)], field),
		create: p.create,
	}
}

func (p updPos) toCreate(field string) updPos {
	return updPos{
		chain:  p.chain,
		taken:  p.taken,
		create: append(p.create[:len(p.create):len(p.create)], field),
	}
}

func (a *updApplier) apply(n *updNode, pos updPos) error {
	switch n.kind {
	case updKindObject:
		return a.applyObject(n, pos)
	case updKindArray:
		return a.applyArray(n, pos)
	}
	return a.applyLeaf(n.leaf, pos)
}

// applyChild applies child at field under pos, then advances pos over any
// path the child created so later siblings see it (mongod's applyChild).
func (a *updApplier) applyChild(child *updNode, field string, pos *updPos) error {
	var cpos updPos
	var el *dnode
	if len(pos.create) == 0 {
		el, _ = pos.element().child(field)
	}
	if el != nil {
		cpos = pos.descend(field, el)
	} else {
		cpos = pos.toCreate(field)
	}
	if err := a.apply(child, cpos); err != nil {
		return err
	}
	if len(pos.create) > 0 {
		if first, _ := pos.element().child(pos.create[0]); first != nil {
			np := pos.descend(pos.create[0], first)
			cur := first
			for _, part := range pos.create[1:] {
				next, _ := cur.child(part)
				if next == nil {
					return nil
				}
				np = np.descend(part, next)
				cur = next
			}
			np.create = nil
			*pos = np
		}
	}
	return nil
}

func (a *updApplier) applyObject(n *updNode, pos updPos) error {
	applyPositional := n.positional != nil
	if applyPositional && a.matched == "" {
		return errBadValue("The positional operator did not find the match needed from the query.")
	}
	for _, name := range n.order {
		child := n.kids[name]
		if applyPositional && name == a.matched {
			at := append(append(append([]string(nil), pos.taken...), pos.create...), a.matched)
			merged, err := updMerge(n.positional, child, at)
			if err != nil {
				return err
			}
			if err := a.applyChild(merged, name, &pos); err != nil {
				return err
			}
			applyPositional = false
			continue
		}
		// The server compares plain strings here (not the numeric-aware
		// order of its children), so "10" goes before "9".
		if applyPositional && a.matched < name {
			if err := a.applyChild(n.positional, a.matched, &pos); err != nil {
				return err
			}
			applyPositional = false
		}
		if err := a.applyChild(child, name, &pos); err != nil {
			return err
		}
	}
	if applyPositional {
		return a.applyChild(n.positional, a.matched, &pos)
	}
	return nil
}

// applyArray applies $[] and $[<id>] children to the elements they select.
func (a *updApplier) applyArray(n *updNode, pos updPos) error {
	if len(pos.create) > 0 {
		return errBadValue("The path '%s' must exist in the document in order to apply array updates.", pos.fullPath())
	}
	el := pos.element()
	if el.t != bsontype.Array {
		return errBadValue("Cannot apply array updates to non-array element %s", dnFormatElem(pos.name(), el))
	}
	el.expand()
	// Decide which updates apply to which element before changing any.
	kids := append([]dnKid(nil), el.kids...)
	matches := make([][]*updNode, len(kids))
	for i, k := range kids {
		for _, id := range n.order {
			if id == "" {
				matches[i] = append(matches[i], n.kids[id])
				continue
			}
			ok, err := a.u.filters[id].Match(updWrap(id, k.n))
			if err != nil {
				return err
			}
			if ok {
				matches[i] = append(matches[i], n.kids[id])
			}
		}
	}
	for i, k := range kids {
		if len(matches[i]) == 0 {
			continue
		}
		idx := strconv.Itoa(i)
		cpos := pos.descend(idx, k.n)
		merged := matches[i][0]
		for _, m := range matches[i][1:] {
			var err error
			if merged, err = updMerge(merged, m, cpos.taken); err != nil {
				return err
			}
		}
		if err := a.apply(merged, cpos); err != nil {
			return err
		}
	}
	return nil
}

// updWrap builds {name: value}, the document an array filter or a $pull
// condition is matched against.
func updWrap(name string, v *dnode) []byte {
	w := dnEmpty(bsontype.EmbeddedDocument)
	w.kids = []dnKid{{name: name, n: v}}
	return w.appendValue(nil)
}

// applyLeaf is ModifierNode::apply.
func (a *updApplier) applyLeaf(l *updLeaf, pos updPos) error {
	switch l.op {
	case opRenameSource:
		return nil
	case opRename:
		return a.applyRename(l, pos)
	case opSetOnInsert:
		if !a.ctx.IsUpsertInsert {
			return nil
		}
	}
	if len(pos.create) > 0 {
		return a.applyNonexistent(l, pos, nil)
	}
	return a.applyExisting(l, pos, nil)
}

// applyExisting updates the element at pos. setTo, when not nil, is the
// value $rename moves here.
func (a *updApplier) applyExisting(l *updLeaf, pos updPos, setTo *dnode) error {
	var modified bool
	var err error
	if setTo != nil {
		pos.element().set(setTo)
		modified = true
	} else {
		modified, err = a.updateExisting(l, pos)
		if err != nil {
			return err
		}
	}
	if !modified {
		return nil
	}
	// _id is immutable: any change under it, or to it, fails. (A change that
	// leaves it equal was detected as a no-op above.)
	if pos.taken[0] == "_id" {
		return docErr(codeImmutableField, "Performing an update on the path '%s' would modify the immutable field '_id'", pos.takenPath())
	}
	return nil
}

// applyNonexistent handles a path that does not exist: operators that create
// values create it, the others are no-ops (or fail when the path could
// never exist).
func (a *updApplier) applyNonexistent(l *updLeaf, pos updPos, setTo *dnode) error {
	el := pos.element()
	if setTo == nil && !l.allowCreation() {
		if l.op == opUnset {
			return nil
		}
		// checkViability: the missing part could be created under a
		// document, or under an array by index; anything else is an error.
		if el.t == bsontype.EmbeddedDocument {
			return nil
		}
		if el.t == bsontype.Array {
			if _, ok := dnArrayIndex(pos.create[0]); ok {
				return nil
			}
		}
		return docErr(codePathNotViable, "Cannot use the part (%s) of (%s) to traverse the element ({%s})",
			pos.create[0], pos.takenPath()+"."+strings.Join(pos.create, "."), dnFormatElem(pos.name(), el))
	}
	nv := setTo
	if nv == nil {
		var err error
		if nv, err = a.newValue(l); err != nil {
			return err
		}
	}
	if _, err := dnCreatePath(el, pos.name(), pos.create, nv); err != nil {
		return err
	}
	if len(pos.taken) == 0 {
		// A new top-level field: its name must be storable.
		if i := el.indexOf(updFirstCreated(el, pos.create[0])); i >= 0 {
			if err := updCheckTopLevelDollar(el, i); err != nil {
				return err
			}
		}
	}
	if len(pos.taken) > 0 && pos.taken[0] == "_id" {
		return docErr(codeImmutableField, "Updating the path '%s' to %s would modify the immutable field '_id'",
			pos.takenPath(), dnFormatElem(pos.name(), el))
	}
	return nil
}

// updFirstCreated returns the top-level node just appended for name.
func updFirstCreated(root *dnode, name string) *dnode {
	for i := len(root.kids) - 1; i >= 0; i-- {
		if root.kids[i].name == name {
			return root.kids[i].n
		}
	}
	return nil
}

// applyRename is RenameNode::apply, run at the destination's position.
func (a *updApplier) applyRename(l *updLeaf, pos updPos) error {
	from := l.renameFrom
	// findLongestPrefix from the root: a source path that runs into a scalar
	// (or into an array by name) is an error; a missing one is a no-op.
	cur := a.root
	chain := []*dnode{cur}
	for i, part := range from {
		switch cur.t {
		case bsontype.EmbeddedDocument, bsontype.Array:
			if cur.t == bsontype.Array {
				if _, ok := dnPadIndex(part); !ok {
					return updRenameNotViable(from, i, cur)
				}
			}
			next, _ := cur.child(part)
			if next == nil {
				return nil
			}
			chain = append(chain, next)
			cur = next
		default:
			return updRenameNotViable(from, i, cur)
		}
	}
	src := cur
	for i := len(chain) - 2; i >= 1; i-- {
		if chain[i].t == bsontype.Array {
			return errBadValue("The source field cannot be an array element, '%s' in doc with %s has an array field called '%s'",
				strings.Join(from, "."), a.idString(), from[i-1])
		}
	}
	// The destination may not be inside an array either.
	dchain, dnames := pos.chain, pos.taken
	start := len(dchain) - 1
	if len(pos.create) == 0 {
		start--
	}
	for i := start; i >= 1; i-- {
		if dchain[i].t == bsontype.Array {
			return errBadValue("The destination field cannot be an array element, '%s' in doc with %s has an array field called '%s'",
				l.path, a.idString(), dnames[i-1])
		}
	}
	moved := src.clone()
	var err error
	if len(pos.create) > 0 {
		err = a.applyNonexistent(l, pos, moved)
	} else {
		err = a.applyExisting(l, pos, moved)
	}
	if err != nil {
		return err
	}
	parent := chain[len(chain)-2]
	if i := parent.indexOf(src); i >= 0 {
		parent.removeKid(i)
	}
	if from[0] == "_id" {
		return docErr(codeImmutableField, "Performing an update on the path '%s' would modify the immutable field '_id'", strings.Join(from, "."))
	}
	return nil
}

func updRenameNotViable(from []string, i int, el *dnode) error {
	return docErr(codePathNotViable, "cannot use the part (%s of %s) to traverse the element ({%s})",
		from[i-1], strings.Join(from, "."), dnFormatElem(from[i-1], el))
}

// idString renders the document's _id for messages ("_id: 1"), or "no id".
func (a *updApplier) idString() string {
	if id, _ := a.root.child("_id"); id != nil {
		return dnFormatElem("_id", id)
	}
	return "no id"
}
