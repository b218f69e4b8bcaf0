package bootstrap

import (
	"context"
	"errors"
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
type fakeKind struct {
	mu      sync.Mutex
	created bool
	files   map[string]bool // node:path written with cp /dev/stdin
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
	case strings.HasPrefix(cmd, "kind create cluster --name dev "):
		k.created = true
		return runtest.Reply{Stderr: "Creating cluster \"dev\" ...\n ✓ Ensuring node image (kindest/node:v1.37.0) 🖼\n"}
	case cmd == "kind get nodes --name dev":
		return runtest.Reply{Stdout: "dev-control-plane\n"}
	case strings.HasPrefix(cmd, "docker inspect -f"):
		return runtest.Reply{Stdout: "/dev-control-plane running control-plane 172.18.0.2,\n"}
	case strings.HasPrefix(cmd, "docker network inspect kind"):
		return runtest.Reply{Stdout: "fc00:f853:ccd:e793::1 172.18.0.1 \n"}
	case strings.HasPrefix(cmd, "docker exec -i "):
		k.files[argv[3]+":"+argv[len(argv)-1]] = true
		return runtest.Reply{}
	case strings.HasPrefix(cmd, "docker exec dev-control-plane cat "):
		for _, f := range argv[4:] {
			if !k.files["dev-control-plane:"+f] {
				return runtest.Reply{ExitCode: 1, Stderr: "cat: " + f + ": No such file or directory\n"}
			}
		}
		if slices.Contains(argv, "/kind/devcluster-cluster.yaml") {
			return runtest.Reply{Stdout: string(kind.GenerateConfig(provider.Spec{Name: "dev"}))}
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
	f := newFixture(t)
	k := &fakeKind{files: map[string]bool{}}
	runner := &runtest.Fake{Handler: k.reply}
	f.deps.Provider = kind.New(runner, kind.WithEnv(func(string) (string, bool) { return "", false }))
	cfg := f.cfg(func(file *config.File) { file.Provider = "kind" })
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
			runner := &runtest.Fake{Handler: func(argv []string) runtest.Reply {
				switch {
				case argv[0] == "kind":
					return runtest.Reply{NotFound: true}
				case argv[0] == "docker" && !tc.docker:
					return runtest.Reply{NotFound: true}
				case argv[0] == installed:
					argv = append([]string{"kind"}, argv[1:]...)
				}
				return k.reply(argv)
			}}
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
