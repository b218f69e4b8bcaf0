//go:build contract

package dockercontract

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/provider/kind"
)

// recorder runs devcluster's kind provider: docker through the stand-in
// (recorded), kind answered as real kind answers for the node-shaped
// cluster (kind itself runs docker, recorded separately).
type recorder struct {
	docker run.Runner
	argv   [][]string
	noKind bool
}

func (r *recorder) Run(ctx context.Context, c run.Cmd) (run.Result, error) {
	if c.Name != standIn {
		if r.noKind {
			return run.Result{ExitCode: -1}, fmt.Errorf("kind: %w", exec.ErrNotFound)
		}
		out := ""
		switch strings.Join(c.Args, " ") {
		case "version":
			out = "kind " + "v0.33.0 go1.26 linux/amd64\n"
		case "get clusters":
			out = clusterName + "\n"
		case "get nodes --name " + clusterName:
			out = clusterName + "-control-plane\n"
		}
		return run.Result{Stdout: []byte(out)}, nil
	}
	r.argv = append(r.argv, slices.Clone(c.Args))
	return r.docker.Run(ctx, c)
}

// providerCommands drives devcluster's kind provider through what `up`,
// `status`, `lb`, `diagnose` and `down` do with a cluster, against the
// stand-in holding the node-shaped cluster, and returns every docker
// command line it ran.
func providerCommands(t *testing.T) [][]string {
	t.Helper()
	s := &standinDaemon{}
	s.reset(t)
	for _, a := range setupOf(node) {
		if o := s.run(t, false, "", a...); o.code != 0 {
			t.Fatalf("stand-in docker %s: %s", strings.Join(a, " "), o.stderr)
		}
	}
	dir := t.TempDir()
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "KUBECONFIG=" + filepath.Join(dir, "kubeconfig"), "DOCKER_STANDIN_STATE=" + s.dir}
	rec := &recorder{docker: &run.Local{Env: env}}
	lookup := func(k string) (string, bool) {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v, true
			}
		}
		return "", false
	}
	p := kind.New(rec, kind.WithDocker(standIn), kind.WithEnv(lookup))
	ctx := context.Background()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hosts := "/etc/containerd/certs.d/localhost:5001/hosts.toml"
	steps := []struct {
		what string
		do   func() error
	}{
		{"EnsureInstalled", func() error { _, err := p.EnsureInstalled(ctx); return err }},
		{"Get", func() error { _, err := p.Get(ctx, clusterName); return err }},
		{"IP", func() error { _, err := p.IP(ctx, clusterName); return err }},
		{"HostAddress", func() error { _, err := p.HostAddress(ctx, clusterName); return err }},
		{"RunOnNode (cat /kind/version)", func() error { _, err := p.RunOnNode(ctx, clusterName, "", "cat", "/kind/version"); return err }},
		{"RunOnNode (cat hosts.toml)", func() error { _, err := p.RunOnNode(ctx, clusterName, "", "cat", hosts); return err }},
		{"RunOnNode (mkdir)", func() error {
			_, err := p.RunOnNode(ctx, clusterName, "", "mkdir", "-p", filepath.Dir(hosts))
			return err
		}},
		{"CopyToNode", func() error { return p.CopyToNode(ctx, clusterName, "", file, hosts) }},
		{"Logs", func() error { return p.Logs(ctx, clusterName, filepath.Join(dir, "logs.txt")) }},
		{"Unpause", func() error { return p.Unpause(ctx, clusterName, nil) }},
		{"Start", func() error { return p.Start(ctx, clusterName, nil) }},
		{"Get without kind", func() error { rec.noKind = true; _, err := p.Get(ctx, clusterName); rec.noKind = false; return err }},
	}
	for _, st := range steps {
		// Some fail on purpose (a cat of a file not written yet, an
		// unpause of a running node, kind missing): only the command
		// lines matter here.
		if err := st.do(); err != nil {
			t.Logf("provider %s against the stand-in: %v", st.what, err)
		}
	}
	return rec.argv
}

// shim is a docker on PATH in front of the real client that records every
// command line: fields end with US (\037), a command line with RS (\036).
const shim = `#!/bin/sh
printf '%s\037' "$@" >>"$DOCKER_RECORD"
printf '\036' >>"$DOCKER_RECORD"
exec "$REAL_DOCKER" "$@"
`

// kindCommands runs real kind v0.33.0 against the real engine with the
// recording shim as its docker: create (which fails where the engine must
// start the privileged node container), get clusters, get nodes, export
// kubeconfig and delete; it returns what kind ran, with the cluster name
// of the node-shaped container.
func kindCommands(t *testing.T) [][]string {
	t.Helper()
	realDaemon{}.reset(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(dir, "record")
	env := append([]string{"PATH=" + bin, "HOME=" + dir, "KUBECONFIG=" + filepath.Join(dir, "kubeconfig"),
		"DOCKER_RECORD=" + record, "REAL_DOCKER=" + engine.CLI}, engine.Env()...)
	for _, args := range [][]string{
		{"create", "cluster", "--name", clusterName, "--image", nodeImage, "--wait", "0s"},
		{"get", "clusters"},
		{"get", "nodes", "--name", clusterName},
		{"export", "kubeconfig", "--name", clusterName},
		{"delete", "cluster", "--name", clusterName},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, kindBin, args...)
		cmd.Env, cmd.Dir = env, dir
		out, err := cmd.CombinedOutput()
		cancel()
		t.Logf("$ kind %s → %v\n%s", strings.Join(args, " "), err, tail(string(out), 6))
	}
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	var argv [][]string
	for _, line := range strings.Split(string(b), "\036") {
		if line == "" {
			continue
		}
		argv = append(argv, strings.Split(strings.TrimSuffix(line, "\037"), "\037"))
	}
	return argv
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// distinct keeps the first of equal command lines.
func distinct(all ...[][]string) [][]string {
	var out [][]string
	for _, list := range all {
		for _, a := range list {
			if !slices.ContainsFunc(out, func(b []string) bool { return slices.Equal(a, b) }) {
				out = append(out, a)
			}
		}
	}
	return out
}

// TestDockerCommands: every recorded command line, in every state, against
// the real engine and the stand-in.
func TestDockerCommands(t *testing.T) {
	fromProvider := providerCommands(t)
	fromKind := kindCommands(t)
	t.Logf("recorded %d docker command lines from devcluster's kind provider and %d from real kind %s", len(fromProvider), len(fromKind), "v0.33.0")
	if len(fromProvider) < 8 || len(fromKind) < 5 {
		t.Fatalf("too few command lines recorded: provider %q, kind %q", fromProvider, fromKind)
	}
	for _, argv := range distinct(fromProvider, fromKind) {
		for _, state := range states {
			t.Run(state+"/"+strings.Join(argv, " "), func(t *testing.T) { check(t, state, argv) })
		}
	}
}
