package loadbalancer

import "strings"

// Platform describes where devcluster runs, for Reachability.
type Platform struct {
	GOOS   string
	Driver string
	// Provider is the cluster's provider ("kind" puts its nodes on a
	// Docker network, like minikube's docker driver).
	Provider string
	// WSL is true under Windows Subsystem for Linux.
	WSL bool
	// DockerHost is $DOCKER_HOST.
	DockerHost string
	// Rootless is true for a rootless Docker or Podman.
	Rootless bool
}

// Reachability says whether the host can reach the node IP directly, and
// if not, what works instead. It follows minikube's driver.NeedsPortForward:
// the docker and podman drivers put the node on a network the host can route
// to only on native, rootful Linux with a local daemon.
func Reachability(p Platform) (bool, string) {
	kic := p.Driver == "docker" || p.Driver == "podman" || p.Driver == "" || p.Provider == "kind"
	if !kic {
		return true, ""
	}
	what, fix := "the "+p.Driver+" driver", "`minikube service <name> --url` or `kubectl port-forward svc/<name> <port>`"
	if p.Driver == "" {
		what = "the docker driver"
	}
	if p.Provider == "kind" {
		what, fix = "kind", "`kubectl port-forward svc/<name> <port>`, or portMappings in devcluster.yaml (a NodePort forwarded to a host port; set at creation, so `up --recreate`)"
	}
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
