package argon

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// noTTL disables the background monitor, so a test decides when passes run.
var noTTL = &Options{TTLInterval: -1}

// ttlColl returns db.sessions on c with a TTL index {at: 1} expiring after
// an hour.
func ttlColl(t *testing.T, c *Client) *Collection {
	t.Helper()
	coll := c.Database("db").Collection("sessions")
	_, err := coll.Indexes().CreateOne(context.Background(), IndexModel{
		Keys:    bson.D{{Key: "at", Value: 1}},
		Options: options.Index().SetExpireAfterSeconds(3600),
	})
	require.NoError(t, err)
	return coll
}

func ago(d time.Duration) primitive.DateTime {
	return primitive.NewDateTimeFromTime(time.Now().Add(-d))
}

// deleteOps returns the _ids of every delete operation in the log of the
// default project, in log order.
func deleteOps(t *testing.T, store wal.Store) []interface{} {
	t.Helper()
	recs, err := store.Read(context.Background(), DefaultProject, 1, 1<<20)
	require.NoError(t, err)
	var out []interface{}
	for _, r := range recs {
		for _, op := range r.Ops {
			if op.Kind == wal.OpDelete {
				id, err := rawValueInterface(op.ID)
				require.NoError(t, err)
				out = append(out, id)
			}
		}
	}
	return out
}

func TestClient_RunTTLPass_Table(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		doc  bson.D
		gone bool
	}{
		{"Expired", bson.D{{Key: "_id", Value: 1}, {Key: "at", Value: ago(2 * time.Hour)}}, true},
		{"Fresh", bson.D{{Key: "_id", Value: 2}, {Key: "at", Value: ago(time.Minute)}}, false},
		{"Future", bson.D{{Key: "_id", Value: 3}, {Key: "at", Value: ago(-time.Hour)}}, false},
		{"EarliestInArray", bson.D{{Key: "_id", Value: 4}, {Key: "at", Value: bson.A{ago(-time.Hour), ago(5 * time.Hour)}}}, true},
		{"ArrayAllFresh", bson.D{{Key: "_id", Value: 5}, {Key: "at", Value: bson.A{ago(0), ago(time.Minute)}}}, false},
		{"NotADate", bson.D{{Key: "_id", Value: 6}, {Key: "at", Value: "yesterday"}}, false},
		{"Timestamp", bson.D{{Key: "_id", Value: 7}, {Key: "at", Value: primitive.Timestamp{T: 1}}}, false},
		{"Missing", bson.D{{Key: "_id", Value: 8}}, false},
	}
	c, err := OpenMemory(ctx, noTTL)
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	coll := ttlColl(t, c)
	plain := c.Database("db").Collection("plain") // no TTL index: untouched
	for _, tc := range tests {
		_, err := coll.InsertOne(ctx, tc.doc)
		require.NoError(t, err)
		_, err = plain.InsertOne(ctx, tc.doc)
		require.NoError(t, err)
	}
	n, err := c.RunTTLPass(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: tc.doc[0].Value}}).Err()
			if tc.gone {
				assert.ErrorIs(t, err, ErrNoDocuments)
			} else {
				assert.NoError(t, err)
			}
			assert.NoError(t, plain.FindOne(ctx, bson.D{{Key: "_id", Value: tc.doc[0].Value}}).Err())
		})
	}
	n, err = c.RunTTLPass(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(0), n, "a second pass finds nothing")
}

func TestClient_RunTTLPass_IsHistory(t *testing.T) {
	ctx := context.Background()
	store := wal.NewMemoryStore()
	c, err := NewClient(ctx, store, noTTL)
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	coll := ttlColl(t, c)
	crudSeed(t, coll,
		bson.D{{Key: "_id", Value: 1}, {Key: "at", Value: ago(2 * time.Hour)}},
		bson.D{{Key: "_id", Value: 2}, {Key: "at", Value: ago(0)}})
	before, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	n, err := c.RunTTLPass(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)

	// The expiry is an ordinary delete record, with the document's image.
	assert.Equal(t, []interface{}{int32(1)}, deleteOps(t, store))

	// Another process replays it identically, whatever its clock.
	other, err := NewClient(ctx, nonClosingStore{store}, noTTL)
	require.NoError(t, err)
	defer other.Disconnect(ctx)
	assert.Equal(t, []interface{}{int32(2)}, crudIDs(crudAll(t, other.Database("db").Collection("sessions"), bson.D{})))

	// The past still has the document.
	past := c.AtLSN(before).Database("db").Collection("sessions")
	assert.Equal(t, []interface{}{int32(1), int32(2)}, crudIDs(crudAll(t, past, bson.D{})))
}

func TestClient_RunTTLPass_Batches(t *testing.T) {
	ctx := context.Background()
	store := wal.NewMemoryStore()
	c, err := NewClient(ctx, store, noTTL)
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	coll := ttlColl(t, c)
	docs := make([]interface{}, ttlBatch+ttlBatch/2)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: i}, {Key: "at", Value: ago(2 * time.Hour)}}
	}
	crudSeed(t, coll, docs...)
	head, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	n, err := c.RunTTLPass(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(len(docs)), n)
	after, err := c.HeadLSN(ctx)
	require.NoError(t, err)
	assert.Equal(t, head+2, after, "two records of at most ttlBatch deletes")
	count, err := coll.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Zero(t, count)
}

func TestClient_RunTTLPass_EveryBranch(t *testing.T) {
	ctx := context.Background()
	c, err := OpenMemory(ctx, noTTL)
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	coll := ttlColl(t, c)
	crudSeed(t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "at", Value: ago(2 * time.Hour)}})
	_, err = c.CreateBranch(ctx, "dev")
	require.NoError(t, err)
	dev := c.WithBranch("dev").Database("db").Collection("sessions")
	crudSeed(t, dev, bson.D{{Key: "_id", Value: 2}, {Key: "at", Value: ago(3 * time.Hour)}})
	other, err := c.WithProject(ctx, "other")
	require.NoError(t, err)
	oc := ttlColl(t, other)
	crudSeed(t, oc, bson.D{{Key: "_id", Value: 3}, {Key: "at", Value: ago(3 * time.Hour)}})

	n, err := c.WithBranch("dev").RunTTLPass(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(4), n, "main (1), dev (1 and 2), project other (3)")
	for _, cl := range []*Collection{coll, dev, oc} {
		count, err := cl.CountDocuments(ctx, bson.D{})
		require.NoError(t, err)
		assert.Zero(t, count)
	}
}

func TestClient_TTLMonitor_Runs(t *testing.T) {
	ctx := context.Background()
	c, err := OpenMemory(ctx, &Options{TTLInterval: 5 * time.Millisecond})
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	coll := ttlColl(t, c)
	crudSeed(t, coll,
		bson.D{{Key: "_id", Value: 1}, {Key: "at", Value: ago(2 * time.Hour)}},
		bson.D{{Key: "_id", Value: 2}, {Key: "at", Value: ago(0)}})
	require.Eventually(t, func() bool {
		n, err := coll.CountDocuments(ctx, bson.D{})
		return err == nil && n == 1
	}, 5*time.Second, 5*time.Millisecond)
}

func TestClient_TTLMonitor_Options(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		opts    *Options
		running bool
	}{
		{"Default", nil, true},
		{"Interval", &Options{TTLInterval: time.Hour}, true},
		{"Disabled", &Options{TTLInterval: -1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := OpenMemory(ctx, tc.opts)
			require.NoError(t, err)
			assert.Equal(t, tc.running, c.conn.ttl != nil)
			m := c.conn.ttl
			require.NoError(t, c.Disconnect(ctx))
			if m != nil {
				select {
				case <-m.done:
				default:
					t.Fatal("Disconnect leaves the monitor running")
				}
			}
			_, err = c.RunTTLPass(ctx)
			assert.ErrorIs(t, err, ErrClientDisconnected)
		})
	}
	assert.Equal(t, time.Minute, defaultTTLInterval, "mongod's ttlMonitorSleepSecs")
}

func TestClient_RunTTLPass_ConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("several clients racing")
	}
	ctx := context.Background()
	store := wal.NewMemoryStore()
	const procs = 3
	var clients []*Client
	for i := 0; i < procs; i++ {
		s := wal.Store(store)
		if i > 0 {
			s = nonClosingStore{store}
		}
		// Monitors at a short interval, plus explicit passes: every client
		// deletes as soon as it can.
		c, err := NewClient(ctx, s, &Options{TTLInterval: time.Millisecond})
		require.NoError(t, err)
		clients = append(clients, c)
	}
	defer func() {
		for i := len(clients) - 1; i >= 0; i-- {
			_ = clients[i].Disconnect(ctx)
		}
	}()
	coll := ttlColl(t, clients[0])
	const expired, fresh = 2500, 10
	docs := make([]interface{}, 0, expired+fresh)
	for i := 0; i < expired+fresh; i++ {
		at := ago(2 * time.Hour)
		if i >= expired {
			at = ago(0)
		}
		docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "at", Value: at}})
	}
	var wg sync.WaitGroup
	errs := make(chan error, procs*10)
	wg.Add(1)
	go func() { // writes keep coming while the monitors delete
		defer wg.Done()
		for i := 0; i < len(docs); i += 100 {
			if _, err := coll.InsertMany(ctx, docs[i:min(i+100, len(docs))]); err != nil {
				errs <- err
			}
		}
	}()
	for _, c := range clients {
		wg.Add(1)
		go func(c *Client) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if _, err := c.RunTTLPass(ctx); err != nil {
					errs <- fmt.Errorf("pass: %w", err)
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range clients {
		_, err := c.RunTTLPass(ctx)
		require.NoError(t, err)
	}
	// Every expired document was deleted exactly once, in the log, and
	// every client agrees on the result.
	ids := deleteOps(t, store)
	seen := map[interface{}]bool{}
	for _, id := range ids {
		assert.False(t, seen[id], "_id %v deleted twice", id)
		seen[id] = true
		assert.Less(t, id.(int32), int32(expired), "only expired documents are deleted")
	}
	assert.Len(t, ids, expired)
	for _, c := range clients {
		n, err := c.Database("db").Collection("sessions").CountDocuments(ctx, bson.D{})
		require.NoError(t, err)
		assert.Equal(t, int64(fresh), n)
	}
}
