package minikube

import (
	"errors"
	"strings"

	"github.com/devcluster/devcluster/provider"
)

var (
	_ provider.Networked = (*Minikube)(nil)
	_ provider.Describer = (*Minikube)(nil)
)

// Network implements provider.Networked by the driver: the docker and
// podman drivers put the node in a container on a network of this host,
// the others in a VM (or on the host itself: none).
func (m *Minikube) Network(c *provider.Cluster) provider.Network {
	n := provider.Network{What: "the " + c.Driver + " driver", APIServerPort: 8443,
		HostFix: "`minikube service <name> --url` or `kubectl port-forward svc/<name> <port>`"}
	switch c.Driver {
	case "":
		n.Containers, n.What = true, "the docker driver"
	case "docker", "podman":
		n.Containers = true
	}
	n.HostAddress, n.HostAddressErr = hostAddressFor(c.Driver, c.IP)
	return n
}

// hostAddressFor follows minikube's cluster.HostIP rules: the docker and
// podman networks and the VM drivers' host-only networks put the host at the
// node's /24 with last octet 1; qemu's user network reaches the host at
// 10.0.2.2; the none driver runs on the host.
func hostAddressFor(driver, nodeIP string) (string, error) {
	switch driver {
	case "none":
		return "127.0.0.1", nil
	case "qemu2", "qemu":
		if strings.HasPrefix(nodeIP, "10.0.2.") {
			return "10.0.2.2", nil
		}
	case "ssh", "generic":
		return "", errors.New("the ssh driver's host address cannot be derived: set registry.clusterAddress")
	}
	return provider.HostOnSubnet(nodeIP)
}

// PlannedHostAddress implements provider.Networked: minikube's default
// networks per driver, or the subnet / static IP given in ExtraStartArgs.
func (m *Minikube) PlannedHostAddress(want provider.Spec) string {
	for _, a := range want.ExtraStartArgs {
		for _, flag := range []string{"--static-ip=", "--subnet="} {
			if v, ok := strings.CutPrefix(a, flag); ok {
				if addr, err := hostAddressFor("docker", strings.SplitN(v, "/", 2)[0]); err == nil {
					return addr
				}
			}
		}
	}
	switch want.Driver {
	case "", "docker", "podman":
		return "192.168.49.1"
	case "kvm2", "kvm":
		return "192.168.39.1"
	case "virtualbox":
		return "192.168.59.1"
	case "qemu2", "qemu":
		return "10.0.2.2"
	case "none":
		return "127.0.0.1"
	}
	return ""
}
