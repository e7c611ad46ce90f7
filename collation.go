package argon

import (
	"github.com/argon-lab/argon/materialize"
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
