package argon

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/argon-lab/argon/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

const (
	txnKillEnvDir  = "ARGON_TXN_KILL_DIR"
	txnKillEnvMode = "ARGON_TXN_KILL_MODE"
)

// TestSession_Transaction_ProcessKilled runs a transaction in a child
// process on the embedded directory store and kills the child (SIGKILL):
// before the commit, none of the transaction's writes may survive; after
// it, all of them must.
func TestSession_Transaction_ProcessKilled(t *testing.T) {
	if dir := os.Getenv(txnKillEnvDir); dir != "" {
		txnKillChild(t, dir, os.Getenv(txnKillEnvMode))
		return
	}
	for _, mode := range []string{"before-commit", "after-commit"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestSession_Transaction_ProcessKilled$", "-test.count=1")
			cmd.Env = append(os.Environ(), txnKillEnvDir+"="+dir, txnKillEnvMode+"="+mode)
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			cmd.Stderr = os.Stderr
			require.NoError(t, cmd.Start())
			ready := make(chan string, 1)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "txn-child:") {
						ready <- line
						return
					}
				}
				ready <- "child output ended"
			}()
			select {
			case line := <-ready:
				require.Equal(t, "txn-child: "+mode, line)
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("child did not get ready")
			}
			require.NoError(t, cmd.Process.Kill())
			_ = cmd.Wait()

			ctx := context.Background()
			c, err := Open(ctx, dir)
			require.NoError(t, err)
			defer c.Disconnect(ctx)
			seed := c.Database("app").Collection("seed")
			assert.Equal(t, int64(1), txnCount(t, seed), "the write committed before the transaction survives")
			want := int64(0)
			if mode == "after-commit" {
				want = 1
			}
			assert.Equal(t, want, txnCount(t, c.Database("app").Collection("orders")))
			assert.Equal(t, want, txnCount(t, c.Database("billing").Collection("invoices")))
		})
	}
}

func txnKillChild(t *testing.T, dir, mode string) {
	ctx := context.Background()
	c, err := Open(ctx, dir)
	require.NoError(t, err)
	_, err = c.Database("app").Collection("seed").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	sess, err := c.StartSession()
	require.NoError(t, err)
	require.NoError(t, sess.StartTransaction())
	sc := NewSessionContext(ctx, sess)
	_, err = c.Database("app").Collection("orders").InsertOne(sc, bson.D{{Key: "_id", Value: "o1"}})
	require.NoError(t, err)
	_, err = c.Database("billing").Collection("invoices").InsertOne(sc, bson.D{{Key: "_id", Value: "i1"}})
	require.NoError(t, err)
	if mode == "after-commit" {
		require.NoError(t, sess.CommitTransaction(ctx))
	}
	fmt.Printf("txn-child: %s\n", mode)
	time.Sleep(time.Minute) // killed by the parent
}

// TestSession_WithTransaction_MongoStore_TwoClients runs read-modify-write
// transactions on one document from two Clients (two logs over the same
// MongoDB store, as two processes would have), several goroutines each:
// every increment must be present.
func TestSession_WithTransaction_MongoStore_TwoClients(t *testing.T) {
	uri := testenv.MongoURI(t)
	logDB := testenv.UniqueDBName(t, "argontxn")
	ctx := context.Background()
	var clients [2]*Client
	for i := range clients {
		c, err := ConnectWithOptions(ctx, &Options{LogDatabase: logDB}, options.Client().ApplyURI(uri))
		require.NoError(t, err)
		defer c.Disconnect(ctx)
		clients[i] = c
	}
	defer func() {
		mc := testenv.MongoClient(t)
		_ = mc.Database(logDB).Drop(ctx)
	}()
	crudSeed(t, clients[0].Database("app").Collection("counter"), bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 0}})

	const perClient, each = 3, 3
	var retries atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 2*perClient)
	for ci, c := range clients {
		for g := 0; g < perClient; g++ {
			wg.Add(1)
			go func(c *Client, name string) {
				defer wg.Done()
				coll := c.Database("app").Collection("counter")
				errs <- c.UseSession(ctx, func(sc SessionContext) error {
					for i := 0; i < each; i++ {
						attempt := 0
						_, err := sc.WithTransaction(sc, func(tc SessionContext) (interface{}, error) {
							if attempt++; attempt > 1 {
								retries.Add(1)
							}
							var doc struct{ N int32 }
							if err := coll.FindOne(tc, bson.D{{Key: "_id", Value: 1}}).Decode(&doc); err != nil {
								return nil, err
							}
							return coll.UpdateOne(tc, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: doc.N + 1}}}})
						})
						if err != nil {
							return fmt.Errorf("%s: %w", name, err)
						}
					}
					return nil
				})
			}(c, fmt.Sprintf("client %d goroutine %d", ci, g))
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for _, c := range clients {
		assert.EqualValues(t, 2*perClient*each, txnField(t, ctx, c.Database("app").Collection("counter"), 1, "n"))
	}
	t.Logf("%d retries", retries.Load())
}
