//go:build unix

package agent

import (
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A record left by a crashed agent whose PID now belongs to another
// cluster's agent must not get that agent killed.
func TestStopStaleSparesAnotherClustersAgent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	other := filepath.Join(dir, "state", "other")
	// A process whose command line reads like the other cluster's agent
	// ("; true" keeps the shell from exec'ing sleep and losing its words).
	cmd := exec.Command("/bin/sh", "-c", "sleep 30; true", "agent", "--state-dir", other)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()

	stopStale(&record{PID: cmd.Process.Pid}, filepath.Join(dir, "state", "mine"))
	select {
	case <-exited:
		t.Fatal("the other cluster's agent was stopped")
	case <-time.After(300 * time.Millisecond):
	}
	// Its own state directory: stopped.
	stopStale(&record{PID: cmd.Process.Pid}, other)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		t.Fatal("the agent of the state directory was not stopped")
	}
}
