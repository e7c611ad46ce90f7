package argon_test

// Conformance runner over MongoDB's CRUD specification tests (DESIGN.md §6).
//
// The test files ship inside the driver module, under
// $(go env GOMODCACHE)/go.mongodb.org/mongo-driver@vX/testdata/crud:
// v1/{read,write}/*.json in the legacy format (one operation per test) and
// unified/*.json in the unified test format. Every spec test runs as its own
// subtest on a fresh argon.OpenMemory client: the initial data is inserted
// with InsertMany, the operations run through *argon.Collection and
// *argon.Database, and the runner checks results, errors and the final
// content of the collections.
//
// A failing spec test does not fail `go test` by itself: the gate is a
// ratchet. testdata/crudspec/passing.txt lists the spec tests known to pass;
// TestCRUDSpec fails when one of them fails (or is skipped), and prints the
// tests that pass but are not listed yet. ARGON_CRUDSPEC_UPDATE=1 rewrites
// the list with the current passing set.
//
// Skipped, each with its reason: tests whose runOnRequirements argon cannot
// meet (a maximum server version below the current one, a sharded topology,
// serverless, auth), tests that configure fail points, and tests whose
// only assertions are command-monitoring events. Everything else that does not pass is a
// failure; failures caused by an error wrapping argon.ErrNotSupported are
// labelled "[not supported]" so the output groups them.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/argon-lab/argon"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readconcern"
	"go.mongodb.org/mongo-driver/mongo/readpref"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

const (
	// crudSpecUpdateEnv, set to "1", rewrites crudSpecPassingFile with the
	// spec tests that pass now.
	crudSpecUpdateEnv = "ARGON_CRUDSPEC_UPDATE"
	// crudSpecRequireEnv, set to "1" (as CI does), turns missing spec files
	// into a failure instead of a skip.
	crudSpecRequireEnv = "ARGON_TEST_REQUIRE_MONGODB"
	// crudSpecPassingFile is the ratchet: spec tests known to pass.
	crudSpecPassingFile = "testdata/crudspec/passing.txt"
	// crudSpecDriverModule holds the spec files.
	crudSpecDriverModule = "go.mongodb.org/mongo-driver"
	// crudSpecCaseTimeout bounds one spec test; a hung operation is a
	// failure, not a hung test binary.
	crudSpecCaseTimeout = 30 * time.Second
)

// crudSpecServerVersion is the server version argon behaves like when
// runOnRequirements are evaluated: a current server.
var crudSpecServerVersion = []int{8, 0, 0}

// crudSpecDirs are the spec directories, relative to testdata/crud.
var crudSpecDirs = []string{"v1/read", "v1/write", "unified"}

type crudStatus int

const (
	crudPass crudStatus = iota
	crudFail
	crudSkip
)

// crudCase is one spec test.
type crudCase struct {
	file string // relative to testdata/crud, e.g. "unified/find.json"
	desc string
	id   string // file + ": " + desc, unique; the key in passing.txt
	skip string // non-empty: skipped, with this reason
	run  func(ctx context.Context) error
}

// crudRecord is the result of one spec test.
type crudRecord struct {
	c      *crudCase
	status crudStatus
	label  string // failures: "not supported", "runner", "panic", "timeout" or ""
	reason string // one line
}

// crudRunnerError is a failure of the runner itself (an argument or
// operation it does not implement), not of argon.
type crudRunnerError struct{ msg string }

func (e *crudRunnerError) Error() string { return "runner: " + e.msg }

func crudRunnerErrorf(format string, args ...interface{}) error {
	return &crudRunnerError{msg: fmt.Sprintf(format, args...)}
}

func TestCRUDSpec(t *testing.T) {
	root := crudSpecRoot(t)

	var cases []*crudCase
	for _, sub := range crudSpecDirs {
		files, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(sub), "*.json"))
		if err != nil {
			t.Fatalf("crud spec: listing %s: %v", sub, err)
		}
		if len(files) == 0 {
			t.Fatalf("crud spec: no *.json files in %s", filepath.Join(root, filepath.FromSlash(sub)))
		}
		sort.Strings(files)
		for _, path := range files {
			rel := sub + "/" + filepath.Base(path)
			data, err := os.ReadFile(path)
			var cs []*crudCase
			if err == nil {
				if strings.HasPrefix(sub, "v1/") {
					cs, err = crudLegacyCases(rel, data)
				} else {
					cs, err = crudUnifiedCases(rel, data)
				}
			}
			if err != nil {
				perr := crudRunnerErrorf("loading %s: %v", rel, err)
				cs = []*crudCase{{file: rel, desc: "(load file)", run: func(context.Context) error { return perr }}}
			}
			cases = append(cases, cs...)
		}
	}
	crudAssignIDs(cases)

	known, err := crudReadPassing(crudSpecPassingFile)
	if err != nil {
		t.Fatalf("crud spec: %v", err)
	}
	update := os.Getenv(crudSpecUpdateEnv) == "1"

	records := make(map[string]crudRecord, len(cases))
	var order []string
	for i := 0; i < len(cases); {
		j := i
		for j < len(cases) && cases[j].file == cases[i].file {
			j++
		}
		group := cases[i:j]
		i = j
		t.Run(group[0].file, func(t *testing.T) {
			for _, c := range group {
				t.Run(c.desc, func(t *testing.T) {
					rec := crudExecute(c)
					records[c.id] = rec
					order = append(order, c.id)
					listed := known[c.id]
					switch rec.status {
					case crudPass:
					case crudFail:
						if listed && !update {
							t.Errorf("regression: %q is listed in %s but now fails: %s", c.id, crudSpecPassingFile, rec.line())
						} else {
							t.Logf("fails (not gating: not listed in %s): %s", crudSpecPassingFile, rec.line())
						}
					case crudSkip:
						if listed && !update {
							t.Errorf("regression: %q is listed in %s but is now skipped: %s", c.id, crudSpecPassingFile, rec.reason)
						} else {
							t.Skip(rec.reason)
						}
					}
				})
			}
		})
	}

	summary := crudSummary(records, order)
	t.Log(summary)
	fmt.Println(summary)

	// The ratchet.
	var newPasses []string
	passing := map[string]bool{}
	for _, id := range order {
		if records[id].status == crudPass {
			passing[id] = true
			if !known[id] {
				newPasses = append(newPasses, id)
			}
		}
	}
	fullRun := len(order) == len(cases)
	if update {
		// Keep the entries of tests this run did not execute (go test -run).
		keep := map[string]bool{}
		for id := range passing {
			keep[id] = true
		}
		for id := range known {
			if _, ran := records[id]; !ran && !fullRun {
				keep[id] = true
			}
		}
		if err := crudWritePassing(crudSpecPassingFile, keep); err != nil {
			t.Fatalf("crud spec: %v", err)
		}
		msg := fmt.Sprintf("crud spec: wrote %s: %d passing spec tests", crudSpecPassingFile, len(keep))
		t.Log(msg)
		fmt.Println(msg)
		return
	}
	if len(newPasses) > 0 {
		sort.Strings(newPasses)
		msg := fmt.Sprintf("crud spec: %d spec tests pass but are not listed in %s; run with %s=1 to add them:\n  %s",
			len(newPasses), crudSpecPassingFile, crudSpecUpdateEnv, strings.Join(newPasses, "\n  "))
		t.Log(msg)
		fmt.Println(msg)
	}
	if fullRun {
		var gone []string
		for id := range known {
			if _, ran := records[id]; !ran {
				gone = append(gone, id)
			}
		}
		sort.Strings(gone)
		for _, id := range gone {
			t.Errorf("crud spec: %s lists %q, which is no longer a spec test; run with %s=1 to rewrite it",
				crudSpecPassingFile, id, crudSpecUpdateEnv)
		}
	}
}

// ---------------------------------------------------------------------------
// Locating the spec files

// crudSpecRoot returns the driver module's testdata/crud directory, or skips
// the test (fails it when ARGON_TEST_REQUIRE_MONGODB=1) when it cannot be
// found.
func crudSpecRoot(t *testing.T) string {
	t.Helper()
	dir, err := crudDriverModuleDir()
	if err == nil {
		root := filepath.Join(dir, "testdata", "crud")
		fi, serr := os.Stat(filepath.Join(root, "unified"))
		if serr == nil && fi.IsDir() {
			return root
		}
		if serr == nil {
			serr = fmt.Errorf("%s is not a directory", filepath.Join(root, "unified"))
		}
		err = serr
	}
	msg := "crud spec: the driver's CRUD spec tests were not found (" + err.Error() +
		"); run `go mod download " + crudSpecDriverModule + "`"
	if os.Getenv(crudSpecRequireEnv) == "1" {
		t.Fatal(msg + " (" + crudSpecRequireEnv + "=1 makes this a failure)")
	}
	t.Skip(msg)
	return ""
}

// crudDriverModuleDir returns the directory of the driver module this
// package builds with: `go list -m` first, then GOMODCACHE and the version
// recorded in the test binary.
func crudDriverModuleDir() (string, error) {
	var errs []string
	if goTool, err := exec.LookPath("go"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, goTool, "list", "-m", "-f", "{{.Dir}}", crudSpecDriverModule).Output()
		if dir := strings.TrimSpace(string(out)); err == nil && dir != "" {
			return dir, nil
		}
		errs = append(errs, fmt.Sprintf("go list -m %s: %v", crudSpecDriverModule, err))
		if out, err := exec.CommandContext(ctx, goTool, "env", "GOMODCACHE").Output(); err == nil {
			if cache := strings.TrimSpace(string(out)); cache != "" {
				if dir, err := crudModuleDirIn(cache); err == nil {
					return dir, nil
				}
			}
		}
	} else {
		errs = append(errs, "the go tool is not on PATH")
	}
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			if home, err := os.UserHomeDir(); err == nil {
				gopath = filepath.Join(home, "go")
			}
		}
		if gopath != "" {
			cache = filepath.Join(filepath.SplitList(gopath)[0], "pkg", "mod")
		}
	}
	if cache != "" {
		dir, err := crudModuleDirIn(cache)
		if err == nil {
			return dir, nil
		}
		errs = append(errs, err.Error())
	}
	return "", errors.New(strings.Join(errs, "; "))
}

func crudModuleDirIn(cache string) (string, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", errors.New("no build information in the test binary")
	}
	for _, dep := range info.Deps {
		if dep.Path == crudSpecDriverModule {
			if dep.Replace != nil {
				dep = dep.Replace
			}
			dir := filepath.Join(cache, filepath.FromSlash(dep.Path)+"@"+dep.Version)
			if _, err := os.Stat(dir); err != nil {
				return "", err
			}
			return dir, nil
		}
	}
	return "", fmt.Errorf("%s is not a dependency of the test binary", crudSpecDriverModule)
}

// ---------------------------------------------------------------------------
// Running one spec test, the summary and the ratchet file

func crudAssignIDs(cases []*crudCase) {
	seen := map[string]int{}
	for _, c := range cases {
		c.desc = crudOneLine(c.desc, 0)
		id := c.file + ": " + c.desc
		seen[id]++
		if n := seen[id]; n > 1 {
			c.desc = fmt.Sprintf("%s (#%d)", c.desc, n)
			id = c.file + ": " + c.desc
		}
		c.id = id
	}
}

// crudExecute runs c, turning panics and hangs into failures.
func crudExecute(c *crudCase) crudRecord {
	if c.skip != "" {
		return crudRecord{c: c, status: crudSkip, reason: c.skip}
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- &crudPanic{val: r, where: crudPanicSite(debug.Stack())}
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), crudSpecCaseTimeout)
		defer cancel()
		done <- c.run(ctx)
	}()
	var err error
	timer := time.NewTimer(crudSpecCaseTimeout + 5*time.Second)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-timer.C:
		return crudRecord{c: c, status: crudFail, label: "timeout",
			reason: fmt.Sprintf("did not finish within %v (an operation hung)", crudSpecCaseTimeout)}
	}
	if err == nil {
		return crudRecord{c: c, status: crudPass}
	}
	rec := crudRecord{c: c, status: crudFail, reason: crudOneLine(err.Error(), 400)}
	var re *crudRunnerError
	var pe *crudPanic
	switch {
	case errors.As(err, &pe):
		rec.label = "panic"
	case errors.Is(err, argon.ErrNotSupported):
		rec.label = "not supported"
	case errors.As(err, &re):
		rec.label = "runner"
	}
	return rec
}

type crudPanic struct {
	val   interface{}
	where string
}

func (p *crudPanic) Error() string { return fmt.Sprintf("panic: %v (at %s)", p.val, p.where) }

// crudPanicSite returns the innermost frame of the stack inside this
// repository but outside this file and the runtime.
func crudPanicSite(stack []byte) string {
	wd, _ := os.Getwd()
	for _, line := range strings.Split(string(stack), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "/") && !(len(line) > 2 && line[1] == ':') {
			continue
		}
		if i := strings.LastIndex(line, " +0x"); i > 0 {
			line = line[:i]
		}
		if strings.Contains(line, "crudspec_test.go") || (wd != "" && !strings.HasPrefix(line, wd)) {
			continue
		}
		if rel, err := filepath.Rel(wd, line); err == nil {
			return rel
		}
		return line
	}
	return "unknown location"
}

func (r crudRecord) line() string {
	if r.label != "" {
		return "[" + r.label + "] " + r.reason
	}
	return r.reason
}

// crudSummary renders the result block: the score line, every skip with
// its reason, then every failure grouped by label.
func crudSummary(records map[string]crudRecord, order []string) string {
	var pass, fail, skip int
	var skips, fails []crudRecord
	for _, id := range order {
		r := records[id]
		switch r.status {
		case crudPass:
			pass++
		case crudFail:
			fail++
			fails = append(fails, r)
		case crudSkip:
			skip++
			skips = append(skips, r)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "crud spec: %d passed, %d failed, %d skipped", pass, fail, skip)
	for _, r := range skips {
		fmt.Fprintf(&b, "\n  SKIP %s -- %s", r.c.id, r.reason)
	}
	rank := map[string]int{"": 0, "panic": 1, "timeout": 2, "not supported": 3, "runner": 4}
	sort.SliceStable(fails, func(i, j int) bool { return rank[fails[i].label] < rank[fails[j].label] })
	for _, r := range fails {
		fmt.Fprintf(&b, "\n  FAIL %s -- %s", r.c.id, r.line())
	}
	return b.String()
}

const crudPassingHeader = `# CRUD spec conformance ratchet: the spec tests known to pass (see crudspec_test.go).
# TestCRUDSpec fails when one of them no longer passes. Regenerate with:
#   ARGON_CRUDSPEC_UPDATE=1 go test -run TestCRUDSpec .
# One "<file under testdata/crud of the driver module>: <test description>" per line.
`

func crudReadPassing(path string) (map[string]bool, error) {
	known := map[string]bool{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return known, nil
	}
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		known[line] = true
	}
	return known, nil
}

func crudWritePassing(path string, ids map[string]bool) error {
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	sort.Strings(list)
	var b strings.Builder
	b.WriteString(crudPassingHeader)
	for _, id := range list {
		b.WriteString(id)
		b.WriteByte('\n')
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// crudOneLine collapses whitespace; max > 0 truncates.
func crudOneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if max > 0 && len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// ---------------------------------------------------------------------------
// Requirements and skips

// crudRunOnUnmet returns why none of reqs (alternatives) is met, or "".
func crudRunOnUnmet(reqs []bson.Raw) string {
	if len(reqs) == 0 {
		return ""
	}
	var reasons []string
	seen := map[string]bool{}
	for _, r := range reqs {
		reason := crudRequirementUnmet(r)
		if reason == "" {
			return ""
		}
		if !seen[reason] {
			seen[reason] = true
			reasons = append(reasons, reason)
		}
	}
	return strings.Join(reasons, "; or ")
}

func crudRequirementUnmet(r bson.Raw) string {
	ours := crudVersionString(crudSpecServerVersion)
	for _, el := range crudElems(r) {
		v := el.Value()
		switch el.Key() {
		case "minServerVersion":
			if crudCompareVersions(crudSpecServerVersion, crudParseVersion(v.StringValue())) < 0 {
				return fmt.Sprintf("requires server >= %s (argon behaves like %s)", v.StringValue(), ours)
			}
		case "maxServerVersion":
			if crudCompareVersions(crudSpecServerVersion, crudParseVersion(v.StringValue())) > 0 {
				return fmt.Sprintf("requires server <= %s; argon behaves like a current server (%s)", v.StringValue(), ours)
			}
		case "topologies":
			var tops []string
			ok := false
			for _, tv := range crudArrayValues(v) {
				s := tv.StringValue()
				tops = append(tops, s)
				if s == "single" || s == "replicaset" {
					ok = true
				}
			}
			if !ok {
				if len(tops) == 1 && tops[0] == "sharded" {
					return "requires a sharded topology"
				}
				return "requires topology " + strings.Join(tops, "/")
			}
		case "serverless":
			if v.StringValue() == "require" {
				return "requires serverless"
			}
		case "auth":
			if b, ok := v.BooleanOK(); ok && b {
				return "requires auth"
			}
		case "csfle":
			if b, ok := v.BooleanOK(); ok && b {
				return "requires client-side field level encryption"
			}
		case "serverParameters":
			return "requires server parameters " + crudShowRaw(v)
		default:
			return "unknown requirement " + el.Key()
		}
	}
	return ""
}

func crudParseVersion(s string) []int {
	var out []int
	for _, part := range strings.Split(s, ".") {
		n, _ := strconv.Atoi(part)
		out = append(out, n)
	}
	return out
}

func crudCompareVersions(a, b []int) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func crudVersionString(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ".")
}

func crudDocValue(d bson.Raw) bson.RawValue {
	return bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: d}
}

// ---------------------------------------------------------------------------
// Legacy v1 format

type crudLegacyFile struct {
	Data             []bson.Raw       `bson:"data"`
	MinServerVersion string           `bson:"minServerVersion"`
	MaxServerVersion string           `bson:"maxServerVersion"`
	Serverless       string           `bson:"serverless"`
	CollectionName   string           `bson:"collection_name"`
	DatabaseName     string           `bson:"database_name"`
	Tests            []crudLegacyTest `bson:"tests"`
}

type crudLegacyTest struct {
	Description string `bson:"description"`
	SkipReason  string `bson:"skipReason"`
	Operation   struct {
		Name      string   `bson:"name"`
		Object    string   `bson:"object"`
		Arguments bson.Raw `bson:"arguments"`
	} `bson:"operation"`
	Outcome bson.Raw `bson:"outcome"`
}

func crudLegacyCases(rel string, data []byte) ([]*crudCase, error) {
	var f crudLegacyFile
	if err := bson.UnmarshalExtJSON(data, false, &f); err != nil {
		return nil, err
	}
	var req bson.D
	if f.MinServerVersion != "" {
		req = append(req, bson.E{Key: "minServerVersion", Value: f.MinServerVersion})
	}
	if f.MaxServerVersion != "" {
		req = append(req, bson.E{Key: "maxServerVersion", Value: f.MaxServerVersion})
	}
	if f.Serverless != "" {
		req = append(req, bson.E{Key: "serverless", Value: f.Serverless})
	}
	fileSkip := ""
	if len(req) > 0 {
		raw, err := bson.Marshal(req)
		if err != nil {
			return nil, err
		}
		fileSkip = crudRunOnUnmet([]bson.Raw{raw})
	}
	var cases []*crudCase
	for i := range f.Tests {
		test := &f.Tests[i]
		c := &crudCase{file: rel, desc: test.Description}
		switch {
		case fileSkip != "":
			c.skip = fileSkip
		case test.SkipReason != "":
			c.skip = "spec skipReason: " + test.SkipReason
		}
		c.run = func(ctx context.Context) error { return crudRunLegacy(ctx, &f, test) }
		cases = append(cases, c)
	}
	return cases, nil
}

func crudRunLegacy(ctx context.Context, f *crudLegacyFile, test *crudLegacyTest) error {
	client, err := argon.OpenMemory(ctx)
	if err != nil {
		return fmt.Errorf("OpenMemory: %w", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()

	dbName, collName := f.DatabaseName, f.CollectionName
	if dbName == "" {
		dbName = "crud-tests"
	}
	if collName == "" {
		collName = "test"
	}
	db := client.Database(dbName)
	coll := db.Collection(collName)
	if len(f.Data) > 0 {
		if _, err := coll.InsertMany(ctx, crudDocsToInterfaces(f.Data)); err != nil {
			return fmt.Errorf("seeding data with InsertMany: %w", err)
		}
	}
	env := &crudEnv{
		client: client,
		dbs:    map[string]*argon.Database{"database0": db},
		colls:  map[string]*argon.Collection{"collection0": coll},
	}

	op := test.Operation
	args, err := crudLegacyArgs(op.Name, op.Arguments)
	if err != nil {
		return err
	}
	object := "collection0"
	if op.Object == "database" {
		object = "database0"
	}
	res, err := env.exec(ctx, op.Name, object, args)
	if err != nil {
		return err
	}
	if err := crudCheckLegacy(op.Name, test.Outcome, res); err != nil {
		return err
	}

	collVal := test.Outcome.Lookup("collection")
	if cd, ok := collVal.DocumentOK(); ok {
		name := collName
		if n, ok := cd.Lookup("name").StringValueOK(); ok {
			name = n
		}
		var want []bson.Raw
		for _, v := range crudArrayValues(cd.Lookup("data")) {
			want = append(want, v.Document())
		}
		if err := crudCheckCollection(ctx, db.Collection(name), want); err != nil {
			return err
		}
	}
	return nil
}

// crudLegacyArgs rewrites legacy arguments to the unified shape: "options"
// are lifted to the top level and bulkWrite requests {name, arguments}
// become {name: arguments}.
func crudLegacyArgs(name string, args bson.Raw) (bson.Raw, error) {
	d := bson.D{}
	for _, el := range crudElems(args) {
		switch {
		case el.Key() == "options" && el.Value().Type == bson.TypeEmbeddedDocument:
			for _, oel := range crudElems(el.Value().Document()) {
				d = append(d, bson.E{Key: oel.Key(), Value: oel.Value()})
			}
		case el.Key() == "requests" && name == "bulkWrite":
			var reqs bson.A
			for _, rv := range crudArrayValues(el.Value()) {
				rd, ok := rv.DocumentOK()
				if !ok {
					return nil, crudRunnerErrorf("bulkWrite request is a %s, not a document", rv.Type)
				}
				rname, _ := rd.Lookup("name").StringValueOK()
				rargs, _ := rd.Lookup("arguments").DocumentOK()
				reqs = append(reqs, bson.D{{Key: rname, Value: rargs}})
			}
			d = append(d, bson.E{Key: "requests", Value: reqs})
		default:
			d = append(d, bson.E{Key: el.Key(), Value: el.Value()})
		}
	}
	raw, err := bson.Marshal(d)
	if err != nil {
		return nil, crudRunnerErrorf("rewriting legacy arguments: %v", err)
	}
	return raw, nil
}

func crudCheckLegacy(name string, outcome bson.Raw, res crudOpResult) error {
	if res.err != nil && errors.Is(res.err, argon.ErrNotSupported) {
		return fmt.Errorf("%s: %w", name, res.err)
	}
	if errors.Is(res.err, mongo.ErrUnacknowledgedWrite) {
		res.err = nil
	}
	wantErr, _ := outcome.Lookup("error").BooleanOK()
	result := outcome.Lookup("result")
	if wantErr {
		if res.err == nil {
			return fmt.Errorf("%s: expected an error, got none (result %s)", name, crudShowResult(res))
		}
		// The driver returns a BulkWriteResult with the counts of the
		// writes that succeeded; InsertMany's result lists every _id, so
		// only bulkWrite's counts are checked.
		if name == "bulkWrite" && result.Type == bson.TypeEmbeddedDocument && res.val.Type != 0 {
			want := crudWithout(result.Document(), "insertedIds")
			if err := crudMatch(crudDocValue(want), res.val, true, ""); err != nil {
				return fmt.Errorf("%s: result after the error: %v", name, err)
			}
		}
		return nil
	}
	if res.err != nil {
		return fmt.Errorf("%s: unexpected error: %w", name, res.err)
	}
	if result.Type == 0 {
		return nil
	}
	want := result
	if name == "bulkWrite" && want.Type == bson.TypeEmbeddedDocument {
		// mongo.BulkWriteResult (driver v1) has no InsertedIDs.
		want = crudDocValue(crudWithout(want.Document(), "insertedIds"))
	}
	if err := crudCheckResult(want, res); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	return nil
}

func crudWithout(d bson.Raw, key string) bson.Raw {
	var out bson.D
	for _, el := range crudElems(d) {
		if el.Key() != key {
			out = append(out, bson.E{Key: el.Key(), Value: el.Value()})
		}
	}
	raw, err := bson.Marshal(out)
	if err != nil {
		return d
	}
	return raw
}

// ---------------------------------------------------------------------------
// Unified format

type crudUnifiedFile struct {
	Description    string            `bson:"description"`
	SchemaVersion  string            `bson:"schemaVersion"`
	RunOn          []bson.Raw        `bson:"runOnRequirements"`
	CreateEntities []bson.Raw        `bson:"createEntities"`
	InitialData    []crudCollData    `bson:"initialData"`
	Tests          []crudUnifiedTest `bson:"tests"`
}

type crudCollData struct {
	CollectionName string     `bson:"collectionName"`
	DatabaseName   string     `bson:"databaseName"`
	Documents      []bson.Raw `bson:"documents"`
	CreateOptions  bson.Raw   `bson:"createOptions"`
}

type crudUnifiedTest struct {
	Description  string          `bson:"description"`
	SkipReason   string          `bson:"skipReason"`
	RunOn        []bson.Raw      `bson:"runOnRequirements"`
	Operations   []crudUnifiedOp `bson:"operations"`
	ExpectEvents bson.RawValue   `bson:"expectEvents"`
	Outcome      bson.RawValue   `bson:"outcome"`
}

type crudUnifiedOp struct {
	Name                 string        `bson:"name"`
	Object               string        `bson:"object"`
	Arguments            bson.Raw      `bson:"arguments"`
	ExpectError          bson.Raw      `bson:"expectError"`
	ExpectResult         bson.RawValue `bson:"expectResult"`
	IgnoreResultAndError bool          `bson:"ignoreResultAndError"`
	SaveResultAsEntity   string        `bson:"saveResultAsEntity"`
}

func crudUnifiedCases(rel string, data []byte) ([]*crudCase, error) {
	var f crudUnifiedFile
	if err := bson.UnmarshalExtJSON(data, false, &f); err != nil {
		return nil, err
	}
	if v := crudParseVersion(f.SchemaVersion); len(v) == 0 || v[0] != 1 {
		return nil, fmt.Errorf("unsupported schemaVersion %q", f.SchemaVersion)
	}
	fileSkip := crudRunOnUnmet(f.RunOn)
	var cases []*crudCase
	for i := range f.Tests {
		test := &f.Tests[i]
		c := &crudCase{file: rel, desc: test.Description, skip: crudUnifiedSkip(fileSkip, test)}
		c.run = func(ctx context.Context) error { return crudRunUnified(ctx, &f, test) }
		cases = append(cases, c)
	}
	return cases, nil
}

func crudUnifiedSkip(fileSkip string, test *crudUnifiedTest) string {
	if fileSkip != "" {
		return fileSkip
	}
	if s := crudRunOnUnmet(test.RunOn); s != "" {
		return s
	}
	if test.SkipReason != "" {
		return "spec skipReason: " + test.SkipReason
	}
	asserts := test.Outcome.Type != 0
	for _, op := range test.Operations {
		if op.Object == "testRunner" && (op.Name == "failPoint" || op.Name == "targetedFailPoint") {
			return "fail point"
		}
		if op.ExpectError != nil || op.ExpectResult.Type != 0 {
			asserts = true
		}
	}
	if !asserts && test.ExpectEvents.Type != 0 {
		return "asserts only wire events"
	}
	return ""
}

func crudRunUnified(ctx context.Context, f *crudUnifiedFile, test *crudUnifiedTest) error {
	client, err := argon.OpenMemory(ctx)
	if err != nil {
		return fmt.Errorf("OpenMemory: %w", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()

	env := &crudEnv{
		client:  client,
		clients: map[string]bool{},
		dbs:     map[string]*argon.Database{},
		colls:   map[string]*argon.Collection{},
	}
	for _, ent := range f.CreateEntities {
		if err := env.createEntity(ent); err != nil {
			return err
		}
	}
	for _, cd := range f.InitialData {
		if cd.CreateOptions != nil {
			return crudRunnerErrorf("initialData createOptions are not implemented")
		}
		if len(cd.Documents) == 0 {
			continue // a collection that does not exist reads as empty
		}
		coll := client.Database(cd.DatabaseName).Collection(cd.CollectionName)
		if _, err := coll.InsertMany(ctx, crudDocsToInterfaces(cd.Documents)); err != nil {
			return fmt.Errorf("seeding initialData %s.%s with InsertMany: %w", cd.DatabaseName, cd.CollectionName, err)
		}
	}
	for i, op := range test.Operations {
		if err := env.runUnifiedOp(ctx, op); err != nil {
			return fmt.Errorf("operation %d (%s on %s): %w", i, op.Name, op.Object, err)
		}
	}
	if test.Outcome.Type == bson.TypeArray {
		for _, ov := range crudArrayValues(test.Outcome) {
			var cd crudCollData
			if err := bson.Unmarshal(ov.Document(), &cd); err != nil {
				return crudRunnerErrorf("decoding outcome: %v", err)
			}
			coll := client.Database(cd.DatabaseName).Collection(cd.CollectionName)
			if err := crudCheckCollection(ctx, coll, cd.Documents); err != nil {
				return err
			}
		}
	}
	return nil
}

// crudEnv holds a test's entities. Every client entity is the same argon
// client: they all talk to the same "server".
type crudEnv struct {
	client  *argon.Client
	clients map[string]bool
	dbs     map[string]*argon.Database
	colls   map[string]*argon.Collection
}

func (e *crudEnv) createEntity(ent bson.Raw) error {
	el, err := bson.Raw(ent).IndexErr(0)
	if err != nil {
		return crudRunnerErrorf("empty entity")
	}
	spec, ok := el.Value().DocumentOK()
	if !ok {
		return crudRunnerErrorf("entity %s is not a document", el.Key())
	}
	id, _ := spec.Lookup("id").StringValueOK()
	switch el.Key() {
	case "client":
		// uriOptions, observeEvents, useMultipleMongoses... describe the
		// connection; none applies in-process.
		e.clients[id] = true
	case "database":
		clientID, _ := spec.Lookup("client").StringValueOK()
		if !e.clients[clientID] {
			return crudRunnerErrorf("database %s: unknown client %q", id, clientID)
		}
		name, _ := spec.Lookup("databaseName").StringValueOK()
		var opts []*options.DatabaseOptions
		if d, ok := spec.Lookup("databaseOptions").DocumentOK(); ok {
			rc, wc, rp, err := crudConcerns(d)
			if err != nil {
				return err
			}
			o := options.Database()
			if rc != nil {
				o.SetReadConcern(rc)
			}
			if wc != nil {
				o.SetWriteConcern(wc)
			}
			if rp != nil {
				o.SetReadPreference(rp)
			}
			opts = append(opts, o)
		}
		e.dbs[id] = e.client.Database(name, opts...)
	case "collection":
		dbID, _ := spec.Lookup("database").StringValueOK()
		db := e.dbs[dbID]
		if db == nil {
			return crudRunnerErrorf("collection %s: unknown database %q", id, dbID)
		}
		name, _ := spec.Lookup("collectionName").StringValueOK()
		var opts []*options.CollectionOptions
		if d, ok := spec.Lookup("collectionOptions").DocumentOK(); ok {
			rc, wc, rp, err := crudConcerns(d)
			if err != nil {
				return err
			}
			o := options.Collection()
			if rc != nil {
				o.SetReadConcern(rc)
			}
			if wc != nil {
				o.SetWriteConcern(wc)
			}
			if rp != nil {
				o.SetReadPreference(rp)
			}
			opts = append(opts, o)
		}
		e.colls[id] = db.Collection(name, opts...)
	default:
		return crudRunnerErrorf("entity type %q is not implemented", el.Key())
	}
	return nil
}

func crudConcerns(d bson.Raw) (*readconcern.ReadConcern, *writeconcern.WriteConcern, *readpref.ReadPref, error) {
	var rc *readconcern.ReadConcern
	var wc *writeconcern.WriteConcern
	var rp *readpref.ReadPref
	for _, el := range crudElems(d) {
		v := el.Value()
		switch el.Key() {
		case "readConcern":
			level, _ := v.Document().Lookup("level").StringValueOK()
			rc = &readconcern.ReadConcern{Level: level}
		case "writeConcern":
			wc = &writeconcern.WriteConcern{}
			for _, wel := range crudElems(v.Document()) {
				switch wel.Key() {
				case "w":
					if s, ok := wel.Value().StringValueOK(); ok {
						wc.W = s
					} else if n, ok := wel.Value().AsInt64OK(); ok {
						wc.W = int(n)
					}
				case "journal", "j":
					j := wel.Value().Boolean()
					wc.Journal = &j
				case "wtimeoutMS":
				default:
					return nil, nil, nil, crudRunnerErrorf("writeConcern option %q is not implemented", wel.Key())
				}
			}
		case "readPreference":
			mode, _ := v.Document().Lookup("mode").StringValueOK()
			m, err := readpref.ModeFromString(mode)
			if err != nil {
				return nil, nil, nil, crudRunnerErrorf("readPreference: %v", err)
			}
			rp, err = readpref.New(m)
			if err != nil {
				return nil, nil, nil, crudRunnerErrorf("readPreference: %v", err)
			}
		default:
			return nil, nil, nil, crudRunnerErrorf("collection/database option %q is not implemented", el.Key())
		}
	}
	return rc, wc, rp, nil
}

func (e *crudEnv) runUnifiedOp(ctx context.Context, op crudUnifiedOp) error {
	if op.SaveResultAsEntity != "" {
		return crudRunnerErrorf("saveResultAsEntity is not implemented")
	}
	res, err := e.exec(ctx, op.Name, op.Object, op.Arguments)
	if err != nil {
		return err
	}
	if res.err != nil && errors.Is(res.err, argon.ErrNotSupported) {
		return res.err
	}
	if errors.Is(res.err, mongo.ErrUnacknowledgedWrite) {
		res.err = nil
	}
	if op.IgnoreResultAndError {
		return nil
	}
	if op.ExpectError != nil {
		return crudCheckError(op.ExpectError, res)
	}
	if res.err != nil {
		return fmt.Errorf("unexpected error: %w", res.err)
	}
	if op.ExpectResult.Type != 0 {
		return crudCheckResult(op.ExpectResult, res)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Operations

// crudOpResult is what an operation returned.
type crudOpResult struct {
	val    bson.RawValue // a single value (document, number, array...); Type 0: none
	docs   []bson.Raw    // a cursor's documents, when cursor is true
	cursor bool
	err    error // argon's error
}

func (r crudOpResult) actual() (bson.RawValue, bool) {
	if r.cursor {
		idx, arr := bsoncore.AppendArrayStart(nil)
		for i, d := range r.docs {
			arr = bsoncore.AppendDocumentElement(arr, strconv.Itoa(i), d)
		}
		arr, _ = bsoncore.AppendArrayEnd(arr, idx)
		return bson.RawValue{Type: bson.TypeArray, Value: arr}, true
	}
	// Documents may carry extra root fields; single-value arrays (distinct)
	// must match exactly.
	return r.val, r.val.Type != bson.TypeArray
}

func crudCursorResult(ctx context.Context, what string, cur *argon.Cursor, err error) crudOpResult {
	if err != nil {
		return crudOpResult{err: err}
	}
	if cur == nil {
		return crudOpResult{err: fmt.Errorf("%s returned a nil cursor and a nil error", what)}
	}
	defer func() { _ = cur.Close(ctx) }()
	var docs []bson.Raw
	if err := cur.All(ctx, &docs); err != nil {
		return crudOpResult{err: fmt.Errorf("cursor.All: %w", err)}
	}
	if docs == nil {
		docs = []bson.Raw{}
	}
	return crudOpResult{docs: docs, cursor: true}
}

func crudSingleResult(sr *argon.SingleResult) crudOpResult {
	if sr == nil {
		return crudOpResult{err: errors.New("nil *SingleResult")}
	}
	raw, err := sr.Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return crudOpResult{val: bson.RawValue{Type: bson.TypeNull}}
	}
	if err != nil {
		return crudOpResult{err: err}
	}
	return crudOpResult{val: crudDocValue(raw)}
}

func crudDocResult(d bson.D, err error) crudOpResult {
	raw, merr := bson.Marshal(d)
	if merr != nil {
		return crudOpResult{err: fmt.Errorf("marshalling the result: %v (operation error: %v)", merr, err)}
	}
	return crudOpResult{val: crudDocValue(raw), err: err}
}

func crudUpdateResult(res *argon.UpdateResult, err error) crudOpResult {
	d := bson.D{}
	if res != nil {
		d = bson.D{
			{Key: "matchedCount", Value: res.MatchedCount},
			{Key: "modifiedCount", Value: res.ModifiedCount},
			{Key: "upsertedCount", Value: res.UpsertedCount},
		}
		if res.UpsertedID != nil {
			d = append(d, bson.E{Key: "upsertedId", Value: res.UpsertedID})
		}
	}
	return crudDocResult(d, err)
}

func crudDeleteResult(res *argon.DeleteResult, err error) crudOpResult {
	d := bson.D{}
	if res != nil {
		d = bson.D{{Key: "deletedCount", Value: res.DeletedCount}}
	}
	return crudDocResult(d, err)
}

func crudInt64Result(n int64, err error) crudOpResult {
	if err != nil {
		return crudOpResult{err: err}
	}
	return crudOpResult{val: bson.RawValue{Type: bson.TypeInt64, Value: bsoncore.AppendInt64(nil, n)}}
}

// exec runs one operation. Its error is the runner's (unknown operation or
// argument); argon's error is in the result.
func (e *crudEnv) exec(ctx context.Context, name, object string, args bson.Raw) (crudOpResult, error) {
	coll := e.colls[object]
	db := e.dbs[object]
	needColl := func() error {
		if coll == nil {
			return crudRunnerErrorf("operation %s needs a collection, %q is not one", name, object)
		}
		return nil
	}
	a := &crudArgs{op: name}

	switch name {
	case "find", "findOne":
		if err := needColl(); err != nil {
			return crudOpResult{}, err
		}
		fo := options.Find()
		var filter bson.Raw
		for _, el := range crudElems(args) {
			v := el.Value()
			switch el.Key() {
			case "filter":
				filter = a.doc(el)
			case "sort":
				fo.SetSort(a.doc(el))
			case "projection":
				fo.SetProjection(a.doc(el))
			case "skip":
				fo.SetSkip(a.int(el))
			case "limit":
				fo.SetLimit(a.int(el))
			case "batchSize":
				fo.SetBatchSize(int32(a.int(el)))
			case "hint":
				fo.SetHint(a.hint(el))
			case "comment":
				fo.SetComment(crudCommentString(v))
			case "let":
				fo.SetLet(a.doc(el))
			case "allowDiskUse":
				fo.SetAllowDiskUse(a.bool(el))
			case "maxTimeMS":
				fo.SetMaxTime(time.Duration(a.int(el)) * time.Millisecond)
			case "collation":
				fo.SetCollation(a.collation(el))
			case "min":
				fo.SetMin(a.doc(el))
			case "max":
				fo.SetMax(a.doc(el))
			case "returnKey":
				fo.SetReturnKey(a.bool(el))
			case "showRecordId":
				fo.SetShowRecordID(a.bool(el))
			case "noCursorTimeout":
				fo.SetNoCursorTimeout(a.bool(el))
			case "allowPartialResults":
				fo.SetAllowPartialResults(a.bool(el))
			default:
				a.unknown(el)
			}
		}
		a.require("filter", filter != nil)
		if a.err != nil {
			return crudOpResult{}, a.err
		}
		if name == "findOne" {
			foo := options.FindOne()
			foo.Sort, foo.Projection, foo.Skip, foo.Hint, foo.Comment = fo.Sort, fo.Projection, fo.Skip, fo.Hint, fo.Comment
			foo.MaxTime, foo.Collation, foo.Min, foo.Max = fo.MaxTime, fo.Collation, fo.Min, fo.Max
			foo.ReturnKey, foo.ShowRecordID, foo.AllowPartialResults = fo.ReturnKey, fo.ShowRecordID, fo.AllowPartialResults
			return crudSingleResult(coll.FindOne(ctx, filter, foo)), nil
		}
		cur, err := coll.Find(ctx, filter, fo)
		return crudCursorResult(ctx, "Find", cur, err), nil

	case "aggregate":
		if coll == nil && db == nil {
			return crudOpResult{}, crudRunnerErrorf("aggregate on unknown object %q", object)
		}
		ao := options.Aggregate()
		var pipeline []interface{}
		for _, el := range crudElems(args) {
			v := el.Value()
			switch el.Key() {
			case "pipeline":
				pipeline = []interface{}{}
				for _, sv := range crudArrayValues(v) {
					pipeline = append(pipeline, sv.Document())
				}
			case "batchSize":
				ao.SetBatchSize(int32(a.int(el)))
			case "allowDiskUse":
				ao.SetAllowDiskUse(a.bool(el))
			case "bypassDocumentValidation":
				ao.SetBypassDocumentValidation(a.bool(el))
			case "comment":
				ao.SetComment(crudCommentString(v))
			case "hint":
				ao.SetHint(a.hint(el))
			case "let":
				ao.SetLet(a.doc(el))
			case "maxTimeMS":
				ao.SetMaxTime(time.Duration(a.int(el)) * time.Millisecond)
			case "collation":
				ao.SetCollation(a.collation(el))
			default:
				a.unknown(el)
			}
		}
		a.require("pipeline", pipeline != nil)
		if a.err != nil {
			return crudOpResult{}, a.err
		}
		var cur *argon.Cursor
		var err error
		if coll != nil {
			cur, err = coll.Aggregate(ctx, pipeline, ao)
		} else {
			cur, err = db.Aggregate(ctx, pipeline, ao)
		}
		return crudCursorResult(ctx, "Aggregate", cur, err), nil

	case "count", "countDocuments":
		if err := needColl(); err != nil {
			return crudOpResult{}, err
		}
		co := options.Count()
		var filter bson.Raw
		for _, el := range crudElems(args) {
			switch el.Key() {
			case "filter":
				filter = a.doc(el)
			case "skip":
				co.SetSkip(a.int(el))
			case "limit":
				co.SetLimit(a.int(el))
			case "hint":
				co.SetHint(a.hint(el))
			case "comment":
				co.SetComment(crudCommentString(el.Value()))
			case "maxTimeMS":
				co.SetMaxTime(time.Duration(a.int(el)) * time.Millisecond)
			case "collation":
				co.SetCollation(a.collation(el))
			default:
				a.unknown(el)
			}
		}
		a.require("filter", filter != nil)
		if a.err != nil {
			return crudOpResult{}, a.err
		}
		return crudInt64Result(coll.CountDocuments(ctx, filter, co)), nil

	case "estimatedDocumentCount":
		if err := needColl(); err != nil {
			return crudOpResult{}, err
		}
		eo := options.EstimatedDocumentCount()
		for _, el := range crudElems(args) {
			switch el.Key() {
			case "comment":
				eo.SetComment(el.Value())
			case "maxTimeMS":
				eo.SetMaxTime(time.Duration(a.int(el)) * time.Millisecond)
			default:
				a.unknown(el)
			}
		}
		if a.err != nil {
			return crudOpResult{}, a.err
		}
		return crudInt64Result(coll.EstimatedDocumentCount(ctx, eo)), nil

	case "distinct":
		if err := needColl(); err != nil {
			return crudOpResult{}, err
		}
		do := options.Distinct()
		var field string
		var filter bson.Raw
		for _, el := range crudElems(args) {
			switch el.Key() {
			case "fieldName":
				field = a.str(el)
			case "filter":
				filter = a.doc(el)
			case "comment":
				do.SetComment(el.Value())
			case "maxTimeMS":
				do.SetMaxTime(time.Duration(a.int(el)) * time.Millisecond)
			case "collation":
				do.SetCollation(a.collation(el))
			default:
				a.unknown(el)
			}
		}
		a.require("fieldName", field != "")
		if filter == nil {
			filter = bson.Raw(bsoncore.NewDocumentBuilder().Build())
		}
		if a.err != nil {
			return crudOpResult{}, a.err
		}
		vals, err := coll.Distinct(ctx, field, filter, do)
		if err != nil {
			return crudOpResult{err: err}, nil
		}
		if vals == nil {
			vals = []interface{}{}
		}
		typ, data, merr := bson.MarshalValue(vals)
		if merr != nil {
			return crudOpResult{err: fmt.Errorf("marshalling Distinct's result %v: %v", vals, merr)}, nil
		}
		return crudOpResult{val: bson.RawValue{Type: typ, Value: data}}, nil

	case "insertOne":
		if err := needColl(); err != nil {
			return crudOpResult{}, err
		}
		io := options.InsertOne()
		var doc bson.Raw
		for _, el := range crudElems(args) {
			switch el.Key() {
			case "document":
				doc = a.doc(el)
			case "comment":
				io.SetComment(el.Value())
			case "bypassDocumentValidation":
				io.SetBypassDocumentValidation(a.bool(el))
			default:
				a.unknown(el)
			}
		}
		a.require("document", doc != nil)
		if a.err != nil {
			return crudOpResult{}, a.err
		}
		res, err := coll.InsertOne(ctx, doc, io)
		d := bson.D{}
		if res != nil {
			d = bson.D{{Key: "insertedId", Value: res.InsertedID}}
		}
		return crudDocResult(d, err), nil

	case "insertMany":
		if err := needColl(); err != nil {
			return crudOpResult{}, err
		}
		imo := options.InsertMany()
		var docs []interface{}
		for _, el := range crudElems(args) {
			switch el.Key() {
			case "documents":
				docs = []interface{}{}
				for _, dv := range crudArrayValues(el.Value()) {
					docs = append(docs, dv.Document())
				}
			case "ordered":
				imo.SetOrdered(a.bool(el))
			case "comment":
				imo.SetComment(el.Value())
			case "bypassDocumentValidation":
				imo.SetBypassDocumentValidation(a.bool(el))
			default:
				a.unknown(el)
			}
		}
		a.require("documents", docs != nil)
		if a.err != nil {
			return crudOpResult{}, a.err
		}
		res, err := coll.InsertMany(ctx, docs, imo)
		d := bson.D{}
		if res != nil {
			ids := bson.D{}
			for i, id := range res.InsertedIDs {
				ids = append(ids, bson.E{Key: strconv.Itoa(i), Value: id})
			}
			d = bson.D{{Key: "insertedCount", Value: int64(len(res.InsertedIDs))}, {Key: "insertedIds", Value: ids}}
		}
		return crudDocResult(d, err), nil

	case "deleteOne", "deleteMany":
		if err := needColl(); err != nil {
			return crudOpResult{}, err
		}
		dopt := options.Delete()
		var filter bson.Raw
		for _, el := range crudElems(args) {
			switch el.Key() {
			case "filter":
				filter = a.doc(el)
			case "hint":
				dopt.SetHint(a.hint(el))
			case "comment":
				dopt.SetComment(el.Value())
			case "let":
				dopt.SetLet(a.doc(el))
			case "collation":
				dopt.SetCollation(a.collation(el))
			default:
				a.unknown(el)
			}
		}
		a.require("filter", filter != nil)
		if a.err != nil {
			return crudOpResult{}, a.err
		}
		if name == "deleteOne" {
			return crudDeleteResult(coll.DeleteOne(ctx, filter, dopt)), nil
		}
		return crudDeleteResult(coll.DeleteMany(ctx, filter, dopt)), nil

	case "updateOne", "updateMany", "replaceOne":
		if err := needColl(); err != nil {
			return crudOpResult{}, err
		}
		uo := options.Update()
		ro := options.Replace()
		var filter bson.Raw
		var update interface{}
		for _, el := range crudElems(args) {
			switch el.Key() {
			case "filter":
				filter = a.doc(el)
			case "update":
				if name == "replaceOne" {
					a.unknown(el)
					continue
				}
				update = a.update(el)
			case "replacement":
				if name != "replaceOne" {
					a.unknown(el)
					continue
				}
				update = a.doc(el)
			case "upsert":
				uo.SetUpsert(a.bool(el))
				ro.SetUpsert(a.bool(el))
			case "arrayFilters":
				if name == "replaceOne" {
					a.unknown(el)
					continue
				}
				uo.SetArrayFilters(a.arrayFilters(el))
			case "hint":
				uo.SetHint(a.hint(el))
				ro.SetHint(a.hint(el))
			case "comment":
				uo.SetComment(el.Value())
				ro.SetComment(el.Value())
			case "let":
				uo.SetLet(a.doc(el))
				ro.SetLet(a.doc(el))
			case "bypassDocumentValidation":
				uo.SetBypassDocumentValidation(a.bool(el))
				ro.SetBypassDocumentValidation(a.bool(el))
			case "collation":
				uo.SetCollation(a.collation(el))
				ro.SetCollation(a.collation(el))
			default:
				a.unknown(el)
			}
		}
		a.require("filter", filter != nil)
		a.require("update or replacement", update != nil)
		if a.err != nil {
			return crudOpResult{}, a.err
		}
		switch name {
		case "updateOne":
			return crudUpdateResult(coll.UpdateOne(ctx, filter, update, uo)), nil
		case "updateMany":
			return crudUpdateResult(coll.UpdateMany(ctx, filter, update, uo)), nil
		default:
			return crudUpdateResult(coll.ReplaceOne(ctx, filter, update, ro)), nil
		}

	case "findOneAndDelete", "findOneAndReplace", "findOneAndUpdate":
		if err := needColl(); err != nil {
			return crudOpResult{}, err
		}
		do := options.FindOneAndDelete()
		ro := options.FindOneAndReplace()
		uo := options.FindOneAndUpdate()
		var filter bson.Raw
		var update interface{}
		for _, el := range crudElems(args) {
			switch el.Key() {
			case "filter":
				filter = a.doc(el)
			case "update":
				if name != "findOneAndUpdate" {
					a.unknown(el)
					continue
				}
				update = a.update(el)
			case "replacement":
				if name != "findOneAndReplace" {
					a.unknown(el)
					continue
				}
				update = a.doc(el)
			case "sort":
				do.SetSort(a.doc(el))
				ro.SetSort(a.doc(el))
				uo.SetSort(a.doc(el))
			case "projection":
				do.SetProjection(a.doc(el))
				ro.SetProjection(a.doc(el))
				uo.SetProjection(a.doc(el))
			case "hint":
				do.SetHint(a.hint(el))
				ro.SetHint(a.hint(el))
				uo.SetHint(a.hint(el))
			case "comment":
				do.SetComment(el.Value())
				ro.SetComment(el.Value())
				uo.SetComment(el.Value())
			case "let":
				do.SetLet(a.doc(el))
				ro.SetLet(a.doc(el))
				uo.SetLet(a.doc(el))
			case "maxTimeMS":
				d := time.Duration(a.int(el)) * time.Millisecond
				do.SetMaxTime(d)
				ro.SetMaxTime(d)
				uo.SetMaxTime(d)
			case "collation":
				do.SetCollation(a.collation(el))
				ro.SetCollation(a.collation(el))
				uo.SetCollation(a.collation(el))
			case "upsert":
				if name == "findOneAndDelete" {
					a.unknown(el)
					continue
				}
				ro.SetUpsert(a.bool(el))
				uo.SetUpsert(a.bool(el))
			case "returnDocument":
				if name == "findOneAndDelete" {
					a.unknown(el)
					continue
				}
				switch rd := a.str(el); rd {
				case "After":
					ro.SetReturnDocument(options.After)
					uo.SetReturnDocument(options.After)
				case "Before":
					ro.SetReturnDocument(options.Before)
					uo.SetReturnDocument(options.Before)
				default:
					a.fail("returnDocument %q", rd)
				}
			case "arrayFilters":
				if name != "findOneAndUpdate" {
					a.unknown(el)
					continue
				}
				uo.SetArrayFilters(a.arrayFilters(el))
			case "bypassDocumentValidation":
				if name == "findOneAndDelete" {
					a.unknown(el)
					continue
				}
				ro.SetBypassDocumentValidation(a.bool(el))
				uo.SetBypassDocumentValidation(a.bool(el))
			default:
				a.unknown(el)
			}
		}
		a.require("filter", filter != nil)
		if name != "findOneAndDelete" {
			a.require("update or replacement", update != nil)
		}
		if a.err != nil {
			return crudOpResult{}, a.err
		}
		switch name {
		case "findOneAndDelete":
			return crudSingleResult(coll.FindOneAndDelete(ctx, filter, do)), nil
		case "findOneAndReplace":
			return crudSingleResult(coll.FindOneAndReplace(ctx, filter, update, ro)), nil
		default:
			return crudSingleResult(coll.FindOneAndUpdate(ctx, filter, update, uo)), nil
		}

	case "bulkWrite":
		if err := needColl(); err != nil {
			return crudOpResult{}, err
		}
		bo := options.BulkWrite()
		var models []argon.WriteModel
		for _, el := range crudElems(args) {
			switch el.Key() {
			case "requests":
				models = []argon.WriteModel{}
				for _, rv := range crudArrayValues(el.Value()) {
					m, err := crudWriteModel(rv)
					if err != nil {
						return crudOpResult{}, err
					}
					models = append(models, m)
				}
			case "ordered":
				bo.SetOrdered(a.bool(el))
			case "comment":
				bo.SetComment(el.Value())
			case "let":
				bo.SetLet(a.doc(el))
			case "bypassDocumentValidation":
				bo.SetBypassDocumentValidation(a.bool(el))
			default:
				a.unknown(el)
			}
		}
		a.require("requests", models != nil)
		if a.err != nil {
			return crudOpResult{}, a.err
		}
		res, err := coll.BulkWrite(ctx, models, bo)
		d := bson.D{}
		if res != nil {
			var keys []int64
			for k := range res.UpsertedIDs {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
			ups := bson.D{}
			for _, k := range keys {
				ups = append(ups, bson.E{Key: strconv.FormatInt(k, 10), Value: res.UpsertedIDs[k]})
			}
			d = bson.D{
				{Key: "insertedCount", Value: res.InsertedCount},
				{Key: "deletedCount", Value: res.DeletedCount},
				{Key: "matchedCount", Value: res.MatchedCount},
				{Key: "modifiedCount", Value: res.ModifiedCount},
				{Key: "upsertedCount", Value: res.UpsertedCount},
				{Key: "upsertedIds", Value: ups},
			}
		}
		return crudDocResult(d, err), nil

	case "createIndex":
		if err := needColl(); err != nil {
			return crudOpResult{}, err
		}
		io := options.Index()
		var keys bson.Raw
		for _, el := range crudElems(args) {
			switch el.Key() {
			case "keys":
				keys = a.doc(el)
			case "name":
				io.SetName(a.str(el))
			case "unique":
				io.SetUnique(a.bool(el))
			case "sparse":
				io.SetSparse(a.bool(el))
			case "expireAfterSeconds":
				io.SetExpireAfterSeconds(int32(a.int(el)))
			case "partialFilterExpression":
				io.SetPartialFilterExpression(a.doc(el))
			case "hidden":
				io.SetHidden(a.bool(el))
			case "collation":
				io.SetCollation(a.collation(el))
			default:
				a.unknown(el)
			}
		}
		a.require("keys", keys != nil)
		if a.err != nil {
			return crudOpResult{}, a.err
		}
		name, err := coll.Indexes().CreateOne(ctx, argon.IndexModel{Keys: keys, Options: io})
		if err != nil {
			return crudOpResult{err: err}, nil
		}
		return crudOpResult{val: bson.RawValue{Type: bson.TypeString, Value: bsoncore.AppendString(nil, name)}}, nil

	case "createCollection", "dropCollection", "modifyCollection":
		if db == nil {
			return crudOpResult{}, crudRunnerErrorf("operation %s needs a database, %q is not one", name, object)
		}
		var collName, viewOn string
		var pipeline []interface{}
		cmd := bson.D{}
		for _, el := range crudElems(args) {
			switch {
			case el.Key() == "collection":
				collName = a.str(el)
			case el.Key() == "viewOn" && name == "createCollection":
				viewOn = a.str(el)
			case el.Key() == "pipeline" && name == "createCollection":
				pipeline = []interface{}{}
				for _, sv := range crudArrayValues(el.Value()) {
					pipeline = append(pipeline, sv.Document())
				}
			case name == "modifyCollection" && (el.Key() == "validator" || el.Key() == "index" ||
				el.Key() == "changeStreamPreAndPostImages" || el.Key() == "validationLevel" || el.Key() == "validationAction"):
				cmd = append(cmd, bson.E{Key: el.Key(), Value: el.Value()})
			default:
				a.unknown(el)
			}
		}
		a.require("collection", collName != "")
		if a.err != nil {
			return crudOpResult{}, a.err
		}
		switch {
		case name == "dropCollection":
			return crudOpResult{err: db.Collection(collName).Drop(ctx)}, nil
		case name == "modifyCollection":
			cmd = append(bson.D{{Key: "collMod", Value: collName}}, cmd...)
			raw, err := db.RunCommand(ctx, cmd).Raw()
			if err != nil {
				return crudOpResult{err: err}, nil
			}
			return crudOpResult{val: crudDocValue(raw)}, nil
		case viewOn != "":
			if pipeline == nil {
				pipeline = []interface{}{}
			}
			return crudOpResult{err: db.CreateView(ctx, collName, viewOn, pipeline)}, nil
		default:
			return crudOpResult{err: db.CreateCollection(ctx, collName)}, nil
		}

	case "runCommand":
		if db == nil {
			return crudOpResult{}, crudRunnerErrorf("runCommand needs a database, %q is not one", object)
		}
		cmd, ok := args.Lookup("command").DocumentOK()
		if !ok {
			return crudOpResult{}, crudRunnerErrorf("runCommand without a command document")
		}
		raw, err := db.RunCommand(ctx, cmd).Raw()
		if err != nil {
			return crudOpResult{err: err}, nil
		}
		return crudOpResult{val: crudDocValue(raw)}, nil
	}
	return crudOpResult{}, crudRunnerErrorf("operation %q on %q is not implemented", name, object)
}

func crudWriteModel(rv bson.RawValue) (argon.WriteModel, error) {
	rd, ok := rv.DocumentOK()
	if !ok {
		return nil, crudRunnerErrorf("bulkWrite request is a %s, not a document", rv.Type)
	}
	first, err := rd.IndexErr(0)
	if err != nil {
		return nil, crudRunnerErrorf("empty bulkWrite request")
	}
	kind := first.Key()
	args, ok := first.Value().DocumentOK()
	if !ok {
		return nil, crudRunnerErrorf("bulkWrite %s arguments are not a document", kind)
	}
	a := &crudArgs{op: "bulkWrite " + kind}
	var filter, doc bson.Raw
	var update interface{}
	var upsert *bool
	var hint interface{}
	var collation *options.Collation
	var af *options.ArrayFilters
	for _, el := range crudElems(args) {
		switch el.Key() {
		case "filter":
			filter = a.doc(el)
		case "document":
			doc = a.doc(el)
		case "replacement":
			doc = a.doc(el)
		case "update":
			update = a.update(el)
		case "upsert":
			b := a.bool(el)
			upsert = &b
		case "hint":
			hint = a.hint(el)
		case "collation":
			collation = a.collation(el)
		case "arrayFilters":
			f := a.arrayFilters(el)
			af = &f
		default:
			a.unknown(el)
		}
	}
	if a.err != nil {
		return nil, a.err
	}
	switch kind {
	case "insertOne":
		if doc == nil || filter != nil || update != nil || upsert != nil || hint != nil {
			return nil, crudRunnerErrorf("bad insertOne request %s", crudShowRaw(rv))
		}
		return argon.NewInsertOneModel().SetDocument(doc), nil
	case "deleteOne", "deleteMany":
		if filter == nil || doc != nil || update != nil || upsert != nil || af != nil {
			return nil, crudRunnerErrorf("bad %s request %s", kind, crudShowRaw(rv))
		}
		if kind == "deleteOne" {
			m := argon.NewDeleteOneModel().SetFilter(filter)
			if hint != nil {
				m.SetHint(hint)
			}
			if collation != nil {
				m.SetCollation(collation)
			}
			return m, nil
		}
		m := argon.NewDeleteManyModel().SetFilter(filter)
		if hint != nil {
			m.SetHint(hint)
		}
		if collation != nil {
			m.SetCollation(collation)
		}
		return m, nil
	case "replaceOne":
		if filter == nil || doc == nil || update != nil || af != nil {
			return nil, crudRunnerErrorf("bad replaceOne request %s", crudShowRaw(rv))
		}
		m := argon.NewReplaceOneModel().SetFilter(filter).SetReplacement(doc)
		if upsert != nil {
			m.SetUpsert(*upsert)
		}
		if hint != nil {
			m.SetHint(hint)
		}
		if collation != nil {
			m.SetCollation(collation)
		}
		return m, nil
	case "updateOne", "updateMany":
		if filter == nil || update == nil || doc != nil {
			return nil, crudRunnerErrorf("bad %s request %s", kind, crudShowRaw(rv))
		}
		if kind == "updateOne" {
			m := argon.NewUpdateOneModel().SetFilter(filter).SetUpdate(update)
			if upsert != nil {
				m.SetUpsert(*upsert)
			}
			if hint != nil {
				m.SetHint(hint)
			}
			if collation != nil {
				m.SetCollation(collation)
			}
			if af != nil {
				m.SetArrayFilters(*af)
			}
			return m, nil
		}
		m := argon.NewUpdateManyModel().SetFilter(filter).SetUpdate(update)
		if upsert != nil {
			m.SetUpsert(*upsert)
		}
		if hint != nil {
			m.SetHint(hint)
		}
		if collation != nil {
			m.SetCollation(collation)
		}
		if af != nil {
			m.SetArrayFilters(*af)
		}
		return m, nil
	}
	return nil, crudRunnerErrorf("bulkWrite request type %q is not implemented", kind)
}

// crudArgs converts argument values, remembering the first problem.
type crudArgs struct {
	op  string
	err error
}

func (a *crudArgs) fail(format string, args ...interface{}) {
	if a.err == nil {
		a.err = crudRunnerErrorf("%s: %s", a.op, fmt.Sprintf(format, args...))
	}
}

func (a *crudArgs) unknown(el bson.RawElement) { a.fail("argument %q is not implemented", el.Key()) }

func (a *crudArgs) require(name string, ok bool) {
	if !ok {
		a.fail("missing argument %s", name)
	}
}

func (a *crudArgs) doc(el bson.RawElement) bson.Raw {
	d, ok := el.Value().DocumentOK()
	if !ok {
		a.fail("argument %q is a %s, not a document", el.Key(), el.Value().Type)
		return nil
	}
	return d
}

func (a *crudArgs) int(el bson.RawElement) int64 {
	v := el.Value()
	if n, ok := v.AsInt64OK(); ok {
		return n
	}
	if f, ok := v.DoubleOK(); ok && f == math.Trunc(f) {
		return int64(f)
	}
	a.fail("argument %q is a %s, not an integer", el.Key(), v.Type)
	return 0
}

func (a *crudArgs) bool(el bson.RawElement) bool {
	b, ok := el.Value().BooleanOK()
	if !ok {
		a.fail("argument %q is a %s, not a boolean", el.Key(), el.Value().Type)
	}
	return b
}

func (a *crudArgs) str(el bson.RawElement) string {
	s, ok := el.Value().StringValueOK()
	if !ok {
		a.fail("argument %q is a %s, not a string", el.Key(), el.Value().Type)
	}
	return s
}

func (a *crudArgs) hint(el bson.RawElement) interface{} {
	v := el.Value()
	switch v.Type {
	case bson.TypeString:
		return v.StringValue()
	case bson.TypeEmbeddedDocument:
		return v.Document()
	}
	a.fail("hint is a %s", v.Type)
	return nil
}

// update returns an update document, or a pipeline ([]bson.Raw) as the
// driver's own spec runner passes it.
func (a *crudArgs) update(el bson.RawElement) interface{} {
	v := el.Value()
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return v.Document()
	case bson.TypeArray:
		stages := []bson.Raw{}
		for _, sv := range crudArrayValues(v) {
			d, ok := sv.DocumentOK()
			if !ok {
				a.fail("update pipeline stage is a %s", sv.Type)
				return nil
			}
			stages = append(stages, d)
		}
		return stages
	}
	a.fail("update is a %s", v.Type)
	return nil
}

func (a *crudArgs) arrayFilters(el bson.RawElement) options.ArrayFilters {
	var filters []interface{}
	for _, fv := range crudArrayValues(el.Value()) {
		d, ok := fv.DocumentOK()
		if !ok {
			a.fail("arrayFilters element is a %s", fv.Type)
			continue
		}
		filters = append(filters, d)
	}
	return options.ArrayFilters{Filters: filters}
}

func (a *crudArgs) collation(el bson.RawElement) *options.Collation {
	var c options.Collation
	d := a.doc(el)
	for _, cel := range crudElems(d) {
		v := cel.Value()
		switch cel.Key() {
		case "locale":
			c.Locale = v.StringValue()
		case "caseLevel":
			c.CaseLevel = v.Boolean()
		case "caseFirst":
			c.CaseFirst = v.StringValue()
		case "strength":
			n, _ := v.AsInt64OK()
			c.Strength = int(n)
		case "numericOrdering":
			c.NumericOrdering = v.Boolean()
		case "alternate":
			c.Alternate = v.StringValue()
		case "maxVariable":
			c.MaxVariable = v.StringValue()
		case "normalization":
			c.Normalization = v.Boolean()
		case "backwards":
			c.Backwards = v.Boolean()
		default:
			a.fail("collation option %q", cel.Key())
		}
	}
	return &c
}

// crudCommentString renders a comment for the options that take a string
// (find, aggregate, count), as the driver's runner does.
func crudCommentString(v bson.RawValue) string {
	if s, ok := v.StringValueOK(); ok {
		return s
	}
	return v.String()
}

func crudDocsToInterfaces(docs []bson.Raw) []interface{} {
	out := make([]interface{}, len(docs))
	for i, d := range docs {
		out[i] = d
	}
	return out
}

// ---------------------------------------------------------------------------
// Checks

// crudCheckResult matches an expected result with the unified format's
// rules: $$ operators, numbers by value, extra fields allowed in root
// documents (not in single-value arrays such as distinct's).
func crudCheckResult(want bson.RawValue, res crudOpResult) error {
	got, extra := res.actual()
	if got.Type == 0 {
		got = crudDocValue(bson.Raw(bsoncore.NewDocumentBuilder().Build()))
	}
	if err := crudMatch(want, got, extra, ""); err != nil {
		return fmt.Errorf("result mismatch: %v; want %s, got %s", err, crudShowRaw(want), crudShowRaw(got))
	}
	return nil
}

type crudExpectedError struct {
	IsError        *bool         `bson:"isError"`
	IsClientError  *bool         `bson:"isClientError"`
	IsTimeoutError *bool         `bson:"isTimeoutError"`
	ErrorContains  *string       `bson:"errorContains"`
	ErrorCode      *int32        `bson:"errorCode"`
	ErrorCodeName  *string       `bson:"errorCodeName"`
	LabelsContain  []string      `bson:"errorLabelsContain"`
	LabelsOmit     []string      `bson:"errorLabelsOmit"`
	ExpectResult   bson.RawValue `bson:"expectResult"`
	ErrorResponse  bson.Raw      `bson:"errorResponse"`
}

func crudCheckError(spec bson.Raw, res crudOpResult) error {
	var want crudExpectedError
	if err := bson.Unmarshal(spec, &want); err != nil {
		return crudRunnerErrorf("decoding expectError %s: %v", crudShowRaw(crudDocValue(spec)), err)
	}
	if res.err == nil {
		return fmt.Errorf("expected an error (%s), got none; result %s", crudShowRaw(crudDocValue(spec)), crudShowResult(res))
	}
	got := res.err
	if want.ErrorContains != nil && !strings.Contains(strings.ToLower(got.Error()), strings.ToLower(*want.ErrorContains)) {
		return fmt.Errorf("expected an error containing %q, got %q", *want.ErrorContains, got.Error())
	}
	details, serverErr := crudErrorDetails(got)
	if want.IsClientError != nil && *want.IsClientError == serverErr {
		if serverErr {
			return fmt.Errorf("expected a client-side error, got a server error %T: %v", crudErrType(got), got)
		}
		return fmt.Errorf("expected a server error (CommandError/WriteException/BulkWriteException), got a client-side error %T: %v", crudErrType(got), got)
	}
	if want.IsTimeoutError != nil && *want.IsTimeoutError != mongo.IsTimeout(got) {
		return fmt.Errorf("expected a timeout error: %v, got %v", *want.IsTimeoutError, got)
	}
	if !serverErr && (want.ErrorCode != nil || want.ErrorCodeName != nil || want.LabelsContain != nil ||
		want.LabelsOmit != nil || want.ErrorResponse != nil) {
		return fmt.Errorf("expected a server error with code/labels/response, got %T: %v", crudErrType(got), got)
	}
	if want.ErrorCode != nil && !crudContainsInt(details.codes, *want.ErrorCode) {
		return fmt.Errorf("expected error code %d, got codes %v: %v", *want.ErrorCode, details.codes, got)
	}
	if want.ErrorCodeName != nil && !crudContainsString(details.names, *want.ErrorCodeName) {
		return fmt.Errorf("expected error code name %q, got %v: %v", *want.ErrorCodeName, details.names, got)
	}
	for _, l := range want.LabelsContain {
		if !crudContainsString(details.labels, l) {
			return fmt.Errorf("expected error label %q, got %v", l, details.labels)
		}
	}
	for _, l := range want.LabelsOmit {
		if crudContainsString(details.labels, l) {
			return fmt.Errorf("expected no error label %q, got %v", l, details.labels)
		}
	}
	if want.ExpectResult.Type != 0 {
		if err := crudCheckResult(want.ExpectResult, res); err != nil {
			return err
		}
	}
	if want.ErrorResponse != nil {
		if details.raw == nil {
			return fmt.Errorf("expected an error response %s, the error carries none: %v", crudShowRaw(crudDocValue(want.ErrorResponse)), got)
		}
		if err := crudMatch(crudDocValue(want.ErrorResponse), crudDocValue(details.raw), true, ""); err != nil {
			return fmt.Errorf("error response mismatch: %v; want %s, got %s", err,
				crudShowRaw(crudDocValue(want.ErrorResponse)), crudShowRaw(crudDocValue(details.raw)))
		}
	}
	return nil
}

type crudErrDetails struct {
	codes  []int32
	names  []string
	labels []string
	raw    bson.Raw
}

// crudErrorDetails extracts what the server would have sent, from the
// driver's server error types; ok is false for client-side errors.
func crudErrorDetails(err error) (crudErrDetails, bool) {
	var d crudErrDetails
	var ce mongo.CommandError
	var pce *mongo.CommandError
	var we mongo.WriteException
	var pwe *mongo.WriteException
	var bwe mongo.BulkWriteException
	var pbwe *mongo.BulkWriteException
	switch {
	case errors.As(err, &ce) || errors.As(err, &pce):
		if pce != nil {
			ce = *pce
		}
		d.codes = []int32{ce.Code}
		d.names = []string{ce.Name}
		d.labels = ce.Labels
		d.raw = ce.Raw
	case errors.As(err, &we) || errors.As(err, &pwe):
		if pwe != nil {
			we = *pwe
		}
		if we.WriteConcernError != nil {
			d.codes = append(d.codes, int32(we.WriteConcernError.Code))
			d.names = append(d.names, we.WriteConcernError.Name)
		}
		for _, e := range we.WriteErrors {
			d.codes = append(d.codes, int32(e.Code))
			if n, ok := e.Raw.Lookup("codeName").StringValueOK(); ok {
				d.names = append(d.names, n)
			}
		}
		d.labels = we.Labels
		d.raw = we.Raw
	case errors.As(err, &bwe) || errors.As(err, &pbwe):
		if pbwe != nil {
			bwe = *pbwe
		}
		if bwe.WriteConcernError != nil {
			d.codes = append(d.codes, int32(bwe.WriteConcernError.Code))
			d.names = append(d.names, bwe.WriteConcernError.Name)
		}
		for _, e := range bwe.WriteErrors {
			d.codes = append(d.codes, int32(e.Code))
			if n, ok := e.Raw.Lookup("codeName").StringValueOK(); ok {
				d.names = append(d.names, n)
			}
			d.raw = e.Raw
		}
		d.labels = bwe.Labels
	default:
		return d, false
	}
	return d, true
}

// crudErrType returns the innermost error, for messages.
func crudErrType(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

func crudContainsInt(list []int32, v int32) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func crudContainsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// crudCheckCollection compares a collection's documents, both sides in _id
// order, exactly: same fields (in any order), same values and same BSON
// types (as the driver's own runner does; a numeric type that differs is
// reported as such).
func crudCheckCollection(ctx context.Context, coll *argon.Collection, want []bson.Raw) error {
	ns := coll.Database().Name() + "." + coll.Name()
	cur, err := coll.Find(ctx, bson.D{})
	res := crudCursorResult(ctx, "Find", cur, err)
	if res.err != nil {
		return fmt.Errorf("reading %s for the outcome: %w", ns, res.err)
	}
	got := res.docs
	want = append([]bson.Raw(nil), want...)
	crudSortByID(got)
	crudSortByID(want)
	if len(got) != len(want) {
		return fmt.Errorf("outcome %s: want %d documents, got %d: want %s, got %s",
			ns, len(want), len(got), crudShowDocs(want), crudShowDocs(got))
	}
	for i := range want {
		if err := crudExactMatch(crudDocValue(want[i]), crudDocValue(got[i]), ""); err != nil {
			return fmt.Errorf("outcome %s, document %d: %v; want %s, got %s",
				ns, i, err, crudShowRaw(crudDocValue(want[i])), crudShowRaw(crudDocValue(got[i])))
		}
	}
	return nil
}

func crudSortByID(docs []bson.Raw) {
	sort.SliceStable(docs, func(i, j int) bool {
		return crudCompareValues(docs[i].Lookup("_id"), docs[j].Lookup("_id")) < 0
	})
}

// crudMatch implements the unified format's matching rules. actual.Type 0
// means the value is absent. extra allows extra fields in the document at
// this level (root documents of results); nested documents never do.
func crudMatch(want, got bson.RawValue, extra bool, path string) error {
	if wd, ok := want.DocumentOK(); ok {
		if op, arg, ok := crudSpecialOp(wd); ok {
			return crudSpecialMatch(op, arg, got, extra, path)
		}
		gd, ok := got.DocumentOK()
		if !ok {
			return fmt.Errorf("%s: want a document, got %s", crudPath(path), crudShowValue(got))
		}
		for _, el := range crudElems(wd) {
			key, wv := el.Key(), el.Value()
			p := crudJoin(path, key)
			gv := gd.Lookup(key)
			if sd, ok := wv.DocumentOK(); ok {
				if op, arg, ok := crudSpecialOp(sd); ok {
					if err := crudSpecialMatch(op, arg, gv, false, p); err != nil {
						return err
					}
					continue
				}
			}
			if gv.Type == 0 {
				return fmt.Errorf("%s: missing", p)
			}
			if err := crudMatch(wv, gv, false, p); err != nil {
				return err
			}
		}
		if !extra {
			for _, el := range crudElems(gd) {
				if wd.Lookup(el.Key()).Type == 0 {
					return fmt.Errorf("%s: unexpected field %q", crudPath(path), el.Key())
				}
			}
		}
		return nil
	}
	if want.Type == bson.TypeArray {
		if got.Type != bson.TypeArray {
			return fmt.Errorf("%s: want an array, got %s", crudPath(path), crudShowValue(got))
		}
		wv, gv := crudArrayValues(want), crudArrayValues(got)
		if len(wv) != len(gv) {
			return fmt.Errorf("%s: want %d elements, got %d", crudPath(path), len(wv), len(gv))
		}
		for i := range wv {
			if err := crudMatch(wv[i], gv[i], extra, crudJoin(path, strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	}
	if crudIsNumber(want.Type) {
		if !crudIsNumber(got.Type) {
			return fmt.Errorf("%s: want the number %s, got %s", crudPath(path), crudShowValue(want), crudShowValue(got))
		}
		if crudNumCompare(want, got) != 0 {
			return fmt.Errorf("%s: want %s, got %s", crudPath(path), crudShowValue(want), crudShowValue(got))
		}
		return nil
	}
	if want.Type != got.Type || !bytes.Equal(want.Value, got.Value) {
		return fmt.Errorf("%s: want %s, got %s", crudPath(path), crudShowValue(want), crudShowValue(got))
	}
	return nil
}

func crudSpecialOp(d bson.Raw) (string, bson.RawValue, bool) {
	els := crudElems(d)
	if len(els) == 1 && strings.HasPrefix(els[0].Key(), "$$") {
		return els[0].Key(), els[0].Value(), true
	}
	return "", bson.RawValue{}, false
}

func crudSpecialMatch(op string, arg, got bson.RawValue, extra bool, path string) error {
	switch op {
	case "$$exists":
		want := arg.Boolean()
		if exists := got.Type != 0; exists != want {
			if want {
				return fmt.Errorf("%s: missing", crudPath(path))
			}
			return fmt.Errorf("%s: want no value, got %s", crudPath(path), crudShowValue(got))
		}
		return nil
	case "$$unsetOrMatches":
		if got.Type == 0 {
			return nil
		}
		return crudMatch(arg, got, extra, path)
	case "$$type":
		var names []string
		if s, ok := arg.StringValueOK(); ok {
			names = []string{s}
		} else {
			for _, v := range crudArrayValues(arg) {
				names = append(names, v.StringValue())
			}
		}
		for _, n := range names {
			for _, t := range crudTypeAliases[n] {
				if got.Type == t {
					return nil
				}
			}
			if _, ok := crudTypeAliases[n]; !ok {
				return crudRunnerErrorf("$$type %q is not implemented", n)
			}
		}
		return fmt.Errorf("%s: want type %v, got %s", crudPath(path), names, crudShowValue(got))
	case "$$lte":
		if !crudIsNumber(got.Type) {
			return fmt.Errorf("%s: want a number <= %s, got %s", crudPath(path), crudShowValue(arg), crudShowValue(got))
		}
		if crudNumCompare(got, arg) > 0 {
			return fmt.Errorf("%s: want <= %s, got %s", crudPath(path), crudShowValue(arg), crudShowValue(got))
		}
		return nil
	case "$$matchAsRoot":
		return crudMatch(arg, got, true, path)
	case "$$matchesHexBytes":
		_, b, ok := got.BinaryOK()
		if !ok || fmt.Sprintf("%x", b) != strings.ToLower(arg.StringValue()) {
			return fmt.Errorf("%s: want bytes %s, got %s", crudPath(path), arg.StringValue(), crudShowValue(got))
		}
		return nil
	}
	return crudRunnerErrorf("special operator %s is not implemented", op)
}

var crudTypeAliases = map[string][]bsontype.Type{
	"double":              {bson.TypeDouble},
	"string":              {bson.TypeString},
	"object":              {bson.TypeEmbeddedDocument},
	"array":               {bson.TypeArray},
	"binData":             {bson.TypeBinary},
	"undefined":           {bson.TypeUndefined},
	"objectId":            {bson.TypeObjectID},
	"bool":                {bson.TypeBoolean},
	"date":                {bson.TypeDateTime},
	"null":                {bson.TypeNull},
	"regex":               {bson.TypeRegex},
	"dbPointer":           {bson.TypeDBPointer},
	"javascript":          {bson.TypeJavaScript},
	"symbol":              {bson.TypeSymbol},
	"javascriptWithScope": {bson.TypeCodeWithScope},
	"int":                 {bson.TypeInt32},
	"timestamp":           {bson.TypeTimestamp},
	"long":                {bson.TypeInt64},
	"decimal":             {bson.TypeDecimal128},
	"minKey":              {bson.TypeMinKey},
	"maxKey":              {bson.TypeMaxKey},
	"number":              {bson.TypeInt32, bson.TypeInt64, bson.TypeDouble, bson.TypeDecimal128},
}

// crudExactMatch compares exactly: same fields (any order), same types and
// bytes. A numeric type that differs while the value is equal gets its own
// message.
func crudExactMatch(want, got bson.RawValue, path string) error {
	if want.Type != got.Type {
		if crudIsNumber(want.Type) && crudIsNumber(got.Type) && crudNumCompare(want, got) == 0 {
			return fmt.Errorf("%s: numeric type differs: want %s %s, got %s %s",
				crudPath(path), want.Type, crudShowValue(want), got.Type, crudShowValue(got))
		}
		return fmt.Errorf("%s: want %s, got %s", crudPath(path), crudShowValue(want), crudShowValue(got))
	}
	switch want.Type {
	case bson.TypeEmbeddedDocument:
		wd, gd := want.Document(), got.Document()
		for _, el := range crudElems(wd) {
			p := crudJoin(path, el.Key())
			gv := gd.Lookup(el.Key())
			if gv.Type == 0 {
				return fmt.Errorf("%s: missing", p)
			}
			if err := crudExactMatch(el.Value(), gv, p); err != nil {
				return err
			}
		}
		for _, el := range crudElems(gd) {
			if wd.Lookup(el.Key()).Type == 0 {
				return fmt.Errorf("%s: unexpected field %q", crudPath(path), el.Key())
			}
		}
		return nil
	case bson.TypeArray:
		wv, gv := crudArrayValues(want), crudArrayValues(got)
		if len(wv) != len(gv) {
			return fmt.Errorf("%s: want %d elements, got %d", crudPath(path), len(wv), len(gv))
		}
		for i := range wv {
			if err := crudExactMatch(wv[i], gv[i], crudJoin(path, strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	}
	if !bytes.Equal(want.Value, got.Value) {
		return fmt.Errorf("%s: want %s, got %s", crudPath(path), crudShowValue(want), crudShowValue(got))
	}
	return nil
}

// ---------------------------------------------------------------------------
// BSON helpers

func crudElems(d bson.Raw) []bson.RawElement {
	if len(d) == 0 {
		return nil
	}
	els, _ := d.Elements()
	return els
}

func crudArrayValues(v bson.RawValue) []bson.RawValue {
	arr, ok := v.ArrayOK()
	if !ok {
		return nil
	}
	vals, _ := arr.Values()
	return vals
}

func crudIsNumber(t bsontype.Type) bool {
	return t == bson.TypeInt32 || t == bson.TypeInt64 || t == bson.TypeDouble || t == bson.TypeDecimal128
}

// crudNum is a number for exact comparison across BSON numeric types.
type crudNum struct {
	rat *big.Rat
	inf int // -1, +1 for infinities
	nan bool
}

func crudToNum(v bson.RawValue) crudNum {
	switch v.Type {
	case bson.TypeInt32:
		return crudNum{rat: new(big.Rat).SetInt64(int64(v.Int32()))}
	case bson.TypeInt64:
		return crudNum{rat: new(big.Rat).SetInt64(v.Int64())}
	case bson.TypeDouble:
		f := v.Double()
		switch {
		case math.IsNaN(f):
			return crudNum{nan: true}
		case math.IsInf(f, 1):
			return crudNum{inf: 1}
		case math.IsInf(f, -1):
			return crudNum{inf: -1}
		}
		return crudNum{rat: new(big.Rat).SetFloat64(f)}
	case bson.TypeDecimal128:
		d := v.Decimal128()
		if d.IsNaN() {
			return crudNum{nan: true}
		}
		if s := d.IsInf(); s != 0 {
			return crudNum{inf: s}
		}
		bi, exp, err := d.BigInt()
		if err != nil {
			return crudNum{nan: true}
		}
		r := new(big.Rat).SetInt(bi)
		if exp != 0 {
			p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(crudAbs(exp))), nil)
			if exp > 0 {
				r.Mul(r, new(big.Rat).SetInt(p))
			} else {
				r.Quo(r, new(big.Rat).SetInt(p))
			}
		}
		return crudNum{rat: r}
	}
	return crudNum{nan: true}
}

func crudAbs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// crudNumCompare orders numbers as MongoDB does (NaN lowest).
func crudNumCompare(a, b bson.RawValue) int {
	x, y := crudToNum(a), crudToNum(b)
	switch {
	case x.nan && y.nan:
		return 0
	case x.nan:
		return -1
	case y.nan:
		return 1
	case x.inf != 0 || y.inf != 0:
		if x.inf == y.inf {
			return 0
		}
		if x.inf == -1 || y.inf == 1 {
			return -1
		}
		return 1
	}
	return x.rat.Cmp(y.rat)
}

// crudTypeRank is MongoDB's comparison order of BSON types.
func crudTypeRank(t bsontype.Type) int {
	switch t {
	case 0:
		return 0
	case bson.TypeMinKey:
		return 1
	case bson.TypeUndefined, bson.TypeNull:
		return 2
	case bson.TypeInt32, bson.TypeInt64, bson.TypeDouble, bson.TypeDecimal128:
		return 3
	case bson.TypeString, bson.TypeSymbol:
		return 4
	case bson.TypeEmbeddedDocument:
		return 5
	case bson.TypeArray:
		return 6
	case bson.TypeBinary:
		return 7
	case bson.TypeObjectID:
		return 8
	case bson.TypeBoolean:
		return 9
	case bson.TypeDateTime:
		return 10
	case bson.TypeTimestamp:
		return 11
	case bson.TypeRegex:
		return 12
	case bson.TypeMaxKey:
		return 14
	}
	return 13
}

// crudCompareValues orders _id values for the outcome comparison (not the
// code under test's sort).
func crudCompareValues(a, b bson.RawValue) int {
	ra, rb := crudTypeRank(a.Type), crudTypeRank(b.Type)
	if ra != rb {
		if ra < rb {
			return -1
		}
		return 1
	}
	switch ra {
	case 3:
		return crudNumCompare(a, b)
	case 4:
		sa, _ := a.StringValueOK()
		sb, _ := b.StringValueOK()
		if a.Type == bson.TypeSymbol {
			sa = a.Symbol()
		}
		if b.Type == bson.TypeSymbol {
			sb = b.Symbol()
		}
		return strings.Compare(sa, sb)
	case 8:
		oa, ob := a.ObjectID(), b.ObjectID()
		return bytes.Compare(oa[:], ob[:])
	case 9:
		x, y := a.Boolean(), b.Boolean()
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case 10:
		x, y := a.DateTime(), b.DateTime()
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return bytes.Compare(a.Value, b.Value)
}

func crudJoin(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func crudPath(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

func crudShowValue(v bson.RawValue) string {
	if v.Type == 0 {
		return "(absent)"
	}
	return crudShowRaw(v)
}

// crudShowRaw renders a value as relaxed extended JSON, shortened.
func crudShowRaw(v bson.RawValue) string {
	if v.Type == 0 {
		return "(none)"
	}
	s := v.String()
	if b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, false, false); err == nil {
		s = strings.TrimSuffix(strings.TrimPrefix(string(b), `{"v":`), "}")
	}
	return crudOneLine(s, 300)
}

func crudShowDocs(docs []bson.Raw) string {
	parts := make([]string, len(docs))
	for i, d := range docs {
		parts[i] = crudShowRaw(crudDocValue(d))
	}
	return crudOneLine("["+strings.Join(parts, ", ")+"]", 400)
}

func crudShowResult(res crudOpResult) string {
	v, _ := res.actual()
	return crudShowValue(v)
}

// Compile-time checks that the aliases used here are the driver's types.
var (
	_ *mongo.Cursor       = (*argon.Cursor)(nil)
	_ *mongo.SingleResult = (*argon.SingleResult)(nil)
)

// TestCRUDSpec_Match checks the runner's own matching rules, so that a
// lenient matcher cannot turn failures into passes.
func TestCRUDSpec_Match(t *testing.T) {
	ej := func(s string) bson.RawValue {
		t.Helper()
		var d bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(`{"v": `+s+`}`), false, &d); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		return d.Lookup("v")
	}
	absent := bson.RawValue{}
	tests := []struct {
		name      string
		want, got bson.RawValue
		extra     bool
		ok        bool
	}{
		{"equal documents", ej(`{"a": 1}`), ej(`{"a": 1}`), false, true},
		{"int32 equals int64 and double", ej(`{"a": 1, "b": 2}`), ej(`{"a": {"$numberLong": "1"}, "b": 2.0}`), false, true},
		{"int equals decimal", ej(`3`), ej(`{"$numberDecimal": "3.0"}`), false, true},
		{"different number", ej(`1`), ej(`1.5`), false, false},
		{"number vs string", ej(`1`), ej(`"1"`), false, false},
		{"extra root field allowed", ej(`{"a": 1}`), ej(`{"a": 1, "b": 2}`), true, true},
		{"extra root field rejected", ej(`{"a": 1}`), ej(`{"a": 1, "b": 2}`), false, false},
		{"extra nested field rejected", ej(`{"a": {"x": 1}}`), ej(`{"a": {"x": 1, "y": 2}}`), true, false},
		{"missing field", ej(`{"a": 1, "b": 2}`), ej(`{"a": 1}`), true, false},
		{"array length", ej(`[1, 2]`), ej(`[1, 2, 3]`), true, false},
		{"array order", ej(`[1, 2]`), ej(`[2, 1]`), true, false},
		{"cursor docs may carry extra root fields", ej(`[{"_id": 1}]`), ej(`[{"_id": 1, "x": 1}]`), true, true},
		{"unsetOrMatches unset", ej(`{"$$unsetOrMatches": {"insertedId": 1}}`), absent, true, true},
		{"unsetOrMatches matches", ej(`{"$$unsetOrMatches": {"insertedId": 1}}`), ej(`{"insertedId": 1}`), true, true},
		{"unsetOrMatches differs", ej(`{"$$unsetOrMatches": {"insertedId": 1}}`), ej(`{"insertedId": 2}`), true, false},
		{"nested unsetOrMatches unset", ej(`{"a": {"$$unsetOrMatches": 1}}`), ej(`{}`), true, true},
		{"exists false", ej(`{"a": {"$$exists": false}}`), ej(`{"b": 1}`), true, true},
		{"exists false but present", ej(`{"a": {"$$exists": false}}`), ej(`{"a": 1}`), true, false},
		{"exists true", ej(`{"a": {"$$exists": true}}`), ej(`{"a": null}`), true, true},
		{"type", ej(`{"a": {"$$type": ["int", "long"]}}`), ej(`{"a": {"$numberLong": "5"}}`), true, true},
		{"type mismatch", ej(`{"a": {"$$type": "object"}}`), ej(`{"a": 5}`), true, false},
		{"null vs absent", ej(`{"a": null}`), ej(`{}`), true, false},
	}
	for _, tc := range tests {
		err := crudMatch(tc.want, tc.got, tc.extra, "")
		if (err == nil) != tc.ok {
			t.Errorf("%s: crudMatch(%s, %s, extra=%v) = %v, want ok=%v", tc.name, crudShowValue(tc.want), crudShowValue(tc.got), tc.extra, err, tc.ok)
		}
	}

	exact := []struct {
		name      string
		want, got bson.RawValue
		ok        bool
	}{
		{"same fields any order", ej(`{"a": 1, "b": "x"}`), ej(`{"b": "x", "a": 1}`), true},
		{"int32 vs double", ej(`{"a": 1}`), ej(`{"a": 1.0}`), false},
		{"int32 vs int64", ej(`{"a": 1}`), ej(`{"a": {"$numberLong": "1"}}`), false},
		{"extra field", ej(`{"a": 1}`), ej(`{"a": 1, "b": 1}`), false},
		{"nested array", ej(`{"a": [1, {"b": 2}]}`), ej(`{"a": [1, {"b": 2}]}`), true},
		{"nested array differs", ej(`{"a": [1, {"b": 2}]}`), ej(`{"a": [1, {"b": 3}]}`), false},
	}
	for _, tc := range exact {
		err := crudExactMatch(tc.want, tc.got, "")
		if (err == nil) != tc.ok {
			t.Errorf("%s: crudExactMatch(%s, %s) = %v, want ok=%v", tc.name, crudShowValue(tc.want), crudShowValue(tc.got), err, tc.ok)
		}
	}

	ids := []bson.Raw{}
	for _, s := range []string{`{"_id": "a"}`, `{"_id": 3}`, `{"_id": 1.5}`, `{"_id": null}`, `{"_id": {"$numberLong": "2"}}`} {
		var d bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d)
	}
	crudSortByID(ids)
	var order []string
	for _, d := range ids {
		order = append(order, crudShowValue(d.Lookup("_id")))
	}
	if got, want := strings.Join(order, " "), `null 1.5 2 3 "a"`; got != want {
		t.Errorf("crudSortByID order = %s, want %s", got, want)
	}
}

// TestCRUDSpec_Requirements checks how runOnRequirements are evaluated.
func TestCRUDSpec_Requirements(t *testing.T) {
	req := func(s string) bson.Raw {
		t.Helper()
		var d bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		reqs []string
		met  bool
	}{
		{nil, true},
		{[]string{`{"minServerVersion": "4.2"}`}, true},
		{[]string{`{"maxServerVersion": "4.4.99"}`}, false},
		{[]string{`{"maxServerVersion": "3.3.99"}`, `{"minServerVersion": "4.4"}`}, true},
		{[]string{`{"topologies": ["sharded"]}`}, false},
		{[]string{`{"topologies": ["replicaset", "sharded"]}`}, true},
		{[]string{`{"serverless": "require"}`}, false},
		{[]string{`{"serverless": "forbid"}`}, true},
		{[]string{`{"auth": true}`}, false},
		{[]string{`{"minServerVersion": "99.0"}`}, false},
	}
	for _, tc := range tests {
		var reqs []bson.Raw
		for _, s := range tc.reqs {
			reqs = append(reqs, req(s))
		}
		reason := crudRunOnUnmet(reqs)
		if (reason == "") != tc.met {
			t.Errorf("crudRunOnUnmet(%v) = %q, want met=%v", tc.reqs, reason, tc.met)
		}
	}
}
