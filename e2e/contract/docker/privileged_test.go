//go:build contract

package dockercontract

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devcluster/devcluster/e2e/harness"
)

// The first step towards real kind nodes on this engine: where the
// machine's bounding set lacks CAP_SYS_RESOURCE, a privileged container
// (which a kind node is) starts under the runtime wrapper with every other
// capability, and `docker exec` in it works too (the wrapper strips the
// capability from runc exec's --process file as well).
func TestPrivilegedContainerUnderTheRuntimeWrapper(t *testing.T) {
	lacks, err := harness.LacksSysResource()
	if err != nil {
		t.Fatal(err)
	}
	if !lacks {
		t.Skip("this machine's bounding set has CAP_SYS_RESOURCE: privileged containers need no wrapper")
	}
	ctx := context.Background()
	// Without it the engine refuses, as the contract's engine does.
	if _, err := engine.Docker(ctx, "run", "--rm", "--privileged", "--network", "none", nodeImage, "true"); err == nil || !strings.Contains(err.Error(), "unable to apply caps") {
		t.Fatalf("a privileged container without the wrapper: %v", err)
	}
	dir := filepath.Join(work, "w")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper, err := harness.WriteRuntimeWrapper(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := harness.StartEngine(ctx, filepath.Join(dir, "e"), harness.EngineOptions{Isolated: true, Runtime: wrapper})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	if _, err := e.Docker(ctx, "load", "-i", filepath.Join(work, "node-image.tar")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Docker(ctx, "run", "--detach", "--privileged", "--name", "priv", "--tmpfs", "/run", "--tmpfs", "/tmp", nodeImage); err != nil {
		t.Fatalf("a privileged container under the wrapper: %v\n%s", err, e.Logs(20))
	}
	if st, err := e.Docker(ctx, "inspect", "-f", "{{.State.Status}} {{.HostConfig.Privileged}}", "priv"); err != nil || strings.TrimSpace(st) != "running true" {
		t.Fatalf("state %q, %v", st, err)
	}
	out, err := e.Docker(ctx, "exec", "priv", "grep", "^CapEff:", "/proc/self/status")
	if err != nil {
		t.Fatalf("docker exec in the privileged container: %v", err)
	}
	eff, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "CapEff:")), 16, 64)
	if err != nil {
		t.Fatalf("CapEff %q: %v", out, err)
	}
	// Every capability of the machine's bounding set but SYS_RESOURCE:
	// SYS_ADMIN (21), NET_ADMIN (12) and AUDIT_READ (37).
	for _, bit := range []uint{12, 21, 37} {
		if eff&(1<<bit) == 0 {
			t.Errorf("CapEff %x lacks capability %d", eff, bit)
		}
	}
	if eff&(1<<24) != 0 {
		t.Errorf("CapEff %x has CAP_SYS_RESOURCE", eff)
	}
	t.Logf("privileged container under the wrapper: running, docker exec works, CapEff %016x", eff)
}

// The next step: systemd boots as PID 1 in a privileged container of a
// debootstrap root filesystem, run with the flags kind gives its nodes,
// under the wrapper: `systemctl is-system-running` answers running.
func TestSystemdBootsInAPrivilegedContainer(t *testing.T) {
	lacks, err := harness.LacksSysResource()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rootfs, err := harness.EnsureSystemdRootfs(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "s")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := harness.EngineOptions{Isolated: true}
	if lacks {
		if opts.Runtime, err = harness.WriteRuntimeWrapper(dir); err != nil {
			t.Fatal(err)
		}
	}
	e, err := harness.StartEngine(ctx, filepath.Join(dir, "e"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	if _, err := e.Docker(ctx, "import", "--change", `CMD ["/sbin/init"]`, "--change", "ENV container=docker", rootfs, "e2e/systemd:bookworm"); err != nil {
		t.Fatal(err)
	}
	// kind's node flags that matter to systemd.
	if _, err := e.Docker(ctx, "run", "--detach", "--name", "node", "--privileged", "--security-opt", "seccomp=unconfined",
		"--tmpfs", "/tmp", "--tmpfs", "/run", "--tmpfs", "/run/lock", "--volume", "/var", "--cgroupns=host",
		"-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--network", "none", "e2e/systemd:bookworm"); err != nil {
		t.Fatalf("%v\n%s", err, e.Logs(20))
	}
	// systemd's bus appears once it has started: ask until it answers
	// with the system's state (at most 90 s).
	var state string
	deadline := time.Now().Add(90 * time.Second)
	for {
		state, err = e.Docker(ctx, "exec", "node", "systemctl", "is-system-running")
		state = strings.TrimSpace(state)
		if state != "" && state != "initializing" && state != "starting" || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if state != "running" {
		failed, _ := e.Docker(ctx, "exec", "node", "systemctl", "--failed", "--no-legend")
		logs, _ := e.Docker(ctx, "logs", "--tail", "30", "node")
		t.Fatalf("systemctl is-system-running: %q (%v); failed units:\n%s\nlog:\n%s", state, err, failed, logs)
	}
	pid1, err := e.Docker(ctx, "exec", "node", "cat", "/proc/1/comm")
	if err != nil || strings.TrimSpace(pid1) != "systemd" {
		t.Errorf("PID 1 is %q (%v)", pid1, err)
	}
	t.Logf("systemd runs as PID 1 in a privileged container on the real engine: %s", strings.TrimSpace(state))
}
