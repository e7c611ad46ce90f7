//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package wal

import (
	"fmt"
	"os"
	"runtime"
)

// lockFile fails: the embedded store needs an exclusive file lock to keep two
// processes from writing one log, and this port does not have one yet.
func lockFile(f *os.File) (locked bool, err error) {
	return false, fmt.Errorf("wal: the embedded directory store cannot lock files on %s", runtime.GOOS)
}

// syncDir fsyncs a directory.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
