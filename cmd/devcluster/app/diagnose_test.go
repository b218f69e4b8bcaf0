package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	fakeminikube "github.com/devcluster/devcluster/internal/fake/minikube"
	"github.com/devcluster/devcluster/internal/run/runtest"
)

// A missing prerequisite (exit 5) leaves no diagnostics bundle: there is no
// cluster to diagnose.
func TestNoDiagnosticsForAMissingPrerequisite(t *testing.T) {
	h := newHarness(t)
	h.runner = &runtest.Fake{Handler: func(argv []string) runtest.Reply { return runtest.Reply{NotFound: argv[0] == "minikube"} }}
	if code := h.run("up", "--no-install"); code != ExitMissing {
		t.Fatalf("exit %d, want %d\n%s", code, ExitMissing, h.stderr.String())
	}
	if _, err := os.Lstat(filepath.Join(h.dir, "devcluster-diagnostics")); !os.IsNotExist(err) {
		t.Errorf("a bundle was written for a missing minikube (%v)\n%s", err, h.stderr.String())
	}
	if strings.Contains(h.stderr.String(), "diagnostics") {
		t.Errorf("diagnostics are mentioned:\n%s", h.stderr.String())
	}
}

// A failed up writes the bundle; "upload it as a build artifact" is said
// in CI only, and a second failure replaces the first bundle.
func TestDiagnosticsAdviceOnALaptopAndInCI(t *testing.T) {
	h := newHarness(t)
	h.runner.(*fakeminikube.Runner).Env["STANDIN_FAIL_START"] = "GUEST_PROVISION"
	kubeconfig := filepath.Join(h.dir, "kubeconfig")
	if code := h.run("--kubeconfig", kubeconfig, "up"); code != 1 {
		t.Fatalf("up: exit %d\n%s", code, h.stderr.String())
	}
	if !strings.Contains(h.stderr.String(), "diagnostics written to devcluster-diagnostics") || strings.Contains(h.stderr.String(), "artifact") {
		t.Errorf("on a laptop:\n%s", h.stderr.String())
	}
	// minikube has no machine to read logs from: the bundle says so.
	for _, f := range []string{"summary.md", "result.json", "problems.txt"} {
		if _, err := os.Stat(filepath.Join(h.dir, "devcluster-diagnostics", f)); err != nil {
			t.Errorf("the bundle lacks %s: %v", f, err)
		}
	}
	h.env["CI"] = "true"
	if code := h.run("--kubeconfig", kubeconfig, "up"); code != 1 {
		t.Fatalf("up: exit %d\n%s", code, h.stderr.String())
	}
	if !strings.Contains(h.stderr.String(), "diagnostics written to devcluster-diagnostics") || !strings.Contains(h.stderr.String(), "upload it as a build artifact") {
		t.Errorf("in CI:\n%s", h.stderr.String())
	}
}

// diagnose collects the workloads it is given as KIND/NAME; bad names and
// a --dir that is not a bundle are bad input (exit 2), and nothing is
// written; without a cluster there is nothing to diagnose (exit 3).
func TestDiagnoseNamedWorkloadsAndBadInput(t *testing.T) {
	h := newHarness(t)
	kubeconfig := filepath.Join(h.dir, "kubeconfig")
	if code := h.run("--kubeconfig", kubeconfig, "diagnose"); code != ExitNotRunning || !strings.Contains(h.stderr.String(), "nothing to diagnose") {
		t.Errorf("diagnose before up: exit %d\n%s", code, h.stderr.String())
	}
	if _, err := os.Lstat(filepath.Join(h.dir, "devcluster-diagnostics")); !os.IsNotExist(err) {
		t.Errorf("a bundle of no cluster: %v", err)
	}
	if code := h.run("--kubeconfig", kubeconfig, "up"); code != 0 {
		t.Fatalf("up: exit %d\n%s", code, h.stderr.String())
	}
	if code := h.run("--kubeconfig", kubeconfig, "diagnose", "--namespace", "apps", "deployment/web", "--dir", "named"); code != 0 {
		t.Fatalf("diagnose deployment/web: exit %d\n%s", code, h.stderr.String())
	}
	// The fake cluster has no such Deployment: it is a problem noted in
	// the bundle, not a failure.
	if b, err := os.ReadFile(filepath.Join(h.dir, "named", "problems.txt")); err != nil || !strings.Contains(string(b), "Deployment apps/web") {
		t.Errorf("problems.txt (%v):\n%s", err, b)
	}
	if code := h.run("--kubeconfig", kubeconfig, "diagnose", "pod/web"); code != ExitUsage || !strings.Contains(h.stderr.String(), "pod/web") {
		t.Errorf("diagnose pod/web: exit %d\n%s", code, h.stderr.String())
	}
	mine := filepath.Join(h.dir, "mine")
	if err := os.MkdirAll(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := h.run("--kubeconfig", kubeconfig, "diagnose", "--dir", "mine"); code != ExitUsage || !strings.Contains(h.stderr.String(), "not a devcluster diagnostics bundle") {
		t.Errorf("diagnose into a directory of other files: exit %d\n%s", code, h.stderr.String())
	}
	if entries, _ := os.ReadDir(mine); len(entries) != 1 {
		t.Errorf("the refused directory was changed: %v", entries)
	}
}

// An empty --dir is refused before anything is read; it does not mean the
// working directory.
func TestDiagnoseEmptyDir(t *testing.T) {
	h := newHarness(t)
	if code := h.run("diagnose", "--dir", ""); code != ExitUsage || !strings.Contains(h.stderr.String(), "--dir is empty") {
		t.Errorf("diagnose --dir '': exit %d\n%s", code, h.stderr.String())
	}
	if code := h.run("diagnose", "--dir="); code != ExitUsage {
		t.Errorf("diagnose --dir=: exit %d\n%s", code, h.stderr.String())
	}
}
