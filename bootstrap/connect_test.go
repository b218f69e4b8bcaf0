package bootstrap

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
)

// silentServer is a clientset whose API server refuses /version, as a
// cluster that is gone (or a context that points elsewhere) does.
func silentServer() *fake.Clientset {
	k := fake.NewClientset()
	k.PrependReactor("get", "version", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	})
	return k
}

func clientsOf(k *fake.Clientset) kube.Loader {
	return func(kctx string) (*kube.Clients, error) {
		return &kube.Clients{Config: &rest.Config{Host: "https://127.0.0.1:1"}, Kube: k, Context: kctx}, nil
	}
}

// Every caller reaches the cluster the same way: one "what", one fix for a
// context that cannot be loaded, one for a server that does not answer;
// the exit code of an unloadable context follows where the context came
// from.
func TestConnectCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	noContext := func(kctx string) (*kube.Clients, error) {
		return nil, errors.New(`loading kubeconfig context "` + kctx + `": context was not found`)
	}
	for _, tc := range []struct {
		name     string
		loader   kube.Loader
		kctx     string
		origin   contextOrigin
		probe    probe
		kind     problem.Kind
		inFix    []string
		inCause  string
		wantNone bool
	}{
		{name: "the provider's context is missing", loader: noContext, kctx: "dev", origin: fromCluster,
			kind: problem.Failed, inFix: []string{`the context "dev"`, "kubectl config get-contexts", "--kubeconfig"}, inCause: "context was not found"},
		{name: "the user's context is missing", loader: noContext, kctx: "nope", origin: fromFlags, probe: answering,
			kind: problem.Usage, inFix: []string{`the context "nope"`, "kubectl config get-contexts"}, inCause: "context was not found"},
		{name: "no current context", loader: noContext, origin: fromFlags,
			kind: problem.Usage, inFix: []string{"a current context", "kubectl config get-contexts"}},
		{name: "the server does not answer", loader: clientsOf(silentServer()), kctx: "my ctx", probe: answering,
			kind: problem.Failed, inFix: []string{`the context "my ctx" points at it`, "kubectl --context 'my ctx' cluster-info"}, inCause: "connection refused"},
		{name: "clients only asks nothing", loader: clientsOf(silentServer()), kctx: "dev", probe: clientsOnly, wantNone: true},
		{name: "the server answers", loader: clientsOf(fake.NewClientset()), kctx: "dev", probe: answering, wantNone: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := connectCluster(ctx, Deps{Kube: tc.loader}, tc.kctx, tc.origin, tc.probe)
			if tc.wantNone {
				if err != nil || c == nil || c.Context != tc.kctx {
					t.Fatalf("connectCluster = %+v, %v; want the clients of %q", c, err, tc.kctx)
				}
				return
			}
			var p *problem.Error
			if !errors.As(err, &p) || c != nil {
				t.Fatalf("connectCluster = %+v, %v; want a problem", c, err)
			}
			if p.Kind != tc.kind || p.What != connectWhat {
				t.Errorf("problem kind %v, what %q; want %v, %q", p.Kind, p.What, tc.kind, connectWhat)
			}
			for _, w := range tc.inFix {
				if !strings.Contains(p.Fix, w) {
					t.Errorf("fix %q lacks %q", p.Fix, w)
				}
			}
			if !strings.Contains(err.Error(), tc.inCause) {
				t.Errorf("error %q lacks the cause %q", err, tc.inCause)
			}
		})
	}
}

// `lb` once against a cluster whose API server does not answer says so,
// with the way to check the context, instead of failing in its first list.
func TestLBOnceChecksTheAPIServerAnswers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := Up(ctx, f.deps, f.cfg(nil), UpOptions{}); err != nil {
		t.Fatalf("up: %v", err)
	}
	f.deps.Kube = clientsOf(silentServer())
	_, err := AssignLoadBalancers(ctx, f.deps, f.cfg(nil), LBOptions{})
	var p *problem.Error
	if !errors.As(err, &p) || p.What != connectWhat || !strings.Contains(p.Fix, "cluster-info") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v (fix %q), want the API server named as not answering", err, problem.FixOf(err))
	}
}

// The dashboard needs the agent whatever the API server does: with neither,
// the problem is the agent's (exit 3, "run devcluster up"), as before the
// API server was asked first.
func TestDashboardWithoutAgentOrAPIServerAsksForUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	cfg := f.cfg(nil)
	if _, err := Up(ctx, f.deps, cfg, UpOptions{}); err != nil {
		t.Fatalf("up: %v", err)
	}
	dirs, err := f.deps.Dirs(cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.deps.Agent.Stop(ctx, dirs.State); err != nil {
		t.Fatal(err)
	}
	f.deps.Kube = clientsOf(silentServer())
	_, err = Dashboard(ctx, f.deps, cfg, DashboardOptions{})
	if problem.KindOf(err) != problem.NotRunning || !strings.Contains(problem.FixOf(err), "devcluster up") {
		t.Fatalf("err = %v (kind %v, fix %q), want the agent named as not running", err, problem.KindOf(err), problem.FixOf(err))
	}
}
