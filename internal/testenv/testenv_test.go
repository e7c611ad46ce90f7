package testenv

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// fakeTB records Skip and Fatal calls; like testing.T, both stop the calling
// goroutine.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skip(args ...any) {
	f.skipped, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fakeTB) Skipf(format string, args ...any) { f.Skip(fmt.Sprintf(format, args...)) }

func (f *fakeTB) Fatal(args ...any) {
	f.failed, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fakeTB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }

// callMongoURI runs MongoURI on a fake TB in its own goroutine, since Skip
// and Fatal end the goroutine.
func callMongoURI(t *testing.T) (*fakeTB, string) {
	f := &fakeTB{TB: t}
	var got string
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = MongoURI(f)
	}()
	<-done
	return f, got
}

func TestMongoURI_Set(t *testing.T) {
	const uri = "mongodb://example.invalid:1/"
	for _, require := range []string{"", "1"} {
		t.Run("require="+require, func(t *testing.T) {
			t.Setenv(URIEnv, uri)
			t.Setenv(RequireEnv, require)
			f, got := callMongoURI(t)
			if f.skipped || f.failed {
				t.Fatalf("skipped=%v failed=%v msg=%q", f.skipped, f.failed, f.msg)
			}
			if got != uri {
				t.Fatalf("MongoURI = %q, want %q", got, uri)
			}
		})
	}
}

func TestMongoURI_Unset(t *testing.T) {
	tests := []struct {
		name, require     string
		wantSkip, wantErr bool
	}{
		{"not required", "", true, false},
		{"required", "1", false, true},
		{"other value is not required", "0", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(URIEnv, "")
			t.Setenv(RequireEnv, tt.require)
			f, got := callMongoURI(t)
			if f.skipped != tt.wantSkip || f.failed != tt.wantErr {
				t.Fatalf("skipped=%v failed=%v, want %v %v", f.skipped, f.failed, tt.wantSkip, tt.wantErr)
			}
			if got != "" {
				t.Fatalf("MongoURI returned %q after stopping the test", got)
			}
			for _, want := range []string{URIEnv, "scripts/test"} {
				if !strings.Contains(f.msg, want) {
					t.Errorf("message %q does not mention %q", f.msg, want)
				}
			}
		})
	}
}

var validDBName = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

func TestDBName_Valid(t *testing.T) {
	tests := []struct{ prefix, test, wantPrefix string }{
		{"wal", "TestStore_Append", "wal_teststore_append_"},
		{"", "TestX", "argon_testx_"},
		{"Mixed.Case/$x", "TestY/sub case#1", "mixed_case__x_testy_sub_case_1_"},
		{strings.Repeat("p", 100), strings.Repeat("T", 100), strings.Repeat("p", 24) + "_"},
		{"x", strings.Repeat("é", 40), "x_"},
	}
	for _, tt := range tests {
		name := dbName(tt.prefix, tt.test)
		if !validDBName.MatchString(name) {
			t.Errorf("dbName(%q, %q) = %q: not a valid database name", tt.prefix, tt.test, name)
		}
		if !strings.HasPrefix(name, tt.wantPrefix) {
			t.Errorf("dbName(%q, %q) = %q, want prefix %q", tt.prefix, tt.test, name, tt.wantPrefix)
		}
	}
}

func TestDBName_Unique(t *testing.T) {
	seen := make(map[string]bool)
	for range 10000 {
		name := dbName("u", t.Name())
		if seen[name] {
			t.Fatalf("dbName repeated %q", name)
		}
		seen[name] = true
	}
}

// TestMongoClient_RoundTrip needs a server (scripts/test provides one).
func TestMongoClient_RoundTrip(t *testing.T) {
	client := MongoClient(t)
	ctx := context.Background()

	var name string
	t.Run("write", func(t *testing.T) {
		name = UniqueDBName(t, "testenv")
		if !validDBName.MatchString(name) {
			t.Fatalf("UniqueDBName = %q: not a valid database name", name)
		}
		coll := client.Database(name).Collection("c")
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: "x"}}); err != nil {
			t.Fatal(err)
		}
		names, err := client.ListDatabaseNames(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(names, name) {
			t.Fatalf("database %q not listed after insert: %q", name, names)
		}
	})

	// The subtest's cleanup has dropped its database.
	names, err := client.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if name != "" && slices.Contains(names, name) {
		t.Errorf("database %q still exists after the test's cleanup", name)
	}
}
