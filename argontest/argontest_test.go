package argontest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/argon-lab/argon"
	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

const seedDocs = 100

type item struct {
	ID    int    `bson:"_id"`
	Owner string `bson:"owner"`
	N     int    `bson:"n"`
}

func items(c *argon.Client) *argon.Collection { return c.Database("app").Collection("items") }

// seed fills app.items of c with seedDocs documents {_id: i, owner: "seed", n: i}.
func seed(t *testing.T, c *argon.Client) {
	t.Helper()
	docs := make([]interface{}, seedDocs)
	for i := range docs {
		docs[i] = item{ID: i, Owner: "seed", N: i}
	}
	_, err := items(c).InsertMany(context.Background(), docs)
	require.NoError(t, err)
}

// all returns app.items of c sorted by _id.
func all(t *testing.T, c *argon.Client) []item {
	t.Helper()
	cur, err := items(c).Find(context.Background(), bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	require.NoError(t, err)
	var out []item
	require.NoError(t, cur.All(context.Background(), &out))
	return out
}

func requireSeedOnly(t *testing.T, c *argon.Client) {
	t.Helper()
	docs := all(t, c)
	require.Len(t, docs, seedDocs)
	for i, d := range docs {
		require.Equal(t, item{ID: i, Owner: "seed", N: i}, d)
	}
}

func branchNames(t *testing.T, c *argon.Client) []string {
	t.Helper()
	infos, err := c.ListBranches(context.Background())
	require.NoError(t, err)
	var out []string
	for _, b := range infos {
		out = append(out, b.Name)
	}
	return out
}

// TestBranch_ParallelIsolation runs 50 parallel tests on branches of one
// seed: each inserts, updates and deletes, and sees only the seed and its
// own writes; afterwards every branch is gone and the seed is untouched.
func TestBranch_ParallelIsolation(t *testing.T) {
	const tests = 50
	seeded := Memory(t)
	seed(t, seeded)

	var mu sync.Mutex
	used := map[string]bool{}
	t.Run("group", func(t *testing.T) {
		for i := range tests {
			t.Run(fmt.Sprintf("test%02d", i), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				c := Branch(t, seeded)
				mu.Lock()
				used[c.BranchName()] = true
				mu.Unlock()
				me := fmt.Sprintf("test%02d", i)
				coll := items(c)

				// Insert 5 documents, update seed document i, delete seed
				// document 50+i: no two tests touch the same document.
				var mine []interface{}
				for k := range 5 {
					mine = append(mine, item{ID: 1000 + 10*i + k, Owner: me, N: k})
				}
				_, err := coll.InsertMany(ctx, mine)
				require.NoError(t, err)
				res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: i}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: me}, {Key: "n", Value: -1}}}})
				require.NoError(t, err)
				require.Equal(t, int64(1), res.ModifiedCount)
				del, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: 50 + i}})
				require.NoError(t, err)
				require.Equal(t, int64(1), del.DeletedCount)

				n, err := coll.CountDocuments(ctx, bson.D{})
				require.NoError(t, err)
				require.Equal(t, int64(seedDocs+5-1), n)

				want := []item{}
				for j := range seedDocs {
					switch j {
					case i:
						want = append(want, item{ID: j, Owner: me, N: -1})
					case 50 + i:
					default:
						want = append(want, item{ID: j, Owner: "seed", N: j})
					}
				}
				for k := range 5 {
					want = append(want, item{ID: 1000 + 10*i + k, Owner: me, N: k})
				}
				require.Equal(t, want, all(t, c), "the seed plus this test's writes, nothing else")
			})
		}
	})

	require.Len(t, used, tests, "every test had a branch of its own")
	require.Equal(t, []string{"main"}, branchNames(t, seeded), "every branch is deleted after its test")
	requireSeedOnly(t, seeded)
}

func TestBranch_DeletedAfterTest(t *testing.T) {
	seeded := Memory(t)
	seed(t, seeded)
	var c *argon.Client
	var name string
	t.Run("sub", func(t *testing.T) {
		c = Branch(t, seeded)
		name = c.BranchName()
		require.True(t, strings.HasPrefix(name, Prefix+"TestBranch_DeletedAfterTest/sub-"), name)
		require.Contains(t, branchNames(t, seeded), name)
		_, err := items(c).InsertOne(context.Background(), item{ID: -1, Owner: "sub"})
		require.NoError(t, err)
	})
	require.NotContains(t, branchNames(t, seeded), name)
	_, err := items(c).CountDocuments(context.Background(), bson.D{})
	require.ErrorIs(t, err, argon.ErrBranchNotFound, "the handle outlives its branch")
	requireSeedOnly(t, seeded)
}

func TestBranch_OfABranch(t *testing.T) {
	ctx := context.Background()
	seeded := Memory(t)
	seed(t, seeded)
	outer := Branch(t, seeded)
	_, err := items(outer).InsertOne(ctx, item{ID: -1, Owner: "outer"})
	require.NoError(t, err)
	t.Run("inner", func(t *testing.T) {
		inner := Branch(t, outer)
		n, err := items(inner).CountDocuments(ctx, bson.D{})
		require.NoError(t, err)
		require.Equal(t, int64(seedDocs+1), n, "the inner branch starts from the outer one's head")
		_, err = items(inner).DeleteMany(ctx, bson.D{})
		require.NoError(t, err)
	})
	n, err := items(outer).CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	require.Equal(t, int64(seedDocs+1), n)
	require.Len(t, branchNames(t, seeded), 2, "main and the outer branch")
}

func TestBranch_FromNamedBranch(t *testing.T) {
	ctx := context.Background()
	seeded := Memory(t)
	_, err := seeded.CreateBranch(ctx, "fixtures")
	require.NoError(t, err)
	fixtures := seeded.WithBranch("fixtures")
	seed(t, fixtures)
	c := Branch(t, fixtures)
	requireSeedOnly(t, c)
	n, err := items(seeded).CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	require.Zero(t, n, "main was never seeded")
}

// fakeTB records what a helper reports; Fatal ends its goroutine as the
// testing package's does. Methods not overridden go to the real test.
type fakeTB struct {
	testing.TB
	name     string
	failed   bool
	fatals   []string
	errors   []string
	logs     []string
	cleanups []func()
}

func (f *fakeTB) Name() string      { return f.name }
func (f *fakeTB) Failed() bool      { return f.failed }
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Fatal(args ...any) {
	f.fatals = append(f.fatals, fmt.Sprint(args...))
	f.failed = true
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
	f.failed = true
}
func (f *fakeTB) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

// run calls fn in its own goroutine, as a test body runs, then the
// cleanups.
func (f *fakeTB) run(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestBranch_Fatal(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		client func(t *testing.T) *argon.Client
		want   string
	}{
		{"nil client", func(*testing.T) *argon.Client { return nil }, "argontest.Branch: the seeded client is nil"},
		{"disconnected", func(t *testing.T) *argon.Client {
			c, err := argon.OpenMemory(ctx)
			require.NoError(t, err)
			require.NoError(t, c.Disconnect(ctx))
			return c
		}, `argontest.Branch: cannot create branch "argontest/Fake-`},
		{"no such parent", func(t *testing.T) *argon.Client { return Memory(t).WithBranch("nope") },
			`from "nope" for Fake: argon: branch not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeTB{TB: t, name: "Fake"}
			seeded := tt.client(t)
			var got *argon.Client
			returned := false
			f.run(func() {
				got = Branch(f, seeded)
				returned = true
			})
			require.False(t, returned, "Branch must not return after a failure")
			require.Nil(t, got)
			require.Len(t, f.fatals, 1)
			require.Contains(t, f.fatals[0], tt.want)
			require.Empty(t, f.cleanups, "nothing to clean up")
		})
	}
}

func TestBranch_FailedTest(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep=%v", keep), func(t *testing.T) {
			if keep {
				t.Setenv(KeepFailedEnv, "1")
			} else {
				t.Setenv(KeepFailedEnv, "")
			}
			seeded := Memory(t)
			f := &fakeTB{TB: t, name: "Fake"}
			var name string
			f.run(func() {
				name = Branch(f, seeded).BranchName()
				f.Errorf("the test fails")
			})
			require.Len(t, f.logs, 1)
			require.Contains(t, f.logs[0], fmt.Sprintf("%q", name))
			require.Len(t, f.errors, 1, "only the test's own failure")
			if keep {
				require.Contains(t, branchNames(t, seeded), name)
			} else {
				require.NotContains(t, branchNames(t, seeded), name)
			}
		})
	}
}

func TestBranch_ClientDisconnectedBeforeCleanup(t *testing.T) {
	c, err := argon.OpenMemory(context.Background())
	require.NoError(t, err)
	f := &fakeTB{TB: t, name: "Fake"}
	f.run(func() {
		Branch(f, c)
		assert.NoError(t, c.Disconnect(context.Background()))
	})
	require.Len(t, f.errors, 1)
	require.Contains(t, f.errors[0], "the client was disconnected before the test's cleanup ran")
}

func TestMemory_DisconnectedAtCleanup(t *testing.T) {
	var c *argon.Client
	t.Run("sub", func(t *testing.T) {
		c = Memory(t, &argon.Options{Project: "p1"})
		require.NoError(t, c.Ping(context.Background(), nil))
	})
	err := c.Ping(context.Background(), nil)
	require.True(t, errors.Is(err, argon.ErrClientDisconnected), "got %v", err)
}

func TestBranchName(t *testing.T) {
	long := strings.Repeat("TestLong/", 40)
	tests := []struct {
		test, want string
	}{
		{"TestX", "argontest/TestX-0123abcd"},
		{"TestX/sub_case#01", "argontest/TestX/sub_case_01-0123abcd"},
		{"TestX/a//b", "argontest/TestX/a/_b-0123abcd"},
		{"TestX/../..x", "argontest/TestX/._/._x-0123abcd"},
		{"TestX/ünï", "argontest/TestX/__n__-0123abcd"},
		{"/lead", "argontest/_lead-0123abcd"},
		{"trail/", "argontest/trail/-0123abcd"},
		{"", "argontest/-0123abcd"},
		{long, "argontest/" + long[:wal.MaxBranchNameLen-len("argontest/-0123abcd")] + "-0123abcd"},
	}
	for _, tt := range tests {
		got := branchName(tt.test, "0123abcd")
		assert.Equal(t, tt.want, got, tt.test)
		assert.NoError(t, wal.ValidateBranchName(got), tt.test)
		assert.LessOrEqual(t, len(got), wal.MaxBranchNameLen)
	}
	assert.Len(t, randomSuffix(), suffixLen)
	assert.NotEqual(t, randomSuffix(), randomSuffix())
}

func FuzzBranchName(f *testing.F) {
	f.Add("TestX/a b")
	f.Add("..//..")
	f.Fuzz(func(t *testing.T, name string) {
		got := branchName(name, randomSuffix())
		if err := wal.ValidateBranchName(got); err != nil {
			t.Fatalf("branchName(%q) = %q: %v", name, got, err)
		}
	})
}
