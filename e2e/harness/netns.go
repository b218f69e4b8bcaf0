//go:build linux

package harness

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
)

// NodeNetwork is a network namespace shaped like minikube's docker network:
// the "node" side at NodeIP inside the namespace, the host side at HostIP
// on this host. Nothing leaves the namespace: it has no default route.
type NodeNetwork struct {
	Name   string // namespace name (/run/netns/<Name>)
	HostIP string
	NodeIP string
	veth   string
}

// CreateNodeNetwork creates the namespace and a veth pair. It needs root and
// iproute2. hostCIDR and nodeCIDR are e.g. 192.168.49.1/24 and
// 192.168.49.2/24.
func CreateNodeNetwork(name, hostCIDR, nodeCIDR string) (*NodeNetwork, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("creating a network namespace needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("iproute2 (ip) is not installed: %w", err)
	}
	n := &NodeNetwork{Name: name, veth: shortName(name), HostIP: strings.SplitN(hostCIDR, "/", 2)[0], NodeIP: strings.SplitN(nodeCIDR, "/", 2)[0]}
	if dev := interfaceWith(n.HostIP); dev != "" {
		// Left by a run that was killed: the node would reach that
		// interface instead of this run's, and every test would fail
		// far from the cause.
		return nil, fmt.Errorf("%s is already on interface %s (a network namespace left by an earlier run? `ip netns list`, then `ip netns del` it)", n.HostIP, dev)
	}
	steps := [][]string{
		{"netns", "add", name},
		{"link", "add", n.veth + "h", "type", "veth", "peer", "name", n.veth + "n"},
		{"link", "set", n.veth + "n", "netns", name},
		{"addr", "add", hostCIDR, "dev", n.veth + "h"},
		{"link", "set", n.veth + "h", "up"},
		{"-n", name, "addr", "add", nodeCIDR, "dev", n.veth + "n"},
		{"-n", name, "link", "set", n.veth + "n", "up"},
		{"-n", name, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			n.Delete()
			return nil, fmt.Errorf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return n, nil
}

// interfaceWith names the host interface that has ip, or "".
func interfaceWith(ip string) string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, i := range ifs {
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if p, ok := a.(*net.IPNet); ok && p.IP.String() == ip {
				return i.Name
			}
		}
	}
	return ""
}

// Exec runs a command inside the namespace (network only, so cgroups and
// mounts stay the host's) and returns its combined output.
func (n *NodeNetwork) Exec(args ...string) (string, error) {
	out, err := exec.Command("nsenter", append([]string{"--net=/run/netns/" + n.Name, "--"}, args...)...).CombinedOutput()
	return string(out), err
}

// Delete removes the namespace and the veth pair.
func (n *NodeNetwork) Delete() {
	_ = exec.Command("ip", "link", "del", n.veth+"h").Run()
	_ = exec.Command("ip", "netns", "del", n.Name).Run()
}

// shortName makes an interface-name prefix (≤ 13 characters, leaving room
// for the h/n suffix within Linux's 15).
func shortName(s string) string {
	s = strings.NewReplacer("-", "", "_", "").Replace(s)
	if len(s) > 13 {
		s = s[len(s)-13:]
	}
	return s
}
