package materialize

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/argon-lab/argon/wal"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

// ckptHistory applies n random records (inserts, updates, deletes, index
// and collection changes, in two collections) to the empty state and
// returns the records and every intermediate state (states[i] is after
// recs[:i]).
func ckptHistory(t testing.TB, seed int64, n int) ([]wal.Record, []*State) {
	r := rand.New(rand.NewSource(seed))
	states := []*State{NewState()}
	var recs []wal.Record
	colls := []string{"a", "b"}
	for len(recs) < n {
		lsn := len(recs) + 1
		st := states[len(states)-1]
		coll := colls[r.Intn(len(colls))]
		ns := Namespace{"db", coll}
		c := st.Collection(ns)
		var op wal.Op
		switch k := r.Intn(20); {
		case k == 0 && c != nil && len(c.indexes) == 0:
			op = wal.Op{Kind: wal.OpCreateIndex, Name: "x_1", Doc: ixSpec(t, "x_1", bson.D{{Key: "x", Value: 1}})}
		case k == 1 && c != nil && len(c.indexes) > 0:
			op = wal.Op{Kind: wal.OpDropIndex, Name: "x_1"}
		case k == 2 && c != nil && r.Intn(4) == 0:
			op = wal.Op{Kind: wal.OpDropCollection}
		case k < 10 || c == nil || c.Len() == 0:
			id := r.Intn(1000)
			if c != nil {
				if _, ok := c.Get(idValue(id)); ok {
					continue
				}
			}
			doc := ixDoc(t, bson.D{{Key: "_id", Value: id}, {Key: "x", Value: r.Intn(50)}, {Key: "lsn", Value: lsn}})
			op = ixInsert(doc)
		default:
			var old *Doc
			skip := r.Intn(c.Len())
			c.bySeq.Scan(func(d *Doc) bool { old = d; skip--; return skip >= 0 })
			if r.Intn(3) == 0 {
				op = wal.Op{Kind: wal.OpDelete, ID: old.ID, Before: old.Raw}
			} else {
				doc := ixDoc(t, bson.D{{Key: "_id", Value: old.ID}, {Key: "x", Value: r.Intn(50)}, {Key: "lsn", Value: lsn}})
				op = wal.Op{Kind: wal.OpUpdate, ID: old.ID, Before: old.Raw, Doc: doc}
			}
		}
		op.DB, op.Coll = ns.DB, ns.Coll
		rec := wal.Record{LSN: wal.LSN(len(recs) + 1), Ops: []wal.Op{op}}
		next, err := st.Apply(&rec)
		require.NoError(t, err)
		recs = append(recs, rec)
		states = append(states, next)
	}
	return recs, states
}

func idValue(id int) bson.RawValue {
	b, err := bson.Marshal(bson.D{{Key: "_id", Value: id}})
	if err != nil {
		panic(err)
	}
	return bson.Raw(b).Lookup("_id")
}

func roundTrip(t testing.TB, st, base, decodeBase *State) *State {
	t.Helper()
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	require.NoError(t, EncodeState(w, st, base))
	require.NoError(t, w.Flush())
	got, err := DecodeState(bufio.NewReader(&buf), decodeBase)
	require.NoError(t, err)
	return got
}

func TestState_EncodeDecode_RoundTrip(t *testing.T) {
	recs, states := ckptHistory(t, 1, 400)
	// Decoding on a decoded (equal, not identical) base is what a chain of
	// branches does at load time.
	full := roundTrip(t, states[200], NewState(), NewState())
	require.True(t, full.Equal(states[200]))
	require.Equal(t, states[200].LSN(), full.LSN())
	for _, tc := range []struct{ to, from int }{
		{400, 200}, // forward: what a branch added since its fork
		{100, 200}, // backward: a fork point behind its parent's head
		{200, 200}, // nothing
		{0, 200},   // everything removed
		{350, 0},
	} {
		t.Run(fmt.Sprintf("%d_from_%d", tc.to, tc.from), func(t *testing.T) {
			base := roundTrip(t, states[tc.from], NewState(), NewState())
			got := roundTrip(t, states[tc.to], states[tc.from], base)
			require.True(t, got.Equal(states[tc.to]))
			// The decoded state goes on exactly like the original: same
			// natural order numbers, same index trees.
			if tc.to < len(recs)-20 {
				a, b := states[tc.to], got
				for _, rec := range recs[tc.to : tc.to+20] {
					var err error
					a, err = a.Apply(&rec)
					require.NoError(t, err)
					b, err = b.Apply(&rec)
					require.NoError(t, err)
				}
				require.True(t, a.Equal(b))
			}
		})
	}
}

func TestState_EncodeDecode_SharesWithBase(t *testing.T) {
	_, states := ckptHistory(t, 2, 300)
	base := states[250]
	child := states[260]
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	require.NoError(t, EncodeState(w, child, base))
	require.NoError(t, w.Flush())
	var fullBuf bytes.Buffer
	w = bufio.NewWriter(&fullBuf)
	require.NoError(t, EncodeState(w, child, NewState()))
	require.NoError(t, w.Flush())
	require.Less(t, buf.Len()*5, fullBuf.Len(), "10 records of difference cost far less than the whole state")

	got, err := DecodeState(bufio.NewReader(&buf), base)
	require.NoError(t, err)
	require.True(t, got.Equal(child))
	// Documents the difference leaves alone are the base's own.
	for ns, c := range got.colls {
		c0 := base.colls[ns]
		if c0 == nil {
			continue
		}
		shared := 0
		c.byID.Scan(func(d *Doc) bool {
			if o, ok := c0.byID.Get(d); ok && o == d {
				shared++
			}
			return true
		})
		require.Greater(t, shared, c.Len()/2, "collection %s", ns)
	}
}

// Damaged input fails with ErrBadCheckpoint (or decodes to some state):
// it never panics.
func TestDecodeState_BadInput(t *testing.T) {
	_, states := ckptHistory(t, 3, 150)
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	require.NoError(t, EncodeState(w, states[150], states[100]))
	require.NoError(t, w.Flush())
	good := buf.Bytes()
	r := rand.New(rand.NewSource(4))
	for i := 0; i < 2000; i++ {
		b := bytes.Clone(good)
		switch i % 3 {
		case 0:
			b = b[:r.Intn(len(b))]
		case 1:
			b[r.Intn(len(b))] ^= byte(1 + r.Intn(255))
		default:
			b[r.Intn(len(b))] = byte(r.Intn(256))
			b[r.Intn(len(b))] = byte(r.Intn(256))
		}
		_, err := DecodeState(bufio.NewReader(bytes.NewReader(b)), states[100])
		if err != nil {
			require.ErrorIs(t, err, ErrBadCheckpoint)
		}
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"bad tag", []byte{1, 9}},
		{"drop of missing", []byte{1, ckDrop, 1, 'x', 1, 'y', 0}},
		{"huge string", []byte{1, ckColl, 0xff, 0xff, 0xff, 0xff, 0x0f}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeState(bufio.NewReader(bytes.NewReader(tc.b)), NewState())
			require.ErrorIs(t, err, ErrBadCheckpoint)
		})
	}
	// A reader's own error is kept in the chain.
	boom := errors.New("boom")
	_, err := DecodeState(bufio.NewReader(errReader{boom}), NewState())
	require.ErrorIs(t, err, boom)
	require.ErrorIs(t, err, ErrBadCheckpoint)
}

// FuzzDecodeState: any input decodes or fails with ErrBadCheckpoint; a
// decoded state is internally consistent enough to be applied to.
func FuzzDecodeState(f *testing.F) {
	_, states := ckptHistory(f, 5, 60)
	for _, pair := range [][2]int{{60, 0}, {60, 40}, {20, 60}} {
		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		require.NoError(f, EncodeState(w, states[pair[0]], states[pair[1]]))
		require.NoError(f, w.Flush())
		f.Add(buf.Bytes(), pair[1] != 0)
	}
	f.Fuzz(func(t *testing.T, b []byte, onBase bool) {
		base := NewState()
		if onBase {
			base = states[40]
		}
		st, err := DecodeState(bufio.NewReader(bytes.NewReader(b)), base)
		if err != nil {
			require.ErrorIs(t, err, ErrBadCheckpoint)
			return
		}
		for _, ns := range st.Namespaces() {
			st.Collection(ns).Scan(func(bson.Raw) bool { return true })
		}
	})
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func BenchmarkEncodeState_Delta(b *testing.B) {
	// A 100k-document collection and a child that changed 10 of them: the
	// cost of one branch's difference in a checkpoint.
	st := NewState()
	var ops []wal.Op
	for i := 0; i < 100_000; i++ {
		ops = append(ops, ixInsert(ixDoc(b, bson.D{{Key: "_id", Value: i}, {Key: "x", Value: i}})))
		ops[i].DB, ops[i].Coll = "db", "c"
	}
	st, err := st.Apply(&wal.Record{LSN: 1, Ops: ops})
	require.NoError(b, err)
	child := st
	for i := 0; i < 10; i++ {
		d := ixDoc(b, bson.D{{Key: "_id", Value: i * 1000}, {Key: "x", Value: -1}})
		old, _ := child.Collection(Namespace{"db", "c"}).Get(d.Lookup("_id"))
		child, err = child.Apply(&wal.Record{LSN: wal.LSN(2 + i), Ops: []wal.Op{{Kind: wal.OpUpdate, DB: "db", Coll: "c", ID: d.Lookup("_id"), Before: old, Doc: d}}})
		require.NoError(b, err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := bufio.NewWriter(&bytes.Buffer{})
		if err := EncodeState(w, child, st); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeState_Full(b *testing.B) {
	// Loading a 100k-document collection with one secondary index.
	var ops []wal.Op
	for i := 0; i < 100_000; i++ {
		op := ixInsert(ixDoc(b, bson.D{{Key: "_id", Value: i}, {Key: "x", Value: i % 100}, {Key: "s", Value: fmt.Sprintf("item-%07d", i)}}))
		op.DB, op.Coll = "db", "c"
		ops = append(ops, op)
	}
	ops = append(ops, wal.Op{Kind: wal.OpCreateIndex, DB: "db", Coll: "c", Name: "x_1", Doc: ixSpec(b, "x_1", bson.D{{Key: "x", Value: 1}})})
	st, err := NewState().Apply(&wal.Record{LSN: 1, Ops: ops})
	require.NoError(b, err)
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	require.NoError(b, EncodeState(w, st, NewState()))
	require.NoError(b, w.Flush())
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeState(bufio.NewReader(bytes.NewReader(buf.Bytes())), NewState()); err != nil {
			b.Fatal(err)
		}
	}
}
