//go:build linux

package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Containerd is a containerd daemon on a private socket, with its own root,
// state and certs.d folder, pulling the way a minikube or kind node does.
type Containerd struct {
	Dir string
	// Socket is the gRPC address for ctr --address.
	Socket string
	// CertsDir is the registry config_path: <host:port>/hosts.toml files.
	CertsDir string
	proc     *Process
}

// ContainerdAvailable reports whether containerd and ctr are installed and
// the process runs as root (containerd needs it for its mounts).
func ContainerdAvailable() error {
	for _, bin := range []string{"containerd", "ctr"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s is not installed (Debian package containerd): %w", bin, err)
		}
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("containerd needs root")
	}
	return nil
}

// StartContainerd starts containerd with every path under dir.
func StartContainerd(ctx context.Context, dir string) (*Containerd, error) {
	c := &Containerd{Dir: dir, Socket: filepath.Join(dir, "containerd.sock"), CertsDir: filepath.Join(dir, "certs.d")}
	for _, d := range []string{"root", "state", "certs.d"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	// containerd 1.6 (config version 2). The CRI plugin reads registry
	// hosts from config_path exactly as minikube's and kind's nodes do.
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.Socket, c.Socket+".ttrpc", c.CertsDir)
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	p, err := startProcess(dir, "containerd", "containerd", []string{"--config", cfgPath, "--log-level", "info"}, nil)
	if err != nil {
		return nil, err
	}
	c.proc = p
	err = waitFor(ctx, "containerd to answer", p, func() error {
		out, err := exec.CommandContext(ctx, "ctr", "--address", c.Socket, "version").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	if err != nil {
		p.Stop(5 * time.Second)
		return nil, err
	}
	return c, nil
}

// Ctr runs ctr against this containerd and returns its combined output.
func (c *Containerd) Ctr(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "ctr", append([]string{"--address", c.Socket}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ctr %v: %w\n%s", args, err, out)
	}
	return string(out), nil
}

// WriteHostsTOML writes certs.d/<host>/hosts.toml sending pulls for host to
// the plain-HTTP server at url, the file devcluster writes on nodes.
func (c *Containerd) WriteHostsTOML(host, url string) error {
	dir := filepath.Join(c.CertsDir, host)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	toml := fmt.Sprintf("server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", url, url)
	return os.WriteFile(filepath.Join(dir, "hosts.toml"), []byte(toml), 0o644)
}

// Logs returns the tail of containerd's log.
func (c *Containerd) Logs(n int) string { return c.proc.Tail(n) }

// Stop stops containerd and removes its state.
func (c *Containerd) Stop() {
	c.proc.Stop(10 * time.Second)
	// Snapshots may leave mounts under root; unmount before removing.
	_ = exec.Command("sh", "-c", fmt.Sprintf("grep -o ' %s[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l", filepath.Join(c.Dir, "root"))).Run()
	_ = os.RemoveAll(c.Dir)
}
