package wal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Checkpoints of the embedded store, one file each (framing in
// checkpoint.go):
//
//	<dir>/<project>/checkpoints/00000000000000004711.ckpt  checkpoint as of LSN 4711
//	<dir>/<project>/checkpoints/*.tmp                      being written (or left by a crash)
//
// A checkpoint is written to a temporary file, fsynced, renamed to its
// final name, and the directory fsynced: the rename is the commit point, so
// a crash leaves either the whole checkpoint or a temporary file that the
// next PutCheckpoint removes. Part of the format.
const (
	dirCkptDir = "checkpoints"
	dirCkptExt = ".ckpt"
	dirTmpExt  = ".tmp"
)

// dirCkpts tracks the temporary files of puts in flight, so pruning
// removes only those left by a crash.
type dirCkpts struct {
	mu       sync.Mutex
	inFlight map[string]bool
}

func (s *DirStore) ckptDir(project string) string {
	return filepath.Join(s.dir, project, dirCkptDir)
}

func ckptFileName(lsn LSN) string {
	return fmt.Sprintf("%0*d%s", segmentNameDigits, uint64(lsn), dirCkptExt)
}

func parseCkptFileName(name string) (LSN, bool) {
	digits, ok := strings.CutSuffix(name, dirCkptExt)
	if !ok || len(digits) != segmentNameDigits || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return LSN(n), err == nil
}

// PutCheckpoint implements Checkpointer. The content streams to a
// temporary file; the checkpoint is durable (unless DirOptions.NoSync)
// when PutCheckpoint returns.
func (s *DirStore) PutCheckpoint(ctx context.Context, project string, lsn LSN, write func(io.Writer) error) (err error) {
	if err := ValidateProjectName(project); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	p := s.project(project, false)
	var tail LSN
	if p != nil {
		p.mu.RLock()
		tail = p.tail
		p.mu.RUnlock()
	}
	if lsn == 0 || lsn > tail {
		return fmt.Errorf("wal: checkpoint of project %q at lsn %d: the log's tail is %d", project, lsn, tail)
	}
	sync := !s.opts.NoSync
	cdir := s.ckptDir(project)
	if _, err := os.Stat(cdir); errors.Is(err, os.ErrNotExist) {
		if err := os.Mkdir(cdir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("wal: checkpoint: %w", err)
		}
		if sync {
			if err := syncDir(filepath.Dir(cdir)); err != nil {
				return fmt.Errorf("wal: checkpoint: %w", err)
			}
		}
	}
	final := ckptFileName(lsn)
	// Create and register the temporary file under one lock: a concurrent
	// prune that lists it checks it only after it is registered.
	s.ckpt.mu.Lock()
	f, err := os.CreateTemp(cdir, final+".*"+dirTmpExt)
	if err != nil {
		s.ckpt.mu.Unlock()
		return fmt.Errorf("wal: checkpoint: %w", err)
	}
	tmp := f.Name()
	if s.ckpt.inFlight == nil {
		s.ckpt.inFlight = make(map[string]bool)
	}
	s.ckpt.inFlight[tmp] = true
	s.ckpt.mu.Unlock()
	defer func() {
		s.ckpt.mu.Lock()
		delete(s.ckpt.inFlight, tmp)
		s.ckpt.mu.Unlock()
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(&ctxWriter{ctx: ctx, w: f}, 1<<20)
	if err := writeCheckpoint(bw, lsn, write); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("wal: checkpoint: %w", err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("wal: checkpoint: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("wal: checkpoint: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(cdir, final)); err != nil {
		return fmt.Errorf("wal: checkpoint: %w", err)
	}
	if sync {
		if err := syncDir(cdir); err != nil {
			return fmt.Errorf("wal: checkpoint: %w", err)
		}
	}
	s.pruneCheckpoints(cdir)
	return nil
}

// ctxWriter fails writes once ctx ends, so a canceled put stops early.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (w *ctxWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.w.Write(p)
}

// pruneCheckpoints removes all but the newest KeepCheckpoints checkpoints
// and temporary files no put is writing. It is best effort: leftovers only
// take space.
func (s *DirStore) pruneCheckpoints(cdir string) {
	entries, err := os.ReadDir(cdir)
	if err != nil {
		return
	}
	var lsns []LSN
	for _, e := range entries {
		name := e.Name()
		if lsn, ok := parseCkptFileName(name); ok {
			lsns = append(lsns, lsn)
			continue
		}
		if strings.HasSuffix(name, dirTmpExt) {
			path := filepath.Join(cdir, name)
			s.ckpt.mu.Lock()
			busy := s.ckpt.inFlight[path]
			s.ckpt.mu.Unlock()
			if !busy {
				os.Remove(path)
			}
		}
	}
	slices.SortFunc(lsns, func(a, b LSN) int { return cmpLSN(b, a) })
	for _, lsn := range lsns[min(len(lsns), KeepCheckpoints):] {
		os.Remove(filepath.Join(cdir, ckptFileName(lsn)))
	}
}

// Checkpoints implements Checkpointer.
func (s *DirStore) Checkpoints(ctx context.Context, project string) ([]LSN, error) {
	if err := ValidateProjectName(project); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	entries, err := os.ReadDir(s.ckptDir(project))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("wal: checkpoints: %w", err)
	}
	var out []LSN
	for _, e := range entries {
		if lsn, ok := parseCkptFileName(e.Name()); ok && e.Type().IsRegular() {
			out = append(out, lsn)
		}
	}
	slices.SortFunc(out, func(a, b LSN) int { return cmpLSN(b, a) })
	return out, nil
}

// OpenCheckpoint implements Checkpointer. The reader holds the file open,
// not the store: close it, but it does not delay Close.
func (s *DirStore) OpenCheckpoint(ctx context.Context, project string, lsn LSN) (io.ReadCloser, error) {
	if err := ValidateProjectName(project); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	path := filepath.Join(s.ckptDir(project), ckptFileName(lsn))
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrCheckpointNotFound, path)
	}
	if err != nil {
		return nil, fmt.Errorf("wal: checkpoint: %w", err)
	}
	return newCkptReader(f, f, lsn, path), nil
}
