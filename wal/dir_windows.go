package wal

import (
	"os"
	"syscall"
	"unsafe"
)

// lockFile takes an exclusive, non-blocking LockFileEx lock on the first
// byte of f. It reports locked=true when another handle holds it. The lock
// goes away when f is closed.
func lockFile(f *os.File) (locked bool, err error) {
	const (
		lockfileFailImmediately = 0x1
		lockfileExclusiveLock   = 0x2
		errorLockViolation      = syscall.Errno(33)
	)
	proc := syscall.NewLazyDLL("kernel32.dll").NewProc("LockFileEx")
	if err := proc.Find(); err != nil {
		return false, err
	}
	ol := new(syscall.Overlapped)
	r1, _, e1 := proc.Call(f.Fd(), lockfileExclusiveLock|lockfileFailImmediately, 0, 1, 0, uintptr(unsafe.Pointer(ol)))
	if r1 != 0 {
		return false, nil
	}
	if e1 == errorLockViolation {
		return true, nil
	}
	return false, &os.PathError{Op: "LockFileEx", Path: f.Name(), Err: e1}
}

// syncDir is a no-op: Windows cannot flush a directory handle, and NTFS
// journals directory entries.
func syncDir(string) error { return nil }
