//go:build linux

package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KillAgents kills every devcluster agent whose state lives under home (a
// test may end before its `down`). An agent is identified by its state
// directory on its command line, so a recycled PID is never signalled.
func KillAgents(home string) {
	records, _ := filepath.Glob(filepath.Join(home, ".local", "state", "devcluster", "*", "agent.json"))
	for _, rec := range records {
		b, err := os.ReadFile(rec)
		if err != nil {
			continue
		}
		var r struct{ PID int }
		if json.Unmarshal(b, &r) != nil || r.PID <= 0 {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", r.PID))
		if err != nil || !strings.Contains(string(cmdline), filepath.Dir(rec)) {
			continue
		}
		if p, err := os.FindProcess(r.PID); err == nil {
			_ = p.Kill()
		}
	}
}
