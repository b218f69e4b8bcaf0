// Package config is devcluster's versioned configuration: the
// devcluster.yaml schema (apiVersion devcluster.dev/v1alpha1, kind Cluster),
// strict decoding that names the line of every unknown or mistyped field,
// defaults filled in one place, and validation that reports every problem at
// once.
//
// The external type File keeps every value as the user wrote it (memory as
// "4g", cpus as "max"); Complete turns a File plus command-line overrides
// into a Config whose values are parsed and checked.
package config

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// APIVersion is the only configuration version this release reads.
const APIVersion = "devcluster.dev/v1alpha1"

// KindCluster is the kind of the configuration document.
const KindCluster = "Cluster"

// File is the devcluster.yaml document as written by the user. Every field is
// optional; comments state the default that Complete fills in.
type File struct {
	APIVersion string `yaml:"apiVersion" json:"apiVersion"`
	Kind       string `yaml:"kind" json:"kind"`

	// Name of the cluster: the minikube profile and the kubeconfig context.
	// Default "devcluster".
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Provider of the cluster: "minikube" (default) or "kind" create and
	// manage it; "existing" uses a cluster devcluster did not create,
	// through the kubeconfig context given in Context, and never creates,
	// changes or deletes it.
	Provider string `yaml:"provider,omitempty" json:"provider,omitempty"`
	// Context is the kubeconfig context of an existing cluster (provider
	// existing, where it is required).
	Context string `yaml:"context,omitempty" json:"context,omitempty"`
	// Workers is the number of worker nodes beside the control plane
	// (provider kind). Default 0.
	Workers int `yaml:"workers,omitempty" json:"workers,omitempty"`
	// PortMappings forward host ports to the control-plane node (provider
	// kind: its extraPortMappings), set when the cluster is created: the
	// way to reach a NodePort where node IPs are not routable (Docker
	// Desktop).
	PortMappings []PortMappingFile `yaml:"portMappings,omitempty" json:"portMappings,omitempty"`

	// CPUs for the cluster node: a number ≥ 2, "max" (all host CPUs) or
	// "no-limit" (docker and podman drivers). Default "2".
	CPUs string `yaml:"cpus,omitempty" json:"cpus,omitempty"`
	// Memory for the cluster node, in the forms minikube accepts: "4096"
	// (MB), "4g", "4gb", "4GiB", "1.5g", "max", "no-limit". Binary units: 1g =
	// 1024 MB. At least 1800 MB. Default "4g".
	Memory string `yaml:"memory,omitempty" json:"memory,omitempty"`
	// Driver is minikube's --driver (docker, podman, kvm2, qemu2, ...).
	// Default: empty, minikube chooses.
	Driver string `yaml:"driver,omitempty" json:"driver,omitempty"`
	// ContainerRuntime is minikube's --container-runtime: containerd, docker
	// or cri-o. Default "containerd", which the local registry wiring
	// configures through containerd's hosts.toml.
	ContainerRuntime string `yaml:"containerRuntime,omitempty" json:"containerRuntime,omitempty"`
	// KubernetesVersion is minikube's --kubernetes-version: "v1.35.1",
	// "1.35.1", "1.35" (latest patch), "stable" or "latest". Default: empty,
	// minikube's own default.
	KubernetesVersion string `yaml:"kubernetesVersion,omitempty" json:"kubernetesVersion,omitempty"`
	// InsecureRegistries are extra registries the cluster may pull from over
	// plain HTTP (host[:port] or a CIDR). minikube only honours them when the
	// cluster is created, so a change is reported as drift.
	InsecureRegistries []string `yaml:"insecureRegistries,omitempty" json:"insecureRegistries,omitempty"`
	// ExtraStartArgs are passed to `minikube start` as they are, after the
	// flags devcluster manages, e.g. ["--addons=metrics-server"]. Flags that
	// devcluster manages (cpus, memory, driver, ...) are refused here: use
	// their fields.
	ExtraStartArgs []string `yaml:"extraStartArgs,omitempty" json:"extraStartArgs,omitempty"`
	// Wait bounds how long `up` waits for the API server, Ready nodes and
	// running kube-system pods after the cluster starts. Default "5m".
	Wait string `yaml:"wait,omitempty" json:"wait,omitempty"`
	// Registry configures the local registry the cluster pulls from.
	Registry RegistryFile `yaml:"registry,omitempty" json:"registry,omitempty"`
	// LoadBalancer configures external IPs for Services of type
	// LoadBalancer.
	LoadBalancer LoadBalancerFile `yaml:"loadBalancer,omitempty" json:"loadBalancer,omitempty"`
	// Workloads configures what `up` deploys.
	Workloads WorkloadsFile `yaml:"workloads,omitempty" json:"workloads,omitempty"`
	// Install configures where `up` downloads minikube or kind from when
	// the tool is missing.
	Install InstallFile `yaml:"install,omitempty" json:"install,omitempty"`
	// Dashboard configures `devcluster dashboard` (Headlamp).
	Dashboard DashboardFile `yaml:"dashboard,omitempty" json:"dashboard,omitempty"`
}

// DashboardFile is the dashboard section of devcluster.yaml.
type DashboardFile struct {
	// Image replaces Headlamp's pinned image (a mirror, an image in the
	// local registry for offline use, a stand-in for tests): an image
	// reference; localhost:<port>/... is pulled from devcluster's registry.
	// Default: the Headlamp release devcluster pins, by digest.
	Image string `yaml:"image,omitempty" json:"image,omitempty"`
}

// InstallFile is the install section of devcluster.yaml. The binary of a
// release is <url>/<version>/<tool>-<os>-<arch>, the layout of the
// projects' own release downloads, which a mirror keeps; it is installed
// only if its sha256 is the one pinned in devcluster.
type InstallFile struct {
	// MinikubeURL is the base URL of minikube's releases. Default
	// https://github.com/kubernetes/minikube/releases/download; the
	// environment variable DEVCLUSTER_MINIKUBE_URL overrides it.
	MinikubeURL string `yaml:"minikubeURL,omitempty" json:"minikubeURL,omitempty"`
	// KindURL is the base URL of kind's releases. Default
	// https://github.com/kubernetes-sigs/kind/releases/download; the
	// environment variable DEVCLUSTER_KIND_URL overrides it.
	KindURL string `yaml:"kindURL,omitempty" json:"kindURL,omitempty"`
}

// PortMappingFile is one entry of portMappings.
type PortMappingFile struct {
	// ContainerPort is the port on the node, e.g. a NodePort. Required.
	ContainerPort int `yaml:"containerPort" json:"containerPort"`
	// HostPort is the port on the host. Default: ContainerPort.
	HostPort int `yaml:"hostPort,omitempty" json:"hostPort,omitempty"`
	// ListenAddress is the host address the port is opened on. Default
	// 127.0.0.1 (kind's own default is every interface).
	ListenAddress string `yaml:"listenAddress,omitempty" json:"listenAddress,omitempty"`
	// Protocol is TCP (default), UDP or SCTP.
	Protocol string `yaml:"protocol,omitempty" json:"protocol,omitempty"`
}

// WorkloadsFile is the workloads section of devcluster.yaml.
type WorkloadsFile struct {
	// Samples deploys the sample web app (built into the local registry).
	// Default true.
	Samples *bool `yaml:"samples,omitempty" json:"samples,omitempty"`
	// SampleBase is the base image of the sample: a registry reference,
	// "oci:<dir>" (OCI image layout) or "docker-archive:<file>". Default
	// docker.io/library/nginx:stable.
	SampleBase string `yaml:"sampleBase,omitempty" json:"sampleBase,omitempty"`
	// Manifests are files or directories of YAML applied (server-side) by
	// every `up`; relative paths are relative to the config file.
	Manifests []string `yaml:"manifests,omitempty" json:"manifests,omitempty"`
	// Timeout bounds the wait for rollouts. Default "5m".
	Timeout string `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// DefaultSampleBase is the sample's default base image.
const DefaultSampleBase = "docker.io/library/nginx:stable"

// LoadBalancerFile is the loadBalancer section of devcluster.yaml.
type LoadBalancerFile struct {
	// Enabled runs the LoadBalancer controller in the agent. Default true,
	// false for provider existing (a real cluster has its own).
	Enabled *bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	// IP handed to LoadBalancer Services. Default: the node IP
	// (`minikube ip`).
	IP string `yaml:"ip,omitempty" json:"ip,omitempty"`
	// Address is how the host reaches LoadBalancer Services: auto
	// (default), node (the node IP) or localhost (forwards on 127.0.0.1
	// through the API server).
	Address string `yaml:"address,omitempty" json:"address,omitempty"`
}

// RegistryFile is the registry section of devcluster.yaml.
type RegistryFile struct {
	// Enabled runs the local registry. Default true, false for provider
	// existing (remote nodes usually cannot reach this host; turned on
	// there, it needs clusterAddress).
	Enabled *bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	// Port the registry listens on, on every address. Default 5001 (5000 is
	// taken by AirPlay on macOS).
	Port int `yaml:"port,omitempty" json:"port,omitempty"`
	// ClusterAddress is the host address the cluster's nodes pull from.
	// Default "auto": the host's address on the cluster network (the
	// minikube network's gateway for the docker and podman drivers, the
	// host-only interface for VM drivers, 10.0.2.2 for qemu's user network).
	ClusterAddress string `yaml:"clusterAddress,omitempty" json:"clusterAddress,omitempty"`
	// ListenAddresses are the IPs the registry binds. Default: 127.0.0.1
	// (where the host pushes) plus the cluster address when it is an
	// address of this host. Never all interfaces unless listed here.
	ListenAddresses []string `yaml:"listenAddresses,omitempty" json:"listenAddresses,omitempty"`
	// DataDir keeps the registry's storage; a relative path is taken from
	// the directory of the configuration file. Default:
	// $XDG_DATA_HOME/devcluster/<name>/registry (~/.local/share/...).
	DataDir string `yaml:"dataDir,omitempty" json:"dataDir,omitempty"`
	// Mirrors are the pull-through mirrors the nodes pull public images
	// through. Absent: DefaultMirrors; an empty list (mirrors: []) turns
	// them off.
	Mirrors []MirrorFile `yaml:"mirrors" json:"mirrors,omitempty"`
	// MirrorTTL is how long a mirrored blob or manifest is kept after it
	// was fetched: a duration (72h) or days (7d); 0 keeps it for ever.
	// Default 7d.
	MirrorTTL string `yaml:"mirrorTTL,omitempty" json:"mirrorTTL,omitempty"`
}

// MirrorFile is one entry of registry.mirrors.
type MirrorFile struct {
	// Upstream is the registry name images carry: docker.io, ghcr.io.
	Upstream string `yaml:"upstream" json:"upstream"`
	// Remote is the upstream's endpoint URL. Default: DefaultRemote.
	Remote string `yaml:"remote,omitempty" json:"remote,omitempty"`
}

// DefaultMirrors are the upstreams mirrored when registry.mirrors is absent.
var DefaultMirrors = []string{"docker.io", "registry.k8s.io", "ghcr.io", "quay.io"}

// DefaultMirrorTTL is Distribution's own proxy.ttl default.
const DefaultMirrorTTL = 7 * 24 * time.Hour

// DefaultRemote is the endpoint of an upstream registry name: Docker Hub's
// registry-1.docker.io for docker.io, https://<upstream> for the others.
func DefaultRemote(upstream string) string {
	if upstream == "docker.io" {
		return "https://registry-1.docker.io"
	}
	return "https://" + upstream
}

// Defaults, with the reason for each.
const (
	// DefaultName avoids taking over a user's existing "minikube" profile.
	DefaultName = "devcluster"
	// DefaultCPUs is minikube's own minimum and default.
	DefaultCPUs = "2"
	// DefaultMemory leaves room for sample workloads above the 1800 MB
	// minimum, within minikube's own automatic range (3072..6144 MB).
	DefaultMemory = "4g"
	// DefaultContainerRuntime is what the local registry wiring configures
	// (certs.d/hosts.toml), and minikube's default from v1.39 on.
	DefaultContainerRuntime = "containerd"
	// DefaultWait matches the longest wait minikube itself applies (6m) closely
	// while failing sooner on a broken cluster.
	DefaultWait = 5 * time.Minute
)

// Config is a completed, validated configuration.
type Config struct {
	Name     string
	Provider string
	// Context is the kubeconfig context of provider existing.
	Context string
	// Workers is the number of kind worker nodes.
	Workers int
	// PortMappings are kind's extraPortMappings, completed.
	PortMappings       []PortMapping
	CPUs               CPUs
	Memory             Memory
	Driver             string
	ContainerRuntime   string
	KubernetesVersion  string
	InsecureRegistries []string
	ExtraStartArgs     []string
	Wait               time.Duration
	Registry           Registry
	LoadBalancer       LoadBalancer
	Workloads          Workloads
	Install            Install
	Dashboard          Dashboard
}

// Dashboard is the completed dashboard configuration.
type Dashboard struct {
	// Image is "" for the pinned Headlamp image.
	Image string
}

// PortMapping is a completed port mapping: every field set.
type PortMapping struct {
	ContainerPort int    `json:"containerPort"`
	HostPort      int    `json:"hostPort"`
	ListenAddress string `json:"listenAddress"`
	Protocol      string `json:"protocol"`
}

// String is the mapping as docker shows it: "127.0.0.1:8080->30080/TCP".
func (p PortMapping) String() string {
	return fmt.Sprintf("%s->%d/%s", net.JoinHostPort(p.ListenAddress, fmt.Sprint(p.HostPort)), p.ContainerPort, p.Protocol)
}

// JoinPortMappings shows port mappings in their order, comma-separated.
func JoinPortMappings(ms []PortMapping) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.String()
	}
	return strings.Join(s, ", ")
}

// Install is the completed install configuration.
type Install struct {
	// MinikubeURL and KindURL are "" for the projects' own release URLs.
	MinikubeURL, KindURL string
}

// Workloads is the completed workloads configuration.
type Workloads struct {
	Samples    bool
	SampleBase string
	// Manifests are absolute paths.
	Manifests []string
	Timeout   time.Duration
}

// LoadBalancer is the completed loadBalancer configuration.
type LoadBalancer struct {
	Enabled bool
	// IP is "" for the node IP.
	IP string
	// Address is LBAddressAuto, LBAddressNode or LBAddressLocalhost.
	Address string
}

// The values of loadBalancer.address (the loadbalancer package names them
// too, as loadbalancer.Address).
const (
	LBAddressAuto      = "auto"
	LBAddressNode      = "node"
	LBAddressLocalhost = "localhost"
)

// LBAddresses are the valid values of loadBalancer.address.
var LBAddresses = []string{LBAddressAuto, LBAddressNode, LBAddressLocalhost}

// Registry is the completed registry configuration.
type Registry struct {
	Enabled bool
	Port    int
	// ClusterAddress is "" for auto.
	ClusterAddress string
	// Listen is nil for the default (loopback + cluster address).
	Listen []string
	// DataDir is "" for the default location.
	DataDir string
	// Mirrors are the pull-through mirrors, every remote filled in; empty
	// when they are off (or the registry is).
	Mirrors []Mirror
	// MirrorTTL is the mirrors' expiry; 0 is never.
	MirrorTTL time.Duration
}

// Mirror is a completed registry.mirrors entry.
type Mirror struct {
	Upstream string `json:"upstream"`
	Remote   string `json:"remote"`
}

// DefaultRegistryPort avoids 5000, which macOS gives to AirPlay.
const DefaultRegistryPort = 5001

// CPUs is a parsed cpus value: a count, or a special word.
type CPUs struct {
	Count int
	// Special is "max" or "no-limit", with Count 0.
	Special string
}

func (c CPUs) String() string {
	if c.Special != "" {
		return c.Special
	}
	return itoa(c.Count)
}

// Memory is a parsed memory value in MB (binary, as minikube counts).
type Memory struct {
	MB int
	// Special is "max" or "no-limit", with MB 0.
	Special string
}

func (m Memory) String() string {
	if m.Special != "" {
		return m.Special
	}
	return itoa(m.MB) + "mb"
}
