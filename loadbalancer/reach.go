package loadbalancer

import "strings"

// Platform describes where devcluster runs and how the cluster's nodes
// sit on this host's network (as their provider tells it), for
// Reachability and ResolveAddress.
type Platform struct {
	GOOS string
	// Provider is the cluster's provider, for messages.
	Provider string
	// External says the cluster is not devcluster's (provider existing):
	// its LoadBalancer Services are forwarded to this host only when asked.
	External bool
	// Containers says the nodes are containers on a Docker or Podman
	// network of this host (kind, minikube's docker and podman drivers).
	Containers bool
	// Nodes names that network in messages: "the docker driver", "kind".
	Nodes string
	// HostFix is how to reach a Service from a host that cannot route to
	// the nodes.
	HostFix string
	// WSL is true under Windows Subsystem for Linux.
	WSL bool
	// DockerHost is $DOCKER_HOST.
	DockerHost string
	// Rootless is true for a rootless Docker or Podman.
	Rootless bool
}

// Reachability says whether the host can reach the node IP directly, and
// if not, what works instead. It follows minikube's driver.NeedsPortForward:
// nodes in containers are on a network the host can route to only on
// native, rootful Linux with a local daemon; nodes in VMs are reachable.
func Reachability(p Platform) (bool, string) {
	if !p.Containers {
		return true, ""
	}
	what, fix := p.Nodes, p.HostFix
	why := ""
	switch {
	case p.GOOS == "darwin" || p.GOOS == "windows":
		why = what + " on " + p.GOOS + " (Docker Desktop) runs the node inside a VM the host cannot route to"
	case p.WSL:
		why = "under WSL the network of " + what + " is not routable from the host"
	case p.Rootless:
		why = "a rootless Docker or Podman keeps the node's network in a user namespace"
	case strings.HasPrefix(p.DockerHost, "tcp://") || strings.HasPrefix(p.DockerHost, "ssh://"):
		why = "the Docker daemon is remote (DOCKER_HOST=" + p.DockerHost + ")"
	default:
		return true, ""
	}
	return false, why + "; LoadBalancer IPs work inside the cluster, and from the host use " + fix
}
