package argon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readpref"
)

// Defaults of Options.
const (
	DefaultProject  = "default"
	DefaultBranch   = "main"
	DefaultLogDB    = "argon"
	defaultLogColl  = "wal"
	mainBranchName  = DefaultBranch
	maxLogReadBatch = 1024
)

// Options configure a Client beyond what the driver's ClientOptions say.
// Nil means the defaults; each field documents its own.
type Options struct {
	// Project is the project the client works in. Default "default".
	Project string
	// Branch is the branch the client's databases read and write. Default
	// "main".
	Branch string
	// LogDatabase is the MongoDB database that holds the log when the client
	// comes from Connect. Default "argon".
	LogDatabase string
	// Log tunes group commit; nil means wal's defaults.
	Log *wal.LogOptions
	// TTLInterval is how often the client's TTL monitor deletes the
	// documents its TTL indexes expire (see RunTTLPass). Default 60s, as
	// mongod's ttlMonitorSleepSecs; negative disables the monitor, so this
	// process never writes expiry deletes (RunTTLPass still works).
	TTLInterval time.Duration
	// Retention is the retention window of garbage collection (gc.go): the
	// history of the last Retention stays readable, and deleted branches'
	// records are kept at least that long. Default 7 days.
	Retention time.Duration
	// GCInterval, if positive, runs a garbage collection of every project
	// the client's connection works with at that interval. Default 0: only
	// GarbageCollect collects.
	GCInterval time.Duration
	// CheckpointInterval is how many records of a project separate the
	// checkpoints the client writes to the store in the background (the
	// newest one in the store counts, whoever wrote it). A client opened
	// later loads the newest checkpoint and replays only the records after
	// it. Writing one costs time in proportion to the data, so they are
	// also spaced to take at most about a tenth of the time. Default
	// DefaultCheckpointInterval (10,000), and none for OpenMemory; negative
	// disables background checkpoints (Client.Checkpoint still writes one).
	CheckpointInterval int
	// IgnoreCheckpoints makes the client replay each project's whole log
	// at open instead of starting from the newest checkpoint. Default
	// false.
	IgnoreCheckpoints bool
}

func mergeOptions(opts []*Options) Options {
	var o Options
	for _, x := range opts {
		if x == nil {
			continue
		}
		if x.Project != "" {
			o.Project = x.Project
		}
		if x.Branch != "" {
			o.Branch = x.Branch
		}
		if x.LogDatabase != "" {
			o.LogDatabase = x.LogDatabase
		}
		if x.Log != nil {
			o.Log = x.Log
		}
		if x.TTLInterval != 0 { // TTL monitor (ttl.go)
			o.TTLInterval = x.TTLInterval
		}
		if x.Retention != 0 { // garbage collection (gc.go)
			o.Retention = x.Retention
		}
		if x.GCInterval != 0 {
			o.GCInterval = x.GCInterval
		}
		if x.CheckpointInterval != 0 { // checkpoints (checkpoint.go)
			o.CheckpointInterval = x.CheckpointInterval
		}
		if x.IgnoreCheckpoints {
			o.IgnoreCheckpoints = true
		}
	}
	if o.Project == "" {
		o.Project = DefaultProject
	}
	if o.Branch == "" {
		o.Branch = DefaultBranch
	}
	if o.LogDatabase == "" {
		o.LogDatabase = DefaultLogDB
	}
	return o
}

// Client is the entry point, the twin of mongo.Client: it hands out
// Databases that read and write one branch of one project. Create it with
// Connect (log in MongoDB), Open (log in a local directory) or OpenMemory
// (log in memory, for tests).
//
// A Client is safe for concurrent use by multiple goroutines. Disconnect it
// when done; writes acknowledged before are durable per the store.
type Client struct {
	store   wal.Store
	log     *wal.Log
	eng     *engine
	branch  view
	timeout *time.Duration
	conn    *clientConn // shared by the client and its branch handles
}

// clientConn is what a client and the handles made from it (WithBranch,
// AtLSN, AtTime) share: one log, closed once.
type clientConn struct {
	closeOnce sync.Once
	closeErr  error
	closed    chan struct{}

	// engines holds one engine per project used through this connection:
	// a project has one follower per log.
	mu      sync.Mutex
	engines map[string]*engine

	ttl *monitor // TTL monitor (ttl.go); nil when disabled

	sessions      atomic.Int64  // sessions started and not ended (session.go)
	localSessions localSessions // for $listLocalSessions (local_sessions.go)

	gc    gcConfig         // garbage collection (gc.go), guarded by mu
	gcMon *monitor         // nil when disabled
	ckpt  checkpointConfig // for the engines of other projects (checkpoint.go)
}

// Connect keeps the log in the MongoDB deployment that opts name (the same
// arguments as mongo.Connect), in the database Options.LogDatabase. Argon
// options may be given with ConnectWithOptions.
func Connect(ctx context.Context, opts ...*options.ClientOptions) (*Client, error) {
	return ConnectWithOptions(ctx, nil, opts...)
}

// ConnectWithOptions is Connect with Argon's own options.
func ConnectWithOptions(ctx context.Context, aopts *Options, opts ...*options.ClientOptions) (*Client, error) {
	o := mergeOptions([]*Options{aopts})
	mc, err := mongo.Connect(ctx, opts...)
	if err != nil {
		return nil, err
	}
	store, err := wal.OpenMongo(ctx, mc, &wal.MongoOptions{Database: o.LogDatabase, Collection: defaultLogColl})
	if err != nil {
		_ = mc.Disconnect(context.Background())
		return nil, err
	}
	c, err := newClient(ctx, &ownedStore{Store: store, client: mc}, o)
	if err != nil {
		_ = store.Close()
		_ = mc.Disconnect(context.Background())
		return nil, err
	}
	if co := options.MergeClientOptions(opts...); co.Timeout != nil {
		c.timeout = co.Timeout
	}
	return c, nil
}

// ownedStore disconnects the driver client Connect created.
type ownedStore struct {
	wal.Store
	client *mongo.Client
}

func (s *ownedStore) Close() error {
	return errors.Join(s.Store.Close(), s.client.Disconnect(context.Background()))
}

// storeAs returns the store (the one Connect wraps, for a Connect client)
// as an optional wal interface: checkpoints, tombstones, sizes.
func storeAs[T any](s wal.Store) (T, bool) {
	if o, ok := s.(*ownedStore); ok {
		s = o.Store
	}
	t, ok := s.(T)
	return t, ok
}

// Open opens (or creates) the embedded log in directory dir: no server
// needed. Only one Client at a time may have a directory open.
func Open(ctx context.Context, dir string, opts ...*Options) (*Client, error) {
	store, err := wal.OpenDir(ctx, dir, nil)
	if err != nil {
		return nil, err
	}
	c, err := newClient(ctx, store, mergeOptions(opts))
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	return c, nil
}

// OpenMemory returns a Client whose log lives in memory and ends with it.
// No other client can open that log, so it writes no background
// checkpoints unless Options.CheckpointInterval asks for them.
func OpenMemory(ctx context.Context, opts ...*Options) (*Client, error) {
	return NewClient(ctx, wal.NewMemoryStore(), append([]*Options{{CheckpointInterval: -1}}, opts...)...)
}

// NewClient returns a Client over any wal.Store. Disconnect closes the
// store.
func NewClient(ctx context.Context, store wal.Store, opts ...*Options) (*Client, error) {
	return newClient(ctx, store, mergeOptions(opts))
}

func newClient(ctx context.Context, store wal.Store, o Options) (*Client, error) {
	if err := wal.ValidateProjectName(o.Project); err != nil {
		return nil, err
	}
	if err := wal.ValidateBranchName(o.Branch); err != nil {
		return nil, err
	}
	log := wal.NewLog(store, o.Log)
	ckpt := checkpointConfigOf(o)
	eng, err := newEngine(ctx, log, store, o.Project, ckpt)
	if err != nil {
		_ = log.Close()
		return nil, err
	}
	c := &Client{store: store, log: log, eng: eng, branch: view{branch: o.Branch},
		conn: &clientConn{closed: make(chan struct{}), engines: map[string]*engine{o.Project: eng}, ckpt: ckpt}}
	// Catch up now, so a damaged or unreachable log fails here and not at
	// the first read.
	if _, err := eng.snapshot(ctx, c.branch); err != nil {
		eng.stopCheckpoints()
		_ = log.Close()
		return nil, err
	}
	c.conn.ttl = startTTLMonitor(c.conn, o.TTLInterval) // TTL monitor (ttl.go)
	c.conn.gc = newGCConfig(o)                          // garbage collection (gc.go)
	c.conn.gcMon = startGCMonitor(c.conn, store, o.GCInterval)
	return c, nil
}

// errClientDisconnected is returned by every operation after Disconnect,
// like the driver's.
var errClientDisconnected = mongo.ErrClientDisconnected

func (c *Client) live() error {
	select {
	case <-c.conn.closed:
		return errClientDisconnected
	default:
		return nil
	}
}

// Connect is a no-op kept for parity with the driver's deprecated
// Client.Connect: argon clients are connected when created.
//
// Deprecated: use Connect, Open or OpenMemory.
func (c *Client) Connect(ctx context.Context) error { return c.live() }

// Disconnect waits for writes in flight, then closes the log and its store.
func (c *Client) Disconnect(ctx context.Context) error {
	c.conn.closeOnce.Do(func() {
		close(c.conn.closed)
		c.conn.ttl.stop() // TTL monitor (ttl.go): no expiry write after this
		c.conn.gcMon.stop()
		c.conn.stopCheckpoints()
		c.conn.closeErr = errors.Join(c.log.Close(), c.store.Close())
	})
	return c.conn.closeErr
}

// Ping checks that the log's store answers.
func (c *Client) Ping(ctx context.Context, rp *readpref.ReadPref) error {
	if err := c.live(); err != nil {
		return err
	}
	_, err := c.eng.sync(ctx)
	return err
}

// Database returns a handle for the database name on the client's branch.
// Like the driver's, it does not check the name: operations do.
func (c *Client) Database(name string, opts ...*options.DatabaseOptions) *Database {
	return newDatabase(c, name, opts...)
}

// ListDatabaseNames returns the names of the databases on the client's
// branch that match filter (a filter over the fields name, sizeOnDisk,
// empty).
func (c *Client) ListDatabaseNames(ctx context.Context, filter interface{}, opts ...*options.ListDatabasesOptions) ([]string, error) {
	res, err := c.ListDatabases(ctx, filter, opts...)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(res.Databases))
	for i, d := range res.Databases {
		names[i] = d.Name
	}
	return names, nil
}

// ListDatabases describes the databases on the client's branch that match
// filter. SizeOnDisk is the total size of the documents' BSON.
func (c *Client) ListDatabases(ctx context.Context, filter interface{}, opts ...*options.ListDatabasesOptions) (ListDatabasesResult, error) {
	if err := c.live(); err != nil {
		return ListDatabasesResult{}, err
	}
	match, err := compileFilter(filter)
	if err != nil {
		return ListDatabasesResult{}, err
	}
	if err := noSnapshot(ctx, "listDatabases"); err != nil {
		return ListDatabasesResult{}, err
	}
	st, err := c.eng.snapshot(ctx, c.branch)
	if err != nil {
		return ListDatabasesResult{}, err
	}
	var res ListDatabasesResult
	for _, db := range st.Databases() {
		var size int64
		empty := true
		for _, ns := range st.Namespaces() {
			if ns.DB != db {
				continue
			}
			st.Collection(ns).Scan(func(d bson.Raw) bool {
				size += int64(len(d))
				empty = false
				return true
			})
		}
		spec := DatabaseSpecification{Name: db, SizeOnDisk: size, Empty: empty}
		doc, _ := bson.Marshal(bson.D{{Key: "name", Value: db}, {Key: "sizeOnDisk", Value: size}, {Key: "empty", Value: empty}})
		ok, err := match.Match(doc)
		if err != nil {
			return ListDatabasesResult{}, err
		}
		if ok {
			res.Databases = append(res.Databases, spec)
			res.TotalSize += size
		}
	}
	return res, nil
}

// NumberSessionsInProgress returns the number of sessions started and not
// yet ended through this client's connection.
func (c *Client) NumberSessionsInProgress() int { return int(c.conn.sessions.Load()) }

// Timeout returns the client-wide timeout set through ClientOptions, if any.
func (c *Client) Timeout() *time.Duration { return c.timeout }

// StartSession starts a session (see Session). End it with EndSession.
// CausalConsistency is accepted (it always holds in Argon); the Default*
// options are the defaults of the session's transactions; snapshot
// sessions are not supported yet.
func (c *Client) StartSession(opts ...*options.SessionOptions) (Session, error) {
	s, err := c.startSession(opts...)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// UseSession runs fn with a new session's SessionContext and ends the
// session when fn returns.
func (c *Client) UseSession(ctx context.Context, fn func(SessionContext) error) error {
	return c.useSession(ctx, nil, fn)
}

// UseSessionWithOptions is UseSession with options for the session.
func (c *Client) UseSessionWithOptions(ctx context.Context, opts *options.SessionOptions, fn func(SessionContext) error) error {
	return c.useSession(ctx, opts, fn)
}

// ErrNotSupported is wrapped by every error of a feature Argon does not
// support yet; the message names the feature.
var ErrNotSupported = errors.New("argon: not supported yet")

func notSupported(feature string) error {
	return fmt.Errorf("%w: %s", ErrNotSupported, feature)
}
