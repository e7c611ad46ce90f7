package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/argon-lab/argon"
	"github.com/argon-lab/argon/wal"
	"github.com/spf13/cobra"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// importStats is the --json shape of argon import.
type importStats struct {
	From        string  `json:"from"`
	Database    string  `json:"db"`
	Branch      string  `json:"branch"`
	Collections int     `json:"collections"`
	Documents   int64   `json:"documents"`
	Indexes     int     `json:"indexes"`
	Seconds     float64 `json:"seconds"` // measured wall time of the copy
}

func (a *app) importCommand() *cobra.Command {
	var from, srcDB, toDB, branch string
	var batch int
	cmd := &cobra.Command{
		Use:   "import --from mongodb://... --db DB [--as DB] [--branch B] [--batch N]",
		Short: "Copy a database of a MongoDB deployment into a branch",
		Long: `import reads every collection of the database DB of a plain MongoDB
deployment (--from) with the driver and writes its documents into the
branch (default main) of the project through Argon, in batches of --batch
documents (one log record each), then creates the collections' indexes.
The target collections must be empty on the branch. A progress line is shown
on stderr when it is a terminal. If the copy fails midway, the batches
already written stay, and the error says how to reset the branch to where it
was before the import.`,
		Example: `  argon import --from mongodb://localhost:27017 --db shop
  argon import --from mongodb://prod.example/?readPreference=secondary --db shop --as shop_copy --branch staging`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if batch <= 0 {
				return usageErrorf("invalid --batch %d: want a positive number", batch)
			}
			if toDB == "" {
				toDB = srcDB
			}
			if err := wal.ValidateDatabaseName(srcDB); err != nil {
				return usageErrorf("invalid --db: %v", err)
			}
			if err := wal.ValidateDatabaseName(toDB); err != nil {
				return usageErrorf("invalid --as: %v", err)
			}
			if !isURI(from) {
				return usageErrorf("invalid --from %q: want a mongodb:// URI", from)
			}
			co := options.Client().ApplyURI(from)
			if err := co.Validate(); err != nil {
				return usageErrorf("invalid --from %s: %v", storeDisplay(from), err)
			}
			if co.ServerSelectionTimeout == nil {
				co.SetServerSelectionTimeout(serverSelectionTimeout)
			}
			return a.with(cmd, needProject, func(ctx context.Context, c *argon.Client) error {
				src, err := mongo.Connect(ctx, co)
				if err != nil {
					return fmt.Errorf("cannot connect to %s: %w", storeDisplay(from), err)
				}
				defer src.Disconnect(context.Background())
				startLSN, err := c.HeadLSN(ctx)
				if err != nil {
					return err
				}
				st, err := a.importDB(ctx, src.Database(srcDB), c.WithBranch(branch).Database(toDB), batch)
				if err != nil {
					if head, herr := c.HeadLSN(ctx); herr == nil && head != startLSN {
						return fmt.Errorf("%w; what was written stays on the branch: undo it with argon branches reset %s --at %d", err, branch, startLSN)
					}
					return err
				}
				st.From, st.Branch = storeDisplay(from), branch
				if a.json {
					return printJSON(a.out, st)
				}
				_, err = fmt.Fprintf(a.out, "imported %d collections, %d documents, %d indexes from %s.%s into %s on branch %s in %.3fs\n",
					st.Collections, st.Documents, st.Indexes, st.From, srcDB, toDB, branch, st.Seconds)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "source MongoDB URI (required)")
	cmd.Flags().StringVar(&srcDB, "db", "", "source database (required)")
	cmd.Flags().StringVar(&toDB, "as", "", "target database name (default: the source's)")
	cmd.Flags().StringVar(&branch, "branch", argon.DefaultBranch, "target branch")
	cmd.Flags().IntVar(&batch, "batch", 1000, "documents per write")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("db")
	_ = cmd.RegisterFlagCompletionFunc("branch", a.completeBranches)
	return cmd
}

// progress prints a rewritten progress line on a terminal, nothing
// elsewhere.
type progress struct {
	w    io.Writer
	on   bool
	last time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) show(force bool, format string, args ...any) {
	if !p.on || (!force && time.Since(p.last) < 200*time.Millisecond) {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r\033[K"+format, args...)
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (a *app) importDB(ctx context.Context, src *mongo.Database, dst *argon.Database, batch int) (importStats, error) {
	start := time.Now()
	st := importStats{Database: dst.Name()}
	names, err := src.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return st, fmt.Errorf("listing the collections of %s: %w", src.Name(), err)
	}
	var colls []string
	for _, n := range names {
		if !strings.HasPrefix(n, "system.") {
			colls = append(colls, n)
		}
	}
	// Refuse before writing anything if a target is not empty.
	for _, n := range colls {
		cnt, err := dst.Collection(n).CountDocuments(ctx, bson.D{}, options.Count().SetLimit(1))
		if err != nil {
			return st, err
		}
		if cnt > 0 {
			return st, fmt.Errorf("target collection %s.%s is not empty on the branch; nothing imported", dst.Name(), n)
		}
	}
	p := newProgress(a.errOut)
	defer p.done()
	for _, n := range colls {
		cur, err := src.Collection(n).Find(ctx, bson.D{}, options.Find().SetBatchSize(int32(min(batch, 1<<20))))
		if err != nil {
			return st, fmt.Errorf("reading %s.%s: %w", src.Name(), n, err)
		}
		docs := make([]any, 0, batch)
		flush := func() error {
			if len(docs) == 0 {
				return nil
			}
			if _, err := dst.Collection(n).InsertMany(ctx, docs); err != nil {
				return fmt.Errorf("writing %s.%s: %w", dst.Name(), n, err)
			}
			st.Documents += int64(len(docs))
			docs = docs[:0]
			p.show(false, "importing %s.%s: %d documents in all", dst.Name(), n, st.Documents)
			return nil
		}
		for cur.Next(ctx) {
			docs = append(docs, bson.Raw(append([]byte(nil), cur.Current...)))
			if len(docs) == batch {
				if err := flush(); err != nil {
					cur.Close(context.Background())
					return st, err
				}
			}
		}
		err = cur.Err()
		cur.Close(context.Background())
		if err != nil {
			return st, fmt.Errorf("reading %s.%s: %w", src.Name(), n, err)
		}
		if err := flush(); err != nil {
			return st, err
		}
		// An empty source collection still exists in the copy.
		if err := dst.CreateCollection(ctx, n); err != nil && !isNamespaceExists(err) {
			return st, fmt.Errorf("creating %s.%s: %w", dst.Name(), n, err)
		}
		nidx, err := copyIndexes(ctx, src.Collection(n), dst.Collection(n))
		if err != nil {
			return st, err
		}
		st.Indexes += nidx
		st.Collections++
		p.show(true, "imported %s.%s: %d documents in all", dst.Name(), n, st.Documents)
	}
	st.Seconds = time.Since(start).Seconds()
	return st, nil
}

func isNamespaceExists(err error) bool {
	var ce argon.CommandError
	if ok := asCommandError(err, &ce); ok {
		return ce.Code == 48
	}
	return false
}

// copyIndexes creates the source's secondary indexes (key, name, unique,
// sparse, partialFilterExpression, expireAfterSeconds) on the target.
func copyIndexes(ctx context.Context, src *mongo.Collection, dst *argon.Collection) (int, error) {
	cur, err := src.Indexes().List(ctx)
	if err != nil {
		return 0, fmt.Errorf("listing the indexes of %s: %w", src.Name(), err)
	}
	defer cur.Close(context.Background())
	var models []argon.IndexModel
	for cur.Next(ctx) {
		spec := cur.Current
		name, _ := spec.Lookup("name").StringValueOK()
		if name == "_id_" {
			continue
		}
		keys, ok := spec.Lookup("key").DocumentOK()
		if !ok {
			continue
		}
		o := options.Index().SetName(name)
		if v, ok := spec.Lookup("unique").BooleanOK(); ok {
			o.SetUnique(v)
		}
		if v, ok := spec.Lookup("sparse").BooleanOK(); ok {
			o.SetSparse(v)
		}
		if v, ok := spec.Lookup("partialFilterExpression").DocumentOK(); ok {
			o.SetPartialFilterExpression(v)
		}
		if v, ok := spec.Lookup("expireAfterSeconds").AsInt64OK(); ok {
			o.SetExpireAfterSeconds(int32(v))
		}
		models = append(models, argon.IndexModel{Keys: keys, Options: o})
	}
	if err := cur.Err(); err != nil {
		return 0, err
	}
	if len(models) == 0 {
		return 0, nil
	}
	if _, err := dst.Indexes().CreateMany(ctx, models); err != nil {
		return 0, fmt.Errorf("creating the indexes of %s: %w", dst.Name(), err)
	}
	return len(models), nil
}

func asCommandError(err error, target *argon.CommandError) bool {
	return errors.As(err, target)
}
