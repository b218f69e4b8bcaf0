package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The start-up error quotes the last lines of the agent's log, indented,
// or says why the log could not be read.
func TestTailOfLog(t *testing.T) {
	log := filepath.Join(t.TempDir(), "agent.log")
	if err := os.WriteFile(log, []byte("one\ntwo\nthree\nfour\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := tail(log, 2), "    three\n    four\n"; got != want {
		t.Errorf("tail = %q, want %q", got, want)
	}
	if got := tail(log, 15); got != "    one\n    two\n    three\n    four\n" {
		t.Errorf("tail of a short log = %q, want all of it", got)
	}
	if got := tail(filepath.Join(t.TempDir(), "missing.log"), 3); !strings.Contains(got, "no such file") {
		t.Errorf("tail of a missing log = %q, want the read error", got)
	}
}
