package bootstrap

import (
	"errors"
	"fmt"
	"strings"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/kube"
)

// waitProblem is the problem of a bounded wait that did not succeed: a
// Timeout (exit 6) when the wait ran out (kube.ErrTimeout), else a
// failure (exit 1). Every wait on the cluster reports through it.
func waitProblem(what string, err error, fix string) error {
	kind := problem.Failed
	if errors.Is(err, kube.ErrTimeout) {
		kind = problem.Timeout
	}
	return problem.New(kind, what, err, fix)
}

// rolloutProblem turns a failed kube.WaitForRollouts into the problem up
// and deploy report (see waitProblem for the kind). The fix points at the
// failing pod through the context kctx, with a hint when the pull of its
// image failed, or else at the pods and their events; then, when set, is
// added to it.
func rolloutProblem(what, kctx string, err error, then string) error {
	fix := "look at `" + kubectl(kctx) + " get pods -A` and the workloads' events"
	var fe *kube.FailedError
	if errors.As(err, &fe) && fe.Failure.Pod != "" {
		fix = fmt.Sprintf("see `%s -n %s describe pod %s`", kubectl(kctx), fe.Workload.Namespace, fe.Failure.Pod)
		switch {
		case strings.Contains(fe.Failure.Message, "server gave HTTP response to HTTPS client"):
			fix += "; the node does not pull from the registry over plain HTTP: its /etc/containerd/certs.d/<registry>/hosts.toml is missing " +
				"(`devcluster up` writes it for containerd; for docker and cri-o the cluster needs --insecure-registry, `devcluster up --recreate`)"
		case strings.Contains(fe.Failure.Reason, "Image") || strings.Contains(fe.Failure.Message, "pull image"):
			fix += "; check the image name and that it was pushed (`devcluster registry ls`)"
		}
	}
	if then != "" {
		fix += "; " + then
	}
	return waitProblem(what, err, fix)
}

// kubectl is the kubectl command line for the context kctx ("" is the
// current context).
func kubectl(kctx string) string {
	if kctx == "" {
		return "kubectl"
	}
	return "kubectl --context " + run.ShellQuote(kctx)
}
