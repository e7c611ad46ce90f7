package wal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// dirFuzzLog is a small pristine log: 8 records in two segments (LSNs 1-4 and
// 5-8), in batches of 1 and 2 so frames of several sizes sit side by side.
type dirFuzzLog struct {
	recs  []Record
	names []string // segment file names
	segs  [][]byte // segment contents
	offs  [][]int64
}

func newDirFuzzLog(f *testing.F) *dirFuzzLog {
	dir := f.TempDir()
	s, err := OpenDir(context.Background(), dir, &DirOptions{SegmentSize: 760, NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	l := &dirFuzzLog{recs: dirRecs(f, 1, 8, 30)}
	for _, b := range [][2]int{{0, 1}, {1, 4}, {4, 6}, {6, 8}} {
		if _, err := s.Append(context.Background(), "p", l.recs[b[0]:b[1]]); err != nil {
			f.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		f.Fatal(err)
	}
	for _, path := range dirSegmentFiles(f, dir, "p") {
		offs, data := dirFrameOffsets(f, path)
		l.names = append(l.names, filepath.Base(path))
		l.segs = append(l.segs, data)
		l.offs = append(l.offs, offs)
	}
	if len(l.segs) != 2 || len(l.offs[0]) != 4 {
		f.Fatalf("want 2 segments of 4 records, got %v", l.offs)
	}
	return l
}

// write lays the segments out in a new store directory.
func (l *dirFuzzLog) write(t *testing.T, segs [][]byte) string {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "p"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, data := range segs {
		if err := os.WriteFile(filepath.Join(dir, "p", l.names[i]), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// lsnAt returns the LSN of the frame that holds byte off of segment seg
// (the first LSN of the segment for its header).
func (l *dirFuzzLog) lsnAt(seg int, off int64) LSN {
	first := LSN(1 + 4*seg)
	lsn := first
	for i, o := range l.offs[seg] {
		if off >= o {
			lsn = first + LSN(i)
		}
	}
	return lsn
}

// checkRecovered opens dir and checks the recovery contract: OpenDir fails
// with ErrCorrupt, or it recovers a prefix of the records, at least the
// records before minKept, and appending then continues.
func (l *dirFuzzLog) checkRecovered(t *testing.T, dir string, minKept LSN) {
	ctx := context.Background()
	s, err := OpenDir(ctx, dir, &DirOptions{SegmentSize: 760, NoSync: true})
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("OpenDir: %v, want an error wrapping ErrCorrupt", err)
		}
		return
	}
	defer s.Close()
	tail, _, err := s.Tail(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	if tail > LSN(len(l.recs)) || tail+1 < minKept {
		t.Fatalf("recovered %d records; the damage starts at lsn %d", tail, minKept)
	}
	got, err := s.Read(ctx, "p", 1, 100)
	if err != nil {
		t.Fatalf("Read after a successful open: %v", err)
	}
	if LSN(len(got)) != tail {
		t.Fatalf("read %d records, tail %d", len(got), tail)
	}
	for i, r := range got {
		if !bytes.Equal(r.Encode(), l.recs[i].Encode()) {
			t.Fatalf("lsn %d is not the record written", r.LSN)
		}
	}
	next := dirRec(t, tail+1, 30)
	if _, err := s.Append(ctx, "p", []Record{next}); err != nil {
		t.Fatalf("append after recovery: %v", err)
	}
	got, err = s.Read(ctx, "p", tail+1, 10)
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].Encode(), next.Encode()) {
		t.Fatalf("read back after recovery: %v %v", got, err)
	}
}

// FuzzDirRecovery flips one byte of one segment and optionally cuts the
// segment short. OpenDir must then fail with ErrCorrupt or recover a prefix
// of the records that loses nothing before the damage; it never panics. A
// single damaged byte is always caught by the CRC, so a successful open can
// only have cut the log at the damaged frame.
func FuzzDirRecovery(f *testing.F) {
	l := newDirFuzzLog(f)
	for seg := range 2 {
		for _, off := range l.offs[seg] {
			for _, d := range []int64{0, 1, 4, 7, 8, 15, 16, 19, 20, 40} {
				f.Add(uint8(seg), uint32(off+d), byte(0xff), uint32(0))
			}
		}
		for _, d := range []uint32{0, 3, 4, 8, 15} {
			f.Add(uint8(seg), d, byte(1), uint32(0))
		}
		f.Add(uint8(seg), uint32(0), byte(0), uint32(len(l.segs[seg])-3))
		f.Add(uint8(seg), uint32(0), byte(0), uint32(segmentHeaderSize))
		f.Add(uint8(seg), uint32(0), byte(0), uint32(5))
	}
	f.Fuzz(func(t *testing.T, seg uint8, pos uint32, xor byte, cut uint32) {
		si := int(seg % 2)
		data := bytes.Clone(l.segs[si])
		damage := int64(len(data)) // first damaged byte
		if cut > 0 && int64(cut) < int64(len(data)) {
			data = data[:cut]
			damage = int64(cut)
		}
		if xor != 0 && len(data) > 0 {
			p := int64(pos) % int64(len(data))
			data[p] ^= xor
			damage = min(damage, p)
		}
		segs := [][]byte{l.segs[0], l.segs[1]}
		segs[si] = data
		minKept := LSN(len(l.recs)) + 1
		if damage < int64(len(l.segs[si])) {
			minKept = l.lsnAt(si, damage)
		}
		l.checkRecovered(t, l.write(t, segs), minKept)
	})
}

// FuzzDirRecoveryRaw replaces the last segment with arbitrary bytes: OpenDir
// fails with ErrCorrupt or opens a log whose records read back without
// error; it never panics.
func FuzzDirRecoveryRaw(f *testing.F) {
	l := newDirFuzzLog(f)
	f.Add(l.segs[1])
	f.Add(l.segs[1][:segmentHeaderSize])
	f.Add(l.segs[1][:len(l.segs[1])-1])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, last []byte) {
		dir := l.write(t, [][]byte{l.segs[0], last})
		s, err := OpenDir(context.Background(), dir, &DirOptions{SegmentSize: 760, NoSync: true})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("OpenDir: %v, want an error wrapping ErrCorrupt", err)
			}
			return
		}
		defer s.Close()
		tail, _, err := s.Tail(context.Background(), "p")
		if err != nil || tail < 4 {
			t.Fatalf("tail %d, %v: the first segment is intact", tail, err)
		}
		got, err := s.Read(context.Background(), "p", 1, 1000)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatal(err)
		}
		for i, r := range got {
			if r.LSN != LSN(i+1) {
				t.Fatalf("record %d has lsn %d", i, r.LSN)
			}
		}
	})
}
