package wal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

// dirTestTime is the time of LSN 1 in the records the tests make; LSN n is
// n-1 milliseconds later.
var dirTestTime = time.UnixMilli(1_700_000_000_000).UTC()

// dirRec returns a deterministic record of the given LSN whose document has
// pad bytes of padding.
func dirRec(t testing.TB, lsn LSN, pad int) Record {
	t.Helper()
	id := int64(lsn)
	doc, err := bson.Marshal(bson.D{{Key: "_id", Value: id}, {Key: "pad", Value: strings.Repeat(string(rune('a'+lsn%26)), pad)}})
	require.NoError(t, err)
	idv := bson.Raw(doc).Lookup("_id")
	return Record{
		LSN:  lsn,
		Time: dirTestTime.Add(time.Duration(lsn-1) * time.Millisecond),
		Ops:  []Op{{Kind: OpInsert, DB: "db", Coll: "c", ID: idv, Doc: doc}},
	}
}

// dirRecs returns records from..to.
func dirRecs(t testing.TB, from, to LSN, pad int) []Record {
	t.Helper()
	var out []Record
	for l := from; l <= to; l++ {
		out = append(out, dirRec(t, l, pad))
	}
	return out
}

func openDirT(t testing.TB, dir string, opts *DirOptions) *DirStore {
	t.Helper()
	s, err := OpenDir(context.Background(), dir, opts)
	require.NoError(t, err)
	return s
}

// dirAppendAll appends recs one batch of batch records at a time.
func dirAppendAll(t testing.TB, s Store, project string, recs []Record, batch int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < len(recs); i += batch {
		b := recs[i:min(i+batch, len(recs))]
		n, err := s.Append(ctx, project, b)
		require.NoError(t, err)
		require.Equal(t, len(b), n)
	}
}

// dirRequireLog checks that project holds exactly want, by encoding.
func dirRequireLog(t testing.TB, s Store, project string, want []Record) {
	t.Helper()
	ctx := context.Background()
	got, err := s.Read(ctx, project, 1, len(want)+10)
	require.NoError(t, err)
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, want[i].Encode(), got[i].Encode(), "lsn %d", want[i].LSN)
	}
	tail, tm, err := s.Tail(ctx, project)
	require.NoError(t, err)
	if len(want) == 0 {
		require.Zero(t, tail)
		require.True(t, tm.IsZero())
		return
	}
	last := want[len(want)-1]
	require.Equal(t, last.LSN, tail)
	require.True(t, tm.Equal(time.UnixMilli(last.Time.UnixMilli())), "tail time %v, want %v", tm, last.Time)
}

// dirSegmentFiles lists the segment files of a project, sorted.
func dirSegmentFiles(t testing.TB, dir, project string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, project, "*"+segmentExt))
	require.NoError(t, err)
	return m
}

// dirFrameOffsets parses a segment file and returns the offset of each frame
// and the file's contents.
func dirFrameOffsets(t testing.TB, path string) ([]int64, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var offs []int64
	off := int64(segmentHeaderSize)
	for off < int64(len(data)) {
		n, _, err := parseFrame(data, off)
		require.NoError(t, err)
		offs = append(offs, off)
		off += n
	}
	return offs, data
}

// dirCopy copies a store directory (without the LOCK file).
func dirCopy(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if d.Name() == dirLockFile {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	require.NoError(t, err)
}

func TestDirStore_Append_Validation(t *testing.T) {
	ctx := context.Background()
	tooOld := dirRec(t, 4, 10)
	tooOld.Time = dirTestTime.Add(time.Millisecond) // before lsn 3's time
	sameMilli := dirRec(t, 4, 10)
	sameMilli.Time = dirTestTime.Add(2*time.Millisecond + 300*time.Microsecond)
	backwards := dirRecs(t, 4, 5, 10)
	backwards[1].Time = backwards[0].Time.Add(-time.Millisecond)
	noTime := dirRec(t, 4, 10)
	noTime.Time = time.Time{}
	noOps := dirRec(t, 4, 10)
	noOps.Ops = nil

	tests := []struct {
		name    string
		project string
		recs    []Record
		want    error // nil: success
	}{
		{"Next", "p", dirRecs(t, 4, 6, 10), nil},
		{"SameMillisecondAsTail", "p", []Record{sameMilli}, nil},
		{"Taken", "p", dirRecs(t, 3, 4, 10), ErrLSNTaken},
		{"TakenFirst", "p", dirRecs(t, 1, 1, 10), ErrLSNTaken},
		{"Gap", "p", dirRecs(t, 5, 5, 10), ErrGap},
		{"GapInNewProject", "q", dirRecs(t, 2, 2, 10), ErrGap},
		{"Empty", "p", nil, ErrInvalidRecord},
		{"NotConsecutive", "p", []Record{dirRec(t, 4, 1), dirRec(t, 6, 1)}, ErrInvalidRecord},
		{"TimeBeforeTail", "p", []Record{tooOld}, ErrInvalidRecord},
		{"TimeGoesBackwards", "p", backwards, ErrInvalidRecord},
		{"NoTime", "p", []Record{noTime}, ErrInvalidRecord},
		{"NoOps", "p", []Record{noOps}, ErrInvalidRecord},
		{"LSNZero", "p", []Record{dirRec(t, 0, 1)}, ErrInvalidRecord},
		{"BadProject", "../x", dirRecs(t, 1, 1, 1), ErrInvalidName},
		{"EmptyProject", "", dirRecs(t, 1, 1, 1), ErrInvalidName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openDirT(t, dir, nil)
			defer s.Close()
			base := dirRecs(t, 1, 3, 10)
			dirAppendAll(t, s, "p", base, 3)
			before := dirSnapshot(t, dir)
			n, err := s.Append(ctx, tc.project, tc.recs)
			if tc.want == nil {
				require.NoError(t, err)
				require.Equal(t, len(tc.recs), n)
				dirRequireLog(t, s, "p", append(base, tc.recs...))
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.Zero(t, n)
			require.Equal(t, before, dirSnapshot(t, dir), "nothing may be written when validation fails")
			dirRequireLog(t, s, "p", base)
			require.NoError(t, s.Close())
			s2 := openDirT(t, dir, nil)
			defer s2.Close()
			dirRequireLog(t, s2, "p", base)
			ps, err := s2.Projects(ctx)
			require.NoError(t, err)
			require.Equal(t, []string{"p"}, ps)
		})
	}
}

// dirSnapshot maps every file under dir (except LOCK) to its contents.
func dirSnapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == dirLockFile {
			return nil
		}
		if d.IsDir() {
			out[path] = "<dir>"
			return nil
		}
		b, err := os.ReadFile(path)
		out[path] = string(b)
		return err
	})
	require.NoError(t, err)
	return out
}

func TestDirStore_Append_RecordTooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates about 300 MB")
	}
	doc, err := bson.Marshal(bson.D{{Key: "_id", Value: 1}, {Key: "b", Value: make([]byte, MaxDocumentSize-64)}})
	require.NoError(t, err)
	idv := bson.Raw(doc).Lookup("_id")
	r := Record{LSN: 1, Time: dirTestTime}
	for range MaxRecordSize/MaxDocumentSize + 1 {
		r.Ops = append(r.Ops, Op{Kind: OpInsert, DB: "db", Coll: "c", ID: idv, Doc: doc})
	}
	dir := t.TempDir()
	s := openDirT(t, dir, nil)
	defer s.Close()
	n, err := s.Append(context.Background(), "p", []Record{r})
	require.ErrorIs(t, err, ErrRecordTooLarge)
	require.Zero(t, n)
	require.NoDirExists(t, filepath.Join(dir, "p"))
}

func TestDirStore_Append_Canceled(t *testing.T) {
	dir := t.TempDir()
	s := openDirT(t, dir, nil)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Append(ctx, "p", dirRecs(t, 1, 1, 1))
	require.ErrorIs(t, err, context.Canceled)
	tail, _, err := s.Tail(context.Background(), "p")
	require.NoError(t, err)
	require.Zero(t, tail)
}

func TestDirStore_Reopen_KeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openDirT(t, dir, nil)
	logs := map[string][]Record{
		"alpha":   dirRecs(t, 1, 50, 100),
		"beta.2":  dirRecs(t, 1, 1, 5000),
		"gamma_x": dirRecs(t, 1, 17, 0),
	}
	for p, recs := range logs {
		dirAppendAll(t, s, p, recs, 7)
	}
	// A project whose only append failed has no records and is not listed.
	_, err := s.Append(ctx, "empty", dirRecs(t, 2, 2, 1))
	require.ErrorIs(t, err, ErrGap)
	require.NoError(t, s.Close())

	for range 2 { // reopening twice must not change anything
		s = openDirT(t, dir, nil)
		ps, err := s.Projects(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"alpha", "beta.2", "gamma_x"}, ps)
		for p, recs := range logs {
			dirRequireLog(t, s, p, recs)
		}
		require.NoError(t, s.Close())
	}
	s = openDirT(t, dir, nil)
	defer s.Close()
	dirAppendAll(t, s, "alpha", dirRecs(t, 51, 52, 1), 2)
	dirRequireLog(t, s, "alpha", append(logs["alpha"], dirRecs(t, 51, 52, 1)...))
}

func TestDirStore_Append_RotatesSegments(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := &DirOptions{SegmentSize: 1000}
	s := openDirT(t, dir, opts)
	recs := dirRecs(t, 1, 60, 150) // ~200-byte frames: about 4 per segment
	// Batches of varying size, one larger than a segment.
	for i, b := 0, 1; i < len(recs); i, b = i+b, b%7+1 {
		dirAppendAll(t, s, "p", recs[i:min(i+b, len(recs))], b)
	}
	files := dirSegmentFiles(t, dir, "p")
	require.Greater(t, len(files), 10)
	require.Equal(t, filepath.Join(dir, "p", "00000000000000000001.wal"), files[0])
	// Every segment is named by its first LSN and, except for single
	// oversized batches, stays within SegmentSize.
	next := LSN(1)
	for _, f := range files {
		first, ok := parseSegmentName(filepath.Base(f))
		require.True(t, ok)
		require.Equal(t, next, first, f)
		offs, data := dirFrameOffsets(t, f)
		next += LSN(len(offs))
		if len(offs) > 1 && len(data) > 1000 {
			// allowed only if the segment's records came in one batch
			t.Logf("%s: %d bytes in %d frames", f, len(data), len(offs))
		}
	}
	require.Equal(t, LSN(61), next)

	check := func(s *DirStore) {
		for _, from := range []LSN{0, 1, 2, 4, 5, 13, 30, 59, 60, 61, 100} {
			for _, limit := range []int{0, 1, 3, 4, 5, 17, 60, 1000, -1} {
				got, err := s.Read(ctx, "p", from, limit)
				require.NoError(t, err)
				start := max(from, 1)
				var want []Record
				for l := start; l <= 60 && len(want) < limit; l++ {
					want = append(want, recs[l-1])
				}
				require.Len(t, got, len(want), "from %d limit %d", from, limit)
				for i := range want {
					require.Equal(t, want[i].Encode(), got[i].Encode(), "from %d limit %d", from, limit)
				}
			}
		}
	}
	check(s)
	require.NoError(t, s.Close())
	s = openDirT(t, dir, opts)
	defer s.Close()
	check(s)
	dirAppendAll(t, s, "p", dirRecs(t, 61, 70, 150), 1)
	dirRequireLog(t, s, "p", append(recs, dirRecs(t, 61, 70, 150)...))
}

func TestDirStore_Append_OversizedBatchGetsOwnSegment(t *testing.T) {
	dir := t.TempDir()
	s := openDirT(t, dir, &DirOptions{SegmentSize: 500})
	defer s.Close()
	dirAppendAll(t, s, "p", dirRecs(t, 1, 1, 10), 1)
	dirAppendAll(t, s, "p", dirRecs(t, 2, 9, 200), 8) // one batch of ~2 KB
	dirAppendAll(t, s, "p", dirRecs(t, 10, 10, 10), 1)
	files := dirSegmentFiles(t, dir, "p")
	require.Len(t, files, 3)
	for i, want := range []int{1, 8, 1} {
		offs, _ := dirFrameOffsets(t, files[i])
		require.Len(t, offs, want, files[i])
	}
}

func TestDirStore_Open_TornTailEveryOffset(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts *DirOptions
		n    LSN
	}{
		{"OneSegment", nil, 5},
		{"LastRecordAloneInSegment", &DirOptions{SegmentSize: 1}, 4},
		{"FirstRecord", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := t.TempDir()
			s := openDirT(t, src, tc.opts)
			recs := dirRecs(t, 1, tc.n, 40)
			dirAppendAll(t, s, "p", recs, 1)
			require.NoError(t, s.Close())
			files := dirSegmentFiles(t, src, "p")
			last := files[len(files)-1]
			offs, data := dirFrameOffsets(t, last)
			start := offs[len(offs)-1]
			for cut := start; cut < int64(len(data)); cut++ {
				dir := t.TempDir()
				dirCopy(t, src, dir)
				seg := filepath.Join(dir, "p", filepath.Base(last))
				require.NoError(t, os.Truncate(seg, cut))
				opts := &DirOptions{NoSync: true}
				if tc.opts != nil {
					opts.SegmentSize = tc.opts.SegmentSize
				}
				s, err := OpenDir(ctx, dir, opts)
				require.NoError(t, err, "cut at %d", cut)
				dirRequireLog(t, s, "p", recs[:tc.n-1])
				fi, err := os.Stat(seg)
				require.NoError(t, err)
				require.Equal(t, start, fi.Size(), "the torn tail is truncated")
				dirAppendAll(t, s, "p", recs[tc.n-1:], 1)
				dirRequireLog(t, s, "p", recs)
				require.NoError(t, s.Close())
				s = openDirT(t, dir, opts)
				dirRequireLog(t, s, "p", recs)
				require.NoError(t, s.Close())
			}
		})
	}
}

func TestDirStore_Open_TornTailGarbage(t *testing.T) {
	var magic [4]byte
	binary.LittleEndian.PutUint32(magic[:], frameMagic)
	tests := []struct {
		name string
		tail []byte
	}{
		{"Zeros", make([]byte, 3000)},
		{"OneByte", []byte{0xff}},
		{"MagicOnly", magic[:]},
		{"MagicAndHugeLength", append(magic[:], 0xff, 0xff, 0xff, 0x0f)},
		{"Repeated magic", bytes.Repeat(magic[:], 100)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openDirT(t, dir, nil)
			recs := dirRecs(t, 1, 3, 20)
			dirAppendAll(t, s, "p", recs, 2)
			require.NoError(t, s.Close())
			seg := dirSegmentFiles(t, dir, "p")[0]
			f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.Write(tc.tail)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			s = openDirT(t, dir, nil)
			defer s.Close()
			dirRequireLog(t, s, "p", recs)
			dirAppendAll(t, s, "p", dirRecs(t, 4, 4, 20), 1)
			dirRequireLog(t, s, "p", dirRecs(t, 1, 4, 20))
		})
	}
}

func TestDirStore_Open_EmptyLastSegment(t *testing.T) {
	tests := []struct {
		name    string
		content func() []byte
	}{
		{"ZeroBytes", func() []byte { return nil }},
		{"PartialHeader", func() []byte { return []byte("AWA") }},
		{"HeaderOnly", func() []byte { return segmentHeader(4) }},
		{"ZeroHeader", func() []byte { return make([]byte, segmentHeaderSize) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openDirT(t, dir, nil)
			recs := dirRecs(t, 1, 3, 20)
			dirAppendAll(t, s, "p", recs, 3)
			require.NoError(t, s.Close())
			// A segment whose creation was interrupted by a crash.
			require.NoError(t, os.WriteFile(filepath.Join(dir, "p", segmentName(4)), tc.content(), 0o644))
			s = openDirT(t, dir, nil)
			dirRequireLog(t, s, "p", recs)
			dirAppendAll(t, s, "p", dirRecs(t, 4, 5, 20), 1)
			require.NoError(t, s.Close())
			s = openDirT(t, dir, nil)
			defer s.Close()
			dirRequireLog(t, s, "p", dirRecs(t, 1, 5, 20))
			require.Len(t, dirSegmentFiles(t, dir, "p"), 2)
		})
	}
}

func TestDirStore_Open_EmptyProjectDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "p"), 0o755))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "lost+found"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o644))
	s := openDirT(t, dir, nil)
	defer s.Close()
	ps, err := s.Projects(context.Background())
	require.NoError(t, err)
	require.Empty(t, ps)
	dirAppendAll(t, s, "p", dirRecs(t, 1, 2, 1), 1)
	dirRequireLog(t, s, "p", dirRecs(t, 1, 2, 1))
}

func TestDirStore_Open_CreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s := openDirT(t, dir, nil)
	require.DirExists(t, dir)
	require.FileExists(t, filepath.Join(dir, dirLockFile))
	require.NoError(t, s.Close())

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err := OpenDir(context.Background(), file, nil)
	require.Error(t, err)
	_, err = OpenDir(context.Background(), "", nil)
	require.Error(t, err)
}

// dirCorruptCase damages a store written by TestDirStore_Open_Corrupt: three
// segments of four records each (LSNs 1-4, 5-8, 9-12).
type dirCorruptCase struct {
	name string
	// damage changes the directory; it returns the file that must be named
	// in the error.
	damage func(t *testing.T, dir string) string
}

// dirFlipAt returns a damage function that flips the bits of one byte of a
// frame: segment seg (0-based), frame index frame, at offset delta from the
// frame's start (negative: from the segment's start).
func dirFlipAt(seg, frame int, delta int64) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		path := dirSegmentFiles(t, dir, "p")[seg]
		offs, data := dirFrameOffsets(t, path)
		at := delta
		if frame >= 0 {
			at += offs[frame]
		}
		data[at] ^= 0xff
		require.NoError(t, os.WriteFile(path, data, 0o644))
		return path
	}
}

func TestDirStore_Open_Corrupt(t *testing.T) {
	tests := []dirCorruptCase{
		{"LastSegmentMiddlePayload", dirFlipAt(2, 1, frameHeaderSize+30)},
		{"LastSegmentMiddleMagic", dirFlipAt(2, 1, 0)},
		{"LastSegmentMiddleLength", dirFlipAt(2, 1, 4)},
		{"LastSegmentMiddleLengthHighByte", dirFlipAt(2, 1, 7)},
		{"LastSegmentMiddleLSN", dirFlipAt(2, 1, 8)},
		{"LastSegmentMiddleCRC", dirFlipAt(2, 2, 16)},
		{"LastSegmentFirstFrame", dirFlipAt(2, 0, 25)},
		{"LastSegmentHeaderMagic", dirFlipAt(2, -1, 0)},
		{"LastSegmentHeaderVersion", dirFlipAt(2, -1, 4)},
		{"LastSegmentHeaderLSN", dirFlipAt(2, -1, 8)},
		{"NonLastSegmentLastPayload", dirFlipAt(1, 3, frameHeaderSize+10)},
		{"NonLastSegmentLastLength", dirFlipAt(1, 3, 5)},
		{"NonLastSegmentFirstMagic", dirFlipAt(0, 0, 1)},
		{"NonLastSegmentHeader", dirFlipAt(0, -1, 2)},
		{"NonLastSegmentTruncated", func(t *testing.T, dir string) string {
			path := dirSegmentFiles(t, dir, "p")[1]
			fi, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, fi.Size()-1))
			return path
		}},
		{"NonLastSegmentTrailingGarbage", func(t *testing.T, dir string) string {
			path := dirSegmentFiles(t, dir, "p")[0]
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.Write([]byte{0})
			require.NoError(t, err)
			require.NoError(t, f.Close())
			return path
		}},
		{"MissingMiddleSegment", func(t *testing.T, dir string) string {
			files := dirSegmentFiles(t, dir, "p")
			require.NoError(t, os.Remove(files[1]))
			return files[2]
		}},
		{"MissingFirstSegment", func(t *testing.T, dir string) string {
			files := dirSegmentFiles(t, dir, "p")
			require.NoError(t, os.Remove(files[0]))
			return files[1]
		}},
		{"SegmentRenamed", func(t *testing.T, dir string) string {
			files := dirSegmentFiles(t, dir, "p")
			to := filepath.Join(dir, "p", segmentName(6))
			require.NoError(t, os.Rename(files[1], to))
			return to
		}},
		{"FrameFromAnotherLSN", func(t *testing.T, dir string) string {
			// A valid frame, CRC and all, with the wrong LSN.
			files := dirSegmentFiles(t, dir, "p")
			offs, data := dirFrameOffsets(t, files[2])
			buf, err := appendFrame(nil, dirPtr(dirRec(t, 99, 20)), 99)
			require.NoError(t, err)
			data = append(data[:offs[1]], buf...)
			require.NoError(t, os.WriteFile(files[2], data, 0o644))
			return files[2]
		}},
		{"EmptyNonLastSegment", func(t *testing.T, dir string) string {
			// Segment 9 loses its records and an empty segment 13 follows
			// it: segment 9 is header-only but not the last.
			files := dirSegmentFiles(t, dir, "p")
			require.NoError(t, os.Truncate(files[2], segmentHeaderSize))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "p", segmentName(13)), segmentHeader(13), 0o644))
			return files[2]
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			recs := dirRecs(t, 1, 12, 20)
			// Four frames per segment, each its own batch, so damage inside
			// a segment is never part of the last (torn-able) batch alone.
			frame, err := appendFrame(nil, &recs[0], 1)
			require.NoError(t, err)
			segSize := int64(segmentHeaderSize + 4*len(frame) + len(frame)/2)
			s := openDirT(t, dir, &DirOptions{SegmentSize: segSize})
			dirAppendAll(t, s, "p", recs, 1)
			dirAppendAll(t, s, "other", recs, 12)
			require.NoError(t, s.Close())
			require.Len(t, dirSegmentFiles(t, dir, "p"), 3)
			before := dirSnapshot(t, dir)
			path := tc.damage(t, dir)
			damaged := dirSnapshot(t, dir)
			require.NotEqual(t, before, damaged)

			s, err = OpenDir(context.Background(), dir, &DirOptions{SegmentSize: segSize})
			if err == nil {
				s.Close()
			}
			require.ErrorIs(t, err, ErrCorrupt)
			require.Contains(t, err.Error(), path)
			require.Contains(t, err.Error(), "offset")
			require.Equal(t, damaged, dirSnapshot(t, dir), "a failed open must not change the files")
			// The failed open released the lock: trying again gives the
			// same error, not ErrLocked.
			_, err = OpenDir(context.Background(), dir, nil)
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
}

func dirPtr[T any](v T) *T { return &v }

func TestDirStore_Read_BadCRC(t *testing.T) {
	tests := []struct {
		name  string
		frame int
		delta int64
	}{
		{"Payload", 2, frameHeaderSize + 20},
		{"LSN", 2, 9},
		{"Length", 2, 4},
		{"Magic", 2, 0},
		{"CRC", 2, 17},
		{"FirstFrame", 0, frameHeaderSize + 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			s := openDirT(t, dir, nil)
			defer s.Close()
			recs := dirRecs(t, 1, 5, 30)
			dirAppendAll(t, s, "p", recs, 1)
			path := dirSegmentFiles(t, dir, "p")[0]
			offs, _ := dirFrameOffsets(t, path)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			require.NoError(t, err)
			b := make([]byte, 1)
			_, err = f.ReadAt(b, offs[tc.frame]+tc.delta)
			require.NoError(t, err)
			b[0] ^= 0x55
			_, err = f.WriteAt(b, offs[tc.frame]+tc.delta)
			require.NoError(t, err)
			require.NoError(t, f.Close())

			got, err := s.Read(ctx, "p", 1, 10)
			require.ErrorIs(t, err, ErrCorrupt)
			require.Contains(t, err.Error(), path)
			require.Len(t, got, tc.frame, "the records before the damage")
			_, err = s.Read(ctx, "p", LSN(tc.frame+1), 1)
			require.ErrorIs(t, err, ErrCorrupt)
			if tc.frame < 4 {
				got, err = s.Read(ctx, "p", LSN(tc.frame+2), 10)
				require.NoError(t, err, "records after the damaged one are still readable")
				require.Len(t, got, 4-tc.frame)
			}
		})
	}
}

func TestDirStore_Read_ShortFile(t *testing.T) {
	dir := t.TempDir()
	s := openDirT(t, dir, nil)
	defer s.Close()
	dirAppendAll(t, s, "p", dirRecs(t, 1, 3, 30), 1)
	path := dirSegmentFiles(t, dir, "p")[0]
	offs, _ := dirFrameOffsets(t, path)
	require.NoError(t, os.Truncate(path, offs[2]+3))
	_, err := s.Read(context.Background(), "p", 1, 10)
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestDirStore_Read_Cases(t *testing.T) {
	ctx := context.Background()
	s := openDirT(t, t.TempDir(), nil)
	defer s.Close()
	recs := dirRecs(t, 1, 10, 5)
	dirAppendAll(t, s, "p", recs, 3)
	tests := []struct {
		name    string
		project string
		from    LSN
		limit   int
		want    []Record
	}{
		{"All", "p", 1, 100, recs},
		{"FromZero", "p", 0, 100, recs},
		{"Limit", "p", 3, 2, recs[2:4]},
		{"ToTail", "p", 10, 5, recs[9:]},
		{"PastTail", "p", 11, 5, nil},
		{"FarPastTail", "p", 1 << 62, 5, nil},
		{"LimitZero", "p", 1, 0, nil},
		{"LimitNegative", "p", 1, -5, nil},
		{"UnknownProject", "nope", 1, 10, nil},
		{"InvalidProject", "../etc", 1, 10, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Read(ctx, tc.project, tc.from, tc.limit)
			require.NoError(t, err)
			require.NotNil(t, got)
			require.Len(t, got, len(tc.want))
			for i := range tc.want {
				require.Equal(t, tc.want[i].Encode(), got[i].Encode())
			}
		})
	}
	tail, tm, err := s.Tail(ctx, "nope")
	require.NoError(t, err)
	require.Zero(t, tail)
	require.True(t, tm.IsZero())
}

func TestDirStore_Open_Locked(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openDirT(t, dir, nil)
	_, err := OpenDir(ctx, dir, nil)
	require.ErrorIs(t, err, ErrLocked)
	require.Contains(t, err.Error(), dir)
	// Still locked after the failed attempt; free once closed.
	_, err = OpenDir(ctx, dir, nil)
	require.ErrorIs(t, err, ErrLocked)
	require.NoError(t, s.Close())
	s = openDirT(t, dir, nil)
	require.NoError(t, s.Close())
}

// dirLockChildEnv makes TestDirStore_Open_LockedChild try to open the
// directory it names, as the child of TestDirStore_Open_LockedByOtherProcess.
const dirLockChildEnv = "ARGON_WAL_LOCK_CHILD_DIR"

func TestDirStore_Open_LockedByOtherProcess(t *testing.T) {
	dir := t.TempDir()
	s := openDirT(t, dir, nil)
	run := func() (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDirStore_Open_LockedChild$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), dirLockChildEnv+"="+dir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run()
	require.Error(t, err, out)
	require.Contains(t, out, "wal: directory locked by another process")
	require.Contains(t, out, dir)
	require.NoError(t, s.Close())
	out, err = run()
	require.NoError(t, err, out)
}

// TestDirStore_Open_LockedChild is the child process of
// TestDirStore_Open_LockedByOtherProcess: it fails if it cannot open the
// directory.
func TestDirStore_Open_LockedChild(t *testing.T) {
	dir := os.Getenv(dirLockChildEnv)
	if dir == "" {
		t.Skip("runs only as a child process")
	}
	s, err := OpenDir(context.Background(), dir, nil)
	if err != nil {
		fmt.Println(err)
		t.Fatal(err)
	}
	s.Close()
}

func TestDirStore_Close_ErrClosed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openDirT(t, dir, nil)
	dirAppendAll(t, s, "p", dirRecs(t, 1, 2, 1), 1)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	_, err := s.Append(ctx, "p", dirRecs(t, 3, 3, 1))
	require.ErrorIs(t, err, ErrClosed)
	_, _, err = s.Tail(ctx, "p")
	require.ErrorIs(t, err, ErrClosed)
	_, err = s.Read(ctx, "p", 1, 10)
	require.ErrorIs(t, err, ErrClosed)
	_, err = s.Projects(ctx)
	require.ErrorIs(t, err, ErrClosed)
	s = openDirT(t, dir, nil)
	defer s.Close()
	dirRequireLog(t, s, "p", dirRecs(t, 1, 2, 1))
}

// TestDirStore_Append_ConcurrentReaders runs appenders on several projects
// with readers checking that whatever they see is a dense, intact prefix,
// then closes the store under them.
func TestDirStore_Append_ConcurrentReaders(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openDirT(t, dir, &DirOptions{SegmentSize: 2000, NoSync: true})
	const perProject = 200
	projects := []string{"a", "b", "c"}
	var wg sync.WaitGroup
	errc := make(chan error, 100)
	for _, p := range projects {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs := dirRecs(t, 1, perProject, 50)
			for i := 0; i < len(recs); i += 3 {
				if _, err := s.Append(ctx, p, recs[i:min(i+3, len(recs))]); err != nil {
					errc <- err
					return
				}
			}
		}()
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
					tail, _, err := s.Tail(ctx, p)
					if err != nil {
						errc <- err
						return
					}
					got, err := s.Read(ctx, p, 1, perProject)
					if err != nil {
						errc <- err
						return
					}
					if LSN(len(got)) < tail {
						errc <- fmt.Errorf("read %d records after tail %d", len(got), tail)
						return
					}
					for i, r := range got {
						if r.LSN != LSN(i+1) {
							errc <- fmt.Errorf("record %d has lsn %d", i, r.LSN)
							return
						}
					}
					if len(got) == perProject {
						return
					}
				}
				errc <- fmt.Errorf("project %s: readers did not see every record", p)
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}

	// Close while operations run: they either complete or see ErrClosed.
	var wg2 sync.WaitGroup
	for i := range 4 {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for j := 0; ; j++ {
				var err error
				if i == 0 {
					_, err = s.Append(ctx, "d", dirRecs(t, LSN(j+1), LSN(j+1), 10))
				} else {
					_, err = s.Read(ctx, projects[i%3], 1, 50)
				}
				if err != nil {
					assert.ErrorIs(t, err, ErrClosed)
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, s.Close())
	wg2.Wait()
	s = openDirT(t, dir, nil)
	defer s.Close()
	for _, p := range projects {
		dirRequireLog(t, s, p, dirRecs(t, 1, perProject, 50))
	}
	tail, _, err := s.Tail(ctx, "d")
	require.NoError(t, err)
	dirRequireLog(t, s, "d", dirRecs(t, 1, tail, 10))
}

func TestDirStore_Append_SegmentFileError(t *testing.T) {
	// A file in the way of the next segment: the append fails, nothing is
	// committed, and the store keeps working once the obstacle is gone.
	ctx := context.Background()
	dir := t.TempDir()
	s := openDirT(t, dir, &DirOptions{SegmentSize: 1})
	defer s.Close()
	dirAppendAll(t, s, "p", dirRecs(t, 1, 1, 1), 1)
	obstacle := filepath.Join(dir, "p", segmentName(2))
	require.NoError(t, os.Mkdir(obstacle, 0o755))
	n, err := s.Append(ctx, "p", dirRecs(t, 2, 2, 1))
	require.Error(t, err)
	require.Zero(t, n)
	dirRequireLog(t, s, "p", dirRecs(t, 1, 1, 1))
	require.NoError(t, os.Remove(obstacle))
	dirAppendAll(t, s, "p", dirRecs(t, 2, 3, 1), 1)
	dirRequireLog(t, s, "p", dirRecs(t, 1, 3, 1))
}

func TestDirStore_Open_Canceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := OpenDir(ctx, t.TempDir(), nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestDirStore_Open_ErrorNamesFile(t *testing.T) {
	// The corruption error reads well.
	dir := t.TempDir()
	s := openDirT(t, dir, nil)
	dirAppendAll(t, s, "p", dirRecs(t, 1, 3, 10), 1)
	require.NoError(t, s.Close())
	path := dirFlipAt(0, 1, frameHeaderSize+3)(t, dir)
	_, err := OpenDir(context.Background(), dir, nil)
	require.ErrorIs(t, err, ErrCorrupt)
	t.Log(err)
	require.True(t, errors.Is(err, ErrCorrupt))
	require.Contains(t, err.Error(), fmt.Sprintf("%s offset ", path))
	require.Contains(t, err.Error(), "checksum mismatch")
	require.Contains(t, err.Error(), "but a valid frame of another batch follows")
}

func TestDirStore_Open_TornBatchOutOfOrder(t *testing.T) {
	// A power failure may persist the pages of an unsynced batch in any
	// order: a bad frame followed by valid frames of the same batch is a
	// torn tail. The whole batch goes (it was never acknowledged); the
	// batches before it stay.
	for _, badFrame := range []int{2, 3, 4} { // frames of the last batch (LSNs 3-6)
		t.Run(fmt.Sprintf("frame%d", badFrame), func(t *testing.T) {
			dir := t.TempDir()
			s := openDirT(t, dir, nil)
			recs := dirRecs(t, 1, 6, 30)
			_, err := s.Append(context.Background(), "p", recs[:2])
			require.NoError(t, err)
			_, err = s.Append(context.Background(), "p", recs[2:])
			require.NoError(t, err)
			require.NoError(t, s.Close())
			dirFlipAt(0, badFrame, frameHeaderSize+5)(t, dir)
			s = openDirT(t, dir, nil)
			got, err := s.Read(context.Background(), "p", 1, 10)
			require.NoError(t, err)
			require.Len(t, got, 2)
			_, err = s.Append(context.Background(), "p", dirRecs(t, 3, 3, 5))
			require.NoError(t, err, "appending continues after the cut")
		})
	}
}
