//go:build contract

// Package contract is the contract tier: it runs the same minikube command
// lines against real minikube (built from its v1.38.1 module source) and
// against the stand-in the other tiers use, each in a fresh MINIKUBE_HOME,
// HOME and KUBECONFIG, and fails on any difference in what devcluster
// relies on: exit codes, the CloudEvents `start -o json` prints (types,
// reason names, exit codes), the reasons of text errors, and the JSON
// fields devcluster reads. Differences that are accepted (wording, step
// names) are listed, each with its reason, in accepted.
//
// Both binaries run in a network namespace of their own with only a
// loopback interface, so real minikube's online lookups fail as they do
// offline and no test traffic leaves the machine; with a PATH that holds
// only the docker of the case (absent, daemon down, healthy), and as an
// unprivileged user unless the case is about root.
//
// What it cannot prove: anything a real driver does. No Docker daemon or VM
// runs here, so a start that gets past validation fails at provisioning in
// real minikube; the real-node tier covers what runs inside the node.
//
// Run with `task contract` or `go test -tags contract ./e2e/contract/`.
package contract

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/devcluster/devcluster/e2e/harness"
)

var (
	// work is a world-readable scratch directory (the unprivileged user
	// must reach the binaries and its homes).
	work string
	// realMinikube and standIn are the two binaries compared, inside work.
	realMinikube, standIn string
)

func TestMain(m *testing.M) { os.Exit(setUp(m)) }

func setUp(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	fail := func(what string, err error) int {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		return 1
	}
	if os.Geteuid() != 0 {
		// Network namespaces, the unprivileged user and root's own
		// refusals all need root.
		if os.Getenv("CI") == "true" {
			return fail("contract tier", fmt.Errorf("CI=true and not running as root"))
		}
		fmt.Fprintln(os.Stderr, "contract tier skipped: it needs root (network namespaces, a second user)")
		return 0
	}
	for _, tool := range []string{"unshare", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fail("contract tier needs util-linux", err)
		}
	}
	built, err := harness.EnsureMinikube(ctx, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
	if err != nil {
		return fail("building real minikube", err)
	}
	if work, err = os.MkdirTemp("", "devcluster-contract-"); err != nil {
		return fail("scratch directory", err)
	}
	defer os.RemoveAll(work)
	if err := os.Chmod(work, 0o755); err != nil {
		return fail("scratch directory", err)
	}
	bin := filepath.Join(work, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return fail("scratch directory", err)
	}
	realMinikube = filepath.Join(bin, "minikube-real")
	if err := os.Link(built, realMinikube); err != nil {
		if err := copyFile(built, realMinikube); err != nil {
			return fail("copying real minikube", err)
		}
	}
	root, err := harness.RepoRoot()
	if err != nil {
		return fail("repository", err)
	}
	standIn = filepath.Join(bin, "minikube-standin")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", standIn, "./internal/fake/minikube/cmd/minikube")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fail("building the stand-in", fmt.Errorf("%v\n%s", err, out))
	}
	if err := writeDockers(filepath.Join(work, "docker")); err != nil {
		return fail("docker stand-ins", err)
	}
	return m.Run()
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}
