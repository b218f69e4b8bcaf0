package bootstrap

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run/runtest"
	"github.com/devcluster/devcluster/provider"
	"github.com/devcluster/devcluster/provider/kind"
)

// fakeKind answers kind and docker for one cluster "dev" that exists once
// created, with a file system per node for what devcluster writes there.
// The record is what `docker cp` reads from the control-plane node: the
// configuration devcluster created the cluster with, or none for a cluster
// created by plain `kind create cluster`.
type fakeKind struct {
	mu      sync.Mutex
	created bool
	stopped bool
	record  string          // /kind/devcluster-cluster.yaml, "" for none
	files   map[string]bool // node:path written with cp /dev/stdin
}

// foreign makes "dev" a cluster someone created with plain kind.
func (k *fakeKind) foreign() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.created, k.record = true, ""
}

func (k *fakeKind) reply(argv []string) runtest.Reply {
	k.mu.Lock()
	defer k.mu.Unlock()
	cmd := strings.Join(argv, " ")
	switch {
	case cmd == "kind version":
		return runtest.Reply{Stdout: "kind v0.33.0 go1.26.8 linux/amd64\n"}
	case strings.HasPrefix(cmd, "docker version"):
		return runtest.Reply{Stdout: "28.2.2\n"}
	case cmd == "kind get clusters":
		if k.created {
			return runtest.Reply{Stdout: "dev\n"}
		}
		return runtest.Reply{Stderr: "No kind clusters found.\n"}
	case strings.HasPrefix(cmd, "docker ps -a --filter label=io.x-k8s.kind.cluster=dev"):
		if k.created {
			return runtest.Reply{Stdout: "dev-control-plane\n"}
		}
		return runtest.Reply{}
	case strings.HasPrefix(cmd, "kind create cluster --name dev "):
		b, err := os.ReadFile(argv[slices.Index(argv, "--config")+1])
		if err != nil {
			return runtest.Reply{ExitCode: 1, Stderr: "ERROR: " + err.Error() + "\n"}
		}
		k.created, k.stopped, k.record = true, false, string(b)
		return runtest.Reply{Stderr: "Creating cluster \"dev\" ...\n ✓ Ensuring node image (kindest/node:v1.37.0) 🖼\n"}
	case strings.HasPrefix(cmd, "kind delete cluster --name dev"):
		k.created, k.record = false, ""
		return runtest.Reply{Stderr: "Deleting cluster \"dev\" ...\n"}
	case cmd == "kind get nodes --name dev":
		return runtest.Reply{Stdout: "dev-control-plane\n"}
	case strings.HasPrefix(cmd, "docker inspect -f"):
		if k.stopped {
			return runtest.Reply{Stdout: "/dev-control-plane exited control-plane ,\n"}
		}
		return runtest.Reply{Stdout: "/dev-control-plane running control-plane 172.18.0.2,\n"}
	case cmd == "docker start dev-control-plane":
		k.stopped = false
		return runtest.Reply{Stdout: "dev-control-plane\n"}
	case cmd == "docker stop dev-control-plane":
		k.stopped = true
		return runtest.Reply{Stdout: "dev-control-plane\n"}
	case strings.HasPrefix(cmd, "docker network inspect kind"):
		return runtest.Reply{Stdout: "fc00:f853:ccd:e793::1 172.18.0.1 \n"}
	case cmd == "docker cp dev-control-plane:/kind/devcluster-cluster.yaml -":
		// docker cp reads stopped containers too.
		if k.record == "" {
			return runtest.Reply{ExitCode: 1, Stderr: "Error response from daemon: Could not find the file /kind/devcluster-cluster.yaml in container dev-control-plane\n"}
		}
		return runtest.Reply{Stdout: runtest.Tar("devcluster-cluster.yaml", k.record)}
	case strings.HasPrefix(cmd, "docker exec ") && k.stopped:
		return runtest.Reply{ExitCode: 1, Stderr: "Error response from daemon: container 0123 is not running\n"}
	case strings.HasPrefix(cmd, "docker exec -i "):
		k.files[argv[3]+":"+argv[len(argv)-1]] = true
		return runtest.Reply{}
	case strings.HasPrefix(cmd, "docker exec dev-control-plane cat "):
		for _, f := range argv[4:] {
			if !k.files["dev-control-plane:"+f] {
				return runtest.Reply{ExitCode: 1, Stderr: "cat: " + f + ": No such file or directory\n"}
			}
		}
		return runtest.Reply{} // the fake keeps no contents
	}
	return runtest.Reply{}
}

// up on kind: one `kind create cluster`, the registry reached at the kind
// network's gateway, hosts.toml written through docker exec on the node,
// and a re-run that creates nothing.
func TestUpOnKind(t *testing.T) {
	t.Parallel()
	f, k, runner, cfg := newKindFixture(t)
	res, err := Up(context.Background(), f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	if res.Cluster.Provider != "kind" || res.Cluster.IP != "172.18.0.2" || res.Cluster.KubeContext != "kind-dev" {
		t.Errorf("cluster: %+v", res.Cluster)
	}
	if res.Registry == nil || !strings.HasPrefix(res.Registry.ClusterHost, "172.18.0.1:") {
		t.Errorf("registry: %+v", res.Registry)
	}
	var creates int
	for _, c := range runner.Calls() {
		if strings.HasPrefix(strings.Join(c, " "), "kind create cluster") {
			creates++
		}
	}
	want := "dev-control-plane:/etc/containerd/certs.d/" + res.Registry.ClusterHost + "/hosts.toml"
	if creates != 1 || !k.files[want] || !k.files["dev-control-plane:/kind/devcluster-cluster.yaml"] {
		t.Errorf("creates %d, files %v (want %s)", creates, k.files, want)
	}
	cfg2 := f.cfg(func(file *config.File) { file.Provider = "kind"; file.Workers = 1 })
	if _, err := Up(context.Background(), f.deps, cfg2, UpOptions{}); err == nil || !strings.Contains(err.Error(), "workers: cluster has 0, requested 1") {
		t.Errorf("a changed worker count is not refused as drift: %v", err)
	}
}

// up with kind missing: Docker is checked first, then the tool is
// installed through Deps.Install and used for everything that follows.
func TestUpInstallsAMissingTool(t *testing.T) {
	t.Parallel()
	const installed = "/cache/devcluster/bin/kind-v0.33.0"
	for _, tc := range []struct {
		name     string
		docker   bool
		decline  bool
		wantErr  string
		installs int
	}{
		{name: "installed", docker: true, installs: 1},
		{name: "no docker", docker: false, wantErr: "Docker is not installed"},
		{name: "declined", docker: true, decline: true, installs: 1, wantErr: "kind is not installed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			k := &fakeKind{files: map[string]bool{}}
			runner := kindMissing(k, installed, tc.docker)
			f.deps.Provider = kind.New(runner, kind.WithEnv(func(string) (string, bool) { return "", false }))
			var installs int
			f.deps.Install = func(_ context.Context, tool string, missing error) (string, error) {
				installs++
				if tool != "kind" {
					t.Errorf("asked to install %q", tool)
				}
				if !slices.ContainsFunc(runner.Calls(), func(c []string) bool { return c[0] == "docker" && c[1] == "version" }) {
					t.Errorf("Docker was not checked before the install")
				}
				if tc.decline {
					return "", missing
				}
				return installed, nil
			}
			cfg := f.cfg(func(file *config.File) { file.Provider = "kind" })
			res, err := Up(context.Background(), f.deps, cfg, UpOptions{})
			if installs != tc.installs {
				t.Errorf("%d installs, want %d", installs, tc.installs)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || problem.KindOf(err) != problem.Missing {
					t.Fatalf("error %v, want %q (missing)", err, tc.wantErr)
				}
				if k.created {
					t.Errorf("a cluster was created")
				}
				return
			}
			if err != nil {
				t.Fatalf("up: %v", err)
			}
			if len(res.Actions) == 0 || res.Actions[0] != "kind v0.33.0 installed" || !k.created {
				t.Errorf("actions %v, created %v", res.Actions, k.created)
			}
			for _, c := range runner.Calls() {
				if c[0] == "kind" && c[1] != "version" {
					t.Errorf("ran the missing executable: %v", c)
				}
			}
		})
	}
}

// An interrupted up starts no further step: a step that ignores its
// context must not let the next one begin.
func TestUpStopsAtTheNextStepWhenInterrupted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	k := &fakeKind{files: map[string]bool{}}
	runner := &runtest.Fake{Handler: k.reply}
	f.deps.Provider = kind.New(runner, kind.WithEnv(func(string) (string, bool) { return "", false }))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Up(ctx, f.deps, f.cfg(func(file *config.File) { file.Provider = "kind" }), UpOptions{})
	if !errors.Is(err, context.Canceled) || len(runner.Calls()) != 0 {
		t.Errorf("error %v after %d commands", err, len(runner.Calls()))
	}
}

// kindFixture is a fixture whose provider is kind on fakeKind.
func kindFixture(t *testing.T) (*fixture, *fakeKind, *runtest.Fake) {
	t.Helper()
	f := newFixture(t)
	k := &fakeKind{files: map[string]bool{}}
	runner := &runtest.Fake{Handler: k.reply}
	f.deps.Provider = kind.New(runner, kind.WithEnv(func(string) (string, bool) { return "", false }))
	return f, k, runner
}

// ran reports whether a command starting with prefix was run.
func ran(r *runtest.Fake, prefix string) bool {
	return slices.ContainsFunc(r.Calls(), func(c []string) bool { return strings.HasPrefix(strings.Join(c, " "), prefix) })
}

// A kind cluster devcluster did not create (no record on its node,
// running or stopped) is refused by up, up --recreate and down alike, with
// the way to use it as it is, and never deleted.
func TestAKindClusterDevclusterDidNotCreateIsNeverDeleted(t *testing.T) {
	t.Parallel()
	for _, stopped := range []bool{false, true} {
		f, k, runner := kindFixture(t)
		k.foreign()
		k.stopped = stopped
		cfg := f.cfg(func(file *config.File) { file.Provider = "kind" })
		ctx := context.Background()
		check := func(what string, err error) {
			t.Helper()
			if problem.KindOf(err) != problem.Drift || !strings.Contains(err.Error(), "not created by devcluster") {
				t.Errorf("stopped %v, %s: %v (kind %v), want drift: not created by devcluster", stopped, what, err, problem.KindOf(err))
				return
			}
			fix := problem.FixOf(err)
			if !strings.Contains(fix, "provider: existing") || !strings.Contains(fix, "--context kind-dev") || strings.Contains(fix, "--recreate") ||
				!strings.Contains(fix, "kind delete cluster --name dev") {
				t.Errorf("stopped %v, %s: advice %q", stopped, what, fix)
			}
		}
		_, err := Up(ctx, f.deps, cfg, UpOptions{})
		check("up", err)
		_, err = Up(ctx, f.deps, cfg, UpOptions{Recreate: true})
		check("up --recreate", err)
		res, err := Down(ctx, f.deps, cfg, DownOptions{})
		check("down", err)
		if res.Deleted || ran(runner, "kind delete") || ran(runner, "kind create") || ran(runner, "docker start") || !k.created {
			t.Errorf("stopped %v: the cluster was touched: %v", stopped, runner.Calls())
		}
		// Refused before anything else: the agent is not stopped.
		if slices.Contains(f.rec.lines, "start Stopping the agent") {
			t.Errorf("stopped %v: down went on after refusing: %v", stopped, f.rec.lines)
		}
	}
}

// The drift of a stopped kind cluster is refused before it is started:
// the record is read from the stopped node.
func TestDriftOfAStoppedKindClusterIsRefused(t *testing.T) {
	t.Parallel()
	f, k, runner := kindFixture(t)
	ctx := context.Background()
	if _, err := Up(ctx, f.deps, f.cfg(func(file *config.File) { file.Provider = "kind" }), UpOptions{}); err != nil {
		t.Fatal(err)
	}
	k.stopped = true
	_, err := Up(ctx, f.deps, f.cfg(func(file *config.File) { file.Provider = "kind"; file.Workers = 1 }), UpOptions{})
	if problem.KindOf(err) != problem.Drift || !strings.Contains(err.Error(), "workers: cluster has 0, requested 1") {
		t.Fatalf("a stopped cluster with another worker count: %v", err)
	}
	if ran(runner, "docker start") {
		t.Errorf("the drifted cluster was started")
	}
	// Unchanged, it is started.
	res, err := Up(ctx, f.deps, f.cfg(func(file *config.File) { file.Provider = "kind" }), UpOptions{})
	if err != nil || !slices.Contains(res.Actions, "started") {
		t.Fatalf("up of the stopped cluster: %v, %v", res.Actions, err)
	}
}

// Without kind, down succeeds when no cluster can exist (no node
// containers), status says Absent; node containers left in Docker are
// named, not ignored.
func TestDownAndStatusWithoutKind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		containers    bool
		docker        bool
		wantDownError string
	}{
		{name: "nothing in docker", docker: true},
		{name: "no docker either"},
		{name: "node containers left", docker: true, containers: true, wantDownError: "dev-control-plane"},
	} {
		f, k, _ := kindFixture(t)
		k.created = tc.containers
		runner := &runtest.Fake{Handler: func(argv []string) runtest.Reply {
			if argv[0] == "kind" || argv[0] == "docker" && !tc.docker {
				return runtest.Reply{NotFound: true}
			}
			return k.reply(argv)
		}}
		f.deps.Provider = kind.New(runner, kind.WithEnv(func(string) (string, bool) { return "", false }))
		cfg := f.cfg(func(file *config.File) { file.Provider = "kind" })
		ctx := context.Background()
		res, err := Down(ctx, f.deps, cfg, DownOptions{})
		if tc.wantDownError != "" {
			if problem.KindOf(err) != problem.Missing || !strings.Contains(err.Error(), tc.wantDownError) || !strings.Contains(problem.FixOf(err), "install kind") {
				t.Errorf("%s: down: %v (fix %q)", tc.name, err, problem.FixOf(err))
			}
		} else if err != nil || res.Deleted {
			t.Errorf("%s: down: %+v, %v", tc.name, res, err)
		}
		st, err := Status(ctx, f.deps, cfg)
		if tc.wantDownError != "" {
			if problem.KindOf(err) != problem.Missing {
				t.Errorf("%s: status: %v", tc.name, err)
			}
			continue
		}
		if err != nil || st.Cluster.State != provider.Absent || !strings.Contains(st.Cluster.Detail, "is not installed") {
			t.Errorf("%s: status: %+v, %v", tc.name, st, err)
		}
	}
}

// up --install-only installs a missing tool and stops there: no cluster is
// looked up or created, whatever the configuration says.
func TestUpInstallOnlyCreatesNoCluster(t *testing.T) {
	t.Parallel()
	const installed = "/cache/devcluster/bin/kind-v0.33.0"
	f := newFixture(t)
	k := &fakeKind{files: map[string]bool{}}
	runner := kindMissing(k, installed, true)
	f.deps.Provider = kind.New(runner, kind.WithEnv(func(string) (string, bool) { return "", false }))
	installs := 0
	f.deps.Install = func(context.Context, string, error) (string, error) { installs++; return installed, nil }
	res, err := Up(context.Background(), f.deps, f.cfg(func(file *config.File) { file.Provider = "kind" }), UpOptions{InstallOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if installs != 1 || len(res.Actions) != 1 || res.Actions[0] != "kind v0.33.0 installed" {
		t.Errorf("installs %d, actions %v", installs, res.Actions)
	}
	for _, c := range runner.Calls() {
		if c[0] != "docker" && c[1] != "version" {
			t.Errorf("install-only ran %v", c)
		}
	}
	if k.created {
		t.Error("install-only created a cluster")
	}
}

// kindMissing is a runner without kind on PATH (and without Docker unless
// docker): the installed executable answers as kind.
func kindMissing(k *fakeKind, installed string, docker bool) *runtest.Fake {
	return &runtest.Fake{Handler: func(argv []string) runtest.Reply {
		switch {
		case argv[0] == "kind":
			return runtest.Reply{NotFound: true}
		case argv[0] == "docker" && !docker:
			return runtest.Reply{NotFound: true}
		case argv[0] == installed:
			argv = append([]string{"kind"}, argv[1:]...)
		}
		return k.reply(argv)
	}}
}
