// Package minikube implements provider.Provider with the minikube binary.
//
// devcluster decides on minikube's exit codes and JSON output, never on its
// human text (which changes between releases and loses spinner lines when
// not on a terminal). Facts it relies on:
//   - each profile's saved ClusterConfig is the file
//     <MINIKUBE_HOME>/.minikube/profiles/<name>/config.json, read directly
//     (what `profile list -o json` prints, without starting minikube);
//   - `status -o json` exits with bit flags (1 host, 2 cluster, 4 kubeconfig
//     not OK) and 85 when the profile does not exist;
//   - `start` on an existing profile only warns about changed cpus/memory and
//     silently ignores a changed --insecure-registry, so devcluster compares
//     the saved config itself (Diff) before starting anything.
package minikube

import (
	"context"
	"os"
	"strings"

	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/provider"
)

// Minikube drives the minikube binary.
type Minikube struct {
	runner run.Runner
	binary string
	// env reads the environment minikube runs in (MINIKUBE_HOME, HOME).
	env func(string) (string, bool)
	// versionCache is a file remembering the version of each executable.
	versionCache string
	// version is recorded by EnsureInstalled.
	version string
	// lookPath finds executables on PATH (drivers' tools).
	lookPath func(string) (string, error)
	// kubeconfig is the explicit kubeconfig file minikube writes the
	// context to ("" = minikube's default: the first file of $KUBECONFIG,
	// else ~/.kube/config).
	kubeconfig string
}

// Option configures a Minikube.
type Option func(*Minikube)

// WithBinary sets the minikube executable (default "minikube" on PATH).
func WithBinary(path string) Option {
	return func(m *Minikube) {
		if path != "" {
			m.binary = path
		}
	}
}

// WithEnv sets how the environment minikube runs in is read (default: this
// process'), to find its profiles as minikube does.
func WithEnv(lookup func(string) (string, bool)) Option {
	return func(m *Minikube) {
		if lookup != nil {
			m.env = lookup
		}
	}
}

// WithVersionCache keeps the version of each minikube executable in file,
// keyed by its path, size and modification time, so `minikube version` runs
// once per installed binary rather than on every command.
func WithVersionCache(file string) Option {
	return func(m *Minikube) { m.versionCache = file }
}

// WithLookPath sets how executables are found on PATH (default
// run.Which of the runner).
func WithLookPath(f func(string) (string, error)) Option {
	return func(m *Minikube) {
		if f != nil {
			m.lookPath = f
		}
	}
}

// WithKubeconfig makes minikube write, check and delete the cluster's
// context in file: minikube has no flag for it, so its commands run with
// KUBECONFIG=file.
func WithKubeconfig(file string) Option {
	return func(m *Minikube) { m.kubeconfig = file }
}

// New returns a minikube provider that runs commands through r.
func New(r run.Runner, opts ...Option) *Minikube {
	m := &Minikube{runner: r, binary: "minikube", env: os.LookupEnv}
	for _, o := range opts {
		o(m)
	}
	return m
}

var _ provider.Provider = (*Minikube)(nil)

// Name implements provider.Provider.
func (m *Minikube) Name() string { return "minikube" }

// OwnsClusters implements provider.Provider: devcluster creates and
// deletes minikube clusters.
func (m *Minikube) OwnsClusters() bool { return true }

func (m *Minikube) run(ctx context.Context, p provider.Progress, args ...string) (run.Result, error) {
	c := run.Cmd{Name: m.binary, Args: args}
	if m.kubeconfig != "" {
		c.Env = []string{"KUBECONFIG=" + m.kubeconfig}
	}
	if p != nil {
		c.OnLine = func(_ run.Stream, line string) { relay(p, line) }
	}
	return m.runner.Run(ctx, c)
}

// relay turns minikube's output (CloudEvents with -o json, or text) into
// progress lines.
func relay(p provider.Progress, line string) {
	if ev, ok := parseEvent(line); ok {
		switch ev.Type {
		case eventStep, eventInfo:
			p(strings.TrimSpace(ev.Data["message"]))
		case eventWarning:
			p("warning: " + strings.TrimSpace(ev.Data["message"]))
		}
		return
	}
	if l := strings.TrimSpace(line); l != "" {
		p(l)
	}
}
