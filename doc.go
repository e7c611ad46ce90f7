// Package argon gives MongoDB applications git-like branches and time travel.
//
// Every write goes into a write-ahead log (package wal); the state a query sees
// is materialized in-process from that log (package materialize). A branch is a
// pointer into the log, so creating one costs the same whatever the data size.
//
// The package mirrors the go.mongodb.org/mongo-driver v1 API so an application
// switches by changing its import line.
//
// # Sessions and transactions
//
// Client.StartSession, UseSession and WithSession work as with the driver;
// operations take part in a session when given its SessionContext. A
// transaction (Session.StartTransaction or WithTransaction) runs with
// snapshot isolation on one branch:
//
//   - its first operation takes the snapshot: reads see the branch as it was
//     then, plus the transaction's own writes, never later commits of others;
//   - its writes are validated when made (duplicate keys fail at once, as on
//     the server) and kept in memory; nobody else sees them before the commit;
//   - CommitTransaction appends all of them as one log record, so they become
//     visible together, across collections and databases of the branch, or
//     not at all (also when the process dies before the commit);
//   - if a record committed after the snapshot wrote a document the
//     transaction wrote, changed the collections or indexes it wrote to, or
//     took one of its unique keys, or the branch was reset, the commit fails
//     with a CommandError WriteConflict (code 112) labelled
//     TransientTransactionError, and WithTransaction retries the whole
//     transaction as the driver does (for up to 120 seconds). Writes outside
//     transactions never wait: the first to commit wins.
//
// As on the server, a failed statement aborts the transaction (later
// operations and the commit fail with NoSuchTransaction, code 251), and drop,
// dropDatabase, createIndexes, dropIndexes and aggregations with $out or
// $merge are refused in a transaction (OperationNotSupportedInTransaction,
// code 263); creating a collection, explicitly or by inserting, is allowed.
// A transaction cannot span branches (code 263) nor run on a read-only
// (AtLSN, AtTime) handle (ErrReadOnly). Branch operations (CreateBranch, ...)
// are never part of a transaction. A transaction's writes must fit in one log
// record (wal.MaxRecordSize).
//
// A snapshot session (SessionOptions.Snapshot) reads each branch at the
// point its first read there saw, for find, aggregate, distinct and
// countDocuments, however much is written since; writes, transactions,
// listings, estimated counts and change streams in it fail with
// InvalidOptions (code 72), and StartTransaction with the driver's
// ErrSnapshotTransaction, as with the server.
// A context carrying a session of the real driver is accepted and its
// session ignored.
package argon
