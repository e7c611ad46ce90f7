package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/argon-lab/argon"
	"github.com/spf13/cobra"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Environment variables that give the global flags their defaults.
const (
	envStore   = "ARGON_STORE"
	envProject = "ARGON_PROJECT"
	envLogDB   = "ARGON_LOG_DB"
)

// serverSelectionTimeout bounds how long a mongodb:// store may take to
// answer when the URI does not say (serverSelectionTimeoutMS).
const serverSelectionTimeout = 10 * time.Second

// app holds one invocation's flags and outputs.
type app struct {
	out, errOut io.Writer
	getenv      func(string) string
	now         func() time.Time

	store   string
	project string
	logDB   string
	json    bool
}

func (a *app) envOr(name, def string) string {
	if v := a.getenv(name); v != "" {
		return v
	}
	return def
}

// resolve fills the global flags not given from the environment, then
// the defaults.
func (a *app) resolve() {
	if a.store == "" {
		a.store = a.getenv(envStore)
	}
	if a.project == "" {
		a.project = a.envOr(envProject, argon.DefaultProject)
	}
	if a.logDB == "" {
		a.logDB = a.envOr(envLogDB, argon.DefaultLogDB)
	}
}

// isURI reports whether the store is a MongoDB deployment.
func isURI(store string) bool {
	return strings.HasPrefix(store, "mongodb://") || strings.HasPrefix(store, "mongodb+srv://")
}

// storeDisplay is the store without a password.
func storeDisplay(store string) string {
	if !isURI(store) {
		return store
	}
	u, err := url.Parse(store)
	if err != nil {
		return "mongodb://<unparsable URI>"
	}
	return u.Redacted()
}

// openMode says what open may create.
type openMode int

const (
	// needProject: the store and the project must exist.
	needProject openMode = iota
	// needStore: the store must exist (any project).
	needStore
	// createStore: an embedded store directory is created if missing.
	createStore
)

// open connects to the store, on the --project project. The TTL monitor is
// off: the CLI never writes anything its command does not ask for.
func (a *app) open(ctx context.Context, mode openMode) (*argon.Client, error) {
	a.resolve()
	if a.store == "" {
		return nil, usageErrorf("no store: pass --store DIR|mongodb://... or set %s", envStore)
	}
	aopts := &argon.Options{Project: a.project, LogDatabase: a.logDB, TTLInterval: -1}
	var (
		c   *argon.Client
		err error
	)
	if isURI(a.store) {
		co := options.Client().ApplyURI(a.store)
		if err := co.Validate(); err != nil {
			return nil, usageErrorf("invalid store URI %s: %v", storeDisplay(a.store), err)
		}
		if co.ServerSelectionTimeout == nil {
			co.SetServerSelectionTimeout(serverSelectionTimeout)
		}
		c, err = argon.ConnectWithOptions(ctx, aopts, co)
		if err != nil {
			return nil, failed(fmt.Errorf("cannot open store %s: %w", storeDisplay(a.store), err))
		}
	} else {
		st, err := os.Stat(a.store)
		switch {
		case errors.Is(err, fs.ErrNotExist) && mode == createStore:
			if err := os.MkdirAll(a.store, 0o755); err != nil {
				return nil, failed(fmt.Errorf("cannot create store directory: %w", err))
			}
		case errors.Is(err, fs.ErrNotExist):
			return nil, failed(fmt.Errorf("store directory %q does not exist (argon projects create NAME creates it)", a.store))
		case err != nil:
			return nil, failed(fmt.Errorf("cannot open store: %w", err))
		case !st.IsDir():
			return nil, failed(fmt.Errorf("store %q is not a directory", a.store))
		}
		c, err = argon.Open(ctx, a.store, aopts)
		if err != nil {
			return nil, failed(fmt.Errorf("cannot open store %q: %w", a.store, err))
		}
	}
	if mode == needProject {
		ps, err := c.ListProjects(ctx)
		if err != nil {
			_ = c.Disconnect(context.Background())
			return nil, failed(err)
		}
		if !slices.Contains(ps, a.project) {
			_ = c.Disconnect(context.Background())
			return nil, failed(fmt.Errorf("%w: %q in store %s (argon projects list shows the projects)", argon.ErrProjectNotFound, a.project, storeDisplay(a.store)))
		}
	}
	return c, nil
}

// with opens the store, runs fn and disconnects; fn's errors exit with 1
// unless they are usage errors.
func (a *app) with(cmd *cobra.Command, mode openMode, fn func(ctx context.Context, c *argon.Client) error) error {
	ctx := cmd.Context()
	c, err := a.open(ctx, mode)
	if err != nil {
		return err
	}
	err = fn(ctx, c)
	if derr := c.Disconnect(context.Background()); err == nil && derr != nil {
		err = fmt.Errorf("closing the store: %w", derr)
	}
	return failed(err)
}

// rootCommand builds the command tree.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "argon",
		Short: "Branches, history and time travel for Argon stores",
		Long: `argon manages an Argon store: an embedded store directory or a MongoDB
deployment (mongodb://...) that holds the log. Every command works in one
project (--project, default "default"); commands that read or write data
take --branch (default "main").

Points in history are an LSN (a number), an RFC 3339 time
(2026-01-02T15:04:05Z) or a duration ago (90s, 10m, 2h, 3d).

Exit codes: 0 success, 1 the operation failed, 2 usage error.`,
		Example: `  export ARGON_STORE=./data
  argon status
  argon branches create preview
  argon find app.users '{"age": {"$gte": 18}}' --branch preview`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v (see %s --help)", err, c.CommandPath())
	})
	pf := root.PersistentFlags()
	// Environment defaults are applied after parsing (resolve), so --help
	// never prints a URI's password.
	pf.StringVar(&a.store, "store", "", "embedded store directory or mongodb:// URI (env "+envStore+")")
	pf.StringVar(&a.project, "project", "", `project (env `+envProject+`, default "`+argon.DefaultProject+`")`)
	pf.StringVar(&a.logDB, "log-db", "", `MongoDB database that holds the log, for mongodb:// stores (env `+envLogDB+`, default "`+argon.DefaultLogDB+`")`)
	pf.BoolVar(&a.json, "json", false, "print JSON for scripts instead of tables")

	root.AddCommand(a.projectsCommand(), a.branchesCommand(), a.restoreCommand(), a.logCommand(),
		a.diffCommand(), a.findCommand(), a.statusCommand(), a.importCommand(), a.gcCommand())
	return root
}

// group is a command that only holds subcommands.
func group(use, short, example string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q for %q (see %s --help)", args[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	g.AddCommand(subs...)
	return g
}

// exactArgs is cobra.ExactArgs with the argument names in the message.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageErrorf("%s needs %d argument(s) (%s), got %d (see %s --help)",
				cmd.CommandPath(), len(names), strings.Join(names, " "), len(args), cmd.CommandPath())
		}
		return nil
	}
}

func rangeArgs(lo, hi int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usageErrorf("%s takes %s, got %d argument(s) (see %s --help)", cmd.CommandPath(), names, len(args), cmd.CommandPath())
		}
		return nil
	}
}
