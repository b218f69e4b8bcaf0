//go:build linux

package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RealNode is a worker node that really runs pods: containerd, kubelet and
// kube-proxy inside the node network namespace and a private mount
// namespace (tmpfs /run, /var/lib, /var/log and /etc/containerd bound to the
// node's state directory), with the kubelet's cgroups under their own root.
// It follows shared recipes for running kubelet without a VM: cgroup v1
// allowed, restrict_oom_score_adj for runc without CAP_SYS_RESOURCE.
type RealNode struct {
	Name  string
	Dir   string
	Net   *NodeNetwork
	bins  *NodeBinaries
	procs []*Process
	// holder keeps the mount namespace alive.
	holder     *Process
	cgroupName string
	// Socket is containerd's gRPC socket.
	Socket string
	// EtcContainerd is the node's /etc/containerd (certs.d lives there).
	EtcContainerd string
}

// NodeBinaries are the real node's programs.
type NodeBinaries struct {
	Kubelet, KubeProxy, Containerd, Shim, Ctr string
}

// MountNS is the nsenter flag that enters the node's mount namespace.
func (n *RealNode) MountNS() string { return fmt.Sprintf("--mount=/proc/%d/ns/mnt", n.holder.PID()) }

// ExecPrefix is the command prefix that runs a program "on the node".
func (n *RealNode) ExecPrefix() []string {
	return []string{"nsenter", n.MountNS(), "--net=/run/netns/" + n.Net.Name, "--"}
}

// StartRealNode starts the node's components and registers it with the
// control plane as name. pauseImage is the pinned sandbox image.
func StartRealNode(ctx context.Context, cp *ControlPlane, net *NodeNetwork, bins *NodeBinaries, dir, name, pauseImage string) (n *RealNode, err error) {
	n = &RealNode{Name: name, Dir: dir, Net: net, bins: bins, cgroupName: "devcluster-e2e-" + strconv.Itoa(os.Getpid()),
		Socket: filepath.Join(dir, "containerd.sock"), EtcContainerd: filepath.Join(dir, "etc-containerd")}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, n.Logs(30))
			n.Stop()
		}
	}()
	for _, d := range []string{"var-lib", "var-log", "etc-containerd/certs.d", "containerd-root", "containerd-state", "runc", "cni/net.d", "cni-ipam", "kubelet"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat("/etc/containerd"); err != nil {
		return nil, fmt.Errorf("/etc/containerd must exist as a mount point for the node's: %w", err)
	}
	if err := n.writeConfigs(cp, pauseImage); err != nil {
		return nil, err
	}
	if err := n.makeCgroups(); err != nil {
		return nil, err
	}
	script := fmt.Sprintf("set -e; mount -t tmpfs tmpfs /run; mkdir -p /run/netns; mount --bind %s /var/lib; mount --bind %s /var/log; mount --bind %s /etc/containerd; touch %s; exec sleep 2147483647",
		filepath.Join(dir, "var-lib"), filepath.Join(dir, "var-log"), n.EtcContainerd, filepath.Join(dir, "mounted"))
	n.holder, err = startProcess(dir, "node-mounts", "nsenter",
		[]string{"--net=/run/netns/" + net.Name, "--", "unshare", "-m", "--propagation", "slave", "--", "sh", "-c", script}, nil)
	if err != nil {
		return nil, err
	}
	if err := waitFor(ctx, "the node's mount namespace", n.holder, func() error {
		_, err := os.Stat(filepath.Join(dir, "mounted"))
		return err
	}); err != nil {
		return nil, err
	}
	// The holder is sh exec'd into sleep by unshare's child: find the
	// process that owns the new mount namespace.
	time.Sleep(100 * time.Millisecond)
	if err := n.start("containerd", bins.Containerd, "--config", filepath.Join(dir, "containerd.toml")); err != nil {
		return nil, err
	}
	if err := waitFor(ctx, "containerd", n.procs[len(n.procs)-1], func() error {
		out, err := exec.CommandContext(ctx, bins.Ctr, "--address", n.Socket, "version").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := n.start("kubelet", bins.Kubelet, "--config", filepath.Join(dir, "kubelet.yaml"),
		"--kubeconfig", filepath.Join(dir, "node.kubeconfig"), "--root-dir", filepath.Join(dir, "kubelet"),
		"--hostname-override", name, "--node-ip", net.NodeIP, "-v", "1"); err != nil {
		return nil, err
	}
	if err := n.start("kube-proxy", bins.KubeProxy, "--kubeconfig", filepath.Join(dir, "node.kubeconfig"),
		"--proxy-mode", "iptables", "--cluster-cidr", "10.244.0.0/16", "--hostname-override", name,
		"--metrics-bind-address", "127.0.0.1:10249", "--healthz-bind-address", "127.0.0.1:10256",
		"--conntrack-max-per-core", "0", "--conntrack-tcp-timeout-established", "0", "--conntrack-tcp-timeout-close-wait", "0"); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *RealNode) start(name, bin string, args ...string) error {
	full := append([]string{n.MountNS(), "--net=/run/netns/" + n.Net.Name, "--", bin}, args...)
	p, err := startProcess(n.Dir, name, "nsenter", full, []string{"PATH=" + filepath.Dir(n.bins.Shim) + ":/usr/sbin:/usr/bin:/sbin:/bin"})
	if err != nil {
		return err
	}
	n.procs = append(n.procs, p)
	return nil
}

func (n *RealNode) writeConfigs(cp *ControlPlane, pauseImage string) error {
	d := n.Dir
	files := map[string]string{
		"containerd.toml": fmt.Sprintf(`version = 3
root = %q
state = %q

[grpc]
  address = %q

[ttrpc]
  address = %q

[plugins.'io.containerd.nri.v1.nri']
  disable = true

[plugins.'io.containerd.cri.v1.images']
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = %q
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = '/etc/containerd/certs.d'

[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ['/usr/lib/cni']
    conf_dir = %q
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
    SystemdCgroup = false
    Root = %q
`, filepath.Join(d, "containerd-root"), filepath.Join(d, "containerd-state"), n.Socket, n.Socket+".ttrpc",
			pauseImage, filepath.Join(d, "cni/net.d"), filepath.Join(d, "runc")),
		"cni/net.d/10-devcluster-e2e.conflist": fmt.Sprintf(`{"cniVersion": "1.0.0", "name": "devcluster-e2e", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": %q}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
`, filepath.Join(d, "cni-ipam")),
		"kubelet.yaml": fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
cgroupRoot: /%s
containerRuntimeEndpoint: unix://%s
imageServiceEndpoint: unix://%s
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
resolvConf: %s
clusterDomain: cluster.local
serializeImagePulls: false
localStorageCapacityIsolation: false
evictionHard: {memory.available: "1Mi", nodefs.available: "1%%", imagefs.available: "1%%", nodefs.inodesFree: "1%%"}
`, n.cgroupName, n.Socket, n.Socket, filepath.Join(d, "resolv.conf")),
		"resolv.conf": "nameserver 127.0.0.1\n",
		"node.kubeconfig": fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: %s, insecure-skip-tls-verify: true}
users:
- name: node
  user: {token: %s}
contexts:
- name: e2e
  context: {cluster: e2e, user: node}
current-context: e2e
`, cp.URL, cp.Token),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// makeCgroups creates the kubelet's cgroup root in every cgroup v1
// hierarchy (cpuset needs its cpus and mems copied from the parent).
func (n *RealNode) makeCgroups() error {
	if cgroupV2() {
		// One unified hierarchy: the root is a child of the top cgroup with
		// the controllers the kubelet needs delegated to it.
		dir := filepath.Join("/sys/fs/cgroup", n.cgroupName)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		_ = os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+cpu +cpuset +memory +pids +io"), 0o644)
		return nil
	}
	entries, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || e.Type()&os.ModeSymlink != 0 {
			continue
		}
		dir := filepath.Join("/sys/fs/cgroup", e.Name(), n.cgroupName)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			continue
		}
		if e.Name() == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				b, _ := os.ReadFile(filepath.Join("/sys/fs/cgroup/cpuset", f))
				_ = os.WriteFile(filepath.Join(dir, f), b, 0o644)
			}
		}
	}
	return nil
}

// RunningTasks counts the containers (sandboxes included) running on the
// node, as containerd's k8s.io namespace lists them.
func (n *RealNode) RunningTasks(ctx context.Context) (int, error) {
	out, err := exec.CommandContext(ctx, n.bins.Ctr, "--address", n.Socket, "-n", "k8s.io", "tasks", "ls").CombinedOutput()
	if err != nil {
		return -1, fmt.Errorf("%v: %s", err, out)
	}
	count := 0
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n")[1:] {
		if strings.Contains(l, "RUNNING") {
			count++
		}
	}
	return count, nil
}

// Logs returns the tail of every node component's log.
func (n *RealNode) Logs(lines int) string {
	var b strings.Builder
	for _, p := range append([]*Process{n.holder}, n.procs...) {
		if p != nil {
			fmt.Fprintf(&b, "----- %s -----\n%s\n", p.Name, p.Tail(lines))
		}
	}
	return b.String()
}

// Stop tears the node down so nothing is left: components by PID, every
// process in the node's cgroups (containers) and mount namespace (shims),
// the mount holder, then the cgroup tree depth first. The network namespace
// is the caller's.
func (n *RealNode) Stop() {
	for i := len(n.procs) - 1; i >= 0; i-- {
		n.procs[i].Stop(10 * time.Second)
	}
	for range 3 {
		for _, pid := range n.cgroupPIDs() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if n.holder != nil {
			for _, pid := range n.mountNSPIDs() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n.holder != nil {
		n.holder.Stop(5 * time.Second)
	}
	n.removeCgroups()
}

func (n *RealNode) cgroupPIDs() []int {
	var pids []int
	_ = filepath.Walk("/sys/fs/cgroup", func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if info.IsDir() && info.Name() == "cgroup.procs" {
			return nil
		}
		if !info.IsDir() && info.Name() == "cgroup.procs" && strings.Contains(path, "/"+n.cgroupName+"/") {
			b, _ := os.ReadFile(path)
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					pids = append(pids, pid)
				}
			}
		}
		return nil
	})
	return pids
}

// mountNSPIDs are processes in the node's mount namespace other than the
// holder itself.
func (n *RealNode) mountNSPIDs() []int {
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", n.holder.PID()))
	if err != nil {
		return nil
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == n.holder.PID() {
			continue
		}
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid)); err == nil && ns == want {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (n *RealNode) removeCgroups() {
	roots := []string{filepath.Join("/sys/fs/cgroup", n.cgroupName)}
	if !cgroupV2() {
		roots = nil
		entries, _ := os.ReadDir("/sys/fs/cgroup")
		for _, e := range entries {
			roots = append(roots, filepath.Join("/sys/fs/cgroup", e.Name(), n.cgroupName))
		}
	}
	for _, root := range roots {
		var dirs []string
		_ = filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
			if err == nil && info.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			_ = os.Remove(dirs[i])
		}
	}
}

// cgroupV2 reports whether /sys/fs/cgroup is the unified hierarchy.
func cgroupV2() bool {
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	return err == nil
}
