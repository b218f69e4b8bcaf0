package provider

import (
	"fmt"
	"net"
)

// HostOnSubnet is the host's address on a node's /24 network (last octet
// 1): where the docker and podman networks and the VM drivers' host-only
// networks put the host, and kind's gateway by default.
func HostOnSubnet(nodeIP string) (string, error) {
	ip := net.ParseIP(nodeIP).To4()
	if ip == nil {
		return "", fmt.Errorf("cannot derive the host address from node IP %q: set registry.clusterAddress", nodeIP)
	}
	return fmt.Sprintf("%d.%d.%d.1", ip[0], ip[1], ip[2]), nil
}
