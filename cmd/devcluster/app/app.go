// Package app is devcluster's command line: urfave/cli wiring that turns
// flags into options, calls one bootstrap function per command, renders its
// result and maps errors to exit codes. It is the only package that imports
// urfave/cli, and it reaches Kubernetes and the registry only through
// bootstrap (layers_test.go checks both). Each command has its own file;
// everything a command touches comes in through Env, so tests drive it with
// injected streams, environment, command runner and Kubernetes clients.
package app

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/ui"
	"github.com/devcluster/devcluster/loadbalancer"
	"github.com/devcluster/devcluster/provider/providers"
)

// Exit codes (documented in the README).
const (
	ExitOK         = 0
	ExitFailed     = 1
	ExitUsage      = 2
	ExitNotRunning = 3
	ExitDrift      = 4
	ExitMissing    = 5
	ExitTimeout    = 6
	// ExitInterrupted follows the shell convention 128+SIGINT.
	ExitInterrupted = 130
)

// Env is everything the command line uses from the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// LookupEnv reads environment variables.
	LookupEnv ui.Env
	// Dir is the working directory, where devcluster.yaml is looked for.
	Dir string
	// Runner runs external commands (minikube, kind, docker).
	Runner run.Runner
	// Kube builds Kubernetes clients; nil means from kubeconfig.
	Kube func(explicitPath string) bootstrap.KubeLoader
	// IsTerminal reports whether a stream is a terminal.
	IsTerminal func(io.Writer) bool
	// Agent manages background agents; nil means detached processes of
	// this executable.
	Agent agent.Manager
	// LocalAddress reports whether an IP belongs to this host; nil means
	// the real interfaces.
	LocalAddress func(string) bool
	// OpenBrowser opens a URL in the browser; nil means the platform's
	// opener run through Runner (internal/browser).
	OpenBrowser func(ctx context.Context, url string) error
	// Probe dials the node IP for loadBalancer.address auto; nil decides
	// by the platform alone (tests: their node IP is not theirs to dial).
	Probe loadbalancer.Prober
}

// System returns the Env of the running process.
func System() Env {
	dir, _ := os.Getwd()
	return Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		LookupEnv: os.LookupEnv, Dir: dir,
		Runner:     &run.Local{},
		Kube:       bootstrap.KubeconfigLoader,
		IsTerminal: ui.IsTerminal,
		Probe:      loadbalancer.ProbeNode,
	}
}

// Run runs the command line args (args[0] is the program name). Errors are
// printed to env.Stderr once, before Run returns them.
func Run(ctx context.Context, env Env, args []string) error {
	if env.Kube == nil {
		env.Kube = bootstrap.KubeconfigLoader
	}
	if env.IsTerminal == nil {
		env.IsTerminal = func(io.Writer) bool { return false }
	}
	g := &globals{env: env}
	return g.run(ctx, newApp(g), args)
}

// globals holds the global flags and the objects built from them.
type globals struct {
	env      Env
	quiet    bool
	verbose  bool
	cfgPath  string
	minikube string
	kind     string
	kubecfg  string
	// ci is --ci: auto, buildkite, github, gitlab, generic or none.
	ci       string
	notFound string
	// showVersion is --version.
	showVersion bool
	p           *ui.Printer
}

// printer is the printer of progress, warnings and errors on standard
// error, made once from -q, -v, --ci and the terminal.
func (g *globals) printer() *ui.Printer {
	if g.p == nil {
		level := ui.Normal
		switch {
		case g.quiet:
			level = ui.Quiet
		case g.verbose:
			level = ui.Verbose
		}
		ci, err := ui.DetectCI(g.env.LookupEnv, g.ci)
		if err != nil {
			ci = ui.GenericCI // the flag's value is refused in Before
		}
		g.p = ui.NewPrinter(g.env.Stderr, ui.Options{
			Style: ui.Detect(g.env.LookupEnv, g.env.IsTerminal(g.env.Stderr)),
			Level: level,
			CI:    ci,
		})
	}
	return g.p
}

// printText renders a result table through the printer (Printer.Text):
// its cells hold text from the cluster.
func (g *globals) printText(render func(io.Writer)) {
	var b strings.Builder
	render(&b)
	g.printer().Text(g.env.Stdout, b.String())
}

// toolPath is a tool's executable: its flag, else its environment
// variable, else "" (the tool on PATH).
func (g *globals) toolPath(flag, variable string) string {
	if flag != "" {
		return flag
	}
	v, _ := g.env.LookupEnv(variable)
	return v
}

// common are the dependencies every command shares: everything but the
// provider, which only the commands that address a cluster build (deps,
// clusterDeps), and only the one they use.
func (g *globals) common() bootstrap.Deps {
	mgr := g.env.Agent
	if mgr == nil {
		mgr = &agent.Process{Executable: selfExecutable(), Release: Version}
	}
	kubecfg := g.kubeconfig()
	return bootstrap.Deps{
		Kube:         g.env.Kube(kubecfg),
		Report:       g.printer(),
		Agent:        mgr,
		Dirs:         func(name string) (paths.Dirs, error) { return paths.For(paths.Env(g.env.LookupEnv), name) },
		LocalAddress: g.env.LocalAddress,
		Kubeconfig:   kubecfg,
		Platform:     bootstrap.HostPlatform(g.env.LookupEnv),
		Probe:        g.env.Probe,
	}
}

// deps are the common dependencies with the default provider's (minikube).
func (g *globals) deps() bootstrap.Deps {
	return g.depsFor(config.DefaultProvider, "")
}

// providerOptions are what the providers are built with: the tools at
// their flags, else their variables, else on PATH, else where devcluster
// installed them.
func (g *globals) providerOptions(kubecfg, kubeContext string) providers.Options {
	versionCache, _ := paths.VersionCache(paths.Env(g.env.LookupEnv))
	tools := map[string][2]string{"minikube": {g.minikube, "MINIKUBE_BINARY"}, "kind": {g.kind, "KIND_BINARY"}}
	return providers.Options{Runner: g.env.Runner, Env: g.env.LookupEnv, Kubeconfig: kubecfg, Context: kubeContext, VersionCache: versionCache,
		Binary: func(tool string) string { return g.binary(tool, tools[tool][0], tools[tool][1]) }}
}

// depsFor are the common dependencies with the named provider, and no
// other provider built (kubeContext: provider existing's).
func (g *globals) depsFor(providerName, kubeContext string) bootstrap.Deps {
	d := g.common()
	opts := g.providerOptions(d.Kubeconfig, kubeContext)
	p, err := providers.New(providerName, opts)
	if err != nil {
		// A completed configuration names only the registry's
		// providers; a command without one works with the default's.
		p, _ = providers.New(config.DefaultProvider, opts)
	}
	d.Provider = p
	return d
}

// clusterDeps are the common dependencies with the provider of cfg
// (minikube's when there is no configuration: deploy's diagnostics).
func (g *globals) clusterDeps(cfg *config.Config) bootstrap.Deps {
	if cfg == nil {
		return g.deps()
	}
	return g.depsFor(cfg.Provider, cfg.Context)
}

// kubeconfig is --kubeconfig as an absolute path (relative to the working
// directory), since minikube, kind and the agent read it too.
func (g *globals) kubeconfig() string {
	if g.kubecfg == "" || filepath.IsAbs(g.kubecfg) {
		return g.kubecfg
	}
	return filepath.Join(g.env.Dir, g.kubecfg)
}

// loadConfig reads --config, or devcluster.yaml in the working directory if
// present (config.Find), and completes it with the flag overrides.
func (g *globals) loadConfig(ctx context.Context, o config.Overrides) (*config.Config, error) {
	src, base, err := config.Find(ctx, config.Where{Path: g.cfgPath, Dir: g.env.Dir, Stdin: g.env.Stdin})
	if err != nil {
		return nil, err
	}
	o.BaseDir = base
	o.Home = paths.Home(paths.Env(g.env.LookupEnv))
	return config.Complete(src, o)
}

func (g *globals) displayPath(p string) string { return config.DisplayPath(g.env.Dir, p) }
