package minikube

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/devcluster/devcluster/internal/text"
	"github.com/devcluster/devcluster/provider"
)

// Summary implements provider.Describer: the node IP, the Kubernetes
// version and the node's limits.
func (m *Minikube) Summary(outcome string, c *provider.Cluster) string {
	return fmt.Sprintf("%s (%s, Kubernetes %s, %s)", outcome, text.OrDash(c.IP), text.OrDash(c.KubernetesVersion), Resources(c))
}

// Rows implements provider.Describer: a cluster minikube has a valid
// profile of shows its IP, Kubernetes version, limits, driver, runtime and
// the insecure registries it was created with.
func (m *Minikube) Rows(c *provider.Cluster, _ string) []provider.Row {
	if c.State == provider.Absent || c.State == provider.Invalid {
		return nil
	}
	rows := []provider.Row{{Key: "IP", Value: text.OrDash(c.IP)}, {Key: "KUBERNETES", Value: text.OrDash(c.KubernetesVersion)},
		{Key: "RESOURCES", Value: fmt.Sprintf("%s, driver %s, runtime %s", Resources(c), text.OrDash(c.Driver), text.OrDash(c.ContainerRuntime))}}
	if len(c.InsecureRegistries) > 0 {
		rows = append(rows, provider.Row{Key: "INSECURE REGISTRIES", Value: strings.Join(c.InsecureRegistries, ", ")})
	}
	return rows
}

// Removal implements provider.Describer: every minikube profile is
// devcluster's to use, so none is Foreign.
func (m *Minikube) Removal(*provider.Cluster) string { return "" }

// Resources renders a cluster's CPUs and memory ("2 CPUs, 4096 MB"):
// minikube saves its no-limit as 0.
func Resources(c *provider.Cluster) string {
	cpus, memory := "no CPU limit", "no memory limit"
	if c.CPUs > 0 {
		cpus = strconv.Itoa(c.CPUs) + " CPUs"
	}
	if c.MemoryMB > 0 {
		memory = strconv.Itoa(c.MemoryMB) + " MB"
	}
	return cpus + ", " + memory
}
