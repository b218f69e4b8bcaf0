// Package kube holds devcluster's Kubernetes client helpers: clients built
// from kubeconfig by client-go's own loading rules, pure "is it ready?"
// decisions, and the bounded wait loops that drive them.
package kube

import (
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

// Applier returns a server-side applier whose kinds are resolved through the
// cluster's discovery (cached for the life of the Clients).
func (c *Clients) Applier() (*Applier, error) {
	if c.applier != nil {
		return c.applier, nil
	}
	if c.Dynamic == nil {
		dyn, err := dynamic.NewForConfig(c.Config)
		if err != nil {
			return nil, err
		}
		c.Dynamic = dyn
	}
	if c.Mapper == nil {
		disc, err := discovery.NewDiscoveryClientForConfig(c.Config)
		if err != nil {
			return nil, err
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
