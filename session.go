package argon

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readpref"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/x/mongo/driver"
	"go.mongodb.org/mongo-driver/x/mongo/driver/session"
)

// Session is a logical session, the twin of mongo.Session: it groups
// operations (causal consistency) and runs transactions. Start one with
// Client.StartSession (or UseSession, UseSessionWithOptions) and pass it to
// operations through a SessionContext, exactly as with the driver.
//
// It has the driver's method set, except that Client returns the argon
// Client. mongo.Session cannot be implemented outside package mongo, so
// code that names the type must name argon.Session; code that only uses
// SessionContext values compiles unchanged.
//
// In-process semantics:
//   - Causal consistency always holds: every read catches up with the log
//     before it runs, so it sees every write acknowledged before it, by any
//     process. SessionOptions.CausalConsistency is accepted for parity.
//   - OperationTime is the time of the newest record the session's last
//     operation read or wrote, as a Timestamp {T: commit time in Unix
//     seconds, I: the record's LSN (low 32 bits)}; timestamps order like
//     LSNs. ClusterTime is the document {$clusterTime: {clusterTime: <that
//     kind of Timestamp for the log's tail>}}. AdvanceClusterTime and
//     AdvanceOperationTime keep the larger value, as the driver does; reads
//     need no waiting on them, for the reason above.
//   - Transactions: see StartTransaction and the package documentation.
//
// Like the driver's, a Session must not be used by several goroutines at
// once; its methods lock, so misuse serializes rather than corrupts. After
// EndSession every operation given the session and every method that
// returns an error fail with the driver's "ended session was used" error.
type Session interface {
	// StartTransaction starts a transaction on this session. It fails with
	// "transaction already in progress" if one is.
	StartTransaction(...*options.TransactionOptions) error
	// AbortTransaction drops the transaction's writes. It fails if no
	// transaction was started, or it was committed or aborted.
	AbortTransaction(context.Context) error
	// CommitTransaction writes the transaction's operations as one log
	// record, atomically, or fails; see the package documentation.
	CommitTransaction(context.Context) error
	// WithTransaction runs fn in a transaction and commits it, retrying
	// errors labelled TransientTransactionError or
	// UnknownTransactionCommitResult for up to 120 seconds, exactly like
	// the driver's loop. fn may run several times.
	WithTransaction(ctx context.Context, fn func(ctx SessionContext) (interface{}, error),
		opts ...*options.TransactionOptions) (interface{}, error)
	// EndSession aborts a transaction in progress and ends the session.
	EndSession(context.Context)
	// ClusterTime returns the session's cluster time document.
	ClusterTime() bson.Raw
	// OperationTime returns the session's operation time.
	OperationTime() *primitive.Timestamp
	// Client returns the Client that started the session.
	Client() *Client
	// ID returns the session's id document, {id: <UUID binary>}.
	ID() bson.Raw
	// AdvanceClusterTime advances the session's cluster time.
	AdvanceClusterTime(bson.Raw) error
	// AdvanceOperationTime advances the session's operation time.
	AdvanceOperationTime(*primitive.Timestamp) error
}

// SessionContext is a context.Context that carries a Session, the twin of
// mongo.SessionContext. Pass it as the Context of operations that belong to
// the session (and to its transaction, if one is running).
//
// Like the driver's, a SessionContext is not safe for concurrent use.
type SessionContext interface {
	context.Context
	Session
}

// The driver's session errors, the same values, so errors.Is and ==
// comparisons written against the driver keep working.
var (
	// ErrSessionEnded is returned when an ended session is used.
	ErrSessionEnded = session.ErrSessionEnded
	// ErrNoTransactStarted is returned by CommitTransaction and
	// AbortTransaction when no transaction was started.
	ErrNoTransactStarted = session.ErrNoTransactStarted
	// ErrTransactInProgress is returned by StartTransaction when a
	// transaction is in progress.
	ErrTransactInProgress = session.ErrTransactInProgress
	// ErrAbortAfterCommit is returned by AbortTransaction after
	// CommitTransaction.
	ErrAbortAfterCommit = session.ErrAbortAfterCommit
	// ErrAbortTwice is returned by a second AbortTransaction.
	ErrAbortTwice = session.ErrAbortTwice
	// ErrCommitAfterAbort is returned by CommitTransaction after
	// AbortTransaction.
	ErrCommitAfterAbort = session.ErrCommitAfterAbort
	// ErrUnackWCUnsupported is returned by StartTransaction with an
	// unacknowledged write concern.
	ErrUnackWCUnsupported = session.ErrUnackWCUnsupported
)

type sessionKey struct{}

type sessionContext struct {
	context.Context
	Session
}

// NewSessionContext returns a SessionContext carrying sess, like
// mongo.NewSessionContext.
func NewSessionContext(ctx context.Context, sess Session) SessionContext {
	if ctx == nil {
		ctx = context.Background()
	}
	return &sessionContext{Context: context.WithValue(ctx, sessionKey{}, sess), Session: sess}
}

// SessionFromContext returns the Session ctx carries, or nil, like
// mongo.SessionFromContext. A session of the real driver is not an argon
// Session: Argon's operations accept contexts carrying one and ignore it.
func SessionFromContext(ctx context.Context) Session {
	if ctx == nil {
		return nil
	}
	s, _ := ctx.Value(sessionKey{}).(Session)
	return s
}

// WithSession calls fn with a SessionContext for sess, like
// mongo.WithSession.
func WithSession(ctx context.Context, sess Session, fn func(SessionContext) error) error {
	return fn(NewSessionContext(ctx, sess))
}

// sessionOf returns Argon's own session carried by ctx, if any. Other
// implementations of Session are ignored, as the driver ignores sessions
// it did not create.
func sessionOf(ctx context.Context) *clientSession {
	if ctx == nil {
		return nil
	}
	s, _ := ctx.Value(sessionKey{}).(*clientSession)
	return s
}

// startSession is StartSession with the concrete type.
func (c *Client) startSession(opts ...*options.SessionOptions) (*clientSession, error) {
	if err := c.live(); err != nil {
		return nil, err
	}
	var o options.SessionOptions
	for _, x := range opts {
		if x == nil {
			continue
		}
		if x.CausalConsistency != nil {
			o.CausalConsistency = x.CausalConsistency
		}
		if x.DefaultReadConcern != nil {
			o.DefaultReadConcern = x.DefaultReadConcern
		}
		if x.DefaultReadPreference != nil {
			o.DefaultReadPreference = x.DefaultReadPreference
		}
		if x.DefaultWriteConcern != nil {
			o.DefaultWriteConcern = x.DefaultWriteConcern
		}
		if x.DefaultMaxCommitTime != nil {
			o.DefaultMaxCommitTime = x.DefaultMaxCommitTime
		}
		if x.Snapshot != nil {
			o.Snapshot = x.Snapshot
		}
	}
	snapshot := o.Snapshot != nil && *o.Snapshot
	if snapshot && o.CausalConsistency != nil && *o.CausalConsistency {
		return nil, errors.New("causal consistency and snapshot cannot both be set for a session")
	}
	id, err := newSessionID()
	if err != nil {
		return nil, err
	}
	s := &clientSession{client: c, id: id, defaults: options.TransactionOptions{
		ReadConcern:    o.DefaultReadConcern,
		ReadPreference: o.DefaultReadPreference,
		WriteConcern:   o.DefaultWriteConcern,
		MaxCommitTime:  o.DefaultMaxCommitTime,
	}}
	if snapshot {
		s.pinned = map[string]*materialize.State{}
	}
	c.conn.sessions.Add(1)
	c.conn.localSessions.used(s)
	return s, nil
}

// useSession runs fn with a new session and ends it afterwards.
func (c *Client) useSession(ctx context.Context, opts *options.SessionOptions, fn func(SessionContext) error) error {
	s, err := c.startSession(opts)
	if err != nil {
		return err
	}
	defer s.EndSession(ctx)
	return fn(NewSessionContext(ctx, s))
}

// txnState is the driver's transaction state machine.
type txnState int

const (
	txnNone       txnState = iota
	txnStarting            // started, no operation yet
	txnInProgress          // an operation ran: the snapshot is taken
	txnCommitted           // CommitTransaction ran (its outcome is kept)
	txnAborted
)

// clientSession is Argon's Session.
type clientSession struct {
	client   *Client
	id       bson.Raw
	defaults options.TransactionOptions

	mu          sync.Mutex
	ended       bool
	state       txnState
	txnNumber   int64
	txn         *txn // the current (or last) transaction
	clusterTime bson.Raw
	opTime      *primitive.Timestamp
	// pinned is non-nil for a snapshot session (SessionOptions.Snapshot):
	// the state each view's first read saw, which its later reads see too.
	pinned map[string]*materialize.State
}

var _ Session = (*clientSession)(nil)

func (s *clientSession) ID() bson.Raw    { return s.id }
func (s *clientSession) Client() *Client { return s.client }

func (s *clientSession) ClusterTime() bson.Raw {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clusterTime
}

func (s *clientSession) OperationTime() *primitive.Timestamp {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opTime
}

func (s *clientSession) AdvanceClusterTime(d bson.Raw) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return ErrSessionEnded
	}
	s.clusterTime = session.MaxClusterTime(s.clusterTime, d)
	return nil
}

func (s *clientSession) AdvanceOperationTime(ts *primitive.Timestamp) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return ErrSessionEnded
	}
	s.advanceOpTimeLocked(ts)
	return nil
}

func (s *clientSession) advanceOpTimeLocked(ts *primitive.Timestamp) {
	if ts == nil {
		return
	}
	if s.opTime == nil || ts.After(*s.opTime) {
		t := *ts
		s.opTime = &t
	}
}

// observeLocked advances the session's times after an operation that saw
// or wrote the record at lsn.
func (s *clientSession) observeLocked(e *engine, lsn wal.LSN) {
	e.mu.RLock()
	tail := wal.LSN(len(e.times))
	ts := func(l wal.LSN) primitive.Timestamp {
		if l == 0 || int(l) > len(e.times) {
			return primitive.Timestamp{I: uint32(l)}
		}
		return primitive.Timestamp{T: uint32(e.times[l-1] / 1000), I: uint32(l)}
	}
	op, cl := ts(lsn), ts(tail)
	e.mu.RUnlock()
	if lsn > 0 {
		s.advanceOpTimeLocked(&op)
	}
	doc, err := bson.Marshal(bson.D{{Key: "$clusterTime", Value: bson.D{{Key: "clusterTime", Value: cl}}}})
	if err == nil {
		s.clusterTime = session.MaxClusterTime(s.clusterTime, doc)
	}
}

func (s *clientSession) EndSession(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	if s.state == txnStarting || s.state == txnInProgress {
		s.abortLocked()
	}
	s.ended = true
	clear(s.pinned) // the states a snapshot session kept alive
	s.client.conn.sessions.Add(-1)
	s.client.conn.localSessions.ended(s)
}

// StartTransaction starts a transaction. It takes no snapshot: the first
// operation given the session does (snapshot isolation from there on).
// Options not given come from the session's defaults. An unacknowledged
// write concern fails as with the driver; a read preference other than
// primary fails reads after the first, as with the driver; the read
// concern is accepted (a transaction always reads its snapshot of the one
// log); MaxCommitTime bounds CommitTransaction.
func (s *clientSession) StartTransaction(opts ...*options.TransactionOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return ErrSessionEnded
	}
	if s.state == txnStarting || s.state == txnInProgress {
		return ErrTransactInProgress
	}
	if s.pinned != nil {
		return session.ErrSnapshotTransaction
	}
	o := options.MergeTransactionOptions(append([]*options.TransactionOptions{&s.defaults}, opts...)...)
	if !writeconcern.AckWrite(o.WriteConcern) {
		return ErrUnackWCUnsupported
	}
	s.txnNumber++
	s.txn = &txn{number: s.txnNumber, maxCommitTime: o.MaxCommitTime, readPref: o.ReadPreference}
	s.state = txnStarting
	return nil
}

func (s *clientSession) AbortTransaction(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return ErrSessionEnded
	}
	switch s.state {
	case txnNone:
		return ErrNoTransactStarted
	case txnCommitted:
		return ErrAbortAfterCommit
	case txnAborted:
		return ErrAbortTwice
	}
	s.abortLocked()
	return nil
}

func (s *clientSession) abortLocked() {
	s.state = txnAborted
	s.txn.release()
}

// CommitTransaction commits the transaction: all its writes as one log
// record, durable per the store when it returns nil. A transaction that
// wrote nothing commits without touching the log. A conflict (see the
// package documentation) fails with a CommandError labelled
// TransientTransactionError. Calling it again after it ran returns the
// same outcome, as a retried commit does on a server.
func (s *clientSession) CommitTransaction(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return ErrSessionEnded
	}
	switch s.state {
	case txnNone:
		return ErrNoTransactStarted
	case txnAborted:
		return ErrCommitAfterAbort
	case txnCommitted:
		return s.txn.commitErr
	case txnStarting:
		s.state = txnCommitted
		return nil
	}
	tx := s.txn
	if tx.failed != nil {
		s.state = txnCommitted
		tx.commitErr = tx.abortedError()
		tx.release()
		return tx.commitErr
	}
	if ctx == nil {
		ctx = context.Background()
	}
	cctx := ctx
	if tx.maxCommitTime != nil && *tx.maxCommitTime > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, *tx.maxCommitTime)
		defer cancel()
	}
	rec, err := tx.commit(cctx)
	if err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// Not committed, and the transaction is intact: the caller may
		// commit again, as the driver allows after a timeout.
		if ctx.Err() == nil {
			return txnError(codeMaxTimeMSExpired, "MaxTimeMSExpired", "operation exceeded time limit")
		}
		return err
	}
	s.state = txnCommitted
	tx.commitErr = err
	tx.release()
	if err == nil && rec.LSN > 0 {
		s.observeLocked(tx.eng, rec.LSN)
	}
	return err
}

// transactionRunning reports whether a transaction is started and not yet
// committed or aborted.
func (s *clientSession) transactionRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == txnStarting || s.state == txnInProgress
}

// checkAbort is the driver's CheckAbortTransaction: nil while a
// transaction can still be aborted.
func (s *clientSession) checkAbort() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case txnNone:
		return ErrNoTransactStarted
	case txnCommitted:
		return ErrAbortAfterCommit
	case txnAborted:
		return ErrAbortTwice
	}
	return nil
}

// withTransactionTimeout is the driver's limit on WithTransaction retries.
const withTransactionTimeout = 120 * time.Second

// WithTransaction is the driver's loop: start, run fn, commit; retry the
// whole transaction on TransientTransactionError and the commit on
// UnknownTransactionCommitResult, until 120 seconds have passed. If fn
// fails, the transaction is aborted and fn's error returned. Commit and
// abort ignore ctx's deadline and cancellation, as the driver's do.
func (s *clientSession) WithTransaction(ctx context.Context, fn func(ctx SessionContext) (interface{}, error),
	opts ...*options.TransactionOptions) (interface{}, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	timeout := time.NewTimer(withTransactionTimeout)
	defer timeout.Stop()
	for {
		if err := s.StartTransaction(opts...); err != nil {
			return nil, err
		}
		res, err := fn(NewSessionContext(ctx, s))
		if err != nil {
			if s.transactionRunning() {
				_ = s.AbortTransaction(context.WithoutCancel(ctx))
			}
			select {
			case <-timeout.C:
				return nil, err
			default:
			}
			if hasErrorLabel(err, labelTransientTransaction) {
				continue
			}
			return res, err
		}
		// fn committed or aborted the transaction itself.
		if s.checkAbort() != nil {
			return res, nil
		}
		if ctx.Err() != nil {
			_ = s.AbortTransaction(context.WithoutCancel(ctx))
			return nil, ctx.Err()
		}
	commitLoop:
		for {
			err = s.CommitTransaction(context.WithoutCancel(ctx))
			if err == nil {
				return res, nil
			}
			select {
			case <-timeout.C:
				return res, err
			default:
			}
			if cerr, ok := err.(CommandError); ok {
				if cerr.HasErrorLabel(labelUnknownCommitResult) && !cerr.IsMaxTimeMSExpiredError() {
					continue
				}
				if cerr.HasErrorLabel(labelTransientTransaction) {
					break commitLoop
				}
			}
			return res, err
		}
	}
}

// hasErrorLabel is the driver's errorHasLabel: any error of err's chain
// carrying label.
func hasErrorLabel(err error, label string) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if le, ok := err.(LabeledError); ok && le.HasErrorLabel(label) {
			return true
		}
	}
	return false
}

// snapshot is engine.snapshot for an operation given the session: inside
// a transaction, the transaction's state; otherwise the view's state.
func (s *clientSession) snapshot(ctx context.Context, e *engine, v view) (*materialize.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.useLocked(e); err != nil {
		return nil, err
	}
	if s.state == txnInProgress && s.txn.readPref != nil && s.txn.readPref.Mode() != readpref.PrimaryMode {
		// The driver's check, made from the second operation on.
		return nil, driver.ErrNonPrimaryReadPref
	}
	if s.state == txnStarting || s.state == txnInProgress {
		st, err := s.txn.read(ctx, e, v)
		if err == nil {
			s.state = txnInProgress
		}
		return st, err
	}
	if st := s.pinned[v.String()]; st != nil {
		return st, nil
	}
	st, err := e.viewState(ctx, v)
	if err == nil {
		s.observeLocked(e, st.LSN())
		if s.pinned != nil {
			s.pinned[v.String()] = st
		}
	}
	return st, err
}

// write is engine.write for an operation given the session: inside a
// transaction the operations are buffered; otherwise committed at once.
func (s *clientSession) write(ctx context.Context, e *engine, v view, p plan) (wal.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.useLocked(e); err != nil {
		return wal.Record{}, err
	}
	if s.pinned != nil {
		return wal.Record{}, snapshotRefused("write operations")
	}
	if s.state == txnStarting || s.state == txnInProgress {
		rec, err := s.txn.write(ctx, e, v, p)
		if s.txn.begun() {
			s.state = txnInProgress
		}
		return rec, err
	}
	rec, err := e.writeNow(ctx, v, p)
	if err == nil && rec.LSN > 0 {
		s.observeLocked(e, rec.LSN)
	}
	return rec, err
}

// snapshotRefused is the server's error for an operation a snapshot
// session cannot run: only find, aggregate (without $out or $merge),
// distinct and countDocuments read at the session's point.
func snapshotRefused(what string) CommandError {
	return CommandError{Code: codeInvalidOptions, Name: "InvalidOptions",
		Message: what + ` do not support { readConcern: { level: "snapshot" } } outside multi-document transactions`}
}

// noSnapshot refuses what when ctx carries a snapshot session.
func noSnapshot(ctx context.Context, what string) error {
	if s := sessionOf(ctx); s != nil && s.pinned != nil {
		return snapshotRefused(what)
	}
	return nil
}

// useLocked checks that an operation may use the session and, after a
// finished transaction, leaves the transaction state as the driver does:
// the next operation runs outside any transaction.
func (s *clientSession) useLocked(e *engine) error {
	if s.ended {
		return ErrSessionEnded
	}
	s.client.conn.localSessions.used(s)
	if s.client.eng != e {
		return ErrWrongClient
	}
	if s.state == txnCommitted || s.state == txnAborted {
		s.state = txnNone
	}
	return nil
}

// failTransaction marks the transaction of the session ctx carries, if one
// is running, as aborted by a failed write, as the server aborts a
// transaction whose statement fails.
func failTransaction(ctx context.Context, err error) {
	s := sessionOf(ctx)
	if s == nil || err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if (s.state == txnStarting || s.state == txnInProgress) && s.txn.failed == nil {
		s.txn.failed = err
	}
}
