// Package app is devcluster's command line: urfave/cli wiring that turns
// flags into options, calls the bootstrap library, renders its results and
// maps errors to exit codes. It is the only package that imports urfave/cli;
// everything it touches comes in through Env, so tests drive it with
// injected streams, environment, command runner and Kubernetes clients.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/ui"
	"github.com/devcluster/devcluster/kube"
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
	// Runner runs external commands (minikube).
	Runner run.Runner
	// Kube builds Kubernetes clients; nil means from kubeconfig.
	Kube func(explicitPath string) kube.Loader
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
		Kube:       kube.KubeconfigLoader,
		IsTerminal: ui.IsTerminal,
		Probe:      loadbalancer.ProbeNode,
	}
}

// ExitCode maps an error returned by Run to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	switch problem.KindOf(err) {
	case problem.Usage, problem.Config:
		return ExitUsage
	case problem.NotRunning:
		return ExitNotRunning
	case problem.Drift:
		return ExitDrift
	case problem.Missing:
		return ExitMissing
	case problem.Timeout:
		return ExitTimeout
	}
	return ExitFailed
}

// Run runs the command line args (args[0] is the program name). Errors are
// printed to env.Stderr once, before Run returns them.
func Run(ctx context.Context, env Env, args []string) error {
	if env.Kube == nil {
		env.Kube = kube.KubeconfigLoader
	}
	if env.IsTerminal == nil {
		env.IsTerminal = func(io.Writer) bool { return false }
	}
	g := &globals{env: env}
	return g.run(ctx, newApp(g), args)
}

// errVersionShown ends a command line with --version once the version is
// printed: no command runs.
var errVersionShown = errors.New("version shown")

// run runs the app made for g.
func (g *globals) run(ctx context.Context, a *cli.App, args []string) error {
	args, err := orderArgs(a, args)
	if err == nil {
		err = a.RunContext(ctx, args)
	}
	if errors.Is(err, errVersionShown) {
		return nil
	}
	if err == nil && g.notFound != "" {
		err = problem.New(problem.Usage, "", fmt.Errorf("unknown command %q", g.notFound), "run `devcluster --help` for the list of commands")
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		// Ctrl-C or SIGTERM: say so, and nothing else — the advice of the
		// step that was cut short does not apply — unless the command says
		// what the interrupt left behind (deploy's writes).
		msg, fix := interruptMessage(err)
		g.printer().ErrorBlock(msg, "", fix)
		return err
	}
	if problem.KindOf(err) == problem.Failed && isUsageError(err) {
		err = problem.New(problem.Usage, "", err, "run `devcluster --help` or `devcluster <command> --help`")
	}
	g.printer().ErrorBlock(err.Error(), errorDetails(err), problem.FixOf(err))
	return err
}

// interruptMessage is what an interrupted command says: "interrupted", or
// the problem that tells what the interrupt left behind, with its advice.
func interruptMessage(err error) (msg, fix string) {
	if left := problem.LeftOf(err); left != nil {
		return left.Error(), problem.FixOf(left)
	}
	return "interrupted", ""
}

// isUsageError recognises urfave/cli's own flag parsing errors.
func isUsageError(err error) bool {
	s := err.Error()
	for _, p := range []string{"flag provided but not defined", "invalid value", "flag needs an argument", "Required flag", "Incorrect Usage"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// errorDetails shows the failed command and the tail of its output.
func errorDetails(err error) string {
	var re *run.Error
	if !errors.As(err, &re) || run.IsNotFound(err) {
		return ""
	}
	out := re.Output()
	if out == "" {
		return ""
	}
	lines := strings.Split(out, "\n")
	const keep = 25
	if len(lines) > keep {
		lines = append([]string{fmt.Sprintf("… (%d earlier lines)", len(lines)-keep)}, lines[len(lines)-keep:]...)
	}
	return "output of " + run.Quote(re.Argv) + ":\n" + strings.Join(lines, "\n")
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

// depsFor are the dependencies of a command on a cluster of the named
// provider (kubeContext: provider existing's).
func (g *globals) depsFor(providerName, kubeContext string) bootstrap.Deps {
	mgr := g.env.Agent
	if mgr == nil {
		mgr = &agent.Process{Executable: selfExecutable(), Release: Version}
	}
	kubecfg := g.kubeconfig()
	opts := g.providerOptions(kubecfg, kubeContext)
	p, err := providers.New(providerName, opts)
	if err != nil {
		// A completed configuration names only the registry's
		// providers; a command without one works with the default's.
		p, _ = providers.New(config.DefaultProvider, opts)
	}
	return bootstrap.Deps{
		Provider:     p,
		Kube:         g.env.Kube(kubecfg),
		Report:       g.printer(),
		Agent:        mgr,
		Dirs:         func(name string) (paths.Dirs, error) { return paths.For(paths.Env(g.env.LookupEnv), name) },
		LocalAddress: g.env.LocalAddress,
		Kubeconfig:   kubecfg,
		Platform:     g.platform(),
		Probe:        g.env.Probe,
	}
}

// clusterDeps are deps with the provider of cfg (minikube's when there is
// no configuration: deploy's diagnostics).
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

// platform describes the host for LoadBalancer reachability.
func (g *globals) platform() loadbalancer.Platform {
	p := loadbalancer.Platform{GOOS: runtime.GOOS}
	if v, ok := g.env.LookupEnv("WSL_DISTRO_NAME"); ok && v != "" {
		p.WSL = true
	} else if b, err := os.ReadFile("/proc/version"); err == nil && strings.Contains(strings.ToLower(string(b)), "microsoft") {
		p.WSL = true
	}
	p.DockerHost, _ = g.env.LookupEnv("DOCKER_HOST")
	if strings.Contains(p.DockerHost, "/run/user/") || strings.Contains(p.DockerHost, "rootless") {
		p.Rootless = true
	}
	return p
}

// loadConfig reads --config, or devcluster.yaml in the working directory if
// present, and completes it with the flag overrides.
func (g *globals) loadConfig(ctx context.Context, o config.Overrides) (*config.Config, error) {
	var src *config.Source
	path := g.cfgPath
	if path == "" {
		def := filepath.Join(g.env.Dir, config.DefaultFile)
		if _, err := os.Stat(def); err == nil {
			path = def
		}
	} else if !filepath.IsAbs(path) && path != "-" {
		path = filepath.Join(g.env.Dir, path)
	}
	switch {
	case path == "-":
		data, err := config.ReadLimited(ctx, g.env.Stdin, "standard input")
		if err != nil {
			return nil, err
		}
		// A document that decoded with problems is validated too: Complete
		// reports both (see config.Decode).
		if src, err = config.Decode("stdin", data); src == nil {
			return nil, err
		}
	case path != "":
		f, err := os.Open(path)
		if err != nil {
			return nil, problem.New(problem.Config, "reading config", err, "check the path given with --config")
		}
		data, err := config.ReadLimited(ctx, f, g.displayPath(path))
		_ = f.Close()
		if err != nil {
			return nil, err
		}
		if src, err = config.Decode(path, data); src == nil {
			return nil, err
		}
		src.Path = g.displayPath(path)
		o.BaseDir = filepath.Dir(path)
	}
	if o.BaseDir == "" {
		o.BaseDir = g.env.Dir
	}
	o.Home = paths.Home(paths.Env(g.env.LookupEnv))
	return config.Complete(src, o)
}

func (g *globals) displayPath(p string) string {
	if rel, err := filepath.Rel(g.env.Dir, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

func newApp(g *globals) *cli.App {
	onUsageError := func(_ *cli.Context, err error, _ bool) error {
		return problem.New(problem.Usage, "", err, "run `devcluster --help` or `devcluster <command> --help`")
	}
	a := &cli.App{
		Name:  "devcluster",
		Usage: "a working local Kubernetes cluster in one command",
		Description: "devcluster starts a minikube cluster with the CPUs, memory, driver and Kubernetes version you ask for,\n" +
			"checks that an existing cluster still matches them, and waits until it is ready.\n" +
			"Settings come from devcluster.yaml in the working directory (or --config) and flags.\n" +
			"Flags go before or after the command and its arguments (the global ones too); -- ends them.\n\n" +
			"Exit codes: 0 ok, 1 failed, 2 usage or config error, 3 cluster not running,\n" +
			"4 cluster differs from the configuration, 5 prerequisite missing, 6 timed out, 130 interrupted.",
		Version:                g.versionString(),
		HideVersion:            true,
		Reader:                 g.env.Stdin,
		Writer:                 g.env.Stdout,
		ErrWriter:              g.env.Stderr,
		UseShortOptionHandling: true,
		// Never exit inside the app: Run returns the error and main decides.
		ExitErrHandler: func(*cli.Context, error) {},
		CommandNotFound: func(_ *cli.Context, name string) {
			g.notFound = name
		},
		OnUsageError: onUsageError,
		Flags:        globalFlags(g),
		Before: func(*cli.Context) error {
			if _, err := ui.DetectCI(g.env.LookupEnv, g.ci); err != nil {
				return problem.New(problem.Usage, "", fmt.Errorf("--ci: %w", err), "")
			}
			if g.showVersion {
				fmt.Fprintln(g.env.Stdout, buildInfo().line())
				return errVersionShown
			}
			return nil
		},
		Commands: []*cli.Command{
			newUpCommand(g),
			newDownCommand(g),
			newStopCommand(g),
			newStatusCommand(g),
			newListCommand(g),
			newDeployCommand(g),
			newDiagnoseCommand(g),
			newRegistryCommand(g),
			newMirrorCommand(g),
			newLBCommand(g),
			newConfigCommand(g),
			newServiceCommand(g),
			newDashboardCommand(g),
			newVersionCommand(g),
			newCompletionCommand(g),
			newAgentCommand(g),
		},
	}
	a.Commands = append(a.Commands, newCompleteCommand(g, func() *cli.App { return a }))
	hideBoolDefaults(a.Flags)
	globalHelp := globalFlagsHelp(a.Flags)
	walkCommands(a.Commands, nil, func(_ []string, c *cli.Command) {
		c.OnUsageError = onUsageError
		hideBoolDefaults(c.Flags)
		c.CustomHelpTemplate = cli.CommandHelpTemplate
		if len(c.Subcommands) > 0 {
			c.CustomHelpTemplate = cli.SubcommandHelpTemplate
		}
		c.CustomHelpTemplate += globalHelp
	})
	return a
}

// globalFlags are accepted before or after every command (see
// commandLine).
func globalFlags(g *globals) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"f"}, Usage: "read settings from `FILE` (- for standard input)", DefaultText: "./devcluster.yaml if present", Destination: &g.cfgPath},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only warnings and errors", Destination: &g.quiet},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print every progress line", Destination: &g.verbose},
		&cli.StringFlag{Name: "minikube", Usage: "the minikube executable `PATH`", DefaultText: "$MINIKUBE_BINARY, else minikube on PATH, else the release devcluster installed", Destination: &g.minikube},
		&cli.StringFlag{Name: "kind", Usage: "the kind executable `PATH`", DefaultText: "$KIND_BINARY, else kind on PATH, else the release devcluster installed", Destination: &g.kind},
		&cli.StringFlag{Name: "kubeconfig", Usage: "kubeconfig `FILE`", DefaultText: "$KUBECONFIG, else ~/.kube/config", Destination: &g.kubecfg},
		&cli.BoolFlag{Name: "version", Usage: "print devcluster's version and exit (`devcluster version` says more)", Destination: &g.showVersion},
		&cli.StringFlag{Name: "ci", Value: "auto", Usage: "log conventions of the CI `SYSTEM`: auto (from $DEVCLUSTER_CI, else detected from BUILDKITE, GITHUB_ACTIONS, GITLAB_CI, CI), buildkite, github, gitlab, generic or none", Destination: &g.ci},
	}
}

// hideBoolDefaults drops urfave/cli's "(default: false)" from boolean
// flags: a switch is off unless given.
func hideBoolDefaults(flags []cli.Flag) {
	for _, f := range flags {
		if b, ok := f.(*cli.BoolFlag); ok {
			b.DisableDefaultText = true
		}
	}
}

// globalFlagsHelp is the end of every command's help: the global flags,
// which it accepts too.
func globalFlagsHelp(flags []cli.Flag) string {
	var b strings.Builder
	b.WriteString("\nGLOBAL OPTIONS (before or after the command):")
	for _, f := range flags {
		b.WriteString("\n   " + f.String())
	}
	b.WriteString("\n")
	// A template constant, so that nothing in the text is read as template
	// syntax.
	return "{{" + strconv.Quote(b.String()) + "}}"
}

// nameFlag is --name, shared by every command that addresses a cluster.
// Its letter is minikube's -p (--profile): -n is the namespace, as in
// kubectl.
func nameFlag(dst *string) cli.Flag {
	return &cli.StringFlag{Name: "name", Aliases: []string{"p"}, Usage: "cluster `NAME`: the minikube profile or kind cluster",
		DefaultText: "name in devcluster.yaml, else devcluster", Destination: dst}
}

// noArgs refuses positional arguments to a command that takes none (a
// mistyped flag value would otherwise be ignored silently).
func noArgs(c *cli.Context) error {
	if c.NArg() == 0 {
		return nil
	}
	name := strings.TrimPrefix(c.Command.HelpName, "devcluster ")
	return problem.New(problem.Usage, "", fmt.Errorf("%s takes no arguments, got %q", name, c.Args().Slice()),
		"flags start with --, for example --name=dev; run `devcluster "+name+" --help`")
}
