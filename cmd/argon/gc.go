package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/argon-lab/argon"
	"github.com/spf13/cobra"
)

// gcProjectJSON is the --json shape of one project's collection.
type gcProjectJSON struct {
	Project         string   `json:"project"`
	HorizonLSN      uint64   `json:"horizonLsn"`
	HorizonTime     string   `json:"horizonTime,omitempty"`
	CollectLSN      uint64   `json:"collectLsn,omitempty"`
	BranchesPurged  []string `json:"branchesPurged"`
	BranchesTrimmed []string `json:"branchesTrimmed"`
	Records         int      `json:"records"`
	Bytes           int64    `json:"bytes"`
}

// gcJSON is the --json shape of argon gc.
type gcJSON struct {
	DryRun    bool            `json:"dryRun"`
	Retention string          `json:"retention,omitempty"` // as given; default the library's
	Seconds   float64         `json:"seconds"`             // measured wall time
	Projects  []gcProjectJSON `json:"projects"`
}

func (a *app) gcCommand() *cobra.Command {
	var dryRun, all bool
	var retention string
	cmd := &cobra.Command{
		Use:   "gc [--dry-run] [--retention D] [--all-projects]",
		Short: "Remove log records that deleted branches and projects no longer need",
		Long: `gc removes the records of branches deleted more than the retention window
ago (default 7 days) that no live branch still needs, and of projects deleted
more than the window ago (--all-projects). Live branches keep their whole
history; afterwards points older than the window can no longer be read or
branched from. Removed records become tombstones: LSNs stay dense.

--dry-run reports what would be removed and changes nothing. A progress line
is shown on stderr when it is a terminal.`,
		Example: `  argon gc --dry-run
  argon gc
  argon gc --retention 30d --all-projects --json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := argon.GC().SetDryRun(dryRun)
			if retention != "" {
				d, err := parseAgo(retention)
				if err != nil {
					return usageErrorf("invalid --retention %q: want a duration such as 36h or 7d", retention)
				}
				opts.SetRetention(d)
			}
			mode := needProject
			if all {
				mode = needStore
			}
			return a.with(cmd, mode, func(ctx context.Context, c *argon.Client) error {
				p := newProgress(a.errOut)
				defer p.done()
				opts.SetProgress(func(done, total int) {
					p.show(done == total, "removing records: %d of %d", done, total)
				})
				start := time.Now()
				var reps []argon.GCReport
				var err error
				if all {
					reps, err = c.GarbageCollectAll(ctx, opts)
				} else {
					var rep argon.GCReport
					if rep, err = c.GarbageCollect(ctx, opts); err == nil {
						reps = []argon.GCReport{rep}
					}
				}
				if err != nil {
					return err
				}
				p.done()
				out := gcJSON{DryRun: dryRun, Retention: retention, Seconds: time.Since(start).Seconds(), Projects: []gcProjectJSON{}}
				for _, r := range reps {
					out.Projects = append(out.Projects, gcProjectJSON{Project: r.Project, HorizonLSN: uint64(r.Horizon),
						HorizonTime: rfc3339(r.HorizonTime), CollectLSN: uint64(r.CollectLSN),
						BranchesPurged: nonNil(r.BranchesPurged), BranchesTrimmed: nonNil(r.BranchesTrimmed),
						Records: r.Records, Bytes: r.Bytes})
				}
				if a.json {
					return printJSON(a.out, out)
				}
				return printGC(a.out, out, a.now())
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be removed; change nothing")
	cmd.Flags().StringVar(&retention, "retention", "", "retention window, e.g. 36h or 30d (default 7d)")
	cmd.Flags().BoolVar(&all, "all-projects", false, "collect every project of the store, deleted ones too")
	return cmd
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func printGC(w io.Writer, g gcJSON, now time.Time) error {
	t := newTable(w, "PROJECT", "RECORDS", "BYTES", "PURGED", "TRIMMED", "HORIZON")
	records, bytes := 0, int64(0)
	for _, p := range g.Projects {
		h := "-"
		if p.HorizonLSN > 0 {
			ht, _ := time.Parse(time.RFC3339Nano, p.HorizonTime)
			h = fmt.Sprintf("lsn %d, %s", p.HorizonLSN, humanTime(ht, now))
		}
		t.row(p.Project, fmt.Sprint(p.Records), fmt.Sprint(p.Bytes), fmt.Sprint(len(p.BranchesPurged)), fmt.Sprint(len(p.BranchesTrimmed)), h)
		records += p.Records
		bytes += p.Bytes
	}
	if err := t.flush(); err != nil {
		return err
	}
	verb := "removed"
	if g.DryRun {
		verb = "would remove"
		_, err := fmt.Fprintf(w, "\n%s %d records (dry run: nothing changed)\n", verb, records)
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s %d records, freed %d bytes in %.3fs\n", verb, records, bytes, g.Seconds)
	return err
}
