// Package proc finds and stops processes by PID on every platform devcluster
// ships for: signals on Unix, process handles on Windows.
package proc

import (
	"os"
	"time"
)

// Terminate asks process pid to stop (SIGTERM on Unix; Windows has no such
// request between processes, so there it is ended at once), waits up to
// grace for it to exit, then kills it. A process that is gone already is
// not an error.
func Terminate(pid int, grace time.Duration) {
	p, err := os.FindProcess(pid)
	if err != nil {
		return
	}
	if askToStop(p) != nil {
		return
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !Exists(pid) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = p.Kill()
}
