package wal

import "errors"

// Errors returned by the log and its stores. Check them with errors.Is: most
// are wrapped with details (the project, the LSN, the offending name).
var (
	// ErrLSNTaken means another writer committed a record at the LSN an
	// append asked for. The Log handles it by catching up and retrying; a
	// caller of Store.Append sees it directly.
	ErrLSNTaken = errors.New("wal: lsn already taken")
	// ErrGap means an append asked for an LSN beyond tail+1: it would leave a
	// hole in the log, which the protocol forbids.
	ErrGap = errors.New("wal: lsn leaves a gap")
	// ErrCorrupt means a stored record failed its checksum or could not be
	// decoded somewhere other than the torn tail of an embedded log.
	ErrCorrupt = errors.New("wal: corrupt record")
	// ErrInvalidName means a project, branch, database or collection name
	// breaks the naming rules (see ValidateDatabaseName and friends).
	ErrInvalidName = errors.New("wal: invalid name")
	// ErrInvalidRecord means a record or operation is malformed: missing
	// images, a document that is not valid BSON, an unknown kind.
	ErrInvalidRecord = errors.New("wal: invalid record")
	// ErrDocumentTooLarge means a document exceeds MaxDocumentSize.
	ErrDocumentTooLarge = errors.New("wal: document too large")
	// ErrRecordTooLarge means an encoded record exceeds MaxRecordSize.
	ErrRecordTooLarge = errors.New("wal: record too large")
	// ErrClosed means the log or store was closed.
	ErrClosed = errors.New("wal: closed")
	// ErrLocked means another process holds the embedded directory open.
	ErrLocked = errors.New("wal: directory locked by another process")
)
