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
	context    string
	kubeconfig provider.Kubeconfig
}

// Option configures an Existing.
type Option func(*Existing)

// WithKubeconfig reads the context from file (--kubeconfig) instead of
// $KUBECONFIG's files or ~/.kube/config.
func WithKubeconfig(file string) Option {
	return func(e *Existing) { e.kubeconfig.Path = file }
}

// WithEnv sets how KUBECONFIG and HOME are read (default: this process'
// environment).
func WithEnv(lookup func(string) (string, bool)) Option {
	return func(e *Existing) { e.kubeconfig.Env = lookup }
}

// New returns the provider of the cluster behind kubeconfig context ctx.
func New(ctx string, opts ...Option) *Existing {
	e := &Existing{context: ctx}
	for _, o := range opts {
		o(e)
	}
	return e
}

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

// Get implements provider.Provider from the kubeconfig: a context it does
// not have is Absent, one whose cluster or user it does not define (or an
// unreadable kubeconfig) Invalid. Otherwise the cluster is taken to run;
// whether it answers and is ready is checked through the context by the
// caller, the one place that talks to Kubernetes.
func (e *Existing) Get(_ context.Context, name string) (*provider.Cluster, error) {
	c := &provider.Cluster{Name: name, Provider: Name, State: provider.Running, KubeContext: e.context, InsecureRegistries: []string{}}
	if err := e.checkContext(); err != nil {
		c.State, c.Detail = provider.Invalid, err.Error()
		if errors.As(err, new(*noContext)) {
			c.State = provider.Absent
		}
		return c, nil
	}
	c.KubeconfigOK = true
	return c, nil
}

// noContext means the kubeconfig has no context of that name.
type noContext struct{ files, name string }

func (e *noContext) Error() string {
	return fmt.Sprintf("the kubeconfig (%s) has no context %q", e.files, e.name)
}

// checkContext says what is wrong with the context in the kubeconfig, if
// anything.
func (e *Existing) checkContext() error {
	cfg, err := e.kubeconfig.Load()
	if err != nil {
		return err
	}
	ctx := cfg.Contexts[e.context]
	switch {
	case ctx == nil:
		return &noContext{files: orDefault(e.kubeconfig.Files()), name: e.context}
	case cfg.Clusters[ctx.Cluster] == nil:
		return fmt.Errorf("context %q names cluster %q, which the kubeconfig (%s) does not define", e.context, ctx.Cluster, orDefault(e.kubeconfig.Files()))
	}
	return nil
}

func orDefault(files string) string {
	if files == "" {
		return "~/.kube/config"
	}
	return files
}

// Diff implements provider.Provider: nothing of the cluster is configured
// by devcluster, so nothing can differ.
func (e *Existing) Diff(provider.Spec, *provider.Cluster) []provider.Difference { return nil }

func (e *Existing) refuse(what string) error {
	return problem.New(problem.Usage, fmt.Sprintf("cannot %s the cluster of context %q", what, e.context),
		errors.New("provider existing never creates, starts, changes or deletes a cluster"),
		"start or repair the cluster with the tools that run it, then run `devcluster up` again")
}

// Create implements provider.Provider by refusing; a context the
// kubeconfig lacks is named as what to mend.
func (e *Existing) Create(context.Context, provider.Spec, provider.Progress) error {
	if err := e.checkContext(); errors.As(err, new(*noContext)) {
		return problem.New(problem.Config, fmt.Sprintf("using the cluster of context %q", e.context), err,
			"check the context's name (--context, or `context:` in devcluster.yaml); `kubectl config get-contexts` lists the contexts of the kubeconfig")
	}
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

// Delete implements provider.Provider by refusing: the cluster stays; down
// removes only what devcluster put into it, without calling Delete.
func (e *Existing) Delete(context.Context, string, provider.Progress) error {
	return e.refuse("delete")
}
