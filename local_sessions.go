package argon

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// The sessions of a connection, for the $listLocalSessions stage. As with
// the driver, an operation given no session runs in an implicit session:
// one per connection here (the driver pools them), listed once the
// connection has run an operation. Explicit sessions are listed from
// StartSession to EndSession. lastUse is the start of the session's latest
// operation. Argon has no users: every session is the unauthenticated
// user's.
type localSessions struct {
	mu       sync.Mutex
	explicit map[*clientSession]time.Time // session → last use
	implicit bson.Raw                     // the implicit session's {id}
	// lastUse is the implicit session's (Unix ns; 0: never used), atomic
	// because every operation sets it.
	lastUse atomic.Int64
}

// unauthenticatedUID is the server's uid of the unauthenticated user: the
// SHA-256 of the empty user name.
var unauthenticatedUID = sha256.Sum256(nil)

func newSessionID() (bson.Raw, error) {
	var uuid [16]byte
	if _, err := rand.Read(uuid[:]); err != nil {
		return nil, err
	}
	uuid[6] = uuid[6]&0x0f | 0x40 // version 4
	uuid[8] = uuid[8]&0x3f | 0x80 // RFC 4122 variant
	return bson.Marshal(bson.D{{Key: "id", Value: primitive.Binary{Subtype: bson.TypeBinaryUUID, Data: uuid[:]}}})
}

// used records an operation of s (nil: of the implicit session).
func (ls *localSessions) used(s *clientSession) {
	now := time.Now()
	if s == nil {
		ls.lastUse.Store(now.UnixNano())
		return
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.explicit == nil {
		ls.explicit = map[*clientSession]time.Time{}
	}
	ls.explicit[s] = now
}

// ended forgets s.
func (ls *localSessions) ended(s *clientSession) {
	ls.mu.Lock()
	delete(ls.explicit, s)
	ls.mu.Unlock()
}

// documents returns the $listLocalSessions documents: {_id: {id, uid},
// lastUse}.
func (ls *localSessions) documents() ([]bson.Raw, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.implicit == nil {
		id, err := newSessionID()
		if err != nil {
			return nil, err
		}
		ls.implicit = id
	}
	var out []bson.Raw
	add := func(id bson.Raw, last time.Time) error {
		key := bson.D{{Key: "id", Value: id.Lookup("id")}, {Key: "uid", Value: primitive.Binary{Data: unauthenticatedUID[:]}}}
		doc, err := bson.Marshal(bson.D{{Key: "_id", Value: key}, {Key: "lastUse", Value: primitive.NewDateTimeFromTime(last)}})
		out = append(out, doc)
		return err
	}
	if last := ls.lastUse.Load(); last != 0 {
		if err := add(ls.implicit, time.Unix(0, last)); err != nil {
			return nil, err
		}
	}
	for s, last := range ls.explicit {
		if err := add(s.id, last); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// rewriteListLocalSessions turns a pipeline whose first stage is
// $listLocalSessions into one whose first stage is $documents of the
// connection's sessions, the session of this very operation included (as
// on the server, where the command's session is in use); other pipelines
// are returned as they are.
func (c *Client) rewriteListLocalSessions(ctx context.Context, pipeline bson.Raw) (bson.Raw, error) {
	stages, err := pipeline.Values()
	if err != nil || len(stages) == 0 || stages[0].Type != bsontype.EmbeddedDocument {
		return pipeline, nil // the compiler reports malformed pipelines
	}
	first, err := stages[0].Document().Elements()
	if err != nil || len(first) != 1 || first[0].Key() != "$listLocalSessions" {
		return pipeline, nil
	}
	arg := first[0].Value()
	spec, ok := arg.DocumentOK()
	if !ok {
		return nil, serverError(14, "$listLocalSessions options must be specified in an object, but found: %s", arg.Type)
	}
	fields, err := spec.Elements()
	if err != nil {
		return nil, serverError(codeFailedToParseError, "$listLocalSessions: %v", err)
	}
	for _, f := range fields {
		switch f.Key() {
		case "allUsers":
			if f.Value().Type != bsontype.Boolean {
				return nil, serverError(14, "BSON field '$listSessions.allUsers' is the wrong type '%s', expected type 'bool'", f.Value().Type)
			}
		case "users":
			users, ok := f.Value().ArrayOK()
			if !ok {
				return nil, serverError(14, "BSON field '$listSessions.users' is the wrong type '%s', expected type 'array'", f.Value().Type)
			}
			if vals, _ := users.Values(); len(vals) > 0 {
				return nil, notSupported("$listLocalSessions of named users (Argon has no users)")
			}
		default:
			return nil, serverError(40415, "BSON field '$listSessions.%s' is an unknown field.", f.Key())
		}
	}
	if sessionOf(ctx) == nil {
		c.conn.localSessions.used(nil)
	}
	docs, err := c.conn.localSessions.documents()
	if err != nil {
		return nil, err
	}
	aidx, arr := bsoncore.AppendArrayStart(nil)
	for i, d := range docs {
		arr = bsoncore.AppendDocumentElement(arr, strconv.Itoa(i), d)
	}
	arr, _ = bsoncore.AppendArrayEnd(arr, aidx)
	didx, stage := bsoncore.AppendDocumentStart(nil)
	stage = bsoncore.AppendArrayElement(stage, "$documents", arr)
	stage, _ = bsoncore.AppendDocumentEnd(stage, didx)

	oidx, out := bsoncore.AppendArrayStart(nil)
	out = bsoncore.AppendDocumentElement(out, "0", stage)
	for i, s := range stages[1:] {
		out = bsoncore.AppendValueElement(out, strconv.Itoa(i+1), bsoncore.Value{Type: s.Type, Data: s.Value})
	}
	out, _ = bsoncore.AppendArrayEnd(out, oidx)
	return bson.Raw(out), nil
}
