// Package bsonutil holds BSON helpers shared by Argon's packages.
package bsonutil

import (
	"encoding/binary"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// ErrInvalid is wrapped by every error of Validate.
var ErrInvalid = errors.New("invalid BSON document")

// Validate checks that b is exactly one well-formed BSON document. Use it
// instead of bson.Raw.Validate on untrusted bytes: the driver's validator
// indexes out of range (panics) on a length header below 5, and accepts
// trailing bytes after the document.
func Validate(b []byte) (err error) {
	if len(b) < 5 {
		return fmt.Errorf("%w: %d bytes, a document has at least 5", ErrInvalid, len(b))
	}
	n := int64(int32(binary.LittleEndian.Uint32(b)))
	if n != int64(len(b)) {
		return fmt.Errorf("%w: length header says %d bytes, have %d", ErrInvalid, n, len(b))
	}
	if b[len(b)-1] != 0 {
		return fmt.Errorf("%w: missing terminating NUL", ErrInvalid)
	}
	// Embedded documents and arrays can carry the same bad headers; the
	// driver's recursive validation is not bounds-safe for all of them.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrInvalid, p)
		}
	}()
	if err := bsoncore.Document(b).Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}
