//go:build unix

package proc

import (
	"errors"
	"os"
	"syscall"
)

// Exists reports whether a process with this PID exists (one of another
// user's included).
func Exists(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func askToStop(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
