// Package existing is the provider of a cluster devcluster did not create:
// any kubeconfig context. It never creates, starts, changes or deletes the
// cluster; `up` checks through the context that the cluster is reachable
// and ready (the orchestrator's wait step) and then runs only what is
// turned on, and `down` removes only what devcluster itself put there.
//
// devcluster cannot reach the nodes of such a cluster, so it writes no
// files on them (RunOnNode and CopyToNode return ErrNoNodeAccess): nodes
// that pull from devcluster's registry must be told to trust it over plain
// HTTP by whoever runs them.
package existing

import (
	"context"
	"errors"
	"fmt"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/provider"
)

// Name is the provider's name in devcluster.yaml.
const Name = "existing"

// Existing uses one kubeconfig context.
type Existing struct {
	context string
}

// New returns the provider of the cluster behind kubeconfig context ctx.
func New(ctx string) *Existing { return &Existing{context: ctx} }

var _ provider.Provider = (*Existing)(nil)

// Name implements provider.Provider.
func (e *Existing) Name() string { return Name }

// OwnsClusters implements provider.Provider: the cluster is someone
// else's, and may be shared.
func (e *Existing) OwnsClusters() bool { return false }

// EnsureInstalled implements provider.Provider: there is no tool to run.
func (e *Existing) EnsureInstalled(context.Context) (string, error) {
	return "kubeconfig context " + e.context, nil
}

// Get implements provider.Provider. The cluster is taken to run; whether it
// answers and is ready is checked through the context by the caller, the
// one place that talks to Kubernetes.
func (e *Existing) Get(_ context.Context, name string) (*provider.Cluster, error) {
	return &provider.Cluster{Name: name, Provider: Name, State: provider.Running, KubeContext: e.context,
		KubeconfigOK: true, InsecureRegistries: []string{}}, nil
}

// Diff implements provider.Provider: nothing of the cluster is configured
// by devcluster, so nothing can differ.
func (e *Existing) Diff(provider.Spec, *provider.Cluster) []provider.Difference { return nil }

func (e *Existing) refuse(what string) error {
	return problem.New(problem.Usage, fmt.Sprintf("cannot %s the cluster of context %q", what, e.context),
		errors.New("provider existing never creates, starts or changes a cluster"),
		"start or repair the cluster with the tools that run it, then run `devcluster up` again")
}

// Create implements provider.Provider by refusing.
func (e *Existing) Create(context.Context, provider.Spec, provider.Progress) error {
	return e.refuse("create")
}

// Start implements provider.Provider by refusing.
func (e *Existing) Start(context.Context, string, provider.Progress) error { return e.refuse("start") }

// Unpause implements provider.Provider by refusing.
func (e *Existing) Unpause(context.Context, string, provider.Progress) error {
	return e.refuse("unpause")
}

// RepairKubeconfig implements provider.Provider: the kubeconfig is the
// user's, and is left alone.
func (e *Existing) RepairKubeconfig(context.Context, string) error { return nil }

// IP implements provider.Provider: there is no one node IP to report.
func (e *Existing) IP(context.Context, string) (string, error) { return "", nil }

// ErrNoNodeAccess is returned for commands on nodes devcluster cannot
// reach.
var ErrNoNodeAccess = provider.ErrNoNodeAccess

// RunOnNode implements provider.Provider: nodes are out of reach.
func (e *Existing) RunOnNode(context.Context, string, string, ...string) ([]byte, error) {
	return nil, ErrNoNodeAccess
}

// CopyToNode implements provider.Provider: nodes are out of reach.
func (e *Existing) CopyToNode(context.Context, string, string, string, string) error {
	return ErrNoNodeAccess
}

// Logs implements provider.Provider: the cluster's logs are not devcluster's
// to collect.
func (e *Existing) Logs(context.Context, string, string) error { return ErrNoNodeAccess }

// Delete implements provider.Provider: the cluster stays; down removes only
// what devcluster put into it.
func (e *Existing) Delete(context.Context, string, provider.Progress) error { return nil }
