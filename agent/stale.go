package agent

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"

	"github.com/devcluster/devcluster/internal/proc"
	"github.com/devcluster/devcluster/internal/text"
)

// stopStale kills a recorded agent that no longer answers, but only if its
// command line shows it is the devcluster agent of exactly this state
// directory: the PID may have been reused by an unrelated process, or by the
// agent of another cluster.
func stopStale(r *record, stateDir string) {
	if r.PID <= 0 {
		return
	}
	args, err := proc.CommandLine(r.PID)
	if err != nil {
		return
	}
	if !isAgentOf(args, stateDir) {
		return
	}
	proc.Terminate(r.PID, stopGrace)
}

// isAgentOf reports whether a command line is `... agent ... --state-dir
// DIR ...` (or --state-dir=DIR) with DIR exactly stateDir.
func isAgentOf(args []string, stateDir string) bool {
	if !slices.Contains(args, "agent") {
		return false
	}
	want := filepath.Clean(stateDir)
	for i, a := range args {
		switch {
		case (a == "--state-dir" || a == "-state-dir") && i+1 < len(args):
			if filepath.Clean(args[i+1]) == want {
				return true
			}
		case strings.HasPrefix(a, "--state-dir="):
			if filepath.Clean(strings.TrimPrefix(a, "--state-dir=")) == want {
				return true
			}
		}
	}
	return false
}

// freeAddresses fails early, with a clear message, when a listen address is
// taken or is not an address of this host.
func freeAddresses(addrs []string) error {
	for _, a := range addrs {
		if strings.HasSuffix(a, ":0") {
			continue
		}
		l, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("the registry cannot listen on %s: %w", a, err)
		}
		_ = l.Close()
	}
	return nil
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// tail is the last n lines of the file at path (of its last 64 KiB),
// each indented, or the error that kept it from being read.
func tail(path string, n int) string {
	lines, err := text.TailFile(path, n, 64<<10)
	if err != nil {
		return err.Error()
	}
	var out strings.Builder
	for _, l := range lines {
		out.WriteString("    " + l + "\n")
	}
	return out.String()
}
