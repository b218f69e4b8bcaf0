// Package kind drives the kind CLI (Kubernetes in Docker) through the
// run.Runner seam, and docker only where kind has no command for the job:
// the nodes' state and IPs (`docker inspect`), the kind network's gateway
// (`docker network inspect`), files on the nodes (`docker exec`, and
// `docker cp` to read one from a stopped node), start/unpause (kind cannot
// start a stopped cluster), and whether a cluster has nodes when kind is
// not installed (`docker ps` by kind's label).
//
// kind cannot change a cluster after it is created, so the cluster
// configuration devcluster generated is recorded on the control-plane node
// (/kind/devcluster-cluster.yaml, beside kind's own /kind/version) and every
// `up` compares it with the configuration asked for, whether the cluster
// runs or not: a difference is drift (exit 4), which `up --recreate`
// resolves by deleting and recreating. A kind cluster without the record
// was not created by devcluster: it is Foreign, and devcluster neither
// recreates nor deletes it.
package kind

import (
	"context"
	"os"
	"strings"

	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/provider"
)

// Name is the provider's name in devcluster.yaml.
const Name = "kind"

// recordPath is where the generated cluster configuration is kept on the
// control-plane node.
const recordPath = "/kind/devcluster-cluster.yaml"

// Kind is the kind provider.
type Kind struct {
	runner run.Runner
	binary string
	docker string
	env    func(string) (string, bool)
	// kubeconfig is the explicit kubeconfig file ("" = kind's default,
	// the files of $KUBECONFIG or ~/.kube/config).
	kubeconfig string
}

// Option configures a Kind.
type Option func(*Kind)

// WithBinary sets the kind executable (default "kind" on PATH).
func WithBinary(path string) Option {
	return func(k *Kind) {
		if path != "" {
			k.binary = path
		}
	}
}

// WithDocker sets the docker executable (default "docker" on PATH).
func WithDocker(path string) Option {
	return func(k *Kind) {
		if path != "" {
			k.docker = path
		}
	}
}

// WithEnv sets how the environment is read (KUBECONFIG, HOME).
func WithEnv(lookup func(string) (string, bool)) Option {
	return func(k *Kind) {
		if lookup != nil {
			k.env = lookup
		}
	}
}

// WithKubeconfig makes kind write and delete the cluster's context in
// file (kind's --kubeconfig) instead of $KUBECONFIG or ~/.kube/config, and
// the context is looked up there.
func WithKubeconfig(file string) Option {
	return func(k *Kind) { k.kubeconfig = file }
}

// New returns a kind provider that runs commands through r.
func New(r run.Runner, opts ...Option) *Kind {
	k := &Kind{runner: r, binary: "kind", docker: "docker", env: os.LookupEnv}
	for _, o := range opts {
		o(k)
	}
	return k
}

var _ provider.Provider = (*Kind)(nil)

// Name implements provider.Provider.
func (k *Kind) Name() string { return Name }

// OwnsClusters implements provider.Provider: devcluster creates and
// deletes kind clusters.
func (k *Kind) OwnsClusters() bool { return true }

func (k *Kind) kind(ctx context.Context, p provider.Progress, args ...string) (run.Result, error) {
	c := run.Cmd{Name: k.binary, Args: args}
	if p != nil {
		c.OnLine = func(_ run.Stream, line string) {
			if l := strings.TrimSpace(line); l != "" {
				p(l)
			}
		}
	}
	return k.runner.Run(ctx, c)
}

func (k *Kind) dockerRun(ctx context.Context, args ...string) (run.Result, error) {
	return k.runner.Run(ctx, run.Cmd{Name: k.docker, Args: args})
}

var (
	_ provider.Installable  = (*Kind)(nil)
	_ provider.Stoppable    = (*Kind)(nil)
	_ provider.Resumable    = (*Kind)(nil)
	_ provider.Comparer     = (*Kind)(nil)
	_ provider.NodeAccess   = (*Kind)(nil)
	_ provider.LogCollector = (*Kind)(nil)
)
