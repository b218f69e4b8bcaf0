package bootstrap

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/devcluster/devcluster/config"
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
