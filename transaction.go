package argon

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"github.com/tidwall/btree"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/readpref"
)

// Transactions (see the package documentation for the user's view).
//
// A transaction is bound to one writable branch by its first operation,
// which also takes its snapshot: the branch's head and the LSN of the
// newest record of the branch in it. Reads see that snapshot plus the
// transaction's own writes (an overlay state); writes are planned against
// the overlay, exactly as plain writes are planned against the head, and
// their operations are buffered. Commit appends all buffered operations as
// one record, with these checks:
//
//   - write-write conflicts: a record of the branch committed after the
//     snapshot that wrote a document the transaction wrote, or changed the
//     catalog (collection, index, database) of a namespace the transaction
//     wrote, fails the commit with WriteConflict (code 112) labelled
//     TransientTransactionError. Committed records are read from the store
//     outside the log's lock; the records of the commit round itself and
//     any committed meanwhile are checked inside the round.
//   - unique keys: when such a record touched a namespace the transaction
//     wrote without conflicting, the transaction's operations on it are
//     re-checked (unique indexes, _id) and re-applied, one by one, against
//     the newest state inside the round; a failure is a WriteConflict too.
//     Without such a record the newest state of those namespaces is the
//     snapshot's, on which the operations were already validated.
//   - the branch name must still name the same branch (not reset or
//     deleted since the snapshot).
//
// Plain writes never wait for transactions: a plain write that commits
// first wins, and the transaction gets the WriteConflict at commit.

// The server's codes and labels for transactions.
const (
	codeWriteConflict                      = 112
	codeMaxTimeMSExpired                   = 50
	codeNoSuchTransaction                  = 251
	codeOperationNotSupportedInTransaction = 263

	labelTransientTransaction = "TransientTransactionError"
	labelUnknownCommitResult  = "UnknownTransactionCommitResult"
)

// txnError is a CommandError shaped like the server's, with labels.
func txnError(code int32, name, msg string, labels ...string) CommandError {
	reply := bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: msg}, {Key: "code", Value: code}, {Key: "codeName", Value: name}}
	if len(labels) > 0 {
		reply = append(reply, bson.E{Key: "errorLabels", Value: labels})
	}
	raw, _ := bson.Marshal(reply)
	return CommandError{Code: code, Name: name, Message: msg, Labels: labels, Raw: raw}
}

func writeConflictError() CommandError {
	return txnError(codeWriteConflict, "WriteConflict",
		"WriteConflict error: this operation conflicted with another operation. Please retry your operation or multi-document transaction.",
		labelTransientTransaction)
}

// notInTransaction is the server's refusal of a command in a transaction.
func notInTransaction(cmd string) CommandError {
	return txnError(codeOperationNotSupportedInTransaction, "OperationNotSupportedInTransaction",
		fmt.Sprintf("Cannot run '%s' in a multi-document transaction.", cmd))
}

// noTransaction fails (and aborts the transaction, as the server does) when
// ctx carries a session with a transaction running: cmd (drop,
// createIndexes, ...) cannot run in one.
func noTransaction(ctx context.Context, cmd string) error {
	return refuseInTransaction(ctx, notInTransaction(cmd))
}

// refuseInTransaction returns err, having aborted the transaction, when
// ctx carries a session with a transaction running; nil otherwise.
func refuseInTransaction(ctx context.Context, err CommandError) error {
	s := sessionOf(ctx)
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || (s.state != txnStarting && s.state != txnInProgress) {
		return nil
	}
	if s.txn.failed == nil {
		s.txn.failed = err
	}
	return err
}

// txn is one transaction of a session. The session's lock guards it.
type txn struct {
	number        int64
	maxCommitTime *time.Duration
	readPref      *readpref.ReadPref

	eng     *engine // nil until the first operation
	branch  string  // the branch name the first operation used
	id      string  // the branch id it resolved to
	snapLSN wal.LSN // newest record of the branch in the snapshot
	st      *materialize.State
	ops     []wal.Op
	ids     map[materialize.Namespace]*btree.BTreeG[bson.RawValue] // documents written
	nss     map[materialize.Namespace]bool                         // namespaces written
	checked wal.LSN                                                // committed records up to here were checked
	touched map[materialize.Namespace]bool                         // namespaces of nss that checked records wrote
	failed  error                                                  // a statement failed: the transaction is aborted

	commitErr error // the outcome of CommitTransaction
}

func (tx *txn) begun() bool { return tx.eng != nil }

// release drops what the transaction holds once it is over.
func (tx *txn) release() {
	tx.st, tx.ops, tx.ids, tx.nss, tx.touched = nil, nil, nil, nil, nil
}

// abortedError is the server's answer to any use of a transaction that a
// failed statement aborted.
func (tx *txn) abortedError() CommandError {
	return txnError(codeNoSuchTransaction, "NoSuchTransaction",
		fmt.Sprintf("Transaction with { txnNumber: %d } has been aborted.", tx.number), labelTransientTransaction)
}

// begin binds the transaction to v's branch and takes its snapshot at the
// first operation; later operations must use the same branch.
func (tx *txn) begin(ctx context.Context, e *engine, v view) error {
	if tx.failed != nil {
		return tx.abortedError()
	}
	if v.readOnly() {
		return fmt.Errorf("%w: %s: a transaction needs a writable branch", ErrReadOnly, v)
	}
	if tx.begun() {
		if v.branch != tx.branch {
			return txnError(codeOperationNotSupportedInTransaction, "OperationNotSupportedInTransaction",
				fmt.Sprintf("a transaction cannot span branches: it runs on branch %q, not %q", tx.branch, v.branch))
		}
		return nil
	}
	if _, err := e.sync(ctx); err != nil {
		return err
	}
	e.mu.RLock()
	b, err := e.cat.resolve(v.branch)
	if err != nil {
		e.mu.RUnlock()
		return err
	}
	tx.id, tx.st = b.id, b.head
	if n := len(b.lsns); n > 0 {
		tx.snapLSN = b.lsns[n-1]
	}
	e.mu.RUnlock()
	tx.eng, tx.branch, tx.checked = e, v.branch, tx.snapLSN
	tx.ids = map[materialize.Namespace]*btree.BTreeG[bson.RawValue]{}
	tx.nss = map[materialize.Namespace]bool{}
	tx.touched = map[materialize.Namespace]bool{}
	return nil
}

// read returns the state an operation of the transaction reads.
func (tx *txn) read(ctx context.Context, e *engine, v view) (*materialize.State, error) {
	if err := tx.begin(ctx, e, v); err != nil {
		return nil, err
	}
	return tx.st, nil
}

// write plans p against the transaction's state and buffers its
// operations. The state is the transaction's, fixed: a plan's verdict is
// final. A failed plan aborts the transaction, as a failed statement does
// on the server.
func (tx *txn) write(ctx context.Context, e *engine, v view, p plan) (wal.Record, error) {
	if err := tx.begin(ctx, e, v); err != nil {
		return wal.Record{}, err
	}
	ops, err := p(tx.st)
	if err != nil {
		var pe *planError
		if errors.As(err, &pe) {
			err = pe.err
		}
		if !errors.Is(err, errNoWrite) {
			tx.failed = err
			return wal.Record{}, err
		}
		return wal.Record{}, nil
	}
	if len(ops) == 0 {
		return wal.Record{}, nil
	}
	for i := range ops {
		switch ops[i].Kind {
		case wal.OpInsert, wal.OpUpdate, wal.OpReplace, wal.OpDelete, wal.OpCreateCollection:
		default:
			// Commands that emit other operations refuse transactions
			// before planning (noTransaction); this guards the record.
			err := notInTransaction(ops[i].Kind.String())
			tx.failed = err
			return wal.Record{}, err
		}
	}
	rec := wal.Record{LSN: tx.snapLSN, Branch: tx.id, Ops: ops}
	next, err := tx.st.Apply(&rec)
	if err != nil {
		tx.failed = err
		return wal.Record{}, err
	}
	tx.st = next
	tx.ops = append(tx.ops, ops...)
	for i := range ops {
		ns := materialize.Namespace{DB: ops[i].DB, Coll: ops[i].Coll}
		tx.nss[ns] = true
		if ops[i].Kind == wal.OpCreateCollection {
			continue
		}
		ids := tx.ids[ns]
		if ids == nil {
			ids = btree.NewBTreeG(func(a, b bson.RawValue) bool { return materialize.CompareValues(a, b) < 0 })
			tx.ids[ns] = ids
		}
		ids.Set(ops[i].ID)
	}
	// The record is not in the log: callers only look at its operations.
	return rec, nil
}

// scan reports whether rec, a record of the branch committed after the
// snapshot, conflicts with the transaction's writes; it adds to touched
// the namespaces the transaction wrote that rec writes too.
func (tx *txn) scan(rec *wal.Record, touched map[materialize.Namespace]bool) (conflict bool) {
	for i := range rec.Ops {
		op := &rec.Ops[i]
		ns := materialize.Namespace{DB: op.DB, Coll: op.Coll}
		switch op.Kind {
		case wal.OpInsert, wal.OpUpdate, wal.OpReplace, wal.OpDelete:
			if !tx.nss[ns] {
				continue
			}
			touched[ns] = true
			if ids := tx.ids[ns]; ids != nil {
				if _, ok := ids.Get(op.ID); ok {
					return true
				}
			}
		case wal.OpDropDatabase:
			for w := range tx.nss {
				if w.DB == op.DB {
					return true
				}
			}
		case wal.OpRenameCollection:
			if tx.nss[ns] {
				return true
			}
			if to, ok := op.Doc.Lookup("to").StringValueOK(); ok {
				for w := range tx.nss {
					if w.String() == to {
						return true
					}
				}
			}
		default: // create/drop collection, create/drop index
			if tx.nss[ns] {
				return true
			}
		}
	}
	return false
}

// errRecheck makes commit check the records committed since its last
// check before trying the round again.
var errRecheck = errors.New("argon: transaction: records to check")

// commit appends the transaction's operations as one record, or fails
// with a WriteConflict (see the top of this file). An error means nothing
// was written.
func (tx *txn) commit(ctx context.Context) (wal.Record, error) {
	if len(tx.ops) == 0 {
		return wal.Record{}, nil
	}
	e := tx.eng
	for {
		if err := tx.checkCommitted(ctx); err != nil {
			return wal.Record{}, err
		}
		rec, err := e.log.AppendFunc(ctx, e.project, func(lsn wal.LSN, pending []wal.Record) (string, []wal.Op, error) {
			cat, err := e.catalogFor(pending)
			if err != nil {
				return "", nil, err
			}
			b, err := cat.resolve(tx.branch)
			if err != nil {
				return "", nil, err
			}
			if b.id != tx.id {
				return "", nil, writeConflictError()
			}
			e.mu.RLock()
			var last wal.LSN
			if cb := e.cat.get(tx.id); cb != nil && len(cb.lsns) > 0 {
				last = cb.lsns[len(cb.lsns)-1]
			}
			e.mu.RUnlock()
			if last > tx.checked {
				return "", nil, errRecheck
			}
			// The round may run again: touched grows only in a copy.
			touched := maps.Clone(tx.touched)
			for i := range pending {
				if pending[i].Branch == tx.id && tx.scan(&pending[i], touched) {
					return "", nil, writeConflictError()
				}
			}
			if len(touched) > 0 {
				st, err := e.stateFor(tx.id, pending)
				if err != nil {
					return "", nil, err
				}
				if err := tx.recheck(st, touched); err != nil {
					return "", nil, writeConflictError()
				}
			}
			return tx.id, tx.ops, nil
		})
		if errors.Is(err, errRecheck) {
			continue
		}
		return rec, err
	}
}

// checkCommitted catches up with the log and scans the branch's records
// committed since the last check, reading them from the store.
func (tx *txn) checkCommitted(ctx context.Context) error {
	e := tx.eng
	if _, err := e.sync(ctx); err != nil {
		return err
	}
	e.mu.RLock()
	b, err := e.cat.resolve(tx.branch)
	if err != nil {
		e.mu.RUnlock()
		return err
	}
	if b.id != tx.id {
		e.mu.RUnlock()
		return writeConflictError()
	}
	i := sort.Search(len(b.lsns), func(i int) bool { return b.lsns[i] > tx.checked })
	lsns := slices.Clone(b.lsns[i:])
	e.mu.RUnlock()
	errConflict := errors.New("conflict")
	err = e.readRecords(ctx, lsns, func(rec *wal.Record) error {
		if tx.scan(rec, tx.touched) {
			return errConflict
		}
		return nil
	})
	if errors.Is(err, errConflict) {
		return writeConflictError()
	}
	if err != nil {
		return err
	}
	if len(lsns) > 0 {
		tx.checked = lsns[len(lsns)-1]
	}
	return nil
}

// recheck re-validates the transaction's operations on the touched
// namespaces, which others wrote since the snapshot, against st, the
// newest state: _id and unique keys free, before-images current.
// Operations on other namespaces apply to the very collections they were
// planned on, so they need no check.
func (tx *txn) recheck(st *materialize.State, touched map[materialize.Namespace]bool) error {
	for i := range tx.ops {
		op := &tx.ops[i]
		ns := materialize.Namespace{DB: op.DB, Coll: op.Coll}
		if !touched[ns] {
			continue
		}
		c := st.Collection(ns)
		switch op.Kind {
		case wal.OpInsert:
			if c != nil {
				if _, dup := c.Get(op.ID); dup {
					return materialize.DuplicateIDError(ns, op.ID)
				}
			}
			fallthrough
		case wal.OpUpdate, wal.OpReplace:
			if err := c.CheckDocument(ns, op.Doc); err != nil {
				return err
			}
		}
		next, err := st.Apply(&wal.Record{LSN: st.LSN(), Branch: tx.id, Ops: tx.ops[i : i+1]})
		if err != nil {
			return err
		}
		st = next
	}
	return nil
}
