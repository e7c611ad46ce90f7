package argon

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// This file is Watch and the ChangeStream it returns. The log is the change
// stream: a stream reads the store itself, from the LSN after its last
// event, so it sees every process's commits in LSN order, exactly once.
// Events are built from the records' physical operations (after and before
// images), run through the stream's pipeline, and handed out in batches as
// a server's getMore would. change_stream_event.go builds the events and
// resume tokens.

// Defaults of a change stream.
const (
	// defaultMaxAwait is how long TryNext waits for an event, and the
	// longest pause between two polls of the store, as the server's default
	// maxAwaitTimeMS of a change stream getMore.
	defaultMaxAwait = time.Second
	// firstPoll is the first pause between polls; it doubles up to the
	// stream's MaxAwaitTime while the log stays quiet.
	firstPoll = 10 * time.Millisecond
	// streamReadRecords is how many records one poll reads at most.
	streamReadRecords = 256
)

// ChangeStream is the twin of mongo.ChangeStream: an iterator over the
// events of a branch's log, returned by Client.Watch (every database of
// the branch), Database.Watch and Collection.Watch.
//
// Concurrency: every method may be called from any goroutine and never
// races with another; Next and TryNext calls run one at a time. Current is
// a plain field set by Next and TryNext: read it (and call Decode) from the
// goroutine that calls them. Close may be called from another goroutine to
// end a Next that is blocked waiting for events. Methods on a nil
// *ChangeStream return zero values.
//
// Branches. A stream follows the branch its handle names, resolved when
// Watch is called (for a handle from AtLSN or AtTime, the branch as it was
// at that point, and the stream starts there). A rename of the branch does
// not affect the stream. A reset or a deletion of the branch, or a deletion
// of the project, ends the stream with an "invalidate" event: the name then
// means another branch, whose history differs. A stream opened with
// StartAfter set to the token of a reset's invalidate event follows the
// branch the reset created.
//
// Processes. A stream reads the log's store itself from its position, so
// it sees the commits of every process in LSN order, exactly once; it
// polls the store with pauses doubling from 10ms up to MaxAwaitTime, and a
// commit made through the same Client wakes it at once.
//
// Events are those of the server: insert, update (updates by operators or
// pipelines; updateDescription is computed from the before and after
// images, arrays by element and truncation), replace (ReplaceOne,
// FindOneAndReplace, $merge), delete, drop,
// rename, dropDatabase and invalidate; with ShowExpandedEvents also create,
// createIndexes and dropIndexes. A collection stream is invalidated by the
// drop or rename of its collection (or the drop of its database), a
// database stream by the drop of its database. The operations of one
// record (one commit, e.g. a transaction) share their clusterTime; events
// carry no lsid or txnNumber. A stream reports only the
// branch's own records: what a branch inherited from its parent at its
// fork point is its starting state, not events.
//
// Resume tokens are {_data: "<hex>"}: the LSN, the position of the
// operation in its record, the position of the event among the operation's
// events, and the branch id. Tokens of one branch sort as their events.
// clusterTime is Timestamp{T: the record's time in seconds, I: its LSN},
// which orders like the log and is what StartAtOperationTime takes.
type ChangeStream struct {
	// Current is the event the last successful Next or TryNext returned.
	Current bson.Raw

	eng      *engine
	store    wal.Store
	codec    codec
	scope    streamScope
	pipeline *materialize.Pipeline
	noStages bool   // the pipeline is empty
	fullDoc  string // "default", "updateLookup", "whenAvailable", "required"
	before   string // "off", "whenAvailable", "required"
	expanded bool
	maxAwait time.Duration
	id       int64

	done      chan struct{}
	closeOnce sync.Once
	// disconnected is closed when the client disconnects.
	disconnected <-chan struct{}

	// nextMu makes Next and TryNext run one at a time; the read position
	// below belongs to its holder.
	nextMu   sync.Mutex
	follow   string  // the branch id whose records are events
	readFrom wal.LSN // the next LSN to read from the store
	skip     *streamPos
	verify   *streamToken // the resume token's event, checked at the first read
	tail     wal.LSN      // the head of the log when the stream opened

	mu        sync.Mutex
	ready     []streamEvent // events read, not yet in a batch
	batch     []streamEvent // the current batch
	pbrt      bson.Raw      // the current batch's post-batch resume token
	scanned   bson.Raw      // token after every record read so far
	batchSize int32
	token     bson.Raw
	err       error
	finished  bool // an invalidate was read: no events after it
	closed    bool
}

// streamScope is what a stream watches: every database (db ""), one
// database (coll "") or one collection.
type streamScope struct{ db, coll string }

func (s streamScope) covers(db, coll string) bool {
	return (s.db == "" || s.db == db) && (s.coll == "" || s.coll == coll)
}

// streamEvent is an event after the pipeline, with its resume token.
type streamEvent struct {
	doc   bson.Raw
	token bson.Raw
}

// Watch returns a change stream over every database of the client's
// branch. See ChangeStream for the events and Database.Watch for the
// pipeline and options.
func (c *Client) Watch(ctx context.Context, pipeline interface{}, opts ...*options.ChangeStreamOptions) (*ChangeStream, error) {
	return watch(ctx, c, codec{}, streamScope{}, pipeline, opts)
}

// Watch returns a change stream over the collections of the database on
// the client's branch. The pipeline may hold the stages the server allows
// in a change stream ($match, $project, $addFields, $set, $unset,
// $replaceRoot, $replaceWith), run on each event document. Options:
//
//   - FullDocument: "default" (updates carry no document), "updateLookup"
//     (updates carry the document's state when the event is read, null if
//     it is gone), "whenAvailable" and "required" (the document right after
//     the change: the log keeps every post-image, so both always have it).
//   - FullDocumentBeforeChange: "off" (default), "whenAvailable" and
//     "required": updates, replaces and deletes carry the document before
//     the change (always kept by the log).
//   - ResumeAfter, StartAfter: start after the event of a resume token;
//     StartAfter also accepts an invalidate event's token.
//     StartAtOperationTime: start at the first event whose clusterTime is
//     not before it. Default: start at the head of the log (for a handle
//     from AtLSN or AtTime, at its point; these options take precedence).
//     A point no longer in the log fails with ChangeStreamHistoryLost
//     (286).
//   - BatchSize: events per batch (default: all events read by one poll).
//   - MaxAwaitTime: how long TryNext waits for an event and the longest
//     pause between polls of the store (default 1s). Commits of this
//     process wake a waiting stream at once.
//   - ShowExpandedEvents: also report create, createIndexes and
//     dropIndexes.
//
// Collation, Custom and CustomPipeline are not supported; Comment is
// ignored.
func (db *Database) Watch(ctx context.Context, pipeline interface{}, opts ...*options.ChangeStreamOptions) (*ChangeStream, error) {
	if err := databaseError(db.name); err != nil {
		return nil, err
	}
	return watch(ctx, db.client, db.codec, streamScope{db: db.name}, pipeline, opts)
}

// Watch returns a change stream over the collection on the client's
// branch, as Database.Watch. The collection need not exist.
func (coll *Collection) Watch(ctx context.Context, pipeline interface{}, opts ...*options.ChangeStreamOptions) (*ChangeStream, error) {
	if err := namespaceError(coll.db.name, coll.name, false); err != nil {
		return nil, err
	}
	return watch(ctx, coll.client, coll.codec, streamScope{db: coll.db.name, coll: coll.name}, pipeline, opts)
}

func watch(ctx context.Context, c *Client, cdc codec, scope streamScope, pipeline interface{}, opts []*options.ChangeStreamOptions) (*ChangeStream, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := c.live(); err != nil {
		return nil, err
	}
	if err := noSnapshot(ctx, "Change streams"); err != nil {
		return nil, err
	}
	p, stages, err := compileStreamPipeline(cdc, pipeline)
	if err != nil {
		return nil, err
	}
	cs := &ChangeStream{eng: c.eng, store: c.store, codec: cdc, scope: scope, pipeline: p, noStages: stages == 0,
		fullDoc: "default", before: "off", maxAwait: defaultMaxAwait, done: make(chan struct{}),
		disconnected: c.conn.closed}
	o := options.MergeChangeStreamOptions(opts...)
	start, err := cs.applyOptions(cdc, o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	tail, err := c.eng.sync(ctx)
	if err != nil {
		return nil, err
	}
	cs.tail = tail
	if err := cs.position(c.branch, tail, start); err != nil {
		return nil, err
	}
	cs.id = c.eng.streams.Add(1)
	return cs, nil
}

// streamStart is where the options say a stream starts.
type streamStart struct {
	token      *streamToken
	tokenRaw   bson.Raw
	startAfter bool
	opTime     *struct{ t, i uint32 }
}

// applyOptions checks the options and keeps what the stream needs.
func (cs *ChangeStream) applyOptions(cdc codec, o *options.ChangeStreamOptions) (streamStart, error) {
	var start streamStart
	switch {
	case o.Collation != nil:
		return start, notSupported("collation")
	case len(o.Custom) > 0 || len(o.CustomPipeline) > 0:
		return start, notSupported("ChangeStreamOptions.Custom and CustomPipeline")
	}
	if o.FullDocument != nil {
		switch fd := string(*o.FullDocument); fd {
		case "default", "updateLookup", "whenAvailable", "required":
			cs.fullDoc = fd
		default:
			return start, serverError(codeBadValue, "Enumeration value '%s' for field '$changeStream.fullDocument' is not a valid value.", fd)
		}
	}
	if o.FullDocumentBeforeChange != nil {
		switch fd := string(*o.FullDocumentBeforeChange); fd {
		case "off", "whenAvailable", "required":
			cs.before = fd
		default:
			return start, serverError(codeBadValue, "Enumeration value '%s' for field '$changeStream.fullDocumentBeforeChange' is not a valid value.", fd)
		}
	}
	if o.BatchSize != nil {
		if *o.BatchSize < 0 {
			return start, serverError(codeBadValue, "BatchSize must be non-negative, but %d was specified", *o.BatchSize)
		}
		cs.batchSize = *o.BatchSize
	}
	if o.MaxAwaitTime != nil {
		if *o.MaxAwaitTime < 0 {
			return start, serverError(codeBadValue, "maxAwaitTimeMS must be non-negative, but %s was specified", *o.MaxAwaitTime)
		}
		if *o.MaxAwaitTime > 0 {
			cs.maxAwait = *o.MaxAwaitTime
		}
	}
	if o.ShowExpandedEvents != nil {
		cs.expanded = *o.ShowExpandedEvents
	}
	if o.ResumeAfter != nil && o.StartAfter != nil {
		return start, serverError(50865, "Do not specify both 'resumeAfter' and 'startAfter' in a $changeStream stage")
	}
	tok := o.ResumeAfter
	if o.StartAfter != nil {
		tok, start.startAfter = o.StartAfter, true
	}
	if tok != nil {
		raw, err := cdc.marshal(tok)
		if err != nil {
			return start, err
		}
		t, err := parseStreamToken(raw)
		if err != nil {
			return start, err
		}
		if t.invalidate && !start.startAfter {
			return start, streamError(codeInvalidResumeToken, "InvalidResumeToken",
				"Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification")
		}
		start.token, start.tokenRaw = &t, t.raw()
	}
	if o.StartAtOperationTime != nil {
		if start.token != nil {
			return start, serverError(40674, "Only one type of resume option is allowed, but multiple were found")
		}
		start.opTime = &struct{ t, i uint32 }{o.StartAtOperationTime.T, o.StartAtOperationTime.I}
	}
	return start, nil
}

// position resolves the branch and the first LSN to read.
func (cs *ChangeStream) position(v view, tail wal.LSN, start streamStart) error {
	cs.eng.mu.RLock()
	defer cs.eng.mu.RUnlock()
	b, err := cs.eng.cat.resolve(v.branch)
	if err != nil {
		return err
	}
	switch {
	case start.token != nil:
		t := start.token
		if !cs.eng.inLineage(b, t.branch) {
			return streamError(codeChangeStreamFatal, "ChangeStreamFatalError", fmt.Sprintf(
				"cannot resume stream: the resume token is from branch id %q, which is neither branch %q nor an earlier state of it", t.branch, v.branch))
		}
		if t.pos.lsn > tail {
			return streamError(codeChangeStreamFatal, "ChangeStreamFatalError",
				"cannot resume stream: the resume token is beyond the head of the log")
		}
		cs.follow = t.branch
		if t.invalidate && start.startAfter {
			// After a reset's invalidate, follow the branch it created.
			if next := cs.eng.successorLocked(t.branch, t.pos.lsn); next != "" {
				cs.follow = next
			}
		}
		pos := t.pos
		cs.skip = &pos
		cs.readFrom = t.pos.lsn
		if t.pos.isHighWater() {
			cs.readFrom++
		} else {
			cs.verify = t
		}
		cs.token, cs.scanned = start.tokenRaw, start.tokenRaw
		return nil
	case start.opTime != nil || v.readOnly():
		var at wal.LSN
		switch {
		case start.opTime != nil:
			at = cs.eng.lsnAtOpTimeLocked(start.opTime.t, start.opTime.i) - 1
		case v.hasAt:
			at = v.at
		default:
			at = cs.eng.lsnAtLocked(v.atTime)
		}
		if at > tail && start.opTime == nil {
			return fmt.Errorf("%w: lsn %d is beyond the head of the log (%d)", ErrInvalidPoint, at, tail)
		}
		// The branch the name meant at that point: a stream started before
		// a reset reports the old branch's events, then the reset's
		// invalidate.
		for at < b.created && b.pred != "" {
			b = cs.eng.cat.get(b.pred)
		}
		cs.follow, cs.readFrom = b.id, at+1
	default:
		cs.follow, cs.readFrom = b.id, tail+1
	}
	cs.token = streamToken{pos: highWater(cs.readFrom - 1), branch: cs.follow}.raw()
	cs.scanned = cs.token
	return nil
}

// inLineage reports whether id is b or a branch the name meant before a
// reset of b (recursively). The caller holds e.mu.
func (e *engine) inLineage(b *branchState, id string) bool {
	for b != nil {
		if b.id == id {
			return true
		}
		if b.pred == "" {
			return false
		}
		b = e.cat.get(b.pred)
	}
	return false
}

// successorLocked returns the id of the branch that the reset at lsn
// created from id, or "".
func (e *engine) successorLocked(id string, lsn wal.LSN) string {
	found := ""
	e.cat.byID.Scan(func(_ string, b *branchState) bool {
		if b.pred == id && b.created == lsn {
			found = b.id
			return false
		}
		return true
	})
	return found
}

// lsnAtOpTimeLocked returns the first LSN whose clusterTime {T: seconds,
// I: LSN} is at or after {t, i}: times never decrease, so every LSN after
// the last one of an earlier second qualifies once its LSN reaches i.
func (e *engine) lsnAtOpTimeLocked(t, i uint32) wal.LSN {
	sec := time.Unix(int64(t), 0)
	first := e.lsnAtLocked(sec.Add(-time.Millisecond)) + 1 // first LSN of second t or later
	last := e.lsnAtLocked(sec.Add(time.Second - time.Millisecond))
	return max(first, min(wal.LSN(i), last+1))
}

// changes returns a channel closed when the engine folds its next record.
func (e *engine) changes() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.folded == nil {
		e.folded = make(chan struct{})
	}
	return e.folded
}

// ID returns the stream's cursor id: non-zero while the stream is open and
// not invalidated, 0 afterwards, like the driver's.
func (cs *ChangeStream) ID() int64 {
	if cs == nil {
		return 0
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed || (cs.finished && len(cs.ready) == 0 && len(cs.batch) == 0) {
		return 0
	}
	return cs.id
}

// Decode unmarshals Current into val with the handle's registry and BSON
// options. It fails with mongo.ErrNilCursor once the stream is closed.
func (cs *ChangeStream) Decode(val interface{}) error {
	if cs == nil {
		return mongo.ErrNilCursor
	}
	cs.mu.Lock()
	closed := cs.closed
	cs.mu.Unlock()
	if closed {
		return mongo.ErrNilCursor
	}
	dec, err := cs.codec.decoder(cs.Current)
	if err != nil {
		return err
	}
	return dec.Decode(val)
}

// Err returns the error that ended the stream, or nil.
func (cs *ChangeStream) Err() error {
	if cs == nil {
		return nil
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.err
}

// Close ends the stream; a Next blocked in another goroutine returns false.
// It returns nil: there is no server cursor to kill. Err still reports an
// error that ended the stream before.
func (cs *ChangeStream) Close(ctx context.Context) error {
	if cs == nil {
		return nil
	}
	cs.closeOnce.Do(func() { close(cs.done) })
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.closed = true
	cs.ready, cs.batch = nil, nil
	return nil
}

// ResumeToken returns the token to resume after the last event returned:
// that event's _id, or after a batch is used up (or a poll found no
// events), the post-batch resume token, which also covers the records read
// that produced no event for this stream. Before the first event it is the
// stream's starting point.
func (cs *ChangeStream) ResumeToken() bson.Raw {
	if cs == nil {
		return nil
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.token
}

// Next blocks until an event is available and makes it Current; it returns
// false when ctx ends, the stream is closed or invalidated, or an error
// occurred (see Err).
func (cs *ChangeStream) Next(ctx context.Context) bool { return cs.next(ctx, false) }

// TryNext returns an event if one is available within MaxAwaitTime (a
// server's getMore waits as long), else false; with Err nil, call it again
// later.
func (cs *ChangeStream) TryNext(ctx context.Context) bool { return cs.next(ctx, true) }

// RemainingBatchLength returns how many events remain in the current
// batch.
func (cs *ChangeStream) RemainingBatchLength() int {
	if cs == nil {
		return 0
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.batch)
}

// SetBatchSize sets the number of events of the next batches (0: every
// event one poll reads).
func (cs *ChangeStream) SetBatchSize(size int32) {
	if cs == nil {
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if size >= 0 {
		cs.batchSize = size
	}
}

func (cs *ChangeStream) next(ctx context.Context, nonBlocking bool) bool {
	if cs == nil {
		return false
	}
	if ctx == nil {
		ctx = context.Background()
	}
	cs.nextMu.Lock()
	defer cs.nextMu.Unlock()
	deadline := time.Now().Add(cs.maxAwait)
	pause := firstPoll
	for {
		if ok, done := cs.pop(); done {
			return ok
		}
		select {
		case <-cs.disconnected:
			cs.fail(errClientDisconnected)
			return false
		default:
		}
		wake := cs.eng.changes()
		n, err := cs.poll(ctx)
		if err != nil {
			cs.fail(err)
			return false
		}
		if n > 0 {
			pause = firstPoll
			continue
		}
		wait := pause
		if nonBlocking {
			left := time.Until(deadline)
			if left <= 0 {
				return false
			}
			wait = min(wait, left)
		}
		timer := time.NewTimer(wait)
		select {
		case <-wake:
			pause = firstPoll
		case <-timer.C:
			pause = min(2*pause, cs.maxAwait)
		case <-ctx.Done():
			timer.Stop()
			cs.fail(ctx.Err())
			return false
		case <-cs.done:
			timer.Stop()
			return false
		case <-cs.disconnected:
			timer.Stop()
			cs.fail(errClientDisconnected)
			return false
		}
		timer.Stop()
	}
}

func (cs *ChangeStream) fail(err error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.err == nil && !cs.closed {
		cs.err = err
	}
}

// pop hands out the next event of the batch, starting a batch from the
// events read when needed. done says the call is over (with ok the
// result); otherwise the stream must read more.
func (cs *ChangeStream) pop() (ok, done bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.err != nil || cs.closed {
		return false, true
	}
	if len(cs.batch) == 0 && len(cs.ready) > 0 {
		n := len(cs.ready)
		if cs.batchSize > 0 && int(cs.batchSize) < n {
			n = int(cs.batchSize)
		}
		cs.batch, cs.ready = cs.ready[:n:n], cs.ready[n:]
		if len(cs.ready) == 0 {
			cs.pbrt = cs.scanned
		} else {
			cs.pbrt = cs.batch[n-1].token
		}
	}
	if len(cs.batch) > 0 {
		ev := cs.batch[0]
		cs.batch = cs.batch[1:]
		cs.Current = ev.doc
		cs.token = ev.token
		if len(cs.batch) == 0 {
			cs.token = cs.pbrt
		}
		return true, true
	}
	if cs.finished {
		return false, true
	}
	return false, false
}

// poll reads the records after the stream's position once and queues
// their events. It returns how many records it read.
func (cs *ChangeStream) poll(ctx context.Context) (int, error) {
	recs, err := cs.store.Read(ctx, cs.eng.project, cs.readFrom, streamReadRecords)
	if err != nil {
		return 0, err
	}
	// Records below the head the stream saw at Watch exist unless garbage
	// collection removed them.
	if (len(recs) > 0 && recs[0].LSN != cs.readFrom) || (len(recs) == 0 && cs.readFrom <= cs.tail) {
		return 0, streamError(codeHistoryLost, "ChangeStreamHistoryLost",
			"Resume of change stream was not possible, as the resume point may no longer be in the log")
	}
	if len(recs) == 0 {
		cs.mu.Lock()
		if len(cs.batch) == 0 && len(cs.ready) == 0 {
			cs.token = cs.scanned
		}
		cs.mu.Unlock()
		return 0, nil
	}
	if cs.verify != nil {
		if err := cs.checkResumed(&recs[0]); err != nil {
			return 0, err
		}
		cs.verify = nil
	}
	if cs.fullDoc == "updateLookup" {
		// The looked-up documents are the branch's as of this read.
		if _, err := cs.eng.sync(ctx); err != nil {
			return 0, err
		}
	}
	var evs []rawEvent
	scanned := streamToken{pos: highWater(recs[len(recs)-1].LSN), branch: cs.follow}.raw()
	finished := false
	for i := range recs {
		rec := &recs[i]
		recEvs, err := cs.eventsOf(ctx, rec)
		if err != nil {
			return 0, err
		}
		for _, ev := range recEvs {
			if cs.skip != nil && !cs.skip.less(ev.tok.pos) {
				continue
			}
			evs = append(evs, ev)
			if ev.tok.invalidate {
				// Nothing after an invalidate: the stream ends there.
				finished, scanned = true, ev.token
				break
			}
		}
		cs.readFrom = rec.LSN + 1
		if finished {
			break
		}
	}
	out, err := cs.runPipeline(evs)
	if err != nil {
		return 0, err
	}
	cs.skip = nil
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed {
		return len(recs), nil
	}
	cs.ready = append(cs.ready, out...)
	cs.scanned = scanned
	cs.finished = finished
	if len(cs.batch) == 0 && len(cs.ready) == 0 {
		cs.token = scanned
	}
	return len(recs), nil
}

// runPipeline runs the stream's pipeline over the events (in one run: its
// stages map or drop documents one by one) and pairs each output with its
// event's token, which the output's _id must still be.
func (cs *ChangeStream) runPipeline(evs []rawEvent) ([]streamEvent, error) {
	out := make([]streamEvent, 0, len(evs))
	if cs.noStages {
		for _, ev := range evs {
			out = append(out, streamEvent{doc: ev.doc, token: ev.token})
		}
		return out, nil
	}
	docs := make([]bson.Raw, len(evs))
	for i, ev := range evs {
		docs[i] = ev.doc
	}
	outs, err := cs.pipeline.RunSlice(docs)
	if err != nil {
		return nil, commandError(err)
	}
	j := 0
	for _, d := range outs {
		id, ok := d.Lookup("_id").DocumentOK()
		for ok && j < len(evs) && !bytes.Equal(id, evs[j].token) {
			j++
		}
		if !ok || j == len(evs) {
			return nil, streamError(codeChangeStreamFatal, "ChangeStreamFatalError",
				"Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. "+
					"Modifying the _id field of an event makes it impossible to resume the stream from that point. "+
					"Only transformations that retain the unmodified _id field are allowed.")
		}
		out = append(out, streamEvent{doc: d, token: evs[j].token})
		j++
	}
	return out, nil
}

// checkResumed checks that the record at a resume token's LSN has the
// token's event, so that a token from another log is not taken for a
// position in this one.
func (cs *ChangeStream) checkResumed(rec *wal.Record) error {
	t := cs.verify
	ok := int(t.pos.op) < len(rec.Ops)
	if ok && !t.invalidate {
		ok = rec.Branch == t.branch
	}
	if !ok {
		return streamError(codeChangeStreamFatal, "ChangeStreamFatalError", "cannot resume stream; the resume token was not found")
	}
	return nil
}
