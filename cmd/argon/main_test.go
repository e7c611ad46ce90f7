package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/argon-lab/argon"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// argonBin is the CLI binary built once by TestMain.
var argonBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "argon-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	argonBin = filepath.Join(dir, "argon")
	if runtime.GOOS == "windows" {
		argonBin += ".exe"
	}
	build := exec.Command("go", "build", "-o", argonBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the argon binary:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs the binary with args and env (ARGON_* of the test process are
// not inherited).
func cli(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argonBin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ARGON_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("argon %v: %v", args, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// succeed runs the binary and fails the test unless it exits 0 with an empty
// stderr.
func succeed(t *testing.T, env []string, args ...string) string {
	t.Helper()
	r := cli(t, env, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("argon %s: exit %d, stderr %q, stdout %q", strings.Join(args, " "), r.code, r.stderr, r.stdout)
	}
	return r.stdout
}

// okJSON runs the binary with --json and decodes its output into v.
func okJSON(t *testing.T, v any, env []string, args ...string) {
	t.Helper()
	out := succeed(t, env, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("argon %s --json: %v in %q", strings.Join(args, " "), err, out)
	}
}

// failWith checks an exit code, one line on stderr starting "argon: " and
// nothing on stdout.
func failWith(t *testing.T, code int, env []string, args ...string) string {
	t.Helper()
	r := cli(t, env, args...)
	if r.code != code {
		t.Fatalf("argon %s: exit %d, want %d (stderr %q)", strings.Join(args, " "), r.code, code, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "argon: ") || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Fatalf("argon %s: stderr is not one line starting \"argon: \": %q", strings.Join(args, " "), r.stderr)
	}
	if r.stdout != "" {
		t.Fatalf("argon %s: failed but printed on stdout: %q", strings.Join(args, " "), r.stdout)
	}
	return r.stderr
}

// seeded is a store the test wrote through the library.
type seeded struct {
	env      []string // ARGON_STORE (and ARGON_LOG_DB) for the CLI
	seedLSN  wal.LSN  // after users 1, 2, 3 were inserted on main
	mid      time.Time
	headLSN  wal.LSN // after the whole seed
	feature  string  // a branch forked from main at its head, with user 5
	fivesLSN wal.LSN
}

// seed writes, on main of the default project: users 1, 2, 3 (seedLSN);
// then, after mid: update 2, delete 3, insert 4; then branch feature with
// user 5.
func seed(t *testing.T, c *argon.Client) seeded {
	t.Helper()
	ctx := context.Background()
	users := c.Database("app").Collection("users")
	_, err := users.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: "ada"}, {Key: "age", Value: 36}},
		bson.D{{Key: "_id", Value: 2}, {Key: "name", Value: "grace"}, {Key: "age", Value: 45}},
		bson.D{{Key: "_id", Value: 3}, {Key: "name", Value: "edsger"}, {Key: "age", Value: 17}},
	})
	must(t, err)
	var s seeded
	s.seedLSN, err = c.HeadLSN(ctx)
	must(t, err)
	time.Sleep(20 * time.Millisecond) // record times have millisecond precision
	s.mid = time.Now()
	time.Sleep(20 * time.Millisecond)
	_, err = users.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "age", Value: 46}}}})
	must(t, err)
	_, err = users.DeleteOne(ctx, bson.D{{Key: "_id", Value: 3}})
	must(t, err)
	_, err = users.InsertOne(ctx, bson.D{{Key: "_id", Value: 4}, {Key: "name", Value: "barbara"}, {Key: "age", Value: 20}})
	must(t, err)
	s.headLSN, err = c.HeadLSN(ctx)
	must(t, err)
	s.feature = "feature"
	_, err = c.CreateBranch(ctx, s.feature)
	must(t, err)
	_, err = c.WithBranch(s.feature).Database("app").Collection("users").InsertOne(ctx, bson.D{{Key: "_id", Value: 5}, {Key: "name", Value: "alan"}})
	must(t, err)
	s.fivesLSN, err = c.HeadLSN(ctx)
	must(t, err)
	return s
}

// seedDir seeds a fresh embedded store directory and closes it.
func seedDir(t *testing.T) seeded {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	c, err := argon.Open(context.Background(), dir, &argon.Options{TTLInterval: -1})
	must(t, err)
	s := seed(t, c)
	must(t, c.Disconnect(context.Background()))
	s.env = []string{"ARGON_STORE=" + dir}
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// status is the --json shape of argon status.
type status struct {
	Store      string       `json:"store"`
	StoreKind  string       `json:"storeKind"`
	Project    string       `json:"project"`
	HeadLSN    uint64       `json:"headLsn"`
	HeadTime   string       `json:"headTime"`
	HorizonLSN uint64       `json:"retentionHorizonLsn"`
	LogBytes   int64        `json:"logBytes"`
	LogShared  bool         `json:"logBytesAllProjects"`
	CkptLSN    uint64       `json:"checkpointLsn"`
	CkptTime   string       `json:"checkpointTime"`
	Branches   []branchJSON `json:"branches"`
}

func findBranch(bs []branchJSON, name string) (branchJSON, bool) {
	i := slices.IndexFunc(bs, func(b branchJSON) bool { return b.Name == name })
	if i < 0 {
		return branchJSON{}, false
	}
	return bs[i], true
}

// ids decodes find --json output and returns the _id values.
func ids(t *testing.T, env []string, args ...string) []int {
	t.Helper()
	var docs []map[string]any
	okJSON(t, &docs, env, args...)
	out := []int{}
	for _, d := range docs {
		out = append(out, int(d["_id"].(float64)))
	}
	return out
}

func TestCLI_Status(t *testing.T) {
	t.Parallel()
	s := seedDir(t)
	var st status
	okJSON(t, &st, s.env, "status")
	if st.StoreKind != "directory" || st.Project != "default" || st.HeadLSN != uint64(s.fivesLSN) {
		t.Fatalf("status: %+v, want directory, default, head %d", st, s.fivesLSN)
	}
	if _, ok := findBranch(st.Branches, "main"); !ok {
		t.Fatalf("status: no main in %+v", st.Branches)
	}
	f, ok := findBranch(st.Branches, "feature")
	if !ok || f.Parent != "main" || f.BaseLSN != uint64(s.headLSN) || f.CreatedAt == "" {
		t.Fatalf("status: feature = %+v", f)
	}
	if _, err := time.Parse(time.RFC3339Nano, f.CreatedAt); err != nil {
		t.Fatalf("createdAt %q: %v", f.CreatedAt, err)
	}
	// The head time is the head record's: feature's insert, after mid.
	ht, err := time.Parse(time.RFC3339Nano, st.HeadTime)
	if err != nil || ht.Before(s.mid.Truncate(time.Millisecond)) || ht.After(time.Now()) || st.HorizonLSN != 0 {
		t.Fatalf("status: headTime %q (%v), horizon %d", st.HeadTime, err, st.HorizonLSN)
	}
	out := succeed(t, s.env, "status")
	for _, want := range []string{"project:  default", fmt.Sprintf("head LSN: %d", s.fivesLSN), "head at:  " + st.HeadTime + " (", "NAME", "feature", "Z (", "checkpoint: none"} {
		if !strings.Contains(out, want) {
			t.Fatalf("status output lacks %q:\n%s", want, out)
		}
	}
	if st.CkptLSN != 0 {
		t.Fatalf("status: checkpoint %d before any was written", st.CkptLSN)
	}
	if st.LogBytes <= 0 || st.LogShared || !strings.Contains(out, "log size: ") {
		t.Fatalf("status: log size %d (all projects: %v):\n%s", st.LogBytes, st.LogShared, out)
	}

	// Once a checkpoint is written, status shows it and its age.
	dir := strings.TrimPrefix(s.env[0], "ARGON_STORE=")
	c, err := argon.Open(context.Background(), dir, &argon.Options{TTLInterval: -1})
	must(t, err)
	lsn, err := c.Checkpoint(context.Background())
	must(t, err)
	must(t, c.Disconnect(context.Background()))
	okJSON(t, &st, s.env, "status")
	if st.CkptLSN != uint64(lsn) || st.CkptTime != st.HeadTime {
		t.Fatalf("status: checkpoint %d at %q, want %d at the head's time %q", st.CkptLSN, st.CkptTime, lsn, st.HeadTime)
	}
	out = succeed(t, s.env, "status")
	if want := fmt.Sprintf("checkpoint: LSN %d, %s (", lsn, st.CkptTime); !strings.Contains(out, want) {
		t.Fatalf("status output lacks %q:\n%s", want, out)
	}
}

func TestCLI_Branches(t *testing.T) {
	t.Parallel()
	s := seedDir(t)
	env := s.env

	out := succeed(t, env, "branches", "create", "preview")
	if !strings.Contains(out, "created branch preview") || !strings.Contains(out, fmt.Sprintf("at LSN %d", s.fivesLSN)) {
		t.Fatalf("create: %q", out)
	}
	var b branchJSON
	okJSON(t, &b, env, "branches", "create", "at-seed", "--at", fmt.Sprint(s.seedLSN))
	if b.Name != "at-seed" || b.Parent != "main" || b.BaseLSN != uint64(s.seedLSN) {
		t.Fatalf("create --at LSN: %+v", b)
	}
	okJSON(t, &b, env, "branches", "create", "at-mid", "--at", s.mid.UTC().Format(time.RFC3339Nano))
	if b.BaseLSN != uint64(s.seedLSN) {
		t.Fatalf("create --at TIME: base %d, want %d", b.BaseLSN, s.seedLSN)
	}
	okJSON(t, &b, env, "branches", "create", "off-feature", "--from", "feature")
	if b.Parent != "feature" {
		t.Fatalf("create --from: %+v", b)
	}
	if got := ids(t, env, "find", "app.users", "--branch", "at-mid"); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("at-mid holds %v", got)
	}
	failWith(t, 1, env, "branches", "create", "preview") // exists

	var bs []branchJSON
	okJSON(t, &bs, env, "branches", "list")
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
	}
	if want := []string{"at-mid", "at-seed", "feature", "main", "off-feature", "preview"}; !slices.Equal(names, want) {
		t.Fatalf("list: %v, want %v", names, want)
	}
	table := succeed(t, env, "branches", "list")
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 7 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("list table:\n%s", table)
	}

	var st status
	okJSON(t, &st, env, "status")
	beforeRename := st.HeadLSN
	succeed(t, env, "branches", "rename", "preview", "release")
	succeed(t, env, "branches", "delete", "release")
	// The listing at a past point: preview was live then, under that name.
	okJSON(t, &bs, env, "branches", "list", "--at", fmt.Sprint(beforeRename))
	if _, ok := findBranch(bs, "preview"); !ok || len(bs) != 6 {
		t.Fatalf("list --at %d: %+v", beforeRename, bs)
	}
	okJSON(t, &bs, env, "branches", "list", "--at", fmt.Sprint(s.seedLSN))
	if _, ok := findBranch(bs, "preview"); ok {
		t.Fatalf("list --at %d (before preview existed): %+v", s.seedLSN, bs)
	}
	failWith(t, 1, env, "branches", "list", "--at", "999999")
	failWith(t, 2, env, "branches", "list", "--at", "not-a-point")
	okJSON(t, &bs, env, "branches", "list")
	if _, ok := findBranch(bs, "release"); ok {
		t.Fatal("release still listed after delete")
	}
	if _, ok := findBranch(bs, "preview"); ok {
		t.Fatal("preview still listed after rename")
	}

	// Reset main to before the mistakes; the old state stays reachable.
	okJSON(t, &b, env, "branches", "reset", "main", "--at", fmt.Sprint(s.seedLSN))
	if b.Name != "main" || b.BaseLSN != uint64(s.seedLSN) {
		t.Fatalf("reset: %+v", b)
	}
	if got := ids(t, env, "find", "app.users"); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("main after reset holds %v", got)
	}
	if got := ids(t, env, "find", "app.users", "--at", fmt.Sprint(s.headLSN)); !slices.Equal(got, []int{1, 2, 4}) {
		t.Fatalf("main at %d (before the reset) holds %v", s.headLSN, got)
	}
}

func TestCLI_Restore(t *testing.T) {
	t.Parallel()
	s := seedDir(t)
	env := s.env
	out := succeed(t, env, "restore", "main", "--lsn", fmt.Sprint(s.seedLSN))
	name := fmt.Sprintf("main-at-%d", s.seedLSN)
	if want := fmt.Sprintf("as branch %s at LSN %d", name, s.seedLSN); !strings.Contains(out, want) {
		t.Fatalf("restore: %q lacks %q", out, want)
	}
	if got := ids(t, env, "find", "app.users", "--branch", name); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("%s holds %v", name, got)
	}
	var r struct {
		branchJSON
		RestoredFrom string `json:"restoredFrom"`
		Time         string `json:"time"`
	}
	okJSON(t, &r, env, "restore", "main", "--time", s.mid.UTC().Format(time.RFC3339Nano), "--as", "before-mistakes")
	if r.Name != "before-mistakes" || r.BaseLSN != uint64(s.seedLSN) || r.RestoredFrom != "main" || r.Time == "" {
		t.Fatalf("restore --json: %+v", r)
	}
	// A relative time: 0s ago is now, after everything.
	okJSON(t, &r, env, "restore", "feature", "--time", "0s")
	if r.BaseLSN < uint64(s.fivesLSN) || r.Name != fmt.Sprintf("feature-at-%d", r.BaseLSN) {
		t.Fatalf("restore --time 0s: %+v", r)
	}
	// Before the project existed, and both points at once.
	failWith(t, 1, env, "restore", "main", "--time", "1h")
	failWith(t, 2, env, "restore", "main", "--time", "1h", "--lsn", "1")
	failWith(t, 2, env, "restore", "main")
}

func TestCLI_Log(t *testing.T) {
	t.Parallel()
	s := seedDir(t)
	env := s.env
	var recs []recordJSON
	okJSON(t, &recs, env, "log")
	if len(recs) != 4 {
		t.Fatalf("log: %d records, want 4 (insertMany, update, delete, insert): %+v", len(recs), recs)
	}
	for i, r := range recs {
		if i > 0 && r.LSN >= recs[i-1].LSN {
			t.Fatalf("log not newest first: %+v", recs)
		}
		if _, err := time.Parse(time.RFC3339Nano, r.Time); err != nil || r.BranchName != "main" {
			t.Fatalf("record %+v: %v", r, err)
		}
	}
	if r := recs[len(recs)-1]; r.LSN != uint64(s.seedLSN) || len(r.Ops) != 3 || r.Ops[0].Kind != "insert" || r.Ops[0].Collection != "users" {
		t.Fatalf("oldest record: %+v", r)
	}
	okJSON(t, &recs, env, "log", "--branch", "feature", "--limit", "2")
	if len(recs) != 2 || recs[0].LSN != uint64(s.fivesLSN) || recs[0].BranchName != "feature" || recs[1].BranchName != "main" {
		t.Fatalf("log --branch feature --limit 2: %+v", recs)
	}
	okJSON(t, &recs, env, "log", "--since", s.mid.UTC().Format(time.RFC3339Nano))
	if len(recs) != 3 {
		t.Fatalf("log --since mid: %d records, want 3", len(recs))
	}
	okJSON(t, &recs, env, "log", "--before", fmt.Sprint(s.headLSN))
	if len(recs) != 3 || recs[0].LSN != uint64(s.headLSN-1) {
		t.Fatalf("log --before: %+v", recs)
	}
	out := succeed(t, env, "log")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 5 || !strings.Contains(lines[4], "insert app.users ×3") {
		t.Fatalf("log table:\n%s", out)
	}
}

func TestCLI_Diff(t *testing.T) {
	t.Parallel()
	s := seedDir(t)
	env := s.env
	type diff struct {
		Added, Removed, Changed int
		Changes                 []struct {
			Kind, DB, Coll string
			ID             json.RawMessage
			Before, After  map[string]any
		}
	}
	var d diff
	okJSON(t, &d, env, "diff", fmt.Sprintf("main@%d", s.seedLSN), "main")
	if d.Added != 1 || d.Removed != 1 || d.Changed != 1 || len(d.Changes) != 3 {
		t.Fatalf("diff: %+v", d)
	}
	if c := d.Changes[0]; c.Kind != "changed" || string(c.ID) != "2" || c.Before["age"] != 45.0 || c.After["age"] != 46.0 {
		t.Fatalf("diff change 2: %+v", c)
	}
	okJSON(t, &d, env, "diff", "main@"+s.mid.UTC().Format(time.RFC3339Nano), "main", "--collection", "users")
	if d.Added != 1 || d.Removed != 1 || d.Changed != 1 {
		t.Fatalf("diff @time: %+v", d)
	}
	okJSON(t, &d, env, "diff", "main", "feature")
	if d.Added != 1 || d.Removed != 0 || d.Changed != 0 || d.Changes[0].After["name"] != "alan" {
		t.Fatalf("diff main feature: %+v", d)
	}
	okJSON(t, &d, env, "diff", "main", "feature", "--collection", "other")
	if len(d.Changes) != 0 {
		t.Fatalf("diff --collection other: %+v", d)
	}
	out := succeed(t, env, "diff", "main@0s", "feature")
	if !strings.Contains(out, `+ app.users {"_id":5`) || !strings.Contains(out, "1 added, 0 removed, 0 changed") {
		t.Fatalf("diff text:\n%s", out)
	}
}

func TestCLI_Find(t *testing.T) {
	t.Parallel()
	s := seedDir(t)
	env := s.env
	if got := ids(t, env, "find", "app.users"); !slices.Equal(got, []int{1, 2, 4}) {
		t.Fatalf("find: %v", got)
	}
	if got := ids(t, env, "find", "app.users", `{"age": {"$gte": 18}}`, "--sort", `{"age": -1}`, "--limit", "2"); !slices.Equal(got, []int{2, 1}) {
		t.Fatalf("find filter sort limit: %v", got)
	}
	if got := ids(t, env, "find", "app.users", "--at", fmt.Sprint(s.seedLSN)); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("find --at LSN: %v", got)
	}
	if got := ids(t, env, "find", "app.users", "--at", s.mid.UTC().Format(time.RFC3339Nano)); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("find --at TIME: %v", got)
	}
	if got := ids(t, env, "find", "app.users", `{"_id": {"$numberLong": "5"}}`, "--branch", "feature"); !slices.Equal(got, []int{5}) {
		t.Fatalf("find Extended JSON filter on feature: %v", got)
	}
	if got := ids(t, env, "find", "app.none"); len(got) != 0 {
		t.Fatalf("find on a missing collection: %v", got)
	}
	out := succeed(t, env, "find", "app.users", `{"_id": 1}`, "--projection", `{"name": 1}`)
	if out != `{"_id":{"$numberInt":"1"},"name":"ada"}`+"\n" && out != `{"_id":1,"name":"ada"}`+"\n" {
		t.Fatalf("find text: %q", out)
	}
}

func TestCLI_Projects(t *testing.T) {
	t.Parallel()
	s := seedDir(t)
	env := s.env
	succeed(t, env, "projects", "create", "shop")
	failWith(t, 1, env, "projects", "create", "shop")
	var ps []map[string]string
	okJSON(t, &ps, env, "projects", "list")
	if len(ps) != 2 || ps[0]["name"] != "default" || ps[1]["name"] != "shop" {
		t.Fatalf("projects list: %v", ps)
	}
	var st status
	okJSON(t, &st, env, "status", "--project", "shop")
	if st.Project != "shop" || len(st.Branches) != 1 {
		t.Fatalf("status of shop: %+v", st)
	}
	okJSON(t, &st, append(env, "ARGON_PROJECT=shop"), "status")
	if st.Project != "shop" {
		t.Fatalf("ARGON_PROJECT: %+v", st)
	}
	succeed(t, env, "projects", "delete", "shop")
	okJSON(t, &ps, env, "projects", "list")
	if len(ps) != 1 {
		t.Fatalf("projects list after delete: %v", ps)
	}
	failWith(t, 1, env, "status", "--project", "shop")
	failWith(t, 1, env, "projects", "delete", "shop")

	// projects create makes a new store directory; other commands do not.
	dir := filepath.Join(t.TempDir(), "new")
	failWith(t, 1, nil, "status", "--store", dir)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("status created the store directory: %v", err)
	}
	succeed(t, nil, "projects", "create", "default", "--store", dir)
	succeed(t, nil, "status", "--store", dir)
}

// TestCLI_BadInput checks that failures exit non-zero with one line on
// stderr and change nothing.
func TestCLI_BadInput(t *testing.T) {
	t.Parallel()
	s := seedDir(t)
	env := s.env
	before := succeed(t, env, "status", "--json")
	cases := []struct {
		name string
		code int
		args []string
		want string
	}{
		{"unknown branch find", 1, []string{"find", "app.users", "--branch", "nope"}, "branch not found"},
		{"unknown branch delete", 1, []string{"branches", "delete", "nope"}, "branch not found"},
		{"unknown branch log", 1, []string{"log", "--branch", "nope"}, "branch not found"},
		{"unknown branch diff", 1, []string{"diff", "main", "nope"}, "branch not found"},
		{"unknown branch restore", 1, []string{"restore", "nope", "--lsn", "1"}, "branch not found"},
		{"delete main", 1, []string{"branches", "delete", "main"}, "main branch"},
		{"LSN beyond head", 1, []string{"branches", "create", "x", "--at", "99999"}, "beyond the head"},
		{"malformed time", 2, []string{"branches", "create", "x", "--at", "yesterday"}, "invalid point"},
		{"malformed reset point", 2, []string{"branches", "reset", "main", "--at", "10q"}, "invalid point"},
		{"reset without point", 2, []string{"branches", "reset", "main"}, "at"},
		{"malformed LSN", 2, []string{"restore", "main", "--lsn", "abc"}, "invalid LSN"},
		{"negative LSN", 2, []string{"restore", "main", "--lsn", "-1"}, "invalid LSN"},
		{"malformed restore time", 2, []string{"restore", "main", "--time", "10q"}, "invalid time"},
		{"malformed since", 2, []string{"log", "--since", "2026-13-01"}, "invalid time"},
		{"bad limit", 2, []string{"log", "--limit", "0"}, "limit"},
		{"bad JSON filter", 2, []string{"find", "app.users", "{bad"}, "invalid filter"},
		{"filter not a document", 2, []string{"find", "app.users", "[1]"}, "invalid filter"},
		{"bad sort", 2, []string{"find", "app.users", "--sort", "{"}, "invalid --sort"},
		{"bad namespace", 2, []string{"find", "users"}, "invalid namespace"},
		{"bad diff ref", 2, []string{"diff", "main", "main@zz"}, "invalid reference"},
		{"bad branch name", 2, []string{"branches", "create", "a..b"}, "invalid branch name"},
		{"bad new name", 2, []string{"branches", "rename", "feature", "a//b"}, "invalid branch name"},
		{"bad restore name", 2, []string{"restore", "main", "--lsn", "1", "--as", "a b"}, "invalid --as"},
		{"bad flag", 2, []string{"find", "app.users", "--nope"}, "unknown flag"},
		{"unknown command", 2, []string{"frobnicate"}, "unknown command"},
		{"unknown subcommand", 2, []string{"branches", "frobnicate"}, "unknown command"},
		{"too many args", 2, []string{"branches", "delete", "a", "b"}, "needs 1 argument"},
		{"gc bad retention", 2, []string{"gc", "--retention", "soon"}, "invalid --retention"},
		{"gc negative retention", 2, []string{"gc", "--retention", "-1h"}, "invalid --retention"},
		{"gc argument", 2, []string{"gc", "main"}, "needs 0 argument"},
		{"import from nowhere", 1, []string{"import", "--from", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300", "--db", "x"}, ""},
		{"import without --from", 2, []string{"import", "--db", "x"}, "from"},
		{"unknown project", 1, []string{"status", "--project", "nope"}, "project not found"},
		{"missing store dir", 1, []string{"status", "--store", filepath.Join(t.TempDir(), "missing")}, "does not exist"},
		{"unreachable store", 1, []string{"status", "--store", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300&connectTimeoutMS=300"}, "cannot open store"},
		{"bad store URI", 2, []string{"status", "--store", "mongodb://a:b:c:d/?x=%zz"}, "invalid store URI"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := failWith(t, tc.code, env, tc.args...)
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("stderr %q lacks %q", msg, tc.want)
			}
		})
	}
	t.Run("no store", func(t *testing.T) {
		msg := failWith(t, 2, nil, "status")
		if !strings.Contains(msg, "no store") {
			t.Fatalf("stderr %q", msg)
		}
	})
	if after := succeed(t, env, "status", "--json"); after != before {
		t.Fatalf("failed commands changed the store:\nbefore %s\nafter  %s", before, after)
	}
}

func TestCLI_HelpAndCompletion(t *testing.T) {
	t.Parallel()
	s := seedDir(t)
	for _, args := range [][]string{
		{"projects", "create"}, {"projects", "list"}, {"projects", "delete"},
		{"branches", "create"}, {"branches", "list"}, {"branches", "delete"}, {"branches", "reset"}, {"branches", "rename"},
		{"restore"}, {"log"}, {"diff"}, {"find"}, {"status"}, {"import"}, {"gc"},
	} {
		out := succeed(t, nil, append(args, "--help")...)
		if !strings.Contains(out, "Examples:\n  argon ") {
			t.Errorf("argon %s --help has no example:\n%s", strings.Join(args, " "), out)
		}
	}
	if out := succeed(t, nil, "completion", "bash"); !strings.Contains(out, "bash completion") {
		t.Fatalf("completion bash: %.200s", out)
	}
	r := cli(t, s.env, "__complete", "branches", "delete", "fe")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "feature\n") {
		t.Fatalf("completion of branch names: %+v", r)
	}
}

func TestParsePoint(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want point
	}{
		{"42", point{hasLSN: true, lsn: 42}},
		{"0", point{hasLSN: true}},
		{"10m", point{hasTime: true, time: now.Add(-10 * time.Minute)}},
		{"3d", point{hasTime: true, time: now.Add(-72 * time.Hour)}},
		{"1d12h", point{hasTime: true, time: now.Add(-36 * time.Hour)}},
		{"2026-01-02T14:00:00Z", point{hasTime: true, time: now.Add(-time.Hour)}},
		{"2026-01-02T16:00:00.5+01:00", point{hasTime: true, time: now.Add(500 * time.Millisecond)}},
	} {
		got, err := parsePoint(tc.in, now)
		if err != nil || got.hasLSN != tc.want.hasLSN || got.lsn != tc.want.lsn || got.hasTime != tc.want.hasTime || !got.time.Equal(tc.want.time) {
			t.Errorf("parsePoint(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "-1", "-10m", "10", "d", "1x", "yesterday", "2026-01-02", "99999999999999999999999"} {
		if in == "10" {
			continue
		}
		if _, err := parsePoint(in, now); err == nil {
			t.Errorf("parsePoint(%q): no error", in)
		}
	}
	if r, err := parseRef("feature/x@10m", now); err != nil || r.branch != "feature/x" || !r.at.hasTime {
		t.Errorf("parseRef: %+v, %v", r, err)
	}
	if _, err := parseRef("@10m", now); err == nil {
		t.Error("parseRef(@10m): no error")
	}
}

func TestErrorLine(t *testing.T) {
	t.Parallel()
	if got := errorLine(fmt.Errorf("argon: argon: x\ny")); got != "argon: x; y" {
		t.Fatalf("errorLine = %q", got)
	}
}

// TestCLI_MongoDB runs the CLI against the MongoDB-wire test server, with
// the log in a database of its own.
func TestCLI_MongoDB(t *testing.T) {
	t.Parallel()
	uri := os.Getenv("ARGON_TEST_MONGODB_URI")
	if uri == "" {
		if os.Getenv("ARGON_TEST_REQUIRE_MONGODB") == "1" {
			t.Fatal("ARGON_TEST_MONGODB_URI is not set and ARGON_TEST_REQUIRE_MONGODB=1")
		}
		t.Skip("ARGON_TEST_MONGODB_URI is not set")
	}
	ctx := context.Background()
	logDB := fmt.Sprintf("argon_cli_%d", time.Now().UnixNano())
	c, err := argon.ConnectWithOptions(ctx, &argon.Options{LogDatabase: logDB, TTLInterval: -1}, options.Client().ApplyURI(uri))
	must(t, err)
	s := seed(t, c)
	must(t, c.Disconnect(ctx))
	t.Cleanup(func() {
		mc, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
		if err == nil {
			_ = mc.Database(logDB).Drop(ctx)
			_ = mc.Disconnect(ctx)
		}
	})
	env := []string{"ARGON_STORE=" + uri, "ARGON_LOG_DB=" + logDB}

	var st status
	okJSON(t, &st, env, "status")
	if st.StoreKind != "mongodb" || st.HeadLSN != uint64(s.fivesLSN) || len(st.Branches) != 2 {
		t.Fatalf("status: %+v", st)
	}
	var b branchJSON
	okJSON(t, &b, env, "branches", "create", "preview", "--at", fmt.Sprint(s.seedLSN))
	if b.BaseLSN != uint64(s.seedLSN) {
		t.Fatalf("create: %+v", b)
	}
	if got := ids(t, env, "find", "app.users", "--branch", "preview"); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("find on preview: %v", got)
	}
	var d struct{ Added, Removed, Changed int }
	okJSON(t, &d, env, "diff", "preview", "main")
	if d.Added != 1 || d.Removed != 1 || d.Changed != 1 {
		t.Fatalf("diff: %+v", d)
	}
	var recs []recordJSON
	okJSON(t, &recs, env, "log", "--limit", "2")
	if len(recs) != 2 || recs[0].LSN != uint64(s.headLSN) {
		t.Fatalf("log: %+v", recs)
	}
	succeed(t, env, "branches", "delete", "preview")
	before := succeed(t, env, "status", "--json")
	failWith(t, 1, env, "find", "app.users", "--branch", "preview")
	failWith(t, 2, env, "find", "app.users", "{bad")
	// Another log database holds no project "default".
	failWith(t, 1, append(env, "ARGON_LOG_DB="+logDB+"_other"), "status")
	if after := succeed(t, env, "status", "--json"); after != before {
		t.Fatalf("failed commands changed the store")
	}
	// preview (deleted, no records of its own) leaves the catalog.
	var g gcOut
	okJSON(t, &g, env, "gc", "--retention", "0s")
	if len(g.Projects) != 1 || g.Projects[0].CollectLSN == 0 || len(g.Projects[0].BranchesPurged) != 1 {
		t.Fatalf("gc: %+v", g)
	}
	okJSON(t, &st, env, "status")
	if st.HorizonLSN == 0 {
		t.Fatalf("status after gc: %+v", st)
	}
	failWith(t, 1, env, "find", "app.users", "--at", "1")
	t.Run("import", func(t *testing.T) { testImport(t, uri) })
}

// testImport copies a database of the test server into an embedded store.
func testImport(t *testing.T, uri string) {
	ctx := context.Background()
	mc, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	must(t, err)
	defer mc.Disconnect(ctx)
	srcName := fmt.Sprintf("argon_cli_src_%d", time.Now().UnixNano())
	src := mc.Database(srcName)
	t.Cleanup(func() { _ = src.Drop(context.Background()) })
	var docs []any
	for i := range 2500 {
		docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "sku", Value: fmt.Sprintf("s%05d", i)}})
	}
	_, err = src.Collection("items").InsertMany(ctx, docs)
	must(t, err)
	_, err = src.Collection("items").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "sku", Value: 1}}, Options: options.Index().SetUnique(true)})
	must(t, err)
	must(t, src.CreateCollection(ctx, "empty"))

	s := seedDir(t)
	var st importStats
	okJSON(t, &st, s.env, "import", "--from", uri, "--db", srcName, "--as", "shop", "--batch", "1000")
	if st.Collections != 2 || st.Documents != 2500 || st.Indexes != 1 || st.Database != "shop" || st.Seconds <= 0 {
		t.Fatalf("import: %+v", st)
	}
	var items []map[string]any
	okJSON(t, &items, s.env, "find", "shop.items", `{"sku": "s02499"}`)
	if len(items) != 1 || items[0]["_id"] != 2499.0 {
		t.Fatalf("imported item: %v", items)
	}
	before := succeed(t, s.env, "status", "--json")
	msg := failWith(t, 1, s.env, "import", "--from", uri, "--db", srcName, "--as", "shop")
	if !strings.Contains(msg, "not empty") {
		t.Fatalf("second import: %q", msg)
	}
	failWith(t, 2, s.env, "import", "--from", uri)
	if after := succeed(t, s.env, "status", "--json"); after != before {
		t.Fatalf("failed import changed the store")
	}
	// The unique index came along.
	c, err := argon.Open(ctx, strings.TrimPrefix(s.env[0], "ARGON_STORE="), &argon.Options{TTLInterval: -1})
	must(t, err)
	_, err = c.Database("shop").Collection("items").InsertOne(ctx, bson.D{{Key: "_id", Value: -1}, {Key: "sku", Value: "s00001"}})
	if !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("insert of a duplicate sku: %v, want a duplicate key error", err)
	}
	names, err := c.Database("shop").ListCollectionNames(ctx, bson.D{})
	must(t, err)
	if !slices.Contains(names, "empty") {
		t.Fatalf("collections after import: %v", names)
	}
	must(t, c.Disconnect(ctx))

	// A failure after some batches were written names the undo command.
	_, err = src.Collection("texts").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "body", Value: "hello"}})
	must(t, err)
	if _, err := src.Collection("texts").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "body", Value: "text"}}}); err != nil {
		t.Logf("the server has no text indexes (%v): partial-failure case skipped", err)
		return
	}
	var head status
	okJSON(t, &head, s.env, "status")
	msg = failWith(t, 1, s.env, "import", "--from", uri, "--db", srcName, "--as", "other")
	if want := fmt.Sprintf("argon branches reset main --at %d", head.HeadLSN); !strings.Contains(msg, want) {
		t.Fatalf("partial import: %q lacks %q", msg, want)
	}
}

// gcOut is the --json shape of argon gc.
type gcOut struct {
	DryRun   bool    `json:"dryRun"`
	Seconds  float64 `json:"seconds"`
	Projects []struct {
		Project         string   `json:"project"`
		HorizonLSN      uint64   `json:"horizonLsn"`
		HorizonTime     string   `json:"horizonTime"`
		CollectLSN      uint64   `json:"collectLsn"`
		BranchesPurged  []string `json:"branchesPurged"`
		BranchesTrimmed []string `json:"branchesTrimmed"`
		Records         int      `json:"records"`
		Bytes           int64    `json:"bytes"`
	} `json:"projects"`
}

// TestCLI_GC deletes a branch with records through the library, then
// collects it with the CLI: nothing within the default window, a dry run
// that changes nothing, the collection, and the refusals after it.
func TestCLI_GC(t *testing.T) {
	t.Parallel()
	s := seedDir(t)
	ctx := context.Background()
	dir := strings.TrimPrefix(s.env[0], "ARGON_STORE=")
	c, err := argon.Open(ctx, dir, &argon.Options{TTLInterval: -1})
	must(t, err)
	_, err = c.CreateBranch(ctx, "tmp")
	must(t, err)
	tmp := c.WithBranch("tmp").Database("app").Collection("users")
	for i := 10; i < 13; i++ {
		_, err = tmp.InsertOne(ctx, bson.D{{Key: "_id", Value: i}})
		must(t, err)
	}
	must(t, c.DeleteBranch(ctx, "tmp"))
	must(t, c.Disconnect(ctx))

	var g gcOut
	okJSON(t, &g, s.env, "gc")
	if len(g.Projects) != 1 || g.Projects[0].Records != 0 || g.Projects[0].CollectLSN != 0 {
		t.Fatalf("gc within the default window: %+v", g)
	}
	before := succeed(t, s.env, "status", "--json")
	okJSON(t, &g, s.env, "gc", "--dry-run", "--retention", "0s")
	if !g.DryRun || g.Projects[0].Records != 3 || len(g.Projects[0].BranchesPurged) != 1 {
		t.Fatalf("gc --dry-run: %+v", g)
	}
	out := succeed(t, s.env, "gc", "--dry-run", "--retention", "0s")
	if !strings.Contains(out, "would remove 3 records") || !strings.Contains(out, "PROJECT") {
		t.Fatalf("gc --dry-run output:\n%s", out)
	}
	if after := succeed(t, s.env, "status", "--json"); after != before {
		t.Fatalf("a dry run changed the store")
	}
	// feature's history is live: reading it at the seed point works now.
	if got := ids(t, s.env, "find", "app.users", "--branch", "feature", "--at", fmt.Sprint(s.seedLSN)); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("find before gc: %v", got)
	}
	okJSON(t, &g, s.env, "gc", "--retention", "0s")
	p := g.Projects[0]
	if g.DryRun || p.Records != 3 || p.Bytes <= 0 || p.CollectLSN == 0 || len(p.BranchesPurged) != 1 || p.HorizonLSN == 0 || p.HorizonTime == "" || g.Seconds <= 0 {
		t.Fatalf("gc: %+v", g)
	}
	out = succeed(t, s.env, "gc", "--retention", "0s")
	if !strings.Contains(out, "removed 0 records") {
		t.Fatalf("second gc output:\n%s", out)
	}
	var st status
	okJSON(t, &st, s.env, "status")
	if st.HorizonLSN != p.HorizonLSN {
		t.Fatalf("status horizon %d, gc said %d", st.HorizonLSN, p.HorizonLSN)
	}
	if out := succeed(t, s.env, "status"); !strings.Contains(out, fmt.Sprintf("retained: from LSN %d", p.HorizonLSN)) {
		t.Fatalf("status output:\n%s", out)
	}
	msg := failWith(t, 1, s.env, "find", "app.users", "--branch", "feature", "--at", fmt.Sprint(s.seedLSN))
	if !strings.Contains(msg, "before retention") {
		t.Fatalf("find below the horizon: %q", msg)
	}
	if got := ids(t, s.env, "find", "app.users", "--branch", "feature"); !slices.Equal(got, []int{1, 2, 4, 5}) {
		t.Fatalf("find at head after gc: %v", got)
	}
	var all gcOut
	okJSON(t, &all, s.env, "gc", "--all-projects")
	if len(all.Projects) != 1 || all.Projects[0].Project != "default" {
		t.Fatalf("gc --all-projects: %+v", all)
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
