package argon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Schema validation, as on the server: a collection's options may hold a
// validator (a query filter, $jsonSchema and $expr included), a
// validationLevel ("strict", the default: every insert and update is
// checked; "moderate": updates of documents that already fail are not;
// "off") and a validationAction ("error", the default: the write fails with
// code 121 DocumentValidationFailure; "warn": it is written anyway). The
// options' BypassDocumentValidation skips the check.

const codeDocumentValidationFailure = 121

// validator is a collection's compiled validation rules.
type validator struct {
	spec   bson.Raw // the validator document, for errInfo
	filter *materialize.Filter
	level  string
	action string
}

// validators caches compiled validators by their options document: a
// write checks each document against its collection's validator, and
// compiling it for every write would cost more than the check.
var validators sync.Map // string(options) → *validator (nil: none)

// collectionValidator returns the validation rules in a collection's
// options, or nil when it has none (or they are off).
func collectionValidator(c *materialize.Collection) (*validator, error) {
	if c == nil {
		return nil, nil
	}
	opts := c.Options()
	if _, err := opts.LookupErr("validator"); err != nil {
		return nil, nil // most collections: no validator, no cache lookup (which copies opts)
	}
	if v, ok := validators.Load(string(opts)); ok {
		return v.(*validator), nil
	}
	v, err := parseValidator(opts)
	if err != nil {
		return nil, err
	}
	validators.Store(string(opts), v)
	return v, nil
}

// parseValidator reads and checks validator, validationLevel and
// validationAction from collection options, with the server's errors.
func parseValidator(opts bson.Raw) (*validator, error) {
	v := &validator{level: "strict", action: "error"}
	if lv, err := opts.LookupErr("validationLevel"); err == nil {
		s, ok := lv.StringValueOK()
		if !ok || (s != "strict" && s != "moderate" && s != "off") {
			return nil, serverError(codeBadValue, "Enumeration value '%s' for field 'validationLevel' is not a valid value.", valueString(lv))
		}
		v.level = s
	}
	if av, err := opts.LookupErr("validationAction"); err == nil {
		s, ok := av.StringValueOK()
		if !ok || (s != "error" && s != "warn") {
			return nil, serverError(codeBadValue, "Enumeration value '%s' for field 'validationAction' is not a valid value.", valueString(av))
		}
		v.action = s
	}
	spec, err := opts.LookupErr("validator")
	if err != nil {
		return nil, nil
	}
	doc, ok := spec.DocumentOK()
	if !ok {
		return nil, serverError(14, "'validator' option must be an object")
	}
	if len(doc) <= 5 || v.level == "off" {
		return nil, nil // an empty validator accepts everything
	}
	// The validator compares strings with the collection's default
	// collation, as every query on the collection does.
	var collation *materialize.Collation
	if cd, ok := opts.Lookup("collation").DocumentOK(); ok {
		if collation, err = materialize.ParseCollation(cd); err != nil {
			return nil, commandError(err)
		}
	}
	f, err := materialize.CompileFilterWithOptions(doc, materialize.FilterOptions{Collation: collation})
	if err != nil {
		return nil, commandError(err)
	}
	v.spec, v.filter = doc, f
	return v, nil
}

func valueString(v bson.RawValue) string {
	if s, ok := v.StringValueOK(); ok {
		return s
	}
	return v.String()
}

// check validates the new image doc of a document whose previous image is
// before (nil for an insert).
func (v *validator) check(before, doc bson.Raw) error {
	if v == nil || v.action == "warn" {
		return nil
	}
	if v.level == "moderate" && before != nil {
		ok, err := v.filter.Match(before)
		if err != nil || !ok {
			return nil // a document that already fails may be updated
		}
	}
	ok, err := v.filter.Match(doc)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	return &validationFailure{
		err:  &materialize.Error{Code: codeDocumentValidationFailure, Name: "DocumentValidationFailure", Message: "Document failed validation"},
		info: validationInfo(doc.Lookup("_id"), v.spec),
	}
}

// validationFailure is a code 121 failure with the server's errInfo.
type validationFailure struct {
	err  *materialize.Error
	info bson.Raw
}

func (f *validationFailure) Error() string { return f.err.Error() }
func (f *validationFailure) Unwrap() error { return f.err }

// validationInfo is the errInfo of a validation failure: the failing
// document's _id and details naming the validator. The server's details
// also explain which clause failed and why; Argon reports the validator
// as a whole.
func validationInfo(id bson.RawValue, spec bson.Raw) bson.Raw {
	details := bson.D{{Key: "operatorName", Value: "$and"}, {Key: "specifiedAs", Value: spec}}
	if elems, err := spec.Elements(); err == nil && len(elems) == 1 {
		key := elems[0].Key()
		switch {
		case len(key) > 0 && key[0] == '$':
			details[0].Value = key
		case elems[0].Value().Type == bsontype.EmbeddedDocument:
			if inner, err := elems[0].Value().Document().Elements(); err == nil && len(inner) == 1 && len(inner[0].Key()) > 0 && inner[0].Key()[0] == '$' {
				details[0].Value = inner[0].Key()
			} else {
				details[0].Value = "$eq"
			}
		default:
			details[0].Value = "$eq"
		}
	}
	d := bson.D{{Key: "failingDocumentId", Value: id}, {Key: "details", Value: details}}
	raw, err := bson.Marshal(d)
	if err != nil {
		return nil
	}
	return raw
}

// errInfoFields returns the errInfo field a validation failure adds to a
// server reply, or nothing for other errors.
func errInfoFields(err error) []bson.E {
	var vf *validationFailure
	if errors.As(err, &vf) {
		return []bson.E{{Key: "errInfo", Value: vf.info}}
	}
	return nil
}

// validateNewImage checks doc (before: its previous image, nil for an
// insert) against c's validator unless bypass is set.
func validateNewImage(c *materialize.Collection, before, doc bson.Raw, bypass bool) error {
	if bypass {
		return nil
	}
	v, err := collectionValidator(c)
	if err != nil {
		return fmt.Errorf("collection validator: %w", err)
	}
	return v.check(before, doc)
}

// modifyCollection is the collMod command: it changes the validation
// options of collection name (validator, validationLevel,
// validationAction) or the definition of view name (viewOn, pipeline).
// Other collMod options return errors wrapping ErrNotSupported. The
// change is one log record, durable, per the store, when it returns.
func (db *Database) modifyCollection(ctx context.Context, name string, changes bson.Raw) error {
	if err := db.client.live(); err != nil {
		return err
	}
	if err := namespaceError(db.name, name, true); err != nil {
		return err
	}
	elems, err := changes.Elements()
	if err != nil {
		return serverError(codeFailedToParseError, "collMod: %v", err)
	}
	for _, e := range elems {
		switch e.Key() {
		case "validator", "validationLevel", "validationAction", "viewOn", "pipeline":
		default:
			return notSupported(fmt.Sprintf("collMod option %q", e.Key()))
		}
	}
	ctx, cancel := db.client.opContext(ctx)
	defer cancel()
	ns := materialize.Namespace{DB: db.name, Coll: name}
	_, err = db.client.eng.write(ctx, db.client.branch, func(st *materialize.State) ([]wal.Op, error) {
		c := st.Collection(ns)
		if c == nil {
			return nil, stateErr(serverError(codeNamespaceNotFound, "ns does not exist: %s", ns))
		}
		_, _, isView := viewDef(c)
		fields := bson.D{}
		if old, err := c.Options().Elements(); err == nil {
			for _, e := range old {
				fields = append(fields, bson.E{Key: e.Key(), Value: e.Value()})
			}
		}
		for _, e := range elems {
			view := e.Key() == "viewOn" || e.Key() == "pipeline"
			if view != isView {
				if isView {
					return nil, stateErr(serverError(codeInvalidOptions, "option not supported on a view: %s", e.Key()))
				}
				return nil, stateErr(serverError(codeInvalidOptions, "option only supported on a view: %s", e.Key()))
			}
			i := slices.IndexFunc(fields, func(f bson.E) bool { return f.Key == e.Key() })
			if i < 0 {
				fields = append(fields, bson.E{Key: e.Key(), Value: e.Value()})
			} else {
				fields[i].Value = e.Value()
			}
		}
		doc, err := bson.Marshal(fields)
		if err != nil {
			return nil, err
		}
		if isView {
			on, pipeline, _ := viewOptions(doc)
			if _, err := materialize.CompileAggregate(pipeline, materialize.AggregateOptions{}); err != nil {
				return nil, commandError(err)
			}
			if err := viewCycleError(st, db.name, name, on); err != nil {
				return nil, stateErr(err)
			}
		} else if _, err := parseValidator(doc); err != nil {
			return nil, err
		}
		return []wal.Op{{Kind: wal.OpModifyCollection, DB: ns.DB, Coll: ns.Coll, Doc: doc}}, nil
	})
	return err
}
