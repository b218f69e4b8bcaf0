//go:build e2e

// Package e2e drives the devcluster binary as a user would, against a real
// Kubernetes control plane (etcd, kube-apiserver, controllers, scheduler,
// kwok nodes) and the minikube stand-in. Run with `task e2e` or
// `go test -tags e2e ./e2e/...`.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/e2e/harness"
)

var (
	cp     *harness.ControlPlane
	binDir string
	// nodeNet is the minikube-shaped network (host 192.168.49.1, node
	// 192.168.49.2), or nil where namespaces cannot be created.
	nodeNet *harness.NodeNetwork
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	bins, err := harness.EnsureBinaries(ctx, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "building e2e binaries:", err)
		return 1
	}
	work, err := os.MkdirTemp("", "devcluster-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	binDir = filepath.Join(work, "bin")
	root, err := harness.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for out, pkg := range map[string]string{"devcluster": "./cmd/devcluster", "minikube": "./internal/fake/minikube/cmd/minikube",
		"docker": "./internal/fake/docker/cmd/docker"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, out), pkg)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", pkg, err, b)
			return 1
		}
	}
	// Node-side helpers: `sudo` (the tests run as root) and node-exec,
	// which runs an ssh command with the test's directory mounted over
	// /etc/containerd in a private mount namespace, so files devcluster
	// writes "on the node" land where the test's containerd reads them.
	shims := map[string]string{
		"sudo":      "#!/bin/sh\nexec \"$@\"\n",
		"node-exec": "#!/bin/sh\nexec unshare -m --propagation private sh -c 'mount --bind \"$NODE_ETC_CONTAINERD\" /etc/containerd && exec \"$@\"' sh \"$@\"\n",
	}
	for name, body := range shims {
		if err := os.WriteFile(filepath.Join(binDir, name), []byte(body), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if n, err := harness.CreateNodeNetwork(fmt.Sprintf("dce2e%d", os.Getpid()%100000), "192.168.49.1/24", "192.168.49.2/24"); err == nil {
		nodeNet = n
		defer n.Delete()
	} else {
		fmt.Fprintf(os.Stderr, "no node network namespace (%v): registry tests that need the cluster-side address will skip\n", err)
	}

	cpDir := filepath.Join(work, "controlplane")
	if err := os.MkdirAll(cpDir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	start := time.Now()
	cp, err = harness.StartControlPlane(ctx, bins, cpDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the control plane:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "control plane ready at %s in %s\n", cp.URL, time.Since(start).Round(time.Millisecond))
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "component logs:\n%s", cp.Logs(60))
	}
	cp.Stop()
	return code
}

// user is one simulated developer machine: its own MINIKUBE_HOME,
// kubeconfig and working directory, with the stand-in on PATH as minikube.
type user struct {
	t    testing.TB
	home string
	env  []string
	// dir is the working directory of the commands (default: home).
	dir string
	// mirrors: the test configures the pull-through mirrors itself (each
	// remote on loopback); otherwise every `up` runs with --no-mirrors.
	mirrors bool
}

func newUser(t testing.TB) *user {
	t.Helper()
	home := t.TempDir()
	u := &user{t: t, home: home}
	u.env = []string{
		"PATH=" + binDir + ":/usr/bin:/bin",
		"HOME=" + home,
		"MINIKUBE_HOME=" + home,
		"KUBECONFIG=" + filepath.Join(home, ".kube", "config"),
		"STANDIN_APISERVER=" + cp.URL,
		"STANDIN_TOKEN=" + cp.Token,
		"STANDIN_CALL_LOG=" + filepath.Join(home, "minikube-calls.log"),
		"TERM=dumb",
		"CI=true",
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("minikube calls:\n%s", u.calls())
		}
		harness.KillAgents(u.home)
	})
	// Tests that are not about the samples skip them (their default base
	// image would need the internet), and the mirrors, whose default
	// remotes are the real upstreams.
	// Without the node network namespace, the node IP is in no namespace of
	// this run: loadBalancer.address auto would probe it, so node is set.
	cfg := "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nworkloads:\n  samples: false\nregistry:\n  mirrors: []\n"
	if nodeNet == nil {
		cfg += "loadBalancer:\n  address: node\n"
	}
	if err := os.WriteFile(filepath.Join(home, "devcluster.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return u
}

type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// devcluster runs the binary in the user's home.
func (u *user) devcluster(args ...string) result {
	if !u.mirrors {
		args = harness.NoMirrors(args)
	}
	return u.exec(filepath.Join(binDir, "devcluster"), args...)
}

// upJSON runs `up -o json` with args and returns its result; a failed up
// ends the test.
func (u *user) upJSON(args ...string) *bootstrap.Result {
	u.t.Helper()
	r := u.devcluster(append([]string{"up", "-o", "json"}, args...)...)
	if r.code != 0 {
		u.t.Fatalf("up: exit %d", r.code)
	}
	var res bootstrap.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		u.t.Fatalf("up -o json: %v", err)
	}
	return &res
}

func (u *user) exec(bin string, args ...string) result {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = u.home
	if u.dir != "" {
		cmd.Dir = u.dir
	}
	cmd.Env = u.env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: o.String(), stderr: e.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		u.t.Fatalf("running %s: %v", bin, err)
	}
	u.t.Logf("$ %s %s  → exit %d in %s\n%s%s", filepath.Base(bin), strings.Join(args, " "), r.code, r.took.Round(time.Millisecond), r.stdout, r.stderr)
	return r
}

// calls returns the minikube commands the stand-in received.
func (u *user) calls() string {
	b, _ := os.ReadFile(filepath.Join(u.home, "minikube-calls.log"))
	return string(b)
}

func (u *user) resetCalls() { _ = os.Remove(filepath.Join(u.home, "minikube-calls.log")) }

// mutatingCalls returns the minikube subcommands that change state.
func (u *user) mutatingCalls() []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(u.calls()), "\n") {
		var argv []string
		if json.Unmarshal([]byte(l), &argv) != nil || len(argv) == 0 {
			continue
		}
		switch argv[0] {
		case "version", "profile", "status", "ip", "ssh", "cp":
			continue
		}
		out = append(out, strings.Join(argv, " "))
	}
	return out
}

// savedProfile reads the profile as minikube saved it.
func (u *user) savedProfile(name string) map[string]any {
	u.t.Helper()
	b, err := os.ReadFile(filepath.Join(u.home, ".minikube", "profiles", name, "config.json"))
	if err != nil {
		u.t.Fatalf("reading the saved profile: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		u.t.Fatal(err)
	}
	return m
}
