// Package argontest gives each test its own Argon branch: seed a database
// once, then let every test fork it, write freely and leave nothing behind.
//
//	func TestOrders(t *testing.T) {
//		t.Parallel()
//		c := argontest.Branch(t, seeded) // a fresh copy of the seed, deleted when t ends
//		orders := c.Database("shop").Collection("orders")
//		...
//	}
//
// Creating a branch costs the same whatever the size of the seed: the branch
// shares its parent's state and copies only what the test changes. That
// replaces the usual choices for isolated database tests, dropping and
// re-seeding a database before each test, or one server per test, and it
// makes parallel tests (t.Parallel) safe: no test sees another's writes.
//
// A typical package seeds in TestMain, where no testing.T exists, with
// argon.OpenMemory (or argon.Open on a temporary directory) and disconnects
// after m.Run; tests that need a store of their own use Memory. See
// examples/branchpertest for a complete package.
//
// # Concurrency
//
// Branch and Memory are safe to call from parallel tests, on the same seeded
// client or on different ones. Branches are created through the seeded
// client's log, whose group commit turns many concurrent creations into few
// appends. Each branch forks from the seeded branch's head at the moment
// Branch runs: seed first, and do not write to the seeded branch while
// tests fork it, or tests may see different seeds.
//
// # Failures
//
// Helpers never return an error: when Branch cannot create the branch (the
// client is disconnected, the store fails, the seeded branch does not
// exist) it stops the test with t.Fatal and a message naming the branch,
// its parent and the cause. When the cleanup cannot delete the branch it
// reports t.Error. A test that fails logs the name of the branch it ran on.
// If the environment variable ARGONTEST_KEEP_FAILED is set to 1, the
// branches of failed tests are kept instead of deleted, so that a persistent
// store (argon.Open, argon.Connect) can be inspected afterwards; on a memory
// store they end with the client anyway.
package argontest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/argon-lab/argon"
	"github.com/argon-lab/argon/wal"
)

// Prefix starts the name of every branch Branch creates, so that they stand
// out in ListBranches (for example branches left behind by a killed test
// binary on a persistent store).
const Prefix = "argontest/"

// KeepFailedEnv names the environment variable that, set to "1", keeps the
// branches of failed tests instead of deleting them.
const KeepFailedEnv = "ARGONTEST_KEEP_FAILED"

// CleanupTimeout bounds the deletion of a test's branch and the disconnect
// of a Memory client in the test's cleanup.
const CleanupTimeout = time.Minute

// suffixLen is the length of the random hex suffix of a branch name.
const suffixLen = 8

// createAttempts is how many names Branch tries before giving up; a second
// attempt is needed only if a random suffix collides.
const createAttempts = 3

// Branch creates a branch for the test tb, forked from the branch of seeded
// at its head, and returns a client handle on it (seeded.WithBranch(name)):
// its databases and collections read the seed and every write of this test,
// and nothing else. The branch is deleted when the test and its subtests
// finish (t.Cleanup); the deletion is durable, per the store, like any
// branch event.
//
// The name is Prefix, then tb.Name() with every byte outside
// [A-Za-z0-9._/-] replaced by '_', then '-' and 8 random hex digits; it is
// truncated to fit in wal.MaxBranchNameLen (255) bytes. The handle's
// BranchName returns it.
//
// The handle shares seeded's log: do not Disconnect it, since that would
// disconnect seeded and every other test's handle. seeded may itself be a
// handle from Branch or WithBranch (a test can fork its own branch); it
// should not be a read-only view from AtLSN or AtTime, because branches
// fork from the head of the named branch, not from the view's point.
//
// Branch stops the test with t.Fatal if the branch cannot be created. It is
// safe to call from parallel tests.
func Branch(tb testing.TB, seeded *argon.Client) *argon.Client {
	tb.Helper()
	if seeded == nil {
		tb.Fatal("argontest.Branch: the seeded client is nil")
		return nil
	}
	from := seeded.BranchName()
	ctx := tb.Context()
	var (
		name string
		info argon.BranchInfo
		err  error
	)
	for range createAttempts {
		name = branchName(tb.Name(), randomSuffix())
		info, err = seeded.CreateBranch(ctx, name)
		if !errors.Is(err, argon.ErrBranchExists) {
			break
		}
	}
	if err != nil {
		tb.Fatalf("argontest.Branch: cannot create branch %q from %q for %s: %v", name, from, tb.Name(), err)
		return nil
	}
	tb.Cleanup(func() { cleanupBranch(tb, seeded, name, from, info) })
	return seeded.WithBranch(name)
}

// cleanupBranch deletes the branch of a finished test, or keeps it when the
// test failed and KeepFailedEnv asks for it.
func cleanupBranch(tb testing.TB, seeded *argon.Client, name, from string, info argon.BranchInfo) {
	failed := tb.Failed()
	if failed && os.Getenv(KeepFailedEnv) == "1" {
		tb.Logf("argontest: kept branch %q (id %s, forked from %q at LSN %d) of the failed test, as %s=1 asks",
			name, info.ID, from, info.BaseLSN, KeepFailedEnv)
		return
	}
	if failed {
		tb.Logf("argontest: the test ran on branch %q (id %s, forked from %q at LSN %d); deleting it (set %s=1 to keep it)",
			name, info.ID, from, info.BaseLSN, KeepFailedEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
	defer cancel()
	err := seeded.DeleteBranch(ctx, name)
	switch {
	case err == nil:
	case errors.Is(err, argon.ErrClientDisconnected):
		tb.Errorf("argontest: cannot delete branch %q: the client was disconnected before the test's cleanup ran "+
			"(disconnect the seeded client after m.Run, or in a Cleanup registered before argontest.Branch; "+
			"never disconnect the handle Branch returns)", name)
	default:
		tb.Errorf("argontest: cannot delete branch %q: %v", name, err)
	}
}

// Memory returns a client on a new in-memory log, with opts as
// argon.OpenMemory takes them, and disconnects it when the test and its
// subtests finish. It stops the test with t.Fatal if the client cannot be
// opened; a failed disconnect is reported with t.Error. It is safe to call
// from parallel tests: each call has its own log.
//
// To share one seeded client between the tests of a package, open it in
// TestMain with argon.OpenMemory instead, and give each test a branch of it
// with Branch.
func Memory(tb testing.TB, opts ...*argon.Options) *argon.Client {
	tb.Helper()
	c, err := argon.OpenMemory(context.Background(), opts...)
	if err != nil {
		tb.Fatalf("argontest.Memory: cannot open an in-memory client: %v", err)
		return nil
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
		defer cancel()
		if err := c.Disconnect(ctx); err != nil {
			tb.Errorf("argontest.Memory: disconnecting: %v", err)
		}
	})
	return c
}

// branchName builds a valid branch name (see wal.ValidateBranchName) from a
// test name and a suffix of [0-9a-f].
func branchName(testName, suffix string) string {
	room := wal.MaxBranchNameLen - len(Prefix) - 1 - len(suffix)
	var b strings.Builder
	b.Grow(len(Prefix) + min(len(testName), room) + 1 + len(suffix))
	b.WriteString(Prefix)
	prev := Prefix[len(Prefix)-1]
	for i := 0; i < len(testName) && i < room; i++ {
		c := testName[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '_' || c == '-' || c == '/'
		// "//" and ".." are not allowed; Prefix ends with '/', so a leading
		// '/' of the test name is covered too.
		if !ok || (c == '/' || c == '.') && c == prev {
			c = '_'
		}
		b.WriteByte(c)
		prev = c
	}
	// The suffix starts with '-', so the name never ends with '/' and no
	// ".." can form across the junction.
	b.WriteByte('-')
	b.WriteString(suffix)
	return b.String()
}

// randomSuffix returns suffixLen random hex digits.
func randomSuffix() string {
	var r [suffixLen / 2]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(r[:])
}
