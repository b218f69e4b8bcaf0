package agent

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A stale record is only acted on when the process is the agent of exactly
// this state directory: the agent of another cluster also has "agent" and
// "--state-dir" in its command line.
func TestIsAgentOfComparesTheExactStateDirectory(t *testing.T) {
	t.Parallel()
	mine := "/home/u/.local/state/devcluster/dev"
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"devcluster", "agent", "--name", "dev", "--state-dir", mine}, true},
		{[]string{"devcluster", "--verbose", "agent", "--state-dir=" + mine + "/"}, true},
		{[]string{"devcluster", "agent", "--name", "dev2", "--state-dir", mine + "2"}, false},
		{[]string{"devcluster", "agent", "--name", "other", "--state-dir", "/home/u/.local/state/devcluster/other"}, false},
		{[]string{"devcluster", "up", "--state-dir", mine}, false},
		{[]string{"vim", "agent", "--state-dir"}, false},
		{[]string{"sleep", "100"}, false},
	} {
		if got := isAgentOf(tc.args, mine); got != tc.want {
			t.Errorf("isAgentOf(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestAgentLockSerialisesStartAndStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := lockAgent(context.Background(), dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := lockAgent(ctx, dir, "second"); err == nil {
		t.Fatal("a second start took the lock while the first held it")
	}
	_ = l.Close()
	l2, err := lockAgent(context.Background(), dir, "second")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	_ = l2.Close()
}

// Global flags go before the command: `devcluster agent --verbose` is
// refused by the agent command, so a verbose `up` could never start one.
func TestVerboseGoesBeforeTheAgentCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := &Process{Executable: "/bin/sh", Args: []string{"-c", `echo "ARGS: $*"; exit 3`, "devcluster"}}
	_, err := p.Ensure(context.Background(), Spec{Name: "dev", StateDir: dir, Listen: []string{"127.0.0.1:0"}, Verbose: true})
	if err == nil {
		t.Fatal("Ensure succeeded with an executable that exits")
	}
	if !strings.Contains(err.Error(), "ARGS: --verbose agent --name dev --state-dir "+dir) {
		t.Errorf("agent started as:\n%v", err)
	}
}
