package proc

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// Exists reports whether a process with this PID is running (one of
// another user's included: opening it is then refused, not unknown).
func Exists(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return errors.Is(err, windows.ERROR_ACCESS_DENIED)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if windows.GetExitCodeProcess(h, &code) != nil {
		return true
	}
	const stillActive = 259 // STILL_ACTIVE
	return code == stillActive
}

func askToStop(p *os.Process) error { return p.Kill() }

// CommandLine is not read on Windows (another process's arguments are in
// its memory only): callers that need it to recognise a process leave the
// process alone.
func CommandLine(pid int) ([]string, error) { return nil, errors.ErrUnsupported }
