package argon

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/argon-lab/argon/materialize"
	"github.com/argon-lab/argon/wal"
	"github.com/tidwall/btree"
)

// Persisted checkpoints.
//
// A checkpoint is the whole engine of a project as of an LSN L: the branch
// catalog (every branch, deleted ones too, with its records' LSNs), the
// commit time of every LSN, whether the project is deleted, and the fork and
// head states of every branch. A branch's fork is written as its difference
// from its parent's head and its head as its difference from its fork
// (states shared by pointer are written once), so 100 branches off a
// 100k-document main cost 100k documents plus what the branches changed,
// and loading rebuilds the same sharing between branches.
//
// At open an engine loads the newest checkpoint that reads back whole and
// agrees with the log (the record at L exists and has the time the
// checkpoint says), then follows the log from L. A damaged checkpoint is
// skipped for an older one, and without any the engine replays the whole
// log, as without checkpoints: a checkpoint can cost time, never data.
//
// After a load, a branch has one in-memory checkpoint, its head as of L. A
// read at a point after it replays at most checkpointEvery records; a read
// at a point before it replays the branch's records from its fork up to
// that point once (O(history)), keeping a state every checkpointEvery
// records, so later reads near it are bounded again.
//
// Checkpoints are written in the background, every
// Options.CheckpointInterval records (the newest checkpoint in the store
// counts, whoever wrote it), one at a time, and spaced so that writing them
// takes at most about a tenth of the time (a checkpoint costs time in
// proportion to the data). Each is encoded from an immutable snapshot taken
// under the engine's read lock: writers are never blocked while it is
// encoded and stored. Client.Checkpoint writes one on demand.

// DefaultCheckpointInterval is the default of Options.CheckpointInterval.
const DefaultCheckpointInterval = 10_000

// checkpointConfig is what the client's options say about checkpoints.
type checkpointConfig struct {
	every  int  // records between background checkpoints; <= 0: none
	ignore bool // do not load checkpoints at open
}

func checkpointConfigOf(o Options) checkpointConfig {
	every := o.CheckpointInterval
	if every == 0 {
		every = DefaultCheckpointInterval
	}
	return checkpointConfig{every: every, ignore: o.IgnoreCheckpoints}
}

// checkpointerOf returns the store's checkpoints, if it keeps any.
func checkpointerOf(s wal.Store) wal.Checkpointer {
	cp, _ := storeAs[wal.Checkpointer](s)
	return cp
}

// checkpoints is an engine's checkpointing state. It is safe for
// concurrent use.
type checkpoints struct {
	cp    wal.Checkpointer // nil: the store keeps none
	every wal.LSN          // 0: no background checkpoints

	// persisted is the newest LSN known to have a checkpoint in the store.
	persisted atomic.Uint64
	// notBefore (Unix ns) holds back the next background checkpoint so
	// that writing them takes at most about a tenth of the time: their cost
	// grows with the data, their rate with the writes.
	notBefore atomic.Int64
	// loaded is the LSN of the checkpoint the engine started from (0: full
	// replay); skipped says why newer ones were not used.
	loaded  wal.LSN
	skipped []error

	wmu sync.Mutex // one checkpoint write at a time

	mu      sync.Mutex
	running bool
	stopped bool
	lastErr error // of the last background write
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

func newCheckpoints(store wal.Store, cfg checkpointConfig) *checkpoints {
	c := &checkpoints{cp: checkpointerOf(store)}
	if cfg.every > 0 {
		c.every = wal.LSN(cfg.every)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// ckptTick runs in the follower after each record: it starts a background
// checkpoint when enough records have passed since the newest one.
func (e *engine) ckptTick(lsn wal.LSN) {
	c := e.ckpt
	if c == nil || c.cp == nil || c.every == 0 || lsn < wal.LSN(c.persisted.Load())+c.every {
		return
	}
	if nb := c.notBefore.Load(); nb != 0 && time.Now().UnixNano() < nb {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running || c.stopped {
		return
	}
	c.running = true
	c.wg.Add(1)
	go e.backgroundCheckpoint()
}

func (e *engine) backgroundCheckpoint() {
	c := e.ckpt
	defer c.wg.Done()
	e.mu.RLock()
	seen := wal.LSN(len(e.times))
	e.mu.RUnlock()
	err := func() error {
		// Catch up first: at open this waits for the initial replay, so a
		// long log gets one checkpoint at its end, not one per interval.
		if _, err := e.log.Sync(c.ctx, e.project); err != nil {
			return err
		}
		// Another process may have written one meanwhile.
		if lsns, err := c.cp.Checkpoints(c.ctx, e.project); err == nil && len(lsns) > 0 {
			c.notePersisted(lsns[0])
		}
		e.mu.RLock()
		head := wal.LSN(len(e.times))
		e.mu.RUnlock()
		if head < wal.LSN(c.persisted.Load())+c.every {
			return errNoCheckpointDue
		}
		start := time.Now()
		_, err := e.writeCheckpoint(c.ctx)
		c.notBefore.Store(time.Now().Add(9 * time.Since(start)).UnixNano())
		return err
	}()
	if err != nil && err != errNoCheckpointDue {
		// Try again after another interval, not at every record.
		c.notePersisted(seen)
	}
	c.mu.Lock()
	c.running = false
	// An attempt with nothing to do, or cut short by Disconnect, says
	// nothing about the store.
	if err != errNoCheckpointDue && (err == nil || c.ctx.Err() == nil) {
		c.lastErr = err
	}
	c.mu.Unlock()
}

// errNoCheckpointDue ends a background attempt that found a recent enough
// checkpoint in the store.
var errNoCheckpointDue = errors.New("argon: no checkpoint due")

func (c *checkpoints) notePersisted(lsn wal.LSN) {
	for {
		old := c.persisted.Load()
		if uint64(lsn) <= old || c.persisted.CompareAndSwap(old, uint64(lsn)) {
			return
		}
	}
}

// stopCheckpoints cancels a background checkpoint in flight and waits for
// it; none starts afterwards.
func (e *engine) stopCheckpoints() {
	c := e.ckpt
	if c == nil {
		return
	}
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}

// stopCheckpoints stops the background checkpoints of every engine of the
// connection, before the store closes.
func (cc *clientConn) stopCheckpoints() {
	cc.mu.Lock()
	engines := make([]*engine, 0, len(cc.engines))
	for _, e := range cc.engines {
		engines = append(engines, e)
	}
	cc.mu.Unlock()
	for _, e := range engines {
		e.stopCheckpoints()
	}
}

// ErrNoCheckpoints means the client's store does not keep checkpoints.
var ErrNoCheckpoints = errors.New("argon: the store does not keep checkpoints")

// Checkpoint writes a checkpoint of the client's project as of the newest
// LSN of its log, and returns that LSN. A client opened later on the same
// store starts from it and replays only the records after it. Writers are
// not blocked while it is written. It is durable, per the store, when
// Checkpoint returns. Checkpoints are also written in the background (see
// Options.CheckpointInterval); stores keep the newest two.
func (c *Client) Checkpoint(ctx context.Context) (wal.LSN, error) {
	if err := c.live(); err != nil {
		return 0, err
	}
	if c.eng.ckpt == nil || c.eng.ckpt.cp == nil {
		return 0, ErrNoCheckpoints
	}
	if _, err := c.eng.sync(ctx); err != nil {
		return 0, err
	}
	return c.eng.writeCheckpoint(ctx)
}

// ckptSnapshot is what a checkpoint holds, taken under the engine's lock.
// Everything in it is immutable or a copy.
type ckptSnapshot struct {
	lsn      wal.LSN
	deleted  bool
	horizon  wal.LSN
	todo     []wal.LSN // gc.go's records to tombstone
	times    []int64
	branches []branchState // parents before children
	names    [][2]string   // live name, id
}

func (e *engine) snapshotForCheckpoint() (*ckptSnapshot, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.applyErr != nil {
		return nil, e.applyErr
	}
	s := &ckptSnapshot{lsn: wal.LSN(len(e.times)), deleted: e.deleted, horizon: e.cat.horizon, times: e.times[:len(e.times):len(e.times)]}
	e.gc.todo.Scan(func(l wal.LSN) bool {
		s.todo = append(s.todo, l)
		return true
	})
	e.cat.byID.Scan(func(_ string, b *branchState) bool {
		cp := *b
		cp.lsns = b.lsns[:len(b.lsns):len(b.lsns)]
		cp.ckpts = nil
		s.branches = append(s.branches, cp)
		return true
	})
	e.cat.byName.Scan(func(name, id string) bool {
		s.names = append(s.names, [2]string{name, id})
		return true
	})
	// A parent is always created before its children.
	slices.SortFunc(s.branches, func(a, b branchState) int {
		switch {
		case a.created != b.created:
			return cmpLSN(a.created, b.created)
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	return s, nil
}

func cmpLSN(a, b wal.LSN) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// writeCheckpoint stores a checkpoint of what the engine has folded.
func (e *engine) writeCheckpoint(ctx context.Context) (wal.LSN, error) {
	c := e.ckpt
	c.wmu.Lock()
	defer c.wmu.Unlock()
	snap, err := e.snapshotForCheckpoint()
	if err != nil {
		return 0, err
	}
	if snap.lsn == 0 {
		return 0, nil // an empty log needs no checkpoint
	}
	err = c.cp.PutCheckpoint(ctx, e.project, snap.lsn, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 256<<10)
		if err := encodeCheckpoint(bw, e.project, snap); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return 0, err
	}
	c.notePersisted(snap.lsn)
	return snap.lsn, nil
}

// The checkpoint content (inside the store's framing). Part of the format.
// Integers are varints (times and LSN lists as differences), strings a
// varint length and the bytes:
//
//	magic "argon-ckpt", version, project, lsn, deleted, retention horizon
//	  and the LSNs collections declared removed but not yet tombstones
//	  (count, then each minus the previous; version 2),
//	times (count, then each minus the previous),
//	branches (count; per branch, parents first: id, name, parent, pred, base,
//	  created, createdAt, deleted, deletedAt, gone (version 2), lsns, fork
//	  state, has head (version 2), head state if it has one),
//	names (count; name id)
//	state = index into the states read so far (0 is the empty state), or
//	  the next index followed by the index of its base and a
//	  materialize.EncodeState difference from that base.
const (
	ckptMagic   = "argon-ckpt"
	ckptVersion = 2 // 2: garbage collection's horizon, gone and lost heads
)

type ckptEnc struct {
	w   *bufio.Writer
	tmp []byte
}

func (c *ckptEnc) uvarint(v uint64) {
	c.tmp = binary.AppendUvarint(c.tmp[:0], v)
	c.w.Write(c.tmp)
}

func (c *ckptEnc) varint(v int64) {
	c.tmp = binary.AppendVarint(c.tmp[:0], v)
	c.w.Write(c.tmp)
}

func (c *ckptEnc) str(s string) {
	c.uvarint(uint64(len(s)))
	c.w.WriteString(s)
}

func (c *ckptEnc) flag(b bool) {
	if b {
		c.w.WriteByte(1)
	} else {
		c.w.WriteByte(0)
	}
}

func (c *ckptEnc) time(t time.Time) {
	c.flag(!t.IsZero())
	if !t.IsZero() {
		c.varint(t.UnixMilli())
	}
}

func encodeCheckpoint(w *bufio.Writer, project string, s *ckptSnapshot) error {
	c := &ckptEnc{w: w}
	c.str(ckptMagic)
	c.uvarint(ckptVersion)
	c.str(project)
	c.uvarint(uint64(s.lsn))
	c.flag(s.deleted)
	c.uvarint(uint64(s.horizon))
	c.uvarint(uint64(len(s.todo)))
	prevLSN := wal.LSN(0)
	for _, l := range s.todo {
		c.uvarint(uint64(l - prevLSN))
		prevLSN = l
	}
	c.uvarint(uint64(len(s.times)))
	prev := int64(0)
	for _, t := range s.times {
		c.varint(t - prev)
		prev = t
	}
	states := map[*materialize.State]uint64{}
	next := uint64(1) // 0 is the empty state
	heads := map[string]uint64{}
	state := func(st *materialize.State, base uint64, baseState *materialize.State) (uint64, error) {
		if k, ok := states[st]; ok {
			c.uvarint(k)
			return k, nil
		}
		k := next
		next++
		states[st] = k
		c.uvarint(k)
		c.uvarint(base)
		if baseState == nil {
			baseState = materialize.NewState()
		}
		return k, materialize.EncodeState(w, st, baseState)
	}
	stateOf := map[uint64]*materialize.State{}
	c.uvarint(uint64(len(s.branches)))
	for i := range s.branches {
		b := &s.branches[i]
		c.str(b.id)
		c.str(b.name)
		c.str(b.parent)
		c.str(b.pred)
		c.uvarint(uint64(b.base))
		c.uvarint(uint64(b.created))
		c.time(b.createdAt)
		c.flag(b.deleted)
		c.time(b.deletedAt)
		c.uvarint(uint64(b.gone))
		c.uvarint(uint64(len(b.lsns)))
		prev := wal.LSN(0)
		for _, l := range b.lsns {
			c.uvarint(uint64(l - prev))
			prev = l
		}
		forkBase := uint64(0)
		if b.parent != "" {
			forkBase = heads[b.parent]
		}
		fk, err := state(b.fork, forkBase, stateOf[forkBase])
		if err != nil {
			return err
		}
		stateOf[fk] = b.fork
		// Garbage collection drops the head of a branch whose records it
		// removed (gc.go); such a branch is never a parent of a live one.
		c.flag(b.head != nil)
		if b.head == nil {
			continue
		}
		hk, err := state(b.head, fk, b.fork)
		if err != nil {
			return err
		}
		stateOf[hk] = b.head
		heads[b.id] = hk
	}
	c.uvarint(uint64(len(s.names)))
	for _, n := range s.names {
		c.str(n[0])
		c.str(n[1])
	}
	_, err := w.Write(nil) // bufio keeps the first error
	return err
}

// errBadCheckpoint wraps every reason a checkpoint's content is refused.
var errBadCheckpoint = errors.New("argon: bad checkpoint")

type ckptDec struct {
	r *bufio.Reader
}

func (d *ckptDec) fail(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: %w", errBadCheckpoint, err)
}

func (d *ckptDec) uvarint() (uint64, error) {
	v, err := binary.ReadUvarint(d.r)
	if err != nil {
		return 0, d.fail(err)
	}
	return v, nil
}

func (d *ckptDec) varint() (int64, error) {
	v, err := binary.ReadVarint(d.r)
	if err != nil {
		return 0, d.fail(err)
	}
	return v, nil
}

func (d *ckptDec) str() (string, error) {
	n, err := d.uvarint()
	if err != nil {
		return "", err
	}
	if n > 1<<20 {
		return "", d.fail(fmt.Errorf("string of %d bytes", n))
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		return "", d.fail(err)
	}
	return string(b), nil
}

func (d *ckptDec) flag() (bool, error) {
	b, err := d.r.ReadByte()
	if err != nil {
		return false, d.fail(err)
	}
	if b > 1 {
		return false, d.fail(fmt.Errorf("flag byte %d", b))
	}
	return b == 1, nil
}

func (d *ckptDec) time() (time.Time, error) {
	set, err := d.flag()
	if err != nil || !set {
		return time.Time{}, err
	}
	ms, err := d.varint()
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(ms).UTC(), nil
}

// loaded is a decoded checkpoint, checked for consistency, not yet
// installed.
type loadedCheckpoint struct {
	lsn     wal.LSN
	deleted bool
	times   []int64
	todo    []wal.LSN
	cat     *catalog
}

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadCheckpoint, fmt.Sprintf(format, args...))
}

// decodeCheckpoint reads a checkpoint of project at lsn. Anything it does
// not expect fails it; it never panics.
func decodeCheckpoint(r *bufio.Reader, project string, lsn wal.LSN) (*loadedCheckpoint, error) {
	d := &ckptDec{r: r}
	magic, err := d.str()
	if err != nil {
		return nil, err
	}
	version, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if magic != ckptMagic || version < 1 || version > ckptVersion {
		return nil, badf("format %q version %d (this build reads %q versions 1 to %d)", magic, version, ckptMagic, ckptVersion)
	}
	v2 := version >= 2
	p, err := d.str()
	if err != nil {
		return nil, err
	}
	at, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if p != project || wal.LSN(at) != lsn {
		return nil, badf("checkpoint of %q at lsn %d, expected %q at %d", p, at, project, lsn)
	}
	out := &loadedCheckpoint{lsn: lsn}
	if out.deleted, err = d.flag(); err != nil {
		return nil, err
	}
	var horizon uint64
	if v2 {
		if horizon, err = d.uvarint(); err != nil {
			return nil, err
		}
		if horizon > uint64(lsn) {
			return nil, badf("retention horizon %d beyond lsn %d", horizon, lsn)
		}
		nt, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		if nt > uint64(lsn) {
			return nil, badf("%d records to remove for lsn %d", nt, lsn)
		}
		prev := wal.LSN(0)
		for i := uint64(0); i < nt; i++ {
			delta, err := d.uvarint()
			if err != nil {
				return nil, err
			}
			l := prev + wal.LSN(delta)
			if delta == 0 || l > lsn {
				return nil, badf("record to remove at lsn %d", l)
			}
			out.todo = append(out.todo, l)
			prev = l
		}
	}
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n != uint64(lsn) {
		return nil, badf("%d times for lsn %d", n, lsn)
	}
	out.times = make([]int64, 0, n)
	prev := int64(0)
	for i := uint64(0); i < n; i++ {
		delta, err := d.varint()
		if err != nil {
			return nil, err
		}
		if i > 0 && delta < 0 {
			return nil, badf("times go backwards at lsn %d", i+1)
		}
		prev += delta
		out.times = append(out.times, prev)
	}

	states := []*materialize.State{materialize.NewState()}
	readState := func() (*materialize.State, error) {
		k, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		if k < uint64(len(states)) {
			return states[k], nil
		}
		if k != uint64(len(states)) {
			return nil, badf("state %d out of order", k)
		}
		base, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		if base >= uint64(len(states)) {
			return nil, badf("state %d on unknown base %d", k, base)
		}
		st, err := materialize.DecodeState(r, states[base])
		if err != nil {
			return nil, d.fail(err)
		}
		states = append(states, st)
		return st, nil
	}
	cat := &catalog{byID: new(btree.Map[string, *branchState]), byName: new(btree.Map[string, string])}
	nb, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	for i := uint64(0); i < nb; i++ {
		b := &branchState{}
		for _, s := range []*string{&b.id, &b.name, &b.parent, &b.pred} {
			if *s, err = d.str(); err != nil {
				return nil, err
			}
		}
		base, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		created, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		b.base, b.created = wal.LSN(base), wal.LSN(created)
		if b.createdAt, err = d.time(); err != nil {
			return nil, err
		}
		if b.deleted, err = d.flag(); err != nil {
			return nil, err
		}
		if b.deletedAt, err = d.time(); err != nil {
			return nil, err
		}
		if v2 {
			gone, err := d.uvarint()
			if err != nil {
				return nil, err
			}
			if gone > uint64(lsn) {
				return nil, badf("branch %q lost its records from lsn %d, beyond %d", b.id, gone, lsn)
			}
			b.gone = wal.LSN(gone)
		}
		switch {
		case b.id == "" || cat.get(b.id) != nil:
			return nil, badf("branch id %q empty or twice", b.id)
		case i == 0 && (b.id != mainBranchID || b.parent != ""):
			return nil, badf("the first branch is %q, not main", b.id)
		case i > 0 && (b.parent == "" || b.base >= b.created || b.created > lsn):
			// A parent or predecessor may be missing: garbage collection
			// drops deleted branches from the catalog.
			return nil, badf("branch %q: parent %q, base %d, created %d", b.id, b.parent, b.base, b.created)
		}
		nl, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		if nl > uint64(lsn) {
			return nil, badf("branch %q has %d records", b.id, nl)
		}
		b.lsns = make([]wal.LSN, 0, nl)
		prev := wal.LSN(0)
		for j := uint64(0); j < nl; j++ {
			delta, err := d.uvarint()
			if err != nil {
				return nil, err
			}
			l := prev + wal.LSN(delta)
			if delta == 0 || l <= b.created || l > lsn {
				return nil, badf("branch %q: record lsn %d", b.id, l)
			}
			b.lsns = append(b.lsns, l)
			prev = l
		}
		if b.fork, err = readState(); err != nil {
			return nil, err
		}
		hasHead := true
		if v2 {
			if hasHead, err = d.flag(); err != nil {
				return nil, err
			}
		}
		if !hasHead {
			if b.gone == 0 {
				return nil, badf("branch %q has no head", b.id)
			}
			cat.byID.Set(b.id, b)
			continue
		}
		if b.head, err = readState(); err != nil {
			return nil, err
		}
		if len(b.lsns) > 0 {
			b.ckpts = []checkpoint{{lsn: b.lsns[len(b.lsns)-1], st: b.head}}
		}
		cat.byID.Set(b.id, b)
	}
	nn, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	for i := uint64(0); i < nn; i++ {
		name, err := d.str()
		if err != nil {
			return nil, err
		}
		id, err := d.str()
		if err != nil {
			return nil, err
		}
		b := cat.get(id)
		if b == nil || b.deleted || cat.taken(name) {
			return nil, badf("name %q for branch %q", name, id)
		}
		cat.byName.Set(name, id)
	}
	if cat.get(mainBranchID) == nil || !cat.taken(mainBranchName) {
		return nil, badf("no main branch")
	}
	// Reading to the end also makes the store check its end marker.
	if _, err := r.ReadByte(); err == nil {
		return nil, badf("data after the end")
	} else if !errors.Is(err, io.EOF) {
		return nil, d.fail(err)
	}
	cat.horizon = wal.LSN(horizon)
	out.cat = cat
	return out, nil
}

// loadCheckpoint installs the newest usable checkpoint of the engine's
// project and returns its LSN and time (zero: none, replay everything).
// Called before the engine follows the log, so nothing else runs.
func (e *engine) loadCheckpoint(ctx context.Context) (wal.LSN, time.Time) {
	c := e.ckpt
	if c.cp == nil {
		return 0, time.Time{}
	}
	lsns, err := c.cp.Checkpoints(ctx, e.project)
	if err != nil {
		c.skipped = append(c.skipped, err)
		return 0, time.Time{}
	}
	if len(lsns) > 0 {
		c.notePersisted(lsns[0])
	}
	for _, lsn := range lsns {
		ck, at, err := e.readCheckpoint(ctx, lsn)
		if err != nil {
			c.skipped = append(c.skipped, fmt.Errorf("checkpoint at lsn %d: %w", lsn, err))
			continue
		}
		e.cat, e.times, e.deleted = ck.cat, ck.times, ck.deleted
		for _, l := range ck.todo {
			e.gc.todo.Insert(l)
		}
		c.loaded = lsn
		return lsn, at
	}
	return 0, time.Time{}
}

// readCheckpoint reads and checks the checkpoint at lsn against the log.
func (e *engine) readCheckpoint(ctx context.Context, lsn wal.LSN) (*loadedCheckpoint, time.Time, error) {
	recs, err := e.store.Read(ctx, e.project, lsn, 1)
	if err != nil {
		return nil, time.Time{}, err
	}
	if len(recs) != 1 || recs[0].LSN != lsn {
		return nil, time.Time{}, badf("the log has no record at lsn %d", lsn)
	}
	rc, err := e.ckpt.cp.OpenCheckpoint(ctx, e.project, lsn)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer rc.Close()
	ck, err := decodeCheckpoint(bufio.NewReaderSize(rc, 1<<20), e.project, lsn)
	if err != nil {
		return nil, time.Time{}, err
	}
	if ck.times[lsn-1] != recs[0].Time.UnixMilli() {
		return nil, time.Time{}, badf("lsn %d has time %d in the checkpoint and %d in the log", lsn, ck.times[lsn-1], recs[0].Time.UnixMilli())
	}
	return ck, recs[0].Time, nil
}

// checkpointBefore returns the newest in-memory state of b after at most
// its first n records, and how many records it includes.
func (b *branchState) checkpointBefore(n int) (*materialize.State, int) {
	if n == 0 {
		return b.fork, 0
	}
	last := b.lsns[n-1]
	k := sort.Search(len(b.ckpts), func(i int) bool { return b.ckpts[i].lsn > last }) - 1
	if k < 0 {
		return b.fork, 0
	}
	ck := b.ckpts[k]
	m := sort.Search(len(b.lsns), func(i int) bool { return b.lsns[i] > ck.lsn })
	return ck.st, m
}

// keptStates are states a long replay of one branch's records built.
type keptStates struct {
	branch string
	ckpts  []checkpoint // ascending LSNs
}

// keepLocked adds states that a long replay built to the branch's
// in-memory checkpoints. The caller holds e.mu for writing.
func (e *engine) keepLocked(ks *keptStates) {
	if ks == nil {
		return
	}
	b := e.cat.get(ks.branch)
	if b == nil {
		return
	}
	kept := ks.ckpts
	merged := make([]checkpoint, 0, len(b.ckpts)+len(kept))
	i, j := 0, 0
	for i < len(b.ckpts) || j < len(kept) {
		switch {
		case j == len(kept) || (i < len(b.ckpts) && b.ckpts[i].lsn < kept[j].lsn):
			merged = append(merged, b.ckpts[i])
			i++
		case i == len(b.ckpts) || kept[j].lsn < b.ckpts[i].lsn:
			merged = append(merged, kept[j])
			j++
		default: // the same point
			merged = append(merged, b.ckpts[i])
			i, j = i+1, j+1
		}
	}
	b.ckpts = merged
}

// CheckpointInfo describes one checkpoint the store keeps for a project.
type CheckpointInfo struct {
	// LSN is the newest record the checkpoint includes.
	LSN wal.LSN
	// Time is that record's commit time: the checkpoint's age is measured
	// from it.
	Time time.Time
}

// Checkpoints lists the checkpoints the store keeps for the client's
// project, newest first; ErrNoCheckpoints if the store keeps none.
func (c *Client) Checkpoints(ctx context.Context) ([]CheckpointInfo, error) {
	if err := c.live(); err != nil {
		return nil, err
	}
	if c.eng.ckpt == nil || c.eng.ckpt.cp == nil {
		return nil, ErrNoCheckpoints
	}
	if _, err := c.eng.sync(ctx); err != nil {
		return nil, err
	}
	lsns, err := c.eng.ckpt.cp.Checkpoints(ctx, c.eng.project)
	if err != nil {
		return nil, err
	}
	c.eng.mu.RLock()
	defer c.eng.mu.RUnlock()
	out := make([]CheckpointInfo, 0, len(lsns))
	for _, l := range lsns {
		info := CheckpointInfo{LSN: l}
		if l > 0 && int(l) <= len(c.eng.times) {
			info.Time = time.UnixMilli(c.eng.times[l-1]).UTC()
		}
		out = append(out, info)
	}
	return out, nil
}
