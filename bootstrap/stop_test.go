package bootstrap

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run/runtest"
	"github.com/devcluster/devcluster/provider"
	"github.com/devcluster/devcluster/provider/existing"
	"github.com/devcluster/devcluster/provider/kind"
)

// stop on kind stops the node containers and the agent and keeps the
// cluster; up starts the containers again (no create), waits for the API
// and starts the agent.
func TestStopAndResumeOnKind(t *testing.T) {
	t.Parallel()
	f, k, runner, cfg := newKindFixture(t)
	if _, err := Up(context.Background(), f.deps, cfg, UpOptions{}); err != nil {
		t.Fatalf("up: %v", err)
	}
	res, err := Stop(context.Background(), f.deps, cfg)
	if err != nil {
		t.Fatalf("stop: %v", err)
	}
	if !res.Stopped || !res.AgentStopped || res.Was != provider.Running {
		t.Errorf("stop = %+v", res)
	}
	if !slices.ContainsFunc(runner.Calls(), func(c []string) bool { return strings.Join(c, " ") == "docker stop dev-control-plane" }) {
		t.Errorf("the node container was not stopped: %q", runner.Calls())
	}
	have, err := f.deps.Provider.Get(context.Background(), "dev")
	if err != nil || have.State != provider.Stopped || !k.created {
		t.Fatalf("after stop: %+v, %v (created %v)", have, err, k.created)
	}
	if st, _ := f.deps.Agent.Status(context.Background(), stateDir(t, f)); st != nil && st.Running {
		t.Errorf("the agent still runs after stop: %+v", st)
	}
	// Again: nothing to do, no docker stop.
	before := len(runner.Calls())
	if res, err := Stop(context.Background(), f.deps, cfg); err != nil || res.Stopped {
		t.Errorf("second stop = %+v, %v", res, err)
	}
	for _, c := range runner.Calls()[before:] {
		if c[0] == "docker" && c[1] == "stop" {
			t.Errorf("a stopped cluster was stopped again: %q", c)
		}
	}
	up, err := Up(context.Background(), f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatalf("up after stop: %v", err)
	}
	if !slices.Contains(up.Actions, "started") || slices.Contains(up.Actions, "created") || up.Cluster.State != provider.Running {
		t.Errorf("up after stop: actions %v, state %s", up.Actions, up.Cluster.State)
	}
	if st, err := f.deps.Agent.Status(context.Background(), stateDir(t, f)); err != nil || st == nil || !st.Running {
		t.Errorf("the agent does not run after up: %+v, %v", st, err)
	}
}

func TestStopRefusesWhatItCannotStop(t *testing.T) {
	t.Parallel()
	f, k, runner, cfg := newKindFixture(t)
	k.foreign()
	if _, err := Stop(context.Background(), f.deps, cfg); problem.KindOf(err) != problem.Drift || !strings.Contains(err.Error(), "not created by devcluster") {
		t.Errorf("stop of a foreign kind cluster: %v", err)
	}
	for _, c := range runner.Calls() {
		if c[0] == "docker" && c[1] == "stop" {
			t.Errorf("a foreign cluster's node was stopped: %q", c)
		}
	}
	f.deps.Provider = existing.New("staging")
	if _, err := Stop(context.Background(), f.deps, cfg); problem.KindOf(err) != problem.Usage {
		t.Errorf("stop with provider existing: %v", err)
	}
	k2 := &fakeKind{files: map[string]bool{}}
	f.deps.Provider = kind.New(&runtest.Fake{Handler: k2.reply}, kind.WithEnv(func(string) (string, bool) { return "", false }))
	if _, err := Stop(context.Background(), f.deps, cfg); problem.KindOf(err) != problem.NotRunning {
		t.Errorf("stop of a missing cluster: %v", err)
	}
}

func stateDir(t *testing.T, f *fixture) string {
	t.Helper()
	d, err := f.deps.Dirs("dev")
	if err != nil {
		t.Fatal(err)
	}
	return d.State
}

// newKindFixture is a fixture whose provider is kind, answered by a
// fakeKind, and the configuration of its cluster "dev".
func newKindFixture(t *testing.T) (*fixture, *fakeKind, *runtest.Fake, *config.Config) {
	t.Helper()
	f := newFixture(t)
	k := &fakeKind{files: map[string]bool{}}
	runner := &runtest.Fake{Handler: k.reply}
	f.deps.Provider = kind.New(runner, kind.WithEnv(func(string) (string, bool) { return "", false }))
	return f, k, runner, f.cfg(func(file *config.File) { file.Provider = "kind" })
}
