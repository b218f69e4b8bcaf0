// Package existing is the provider of a cluster devcluster did not create:
// any kubeconfig context. It never creates, starts, changes or deletes the
// cluster; `up` checks through the context that the cluster is reachable
// and ready (the orchestrator's wait step) and then runs only what is
// turned on, and `down` removes only what devcluster itself put there.
//
// Existing implements only the core of provider.Provider and
// provider.Describer: devcluster cannot reach the nodes of such a cluster
// (no provider.NodeAccess), so it writes no files on them, and nodes that
// pull from devcluster's registry must be told to trust it over plain HTTP
// by whoever runs them; it has no logs of its own (no LogCollector), no
// node IP or network rule (no Networked), nothing it configures and could
// find drifted (no Comparer), and nothing to start (no Resumable).
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

// RepairKubeconfig implements provider.Provider: the kubeconfig is the
// user's, and is left alone (Get never finds it stale: a context that is
// not there is Absent, one that is broken Invalid).
func (e *Existing) RepairKubeconfig(context.Context, string) error { return nil }

// Delete implements provider.Provider by refusing: the cluster stays; down
// removes only what devcluster put into it, without calling Delete.
func (e *Existing) Delete(context.Context, string, provider.Progress) error {
	return e.refuse("delete")
}

var _ provider.Describer = (*Existing)(nil)

// Summary implements provider.Describer: the context, and that the
// cluster is not devcluster's.
func (e *Existing) Summary(_ string, c *provider.Cluster) string {
	return fmt.Sprintf("using kubeconfig context %s (devcluster never creates, changes or deletes this cluster)", c.KubeContext)
}

// Rows implements provider.Describer: nothing of the cluster is
// devcluster's, so only what its API server says.
func (e *Existing) Rows(_ *provider.Cluster, serverVersion string) []provider.Row {
	if serverVersion == "" {
		return nil
	}
	return []provider.Row{{Key: "KUBERNETES", Value: serverVersion}}
}

// Removal implements provider.Describer: a context is never Foreign.
func (e *Existing) Removal(*provider.Cluster) string { return "" }
