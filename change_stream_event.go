package argon

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// This file builds change events from log records, the resume tokens that
// name them, and the pipeline a stream runs on them.

// Server codes of change stream errors (error_codes.yml).
const (
	codeChangeStreamFatal  int32 = 280
	codeHistoryLost        int32 = 286
	codeInvalidResumeToken int32 = 260
	codeBadResumeTokenData int32 = 40647
	codeStageNotFirst      int32 = 40602
)

func streamError(code int32, name, msg string) error {
	return CommandError{Code: code, Name: name, Message: msg, Raw: errorReply(code, name, msg)}
}

// streamPos orders events: the LSN of their record, the operation's index
// in it, and the event's index among the operation's events.
type streamPos struct {
	lsn     wal.LSN
	op, sub uint32
}

// highWater is the position after every event of the record at lsn.
func highWater(lsn wal.LSN) streamPos { return streamPos{lsn, math.MaxUint32, math.MaxUint32} }

func (p streamPos) isHighWater() bool { return p.op == math.MaxUint32 && p.sub == math.MaxUint32 }

func (p streamPos) less(q streamPos) bool {
	switch {
	case p.lsn != q.lsn:
		return p.lsn < q.lsn
	case p.op != q.op:
		return p.op < q.op
	}
	return p.sub < q.sub
}

// streamToken is a decoded resume token.
type streamToken struct {
	pos        streamPos
	invalidate bool
	branch     string
}

// Resume token layout, hex-encoded (upper case) into _data:
//
//	version 1 | LSN u64 | op u32 | sub u32 | invalidate u8 | branch id
//
// all big-endian, so that the tokens of one branch sort as their events.
const (
	tokenVersion   = 1
	tokenFixedSize = 1 + 8 + 4 + 4 + 1
)

func (t streamToken) raw() bson.Raw {
	b := make([]byte, 0, tokenFixedSize+len(t.branch))
	b = append(b, tokenVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(t.pos.lsn))
	b = binary.BigEndian.AppendUint32(b, t.pos.op)
	b = binary.BigEndian.AppendUint32(b, t.pos.sub)
	inv := byte(0)
	if t.invalidate {
		inv = 1
	}
	b = append(b, inv)
	b = append(b, t.branch...)
	data := bytes.ToUpper(hex.AppendEncode(nil, b))
	idx, doc := bsoncore.AppendDocumentStart(make([]byte, 0, 16+len(data)))
	doc = bsoncore.AppendStringElement(doc, "_data", string(data))
	doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
	return doc
}

// parseStreamToken decodes a resume token document.
func parseStreamToken(doc bson.Raw) (streamToken, error) {
	var t streamToken
	data, ok := doc.Lookup("_data").StringValueOK()
	if !ok {
		return t, serverError(codeBadResumeTokenData, "Bad resume token: _data of missing or of wrong type. Expected string, got %s", doc)
	}
	b, err := hex.DecodeString(data)
	bad := func(why string) (streamToken, error) {
		return t, serverError(codeFailedToParseError, "Bad resume token: %s: %q", why, data)
	}
	switch {
	case err != nil:
		return bad("_data is not a hex string")
	case len(b) < tokenFixedSize+1 || b[0] != tokenVersion:
		return bad("_data is not the resume token of an Argon change stream")
	case b[17] > 1:
		return bad("bad event kind")
	}
	t.pos.lsn = wal.LSN(binary.BigEndian.Uint64(b[1:]))
	t.pos.op = binary.BigEndian.Uint32(b[9:])
	t.pos.sub = binary.BigEndian.Uint32(b[13:])
	t.invalidate = b[17] == 1
	t.branch = string(b[tokenFixedSize:])
	if t.pos.lsn == 0 && !t.pos.isHighWater() {
		return bad("lsn 0 has no events")
	}
	if wal.ValidateBranchName(t.branch) != nil {
		return bad("bad branch id")
	}
	return t, nil
}

// rawEvent is an event before the pipeline.
type rawEvent struct {
	tok   streamToken
	token bson.Raw // tok encoded, the event's _id
	doc   bson.Raw
}

// eventsOf returns the stream's events of one record, in order.
func (cs *ChangeStream) eventsOf(ctx context.Context, rec *wal.Record) ([]rawEvent, error) {
	if rec.Branch == "" {
		return cs.catalogEvents(rec), nil
	}
	if rec.Branch != cs.follow {
		return nil, nil
	}
	var out []rawEvent
	clusterTime := primitive.Timestamp{T: uint32(rec.Time.Unix()), I: uint32(rec.LSN)}
	wallTime := primitive.NewDateTimeFromTime(rec.Time)
	emit := func(op, sub int, typ string, invalidate bool, fields ...bson.E) error {
		tok := streamToken{pos: streamPos{rec.LSN, uint32(op), uint32(sub)}, invalidate: invalidate, branch: cs.follow}
		token := tok.raw()
		d := bson.D{{Key: "_id", Value: token}, {Key: "operationType", Value: typ},
			{Key: "clusterTime", Value: clusterTime}, {Key: "wallTime", Value: wallTime}}
		doc, err := marshalEvent(append(d, fields...))
		if err != nil {
			return err
		}
		out = append(out, rawEvent{tok: tok, token: token, doc: doc})
		return nil
	}
	nsOf := func(db, coll string) bson.E {
		return bson.E{Key: "ns", Value: bson.D{{Key: "db", Value: db}, {Key: "coll", Value: coll}}}
	}
	for i := range rec.Ops {
		op := &rec.Ops[i]
		var err error
		switch op.Kind {
		case wal.OpInsert, wal.OpUpdate, wal.OpReplace, wal.OpDelete:
			if !cs.scope.covers(op.DB, op.Coll) {
				continue
			}
			var fields []bson.E
			fields, err = cs.documentFields(op)
			if err == nil {
				err = emit(i, 0, documentEventType(op.Kind), false, fields...)
			}
		case wal.OpCreateCollection:
			if cs.expanded && cs.scope.covers(op.DB, op.Coll) {
				desc := op.Doc
				if desc == nil {
					desc = bson.Raw{5, 0, 0, 0, 0}
				}
				err = emit(i, 0, "create", false, nsOf(op.DB, op.Coll), bson.E{Key: "operationDescription", Value: desc})
			}
		case wal.OpModifyCollection:
			// The log holds the collection's new options whole (collMod).
			if cs.expanded && cs.scope.covers(op.DB, op.Coll) {
				err = emit(i, 0, "modify", false, nsOf(op.DB, op.Coll), bson.E{Key: "operationDescription", Value: op.Doc})
			}
		case wal.OpCreateIndex:
			if cs.expanded && cs.scope.covers(op.DB, op.Coll) {
				err = emit(i, 0, "createIndexes", false, nsOf(op.DB, op.Coll),
					bson.E{Key: "operationDescription", Value: bson.D{{Key: "indexes", Value: bson.A{op.Doc}}}})
			}
		case wal.OpDropIndex:
			if cs.expanded && cs.scope.covers(op.DB, op.Coll) {
				var spec bson.Raw
				spec, err = cs.droppedIndex(ctx, rec.LSN, op)
				if err == nil {
					err = emit(i, 0, "dropIndexes", false, nsOf(op.DB, op.Coll),
						bson.E{Key: "operationDescription", Value: bson.D{{Key: "indexes", Value: bson.A{spec}}}})
				}
			}
		case wal.OpDropCollection:
			if cs.scope.covers(op.DB, op.Coll) {
				err = emit(i, 0, "drop", false, nsOf(op.DB, op.Coll))
				if err == nil && cs.scope.coll != "" {
					err = emit(i, 1, "invalidate", true)
				}
			}
		case wal.OpRenameCollection:
			if cs.scope.covers(op.DB, op.Coll) {
				to, _ := op.Doc.Lookup("to").StringValueOK()
				toDB, toColl, _ := bytes.Cut([]byte(to), []byte("."))
				toNS := bson.D{{Key: "db", Value: string(toDB)}, {Key: "coll", Value: string(toColl)}}
				fields := []bson.E{nsOf(op.DB, op.Coll), {Key: "to", Value: toNS}}
				if cs.expanded {
					desc := bson.D{{Key: "to", Value: toNS}}
					if dt, ok := op.Doc.Lookup("dropTarget").BooleanOK(); ok && dt {
						desc = append(desc, bson.E{Key: "dropTarget", Value: true})
					}
					fields = append(fields, bson.E{Key: "operationDescription", Value: desc})
				}
				err = emit(i, 0, "rename", false, fields...)
				if err == nil && cs.scope.coll != "" {
					err = emit(i, 1, "invalidate", true)
				}
			}
		case wal.OpDropDatabase:
			if cs.scope.db != "" && cs.scope.db != op.DB {
				continue
			}
			var colls []string
			colls, err = cs.collectionsBefore(ctx, rec.LSN, op.DB)
			sub := 0
			for _, c := range colls {
				if err != nil {
					break
				}
				if cs.scope.covers(op.DB, c) {
					err = emit(i, sub, "drop", false, nsOf(op.DB, c))
					sub++
				}
			}
			switch {
			case err != nil:
			case cs.scope.coll == "":
				err = emit(i, sub, "dropDatabase", false, bson.E{Key: "ns", Value: bson.D{{Key: "db", Value: op.DB}}})
				if err == nil && cs.scope.db != "" {
					err = emit(i, sub+1, "invalidate", true)
				}
			case sub > 0: // the watched collection existed
				err = emit(i, sub, "invalidate", true)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func documentEventType(k wal.OpKind) string {
	switch k {
	case wal.OpInsert:
		return "insert"
	case wal.OpUpdate:
		return "update"
	case wal.OpReplace:
		return "replace"
	}
	return "delete"
}

// documentFields are the fields of a document event after the common ones.
func (cs *ChangeStream) documentFields(op *wal.Op) ([]bson.E, error) {
	ns := bson.E{Key: "ns", Value: bson.D{{Key: "db", Value: op.DB}, {Key: "coll", Value: op.Coll}}}
	key := bson.E{Key: "documentKey", Value: bson.D{{Key: "_id", Value: op.ID}}}
	var fields []bson.E
	switch op.Kind {
	case wal.OpInsert, wal.OpReplace:
		fields = []bson.E{{Key: "fullDocument", Value: op.Doc}, ns, key}
	case wal.OpUpdate:
		fields = []bson.E{ns, key, {Key: "updateDescription", Value: updateDescription(op.Before, op.Doc)}}
		switch cs.fullDoc {
		case "whenAvailable", "required":
			fields = append(fields, bson.E{Key: "fullDocument", Value: op.Doc})
		case "updateLookup":
			fields = append(fields, bson.E{Key: "fullDocument", Value: cs.lookup(op)})
		}
	default:
		fields = []bson.E{ns, key}
	}
	if cs.before != "off" && op.Kind != wal.OpInsert {
		fields = append(fields, bson.E{Key: "fullDocumentBeforeChange", Value: op.Before})
	}
	return fields, nil
}

// lookup returns the document's current state on the followed branch, or
// null when it is gone.
func (cs *ChangeStream) lookup(op *wal.Op) interface{} {
	cs.eng.mu.RLock()
	defer cs.eng.mu.RUnlock()
	b := cs.eng.cat.get(cs.follow)
	if b == nil {
		return nil
	}
	c := b.head.Collection(materialize.Namespace{DB: op.DB, Coll: op.Coll})
	if c == nil {
		return nil
	}
	if d, ok := c.Get(op.ID); ok {
		return d
	}
	return nil
}

// stateBefore returns the followed branch's state just before lsn.
func (cs *ChangeStream) stateBefore(ctx context.Context, lsn wal.LSN) (*materialize.State, error) {
	if _, err := cs.eng.sync(ctx); err != nil {
		return nil, err
	}
	return cs.eng.stateAt(ctx, cs.follow, lsn-1)
}

// collectionsBefore lists the collections of db before the record at lsn
// dropped it.
func (cs *ChangeStream) collectionsBefore(ctx context.Context, lsn wal.LSN, db string) ([]string, error) {
	st, err := cs.stateBefore(ctx, lsn)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ns := range st.Namespaces() {
		if ns.DB == db {
			out = append(out, ns.Coll)
		}
	}
	return out, nil
}

// droppedIndex returns the specification of the index a dropIndex
// removed.
func (cs *ChangeStream) droppedIndex(ctx context.Context, lsn wal.LSN, op *wal.Op) (bson.Raw, error) {
	st, err := cs.stateBefore(ctx, lsn)
	if err != nil {
		return nil, err
	}
	if c := st.Collection(materialize.Namespace{DB: op.DB, Coll: op.Coll}); c != nil {
		for _, ix := range c.Indexes() {
			if ix.Name == op.Name {
				return ix.Spec, nil
			}
		}
	}
	// Dropped in the same record that created it.
	return bson.Marshal(bson.D{{Key: "name", Value: op.Name}})
}

// catalogEvents returns the invalidate event of a project-level record
// that resets or deletes the followed branch, or deletes the project.
func (cs *ChangeStream) catalogEvents(rec *wal.Record) []rawEvent {
	for i := range rec.Ops {
		op := &rec.Ops[i]
		hit := false
		switch op.Kind {
		case wal.OpUpdateBranch:
			kind, _ := op.Doc.Lookup(bfKind).StringValueOK()
			parent, _ := op.Doc.Lookup(bfParent).StringValueOK()
			hit = kind == "reset" && parent == cs.follow
		case wal.OpDeleteBranch:
			id, _ := op.Doc.Lookup(bfID).StringValueOK()
			hit = id == cs.follow
		case wal.OpDeleteProject:
			hit = true
		}
		if !hit {
			continue
		}
		tok := streamToken{pos: streamPos{rec.LSN, uint32(i), 0}, invalidate: true, branch: cs.follow}
		token := tok.raw()
		doc, _ := marshalEvent(bson.D{{Key: "_id", Value: token}, {Key: "operationType", Value: "invalidate"},
			{Key: "clusterTime", Value: primitive.Timestamp{T: uint32(rec.Time.Unix()), I: uint32(rec.LSN)}},
			{Key: "wallTime", Value: primitive.NewDateTimeFromTime(rec.Time)}})
		return []rawEvent{{tok: tok, token: token, doc: doc}}
	}
	return nil
}

// marshalEvent encodes an event document. It handles the types events are
// made of directly, which is several times faster than bson.Marshal's
// reflection, and hands anything else to bson.MarshalValue.
func marshalEvent(d bson.D) (bson.Raw, error) {
	size := 256
	for _, e := range d {
		switch v := e.Value.(type) {
		case bson.Raw:
			size += len(v)
		case bson.RawValue:
			size += len(v.Value)
		}
	}
	idx, dst := bsoncore.AppendDocumentStart(make([]byte, 0, size))
	dst, err := appendEventFields(dst, d)
	if err != nil {
		return nil, err
	}
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst, nil
}

func appendEventFields(dst []byte, d bson.D) ([]byte, error) {
	for _, e := range d {
		var err error
		if dst, err = appendEventValue(dst, e.Key, e.Value); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func appendEventValue(dst []byte, key string, v interface{}) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return bsoncore.AppendNullElement(dst, key), nil
	case string:
		return bsoncore.AppendStringElement(dst, key, v), nil
	case bool:
		return bsoncore.AppendBooleanElement(dst, key, v), nil
	case int32:
		return bsoncore.AppendInt32Element(dst, key, v), nil
	case primitive.Timestamp:
		return bsoncore.AppendTimestampElement(dst, key, v.T, v.I), nil
	case primitive.DateTime:
		return bsoncore.AppendDateTimeElement(dst, key, int64(v)), nil
	case bson.Raw:
		if v == nil {
			return bsoncore.AppendNullElement(dst, key), nil
		}
		return bsoncore.AppendDocumentElement(dst, key, v), nil
	case bson.RawValue:
		return bsoncore.AppendValueElement(dst, key, bsoncore.Value{Type: v.Type, Data: v.Value}), nil
	case bson.D:
		idx, dst := bsoncore.AppendDocumentElementStart(dst, key)
		dst, err := appendEventFields(dst, v)
		if err != nil {
			return nil, err
		}
		return bsoncore.AppendDocumentEnd(dst, idx)
	case bson.A:
		idx, dst := bsoncore.AppendArrayElementStart(dst, key)
		for i, x := range v {
			var err error
			if dst, err = appendEventValue(dst, strconv.Itoa(i), x); err != nil {
				return nil, err
			}
		}
		return bsoncore.AppendArrayEnd(dst, idx)
	}
	t, data, err := bson.MarshalValue(v)
	if err != nil {
		return nil, err
	}
	return bsoncore.AppendValueElement(dst, key, bsoncore.Value{Type: t, Data: data}), nil
}

// updateDescription is the server's description of an update, computed
// from the before and after images: the fields set (dotted paths, array
// elements by index), the fields removed, and the arrays shortened.
func updateDescription(before, after bson.Raw) bson.D {
	var d updateDiff
	d.docs("", before, after)
	if d.updated == nil {
		d.updated = bson.D{}
	}
	if d.removed == nil {
		d.removed = bson.A{}
	}
	if d.truncated == nil {
		d.truncated = bson.A{}
	}
	return bson.D{{Key: "updatedFields", Value: d.updated}, {Key: "removedFields", Value: d.removed},
		{Key: "truncatedArrays", Value: d.truncated}}
}

type updateDiff struct {
	updated   bson.D
	removed   bson.A
	truncated bson.A
}

func (d *updateDiff) docs(prefix string, before, after bson.Raw) {
	be, _ := before.Elements()
	ae, _ := after.Elements()
	old := make(map[string]bson.RawValue, len(be))
	for _, e := range be {
		old[e.Key()] = e.Value()
	}
	seen := make(map[string]bool, len(ae))
	for _, e := range ae {
		k, v := e.Key(), e.Value()
		seen[k] = true
		o, ok := old[k]
		if !ok {
			d.updated = append(d.updated, bson.E{Key: prefix + k, Value: v})
			continue
		}
		d.values(prefix+k, o, v)
	}
	for _, e := range be {
		if !seen[e.Key()] {
			d.removed = append(d.removed, prefix+e.Key())
		}
	}
}

// values records the change of the value at path from o to v.
func (d *updateDiff) values(path string, o, v bson.RawValue) {
	switch {
	case o.Type == v.Type && bytes.Equal(o.Value, v.Value):
	case o.Type == bsontype.EmbeddedDocument && v.Type == bsontype.EmbeddedDocument:
		d.docs(path+".", o.Document(), v.Document())
	case o.Type == bsontype.Array && v.Type == bsontype.Array:
		ov, _ := o.Array().Values()
		nv, _ := v.Array().Values()
		for i := range nv {
			p := path + "." + strconv.Itoa(i)
			if i < len(ov) {
				d.values(p, ov[i], nv[i])
			} else {
				d.updated = append(d.updated, bson.E{Key: p, Value: nv[i]})
			}
		}
		if len(nv) < len(ov) {
			d.truncated = append(d.truncated, bson.D{{Key: "field", Value: path}, {Key: "newSize", Value: int32(len(nv))}})
		}
	default:
		d.updated = append(d.updated, bson.E{Key: path, Value: v})
	}
}

// streamStages are the stages the server allows after $changeStream.
var streamStages = map[string]bool{
	"$match": true, "$project": true, "$addFields": true, "$set": true, "$unset": true,
	"$replaceRoot": true, "$replaceWith": true, "$redact": true,
}

// compileStreamPipeline compiles a change stream's pipeline with the
// server's checks: $changeStream itself is implicit and may not appear,
// unknown stages are unknown, and only the allowed stages may be used. It
// also returns the number of stages.
func compileStreamPipeline(cdc codec, pipeline interface{}) (*materialize.Pipeline, int, error) {
	raw, err := cdc.pipelineArray(pipeline)
	if err != nil {
		return nil, 0, err
	}
	vals, err := raw.Values()
	if err != nil {
		return nil, 0, err
	}
	var names []string
	for _, v := range vals {
		doc, ok := v.DocumentOK()
		if !ok {
			continue // CompileAggregate reports it
		}
		if els, err := doc.Elements(); err == nil && len(els) > 0 {
			name := els[0].Key()
			if name == "$changeStream" {
				return nil, 0, serverError(codeStageNotFirst, "$changeStream is only valid as the first stage in a pipeline")
			}
			names = append(names, name)
		}
	}
	p, err := materialize.CompileAggregate(raw, materialize.AggregateOptions{})
	if err != nil {
		return nil, 0, commandError(err)
	}
	for _, name := range names {
		if !streamStages[name] {
			return nil, 0, serverError(codeIllegalOperation, "%s is not permitted in a $changeStream pipeline", name)
		}
	}
	return p, len(vals), nil
}
