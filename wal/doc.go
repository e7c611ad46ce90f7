// Package wal is Argon's write-ahead log: the record format, the Store
// interface with its three stores, and the Log that appends to them.
//
// # Records
//
// A Record is one atomic commit at one LSN of one project. It carries one or
// more physical operations (Op): full after-images for inserts, updates and
// replaces, before-images for updates, replaces and deletes, and catalog
// events (collections, indexes, databases, projects, branches). A record
// never holds a user's filter or update expression, so replaying the log is
// a pure fold that does not depend on the query engine's version.
//
// A record is encoded as one BSON document (Record.Encode, DecodeRecord):
//
//	{
//	  v: int32    format version (1)
//	  l: int64    LSN
//	  t: datetime commit time, UTC milliseconds
//	  b: string   branch id (absent for project-level records)
//	  g: bool     true on a tombstone (absent otherwise)
//	  o: [        operations, in order
//	    { k: int32 kind (OpKind), d: database, c: collection,
//	      n: index or branch name, i: _id value,
//	      a: document after / description, f: document before }
//	  ]
//	}
//
// Absent or empty fields are omitted. Field names, kinds and limits are in
// const blocks marked "part of the format" in record.go.
//
// # Tombstones
//
// Garbage collection never deletes a record: LSNs must stay dense. A store
// that implements Tombstoner replaces a record it no longer needs by its
// tombstone: the same LSN, time and branch, g: true and an empty ops array
// (so decoders written before tombstones existed read it as a record with
// no operations). Only data records (with a branch) are tombstoned. Before
// tombstoning, garbage collection appends a project-level record with one
// OpCollectGarbage operation (kind 25) saying what it removes, so that every
// reader learns it in LSN order; a build that predates kind 25 reports such
// a log as corrupt instead of misreading it. The embedded store rewrites a
// segment into "<segment>.gc", syncs it and renames it over the segment; the
// MongoDB store replaces the record's document and deletes its chunks.
//
// # LSN invariants
//
//  1. LSNs are unique and dense per project, from 1; commit order is LSN
//     order.
//  2. A reader that sees LSN n can read every LSN below n.
//  3. An append acknowledged to its caller survives a crash of the process
//     (and of the machine, per the store's durability setting).
//  4. Record times never decrease as LSNs increase.
//
// The protocol needs no counters and no transactions: a writer appends at
// tail+1 of the tail it knows; the store rejects an LSN that is taken
// (ErrLSNTaken), and the loser catches up and retries. Log adds group
// commit: in one process at most one append per project is in flight, and
// it carries every record queued behind it (consecutive LSNs, one round
// trip, one fsync).
//
// # Stores
//
// MemoryStore keeps encoded records in memory, for tests.
//
// DirStore, the embedded default, keeps each project's log as segment files
// in a directory:
//
//	<dir>/LOCK                                 flock(LOCK_EX) while open
//	<dir>/<project>/00000000000000000001.wal   segment; first LSN in the name
//
//	segment header (16 bytes), then frames back to back
//	+-------------+-------------+-----------------+
//	| magic   u32 | version u32 | first LSN   u64 |
//	| "AWAL"      | 2           | = file name     |
//	+-------------+-------------+-----------------+
//
//	frame (28-byte header + payload), little-endian
//	 0            4            8                 16                24          28
//	+------------+------------+-----------------+-----------------+-----------+-----------------+
//	| magic  u32 | length u32 | lsn         u64 | batch       u64 | crc   u32 | payload         |
//	| 0xE4A1F7C3 | of payload | record's LSN    | first LSN of    | CRC-32C   | Record.Encode() |
//	|            |            |                 | its Append      |           |                 |
//	+------------+------------+-----------------+-----------------+-----------+-----------------+
//	CRC-32C (Castagnoli) over header bytes 4..24 followed by the payload.
//
// An append writes all frames of a round with one write and one fdatasync.
// At open, an incomplete or invalid frame at the end of the last segment is
// a torn tail and is truncated away, together with the rest of its batch
// when valid frames of that same batch follow it (a power failure may
// persist an unsynced write's pages out of order). Any other damage is
// reported as ErrCorrupt with the file and offset, never skipped.
//
// MongoStore keeps one document per record in a collection (default
// argon.wal). The document is the record's encoding preceded by
//
//	_id: "<project>/<LSN as 20 digits>"   the _id index arbitrates LSN races
//	p:   project
//	w:   int64 nonce of the append call, to tell our insert from another's
//
// so the built-in _id index is the only index it needs: point lookups find
// an LSN, range scans read in LSN order. An append is one ordered insert of
// its records; a duplicate key on the first means another writer holds the
// LSN. The project's document in argon.wal_projects ({_id: project, c:
// time}, written before the project's first record) lists the project.
// Tail needs no other document: the log is dense, so a store that knows
// LSN n exists finds the tail by looking up n+1 (one indexed lookup when
// nothing is new), galloping and bisecting otherwise. Earlier versions
// also kept a head field h in the project document, raised after every
// insert and trusted by their Tail; this version ignores it, and such
// versions must not share a log with this one. A record larger than a MongoDB
// document keeps its encoding in argon.wal_chunks (8 MiB chunks, written
// first) and the record document, written last, names them: it is the
// commit point, so a large record is never half written. Appends use write
// concern majority and reads read concern majority by default; neither
// transactions nor change streams are used.
//
// # Checkpoints
//
// Stores may also keep checkpoints (the optional Checkpointer interface):
// opaque snapshots of a project's materialized state as of an LSN, so that
// a new process replays only the records after the newest one. They are
// never part of the log; losing them costs time, not data. Every store
// frames a checkpoint the same way:
//
//	header (16 bytes)                       then blocks, back to back
//	+-----------+-------------+---------+   +------------+---------+--------------+
//	| magic u32 | version u32 | lsn u64 |   | length u32 | crc u32 | data         |
//	| "ACKP"    | 1           |         |   |            |         | (length)     |
//	+-----------+-------------+---------+   +------------+---------+--------------+
//	crc = CRC-32C over lsn u64, block index u32, length u32 and the data;
//	the last block has length 0 and carries the content's total length u64.
//
// A reader returns no byte of a block before its CRC checks, and a missing
// end block is an error, so a torn, damaged or foreign checkpoint fails
// with ErrCorrupt instead of yielding other bytes. DirStore writes
// <dir>/<project>/checkpoints/<LSN as 20 digits>.ckpt through a temporary
// file, fsync and rename; MongoStore writes 4 MiB chunks to argon.wal_ckpt_chunks
// and then a head document {_id: "<project>/<LSN as 20 digits>", set, n}
// to argon.wal_ckpt, the commit point. Both keep the newest two per project.
package wal
