// Package porthold names the process that listens on a TCP port of this
// host, for error messages and events that say who holds a port.
package porthold

import (
	"strings"

	"github.com/devcluster/devcluster/internal/ui"
)

// Holder names the process listening on a TCP port on loopback or on
// every address, as "PID 123 (nginx)"; "" when it cannot be found (another
// user's process, another network namespace, or a system where devcluster
// cannot look).
func Holder(port int) string { return holder(port) }

// cleanName keeps a process name printable: it ends up in messages and
// events.
func cleanName(s string) string { return ui.Clean(strings.TrimSpace(s)) }
