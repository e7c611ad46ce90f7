package materialize

import (
	"slices"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file plans index use: which index (the _id tree or a secondary
// index) narrows a filter, with which bounds, and when an index yields
// documents already in a sort's order.
//
// A plan only narrows the search: it yields a superset of the matching
// documents, and callers match every candidate against the whole filter,
// so results equal a collection scan's. What a plan may use, from the
// filter's top-level conjunction (its fields and top-level $and):
//   - equalities on the leading fields of a compound index, then a $in or a
//     range on the next field (on _id: equality, $in or a range);
//   - both bounds of a range only where no document of the index has an
//     array on its key paths (a multikey index matches {$gt: 5, $lt: 10}
//     for {a: [0, 20]}, each bound through another element); otherwise one
//     bound;
//   - a top-level $or whose every branch can be planned: the union of the
//     branches' scans, each document once;
//   - among several usable plans, the one that walks the fewest index
//     entries, counted with a cap (the best count so far), so estimating
//     costs no more than running the best plan.
// A range yields only keys of its operand's canonical type (numbers with
// numbers, strings with strings), as a range matches; null, arrays and
// regexes are never bounds (they match missing fields, elements or
// patterns). Indexes that are partial or hidden, or whose used fields have
// a positional component ("a.0"), are not used.

// PlanOptions tune index use. The zero value plans for the simple (binary)
// collation.
type PlanOptions struct {
	// CollationCompatible, when set, reports whether def (nil for the _id
	// index) orders strings as the query's collation does. When it returns
	// false, no bound on a string (or a symbol, document or array, which
	// may hold strings) uses def, and def does not serve a sort. Nil means
	// every index is compatible.
	CollationCompatible func(def *IndexDef) bool

	// coll is the query's collation (nil: simple). An index whose
	// collation differs answers no string bound and serves no sort. An
	// index with a collation holds collation keys for its strings, so it
	// answers string bounds only when viaKeys lets the planner look them
	// up by their collation keys (filters; sorts use simple indexes only).
	// Other bounds (numbers, dates, ...) are the same under every
	// collation.
	coll    *Collation
	viaKeys bool
}

func (o PlanOptions) compatible(def *IndexDef) bool {
	if o.CollationCompatible != nil && !o.CollationCompatible(def) {
		return false
	}
	var ixColl *Collation // the _id index compares strings simply
	if def != nil {
		ixColl = def.Collation
	}
	return ixColl.Equal(o.coll) && (ixColl == nil || o.viaKeys)
}

// collationSensitive reports whether comparing v depends on a collation.
func collationSensitive(v bson.RawValue) bool {
	switch v.Type {
	case bsontype.String, bsontype.Symbol, bsontype.EmbeddedDocument, bsontype.Array:
		return true
	}
	return false
}

// rangeBound is one side of a range.
type rangeBound struct {
	v    bson.RawValue
	incl bool
}

// pathPreds is what a conjunction requires of one path.
type pathPreds struct {
	eq     []bson.RawValue   // equalities an index answers (indexableEquality)
	in     [][]bson.RawValue // $in lists of such values
	lo, hi []rangeBound      // range bounds (rangeIndexable)
}

// conjPreds is the index-usable part of a conjunction: per-path predicates
// and the $or arrays (each a list of branch filters).
type conjPreds struct {
	paths map[string]*pathPreds
	ors   [][][]byte
}

func (c *conjPreds) path(p string) *pathPreds {
	if c.paths == nil {
		c.paths = map[string]*pathPreds{}
	}
	pp := c.paths[p]
	if pp == nil {
		pp = &pathPreds{}
		c.paths[p] = pp
	}
	return pp
}

// collectConj gathers the predicates of a validated filter's top-level
// conjunction into out.
func collectConj(filter []byte, out *conjPreds) {
	iterElements(filter, func(key string, v bson.RawValue) bool {
		switch key {
		case "$and", "$or":
			arr, ok := v.ArrayOK()
			if !ok || v.Type != bsontype.Array {
				return true
			}
			var branches [][]byte
			iterElements(arr, func(_ string, sub bson.RawValue) bool {
				d, ok := sub.DocumentOK()
				if !ok || sub.Type != bsontype.EmbeddedDocument {
					branches = nil
					return false
				}
				branches = append(branches, d)
				return true
			})
			if key == "$and" {
				for _, b := range branches {
					collectConj(b, out)
				}
			} else if len(branches) > 0 {
				out.ors = append(out.ors, branches)
			}
			return true
		}
		if len(key) == 0 || key[0] == '$' {
			return true
		}
		if !isExpressionDocument(v, false) {
			if v.Type != bsontype.Regex && indexableEquality(v) {
				out.path(key).eq = append(out.path(key).eq, v)
			}
			return true
		}
		ops, _ := v.DocumentOK()
		iterElements(ops, func(op string, arg bson.RawValue) bool {
			switch fieldOperator(op) {
			case opKindEq:
				if indexableEquality(arg) {
					out.path(key).eq = append(out.path(key).eq, arg)
				}
			case opKindGt:
				if rangeIndexable(arg) {
					out.path(key).lo = append(out.path(key).lo, rangeBound{arg, false})
				}
			case opKindGte:
				if rangeIndexable(arg) {
					out.path(key).lo = append(out.path(key).lo, rangeBound{arg, true})
				}
			case opKindLt:
				if rangeIndexable(arg) {
					out.path(key).hi = append(out.path(key).hi, rangeBound{arg, false})
				}
			case opKindLte:
				if rangeIndexable(arg) {
					out.path(key).hi = append(out.path(key).hi, rangeBound{arg, true})
				}
			case opKindIn:
				arr, ok := arg.ArrayOK()
				if !ok || arg.Type != bsontype.Array {
					return true
				}
				vals := []bson.RawValue{}
				usable := true
				iterElements(arr, func(_ string, e bson.RawValue) bool {
					usable = indexableEquality(e)
					vals = append(vals, e)
					return usable
				})
				if usable {
					out.path(key).in = append(out.path(key).in, vals)
				}
			}
			return true
		})
		return true
	})
}

// ixScan is one walk of one index: the keys starting with each prefix
// (equalities, then possibly one $in value) and, on the field after the
// prefix, within lo and hi.
type ixScan struct {
	s        *secIndex // nil: the _id tree
	prefixes [][]bson.RawValue
	lo, hi   *rangeBound
}

// ixPlan is a union of scans (one unless it answers an $or).
type ixPlan struct {
	scans []ixScan
}

// planIndex builds the scan of s (nil: _id) for the predicates, or false.
func planIndex(s *secIndex, preds *conjPreds, opts PlanOptions) (ixScan, bool) {
	var def *IndexDef
	fields := []indexField{{path: "_id", parts: []string{"_id"}}}
	multikey := false
	if s != nil {
		def, fields, multikey = s.def, s.def.fields, s.multikey > 0
		if def.partial != nil || def.hidden {
			return ixScan{}, false
		}
	}
	compat := opts.compatible(def)
	key := func(v bson.RawValue) bson.RawValue { return v }
	if compat && def != nil && def.Collation != nil {
		key = def.Collation.KeyValue // the index holds collation keys
	}
	usable := func(v bson.RawValue) bool { return compat || !collationSensitive(v) }
	sc := ixScan{s: s, prefixes: [][]bson.RawValue{nil}}
	var prefix []bson.RawValue
	for _, f := range fields {
		if slices.ContainsFunc(f.parts, isAllDigits) {
			break // positional components: keys follow other rules
		}
		pp := preds.paths[f.path]
		if pp == nil {
			break
		}
		if i := slices.IndexFunc(pp.eq, usable); i >= 0 {
			prefix = append(prefix, key(pp.eq[i]))
			continue
		}
		if i := slices.IndexFunc(pp.in, func(vals []bson.RawValue) bool {
			return !slices.ContainsFunc(vals, func(v bson.RawValue) bool { return !usable(v) })
		}); i >= 0 {
			sc.prefixes = make([][]bson.RawValue, 0, len(pp.in[i]))
			for _, v := range pp.in[i] {
				sc.prefixes = append(sc.prefixes, append(slices.Clip(prefix), key(v)))
			}
			return sc, true
		}
		lo := pickBound(pp.lo, usable, key)
		hi := pickBound(pp.hi, usable, key)
		if lo != nil && hi != nil && (multikey || canonicalType(lo.v.Type) != canonicalType(hi.v.Type)) {
			hi = nil // one bound: see the top of this file
		}
		if lo == nil && hi == nil {
			break
		}
		sc.prefixes[0], sc.lo, sc.hi = prefix, lo, hi
		return sc, true
	}
	if len(prefix) == 0 {
		return ixScan{}, false
	}
	sc.prefixes[0] = prefix
	return sc, true
}

func pickBound(bs []rangeBound, usable func(bson.RawValue) bool, key func(bson.RawValue) bson.RawValue) *rangeBound {
	for i := range bs {
		if usable(bs[i].v) {
			return &rangeBound{key(bs[i].v), bs[i].incl}
		}
	}
	return nil
}

// walk calls fn for every document entry the scan covers (a document may
// come more than once from a multikey index) until fn returns false.
func (c *Collection) walk(sc *ixScan, fn func(d *Doc) bool) bool {
	for _, p := range sc.prefixes {
		var ok bool
		if sc.s == nil {
			ok = c.walkID(p, sc.lo, sc.hi, fn)
		} else {
			ok = sc.s.walk(p, sc.lo, sc.hi, fn)
		}
		if !ok {
			return false
		}
	}
	return true
}

// walkID walks the _id tree: the document with _id eq[0], or a range.
func (c *Collection) walkID(eq []bson.RawValue, lo, hi *rangeBound, fn func(d *Doc) bool) bool {
	if len(eq) > 0 {
		if d, found := c.byID.Get(&Doc{ID: eq[0]}); found {
			return fn(d)
		}
		return true
	}
	ok := true
	if lo != nil {
		class := canonicalType(lo.v.Type)
		c.byID.Ascend(&Doc{ID: lo.v}, func(d *Doc) bool {
			if canonicalType(d.ID.Type) != class {
				return false
			}
			if !lo.incl && CompareValues(d.ID, lo.v) == 0 {
				return true
			}
			if hi != nil {
				if cmp := CompareValues(d.ID, hi.v); cmp > 0 || (cmp == 0 && !hi.incl) {
					return false
				}
			}
			ok = fn(d)
			return ok
		})
		return ok
	}
	class := canonicalType(hi.v.Type)
	c.byID.Descend(&Doc{ID: hi.v}, func(d *Doc) bool {
		if canonicalType(d.ID.Type) != class {
			return false
		}
		if !hi.incl && CompareValues(d.ID, hi.v) == 0 {
			return true
		}
		ok = fn(d)
		return ok
	})
	return ok
}

// walk walks the entries whose keys start with prefix and whose next field
// is within lo and hi (of their canonical type): ascending, or descending
// when only hi is set.
func (s *secIndex) walk(prefix []bson.RawValue, lo, hi *rangeBound, fn func(d *Doc) bool) bool {
	return s.scan(prefix, lo, hi, lo == nil && hi != nil, func(e *ixEntry, _ []bson.RawValue) bool { return fn(e.doc) })
}

// scan calls fn, in key order (desc: reversed), for the entries whose keys
// start with prefix and whose next field is within lo and hi (of the
// bounds' canonical type), with the entry's key values, until fn returns
// false. It reports whether fn never did.
func (s *secIndex) scan(prefix []bson.RawValue, lo, hi *rangeBound, desc bool, fn func(e *ixEntry, key []bson.RawValue) bool) bool {
	n := len(prefix)
	probe := func(b *rangeBound, p int8) ixEntry {
		if b == nil {
			return newEntry(prefix, nil, p)
		}
		return newEntry(append(slices.Clip(prefix), b.v), nil, p)
	}
	class := 0
	ranged := lo != nil || hi != nil
	if lo != nil {
		class = canonicalType(lo.v.Type)
	} else if hi != nil {
		class = canonicalType(hi.v.Type)
	}
	ok := true
	// Walking away from the only bound (ascending to hi, descending to lo)
	// first meets keys of other types, which are skipped.
	skipOthers := (!desc && lo == nil) || (desc && hi == nil)
	var buf [4]bson.RawValue
	visit := func(e ixEntry) bool {
		k := e.keyValues(buf[:0])
		if len(k) < n || CompareKeys(k[:n], prefix) != 0 {
			return false
		}
		if ranged {
			if len(k) <= n {
				return false
			}
			if kc := canonicalType(k[n].Type); kc != class {
				if skipOthers && ((!desc && kc < class) || (desc && kc > class)) {
					return true
				}
				return false
			}
			if !desc && hi != nil {
				if cmp := CompareValues(k[n], hi.v); cmp > 0 || (cmp == 0 && !hi.incl) {
					return false
				}
			}
			if desc && lo != nil {
				if cmp := CompareValues(k[n], lo.v); cmp < 0 || (cmp == 0 && !lo.incl) {
					return false
				}
			}
		}
		ok = fn(&e, k)
		return ok
	}
	if desc {
		start := probe(hi, 1)
		if hi != nil && !hi.incl {
			start = probe(hi, -1)
		}
		s.tree.Descend(start, visit)
	} else {
		start := probe(lo, -1)
		if lo != nil && !lo.incl {
			start = probe(lo, 1)
		}
		s.tree.Ascend(start, visit)
	}
	return ok
}

// count counts the entries p walks, stopping past limit.
func (c *Collection) count(p *ixPlan, limit int) int {
	n := 0
	for i := range p.scans {
		c.walk(&p.scans[i], func(*Doc) bool {
			n++
			return n <= limit
		})
		if n > limit {
			break
		}
	}
	return n
}

// plan returns the cheapest plan for preds, or nil when none applies. limit
// caps the estimate: a plan walking more entries is no better than none.
func (c *Collection) plan(preds *conjPreds, opts PlanOptions, limit int) (*ixPlan, int) {
	var best *ixPlan
	bestN := limit
	consider := func(p *ixPlan) {
		if n := c.count(p, bestN); n <= bestN && (best == nil || n < bestN) {
			best, bestN = p, n
		}
	}
	if sc, ok := planIndex(nil, preds, opts); ok {
		consider(&ixPlan{scans: []ixScan{sc}})
	}
	for _, s := range c.sec {
		if bestN == 0 {
			break
		}
		if sc, ok := planIndex(s, preds, opts); ok {
			consider(&ixPlan{scans: []ixScan{sc}})
		}
	}
	for _, branches := range preds.ors {
		if bestN == 0 {
			break
		}
		union := &ixPlan{}
		budget := bestN
		for _, b := range branches {
			var bp conjPreds
			collectConj(b, &bp)
			p, n := c.plan(&bp, opts, budget)
			if p == nil {
				union = nil
				break
			}
			union.scans = append(union.scans, p.scans...)
			budget -= n
			if budget < 0 {
				union = nil
				break
			}
		}
		if union != nil {
			consider(union)
		}
	}
	return best, bestN
}

// candidates runs the best plan for f and returns its documents in natural
// order, each once, and how many index entries it walked.
func (c *Collection) candidates(f *Filter, opts PlanOptions) (docs []*Doc, walked int, ok bool) {
	if f == nil || f.preds == nil {
		return nil, 0, false
	}
	p, _ := c.plan(f.preds, opts, c.Len())
	if p == nil {
		return nil, 0, false
	}
	for i := range p.scans {
		c.walk(&p.scans[i], func(d *Doc) bool {
			docs = append(docs, d)
			return true
		})
	}
	walked = len(docs)
	slices.SortFunc(docs, func(a, b *Doc) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	return slices.Compact(docs), walked, true
}

// CandidatesWith is Candidates with options (a query's collation).
func (c *Collection) CandidatesWith(f *Filter, opts PlanOptions) ([]bson.Raw, bool) {
	if f == nil {
		return nil, false
	}
	opts.coll, opts.viaKeys = f.coll, true
	found, _, ok := c.candidates(f, opts)
	if !ok {
		return nil, false
	}
	docs := make([]bson.Raw, len(found))
	for i, d := range found {
		docs[i] = d.Raw
	}
	return docs, true
}

// ---------------------------------------------------------------------------
// Sorts served by an index

// sortScan is an index walk in a sort's order: the entries of s (nil: the
// _id tree) starting with prefix, ascending or descending.
type sortScan struct {
	s      *secIndex
	prefix []bson.RawValue
	lo, hi *rangeBound // on the first sort field, from the filter
	desc   bool
}

// planSort finds an index whose key order is sort's order for the
// documents f can match: its fields after equality-bound leading fields are
// the sort's paths, with one direction for all. The index must hold every
// document with one key each (not partial, not sparse, never multikey), so
// its order is the sort's order (ties aside).
func (c *Collection) planSort(preds *conjPreds, sort *Sort, opts PlanOptions) (sortScan, bool) {
	if sort == nil || len(sort.keys) == 0 || preds == nil {
		return sortScan{}, false
	}
	desc := sort.keys[0].desc
	for _, k := range sort.keys {
		if k.desc != desc {
			return sortScan{}, false
		}
	}
	if len(sort.keys) == 1 && sort.keys[0].path == "_id" && opts.compatible(nil) {
		return sortScan{desc: desc}, true
	}
	// Among the indexes in the sort's order, the one with the most
	// equality-bound leading fields walks the fewest entries.
	var best sortScan
	found := false
	for _, s := range c.sec {
		d := s.def
		if d.partial != nil || d.Sparse || d.hidden || s.multikey > 0 || !opts.compatible(d) {
			continue
		}
		var prefix []bson.RawValue
		i := 0
		for ; i < len(d.fields) && d.fields[i].path != sort.keys[0].path; i++ {
			pp := preds.paths[d.fields[i].path]
			if pp == nil || len(pp.eq) == 0 {
				break
			}
			prefix = append(prefix, pp.eq[0])
		}
		if i+len(sort.keys) > len(d.fields) {
			continue
		}
		match := true
		for j, k := range sort.keys {
			f := d.fields[i+j]
			if f.path != k.path || slices.ContainsFunc(f.parts, isAllDigits) {
				match = false
				break
			}
		}
		if match {
			ss := sortScan{s: s, prefix: prefix, desc: desc}
			if pp := preds.paths[sort.keys[0].path]; pp != nil {
				// The filter's range on the first sort field bounds the
				// walk: documents outside it cannot match.
				usable := func(v bson.RawValue) bool { return true }
				same := func(v bson.RawValue) bson.RawValue { return v }
				ss.lo, ss.hi = pickBound(pp.lo, usable, same), pickBound(pp.hi, usable, same)
				if ss.lo != nil && ss.hi != nil && canonicalType(ss.lo.v.Type) != canonicalType(ss.hi.v.Type) {
					ss.hi = nil
				}
			}
			if !found || len(ss.prefix) > len(best.prefix) {
				best, found = ss, true
			}
		}
	}
	return best, found
}

// SortedMatches returns the first n documents matching f in sort's order
// (ties in natural order), as a scan, a stable sort and a limit would, when
// an index yields documents in that order; ok is false otherwise and the
// caller must scan and sort. It does not walk the whole collection when the
// first n matches come early in the index.
func (c *Collection) SortedMatches(f *Filter, sort *Sort, n int, opts PlanOptions) (docs []bson.Raw, ok bool, err error) {
	docs, _, ok, err = c.sortedMatches(f, sort, n, opts)
	return docs, ok, err
}

// sortedMatches is SortedMatches that also reports how many documents it
// examined.
func (c *Collection) sortedMatches(f *Filter, sort *Sort, n int, opts PlanOptions) (docs []bson.Raw, examined int, ok bool, err error) {
	if n <= 0 || f == nil || sort == nil {
		return nil, 0, false, nil
	}
	coll := f.coll
	for _, k := range sort.keys {
		if k.coll != nil {
			coll = k.coll
		}
	}
	opts.coll, opts.viaKeys = coll, false
	ss, ok := c.planSort(f.preds, sort, opts)
	if !ok {
		return nil, 0, false, nil
	}
	// A selective filter plan beats walking the sort's index: prefer it
	// when it yields few documents.
	if len(ss.prefix) == 0 && f.preds != nil {
		if p, cnt := c.plan(f.preds, opts, 4*n+64); p != nil && cnt <= 4*n+64 {
			return nil, 0, false, nil
		}
	}
	var found []*Doc
	var last []bson.RawValue // sort key of the n-th match
	var merr error
	visit := func(d *Doc, key []bson.RawValue) bool {
		if last != nil && CompareKeys(key, last) != 0 {
			return false // past the ties of the n-th match
		}
		examined++
		m, err := f.Match(d.Raw)
		if err != nil {
			merr = err
			return false
		}
		if m {
			found = append(found, d)
			if len(found) == n {
				last = slices.Clone(key)
			}
		}
		return true
	}
	if ss.s == nil {
		fn := func(d *Doc) bool { return visit(d, []bson.RawValue{d.ID}) }
		if ss.desc {
			c.byID.Reverse(fn)
		} else {
			c.byID.Scan(fn)
		}
	} else {
		from, nkeys := len(ss.prefix), len(sort.keys)
		ss.s.scan(ss.prefix, ss.lo, ss.hi, ss.desc, func(e *ixEntry, k []bson.RawValue) bool {
			return visit(e.doc, k[from:from+nkeys])
		})
	}
	if merr != nil {
		return nil, examined, true, merr
	}
	// Order ties as the stable sort of natural order would.
	keys := make([][]bson.RawValue, len(found))
	for i, d := range found {
		keys[i] = sort.Keys(d.Raw)
	}
	idx := make([]int, len(found))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := sort.CompareKeys(keys[a], keys[b]); c != 0 {
			return c
		}
		switch {
		case found[a].seq < found[b].seq:
			return -1
		case found[a].seq > found[b].seq:
			return 1
		}
		return 0
	})
	if len(idx) > n {
		idx = idx[:n]
	}
	docs = make([]bson.Raw, len(idx))
	for i, j := range idx {
		docs[i] = found[j].Raw
	}
	return docs, examined, true, nil
}
