package argon_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/argon-lab/argon/internal/testenv"
)

// TestImportSwap compiles an application written for the MongoDB driver
// (testdata/importswap/inventory) with only its import line changed to
// Argon and requires it to print exactly what it prints on the driver
// (testdata/importswap/inventory.golden): once with the log in a MongoDB
// deployment (mongo.Connect, unchanged) and once on the embedded store
// (the Connect line changed to Open). With a test server, the unchanged
// program runs against the driver too, so the golden output stays true.
func TestImportSwap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three programs")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skipf("no go command: %v", err)
	}
	const pkg = "./testdata/importswap/inventory"
	src, err := filepath.Abs(filepath.Join(pkg, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile("testdata/importswap/inventory.golden")
	if err != nil {
		t.Fatal(err)
	}

	const (
		driverImport = "\t\"go.mongodb.org/mongo-driver/mongo\"\n"
		argonImport  = "\tmongo \"github.com/argon-lab/argon\"\n"
		connectLine  = "mongo.Connect(ctx, options.Client().ApplyURI(*uri))"
		openLine     = "mongo.Open(ctx, *uri)"
	)
	mustReplace := func(s, old, new string) string {
		t.Helper()
		if strings.Count(s, old) != 1 {
			t.Fatalf("%s must contain %q exactly once", src, old)
		}
		return strings.Replace(s, old, new, 1)
	}
	swapped := mustReplace(string(orig), driverImport, argonImport)
	embedded := mustReplace(swapped, connectLine, openLine)

	tmp := t.TempDir()
	build := func(name, source string) string {
		t.Helper()
		args := []string{"build", "-o", filepath.Join(tmp, name)}
		if source != "" {
			file := filepath.Join(tmp, name+".go")
			if err := os.WriteFile(file, []byte(source), 0o644); err != nil {
				t.Fatal(err)
			}
			overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {src: file}})
			ov := filepath.Join(tmp, name+".overlay.json")
			if err := os.WriteFile(ov, overlay, 0o644); err != nil {
				t.Fatal(err)
			}
			args = append(args, "-overlay", ov)
		}
		cmd := exec.Command(goTool, append(args, pkg)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return filepath.Join(tmp, name)
	}
	check := func(name string, bin string, args ...string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, stderr.Bytes())
		}
		if got := stdout.String(); got != string(golden) {
			t.Errorf("%s printed:\n%s\nwant (testdata/importswap/inventory.golden):\n%s", name, got, golden)
		}
	}

	check("argon, embedded store", build("argon-embedded", embedded), "-uri", filepath.Join(tmp, "store"))
	uri := testenv.MongoURI(t) // skips (or fails when required) without a server
	check("argon, MongoDB store", build("argon-mongo", swapped), "-uri", uri, "-db", testenv.UniqueDBName(t, "swap"))
	check("plain driver", build("driver", ""), "-uri", uri, "-db", testenv.UniqueDBName(t, "swapdrv"))
}
