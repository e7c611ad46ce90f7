package argon

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/argon-lab/argon/internal/bsonutil"
	"github.com/argon-lab/argon/materialize"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsoncodec"
	"go.mongodb.org/mongo-driver/bson/bsonrw"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// This file turns the interface{} arguments of the API (filters,
// documents, updates, pipelines, sort and projection specifications) into
// BSON exactly the way the driver does (mongo.go in the driver: marshal,
// ensureID, marshalUpdateValue), so the same values are accepted and
// rejected with the same errors: bson.D, bson.M, maps, structs, bson.Raw,
// []byte and anything with a codec in the registry; nil is ErrNilDocument.

// codec is the registry and BSON options a Database or Collection encodes
// and decodes with. The zero value means the driver's defaults.
type codec struct {
	reg  *bsoncodec.Registry
	opts *options.BSONOptions
}

func (c codec) registry() *bsoncodec.Registry {
	if c.reg == nil {
		return bson.DefaultRegistry
	}
	return c.reg
}

// encoder is the driver's getEncoder.
func (c codec) encoder(buf *bytes.Buffer) (*bson.Encoder, error) {
	vw, err := bsonrw.NewBSONValueWriter(buf)
	if err != nil {
		return nil, err
	}
	enc, err := bson.NewEncoder(vw)
	if err != nil {
		return nil, err
	}
	if o := c.opts; o != nil {
		if o.ErrorOnInlineDuplicates {
			enc.ErrorOnInlineDuplicates()
		}
		if o.IntMinSize {
			enc.IntMinSize()
		}
		if o.NilByteSliceAsEmpty {
			enc.NilByteSliceAsEmpty()
		}
		if o.NilMapAsEmpty {
			enc.NilMapAsEmpty()
		}
		if o.NilSliceAsEmpty {
			enc.NilSliceAsEmpty()
		}
		if o.OmitZeroStruct {
			enc.OmitZeroStruct()
		}
		if o.StringifyMapKeysWithFmt {
			enc.StringifyMapKeysWithFmt()
		}
		if o.UseJSONStructTags {
			enc.UseJSONStructTags()
		}
	}
	if err := enc.SetRegistry(c.registry()); err != nil {
		return nil, err
	}
	return enc, nil
}

// decoder is the driver's getDecoder.
func (c codec) decoder(data []byte) (*bson.Decoder, error) {
	dec, err := bson.NewDecoder(bsonrw.NewBSONDocumentReader(data))
	if err != nil {
		return nil, err
	}
	if o := c.opts; o != nil {
		if o.AllowTruncatingDoubles {
			dec.AllowTruncatingDoubles()
		}
		if o.BinaryAsSlice {
			dec.BinaryAsSlice()
		}
		if o.DefaultDocumentD {
			dec.DefaultDocumentD()
		}
		if o.DefaultDocumentM {
			dec.DefaultDocumentM()
		}
		if o.UseJSONStructTags {
			dec.UseJSONStructTags()
		}
		if o.UseLocalTimeZone {
			dec.UseLocalTimeZone()
		}
		if o.ZeroMaps {
			dec.ZeroMaps()
		}
		if o.ZeroStructs {
			dec.ZeroStructs()
		}
	}
	if err := dec.SetRegistry(c.registry()); err != nil {
		return nil, err
	}
	return dec, nil
}

// marshal is the driver's marshal: a BSON document from val. nil is
// ErrNilDocument; []byte is taken as bson.Raw; encoding failures are
// MarshalError.
func (c codec) marshal(val interface{}) (bson.Raw, error) {
	if val == nil {
		return nil, ErrNilDocument
	}
	if bs, ok := val.([]byte); ok {
		val = bson.Raw(bs)
	}
	var buf bytes.Buffer
	enc, err := c.encoder(&buf)
	if err != nil {
		return nil, fmt.Errorf("error configuring BSON encoder: %w", err)
	}
	if err := enc.Encode(val); err != nil {
		return nil, MarshalError{Value: val, Err: err}
	}
	return bson.Raw(buf.Bytes()), nil
}

// marshalFilter turns a filter into a document. As in the driver, a nil
// filter is ErrNilDocument: use bson.D{} to match everything.
func (c codec) marshalFilter(filter interface{}) (bson.Raw, error) {
	return c.marshal(filter)
}

// marshalValue is the driver's marshalValue: any value as a BSON value.
func (c codec) marshalValue(val interface{}) (bson.RawValue, error) {
	if v, ok := val.(bsoncore.Value); ok {
		return bson.RawValue{Type: v.Type, Value: v.Data}, nil
	}
	if v, ok := val.(bson.RawValue); ok {
		return v, nil
	}
	if val == nil {
		return bson.RawValue{}, ErrNilValue
	}
	var buf bytes.Buffer
	enc, err := c.encoder(&buf)
	if err != nil {
		return bson.RawValue{}, err
	}
	if err := enc.Encode(bson.D{{Key: "", Value: val}}); err != nil {
		return bson.RawValue{}, MarshalError{Value: val, Err: err}
	}
	v := bsoncore.Document(buf.Bytes()).Index(0).Value()
	return bson.RawValue{Type: v.Type, Value: v.Data}, nil
}

// decodeValue decodes a BSON value into an interface{} the way the driver
// decodes ids it returns (InsertedID of a document that had one).
func (c codec) decodeID(doc bson.Raw) (interface{}, error) {
	var id struct {
		ID interface{} `bson:"_id"`
	}
	dec, err := c.decoder(doc)
	if err != nil {
		return nil, fmt.Errorf("error configuring BSON decoder: %w", err)
	}
	if err := dec.Decode(&id); err != nil {
		return nil, fmt.Errorf("error unmarshaling BSON document: %w", err)
	}
	return id.ID, nil
}

// rawValueInterface decodes a value with the default registry, as the
// driver decodes server replies (UpsertedID, Distinct values).
func rawValueInterface(v bson.RawValue) (interface{}, error) {
	var out interface{}
	if v.Type == 0 {
		return nil, nil
	}
	if err := v.Unmarshal(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// ensureID is the driver's ensureID: when doc has no _id, a new ObjectID is
// added as its first field. It returns the document and its _id as the
// driver returns it in InsertOneResult and InsertManyResult.
func (c codec) ensureID(doc bson.Raw) (bson.Raw, interface{}, error) {
	if _, err := doc.LookupErr("_id"); err == nil {
		id, err := c.decodeID(doc)
		if err != nil {
			return nil, nil, err
		}
		return doc, id, nil
	}
	if len(doc) < 5 {
		return nil, nil, bsoncore.NewInsufficientBytesError(doc, doc)
	}
	oid := primitive.NewObjectID()
	out := make([]byte, 0, len(doc)+17)
	_, out = bsoncore.ReserveLength(out)
	out = bsoncore.AppendObjectIDElement(out, "_id", oid)
	out = append(out, doc[4:]...)
	out = bsoncore.UpdateLength(out, 0, int32(len(out)))
	return bson.Raw(out), oid, nil
}

// isUnorderedMap is the driver's check for a map with more than one key
// where order matters.
func isUnorderedMap(val interface{}) bool {
	v := reflect.ValueOf(val)
	return v.Kind() == reflect.Map && v.Len() > 1
}

// Errors the driver returns, before sending anything, for malformed
// update and replacement documents.
const (
	errUpdateEmpty       = "update document must have at least one element"
	errUpdateNeedsDollar = "update document must contain key beginning with '$'"
	errReplacementDollar = "replacement document cannot contain keys beginning with '$'"
)

func ensureDollarKey(doc bson.Raw) error {
	elem, err := bsoncore.Document(doc).IndexErr(0)
	if err != nil {
		return errors.New(errUpdateEmpty)
	}
	if !strings.HasPrefix(elem.Key(), "$") {
		return errors.New(errUpdateNeedsDollar)
	}
	return nil
}

func ensureNoDollarKey(doc bson.Raw) error {
	if elem, err := bsoncore.Document(doc).IndexErr(0); err == nil && strings.HasPrefix(elem.Key(), "$") {
		return errors.New(errReplacementDollar)
	}
	return nil
}

// marshalUpdate is the driver's marshalUpdateValue: an update document
// (dollarKeys: operators required) or a replacement (dollarKeys false: no
// operators), or, for a slice, an aggregation pipeline (isPipeline).
func (c codec) marshalUpdate(update interface{}, dollarKeys bool) (doc bson.Raw, isPipeline bool, err error) {
	check := ensureDollarKey
	if !dollarKeys {
		check = ensureNoDollarKey
	}
	switch t := update.(type) {
	case nil:
		return nil, false, ErrNilDocument
	case primitive.D:
		d, err := c.marshal(t)
		if err != nil {
			return nil, false, err
		}
		return d, false, check(d)
	case bson.Raw:
		return t, false, check(t)
	case bsoncore.Document:
		return bson.Raw(t), false, check(bson.Raw(t))
	case []byte:
		return bson.Raw(t), false, check(bson.Raw(t))
	case bsoncodec.Marshaler:
		d, err := t.MarshalBSON()
		if err != nil {
			return nil, false, err
		}
		return bson.Raw(d), false, check(bson.Raw(d))
	case bsoncodec.ValueMarshaler:
		typ, data, err := t.MarshalBSONValue()
		if err != nil {
			return nil, false, err
		}
		switch typ {
		case bsontype.Array:
			return bson.Raw(data), true, nil
		case bsontype.EmbeddedDocument:
			return bson.Raw(data), false, nil
		}
		return nil, false, fmt.Errorf("ValueMarshaler returned a %v, but was expecting %v or %v", typ, bsontype.Array, bsontype.EmbeddedDocument)
	}
	val := reflect.ValueOf(update)
	if !val.IsValid() {
		return nil, false, fmt.Errorf("can only marshal slices and arrays into update pipelines, but got %v", val.Kind())
	}
	if val.Kind() != reflect.Slice && val.Kind() != reflect.Array {
		d, err := c.marshal(update)
		if err != nil {
			return nil, false, err
		}
		return d, false, check(d)
	}
	aidx, arr := bsoncore.AppendArrayStart(nil)
	for i := 0; i < val.Len(); i++ {
		d, err := c.marshal(val.Index(i).Interface())
		if err != nil {
			return nil, false, err
		}
		if err := check(d); err != nil {
			return nil, false, err
		}
		arr = bsoncore.AppendDocumentElement(arr, fmt.Sprint(i), d)
	}
	arr, _ = bsoncore.AppendArrayEnd(arr, aidx)
	return bson.Raw(arr), true, nil
}

// marshalPipeline checks a pipeline the way the driver's
// marshalAggregatePipeline does, so Aggregate and Watch reject the same
// arguments before reporting that they are not supported.
func (c codec) marshalPipeline(pipeline interface{}) error {
	switch t := pipeline.(type) {
	case bsoncodec.ValueMarshaler:
		typ, _, err := t.MarshalBSONValue()
		if err != nil {
			return err
		}
		if typ != bsontype.Array {
			return fmt.Errorf("ValueMarshaler returned a %v, but was expecting %v", typ, bsontype.Array)
		}
		return nil
	}
	val := reflect.ValueOf(pipeline)
	if !val.IsValid() || (val.Kind() != reflect.Slice && val.Kind() != reflect.Array) {
		return fmt.Errorf("can only marshal slices and arrays into aggregation pipelines, but got %v", val.Kind())
	}
	switch t := pipeline.(type) {
	case bson.D, bson.Raw, bsoncore.Document:
		if val.Len() > 0 {
			return fmt.Errorf("%T is not an allowed pipeline type as it represents a single document. Use bson.A or mongo.Pipeline instead", t)
		}
		return nil
	case bsoncore.Array:
		// The driver's validator panics on a length below 5.
		if err := bsonutil.Validate(t); err != nil {
			return err
		}
		return t.Validate()
	}
	for i := 0; i < val.Len(); i++ {
		if _, err := c.marshal(val.Index(i).Interface()); err != nil {
			return err
		}
	}
	return nil
}

// compileFilter marshals and compiles a filter with the default registry.
// Errors are the driver's (ErrNilDocument, MarshalError) or the server's
// (a CommandError for an invalid filter).
func compileFilter(filter interface{}) (*materialize.Filter, error) {
	return codec{}.compileFilter(filter)
}

func (c codec) compileFilter(filter interface{}) (*materialize.Filter, error) {
	raw, err := c.marshalFilter(filter)
	if err != nil {
		return nil, err
	}
	f, err := materialize.CompileFilter(raw)
	if err != nil {
		return nil, commandError(err)
	}
	return f, nil
}

// maxInsertSize is the largest document the driver sends
// (maxBsonObjectSize of every server); larger ones fail in the driver with
// driver.ErrDocumentTooLarge before anything is written.
const maxInsertSize = 16 * 1024 * 1024

// insertDocError is a statement-level failure of an inserted document,
// with the server's code and message.
func insertDocError(code int32, msg string) *materialize.Error {
	name := "BadValue"
	if code == 53 {
		name = "InvalidIdField"
	}
	return &materialize.Error{Code: code, Name: name, Message: msg}
}

// prepareInsert does to a document what the server does before it
// inserts it (fixDocumentForInsert): _id moves first; an _id that is an
// array, a regex or undefined is refused (code 2), as is a second _id;
// top-level Timestamp(0, 0) values other than _id become the current time
// unless bypassTs. doc must have an _id (ensureID added one).
func prepareInsert(doc bson.Raw, now time.Time, bypassTs bool) (bson.Raw, bson.RawValue, error) {
	elems, err := doc.Elements()
	if err != nil {
		return nil, bson.RawValue{}, insertDocError(2, "invalid BSON document: "+err.Error())
	}
	var id bson.RawValue
	idPos := -1
	zeroTs := false
	for i, e := range elems {
		k := e.Key()
		v := e.Value()
		if k == "_id" {
			if idPos >= 0 {
				return nil, bson.RawValue{}, insertDocError(2, "can't have multiple _id fields in one document")
			}
			switch v.Type {
			case bsontype.Array:
				return nil, bson.RawValue{}, insertDocError(2, "can't use an array for _id")
			case bsontype.Regex:
				return nil, bson.RawValue{}, insertDocError(2, "can't use a regex for _id")
			case bsontype.Undefined:
				return nil, bson.RawValue{}, insertDocError(2, "can't use a undefined for _id")
			case bsontype.EmbeddedDocument:
				if name, ok := dollarFieldInside(v.Document()); ok {
					return nil, bson.RawValue{}, insertDocError(53, "_id fields may not contain '$'-prefixed fields: "+name+" is not valid for storage.")
				}
			}
			id, idPos = v, i
			continue
		}
		if !bypassTs && v.Type == bsontype.Timestamp {
			if t, inc := v.Timestamp(); t == 0 && inc == 0 {
				zeroTs = true
			}
		}
	}
	if idPos < 0 {
		return nil, bson.RawValue{}, insertDocError(2, "document has no _id")
	}
	if idPos == 0 && !zeroTs {
		return doc, id, nil
	}
	out := make([]byte, 0, len(doc))
	start, out := bsoncore.ReserveLength(out)
	out = append(out, elems[idPos]...)
	var inc uint32
	for i, e := range elems {
		if i == idPos {
			continue
		}
		if v := e.Value(); !bypassTs && v.Type == bsontype.Timestamp {
			if t, n := v.Timestamp(); t == 0 && n == 0 {
				inc++
				out = bsoncore.AppendTimestampElement(out, e.Key(), uint32(now.Unix()), inc)
				continue
			}
		}
		out = append(out, e...)
	}
	out = append(out, 0)
	out = bsoncore.UpdateLength(out, start, int32(len(out)))
	return bson.Raw(out), bson.Raw(out).Lookup("_id"), nil
}

// dollarFieldInside finds a '$'-prefixed field name (DBRef fields apart)
// anywhere inside doc.
func dollarFieldInside(doc bson.Raw) (string, bool) {
	elems, err := doc.Elements()
	if err != nil {
		return "", false
	}
	for _, e := range elems {
		k := e.Key()
		if strings.HasPrefix(k, "$") && k != "$ref" && k != "$id" && k != "$db" {
			return k, true
		}
		v := e.Value()
		switch v.Type {
		case bsontype.EmbeddedDocument:
			if n, ok := dollarFieldInside(v.Document()); ok {
				return n, true
			}
		case bsontype.Array:
			if n, ok := dollarFieldInside(bson.Raw(v.Array())); ok {
				return n, true
			}
		}
	}
	return "", false
}
