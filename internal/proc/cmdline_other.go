//go:build unix && !linux && !darwin

package proc

import "errors"

// CommandLine is not read on this system: callers that need it to
// recognise a process leave the process alone.
func CommandLine(pid int) ([]string, error) { return nil, errors.ErrUnsupported }
