package bootstrap

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/run/runtest"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/provider/existing"
	"github.com/devcluster/devcluster/provider/kind"
)

// mirrorsOn turns the mirrors on, each remote a loopback address nothing
// listens on (no test talks to a real upstream; nothing dials at up).
func mirrorsOn(file *config.File) {
	file.Registry.Mirrors = []config.MirrorFile{
		{Upstream: "docker.io", Remote: "http://127.0.0.1:9"},
		{Upstream: "ghcr.io", Remote: "http://127.0.0.1:9"},
	}
}

func TestMirrorHostsTOMLPerUpstream(t *testing.T) {
	got := mirrorHostsTOML("https://registry-1.docker.io", "192.168.49.1:5001")
	want := "server = \"https://registry-1.docker.io\"\n\n[host.\"http://192.168.49.1:5001\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
	if got != want {
		t.Errorf("hosts.toml:\n%s\nwant:\n%s", got, want)
	}
}

// On minikube: one hosts.toml per upstream with its remote as the server
// and the agent as the mirror; a converged re-run reads them all in one
// command and writes nothing; a node that lost one gets them again.
func TestMirrorsAreWiredOnMinikubeNodes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cfg := f.cfg(mirrorsOn)
	res, err := Up(context.Background(), f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cluster := fmt.Sprintf("192.168.49.1:%d", f.port)
	nodeFS := filepath.Join(f.runner.Env["MINIKUBE_HOME"], ".minikube", "machines", "dev", "fs", "dev")
	for _, up := range []string{"docker.io", "ghcr.io"} {
		b, err := os.ReadFile(filepath.Join(nodeFS, "etc", "containerd", "certs.d", up, "hosts.toml"))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != mirrorHostsTOML("http://127.0.0.1:9", cluster) {
			t.Errorf("%s/hosts.toml = %q", up, b)
		}
	}
	if !slices.ContainsFunc(f.rec.lines, func(l string) bool {
		return strings.Contains(l, "and the mirrors of docker.io, ghcr.io written on 1 of 1 node(s)")
	}) {
		t.Errorf("the report does not name the mirrors: %v", f.rec.lines)
	}
	if len(res.Registry.Mirrors) != 2 || !strings.HasSuffix(res.Registry.MirrorStore, filepath.Join(".cache", "devcluster", "mirrors")) {
		t.Errorf("the result's mirrors: %+v", res.Registry)
	}
	st, err := f.deps.Agent.Status(context.Background(), res.Registry.Agent.Spec.StateDir)
	if err != nil || len(st.Spec.Mirrors.Mirrors) != 2 || !strings.HasSuffix(st.Spec.Mirrors.Store, filepath.Join(".cache", "devcluster", "mirrors")) {
		t.Errorf("the agent's mirrors: %+v %v", st, err)
	}

	before := len(f.runner.Calls())
	if _, err := Up(context.Background(), f.deps, cfg, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.runner.Calls()[before:] {
		if c[1] == "cp" || (c[1] == "ssh" && strings.Contains(strings.Join(c, " "), "mkdir")) {
			t.Errorf("a converged re-run wrote: %v", c)
		}
	}
	if err := os.Remove(filepath.Join(nodeFS, "etc", "containerd", "certs.d", "ghcr.io", "hosts.toml")); err != nil {
		t.Fatal(err)
	}
	before = len(f.runner.Calls())
	if _, err := Up(context.Background(), f.deps, cfg, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	cps := 0
	for _, c := range f.runner.Calls()[before:] {
		if c[1] == "cp" {
			cps++
		}
	}
	if cps != 4 {
		t.Errorf("a node that lost a file: %d copies, want 4 (both registry names and both mirrors)", cps)
	}
}

// On kind the same files go through docker exec.
func TestMirrorsAreWiredOnKindNodes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	k := &fakeKind{files: map[string]bool{}}
	f.deps.Provider = kind.New(&runtest.Fake{Handler: k.reply}, kind.WithEnv(func(string) (string, bool) { return "", false }))
	if _, err := Up(context.Background(), f.deps, f.cfg(func(file *config.File) { file.Provider = "kind"; mirrorsOn(file) }), UpOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, up := range []string{"docker.io", "ghcr.io"} {
		if !k.files["dev-control-plane:/etc/containerd/certs.d/"+up+"/hosts.toml"] {
			t.Errorf("no hosts.toml for %s on the kind node: %v", up, k.files)
		}
	}
}

// On an existing cluster nothing is wired, and up says so.
func TestMirrorsOnAnExistingClusterAreNotWired(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deps.Provider = existing.New("staging", existing.WithKubeconfig(testutil.Kubeconfig(t, "staging")))
	on := true
	cfg := f.cfg(func(file *config.File) {
		file.Provider, file.Context = "existing", "staging"
		file.Registry.Enabled, file.Registry.ClusterAddress = &on, "10.1.2.3"
		mirrorsOn(file)
	})
	if _, err := Up(context.Background(), f.deps, cfg, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(f.rec.lines, func(l string) bool {
		return strings.HasPrefix(l, "warn the mirrors of docker.io, ghcr.io are served on 10.1.2.3:") && strings.Contains(l, "not wired")
	}) {
		t.Errorf("no warning about the mirrors: %v", f.rec.lines)
	}
}
