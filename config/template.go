package config

import (
	"fmt"
	"strings"
)

// Template is a commented devcluster.yaml for a provider (`config init`):
// every setting with its default or an example, as a file that loads as
// written. Its first line points editors to the schema at schemaURL. name
// and kubeContext (provider existing, where it is required) are written
// into it; name "" is the default.
func Template(provider, name, kubeContext, schemaURL string) (string, error) {
	if name == "" {
		name = DefaultName
	}
	if err := ValidName(name); err != nil {
		return "", err
	}
	if provider == "" {
		provider = DefaultProvider
	}
	p, ok := LookupProvider(provider)
	if !ok {
		return "", unknownProvider(provider)
	}
	body, err := p.template(name, kubeContext)
	if err != nil {
		return "", err
	}
	head := "# yaml-language-server: $schema=" + schemaURL + "\n" + templateHead
	return head + strings.ReplaceAll(body, "@NAME@", name), nil
}

// quoteScalar writes s as a double-quoted YAML string.
func quoteScalar(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

const templateHead = `# devcluster.yaml: the cluster ` + "`devcluster up`" + ` creates, or checks, and waits for.
# Every setting but apiVersion and kind is optional: the values below are the
# defaults, the commented ones examples. ` + "`devcluster config view`" + ` shows the
# effective configuration; flags of up override the file.
apiVersion: devcluster.dev/v1alpha1
kind: Cluster
`

const minikubeTemplate = `# The minikube profile, and the kubeconfig context.
name: @NAME@
provider: minikube
# CPUs and memory of the node: a number, max, or no-limit (docker and podman
# drivers). Memory as minikube takes it: 4096 (MB), 4g, 1.5g.
cpus: "2"
memory: 4g
# minikube's driver; unset, minikube chooses (docker, podman, kvm2, qemu2,
# hyperkit, vfkit, hyperv, ...).
# driver: docker
# containerd is what the local registry's wiring configures.
containerRuntime: containerd
# v1.35.1, 1.35 (its latest patch), stable or latest; unset, minikube's own.
# kubernetesVersion: stable
# Registries the node may pull from over plain HTTP (set at creation).
# insecureRegistries: ["registry.internal:5000"]
# Passed to minikube start as they are.
# extraStartArgs: ["--addons=metrics-server"]
# How long up waits for the API server, nodes and kube-system pods.
wait: 5m
registry:
  enabled: true
  # Push to localhost:5001; the node pulls from the host's address on the
  # cluster network (auto).
  port: 5001
  clusterAddress: auto
` + createdTail

const kindTemplate = `# The kind cluster; its kubeconfig context is kind-@NAME@.
name: @NAME@
provider: kind
# Worker nodes beside the control plane.
workers: 0
# Host ports forwarded to the control-plane node, set at creation (the way
# to reach a NodePort from the host on Docker Desktop).
# portMappings:
#   - containerPort: 30080
#     hostPort: 8080
#     listenAddress: 127.0.0.1
#     protocol: TCP
# A full version such as v1.35.1 (kind's node images are per patch
# release); unset, kind's own.
# kubernetesVersion: v1.35.1
# How long up waits for the API server, nodes and kube-system pods.
wait: 5m
registry:
  enabled: true
  # Push to localhost:5001; the nodes pull from the kind network's gateway.
  port: 5001
  clusterAddress: auto
` + createdTail

const existingTemplate = `# A cluster devcluster did not create: it is never created, changed or
# deleted; up checks it, applies the workloads and waits for them.
name: @NAME@
provider: existing
context: @CONTEXT@
# How long up waits for the API server and the nodes.
wait: 5m
registry:
  # Remote nodes seldom reach this host: turned on, the registry needs the
  # address of this host the nodes can reach.
  enabled: false
  # clusterAddress: 10.0.0.5
loadBalancer:
  # A real cluster has its own LoadBalancer controller; turned on, this one
  # needs the IP that reaches the nodes.
  enabled: false
  # ip: 10.0.0.10
workloads:
  samples: false
  # YAML files or directories applied by every up, relative to this file.
  # manifests: ["k8s/"]
  timeout: 5m
`

// createdTail ends the file of a cluster devcluster creates: the
// LoadBalancer IPs and the workloads.
const createdTail = `loadBalancer:
  # Services of type LoadBalancer get the node IP (or ip, below).
  enabled: true
  # ip: 192.168.49.2
workloads:
  # The sample web app, built into the local registry.
  samples: true
  # YAML files or directories applied by every up, relative to this file.
  # manifests: ["k8s/"]
  timeout: 5m
`
