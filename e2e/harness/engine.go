//go:build linux

package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// EngineAddressPool is where the engine's user-defined networks get their
// subnets when none is given. It collides with neither shape of the
// real-node tier (minikube's 192.168.49.0/24, kind's 172.18.0.0/16) nor
// Docker's own defaults (172.17.0.0/16 and up).
const EngineAddressPool = "10.213.0.0/16"

// DefaultBridge is the address of an isolated engine's docker0 (outside
// the pool).
const DefaultBridge = "10.214.0.1/24"

// Engine is a Docker Engine (Debian's docker.io: dockerd 20.10) started by
// the harness with every path under Dir: its data root, exec root, pid
// file and socket, and a containerd of its own on a private socket. It
// adds no iptables rules, and a docker0 bridge only inside a namespace of
// its own. Only this engine is
// ever addressed: every docker command a test runs carries Env.
type Engine struct {
	Dir string
	// Host is the DOCKER_HOST of the engine (unix://Dir/docker.sock).
	Host string
	// CLI is the docker client used against it.
	CLI string
	// NetNS is the network namespace it runs in ("" for the host's).
	NetNS      string
	containerd *Process
	dockerd    *Process
}

var engines atomic.Int64

// EngineOptions says how an engine is started.
type EngineOptions struct {
	// Isolated runs the engine in a network namespace of its own with
	// only a loopback interface: its containers and networks can reach
	// nothing, and nothing it does shows on the host's interfaces. A
	// test whose engine must reach a server on the host's loopback (a
	// registry) leaves it false.
	Isolated bool
	// Runtime, when set, is an OCI runtime executable registered as the
	// default runtime (the wrapper privileged containers need here).
	Runtime string
}

// EngineAvailable reports whether a Docker Engine can be started: root,
// dockerd, a docker client, containerd and runc.
func EngineAvailable() error {
	if os.Geteuid() != 0 {
		return errors.New("the Docker Engine needs root")
	}
	for _, bin := range []string{"dockerd", "containerd", "containerd-shim-runc-v2", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s is not installed (Debian package docker.io): %w", bin, err)
		}
	}
	if _, err := DockerCLI(); err != nil {
		return err
	}
	return nil
}

// DockerCLI is the docker client the tests use: the newest one installed
// (the machine's docker 28 in /usr/local/bin before Debian's 20.10).
func DockerCLI() (string, error) {
	for _, p := range []string{"/usr/local/bin/docker", "/usr/bin/docker"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath("docker")
	if err != nil {
		return "", fmt.Errorf("no docker client is installed (Debian package docker.io): %w", err)
	}
	return p, nil
}

// StartEngine starts containerd and dockerd under dir (which must be
// short: the socket's path is limited to 107 bytes) and waits until the
// engine answers `docker version`.
func StartEngine(ctx context.Context, dir string, o EngineOptions) (*Engine, error) {
	cli, err := DockerCLI()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	e := &Engine{Dir: dir, CLI: cli, Host: "unix://" + filepath.Join(dir, "docker.sock")}
	if len(e.Host) > 107 {
		return nil, fmt.Errorf("engine directory %s is too long for a unix socket", dir)
	}
	for _, d := range []string{"root", "exec", "containerd/root", "containerd/state", "config"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	var wrap []string
	if o.Isolated {
		e.NetNS = fmt.Sprintf("dceng%d-%d", os.Getpid()%100000, engines.Add(1))
		for _, s := range [][]string{{"netns", "add", e.NetNS}, {"-n", e.NetNS, "link", "set", "lo", "up"}} {
			if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
				e.Stop()
				return nil, fmt.Errorf("ip %s: %v: %s", strings.Join(s, " "), err, out)
			}
		}
		wrap = []string{"--net=/run/netns/" + e.NetNS, "--"}
	}
	ctrSock := filepath.Join(dir, "containerd", "containerd.sock")
	cfg := fmt.Sprintf("version = 2\nroot = %q\nstate = %q\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\n[grpc]\n  address = %q\n\n[ttrpc]\n  address = %q\n",
		filepath.Join(dir, "containerd", "root"), filepath.Join(dir, "containerd", "state"), ctrSock, ctrSock+".ttrpc")
	cfgPath := filepath.Join(dir, "containerd", "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	start := func(name, bin string, args ...string) (*Process, error) {
		if wrap == nil {
			return startProcess(dir, name, bin, args, nil)
		}
		return startProcess(dir, name, "nsenter", append(append(append([]string(nil), wrap...), bin), args...), nil)
	}
	if e.containerd, err = start("containerd", "containerd", "--config", cfgPath); err != nil {
		e.Stop()
		return nil, err
	}
	if err := waitFor(ctx, "the engine's containerd socket", e.containerd, func() error { _, err := os.Stat(ctrSock); return err }); err != nil {
		e.Stop()
		return nil, err
	}
	args := []string{
		"--data-root", filepath.Join(dir, "root"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"), "-H", e.Host, "--containerd", ctrSock,
		"--iptables=false", "--ip-masq=false",
		"--default-address-pool", "base=" + EngineAddressPool + ",size=24",
		"--config-file", filepath.Join(dir, "daemon.json"),
	}
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o600); err != nil {
		e.Stop()
		return nil, err
	}
	if o.Isolated {
		// A default bridge as every engine has, inside the namespace.
		args = append(args, "--bip", DefaultBridge)
	} else {
		// No docker0 on the host, and the host's forwarding setting is
		// not the engine's to change.
		args = append(args, "--bridge=none", "--ip-forward=false")
	}
	if o.Runtime != "" {
		args = append(args, "--add-runtime", "wrapped="+o.Runtime, "--default-runtime", "wrapped")
	}
	if e.dockerd, err = start("dockerd", "dockerd", args...); err != nil {
		e.Stop()
		return nil, err
	}
	err = waitFor(ctx, "dockerd to answer", e.dockerd, func() error {
		_, err := e.Docker(ctx, "version", "--format", "{{.Server.Version}}")
		return err
	})
	if err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// Env is what a docker client needs to talk to this engine and no other:
// its DOCKER_HOST and a client configuration directory of the test's own.
func (e *Engine) Env() []string {
	return []string{"DOCKER_HOST=" + e.Host, "DOCKER_CONFIG=" + filepath.Join(e.Dir, "config")}
}

// Docker runs the docker client against the engine and returns its
// standard output; a failure carries standard error.
func (e *Engine) Docker(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.CLI, args...)
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + e.Dir}, e.Env()...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// Reset removes every container, user-defined network, volume and image
// the engine holds, so a test starts from an empty daemon.
func (e *Engine) Reset(ctx context.Context) error {
	if ids, err := e.Docker(ctx, "ps", "-aq"); err != nil {
		return err
	} else if ids := strings.Fields(ids); len(ids) > 0 {
		if _, err := e.Docker(ctx, append([]string{"rm", "-f", "-v"}, ids...)...); err != nil {
			return err
		}
	}
	for _, args := range [][]string{{"network", "prune", "-f"}, {"volume", "prune", "-f"}} {
		if _, err := e.Docker(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// Logs returns the tail of dockerd's log.
func (e *Engine) Logs(n int) string {
	if e.dockerd == nil {
		return ""
	}
	return e.dockerd.Tail(n)
}

// Stop removes the engine's containers and networks, stops dockerd and its
// containerd by PID, deletes what networks left on the host (bridges), the
// namespace, every mount under Dir, and Dir.
func (e *Engine) Stop() {
	var bridges []string
	if e.dockerd != nil {
		if exited, _ := e.dockerd.Exited(); !exited {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			_ = e.Reset(ctx)
			if ids, err := e.Docker(ctx, "network", "ls", "-q", "--filter", "driver=bridge"); err == nil {
				for _, id := range strings.Fields(ids) {
					bridges = append(bridges, "br-"+id)
				}
			}
			cancel()
		}
		e.dockerd.Stop(20 * time.Second)
	}
	e.containerd.Stop(10 * time.Second)
	if e.NetNS != "" {
		_ = exec.Command("ip", "netns", "del", e.NetNS).Run()
	} else {
		for _, b := range bridges {
			if len(b) > 15 {
				b = b[:15]
			}
			_ = exec.Command("ip", "link", "del", b).Run()
		}
	}
	_ = exec.Command("sh", "-c", fmt.Sprintf("grep -o ' %s/[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l", e.Dir)).Run()
	_ = os.RemoveAll(e.Dir)
}
