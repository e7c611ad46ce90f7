package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/argon-lab/argon"
	"go.mongodb.org/mongo-driver/bson"
)

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

func (t *table) flush() error { return t.tw.Flush() }

// rfc3339 formats a measured time; "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// humanTime is RFC 3339 plus how long ago, e.g. "2026-01-02T15:04:05.123Z
// (10m ago)"; "-" for the zero time.
func humanTime(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%s (%s)", rfc3339(t), ago(t, now))
}

func ago(t, now time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		return "in the future"
	}
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm ago", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}

// extJSON renders a document as relaxed Extended JSON.
func extJSON(doc bson.Raw) json.RawMessage {
	if doc == nil {
		return nil
	}
	b, err := bson.MarshalExtJSON(doc, false, false)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprintf("<undecodable document: %v>", err))
	}
	return b
}

// extJSONValue renders a value (an _id) as relaxed Extended JSON.
func extJSONValue(v bson.RawValue) json.RawMessage {
	if v.Type == 0 {
		return nil
	}
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, false, false)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprintf("<undecodable value: %v>", err))
		return b
	}
	// {"v":X} → X
	s := strings.TrimSpace(string(b))
	s = strings.TrimPrefix(s, `{"v":`)
	s = strings.TrimSuffix(s, "}")
	return json.RawMessage(s)
}

// branchJSON is the --json shape of a branch.
type branchJSON struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	Parent     string `json:"parent,omitempty"`   // parent's name (its id if it has none now)
	ParentID   string `json:"parentId,omitempty"` // parent's id
	BaseLSN    uint64 `json:"baseLsn"`
	CreatedLSN uint64 `json:"createdLsn"`
	CreatedAt  string `json:"createdAt,omitempty"`
	HeadLSN    uint64 `json:"headLsn"`
}

func toBranchJSON(b argon.BranchInfo, names map[string]string) branchJSON {
	return branchJSON{Name: b.Name, ID: b.ID, Parent: parentName(b.Parent, names), ParentID: b.Parent,
		BaseLSN: uint64(b.BaseLSN), CreatedLSN: uint64(b.CreatedLSN), CreatedAt: rfc3339(b.CreatedAt), HeadLSN: uint64(b.HeadLSN)}
}

// parentName names a parent id with its live name, or the id itself.
func parentName(id string, names map[string]string) string {
	if id == "" {
		return ""
	}
	if n, ok := names[id]; ok {
		return n
	}
	return id
}

func branchNames(bs []argon.BranchInfo) map[string]string {
	m := make(map[string]string, len(bs))
	for _, b := range bs {
		m[b.ID] = b.Name
	}
	return m
}

func printBranchTable(w io.Writer, bs []argon.BranchInfo, now time.Time) error {
	names := branchNames(bs)
	t := newTable(w, "NAME", "ID", "PARENT", "BASE LSN", "HEAD LSN", "CREATED")
	for _, b := range bs {
		p := parentName(b.Parent, names)
		base := fmt.Sprint(b.BaseLSN)
		if p == "" {
			p, base = "-", "-"
		}
		t.row(b.Name, b.ID, p, base, fmt.Sprint(b.HeadLSN), humanTime(b.CreatedAt, now))
	}
	return t.flush()
}
