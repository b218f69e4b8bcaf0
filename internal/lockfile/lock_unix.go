//go:build unix

package lockfile

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes the exclusive lock of f without waiting; busy says another
// process holds it.
func tryLock(f *os.File) (busy bool, err error) {
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}
