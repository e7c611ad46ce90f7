package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/argon-lab/argon"
	"github.com/argon-lab/argon/wal"
)

// point is a place in a project's history: an LSN or a time. The zero
// value means the head.
type point struct {
	hasLSN  bool
	lsn     wal.LSN
	hasTime bool
	time    time.Time
}

func (p point) isHead() bool { return !p.hasLSN && !p.hasTime }

func (p point) String() string {
	switch {
	case p.hasLSN:
		return fmt.Sprintf("LSN %d", p.lsn)
	case p.hasTime:
		return p.time.UTC().Format(time.RFC3339Nano)
	}
	return "head"
}

// branchOptions returns CreateBranch/ResetBranch options for the point.
func (p point) branchOptions() *argon.BranchOptions {
	o := argon.Branch()
	switch {
	case p.hasLSN:
		o.SetLSN(p.lsn)
	case p.hasTime:
		o.SetTime(p.time)
	}
	return o
}

// view returns the read-only view of c at the point (c itself at the head).
func (p point) view(c *argon.Client) *argon.Client {
	switch {
	case p.hasLSN:
		return c.AtLSN(p.lsn)
	case p.hasTime:
		return c.AtTime(p.time)
	}
	return c
}

const timeHelp = "an RFC 3339 time (2026-01-02T15:04:05Z) or a duration ago (90s, 10m, 2h, 3d, 1d12h)"

// parsePoint parses an LSN (digits only) or a time (see parseTime).
func parsePoint(s string, now time.Time) (point, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return point{}, usageErrorf("invalid LSN %q: %v", s, err)
		}
		return point{hasLSN: true, lsn: wal.LSN(n)}, nil
	}
	t, err := parseTime(s, now)
	if err != nil {
		return point{}, usageErrorf("invalid point %q: want an LSN (a number), %s", s, timeHelp)
	}
	return point{hasTime: true, time: t}, nil
}

// parseLSN parses a non-negative integer LSN.
func parseLSN(s string) (wal.LSN, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, usageErrorf("invalid LSN %q: want a non-negative integer", s)
	}
	return wal.LSN(n), nil
}

// parseTime parses an RFC 3339 time or a duration before now: Go's
// duration syntax (90s, 10m, 1h30m) plus days (3d, 1d12h).
func parseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := parseAgo(s)
	if err != nil {
		return time.Time{}, usageErrorf("invalid time %q: want %s", s, timeHelp)
	}
	return now.Add(-d), nil
}

func parseAgo(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, 16)
		if err != nil {
			return 0, fmt.Errorf("bad day count")
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	if s == "" || s[0] == '-' || s[0] == '+' {
		return 0, fmt.Errorf("not a positive duration")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return days + d, nil
}

// ref is a branch with an optional point: NAME, NAME@LSN or NAME@TIME.
type ref struct {
	branch string
	at     point
	text   string // as given
}

func (r ref) String() string { return r.text }

func parseRef(s string, now time.Time) (ref, error) {
	name, at, ok := strings.Cut(s, "@")
	if err := wal.ValidateBranchName(name); err != nil {
		return ref{}, usageErrorf("invalid reference %q: %v", s, err)
	}
	if !ok {
		return ref{branch: name, text: s}, nil
	}
	p, err := parsePoint(at, now)
	if err != nil {
		return ref{}, usageErrorf("invalid reference %q: want BRANCH, BRANCH@LSN or BRANCH@TIME with TIME %s", s, timeHelp)
	}
	return ref{branch: name, at: p, text: s}, nil
}

// parseNamespace splits DB.COLL at the first dot (database names have none).
func parseNamespace(s string) (db, coll string, err error) {
	db, coll, ok := strings.Cut(s, ".")
	if !ok || db == "" || coll == "" {
		return "", "", usageErrorf("invalid namespace %q: want DB.COLLECTION", s)
	}
	if err := wal.ValidateNamespace(db, coll); err != nil {
		return "", "", usageErrorf("invalid namespace %q: %v", s, err)
	}
	return db, coll, nil
}
