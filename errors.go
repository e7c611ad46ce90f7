package argon

import (
	"errors"
	"fmt"
	"strings"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// The driver's error types, aliased so that code written for the driver
// (type switches, errors.As, mongo.IsDuplicateKeyError, HasErrorCode) works
// unchanged on Argon's errors. Server-shaped failures are reported with the
// server's codes, code names and messages: a duplicate key is a
// WriteException (or BulkWriteException, or for findAndModify and
// createIndexes a CommandError) with code 11000 and the message
// "E11000 duplicate key error collection: db.coll index: _id_ dup key: { _id: 1 }".
//
// Error values are immutable and safe for concurrent use.
type (
	// WriteException is returned by InsertOne, UpdateOne, UpdateMany,
	// ReplaceOne, DeleteOne and DeleteMany when a statement fails.
	WriteException = mongo.WriteException
	// WriteError is one failed statement of a write.
	WriteError = mongo.WriteError
	// WriteErrors is a list of WriteError.
	WriteErrors = mongo.WriteErrors
	// BulkWriteException is returned by InsertMany and BulkWrite when a
	// statement fails.
	BulkWriteException = mongo.BulkWriteException
	// BulkWriteError is one failed statement of a bulk write.
	BulkWriteError = mongo.BulkWriteError
	// CommandError is a failed command (a bad filter in a find, a conflict
	// in createIndexes, an invalid namespace).
	CommandError = mongo.CommandError
	// WriteConcernError is never produced by Argon (writes are durable
	// per the store when they return) and exists for parity.
	WriteConcernError = mongo.WriteConcernError
	// MarshalError is returned when a value cannot be turned into a BSON
	// document.
	MarshalError = mongo.MarshalError
	// ServerError is implemented by the server-shaped error types above.
	ServerError = mongo.ServerError
	// LabeledError is an error with labels.
	LabeledError = mongo.LabeledError
	// ErrMapForOrderedArgument is returned when a map with several keys is
	// given where order matters (sort, hint, index keys).
	ErrMapForOrderedArgument = mongo.ErrMapForOrderedArgument
)

// The driver's sentinel errors, the same values, so errors.Is and ==
// comparisons written against the driver keep working.
var (
	// ErrNoDocuments is returned by SingleResult methods when nothing
	// matched.
	ErrNoDocuments = mongo.ErrNoDocuments
	// ErrNilDocument is returned when a nil document, filter or model is
	// given.
	ErrNilDocument = mongo.ErrNilDocument
	// ErrNilValue is returned when a nil value is given (UpdateByID).
	ErrNilValue = mongo.ErrNilValue
	// ErrEmptySlice is returned when an empty slice is given to InsertMany
	// or BulkWrite.
	ErrEmptySlice = mongo.ErrEmptySlice
	// ErrClientDisconnected is returned by operations on a Client after
	// Disconnect.
	ErrClientDisconnected = mongo.ErrClientDisconnected
	// ErrUnacknowledgedWrite is returned, with the write done, when the
	// write concern is unacknowledged (w: 0), as the driver does.
	ErrUnacknowledgedWrite = mongo.ErrUnacknowledgedWrite
	// ErrInvalidIndexValue is returned when an index key value is neither
	// a number nor a string and no name is given.
	ErrInvalidIndexValue = mongo.ErrInvalidIndexValue
	// ErrNonStringIndexName is the driver's error for a non-string index
	// name.
	ErrNonStringIndexName = mongo.ErrNonStringIndexName
	// ErrMultipleIndexDrop is returned by IndexView.DropOne("*").
	ErrMultipleIndexDrop = mongo.ErrMultipleIndexDrop
	// ErrWrongClient is the driver's error for a session of another client.
	ErrWrongClient = mongo.ErrWrongClient
	// ErrNilCursor is the driver's error for a change stream without a
	// cursor.
	ErrNilCursor = mongo.ErrNilCursor
)

// IsDuplicateKeyError reports whether err is a duplicate key error (code
// 11000 and friends), exactly as mongo.IsDuplicateKeyError.
func IsDuplicateKeyError(err error) bool { return mongo.IsDuplicateKeyError(err) }

// IsTimeout reports whether err was caused by a timeout, exactly as
// mongo.IsTimeout.
func IsTimeout(err error) bool { return mongo.IsTimeout(err) }

// IsNetworkError reports whether err is a network error, exactly as
// mongo.IsNetworkError.
func IsNetworkError(err error) bool { return mongo.IsNetworkError(err) }

// Server codes Argon reports itself (error_codes.yml).
const (
	codeInvalidNamespace   = 73
	codeNamespaceNotFound  = 26
	codeNamespaceExists    = 48
	codeIndexNotFound      = 27
	codeInvalidOptions     = 72
	codeBadValue           = 2
	codeNotImplemented     = 238
	codeIllegalOperation   = 20
	codeTooManyIndexes     = 67
	codeFailedToParseError = 9
)

// codeName returns the server's name of a code Argon reports itself.
func codeName(code int32) string {
	switch code {
	case codeInvalidNamespace:
		return "InvalidNamespace"
	case codeNamespaceNotFound:
		return "NamespaceNotFound"
	case codeNamespaceExists:
		return "NamespaceExists"
	case codeIndexNotFound:
		return "IndexNotFound"
	case codeInvalidOptions:
		return "InvalidOptions"
	case codeBadValue:
		return "BadValue"
	case codeNotImplemented:
		return "NotImplemented"
	case codeIllegalOperation:
		return "IllegalOperation"
	case codeTooManyIndexes:
		return "CannotCreateIndex"
	case codeFailedToParseError:
		return "FailedToParse"
	case codeGraphContainsCycle:
		return "GraphContainsCycle"
	case codeViewDepthLimitExceeded:
		return "ViewDepthLimitExceeded"
	case codeCommandNotSupportedOnView:
		return "CommandNotSupportedOnView"
	case codeOptionNotSupportedOnView:
		return "OptionNotSupportedOnView"
	}
	return fmt.Sprintf("Location%d", code)
}

// serverError builds a CommandError with the server's code name.
func serverError(code int32, format string, args ...any) error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return CommandError{Code: code, Name: codeName(code), Message: msg, Raw: errorReply(code, codeName(code), msg)}
}

// errorReply is the reply document the server would send for a failed
// command: {ok: 0, errmsg, code, codeName}, plus extra fields (keyPattern
// and keyValue of a duplicate key).
func errorReply(code int32, name, msg string, extra ...bson.E) bson.Raw {
	d := bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: msg}, {Key: "code", Value: code}, {Key: "codeName", Value: name}}
	b, err := bson.Marshal(append(d, extra...))
	if err != nil {
		return nil
	}
	return b
}

// dupKeyFields returns the keyPattern and keyValue fields the server adds
// to a duplicate key error, or nothing for other errors.
func dupKeyFields(err error) []bson.E {
	var dk *materialize.DuplicateKey
	if !errors.As(err, &dk) {
		return nil
	}
	return []bson.E{{Key: "keyPattern", Value: dk.KeyPattern}, {Key: "keyValue", Value: dk.KeyValue}}
}

// notImplemented turns the query engine's NotImplemented errors into
// errors that wrap ErrNotSupported (and keep the server's shape).
func notImplemented(me *materialize.Error) error {
	return CommandError{Code: me.Code, Name: me.Name, Message: me.Message,
		Wrapped: fmt.Errorf("%w: %s", ErrNotSupported, me.Message), Raw: errorReply(me.Code, me.Name, me.Message)}
}

// commandError converts an error of the query engine into the driver's
// CommandError (what a failed find, count, distinct, findAndModify or
// createIndexes returns). Other errors are returned unchanged.
func commandError(err error) error {
	if err == nil {
		return nil
	}
	var me *materialize.Error
	if errors.As(err, &me) {
		if me.Code == codeNotImplemented {
			return notImplemented(me)
		}
		return CommandError{Code: me.Code, Name: me.Name, Message: me.Message, Raw: errorReply(me.Code, me.Name, me.Message, append(dupKeyFields(err), errInfoFields(err)...)...)}
	}
	return err
}

// asWriteError converts a statement's failure into a WriteError at index.
// ok is false for errors that are not about the statement (a store
// failure, a cancelled context, an unsupported feature): those fail the
// whole call.
func asWriteError(index int, err error) (WriteError, bool) {
	var me *materialize.Error
	if !errors.As(err, &me) || me.Code == codeNotImplemented {
		return WriteError{}, false
	}
	d := bson.D{{Key: "index", Value: int32(index)}, {Key: "code", Value: me.Code}}
	d = append(d, dupKeyFields(err)...)
	d = append(d, bson.E{Key: "errmsg", Value: me.Message})
	var details bson.Raw
	if info := errInfoFields(err); info != nil {
		d = append(d, info...)
		details = info[0].Value.(bson.Raw)
	}
	raw, _ := bson.Marshal(d)
	return WriteError{Index: index, Code: int(me.Code), Message: me.Message, Details: details, Raw: raw}, true
}

// namespaceError checks a database and collection name with the server's
// rules and returns its InvalidNamespace (73) error. Reads of "system."
// collections are allowed (they are empty here); writes are not.
func namespaceError(db, coll string, forWrite bool) error {
	if err := databaseError(db); err != nil {
		return err
	}
	if wal.ValidateNamespace(db, coll) == nil {
		return nil
	}
	if strings.HasPrefix(coll, "system.") && wal.ValidateNamespace(db, "x"+coll) == nil {
		if !forWrite {
			return nil
		}
		return serverError(codeInvalidNamespace, "Invalid system namespace: %s.%s", db, coll)
	}
	return serverError(codeInvalidNamespace, "Invalid namespace specified '%s.%s'", db, coll)
}

// databaseError checks a database name alone.
func databaseError(db string) error {
	if err := wal.ValidateDatabaseName(db); err != nil {
		return serverError(codeInvalidNamespace, "Invalid database name: '%s'", db)
	}
	return nil
}
