package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/argon-lab/argon"
	"github.com/argon-lab/argon/wal"
	"github.com/spf13/cobra"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// completeBranches completes branch names from the store (best effort).
func (a *app) completeBranches(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	c, err := a.open(ctx, needProject)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer c.Disconnect(context.Background())
	bs, err := c.ListBranches(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, b := range bs {
		if strings.HasPrefix(b.Name, toComplete) {
			out = append(out, b.Name)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// ---- projects ----

func (a *app) projectsCommand() *cobra.Command {
	create := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a project (and an embedded store directory if missing)",
		Example: "  argon projects create shop --store ./data",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.with(cmd, createStore, func(ctx context.Context, c *argon.Client) error {
				if err := c.CreateProject(ctx, args[0]); err != nil {
					return err
				}
				if a.json {
					return printJSON(a.out, map[string]string{"project": args[0]})
				}
				_, err := fmt.Fprintf(a.out, "created project %s\n", args[0])
				return err
			})
		},
	}
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the projects of the store",
		Example: "  argon projects list --json",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.with(cmd, needStore, func(ctx context.Context, c *argon.Client) error {
				ps, err := c.ListProjects(ctx)
				if err != nil {
					return err
				}
				if a.json {
					out := make([]map[string]string, len(ps))
					for i, p := range ps {
						out[i] = map[string]string{"name": p}
					}
					return printJSON(a.out, out)
				}
				t := newTable(a.out, "PROJECT")
				for _, p := range ps {
					t.row(p)
				}
				return t.flush()
			})
		},
	}
	del := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a project (soft: its log stays until garbage collection exists)",
		Example: "  argon projects delete shop",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.with(cmd, needStore, func(ctx context.Context, c *argon.Client) error {
				if err := c.DeleteProject(ctx, args[0]); err != nil {
					return err
				}
				if a.json {
					return printJSON(a.out, map[string]any{"project": args[0], "deleted": true})
				}
				_, err := fmt.Fprintf(a.out, "deleted project %s\n", args[0])
				return err
			})
		},
	}
	return group("projects", "Create, list and delete projects", "  argon projects list", create, list, del)
}

// ---- branches ----

func (a *app) branchesCommand() *cobra.Command {
	var from, at string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a branch from another one, at its head or at a past point",
		Example: `  argon branches create preview
  argon branches create before-import --from main --at 10m
  argon branches create at-42 --at 42`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validBranchName(args[0]); err != nil {
				return err
			}
			p, err := a.optionalPoint(at)
			if err != nil {
				return err
			}
			return a.with(cmd, needProject, func(ctx context.Context, c *argon.Client) error {
				b, err := c.CreateBranch(ctx, args[0], p.branchOptions().SetFrom(from))
				if err != nil {
					return err
				}
				return a.printBranchResult(ctx, c, "created branch", b)
			})
		},
	}
	create.Flags().StringVar(&from, "from", argon.DefaultBranch, "parent branch")
	create.Flags().StringVar(&at, "at", "", "fork at this LSN or time instead of the parent's head")
	_ = create.RegisterFlagCompletionFunc("from", a.completeBranches)

	var listAt string
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the live branches (now, or as they were at a point)",
		Example: "  argon branches list\n  argon branches list --json\n  argon branches list --at 2026-01-02T10:05:00Z\n  argon branches list --at 1h",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.optionalPoint(listAt)
			if err != nil {
				return err
			}
			return a.with(cmd, needProject, func(ctx context.Context, c *argon.Client) error {
				bs, err := p.view(c).ListBranches(ctx)
				if err != nil {
					return err
				}
				if a.json {
					names := branchNames(bs)
					out := make([]branchJSON, len(bs))
					for i, b := range bs {
						out[i] = toBranchJSON(b, names)
					}
					return printJSON(a.out, out)
				}
				return printBranchTable(a.out, bs, a.now())
			})
		},
	}
	list.Flags().StringVar(&listAt, "at", "", "list the branches that were live at this LSN or time, with their heads then")
	del := &cobra.Command{
		Use:               "delete NAME",
		Short:             "Delete a branch (soft: its records stay reachable for time travel)",
		Example:           "  argon branches delete preview",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeBranches,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.with(cmd, needProject, func(ctx context.Context, c *argon.Client) error {
				if err := c.DeleteBranch(ctx, args[0]); err != nil {
					return err
				}
				if a.json {
					return printJSON(a.out, map[string]any{"branch": args[0], "deleted": true})
				}
				_, err := fmt.Fprintf(a.out, "deleted branch %s\n", args[0])
				return err
			})
		},
	}
	var resetAt string
	reset := &cobra.Command{
		Use:   "reset NAME --at LSN|TIME",
		Short: "Move a branch back to an earlier point (the old state stays reachable)",
		Example: `  argon branches reset main --at 42
  argon branches reset main --at 2026-01-02T15:04:05Z
  argon branches reset preview --at 5m`,
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeBranches,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parsePoint(resetAt, a.now())
			if err != nil {
				return err
			}
			return a.with(cmd, needProject, func(ctx context.Context, c *argon.Client) error {
				b, err := c.ResetBranch(ctx, args[0], p.branchOptions())
				if err != nil {
					return err
				}
				return a.printBranchResult(ctx, c, "reset branch", b)
			})
		},
	}
	reset.Flags().StringVar(&resetAt, "at", "", "the LSN or time to go back to (required)")
	_ = reset.MarkFlagRequired("at")

	rename := &cobra.Command{
		Use:               "rename OLD NEW",
		Short:             "Rename a branch",
		Example:           "  argon branches rename preview release-1",
		Args:              exactArgs("OLD", "NEW"),
		ValidArgsFunction: a.completeBranches,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validBranchName(args[1]); err != nil {
				return err
			}
			return a.with(cmd, needProject, func(ctx context.Context, c *argon.Client) error {
				if err := c.RenameBranch(ctx, args[0], args[1]); err != nil {
					return err
				}
				if a.json {
					return printJSON(a.out, map[string]string{"from": args[0], "to": args[1]})
				}
				_, err := fmt.Fprintf(a.out, "renamed branch %s to %s\n", args[0], args[1])
				return err
			})
		},
	}
	return group("branches", "Create, list, delete, reset and rename branches", "  argon branches list",
		create, list, del, reset, rename)
}

// validBranchName checks a new branch name before the store is opened.
func validBranchName(name string) error {
	if err := wal.ValidateBranchName(name); err != nil {
		return usageErrorf("invalid %s", strings.TrimPrefix(err.Error(), "wal: invalid name: "))
	}
	return nil
}

func (a *app) optionalPoint(s string) (point, error) {
	if s == "" {
		return point{}, nil
	}
	return parsePoint(s, a.now())
}

// printBranchResult prints a created (or reset, or restored) branch.
func (a *app) printBranchResult(ctx context.Context, c *argon.Client, verb string, b argon.BranchInfo) error {
	bs, err := c.ListBranches(ctx)
	if err != nil {
		return err
	}
	names := branchNames(bs)
	names[b.ID] = b.Name
	if a.json {
		return printJSON(a.out, toBranchJSON(b, names))
	}
	_, err = fmt.Fprintf(a.out, "%s %s (id %s) from %s at LSN %d\n", verb, b.Name, b.ID, parentName(b.Parent, names), b.BaseLSN)
	return err
}

// ---- restore ----

func (a *app) restoreCommand() *cobra.Command {
	var at, lsn, as string
	cmd := &cobra.Command{
		Use:   "restore BRANCH --time T | --lsn N [--as NAME]",
		Short: "Turn a past point of a branch into a new branch",
		Long: `restore creates a new branch holding BRANCH as it was at a time or LSN, and
prints its name and the LSN it sits on. BRANCH itself is not changed (see
"argon branches reset" to move it back). The new branch is named NAME, or
BRANCH-at-LSN by default.`,
		Example: `  argon restore main --time 10m
  argon restore main --time 2026-01-02T15:04:05Z --as before-migration
  argon restore main --lsn 42`,
		Args:              exactArgs("BRANCH"),
		ValidArgsFunction: a.completeBranches,
		RunE: func(cmd *cobra.Command, args []string) error {
			var p point
			switch {
			case at != "":
				t, err := parseTime(at, a.now())
				if err != nil {
					return err
				}
				p = point{hasTime: true, time: t}
			case lsn != "":
				n, err := parseLSN(lsn)
				if err != nil {
					return err
				}
				p = point{hasLSN: true, lsn: n}
			}
			if as != "" {
				if err := wal.ValidateBranchName(as); err != nil {
					return usageErrorf("invalid --as: %v", err)
				}
			}
			return a.with(cmd, needProject, func(ctx context.Context, c *argon.Client) error {
				name := as
				if name == "" {
					l := p.lsn
					if p.hasTime {
						var err error
						if l, err = c.LSNAt(ctx, p.time); err != nil {
							return err
						}
					}
					name = fmt.Sprintf("%s-at-%d", args[0], l)
				}
				b, err := c.CreateBranch(ctx, name, p.branchOptions().SetFrom(args[0]))
				if err != nil {
					return err
				}
				if a.json {
					bs, err := c.ListBranches(ctx)
					if err != nil {
						return err
					}
					return printJSON(a.out, struct {
						branchJSON
						RestoredFrom string `json:"restoredFrom"`
						Time         string `json:"time,omitempty"`
					}{toBranchJSON(b, branchNames(bs)), args[0], rfc3339(p.time)})
				}
				when := ""
				if p.hasTime {
					when = " (" + rfc3339(p.time) + ")"
				}
				_, err = fmt.Fprintf(a.out, "restored %s%s as branch %s at LSN %d\n", args[0], when, b.Name, b.BaseLSN)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&at, "time", "", "restore the state at this time: "+timeHelp)
	cmd.Flags().StringVar(&lsn, "lsn", "", "restore the state at this LSN")
	cmd.Flags().StringVar(&as, "as", "", "name of the new branch (default BRANCH-at-LSN)")
	cmd.MarkFlagsMutuallyExclusive("time", "lsn")
	cmd.MarkFlagsOneRequired("time", "lsn")
	return cmd
}

// ---- log ----

type opJSON struct {
	Kind       string          `json:"kind"`
	Database   string          `json:"db,omitempty"`
	Collection string          `json:"coll,omitempty"`
	Name       string          `json:"name,omitempty"`
	ID         json.RawMessage `json:"id,omitempty"`
}

type recordJSON struct {
	LSN        uint64   `json:"lsn"`
	Time       string   `json:"time"`
	BranchID   string   `json:"branchId,omitempty"`
	BranchName string   `json:"branch,omitempty"`
	Ops        []opJSON `json:"ops"`
}

// summarizeOps renders a record's operations as "insert app.users ×2, ...".
func summarizeOps(ops []wal.Op) string {
	type group struct {
		what string
		n    int
	}
	var gs []group
	for _, op := range ops {
		what := op.Kind.String()
		switch {
		case op.Coll != "":
			what += " " + op.DB + "." + op.Coll
		case op.DB != "":
			what += " " + op.DB
		}
		if op.Name != "" {
			what += " " + op.Name
		}
		if len(gs) > 0 && gs[len(gs)-1].what == what {
			gs[len(gs)-1].n++
			continue
		}
		gs = append(gs, group{what, 1})
	}
	if len(ops) == 1 && ops[0].ID.Type != 0 {
		return gs[0].what + " _id " + string(extJSONValue(ops[0].ID))
	}
	parts := make([]string, 0, len(gs))
	for i, g := range gs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("... (%d ops in all)", len(ops)))
			break
		}
		if g.n > 1 {
			parts = append(parts, fmt.Sprintf("%s ×%d", g.what, g.n))
		} else {
			parts = append(parts, g.what)
		}
	}
	return strings.Join(parts, ", ")
}

func (a *app) logCommand() *cobra.Command {
	var branch, since, before string
	var limit int
	cmd := &cobra.Command{
		Use:   "log [--branch B] [--since T] [--limit N]",
		Short: "Show a branch's history, newest first",
		Long: `log lists the records a branch sees, newest first: its own records and,
below its fork point, its parent's. Times are the records' commit times.
Page with --before (the last LSN of the previous page).`,
		Example: `  argon log
  argon log --branch preview --since 1h --limit 20
  argon log --json --before 120`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			ho := argon.NewHistoryOptions().SetLimit(limit)
			if limit <= 0 {
				return usageErrorf("invalid --limit %d: want a positive number", limit)
			}
			if since != "" {
				t, err := parseTime(since, a.now())
				if err != nil {
					return err
				}
				ho.SetSince(t)
			}
			if before != "" {
				n, err := parseLSN(before)
				if err != nil {
					return err
				}
				ho.SetBefore(n)
			}
			return a.with(cmd, needProject, func(ctx context.Context, c *argon.Client) error {
				recs, err := c.WithBranch(branch).History(ctx, ho)
				if err != nil {
					return err
				}
				// Branch ids to names: live branches by their name.
				bs, err := c.ListBranches(ctx)
				if err != nil {
					return err
				}
				names := branchNames(bs)
				if a.json {
					out := make([]recordJSON, len(recs))
					for i, r := range recs {
						ops := make([]opJSON, len(r.Ops))
						for j, op := range r.Ops {
							ops[j] = opJSON{Kind: op.Kind.String(), Database: op.DB, Collection: op.Coll, Name: op.Name, ID: extJSONValue(op.ID)}
						}
						out[i] = recordJSON{LSN: uint64(r.LSN), Time: rfc3339(r.Time), BranchID: r.Branch, BranchName: names[r.Branch], Ops: ops}
					}
					return printJSON(a.out, out)
				}
				now := a.now()
				t := newTable(a.out, "LSN", "TIME", "BRANCH", "OPERATIONS")
				for _, r := range recs {
					b := parentName(r.Branch, names)
					if b == "" {
						b = "(project)"
					}
					t.row(fmt.Sprint(r.LSN), humanTime(r.Time, now), b, summarizeOps(r.Ops))
				}
				return t.flush()
			})
		},
	}
	cmd.Flags().StringVar(&branch, "branch", argon.DefaultBranch, "branch")
	cmd.Flags().StringVar(&since, "since", "", "only records committed at or after this time: "+timeHelp)
	cmd.Flags().StringVar(&before, "before", "", "only records below this LSN (for paging)")
	cmd.Flags().IntVar(&limit, "limit", argon.DefaultHistoryLimit, "at most this many records")
	_ = cmd.RegisterFlagCompletionFunc("branch", a.completeBranches)
	return cmd
}

// ---- diff ----

type changeJSON struct {
	Kind       string          `json:"kind"`
	Database   string          `json:"db"`
	Collection string          `json:"coll"`
	ID         json.RawMessage `json:"id"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
}

func (a *app) diffCommand() *cobra.Command {
	var db, coll string
	cmd := &cobra.Command{
		Use:   "diff A[@LSN|@TIME] B[@LSN|@TIME]",
		Short: "Compare two branches, or two points of branches, document by document",
		Long: `diff compares what A sees with what B sees, per collection in namespace
order and documents in _id order: "+" a document only in B, "-" only in A,
"~" in both with different content. A point after "@" is an LSN or a time
(RFC 3339 or a duration ago, e.g. main@10m).`,
		Example: `  argon diff main preview
  argon diff main@10m main
  argon diff main@42 main --db app --collection users --json`,
		Args: exactArgs("A", "B"),
		RunE: func(cmd *cobra.Command, args []string) error {
			now := a.now()
			ra, err := parseRef(args[0], now)
			if err != nil {
				return err
			}
			rb, err := parseRef(args[1], now)
			if err != nil {
				return err
			}
			do := argon.NewDiffOptions()
			if db != "" {
				do.SetDatabase(db)
			}
			if coll != "" {
				do.SetCollection(coll)
			}
			return a.with(cmd, needProject, func(ctx context.Context, c *argon.Client) error {
				va := ra.at.view(c.WithBranch(ra.branch))
				vb := rb.at.view(c.WithBranch(rb.branch))
				s, err := va.Diff(ctx, vb, do)
				if err != nil {
					return err
				}
				defer s.Close(context.Background())
				counts := map[argon.ChangeKind]int{}
				var changes []changeJSON
				for s.Next(ctx) {
					ch := s.Change()
					counts[ch.Kind]++
					if a.json {
						changes = append(changes, changeJSON{Kind: ch.Kind.String(), Database: ch.Database, Collection: ch.Collection,
							ID: extJSONValue(ch.ID), Before: extJSON(ch.Before), After: extJSON(ch.After)})
						continue
					}
					ns := ch.Database + "." + ch.Collection
					switch ch.Kind {
					case argon.Added:
						fmt.Fprintf(a.out, "+ %s %s\n", ns, extJSON(ch.After))
					case argon.Removed:
						fmt.Fprintf(a.out, "- %s %s\n", ns, extJSON(ch.Before))
					default:
						fmt.Fprintf(a.out, "~ %s %s\n    before: %s\n    after:  %s\n", ns, extJSONValue(ch.ID), extJSON(ch.Before), extJSON(ch.After))
					}
				}
				if err := s.Err(); err != nil {
					return err
				}
				if a.json {
					if changes == nil {
						changes = []changeJSON{}
					}
					return printJSON(a.out, map[string]any{"from": ra.String(), "to": rb.String(), "added": counts[argon.Added],
						"removed": counts[argon.Removed], "changed": counts[argon.Changed], "changes": changes})
				}
				_, err = fmt.Fprintf(a.out, "%s → %s: %d added, %d removed, %d changed\n", ra, rb,
					counts[argon.Added], counts[argon.Removed], counts[argon.Changed])
				return err
			})
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "only this database")
	cmd.Flags().StringVar(&coll, "collection", "", "only collections with this name")
	cmd.ValidArgsFunction = a.completeBranches
	return cmd
}

// ---- find ----

// parseExtJSONDoc parses an Extended JSON document given on the command line.
func parseExtJSONDoc(what, s string) (bson.Raw, error) {
	var d bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		return nil, usageErrorf("invalid %s %q: not an Extended JSON document: %v", what, s, err)
	}
	return d, nil
}

func (a *app) findCommand() *cobra.Command {
	var branch, at, sortSpec, projection string
	var limit int64
	cmd := &cobra.Command{
		Use:   "find DB.COLL [FILTER]",
		Short: "Query a collection on a branch, now or at a past point",
		Long: `find runs a query on DB.COLL of a branch. FILTER, --sort and --projection are
MongoDB Extended JSON documents; documents are printed as relaxed Extended
JSON, one per line (with --json, as one JSON array).`,
		Example: `  argon find app.users
  argon find app.users '{"age": {"$gte": 18}}' --sort '{"age": -1}' --limit 10
  argon find app.users '{"_id": {"$oid": "650000000000000000000001"}}' --branch preview --at 10m`,
		Args: rangeArgs(1, 2, "DB.COLL and an optional FILTER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dbName, collName, err := parseNamespace(args[0])
			if err != nil {
				return err
			}
			var f any = bson.D{}
			if len(args) == 2 {
				if f, err = parseExtJSONDoc("filter", args[1]); err != nil {
					return err
				}
			}
			fo := options.Find()
			if sortSpec != "" {
				s, err := parseExtJSONDoc("--sort", sortSpec)
				if err != nil {
					return err
				}
				fo.SetSort(s)
			}
			if projection != "" {
				p, err := parseExtJSONDoc("--projection", projection)
				if err != nil {
					return err
				}
				fo.SetProjection(p)
			}
			if limit < 0 {
				return usageErrorf("invalid --limit %d: want 0 (no limit) or more", limit)
			}
			if limit > 0 {
				fo.SetLimit(limit)
			}
			p, err := a.optionalPoint(at)
			if err != nil {
				return err
			}
			return a.with(cmd, needProject, func(ctx context.Context, c *argon.Client) error {
				v := p.view(c.WithBranch(branch))
				cur, err := v.Database(dbName).Collection(collName).Find(ctx, f, fo)
				if err != nil {
					return err
				}
				defer cur.Close(context.Background())
				var docs []json.RawMessage
				for cur.Next(ctx) {
					d := extJSON(cur.Current)
					if a.json {
						docs = append(docs, d)
						continue
					}
					if _, err := fmt.Fprintf(a.out, "%s\n", d); err != nil {
						return err
					}
				}
				if err := cur.Err(); err != nil {
					return err
				}
				if a.json {
					if docs == nil {
						docs = []json.RawMessage{}
					}
					return printJSON(a.out, docs)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&branch, "branch", argon.DefaultBranch, "branch")
	cmd.Flags().StringVar(&at, "at", "", "read the branch as it was at this LSN or time")
	cmd.Flags().StringVar(&sortSpec, "sort", "", `sort document, e.g. '{"age": -1}'`)
	cmd.Flags().StringVar(&projection, "projection", "", `projection document, e.g. '{"name": 1}'`)
	cmd.Flags().Int64Var(&limit, "limit", 0, "at most this many documents (0: no limit)")
	_ = cmd.RegisterFlagCompletionFunc("branch", a.completeBranches)
	return cmd
}

// ---- status ----

func (a *app) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "status",
		Short:   "Show the store, the project, its head LSN and time, log size, newest checkpoint, and branches",
		Example: "  argon status\n  argon status --json --project shop",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.with(cmd, needProject, func(ctx context.Context, c *argon.Client) error {
				head, headTime, err := c.Head(ctx)
				if err != nil {
					return err
				}
				horizon, err := c.RetentionHorizon(ctx)
				if err != nil {
					return err
				}
				logBytes, logShared, err := c.LogSize(ctx)
				if err != nil {
					return err
				}
				ckpts, err := c.Checkpoints(ctx)
				if err != nil && !errors.Is(err, argon.ErrNoCheckpoints) {
					return err
				}
				bs, err := c.ListBranches(ctx)
				if err != nil {
					return err
				}
				kind := "directory"
				if isURI(a.store) {
					kind = "mongodb"
				}
				if a.json {
					names := branchNames(bs)
					out := make([]branchJSON, len(bs))
					for i, b := range bs {
						out[i] = toBranchJSON(b, names)
					}
					m := map[string]any{"store": storeDisplay(a.store), "storeKind": kind, "project": a.project,
						"headLsn": uint64(head), "headTime": rfc3339(headTime), "retentionHorizonLsn": uint64(horizon),
						"logBytes": logBytes, "logBytesAllProjects": logShared, "branches": out}
					if kind == "mongodb" {
						m["logDatabase"] = a.logDB
					}
					if len(ckpts) > 0 {
						m["checkpointLsn"], m["checkpointTime"] = uint64(ckpts[0].LSN), rfc3339(ckpts[0].Time)
					}
					return printJSON(a.out, m)
				}
				fmt.Fprintf(a.out, "store:    %s (%s)\n", storeDisplay(a.store), kind)
				if kind == "mongodb" {
					fmt.Fprintf(a.out, "log db:   %s\n", a.logDB)
				}
				fmt.Fprintf(a.out, "project:  %s\nhead LSN: %d\nhead at:  %s\n", a.project, head, humanTime(headTime, a.now()))
				if horizon > 0 {
					fmt.Fprintf(a.out, "retained: from LSN %d (older points are past retention)\n", horizon)
				}
				if logShared {
					fmt.Fprintf(a.out, "log size: %s (the log collection, every project)\n", byteSize(logBytes))
				} else {
					fmt.Fprintf(a.out, "log size: %s\n", byteSize(logBytes))
				}
				if len(ckpts) > 0 {
					// Its age is that of the newest record it includes.
					fmt.Fprintf(a.out, "checkpoint: LSN %d, %s\n", ckpts[0].LSN, humanTime(ckpts[0].Time, a.now()))
				} else {
					fmt.Fprintf(a.out, "checkpoint: none (a new process replays the whole log)\n")
				}
				fmt.Fprintf(a.out, "branches: %d\n\n", len(bs))
				return printBranchTable(a.out, bs, a.now())
			})
		},
	}
}

// byteSize formats n bytes in binary units (1.5 MiB).
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
