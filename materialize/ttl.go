package materialize

import (
	"math"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// This file finds the documents a TTL index expires, the way mongod's
// TTLMonitor does (ttl.cpp, deleteExpiredWithIndex): a document expires
// when the index holds one of its keys that is a date at or before
// now - expireAfterSeconds. A date inside an array expires the document,
// so the earliest date counts; values of other types (strings, numbers,
// timestamps) never expire; documents an index leaves out (a partial
// filter they fail, a sparse index without the field) never expire through
// it. The caller deletes them through the log, so expiry is history and
// replays like any other delete.

// HasTTLIndex reports whether c has an index with expireAfterSeconds.
func (c *Collection) HasTTLIndex() bool {
	if c == nil {
		return false
	}
	for _, s := range c.sec {
		if s.def.ExpireAfterSeconds != nil && len(s.def.fields) == 1 {
			return true
		}
	}
	return false
}

// ExpiredDocuments returns, in natural order, at most limit (0: no limit)
// documents of c that a TTL index expires at now. It reads the index
// trees, so its cost follows the number of expired keys, not the size of
// the collection.
func (c *Collection) ExpiredDocuments(now time.Time, limit int) []bson.Raw {
	if c == nil {
		return nil
	}
	seen := map[*Doc]bool{}
	var found []*Doc
	lo := newEntry([]bson.RawValue{valDate(math.MinInt64)}, nil, -1)
	for _, s := range c.sec {
		if s.def.ExpireAfterSeconds == nil || len(s.def.fields) != 1 {
			continue
		}
		cutoff := now.UnixMilli() - *s.def.ExpireAfterSeconds*1000
		s.tree.Ascend(lo, func(e ixEntry) bool {
			k := e.first()
			if k.Type != bsontype.DateTime {
				return false // past the dates, in BSON order
			}
			if ms, _ := k.DateTimeOK(); ms > cutoff {
				return false
			}
			if !seen[e.doc] {
				seen[e.doc] = true
				found = append(found, e.doc)
			}
			return true
		})
	}
	slices.SortFunc(found, func(a, b *Doc) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	if limit > 0 && len(found) > limit {
		found = found[:limit]
	}
	out := make([]bson.Raw, len(found))
	for i, d := range found {
		out[i] = d.Raw
	}
	return out
}
