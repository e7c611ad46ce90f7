// Package argon gives MongoDB applications git-like branches and time travel.
//
// Every write goes into a write-ahead log (package wal); the state a query sees
// is materialized in-process from that log (package materialize). A branch is a
// pointer into the log, so creating one costs the same whatever the data size.
//
// The package mirrors the go.mongodb.org/mongo-driver v1 API so an application
// switches by changing its import line.
package argon
