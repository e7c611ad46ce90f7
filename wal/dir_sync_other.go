//go:build !linux

package wal

import "os"

// syncData flushes f to stable storage (fsync; F_FULLFSYNC on darwin).
func syncData(f *os.File) error { return f.Sync() }
