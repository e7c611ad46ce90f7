package argon

import (
	"context"

	"go.mongodb.org/mongo-driver/bson"
)

// ChangeStream has the method set of mongo.ChangeStream so that code that
// declares and uses one compiles; its methods are safe for concurrent use,
// including on a nil *ChangeStream.
//
// Argon does not support change streams yet (they are planned, fed by the
// log): every Watch method returns a nil *ChangeStream and an error
// wrapping ErrNotSupported. The methods report nothing and return errors
// wrapping ErrNotSupported.
type ChangeStream struct {
	// Current is the current event document; always nil.
	Current bson.Raw
}

func errChangeStreams() error { return notSupported("change streams") }

// ID returns 0.
func (cs *ChangeStream) ID() int64 { return 0 }

// Decode returns an error wrapping ErrNotSupported.
func (cs *ChangeStream) Decode(val interface{}) error { return errChangeStreams() }

// Err returns an error wrapping ErrNotSupported.
func (cs *ChangeStream) Err() error { return errChangeStreams() }

// Close does nothing and returns nil.
func (cs *ChangeStream) Close(ctx context.Context) error { return nil }

// ResumeToken returns nil.
func (cs *ChangeStream) ResumeToken() bson.Raw { return nil }

// Next returns false: there are no events.
func (cs *ChangeStream) Next(ctx context.Context) bool { return false }

// TryNext returns false: there are no events.
func (cs *ChangeStream) TryNext(ctx context.Context) bool { return false }

// RemainingBatchLength returns 0.
func (cs *ChangeStream) RemainingBatchLength() int { return 0 }

// SetBatchSize does nothing.
func (cs *ChangeStream) SetBatchSize(size int32) {}
