package argon

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/argon-lab/argon/materialize"
)

// This file interprets the database commands applications and tools send
// most through RunCommand and RunCommandCursor. Each command parses its
// document with the server's rules (the command name is the first field,
// matched case-sensitively; unknown fields are code 40415, wrong types 14
// TypeMismatch) and then calls the Collection, Database or Client method
// that does the work, so the commands and the typed API share one
// implementation. Replies have the server's shape; cursors are returned
// whole in firstBatch with id 0, so getMore has nothing to continue.

// Server codes of command parsing (error_codes.yml).
const (
	codeTypeMismatch      = 14
	codeCommandNotFound   = 59
	codeCursorNotFound    = 43
	codeUnauthorized      = 13
	codeIDLUnknownField   = 40415
	codeIDLMissingField   = 40414
	maxBSONObjectSize     = 16 * 1024 * 1024
	maxMessageSizeBytes   = 48000000
	maxWriteBatchSize     = 100000
	serverVersionString   = "8.0.0"
	commandMaxWireVersion = 25 // the newest the driver (v1.17) supports
)

// cmdError builds a CommandError with an explicit code name.
func cmdError(code int32, name, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return CommandError{Code: code, Name: name, Message: msg, Raw: errorReply(code, name, msg)}
}

// cmdNotSupported is the error of a command the server has and Argon does
// not: code 59 like an unknown command, wrapping ErrNotSupported.
func cmdNotSupported(what string) error {
	msg := fmt.Sprintf("%s is not supported by argon", what)
	return CommandError{Code: codeCommandNotFound, Name: "CommandNotFound", Message: msg,
		Wrapped: fmt.Errorf("%w: %s", ErrNotSupported, what), Raw: errorReply(codeCommandNotFound, "CommandNotFound", msg)}
}

// genericCommandFields are accepted (and ignored) by every command, as the
// server's generic arguments.
var genericCommandFields = map[string]bool{
	"$db": true, "lsid": true, "$readPreference": true, "readConcern": true, "writeConcern": true,
	"comment": true, "maxTimeMS": true, "apiVersion": true, "apiStrict": true, "apiDeprecationErrors": true,
	"$clusterTime": true, "txnNumber": true, "autocommit": true, "startTransaction": true,
	"$client": true, "mayBypassWriteBlocking": true, "$audit": true,
}

// command is a parsed command document.
type command struct {
	name   string
	arg    bson.RawValue // the value of the first field
	fields map[string]bson.RawValue
	db     *Database
}

// check rejects the fields of the command that are neither in allowed
// nor generic, with the server's unknown-field error.
func (c *command) check(allowed ...string) error {
	for k := range c.fields {
		if genericCommandFields[k] {
			continue
		}
		ok := false
		for _, a := range allowed {
			if a == k {
				ok = true
				break
			}
		}
		if !ok {
			return cmdError(codeIDLUnknownField, "Location40415", "BSON field '%s.%s' is an unknown field.", c.name, k)
		}
	}
	return nil
}

func (c *command) wrongType(key string, v bson.RawValue, want string) error {
	return cmdError(codeTypeMismatch, "TypeMismatch", "BSON field '%s.%s' is the wrong type '%s', expected type '%s'",
		c.name, key, materialize.TypeName(v.Type), want)
}

func (c *command) wrongTypes(key string, v bson.RawValue, want string) error {
	return cmdError(codeTypeMismatch, "TypeMismatch", "BSON field '%s.%s' is the wrong type '%s', expected types '[%s]'",
		c.name, key, materialize.TypeName(v.Type), want)
}

func (c *command) missing(key string) error {
	return cmdError(codeIDLMissingField, "Location40414", "BSON field '%s.%s' is missing but a required field", c.name, key)
}

// doc returns the document field key (nil when absent).
func (c *command) doc(key string) (bson.Raw, error) {
	v, ok := c.fields[key]
	if !ok {
		return nil, nil
	}
	if v.Type != bsontype.EmbeddedDocument {
		return nil, c.wrongType(key, v, "object")
	}
	return bson.Raw(v.Value), nil
}

// collation returns the command's collation field as a driver option (nil
// when absent), checked with the server's rules.
func (c *command) collation() (*options.Collation, error) {
	d, err := c.doc("collation")
	if err != nil || d == nil {
		return nil, err
	}
	coll, err := collationDoc(d)
	if err != nil {
		return nil, commandError(err)
	}
	return coll, nil
}

// array returns the array field key (nil when absent).
func (c *command) array(key string) ([]bson.RawValue, bool, error) {
	v, ok := c.fields[key]
	if !ok {
		return nil, false, nil
	}
	if v.Type != bsontype.Array {
		return nil, false, c.wrongType(key, v, "array")
	}
	vals, err := bson.Raw(v.Value).Values()
	if err != nil {
		return nil, false, cmdError(codeFailedToParseError, "FailedToParse", "BSON field '%s.%s' is not a valid array", c.name, key)
	}
	return vals, true, nil
}

// str returns the string field key.
func (c *command) str(key string) (string, bool, error) {
	v, ok := c.fields[key]
	if !ok {
		return "", false, nil
	}
	s, isStr := v.StringValueOK()
	if !isStr {
		return "", false, c.wrongType(key, v, "string")
	}
	return s, true, nil
}

// boolean returns the boolean field key; like the server's IDL "safeBool",
// numbers are accepted (non-zero is true).
func (c *command) boolean(key string) (bool, bool, error) {
	v, ok := c.fields[key]
	if !ok {
		return false, false, nil
	}
	b, err := valueBool(v)
	if err != nil {
		return false, false, c.wrongTypes(key, v, "bool, long, int, decimal, double")
	}
	return b, true, nil
}

func valueBool(v bson.RawValue) (bool, error) {
	switch v.Type {
	case bsontype.Boolean:
		return v.Boolean(), nil
	case bsontype.Int32, bsontype.Int64, bsontype.Double, bsontype.Decimal128:
		f, _ := numberValue(v)
		return f != 0, nil
	}
	return false, errors.New("not a boolean")
}

// integer returns the whole-number field key.
func (c *command) integer(key string) (int64, bool, error) {
	v, ok := c.fields[key]
	if !ok {
		return 0, false, nil
	}
	f, isNum := numberValue(v)
	if !isNum {
		return 0, false, c.wrongTypes(key, v, "long, int, decimal, double")
	}
	if f != math.Trunc(f) || math.IsNaN(f) || math.Abs(f) > 1<<62 {
		return 0, false, cmdError(codeFailedToParseError, "FailedToParse", "BSON field '%s.%s' value must be an integer, got %v", c.name, key, f)
	}
	return int64(f), true, nil
}

// numberValue reads a numeric value as a float64.
func numberValue(v bson.RawValue) (float64, bool) {
	switch v.Type {
	case bsontype.Int32:
		return float64(v.Int32()), true
	case bsontype.Int64:
		return float64(v.Int64()), true
	case bsontype.Double:
		return v.Double(), true
	case bsontype.Decimal128:
		f, err := strconv.ParseFloat(v.Decimal128().String(), 64)
		if err != nil {
			return math.NaN(), true
		}
		return f, true
	}
	return 0, false
}

// collName reads the collection name of a command whose first field names
// it, with the server's InvalidNamespace error for other types.
func (c *command) collName() (string, error) {
	s, ok := c.arg.StringValueOK()
	if !ok {
		return "", serverError(codeInvalidNamespace, "collection name has invalid type %s", materialize.TypeName(c.arg.Type))
	}
	if s == "" {
		return "", serverError(codeInvalidNamespace, "Invalid namespace specified '%s.'", c.db.name)
	}
	return s, nil
}

// cursorReply is {cursor: {firstBatch, id: 0, ns}, ok: 1}.
func cursorReply(ns string, docs []bson.Raw) bson.D {
	batch := make(bson.A, len(docs))
	for i, d := range docs {
		batch[i] = d
	}
	return bson.D{
		{Key: "cursor", Value: bson.D{{Key: "firstBatch", Value: batch}, {Key: "id", Value: int64(0)}, {Key: "ns", Value: ns}}},
		{Key: "ok", Value: 1.0},
	}
}

// cursorDocs drains a cursor the typed API returned.
func cursorDocs(ctx context.Context, cur *Cursor) ([]bson.Raw, error) {
	defer cur.Close(ctx)
	var out []bson.Raw
	for cur.Next(ctx) {
		out = append(out, append(bson.Raw(nil), cur.Current...))
	}
	return out, cur.Err()
}

// int32OrLong is how the server appends a count: an int when it fits.
func int32OrLong(n int64) interface{} {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		return int32(n)
	}
	return n
}

// rawArray marshals as the BSON array it holds.
type rawArray bson.Raw

func (a rawArray) MarshalBSONValue() (bsontype.Type, []byte, error) {
	return bsontype.Array, []byte(a), nil
}

// runCommand runs a command document and returns the reply.
func (db *Database) runCommand(ctx context.Context, cmd interface{}) (bson.Raw, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := db.runCommandCheck(cmd); err != nil {
		return nil, err
	}
	raw, err := db.codec.marshal(cmd)
	if err != nil {
		return nil, err
	}
	if err := db.client.live(); err != nil {
		return nil, err
	}
	elems, err := raw.Elements()
	if err != nil {
		return nil, cmdError(codeFailedToParseError, "FailedToParse", "invalid command document: %v", err)
	}
	if len(elems) == 0 {
		return nil, cmdError(codeFailedToParseError, "FailedToParse", "Empty command object")
	}
	c := &command{name: elems[0].Key(), arg: elems[0].Value(), fields: make(map[string]bson.RawValue, len(elems)-1), db: db}
	for _, e := range elems[1:] {
		if _, dup := c.fields[e.Key()]; dup {
			return nil, cmdError(codeFailedToParseError, "Location40413", "BSON field '%s.%s' is a duplicate field", c.name, e.Key())
		}
		c.fields[e.Key()] = e.Value()
	}
	if c.name == "$db" {
		return nil, cmdError(codeCommandNotFound, "CommandNotFound", "no such command: '%s'", c.name)
	}
	run, ok := commandTable[c.name]
	if !ok {
		if unsupportedCommands[c.name] {
			return nil, cmdNotSupported("the " + c.name + " command")
		}
		return nil, cmdError(codeCommandNotFound, "CommandNotFound", "no such command: '%s'", c.name)
	}
	if !snapshotCommands[c.name] {
		if err := noSnapshot(ctx, "Command "+c.name); err != nil {
			return nil, err
		}
	}
	reply, err := run(ctx, c)
	if err != nil {
		return nil, err
	}
	return bson.Marshal(reply)
}

// snapshotCommands are the commands a snapshot session runs (at its point).
var snapshotCommands = map[string]bool{"find": true, "aggregate": true, "distinct": true, "getMore": true, "killCursors": true}

// runCommandCursor runs a command whose reply holds a cursor and returns a
// Cursor over its documents.
func (db *Database) runCommandCursor(ctx context.Context, cmd interface{}) (*Cursor, error) {
	reply, err := db.runCommand(ctx, cmd)
	if err != nil {
		return nil, err
	}
	cur, ok := reply.Lookup("cursor").DocumentOK()
	if !ok {
		return nil, errors.New("cursor should be an embedded document but is of BSON type invalid")
	}
	batch, ok := cur.Lookup("firstBatch").ArrayOK()
	if !ok {
		return nil, errors.New("firstBatch should be an array")
	}
	vals, err := batch.Values()
	if err != nil {
		return nil, err
	}
	docs := make([]bson.Raw, 0, len(vals))
	for _, v := range vals {
		if d, ok := v.DocumentOK(); ok {
			docs = append(docs, d)
		}
	}
	return newCursor(docs, db.codec.registry())
}

// commandTable maps command names (with the server's aliases) to their
// implementations.
var commandTable = map[string]func(ctx context.Context, c *command) (bson.D, error){
	"ping":             cmdPing,
	"buildInfo":        cmdBuildInfo,
	"buildinfo":        cmdBuildInfo,
	"hello":            cmdHello,
	"isMaster":         cmdHello,
	"ismaster":         cmdHello,
	"listCollections":  cmdListCollections,
	"listIndexes":      cmdListIndexes,
	"listDatabases":    cmdListDatabases,
	"count":            cmdCount,
	"distinct":         cmdDistinct,
	"find":             cmdFind,
	"insert":           cmdInsert,
	"update":           cmdUpdate,
	"delete":           cmdDelete,
	"aggregate":        cmdAggregate,
	"create":           cmdCreate,
	"collMod":          cmdCollMod,
	"drop":             cmdDrop,
	"createIndexes":    cmdCreateIndexes,
	"dropIndexes":      cmdDropIndexes,
	"deleteIndexes":    cmdDropIndexes,
	"dbStats":          cmdDBStats,
	"dbstats":          cmdDBStats,
	"collStats":        cmdCollStats,
	"collstats":        cmdCollStats,
	"getMore":          cmdGetMore,
	"killCursors":      cmdKillCursors,
	"dropDatabase":     cmdDropDatabase,
	"renameCollection": cmdRenameCollection,
	"findAndModify":    cmdFindAndModify,
	"findandmodify":    cmdFindAndModify,
}

// unsupportedCommands are server commands Argon does not interpret: they
// fail with code 59 and an error wrapping ErrNotSupported.
var unsupportedCommands = map[string]bool{
	"explain": true, "validate": true, "serverStatus": true, "currentOp": true, "killOp": true,
	"createUser": true, "dropUser": true, "usersInfo": true, "createRole": true, "getParameter": true,
	"setParameter": true, "replSetGetStatus": true, "shutdown": true, "fsync": true, "compact": true,
	"endSessions": true, "startSession": true, "commitTransaction": true, "abortTransaction": true,
	"getLog": true, "hostInfo": true, "whatsmyuri": true, "saslStart": true, "authenticate": true,
	"logout": true, "cloneCollectionAsCapped": true, "convertToCapped": true, "mapReduce": true,
	"bulkWrite": true, "getLastError": true, "profile": true, "top": true, "dataSize": true,
	"createSearchIndexes": true, "listSearchIndexes": true, "dropSearchIndex": true, "updateSearchIndex": true,
}

func cmdPing(_ context.Context, c *command) (bson.D, error) {
	return bson.D{{Key: "ok", Value: 1.0}}, c.check()
}

func cmdBuildInfo(_ context.Context, c *command) (bson.D, error) {
	return bson.D{
		{Key: "version", Value: serverVersionString},
		{Key: "gitVersion", Value: "argon"},
		{Key: "versionArray", Value: bson.A{int32(8), int32(0), int32(0), int32(0)}},
		{Key: "bits", Value: int32(64)},
		{Key: "debug", Value: false},
		{Key: "maxBsonObjectSize", Value: int32(maxBSONObjectSize)},
		{Key: "storageEngines", Value: bson.A{"argon"}},
		{Key: "ok", Value: 1.0},
	}, nil // buildInfo ignores its arguments, as the server does
}

func cmdHello(_ context.Context, c *command) (bson.D, error) {
	if err := c.check("helloOk", "client", "compression", "saslSupportedMechs", "speculativeAuthenticate",
		"topologyVersion", "maxAwaitTimeMS", "loadBalanced", "hostInfo", "forShell"); err != nil {
		return nil, err
	}
	primary := "isWritablePrimary"
	if c.name != "hello" {
		primary = "ismaster"
	}
	d := bson.D{{Key: primary, Value: true}}
	if c.name != "hello" {
		if ok, _, _ := c.boolean("helloOk"); ok {
			d = append(d, bson.E{Key: "helloOk", Value: true})
		}
	}
	return append(d,
		bson.E{Key: "maxBsonObjectSize", Value: int32(maxBSONObjectSize)},
		bson.E{Key: "maxMessageSizeBytes", Value: int32(maxMessageSizeBytes)},
		bson.E{Key: "maxWriteBatchSize", Value: int32(maxWriteBatchSize)},
		bson.E{Key: "localTime", Value: primitive.NewDateTimeFromTime(time.Now())},
		bson.E{Key: "logicalSessionTimeoutMinutes", Value: int32(30)},
		bson.E{Key: "minWireVersion", Value: int32(0)},
		bson.E{Key: "maxWireVersion", Value: int32(commandMaxWireVersion)},
		bson.E{Key: "readOnly", Value: c.db.client.branch.readOnly()},
		bson.E{Key: "ok", Value: 1.0},
	), nil
}

func cmdListCollections(ctx context.Context, c *command) (bson.D, error) {
	if err := c.check("filter", "nameOnly", "authorizedCollections", "cursor", "includePendingDrops"); err != nil {
		return nil, err
	}
	filter, err := c.doc("filter")
	if err != nil {
		return nil, err
	}
	if _, err := c.doc("cursor"); err != nil {
		return nil, err
	}
	nameOnly, _, err := c.boolean("nameOnly")
	if err != nil {
		return nil, err
	}
	if _, _, err := c.boolean("authorizedCollections"); err != nil {
		return nil, err
	}
	if filter == nil {
		filter = emptyDoc()
	}
	docs, err := c.db.collectionInfos(ctx, filter, options.ListCollections().SetNameOnly(nameOnly))
	if err != nil {
		return nil, err
	}
	return cursorReply(c.db.name+".$cmd.listCollections", docs), nil
}

func cmdListIndexes(ctx context.Context, c *command) (bson.D, error) {
	name, err := c.collName()
	if err != nil {
		return nil, err
	}
	if err := c.check("cursor", "includeIndexBuildInfo", "includeBuildUUIDs"); err != nil {
		return nil, err
	}
	if _, err := c.doc("cursor"); err != nil {
		return nil, err
	}
	specs, err := c.db.Collection(name).Indexes().specs(ctx)
	if err != nil {
		return nil, err
	}
	if specs == nil {
		return nil, serverError(codeNamespaceNotFound, "ns does not exist: %s.%s", c.db.name, name)
	}
	return cursorReply(c.db.name+"."+name, specs), nil
}

func cmdListDatabases(ctx context.Context, c *command) (bson.D, error) {
	if c.db.name != "admin" {
		return nil, cmdError(codeUnauthorized, "Unauthorized", "listDatabases may only be run against the admin database.")
	}
	if err := c.check("filter", "nameOnly", "authorizedDatabases"); err != nil {
		return nil, err
	}
	filter, err := c.doc("filter")
	if err != nil {
		return nil, err
	}
	nameOnly, _, err := c.boolean("nameOnly")
	if err != nil {
		return nil, err
	}
	if _, _, err := c.boolean("authorizedDatabases"); err != nil {
		return nil, err
	}
	if filter == nil {
		filter = emptyDoc()
	}
	res, err := c.db.client.ListDatabases(ctx, filter)
	if err != nil {
		return nil, commandError(err)
	}
	dbs := bson.A{}
	for _, d := range res.Databases {
		if nameOnly {
			dbs = append(dbs, bson.D{{Key: "name", Value: d.Name}})
			continue
		}
		dbs = append(dbs, bson.D{{Key: "name", Value: d.Name}, {Key: "sizeOnDisk", Value: d.SizeOnDisk}, {Key: "empty", Value: d.Empty}})
	}
	if nameOnly {
		return bson.D{{Key: "databases", Value: dbs}, {Key: "ok", Value: 1.0}}, nil
	}
	return bson.D{{Key: "databases", Value: dbs}, {Key: "totalSize", Value: res.TotalSize},
		{Key: "totalSizeMb", Value: res.TotalSize / (1024 * 1024)}, {Key: "ok", Value: 1.0}}, nil
}

// hintField reads a hint: an index name or a key pattern.
func (c *command) hintField() (interface{}, error) {
	v, ok := c.fields["hint"]
	if !ok {
		return nil, nil
	}
	switch v.Type {
	case bsontype.String:
		return v.StringValue(), nil
	case bsontype.EmbeddedDocument:
		return bson.Raw(v.Value), nil
	}
	return nil, c.wrongTypes("hint", v, "string, object")
}

func cmdCount(ctx context.Context, c *command) (bson.D, error) {
	name, err := c.collName()
	if err != nil {
		return nil, err
	}
	if err := c.check("query", "limit", "skip", "hint", "collation", "fields"); err != nil {
		return nil, err
	}
	query, err := c.doc("query")
	if err != nil {
		return nil, err
	}
	if query == nil {
		query = emptyDoc()
	}
	co := options.Count()
	if n, ok, err := c.integer("limit"); err != nil {
		return nil, err
	} else if ok && n != 0 {
		co.SetLimit(max(n, -n)) // a negative limit counts like its absolute value
	}
	if n, ok, err := c.integer("skip"); err != nil {
		return nil, err
	} else if ok {
		if n < 0 {
			return nil, serverError(codeFailedToParseError, "skip value is negative in count query")
		}
		co.SetSkip(n)
	}
	hint, err := c.hintField()
	if err != nil {
		return nil, err
	}
	if hint != nil {
		co.SetHint(hint)
	}
	if co.Collation, err = c.collation(); err != nil {
		return nil, err
	}
	n, err := c.db.Collection(name).CountDocuments(ctx, query, co)
	if err != nil {
		return nil, err
	}
	return bson.D{{Key: "n", Value: int32OrLong(n)}, {Key: "ok", Value: 1.0}}, nil
}

func cmdDistinct(ctx context.Context, c *command) (bson.D, error) {
	name, err := c.collName()
	if err != nil {
		return nil, err
	}
	if err := c.check("key", "query", "collation", "hint"); err != nil {
		return nil, err
	}
	key, ok, err := c.str("key")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, c.missing("key")
	}
	query, err := c.doc("query")
	if err != nil {
		return nil, err
	}
	if query == nil {
		query = emptyDoc()
	}
	do := options.Distinct()
	if do.Collation, err = c.collation(); err != nil {
		return nil, err
	}
	if _, err := c.hintField(); err != nil {
		return nil, err
	}
	vals, err := c.db.Collection(name).Distinct(ctx, key, query, do)
	if err != nil {
		return nil, err
	}
	return bson.D{{Key: "values", Value: bson.A(vals)}, {Key: "ok", Value: 1.0}}, nil
}

func cmdFind(ctx context.Context, c *command) (bson.D, error) {
	name, err := c.collName()
	if err != nil {
		return nil, err
	}
	if err := c.check("filter", "sort", "projection", "skip", "limit", "batchSize", "singleBatch", "hint",
		"let", "allowDiskUse", "min", "max", "returnKey", "showRecordId", "collation", "noCursorTimeout",
		"tailable", "awaitData", "allowPartialResults", "oplogReplay", "readOnce", "term"); err != nil {
		return nil, err
	}
	fo := options.Find()
	filter, err := c.doc("filter")
	if err != nil {
		return nil, err
	}
	if filter == nil {
		filter = emptyDoc()
	}
	for _, k := range []string{"sort", "projection", "let", "min", "max"} {
		d, err := c.doc(k)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue
		}
		switch k {
		case "sort":
			fo.SetSort(d)
		case "projection":
			fo.SetProjection(d)
		case "let":
			fo.SetLet(d)
		case "min":
			fo.SetMin(d)
		case "max":
			fo.SetMax(d)
		}
	}
	for _, k := range []string{"skip", "limit", "batchSize"} {
		n, ok, err := c.integer(k)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if n < 0 {
			return nil, cmdError(51024, "Location51024", "BSON field '%s' value must be >= 0, actual value '%d'", k, n)
		}
		switch k {
		case "skip":
			fo.SetSkip(n)
		case "limit":
			if n > 0 {
				fo.SetLimit(n)
			}
		}
	}
	for _, k := range []string{"singleBatch", "allowDiskUse", "returnKey", "showRecordId", "noCursorTimeout", "allowPartialResults", "oplogReplay", "readOnce"} {
		b, ok, err := c.boolean(k)
		if err != nil {
			return nil, err
		}
		switch {
		case !ok:
		case k == "returnKey":
			fo.SetReturnKey(b)
		case k == "showRecordId":
			fo.SetShowRecordID(b)
		}
	}
	for _, k := range []string{"tailable", "awaitData"} {
		if b, _, err := c.boolean(k); err != nil {
			return nil, err
		} else if b {
			return nil, notSupported("tailable cursors")
		}
	}
	if fo.Collation, err = c.collation(); err != nil {
		return nil, err
	}
	hint, err := c.hintField()
	if err != nil {
		return nil, err
	}
	if hint != nil {
		fo.SetHint(hint)
	}
	docs, err := c.db.Collection(name).find(ctx, filter, fo)
	if err != nil {
		return nil, err
	}
	return cursorReply(c.db.name+"."+name, docs), nil
}

// writeReply builds the reply of insert, update and delete: {n,
// nModified (update), upserted (update), writeErrors, ok}.
func writeReply(n int64, modified *int64, upserted bson.A, werrs WriteErrors) bson.D {
	d := bson.D{{Key: "n", Value: int32OrLong(n)}}
	if modified != nil {
		d = append(d, bson.E{Key: "nModified", Value: int32OrLong(*modified)})
	}
	if len(upserted) > 0 {
		d = append(d, bson.E{Key: "upserted", Value: upserted})
	}
	if len(werrs) > 0 {
		arr := make(bson.A, len(werrs))
		for i, we := range werrs {
			arr[i] = we.Raw
		}
		d = append(d, bson.E{Key: "writeErrors", Value: arr})
	}
	return append(d, bson.E{Key: "ok", Value: 1.0})
}

// writeCommand reads what insert, update and delete share: the collection,
// the ordered flag and the statement array listKey.
func (c *command) writeCommand(listKey string, extra ...string) (*Collection, []bson.Raw, bool, error) {
	name, err := c.collName()
	if err != nil {
		return nil, nil, false, err
	}
	if err := c.check(append([]string{listKey, "ordered", "bypassDocumentValidation", "let", "stmtId", "stmtIds"}, extra...)...); err != nil {
		return nil, nil, false, err
	}
	vals, ok, err := c.array(listKey)
	if err != nil {
		return nil, nil, false, err
	}
	if !ok {
		return nil, nil, false, c.missing(listKey)
	}
	ordered, set, err := c.boolean("ordered")
	if err != nil {
		return nil, nil, false, err
	}
	if !set {
		ordered = true
	}
	if _, _, err := c.boolean("bypassDocumentValidation"); err != nil {
		return nil, nil, false, err
	}
	if len(vals) == 0 {
		return nil, nil, false, serverError(codeInvalidLength, "Write batch sizes must be between 1 and %d. Got 0 operations.", maxWriteBatchSize)
	}
	docs := make([]bson.Raw, len(vals))
	for i, v := range vals {
		if v.Type != bsontype.EmbeddedDocument {
			return nil, nil, false, cmdError(codeTypeMismatch, "TypeMismatch", "BSON field '%s.%s.%d' is the wrong type '%s', expected type 'object'",
				c.name, listKey, i, materialize.TypeName(v.Type))
		}
		docs[i] = bson.Raw(v.Value)
	}
	return c.db.Collection(name), docs, ordered, nil
}

// codeInvalidLength is error_codes.yml's InvalidLength.
const codeInvalidLength = 16

func cmdInsert(ctx context.Context, c *command) (bson.D, error) {
	coll, docs, ordered, err := c.writeCommand("documents")
	if err != nil {
		return nil, err
	}
	now := time.Now()
	stmts := make([]stmt, len(docs))
	for i, d := range docs {
		s, err := coll.insertStmt(d, now, false)
		if err != nil {
			return nil, err
		}
		s.index = i
		stmts[i] = s
	}
	return coll.runWriteCommand(ctx, stmts, ordered, false)
}

// runWriteCommand runs the statements of an insert, update or delete
// command and builds its reply.
func (coll *Collection) runWriteCommand(ctx context.Context, stmts []stmt, ordered, isUpdate bool) (bson.D, error) {
	if err := namespaceError(coll.db.name, coll.name, true); err != nil {
		return nil, err
	}
	ctx, cancel := coll.client.opContext(ctx)
	defer cancel()
	res, err := coll.execStmts(ctx, stmts, ordered)
	if err != nil {
		return nil, err
	}
	var n, modified int64
	var upserted bson.A
	for i, r := range res {
		if r.err != nil {
			continue
		}
		n += r.n // an upsert counts in n
		modified += r.modified
		if r.upserted.Type != 0 {
			upserted = append(upserted, bson.D{{Key: "index", Value: int32(stmts[i].index)}, {Key: "_id", Value: r.upserted}})
		}
	}
	werrs := writeErrors(res, stmts)
	var reply bson.D
	if isUpdate {
		reply = writeReply(n, &modified, upserted, werrs)
	} else {
		reply = writeReply(n, nil, nil, werrs)
	}
	if len(werrs) > 0 {
		// As the driver's RunCommand: a reply with write errors is a
		// WriteException that carries the reply.
		raw, err := bson.Marshal(reply)
		if err != nil {
			return nil, err
		}
		return nil, WriteException{WriteErrors: werrs, Raw: raw}
	}
	return reply, nil
}

func cmdUpdate(ctx context.Context, c *command) (bson.D, error) {
	coll, specs, ordered, err := c.writeCommand("updates")
	if err != nil {
		return nil, err
	}
	letDoc, err := c.doc("let")
	if err != nil {
		return nil, err
	}
	let := letOpt{raw: letDoc}
	stmts := make([]stmt, len(specs))
	for i, spec := range specs {
		s, err := c.updateStatement(coll, i, spec, let)
		if err != nil {
			return nil, err
		}
		stmts[i] = s
	}
	return coll.runWriteCommand(ctx, stmts, ordered, true)
}

// statement parses one element of an update or delete command's list.
func (c *command) statement(listKey string, i int, spec bson.Raw, allowed ...string) (*command, error) {
	sc := &command{name: c.name + "." + listKey, fields: map[string]bson.RawValue{}, db: c.db}
	elems, err := spec.Elements()
	if err != nil {
		return nil, cmdError(codeFailedToParseError, "FailedToParse", "invalid %s statement %d", listKey, i)
	}
	for _, e := range elems {
		sc.fields[e.Key()] = e.Value()
	}
	if err := sc.check(allowed...); err != nil {
		return nil, err
	}
	if _, ok := sc.fields["q"]; !ok {
		return nil, sc.missing("q")
	}
	return sc, nil
}

func (c *command) updateStatement(coll *Collection, i int, spec bson.Raw, let letOpt) (stmt, error) {
	sc, err := c.statement("updates", i, spec, "q", "u", "upsert", "multi", "arrayFilters", "hint", "collation", "c", "upsertSupplied", "sampleId")
	if err != nil {
		return stmt{}, err
	}
	q, err := sc.doc("q")
	if err != nil {
		return stmt{}, err
	}
	u, ok := sc.fields["u"]
	if !ok {
		return stmt{}, sc.missing("u")
	}
	multi, _, err := sc.boolean("multi")
	if err != nil {
		return stmt{}, err
	}
	upsert, _, err := sc.boolean("upsert")
	if err != nil {
		return stmt{}, err
	}
	if _, ok := sc.fields["c"]; ok {
		return stmt{}, notSupported("update statement constants (c)")
	}
	collation, err := sc.collation()
	if err != nil {
		return stmt{}, err
	}
	hint, err := sc.hintField()
	if err != nil {
		return stmt{}, err
	}
	af, err := sc.arrayFilters()
	if err != nil {
		return stmt{}, err
	}
	update, replace, err := sc.updateArg("u", u)
	if err != nil {
		return stmt{}, err
	}
	if replace && multi {
		return stmt{}, serverError(codeFailedToParseError, "multi update is not supported for replacement-style update")
	}
	s, err := coll.updateStmt(q, update, multi, replace, af, collation, hint, &upsert, let)
	if err != nil {
		return stmt{}, err
	}
	s.index = i
	return s, nil
}

// arrayFilters returns the command's arrayFilters field (nil when absent).
func (c *command) arrayFilters() (*options.ArrayFilters, error) {
	vals, ok, err := c.array("arrayFilters")
	if err != nil || !ok {
		return nil, err
	}
	filters := make([]interface{}, len(vals))
	for j, v := range vals {
		filters[j] = v
	}
	return &options.ArrayFilters{Filters: filters}, nil
}

// updateArg reads an update argument: a replacement document (its first
// field not an operator), an update document, or a pipeline (an array).
func (c *command) updateArg(key string, u bson.RawValue) (update interface{}, replace bool, err error) {
	switch u.Type {
	case bsontype.EmbeddedDocument:
		d := bson.Raw(u.Value)
		first, err := d.IndexErr(0)
		return d, err != nil || !strings.HasPrefix(first.Key(), "$"), nil
	case bsontype.Array:
		return rawArray(u.Value), false, nil
	}
	return nil, false, c.wrongTypes(key, u, "object, array")
}

// cmdFindAndModify is the findAndModify command: one document removed,
// updated, replaced or upserted, the first its query matches after sort.
// The reply carries the document (before, or with new after, projected by
// fields) and lastErrorObject {n, updatedExisting, upserted}.
func cmdFindAndModify(ctx context.Context, c *command) (bson.D, error) {
	name, err := c.collName()
	if err != nil {
		return nil, err
	}
	if err := c.check("query", "sort", "remove", "update", "new", "fields", "upsert", "bypassDocumentValidation",
		"arrayFilters", "collation", "hint", "let"); err != nil {
		return nil, err
	}
	var docs [3]bson.Raw
	for i, k := range []string{"query", "sort", "fields"} {
		if docs[i], err = c.doc(k); err != nil {
			return nil, err
		}
	}
	query, sort, fields := docs[0], docs[1], docs[2]
	if query == nil {
		query = emptyDoc()
	}
	var flags [4]bool
	for i, k := range []string{"remove", "new", "upsert", "bypassDocumentValidation"} {
		if flags[i], _, err = c.boolean(k); err != nil {
			return nil, err
		}
	}
	remove, returnNew, upsert, bypass := flags[0], flags[1], flags[2], flags[3]
	u, hasUpdate := c.fields["update"]
	_, hasFilters := c.fields["arrayFilters"]
	switch {
	case remove && hasUpdate:
		return nil, cmdError(codeFailedToParseError, "FailedToParse", "Cannot specify both an update and remove=true")
	case !remove && !hasUpdate:
		return nil, cmdError(codeFailedToParseError, "FailedToParse", "Either an update or remove=true must be specified")
	case remove && upsert:
		return nil, cmdError(codeFailedToParseError, "FailedToParse", "Cannot specify both upsert=true and remove=true")
	case remove && returnNew:
		return nil, cmdError(codeFailedToParseError, "FailedToParse", "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document")
	case remove && hasFilters:
		return nil, cmdError(codeFailedToParseError, "FailedToParse", "Cannot specify arrayFilters and remove=true")
	}
	collation, err := c.collation()
	if err != nil {
		return nil, err
	}
	hint, err := c.hintField()
	if err != nil {
		return nil, err
	}
	let, err := c.doc("let")
	if err != nil {
		return nil, err
	}
	coll := c.db.Collection(name)
	fo := options.FindOptions{Collation: collation, Hint: hint}
	if sort != nil {
		fo.Sort = sort
	}
	if fields != nil {
		fo.Projection = fields
	}
	if let != nil {
		fo.Let = let
	}
	fam := &famSpec{remove: true}
	if !remove {
		af, err := c.arrayFilters()
		if err != nil {
			return nil, err
		}
		update, replace, err := c.updateArg("update", u)
		if err != nil {
			return nil, err
		}
		s, err := coll.updateStmt(query, update, false, replace, af, collation, hint, &upsert, letOpt{raw: let})
		if err != nil {
			return nil, err
		}
		s.bypass = bypass
		fam = &famSpec{st: s, returnNew: returnNew}
	}
	if fam, err = coll.famFind(fam, query, fo); err != nil {
		return nil, err
	}
	out, oc, err := coll.findAndModifyRun(ctx, fam)
	if err != nil {
		return nil, err
	}
	leo := bson.D{{Key: "n", Value: oc.n}}
	if !remove {
		leo = append(leo, bson.E{Key: "updatedExisting", Value: oc.updatedExisting})
		if oc.upserted.Type != 0 {
			leo = append(leo, bson.E{Key: "upserted", Value: oc.upserted})
		}
	}
	var value interface{} = out
	if out == nil {
		value = nil
	}
	return bson.D{{Key: "lastErrorObject", Value: leo}, {Key: "value", Value: value}, {Key: "ok", Value: 1.0}}, nil
}

func cmdDelete(ctx context.Context, c *command) (bson.D, error) {
	coll, specs, ordered, err := c.writeCommand("deletes")
	if err != nil {
		return nil, err
	}
	letDoc, err := c.doc("let")
	if err != nil {
		return nil, err
	}
	stmts := make([]stmt, len(specs))
	for i, spec := range specs {
		sc, err := c.statement("deletes", i, spec, "q", "limit", "hint", "collation", "sampleId")
		if err != nil {
			return nil, err
		}
		q, err := sc.doc("q")
		if err != nil {
			return nil, err
		}
		limit, ok, err := sc.integer("limit")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, sc.missing("limit")
		}
		if limit != 0 && limit != 1 {
			return nil, serverError(codeFailedToParseError, "The limit field in delete objects must be 0 or 1. Got %d", limit)
		}
		collation, err := sc.collation()
		if err != nil {
			return nil, err
		}
		hint, err := sc.hintField()
		if err != nil {
			return nil, err
		}
		s, err := coll.deleteStmt(q, collation, hint, limit == 0, letOpt{raw: letDoc})
		if err != nil {
			return nil, err
		}
		s.index = i
		stmts[i] = s
	}
	return coll.runWriteCommand(ctx, stmts, ordered, false)
}

func cmdAggregate(ctx context.Context, c *command) (bson.D, error) {
	if err := c.check("pipeline", "cursor", "explain", "allowDiskUse", "bypassDocumentValidation",
		"collation", "hint", "let", "fromMongos", "needsMerge", "isMapReduceCommand"); err != nil {
		return nil, err
	}
	var coll string
	switch c.arg.Type {
	case bsontype.String:
		coll = c.arg.StringValue()
		if coll == "" {
			return nil, serverError(codeInvalidNamespace, "Invalid namespace specified '%s.'", c.db.name)
		}
	case bsontype.Int32, bsontype.Int64, bsontype.Double:
		if f, _ := numberValue(c.arg); f != 1 {
			return nil, serverError(codeFailedToParseError, "Invalid command format: the '%s' field must specify a collection name or 1", c.name)
		}
	default:
		return nil, serverError(codeFailedToParseError, "Invalid command format: the '%s' field must specify a collection name or 1", c.name)
	}
	pv, ok := c.fields["pipeline"]
	if !ok {
		return nil, c.missing("pipeline")
	}
	if pv.Type != bsontype.Array {
		return nil, c.wrongType("pipeline", pv, "array")
	}
	if explain, _, err := c.boolean("explain"); err != nil {
		return nil, err
	} else if explain {
		return nil, notSupported("explain")
	}
	if _, ok := c.fields["cursor"]; !ok {
		return nil, serverError(codeFailedToParseError, "The 'cursor' option is required, except for aggregate with the explain argument")
	}
	if _, err := c.doc("cursor"); err != nil {
		return nil, err
	}
	ao := options.Aggregate()
	if b, ok, err := c.boolean("allowDiskUse"); err != nil {
		return nil, err
	} else if ok {
		ao.SetAllowDiskUse(b)
	}
	if _, _, err := c.boolean("bypassDocumentValidation"); err != nil {
		return nil, err
	}
	collation, err := c.collation()
	if err != nil {
		return nil, err
	}
	ao.Collation = collation
	let, err := c.doc("let")
	if err != nil {
		return nil, err
	}
	if let != nil {
		ao.SetLet(let)
	}
	hint, err := c.hintField()
	if err != nil {
		return nil, err
	}
	if hint != nil {
		ao.SetHint(hint)
	}
	pipeline := rawArray(pv.Value)
	var cur *Cursor
	ns := c.db.name + ".$cmd.aggregate"
	if coll == "" {
		cur, err = c.db.Aggregate(ctx, pipeline, ao)
	} else {
		ns = c.db.name + "." + coll
		cur, err = c.db.Collection(coll).Aggregate(ctx, pipeline, ao)
	}
	if err != nil {
		return nil, err
	}
	docs, err := cursorDocs(ctx, cur)
	if err != nil {
		return nil, err
	}
	return cursorReply(ns, docs), nil
}

func cmdCreate(ctx context.Context, c *command) (bson.D, error) {
	name, err := c.collName()
	if err != nil {
		return nil, err
	}
	if err := c.check("capped", "size", "max", "storageEngine", "indexOptionDefaults", "changeStreamPreAndPostImages",
		"viewOn", "pipeline", "validator", "validationLevel", "validationAction", "collation", "timeseries",
		"expireAfterSeconds", "clusteredIndex", "encryptedFields", "autoIndexId", "idIndex", "flags", "temp",
		"recordPreImages"); err != nil {
		return nil, err
	}
	if viewOn, isView, err := c.str("viewOn"); err != nil {
		return nil, err
	} else if isView {
		return cmdCreateView(ctx, c, name, viewOn)
	}
	if _, ok := c.fields["pipeline"]; ok {
		return nil, cmdError(codeBadValue, "BadValue", "'pipeline' requires 'viewOn' to also be specified")
	}
	co := options.CreateCollection()
	if b, _, err := c.boolean("capped"); err != nil {
		return nil, err
	} else if b {
		co.SetCapped(true)
	}
	for _, k := range []string{"size", "max"} {
		if n, ok, err := c.integer(k); err != nil {
			return nil, err
		} else if ok && k == "size" {
			co.SetSizeInBytes(n)
		} else if ok {
			co.SetMaxDocuments(n)
		}
	}
	for _, k := range []string{"validator", "storageEngine", "indexOptionDefaults", "changeStreamPreAndPostImages",
		"collation", "timeseries", "clusteredIndex", "encryptedFields"} {
		d, err := c.doc(k)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue
		}
		switch k {
		case "validator":
			co.SetValidator(d)
		case "storageEngine":
			co.SetStorageEngine(d)
		case "indexOptionDefaults":
			io := options.DefaultIndex()
			if se, ok := d.Lookup("storageEngine").DocumentOK(); ok {
				io.SetStorageEngine(se)
			}
			co.SetDefaultIndexOptions(io)
		case "changeStreamPreAndPostImages":
			co.SetChangeStreamPreAndPostImages(d)
		case "collation":
			coll, err := collationDoc(d)
			if err != nil {
				return nil, commandError(err)
			}
			co.SetCollation(coll)
		default:
			return nil, notSupported("create with " + k)
		}
	}
	if lv, ok, err := c.str("validationLevel"); err != nil {
		return nil, err
	} else if ok {
		co.SetValidationLevel(lv)
	}
	if act, ok, err := c.str("validationAction"); err != nil {
		return nil, err
	} else if ok {
		co.SetValidationAction(act)
	}
	if _, ok := c.fields["expireAfterSeconds"]; ok {
		return nil, notSupported("expireAfterSeconds on collections (time-series and clustered collections)")
	}
	if err := c.db.CreateCollection(ctx, name, co); err != nil {
		return nil, err
	}
	return bson.D{{Key: "ok", Value: 1.0}}, nil
}

// cmdCreateView is create with viewOn: a view (view.go).
func cmdCreateView(ctx context.Context, c *command, name, viewOn string) (bson.D, error) {
	for k := range c.fields {
		switch k {
		case "viewOn", "pipeline", "collation":
		default:
			if !genericCommandFields[k] {
				return nil, cmdError(codeInvalidOptions, "InvalidOptions", "option not supported on a view: %s", k)
			}
		}
	}
	pipeline := bson.Raw{5, 0, 0, 0, 0}
	if v, ok := c.fields["pipeline"]; ok {
		if v.Type != bsontype.Array {
			return nil, c.wrongType("pipeline", v, "array")
		}
		pipeline = bson.Raw(v.Value)
	}
	var opts []*options.CreateViewOptions
	if d, err := c.doc("collation"); err != nil {
		return nil, err
	} else if d != nil {
		var coll options.Collation
		if err := bson.Unmarshal(d, &coll); err != nil {
			return nil, c.wrongType("collation", c.fields["collation"], "object")
		}
		opts = append(opts, options.CreateView().SetCollation(&coll))
	}
	if err := c.db.CreateView(ctx, name, viewOn, bsoncore.Array(pipeline), opts...); err != nil {
		return nil, err
	}
	return bson.D{{Key: "ok", Value: 1.0}}, nil
}

// cmdCollMod changes a collection's validation options or a view's
// definition (modifyCollection in validation.go).
func cmdCollMod(ctx context.Context, c *command) (bson.D, error) {
	name, err := c.collName()
	if err != nil {
		return nil, err
	}
	if err := c.check("validator", "validationLevel", "validationAction", "viewOn", "pipeline", "index",
		"expireAfterSeconds", "changeStreamPreAndPostImages", "dryRun"); err != nil {
		return nil, err
	}
	changes := bson.D{}
	for _, k := range []string{"validator", "validationLevel", "validationAction", "viewOn", "pipeline", "index",
		"expireAfterSeconds", "changeStreamPreAndPostImages", "dryRun"} {
		if v, ok := c.fields[k]; ok {
			changes = append(changes, bson.E{Key: k, Value: v})
		}
	}
	raw, err := bson.Marshal(changes)
	if err != nil {
		return nil, err
	}
	if err := c.db.modifyCollection(ctx, name, raw); err != nil {
		return nil, err
	}
	return bson.D{{Key: "ok", Value: 1.0}}, nil
}

func cmdDrop(ctx context.Context, c *command) (bson.D, error) {
	name, err := c.collName()
	if err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	coll := c.db.Collection(name)
	specs, err := coll.Indexes().specs(ctx)
	if err != nil {
		return nil, err
	}
	if err := coll.Drop(ctx); err != nil {
		return nil, err
	}
	if specs == nil {
		return bson.D{{Key: "ok", Value: 1.0}}, nil // dropping a missing collection succeeds (MongoDB 7.0+)
	}
	return bson.D{{Key: "nIndexesWas", Value: int32(len(specs))}, {Key: "ns", Value: c.db.name + "." + name}, {Key: "ok", Value: 1.0}}, nil
}

func cmdDropDatabase(ctx context.Context, c *command) (bson.D, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if f, ok := numberValue(c.arg); !ok || f != 1 {
		return nil, serverError(codeFailedToParseError, "have to pass 1 as db parameter")
	}
	if err := c.db.Drop(ctx); err != nil {
		return nil, err
	}
	return bson.D{{Key: "ok", Value: 1.0}}, nil
}

func cmdCreateIndexes(ctx context.Context, c *command) (bson.D, error) {
	name, err := c.collName()
	if err != nil {
		return nil, err
	}
	if err := c.check("indexes", "commitQuorum", "ignoreUnknownIndexOptions", "isTimeseriesNamespace"); err != nil {
		return nil, err
	}
	vals, ok, err := c.array("indexes")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, c.missing("indexes")
	}
	defs := make([]*materialize.IndexDef, 0, len(vals))
	inherit := make([]bool, 0, len(vals))
	for i, v := range vals {
		if v.Type != bsontype.EmbeddedDocument {
			return nil, cmdError(codeTypeMismatch, "TypeMismatch", "BSON field 'createIndexes.indexes.%d' is the wrong type '%s', expected type 'object'", i, materialize.TypeName(v.Type))
		}
		spec, err := normalizeIndexSpec(bson.Raw(v.Value))
		if err != nil {
			return nil, err
		}
		def, err := materialize.ParseIndexSpec(spec)
		if err != nil {
			return nil, commandError(err)
		}
		defs = append(defs, def)
		_, hasCollation := bson.Raw(v.Value).Lookup("collation").DocumentOK()
		inherit = append(inherit, !hasCollation)
	}
	coll := c.db.Collection(name)
	before, after, err := coll.Indexes().createDefs(ctx, defs, inherit)
	if err != nil {
		return nil, err
	}
	reply := bson.D{
		{Key: "createdCollectionAutomatically", Value: before == 0},
		{Key: "numIndexesBefore", Value: int32(max(before, 1))},
		{Key: "numIndexesAfter", Value: int32(after)},
	}
	if after == max(before, 1) {
		reply = append(reply, bson.E{Key: "note", Value: "all indexes already exist"})
	}
	return append(reply, bson.E{Key: "ok", Value: 1.0}), nil
}

// normalizeIndexSpec orders an index specification as the server stores
// it, {v, key, name, options...}, with v: 2 when it is not given.
func normalizeIndexSpec(spec bson.Raw) (bson.Raw, error) {
	key, ok := spec.Lookup("key").DocumentOK()
	if !ok {
		return nil, serverError(codeFailedToParseError, "Error in specification %s :: caused by :: The 'key' field is a required property of an index specification", docText(spec))
	}
	name, ok := spec.Lookup("name").StringValueOK()
	if !ok {
		return nil, serverError(codeFailedToParseError, "Error in specification %s :: caused by :: The 'name' field is a required property of an index specification", docText(spec))
	}
	idx, d := bsoncore.AppendDocumentStart(nil)
	if v := spec.Lookup("v"); v.Type != 0 {
		d = bsoncore.AppendValueElement(d, "v", bsoncore.Value{Type: v.Type, Data: v.Value})
	} else {
		d = bsoncore.AppendInt32Element(d, "v", 2)
	}
	d = bsoncore.AppendDocumentElement(d, "key", key)
	d = bsoncore.AppendStringElement(d, "name", name)
	elems, err := spec.Elements()
	if err != nil {
		return nil, err
	}
	for _, e := range elems {
		switch e.Key() {
		case "v", "key", "name":
			continue
		}
		d = bsoncore.AppendValueElement(d, e.Key(), bsoncore.Value{Type: e.Value().Type, Data: e.Value().Value})
	}
	d, err = bsoncore.AppendDocumentEnd(d, idx)
	return bson.Raw(d), err
}

func cmdDropIndexes(ctx context.Context, c *command) (bson.D, error) {
	name, err := c.collName()
	if err != nil {
		return nil, err
	}
	if err := c.check("index"); err != nil {
		return nil, err
	}
	v, ok := c.fields["index"]
	if !ok {
		return nil, c.missing("index")
	}
	iv := c.db.Collection(name).Indexes()
	var reply bson.Raw
	switch v.Type {
	case bsontype.String:
		if v.StringValue() == "*" {
			reply, err = iv.DropAll(ctx)
		} else {
			reply, err = iv.DropOne(ctx, v.StringValue())
		}
	case bsontype.EmbeddedDocument:
		reply, err = iv.DropOneWithKey(ctx, bson.Raw(v.Value))
	case bsontype.Array:
		vals, _ := bson.Raw(v.Value).Values()
		names := make([]string, len(vals))
		for i, x := range vals {
			s, ok := x.StringValueOK()
			if !ok {
				return nil, cmdError(codeTypeMismatch, "TypeMismatch", "BSON field 'dropIndexes.index.%d' is the wrong type '%s', expected type 'string'", i, materialize.TypeName(x.Type))
			}
			if s == "*" {
				return nil, serverError(codeBadValue, "'*' is not a valid index name when dropping multiple indexes")
			}
			names[i] = s
		}
		reply, err = iv.drop(ctx, func(mc *materialize.Collection) ([]string, error) {
			have := map[string]bool{}
			for _, ix := range mc.Indexes() {
				have[ix.Name] = true
			}
			for _, n := range names {
				if n == materialize.IDIndexName {
					return nil, serverError(codeInvalidOptions, "cannot drop _id index")
				}
				if !have[n] {
					return nil, serverError(codeIndexNotFound, "index not found with name [%s]", n)
				}
			}
			return names, nil
		})
	default:
		return nil, c.wrongTypes("index", v, "string, object, array")
	}
	if err != nil {
		return nil, err
	}
	return bson.D{{Key: "nIndexesWas", Value: reply.Lookup("nIndexesWas")}, {Key: "ok", Value: 1.0}}, nil
}

// scale reads the scale argument of dbStats and collStats (default 1).
func (c *command) scale() (int64, error) {
	n, ok, err := c.integer("scale")
	if err != nil || !ok {
		return 1, err
	}
	if n < 1 {
		return 0, serverError(codeBadValue, "Scale factor must be greater than zero")
	}
	return n, nil
}

// collectionSize is the number of documents and their total BSON size.
func collectionSize(mc *materialize.Collection) (count, size int64) {
	if mc == nil {
		return 0, 0
	}
	mc.Scan(func(d bson.Raw) bool {
		count++
		size += int64(len(d))
		return true
	})
	return count, size
}

// dbStats and collStats report the materialized state: dataSize and size
// are the documents' BSON sizes; storageSize is the same figure (the state
// is in memory and uncompressed; the log's own size is per store). Index
// sizes are not reported.
func cmdDBStats(ctx context.Context, c *command) (bson.D, error) {
	if err := c.check("scale", "freeStorage"); err != nil {
		return nil, err
	}
	scale, err := c.scale()
	if err != nil {
		return nil, err
	}
	if err := databaseError(c.db.name); err != nil {
		return nil, err
	}
	ctx, cancel := c.db.client.opContext(ctx)
	defer cancel()
	st, err := c.db.client.eng.snapshot(ctx, c.db.client.branch)
	if err != nil {
		return nil, err
	}
	var colls, objects, size, indexes int64
	for _, ns := range st.Namespaces() {
		if ns.DB != c.db.name {
			continue
		}
		mc := st.Collection(ns)
		n, s := collectionSize(mc)
		colls++
		objects += n
		size += s
		indexes += int64(len(mc.Indexes()) + 1)
	}
	avg := 0.0
	if objects > 0 {
		avg = float64(size) / float64(objects)
	}
	return bson.D{
		{Key: "db", Value: c.db.name},
		{Key: "collections", Value: colls},
		{Key: "views", Value: int64(0)},
		{Key: "objects", Value: objects},
		{Key: "avgObjSize", Value: avg},
		{Key: "dataSize", Value: float64(size) / float64(scale)},
		{Key: "storageSize", Value: float64(size) / float64(scale)},
		{Key: "indexes", Value: indexes},
		{Key: "scaleFactor", Value: scale},
		{Key: "ok", Value: 1.0},
	}, nil
}

func cmdCollStats(ctx context.Context, c *command) (bson.D, error) {
	name, err := c.collName()
	if err != nil {
		return nil, err
	}
	if err := c.check("scale", "verbose"); err != nil {
		return nil, err
	}
	scale, err := c.scale()
	if err != nil {
		return nil, err
	}
	coll := c.db.Collection(name)
	ctx, cancel := c.db.client.opContext(ctx)
	defer cancel()
	mc, err := coll.readState(ctx)
	if err != nil {
		return nil, err
	}
	if mc == nil {
		return nil, serverError(codeNamespaceNotFound, "Collection [%s.%s] not found.", c.db.name, name)
	}
	n, size := collectionSize(mc)
	d := bson.D{
		{Key: "ns", Value: c.db.name + "." + name},
		{Key: "size", Value: size / scale},
		{Key: "count", Value: n},
	}
	if n > 0 {
		d = append(d, bson.E{Key: "avgObjSize", Value: size / n})
	}
	return append(d,
		bson.E{Key: "storageSize", Value: size / scale},
		bson.E{Key: "nindexes", Value: int32(len(mc.Indexes()) + 1)},
		bson.E{Key: "scaleFactor", Value: scale},
		bson.E{Key: "ok", Value: 1.0},
	), nil
}

// getMore has no cursor to continue: every cursor a command returns is
// complete in its first batch (id 0).
func cmdGetMore(_ context.Context, c *command) (bson.D, error) {
	if err := c.check("collection", "batchSize", "maxTimeMS", "term", "lastKnownCommittedOpTime"); err != nil {
		return nil, err
	}
	if c.arg.Type != bsontype.Int64 {
		return nil, cmdError(codeTypeMismatch, "TypeMismatch", "BSON field 'getMore.getMore' is the wrong type '%s', expected type 'long'", materialize.TypeName(c.arg.Type))
	}
	if _, ok, err := c.str("collection"); err != nil {
		return nil, err
	} else if !ok {
		return nil, c.missing("collection")
	}
	return nil, cmdError(codeCursorNotFound, "CursorNotFound", "cursor id %d not found", c.arg.Int64())
}

func cmdKillCursors(_ context.Context, c *command) (bson.D, error) {
	if _, err := c.collName(); err != nil {
		return nil, err
	}
	if err := c.check("cursors"); err != nil {
		return nil, err
	}
	vals, ok, err := c.array("cursors")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, c.missing("cursors")
	}
	notFound := bson.A{}
	for i, v := range vals {
		if v.Type != bsontype.Int64 {
			return nil, cmdError(codeTypeMismatch, "TypeMismatch", "BSON field 'killCursors.cursors.%d' is the wrong type '%s', expected type 'long'", i, materialize.TypeName(v.Type))
		}
		notFound = append(notFound, v.Int64())
	}
	return bson.D{
		{Key: "cursorsKilled", Value: bson.A{}},
		{Key: "cursorsNotFound", Value: notFound},
		{Key: "cursorsAlive", Value: bson.A{}},
		{Key: "cursorsUnknown", Value: bson.A{}},
		{Key: "ok", Value: 1.0},
	}, nil
}
