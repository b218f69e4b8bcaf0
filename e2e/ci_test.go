//go:build e2e

package e2e

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCIFailureUnderGitHubActions: a rollout that cannot finish (kwok's
// failure stage) under GITHUB_ACTIONS=true gives exactly one ::error
// annotation, a job summary, and a diagnostics bundle with the workload's
// YAML and the pod's events — and no credential anywhere. `devcluster
// diagnose` on the healthy cluster writes a bundle too.
func TestCIFailureUnderGitHubActions(t *testing.T) {
	u := newUser(t)
	const cluster = "e2e-ci"
	summary := filepath.Join(u.home, "step-summary.md")
	u.env = append(u.env, "GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY="+summary)
	if r := u.devcluster("up", "--name", cluster, "--no-registry", "--no-lb"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	defer u.devcluster("down", "--name", cluster)
	if r := u.devcluster("diagnose", "--name", cluster, "--dir", "healthy"); r.code != 0 || !strings.Contains(r.stdout, "Diagnostics written to healthy") {
		t.Errorf("diagnose on a healthy cluster: exit %d\n%s", r.code, r.stdout)
	}
	for _, f := range []string{"minikube-logs.txt", "nodes.yaml", "kubeconfig-redacted.yaml"} {
		if _, err := os.Stat(filepath.Join(u.home, "healthy", f)); err != nil {
			t.Errorf("healthy bundle lacks %s", f)
		}
	}

	writeFile(t, filepath.Join(u.home, "broken.yaml"), failingDeployment("ci-e2e", "broken", "main", "example.com/team/missing:v9", "ImagePullBackOff"))
	r := u.devcluster("up", "--name", cluster, "--no-registry", "--no-lb", "--manifest", "broken.yaml")
	if r.code != 1 {
		t.Fatalf("up with a broken workload: exit %d", r.code)
	}
	if n := strings.Count(r.stderr, "::error "); n != 1 {
		t.Errorf("%d ::error annotations, want 1:\n%s", n, r.stderr)
	}
	if !strings.Contains(r.stderr, "::group::Waiting for rollouts") || !strings.Contains(r.stderr, "::endgroup::") {
		t.Errorf("no log groups:\n%s", r.stderr)
	}
	b, err := os.ReadFile(summary)
	if err != nil || !strings.Contains(string(b), "### ❌ devcluster up") || !strings.Contains(string(b), "Deployment ci-e2e/broken") {
		t.Errorf("job summary (%v):\n%s", err, b)
	}
	bundle := filepath.Join(u.home, "devcluster-diagnostics")
	for _, f := range []string{"summary.md", "result.json", "workloads/ci-e2e/deployment-broken.yaml", "workloads/ci-e2e/deployment-broken-pods.yaml", "events/ci-e2e.yaml"} {
		if _, err := os.Stat(filepath.Join(bundle, f)); err != nil {
			t.Errorf("bundle lacks %s", f)
		}
	}
	if ev, _ := os.ReadFile(filepath.Join(bundle, "events", "ci-e2e.yaml")); !strings.Contains(string(ev), "broken-") {
		t.Errorf("the events do not name the pod:\n%s", ev)
	}
	// The stand-in's kubeconfig carries the control plane's bearer token.
	err = filepath.WalkDir(bundle, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), cp.Token) {
			t.Errorf("%s holds the bearer token", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBuildkitePTY: Buildkite runs jobs in a pseudo-terminal. Under one
// (util-linux `script`), `up` with BUILDKITE=true prints `---` groups, and
// for a failing step `^^^ +++` — never a spinner or cursor movement.
func TestBuildkitePTY(t *testing.T) {
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		missing(t, "needs util-linux's script for a pseudo-terminal: %v", err)
	}
	u := newUser(t)
	const cluster = "e2e-bk"
	defer u.devcluster("down", "--name", cluster)
	env := append(append([]string(nil), u.env...), "BUILDKITE=true", "TERM=xterm-256color")
	ptyRun := func(args ...string) (string, int) {
		t.Helper()
		line := filepath.Join(binDir, "devcluster")
		for _, a := range args {
			line += " " + a
		}
		cmd := exec.Command(scriptBin, "-qfec", line, "/dev/null")
		cmd.Dir, cmd.Env = u.home, env
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		t.Logf("$ devcluster %s (in a PTY) → exit %d\n%s", strings.Join(args, " "), code, out)
		return string(out), code
	}
	out, code := ptyRun("up", "--name", cluster, "--no-registry", "--no-lb")
	if code != 0 {
		t.Fatalf("up: exit %d", code)
	}
	// A PTY turns \n into \r\n; any other \r, or an erase-line code, is a
	// redraw.
	plain := strings.ReplaceAll(out, "\r\n", "\n")
	if strings.Contains(plain, "\r") || strings.Contains(plain, "\x1b[2K") || strings.ContainsAny(plain, "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏") {
		t.Errorf("spinner or cursor control under Buildkite's PTY:\n%q", out)
	}
	if !strings.Contains(plain, "--- Checking minikube\n") || !strings.Contains(plain, "--- Waiting for Kubernetes\n") {
		t.Errorf("no --- groups:\n%s", plain)
	}
	writeFile(t, filepath.Join(u.home, "broken.yaml"), failingDeployment("bk-e2e", "broken", "main", "example.com/team/crash:v1", "CrashLoopBackOff"))
	out, code = ptyRun("up", "--name", cluster, "--no-registry", "--no-lb", "--manifest", "broken.yaml")
	plain = strings.ReplaceAll(out, "\r\n", "\n")
	expand, errHead := strings.Index(plain, "\n^^^ +++\n"), strings.Index(plain, "\n+++ :x: ")
	if code != 1 || !strings.Contains(plain, "--- Waiting for rollouts\n") || expand < 0 || errHead < expand {
		t.Errorf("a failing step under Buildkite: exit %d\n%s", code, plain)
	}
}
