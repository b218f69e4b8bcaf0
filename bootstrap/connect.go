package bootstrap

import (
	"context"
	"fmt"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/kube"
)

// connectWhat is what every failure to reach the cluster says failed.
const connectWhat = "connecting to the cluster"

// probe says how much of the cluster connectCluster checks before it returns.
type probe int

const (
	// clientsOnly builds the clients and asks nothing: the caller's own
	// bounded wait follows (up's readiness wait, status's check).
	clientsOnly probe = iota
	// answering also asks the API server for /version, bounded by
	// kube.VersionTimeout, so that a cluster that is gone or a context
	// that points elsewhere fails here, plainly, instead of in the
	// caller's first request.
	answering
)

// contextOrigin says where the kubeconfig context came from, which decides
// the exit code of a context that cannot be loaded.
type contextOrigin int

const (
	// fromCluster: the provider's cluster names its context; a context
	// that cannot be loaded is a failure (exit 1).
	fromCluster contextOrigin = iota
	// fromFlags: the user named it (deploy's --context and --kubeconfig);
	// a context that cannot be loaded is bad input (exit 2).
	fromFlags
)

// loadClients builds the clients for the kubeconfig context kctx ("" is
// the kubeconfig's current context) through deps.Kube, which follows
// client-go's loading rules: --kubeconfig, else the files of $KUBECONFIG,
// else ~/.kube/config. It is the one place bootstrap makes clients; its
// error is the loader's, for the callers that report it as a finding
// (status, diagnose) rather than fail on it.
func loadClients(deps Deps, kctx string) (*kube.Clients, error) {
	return deps.Kube(kctx)
}

// connectCluster is the one way bootstrap reaches a cluster: the clients for the
// kubeconfig context kctx (see loadClients) and, with answering, an API
// server that answers. Its errors are problems on connectWhat with the
// fixes of connectFix and answerFix.
func connectCluster(ctx context.Context, deps Deps, kctx string, origin contextOrigin, p probe) (*kube.Clients, error) {
	c, err := loadClients(deps, kctx)
	if err != nil {
		kind := problem.Failed
		if origin == fromFlags {
			kind = problem.Usage
		}
		return nil, problem.New(kind, connectWhat, err, connectFix(kctx))
	}
	if p == answering {
		if _, err := kube.ServerVersion(ctx, c.Kube, kube.VersionTimeout); err != nil {
			return nil, problem.New(problem.Failed, connectWhat, err, answerFix(c.Context))
		}
	}
	return c, nil
}

// connectFix is the advice for a kubeconfig context that cannot be loaded.
func connectFix(kctx string) string {
	if kctx == "" {
		return "check that your kubeconfig has a current context (`kubectl config get-contexts`; --kubeconfig and $KUBECONFIG choose the file)"
	}
	return fmt.Sprintf("check that your kubeconfig has the context %q (`kubectl config get-contexts`; --kubeconfig and $KUBECONFIG choose the file)", kctx)
}

// answerFix is the advice for an API server that does not answer.
func answerFix(kctx string) string {
	if kctx == "" {
		return "check that the cluster runs and the current context points at it (`kubectl cluster-info`)"
	}
	return fmt.Sprintf("check that the cluster runs and the context %q points at it (`kubectl --context %s cluster-info`)", kctx, run.ShellQuote(kctx))
}

// applierOf is the clients' server-side applier, its failure a problem on
// connectWhat.
func applierOf(c *kube.Clients) (*kube.Applier, error) {
	a, err := c.Applier()
	if err != nil {
		return nil, problem.New(problem.Failed, connectWhat, err, "")
	}
	return a, nil
}
