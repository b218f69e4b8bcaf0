package bootstrap

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
)

// Every wait maps the same way: a wait that ran out is exit 6, anything
// else exit 1, the cause kept for errors.Is.
func TestWaitProblem(t *testing.T) {
	t.Parallel()
	timedOut := fmt.Errorf("1 of 1 nodes not Ready: dev: %w", kube.ErrTimeout)
	err := waitProblem("waiting", timedOut, "raise it")
	if problem.KindOf(err) != problem.Timeout || !errors.Is(err, kube.ErrTimeout) || problem.FixOf(err) != "raise it" {
		t.Errorf("timeout: kind %v, err %v, fix %q; want Timeout keeping the cause", problem.KindOf(err), err, problem.FixOf(err))
	}
	if err := waitProblem("waiting", errors.New("forbidden"), ""); problem.KindOf(err) != problem.Failed {
		t.Errorf("failure: kind %v, want Failed", problem.KindOf(err))
	}
}

// up and deploy turn a failed rollout into one problem: the failing pod
// through the context, a hint for image pulls, the caller's advice last.
func TestRolloutProblem(t *testing.T) {
	t.Parallel()
	failing := func(reason, msg string) error {
		return &kube.FailedError{Workload: kube.Workload{Kind: "Deployment", Namespace: "team", Name: "web"},
			Failure: kube.PodFailure{Pod: "web-1", Container: "main", Reason: reason, Message: msg}}
	}
	for _, tc := range []struct {
		name, kctx, then string
		err              error
		kind             problem.Kind
		fix              []string
		notFix           []string
	}{
		{name: "image pull", kctx: "dev", err: failing("ImagePullBackOff", "Back-off pulling image"), kind: problem.Failed,
			fix: []string{"see `kubectl --context dev -n team describe pod web-1`", "devcluster registry ls"}, notFix: []string{"hosts.toml"}},
		{name: "plain HTTP", kctx: "dev", err: failing("ErrImagePull", "failed to pull image: http: server gave HTTP response to HTTPS client"), kind: problem.Failed,
			fix: []string{"describe pod web-1", "hosts.toml"}, notFix: []string{"registry ls"}},
		{name: "crash with advice", kctx: "my ctx", then: "run with --rollback-on-failure", err: failing("CrashLoopBackOff", "back-off restarting"), kind: problem.Failed,
			fix: []string{"`kubectl --context 'my ctx' -n team describe pod web-1`; run with --rollback-on-failure"}, notFix: []string{"registry ls"}},
		{name: "timeout", kctx: "dev", err: fmt.Errorf("Deployment team/web: 0 of 1 updated: %w", kube.ErrTimeout), kind: problem.Timeout,
			fix: []string{"look at `kubectl --context dev get pods -A` and the workloads' events"}},
		{name: "current context", err: failing("Error", "exit 1"), kind: problem.Failed,
			fix: []string{"see `kubectl -n team describe pod web-1`"}, notFix: []string{"--context"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := rolloutProblem("rolling out", tc.kctx, tc.err, tc.then)
			if problem.KindOf(err) != tc.kind || !errors.Is(err, tc.err) || !strings.HasPrefix(err.Error(), "rolling out: ") {
				t.Errorf("kind %v, err %v; want %v wrapping the cause", problem.KindOf(err), err, tc.kind)
			}
			fix := problem.FixOf(err)
			for _, w := range tc.fix {
				if !strings.Contains(fix, w) {
					t.Errorf("fix %q lacks %q", fix, w)
				}
			}
			for _, w := range tc.notFix {
				if strings.Contains(fix, w) {
					t.Errorf("fix %q has %q", fix, w)
				}
			}
		})
	}
}
