package argon

import (
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsoncodec"
	"go.mongodb.org/mongo-driver/mongo"
)

// SingleResult is the driver's type, so code that declares
// *mongo.SingleResult keeps compiling. Like the driver's, a SingleResult
// is not safe for concurrent use. It holds its document (or its error):
// decoding it does no I/O.
type SingleResult = mongo.SingleResult

// NewSingleResultFromDocument returns a SingleResult for document, exactly
// as mongo.NewSingleResultFromDocument.
func NewSingleResultFromDocument(document interface{}, err error, registry *bsoncodec.Registry) *SingleResult {
	return mongo.NewSingleResultFromDocument(document, err, registry)
}

// emptyDoc returns a valid empty document, the placeholder a SingleResult
// that only carries an error is built with.
func emptyDoc() bson.Raw { return bson.Raw{5, 0, 0, 0, 0} }

// singleResult returns a SingleResult for doc (nil: ErrNoDocuments) or err.
func singleResult(doc bson.Raw, err error, reg *bsoncodec.Registry) *SingleResult {
	if reg == nil {
		reg = bson.DefaultRegistry
	}
	switch {
	case err != nil:
		return mongo.NewSingleResultFromDocument(emptyDoc(), err, reg)
	case doc == nil:
		return mongo.NewSingleResultFromDocument(emptyDoc(), ErrNoDocuments, reg)
	}
	return mongo.NewSingleResultFromDocument(doc, nil, reg)
}
