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

import "time"

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
	// Provider that creates the cluster. Default and only value in this
	// release: "minikube".
	Provider string `yaml:"provider,omitempty" json:"provider,omitempty"`

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
}

// Defaults, with the reason for each.
const (
	// DefaultName avoids taking over a user's existing "minikube" profile.
	DefaultName = "devcluster"
	// DefaultProvider is the only provider of this release.
	DefaultProvider = "minikube"
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
	Name               string
	Provider           string
	CPUs               CPUs
	Memory             Memory
	Driver             string
	ContainerRuntime   string
	KubernetesVersion  string
	InsecureRegistries []string
	ExtraStartArgs     []string
	Wait               time.Duration
}

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
