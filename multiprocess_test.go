package argon

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/argon-lab/argon/internal/testenv"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

const (
	mpEnvLogDB = "ARGON_MP_LOGDB"
	mpEnvProc  = "ARGON_MP_PROC"
	mpProcs    = 3
	mpIDs      = 60
)

// TestClient_MultiProcess_MongoStore runs several OS processes against one
// log in MongoDB: all insert the same _ids (each _id must be inserted by
// exactly one process, the others get duplicate key errors) and each
// creates a branch that the others must see.
func TestClient_MultiProcess_MongoStore(t *testing.T) {
	if db := os.Getenv(mpEnvLogDB); db != "" {
		mpChild(t, db, os.Getenv(mpEnvProc))
		return
	}
	uri := testenv.MongoURI(t)
	logDB := testenv.UniqueDBName(t, "argonmp")
	var wg sync.WaitGroup
	outs := make([]string, mpProcs)
	errs := make([]error, mpProcs)
	for p := 0; p < mpProcs; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestClient_MultiProcess_MongoStore$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), mpEnvLogDB+"="+logDB, mpEnvProc+"="+strconv.Itoa(p), testenv.URIEnv+"="+uri)
			out, err := cmd.CombinedOutput()
			outs[p], errs[p] = string(out), err
		}(p)
	}
	wg.Wait()
	inserted := 0
	for p := range outs {
		require.NoError(t, errs[p], outs[p])
		var n int
		for _, line := range strings.Split(outs[p], "\n") {
			if _, err := fmt.Sscanf(strings.TrimSpace(line), "inserted %d", &n); err == nil {
				inserted += n
			}
		}
	}
	require.Equal(t, mpIDs, inserted, "each _id is inserted by exactly one process")

	ctx := context.Background()
	c, err := ConnectWithOptions(ctx, &Options{LogDatabase: logDB}, options.Client().ApplyURI(uri))
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	n, err := c.Database("app").Collection("items").CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	require.Equal(t, int64(mpIDs), n)
	list, err := c.ListBranches(ctx)
	require.NoError(t, err)
	require.Len(t, list, mpProcs+1)
}

func mpChild(t *testing.T, logDB, proc string) {
	ctx := context.Background()
	c, err := ConnectWithOptions(ctx, &Options{LogDatabase: logDB}, options.Client().ApplyURI(testenv.MongoURI(t)))
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	items := c.Database("app").Collection("items")
	inserted := 0
	for i := 0; i < mpIDs; i++ {
		_, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "by", Value: proc}})
		switch {
		case err == nil:
			inserted++
		case IsDuplicateKeyError(err):
		default:
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	_, err = c.CreateBranch(ctx, "p"+proc)
	require.NoError(t, err)
	fmt.Printf("inserted %d\n", inserted)
}
