package proc

import (
	"fmt"
	"os"
)

// CommandLine is the arguments process pid was started with.
func CommandLine(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil, err
	}
	return splitNull(b), nil
}
