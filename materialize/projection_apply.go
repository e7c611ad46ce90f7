package materialize

import (
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file applies a compiled projection the way the server's projection
// executor does: a projection pass over the input's fields (in the input's
// order), then a pass that sets computed fields (in the projection's order),
// then the find-only $slice and positional operations on the result.

// Apply projects doc. positionalIndex is the array index the query matched
// ((*Filter).MatchPositional), used by a positional projection "a.$"; -1
// when there is none. The input is never modified.
func (p *Projection) Apply(doc bson.Raw, positionalIndex int) (bson.Raw, error) {
	root, err := dnParseDoc(doc)
	if err != nil {
		return nil, err
	}
	if p.identity {
		return doc, nil
	}
	var out *dnode
	if p.inclusion {
		out = projInclPass(p.root, root)
	} else {
		out = projExclPass(p.root, root)
	}
	out, err = projExprPass(p.root, doc, out)
	if err != nil {
		return nil, err
	}
	for _, post := range p.post {
		if post.positional {
			if err := projApplyPositional(out, post.path, positionalIndex); err != nil {
				return nil, err
			}
		} else {
			projApplySlice(out, post, 0)
		}
	}
	return bson.Raw(out.appendValue(nil)), nil
}

// projInclPass keeps the included fields of a document.
func projInclPass(n *projNode, doc *dnode) *dnode {
	doc.expand()
	out := dnEmpty(bsontype.EmbeddedDocument)
	for _, k := range doc.kids {
		f := n.byName[k.name]
		if f == nil {
			continue
		}
		switch f.kind {
		case projInclude:
			out.kids = append(out.kids, dnKid{name: k.name, n: k.n.clone()})
		case projChild:
			if v := projInclValue(f.child, k.n); v != nil {
				out.kids = append(out.kids, dnKid{name: k.name, n: v})
			}
		}
	}
	return out
}

// projInclValue applies a sub-projection to a value: documents are projected,
// arrays element by element (dropping what is neither a document nor an
// array), anything else disappears.
func projInclValue(n *projNode, v *dnode) *dnode {
	switch v.t {
	case bsontype.EmbeddedDocument:
		return projInclPass(n, v)
	case bsontype.Array:
		v.expand()
		out := dnEmpty(bsontype.Array)
		for _, k := range v.kids {
			if e := projInclValue(n, k.n); e != nil {
				out.kids = append(out.kids, dnKid{n: e})
			}
		}
		return out
	}
	return nil
}

// projExclPass removes the excluded fields of a document.
func projExclPass(n *projNode, doc *dnode) *dnode {
	doc.expand()
	out := dnEmpty(bsontype.EmbeddedDocument)
	for _, k := range doc.kids {
		f := n.byName[k.name]
		switch {
		case f == nil || f.kind == projExpr || f.kind == projElemMatch:
			out.kids = append(out.kids, dnKid{name: k.name, n: k.n.clone()})
		case f.kind == projChild:
			out.kids = append(out.kids, dnKid{name: k.name, n: projExclValue(f.child, k.n)})
		}
	}
	return out
}

func projExclValue(n *projNode, v *dnode) *dnode {
	switch v.t {
	case bsontype.EmbeddedDocument:
		return projExclPass(n, v)
	case bsontype.Array:
		v.expand()
		out := dnEmpty(bsontype.Array)
		for _, k := range v.kids {
			out.kids = append(out.kids, dnKid{n: projExclValue(n, k.n)})
		}
		return out
	}
	return v.clone()
}

// projExprPass sets the computed fields of n on v (a value of the output); it
// returns the new value, or nil when it is missing.
func projExprPass(n *projNode, root []byte, v *dnode) (*dnode, error) {
	computed := false
	for _, f := range n.fields {
		computed = computed || f.computed
	}
	if !computed {
		return v, nil
	}
	if v != nil && v.t == bsontype.Array {
		v.expand()
		for i, k := range v.kids {
			e, err := projExprPass(n, root, k.n)
			if err != nil {
				return nil, err
			}
			if e == nil {
				e = dnEmpty(bsontype.EmbeddedDocument)
			}
			v.kids[i].n = e
		}
		return v, nil
	}
	if v == nil || v.t != bsontype.EmbeddedDocument {
		// Computed fields under a missing or scalar value make a new
		// document: {"a.b": {$literal: 1}} on {a: 1} gives {a: {b: 1}}.
		v = dnEmpty(bsontype.EmbeddedDocument)
	}
	v.expand()
	for _, f := range n.fields {
		if !f.computed {
			continue
		}
		var nv *dnode
		switch f.kind {
		case projExpr:
			res, err := f.expr.Eval(root)
			if err != nil {
				return nil, err
			}
			if res.Type != 0 {
				nv = dnFromRaw(res)
			}
		case projElemMatch:
			var err error
			if nv, err = projElemMatchValue(f, root); err != nil {
				return nil, err
			}
		case projChild:
			cur, _ := v.child(f.name)
			var err error
			if nv, err = projExprPass(f.child, root, cur); err != nil {
				return nil, err
			}
		}
		projSetField(v, f.name, nv)
	}
	return v, nil
}

// projSetField sets (or, with nil, removes) a field of an expanded document,
// keeping its position when it exists.
func projSetField(doc *dnode, name string, v *dnode) {
	for i, k := range doc.kids {
		if k.name == name {
			if v == nil {
				doc.removeKid(i)
			} else {
				doc.kids[i].n = v
			}
			return
		}
	}
	if v != nil {
		doc.kids = append(doc.kids, dnKid{name: name, n: v})
	}
}

// projElemMatchValue is the $elemMatch projection: an array holding the first
// element that matches, or missing.
func projElemMatchValue(f *projField, root []byte) (*dnode, error) {
	ok, idx, err := f.elem.MatchPositional(root)
	if err != nil || !ok || idx < 0 {
		return nil, err
	}
	r := dnFromValue(bsontype.EmbeddedDocument, root)
	arr, _ := r.child(f.name)
	if arr == nil || arr.t != bsontype.Array {
		return nil, nil
	}
	arr.expand()
	if idx >= len(arr.kids) {
		return nil, nil
	}
	out := dnEmpty(bsontype.Array)
	out.kids = []dnKid{{n: arr.kids[idx].n.clone()}}
	return out, nil
}

// projApplySlice is the find $slice on the result document at post.path,
// descending into the documents of arrays on the way.
func projApplySlice(doc *dnode, post projPost, i int) {
	doc.expand()
	name := post.path[i]
	v, idx := doc.child(name)
	if v == nil {
		return
	}
	i++
	switch v.t {
	case bsontype.Array:
		v.expand()
		if i == len(post.path) {
			doc.kids[idx].n = projSliceArray(v, post)
			return
		}
		for _, k := range v.kids {
			if k.n.t == bsontype.EmbeddedDocument {
				projApplySlice(k.n, post, i)
			}
		}
	case bsontype.EmbeddedDocument:
		if i < len(post.path) {
			projApplySlice(v, post, i)
		}
	}
}

func projSliceArray(arr *dnode, post projPost) *dnode {
	n := len(arr.kids)
	start, count := 0, 0
	limit := post.limit
	if !post.hasSkip {
		if limit < 0 {
			start = max(0, n+limit)
			count = n - start
		} else {
			count = min(n, limit)
		}
	} else {
		if post.skip < 0 {
			start = max(0, n+post.skip)
		} else {
			start = min(n, post.skip)
		}
		count = min(n-start, limit)
	}
	out := dnEmpty(bsontype.Array)
	out.kids = append([]dnKid(nil), arr.kids[start:start+count]...)
	return out
}

// projApplyPositional replaces the first array on path with the element the
// query matched.
func projApplyPositional(out *dnode, path []string, idx int) error {
	sub := out
	for ind := range path {
		v, _ := sub.child(path[ind])
		if v == nil {
			continue
		}
		switch v.t {
		case bsontype.Array:
			if idx < 0 {
				return docErr(51246, "positional operator '.$' couldn't find a matching element in the array")
			}
			v.expand()
			if idx >= len(v.kids) {
				return docErr(51247, "positional operator '.$' element mismatch")
			}
			arr := dnEmpty(bsontype.Array)
			arr.kids = []dnKid{{n: v.kids[idx].n}}
			projSetNested(out, path[:ind+1], arr)
			return nil
		case bsontype.EmbeddedDocument:
			sub = v
		}
	}
	return nil
}

// projSetNested sets a value at a dotted path of the result, creating (or
// replacing non-documents with) documents on the way.
func projSetNested(doc *dnode, path []string, v *dnode) {
	cur := doc
	for _, p := range path[:len(path)-1] {
		cur.expand()
		next, idx := cur.child(p)
		if next == nil || next.t != bsontype.EmbeddedDocument {
			nd := dnEmpty(bsontype.EmbeddedDocument)
			if next == nil {
				cur.kids = append(cur.kids, dnKid{name: p, n: nd})
			} else {
				cur.kids[idx].n = nd
			}
			next = nd
		}
		cur = next
	}
	cur.expand()
	projSetField(cur, path[len(path)-1], v)
}
