package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The providers, by the names devcluster.yaml gives them. Only this table
// and the providers themselves (provider/...) tell them apart by name:
// everything else asks LookupProvider for the facts, or the provider for
// what it can do.
const (
	// ProviderMinikube creates the cluster with minikube.
	ProviderMinikube = "minikube"
	// ProviderKind creates the cluster with kind (Kubernetes in Docker).
	ProviderKind = "kind"
	// ProviderExisting is a cluster devcluster did not create.
	ProviderExisting = "existing"
	// DefaultProvider creates the cluster for the developer.
	DefaultProvider = ProviderMinikube
)

// ProviderInfo is what the configuration knows of a provider.
type ProviderInfo struct {
	// Name is the provider's name in devcluster.yaml.
	Name string
	// Owned says devcluster creates, changes and deletes the provider's
	// clusters (minikube, kind). Otherwise (existing) it uses the
	// kubeconfig context of a cluster someone else runs and may share:
	// it never creates, changes or deletes it, removes only what it put
	// there itself, and takes the cluster's state from its API; the
	// registry and the LoadBalancer controller are off by default, since
	// such a cluster seldom reaches this host and has its own.
	Owned bool
	// Workers and PortMappings say whether the provider takes these
	// settings (kind).
	Workers, PortMappings bool
	// check validates the provider's part of a configuration.
	check func(p providerCheck)
	// template is the body of `config init`'s file.
	template func(name, kubeContext string) (string, error)
	// effective writes the provider's cluster settings into an effective
	// configuration.
	effective func(c *Config, out *File)
}

// providers is the registry of providers, in the order help texts name
// them.
var providers = []ProviderInfo{
	{Name: ProviderMinikube, Owned: true, check: checkMinikube, template: minikubeFile, effective: minikubeSettings},
	{Name: ProviderKind, Owned: true, Workers: true, PortMappings: true, check: checkKind, template: kindFile, effective: kindSettings},
	{Name: ProviderExisting, check: checkExisting, template: existingFile, effective: func(*Config, *File) {}},
}

// LookupProvider returns the facts of the provider called name.
func LookupProvider(name string) (ProviderInfo, bool) {
	i := slices.IndexFunc(providers, func(p ProviderInfo) bool { return p.Name == name })
	if i < 0 {
		return ProviderInfo{}, false
	}
	return providers[i], true
}

// ExternalProvider reports whether the provider called name uses a
// cluster devcluster does not own (ProviderInfo.Owned false: existing);
// an unknown name does not.
func ExternalProvider(name string) bool {
	p, ok := LookupProvider(name)
	return ok && !p.Owned
}

// ProviderNames are the providers' names, the default first.
func ProviderNames() []string {
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = p.Name
	}
	return names
}

// unknownProvider is the error of a name that is not in the registry.
func unknownProvider(name string) error {
	return fmt.Errorf("unknown provider %q; supported: %s", name, strings.Join(ProviderNames(), ", "))
}

// providerCheck is what a provider's check works with: the file as
// written (after the flags and before the defaults are told apart by
// handSet) and how to report a problem with a field.
type providerCheck struct {
	f       *File
	handSet map[string]bool
	add     func(field string, err error)
	refuse  func(why string, fields ...string)
}

func checkMinikube(p providerCheck) {
	if p.f.Context != "" {
		p.add("context", fmt.Errorf("only for provider existing: minikube names its context after the cluster (%q)", p.f.Name))
	}
}

func checkExisting(p providerCheck) {
	f := p.f
	if f.Context == "" {
		p.add("provider", errors.New("provider existing needs the kubeconfig context of the cluster: set context (--context); `kubectl config get-contexts` lists them"))
	}
	p.refuse("only for provider minikube: devcluster does not create or change an existing cluster",
		"cpus", "memory", "driver", "containerRuntime", "kubernetesVersion", "insecureRegistries", "extraStartArgs")
	if *f.Registry.Enabled && f.Registry.ClusterAddress == "auto" {
		p.add("registry.enabled", errors.New("the registry needs registry.clusterAddress with provider existing: the address of this host that the cluster's nodes can reach"))
	}
	if *f.LoadBalancer.Enabled && f.LoadBalancer.IP == "" && f.LoadBalancer.Address != LBAddressLocalhost {
		p.add("loadBalancer.enabled", errors.New("the LoadBalancer controller needs loadBalancer.ip with provider existing: the IP that reaches the cluster's nodes; "+
			"or loadBalancer.address: localhost (--lb-address localhost) to reach the Services on 127.0.0.1 through the API server"))
	}
}

func checkKind(p providerCheck) {
	f := p.f
	if f.Context != "" {
		p.add("context", fmt.Errorf("only for provider existing: kind names its context kind-%s", f.Name))
	}
	p.refuse("only for provider minikube: kind has no such setting", "cpus", "memory", "driver")
	if p.handSet["containerRuntime"] && f.ContainerRuntime != DefaultContainerRuntime {
		p.add("containerRuntime", errors.New("kind nodes run containerd only"))
	}
	p.refuse("only for provider minikube: kind has no such setting", "insecureRegistries", "extraStartArgs")
	if v, err := NormalizeKubernetesVersion(f.KubernetesVersion); err == nil && v != "" && !fullVersion.MatchString(v) {
		p.add("kubernetesVersion", fmt.Errorf("kind needs a full version such as v1.37.0 (its node images are per patch release), not %q", f.KubernetesVersion))
	}
}

func minikubeFile(name, kubeContext string) (string, error) {
	if kubeContext != "" {
		return "", fmt.Errorf("a context is only for provider existing: minikube names its context after the cluster (%q)", name)
	}
	return minikubeTemplate, nil
}

func kindFile(name, kubeContext string) (string, error) {
	if kubeContext != "" {
		return "", fmt.Errorf("a context is only for provider existing: kind names its context kind-%s", name)
	}
	return kindTemplate, nil
}

func existingFile(_, kubeContext string) (string, error) {
	if kubeContext == "" {
		return "", errors.New("provider existing needs the kubeconfig context of the cluster: `kubectl config get-contexts` lists them")
	}
	return strings.ReplaceAll(existingTemplate, "@CONTEXT@", quoteScalar(kubeContext)), nil
}

func minikubeSettings(c *Config, out *File) {
	out.CPUs = c.CPUs.String()
	out.Memory = memoryText(c.Memory)
	out.Driver = c.Driver
	out.ContainerRuntime = runtimeText(c.ContainerRuntime)
	out.KubernetesVersion = c.KubernetesVersion
	out.InsecureRegistries = slices.Clone(c.InsecureRegistries)
	out.ExtraStartArgs = slices.Clone(c.ExtraStartArgs)
}

func kindSettings(c *Config, out *File) {
	out.ContainerRuntime = runtimeText(c.ContainerRuntime)
	out.KubernetesVersion = c.KubernetesVersion
}
