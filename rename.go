package argon

import (
	"context"
	"strings"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// cmdRenameCollection is the renameCollection command, run against the
// admin database as on the server:
// {renameCollection: "db.from", to: "db.to", dropTarget: bool}. The
// collection moves with its documents, indexes and options, across
// databases too, in one log record on the client's branch; with
// dropTarget an existing target is replaced in that same record.
func cmdRenameCollection(ctx context.Context, c *command) (bson.D, error) {
	if c.db.name != "admin" {
		return nil, cmdError(13, "Unauthorized", "renameCollection may only be run against the admin database.")
	}
	if err := c.check("to", "dropTarget", "stayTemp"); err != nil {
		return nil, err
	}
	from, ok := c.arg.StringValueOK()
	if !ok || c.arg.Type != bsontype.String {
		return nil, c.wrongType("renameCollection", c.arg, "string")
	}
	to, ok, err := c.str("to")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, c.missing("to")
	}
	dropTarget, _, err := c.boolean("dropTarget")
	if err != nil {
		return nil, err
	}
	src, err := renameNamespace(from)
	if err != nil {
		return nil, err
	}
	dst, err := renameNamespace(to)
	if err != nil {
		return nil, err
	}
	if err := noTransaction(ctx, "renameCollection"); err != nil {
		return nil, err
	}
	client := c.db.client
	ctx, cancel := client.opContext(ctx)
	defer cancel()
	_, err = client.eng.write(ctx, client.branch, func(st *materialize.State) ([]wal.Op, error) {
		sc := st.Collection(src)
		if sc == nil {
			return nil, stateErr(serverError(codeNamespaceNotFound, "Source collection %s does not exist", src))
		}
		if src == dst {
			return nil, stateErr(serverError(codeIllegalOperation, "Can't rename a collection to itself"))
		}
		if _, _, isView := viewDef(sc); isView {
			return nil, stateErr(serverError(codeCommandNotSupportedOnView, "Namespace %s is a view, not a collection", src))
		}
		desc := bson.D{{Key: "to", Value: dst.String()}}
		if tc := st.Collection(dst); tc != nil {
			if !dropTarget {
				return nil, stateErr(serverError(codeNamespaceExists, "target namespace exists"))
			}
			if _, _, isView := viewDef(tc); isView {
				return nil, stateErr(serverError(codeCommandNotSupportedOnView, "Namespace %s is a view, not a collection", dst))
			}
			desc = append(desc, bson.E{Key: "dropTarget", Value: true})
		}
		doc, err := bson.Marshal(desc)
		if err != nil {
			return nil, err
		}
		return []wal.Op{{Kind: wal.OpRenameCollection, DB: src.DB, Coll: src.Coll, Doc: doc}}, nil
	})
	if err != nil {
		return nil, commandError(err)
	}
	return bson.D{{Key: "ok", Value: 1.0}}, nil
}

// renameNamespace parses a "db.collection" argument of renameCollection.
func renameNamespace(s string) (materialize.Namespace, error) {
	db, coll, ok := strings.Cut(s, ".")
	if !ok || db == "" || coll == "" {
		return materialize.Namespace{}, serverError(codeInvalidNamespace, "Invalid namespace specified '%s'", s)
	}
	if err := namespaceError(db, coll, true); err != nil {
		return materialize.Namespace{}, err
	}
	return materialize.Namespace{DB: db, Coll: coll}, nil
}
