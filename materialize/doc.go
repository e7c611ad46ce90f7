// Package materialize turns the log into the state a query sees, and holds
// MongoDB's query semantics.
//
// State is the content of one branch at one LSN: an immutable,
// copy-on-write map from namespace to Collection, where each Collection
// keeps its documents in two persistent B-trees (by _id, in BSON order, and
// by insertion sequence, for natural order). State.Apply folds one record
// into a new State that shares every unchanged node with the old one, so a
// snapshot (for a read, a branch, a checkpoint) costs O(1).
//
// The operator families live one per file, each with its tests: compare
// (BSON total order), compare_ops, logical, element, evaluation, array,
// bitwise, expr (aggregation expressions for $expr), update*, projection*,
// sort, index, collation (string comparison under a collation, which the
// others take as an option). Errors carry the server's code, code name and
// message (*Error).
//
// Everything here is a pure function of its inputs: compiled filters,
// updates, projections and sorts are immutable and safe for concurrent use.
package materialize
