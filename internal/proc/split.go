//go:build linux || darwin

package proc

import (
	"encoding/binary"
	"errors"
)

// splitNull splits NUL-ended strings.
func splitNull(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return out
}

// parseProcArgs2 reads darwin's KERN_PROCARGS2: argc, the executable's
// path, padding, then the arguments, each ended by a NUL.
func parseProcArgs2(b []byte) ([]string, error) {
	if len(b) < 4 {
		return nil, errors.New("short KERN_PROCARGS2")
	}
	argc := int(binary.LittleEndian.Uint32(b))
	rest := b[4:]
	// The executable's path, then NULs up to the first argument.
	i := 0
	for i < len(rest) && rest[i] != 0 {
		i++
	}
	for i < len(rest) && rest[i] == 0 {
		i++
	}
	args := splitNull(rest[i:])
	if len(args) < argc {
		return nil, errors.New("truncated KERN_PROCARGS2")
	}
	return args[:argc], nil
}
