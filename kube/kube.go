// Package kube holds devcluster's Kubernetes client helpers: clients built
// from kubeconfig by client-go's own loading rules (or over injected typed
// and dynamic clients and a REST mapper: client-go's fakes in tests),
// manifests and their server-side apply, pure "is it ready?" decisions and
// the bounded wait loops that drive them, a deploy's writes and their
// undoing, and what a diagnostics bundle reads of the cluster.
package kube

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/devcluster/devcluster/internal/kubeconfig"
)

// Clients are the clients for one cluster.
type Clients struct {
	Config  *rest.Config
	Kube    kubernetes.Interface
	Context string
	// Namespace is the context's namespace ("" when it sets none).
	Namespace string
	// Dynamic and Mapper, when set, are the dynamic client and the REST
	// mapper of Applier (tests inject client-go's fakes); nil means made
	// from Config, the kinds resolved through the cluster's discovery.
	Dynamic dynamic.Interface
	Mapper  meta.RESTMapper

	applier *Applier
}

// NewClients returns Clients over clients built elsewhere: the typed
// client, the dynamic client and the REST mapper of Applier. Tests pass
// client-go's fakes (k8s.io/client-go/kubernetes/fake,
// k8s.io/client-go/dynamic/fake); a nil mapper resolves kinds through the
// typed client's discovery, as production does through the cluster's.
func NewClients(k kubernetes.Interface, dyn dynamic.Interface, mapper meta.RESTMapper, context string) *Clients {
	return &Clients{Kube: k, Dynamic: dyn, Mapper: mapper, Context: context}
}

// Applier returns a server-side applier whose kinds are resolved through the
// cluster's discovery (cached for the life of the Clients). Without Config,
// the dynamic client must be given; the mapper is then discovery's of Kube.
func (c *Clients) Applier() (*Applier, error) {
	if c.applier != nil {
		return c.applier, nil
	}
	if c.Dynamic == nil {
		if c.Config == nil {
			return nil, errors.New("no dynamic client: the clients have neither one nor a REST config to build it from")
		}
		dyn, err := dynamic.NewForConfig(c.Config)
		if err != nil {
			return nil, err
		}
		c.Dynamic = dyn
	}
	if c.Mapper == nil {
		var disc discovery.DiscoveryInterface
		switch {
		case c.Config != nil:
			d, err := discovery.NewDiscoveryClientForConfig(c.Config)
			if err != nil {
				return nil, err
			}
			disc = d
		case c.Kube != nil:
			disc = c.Kube.Discovery()
		default:
			return nil, errors.New("no REST mapper: the clients have neither one nor a client whose discovery maps kinds")
		}
		c.Mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	}
	c.applier = &Applier{Dynamic: c.Dynamic, Mapper: c.Mapper}
	return c.applier, nil
}

// Loader builds clients for a kubeconfig context. Tests inject one that
// returns fake clientsets.
type Loader func(context string) (*Clients, error)

// KubeconfigLoader returns a Loader that follows clientcmd's rules: the
// explicit path if given, else $KUBECONFIG (a list of files), else
// ~/.kube/config, selecting the named context.
func KubeconfigLoader(explicitPath string) Loader {
	return func(context string) (*Clients, error) {
		rules := kubeconfig.Rules(explicitPath, nil)
		overrides := &clientcmd.ConfigOverrides{CurrentContext: context}
		cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
		cfg, err := cc.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("loading kubeconfig context %q: %w", context, err)
		}
		cfg.UserAgent = "devcluster"
		// Local clusters answer quickly; client-go's default of 5 QPS would
		// make a burst of new Services (each a status apply and an Event)
		// wait seconds for nothing. The API server's priority and fairness
		// still protects it.
		cfg.QPS, cfg.Burst = 200, 400
		k, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("creating a client for context %q: %w", context, err)
		}
		ns, _, _ := cc.Namespace()
		if raw, err := cc.RawConfig(); err == nil && context == "" {
			context = raw.CurrentContext
		}
		return &Clients{Config: cfg, Kube: k, Context: context, Namespace: ns}, nil
	}
}
