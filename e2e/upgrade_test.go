//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/devcluster/devcluster/bootstrap"
)

// TestUpgradeReplacesTheAgent: `up` reuses the agent of the same devcluster
// build, and after an upgrade (another release of devcluster) replaces it
// with one of the new build instead of reusing the old one.
func TestUpgradeReplacesTheAgent(t *testing.T) {
	upgraded := linkedDevcluster(t, "github.com/devcluster/devcluster/cmd/devcluster/app.Version=v9.9.9-e2e")
	u := newUser(t)
	const cluster = "e2e-upgrade"
	args := []string{"--name", cluster, "--registry-port", freePort(t), "--no-lb", "--no-samples"}
	defer u.exec(upgraded, "down", "--name", cluster, "--purge")
	first := u.upJSON(args...)
	if first.Registry == nil || first.Registry.Agent == nil || !strings.HasPrefix(first.Registry.Agent.Version, "dev+") {
		t.Fatalf("first up: registry %+v", first.Registry)
	}
	old := first.Registry.Agent
	if again := u.upJSON(args...); again.Registry.Agent.PID != old.PID || again.Registry.Agent.Action != "reused" {
		t.Errorf("the same build: agent %+v, want pid %d reused", again.Registry.Agent, old.PID)
	}
	r := u.exec(upgraded, append([]string{"up", "-o", "json"}, args...)...)
	var res bootstrap.Result
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Registry == nil || res.Registry.Agent == nil {
		t.Fatalf("up of the upgraded build: exit %d\n%s", r.code, r.stdout)
	}
	now := res.Registry.Agent
	if now.Action != "replaced" || now.PID == old.PID || !strings.HasPrefix(now.Version, "v9.9.9-e2e+") ||
		!strings.Contains(now.Detail, old.Version) || !strings.Contains(now.Detail, now.Version) {
		t.Fatalf("after the upgrade the agent is %+v; before it was pid %d, %s", now, old.PID, old.Version)
	}
	if err := syscall.Kill(old.PID, 0); err == nil {
		t.Errorf("the old agent (pid %d) still runs", old.PID)
	}
	if exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(now.PID), "exe")); err != nil || exe != upgraded {
		t.Errorf("the agent runs %s (%v), want the upgraded %s", exe, err, upgraded)
	}
	st := u.exec(upgraded, "status", "--name", cluster, "-o", "json")
	var status bootstrap.Result
	if err := json.Unmarshal([]byte(st.stdout), &status); err != nil || status.Registry == nil || status.Registry.Agent == nil ||
		status.Registry.Agent.Version != now.Version {
		t.Errorf("status: %v\n%s", err, st.stdout)
	}
}
