package argon

import (
	"github.com/argon-lab/argon/materialize"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// collationArg parses a driver collation option with the server's rules
// (materialize.ParseCollation). nil, and {locale: "simple"}, are the
// simple collation; the returned error is the server-shaped *materialize.Error.
func collationArg(c *options.Collation) (*materialize.Collation, error) {
	if c == nil {
		return nil, nil
	}
	return materialize.ParseCollation(c.ToDocument())
}

// collationOption is c as a driver option: the inverse of collationArg
// (nil for the simple collation).
func collationOption(c *materialize.Collation) *options.Collation {
	if c == nil {
		return nil
	}
	spec := c.Spec()
	o := &options.Collation{}
	o.Locale, _ = spec.Lookup("locale").StringValueOK()
	o.CaseLevel, _ = spec.Lookup("caseLevel").BooleanOK()
	o.CaseFirst, _ = spec.Lookup("caseFirst").StringValueOK()
	if n, ok := spec.Lookup("strength").AsInt64OK(); ok {
		o.Strength = int(n)
	}
	o.NumericOrdering, _ = spec.Lookup("numericOrdering").BooleanOK()
	o.Alternate, _ = spec.Lookup("alternate").StringValueOK()
	o.MaxVariable, _ = spec.Lookup("maxVariable").StringValueOK()
	o.Normalization, _ = spec.Lookup("normalization").BooleanOK()
	o.Backwards, _ = spec.Lookup("backwards").BooleanOK()
	return o
}

// collationDoc parses a collation given as a document (a command's
// collation field) with the server's rules into a driver option; the
// simple collation is {locale: "simple"}.
func collationDoc(d bson.Raw) (*options.Collation, error) {
	c, err := materialize.ParseCollation(d)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return &options.Collation{Locale: "simple"}, nil
	}
	return collationOption(c), nil
}

// defaultCollation is the collation an operation that names none runs
// under on collection c (nil: none yet, or a view): c's default, as a
// driver option; nil for the simple collation.
func defaultCollation(c *materialize.Collection) *options.Collation {
	return collationOption(c.DefaultCollation())
}
