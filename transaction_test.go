package argon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readpref"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/x/mongo/driver"
)

// txnCount returns how many documents coll holds, read outside any session.
func txnCount(t testing.TB, coll *Collection) int64 {
	t.Helper()
	n, err := coll.CountDocuments(context.Background(), bson.D{})
	require.NoError(t, err)
	return n
}

// txnField returns field of the document with _id id, read with ctx.
func txnField(t testing.TB, ctx context.Context, coll *Collection, id interface{}, field string) interface{} {
	t.Helper()
	var doc bson.M
	require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc))
	return doc[field]
}

// commandCode returns the code and labels of a CommandError.
func commandCode(t testing.TB, err error) (int32, []string) {
	t.Helper()
	var ce CommandError
	require.True(t, errors.As(err, &ce), "not a CommandError: %T %v", err, err)
	return ce.Code, ce.Labels
}

func TestSession_WithTransaction_FailsHalfway_LeavesNeitherWrite(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	a := c.Database("db1").Collection("a")
	b := c.Database("db2").Collection("b")
	crudSeed(t, b, bson.D{{Key: "_id", Value: 1}})
	before, err := c.HeadLSN(ctx)
	require.NoError(t, err)

	sess, err := c.StartSession()
	require.NoError(t, err)
	defer sess.EndSession(ctx)
	_, err = sess.WithTransaction(ctx, func(sc SessionContext) (interface{}, error) {
		if _, err := a.InsertOne(sc, bson.D{{Key: "_id", Value: 1}}); err != nil {
			return nil, err
		}
		// A duplicate _id: the second write fails.
		return b.InsertOne(sc, bson.D{{Key: "_id", Value: 1}})
	})
	require.Error(t, err)
	assert.True(t, IsDuplicateKeyError(err), "got %v", err)
	assert.Equal(t, int64(0), txnCount(t, a), "the first write must not survive")
	assert.Equal(t, int64(1), txnCount(t, b))
	after, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after, "nothing reaches the log")
}

func TestSession_Transaction_FailedStatement_AbortsTransaction(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	a := c.Database("db").Collection("a")
	b := c.Database("db").Collection("b")
	crudSeed(t, b, bson.D{{Key: "_id", Value: 1}})
	sess, err := c.StartSession()
	require.NoError(t, err)
	defer sess.EndSession(ctx)
	require.NoError(t, sess.StartTransaction())
	sc := NewSessionContext(ctx, sess)
	_, err = a.InsertOne(sc, bson.D{{Key: "_id", Value: 1}})
	require.NoError(t, err)
	_, err = b.InsertMany(sc, []interface{}{bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "_id", Value: 1}}}, options.InsertMany().SetOrdered(false))
	require.Error(t, err)

	// As on the server, the failed statement aborted the transaction:
	// later operations and the commit get NoSuchTransaction, labelled
	// transient so that WithTransaction would retry.
	_, err = a.InsertOne(sc, bson.D{{Key: "_id", Value: 3}})
	code, labels := commandCode(t, err)
	assert.Equal(t, int32(251), code)
	assert.Contains(t, labels, "TransientTransactionError")
	err = sess.CommitTransaction(ctx)
	code, _ = commandCode(t, err)
	assert.Equal(t, int32(251), code)
	assert.Equal(t, int64(0), txnCount(t, a))
	assert.Equal(t, int64(1), txnCount(t, b))
}

func TestSession_CommitTransaction_OneRecordAcrossDatabases(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	a := c.Database("db1").Collection("a")
	b := c.Database("db2").Collection("b")
	crudSeed(t, a, bson.D{{Key: "_id", Value: 0}, {Key: "n", Value: 1}})
	before, err := c.HeadLSN(ctx)
	require.NoError(t, err)

	sess, err := c.StartSession()
	require.NoError(t, err)
	defer sess.EndSession(ctx)
	require.NoError(t, sess.StartTransaction())
	sc := NewSessionContext(ctx, sess)
	_, err = a.InsertMany(sc, []interface{}{bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}}})
	require.NoError(t, err)
	_, err = a.UpdateOne(sc, bson.D{{Key: "_id", Value: 0}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
	require.NoError(t, err)
	_, err = b.InsertOne(sc, bson.D{{Key: "_id", Value: "x"}})
	require.NoError(t, err)
	_, err = a.DeleteOne(sc, bson.D{{Key: "_id", Value: 2}})
	require.NoError(t, err)

	// Inside: own writes. Outside: nothing yet.
	n, err := a.CountDocuments(sc, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	assert.EqualValues(t, 2, txnField(t, sc, a, 0, "n"))
	assert.Equal(t, int64(1), txnCount(t, a))
	assert.Equal(t, int64(0), txnCount(t, b))
	names, err := c.ListDatabaseNames(sc, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, []string{"db1", "db2"}, names)

	require.NoError(t, sess.CommitTransaction(ctx))
	after, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	assert.Equal(t, before+1, after, "one record for the whole transaction")
	assert.Equal(t, int64(2), txnCount(t, a))
	assert.Equal(t, int64(1), txnCount(t, b))
	assert.EqualValues(t, 2, txnField(t, ctx, a, 0, "n"))
	// A retried commit reports the same outcome and writes nothing.
	require.NoError(t, sess.CommitTransaction(ctx))
	again, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	assert.Equal(t, after, again)
	// After the commit, operations with the session run outside any
	// transaction, as with the driver.
	_, err = b.InsertOne(sc, bson.D{{Key: "_id", Value: "y"}})
	require.NoError(t, err)
	assert.Equal(t, int64(2), txnCount(t, b))
}

func TestSession_Transaction_SnapshotIsolation(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("c")
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: "old"}})
	sess, err := c.StartSession()
	require.NoError(t, err)
	defer sess.EndSession(ctx)
	require.NoError(t, sess.StartTransaction())
	sc := NewSessionContext(ctx, sess)

	// The snapshot is taken at the first operation, not at
	// StartTransaction: this write, before it, is seen.
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}})
	require.NoError(t, err)
	assert.Equal(t, "old", txnField(t, sc, coll, 1, "v"))
	n, err := coll.CountDocuments(sc, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)

	// Others' later commits are not seen inside.
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: "new"}}}})
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 3}})
	require.NoError(t, err)
	assert.Equal(t, "old", txnField(t, sc, coll, 1, "v"))
	n, err = coll.CountDocuments(sc, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)

	// Own writes are seen, by every read path.
	_, err = coll.InsertOne(sc, bson.D{{Key: "_id", Value: 4}, {Key: "v", Value: "mine"}})
	require.NoError(t, err)
	assert.Equal(t, "mine", txnField(t, sc, coll, 4, "v"))
	cur, err := coll.Aggregate(sc, bson.A{bson.D{{Key: "$count", Value: "n"}}})
	require.NoError(t, err)
	var out []bson.M
	require.NoError(t, cur.All(sc, &out))
	require.Len(t, out, 1)
	assert.EqualValues(t, 3, out[0]["n"])
	ids, err := coll.Distinct(sc, "_id", bson.D{})
	require.NoError(t, err)
	assert.Len(t, ids, 3)
	// Outside, not before the commit.
	assert.Equal(t, int64(3), txnCount(t, coll))
	require.NoError(t, sess.CommitTransaction(ctx))
	assert.Equal(t, int64(4), txnCount(t, coll))
}

func TestSession_Transaction_WriteConflict_IsTransient(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("c")
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 0}}, bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: 0}})
	inc := bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}

	cases := []struct {
		name     string
		other    func(t *testing.T)
		conflict bool
	}{
		{"same document", func(t *testing.T) {
			_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, inc)
			require.NoError(t, err)
		}, true},
		{"deleted document", func(t *testing.T) {
			_, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}})
			require.NoError(t, err)
			crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 0}})
		}, true},
		{"document changed and changed back", func(t *testing.T) {
			// The document ends as the snapshot saw it: still a conflict.
			was := txnField(t, ctx, coll, 1, "n")
			for _, v := range []interface{}{int32(-1), was} {
				_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: v}}}})
				require.NoError(t, err)
			}
		}, true},
		{"other document", func(t *testing.T) {
			_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, inc)
			require.NoError(t, err)
		}, false},
		{"other collection", func(t *testing.T) {
			crudSeed(t, c.Database("db").Collection("other"), bson.D{{Key: "x", Value: 1}})
		}, false},
		{"index created", func(t *testing.T) {
			_, err := coll.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "n", Value: 1}}})
			require.NoError(t, err)
		}, true},
		{"collection dropped", func(t *testing.T) {
			require.NoError(t, coll.Drop(ctx))
			crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 0}}, bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: 0}})
		}, true},
		{"branch reset", func(t *testing.T) {
			head, err := c.HeadLSN(ctx)
			require.NoError(t, err)
			_, err = c.ResetBranch(ctx, "main", Branch().SetLSN(head))
			require.NoError(t, err)
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sess, err := c.StartSession()
			require.NoError(t, err)
			defer sess.EndSession(ctx)
			require.NoError(t, sess.StartTransaction())
			sc := NewSessionContext(ctx, sess)
			want := txnField(t, sc, coll, 1, "n").(int32) + 1
			_, err = coll.UpdateOne(sc, bson.D{{Key: "_id", Value: 1}}, inc)
			require.NoError(t, err)
			tc.other(t)
			err = sess.CommitTransaction(ctx)
			if !tc.conflict {
				require.NoError(t, err)
				assert.Equal(t, want, txnField(t, ctx, coll, 1, "n"))
				return
			}
			code, labels := commandCode(t, err)
			assert.Equal(t, int32(112), code)
			assert.Equal(t, []string{"TransientTransactionError"}, labels)
			var ce mongo.CommandError
			require.True(t, errors.As(err, &ce))
			assert.True(t, ce.HasErrorLabel("TransientTransactionError"))
			// Failed commits leave the driver's state "committed".
			assert.ErrorIs(t, sess.AbortTransaction(ctx), ErrAbortAfterCommit)
		})
	}
}

func TestSession_Transaction_UniqueKeyRecheckedAtCommit(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("c")
	_, err := coll.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "u", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	sess, err := c.StartSession()
	require.NoError(t, err)
	defer sess.EndSession(ctx)

	attempts := 0
	_, err = sess.WithTransaction(ctx, func(sc SessionContext) (interface{}, error) {
		attempts++
		if _, err := coll.InsertOne(sc, bson.D{{Key: "_id", Value: "txn"}, {Key: "u", Value: 1}}); err != nil {
			return nil, err
		}
		if attempts == 1 {
			// Another writer takes the unique key before the commit.
			_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "plain"}, {Key: "u", Value: 1}})
			require.NoError(t, err)
		}
		return nil, nil
	})
	// The commit failed with a transient WriteConflict; the retry saw the
	// key taken and failed with the duplicate key error, not retried.
	require.Error(t, err)
	assert.True(t, IsDuplicateKeyError(err), "got %v", err)
	assert.Equal(t, 2, attempts)
	assert.Equal(t, int64(1), txnCount(t, coll))
}

func TestSession_WithTransaction_ConcurrentIncrements(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("counter")
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 0}})
	const workers, each = 6, 5
	var retries atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			err := c.UseSession(ctx, func(sc SessionContext) error {
				for i := 0; i < each; i++ {
					attempt := 0
					_, err := sc.WithTransaction(sc, func(tc SessionContext) (interface{}, error) {
						if attempt++; attempt > 1 {
							retries.Add(1)
						}
						// Read-modify-write: only a conflict check makes
						// this safe.
						var doc struct{ N int32 }
						if err := coll.FindOne(tc, bson.D{{Key: "_id", Value: 1}}).Decode(&doc); err != nil {
							return nil, err
						}
						_, err := coll.UpdateOne(tc, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: doc.N + 1}}}})
						if err != nil {
							return nil, err
						}
						_, err = coll.Database().Collection("log").InsertOne(tc, bson.D{{Key: "w", Value: w}, {Key: "i", Value: i}})
						return nil, err
					})
					if err != nil {
						return fmt.Errorf("worker %d: %w", w, err)
					}
				}
				return nil
			})
			errs <- err
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.EqualValues(t, workers*each, txnField(t, ctx, coll, 1, "n"), "every increment is present")
	assert.Equal(t, int64(workers*each), txnCount(t, coll.Database().Collection("log")))
	t.Logf("%d retries", retries.Load())
	assert.Equal(t, 0, c.NumberSessionsInProgress())
}

func TestSession_WithTransaction_TwoTransactionsSameDocument(t *testing.T) {
	// Deterministic: T2 takes its snapshot, T1 commits an $inc of the same
	// document, T2's commit conflicts and WithTransaction retries it.
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("c")
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 0}})
	inc := bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}
	s1, err := c.StartSession()
	require.NoError(t, err)
	defer s1.EndSession(ctx)
	s2, err := c.StartSession()
	require.NoError(t, err)
	defer s2.EndSession(ctx)

	attempts := 0
	_, err = s2.WithTransaction(ctx, func(sc SessionContext) (interface{}, error) {
		attempts++
		if _, err := coll.UpdateOne(sc, bson.D{{Key: "_id", Value: 1}}, inc); err != nil {
			return nil, err
		}
		if attempts == 1 {
			_, err := s1.WithTransaction(ctx, func(sc1 SessionContext) (interface{}, error) {
				return coll.UpdateOne(sc1, bson.D{{Key: "_id", Value: 1}}, inc)
			})
			require.NoError(t, err)
		}
		return nil, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, attempts)
	assert.EqualValues(t, 2, txnField(t, ctx, coll, 1, "n"), "both effects are present")
}

func TestSession_StateMachine_DriverErrors(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("c")
	insert := func(sess Session) error {
		_, err := coll.InsertOne(NewSessionContext(ctx, sess), bson.D{})
		return err
	}
	cases := []struct {
		name string
		run  func(s Session) error
		want error
	}{
		{"commit without start", func(s Session) error { return s.CommitTransaction(ctx) }, ErrNoTransactStarted},
		{"abort without start", func(s Session) error { return s.AbortTransaction(ctx) }, ErrNoTransactStarted},
		{"nested start", func(s Session) error {
			require.NoError(t, s.StartTransaction())
			return s.StartTransaction()
		}, ErrTransactInProgress},
		{"nested start after a write", func(s Session) error {
			require.NoError(t, s.StartTransaction())
			require.NoError(t, insert(s))
			return s.StartTransaction()
		}, ErrTransactInProgress},
		{"commit after abort", func(s Session) error {
			require.NoError(t, s.StartTransaction())
			require.NoError(t, insert(s))
			require.NoError(t, s.AbortTransaction(ctx))
			return s.CommitTransaction(ctx)
		}, ErrCommitAfterAbort},
		{"abort after commit", func(s Session) error {
			require.NoError(t, s.StartTransaction())
			require.NoError(t, insert(s))
			require.NoError(t, s.CommitTransaction(ctx))
			return s.AbortTransaction(ctx)
		}, ErrAbortAfterCommit},
		{"abort twice", func(s Session) error {
			require.NoError(t, s.StartTransaction())
			require.NoError(t, s.AbortTransaction(ctx))
			return s.AbortTransaction(ctx)
		}, ErrAbortTwice},
		{"unacknowledged write concern", func(s Session) error {
			return s.StartTransaction(options.Transaction().SetWriteConcern(writeconcern.Unacknowledged()))
		}, ErrUnackWCUnsupported},
		{"secondary read preference", func(s Session) error {
			require.NoError(t, s.StartTransaction(options.Transaction().SetReadPreference(readpref.Secondary())))
			require.NoError(t, insert(s))
			return coll.FindOne(NewSessionContext(ctx, s), bson.D{}).Err()
		}, driver.ErrNonPrimaryReadPref},
		{"operation after EndSession", func(s Session) error {
			s.EndSession(ctx)
			return insert(s)
		}, ErrSessionEnded},
		{"read after EndSession", func(s Session) error {
			s.EndSession(ctx)
			return coll.FindOne(NewSessionContext(ctx, s), bson.D{}).Err()
		}, ErrSessionEnded},
		{"start after EndSession", func(s Session) error {
			s.EndSession(ctx)
			return s.StartTransaction()
		}, ErrSessionEnded},
		{"commit after EndSession", func(s Session) error {
			require.NoError(t, s.StartTransaction())
			require.NoError(t, insert(s))
			s.EndSession(ctx)
			return s.CommitTransaction(ctx)
		}, ErrSessionEnded},
		{"advance after EndSession", func(s Session) error {
			s.EndSession(ctx)
			return s.AdvanceOperationTime(&primitive.Timestamp{T: 1})
		}, ErrSessionEnded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := txnCount(t, coll)
			s, err := c.StartSession()
			require.NoError(t, err)
			defer s.EndSession(ctx)
			err = tc.run(s)
			assert.Equal(t, tc.want, err, "the driver's error value")
			if tc.want != ErrAbortAfterCommit {
				assert.Equal(t, before, txnCount(t, coll), "nothing committed")
			}
		})
	}
	assert.Equal(t, 0, c.NumberSessionsInProgress())
}

func TestSession_EndSession_AbortsTransaction(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("c")
	err := c.UseSession(ctx, func(sc SessionContext) error {
		require.NoError(t, sc.StartTransaction())
		_, err := coll.InsertOne(sc, bson.D{})
		return err
	})
	require.NoError(t, err)
	assert.Equal(t, int64(0), txnCount(t, coll))
	assert.Equal(t, 0, c.NumberSessionsInProgress())
}

func TestSession_Transaction_RefusedCommands(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	db := c.Database("db")
	coll := db.Collection("c")
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}})
	_, err := coll.Indexes().CreateOne(ctx, IndexModel{Keys: bson.D{{Key: "x", Value: 1}}})
	require.NoError(t, err)
	cases := []struct {
		name string
		run  func(sc SessionContext) error
		msg  string
	}{
		{"drop", func(sc SessionContext) error { return coll.Drop(sc) }, "Cannot run 'drop' in a multi-document transaction."},
		{"dropDatabase", func(sc SessionContext) error { return db.Drop(sc) }, "Cannot run 'dropDatabase' in a multi-document transaction."},
		{"createIndexes", func(sc SessionContext) error {
			_, err := coll.Indexes().CreateOne(sc, IndexModel{Keys: bson.D{{Key: "y", Value: 1}}})
			return err
		}, "Cannot run 'createIndexes' in a multi-document transaction."},
		{"dropIndexes", func(sc SessionContext) error {
			_, err := coll.Indexes().DropOne(sc, "x_1")
			return err
		}, "Cannot run 'dropIndexes' in a multi-document transaction."},
		{"$out", func(sc SessionContext) error {
			_, err := coll.Aggregate(sc, bson.A{bson.D{{Key: "$out", Value: "copy"}}})
			return err
		}, "$out cannot be used in a transaction"},
		{"$merge", func(sc SessionContext) error {
			_, err := coll.Aggregate(sc, bson.A{bson.D{{Key: "$merge", Value: bson.D{{Key: "into", Value: "copy"}}}}})
			return err
		}, "$merge cannot be used in a transaction"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := c.StartSession()
			require.NoError(t, err)
			defer s.EndSession(ctx)
			require.NoError(t, s.StartTransaction())
			sc := NewSessionContext(ctx, s)
			_, err = coll.InsertOne(sc, bson.D{{Key: "_id", Value: "t"}})
			require.NoError(t, err)
			err = tc.run(sc)
			code, _ := commandCode(t, err)
			assert.Equal(t, int32(263), code)
			assert.EqualError(t, err, "("+"OperationNotSupportedInTransaction) "+tc.msg)
			// The refusal aborted the transaction, as on the server.
			code, _ = commandCode(t, s.CommitTransaction(ctx))
			assert.Equal(t, int32(251), code)
			assert.Equal(t, int64(1), txnCount(t, coll))
			names, err := db.ListCollectionNames(ctx, bson.D{})
			require.NoError(t, err)
			assert.Equal(t, []string{"c"}, names)
		})
	}

	// Outside a transaction the same session runs them.
	s, err := c.StartSession()
	require.NoError(t, err)
	defer s.EndSession(ctx)
	require.NoError(t, coll.Drop(NewSessionContext(ctx, s)))
}

func TestSession_Transaction_ExplicitCreateCollection(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	db := c.Database("db")
	err := c.UseSession(ctx, func(sc SessionContext) error {
		_, err := sc.WithTransaction(sc, func(tc SessionContext) (interface{}, error) {
			if err := db.CreateCollection(tc, "fresh"); err != nil {
				return nil, err
			}
			names, err := db.ListCollectionNames(tc, bson.D{})
			if err != nil {
				return nil, err
			}
			assert.Equal(t, []string{"fresh"}, names)
			outside, err := db.ListCollectionNames(ctx, bson.D{})
			assert.NoError(t, err)
			assert.Empty(t, outside)
			return nil, nil
		})
		return err
	})
	require.NoError(t, err)
	names, err := db.ListCollectionNames(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, []string{"fresh"}, names)
}

func TestSession_Transaction_ViewsAndClients(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("c")
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}})
	head, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	_, err = c.CreateBranch(ctx, "dev")
	require.NoError(t, err)
	other := crudClient(t)

	t.Run("read-only view", func(t *testing.T) {
		s, err := c.StartSession()
		require.NoError(t, err)
		defer s.EndSession(ctx)
		require.NoError(t, s.StartTransaction())
		sc := NewSessionContext(ctx, s)
		err = c.AtLSN(head).Database("db").Collection("c").FindOne(sc, bson.D{}).Err()
		assert.ErrorIs(t, err, ErrReadOnly)
		// Outside a transaction the session reads the past as usual.
		require.NoError(t, s.AbortTransaction(ctx))
		require.NoError(t, c.AtLSN(head).Database("db").Collection("c").FindOne(sc, bson.D{}).Err())
	})
	t.Run("across branches", func(t *testing.T) {
		s, err := c.StartSession()
		require.NoError(t, err)
		defer s.EndSession(ctx)
		require.NoError(t, s.StartTransaction())
		sc := NewSessionContext(ctx, s)
		_, err = coll.InsertOne(sc, bson.D{})
		require.NoError(t, err)
		_, err = c.WithBranch("dev").Database("db").Collection("c").InsertOne(sc, bson.D{})
		code, _ := commandCode(t, err)
		assert.Equal(t, int32(263), code)
	})
	t.Run("other client", func(t *testing.T) {
		s, err := c.StartSession()
		require.NoError(t, err)
		defer s.EndSession(ctx)
		_, err = other.Database("db").Collection("c").InsertOne(NewSessionContext(ctx, s), bson.D{})
		assert.Equal(t, ErrWrongClient, err)
	})
	t.Run("driver session ignored", func(t *testing.T) {
		mc, err := mongo.Connect(ctx, options.Client().ApplyURI("mongodb://127.0.0.1:1"))
		require.NoError(t, err)
		defer mc.Disconnect(ctx)
		ms, err := mc.StartSession()
		require.NoError(t, err)
		defer ms.EndSession(ctx)
		require.NoError(t, ms.StartTransaction())
		msc := mongo.NewSessionContext(ctx, ms)
		_, err = coll.InsertOne(msc, bson.D{{Key: "_id", Value: "driver"}})
		require.NoError(t, err)
		// Written at once: the driver's transaction is not Argon's.
		require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: "driver"}}).Err())
		assert.Nil(t, SessionFromContext(msc))
	})
}

func TestSession_IDAndTimes(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("c")
	s, err := c.StartSession(options.Session().SetCausalConsistency(true))
	require.NoError(t, err)
	defer s.EndSession(ctx)
	assert.Same(t, c, s.Client())
	id := s.ID().Lookup("id")
	subtype, data, ok := id.BinaryOK()
	require.True(t, ok, "id is binary: %v", s.ID())
	assert.Equal(t, byte(4), subtype)
	assert.Len(t, data, 16)
	s2, err := c.StartSession()
	require.NoError(t, err)
	defer s2.EndSession(ctx)
	assert.NotEqual(t, s.ID(), s2.ID())
	assert.Equal(t, 2, c.NumberSessionsInProgress())

	assert.Nil(t, s.OperationTime())
	sc := NewSessionContext(ctx, s)
	_, err = coll.InsertOne(sc, bson.D{})
	require.NoError(t, err)
	lsn, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	op := s.OperationTime()
	require.NotNil(t, op)
	assert.Equal(t, uint32(lsn), op.I)
	assert.NotZero(t, op.T)
	_, ci, ok := s.ClusterTime().Lookup("$clusterTime", "clusterTime").TimestampOK()
	require.True(t, ok, "cluster time document: %v", s.ClusterTime())
	assert.Equal(t, uint32(lsn), ci)

	// Advance keeps the larger value; nil is ignored.
	require.NoError(t, s.AdvanceOperationTime(&primitive.Timestamp{T: 1, I: 1}))
	assert.Equal(t, op, s.OperationTime())
	later := primitive.Timestamp{T: op.T + 10, I: 1}
	require.NoError(t, s.AdvanceOperationTime(&later))
	assert.Equal(t, &later, s.OperationTime())
	require.NoError(t, s.AdvanceOperationTime(nil))
	bigger, err := bson.Marshal(bson.D{{Key: "$clusterTime", Value: bson.D{{Key: "clusterTime", Value: primitive.Timestamp{T: op.T + 10, I: 0}}}}})
	require.NoError(t, err)
	require.NoError(t, s.AdvanceClusterTime(bigger))
	assert.Equal(t, bson.Raw(bigger), s.ClusterTime())

	_, err = c.StartSession(options.Session().SetSnapshot(true).SetCausalConsistency(true))
	assert.Error(t, err)

	require.NoError(t, c.Disconnect(ctx))
	_, err = c.StartSession()
	assert.Equal(t, ErrClientDisconnected, err)
}

func TestSession_WithTransaction_CallbackCommitsOrAborts(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("c")
	s, err := c.StartSession()
	require.NoError(t, err)
	defer s.EndSession(ctx)
	res, err := s.WithTransaction(ctx, func(sc SessionContext) (interface{}, error) {
		if _, err := coll.InsertOne(sc, bson.D{{Key: "_id", Value: 1}}); err != nil {
			return nil, err
		}
		return "aborted", sc.AbortTransaction(sc)
	})
	require.NoError(t, err)
	assert.Equal(t, "aborted", res)
	assert.Equal(t, int64(0), txnCount(t, coll))

	res, err = s.WithTransaction(ctx, func(sc SessionContext) (interface{}, error) {
		_, err := coll.InsertOne(sc, bson.D{{Key: "_id", Value: 2}})
		return 2, err
	})
	require.NoError(t, err)
	assert.Equal(t, 2, res)
	assert.Equal(t, int64(1), txnCount(t, coll))

	// A callback error that is not transient is returned at once.
	boom := errors.New("boom")
	calls := 0
	_, err = s.WithTransaction(ctx, func(sc SessionContext) (interface{}, error) {
		calls++
		_, _ = coll.InsertOne(sc, bson.D{{Key: "_id", Value: 3}})
		return nil, boom
	})
	assert.Equal(t, boom, err)
	assert.Equal(t, 1, calls)
	assert.Equal(t, int64(1), txnCount(t, coll))
}

func TestSession_CommitTransaction_MaxCommitTime(t *testing.T) {
	ctx := context.Background()
	c := crudClient(t)
	coll := c.Database("db").Collection("c")
	s, err := c.StartSession(options.Session().SetDefaultMaxCommitTime(ptrDuration(time.Nanosecond)))
	require.NoError(t, err)
	defer s.EndSession(ctx)
	require.NoError(t, s.StartTransaction())
	_, err = coll.InsertOne(NewSessionContext(ctx, s), bson.D{})
	require.NoError(t, err)
	err = s.CommitTransaction(ctx)
	var ce CommandError
	require.True(t, errors.As(err, &ce), "got %T %v", err, err)
	assert.True(t, ce.IsMaxTimeMSExpiredError())
	// Not committed, and still in progress: it can be aborted.
	require.NoError(t, s.AbortTransaction(ctx))
	assert.Equal(t, int64(0), txnCount(t, coll))
}

func TestSession_NilContext_DoesNotPanic(t *testing.T) {
	c := crudClient(t)
	s, err := c.StartSession()
	require.NoError(t, err)
	defer s.EndSession(context.Background())
	assert.Nil(t, SessionFromContext(nil)) //nolint:staticcheck // nil on purpose
	sc := NewSessionContext(nil, s)        //nolint:staticcheck // nil on purpose
	assert.Equal(t, s, SessionFromContext(sc))
	_, err = s.WithTransaction(nil, func(sc SessionContext) (interface{}, error) { //nolint:staticcheck // nil on purpose
		return c.Database("db").Collection("c").InsertOne(sc, bson.D{})
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), txnCount(t, c.Database("db").Collection("c")))
}

func ptrDuration(d time.Duration) *time.Duration { return &d }
