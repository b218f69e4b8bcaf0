package lockfile

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// tryLock takes the exclusive lock of f without waiting; busy says another
// process holds it. Windows releases the lock when the holder's handle is
// closed, which its exit does. The locked byte lies far beyond the holder
// line: a locked range cannot be read by others, and the line must be.
func tryLock(f *os.File) (busy bool, err error) {
	ol := &windows.Overlapped{OffsetHigh: 0x7fffffff}
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return true, nil
	}
	return false, err
}
