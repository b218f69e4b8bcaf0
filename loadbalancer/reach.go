package loadbalancer

import "strings"

// Platform describes where devcluster runs, for Reachability.
type Platform struct {
	GOOS   string
	Driver string
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
	kic := p.Driver == "docker" || p.Driver == "podman" || p.Driver == ""
	if !kic {
		return true, ""
	}
	why := ""
	switch {
	case p.GOOS == "darwin" || p.GOOS == "windows":
		why = "the " + p.Driver + " driver on " + p.GOOS + " runs the node inside a VM the host cannot route to"
	case p.WSL:
		why = "under WSL the " + p.Driver + " driver's network is not routable from the host"
	case p.Rootless:
		why = "a rootless " + p.Driver + " keeps the node's network in a user namespace"
	case strings.HasPrefix(p.DockerHost, "tcp://") || strings.HasPrefix(p.DockerHost, "ssh://"):
		why = "the Docker daemon is remote (DOCKER_HOST=" + p.DockerHost + ")"
	default:
		return true, ""
	}
	return false, why + "; LoadBalancer IPs work inside the cluster, and from the host use " +
		"`minikube service <name> --url` or `kubectl port-forward svc/<name> <port>`"
}
