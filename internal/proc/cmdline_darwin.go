package proc

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// CommandLine is the arguments process pid was started with, from the
// kernel's KERN_PROCARGS2: argc, the executable's path, padding, then the
// arguments, each ended by a NUL.
func CommandLine(pid int) ([]string, error) {
	b, err := unix.SysctlRaw("kern.procargs2", pid)
	if err != nil {
		return nil, fmt.Errorf("reading the arguments of pid %d: %w", pid, err)
	}
	return parseProcArgs2(b)
}
