package kind

import (
	"fmt"
	"strings"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/text"
	"github.com/devcluster/devcluster/provider"
)

var (
	_ provider.Networked = (*Kind)(nil)
	_ provider.Describer = (*Kind)(nil)
)

// Network implements provider.Networked: kind's nodes are containers on
// the kind network, whose gateway (read by Get) is this host's address.
func (k *Kind) Network(c *provider.Cluster) provider.Network {
	n := provider.Network{Containers: true, What: "kind", APIServerPort: 6443,
		HostFix: "`kubectl port-forward svc/<name> <port>`, or portMappings in devcluster.yaml (a NodePort forwarded to a host port; set at creation, so `up --recreate`)"}
	n.HostAddress = c.HostAddress
	if n.HostAddress == "" {
		n.HostAddress, n.HostAddressErr = provider.HostOnSubnet(c.IP)
	}
	return n
}

// PlannedHostAddress implements provider.Networked: kind's nodes run
// containerd, which reads the registry's address from hosts.toml after
// creation, so nothing needs it before.
func (k *Kind) PlannedHostAddress(provider.Spec) string { return "" }

// Summary implements provider.Describer: the node IP, the Kubernetes
// version and the number of nodes.
func (k *Kind) Summary(outcome string, c *provider.Cluster) string {
	return fmt.Sprintf("%s (%s, Kubernetes %s, %d node(s))", outcome, text.OrDash(c.IP), text.OrDash(c.KubernetesVersion), c.Nodes)
}

// Rows implements provider.Describer: the control-plane node's IP, the
// Kubernetes version, the nodes and the host ports forwarded to them.
func (k *Kind) Rows(c *provider.Cluster, _ string) []provider.Row {
	if c.State == provider.Absent {
		return nil
	}
	rows := []provider.Row{{Key: "IP", Value: text.OrDash(c.IP)}, {Key: "KUBERNETES", Value: text.OrDash(c.KubernetesVersion)},
		{Key: "NODES", Value: strings.Join(c.NodeNames, ", ")}}
	if c.Record != nil && len(c.PortMappings) > 0 {
		rows = append(rows, provider.Row{Key: "PORTS", Value: config.JoinPortMappings(c.PortMappings)})
	}
	return rows
}

// Removal implements provider.Describer: a kind cluster devcluster did not
// create is deleted with kind.
func (k *Kind) Removal(c *provider.Cluster) string {
	return fmt.Sprintf("`kind delete cluster --name %s` deletes it", c.Name)
}
