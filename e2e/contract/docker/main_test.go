//go:build contract

// Package dockercontract is the contract tier of the docker stand-in
// (internal/fake/docker): every docker command line devcluster's kind
// provider runs, and every one real kind v0.33.0 runs up to the privileged
// node container, collected by recording them, runs against a real Docker
// Engine (dockerd 20.10, started by the test with every path of its own,
// in a network namespace with only loopback) and against the stand-in, in
// each state that matters: no daemon, an empty daemon, a kind network with
// a running node-shaped container (kind's labels, not privileged), and the
// same container stopped. Exit codes, the class of standard error and
// standard output (each command's own --format template, so every field
// kind or devcluster reads) are compared; the differences accepted, each
// with its reason, are one table (accepted); anything else fails with both
// outputs.
//
// Nothing is pulled: the node image is the debootstrap base the other
// tiers build, loaded with `docker load`, and the engine cannot reach any
// network.
//
// Run with `task contract:docker` or `go test -tags contract ./e2e/contract/docker/`.
package dockercontract

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
	// work is the tier's scratch directory.
	work string
	// engine is the real Docker Engine.
	engine *harness.Engine
	// standIn is the docker stand-in's executable; kindBin real kind.
	standIn, kindBin string
)

func TestMain(m *testing.M) { os.Exit(setUp(m)) }

func setUp(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
	fail := func(what string, err error) int {
		logf("%s: %v", what, err)
		return 1
	}
	if err := harness.EngineAvailable(); err != nil {
		if os.Getenv("CI") == "true" {
			return fail("docker contract tier", err)
		}
		logf("docker contract tier skipped: %v", err)
		return 0
	}
	var err error
	// Short: the engine's socket lives under it.
	if work, err = os.MkdirTemp("", "dcdc-"); err != nil {
		return fail("scratch directory", err)
	}
	defer os.RemoveAll(work)
	root, err := harness.RepoRoot()
	if err != nil {
		return fail("repository", err)
	}
	standIn = filepath.Join(work, "standin", "docker")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", standIn, "./internal/fake/docker/cmd/docker")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fail("building the stand-in", fmt.Errorf("%v\n%s", err, out))
	}
	if kindBin, err = harness.EnsureGoInstall(ctx, "sigs.k8s.io/kind@"+harness.KindVersion, "kind"); err != nil {
		return fail("building kind "+harness.KindVersion, err)
	}
	base, err := harness.EnsureNginxBase(ctx, logf)
	if err != nil {
		return fail("the node image's base", err)
	}
	start := time.Now()
	if engine, err = harness.StartEngine(ctx, filepath.Join(work, "e"), harness.EngineOptions{Isolated: true}); err != nil {
		return fail("starting the Docker Engine", err)
	}
	defer engine.Stop()
	logf("Docker Engine ready in %s (%s)", time.Since(start).Round(time.Millisecond), engine.Host)
	if err := loadNodeImage(ctx, base); err != nil {
		logf("dockerd log:\n%s", engine.Logs(30))
		return fail("loading the node image", err)
	}
	code := m.Run()
	if code != 0 {
		logf("dockerd log:\n%s", engine.Logs(40))
	}
	return code
}
