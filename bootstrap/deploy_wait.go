package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/devcluster/devcluster/kube"
)

// waitRollouts waits for the workloads — the named ones and those the
// manifests changed — and explains a failure.
func waitRollouts(ctx context.Context, s *deployState) (string, error) {
	k := s.clients.Kube
	var ws []kube.Workload
	for _, pw := range s.plan.workloads {
		named := false
		for _, w := range s.in.workloads {
			named = named || w == pw.Workload
		}
		if named || pw.changed {
			ws = append(ws, pw.Workload)
		}
	}
	states, err := kube.WaitForRollouts(ctx, k, ws, s.o.Timeout, s.deps.Report.Progress)
	s.rollouts = states
	if err == nil {
		return fmt.Sprintf("%d rolled out", len(states)), nil
	}
	var fe *kube.FailedError
	if errors.As(err, &fe) {
		f := &DeployFailure{Workload: fe.Workload.String(), Pod: fe.Failure.Pod, Container: fe.Failure.Container,
			Reason: fe.Failure.Reason, Message: fe.Failure.Message, Events: fe.Events}
		if f.Pod != "" && f.Container != "" {
			// The container that just failed, else its previous instance
			// (a crash loop waits with no current one).
			logs := kube.PodLogs(ctx, k, fe.Workload.Namespace, f.Pod, f.Container, false, 20)
			if logs == "" {
				logs = kube.PodLogs(ctx, k, fe.Workload.Namespace, f.Pod, f.Container, true, 20)
			}
			if logs != "" {
				f.Logs = strings.Split(logs, "\n")
				err = fmt.Errorf("%w\n  last log lines of %s/%s:\n    %s", err, f.Pod, f.Container, strings.Join(f.Logs, "\n    "))
			}
		}
		s.failure = f
	}
	then := rollbackAdvice
	if s.o.Rollback {
		then = rollbackPending
	}
	return "", rolloutProblem("rolling out", s.clients.Context, err, then)
}
