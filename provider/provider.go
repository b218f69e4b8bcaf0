// Package provider defines how devcluster talks to the tool that owns the
// cluster's machine: minikube, kind, or none for an existing kubeconfig
// context. Implementations live in sub-packages and run their binaries only
// through an injected run.Runner.
package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/devcluster/devcluster/config"
)

// State is the observed state of a cluster.
type State string

// States a provider reports.
const (
	// Absent: no such cluster.
	Absent State = "Absent"
	// Running: the node is up and the API server and kubelet run.
	Running State = "Running"
	// Stopped: the node is stopped; start resumes it.
	Stopped State = "Stopped"
	// Paused: the node runs but Kubernetes is paused; unpause resumes it.
	Paused State = "Paused"
	// Degraded: the node runs but the API server or kubelet does not; start
	// repairs it.
	Degraded State = "Degraded"
	// Invalid: the provider has a record of the cluster it cannot use.
	Invalid State = "Invalid"
)

// Cluster is what a provider knows about an existing cluster.
type Cluster struct {
	Name            string `json:"name"`
	Provider        string `json:"provider"`
	ProviderVersion string `json:"providerVersion,omitempty"`
	State           State  `json:"state"`
	// Detail explains a Degraded or Invalid state.
	Detail            string `json:"detail,omitempty"`
	IP                string `json:"ip,omitempty"`
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// CPUs and MemoryMB are the node's limits where devcluster sets them
	// (minikube); 0 — minikube's no-limit, or a provider that sets none
	// (kind, existing) — is left out of the JSON.
	CPUs               int      `json:"cpus,omitempty"`
	MemoryMB           int      `json:"memoryMB,omitempty"`
	Driver             string   `json:"driver,omitempty"`
	ContainerRuntime   string   `json:"containerRuntime,omitempty"`
	InsecureRegistries []string `json:"insecureRegistries"`
	// Nodes is the number of nodes where the provider knows it (not for
	// existing: left out of the JSON).
	Nodes int `json:"nodes,omitempty"`
	// NodeNames name the nodes for RunOnNode; the primary node first.
	NodeNames []string `json:"nodeNames,omitempty"`
	// KubeContext is the kubeconfig context that reaches the cluster.
	KubeContext string `json:"kubeContext,omitempty"`
	// KubeconfigOK is false when the provider says the kubeconfig entry is
	// missing or stale.
	KubeconfigOK bool `json:"kubeconfigOK"`
	// HostAddress is this host's address on the cluster's network, where
	// nodes reach the registry, when the provider knows it (kind: the kind
	// network's gateway); else it is derived from the node IP.
	HostAddress string `json:"hostAddress,omitempty"`
	// Record is what the provider recorded of the settings the cluster
	// was created with, where it keeps such a record (kind: devcluster's
	// record on the node, which its Diff compares); nil when there is
	// none. Its fields are part of the cluster's JSON.
	*Record
	// Foreign says why the cluster is not devcluster's, where the
	// provider can tell (kind: a cluster without devcluster's record on
	// its node was created by someone else); devcluster then neither
	// changes nor deletes it. "" for a cluster of devcluster's own.
	Foreign string `json:"foreign,omitempty"`
}

// Record is the settings a cluster was created with, as its provider
// recorded them (kind, which cannot change a cluster after creation).
// Empty fields are a record that could not be read (the cluster is then
// Invalid).
type Record struct {
	// NodeImage is the node image ("" for kind's default).
	NodeImage string `json:"nodeImage,omitempty"`
	// Workers is the number of worker nodes.
	Workers int `json:"workers,omitempty"`
	// PortMappings are the host ports forwarded to the control-plane
	// node.
	PortMappings []config.PortMapping `json:"portMappings,omitempty"`
}

// Difference is one setting in which an existing cluster differs from the
// requested configuration.
type Difference struct {
	Field    string `json:"field"`
	Existing string `json:"existing"`
	Desired  string `json:"desired"`
	// Note explains why the difference matters or how it could be fixed.
	Note string `json:"note,omitempty"`
}

func (d Difference) String() string {
	s := fmt.Sprintf("%s: cluster has %s, requested %s", d.Field, d.Existing, d.Desired)
	if d.Note != "" {
		s += " (" + d.Note + ")"
	}
	return s
}

// Spec is what a provider creates a cluster from and compares an existing
// one with: the cluster's own settings, and nothing of the registry,
// LoadBalancer or workload settings.
type Spec struct {
	Name              string
	CPUs              config.CPUs
	Memory            config.Memory
	Driver            string
	ContainerRuntime  string
	KubernetesVersion string
	// InsecureRegistries are plain-HTTP registries the runtime may pull
	// from; minikube only applies them at creation.
	InsecureRegistries []string
	// ExtraStartArgs are passed to the provider's create command as they
	// are.
	ExtraStartArgs []string
	// Workers is the number of worker nodes (kind).
	Workers int
	// PortMappings are host ports forwarded to the control-plane node
	// (kind's extraPortMappings).
	PortMappings []config.PortMapping
	// Wait bounds the provider's own wait for the control plane (kind's
	// --wait); zero is the provider's default.
	Wait time.Duration
}

// SpecOf is the cluster part of a configuration.
func SpecOf(c *config.Config) Spec {
	return Spec{Name: c.Name, CPUs: c.CPUs, Memory: c.Memory, Driver: c.Driver, ContainerRuntime: c.ContainerRuntime,
		KubernetesVersion: c.KubernetesVersion, InsecureRegistries: slices.Clone(c.InsecureRegistries), ExtraStartArgs: slices.Clone(c.ExtraStartArgs),
		Workers: c.Workers, PortMappings: slices.Clone(c.PortMappings), Wait: c.Wait}
}

// Progress receives human-readable progress lines from a long operation.
type Progress func(line string)

// ToolMissing is the cause of EnsureInstalled's problem when the provider's
// executable is not there.
type ToolMissing struct {
	// Tool is the executable's name ("minikube").
	Tool string
	// Binary is what was run: the name looked up on PATH, or a path.
	Binary string
}

func (e *ToolMissing) Error() string {
	if strings.ContainsRune(e.Binary, '/') {
		return fmt.Sprintf("%q does not exist or is not executable", e.Binary)
	}
	return fmt.Sprintf("%q was not found on PATH", e.Binary)
}

// Installable is a provider whose tool devcluster can download when it is
// missing.
type Installable interface {
	// Tool is the name of the executable: "minikube" or "kind".
	Tool() string
	// CheckPrerequisites checks what the tool needs and devcluster does
	// not install (Docker, a VM driver), before anything is downloaded.
	CheckPrerequisites(ctx context.Context, want Spec) error
	// UseBinary makes the provider run the executable at path.
	UseBinary(path string)
}

// Provider is what every provider does: it names itself, says whether
// devcluster owns its clusters, checks that it can work, and reads,
// creates and deletes a cluster and its kubeconfig context. What only some
// providers can do is in this package's optional interfaces (Resumable,
// Stoppable, Comparer, NodeAccess, LogCollector, Networked, Describer,
// Installable), which callers discover by type assertion, as ctlptl does
// with its providers: a provider implements only what it really does.
type Provider interface {
	// Name is the provider's config name, e.g. "minikube".
	Name() string
	// OwnsClusters says whether devcluster creates and deletes this
	// provider's clusters (minikube, kind), rather than using one that
	// someone else runs and may share with others (existing). What
	// devcluster reads from a cluster it does not own, for a diagnostics
	// bundle, stays with its own objects and the workloads it is given.
	OwnsClusters() bool
	// EnsureInstalled checks that the provider can work (its tool is
	// installed and recent enough) and returns what it works with (the
	// tool's version).
	EnsureInstalled(ctx context.Context) (version string, err error)
	// Get returns the cluster's current state; a missing cluster is
	// returned with State Absent and no error. Get works without the
	// provider's tool as far as it can: when no cluster can exist (no
	// minikube profile, no kind node container) it is Absent; when one may
	// exist but cannot be read without the tool, the error says so
	// (problem.Missing).
	Get(ctx context.Context, name string) (*Cluster, error)
	// Create creates and starts a new cluster; a provider that does not
	// own its clusters says why there is none to use.
	Create(ctx context.Context, want Spec, p Progress) error
	// Delete deletes the cluster; deleting an absent cluster is not an
	// error. Callers first Get the cluster and never delete a Foreign one,
	// nor one of a provider that does not own its clusters.
	Delete(ctx context.Context, name string, p Progress) error
	// RepairKubeconfig points the kubeconfig context at the running
	// cluster, when Get found it missing or stale (KubeconfigOK false).
	RepairKubeconfig(ctx context.Context, name string) error
}

// Resumable is a provider that starts what is stopped or paused.
type Resumable interface {
	// Start starts a stopped or degraded cluster with its saved settings.
	Start(ctx context.Context, name string, p Progress) error
	// Unpause resumes a paused cluster.
	Unpause(ctx context.Context, name string, p Progress) error
}

// Comparer is a provider that configures its clusters, and so can tell
// drift.
type Comparer interface {
	// Diff lists the settings that differ between the requested
	// configuration and an existing cluster and that the provider would
	// not apply by starting it again.
	Diff(want Spec, have *Cluster) []Difference
}

// NodeAccess is a provider that reaches the cluster's nodes: devcluster
// writes its registry configuration (hosts.toml) on them.
type NodeAccess interface {
	// RunOnNode runs argv on one node as root (`minikube ssh`, `docker
	// exec`) and returns its standard output. Every word is quoted by the
	// provider: no shell ever reads configuration text as code.
	RunOnNode(ctx context.Context, name, node string, argv ...string) ([]byte, error)
	// CopyToNode copies the local file src to the absolute path dst on
	// one node (`minikube cp`, `docker cp`), owned by root, mode 0644.
	// dst's directory must exist.
	CopyToNode(ctx context.Context, name, node, src, dst string) error
}

// LogCollector is a provider with logs of its own about the cluster.
type LogCollector interface {
	// Logs writes the provider's own logs of the cluster to file
	// (`minikube logs --file`), for a diagnostics bundle.
	Logs(ctx context.Context, name, file string) error
}

// Networked is a provider that knows the network between this host and
// the cluster's nodes: the node IP, where the nodes reach this host (the
// registry's cluster address) and whether this host reaches the nodes
// (LoadBalancer IPs).
type Networked interface {
	// IP returns the address of the cluster's primary node as the host
	// reaches it (`minikube ip`).
	IP(ctx context.Context, name string) (string, error)
	// Network describes the cluster's network as it is.
	Network(c *Cluster) Network
	// PlannedHostAddress is this host's address on the network a cluster
	// created from want will have ("" when it cannot be told before),
	// for the insecure registries given at creation.
	PlannedHostAddress(want Spec) string
}

// Network is how this host and a cluster's nodes reach each other.
type Network struct {
	// Containers says the nodes are containers on a Docker or Podman
	// network of this host (kind, minikube's docker and podman drivers),
	// which the host routes to only on native, rootful Linux with a local
	// daemon.
	Containers bool
	// What names that network in messages: "the docker driver", "kind".
	What string
	// HostFix is how to reach a Service from a host that cannot route to
	// the nodes.
	HostFix string
	// APIServerPort is the API server's port on the node.
	APIServerPort int
	// HostAddress is this host's address on the nodes' network, where the
	// nodes reach the registry; HostAddressErr says why it cannot be told.
	HostAddress    string
	HostAddressErr error
}

// Describer is a provider that tells about its clusters in its own terms.
type Describer interface {
	// Summary is up's account of a running cluster, given what up did to
	// it (outcome: "created", "already running").
	Summary(outcome string, c *Cluster) string
	// Rows are status's lines about the cluster after its name, provider
	// and state; serverVersion is what its API server says ("" unknown).
	Rows(c *Cluster, serverVersion string) []Row
	// Removal says how the owner of a Foreign cluster deletes it.
	Removal(c *Cluster) string
}

// Row is one line of status about a cluster.
type Row struct {
	Key, Value string
}

// Stoppable is a provider that can stop a cluster and keep it (`devcluster
// stop`): its nodes stop and free their CPU and memory, and Start resumes
// them with their state. A provider without it (existing: a cluster
// devcluster did not create) cannot stop its clusters.
type Stoppable interface {
	// Stop stops the cluster's nodes. Callers first Get the cluster and
	// never stop a Foreign one.
	Stop(ctx context.Context, name string, p Progress) error
}
