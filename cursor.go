package argon

import (
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsoncodec"
	"go.mongodb.org/mongo-driver/mongo"
)

// Cursor is the driver's cursor type, so code that declares *mongo.Cursor
// keeps compiling. Like the driver's, a Cursor is not safe for concurrent
// use.
//
// Argon's cursors hold their whole result, evaluated on one snapshot of the
// branch when the query ran: Next never does I/O and never fails, and the
// results do not change if the branch does. Documents decode with the
// registry of the collection (CollectionOptions.Registry or
// DatabaseOptions.Registry); BSONOptions apply when documents are encoded,
// not when a Cursor decodes them.
type Cursor = mongo.Cursor

// NewCursorFromDocuments returns a Cursor over documents, exactly as
// mongo.NewCursorFromDocuments.
func NewCursorFromDocuments(documents []interface{}, err error, registry *bsoncodec.Registry) (*Cursor, error) {
	return mongo.NewCursorFromDocuments(documents, err, registry)
}

// newCursor returns a cursor over docs decoded with reg. It never returns a
// nil cursor: an empty result is an empty cursor.
func newCursor(docs []bson.Raw, reg *bsoncodec.Registry) (*Cursor, error) {
	if reg == nil {
		reg = bson.DefaultRegistry
	}
	in := make([]interface{}, len(docs))
	for i, d := range docs {
		in[i] = d
	}
	return mongo.NewCursorFromDocuments(in, nil, reg)
}
