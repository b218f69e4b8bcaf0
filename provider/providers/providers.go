// Package providers is the registry of providers: for each name of
// config's registry (config.LookupProvider: the names and the facts the
// configuration needs), the constructor of its provider. The command line
// builds providers here, and renders a cluster it only has the record of
// (status) through the provider that made it.
package providers

import (
	"fmt"
	"strings"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/provider"
	"github.com/devcluster/devcluster/provider/existing"
	"github.com/devcluster/devcluster/provider/kind"
	"github.com/devcluster/devcluster/provider/minikube"
)

// Options is what the constructors take; each provider uses what it
// needs.
type Options struct {
	// Runner runs the providers' tools.
	Runner run.Runner
	// Env reads the environment the tools run in (nil: this process').
	Env func(string) (string, bool)
	// Kubeconfig is --kubeconfig ("" follows client-go's rules).
	Kubeconfig string
	// Context is the kubeconfig context of a cluster devcluster did not
	// create (provider existing).
	Context string
	// Binary is the executable of a tool by its name ("minikube",
	// "kind"): "" is the tool on PATH. Nil is always "".
	Binary func(tool string) string
	// VersionCache is where minikube's version is remembered ("" none).
	VersionCache string
}

func (o Options) binary(tool string) string {
	if o.Binary == nil {
		return ""
	}
	return o.Binary(tool)
}

// constructors is the registry's own table, by config's names.
var constructors = map[string]func(Options) provider.Provider{
	config.ProviderMinikube: func(o Options) provider.Provider {
		return minikube.New(o.Runner, minikube.WithBinary(o.binary("minikube")), minikube.WithEnv(o.Env),
			minikube.WithVersionCache(o.VersionCache), minikube.WithKubeconfig(o.Kubeconfig))
	},
	config.ProviderKind: func(o Options) provider.Provider {
		return kind.New(o.Runner, kind.WithBinary(o.binary("kind")), kind.WithEnv(o.Env), kind.WithKubeconfig(o.Kubeconfig))
	},
	config.ProviderExisting: func(o Options) provider.Provider {
		return existing.New(o.Context, existing.WithKubeconfig(o.Kubeconfig), existing.WithEnv(o.Env))
	},
}

// New builds the provider called name.
func New(name string, o Options) (provider.Provider, error) {
	c, ok := constructors[name]
	if !ok {
		return nil, fmt.Errorf("unknown provider %q; supported: %s", name, strings.Join(config.ProviderNames(), ", "))
	}
	return c(o), nil
}

// Rows are status's lines about a cluster (provider.Describer) from the
// provider that made it, none for a provider that does not describe its
// clusters; serverVersion is what its API server says ("" unknown).
func Rows(c *provider.Cluster, serverVersion string) []provider.Row {
	p, err := New(c.Provider, Options{})
	if err != nil {
		return nil
	}
	if d, ok := p.(provider.Describer); ok {
		return d.Rows(c, serverVersion)
	}
	return nil
}
